"""A whole run (rfm.segment_run): fit, score with a saved model, KPIs, summary.json and the files a run writes.

Six customers in ten orders over the first half of 2024 (analysis date 2024-06-30):

    A  orders of 10, 20, 30       C  25 in February, 35 in June     E  45 on 2024-03-20
    B  50 on 2024-01-05           D  60 in April, 10 in June        F  12 on 2024-06-30

A, C and D bought again, B, E and F once: two clusters split them so. Revenue 297 in all.
"""

from __future__ import annotations

import datetime as dt
import json
import math
from dataclasses import replace

import pandas as pd
import pytest

from rfm import schema
from rfm.cleaning.analyse import analyse_file
from rfm.outputs.lists import segment_sizes
from rfm.schema import CLUSTER, RFM_SEGMENT, SEGMENT_NAME
from rfm.segment_run import score_run, segment_kpis, segment_run, summary, values_or_warn, write_run
from rfm.trends.kpis import TOTAL

ROWS = [
    ("1", "A", "2024-01-10 10:00", 1, 10.0),
    ("2", "A", "2024-03-15 12:00", 2, 10.0),
    ("3", "A", "2024-05-10 12:00", 1, 30.0),
    ("4", "B", "2024-01-05 12:00", 1, 50.0),
    ("5", "C", "2024-02-03 12:00", 1, 25.0),
    ("6", "C", "2024-06-01 12:00", 1, 35.0),
    ("7", "D", "2024-04-15 12:00", 3, 20.0),
    ("8", "D", "2024-06-25 12:00", 1, 10.0),
    ("9", "E", "2024-03-20 12:00", 1, 45.0),
    ("10", "F", "2024-06-30 12:00", 2, 6.0),
]
REVENUE = {"A": 60.0, "B": 50.0, "C": 60.0, "D": 70.0, "E": 45.0, "F": 12.0}


@pytest.fixture(scope="module")
def analysis():
    frame = pd.DataFrame(ROWS, columns=["Invoice", "Customer ID", "InvoiceDate", "Quantity", "Price"])
    return analyse_file(frame.to_csv(index=False).encode("utf-8"), "six.csv")


@pytest.fixture(scope="module")
def run(analysis):
    return segment_run(analysis, k=2)


# --------------------------------------------------------------------------------------------- fitting a run


def test_segment_run_labels_every_customer_once(run):
    labelled = run.labelled
    assert sorted(labelled.index) == sorted(REVENUE) and labelled.index.is_unique
    assert labelled[schema.MONETARY].to_dict() == pytest.approx(REVENUE)
    assert run.k == run.bundle.k == 2
    groups = labelled.groupby(CLUSTER).groups
    assert sorted(sorted(members) for members in groups.values()) == [["A", "C", "D"], ["B", "E", "F"]]
    assert labelled[SEGMENT_NAME].nunique() == 2 and labelled[RFM_SEGMENT].notna().all()
    assert run.fit_check is None and run.sweep is not None and run.clusters is not None


def test_a_run_gathers_the_warnings_and_notes_of_its_parts(run):
    assert run.warnings == (*run.segmentation.warnings, *run.sweep.warnings, *run.clusters.warnings)
    assert run.notes == run.clusters.notes
    assert run.profiles is not None and len(run.profiles) == 2 and "action" in run.profiles.columns


def test_silhouette_at_the_fitted_k_or_none(run):
    sweep = run.sweep
    assert run.silhouette == pytest.approx(sweep.silhouette[sweep.ks.index(2)])
    assert replace(run, sweep=None).silhouette is None
    nan = tuple(math.nan for _ in sweep.ks)
    assert replace(run, sweep=replace(sweep, silhouette=nan)).silhouette is None
    others = tuple(k for k in sweep.ks if k != 2)
    assert replace(run, sweep=replace(sweep, ks=others, silhouette=sweep.silhouette[: len(others)])).silhouette is None


def test_segment_run_reuses_the_results_it_is_given(analysis, run):
    again = segment_run(analysis, segmentation=run.segmentation, sweep=run.sweep, clusters=run.clusters)
    assert again.segmentation is run.segmentation and again.sweep is run.sweep and again.clusters is run.clusters
    pd.testing.assert_frame_equal(again.labelled, run.labelled)


# --------------------------------------------------------------------------------------------- scoring with a model


def test_score_run_with_the_runs_own_model_gives_the_same_labels(analysis, run):
    scored = score_run(run.bundle, analysis)
    assert scored.segmentation is None and scored.sweep is None and scored.clusters is None
    assert scored.fit_check is not None and scored.warnings == scored.fit_check.warnings
    assert scored.k == 2 and scored.silhouette is None and scored.profiles is None
    for column in (SEGMENT_NAME, RFM_SEGMENT, CLUSTER):
        assert scored.labelled[column].to_dict() == run.labelled[column].to_dict(), column


# --------------------------------------------------------------------------------------------- KPIs and summary


