"""The classic segmentation in one call: hand-computed summary, warnings, invariants, and golden real data."""

import re

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from devkit.data import WORKBOOK
from rfm import schema
from rfm.schema import F_SCORE, M_SCORE, R_SCORE, RFM_CELL, SEGMENT, TIER
from rfm.scoring.classic import SegmentSettings, segment_customers, segment_summary
from rfm.scoring.rules import OTHER, SegmentRule, default_rules
from rfm.scoring.tiers import HIGH_SPENDER, REGULAR, TIERS
from tests.support.reference import GRID_5
from tests.support.strategies import rfm_tables

R, F, M = schema.RECENCY, schema.FREQUENCY, schema.MONETARY
SUMMARY_COLUMNS = [
    "customers", "share", "revenue", "revenue_share",
    f"mean_{R}", f"median_{R}", f"mean_{F}", f"median_{F}", f"mean_{M}", f"median_{M}",
    "avg_order_value",
]

# --- segment_summary on a table whose segments are given --------------------------------------

# A: u2, u5 -> 2 customers, revenue 300 + 540 = 840, orders 4 + 6 = 10, recency 5, 1, monetary 300, 540
# B: u1, u3, u6 -> 3 customers, revenue 100 + 50 + 90 = 240, orders 2 + 1 + 3 = 6, recency 10, 30, 20
# Other: u4 -> revenue 10, 1 order. Total 6 customers, revenue 1,090.
GIVEN = pd.DataFrame(
    {
        SEGMENT: ["B", "A", "B", OTHER, "A", "B"],
        R: [10, 5, 30, 200, 1, 20],
        F: [2, 4, 1, 1, 6, 3],
        M: [100.0, 300.0, 50.0, 10.0, 540.0, 90.0],
    },
    index=pd.Index([f"u{i}" for i in range(1, 7)], name=schema.CUSTOMER_ID),
)


def test_summary_by_hand():
    summary = segment_summary(GIVEN, order=["A", "B", "C"])
    assert list(summary.index) == ["A", "B", OTHER]  # rule order, C has nobody, Other last
    assert summary.index.name == SEGMENT
    assert list(summary.columns) == SUMMARY_COLUMNS
    a, b, other = summary.loc["A"], summary.loc["B"], summary.loc[OTHER]
    assert (a["customers"], b["customers"], other["customers"]) == (2, 3, 1)
    assert (a["share"], b["share"], other["share"]) == pytest.approx((2 / 6, 3 / 6, 1 / 6))
    assert (a["revenue"], b["revenue"], other["revenue"]) == pytest.approx((840.0, 240.0, 10.0))
    assert (a["revenue_share"], b["revenue_share"]) == pytest.approx((840 / 1090, 240 / 1090))
    assert (a[f"mean_{R}"], a[f"median_{R}"], b[f"mean_{R}"], b[f"median_{R}"]) == pytest.approx((3, 3, 20, 20))
    assert (b[f"mean_{F}"], b[f"median_{F}"], a[f"mean_{F}"]) == pytest.approx((2, 2, 5))
    assert (b[f"mean_{M}"], b[f"median_{M}"]) == pytest.approx((80.0, 90.0))
    # Revenue / orders, not the mean of each customer's order value (B's would be (50 + 50 + 30) / 3).
    assert (a["avg_order_value"], b["avg_order_value"], other["avg_order_value"]) == pytest.approx((84.0, 40.0, 10.0))


def test_summary_without_an_order_sorts_by_name():
    assert list(segment_summary(GIVEN).index) == ["A", "B", OTHER]
    assert list(segment_summary(GIVEN, order=["B"]).index) == ["B", "A", OTHER]


def test_summary_by_tier():
    customers = GIVEN.assign(**{TIER: [REGULAR, HIGH_SPENDER, REGULAR, REGULAR, HIGH_SPENDER, REGULAR]})
    summary = segment_summary(customers, order=TIERS, by=TIER)
    assert list(summary.index) == [HIGH_SPENDER, REGULAR]
    assert summary.index.name == TIER
    assert summary["revenue"].tolist() == pytest.approx([840.0, 250.0])


# --- segment_customers ------------------------------------------------------------------------

