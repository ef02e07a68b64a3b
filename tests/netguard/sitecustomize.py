"""Loaded into every Python process the tests start: a connection off this machine fails loudly."""

import socket

_real_connect = socket.socket.connect
_real_connect_ex = socket.socket.connect_ex


def _allowed(address) -> bool:
    if isinstance(address, (str, bytes)):  # unix sockets
        return True
    host = str(address[0])
    return host in ("localhost", "::1") or host.startswith("127.") or host.startswith("::ffff:127.")


def _connect(self, address):
    if not _allowed(address):
        raise ConnectionRefusedError(f"test network guard: connection to {address!r} blocked (tests run offline)")
    return _real_connect(self, address)


def _connect_ex(self, address):
    if not _allowed(address):
        raise ConnectionRefusedError(f"test network guard: connection to {address!r} blocked (tests run offline)")
    return _real_connect_ex(self, address)


socket.socket.connect = _connect
socket.socket.connect_ex = _connect_ex
