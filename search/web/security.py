"""What every response carries, and which Host names are answered (DNS rebinding)."""

from __future__ import annotations

import logging
import re
import sys
from collections.abc import Callable, Iterable

from flask import current_app, request
from werkzeug.exceptions import BadRequest

from search.web.context import messages

log = logging.getLogger(__name__)

SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; "
                               "connect-src 'self'; form-action 'self'; base-uri 'none'; "
                               "frame-ancestors 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=(), interest-cohort=()",
}
# Host names served by default (DNS rebinding: a page of evil.example resolving to 127.0.0.1 must not read
# the index); `presse serve --allow-host NAME` adds others, "*" allows any.
LOCAL_HOSTS = ("127.0.0.1", "localhost", "::1")


def host_name(value: str) -> str | None:
    """The host name of a Host header value ("[::1]:8080" -> "::1"), lower-case; None if malformed."""
    value = value.strip().lower()
    if value.startswith("["):
        name, closed, port = value[1:].partition("]")
        if not closed or port and not re.fullmatch(r":\d{1,5}", port):
            return None
    else:
        name, _, port = value.partition(":")
        if port and not port.isdigit():
            return None
    return name.rstrip(".") or None


def allowed_hosts(bind: str = "127.0.0.1", extra: Iterable[str] = ()) -> frozenset[str] | None:
    """The Host names served: the local names, the address bound to when it is a specific one, and
    ``extra`` (``--allow-host``); None (any name) when ``extra`` holds "*"."""
    names = list(LOCAL_HOSTS) + list(extra)
    if "*" in names:
        return None
    if bind and bind not in ("0.0.0.0", "::", "*"):
        names.append(bind)
    # a bare IPv6 address ("::1") is bracketed first; a name may come with a port ("news.example:80")
    return frozenset(n for n in (host_name(f"[{x}]" if x.count(":") > 1 and "[" not in x else x)
                                 for x in names) if n)


def check_host() -> None:
    """Before each request: a Host header outside the app's PRESSE_HOSTS is a 400."""
    hosts = current_app.config["PRESSE_HOSTS"]
    header = request.headers.get("Host")
    if hosts is None or header is None:  # no Host header (HTTP/1.0): no browser, no rebinding
        return
    name = host_name(header)
    if name not in hosts:
        shown = header[:100]
        raise BadRequest(messages()["bad_host"].format(
            host=shown, name=f"[{name}]" if name and ":" in name else (name or shown)))


def security_headers(wsgi_app: Callable) -> Callable:
    """Every response carries SECURITY_HEADERS, including routing errors and an error page that fails
    itself (then a plain 500 here, rather than the WSGI server's own page without them)."""
    headers = list(SECURITY_HEADERS.items())

    def app(environ, start_response):
        started = []

        def start(status, response_headers, exc_info=None):
            started.append(status)
            have = {k.lower() for k, _ in response_headers}
            extra = [(k, v) for k, v in headers if k.lower() not in have]
            return start_response(status, [*response_headers, *extra], exc_info)
        try:
            return wsgi_app(environ, start)
        except Exception:
            log.exception("error page failed: %s", environ.get("PATH_INFO"))
            plain = [("Content-Type", "text/plain; charset=utf-8"), *headers]
            # exc_info only when headers were set already: it tells the server to replace them
            start_response("500 Internal Server Error", plain, sys.exc_info() if started else None)
            return [b"500 Internal Server Error\n"]
    return app
