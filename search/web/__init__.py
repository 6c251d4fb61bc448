"""The web search page of presse: ``create_app(index_dir)`` and ``serve(index_dir, host, port)``."""

from search.web.app import create_app
from search.web.server import serve

__all__ = ["create_app", "serve"]
