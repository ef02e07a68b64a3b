"""Slowing down password guessing: after a few failed logins from one client, each further try waits longer.

Without it, 200 wrong passwords took 0.3 s against `rag serve --auth`. Failures are counted per client address
(an IPv6 client by its /64, which one machine usually holds whole); the table is bounded, oldest entry out first.
"""

from __future__ import annotations

import ipaddress
import math
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

FREE_FAILURES = 5  # a user mistyping a password a few times is never made to wait
WINDOW_SECONDS = 15 * 60  # failures older than this (since the last one) are forgotten
FIRST_WAIT_SECONDS = 1.0  # the wait after the free failures, doubled at each further failure
MAX_WAIT_SECONDS = 15 * 60  # a locked-out user can always try again within a quarter of an hour
MAX_CLIENTS = 10_000  # clients remembered at once (~100 bytes each); the least recently failed are forgotten


def client_key(address: str | None) -> str:
    """Whose failures these are: the address, an IPv6 one by its /64 network.

    Example: client_key("2001:db8::1") -> "2001:db8::/64"; client_key("127.0.0.1") -> "127.0.0.1"
    """
    try:
        ip = ipaddress.ip_address(address or "")
    except ValueError:
        return address or "?"
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is None:
        return str(ipaddress.ip_network(f"{ip}/64", strict=False))
    return str(getattr(ip, "ipv4_mapped", None) or ip)


@dataclass
class _Record:
    failures: int
    last: float


class Throttle:
    """Failed attempts per client and the wait each must keep before trying again."""

    def __init__(self, clock: Callable[[], float] = time.monotonic, max_clients: int = MAX_CLIENTS) -> None:
        self.clock, self.max_clients = clock, max_clients
        self._records: OrderedDict[str, _Record] = OrderedDict()

    def _live(self, key: str) -> _Record | None:
        record = self._records.get(key)
        if record is not None and self.clock() - record.last > WINDOW_SECONDS:
            del self._records[key]
            return None
        return record

    def wait(self, address: str | None) -> int:
        """Whole seconds this client must still wait before its next attempt (0: it may try now)."""
        record = self._live(client_key(address))
        if record is None or record.failures < FREE_FAILURES:
            return 0
        delay = min(MAX_WAIT_SECONDS, FIRST_WAIT_SECONDS * 2 ** (record.failures - FREE_FAILURES))
        return max(0, math.ceil(record.last + delay - self.clock()))

    def failed(self, address: str | None) -> None:
        """Count a failed attempt."""
        key = client_key(address)
        record = self._live(key) or _Record(0, 0.0)
        record.failures, record.last = record.failures + 1, self.clock()
        self._records[key] = record
        self._records.move_to_end(key)
        while len(self._records) > self.max_clients:
            self._records.popitem(last=False)

    def succeeded(self, address: str | None) -> None:
        """A right password: the client's count starts again."""
        self._records.pop(client_key(address), None)

    def __len__(self) -> int:
        return len(self._records)
