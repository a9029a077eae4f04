"""Lifecycle stages (rfm.scoring.lifecycle): the store's thresholds from its repeat customers' gaps between orders, one
stage per customer, the thresholds in words, and the stage counts.

Every expected value on the small tables is worked out by hand in the comments beside it.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from devkit.data import WORKBOOK
from rfm import schema
from rfm.errors import RFMInputError
from rfm.schema import LIFECYCLE_STAGE, LIFECYCLE_STAGES
from rfm.scoring.classic import SegmentSettings, segment_customers
from rfm.scoring.lifecycle import (
    DEFAULT_DAYS,
    LifecycleThresholds,
    lifecycle_stages,
    lifecycle_thresholds,
    repeat_gaps,
    stage_array,
    stage_summary,
    thresholds_table,
)
from rfm.shared.data_needs import MIN_REPEAT_CUSTOMERS_FOR_STAGES

R, F, M, T = schema.RECENCY, schema.FREQUENCY, schema.MONETARY, schema.TENURE


def _store(n_repeat: int = 20, n_once: int = 5) -> pd.DataFrame:
    """``n_repeat`` repeat customers with 3 orders and an average gap of 1, 2, ... days (their last order 100 days ago,
    so tenure = 100 + 2 × gap), and ``n_once`` one-time buyers (tenure = recency)."""
    gaps = np.arange(1, n_repeat + 1)
    repeat = pd.DataFrame({R: 100, F: 3, M: 30.0, T: 100 + 2 * gaps}, index=[f"r{g:02d}" for g in gaps])
    once = pd.DataFrame({R: 5 * np.arange(n_once), F: 1, M: 10.0, T: 5 * np.arange(n_once)}, index=[f"o{i}" for i in range(n_once)])
    return pd.concat([repeat, once]).rename_axis(schema.CUSTOMER_ID)


# --- thresholds from the data -------------------------------------------------------------------


def test_gaps_are_the_span_of_the_orders_over_the_gaps_between_them():
    gaps = repeat_gaps(_store())
    # (tenure - recency) / (frequency - 1) = (100 + 2g - 100) / 2 = g; one-time buyers have no gap.
    assert gaps.tolist() == list(map(float, range(1, 21)))
    assert not any(name.startswith("o") for name in gaps.index)


def test_store_thresholds_by_hand():
    thresholds = lifecycle_thresholds(_store())
    # Gaps 1..20: median 10.5 -> 11 (half up); 90th percentile at position 0.9 × 19 = 17.1 -> 18.1 -> 18;
    # lost = 2 × 18; new = the long gap.
    assert thresholds == LifecycleThresholds(11, 18, 36, 18, source="store", repeat_customers=20)
    assert thresholds.warning is None


def test_a_gap_under_half_a_day_still_gives_one_day():
    table = pd.DataFrame({R: [3] * 20, F: [2] * 20, T: [3] * 20, M: 1.0})  # every second order on the first's day
    assert lifecycle_thresholds(table).days == {"active_days": 1, "at_risk_days": 1, "lost_days": 2, "new_days": 1}


def test_too_few_repeat_customers_fall_back_to_the_defaults_with_a_warning():
    short = MIN_REPEAT_CUSTOMERS_FOR_STAGES - 1
    thresholds = lifecycle_thresholds(_store(n_repeat=short))
    assert thresholds.days == DEFAULT_DAYS == {"active_days": 30, "at_risk_days": 90, "lost_days": 180, "new_days": 90}
    assert thresholds.source == "default" and thresholds.repeat_customers == short
    assert thresholds.warning == (
        "Lifecycle stages use fixed default thresholds (30/90/180 days, 90 for new customers), not this store's own "
        f"figures: only {short} customers ordered twice or more, and measuring the store's gaps between orders needs "
        f"{MIN_REPEAT_CUSTOMERS_FOR_STAGES} (1 more needed)."
    )
    assert lifecycle_thresholds(_store(n_repeat=MIN_REPEAT_CUSTOMERS_FOR_STAGES)).source == "store"


def test_a_table_without_tenure_takes_the_defaults_and_says_why():
    thresholds = lifecycle_thresholds(_store().drop(columns=T))
    assert thresholds.source == "default" and thresholds.repeat_customers is None
    assert "no tenure_days to measure" in thresholds.warning


# --- stages -------------------------------------------------------------------------------------

THRESHOLDS = LifecycleThresholds(active_days=10, at_risk_days=20, lost_days=40, new_days=15)
BOUNDARIES = pd.DataFrame(
    {
        R: [0, 10, 11, 20, 21, 40, 41, 0, 15, 16, 40, 41],
        F: [2, 5, 2, 2, 9, 2, 2, 1, 1, 1, 1, 1],
        M: 1.0,
    },
    index=[f"c{i:02d}" for i in range(12)],
)


def test_stages_at_and_beside_every_threshold():
    stages = lifecycle_stages(BOUNDARIES, THRESHOLDS)
    assert stages.tolist() == [
        "Active", "Active", "At risk", "At risk", "Lapsed", "Lapsed", "Lost",  # repeat: <= 10, <= 20, <= 40, > 40
        "New", "New", "Lapsed", "Lapsed", "Lost",  # one-time: <= 15, <= 40, > 40
    ]
    assert stages.name == LIFECYCLE_STAGE and stages.index.equals(BOUNDARIES.index)
    assert list(stages.cat.categories) == list(LIFECYCLE_STAGES) == ["New", "Active", "At risk", "Lapsed", "Lost"]
    assert stages.cat.ordered
    assert stage_array(BOUNDARIES[R].to_numpy(), BOUNDARIES[F].to_numpy(), THRESHOLDS).tolist() == stages.tolist()


def test_stage_summary_by_hand():
    summary = stage_summary(BOUNDARIES.assign(**{M: [1.0] * 11 + [9.0]}), lifecycle_stages(BOUNDARIES, THRESHOLDS))
    assert list(summary.index) == list(LIFECYCLE_STAGES) and summary.index.name == LIFECYCLE_STAGE
    assert summary["customers"].tolist() == [2, 2, 2, 4, 2]
    assert summary["share"].tolist() == pytest.approx([2 / 12, 2 / 12, 2 / 12, 4 / 12, 2 / 12])
    assert summary["revenue"].tolist() == [2.0, 2.0, 2.0, 4.0, 10.0]
    assert summary["revenue_share"].tolist() == pytest.approx([0.1, 0.1, 0.1, 0.2, 0.5])


def test_a_stage_nobody_is_in_is_still_listed():
    summary = stage_summary(BOUNDARIES.head(2), lifecycle_stages(BOUNDARIES.head(2), THRESHOLDS))
    assert summary["customers"].tolist() == [0, 2, 0, 0, 0]


def test_segmentation_carries_the_stage_and_the_thresholds_it_used():
    table = _store()
    seg = segment_customers(table)
    assert seg.lifecycle == lifecycle_thresholds(table)
    # Repeat customers' last order 100 days ago > 36: Lost. One-time buyers 0, 5, 10, 15 days ago: New (<= 18); 20: Lapsed.
    assert seg.customers[LIFECYCLE_STAGE].value_counts().to_dict() == {"Lost": 20, "New": 4, "Lapsed": 1, "Active": 0, "At risk": 0}
    chosen = LifecycleThresholds(100, 100, 200, 10)
    overridden = segment_customers(table, SegmentSettings(lifecycle=chosen))
    assert overridden.lifecycle is chosen
    assert overridden.customers[LIFECYCLE_STAGE].value_counts().to_dict() == {"Active": 20, "New": 3, "Lapsed": 2, "At risk": 0, "Lost": 0}
    assert overridden.stage_summary()["customers"].sum() == len(table)
    assert hash(SegmentSettings(lifecycle=chosen)) == hash(SegmentSettings(lifecycle=LifecycleThresholds(100, 100, 200, 10)))


# --- the thresholds in words --------------------------------------------------------------------


def test_thresholds_in_words_with_their_numbers():
    table = thresholds_table(lifecycle_thresholds(_store()))
    assert table["stage"].tolist() == list(LIFECYCLE_STAGES)
    assert table["days"].tolist()[:4] == [18, 11, 18, 36] and pd.isna(table["days"].tolist()[4])
    described = lifecycle_thresholds(_store()).describe()
    assert described[1] == "Active: last order within 11 days (the median gap between a repeat customer's orders)"
    assert described[0].startswith("New: first (only) order within 18 days (the long gap between orders")
    assert described[4] == "Lost: last order more than 36 days ago (twice the long gap)"
    assert THRESHOLDS.describe()[1] == "Active: last order within 10 days (set by you)"


# --- bad thresholds -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "days, message",
    [
        ((30, 20, 180, 90), r"should satisfy active_days <= at_risk_days <= lost_days and new_days <= lost_days; got "
                            r"active_days=30, at_risk_days=20, lost_days=180, new_days=90\."),
        ((30, 90, 60, 50), r"got active_days=30, at_risk_days=90, lost_days=60, new_days=50\."),
        ((30, 90, 180, 181), r"new_days <= lost_days; got .*new_days=181\."),
        ((0, 90, 180, 90), r"whole numbers of days, at least 1; got active_days=0, "),
        ((30, 90.5, 180, 90), r"whole numbers of days, at least 1; got .*at_risk_days=90\.5, "),
    ],
)
def test_invalid_thresholds_get_one_message_naming_the_values(days, message):
    with pytest.raises(RFMInputError, match=message):
        LifecycleThresholds(*days)


def test_an_unknown_source_is_refused():
    with pytest.raises(RFMInputError, match=r"not source='guess'"):
        LifecycleThresholds(30, 90, 180, 90, source="guess")


# --- properties ---------------------------------------------------------------------------------

_customers = st.lists(st.tuples(st.integers(0, 1_000), st.integers(1, 40)), min_size=1, max_size=60).map(
    lambda rows: pd.DataFrame(rows, columns=[R, F], index=[f"c{i}" for i in range(len(rows))]).assign(**{M: 1.0})
)


@st.composite
def _thresholds(draw) -> LifecycleThresholds:
    active, at_risk, lost = sorted(draw(st.lists(st.integers(1, 800), min_size=3, max_size=3)))
    return LifecycleThresholds(active, at_risk, lost, draw(st.integers(1, lost)))


@settings(max_examples=150, deadline=None)
@given(table=_customers, thresholds=_thresholds())
def test_every_customer_gets_exactly_one_stage(table, thresholds):
    stages = lifecycle_stages(table, thresholds)
    assert len(stages) == len(table) and stages.index.equals(table.index)
    assert stages.notna().all() and set(stages) <= set(LIFECYCLE_STAGES)
    assert (stages == "New").sum() <= (table[F] == 1).sum()  # New is only for one-time buyers
    assert not stages[table[F] == 1].isin(["Active", "At risk"]).any()
    shuffled = table.sample(frac=1, random_state=0)
    assert lifecycle_stages(shuffled, thresholds).reindex(table.index).equals(stages)


@settings(max_examples=200, deadline=None)
@given(table=_customers, thresholds=_thresholds(), field=st.sampled_from(sorted(DEFAULT_DAYS)), raise_by=st.integers(1, 500))
def test_raising_a_threshold_never_moves_a_customer_to_a_later_stage(table, thresholds, field, raise_by):
    caps = {"active_days": thresholds.at_risk_days, "at_risk_days": thresholds.lost_days, "new_days": thresholds.lost_days}
    raised_value = min(getattr(thresholds, field) + raise_by, caps.get(field, 10**6))
    raised = replace(thresholds, **{field: raised_value})
    before = lifecycle_stages(table, thresholds).cat.codes
    after = lifecycle_stages(table, raised).cat.codes
    assert (after <= before).all()


# --- real data ----------------------------------------------------------------------------------


@pytest.mark.skipif(not WORKBOOK.exists(), reason="../shared/data is absent")
def test_the_real_excerpt_golden_figures():
    from rfm.cleaning.analyse import analyse_file

    customers = analyse_file(WORKBOOK).customers
    gaps = repeat_gaps(customers)
    # 187 of 260 customers bought twice or more; their average gap: median 66.4 days, 90th percentile 177.6.
    assert len(gaps) == 187 and gaps.median() == pytest.approx(66.4) and gaps.quantile(0.9) == pytest.approx(177.5667, abs=1e-4)
    thresholds = lifecycle_thresholds(customers)
    assert thresholds == LifecycleThresholds(66, 178, 356, 178, source="store", repeat_customers=187)
    summary = stage_summary(customers, lifecycle_stages(customers, thresholds))
    assert summary["customers"].to_dict() == {"New": 24, "Active": 106, "At risk": 37, "Lapsed": 39, "Lost": 54}
    assert summary["revenue_share"]["Active"] == pytest.approx(0.8488, abs=1e-4)


def test_a_stage_two_equal_thresholds_leave_empty_says_nobody():
    rules = thresholds_table(LifecycleThresholds(5, 5, 10, 10)).set_index("stage")["rule"]
    assert rules["At risk"] == "nobody (the threshold before is also 5 days)"
    assert rules["Lapsed"] == "last order 6 to 10 days ago; one-time buyers: nobody (the threshold before is also 10 days)"
    assert lifecycle_stages(BOUNDARIES, LifecycleThresholds(5, 5, 10, 10)).eq("At risk").sum() == 0
