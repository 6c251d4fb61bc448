"""Query layer of presse: parse a query, rank, facet, snippet; the CLI and the web page are shells over it.

    from search import Searcher
    with Searcher(index_dir) as s:
        results = s.search("coopération", lang="fr", since="2020", limit=10)
        print(results.to_dict())

How matching works (see `search.engine` and `search.query` for details): every word is required first (AND);
when that finds fewer statements than a page holds, statements matching only some of the words follow,
ranked by BM25 (OR), and the result says so with ``"mode": "any"``. Words are folded, stopped and stemmed by
the index's own analysis chain, so case, accents and apostrophes do not matter. Quoted phrases, AND/ET,
OR/OU, NOT/SAUF, -word, prefix*, title:/body:/source:/lang:/date: filters are understood; anything else is
read as plain words, and no query raises an error.

One pipeline, one module a step: options (`search.options`, checked once for the CLI, the web app and the
library) -> parse (`search.query`) -> match (`search.matching`: the numpy matcher, or Whoosh's for what it
does not cover) -> rank (`search.ranking`) -> collapse duplicates, page, hits (`search.results`) -> snippets
(`search.snippets`) and translations (`search.links`); `search.engine.Searcher` runs it. The CLI
(`search.cli`) and the web app (`search.web`) only read options and format results.
"""

import indexer  # noqa: F401  first: it imports Whoosh the light way (indexer.whoosh_import)
from search.engine import Results, Searcher, SearchError
from search.options import SearchOptions
from search.snippets import Snippeter

__all__ = ["Results", "SearchError", "SearchOptions", "Searcher", "Snippeter"]
