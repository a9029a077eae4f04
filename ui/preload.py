"""What a later page needs, made in a background thread before it is visited: scikit-learn and SciPy for every page
that clusters, the engine (ibis and DuckDB) for cleaning a file, and (:func:`when_quiet`) a session's own results.

Background work shares the server's one interpreter lock with every script run and with the server answering the
browser, so it starts either when a page has sent everything it shows (the RFM page: the Clusters page is next), or
once the server has been quiet for a while (the Data page after an upload: a person reading the ledger, about to go
anywhere).
"""

from __future__ import annotations

import contextlib
import logging
import sys
import threading
import time
from collections.abc import Callable

#: Seconds without a script run, in any session, before work ahead of the user starts: time for the browser to draw
#: what the last run sent (about 1.3 s at most in Chromium on 2 cores, bench/RESULTS.md).
QUIET_S = 2.0
#: The names of the threads that work ahead of the user start with this (:func:`ahead`).
AHEAD = "ahead:"


class _Activity:
    """Every session's script runs, as work ahead of the user needs to know them: how many are under way and when the
    last one ended (a count and a time: no session's data), and one lock so that such work runs one task at a time.
    The server's one instance is :data:`_ACTIVITY` (tests/browser/test_isolation.py allows it by name)."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.runs = 0
        self.last_end = 0.0
        self.one_at_a_time = threading.Lock()  # ten sessions' fits do not pile up in memory

    def quiet(self) -> bool:
        with self.lock:
            return self.runs == 0 and time.monotonic() - self.last_end >= QUIET_S

    @contextlib.contextmanager
    def running(self):
        with self.lock:
            self.runs += 1
        try:
            yield
        finally:
            with self.lock:
                self.runs -= 1
                self.last_end = time.monotonic()


_ACTIVITY = _Activity()


def running():
    """Wraps a script run (the entry script's page run): work ahead of the user waits for it, and for
    :data:`QUIET_S` after it."""
    return _ACTIVITY.running()


def when_quiet(name: str, task: Callable[[], object]) -> None:
    """Run ``task`` in a daemon thread called ``AHEAD + name`` once no script has run for :data:`QUIET_S` seconds,
    unless a thread of that name is already there: work ahead of the user, on results a page will ask the cache for. A page
    that asks while it runs waits for it (the cache computes a key once) instead of computing it again. Such tasks
    run one at a time, each once the server is quiet.

    An exception ends the task, logged: the page computes the result itself when it is visited. Code that must not
    run ahead (reading a file, which is the session's) checks :func:`ahead`."""
    name = AHEAD + name
    if any(thread.name == name for thread in threading.enumerate()):
        return

    def work() -> None:
        while True:
            if _ACTIVITY.quiet():
                with _ACTIVITY.one_at_a_time:
                    if _ACTIVITY.quiet():  # still, once the task before it is done
                        try:
                            task()
                        except Exception:  # ahead of the user: the page makes it again when visited, and says why
                            logging.getLogger(__name__).info("%s: not made ahead", name, exc_info=True)
                        return
            time.sleep(0.25)

    threading.Thread(target=work, name=name, daemon=True).start()


def ahead() -> bool:
    """Whether this thread works ahead of the user (:func:`when_quiet`)."""
    return threading.current_thread().name.startswith(AHEAD)


def preload_clustering() -> None:
    """Start importing what the Clusters page computes with (scikit-learn and SciPy: about 1.7 s of CPU on the 2-core
    machine, most of a first visit's 3.5 s) in a background thread, once per process, so that the visit does not wait
    for it. A page calls it last, once everything it shows has been sent; a visit that comes before the import ends
    waits only for the rest of it (Python's import lock)."""
    _in_background("preload-clustering", "sklearn.cluster", _import_clustering)


def preload_engine() -> None:
    """Start importing the engine (ibis and DuckDB, and a first connection: about half a second) in a background thread
    while a file is being read: the app opens without it, and the first file should not wait for it after its read."""
    _in_background("preload-engine", "ibis.backends.duckdb", _import_engine)


def _in_background(name: str, module: str, target) -> None:
    """``target`` in a daemon thread called ``name``, unless ``module`` is loaded or that thread is running. No state
    of its own: the modules loaded, and the thread running by its name, say whether it is done or under way (two
    sessions racing start two threads; the second finds the modules imported)."""
    if module in sys.modules or any(thread.name == name for thread in threading.enumerate()):
        return
    threading.Thread(target=target, name=name, daemon=True).start()


def _import_engine() -> None:
    from rfm.cleaning import engine

    engine.connect().disconnect()


def _import_clustering() -> None:
    from importlib import import_module

    from rfm.clustering.threads import limit_threads

    # In the order the Clusters page imports them, so that the page's own imports wait on these, never cross them.
    for module in ("rfm.clustering.fit", "rfm.backtest.separation", "rfm.trends.timeline"):
        import_module(module)
    with limit_threads(1):  # makes, once, the controller the fits use (it lists every loaded library)
        pass
