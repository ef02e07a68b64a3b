"""Errors the assistant raises for input a user can fix; the CLI maps every UserError to exit code 2."""

from index.errors import IngestError, UserError

__all__ = ["BadInput", "IngestError", "UserError"]


class BadInput(UserError):
    """A question or setting that cannot be answered as given; the message says what to change."""
