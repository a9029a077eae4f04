"""The demo's Data page summary: what a new session shows before it reads anything, so it must be exactly what
reading and cleaning the demo workbook gives today."""

from __future__ import annotations

import hashlib
import json

import pytest

from rfm.cleaning.summary import FileSummary, read_summary, summarise, summary_path, write_summary
from rfm.demo import DEMO_PATH


@pytest.fixture(scope="module")
def fresh() -> FileSummary:
    return summarise(DEMO_PATH.read_bytes(), DEMO_PATH.name)


def test_the_committed_summary_is_what_reading_the_demo_gives_now(fresh):
    committed = read_summary(summary_path(DEMO_PATH), fresh.digest)
    assert committed is not None, f"{summary_path(DEMO_PATH).name} is missing or was made from other bytes"
    assert committed == fresh, (
        "the demo's summary no longer matches what reading and cleaning the workbook gives: "
        "run `python -m rfm demo --summary-only` and commit data/demo_online_retail.summary.json"
    )


def test_the_summary_holds_the_data_pages_figures(fresh):
    report = fresh.report
    assert fresh.digest == hashlib.sha256(DEMO_PATH.read_bytes()).hexdigest()
    assert fresh.sheets == ("Year 2009-2010", "Year 2010-2011")
    assert report.rows_read == fresh.rows == report.rows_clean + report.rows_removed
    assert report.customers == 2999 and fresh.guess.mapping.customer_id == "Customer ID"
    assert fresh.countries[0] == "United Kingdom" and fresh.held.startswith(f"All {fresh.rows:,} rows")
    assert len(fresh.preview) > 0 and str(fresh.preview["invoice_date"].dtype).startswith("datetime64")


def test_json_round_trip_is_exact(fresh, tmp_path):
    back = FileSummary.from_json(json.loads(json.dumps(fresh.as_json())))
    assert back == fresh
    assert back.report == fresh.report and back.guess == fresh.guess
    assert back.preview.dtypes.to_dict() == fresh.preview.dtypes.to_dict()
    path = write_summary(fresh, tmp_path / "x.summary.json")
    assert read_summary(path, fresh.digest) == fresh


def test_a_summary_of_other_bytes_or_layout_is_not_used(fresh, tmp_path):
    path = write_summary(fresh, tmp_path / "x.summary.json")
    assert read_summary(path, "0" * 64) is None  # the workbook changed: the page reads it instead
    data = json.loads(path.read_text())
    path.write_text(json.dumps({**data, "version": data["version"] + 1}))
    assert read_summary(path, fresh.digest) is None
    path.write_text("{not json")
    assert read_summary(path, fresh.digest) is None
    assert read_summary(tmp_path / "missing.json", fresh.digest) is None


def test_summary_path_is_beside_the_workbook():
    assert summary_path(DEMO_PATH) == DEMO_PATH.with_name("demo_online_retail.summary.json")
