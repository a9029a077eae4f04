"""The Clusters page's libraries load in a background thread, once per process (``ui.preload_clustering``)."""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

# A fresh interpreter: in the test process scikit-learn is long imported, and the preload would do nothing.
SCRIPT = """
import sys
import ui.cache as cache
assert "sklearn.cluster" not in sys.modules
import threading
cache.preload_clustering()
cache.preload_clustering()
[first] = [t for t in threading.enumerate() if t.name == cache.PRELOAD_THREAD]  # one thread per process
assert first.daemon
first.join(120)
cache.preload_clustering()  # done: no thread again
assert not [t for t in threading.enumerate() if t.name == cache.PRELOAD_THREAD]
assert "sklearn.cluster" in sys.modules and "rfm.backtest.separation" in sys.modules
"""


def test_preload_imports_the_clustering_libraries_once_in_a_background_thread():
    done = subprocess.run([sys.executable, "-c", SCRIPT], check=False, cwd=ROOT, capture_output=True, text=True, timeout=180)
    assert done.returncode == 0, done.stderr
