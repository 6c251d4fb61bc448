"""Searchers shared by the server's threads, each refreshed when the index changes on disk."""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

log = logging.getLogger(__name__)

REFRESH_INTERVAL = 1.0  # seconds between two index refresh checks


class SearcherPool:
    """Searchers shared by the server's threads, each refreshed when the index changes on disk.

    ``search.Searcher`` is not thread-safe (one per thread), so a request borrows one from the pool for its
    duration; up to ``size`` are opened, the first when the pool is made (a missing index fails there, at
    start-up). A borrowed searcher is asked to reopen a changed index at most every ``interval`` seconds:
    no other thread holds it meanwhile, and the others go on searching with theirs.
    """

    def __init__(self, opener: Callable[[], Any], size: int = 8, interval: float = REFRESH_INTERVAL) -> None:
        self._opener = opener
        self.size = max(1, size)
        self.interval = interval
        self._idle: queue.LifoQueue = queue.LifoQueue()
        self._lock = threading.Lock()
        self._opened = 1
        self._changed = 0.0  # monotonic time the index was last known to change (index_changed)
        first = opener()
        self.index_dir = getattr(first, "index_dir", None)
        self._idle.put(_Slot(first))

    def _take(self) -> _Slot:
        try:
            return self._idle.get_nowait()
        except queue.Empty:
            pass
        with self._lock:
            can_open = self._opened < self.size
            if can_open:
                self._opened += 1
        if not can_open:
            return self._idle.get()
        try:
            return _Slot(self._opener())
        except BaseException:
            with self._lock:
                self._opened -= 1
            raise

    def index_changed(self) -> None:
        """The index was just updated (by a watcher in this process): searchers refresh when next used."""
        self._changed = time.monotonic()

    @contextmanager
    def searcher(self) -> Iterator[Any]:
        slot = self._take()
        try:
            slot.refresh_if_due(self.interval, self._changed)
            yield slot.searcher
        finally:
            self._idle.put(slot)


class _Slot:
    def __init__(self, searcher: Any) -> None:
        self.searcher = searcher
        self.checked = time.monotonic()
        self.lock = threading.Lock()

    def refresh_if_due(self, interval: float, changed: float = 0.0) -> None:
        now = time.monotonic()
        if now - self.checked < interval and self.checked >= changed:
            return
        with self.lock:
            self.checked = now
            try:
                self.searcher.refresh()
            except Exception:  # a half-written index must not take the page down: keep searching the old one
                log.exception("index refresh failed; still searching the previous version")
