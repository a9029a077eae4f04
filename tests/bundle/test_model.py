"""Saved models: a bundle written and read back labels customers exactly as the fit did; bad bundles are refused."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings

from devkit.data import cdnow_master
from rfm import schema
from rfm.bundle.build import build_bundle
from rfm.bundle.model import load_bundle
from rfm.bundle.validate import MAX_BUNDLE_BYTES, QUANTILE_LEVELS
from rfm.cleaning.analyse import analyse_file
from rfm.clustering.fit import ClusterSettings, fit_clusters
from rfm.demo import DEMO_PATH
from rfm.errors import RFMInputError
from rfm.scoring.classic import SegmentSettings, segment_customers
from rfm.scoring.scores import compute_scores, threshold_scores, value_bounds
from tests.support.strategies import rfm_tables

ROOT = Path(__file__).resolve().parents[2]
LABELS = ["r_score", "f_score", "m_score", "rfm_cell", "segment", "tier"]


@pytest.fixture(scope="module")
def demo():
    return analyse_file(DEMO_PATH)


def _bundle(analysis, segment_settings=SegmentSettings(), cluster_settings=ClusterSettings(), k=4, algorithm="kmeans"):
    segmentation = segment_customers(analysis.customers, segment_settings)
    clusters = fit_clusters(segmentation.customers, cluster_settings, k, algorithm)
    bundle = build_bundle(segmentation, clusters, cluster_settings, source_file="demo.xlsx", analysis_date=analysis.report.analysis_date)
    return segmentation, clusters, bundle


@pytest.fixture(scope="module")
def fitted(demo):
    return _bundle(demo)


@pytest.mark.parametrize(
    "segment_settings, cluster_settings, algorithm",
    [
        (SegmentSettings(), ClusterSettings(), "kmeans"),
        (SegmentSettings(n_bins=10), ClusterSettings(scaler="robust"), "gmm"),
        (SegmentSettings(n_bins=3), ClusterSettings(exclude_outliers=True, outliers_as="own_tier"), "kmeans"),
        (
            SegmentSettings(thresholds=(("recency_days", (30.0, 90.0, 180.0, 365.0)),)),
            ClusterSettings(features=("recency_days", "frequency", "monetary", "tenure_days", "avg_order_value")),
            "kmeans",
        ),
    ],
)
@pytest.mark.slow
def test_saved_and_loaded_model_labels_every_customer_as_the_fit_did(demo, segment_settings, cluster_settings, algorithm):
    segmentation, clusters, bundle = _bundle(demo, segment_settings, cluster_settings, algorithm=algorithm)
    loaded = load_bundle(bundle.to_json().encode("utf-8"))
    scored = loaded.score(demo.customers)
    for column in LABELS:
        pd.testing.assert_series_equal(scored[column], segmentation.customers[column], check_dtype=False)
    pd.testing.assert_series_equal(scored["cluster"], clusters.customers["cluster"], check_dtype=False)
    assert (scored["cluster_name"] == clusters.customers["cluster_name"]).all()
    assert (scored["cluster_action"] == clusters.customers["cluster_action"]).all()


def test_density_model_places_every_customer_at_its_nearest_cluster(demo):
    """Noise is a training label only: a saved DBSCAN/HDBSCAN model predicts like the estimator."""
    segmentation, clusters, bundle = _bundle(demo, algorithm="hdbscan")
    scored = load_bundle(bundle.to_json()).score(demo.customers)
    assert (scored["cluster"].to_numpy() == clusters.estimator.predict(segmentation.customers)).all()


@pytest.mark.slow
@settings(max_examples=60, deadline=None)
@given(rfm_tables(min_size=1, max_size=40))
def test_saved_cut_points_give_every_customer_its_rank_score_again(table):
    for n_bins in (3, 5, 10):
        result = compute_scores(table, n_bins)
        for cut in result.cuts:
            column = {"recency_days": "r_score", "frequency": "f_score", "monetary": "m_score"}[cut.metric]
            again = threshold_scores(table[cut.metric].astype("float64"), value_bounds(cut), cut.metric != "recency_days")
            assert (again == result.scores[column]).all(), (cut.metric, n_bins)


def test_bundle_is_plain_json_holding_what_scoring_needs(fitted):
    _, clusters, bundle = fitted
    payload = json.loads(bundle.to_json())
    assert payload["format"] == "rfm-studio-model" and payload["format_version"] == 3
    assert payload["clusters"]["features"] == ["recency_days", "frequency", "monetary"]
    assert np.allclose(payload["clusters"]["centers"], clusters.centers)
    assert {entry["name"] for entry in payload["clusters"]["names"]} == set(clusters.names["name"])
    assert len(payload["scores"]["bounds"]["monetary"]) == 4
    assert len(payload["rules"]) == 11
    assert "demo.xlsx" in bundle.describe()


def test_bundle_records_the_distribution_of_every_feature_it_scores_on(demo):
    cluster_settings = ClusterSettings(features=("recency_days", "frequency", "monetary", "tenure_days", "avg_order_value"))
    _segmentation, _, bundle = _bundle(demo, cluster_settings=cluster_settings)
    distribution = json.loads(bundle.to_json())["distribution"]
    assert distribution["customers"] == 2999 and distribution["levels"] == list(QUANTILE_LEVELS)
    assert [entry["feature"] for entry in distribution["features"]] == list(cluster_settings.features)
    loaded = load_bundle(bundle.to_json()).distribution
    for feature in cluster_settings.features:
        values = demo.customers[feature]
        assert loaded.loc[feature, 0.0] == values.min() and loaded.loc[feature, 1.0] == values.max()
        assert loaded.loc[feature, 0.5] == pytest.approx(values.median())
        assert loaded.loc[feature, 0.99] == pytest.approx(values.quantile(0.99))


def test_a_bundle_saved_before_the_distribution_was_recorded_still_loads_and_scores(demo, fitted, payload):
    """format_version 1 is today's bundle without ``distribution``: it labels customers just the same."""
    segmentation, _, _ = fitted
    del payload["distribution"], payload["lifecycle"]
    payload["format_version"] = 1
    old = load_bundle(json.dumps(payload))
    assert old.distribution is None
    scored = old.score(demo.customers)
    for column in LABELS:
        pd.testing.assert_series_equal(scored[column], segmentation.customers[column], check_dtype=False)