# The ten customers of tests/test_scores.py: R, F, M scores worked out there.
#   R: a4 b5 c4 d1 e2 f5 g3 h3 i1 j2   F: a1 b1 c5 d1 e4 f1 g1 h4 i1 j5 (F=2, F=3 unreachable)
#   M: a3 b2 c4 d1 e5 f3 g2 h5 i4 j1
# Tiers: monetary sorted 5 7 12.5 19.99 45 50 60 80 150 300, positions 2.25 and 6.75:
#   Q1 = 12.5 + 0.25 x 7.49 = 14.3725, Q3 = 60 + 0.75 x 20 = 75, fence = 75 + 1.5 x 60.6275 = 165.94 -> e (300)
#   frequency sorted 1 1 1 1 1 1 2 3 4 5: Q1 = 1, Q3 = 2.75, fence = 2.75 + 2.625 = 5.375 -> nobody
TEN = pd.DataFrame(
    {
        R: [3, 1, 4, 15, 9, 2, 6, 5, 35, 8],
        F: [1, 1, 4, 1, 2, 1, 1, 3, 1, 5],
        M: [50.0, 12.5, 80.0, 7.0, 300.0, 45.0, 19.99, 150.0, 60.0, 5.0],
    },
    index=pd.Index(list("abcdefghij"), name=schema.CUSTOMER_ID),
)
F_WARNINGS = ("F=2 and F=3 cannot be reached: 60% of customers share frequency 1, so they all get F=1.",)


def test_default_segmentation_by_hand():
    seg = segment_customers(TEN)
    customers = seg.customers
    assert list(customers.index) == list(TEN.index)
    assert list(customers.columns) == [R, F, M, R_SCORE, F_SCORE, M_SCORE, RFM_CELL, SEGMENT, TIER, "lifecycle_stage"]
    # From the R x F map: (4,1) Promising, (5,1) (5,1) New Customers, (4,5) (3,4) Loyal, (1,1) (1,1) Lost,
    # (2,4) At Risk, (3,1) About To Sleep, (2,5) Can't Lose Them.
    assert customers[SEGMENT].to_dict() == {
        "a": "Promising", "b": "New Customers", "c": "Loyal Customers", "d": "Lost",
        "e": "At Risk", "f": "New Customers", "g": "About To Sleep", "h": "Loyal Customers",
        "i": "Lost", "j": "Can't Lose Them",
    }
    assert customers[TIER].to_dict() == {c: (HIGH_SPENDER if c == "e" else REGULAR) for c in TEN.index}
    assert customers[RFM_CELL]["c"] == "454"
    assert seg.rules == default_rules()
    assert seg.warnings == F_WARNINGS  # nobody is Other, 1 of 10 flagged is no narrow-spread warning


def test_default_summary_in_rule_order():
    summary = segment_customers(TEN).summary
    assert list(summary.index) == [
        "Loyal Customers", "New Customers", "Promising", "About To Sleep", "At Risk", "Can't Lose Them", "Lost"
    ]
    assert summary["customers"].tolist() == [2, 2, 1, 1, 1, 1, 2]
    loyal = summary.loc["Loyal Customers"]  # c (80, 4 orders), h (150, 3 orders)
    assert (loyal["revenue"], loyal["avg_order_value"]) == pytest.approx((230.0, 230.0 / 7))
    assert loyal["revenue_share"] == pytest.approx(230.0 / TEN[M].sum())


def test_custom_rules_leave_others_last_and_warn():
    # Frequent (F 4-5) first: c, e, h, j; then Recent (R 4-5): a, b, f; d, g, i match neither.
    rules = (SegmentRule("Recent", 4, 5, 1, 5, 1, 5), SegmentRule("Frequent", 1, 5, 4, 5, 1, 5))
    seg = segment_customers(TEN, SegmentSettings(rules=rules[::-1]))
    assert seg.customers[SEGMENT].to_dict() == {
        "a": "Recent", "b": "Recent", "c": "Frequent", "d": OTHER, "e": "Frequent",
        "f": "Recent", "g": OTHER, "h": "Frequent", "i": OTHER, "j": "Frequent",
    }
    assert list(seg.summary.index) == ["Frequent", "Recent", OTHER]  # not alphabetical: rule order
    assert seg.summary["customers"].tolist() == [4, 3, 3]
    assert seg.warnings == F_WARNINGS + (
        "3 customer(s) match no rule and are 'Other': extend the rules to cover their scores.",
    )
    assert list(seg.info.index) == ["Frequent", "Recent", OTHER]


