"""Watch mode: keep the index in step with corpus folders and files as a crawler changes them.

A :class:`Watcher` asks watchdog (inotify on Linux) for the file-system events under the watched paths.
Events only say *when* to update: once no event has come for ``quiet`` seconds (or ``max_delay`` seconds
after the first event of a batch, when events keep coming), it calls :func:`indexer.update` on all the
watched paths — exactly what ``presse index PATH...`` does. The update itself finds what changed (cheaply:
size and mtime against the manifest), so a missed or coalesced event costs nothing, and additions,
modifications, deletions, renames and appends are all handled the same way.

- The first update runs at start (what changed while nobody was watching).
- One line per batch goes to the log (stderr by default): added, updated, removed, skipped, time.
- Another process updating the same index (``presse index``) holds the write lock: the watcher waits for it,
  then runs its batch; nothing is lost, since the update rescans everything.
- An update that fails is logged and retried at the next event or after ``retry`` seconds, doubling up to
  ``MAX_RETRY`` while the same error repeats (one log line per change of error, not one per attempt). Bad
  inputs never fail an update (they are Problems in its report): what fails is the index itself (a
  read-only folder, a full disk), and hammering it helps nobody.
- :meth:`Watcher.stop` (or Ctrl-C in :meth:`Watcher.run`) stops cleanly: an update still reading is
  cancelled (nothing is committed; the index stays at its last commit).
"""

from __future__ import annotations

import os
import sys
import threading
import time
from collections.abc import Callable, Iterable
from datetime import datetime
from pathlib import Path

from watchdog.events import FileSystemEvent, FileSystemEventHandler
from watchdog.observers import Observer

from indexer.store import UpdateInProgress, resolve_index_dir
from indexer.updating import UpdateReport, update

QUIET = 0.5  # seconds without an event before a batch runs
MAX_DELAY = 5.0  # seconds after the first event of a batch at the latest
RETRY = 5.0  # seconds before a failed update is tried again
MAX_RETRY = 300.0  # the longest wait between two tries while the same error repeats
LOCK_WAIT = 1.0  # seconds each attempt waits for another process's update before checking for stop
# Event types that say nothing changed: watchdog reports files being opened and read (the update itself
# reads the corpus), and a folder's "modified" comes with the event on the file inside it.
_IGNORED_EVENTS = {"opened", "closed_no_write"}


class Stopped(Exception):
    """Raised inside an update to cancel it when the watcher stops."""


def _now() -> str:
    return datetime.now().astimezone().isoformat(timespec="seconds")


def batch_line(report: UpdateReport, events: int, initial: bool = False) -> str:
    """The one log line of a batch."""
    skipped = sum(report.skipped.values())
    detail = ""
    if skipped:
        top = sorted(report.skipped.items(), key=lambda kv: -kv[1])[:3]
        detail = " (" + ", ".join(f"{reason}: {n}" for reason, n in top) + ")"
    what = "initial update" if initial else f"{events} event{'s' if events != 1 else ''}"
    return (f"{_now()} presse watch: {what}: {report.added} added, {report.updated} updated, "
            f"{report.removed} removed, {skipped} skipped{detail}, {report.seconds:.2f} s; "
            f"{report.statements} statements")