def test_a_new_file_is_scored_with_the_model_s_cut_points_not_its_own(demo, fitted):
    """Scoring a month with only the best customers must not re-rank them: bounds are the model's."""
    _, _, bundle = fitted
    best = demo.customers.nlargest(50, "monetary")
    scored = bundle.score(best)
    assert (scored["m_score"] == 5).all()
    own = compute_scores(best).scores["m_score"]
    assert own.min() == 1  # ranked among themselves, some would have dropped to M=1


# --- refusing bad bundles -------------------------------------------------------------------------


@pytest.fixture()
def payload(fitted):
    return json.loads(fitted[2].to_json())


def _refused(payload_or_text, match: str) -> None:
    data = payload_or_text if isinstance(payload_or_text, (str, bytes)) else json.dumps(payload_or_text)
    with pytest.raises(RFMInputError, match=match):
        load_bundle(data)


@pytest.mark.parametrize("version", [4, 0, "2", True, None])
def test_changed_format_version_is_refused_with_the_versions(payload, version):
    payload["format_version"] = version
    payload["library_version"] = "9.0.0"
    shown = re.escape(json.dumps(version))
    _refused(payload, rf"format_version {shown}, written by RFM Studio \"9\.0\.0\"; this version .* reads format_version 1 or 2 or 3\.")


def test_a_version_1_bundle_with_a_distribution_and_a_version_2_without_are_refused(payload):
    del payload["lifecycle"]
    payload["format_version"] = 1
    _refused(payload, r"corrupt: Unexpected field 'distribution'")
    payload["format_version"] = 2
    del payload["distribution"]
    _refused(payload, r"corrupt: Missing field 'distribution'")


