"""The corpus ingester: files, JSON Lines and WARC archives in; cleaned Statements (and Problems) out.

The names below load their module on first use, so that code needing only :class:`Statement` (the search
side) does not pay for the HTML parser's import.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .extract import extract_html
    from .inputs import InputFile, iter_inputs, read_input, read_paths
    from .statement import Problem, Statement
    from .summary import Summary

_HOME = {
    "InputFile": "inputs",
    "Problem": "statement",
    "Statement": "statement",
    "Summary": "summary",
    "extract_html": "extract",
    "iter_inputs": "inputs",
    "read_input": "inputs",
    "read_paths": "inputs",
}


def __getattr__(name: str) -> Any:
    if name not in _HOME:
        raise AttributeError(f"module 'corpus' has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{_HOME[name]}", __name__), name)
    globals()[name] = value
    return value


__all__ = ["InputFile", "Problem", "Statement", "Summary", "extract_html", "iter_inputs", "read_input",
           "read_paths"]