def _stderr(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


class _Handler(FileSystemEventHandler):
    def __init__(self, watcher: Watcher) -> None:
        self.watcher = watcher

    def on_any_event(self, event: FileSystemEvent) -> None:
        if event.event_type in _IGNORED_EVENTS:
            return
        if event.is_directory and event.event_type == "modified":
            return
        paths = [os.fsdecode(event.src_path)]
        if getattr(event, "dest_path", ""):
            paths.append(os.fsdecode(event.dest_path))
        if any(self.watcher.concerns(p) for p in paths):
            self.watcher.notify()


class Watcher:
    """Watch ``paths`` (folders, recursively, and files) and update the index at ``index_dir`` on change.

    ``run()`` blocks (the CLI); ``start()`` runs it in a background thread (the server), ``stop()`` ends
    either. ``on_commit(report)`` is called after each update that changed the index.
    """

    def __init__(self, paths: Iterable[str | Path], index_dir: str | Path | None = None, *,
                 quiet: float = QUIET, max_delay: float = MAX_DELAY, retry: float = RETRY,
                 log: Callable[[str], None] | None = _stderr,
                 on_commit: Callable[[UpdateReport], None] | None = None,
                 update_kwargs: dict | None = None) -> None:
        self.paths = [Path(p) for p in paths]
        if not self.paths:
            raise ValueError("nothing to watch")
        self.index_dir = resolve_index_dir(index_dir)
        self.quiet = quiet
        self.max_delay = max(quiet, max_delay)
        self.retry = retry
        self.log = log or (lambda line: None)
        self.on_commit = on_commit
        self.update_kwargs = dict(update_kwargs or {})
        self.batches = 0  # updates run (the initial one included)
        self.last_report: UpdateReport | None = None
        self.last_error: BaseException | None = None
        self.failures = 0  # updates failed in a row
        self._cond = threading.Condition()
        self._first: float | None = None  # monotonic time of the first pending event, None if none
        self._last = 0.0
        self._events = 0
        self._busy = False
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._observer = None
        self._files: set[str] = set()  # watched files (their parent folder is watched, not recursively)
        self._folders: list[str] = []  # watched folders, with a trailing separator
        self._index_prefix = os.path.abspath(self.index_dir) + os.sep
        self._watched: dict[str, bool] = {}  # folder to watch -> recursive
        for p in self.paths:
            ap = os.path.abspath(p)
            if os.path.isdir(ap):
                self._folders.append(ap.rstrip(os.sep) + os.sep)
                self._watched[ap] = True
            else:  # a file, or one that does not exist yet: watch its folder for it
                parent = os.path.dirname(ap)
                if not os.path.isdir(parent):
                    raise FileNotFoundError(f"cannot watch {p}: no such file or directory")
                self._files.add(ap)
                self._watched.setdefault(parent, False)

    # -- events -------------------------------------------------------------------------------------------

    def concerns(self, path: str) -> bool:
        """Whether an event on ``path`` may change what the watched paths hold."""
        path = os.path.abspath(path)
        if (path + os.sep).startswith(self._index_prefix):
            return False  # the index itself, when it lives inside a watched folder
        return path in self._files or any((path + os.sep).startswith(f) for f in self._folders)

    def notify(self) -> None:
        """Something changed: run a batch once things are quiet."""
        now = time.monotonic()
        with self._cond:
            if self._first is None:
                self._first = now
            self._last = now
            self._events += 1
            self._cond.notify_all()

    def _schedule(self) -> None:
        observer = Observer()
        handler = _Handler(self)
        for folder, recursive in self._watched.items():
            if not recursive and any((folder + os.sep).startswith(f) for f in self._folders):
                continue  # already inside a folder watched recursively
            observer.schedule(handler, folder, recursive=recursive)
        observer.daemon = True
        observer.start()
        self._observer = observer

    # -- updates ------------------------------------------------------------------------------------------

    def _progress(self, *_args) -> None:
        if self._stop.is_set():
            raise Stopped()

    def update_once(self, events: int = 0, initial: bool = False) -> UpdateReport | None:
        """Run one update now (waiting for another process's update to end); None if stopped meanwhile."""
        kwargs = {"lock_timeout": LOCK_WAIT, **self.update_kwargs}
        waiting_said = False
        while True:
            if self._stop.is_set():
                return None
            try:
                report = update(self.paths, self.index_dir, progress=self._progress, **kwargs)
                break
            except UpdateInProgress:
                if not waiting_said:
                    self.log(f"{_now()} presse watch: another update is in progress on {self.index_dir}; "
                             "waiting for it")
                    waiting_said = True
            except Stopped:
                return None
        self.batches += 1
        self.last_report = report
        self.last_error = None
        self.failures = 0
        self.log(batch_line(report, events, initial))
        if report.changed and self.on_commit is not None:
            try:
                self.on_commit(report)
            except Exception as exc:  # a listener's problem must not stop the watcher
                self.log(f"{_now()} presse watch: after-update hook failed: {exc!r}")
        return report

    def _try_update(self, events: int, initial: bool) -> None:
        try:
            self.update_once(events, initial)
        except Exception as exc:
            same = self.last_error is not None and repr(self.last_error) == repr(exc)
            self.last_error = exc
            self.failures += 1
            delay = self.retry_delay()
            if not same:
                self.log(f"{_now()} presse watch: update failed ({type(exc).__name__}: {exc}); "
                         f"trying again in {delay:g} s")
            elif self.failures & (self.failures - 1) == 0:  # 2, 4, 8... failures: say it still fails
                self.log(f"{_now()} presse watch: update failed again ({self.failures} times in a row, same "
                         f"error); trying again in {delay:g} s")
            with self._cond:  # a pending batch that retries itself
                if self._first is None:
                    self._first = self._last = time.monotonic() + delay - self.quiet
                    self._events = max(self._events, events)

    def retry_delay(self) -> float:
        """Seconds before the next try after ``failures`` failed updates in a row: ``retry``, doubling."""
        return min(self.retry * 2 ** max(self.failures - 1, 0), max(self.retry, MAX_RETRY))

    def _next_batch(self) -> int | None:
        """Wait until a batch is due; the number of events in it, or None when stopping."""
        with self._cond:
            while not self._stop.is_set():
                if self._first is None:
                    self._cond.wait(0.5)
                    continue
                now = time.monotonic()
                due = min(self._last + self.quiet, self._first + self.max_delay)
                if now >= due:
                    events, self._events, self._first = self._events, 0, None
                    self._busy = True
                    return events
                self._cond.wait(due - now)
        return None

    def run(self, initial: bool = True) -> None:
        """Watch until :meth:`stop` (or Ctrl-C, which propagates after a clean stop)."""
        self._stop.clear()
        try:
            self._schedule()
            if initial:
                with self._cond:
                    self._busy = True
                try:
                    self._try_update(0, initial=True)
                finally:
                    with self._cond:
                        self._busy = False
                        self._cond.notify_all()
            while True:
                events = self._next_batch()
                if events is None:
                    break
                try:
                    self._try_update(events, initial=False)
                finally:
                    with self._cond:
                        self._busy = False
                        self._cond.notify_all()
        finally:
            self._stop.set()
            if self._observer is not None:
                self._observer.stop()
                self._observer.join(timeout=5)
                self._observer = None

    def start(self, initial: bool = True) -> threading.Thread:
        """Run the watcher in a background (daemon) thread."""
        self._stop.clear()
        self._thread = threading.Thread(target=self.run, kwargs={"initial": initial},
                                        name="presse-watch", daemon=True)
        self._thread.start()
        return self._thread

    def stop(self, timeout: float | None = 10.0) -> None:
        """Stop watching; an update still reading its inputs is cancelled. Waits for the thread if any."""
        self._stop.set()
        with self._cond:
            self._cond.notify_all()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(timeout)

    def wait_idle(self, timeout: float = 30.0) -> bool:
        """Wait until no batch is pending or running (after the observer had time to deliver events)."""
        deadline = time.monotonic() + timeout
        time.sleep(0.2)  # events are delivered asynchronously
        with self._cond:
            while self._busy or self._first is not None:
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._cond.wait(min(left, 0.1))
        return True


def watch(paths: Iterable[str | Path], index_dir: str | Path | None = None, **kwargs) -> None:
    """``presse watch``: update the index now, then whenever the paths change, until Ctrl-C."""
    watcher = Watcher(paths, index_dir, **kwargs)
    shown = ", ".join(str(p) for p in watcher.paths)
    watcher.log(f"{_now()} presse watch: watching {shown} for {watcher.index_dir} (Ctrl-C to stop)")
    try:
        watcher.run()
    except KeyboardInterrupt:
        watcher.log(f"{_now()} presse watch: stopped")
