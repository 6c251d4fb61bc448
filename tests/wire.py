"""Requests written on the wire by hand, for tests of a real server on 127.0.0.1."""

from __future__ import annotations

import socket

HANG_GUARD = 60.0  # seconds: a hang guard, far above what an answer takes on a busy machine


def raw_get(port: int, target: str, host: str = "127.0.0.1", timeout: float = HANG_GUARD) -> tuple[int, str]:
    """One GET as sent on the wire from 127.0.0.1, any target and Host: (status, body)."""
    with socket.create_connection(("127.0.0.1", int(port)), timeout=timeout) as s:
        s.sendall(f"GET {target} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n".encode("latin-1"))
        data = b""
        while chunk := s.recv(65536):
            data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    return int(head.split()[1]), body.decode("utf-8", "replace")
