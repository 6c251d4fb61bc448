"""The indexer never imports the search side: data flows from ``indexer/`` to ``search/``, not back (the
tables a search reads whole are written at index time by :mod:`indexer.tables`, with the column readers
it holds). Checked on the source, imports inside functions included."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _imported(path: Path) -> set[str]:
    """Every module an ``import`` or ``from ... import`` of a source file names, at any depth."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            names.add(node.module)
    return names


def test_no_indexer_module_imports_search():
    sources = sorted((ROOT / "indexer").glob("*.py"))
    assert len(sources) > 10  # the package's modules, not an empty folder
    wrong = {str(p.relative_to(ROOT)): sorted(m for m in _imported(p) if m.split(".")[0] == "search")
             for p in sources}
    assert not {path: mods for path, mods in wrong.items() if mods}


def test_the_checker_sees_an_import_inside_a_function(tmp_path):
    """The check reads nested imports, the kind the old ``_refresh_tables`` used."""
    src = tmp_path / "m.py"
    src.write_text("def f():\n    from search import tables\n    import search.links\n")
    assert _imported(src) == {"search", "search.links"}
