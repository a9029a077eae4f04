"""The Clusters page's libraries and the engine load in a background thread, once per process
(``ui.preload.preload_clustering``, ``ui.preload.preload_engine``); the Data page's preload waits for a quiet server."""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

# Fresh interpreters: in the test process scikit-learn is long imported, and the preload would do nothing.
ONCE = """
import sys, threading
from ui.preload import preload_clustering, preload_engine

def preloaded(preload, name, module):
    assert module not in sys.modules
    preload()
    preload()
    [first] = [t for t in threading.enumerate() if t.name == name]  # one thread per process
    assert first.daemon
    first.join(120)
    preload()  # done: no thread again
    assert not [t for t in threading.enumerate() if t.name == name]
    assert module in sys.modules

preloaded(preload_clustering, "preload-clustering", "sklearn.cluster")
assert "rfm.backtest.separation" in sys.modules
preloaded(preload_engine, "preload-engine", "ibis.backends.duckdb")
"""

WHEN_QUIET = """
import sys, threading, time
import ui.preload
from ui.preload import preload_clustering, running

ui.preload.QUIET_S = 0.5
with running():  # a page is running, in some session: the preload waits
    preload_clustering(when_quiet=True)
    [waiting] = [t for t in threading.enumerate() if t.name == "preload-clustering"]
    time.sleep(1.0)
    assert "sklearn" not in sys.modules
ended = time.monotonic()
waiting.join(120)  # then starts once nothing has run for QUIET_S
assert "sklearn.cluster" in sys.modules and time.monotonic() - ended >= 0.5
"""

HURRIED = """
import sys, threading, time
from ui.preload import preload_clustering, running

with running():
    preload_clustering(when_quiet=True)
    [waiting] = [t for t in threading.enumerate() if t.name == "preload-clustering"]
    time.sleep(0.5)
    assert "sklearn" not in sys.modules
    preload_clustering()  # a page asks for it now (the RFM page): the waiting thread starts, no second one
    assert [t for t in threading.enumerate() if t.name == "preload-clustering"] == [waiting]
    waiting.join(120)
    assert "sklearn.cluster" in sys.modules  # while the run is still going
"""


def _run(script: str) -> None:
    done = subprocess.run([sys.executable, "-c", script], check=False, cwd=ROOT, capture_output=True, text=True, timeout=180)
    assert done.returncode == 0, done.stderr


def test_preload_imports_the_clustering_libraries_and_the_engine_once_in_a_background_thread():
    _run(ONCE)


def test_a_preload_asked_to_wait_for_quiet_waits_for_every_run_to_end_and_then_some():
    _run(WHEN_QUIET)


def test_a_page_that_asks_for_the_libraries_now_starts_the_waiting_preload():
    _run(HURRIED)
