"""The waitress server of the web app: request limits, a header deadline and a per-address connection cap
(slowloris), and ``serve``, which runs it until interrupted.

What runs beside the server (``presse serve --watch``: the indexer's watcher, composed in ``cli.py``) is a
:class:`Companion`; this package does not drive indexing itself.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Iterable
from typing import Any, Protocol

from search.web.app import create_app
from search.web.security import allowed_hosts


class Companion(Protocol):
    """Something that runs beside the server and may change the index (``presse serve --watch``)."""

    def start(self, index_changed: Callable[[], None]) -> None:
        """Start in the background; call ``index_changed()`` after each update of the index."""

    def stop(self) -> None:
        """Stop, before the server closes."""


# Every route is a GET: a request body is refused past 64 KB (413), headers and URL past 64 KB (431), a
# connection idle for 30 s is closed. Waitress buffers a request before the app sees it: its own defaults
# (1 GB bodies, 256 KB headers, 120 s) would let one client make the server store a gigabyte.
# cleanup_interval: how often (seconds) the header deadline below is checked.
SERVER_LIMITS = {"max_request_body_size": 64 * 1024, "max_request_header_size": 64 * 1024,
                 "channel_timeout": 30, "connection_limit": 100, "cleanup_interval": 1}
# Slowloris: waitress's channel_timeout is an inactivity timeout, so a client sending a header line every
# few seconds kept its connection forever, and 100 of them locked everyone out. A request must arrive whole
# (request line, headers, body) within HEADER_TIMEOUT seconds of its first byte, and one client address
# holds at most PER_IP_CONNECTIONS connections at once. 127.0.0.1 and ::1 are not capped: there every client
# is the local user, or a reverse proxy on this machine that all clients share (one on another machine: raise
# the cap, and let the proxy limit).
HEADER_TIMEOUT = 10.0
PER_IP_CONNECTIONS = 20
UNCAPPED = ("127.0.0.1", "::1")


def _server_class():
    """A waitress TCP server whose channels must send each request within the header deadline, and which
    closes a connection at once when its client address (but those of UNCAPPED) already holds ``per_ip``
    of them."""
    from waitress.channel import HTTPChannel
    from waitress.server import TcpWSGIServer

    class Channel(HTTPChannel):
        request_started = 0.0  # time.monotonic() of the first byte of the request being received

        def __init__(self, server, sock, addr, adj, map=None):
            super().__init__(server, sock, addr, adj, map=map)
            ip = _client_ip(addr)
            if ip in UNCAPPED:
                return
            same = sum(1 for ch in server.active_channels.values()
                       if not ch.will_close and _client_ip(ch.addr) == ip)
            if same > server.per_ip:  # this one included
                self.will_close = True  # never read; closed by the next turn of the loop

        def received(self, data):
            if self.request is None and data:
                self.request_started = time.monotonic()
            return super().received(data)

    class Server(TcpWSGIServer):
        channel_class = Channel

        def __init__(self, *args: Any, header_timeout: float, per_ip: int, **kw: Any) -> None:
            self.header_timeout = header_timeout
            self.per_ip = per_ip
            super().__init__(*args, **kw)

        def maintenance(self, now):
            super().maintenance(now)  # idle connections (channel_timeout)
            late = time.monotonic() - self.header_timeout
            for ch in list(self.active_channels.values()):
                # A request begun and still incomplete, none being served: the deadline is a total one.
                if ch.request is not None and not ch.requests and ch.request_started < late:
                    ch.will_close = True

    return Server


def _client_ip(addr: Any) -> Any:
    return addr[0] if isinstance(addr, tuple) and addr else addr


def make_server(index_dir: str | None, host: str = "127.0.0.1", port: int = 8080, threads: int = 8,
                limits: dict[str, Any] | None = None, allow_hosts: Iterable[str] = (), **kwargs: Any):
    """A waitress server for the app, not yet running: call ``.run()``; ``.effective_port`` when port=0.

    ``limits``: settings to use instead of the defaults: waitress's (:data:`SERVER_LIMITS`, e.g. a shorter
    channel_timeout) and ``header_timeout`` / ``per_ip_connections`` (:data:`HEADER_TIMEOUT`,
    :data:`PER_IP_CONNECTIONS`). ``allow_hosts``: Host names answered besides the local ones (see
    :func:`allowed_hosts`)."""
    from waitress.adjustments import Adjustments
    from waitress.server import MultiSocketServer
    from waitress.task import ThreadedTaskDispatcher

    settings = {**SERVER_LIMITS, **(limits or {})}
    header_timeout = float(settings.pop("header_timeout", HEADER_TIMEOUT))
    per_ip = int(settings.pop("per_ip_connections", PER_IP_CONNECTIONS))
    app = create_app(index_dir, threads=threads, hosts=allowed_hosts(host, allow_hosts), **kwargs)
    adj = Adjustments(host=host, port=port, threads=threads, ident="presse",
                      clear_untrusted_proxy_headers=True, **settings)
    dispatcher = ThreadedTaskDispatcher()
    dispatcher.set_thread_count(threads)
    socket_map: dict = {}
    server_class = _server_class()
    servers = [server_class(app, socket_map, dispatcher=dispatcher, adj=adj, sockinfo=info,
                            header_timeout=header_timeout, per_ip=per_ip) for info in adj.listen]
    if len(servers) == 1:
        server = servers[0]
    else:  # a name with several addresses ("localhost": ::1 and 127.0.0.1): waitress's own multiplexer
        server = MultiSocketServer(socket_map, adj, [(s.effective_host, s.effective_port) for s in servers],
                                   dispatcher, servers[0].log_info)
        server.effective_host, server.effective_port = servers[0].effective_host, servers[0].effective_port
    server.presse_app = app
    return server


def serve(index_dir: str | None, host: str = "127.0.0.1", port: int = 8080, threads: int = 8,
          allow_hosts: Iterable[str] = (), header_timeout: float = HEADER_TIMEOUT,
          per_ip_connections: int = PER_IP_CONNECTIONS, companion: Companion | None = None,
          engine: str | None = None) -> None:
    """Serve the search page with waitress until interrupted; binds to 127.0.0.1 unless told otherwise.

    ``allow_hosts``: Host names answered besides 127.0.0.1, localhost, [::1] and ``host`` ("*": any).
    ``header_timeout``, ``per_ip_connections``: see :data:`HEADER_TIMEOUT`, :data:`PER_IP_CONNECTIONS`.
    ``companion``: started once the server is listening, told of each index update (the searchers then
    refresh), stopped before the server closes. ``engine``: search that distributed engine instead.
    """
    server = make_server(index_dir, host=host, port=port, threads=threads, allow_hosts=allow_hosts,
                         limits={"header_timeout": header_timeout, "per_ip_connections": per_ip_connections},
                         engine=engine)
    shown = f"[{host}]" if ":" in host else host
    pool = server.presse_app.extensions["presse_searchers"]
    where = engine or pool.index_dir or index_dir
    print(f"presse: serving {where} at http://{shown}:{server.effective_port}/ (Ctrl-C to stop)",
          file=sys.stderr, flush=True)
    try:
        if companion is not None:
            companion.start(pool.index_changed)
        server.run()
    except KeyboardInterrupt:
        pass
    finally:
        if companion is not None:
            companion.stop()
        server.close()
