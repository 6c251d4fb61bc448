"""Load on the web server: N concurrent clients for S seconds on 127.0.0.1; requests, errors, latencies.

    python -m bench.load [--index DIR] [--clients 50] [--seconds 30] [--url http://127.0.0.1:8080]

Without --url it starts ``presse serve`` on a free port in a separate process (over --index, or over an index
of the bundled sample it builds in a temporary folder) and stops it at the end. Each client is a thread with
its own keep-alive connection, asking in turn for searches (API and page, with filters and pages), the Atom
feed, a statement and the front page. An error is anything but a 200 (or the expected 404), a reset or a
timeout. Prints one JSON object: requests, errors, requests/s, p50/p95/p99/max latency in ms.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path
from urllib.parse import quote, urlsplit

ROOT = Path(__file__).resolve().parents[1]
WORDS = [
    "caribou",
    "yukon",
    "santé",
    "publique",
    "covid",
    "gouvernement",
    "minister",
    "funding",
    "école",
    "highway",
    "climat",
    "wildlife",
    "budget",
    "aide financière",
    '"public health"',
    "carib*",
    "santé OR health",
    "école -covid",
    "title:yukon",
    "date:2020",
    "zzzz-nothing",
    "aujourd’hui",
]


def _paths(rng: random.Random, ids: list[str]) -> str:
    q = quote(rng.choice(WORDS))
    roll = rng.random()
    if roll < 0.45:
        extra = rng.choice(
            [
                "",
                "&lang=fr",
                "&lang=en",
                "&sort=date",
                "&page=2",
                "&since=2019&until=2020",
                "&limit=50",
                "&source=yukon",
            ]
        )
        return f"/api/search?q={q}{extra}"
    if roll < 0.75:
        return f"/?q={q}" + rng.choice(["", "&page=2", "&lang=fr", "&sort=date"])
    if roll < 0.85:
        return f"/feed?q={q}"
    if roll < 0.95 and ids:
        sid = quote(rng.choice(ids), safe="")
        return rng.choice([f"/statement/{sid}", f"/api/statements/{sid}"])
    return rng.choice(["/", "/?lang=fr", "/static/presse.css"])


def run_load(
    base: str, clients: int = 50, seconds: float = 30.0, timeout: float = 30.0, seed: int = 1
) -> dict:
    """Hammer ``base`` (http://host:port) with ``clients`` threads for ``seconds``; the figures."""
    parts = urlsplit(base)
    host, port = parts.hostname or "127.0.0.1", parts.port or 80
    with urllib.request.urlopen(f"{base}/api/search?q=yukon&limit=50", timeout=timeout) as r:
        ids = [hit["id"] for hit in json.load(r)["results"]]
    latencies: list[list[float]] = [[] for _ in range(clients)]
    errors: list[list[str]] = [[] for _ in range(clients)]
    stop = time.monotonic() + seconds
    start_gate = threading.Barrier(clients)

    def client(n: int) -> None:
        rng = random.Random(seed * 1000 + n)
        conn = http.client.HTTPConnection(host, port, timeout=timeout)
        start_gate.wait()
        while time.monotonic() < stop:
            path = _paths(rng, ids)
            t = time.perf_counter()
            try:
                conn.request("GET", path, headers={"Accept-Language": rng.choice(["fr", "en"])})
                resp = conn.getresponse()
                resp.read()
                ok = resp.status == 200
                if resp.will_close:
                    conn.close()
                    conn = http.client.HTTPConnection(host, port, timeout=timeout)
            except (OSError, http.client.HTTPException) as e:
                ok = False
                resp = None
                conn.close()
                conn = http.client.HTTPConnection(host, port, timeout=timeout)
                errors[n].append(f"{path}: {type(e).__name__}: {e}")
            latencies[n].append(time.perf_counter() - t)
            if not ok and resp is not None:
                errors[n].append(f"{path}: HTTP {resp.status}")
        conn.close()

    threads = [threading.Thread(target=client, args=(n,), daemon=True) for n in range(clients)]
    began = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join(seconds + timeout + 30)
    elapsed = time.monotonic() - began
    lat = sorted(x for per in latencies for x in per)
    errs = [e for per in errors for e in per]

    def pct(p: float) -> float:
        return round(1000 * lat[min(len(lat) - 1, int(p * len(lat)))], 1) if lat else 0.0

    return {
        "clients": clients,
        "seconds": round(elapsed, 1),
        "requests": len(lat),
        "errors": len(errs),
        "rps": round(len(lat) / elapsed, 1),
        "p50_ms": pct(0.50),
        "p95_ms": pct(0.95),
        "p99_ms": pct(0.99),
        "max_ms": round(1000 * lat[-1], 1) if lat else 0.0,
        "error_samples": errs[:10],
    }


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(
    index_dir: str | Path, port: int | None = None, threads: int = 8, wait: float = 60.0
) -> tuple[subprocess.Popen, str]:
    """``presse serve`` in its own process on 127.0.0.1; (process, base URL) once it answers /healthz."""
    port = port or free_port()
    # stderr to a file, not a pipe: nobody reads a pipe while the server runs, and once the pipe is full
    # (waitress logs "Task queue depth is N" under load) the server blocks on its next log line.
    log = tempfile.TemporaryFile()
    proc = subprocess.Popen(
        [sys.executable, "-c", "from cli import main; main()", "serve", "--index", str(index_dir),
         "--port", str(port), "--threads", str(threads)],
        cwd=ROOT, stdout=subprocess.DEVNULL, stderr=log,
    )
    proc.presse_log = log
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + wait
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            log.seek(0)
            raise RuntimeError(f"presse serve exited: {log.read().decode(errors='replace')[-2000:]}")
        try:
            with urllib.request.urlopen(f"{base}/healthz", timeout=2) as r:
                if r.status == 200:
                    return proc, base
        except OSError:
            time.sleep(0.1)
    proc.kill()
    raise RuntimeError("presse serve did not answer in time")


def stop_server(proc: subprocess.Popen) -> None:
    proc.terminate()
    try:
        proc.wait(10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
    log = getattr(proc, "presse_log", None)
    if log is not None:
        log.close()


def sample_index(folder: str | Path) -> Path:
    import indexer

    index_dir = Path(folder) / "index"
    indexer.update([str(ROOT / "sample" / "yukon"), str(ROOT / "sample" / "vie-publique.jsonl")], index_dir)
    return index_dir


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--index", help="index to serve (default: one built from the bundled sample)")
    ap.add_argument("--url", help="an already running server to load instead")
    ap.add_argument("--clients", type=int, default=50)
    ap.add_argument("--seconds", type=float, default=30.0)
    ap.add_argument("--threads", type=int, default=8, help="server threads (when started here)")
    args = ap.parse_args(argv)
    proc = None
    with tempfile.TemporaryDirectory(prefix="presse-load-") as tmp:
        base = args.url
        if not base:
            index_dir = args.index or sample_index(tmp)
            proc, base = start_server(index_dir, threads=args.threads)
        try:
            result = run_load(base.rstrip("/"), clients=args.clients, seconds=args.seconds)
        finally:
            if proc is not None:
                stop_server(proc)
    print(json.dumps(result, ensure_ascii=False, indent=1))
    return 1 if result["errors"] else 0


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    os.chdir(ROOT)
    sys.exit(main())
