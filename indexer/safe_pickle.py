"""Reading an index never runs code from it: every pickle Whoosh reads goes through an allowlist.

Whoosh keeps the schema and the segment list (``_MAIN_<gen>.toc``), the terms file's field map, posting block
headers and data, inlined postings, positions and every document's stored fields as :mod:`pickle` data, and
a pickle can call any function it names (``os.system``, ``builtins.eval``...). :func:`install` replaces the
module-level ``loads``/``load`` that Whoosh's reading code calls with :func:`loads`/:func:`load`, whose
unpickler resolves only the globals in :data:`ALLOWED`: the classes our schema and Whoosh's W3 codec
actually write (recorded by loading real indexes) and plain data types. Anything else is refused with
:class:`ForbiddenPickle` before it is called; data that does not decode raises :class:`CorruptPickle`.

:mod:`indexer.store` calls :func:`install` on import, so it is in place before any index is opened, and
whoever owns the files. The ownership check of :mod:`indexer.trust` stays as a second line.
"""

from __future__ import annotations

import pickle
import sys
from typing import Any, BinaryIO

from indexer.errors import IndexMissing


class IndexDataError(IndexMissing, pickle.UnpicklingError):
    """Index data that :func:`load`/:func:`loads` refused or could not decode. An :class:`IndexMissing`, so
    that a command reading an index reports it in one sentence wherever it surfaces; where the file is
    known, :mod:`indexer.integrity` and the searcher report it with the file's or the index's name."""

    def __init__(self, message: str):
        self.index_dir = None
        Exception.__init__(self, message)


class ForbiddenPickle(IndexDataError):
    """A pickle in the index names a global outside :data:`ALLOWED`: it would run code, so it is refused."""

    def __init__(self, module: str, name: str):
        self.global_name = f"{module}.{name}"[:200]
        super().__init__(f"Refusing to read the index: one of its files holds a pickle that would call "
                         f"{self.global_name}, which presse never writes, so it was not run; delete the "
                         "index and build it again from the corpus with `presse index PATH...`.")


class CorruptPickle(IndexDataError):
    """A pickle in the index does not decode (truncated or garbled); ``problem`` says how."""

    def __init__(self, problem: str):
        self.problem = problem
        super().__init__(f"The index is damaged (a file of it {problem}): `presse check` lists what is "
                         "wrong, and `presse index PATH...` rebuilds it from the corpus.")


# (module, name) exactly as they appear in the pickle stream. Recorded by loading real indexes (schema,
# segments with deletions, terms, postings with positions, every column and stored document), plus the
# plain-data types a stored field or a deletion set may hold. Each is harmless when called with any
# arguments a pickle can build from this list.
_WHOOSH = {
    "whoosh.fields": ("Schema", "ID", "STORED", "DATETIME", "NUMERIC", "KEYWORD", "TEXT"),
    "whoosh.formats": ("Existence", "Frequency", "Positions"),
    "whoosh.columns": ("NumericColumn", "VarBytesColumn"),
    "whoosh.analysis.analyzers": ("CompositeAnalyzer",),
    "whoosh.analysis.tokenizers": ("IDTokenizer", "RegexTokenizer"),
    "whoosh.analysis.filters": ("LowercaseFilter", "StripFilter"),
    "whoosh.codec.whoosh3": ("W3Codec", "W3Segment"),
    "indexer.schema": ("LangText",),
    "indexer.analysis": ("WordTokenizer", "CompoundFilter", "NormalizeFilter"),
}
_DATA = {
    "builtins": ("set", "frozenset", "int", "float", "complex", "bytes", "bytearray", "str", "list",
                 "tuple", "dict", "bool"),
    "__builtin__": ("set", "frozenset", "int", "long", "float", "complex", "bytes", "bytearray", "str",
                    "unicode", "list", "tuple", "dict", "bool"),
    "collections": ("defaultdict", "OrderedDict"),
    "datetime": ("datetime", "date", "time", "timedelta", "timezone"),
    "array": ("array", "_array_reconstructor"),
    "re": ("_compile",),  # RegexTokenizer's compiled expression
}
ALLOWED: frozenset[tuple[str, str]] = frozenset(
    (module, name) for table in (_WHOOSH, _DATA) for module, names in table.items() for name in names
) | {("_codecs", "encode")}


def _sized(kind: type) -> Any:
    """``bytes``/``bytearray`` as a pickle may call them (from text or data), but not with a size: a pickle
    of a few bytes must not allocate gigabytes."""

    def make(*args: Any) -> Any:
        if args and isinstance(args[0], int):
            raise ForbiddenPickle("builtins", f"{kind.__name__}(<size>)")
        return kind(*args)

    return make


