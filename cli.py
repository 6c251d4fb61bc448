"""The `presse` command: a thin click layer over the corpus, indexer and search libraries.

Each command parses its options, makes one library call and prints the result; the libraries do the work.
"""

from __future__ import annotations

import gc
import os

gc.disable()  # no collection while ~400 modules load (~5% of a cold `presse search`): they are all kept

# numpy's OpenBLAS starts a thread per core when it loads: ~0.1 s of CPU in a cold `presse search`, and
# spinning threads beside a server's. presse's numpy work is element-wise and small products, which one
# thread does as fast. Before numpy is imported; a value the user set wins.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import json  # noqa: E402

import click  # noqa: E402

from search.cli import EXIT_CODES, command_errors, related_command, search_command  # noqa: E402


@click.group(context_settings={"help_option_names": ["-h", "--help"]}, epilog=EXIT_CODES)
@click.version_option(package_name="presse")
def main() -> None:
    """presse: full-text search for press statements in French and English."""


# Commands are added below, one per library entry point.

from indexer.store import INDEX_HELP  # noqa: E402

main.add_command(search_command)
main.add_command(related_command)
gc.freeze()  # what the imports made lives as long as the process: later collections need not scan it
gc.enable()

index_option = click.option("--index", "index_dir", default=None,
                            type=click.Path(file_okay=False, path_type=str), help=INDEX_HELP)


def ctrl_c_stops() -> None:
    """Ctrl-C (SIGINT) stops a long-running command, even when it was started by a process that ignores
    SIGINT (a CI runner, a service manager, `nohup`): Python leaves an inherited "ignore" in place, and the
    command would then never stop on Ctrl-C."""
    import signal

    signal.signal(signal.SIGINT, signal.default_int_handler)


def echo_report(report, as_json: bool = False) -> None:
    """An update's report: its lines, or one JSON object."""
    if as_json:
        click.echo(json.dumps(report.to_dict(), ensure_ascii=False, indent=2))
    else:
        for line in report.lines():
            click.echo(line)


@main.command(epilog=EXIT_CODES, name="index")
@click.argument("paths", nargs=-1, required=True, type=click.Path(exists=True, path_type=str))
@index_option
@click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON.")
@click.option("--prune", is_flag=True,
              help="Also remove from the index every input that is not under PATHS.")
@click.option("--engine", default=None, metavar="sphinxql://HOST:PORT[/prefix]",
              help="Also bring this distributed engine (Manticore/Sphinx) in step with the index.")
def index_command(paths: tuple[str, ...], index_dir: str | None, as_json: bool, prune: bool,
                  engine: str | None) -> None:
    """Build the index from PATHS (files or folders), or bring it up to date: new statements are added,
    changed ones replaced, those whose file or record is gone from PATHS removed; unchanged files are not
    read. What was indexed from other paths stays (see --prune and `presse remove`)."""
    import sys

    from indexer import update

    bar = None
    if sys.stderr.isatty() and not as_json:
        bar = click.progressbar(length=1, label="indexing", file=sys.stderr, show_pos=False,
                                item_show_func=lambda n: f"{n} statements" if n is not None else None)
    done = [0]

    def progress(done_bytes: int, total_bytes: int, statements: int) -> None:
        if bar is None:
            return
        bar.length = max(total_bytes, 1)
        bar.current_item = statements
        bar.update(max(0, done_bytes - done[0]))
        done[0] = max(done[0], done_bytes)

    with command_errors():
        if bar is not None:
            with bar:
                report = update(paths, index_dir, progress=progress, prune=prune)
        else:
            report = update(paths, index_dir, prune=prune)
        if engine:  # the engine after the local index: it sends what the index holds (indexer.sphinxql)
            from indexer.sphinxql import EngineReport, sync

            report = EngineReport(report, sync(index_dir, engine))
    echo_report(report, as_json)


@main.command(epilog=EXIT_CODES, name="engine-config")
@click.option("--shards", default=2, show_default=True, type=click.IntRange(1, 1024), help="Shards.")
@click.option("--ports", required=True, metavar="[HOST:]PORT,...",
              help="Each server's SphinxQL port (agents listen on the port after it).")
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Host of the servers given by port only.")
@click.option("--data", default="/var/lib/presse-engine", show_default=True,
              help="Folder of the servers' data.")