def test_segment_kpis_by_hand(run):
    kpis = segment_kpis(run)
    # Default period: the end of the previous quarter to the analysis date.
    assert (kpis.from_date, kpis.to_date) == (dt.date(2024, 3, 31), dt.date(2024, 6, 30))
    table = kpis.table
    assert list(table.index) == [*segment_sizes(run.labelled)["name"], TOTAL]
    # 6 customers, 3 repeat buyers, 10 orders, 297 revenue; A, B, C, E had bought by 03-31, A and C came back.
    total = table.loc[TOTAL]
    assert total["customers"] == 6 and total["retained_of"] == 4
    assert [total[c] for c in ("repeat_rate", "purchase_frequency", "avg_order_value", "revenue_per_customer")] == (
        pytest.approx([3 / 6, 10 / 6, 297 / 10, 297 / 6])
    )
    assert total["retention"] == pytest.approx(2 / 4)
    assert table.drop(TOTAL)["customers"].to_dict() == run.labelled[SEGMENT_NAME].value_counts().to_dict()
    # Another period: by 01-31 only A and B had bought; A came back in March.
    other = segment_kpis(run, (dt.date(2024, 1, 31), dt.date(2024, 3, 31)))
    assert other.table.loc[TOTAL, "retained_of"] == 2 and other.table.loc[TOTAL, "retention"] == pytest.approx(1 / 2)
    by_rfm = segment_kpis(run, by=RFM_SEGMENT)
    assert set(by_rfm.table.index) == {*run.labelled[RFM_SEGMENT], TOTAL}


def test_no_kpis_without_orders(analysis, run):
    assert segment_kpis(replace(run, analysis=replace(analysis, orders=None))) is None


def test_summary_of_a_fit_and_of_a_scored_file(analysis, run):
    written = summary(run, {"file": "six.csv"})
    assert written["file"] == "six.csv" and written["k"] == 2
    assert written["silhouette"] == round(run.silhouette, 4) and written["model"] == run.bundle.describe()
    assert "fit_check" not in written
    segments = written["segments"]
    assert [entry["name"] for entry in segments] == list(segment_sizes(run.labelled)["name"])
    assert sum(entry["customers"] for entry in segments) == 6
    assert sum(entry["revenue"] for entry in segments) == pytest.approx(297.0)
    for entry in segments:
        members = run.labelled.index[run.labelled[SEGMENT_NAME] == entry["name"]]
        assert entry["revenue"] == pytest.approx(sum(REVENUE[c] for c in members)), entry["name"]
    scored = summary(score_run(run.bundle, analysis), {})
    assert scored["silhouette"] is None and "fit_check" in scored
    assert json.loads(json.dumps(written)) == written and json.loads(json.dumps(scored)) == scored  # plain JSON values


def test_values_or_warn_without_orders_or_with_too_few_customers(analysis):
    told: list[str] = []
    assert values_or_warn(replace(analysis, orders=None), told.append) is None and told == []
    assert values_or_warn(analysis, told.append) is None  # six customers: too few to fit a value model
    assert len(told) == 1 and told[0].startswith("no predicted value columns: ")


# --------------------------------------------------------------------------------------------- files


@pytest.mark.slow
def test_write_run_writes_every_file(analysis, run, tmp_path):
    told: list[str] = []
    written = write_run(run, tmp_path / "fit", {"file": "six.csv"}, warn=told.append)
    names = sorted(path.relative_to(tmp_path / "fit").as_posix() for path in written)
    segment_files = sorted(name for name in names if name.startswith("segments/"))
    assert names == sorted(
        ["customers.csv", "kpis.csv", "segments.xlsx", "model.json", "report.html", "summary.json", *segment_files]
    )
    assert len(segment_files) == 2 and all(name.endswith("_2024-06-30.csv") for name in segment_files)
    assert all(path.is_file() for path in written)
    customers = pd.read_csv(tmp_path / "fit" / "customers.csv", encoding="utf-8-sig", dtype={schema.CUSTOMER_ID: str})
    assert sorted(customers[schema.CUSTOMER_ID]) == sorted(REVENUE)
    listed = [pd.read_csv(tmp_path / "fit" / name, encoding="utf-8-sig") for name in segment_files]
    assert sum(len(frame) for frame in listed) == 6
    saved = json.loads((tmp_path / "fit" / "summary.json").read_text(encoding="utf-8"))
    assert saved == {**summary(run, {"file": "six.csv"}), "not_written": {}}
    assert told and all(text.startswith("no predicted value columns: ") for text in told)
    # A file scored with a saved model: no report (there is no sweep to show), and the model left out on request.
    scored = write_run(score_run(run.bundle, analysis), tmp_path / "scored", {}, with_model=False, warn=told.append)
    assert {"report.html", "model.json"}.isdisjoint(path.name for path in scored)
    assert "customers.csv" in {path.name for path in scored}


def test_every_written_list_carries_the_lifecycle_stage_and_a_saved_model_gives_the_same(analysis, run, tmp_path):
    import io

    import openpyxl

    from rfm.scoring.lifecycle import lifecycle_stages

    expected = lifecycle_stages(analysis.customers, run.segmentation.lifecycle).astype(str)
    assert run.labelled[schema.LIFECYCLE_STAGE].astype(str).to_dict() == expected.to_dict()
    write_run(run, tmp_path, {}, warn=lambda _: None)
    written = pd.read_csv(tmp_path / "customers.csv", dtype=str, encoding="utf-8-sig").set_index(schema.CUSTOMER_ID)
    assert written[schema.LIFECYCLE_STAGE].to_dict() == expected.to_dict()
    for path in (tmp_path / "segments").glob("*.csv"):
        assert schema.LIFECYCLE_STAGE in pd.read_csv(path, nrows=0, encoding="utf-8-sig").columns
    summary_sheet = openpyxl.load_workbook(io.BytesIO((tmp_path / "segments.xlsx").read_bytes()))["Summary"]
    assert "Lifecycle stages (all customers)" in [row[0].value for row in summary_sheet.iter_rows()]
    assert json.loads((tmp_path / "model.json").read_text(encoding="utf-8"))["lifecycle"]["active_days"] == run.segmentation.lifecycle.active_days
    scored = score_run(run.bundle, analysis)
    assert scored.labelled[schema.LIFECYCLE_STAGE].to_dict() == expected.to_dict()
