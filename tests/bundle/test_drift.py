"""Scoring a file with a saved model warns when the file lies outside what the model saw (rfm.bundle.drift)."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import replace

import pandas as pd
import pytest

from devkit.data import WORKBOOK
from rfm import schema
from rfm.bundle.build import build_bundle
from rfm.bundle.drift import MIN_CUSTOMERS_OFF, OUTSIDE_BAND_SHARE, OUTSIDE_RANGE_SHARE, check_fit
from rfm.bundle.model import load_bundle
from rfm.cleaning.analyse import analyse_file
from rfm.cleaning.ledger import CleaningSettings
from rfm.clustering.features import FEATURE_CHOICES
from rfm.clustering.fit import ClusterSettings, fit_clusters
from rfm.demo import DEMO_PATH
from rfm.errors import RFMInputError
from rfm.scoring.classic import segment_customers
from rfm.segment_run import score_run, summary

OUTSIDE = "outside the model's range"


def _fit(analysis, features=("recency_days", "frequency", "monetary"), k=3):
    settings = ClusterSettings(features=features)
    segmentation = segment_customers(analysis.customers)
    clusters = fit_clusters(segmentation.customers, settings, k)
    return build_bundle(segmentation, clusters, settings, source_file="model.xlsx", analysis_date=analysis.report.analysis_date)


@pytest.fixture(scope="module")
def demo():
    return analyse_file(DEMO_PATH)


@pytest.fixture(scope="module")
def demo_bundle(demo):
    return _fit(demo)


# --- hand-computed figures on tiny frames ---------------------------------------------------------

#: Quantiles at 0, 1, 5, 25, 50, 75, 95, 99, 100 % of a model's customers, written by hand.
HAND = {
    "recency_days": [0, 1, 5, 20, 50, 100, 200, 300, 365],
    "frequency": [1, 1, 1, 1, 2, 4, 10, 20, 40],
    "monetary": [10, 20, 50, 100, 200, 500, 1000, 2000, 5000],
}


@pytest.fixture(scope="module")
def hand_bundle(demo_bundle):
    payload = json.loads(demo_bundle.to_json())
    payload["distribution"] = {
        "customers": 100,
        "levels": payload["distribution"]["levels"],
        "features": [{"feature": feature, "quantiles": [float(q) for q in quantiles]} for feature, quantiles in HAND.items()],
    }
    return load_bundle(json.dumps(payload))


def _table(recency, frequency, monetary) -> pd.DataFrame:
    ids = pd.Index([f"c{i}" for i in range(len(monetary))], name=schema.CUSTOMER_ID)
    return pd.DataFrame({schema.RECENCY: recency, schema.FREQUENCY: frequency, schema.MONETARY: monetary}, index=ids, dtype="float64")


@pytest.mark.slow
def test_shares_below_and_above_the_model_s_range_and_band_are_counted_by_hand(hand_bundle):
    # 20 customers. monetary: 5 is below the smallest value (10) and the 1% quantile (20); 15 is below the
    # 1% quantile only; two of 3,000 are above the 99% quantile (2,000) only; 6,000..9,000 are above the
    # largest value (5,000) too. frequency: 6 of 25 above the 99% quantile (20), none above 40.
    table = _table([50] * 20, [1] * 14 + [25] * 6, [5, 15] + [100] * 12 + [3000] * 2 + [6000, 7000, 8000, 9000])
    check = check_fit(hand_bundle, table)
    monetary, frequency, recency = (check.figures.loc[f] for f in ("monetary", "frequency", "recency_days"))
    assert (monetary["below_min"], monetary["below_p1"], monetary["above_p99"], monetary["above_max"]) == (1 / 20, 2 / 20, 6 / 20, 4 / 20)
    assert monetary["outside_band"] == 8 / 20 and monetary["far_off"]  # 5 of 20 = 25% outside the range
    assert (monetary["model_min"], monetary["model_p1"], monetary["model_median"], monetary["model_p99"], monetary["model_max"]) == (10, 20, 200, 2000, 5000)
    assert (monetary["file_min"], monetary["file_median"], monetary["file_max"]) == (5, 100, 9000)
    assert (frequency["below_min"], frequency["above_p99"], frequency["above_max"], frequency["outside_band"]) == (0, 6 / 20, 0, 6 / 20)
    assert frequency["far_off"]  # 30% outside the band, where at most 2% of the model's customers lay
    assert recency[["below_min", "below_p1", "above_p99", "above_max"]].sum() == 0 and not recency["far_off"]
    assert check.far_off == ("frequency", "monetary")
    assert check.warnings == (
        "frequency: 30% of customers (6 of 20) lie above the model's 99th percentile (20), where at most 1% of its own "
        "customers lay; the model saw few customers like them, so their segments may not mean what they meant.",
        "monetary: 25% of customers (5 of 20) lie outside the model's range (10 to 5,000), 1 below and 4 above, and 40% (8) "
        "lie outside the range of its middle 98% (20 to 2,000), 2 below and 6 above, where at most 2% of its own customers "
        "lay; the model never saw customers like them, so their segments may not mean what they meant.",
        "This file lies outside the model's range on 2 of its 3 features (frequency, monetary): the model was fitted on "
        "100 customers unlike these, so the segments and clusters it gives them may mislead; fit a new model on a file "
        "like this one before acting on them.",
    )
    assert check.customers == 20 and check.model_customers == 100 and check.notes == ()


def test_money_shows_two_decimals_and_days_their_unit(hand_bundle):
    table = _table([400] * 10, [2] * 10, [100] * 9 + [5000.5])
    [recency, summary_sentence] = check_fit(hand_bundle, table).warnings
    assert recency.startswith("recency_days: 100% of customers (10 of 10) lie above the model's largest value (365 days);")
    assert "(recency_days)" in summary_sentence and OUTSIDE in summary_sentence


@pytest.mark.parametrize(
    "above, customers, far_off",
    [
        (6, 40, True),  # 15%: the threshold is reached
        (5, 40, False),  # 12.5%
        (4, 4, False),  # all of them, but fewer than MIN_CUSTOMERS_OFF customers
        (5, 5, True),
    ],
)
def test_thresholds_on_the_share_outside_the_model_s_range(hand_bundle, above, customers, far_off):
    assert (OUTSIDE_RANGE_SHARE, MIN_CUSTOMERS_OFF) == (0.15, 5)
    # 6,000 is above the largest value (5,000), so above the 99% quantile too; where the range share is
    # under its threshold, the band share (the same) is under its own higher one.
    table = _table([50] * customers, [2] * customers, [6000] * above + [100] * (customers - above))
    figures = check_fit(hand_bundle, table).figures.loc["monetary"]
    assert figures["above_max"] == figures["outside_band"] == above / customers
    assert bool(figures["far_off"]) is far_off


@pytest.mark.parametrize("above_band, customers, far_off", [(10, 40, True), (9, 40, False)])
def test_threshold_on_the_share_outside_the_model_s_band(hand_bundle, above_band, customers, far_off):
    assert OUTSIDE_BAND_SHARE == 0.25
    table = _table([50] * customers, [2] * customers, [3000] * above_band + [100] * (customers - above_band))
    check = check_fit(hand_bundle, table)
    assert check.figures.loc["monetary", "outside_band"] == above_band / customers
    assert check.figures.loc["monetary", "above_max"] == 0
    assert bool(check.figures.loc["monetary", "far_off"]) is far_off
    assert bool(check.warnings) is far_off


def test_missing_values_are_not_counted_as_outside(hand_bundle):
    table = _table([50, 50, 50, 50], [2, 2, 2, 2], [100, float("nan"), 100, 100])
    figures = check_fit(hand_bundle, table).figures.loc["monetary"]
    assert figures["outside_band"] == 0 and figures["file_median"] == 100


def test_a_table_without_the_model_s_features_is_refused(hand_bundle):
    with pytest.raises(RFMInputError, match=r"cannot provide the model's feature\(s\) 'monetary'"):
        check_fit(hand_bundle, _table([1], [1], [1]).drop(columns=schema.MONETARY))


def test_shuffled_customers_give_the_same_figures(demo, demo_bundle):
    shuffled = demo.customers.sample(frac=1.0, random_state=7)
    pd.testing.assert_frame_equal(check_fit(demo_bundle, shuffled).figures, check_fit(demo_bundle, demo.customers).figures)


# --- same population: no warning; shifted: a warning naming the feature -------------------------


def test_the_demo_scored_with_its_own_model_gives_no_warning(demo, demo_bundle):
    run = score_run(demo_bundle, demo)
    assert run.fit_check.warnings == () and run.fit_check.notes == ()
    figures = run.fit_check.figures
    assert list(figures.index) == ["recency_days", "frequency", "monetary"]
    assert (figures[["below_min", "above_max"]] == 0).all().all()
    assert (figures["outside_band"] <= 0.02).all() and not figures["far_off"].any()


def test_halves_of_the_demo_drawn_at_random_give_no_warning(demo):
    """Every feature recorded (clusters on all five), model on one half, the other half scored."""
    customers = demo.customers.sample(frac=1.0, random_state=3)
    first, second = customers.iloc[: len(customers) // 2], customers.iloc[len(customers) // 2 :]
    bundle = _fit(replace(demo, customers=first), FEATURE_CHOICES)
    check = check_fit(bundle, second)
    assert list(check.figures.index) == list(FEATURE_CHOICES)
    assert check.warnings == ()


def test_a_shifted_population_warns_naming_monetary_and_its_share(demo, demo_bundle):
    """Big wholesale customers: every amount x100 and every order count x20."""
    shifted = demo.customers.copy()
    shifted["monetary"] *= 100
    shifted["frequency"] *= 20
    run = score_run(demo_bundle, replace(demo, customers=shifted))
    check = run.fit_check
    assert check.far_off == ("frequency", "monetary")
    # Figures computed here from the demo itself, independently of the bundle's quantiles.
    largest = demo.customers["monetary"].max()
    above = int((shifted["monetary"] > largest).sum())
    above_p99 = int((shifted["monetary"] > demo.customers["monetary"].quantile(0.99)).sum())
    assert check.figures.loc["monetary", "above_max"] == above / 2999
    [monetary] = [text for text in check.warnings if text.startswith("monetary:")]
    assert monetary.startswith(
        f"monetary: {above / 2999:.0%} of customers ({above:,} of 2,999) lie above the model's largest value ({largest:,.2f}), "
        f"and {above_p99 / 2999:.0%} ({above_p99:,}) lie above its 99th percentile"
    )
    assert OUTSIDE in check.warnings[-1] and "(frequency, monetary)" in check.warnings[-1]
    written = summary(run, {})["fit_check"]
    assert written["warnings"] == list(check.warnings)
    assert written["features"]["monetary"]["above_max"] == round(above / 2999, 6) and written["features"]["monetary"]["far_off"] is True


def test_a_model_saved_before_the_check_scores_with_a_note(demo, demo_bundle):
    payload = json.loads(demo_bundle.to_json())
    del payload["distribution"], payload["lifecycle"]
    payload["format_version"] = 1
    run = score_run(load_bundle(json.dumps(payload)), demo)
    assert len(run.labelled) == 2999
    check = run.fit_check
    assert check.figures.empty and check.warnings == () and check.far_off == ()
    [note] = check.notes
    assert note.startswith("This model was saved before RFM Studio recorded the customers a model was fitted on")
    assert summary(run, {})["fit_check"] == {"customers": 2999, "model_customers": None, "features": {}, "warnings": [], "notes": [note]}


# --- the real workbook: a later part of the file scored with a model of an earlier part -----------


@pytest.mark.skipif(not WORKBOOK.exists(), reason="../shared/data is absent")
@pytest.mark.parametrize(
    "model_settings, file_settings",
    [
        (CleaningSettings(date_to=dt.date(2010, 12, 1)), CleaningSettings(date_from=dt.date(2010, 12, 2))),
        (CleaningSettings(date_to=dt.date(2010, 5, 30)), CleaningSettings(date_from=dt.date(2010, 5, 31), date_to=dt.date(2010, 11, 27))),
        (CleaningSettings(), CleaningSettings()),
    ],
    ids=["first-year-then-second", "first-half-year-then-next", "same-file"],
)
@pytest.mark.slow
def test_a_later_part_of_the_real_workbook_gives_no_warning(model_settings, file_settings):
    bundle = _fit(analyse_file(WORKBOOK, settings=model_settings), FEATURE_CHOICES)
    later = analyse_file(WORKBOOK, settings=file_settings)
    check = check_fit(bundle, later.customers)
    assert check.warnings == (), check.figures
    assert check.customers == len(later.customers) > 100
