"""`presse search` and `presse related`: thin click shells over `search.Searcher`."""

from __future__ import annotations

import contextlib
import json
import re
import sys
from collections.abc import Iterator
from typing import Any

import click

from indexer.store import INDEX_HELP
from search.engine import Results, Searcher, SearchError
from search.export import CSV_COLUMNS, EXPORT_MAX, csv_lines, export_hits
from search.links import LANG_NAMES, also_in_line
from search.options import SORTS, OptionError
from search.snippets import Snippet

# Terminal escapes in indexed text (titles, URLs, snippets, sources, ids): whole ESC sequences (CSI; OSC such
# as \x1b]8;; hyperlinks or window titles, and DCS/SOS/PM/APC strings, up to their terminator; two-character
# ones), then any other C0/C1 control or DEL, one by one (a lone C1 byte is usually mojibake, not a command).
# A page must not clear the screen, retitle the window or plant links in the user's terminal.
_ESCAPE_SEQ = re.compile(r"\x1b\[[0-?]*[ -/]*[@-~]"
                         r"|\x1b[\]PX^_][^\x07\x1b\x9c]*(?:\x07|\x1b\\|\x9c)?"
                         r"|\x1b[ -/]*[0-~]?")
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")
_C1_OR_DEL = re.compile(r"[\x7f-\x9f]")


def _open(index_dir: str | None, engine: str | None = None) -> Searcher:
    if engine:  # a distributed engine (search.sphinxql): the same methods and results
        from search.sphinxql import open_searcher
        return open_searcher(index_dir, engine)  # index_dir: its typo index (search.sphinxql.typo_dir)
    return Searcher(index_dir or None)  # None: indexer.default_index_dir()


engine_option = click.option("--engine", default=None, metavar="sphinxql://HOST:PORT[/prefix]",
                             help="Search this distributed engine (Manticore/Sphinx) instead of the index.")


def terminal_text(value: str) -> str:
    """Indexed text made safe for a terminal, on one line: escape sequences and control characters removed,
    newlines and tabs as spaces (our own line breaks and colours are added after)."""
    value = _ESCAPE_SEQ.sub("", value)
    return _CONTROL.sub(lambda m: " " if m.group() in "\n\t\r\u2028\u2029" else "", value)


