"""A big upload over the server's memory budget is refused with one sentence, and the session keeps its file; under
the budget, or small, a file is read as always; a budget that is not a number is said, not a traceback."""

from __future__ import annotations

import pytest

from rfm.reading import memory
from tests.support.app import TINY, app_test, ledger_table, open_box, upload

pytestmark = pytest.mark.slow


def _errors(at) -> list[str]:
    return [error.value for error in at.error]


def test_a_big_upload_over_the_budget_is_refused_and_the_demo_stays(monkeypatch):
    monkeypatch.setattr(memory, "BIG_UPLOAD_MB", 0.0)  # every file counts as big here
    monkeypatch.setenv(memory.BUDGET_VARIABLE, "1")  # and the server is over a 1 MB budget already
    at = upload(app_test().run(), "tiny.csv", TINY)
    assert not at.exception
    [refusal] = _errors(at)
    assert refusal.startswith("The server is busy: it holds ") and "tiny.csv needs about 0 MB more, over its budget of 1 MB" in refusal
    assert "RFM_MEMORY_BUDGET_MB" in refusal and "python -m rfm inspect FILE" in refusal
    assert at.subheader[0].value == "Demo data: demo_online_retail.xlsx"  # nothing was read


def test_under_the_budget_or_small_the_file_is_read(monkeypatch):
    monkeypatch.setenv(memory.BUDGET_VARIABLE, "1")  # over budget, but a small file is always read
    at = upload(app_test().run(), "tiny.csv", TINY)
    assert not at.exception and not _errors(at)
    assert at.subheader[0].value == "tiny.csv"


def test_a_big_upload_admitted_is_promised_its_memory_until_it_is_read(monkeypatch):
    monkeypatch.setattr(memory, "BIG_UPLOAD_MB", 0.0)  # every file counts as big here
    monkeypatch.setattr(memory, "ADMISSIONS", memory.Admissions())
    monkeypatch.setenv(memory.BUDGET_VARIABLE, "1000000")
    promised = []
    release = memory.ADMISSIONS.release
    monkeypatch.setattr(memory.ADMISSIONS, "release", lambda key: (promised.append(memory.ADMISSIONS.promised_mb()), release(key)))
    at = upload(app_test().run(), "tiny.csv", TINY)
    assert not at.exception and at.subheader[0].value == "tiny.csv"
    assert promised and promised[0] > 0  # held while the file was read and cleaned
    assert memory.ADMISSIONS.promised_mb() == 0  # and released once it was


def test_a_budget_that_is_not_a_number_is_said(monkeypatch):
    monkeypatch.setenv(memory.BUDGET_VARIABLE, "lots")
    at = upload(app_test().run(), "tiny.csv", TINY)
    assert not at.exception
    assert _errors(at) == ["RFM_MEMORY_BUDGET_MB='lots' is not a number of megabytes."]


def test_handing_freed_memory_back_runs_here():
    """After a big read the app releases Arrow's pool and trims glibc's heap: both calls exist on this platform."""
    from ui.state import release_freed_memory, server_memory_mb

    before = server_memory_mb()
    release_freed_memory()
    assert 0 < server_memory_mb() <= before + 1  # it never takes memory


def test_a_file_is_read_once_per_session_and_held_until_another_is_chosen(monkeypatch):
    """The rows are held by reference in the session (not pickled into Streamlit's cache): one reading serves the
    Data page's steps and every rerun, and choosing the demo lets them go."""
    import rfm.reading.scan
    import ui

    reads = []
    opened = rfm.reading.scan.open_transactions
    monkeypatch.setattr(rfm.reading.scan, "open_transactions", lambda *a, **k: reads.append(a[1]) or opened(*a, **k))
    at = upload(app_test().run(), "tiny.csv", TINY)
    assert not at.exception and reads == ["tiny.csv"]
    (digest, sheets), raw = at.session_state[ui.state.RAW]
    assert sheets == ()  # every sheet
    assert digest == at.session_state[ui.DATASET].digest and raw.n_rows == 3
    at = open_box(at, "cleaning_open")
    next(box for box in at.text_input if box.label == "Cancelled invoices start with").set_value("")
    at.button(key="FormSubmitter:cleaning-Apply cleaning options").click().run()  # a new analysis of the same rows
    at.run()
    assert not at.exception and reads == ["tiny.csv"]
    assert "cancelled invoice" not in str(ledger_table(at)["rule"].tolist())  # it was analysed again
    at.button(key="demo").click().run()
    assert ui.state.RAW not in at.session_state  # the demo is shown from its summary: nothing is held
