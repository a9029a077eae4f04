"""``rfm audience`` and ``rfm audiences`` on both stores: an audience of a published run in a platform's format, a
seeded control group stored in the workspace, and the later run's comparison of contacted and held-back customers,
checked by hand; bad choices are one line."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from rfm.audiences.control import hold_out
from rfm.workspace import Workspace, workspace_url

pytestmark = pytest.mark.slow


def test_an_audience_with_a_control_group_then_its_comparison_in_the_next_run(tmp_path, orders, cli, store_url):
    def run(*arguments):
        done = cli({"x": [*arguments, "--workspace", store_url]})["x"]
        assert done.returncode == 0, done.stderr
        return done

    run("publish", orders, "--name", "Monthly", "--k", "2", "--date-to", "2024-05-31", "--by", "ana")
    made = run("audience", "--run", "Monthly", "--format", "meta", "--control", "0.4", "--seed", "11", "--label", "June push",
               "--by", "mark", "--out", tmp_path / "out")
    # May's run holds 007, B, C, D and E; 40% of 5 is 2 held back, drawn by the seed.
    held = hold_out(["007", "B", "C", "D", "E"], 0.4, seed=11)
    contacted = sorted(held.index[~held.to_numpy()])
    assert "5 customers chosen" in made.stderr and "held back 2 of 5 customers (40%, seed 11)" in made.stderr
    # the run's analysis date is its last purchase, D's of 2024-04-15
    meta = pd.read_csv(tmp_path / "out" / "audience-meta-june-push_2024-04-15.csv", dtype=str)
    with_email = {"007", "C", "E"} & set(contacted)
    assert len(meta) == len(with_email) and meta["email"].str.fullmatch("[0-9a-f]{64}").all()
    control = pd.read_csv(tmp_path / "out" / "control-group-june-push_2024-04-15.csv", dtype=str, encoding="utf-8-sig")
    assert sorted(control["customer_id"]) == sorted(held.index[held.to_numpy()])

    run("refresh", orders, "--name", "Monthly", "--by", "ana", "--out", tmp_path / "digest")
    listed = json.loads(run("audiences", "--json").stdout)
    # the refresh's digest judges the control group in the new run, as `audiences` does
    assert json.loads((tmp_path / "digest" / "digest.json").read_text())["control_groups"] == listed
    assert "## Control groups\n" in (tmp_path / "digest" / "digest.md").read_text() and "### June push" in (tmp_path / "digest" / "digest.md").read_text()
    assert len(listed) == 1
    audience = listed[0]
    assert (audience["label"], audience["created_by"], audience["customers"], audience["held_back"], audience["seed"]) == (
        "June push", "mark", 5, 2, 11
    )
    # By the end of June, C and D bought again; 007, B and E did not.
    bought = {"C", "D"}
    groups = audience["groups"]
    for group, members in (("Contacted", set(contacted)), ("Held back", set(held.index[held.to_numpy()]))):
        assert groups[group]["customers"] == len(members)
        assert groups[group]["bought_again"] == len(members & bought)
    rate = {group: len(members & bought) / len(members) for group, members in (
        ("Contacted", set(contacted)), ("Held back", set(held.index[held.to_numpy()])))}
    assert audience["lift"] == pytest.approx(rate["Contacted"] - rate["Held back"], abs=1e-6)
    with Workspace.open(workspace_url(store_url)) as workspace:
        stored = workspace.audience_members(audience["audience_id"])
    assert stored.equals(held.sort_index())
    text = run("audiences").stdout
    assert text.startswith(f"June push ({audience['audience_id']}), from run 'Monthly'") and "bought again against" in text


def test_movements_and_bad_choices(tmp_path, orders, cli):
    store = tmp_path / "team.duckdb"
    cli({"a": ["publish", orders, "--workspace", store, "--name", "Monthly", "--k", "2", "--date-to", "2024-05-31"]})
    cli({"b": ["publish", orders, "--workspace", store, "--name", "Monthly", "--k", "2"]})
    with Workspace.open(workspace_url(store)) as workspace:
        latest = workspace.customers(workspace.runs()["run_id"].iloc[0])
    commands = {
        "new": ["audience", "--workspace", store, "--movement", "new", "--out", tmp_path / "new"],
        "segment": ["audience", "--workspace", store, "--segment", "VIP", "--out", tmp_path / "x"],
        "run": ["audience", "--workspace", store, "--run", "Weekly", "--out", tmp_path / "x"],
        "share": ["audience", "--workspace", store, "--control", "0.7", "--out", tmp_path / "x"],
        "empty": ["audience", "--workspace", tmp_path / "none.duckdb", "--out", tmp_path / "x"],
        "nobody": ["audience", "--workspace", store, "--movement", "returned", "--out", tmp_path / "x"],
    }
    done = {key: cli({key: command})[key] for key, command in commands.items()}  # one at a time: a DuckDB file has one writer
    assert done["new"].returncode == 0, done["new"].stderr
    written = pd.read_csv(next((tmp_path / "new").glob("audience-csv-*.csv")), dtype=str, encoding="utf-8-sig")
    assert written["customer_id"].tolist() == ["F"] == latest.index[latest["direction"] == "new"].tolist()
    segments = ", ".join(f"'{name}'" for name in sorted(set(latest["segment_name"])))
    expected = {
        "segment": f"error: This run has no segment 'VIP' in segment_name: its segments are {segments}.",
        "run": "error: The workspace " + str(store) + " has no run named or numbered 'Weekly': its runs are named 'Monthly'.",
        "empty": "error: The workspace " + str(tmp_path / "none.duckdb") + " has no published run yet: publish one first (rfm publish, or the Export page).",
        "nobody": "error: The audience is empty: nobody in the run matches these choices. Choose other segments or another movement.",
    }
    for key, line in expected.items():
        assert done[key].returncode == 2 and done[key].stderr.strip() == line, (key, done[key].stderr)
    assert not (tmp_path / "x").exists()
    assert done["share"].returncode == 2 and "argument --control: a control group holds back more than 0 and at most 0.5" in done["share"].stderr