def _terminal_safe(obj: Any) -> Any:
    """``obj`` (a results dict) with terminal_text applied to every string in it."""
    if isinstance(obj, str):
        return terminal_text(obj)
    if isinstance(obj, dict):
        return {_terminal_safe(k): _terminal_safe(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [_terminal_safe(v) for v in obj]
    return obj


def json_line(obj: Any) -> str:
    """One JSON line; json escapes C0 controls itself, and C1 controls and DEL (which a terminal may act on,
    and ensure_ascii=False leaves raw) are escaped here too: they only occur inside strings."""
    text = json.dumps(obj, ensure_ascii=False)
    return _C1_OR_DEL.sub(lambda m: f"\\u{ord(m.group()):04x}", text)


def _color(as_json: bool) -> bool:
    return sys.stdout.isatty() and not as_json


EXIT_CODES = """Exit codes: 0 done (a search that finds nothing included); 1 the command could not do its
work (no index, a damaged, refused or locked index, an unknown statement id, a file it cannot read or write;
`presse check` also when the index is damaged); 2 a wrong command line (an unknown option, a bad value or
date)."""


class BadValue(click.ClickException):
    """An option's value the search refuses (a bad date, since after until): one line, exit code 2."""

    exit_code = 2


@contextlib.contextmanager
def command_errors() -> Iterator[None]:
    """Every command's errors alike: one line on stderr ("Error: …"), never a traceback; exit 2 when a value
    on the command line is wrong (as click's own usage errors), 1 when the command could not do its work."""
    from indexer import IndexMissing, IndexNotWritable, UpdateInProgress

    try:
        yield
    except OptionError as e:
        raise BadValue(str(e)) from None
    except (SearchError, IndexMissing, IndexNotWritable, UpdateInProgress, OSError) as e:
        raise click.ClickException(str(e)) from None


class QueryCommand(click.Command):
    """A command whose words may start with "-": ``presse search "-covid vaccin"`` excludes a word, it is
    not an option. The command's own options are read wherever they stand; anything else is a word."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        return super().parse_args(ctx, self.options_first(ctx, args))

    def options_first(self, ctx: click.Context, args: list[str]) -> list[str]:
        takes_value = {name: not (p.is_flag or p.count) for p in self.get_params(ctx)
                       if isinstance(p, click.Option) for name in (*p.opts, *p.secondary_opts)}
        options: list[str] = []
        words: list[str] = []
        rest = iter(args)
        for arg in rest:
            name = arg.split("=", 1)[0]
            if arg == "--":
                words.extend(rest)
            elif name in takes_value:
                options.append(arg)
                if takes_value[name] and "=" not in arg:
                    options.extend(x for x in [next(rest, None)] if x is not None)
            elif arg.startswith("--"):  # a mistyped option (--limt 5) is said so, not searched for
                options.append(arg)
            else:
                words.append(arg)
        return [*options, "--", *words] if words else options


def terminal_snippet(snippet: Snippet, color: bool) -> str:
    """A snippet as terminal text (see terminal_text), matched words in bold yellow when ``color``."""
    out = []
    for span in snippet.spans:
        text = terminal_text(span.text)
        out.append(click.style(text, bold=True, fg="yellow") if span.matched and color else text)
    return "".join(out)


def _facet_line(name: str, counts: dict, top: int = 6) -> str:
    items = list(counts.items())
    shown = ", ".join(f"{k} {v}" for k, v in items[:top])
    if len(items) > top:
        shown += f", … ({len(items) - top} more)"
    return f"  {name}: {shown}" if shown else ""


def other_languages_line(counts: dict[str, int]) -> str:
    """ "In other languages: 26 statements in English (--lang en)." for a search that found none in its
    --lang; "" when the other languages have none either."""
    parts = [f"{n} statement{'' if n == 1 else 's'} in {LANG_NAMES.get(code, (code,))[0]} (--lang {code})"
             for code, n in counts.items()]
    return f"In other languages: {', '.join(parts)}." if parts else ""


def _matches(n: int) -> str:
    return f"{n} statement matches" if n == 1 else f"{n} statements match"


def print_results(res: Results, color: bool) -> None:
    d = _terminal_safe(res.to_dict())
    if d.get("mode") == "related":
        click.echo(f"{d['total']} similar statement{'' if d['total'] == 1 else 's'}, most similar first "
                   "(score: similarity, 0..1)." if d["total"] else "No statement is similar enough.")
    elif d["total"] == 0:
        click.echo(f"No statement matches {d['query']!r}.")
        if d.get("other_languages"):
            click.echo(other_languages_line(d["other_languages"]))
    elif not d["results"]:
        click.echo(f"{_matches(d['total'])} {d['query']!r}, but page {res.page} is past the last page "
                   f"({res.pages}).")
    else:
        first = (res.page - 1) * res.limit + 1
        click.echo(f"{_matches(d['total'])} {d['query']!r} "
                   f"(showing {first}-{first + len(d['results']) - 1}, page {res.page} of {res.pages}).")
        if d.get("mode") == "any":
            click.echo("Few statements contain all the words: statements matching some of them follow.")
    for warning in d.get("warnings") or ():  # on stderr: the answer itself is sound
        click.echo(f"warning: {warning}", err=True)
    if d.get("corrected_query"):
        click.echo(f"Showing results for: {d['corrected_query']}")
    if d.get("suggestion") and d["suggestion"] != d.get("corrected_query"):
        click.echo(f"Did you mean: {d['suggestion']}")
    for i, (hit, snippet) in enumerate(zip(d["results"], (h["snippet"] for h in res.hits), strict=True),
                                       (res.page - 1) * res.limit + 1):
        title = click.style(hit["title"], bold=True) if color else hit["title"]
        click.echo(f"\n{i}. {title}")
        similarity = f"similarity {hit['score']:.2f}" if d.get("mode") == "related" else ""
        meta = " | ".join(x for x in (hit["date"], hit["source"], hit["lang"], similarity) if x)
        click.echo(f"   {meta}")
        if hit["url"]:
            click.echo(f"   {hit['url']}")
        click.echo(f"   id: {hit['id']}")
        if snippet:
            click.echo("   " + terminal_snippet(snippet, color))
        for entry in hit.get("translations") or ():
            click.echo("   " + also_in_line(entry))
        if hit.get("duplicates"):
            click.echo("   also published by: " + ", ".join(
                f"{x['source'] or x['id']}" for x in hit["duplicates"]))
    if d["total"]:
        click.echo("")
        click.echo(f"Total {d['total']}; by facet:")
        for name in ("lang", "source", "year"):
            line = _facet_line(name, d["facets"].get(name, {}))
            if line:
                click.echo(line)


FORMATS = ("text", "json", "jsonl", "csv")


@click.command("search", cls=QueryCommand, epilog=EXIT_CODES)
@click.argument("query", nargs=-1, required=True)
@click.option("--index", "index_dir", type=click.Path(file_okay=False), help=INDEX_HELP)
@engine_option
@click.option("--lang", type=click.Choice(["fr", "en"]), help="Only statements in this language.")
@click.option("--source", multiple=True,
              help="Only statements from a source whose name contains these words (any order); repeat for "
                   "any of several sources.")
@click.option("--not-source", multiple=True, metavar="TEXT",
              help="Leave out the statements of this source (its words, any order); repeatable.")
@click.option("--not-lang", type=click.Choice(["fr", "en"]),
              help="Leave out the statements in this language.")
@click.option("--year", multiple=True, metavar="YYYY",
              help="Only statements dated in this year; repeat for any of several years.")
@click.option("--not-year", multiple=True, metavar="YYYY",
              help="Leave out this year's statements; repeatable.")
@click.option("--last", metavar="SPAN",
              help="Only the most recent span, counted back from today: 7d, 30d, 12m (d days, w weeks, "
                   "m months, y years).")
@click.option("--since", help="From this date: YYYY, YYYY-MM or YYYY-MM-DD.")
@click.option("--until", help="Up to this date (inclusive): YYYY, YYYY-MM or YYYY-MM-DD.")
@click.option("--sort", type=click.Choice(SORTS), default="relevance", show_default=True,
              help="relevance: best match first; date: newest first.")
@click.option("--limit", type=click.IntRange(1, 1000), default=10, show_default=True,
              help="Results per page (1-1000).")
@click.option("--page", type=click.IntRange(1), default=1, show_default=True,
              help="Which page of results: 2 shows results 11-20 with the default --limit.")
@click.option("--recency", type=click.FloatRange(0, 1), default=0.0, help="Blend in freshness (0..1).")
@click.option("--bilingual", is_flag=True,
              help="Search French and English; with --lang, show each result in that language when it has "
                   "a version in it (a French query finds English statements through their French version).")
@click.option("--json", "as_json", is_flag=True,
              help="One JSON object (one per line with QUERY '-'); the same as --format json.")
@click.option("--format", "fmt", type=click.Choice(FORMATS), default=None,
              help="text (the default); json (the page as one object, as --json); csv or jsonl: every "
                   f"match, not one page (at most {EXPORT_MAX:,}), one row per statement, for a spreadsheet "
                   "or a script (--limit and --page do not apply).")
def search_command(query, index_dir, engine, lang, source, not_source, not_lang, year, not_year, last, since,
                   until, sort, limit, page, recency, bilingual, as_json, fmt):
    """Search statements: QUERY is one or more words (quote a phrase); '-' reads one query per line on stdin
    (batch mode).

    Words in any case, with or without accents; all words are required first, and statements matching
    only some of them follow when that finds less than a page. Syntax: "exact phrase", AND/ET, OR/OU,
    NOT/SAUF, -word (also first: presse search -covid vaccin), prefix*, title:, source:, lang:, date:2020,
    date:[2020-01-01 TO 2020-06-30].

    Each result lists its other-language version ("also in English" / "aussi en français"; JSON
    "translations") and the same statement published elsewhere ("also published by"; JSON "duplicates").
    """
    if as_json and fmt not in (None, "json"):
        raise click.UsageError(f"--json and --format {fmt} ask for two formats: give one.")
    fmt = "json" if as_json else fmt or "text"
    batch = query == ("-",)
    # Batch mode reads one query per line and keeps the one searcher open.
    queries = (line.rstrip("\r\n") for line in sys.stdin) if batch else [" ".join(query)]
    options = dict(lang=lang, source=source, since=since, until=until, sort=sort, recency=recency,
                   bilingual=bilingual, not_source=not_source, not_lang=not_lang, year=year,
                   not_year=not_year, last=last)
    with command_errors():
        with _open(index_dir, engine) as searcher:
            first = True
            for q in queries:  # a blank line too gets its answer (no match): answers line up with questions
                if fmt in ("csv", "jsonl"):
                    if q.strip():  # rows name their query: a blank line has none to give
                        _export(searcher, q, fmt, options, batch, first=first)
                        first = False
                    continue
                res = searcher.search(q, limit=limit, page=page, **options)
                if fmt == "json":
                    click.echo(json_line(res.to_dict()))
                else:
                    print_results(res, _color(False))
                    if batch:
                        click.echo("")


def _export(searcher: Searcher, q: str, fmt: str, options: dict[str, Any], batch: bool, first: bool) -> None:
    """Every match of ``q`` as CSV or JSON Lines (a JSON line as --json writes it); in batch mode each row
    says its query, and the CSV header comes once."""
    hits = export_hits(searcher, q, **options)
    if batch:
        hits = ({"query": q, **hit} for hit in hits)
    if fmt == "jsonl":
        for hit in hits:
            click.echo(json_line(hit))
        return
    for line in csv_lines(hits, (("query",) if batch else ()) + CSV_COLUMNS, header=first):
        click.echo(line, nl=False)


@click.command("related", epilog=EXIT_CODES)
@click.argument("statement_id")
@click.option("--index", "index_dir", type=click.Path(file_okay=False), help=INDEX_HELP)
@click.option("--limit", type=click.IntRange(1, 1000), default=10, show_default=True,
              help="How many similar statements to list.")
@click.option("--json", "as_json", is_flag=True, help="One JSON object.")
@engine_option
def related_command(statement_id, index_dir, limit, as_json, engine):
    """Statements most like the statement STATEMENT_ID, in either language."""
    with command_errors():
        with _open(index_dir, engine) as searcher:
            res = searcher.related(statement_id, limit=limit)
            if as_json:
                click.echo(json_line(res.to_dict()))
            else:
                st = searcher.statement(statement_id) or {}
                click.echo(terminal_text(f"Statements like {statement_id}: {st.get('title') or ''}"))
                print_results(res, _color(as_json))