def test_settings_reach_scores_and_tiers():
    # R by thresholds 2, 5, 10, 20: <= 2 is R=5 (b, f), 3-5 R=4 (a, c, h), 6-10 R=3 (e, g, j), 11-20 R=2 (d),
    # above R=1 (i). Multiplier 0: the monetary fence is Q3 = 75 -> c (80), e (300), h (150) are above;
    # the frequency fence is Q3 = 2.75 -> c (4), h (3), j (5) -> c, h Elite VIP, e High Spender, j Power Shopper.
    settings = SegmentSettings(thresholds=((R, (2, 5, 10, 20)),), iqr_multiplier=0)
    seg = segment_customers(TEN, settings)
    assert seg.customers[R_SCORE].to_dict() == dict(a=4, b=5, c=4, d=2, e=3, f=5, g=3, h=4, i=1, j=3)
    assert seg.customers[TIER].to_dict() == {
        "a": REGULAR, "b": REGULAR, "c": "Elite VIP", "d": REGULAR, "e": HIGH_SPENDER,
        "f": REGULAR, "g": REGULAR, "h": "Elite VIP", "i": REGULAR, "j": "Power Shopper",
    }
    assert seg.warnings[-1] == (
        "4 of 10 customers are above an outlier fence: the spread is narrow; "
        "raise the IQR multiplier to flag only real outliers."
    )


def test_ten_scores_use_the_stretched_default_rules():
    seg = segment_customers(TEN, SegmentSettings(n_bins=10))
    assert seg.rules == default_rules(10)
    assert (seg.customers[SEGMENT] != OTHER).all()
    assert seg.customers[RFM_CELL]["e"] == "3-7-10"  # recency 9 is rank 8 -> R=3; frequency 2 is rank 7; M rank 10


# --- invariants -------------------------------------------------------------------------------

PROPERTY = settings(max_examples=30, deadline=None, derandomize=True)


@st.composite
def rule_lists(draw, n_bins):
    def score_range():
        low = draw(st.integers(1, n_bins))
        return low, draw(st.integers(low, n_bins))

    rules = []
    for number in range(draw(st.integers(0, 4))):
        rules.append(SegmentRule(f"rule {number}", *score_range(), *score_range(), *score_range()))
    return tuple(rules)


@pytest.mark.slow
@PROPERTY
@given(rfm_tables(), st.integers(3, 10))
def test_every_customer_gets_one_default_segment_and_one_tier(table, n_bins):
    seg = segment_customers(table, SegmentSettings(n_bins=n_bins))
    customers = seg.customers
    assert customers.index.equals(table.index)
    assert customers[SEGMENT].isin([rule.segment for rule in default_rules(n_bins)]).all()  # never Other
    assert customers[TIER].isin(TIERS).all()
    assert seg.summary["customers"].sum() == len(table)
    assert seg.summary["revenue"].sum() == pytest.approx(table[M].sum())
    assert seg.summary["share"].sum() == pytest.approx(1.0)


@pytest.mark.slow
@PROPERTY
@given(st.integers(3, 10).flatmap(lambda n: st.tuples(st.just(n), rfm_tables(), rule_lists(n))))
def test_each_customer_gets_the_first_rule_it_matches(case):
    n_bins, table, rules = case
    customers = segment_customers(table, SegmentSettings(n_bins=n_bins, rules=rules)).customers
    for row in customers.itertuples():
        scores = (getattr(row, R_SCORE), getattr(row, F_SCORE), getattr(row, M_SCORE))
        expected = next(
            (
                rule.segment
                for rule in rules
                if rule.r_min <= scores[0] <= rule.r_max
                and rule.f_min <= scores[1] <= rule.f_max
                and rule.m_min <= scores[2] <= rule.m_max
            ),
            OTHER,
        )
        assert getattr(row, SEGMENT) == expected


@pytest.mark.slow
@PROPERTY
@given(rfm_tables(), st.randoms(use_true_random=False))
def test_row_order_does_not_change_segments_or_tiers(table, random):
    order = list(table.index)
    random.shuffle(order)
    first = segment_customers(table).customers
    second = segment_customers(table.loc[order]).customers
    pd.testing.assert_frame_equal(second.loc[table.index], first)


