"""Whoosh, imported without three modules it loads at import and never uses: about 40 ms of a cold search.

whoosh-reloaded 2.7.5 imports
- ``urllib.request`` in ``whoosh.compat``, for a ``urlretrieve`` that no code of Whoosh's calls; it brings
  http.client, email, ssl and tempfile with it (about 20 ms);
- the ``cached_property`` package in ``whoosh.reading``, for one property
  (``SegmentReader.deleted_docs_set``). That package imports asyncio for coroutine support (about 12 ms);
  ``functools.cached_property`` does the same job since Python 3.8 (upstream: de-odex/whoosh-novo pull
  request 25, "remove cached_property dependency"; asottile/classify-imports pull request 114 on the same
  asyncio import);
- ``whoosh.lang.morph_en`` in ``whoosh.query.terms``, for the English word variations of its ``Variations``
  query, which presse does not use: the module compiles some 500 regular expressions as it loads (7 ms).

:func:`import_whoosh` imports those Whoosh modules with a light stand-in in ``sys.modules`` for each of the
three, for that moment only: the stand-ins are removed as soon as Whoosh has imported them, so any later
import of those modules in the process gets the real one, and the functions Whoosh took from a stand-in
(``whoosh.compat.urlretrieve``, ``whoosh.query.terms.variations``) import the real one when called.
``indexer`` and ``search`` call it before anything else of theirs imports Whoosh; when Whoosh was imported
earlier (a user's own code), it does nothing.
"""

from __future__ import annotations

import functools
import sys
import types
from typing import Any


def _urlretrieve(*args: Any, **kwargs: Any) -> Any:
    from urllib.request import urlretrieve

    return urlretrieve(*args, **kwargs)


def _variations(word: str) -> Any:
    from whoosh.lang.morph_en import variations

    return variations(word)


STAND_INS = {
    "urllib.request": {"urlretrieve": _urlretrieve},
    "cached_property": {"cached_property": functools.cached_property},
    "whoosh.lang.morph_en": {"variations": _variations},
}


def import_whoosh() -> None:
    """Import ``whoosh.compat``, ``whoosh.reading`` and ``whoosh.query`` (and what they import) with the
    stand-ins above."""
    if "whoosh.compat" in sys.modules:
        return
    placed = []
    for name, attrs in STAND_INS.items():
        if name not in sys.modules:  # already imported for real: Whoosh may as well use it
            module = types.ModuleType(name, "presse's stand-in while Whoosh imports (indexer.whoosh_import)")
            module.__dict__.update(attrs)
            sys.modules[name] = module
            placed.append(module)
    try:
        import whoosh.compat  # noqa: F401
        import whoosh.query  # noqa: F401
        import whoosh.reading  # noqa: F401
    finally:
        for module in placed:
            del sys.modules[module.__name__]
            parent, _, child = module.__name__.rpartition(".")
            if parent and getattr(sys.modules.get(parent), child, None) is module:
                delattr(sys.modules[parent], child)
