"""The benchmark suite in one command.

    python -m bench speed [--index DIR] [--repeat R]       # the 1,000-query mix, per class, vs FTS5
    python -m bench speed --builds [--quick | --limit N]    # build, reindex, 5 queries, start-up vs FTS5
    python -m bench scale [--sizes 10k,30k,59k,240k]        # build + query cost as the archive grows, vs FTS5
    python -m bench quality [--quick]                       # SPF + known-item relevance vs FTS5, extraction
    python -m bench profile [--limit 5000]                   # cProfile of a build: where the time goes
    python -m bench extraction [--worst N]                   # extraction P/R/F1 beside trafilatura, per set

Data come from ../shared (or $PRESSE_SHARED); results are saved under bench/results/ (git-ignored).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from bench.common import MissingData, fail
from bench.scale import options as scale_options


def _speed(args) -> int:
    """The query mix (bench.mix), or with --builds the build-and-five-queries benchmark (bench.speed)."""
    if args.builds or args.quick or args.limit:
        from bench import speed
        return speed.main(args)
    from bench import mix
    argv = ["--repeat", str(args.repeat)] + (["--index", str(args.index)] if args.index else [])
    return mix.main(argv)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m bench", description=__doc__.splitlines()[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter,
                                 epilog="\n".join(__doc__.splitlines()[2:]))
    sub = ap.add_subparsers(dest="command", required=True)
    sp = sub.add_parser("speed", help="the query mix (over 1,000 queries of 7 classes) on NSB beside SQLite "
                        "FTS5; --builds: build, reindex and 5 queries through CLI, web and in-process")
    sp.add_argument("--index", type=Path, help="mix: a full NSB index (default: bench.mix's)")
    sp.add_argument("--repeat", type=int, default=2, help="mix: runs of a query, best kept (default 2)")
    sp.add_argument("--builds", action="store_true",
                    help="instead of the mix: full build, no-op, +100, -100 and 5 queries through the CLI, "
                    "the web API and in-process, on the 10,000-statement subset then all of NSB")
    sp.add_argument("--quick", action="store_true", help="--builds: the 10,000-statement subset only")
    sp.add_argument("--limit", type=int, help="--builds: the first N records of NSB only")
    sp.add_argument("--runs", type=int, default=20, help="--builds: timed runs per query, path (default 20)")
    sp.add_argument("--startup-runs", type=int, default=5, help="--builds: start-up runs (default 5)")
    sp.add_argument("--keep", action="store_true", help="--builds: keep the work folder (corpus, index, db)")
    sc = sub.add_parser("scale", help="build and query cost at 10k, 30k, 59k, ~240k statements, vs FTS5")
    scale_options(sc)
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
            return _speed(args)
        if args.command == "scale":
            from bench import scale
            return scale.main(args)
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
