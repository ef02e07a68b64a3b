"""Errors the assistant raises for input a user can fix; the CLI maps them to exit code 2."""

from index.errors import IngestError


class BadInput(IngestError):
    """A question or setting that cannot be answered as given; the message says what to change."""
