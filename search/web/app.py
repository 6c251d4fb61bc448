"""The web search page: a small Flask app over the same search API as the CLI, served by waitress
(``search.web.server``).

Every page is a plain GET URL (shareable, works without JavaScript); ``/static/presse.js`` only adds
search-as-you-type on top. ``/api/search`` answers with the CLI's ``--json`` object, ``/feed`` with an Atom
feed of any search, newest first.

The app is put together here from one module per concern: the views (``search_views``: the page, the API;
``statement_views``: a statement, its related ones; ``feed``; ``export_views``: every match as CSV or
JSON Lines), the parameters (``params``), the URLs
(``urls``), the errors (``errors``), the request context (``context``), what every response carries and
which hosts are answered (``security``), and the searchers the server's threads share (``pool``).
"""

from __future__ import annotations

from typing import Any

from flask import Flask

from search import Searcher
from search.web import errors, export_views, feed, search_views, statement_views
from search.web.context import (
    choose_language,
    fdate,
    fnum,
    lang_name,
    messages,
    snippet_html,
    ui,
    vary_and_cookie,
)
from search.web.params import MAX_QUERY
from search.web.pool import SearcherPool
from search.web.security import LOCAL_HOSTS, check_host, security_headers
from search.web.urls import (
    StatementId,
    home_url,
    host_of,
    safe_href,
    search_url,
    statement_url,
    static_url,
    toggle,
    ui_switch_url,
)

ROUTES = search_views.ROUTES + statement_views.ROUTES + feed.ROUTES + export_views.ROUTES


def template_globals() -> dict[str, Any]:
    """What every template sees."""
    return {"t": messages(), "ui": ui(), "search_url": search_url, "ui_switch_url": ui_switch_url,
            "statement_url": statement_url, "home_url": home_url, "static_url": static_url,
            "safe_href": safe_href, "host_of": host_of, "lang_name": lang_name, "max_query": MAX_QUERY,
            "toggle": toggle}


def create_app(index_dir: str | None, searcher: Any = None, threads: int = 8,
               hosts: frozenset[str] | None = frozenset(LOCAL_HOSTS), engine: str | None = None) -> Flask:
    """The web app over the index in ``index_dir`` (raises SearchError when there is no index there).

    Up to ``threads`` searchers are opened, one per concurrent request. ``searcher`` replaces the Searcher
    the app would open (then it is the only one, and requests take turns). ``hosts``: the Host names
    answered (see :func:`search.web.security.allowed_hosts`; None: any), others get a 400. ``engine``
    (``sphinxql://HOST:PORT[/prefix]``): search that distributed engine instead of the index.
    """
    app = Flask(__name__)
    app.config["MAX_CONTENT_LENGTH"] = 64 * 1024
    app.config["PRESSE_HOSTS"] = hosts
    app.url_map.converters["sid"] = StatementId
    app.wsgi_app = security_headers(app.wsgi_app)  # type: ignore[method-assign]
    if searcher is not None:
        pool = SearcherPool(lambda: searcher, size=1)
    elif engine is None:
        pool = SearcherPool(lambda: Searcher(index_dir), size=threads)
    else:
        from search.sphinxql import RemoteSearcher  # loaded only when an engine is asked for

        pool = SearcherPool(lambda: RemoteSearcher(engine, index_dir=index_dir), size=threads)
    app.extensions["presse_searchers"] = pool
    app.before_request(choose_language)
    app.before_request(check_host)
    app.after_request(vary_and_cookie)
    app.context_processor(template_globals)
    app.add_template_filter(snippet_html, "snippet")
    app.add_template_filter(fdate, "fdate")
    app.add_template_filter(fnum, "fnum")
    errors.register(app)
    for rule, view in ROUTES:
        app.add_url_rule(rule, view_func=view, methods=["GET"], merge_slashes=False if "<" in rule else None)
    return app
