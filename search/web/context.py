"""The request's context: its interface language, the searcher pool, and the two kinds of answer (an HTML
page in that language, a JSON document)."""

from __future__ import annotations

import json
from typing import Any

from flask import Response, current_app, g, render_template, request
from markupsafe import Markup

from search import snippets
from search.snippets import Snippet
from search.web.i18n import DEFAULT_UI, MESSAGES, UI_LANGS, choose_ui, format_date, format_number
from search.web.pool import SearcherPool

UI_COOKIE = "presse_ui"


def ui() -> str:
    """The interface language of this request."""
    return getattr(g, "ui", DEFAULT_UI)


def messages() -> dict[str, str]:
    """The interface texts in this request's language."""
    return MESSAGES[ui()]


def lang_name(code: str) -> str:
    return messages().get(f"lang_{code}", code)


def searchers() -> SearcherPool:
    return current_app.extensions["presse_searchers"]


def choose_language() -> None:
    """Before each request: ?ui=, else the cookie, else Accept-Language."""
    requested = request.args.get("ui")
    g.ui = choose_ui(requested, request.cookies.get(UI_COOKIE), request.accept_languages)
    g.set_ui_cookie = requested in UI_LANGS


def vary_and_cookie(response: Response) -> Response:
    """After each request: the answer depends on the language; a chosen ?ui= is remembered."""
    response.vary.add("Accept-Language")
    response.vary.add("Cookie")
    if getattr(g, "set_ui_cookie", False):
        response.set_cookie(UI_COOKIE, g.ui, max_age=365 * 24 * 3600, samesite="Lax", httponly=True)
    return response


def page(template: str, **context: Any) -> str:
    """An HTML page (see app.template_globals for what every template sees)."""
    return render_template(template, **context)


def json_response(data: Any, status: int = 200) -> Response:
    body = json.dumps(data, ensure_ascii=False, default=str, indent=1)
    return Response(body + "\n", status=status, mimetype="application/json")


def snippet_html(snippet: Snippet | None) -> Markup:
    """A snippet as HTML: its text escaped, matched words in <mark>."""
    return Markup(snippets.html(snippet.spans)) if snippet else Markup("")


def fdate(iso: str) -> str:
    return format_date(iso, ui())


def fnum(n: Any) -> str:
    return format_number(int(n), ui())
