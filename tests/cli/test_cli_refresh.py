"""``rfm refresh`` on both stores: publish a run up to May, refresh it with the whole file (scored with the first run's
model), and check that digest.json agrees with what the workspace stores and digest.md names each figure; a name
with no run is refused in one line. On the real data in ../shared/data when it is there."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from rfm import schema
from rfm.workspace import Workspace
from rfm.workspace.movement import movement_counts, newly_at_risk

pytestmark = pytest.mark.slow

REAL_DATA = Path(__file__).resolve().parents[3] / "shared" / "data" / "online_retail_II_sample_nonUK.xlsx"


def agrees_with_the_workspace(record: dict, url: str | Path) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Every figure of ``record`` (digest.json) counted again from the runs the workspace stores; returns them."""
    with Workspace.open(url) as workspace:
        now, then = workspace.customers(record["run"]["run_id"]), workspace.customers(record["previous"]["run_id"])
        info = workspace.run(record["run"]["run_id"])
        assert workspace.previous(info.name, info.run_id).run_id == record["previous"]["run_id"]
    assert record["run"]["customers"] == len(now) == info.customers
    assert record["run"]["revenue"] == round(now[schema.MONETARY].sum(), 2) == round(info.revenue, 2)
    assert record["previous"]["customers"] == len(then) and record["previous"]["revenue"] == round(then[schema.MONETARY].sum(), 2)
    assert record["run"]["analysis_date"] == info.settings["analysis_date"][:10]
    sizes = {row["segment"]: (row["customers"], row["previous_customers"]) for row in record["segments"]}
    counted_now, counted_then = now[schema.SEGMENT_NAME].value_counts(), then[schema.SEGMENT_NAME].value_counts()
    assert sizes == {name: (int(counted_now.get(name, 0)), int(counted_then.get(name, 0))) for name in sizes}
    assert set(sizes) == set(counted_now.index) | set(counted_then.index)
    assert record["movement"] == movement_counts(now).to_dict() and sum(record["movement"].values()) == len(now)
    moved = now[now["direction"].isin(["up", "down"])]
    assert sum(flow["customers"] for flow in record["flows"]) <= len(moved)
    for flow in record["flows"]:
        members = moved[(moved["previous_segment"] == flow["from"]) & (moved[schema.SEGMENT_NAME] == flow["to"])]
        assert (flow["customers"], flow["revenue"]) == (len(members), round(members[schema.MONETARY].sum(), 2))
    flagged = now[newly_at_risk(now, then).to_numpy()]
    risk = record["newly_at_risk"]
    assert risk["customers"] == len(flagged) and risk["revenue"] == round(flagged[schema.MONETARY].sum(), 2)
    if schema.PREDICTED_CLV in now.columns:
        assert risk["predicted_clv"] == round(flagged[schema.PREDICTED_CLV].sum(), 2)
    top = risk["top"]
    assert len(top) == min(20, len(flagged)) and {row["customer_id"] for row in top} <= set(flagged.index)
    assert [row["monetary"] for row in top] == sorted((row["monetary"] for row in top), reverse=True)
    left_out = flagged.drop(index=[row["customer_id"] for row in top])[schema.MONETARY]
    assert left_out.empty or round(left_out.max(), 2) <= top[-1]["monetary"]
    return now, then


