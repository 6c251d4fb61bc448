"""The web server under load, slow clients and oversized requests (a real ``presse serve`` on 127.0.0.1).

- 50 concurrent keep-alive clients (``bench/load.py``): 0 errors; the figures and p95 are printed. 3 s in the
  default suite, 30 s with ``-m slow``;
- clients that send half their headers and keep the connection open do not block the others;
- a 1 MB query string, a 1 MB header, a huge POST body (declared or chunked) are refused with a 4xx at once.
"""

from __future__ import annotations

import socket
import time
import urllib.request

import pytest

from bench.load import run_load, sample_index, start_server, stop_server


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    index_dir = sample_index(tmp_path_factory.mktemp("load"))
    proc, base = start_server(index_dir, threads=8)
    yield base
    stop_server(proc)


def _port(base: str) -> int:
    return int(base.rsplit(":", 1)[1])


def _raw(base: str, data: bytes, timeout: float = 10.0) -> tuple[int, float]:
    """Send raw bytes, read the status line: (status, seconds); 0 when the server closed without one."""
    start = time.monotonic()
    with socket.create_connection(("127.0.0.1", _port(base)), timeout=timeout) as s:
        try:
            s.sendall(data)
        except (BrokenPipeError, ConnectionResetError):
            pass  # refused before the end of a big request: the status line is what counts
        buf = b""
        try:
            while b"\r\n" not in buf:
                chunk = s.recv(4096)
                if not chunk:
                    break
                buf += chunk
        except ConnectionResetError:
            pass
    line = buf.split(b"\r\n", 1)[0].split()
    return (int(line[1]) if len(line) > 1 and line[1].isdigit() else 0), time.monotonic() - start


def _load(base: str, seconds: float) -> dict:
    result = run_load(base, clients=50, seconds=seconds)
    print(
        f"\nload: {result['clients']} clients, {result['seconds']} s: {result['requests']} requests, "
        f"{result['errors']} errors, {result['rps']} req/s, p50 {result['p50_ms']} ms, "
        f"p95 {result['p95_ms']} ms, p99 {result['p99_ms']} ms, max {result['max_ms']} ms"
    )
    assert result["errors"] == 0, result["error_samples"]
    assert result["requests"] > 0  # how many is a figure to print, not to assert (the machine may be busy)
    return result


def test_50_clients(server):
    _load(server, 3.0)


@pytest.mark.slow
def test_50_clients_30_seconds(server):
    _load(server, 30.0)


def test_slow_clients_do_not_block_others(server):
    slow = []
    try:
        for i in range(20):  # half a request each, never finished
            s = socket.create_connection(("127.0.0.1", _port(server)), timeout=30)
            s.sendall(b"GET /api/search?q=yukon HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: " + str(i).encode())
            slow.append(s)
        s = socket.create_connection(("127.0.0.1", _port(server)), timeout=30)  # a body announced, never sent
        s.sendall(b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 1000\r\n\r\nabc")
        slow.append(s)
        for _ in range(20):  # answered while the slow ones hang (the timeout is a hang guard, not a speed)
            with urllib.request.urlopen(f"{server}/api/search?q=caribou", timeout=30) as r:
                assert r.status == 200
        result = run_load(server, clients=10, seconds=1.5)
        assert result["errors"] == 0 and result["requests"] > 0, result
    finally:
        for s in slow:
            s.close()


@pytest.mark.parametrize(
    "name,data,expected",
    [
        (
            "1 MB query string",
            b"GET /api/search?q=" + b"a" * 1_000_000 + b" HTTP/1.1\r\nHost: x\r\n\r\n",
            {431},
        ),
        ("1 MB header", b"GET / HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 1_000_000 + b"\r\n\r\n", {431}),
        (
            "100 KB of headers",
            b"GET / HTTP/1.1\r\nHost: x\r\n" + b"X-A: aaaaaaaaaa\r\n" * 6000 + b"\r\n",
            {431},
        ),
        (
            "10 MB POST body",
            b"POST /api/search HTTP/1.1\r\nHost: x\r\nContent-Length: 10000000\r\n\r\n" + b"a" * 10_000_000,
            {413},
        ),
        ("2 GB declared body", b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 2000000000\r\n\r\nabc", {413}),
        (
            "chunked 3 MB body",
            b"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
            + (b"100000\r\n" + b"a" * 0x100000 + b"\r\n") * 3
            + b"0\r\n\r\n",
            {413},
        ),
        ("600-character query", b"GET /api/search?q=" + b"b" * 600 + b" HTTP/1.1\r\nHost: x\r\n\r\n", {400}),
        ("bad request line", b"GARBAGE\r\n\r\n", {400, 405, 501}),
    ],
)
def test_oversized_requests_are_refused(server, name, data, expected):
    status, _ = _raw(server, data)
    assert status in expected, f"{name}: {status}"  # a refusal, not a time-out (which answers no status)
    with urllib.request.urlopen(f"{server}/healthz", timeout=30) as r:  # and the server is still fine
        assert r.status == 200
