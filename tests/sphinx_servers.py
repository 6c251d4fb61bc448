"""Real ``searchd`` servers for the remote-engine tests: started on free 127.0.0.1 ports with the
configuration `presse engine-config` prints, in a temporary folder, and stopped after (no process left)."""

from __future__ import annotations

import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path

import pytest

from indexer.sphinxql import Engine, engine_config

SEARCHD = shutil.which("searchd")
needs_searchd = pytest.mark.skipif(
    SEARCHD is None, reason="searchd is not installed (Debian: apt-get install sphinxsearch)")
START_TIMEOUT = 20.0  # hang guard: a server answers in well under a second


def free_port_pair() -> int:
    """A port P such that P and P + 1 are both free (SphinxQL and agent listeners)."""
    for _ in range(50):
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        if port >= 65534:
            continue
        with socket.socket() as s2:
            try:
                s2.bind(("127.0.0.1", port + 1))
            except OSError:
                continue
        return port
    raise RuntimeError("no two consecutive free ports")


class Servers:
    """N searchd processes serving one engine of ``shards`` shards."""

    def __init__(self, root: Path, servers: int = 2, shards: int = 2, prefix: str = "presse") -> None:
        self.root = root
        self.prefix = prefix
        self.ports = [free_port_pair() for _ in range(servers)]
        self.configs = engine_config(shards, [("127.0.0.1", p) for p in self.ports], str(root), prefix)
        self.procs: dict[int, subprocess.Popen] = {}
        for (_, port), text in self.configs.items():
            (root / str(port)).mkdir(parents=True, exist_ok=True)
            (root / f"{port}.conf").write_text(text)
        for port in self.ports:
            self.start(port)

    @property
    def url(self) -> str:
        return Engine("127.0.0.1", self.ports[0], self.prefix).url

    def start(self, port: int) -> None:
        log = open(self.root / f"{port}.out", "ab")
        self.procs[port] = subprocess.Popen([SEARCHD, "--config", str(self.root / f"{port}.conf"),
                                             "--nodetach"], stdout=log, stderr=subprocess.STDOUT)
        log.close()
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if self.procs[port].poll() is not None:
                raise RuntimeError(f"searchd on {port} exited: {(self.root / f'{port}.out').read_text()}")
            try:
                Engine("127.0.0.1", port).connect().close()
                return
            except Exception:
                time.sleep(0.1)
        raise RuntimeError(f"searchd on {port} did not answer in {START_TIMEOUT} s")

    def stop(self, port: int) -> None:
        proc = self.procs.pop(port, None)
        if proc is None:
            return
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=START_TIMEOUT)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()

    def close(self) -> None:
        for port in list(self.procs):
            self.stop(port)