def test_missing_field_is_named(payload):
    del payload["clusters"]["centers"]
    _refused(payload, r"corrupt: Missing field 'clusters\.centers'")


def test_extra_keys_are_refused(payload):
    payload["clusters"]["__reduce__"] = "os.system('rm -rf /')"
    _refused(payload, r"Unexpected field 'clusters\.__reduce__'")


@pytest.mark.parametrize(
    "change, match",
    [
        (lambda p: p["clusters"]["centers"][0].__setitem__(0, 1e300), r"clusters\.centers\[0\]\[0\]=1e\+300 is outside"),
        (lambda p: p["clusters"]["centers"][0].__setitem__(0, "1.5"), r"clusters\.centers\[0\]\[0\] should be a number; got \"1\.5\""),
        (lambda p: p["clusters"].__setitem__("k", 3.5), r"clusters\.k=3\.5 should be a whole number"),
        (lambda p: p["clusters"].__setitem__("algorithm", "exec"), r"clusters\.algorithm=\"exec\" should be one of"),
        (lambda p: p["rules"][0].__setitem__("segment", "x" * 5000), r"rules\[0\]\.segment is 5,000 characters long"),
        (lambda p: p["clusters"].__setitem__("outlier_groups", "yes"), r"outlier_groups should be true or false"),
        (lambda p: p.__setitem__("rules", {"a": 1}), r"rules should be a list"),
        (lambda p: p["clusters"]["centers"].extend([[0.0, 0.0, 0.0]] * 100), r"clusters\.centers holds 104 items"),
        (lambda p: p["clusters"]["scaler"]["scale"].__setitem__(0, 0.0), r"scaler\.scale should be positive"),
        (lambda p: p["clusters"]["centers"][0].pop(), r"clusters\.centers should each hold 3 values"),
        (lambda p: p["scores"]["bounds"]["monetary"].reverse(), r"bounds\.monetary should be in ascending order"),
        (lambda p: p["rules"][0].__setitem__("r_max", 7), r"r_min=5, r_max=7 should satisfy 1 <= min <= max <= 5"),
        (lambda p: p["clusters"].__setitem__("names", p["clusters"]["names"][1:]), r"no name for cluster\(s\) \[0\]"),
        (lambda p: p["distribution"]["features"][2]["quantiles"].pop(), r"distribution\.features\[2\]\.quantiles holds 8 items; 9\.\.9"),
        (lambda p: p["distribution"]["features"][2]["quantiles"].reverse(), r"features\[2\]\.quantiles \(monetary\) should be in ascending order"),
        (lambda p: p["distribution"]["features"][2]["quantiles"].__setitem__(3, float("nan")), r"not valid JSON \(NaN is not a number a model may hold"),
        (lambda p: p["distribution"]["features"][1]["quantiles"].__setitem__(4, None), r"features\[1\]\.quantiles\[4\] should be a number; got null"),
        (lambda p: p["distribution"]["features"][0]["quantiles"].__setitem__(8, 1e300), r"features\[0\]\.quantiles\[8\]=1e\+300 is outside"),
        (lambda p: p["distribution"]["levels"].__setitem__(1, 0.02), r"distribution\.levels should be \[0\.0, 0\.01, "),
        (lambda p: p["distribution"]["levels"].__setitem__(1, 2), r"distribution\.levels\[1\]=2 is outside 0\.\.1"),
        (lambda p: p["distribution"]["features"].pop(), r"distribution\.features holds 2 items; 3\.\.5 are allowed"),
        (
            lambda p: p["distribution"]["features"][2].__setitem__("feature", "tenure_days"),
            r"distribution\.features should describe \['recency_days', 'frequency', 'monetary'\] in this order; got \[.*'tenure_days'\]",
        ),
        (lambda p: p["distribution"]["features"][0].__setitem__("feature", "os.system"), r"features\[0\]\.feature=\"os\.system\" should be one of"),
        (lambda p: p["distribution"].__setitem__("customers", -1), r"distribution\.customers=-1 is outside"),
    ],
)
def test_malformed_fields_are_refused_by_path(payload, change, match):
    change(payload)
    _refused(payload, match)


