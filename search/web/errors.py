"""Every error answer, in one place: a 400 for a bad parameter, the HTTP errors (404, 413, 503 for an
unreadable index, ...), and a 500 for anything unexpected; JSON under /api/, plain text for the feed's
parameters, else an HTML page in the interface language."""

from __future__ import annotations

import logging
from typing import Any

from flask import Flask, Response, request
from werkzeug.exceptions import HTTPException, NotFound

from search.web.context import json_response, messages, page, ui
from search.web.params import MAX_QUERY, BadParameter

log = logging.getLogger(__name__)


def not_found(key: str = "not_found_text") -> NotFound:
    """A 404 whose page says ``key`` (an interface text)."""
    exc = NotFound()
    exc.presse_message = messages()[key]  # type: ignore[attr-defined]
    return exc


def register(app: Flask) -> None:
    app.register_error_handler(BadParameter, _bad_parameter)
    app.register_error_handler(HTTPException, _http_error)
    app.register_error_handler(Exception, _server_error)


def _answer(status: int, title: str, message: str) -> Any:
    if request.path.startswith("/api/"):
        return json_response({"error": message}, status)
    # what to put back in the search box
    return page("error.html", status=status, title=title, message=message,
                params={"q": (request.args.get("q") or "")[:MAX_QUERY]}), status


def _bad_parameter(exc: BadParameter) -> Any:
    message = exc.message(ui())
    if request.endpoint == "feed" and not request.path.startswith("/api/"):
        return Response(message + "\n", status=400, mimetype="text/plain")
    return _answer(400, messages()["error_title"], message)


def _http_error(exc: HTTPException) -> Any:
    t = messages()
    status = exc.code or 500
    if status == 404:
        title, message = t["not_found"], getattr(exc, "presse_message", None) or t["not_found_text"]
    else:
        title, message = f"{status} {exc.name}", exc.description or ""
    return _answer(status, title, message)


def _server_error(exc: Exception) -> Any:
    log.exception("request failed: %s", request.full_path)
    return _answer(500, "500", messages()["server_error"])
