"""The Clusters page's libraries and the engine load in a background thread, once per process (``ui.preload_clustering``,
``ui.preload_engine``)."""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

# A fresh interpreter: in the test process scikit-learn is long imported, and the preload would do nothing.
SCRIPT = """
import sys, threading
import ui.cache as cache

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

preloaded(cache.preload_clustering, "preload-clustering", "sklearn.cluster")
assert "rfm.backtest.separation" in sys.modules
preloaded(cache.preload_engine, "preload-engine", "ibis.backends.duckdb")
"""


def test_preload_imports_the_clustering_libraries_and_the_engine_once_in_a_background_thread():
    done = subprocess.run([sys.executable, "-c", SCRIPT], check=False, cwd=ROOT, capture_output=True, text=True, timeout=180)
    assert done.returncode == 0, done.stderr