@pytest.mark.parametrize(
    "text, match",
    [
        ("", r"not valid JSON"),
        ("not json at all", r"not valid JSON"),
        (b"\xff\xfe\x00garbage", r"not valid JSON"),
        ('{"format": "rfm-studio-model", "x": NaN}', r"not valid JSON \(NaN is not a number a model may hold"),
        ('{"format": "rfm-studio-model", "distribution": {"features": [{"quantiles": [1, Infinity]}]}}', r"not valid JSON \(Infinity is not"),
        ("[" * 100_000 + "]" * 100_000, r"not valid JSON"),
        ('{"format": "something else"}', r"not an RFM Studio model bundle"),
        ("[1, 2, 3]", r"not an RFM Studio model bundle"),
        ('{"format": "rfm-studio-model", "format_version": 1}', r"corrupt: Missing field 'library_version'.*more problem"),
    ],
)
def test_files_that_are_not_bundles_are_refused(text, match):
    _refused(text, match)


def test_oversized_file_is_refused_before_parsing():
    _refused(b" " * (MAX_BUNDLE_BYTES + 1), r"2\.0 MB; a model bundle is a few kB")


def test_a_table_without_the_model_s_features_is_refused(fitted):
    _, _, bundle = fitted
    table = pd.DataFrame({schema.RECENCY: [1], schema.FREQUENCY: [2]}, index=pd.Index(["a"], name=schema.CUSTOMER_ID))
    with pytest.raises(RFMInputError, match=r"cannot provide the model's feature\(s\) 'monetary'"):
        bundle.score(table)


def test_no_code_is_ever_loaded_from_a_file():
    """Bundles are JSON: nothing in the project may unpickle or evaluate what a user uploads."""
    pattern = re.compile(r"\bimport pickle\b|\bpickle\.loads?\(|\bjoblib\.load\(|(?<![\w.])eval\(|(?<![\w.])exec\(")
    offenders = [
        f"{path.relative_to(ROOT)}:{number}"
        for folder in ("rfm", "pages", "ui")
        for path in sorted((ROOT / folder).rglob("*.py"))
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if pattern.search(line)
    ] + [
        f"{name}:{number}"
        for name in ("app.py", "streamlit_app.py")
        for number, line in enumerate((ROOT / name).read_text().splitlines(), 1)
        if pattern.search(line)
    ]
    assert offenders == []


# --- every algorithm's default fit makes a model its own schema accepts (issue 14) ---------------------------


@pytest.fixture(scope="module")
def cdnow():
    path = cdnow_master()
    if path is None:
        pytest.skip("lifetimes (and its CDNOW data) is not installed: `make test` installs it")
    return analyse_file(path, with_orders=False)


@pytest.mark.slow
@pytest.mark.parametrize("algorithm", ["kmeans", "gmm", "dbscan", "hdbscan"])
@pytest.mark.parametrize("data", ["demo", "cdnow"])
def test_every_algorithm_s_default_fit_round_trips_through_a_saved_model(data, algorithm, request):
    """HDBSCAN on CDNOW found 919 clusters, and the run's own model failed its schema ("clusters.centers holds
    919 items; 0..64 are allowed"): no page could export, and `rfm segment --algorithm hdbscan` exited 2."""
    analysis = request.getfixturevalue(data)
    segmentation, clusters, bundle = _bundle(analysis, algorithm=algorithm)
    loaded = load_bundle(bundle.to_json().encode("utf-8"))
    assert 1 <= len(loaded.centers) == clusters.estimator.n_clusters_ <= 15
    # The saved model places customers as the estimator predicts (for density methods, at the nearest centre).
    scored = loaded.score(analysis.customers)
    assert (scored["cluster"].to_numpy() == clusters.estimator.predict(segmentation.customers)).all()
