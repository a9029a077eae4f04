"""The Audiences page, as a marketer uses it, on a workspace of two published runs of the demo (September, then the
whole year): the latest run with its segments and movements, an audience of a movement in Meta's format, and a
random control group saved with it and compared once the next run is published."""

from __future__ import annotations

import shutil

import pytest

from rfm.audiences.formats import audience_file
from rfm.audiences.selection import select_audience
from rfm.cli.main import main
from rfm.demo import DEMO_PATH
from rfm.workspace import Workspace, workspace_url
from tests.support.app import open_page

pytestmark = pytest.mark.slow


def _publish(path, *extra) -> None:
    arguments = ["publish", str(DEMO_PATH), "--workspace", str(path), "--name", "Demo", "--k", "3", "--by", "ana", *extra]
    assert main(arguments) == 0


@pytest.fixture(scope="module")
def two_runs(tmp_path_factory):
    path = tmp_path_factory.mktemp("audiences") / "rfm.duckdb"
    _publish(path, "--date-to", "2011-09-30")
    _publish(path)
    return path


@pytest.fixture
def workspace(two_runs, tmp_path, monkeypatch):
    """A copy of the two runs for this test alone (it may save audiences or publish)."""
    path = tmp_path / "rfm.duckdb"
    shutil.copy(two_runs, path)
    monkeypatch.setenv("RFM_WORKSPACE", str(path))
    return path


def _stored(path):
    with Workspace.open(workspace_url(path)) as store:
        runs = store.runs()
        return store, runs, store.customers(runs["run_id"].iloc[0])


def _label(at, start: str) -> str:
    return next(b.proto.label for b in at.get("download_button") if b.proto.label.startswith(start))


def test_an_empty_workspace_says_how_runs_arrive(tmp_path, monkeypatch):
    monkeypatch.setenv("RFM_WORKSPACE", str(tmp_path / "empty.duckdb"))
    at = open_page("pages/audiences.py")
    assert not at.exception and not at.error
    assert [i.value for i in at.info] == ["Nothing has been published yet. An analyst publishes a run on the Export page (or with `rfm publish`)."]


def test_the_latest_run_with_its_segments_and_who_moved(workspace):
    at = open_page("pages/audiences.py")
    assert not at.exception and not at.error
    with Workspace.open(workspace_url(workspace)) as store:
        runs = store.runs()
        latest = store.customers(runs["run_id"].iloc[0])
    assert at.selectbox(key="audience_run").value == runs["run_id"].iloc[0]  # the latest by default
    metrics = {m.label: (m.value, m.delta) for m in at.metric}
    assert metrics["Customers"] == ("2,999", f"{2_999 - runs['customers'].iloc[1]:+,}")
    assert metrics["Published by"][0] == "ana" and metrics["Analysis date"][0] == "2011-12-09"
    segments = next(df.value for df in at.dataframe if "before" in df.value.columns)
    shown = dict(zip(segments["segment"], segments["customers"]))
    assert {name: n for name, n in shown.items() if n} == latest["segment_name"].value_counts().to_dict()
    # a segment of September's run that the refit no longer has is listed with 0 now
    assert set(shown) == set(latest["segment_name"]) | set(latest["previous_segment"].dropna())
    counts = latest["direction"].value_counts()
    moved = next(md.value for md in at.markdown if md.value.startswith("**Since the previous run:**"))
    assert f"Moved up {counts['up']:,}" in moved and f"New {counts['new']:,}" in moved
    assert "Everyone in the segments (2,999)" in at.selectbox(key="audience_movement").options[0]


def test_customers_who_dropped_from_a_segment_in_meta_format(workspace):
    _, _, latest = _stored(workspace)
    best = latest.loc[latest["direction"] == "down", "previous_segment"].value_counts().index[0]
    at = open_page("pages/audiences.py")
    at.multiselect(key="audience_segments_segment_name").set_value([best]).run()
    at.selectbox(key="audience_movement").set_value("dropped").run()
    at.selectbox(key="audience_platform").set_value("meta").run()
    assert not at.exception and not at.error
    dropped = select_audience(latest, [best], movement="dropped")
    assert len(dropped) and (dropped["direction"] == "down").all() and (dropped["previous_segment"] == best).all()
    file = audience_file(dropped, "meta")
    assert _label(at, "Meta") == f"Meta Custom Audience: {len(file.table):,} of {len(dropped):,} customers"
    assert any("below the 100 Meta advises" in w.value for w in at.warning) == (len(file.table) < 100)


def test_a_control_group_is_saved_then_compared_in_the_next_run(workspace):
    at = open_page("pages/audiences.py")
    at.toggle(key="audience_hold").set_value(True).run()
    at.slider(key="audience_share").set_value(0.2).run()
    at.number_input(key="audience_seed").set_value(7).run()
    assert [i.value for i in at.info] == ["Save the audience first: the files below then leave out the customers held back."]
    assert not [b for b in at.get("download_button") if b.proto.label.startswith("Plain CSV")]
    next(b for b in at.button if b.key == "audience_save").click().run()
    assert not at.exception and not at.error
    [success] = [s.value for s in at.success]
    assert "2,399 customers to contact, 600 held back (seed 7)" in success  # 20% of 2,999, rounded
    assert _label(at, "Plain CSV") == "Plain CSV: 2,399 of 2,399 customers"
    assert _label(at, "Control group") == "Control group (600 customers, CSV: not to contact)"
    with Workspace.open(workspace_url(workspace)) as store:
        [audience] = store.audiences().to_dict("records")
        assert (audience["customers"], audience["held_back"], audience["control_share"]) == (2_999, 600, 0.2)
        assert store.audience_members(audience["audience_id"]).sum() == 600

    _publish(workspace)  # next month's run of the same name
    at = open_page("pages/audiences.py")
    assert not at.exception and not at.error
    [expander] = [e for e in at.expander if "600 held back" in e.label]
    summary = next(md.value for md in expander.markdown)
    assert summary.startswith("Since 2011-12-09, ") and "of the contacted customers bought again against" in summary


def test_the_first_run_of_a_name_offers_no_movements(workspace):
    at = open_page("pages/audiences.py")
    _, runs, _ = _stored(workspace)
    choice = at.selectbox(key="audience_run")
    assert choice.options[-1].startswith("Demo — ") and choice.options[-1].endswith("by ana (2,628 customers)")
    choice.set_value(runs["run_id"].iloc[-1]).run()
    assert not at.exception and not at.error
    assert [option.split(" (")[0] for option in at.selectbox(key="audience_movement").options] == [
        "Everyone in the segments", "New customers"
    ]
    assert any("first run of its name" in c.value for c in at.caption)
