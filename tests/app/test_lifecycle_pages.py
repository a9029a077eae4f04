"""Lifecycle stages in the app, headless (AppTest): the RFM page's stage chart and adjustable thresholds, the stage
column of the customer table, the What-if stage of the slider values, stage flows on the Trends page and the stages
of a file scored with a saved model -- each checked against the library's figures for the demo data."""

import json
from functools import lru_cache

import pandas as pd
import pytest

from rfm import schema
from rfm.cleaning.analyse import analyse_file
from rfm.demo import DEMO_PATH
from rfm.scoring.lifecycle import LifecycleThresholds, lifecycle_stages, lifecycle_thresholds, stage_summary
from tests.support.app import TINY, frame_with, keyed, open_page, rfm_page

pytestmark = pytest.mark.slow


@lru_cache(maxsize=1)
def _demo_customers() -> pd.DataFrame:
    return analyse_file(DEMO_PATH).customers


def _stage_counts(at) -> dict[str, int]:
    """The customers per stage the stage chart draws."""
    [chart] = [c for c in at.get("plotly_chart") if "lifecycle stage" in json.dumps(json.loads(c.proto.spec)["layout"]["title"])]
    bar = json.loads(chart.proto.spec)["data"][0]  # y is packed as binary: read the counts from the bar labels
    return {stage: int(text.split(" ")[0].replace(",", "")) for stage, text in zip(bar["x"], bar["text"])}


def _number(at, name: str):
    return keyed(at.number_input, f"lifecycle_{name}")


def test_rfm_page_shows_the_stages_and_the_store_s_thresholds():
    at = rfm_page("Lifecycle stages")
    assert not at.exception
    customers = _demo_customers()
    store = lifecycle_thresholds(customers)
    assert store.days == {"active_days": 80, "at_risk_days": 238, "lost_days": 476, "new_days": 238}  # the demo's own
    expected = stage_summary(customers, lifecycle_stages(customers, store))["customers"].to_dict()
    assert _stage_counts(at) == expected
    rules = frame_with(at, "basis")
    assert rules["stage"].tolist() == list(schema.LIFECYCLE_STAGES)
    assert rules.loc[1, "rule"] == "last order within 80 days" and rules.loc[1, "basis"] == "the median gap between a repeat customer's orders"
    for name, days in store.days.items():
        assert _number(at, name).value == days  # prefilled with the store's figures
    assert at.button(key="reset_lifecycle").disabled
    assert not at.warning


def test_rfm_page_thresholds_apply_refuse_and_reset():
    at = rfm_page("Lifecycle stages")
    _number(at, "active_days").set_value(30)
    _number(at, "new_days").set_value(60)
    at.button(key="FormSubmitter:lifecycle_form-Apply thresholds").click().run()
    assert not at.exception and not at.error
    chosen = LifecycleThresholds(30, 238, 476, 60, source="user")
    assert at.session_state["segment_settings"].lifecycle == chosen
    customers = _demo_customers()
    assert _stage_counts(at) == stage_summary(customers, lifecycle_stages(customers, chosen))["customers"].to_dict()
    assert _number(at, "active_days").value == 30 and frame_with(at, "basis").loc[1, "basis"] == "set by you"
    # An active threshold above the at-risk one is refused, with the values, and nothing changes.
    _number(at, "active_days").set_value(300)
    at.button(key="FormSubmitter:lifecycle_form-Apply thresholds").click().run()
    assert "active_days=300, at_risk_days=238" in at.error[0].value
    assert at.session_state["segment_settings"].lifecycle == chosen
    at.button(key="reset_lifecycle").click().run()
    assert not at.exception and at.session_state["segment_settings"].lifecycle is None
    assert _number(at, "active_days").value == 80


def test_the_customer_table_has_the_stage_column():
    at = rfm_page("Customers")
    table = frame_with(at, schema.LIFECYCLE_STAGE)
    customers = _demo_customers()
    expected = lifecycle_stages(customers, lifecycle_thresholds(customers)).astype(str)
    assert table[schema.LIFECYCLE_STAGE].astype(str).to_dict() == expected.to_dict()


def _stage_said(at) -> str:
    [said] = [m.value for m in at.markdown if m.value.startswith("**Lifecycle stage:**")]
    return said


def test_whatif_stage_follows_the_sliders():
    at = open_page("pages/whatif.py")
    assert not at.exception
    at.slider(key="whatif_slider_frequency").set_value(5).run()
    at.slider(key="whatif_slider_recency_days").set_value(80).run()
    assert _stage_said(at).startswith("**Lifecycle stage:** Active (80 days since the last order, 5 orders; thresholds 80/238/476 days")
    at.slider(key="whatif_slider_recency_days").set_value(81).run()
    assert _stage_said(at).startswith("**Lifecycle stage:** At risk")
    at.slider(key="whatif_slider_frequency").set_value(1).run()
    assert _stage_said(at).startswith("**Lifecycle stage:** New (81 days since the last order, 1 order;")
    at.number_input(key="whatif_number_recency_days").set_value(500).run()
    assert not at.exception and _stage_said(at).startswith("**Lifecycle stage:** Lost")


def test_trends_page_shows_stage_flows():
    at = open_page("pages/trends.py")
    at.radio(key="trends_by").set_value(schema.LIFECYCLE_STAGE).run()
    at.selectbox(key="trends_left").set_value(0).run()  # nobody "leaves": the stages say it
    assert not at.exception
    counts = next(df.value for df in at.dataframe if df.value.index.name == "from")
    assert set(counts.columns) <= set(schema.LIFECYCLE_STAGES)
    assert [s for s in counts.index if s in schema.LIFECYCLE_STAGES] == [s for s in schema.LIFECYCLE_STAGES if s in counts.index]
    assert list(counts.columns) == [s for s in schema.LIFECYCLE_STAGES if s in counts.columns]
    # Every customer of the analysis date is in one stage there, as the RFM page stages them.
    customers = _demo_customers()
    expected = stage_summary(customers, lifecycle_stages(customers, lifecycle_thresholds(customers)))["customers"]
    assert counts.sum().to_dict() == {stage: n for stage, n in expected.items() if n}


def test_score_page_shows_the_stages_of_a_model_saved_before_it_kept_thresholds():
    from rfm.clustering.fit import ClusterSettings
    from rfm.segment_run import segment_run

    payload = json.loads(segment_run(analyse_file(TINY, "tiny.csv"), cluster_settings=ClusterSettings(), k=2).bundle.to_json())
    del payload["lifecycle"]
    payload["format_version"] = 2
    at = open_page("pages/score.py")
    at.file_uploader(key="model_upload").upload("model.json", json.dumps(payload).encode(), "application/json")
    at.run()
    assert not at.exception
    stages = next(df.value for df in at.dataframe if df.value.index.name == schema.LIFECYCLE_STAGE)
    customers = _demo_customers()
    assert stages["customers"].to_dict() == stage_summary(customers, lifecycle_stages(customers, lifecycle_thresholds(customers)))["customers"].to_dict()
    assert any("saved before it recorded its lifecycle thresholds" in caption.value for caption in at.caption)
