"""The `presse` command: a thin click layer over the corpus, indexer and search libraries.

Each command parses its options, makes one library call and prints the result; the libraries do the work.
"""

from __future__ import annotations

import click


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="presse")
def main() -> None:
    """presse: full-text search for press statements in French and English."""


# Commands are added below, one per library entry point.


@main.command("serve")
@click.option("--index", "index_dir", default=None, type=click.Path(file_okay=False, path_type=str),
              help="Index directory to search (default: the index `presse index` builds).")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=8080, show_default=True, type=click.IntRange(0, 65535), help="Port.")
@click.option("--threads", default=8, show_default=True, type=click.IntRange(1, 64),
              help="Requests served at once.")
def serve_command(index_dir: str, host: str, port: int, threads: int) -> None:
    """Serve the web search page (and /api/search, /feed) over the index, with waitress."""
    from search import SearchError
    from search.web import serve

    try:
        serve(index_dir, host=host, port=port, threads=threads)
    except (SearchError, OSError) as e:
        raise click.ClickException(str(e)) from None


@main.command("extract")
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=str))
@click.option("--json", "as_json", is_flag=True, help="JSON Lines: one statement per line, all fields.")
def extract_command(paths: tuple[str, ...], as_json: bool) -> None:
    """Show what the ingester makes of FILES (HTML, JSON Lines, WARC; folders are walked)."""
    import json
    from pathlib import Path

    from corpus import Problem, Summary, read_paths

    missing = [p for p in paths if not Path(p).exists()]
    if missing:
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