# Protocol 2 writes bytes as ``_codecs.encode(text, "latin1")``, a call made for every stored value and
# posting: resolved to ``str.encode`` (C, fast), which only encodes a str with a text codec.
_REPLACED = {("_codecs", "encode"): str.encode}
for _module in ("builtins", "__builtin__"):
    _REPLACED[(_module, "bytes")] = _sized(bytes)
    _REPLACED[(_module, "bytearray")] = _sized(bytearray)

_resolved: dict[tuple[str, str], Any] = dict(_REPLACED)  # per-global cache: find_class is on the hot path


class SafeUnpickler(pickle.Unpickler):
    """An unpickler that resolves only the globals in :data:`ALLOWED`."""

    def find_class(self, module: str, name: str) -> Any:
        key = (module, name)
        found = _resolved.get(key)
        if found is None:
            if key not in ALLOWED:
                loaded = sys.modules.get(module)
                if loaded is not None and name.split(".")[0] not in vars(loaded):  # nothing to call: noise
                    raise CorruptPickle(f"does not decode (it names {module}.{name[:100]}, not there)")
                raise ForbiddenPickle(module, name)
            found = _resolved[key] = super().find_class(module, name)
        return found


def load(file: BinaryIO) -> Any:
    """:func:`pickle.load` through :class:`SafeUnpickler`."""
    try:
        return SafeUnpickler(file).load()
    except IndexDataError:
        raise
    except EOFError:  # Whoosh reads optional trailing pickles until EOF (HashReader extras)
        raise
    except (Exception, RecursionError) as e:
        raise CorruptPickle(f"does not decode ({type(e).__name__}: {str(e)[:200]})") from e


class _Peekable:
    """A bytes object as a file the C unpickler reads at :func:`pickle.loads` speed: with ``peek``, it takes
    the whole pickle in one call and parses it from memory (a plain BytesIO is read opcode by opcode, about
    twice as slow: stored fields are unpickled for every result shown)."""

    __slots__ = ("data", "pos")

    def __init__(self, data: bytes):
        self.data = data if type(data) is bytes else bytes(data)
        self.pos = 0

    def peek(self, n: int = 0) -> bytes:
        return self.data[self.pos:]

    def read(self, n: int = -1) -> bytes:
        start = self.pos
        self.pos = len(self.data) if n is None or n < 0 else min(len(self.data), start + n)
        return self.data[start:self.pos]

    def readinto(self, buf: Any) -> int:
        chunk = self.read(len(buf))
        memoryview(buf).cast("B")[:len(chunk)] = chunk
        return len(chunk)

    def readline(self) -> bytes:
        end = self.data.find(b"\n", self.pos)
        return self.read(-1 if end < 0 else end + 1 - self.pos)


def loads(data: bytes) -> Any:
    """:func:`pickle.loads` through :class:`SafeUnpickler`."""
    try:
        return SafeUnpickler(_Peekable(data)).load()
    except IndexDataError:
        raise
    except (Exception, RecursionError) as e:
        raise CorruptPickle(f"does not decode ({type(e).__name__}: {str(e)[:200]})") from e


class _SafePickleModule:
    """Stands in for the ``pickle`` module inside :mod:`whoosh.index` (which calls ``pickle.loads``)."""

    loads = staticmethod(loads)
    load = staticmethod(load)

    def __getattr__(self, name: str) -> Any:
        return getattr(pickle, name)


_installed = False


def install() -> None:
    """Route every unpickling Whoosh does when reading an index through :class:`SafeUnpickler`; idempotent."""
    global _installed
    if _installed:
        return
    import whoosh.codec.whoosh3
    import whoosh.columns
    import whoosh.compat
    import whoosh.filedb.compound  # noqa: F401  (reads its directory with StructFile.read_pickle)
    import whoosh.filedb.structfile
    import whoosh.formats
    import whoosh.index
    import whoosh.legacy

    whoosh.index.pickle = whoosh.compat.pickle = _SafePickleModule()  # the TOC's schema
    whoosh.filedb.structfile.load_pickle = load  # StructFile.read_pickle: segments, field maps, block headers
    for module in (whoosh.codec.whoosh3, whoosh.columns, whoosh.formats, whoosh.compat):
        module.loads = loads  # posting blocks, inlined postings, positions, stored fields
    whoosh.compat.load = load
    # Codecs nobody selects unless a (refused) pickle names them; patched anyway if something imported them.
    for name in ("whoosh.codec.whoosh2", "whoosh.codec.plaintext"):
        if name in sys.modules:
            sys.modules[name].loads = loads
    # Old TOC formats are read with an unpickler that imports any name: we never write them.
    whoosh.legacy.toc_loaders.clear()
    _installed = True
