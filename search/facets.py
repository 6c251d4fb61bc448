"""Facet choices for narrowing a search to several values of a facet (any of them: OR within a facet, AND
across facets), as Kibana or Meilisearch dashboards offer them.

A result's ``facets`` count its own matches: once a search is narrowed to one source, its source facet lists
only that source. The values one may add to a selection are counted without that facet's own selection
(every other filter kept): :func:`facet_options`, one more search per facet with a selection. Excluded
values (``not_source``...) stay excluded, so they do not come back as choices.
"""

from __future__ import annotations

from typing import Any

from search.options import FACET_FILTERS, facet_values


def facet_options(searcher: Any, query: str, facets: dict[str, dict[str, int]],
                  **options: Any) -> dict[str, dict[str, int]]:
    """Each facet's values and counts with that facet's own selection set aside. ``facets``: the search's
    own (what a facet without a selection shows); ``options``: :meth:`search.Searcher.search`'s."""
    out = {}
    for name in FACET_FILTERS:
        if facet_values(options.get(name)):
            wider = searcher.search(query, **{**options, name: None, "limit": 1, "page": 1})
            out[name] = wider.facets.get(name, {})
        else:
            out[name] = facets.get(name, {})
    return out
