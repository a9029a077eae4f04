"""Opening the app: a new session shows the demo's Data page without paying for what it does not show."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

from streamlit.testing.v1 import AppTest

from rfm.cleaning.summary import read_summary, summary_path
from rfm.demo import DEMO_PATH
from tests.support.app import open_box

ROOT = Path(__file__).resolve().parents[2]
HEAVY = ("sklearn", "scipy", "plotly", "ibis", "duckdb", "pyspark", "openpyxl", "python_calamine")
APP_PACKAGES = ("ui", "rfm", "pandas", "pyarrow", "numpy")


def first_visit(**environ: str) -> dict:
    """What a first visit in a fresh interpreter shows and imports."""
    done = subprocess.run(
        [sys.executable, "-c", FIRST_VISIT], check=False, cwd=ROOT, capture_output=True, text=True, timeout=300, env=os.environ | environ
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])

# A fresh interpreter: the modules Streamlit loads on its own, then the ones a first visit adds to them. With
# HEAD_START, the server's own start has imported app.FIRST_PAGE_MODULES first (streamlit run app.py).
FIRST_VISIT = f"""
import json, os, sys
import streamlit
if os.environ.get("HEAD_START"):
    sys.path.insert(0, {str(ROOT)!r})
    import app
    app.import_first_page()
before = set(sys.modules)
from streamlit.testing.v1 import AppTest
at = AppTest.from_file({str(ROOT / "streamlit_app.py")!r}, default_timeout=120)
at.run()
assert not at.exception, [e.value for e in at.exception]
print(json.dumps({{
    "title": [t.value for t in at.title],
    "metrics": {{m.label: m.value for m in at.metric}},
    "streamlit_loaded": sorted(m for m in before if m.split(".")[0] in {HEAVY!r}),
    "page_added": sorted(m for m in set(sys.modules) - before if m.split(".")[0] in {HEAVY!r}),
    "app_added": sorted(m for m in set(sys.modules) - before if m.split(".")[0] in {APP_PACKAGES!r}),
}}))
"""


def test_the_data_page_before_a_file_is_chosen_imports_no_engine_no_models_no_plotly():
    seen = first_visit()
    assert seen["title"] == ["Data"]
    assert seen["page_added"] == [], f"opening the app imported {seen['page_added']}"
    # Streamlit itself imports plotly.graph_objects when plotly is installed (its chart theme); nothing beyond it.
    assert {m.split(".")[0] for m in seen["streamlit_loaded"]} <= {"plotly"}
    summary = read_summary(summary_path(DEMO_PATH), hashlib.sha256(DEMO_PATH.read_bytes()).hexdigest())
    assert seen["metrics"]["Rows read"] == f"{summary.report.rows_read:,}"
    assert seen["metrics"]["Customers"] == f"{summary.report.customers:,}"


def test_the_servers_head_start_imports_what_the_first_page_needs_and_nothing_heavy():
    """``streamlit run app.py`` imports app.FIRST_PAGE_MODULES as the server starts: the first visit then imports
    nothing more of the app, pandas or pyarrow, and the head start itself nothing the first page does not show."""
    seen = first_visit(HEAD_START="1")
    assert seen["title"] == ["Data"]
    assert seen["app_added"] == [], f"the first visit still imported {seen['app_added']}"
    assert {m.split(".")[0] for m in seen["streamlit_loaded"]} <= {"plotly"}, seen["streamlit_loaded"]


def test_a_changed_choice_on_the_demo_reads_the_workbook_and_agrees_with_the_summary():
    at = AppTest.from_file(str(ROOT / "streamlit_app.py"), default_timeout=120).run()
    shipped = {m.label: m.value for m in at.metric}
    at = open_box(at, "cleaning_open")
    [duplicates] = [box for box in at.checkbox if box.label == "Remove exact duplicate rows"]
    duplicates.check()  # a choice of the user's: the page must read and clean the workbook itself
    [apply] = [button for button in at.button if button.label == "Apply cleaning options"]
    apply.click().run()
    assert not at.exception
    computed = {m.label: m.value for m in at.metric}
    assert computed["Rows read"] == shipped["Rows read"]
    assert int(computed["Rows removed"].replace(",", "")) > int(shipped["Rows removed"].replace(",", ""))
    # and back to the demo as it comes: the figures are the summary's again, and equal to a fresh reading's
    [duplicates] = [box for box in at.checkbox if box.label == "Remove exact duplicate rows"]
    duplicates.uncheck()
    [apply] = [button for button in at.button if button.label == "Apply cleaning options"]
    apply.click().run()
    assert {m.label: m.value for m in at.metric} == shipped