def test_publish_then_refresh(store_url, orders, cli, tmp_path):
    first = cli({"a": ["publish", orders, "--workspace", store_url, "--name", "Monthly", "--k", "2", "--date-to", "2024-05-31", "--by", "ana"]})["a"]
    assert first.returncode == 0, first.stderr
    out = tmp_path / "digest" / "june"
    refreshed = cli({"b": ["refresh", orders, "--workspace", store_url, "--name", "Monthly", "--out", out, "--by", "ben"]})["b"]
    assert refreshed.returncode == 0, refreshed.stderr
    summary = refreshed.stderr.strip().splitlines()[-1]
    # F first ordered on 2024-06-30: new in the whole file; the five others were in the run up to May.
    assert summary.startswith("refreshed 'Monthly' (run ") and "6 customers; since " in summary and "new 1, returned 0" in summary
    assert f"wrote digest.md and digest.json to {out}" in summary
    record = json.loads((out / "digest.json").read_text(encoding="utf-8"))
    assert record["run"]["published_by"] == "ben" and record["previous"]["published_by"] == "ana"
    assert (record["run"]["customers"], record["previous"]["customers"]) == (6, 5)
    assert (record["run"]["analysis_date"], record["previous"]["analysis_date"]) == ("2024-06-30", "2024-04-15")  # the latest purchases
    # The whole file: 007 30 + B 50 + C 60 + D 70 + E 45 + F 12; up to May, without C's, D's and F's June orders.
    assert record["run"]["revenue"] == 267.0 and record["previous"]["revenue"] == 210.0
    agrees_with_the_workspace(record, store_url)
    with Workspace.open(store_url) as workspace:
        runs = workspace.runs("Monthly")
        info, before = workspace.run(runs["run_id"][0]), workspace.run(runs["run_id"][1])
    assert info.settings["fitted"] is False and info.settings["model"] == before.settings["model"]  # the first run's model
    text = (out / "digest.md").read_text(encoding="utf-8")
    assert text.startswith("# Run digest: Monthly\n") and "| Customers | 6 | 5 | +1 |" in text
    for heading in ("## Segments", "## Who moved", "### Largest flows", "## Newly at risk", "*What these numbers mean.*"):
        assert heading in text
    # six customers are too few for a value model: the run records no value terms and the digest claims no CLV
    assert "values" not in info.settings and "(the revenue at stake)" not in text


def test_refresh_of_a_name_with_no_run(tmp_path, orders, cli):
    store = tmp_path / "empty.duckdb"
    done = cli({"none": ["refresh", orders, "--workspace", store, "--name", "Nope", "--out", tmp_path / "out"]})["none"]
    assert done.returncode == 2 and len(done.stderr.strip().splitlines()) == 1
    assert done.stderr.startswith(f"error: No run named 'Nope' in the workspace {store} (archived runs aside): publish one first with rfm publish")
    assert not (tmp_path / "out" / "digest.md").exists()


@pytest.mark.skipif(not REAL_DATA.is_file(), reason=f"no real data at {REAL_DATA}")
def test_refresh_on_the_real_data(tmp_path, cli):
    store = tmp_path / "team.duckdb"
    first = cli({"a": ["publish", REAL_DATA, "--workspace", store, "--name", "Non-UK", "--k", "3", "--date-to", "2011-08-31"]})["a"]
    assert first.returncode == 0, first.stderr
    refreshed = cli({"b": ["refresh", REAL_DATA, "--workspace", store, "--name", "Non-UK", "--out", tmp_path]})["b"]
    assert refreshed.returncode == 0, refreshed.stderr
    record = json.loads((tmp_path / "digest.json").read_text(encoding="utf-8"))
    # The figures `rfm inspect` gives for the whole file, and the first run's customers up to August.
    assert (record["run"]["customers"], record["run"]["revenue"], record["run"]["analysis_date"]) == (260, 1279533.03, "2011-12-09")
    assert (record["previous"]["customers"], record["previous"]["analysis_date"]) == (226, "2011-08-31")
    assert (record["movement"]["new"], record["movement"]["returned"]) == (260 - 226, 0)  # the 226 are all in the whole file
    agrees_with_the_workspace(record, store)
    assert record["newly_at_risk"]["customers"] > 0 and record["newly_at_risk"]["predicted_clv"] is not None
    text = (tmp_path / "digest.md").read_text(encoding="utf-8")
    assert text.count("\n| ") >= len(record["segments"]) + 5
    # the predicted CLV is described with the terms the run was published with, not assumed
    terms = "expected purchases over the next 90 days; CLV: revenue over the next 12 months, discounted at 10% a year"
    assert record["run"]["value_terms"] == terms and f"({terms}, as this run recorded)" in text
