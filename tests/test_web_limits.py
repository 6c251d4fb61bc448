"""Cheap denial of service against the web server, on a real waitress server on loopback with real sockets.

Slowloris (issue 16, M5): 110 connections each sending one header line a second used to hold every
connection slot forever, because waitress's timeout is an inactivity one and each line reset it. A request
must now arrive whole within the header deadline, and one client address holds a bounded number of
connections. The trickling clients connect from 127.0.0.2 (Linux routes all of 127/8 to loopback), the
normal client from 127.0.0.1. Limits are scaled down through ``make_server(limits=...)`` so the tests are
quick; every loop is bounded and every socket has a timeout (hang guards, far above the quiet durations).
"""

from __future__ import annotations

import select
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from tests.corpora import ROOT
from tests.wire import HANG_GUARD, raw_get

ATTACKER = "127.0.0.2"


@pytest.fixture(scope="module")
def index_dir(tmp_path_factory) -> Path:
    import indexer

    index_dir = tmp_path_factory.mktemp("limits") / "index"
    indexer.update([str(ROOT / "sample" / "yukon" / "en" / "2020")], index_dir)
    return index_dir


@contextmanager
def running(index_dir: Path, **limits) -> Iterator:
    """make_server on 127.0.0.1 and a free port, run in a thread; everything closed and joined after."""
    from waitress import wasyncore

    from search.web.server import make_server

    srv = make_server(str(index_dir), port=0, threads=4, limits=limits)
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    try:
        yield srv
    finally:
        srv.task_dispatcher.shutdown(timeout=5)
        # The loop ends when its map is empty. Its sockets are closed in the loop's own thread (the trigger
        # runs the call there): closed from here, a select() in progress failed on a closed descriptor.
        srv.trigger.pull_trigger(lambda: wasyncore.close_all(srv._map))
        thread.join(10)
        if thread.is_alive():  # a loop that did not wake: close from here, as a last resort
            wasyncore.close_all(srv._map)
            thread.join(10)


class Trickle:
    """``n`` connections from ATTACKER, each sending a request line and then one header line every
    ``every`` seconds, never ending its headers; counts the connections the server closed."""

    def __init__(self, port: int, n: int, every: float = 1.0, rounds: int = 40) -> None:
        self.port, self.n, self.every, self.rounds = int(port), n, every, rounds
        self.open: list[socket.socket] = []
        self.closed = 0
        self.connected = threading.Event()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> Trickle:
        self._thread.start()
        assert self.connected.wait(HANG_GUARD) and len(self.open) + self.closed == self.n
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join(HANG_GUARD)
        for s in self.open:
            s.close()

    def _run(self) -> None:
        try:
            self._connect()
        finally:
            self.connected.set()
        for i in range(self.rounds):  # bounded: a server that never closes them does not hang the test
            if self._stop.wait(self.every):
                return
            self._sweep(f"X-Trickle-{i}: {'a' * 20}\r\n".encode())

    def _connect(self) -> None:
        for _ in range(self.n):
            s = socket.socket()
            s.settimeout(5)
            s.bind((ATTACKER, 0))
            s.connect(("127.0.0.1", self.port))  # completes in the kernel's backlog even when not accepted
            try:
                s.sendall(b"GET /?q=yukon HTTP/1.1\r\nHost: 127.0.0.1\r\n")
                self.open.append(s)
            except OSError:
                s.close()
                self.closed += 1

    def _sweep(self, line: bytes) -> None:
        still = []
        readable, _, _ = select.select(self.open, [], [], 0) if self.open else ([], [], [])
        for s in self.open:
            try:
                if s in readable and not s.recv(65536):
                    raise ConnectionResetError  # the server closed it (it never answers a partial request)
                s.sendall(line)
                still.append(s)
            except OSError:
                s.close()
                self.closed += 1
        self.open = still

    def wait_all_closed(self, timeout: float) -> bool:
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            if not self.open and self.connected.is_set():
                return True
            time.sleep(0.2)
        return not self.open


