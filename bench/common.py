"""Shared pieces of the benchmark suite: data paths, the machine description, result files, tables."""

from __future__ import annotations

import json
import os
import platform
import subprocess
import sys
import time
from datetime import datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("PRESSE_SHARED", ROOT.parent / "shared"))
NSB = SHARED / "corpus" / "nsb" / "nsb.jsonl.gz"
SPF = SHARED / "eval" / "spf"
RESULTS = ROOT / "bench" / "results"


class MissingData(Exception):
    """A data set the benchmark needs is not there (../shared not mounted, or a file missing)."""


def require(*paths: Path) -> None:
    missing = [str(p) for p in paths if not p.exists()]
    if missing:
        raise MissingData("benchmark data missing: " + ", ".join(missing)
                          + f" (expected under {SHARED}; set PRESSE_SHARED to another folder)")


def percentile(xs: list[float], p: float) -> float:
    """Nearest-rank percentile (p in 0..1) of a non-empty list."""
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(round(p * (len(xs) - 1))))]


def _version(module: str) -> str:
    try:
        from importlib.metadata import version
        return version(module)
    except Exception:  # noqa: BLE001 - a missing package is reported, not fatal
        return "missing"


def _git(*args: str) -> str:
    try:
        return subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True, timeout=10,
                              check=False).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return ""


def machine() -> dict:
    """What the numbers were measured on: cores, CPU, memory, versions, commit, load at the start."""
    import sqlite3
    cpu = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = ""
    try:
        kb = int(next(x for x in Path("/proc/meminfo").read_text().splitlines()
                      if x.startswith("MemTotal")).split()[1])
        mem = f"{kb / 1024 / 1024:.0f} GB"
    except (OSError, StopIteration, ValueError):
        pass
    commit = _git("rev-parse", "--short", "HEAD")
    if commit and _git("status", "--porcelain", "--untracked-files=no"):
        commit += " (+ uncommitted changes)"
    return {
        "date": datetime.now().astimezone().isoformat(timespec="seconds"),
        "cores": os.cpu_count(),
        "cpu": cpu,
        "memory": mem,
        "os": f"{platform.system()} {platform.release()}",
        "python": platform.python_version(),
        "whoosh": _version("whoosh-reloaded"),
        "numpy": _version("numpy"),
        "sqlite": sqlite3.sqlite_version,
        "trafilatura": _version("trafilatura"),
        "presse_commit": commit or "unknown",
        "load_average_start": [round(x, 2) for x in os.getloadavg()],
    }


def machine_line(m: dict) -> str:
    la = m["load_average_start"]
    return (f"{m['cores']} cores ({m['cpu'] or 'unknown CPU'}, {m['memory']}), {m['os']}; "
            f"Python {m['python']}, "
            f"whoosh-reloaded {m['whoosh']}, numpy {m['numpy']}, SQLite {m['sqlite']}; "
            f"presse {m['presse_commit']}; load average at start {la[0]:.2f} / {la[1]:.2f} / {la[2]:.2f}")


def save(kind: str, payload: dict) -> Path:
    """Write bench/results/<kind>-<date>.json (the caller writes the markdown tables beside it)."""
    RESULTS.mkdir(parents=True, exist_ok=True)
    stamp = time.strftime("%Y%m%d-%H%M%S")
    path = RESULTS / f"{kind}-{stamp}.json"
    path.write_text(json.dumps(payload, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    return path


def report(kind: str, m: dict, tables: list, payload: dict) -> Path:
    """Print the tables with the machine, save them as JSON and as markdown; the JSON path."""
    print("\nmachine: " + machine_line(m))
    for t in tables:
        print("\n" + t.text())
    path = save(kind, {"kind": kind, "machine": m, **payload, "tables": [t.to_dict() for t in tables]})
    md = path.with_suffix(".md")
    md.write_text(f"Measured {m['date'][:10]} on {machine_line(m)}.\n\n"
                  + "\n\n".join(t.markdown() for t in tables) + "\n", encoding="utf-8")
    print(f"\nsaved {path} (and {md.name}, the tables as markdown)")
    return path


class Table:
    """A table printed as aligned text and as GitHub markdown."""

    def __init__(self, title: str, columns: list[str], note: str = "") -> None:
        self.title, self.columns, self.note, self.rows = title, columns, note, []

    def add(self, *cells) -> None:
        self.rows.append([cell(c) for c in cells])

    def to_dict(self) -> dict:
        return {"title": self.title, "note": self.note, "columns": self.columns, "rows": self.rows}

    def text(self) -> str:
        widths = [max(len(str(c)) for c in col) for col in zip(self.columns, *self.rows, strict=False)]
        out = [self.title] + ([self.note] if self.note else [])

        def line(cells):
            return "  ".join(str(c).ljust(w) if i == 0 else str(c).rjust(w)
                             for i, (c, w) in enumerate(zip(cells, widths, strict=False)))
        out.append(line(self.columns))
        out.append("  ".join("-" * w for w in widths))
        out += [line(r) for r in self.rows]
        return "\n".join(out)

    def markdown(self) -> str:
        out = [f"**{self.title}**" + (f" — {self.note}" if self.note else ""), ""]
        out.append("| " + " | ".join(self.columns) + " |")
        out.append("|" + "|".join(":---" if i == 0 else "---:" for i in range(len(self.columns))) + "|")
        out += ["| " + " | ".join(_md(c) for c in r) + " |" for r in self.rows]
        return "\n".join(out)


def _md(c: str) -> str:
    text = str(c).replace("|", "\\|")
    stripped = text.lstrip(" ")
    return "&nbsp;" * (len(text) - len(stripped)) + stripped


def cell(c) -> str:
    if c is None:
        return "—"
    if isinstance(c, float):
        if c == 0:
            return "0"
        if abs(c) >= 100:
            return f"{c:,.0f}"
        if abs(c) >= 10:
            return f"{c:.1f}"
        return f"{c:.2f}" if abs(c) >= 0.1 else f"{c:.3f}"
    if isinstance(c, int):
        return f"{c:,}"
    return str(c)


def ratio(a: float | None, b: float | None) -> str:
    if a is None or b is None:
        return "—"
    if b <= 0:
        return "∞" if a > 0 else "—"
    r = a / b
    return f"{r:.1f}×" if r >= 10 else f"{r:.2f}×"


def fail(message: str) -> int:
    print(f"error: {message}", file=sys.stderr)
    return 2
