"""The Export page publishes the session's run to the workspace under a name (the test session's own DuckDB file):
the first run of a name is all new, the next says who moved, and the lists then carry the movement columns."""

from __future__ import annotations

import uuid

import pytest

from rfm.workspace import Workspace, workspace_url
from rfm.workspace.tables import MOVEMENT_COLUMNS
from tests.support.app import open_page

pytestmark = pytest.mark.slow


def _publish(at, name: str):
    at.text_input(key="publish_name").set_value(name)
    at.text_input(key="publish_by").set_value("ana")
    next(button for button in at.button if button.label == "Publish").click()
    return at.run()


def _metrics(at) -> dict[str, str]:
    return {metric.label: metric.value for metric in at.metric}


def test_publishing_twice_says_who_moved_and_the_lists_carry_it():
    name = f"Monthly demo {uuid.uuid4().hex[:6]}"
    at = _publish(open_page("pages/export.py"), name)
    assert not at.exception and not at.error
    [success] = [s.value for s in at.success]
    assert success.startswith(f"Published **{name}** on ") and success.endswith("2,999 customers.")
    metrics = _metrics(at)
    assert metrics["New"] == "2,999" and metrics["Moved up"] == metrics["Moved down"] == "0"
    assert set(MOVEMENT_COLUMNS) <= set(at.multiselect(key="export_columns_moved").value)

    at = _publish(at, name)
    assert not at.exception and not at.error
    [success] = [s.value for s in at.success]
    assert "Compared with the run of" in success and "by ana" in success
    assert _metrics(at)["Same segment"] == "2,999"

    with Workspace.open(workspace_url()) as workspace:
        runs = workspace.runs(name)
        assert len(runs) == 2 and runs["customers"].tolist() == [2999, 2999] and runs["published_by"].tolist() == ["ana", "ana"]
        stored = workspace.customers(runs["run_id"].iloc[0])
        assert (stored["direction"] == "same").all() and (stored["previous_segment"] == stored["segment_name"]).all()
        assert stored["predicted_clv"].notna().all()  # the values are published with the labels
        terms = workspace.run(runs["run_id"].iloc[0]).settings["values"]  # and how they were predicted
        assert (terms["months"], terms["annual_discount_rate"], terms["margin"]) == (12, 0.10, 0.10)  # the app's default margin
        assert terms["described"].endswith("CLV: profit at a 10% margin over the next 12 months, discounted at 10% a year")


def test_the_export_page_offers_each_platform_file():
    at = open_page("pages/export.py")
    assert at.selectbox(key="export_platform").options == ["Klaviyo", "Mailchimp", "Meta Custom Audience", "Google Customer Match"]
    labels, warnings = {}, {}
    for platform in ("klaviyo", "mailchimp", "meta", "google"):
        at.selectbox(key="export_platform").set_value(platform).run()
        assert not at.exception and not at.error
        [label] = [button.proto.label for button in at.get("download_button") if button.proto.label.startswith(("Klaviyo", "Mailchimp", "Meta", "Google"))]
        labels[platform], warnings[platform] = label, [w.value for w in at.warning]
    # The demo: 2,999 customers; a tenth have no email (ids ending in 0), another tenth no phone (ids ending in 5).
    assert labels["meta"] == "Meta Custom Audience: 2,999 of 2,999 customers"  # everyone has an email or a phone
    kept = int(labels["mailchimp"].split(": ")[1].split(" of ")[0].replace(",", ""))
    assert 2_600 < kept < 2_800 and labels["mailchimp"].endswith("of 2,999 customers")  # Mailchimp needs the email
    assert any(f"{2_999 - kept:,} of 2,999 customers have no usable email and are left out of the Mailchimp file" in w for w in warnings["mailchimp"])
    assert warnings["meta"] == []  # 2,999 people: above Meta's advised 100, and nobody left out


def test_a_second_run_with_nobody_moving_says_so():
    name = f"Steady {uuid.uuid4().hex[:6]}"
    at = _publish(_publish(open_page("pages/export.py"), name), name)
    assert not at.exception and not at.error
    assert any(caption.value == "Nobody moved up or down since the previous run." for caption in at.caption)
    assert not [df for df in at.dataframe if "from" in df.value.columns]


def test_after_a_refit_the_largest_moves_are_listed():
    name = f"Refit {uuid.uuid4().hex[:6]}"
    at = _publish(open_page("pages/export.py"), name)
    at.switch_page("pages/clusters.py").run()
    at.slider(key="k").set_value(5).run()
    at = _publish(at.switch_page("pages/export.py").run(), name)
    assert not at.exception and not at.error
    metrics = _metrics(at)
    moved = int(metrics["Moved up"].replace(",", "")) + int(metrics["Moved down"].replace(",", ""))
    flows = next(df.value for df in at.dataframe if "from" in df.value.columns)
    assert moved > 0 and list(flows.columns) == ["from", "to", "customers"]
    assert flows["customers"].is_monotonic_decreasing and flows["customers"].sum() <= moved
