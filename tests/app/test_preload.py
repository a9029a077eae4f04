"""Work ahead of the user (``ui.preload``): the Clusters page's libraries and the engine load in a background thread,
once per process; after an upload, the k-sweep and the fit are made once the server is quiet, and the pages then find
them in the cache."""

import itertools
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

import ui.preload
from rfm.demo import DEMO_PATH
from tests.support.app import app_test, open_box, upload

ROOT = Path(__file__).resolve().parents[2]

# A fresh interpreter: in the test process scikit-learn is long imported, and the preload would do nothing.
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


def test_preload_imports_the_clustering_libraries_and_the_engine_once_in_a_background_thread():
    done = subprocess.run([sys.executable, "-c", ONCE], check=False, cwd=ROOT, capture_output=True, text=True, timeout=180)
    assert done.returncode == 0, done.stderr


def _join(prefix: str, timeout_s: float = 10) -> None:
    """Until the thread(s) whose names start with ``prefix`` are done (gone already, if quick)."""
    for thread in threading.enumerate():
        if thread.name.startswith(prefix):
            thread.join(timeout_s)


def test_work_ahead_waits_until_no_run_has_gone_on_for_the_quiet_time(monkeypatch):
    monkeypatch.setattr(ui.preload, "QUIET_S", 0.5)
    done: list[tuple[float, bool]] = []
    with ui.preload.running():  # a page is running, in some session
        ui.preload.when_quiet("test-ahead", lambda: done.append((time.monotonic(), ui.preload.ahead())))
        ui.preload.when_quiet("test-ahead", lambda: done.append((0.0, False)))  # one at a time: not a second one
        time.sleep(1.0)
        assert done == []
    ended = time.monotonic()
    _join("ahead:test-ahead")
    [(started, ahead)] = done
    assert started - ended >= 0.5 and ahead and not ui.preload.ahead()


def test_work_ahead_runs_one_task_at_a_time(monkeypatch):
    monkeypatch.setattr(ui.preload, "QUIET_S", 0.0)
    spans: list[tuple[float, float]] = []

    def task():
        started = time.monotonic()
        time.sleep(0.3)
        spans.append((started, time.monotonic()))

    for n in range(3):
        ui.preload.when_quiet(f"test-one-{n}", task)
    _join("ahead:test-one-")
    spans.sort()
    assert len(spans) == 3 and all(end <= next_start for (_, end), (next_start, _) in itertools.pairwise(spans))


def test_a_failure_ahead_of_the_user_is_logged_not_raised(monkeypatch, caplog):
    monkeypatch.setattr(ui.preload, "QUIET_S", 0.0)
    caplog.set_level("INFO", logger="ui.preload")
    ui.preload.when_quiet("test-fails", lambda: 1 / 0)
    _join("ahead:test-fails")
    assert "test-fails: not made ahead" in caplog.text and "ZeroDivisionError" in caplog.text


def test_after_an_upload_the_sweep_and_the_fit_are_made_ahead_and_the_pages_find_them(monkeypatch):
    monkeypatch.setattr(ui.preload, "QUIET_S", 0.2)
    at = app_test().run()
    assert not [t for t in threading.enumerate() if t.name.startswith("ahead:prepare-clusters-")]  # the demo: nothing ahead
    at = upload(at, "orders.xlsx", DEMO_PATH.read_bytes(), "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    assert not at.exception
    _join("ahead:prepare-clusters-", 300)
    made = _counting(monkeypatch)
    at.switch_page("pages/clusters.py").run()
    assert not at.exception
    assert made == [], f"the Clusters page made {made} again"
    assert at.info[0].value.startswith("**Recommended k = ")
    at.switch_page("pages/cluster_segments.py").run()
    assert not at.exception and made == []


def _counting(monkeypatch, names=("run_sweep", "fit_clusters")) -> list[str]:
    """What the library's sweep and fit are called for from now on."""
    import rfm.clustering.fit as fit

    made: list[str] = []
    for name in names:
        original = getattr(fit, name)
        monkeypatch.setattr(fit, name, lambda *args, _original=original, _name=name, **kwargs: made.append(_name) or _original(*args, **kwargs))
    return made


def test_choices_changed_while_it_waits_are_prepared_once_for_the_new_ones(monkeypatch):
    monkeypatch.setattr(ui.preload, "QUIET_S", 3600.0)
    at = upload(app_test().run(), "orders.xlsx", DEMO_PATH.read_bytes(), "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    at = open_box(at, "cleaning_open")
    [duplicates] = [box for box in at.checkbox if box.label == "Remove exact duplicate rows"]
    duplicates.check()
    [apply] = [button for button in at.button if button.label == "Apply cleaning options"]
    apply.click().run()
    assert not at.exception
    assert len([t for t in threading.enumerate() if t.name.startswith("ahead:prepare-clusters-")]) == 2  # one per choices
    made = _counting(monkeypatch)
    monkeypatch.setattr(ui.preload, "QUIET_S", 0.0)
    _join("ahead:prepare-clusters-", 300)
    assert made == ["run_sweep", "fit_clusters"]  # for the new choices only


def test_nothing_is_read_ahead_of_the_user(monkeypatch):
    from ui.cache import _read

    monkeypatch.setattr(ui.preload, "QUIET_S", 0.0)
    raised = []

    def read():
        try:
            _read("digest", "orders.csv", (), b"Invoice\n1\n")
        except LookupError as error:
            raised.append(str(error))

    ui.preload.when_quiet("test-read", read)
    _join("ahead:test-read")
    assert raised == ["orders.csv is not read ahead of the user"]


@pytest.fixture(autouse=True)
def no_thread_left():
    yield
    _join("ahead:test-")
    _join("ahead:prepare-clusters-", 300)
