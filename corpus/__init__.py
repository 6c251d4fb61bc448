"""The corpus ingester: files, JSON Lines and WARC archives in; cleaned Statements (and Problems) out."""

from .extract import extract_html
from .inputs import InputFile, iter_inputs, read_input, read_paths
from .statement import Problem, Statement
from .summary import Summary

__all__ = [
    "InputFile",
    "Problem",
    "Statement",
    "Summary",
    "extract_html",
    "iter_inputs",
    "read_input",
    "read_paths",
]
