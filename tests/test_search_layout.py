"""The search package reads as one pipeline (issue 13): no private name crosses a module boundary, the engine
stays small, and every step of the pipeline has its module."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
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
