"""The benchmark suite in one command.

    python -m bench speed [--quick | --limit N] [--runs R]  # build, reindex, queries, start-up vs FTS5
    python -m bench quality [--quick]                       # SPF + known-item relevance vs FTS5, extraction
    python -m bench profile [--limit 5000]                   # cProfile of a build: where the time goes
    python -m bench extraction [--worst N]                   # extraction P/R/F1 beside trafilatura, per set

Data come from ../shared (or $PRESSE_SHARED); results are saved under bench/results/ (git-ignored).
"""

from __future__ import annotations

import argparse
import sys

from bench.common import MissingData, fail


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m bench", description=__doc__.splitlines()[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter,
                                 epilog="\n".join(__doc__.splitlines()[2:]))
    sub = ap.add_subparsers(dest="command", required=True)
    sp = sub.add_parser("speed", help="speed beside SQLite FTS5 (10,000-statement subset, then all of NSB)")
    sp.add_argument("--quick", action="store_true", help="the 10,000-statement subset only")
    sp.add_argument("--limit", type=int, help="the first N records of NSB only")
    sp.add_argument("--runs", type=int, default=20, help="timed runs per query and path (default 20)")
    sp.add_argument("--startup-runs", type=int, default=5, help="whole-process start-up runs (default 5)")
    sp.add_argument("--keep", action="store_true", help="keep the work folder (corpus, index, FTS5 db)")
    qp = sub.add_parser("quality",
                        help="SPF and known-item relevance beside FTS5, extraction F1 beside trafilatura")
    qp.add_argument("--quick", action="store_true",
                    help="the first 100 queries of each set, existing indexes reused")
    qp.add_argument("--reuse-indexes", action="store_true",
                    help="use /tmp/nsb-idx and /tmp/yk-idx when present instead of building afresh")
    pp = sub.add_parser("profile", help="cProfile of a build, grouped by stage")
    pp.add_argument("--limit", type=int, default=5000, help="records of NSB to build (default 5000)")
    pp.add_argument("--top", type=int, default=25, help="functions to list (default 25)")
    ep = sub.add_parser("extraction", help="extraction P/R/F1 beside trafilatura, per set (tune/test halves)")
    ep.add_argument("--worst", type=int, help="list the tune half's N worst pages for presse instead")
    args = ap.parse_args(argv)
    try:
        if args.command == "speed":
            from bench import speed
            return speed.main(args)
        if args.command == "quality":
            from bench import quality
            return quality.main(args)
        if args.command == "extraction":
            from bench import extraction
            extraction.main(["--worst", str(args.worst)] if args.worst else [])
            return 0
        from bench import profile_build
        return profile_build.main(args)
    except MissingData as e:
        return fail(str(e))
    except KeyboardInterrupt:
        return fail("interrupted")


if __name__ == "__main__":
    sys.exit(main())