@click.option("--prefix", default="presse", show_default=True, help="Name of the distributed index.")
def engine_config_command(shards: int, ports: str, host: str, data: str, prefix: str) -> None:
    """Print the searchd configuration (Sphinx 2.2 / Manticore) of a distributed engine for `presse index
    --engine`: one file per server, each headed by a comment naming it."""
    from indexer.sphinxql import Engine, engine_config, parse_server

    with command_errors():
        Engine.parse(f"sphinxql://{host}:1/{prefix}")  # the prefix checked as an address would be
        servers = [parse_server(p, host) for p in ports.split(",") if p.strip()]
        for text in engine_config(shards, servers, data, prefix).values():
            click.echo(text)


@main.command(epilog=EXIT_CODES, name="stats")
@index_option
@click.option("--json", "as_json", is_flag=True, help="Print the statistics as JSON.")
def stats_command(index_dir: str | None, as_json: bool) -> None:
    """What the index holds: statements per language, source and year, date range, size, last update,
    inputs, and the statements in languages other than French and English."""
    from indexer import stats, stats_lines

    with command_errors():
        data = stats(index_dir)
    if as_json:
        click.echo(json.dumps(data, ensure_ascii=False, indent=2))
    else:
        for line in stats_lines(data):
            click.echo(line)


@main.command(epilog=EXIT_CODES, name="remove")
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=str))
@index_option
@click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON.")
def remove_command(paths: tuple[str, ...], index_dir: str | None, as_json: bool) -> None:
    """Remove from the index every statement read from a file under PATHS (files or folders), whether the
    files still exist or not; and from every distributed engine the index was sent to (`index --engine`)."""
    from indexer import remove
    from indexer.sphinxql import sync_recorded

    with command_errors():
        report = remove(paths, index_dir)
        report = sync_recorded(index_dir, report)  # and from the engines the index was sent to, if any
    echo_report(report, as_json)


@main.command(epilog=EXIT_CODES, name="optimize")
@index_option
def optimize_command(index_dir: str | None) -> None:
    """Merge the index into one segment without deleted statements: smaller, faster to search."""
    from indexer import optimize

    with command_errors():
        report = optimize(index_dir)
    echo_report(report)


@main.command(epilog=EXIT_CODES, name="check")
@index_option
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
def check_command(index_dir: str | None, as_json: bool) -> None:
    """Verify every file of the index: the table of contents, each segment's files, every posting list,
    every stored statement, and the manifest. Says what is wrong and exits with 1 when it is damaged
    (`presse index PATH...` then rebuilds it)."""
    from indexer import check

    with command_errors():
        report = check(index_dir)
    echo_report(report, as_json)
    if not report.ok:
        raise SystemExit(1)


@main.command(epilog=EXIT_CODES, name="serve")
@index_option
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=8080, show_default=True, type=click.IntRange(0, 65535), help="Port.")
@click.option("--threads", default=8, show_default=True, type=click.IntRange(1, 64),
              help="Requests served at once.")
@click.option("--watch", "watch_paths", multiple=True, type=click.Path(path_type=str), metavar="PATH",
              help="Also keep the index in step with PATH (a corpus folder or file), as `presse watch` "
                   "does; repeat for several.")
@click.option("--allow-host", "allow_hosts", multiple=True, metavar="NAME",
              help="Also answer requests for this host name (besides 127.0.0.1, localhost, [::1] and "
                   "--host); repeat for several; '*' answers any (no DNS-rebinding protection).")
@click.option("--header-timeout", type=click.FloatRange(0.5, 3600), metavar="SECONDS",
              help="Time a client has to send a whole request, from its first byte; a slower one is "
                   "disconnected.  [default: 10]")
@click.option("--per-ip-connections", type=click.IntRange(1, 10000), metavar="N",
              help="Connections one client address may hold open at once; 127.0.0.1 and ::1 (the local "
                   "user, or a reverse proxy on this machine) are not capped.  [default: 20]")