# --- golden figures on real data --------------------------------------------------------------




@pytest.fixture(scope="module")
def real():
    if not WORKBOOK.exists():
        pytest.skip(f"real data not present at {WORKBOOK}")
    from rfm.cleaning.analyse import analyse_file

    table = analyse_file(WORKBOOK).customers
    return table, segment_customers(table)


def _five_scores(values: pd.Series, higher_is_better: bool = True) -> pd.Series:
    """1 + floor(5 x worse / n), where worse counts the customers with a strictly worse value, counted
    with a binary search in the sorted values (not with pandas' ranks, which the code under test uses)."""
    ordered = np.sort(values.to_numpy())
    if higher_is_better:
        worse = np.searchsorted(ordered, values.to_numpy(), side="left")  # strictly smaller
    else:
        worse = len(ordered) - np.searchsorted(ordered, values.to_numpy(), side="right")  # strictly larger
    return pd.Series(1 + 5 * worse // len(values), index=values.index)


@pytest.mark.slow
def test_real_data_scores_match_plain_pandas(real):
    table, seg = real
    customers = seg.customers
    assert len(table) == 260
    expected_r = _five_scores(table[R], higher_is_better=False)
    expected_f = _five_scores(table[F])
    expected_m = _five_scores(table[M])
    assert customers[R_SCORE].tolist() == expected_r.tolist()
    assert customers[F_SCORE].tolist() == expected_f.tolist()
    assert customers[M_SCORE].tolist() == expected_m.tolist()
    # A warning for exactly the scores nobody holds, per metric.
    unreachable = {
        (letter, score)
        for letter, expected in (("R", expected_r), ("F", expected_f), ("M", expected_m))
        for score in set(range(1, 6)) - set(expected)
    }
    named = [w.split(" cannot")[0] for w in seg.warnings if "cannot be reached" in w]  # "F=2 and F=3": the scores a tie swallowed
    warned = {(letter, int(score)) for text in named for letter, score in re.findall(r"\b([RFM])=(\d+)\b", text)}
    assert warned == unreachable


def test_real_data_segments_follow_the_grid_and_add_up_to_260(real):
    table, seg = real
    r, f = _five_scores(table[R], higher_is_better=False), _five_scores(table[F])
    expected = pd.Series([GRID_5[a][b - 1] for a, b in zip(r, f)], index=table.index)
    assert seg.customers[SEGMENT].equals(expected)
    counts = expected.value_counts()
    summary = seg.summary
    assert summary["customers"].sum() == 260
    assert summary["customers"].to_dict() == counts.to_dict()
    assert list(summary.index) == [name for name in GRID_5_ORDER if name in counts.index]
    revenue = table[M].groupby(expected).sum()
    orders = table[F].groupby(expected).sum()
    for name in summary.index:
        assert summary.at[name, "revenue"] == pytest.approx(revenue[name])
        assert summary.at[name, "avg_order_value"] == pytest.approx(revenue[name] / orders[name])
    assert summary["revenue"].sum() == pytest.approx(table[M].sum())


GRID_5_ORDER = [
    "Champions", "Loyal Customers", "Potential Loyalist", "New Customers", "Promising", "Need Attention",
    "About To Sleep", "At Risk", "Can't Lose Them", "Hibernating", "Lost",
]


def test_real_data_tier_fences_match_numpy(real):
    table, seg = real
    tiers = seg.tiers
    flagged = {}
    for fence, column in ((tiers.monetary, M), (tiers.frequency, F)):
        q1, q3 = np.percentile(table[column].to_numpy(), [25, 75])
        assert (fence.q1, fence.q3) == pytest.approx((q1, q3))
        flagged[column] = table[column] > q3 + 1.5 * (q3 - q1)
        assert fence.customers_above == flagged[column].sum()
    expected = np.select(
        [flagged[M] & flagged[F], flagged[M], flagged[F]], ["Elite VIP", "High Spender", "Power Shopper"], REGULAR
    )
    assert seg.customers[TIER].tolist() == expected.tolist()
    assert tiers.counts().sum() == 260
