"""``rfm publish`` and ``rfm runs`` on a workspace of the test's own: a first run is all new, a run on the same file up
to an earlier day, then one scored with the first run's model, say who moved; ``runs --json`` lists them newest
first; conflicting options are refused in one line."""

from __future__ import annotations

import json

import pytest

from rfm.workspace import Workspace, workspace_url

pytestmark = pytest.mark.slow


def test_publish_twice_then_list_the_runs(tmp_path, orders, cli):
    store = tmp_path / "team.duckdb"
    first = cli({"a": ["publish", orders, "--workspace", store, "--name", "Monthly", "--k", "2", "--by", "ana"]})["a"]
    assert first.returncode == 0, first.stderr
    assert "published 'Monthly'" in first.stderr and "6 customers; first run of this name: up 0, same 0, down 0, new 6, returned 0" in first.stderr
    second = cli({"b": ["publish", orders, "--workspace", store, "--name", "Monthly", "--k", "2", "--date-to", "2024-05-31", "--by", "ben"]})["b"]
    assert second.returncode == 0, second.stderr
    # F first ordered on 2024-06-30: not in the run up to May; everyone else was in the first run.
    assert "5 customers; since " in second.stderr
    listed = cli({"c": ["runs", "--workspace", store, "--json"]})["c"]
    runs = json.loads(listed.stdout)
    assert [run["published_by"] for run in runs] == ["ben", "ana"] and [run["customers"] for run in runs] == [5, 6]
    assert all(len(run["run_id"]) == 32 for run in runs)
    with Workspace.open(workspace_url(store)) as workspace:
        assert runs[1]["revenue"] == round(workspace.customers(runs[1]["run_id"])["monetary"].sum(), 2)
        stored = workspace.customers(runs[0]["run_id"])
        assert stored["direction"].isin(["up", "down", "same"]).all() and stored["previous_segment"].notna().all()
        assert workspace.run(runs[1]["run_id"]).source_digest == workspace.run(runs[0]["run_id"]).source_digest


def test_conflicting_options_and_an_empty_workspace(tmp_path, orders, cli):
    store = tmp_path / "empty.duckdb"
    runs = cli({
        "both": ["publish", orders, "--workspace", store, "--name", "X", "--k", "2", "--model", tmp_path / "m.json"],
        "none": ["runs", "--workspace", tmp_path / "other.duckdb"],
    })
    assert runs["both"].returncode == 2 and runs["both"].stderr.strip() == "error: Give --model (score with a saved model) or --k (fit), not both."
    assert runs["none"].returncode == 0 and runs["none"].stdout.strip() == "no runs published yet"
