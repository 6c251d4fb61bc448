"""The search package reads as one pipeline (issue 13): no private name crosses a module boundary, the engine
stays small, and every step of the pipeline has its module."""

from __future__ import annotations

import ast
from pathlib import Path

from tests.corpora import ROOT

SEARCH = ROOT / "search"


def _modules():
    return sorted(SEARCH.rglob("*.py"))


def test_no_private_name_is_imported_across_modules():
    crossing = []
    for path in _modules():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.module and node.module.split(".")[0] in (
                    "search", "indexer", "corpus"):
                crossing += [f"{path.relative_to(ROOT)}: {node.module}.{a.name}" for a in node.names
                             if a.name.startswith("_") and not a.name.startswith("__")]
    assert crossing == []


def test_the_engine_is_the_pipeline_not_the_backends():
    engine = (SEARCH / "engine.py").read_text(encoding="utf-8")
    assert len(engine.splitlines()) < 400
    for module in ("options", "query", "matching", "ranking", "results", "links", "snippets"):
        assert (SEARCH / f"{module}.py").exists(), module


def test_one_sorts_and_one_date_parser():
    trees = {p.name: ast.parse(p.read_text(encoding="utf-8")) for p in _modules()}
    defining = {name for name, tree in trees.items() for node in ast.walk(tree)
                if isinstance(node, ast.Assign)
                and any(getattr(t, "id", "") == "SORTS" for t in node.targets)}
    assert defining == {"options.py"}
    from search.options import parse_date
    assert str(parse_date("2020-02", end=True)) == "2020-02-29 23:59:59"


def test_no_function_over_80_lines():
    long = [f"{path.relative_to(ROOT)}:{node.name} {node.end_lineno - node.lineno + 1}"
            for path in _modules() for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
            and node.end_lineno - node.lineno >= 80]
    assert long == []


def _imports(path: Path) -> set[str]:
    out = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module:
            out.add(node.module)
        elif isinstance(node, ast.Import):
            out.update(a.name for a in node.names)
    return out


def test_the_web_package_does_not_drive_indexing():
    """`serve --watch` is composed in cli.py: no module of search/web imports the indexer."""
    assert {f"{p.name}: {m}" for p in (SEARCH / "web").glob("*.py") for m in _imports(p)
            if m.split(".")[0] == "indexer"} == set()
    import inspect

    from search.web.server import serve
    assert "watch" not in inspect.signature(serve).parameters


def test_the_web_app_is_a_factory_over_one_module_per_concern():
    """The factory holds no view, parameter check, URL building or error handler of its own: each kind
    of view has its module (with its ROUTES), and so do the parameters, the URLs and the errors."""
    web = SEARCH / "web"
    for module in ("app", "search_views", "statement_views", "feed", "params", "urls", "errors", "server"):
        assert (web / f"{module}.py").exists(), module
    app = ast.parse((web / "app.py").read_text(encoding="utf-8"))
    assert {n.name for n in app.body if isinstance(n, ast.FunctionDef)} == {"create_app", "template_globals"}
    from search.web import app as webapp
    from search.web import export_views, feed, search_views, statement_views

    rules = [rule for rule, _ in webapp.ROUTES]
    assert len(rules) == len(set(rules))
    assert {"/", "/api/search", "/feed", "/statement/<sid:sid>"} <= set(rules)
    views = {m.__name__ for m in (feed, search_views, statement_views, export_views)}
    assert {v.__module__ for _, v in webapp.ROUTES} == views
    # URLs are built in one module (templates aside), errors are handled in one
    sources = {p.name: p.read_text(encoding="utf-8") for p in web.glob("*.py")}
    assert {name for name, text in sources.items() if "url_for(" in text} == {"urls.py"}
    assert {name for name, text in sources.items() if "register_error_handler" in text} == {"errors.py"}


def test_web_parameters_are_checked_by_search_options():
    """The page does not check sort, recency or the date range a second time: SearchOptions refuses them,
    and the page words the refusal in its language."""
    from search.web.params import BadParameter, parse_params

    for args, key in (({"sort": "bogus"}, "bad_sort"), ({"since": "2021", "until": "2020"}, "bad_range"),
                      ({"recency": "2"}, "bad_param"), ({"since": "2020-13"}, "bad_date")):
        try:
            parse_params(args)
        except BadParameter as exc:
            assert exc.key == key, args
            assert "«" in exc.message("fr") and "{" not in exc.message("en") or key == "bad_range"
        else:
            raise AssertionError(args)
    params = (SEARCH / "web" / "params.py").read_text(encoding="utf-8")
    assert "SORTS" not in params and "SearchOptions.make" in params
