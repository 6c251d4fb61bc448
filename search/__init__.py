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
"""

from search.engine import Results, Searcher, SearchError
from search.snippets import Snippeter

__all__ = ["Results", "SearchError", "Searcher", "Snippeter"]