@click.option("--engine", default=None, metavar="sphinxql://HOST:PORT[/prefix]",
              help="Search this distributed engine (Manticore/Sphinx) instead of the index.")
def serve_command(index_dir: str, host: str, port: int, threads: int, watch_paths: tuple[str, ...],
                  allow_hosts: tuple[str, ...], header_timeout: float | None,
                  per_ip_connections: int | None, engine: str | None) -> None:
    """Serve the web search page (and /api/search, /feed) over the index, with waitress."""
    from search.web import serve

    ctrl_c_stops()
    limits = {"header_timeout": header_timeout, "per_ip_connections": per_ip_connections}
    limits = {k: v for k, v in limits.items() if v is not None}  # else search.web's defaults
    with command_errors():
        companion = _ServeWatch(watch_paths, index_dir) if watch_paths else None
        serve(index_dir, host=host, port=port, threads=threads, allow_hosts=allow_hosts, companion=companion,
              engine=engine, **limits)


class _ServeWatch:
    """``serve --watch``: the indexer's Watcher beside the server (the web package does not drive indexing).
    With no index yet, the first update runs here, before the server opens the index; after each update
    the server's searchers refresh."""

    def __init__(self, paths: tuple[str, ...], index_dir: str | None) -> None:
        from indexer.store import index_exists
        from indexer.watch import Watcher

        self.watcher = Watcher(paths, index_dir)
        self.built = not index_exists(self.watcher.index_dir)
        if self.built:
            self.watcher.update_once(initial=True)

    def start(self, index_changed) -> None:
        self.watcher.on_commit = lambda report: index_changed()
        self.watcher.start(initial=not self.built)

    def stop(self) -> None:
        self.watcher.stop()


@main.command(epilog=EXIT_CODES, name="watch")
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=str))
@index_option
@click.option("--quiet", default=0.5, show_default=True, type=click.FloatRange(0, 60),
              help="Seconds without a change before a batch of changes is indexed.")
@click.option("--max-delay", default=5.0, show_default=True, type=click.FloatRange(0, 600),
              help="Seconds after the first change at the latest, when changes keep coming.")
def watch_command(paths: tuple[str, ...], index_dir: str | None, quiet: float, max_delay: float) -> None:
    """Keep the index in step with PATHS: update it now, then each time files are added, changed, renamed
    or deleted under them (one log line per batch on stderr). Ctrl-C stops."""
    from indexer.watch import watch

    ctrl_c_stops()
    with command_errors():
        watch(paths, index_dir, quiet=quiet, max_delay=max_delay)


@main.command(epilog=EXIT_CODES, name="extract")
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=str))
@click.option("--json", "as_json", is_flag=True, help="JSON Lines: one statement per line, all fields.")
def extract_command(paths: tuple[str, ...], as_json: bool) -> None:
    """Show what the ingester makes of FILES (HTML, JSON Lines, WARC; folders are walked)."""
    from pathlib import Path

    from corpus import Problem, Summary, read_paths

    missing = [p for p in paths if not Path(p).exists()]
    if missing:  # a wrong command line (exit 2), as click says of `presse index` with a missing path
        raise click.UsageError(f"no such file or directory: {', '.join(missing)}")
    summary = Summary()
    for item in read_paths(paths, summary=summary):
        if isinstance(item, Problem):
            click.echo(f"{item.kind}: {item}", err=True)
        elif as_json:
            click.echo(json.dumps(item.to_dict(), ensure_ascii=False))
        else:
            lines = item.body.split("\n")
            click.echo(f"== {item.id}  [{item.lang}] {item.date or '(no date)'}\n"
                       f"   title:  {item.title}\n   origin: {item.origin}\n"
                       f"   source: {item.source}\n   url:    {item.url}")
            click.echo("".join(f"   | {line}\n" for line in lines[:6] if line) + (
                f"   | … ({len(item.body)} characters)\n" if len(lines) > 6 else ""))
    for line in summary.lines():
        click.echo(line, err=True)


if __name__ == "__main__":
    main()