@pytest.mark.timeout(300)
def test_slowloris_header_deadline_frees_the_server(index_dir):
    """Each trickling connection is closed by the header deadline (a total one, not reset by each line);
    the normal client waiting in the backlog behind the connection limit then gets its answer."""
    with running(index_dir, header_timeout=2, per_ip_connections=1000, connection_limit=100) as srv:
        port = srv.effective_port
        with Trickle(port, 110, every=1.0) as trickle:
            status, body = raw_get(port, "/api/search?q=yukon")
            assert status == 200 and '"total"' in body
            assert trickle.wait_all_closed(HANG_GUARD), f"{len(trickle.open)} trickling connections open"
            assert trickle.closed == 110


@pytest.mark.timeout(300)
def test_slowloris_per_address_cap_keeps_other_clients_served(index_dir):
    """With a long header deadline, one address cannot hold more than its share of connections: those past
    the cap are closed at once, and a client from another address is answered while the trickle goes on."""
    with running(index_dir, header_timeout=600, per_ip_connections=10, connection_limit=100) as srv:
        port = srv.effective_port
        with Trickle(port, 110, every=1.0) as trickle:
            status, body = raw_get(port, "/api/search?q=yukon")
            assert status == 200 and '"total"' in body
            end = time.monotonic() + HANG_GUARD
            while len(trickle.open) > 10 and time.monotonic() < end:
                time.sleep(0.2)
            assert len(trickle.open) <= 10 and trickle.closed >= 100


@pytest.mark.timeout(120)
def test_a_slow_but_steady_request_within_the_deadline_is_served(index_dir):
    """The deadline does not cut honest clients: a request sent in three pieces within it is answered."""
    with running(index_dir, header_timeout=30) as srv, \
            socket.create_connection(("127.0.0.1", int(srv.effective_port)), timeout=HANG_GUARD) as s:
        for piece in (b"GET /healthz HTTP/1.1\r\n", b"Host: 127.0.0.1\r\n", b"Connection: close\r\n\r\n"):
            s.sendall(piece)
            time.sleep(0.3)
        data = b""
        while chunk := s.recv(65536):
            data += chunk
        assert data.startswith(b"HTTP/1.1 200")


@pytest.mark.timeout(120)
def test_presse_serve_options(index_dir):
    """`presse serve --allow-host --header-timeout --per-ip-connections` in a real process (the header
    deadline long here, so that the two connections under the cap stay open while the test looks)."""
    import re
    import subprocess
    import sys

    proc = subprocess.Popen([sys.executable, "-m", "cli", "serve", "--index", str(index_dir), "--port", "0",
                             "--allow-host", "news.example", "--header-timeout", "600",
                             "--per-ip-connections", "2"],
                            cwd=ROOT, stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True)
    try:
        line = proc.stderr.readline()  # "presse: serving … at http://127.0.0.1:PORT/ (Ctrl-C to stop)"
        port = int(re.search(r":(\d+)/", line).group(1))
        assert raw_get(port, "/healthz", host="news.example")[0] == 200
        status, body = raw_get(port, "/healthz", host="evil.example")
        assert status == 400 and "--allow-host" in body
        with Trickle(port, 5, every=0.3, rounds=200) as trickle:
            end = time.monotonic() + HANG_GUARD
            while trickle.closed < 3 and time.monotonic() < end:
                time.sleep(0.2)
            assert trickle.closed == 3 and len(trickle.open) == 2
    finally:
        proc.terminate()
        proc.wait(30)
        proc.stderr.close()


@pytest.mark.timeout(120)
def test_local_address_is_not_capped(index_dir):
    """127.0.0.1 is the local user or a reverse proxy on this machine that every client shares: past the
    per-address cap its connections are still accepted (the header deadline still applies to them)."""
    with running(index_dir, header_timeout=600, per_ip_connections=2) as srv:
        port = int(srv.effective_port)
        held = [socket.create_connection(("127.0.0.1", port), timeout=HANG_GUARD) for _ in range(5)]
        try:
            for s in held:
                s.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n")
            assert raw_get(port, "/healthz")[0] == 200
            for s in held:  # each then completes its request and is answered
                s.sendall(b"Connection: close\r\n\r\n")
                assert s.recv(64).startswith(b"HTTP/1.1 200")
        finally:
            for s in held:
                s.close()
