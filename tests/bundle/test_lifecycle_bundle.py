"""Lifecycle stages in saved models: ``model.json`` keeps the thresholds, so next month's file is staged as this month's
was; a model saved before it kept them still loads, scores and stages (with the scored file's own thresholds); the
what-if panel gives the stage of the slider values."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from rfm import schema
from rfm.bundle.build import build_bundle
from rfm.bundle.model import load_bundle
from rfm.bundle.whatif import predict
from rfm.clustering.fit import ClusterSettings, fit_clusters
from rfm.errors import RFMInputError
from rfm.schema import LIFECYCLE_STAGE
from rfm.scoring.classic import SegmentSettings, segment_customers
from rfm.scoring.lifecycle import LifecycleThresholds, default_thresholds, lifecycle_stages, lifecycle_thresholds
from tests.bundle.test_saved_model_compat import CUSTOMERS, INPUTS, MODEL, _recorded
from tests.bundle.test_whatif import _table

CHOSEN = LifecycleThresholds(active_days=20, at_risk_days=70, lost_days=250, new_days=40, source="user")


def _fit(table: pd.DataFrame, settings: SegmentSettings = SegmentSettings()):
    segmentation = segment_customers(table, settings)
    clusters = fit_clusters(segmentation.customers, ClusterSettings(), 3)
    return segmentation, build_bundle(segmentation, clusters, ClusterSettings(), source_file="t.csv", analysis_date=None)


def test_the_bundle_keeps_the_store_thresholds_and_stages_as_the_fit_did():
    table = _table()
    segmentation, bundle = _fit(table)
    store = lifecycle_thresholds(table)
    assert store.source == "store" and segmentation.lifecycle == store
    payload = json.loads(bundle.to_json())
    assert payload["format_version"] == 3
    assert payload["lifecycle"] == {**store.days, "source": "store", "repeat_customers": store.repeat_customers}
    loaded = load_bundle(bundle.to_json())
    assert loaded.lifecycle == store
    scored = loaded.score(table)
    assert scored[LIFECYCLE_STAGE].tolist() == segmentation.customers[LIFECYCLE_STAGE].astype(str).tolist()
    assert list(scored.columns).count(LIFECYCLE_STAGE) == 1


def test_next_month_is_staged_with_the_model_s_thresholds_not_its_own():
    _, bundle = _fit(_table(), SegmentSettings(lifecycle=CHOSEN))
    loaded = load_bundle(bundle.to_json())
    assert loaded.lifecycle == CHOSEN and json.loads(bundle.to_json())["lifecycle"]["source"] == "user"
    later = _table().assign(**{schema.RECENCY: lambda t: t[schema.RECENCY] + 45, schema.TENURE: lambda t: t[schema.TENURE] + 45})
    staged = loaded.score(later)[LIFECYCLE_STAGE]
    assert staged.tolist() == lifecycle_stages(later, CHOSEN).astype(str).tolist()
    own = lifecycle_stages(later, lifecycle_thresholds(later)).astype(str)
    assert (staged != own).any()  # the file's own figures would have staged some customers differently


def test_a_model_saved_before_the_thresholds_still_scores_and_stages_with_the_file_s_own():
    old = load_bundle(MODEL.read_bytes())
    assert old.lifecycle is None
    recorded = _recorded(CUSTOMERS)
    # The recorded rows have no tenure: nothing to measure gaps on, so the fixed defaults stage them.
    scored = old.score(recorded[INPUTS].astype("float64"))
    defaults = default_thresholds()
    assert scored[LIFECYCLE_STAGE].tolist() == lifecycle_stages(recorded[INPUTS].astype("float64"), defaults).astype(str).tolist()
    # A file with tenure is staged by its own gaps between orders, as a fit on it would have been.
    table = _table()
    assert old.lifecycle_for(table) == lifecycle_thresholds(table)
    assert old.score(table)[LIFECYCLE_STAGE].tolist() == lifecycle_stages(table, lifecycle_thresholds(table)).astype(str).tolist()
    assert old.to_json().encode("utf-8") == MODEL.read_bytes()  # loading it adds nothing


def _payload() -> dict:
    return json.loads(_fit(_table())[1].to_json())


@pytest.mark.parametrize(
    "change, message",
    [
        (lambda p: p["lifecycle"].update(active_days=500), r"corrupt: lifecycle: Lifecycle thresholds should satisfy .*active_days=500"),
        (lambda p: p["lifecycle"].update(new_days=0), r"corrupt: lifecycle\.new_days=0 is outside 1\.\."),
        (lambda p: p["lifecycle"].update(source="guess"), r"corrupt: lifecycle\.source=\"guess\" should be one of store, default, user"),
        (lambda p: p.pop("lifecycle"), r"corrupt: Missing field 'lifecycle'"),
        (lambda p: p.update(format_version=2), r"corrupt: Unexpected field 'lifecycle'"),
    ],
)
def test_bad_thresholds_in_a_model_are_refused(change, message):
    payload = _payload()
    change(payload)
    with pytest.raises(RFMInputError, match=message):
        load_bundle(json.dumps(payload))


def test_what_if_gives_the_stage_of_the_slider_values():
    table = _table()
    _, bundle = _fit(table, SegmentSettings(lifecycle=CHOSEN))
    base = {schema.RECENCY: 20.0, schema.FREQUENCY: 4.0, schema.MONETARY: 400.0}
    assert predict(bundle, base).stage == "Active"  # 20 days <= active 20
    assert predict(bundle, {**base, schema.RECENCY: 21.0}).stage == "At risk"
    assert predict(bundle, {**base, schema.RECENCY: 300.0}).stage == "Lost"
    assert predict(bundle, {**base, schema.FREQUENCY: 1.0, schema.RECENCY: 40.0}).stage == "New"
    assert predict(bundle, {**base, schema.FREQUENCY: 1.0, schema.RECENCY: 41.0}).stage == "Lapsed"
    # Other thresholds given (an older model's, taken from the file) stage the same values by them.
    assert predict(bundle, {**base, schema.RECENCY: 21.0}, LifecycleThresholds(30, 90, 180, 90)).stage == "Active"
    old = load_bundle(MODEL.read_bytes())
    assert predict(old, base).stage is None
    assert predict(old, base, old.lifecycle_for(table)).stage in schema.LIFECYCLE_STAGES
