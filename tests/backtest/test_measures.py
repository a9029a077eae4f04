"""The ranking measures: AUC with ties against a brute-force pair count, the top share and gains with ties averaged,
and what each segment did."""

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rfm.backtest.measures import auc, gains_curve, segment_outcomes, top_share


def _pair_count_auc(scores, positive) -> float:
    """Every (positive, negative) pair: 1 when the positive scores higher, 1/2 on a tie."""
    scores, positive = np.asarray(scores, float), np.asarray(positive, bool)
    wins = [1.0 if p > n else 0.5 if p == n else 0.0 for p in scores[positive] for n in scores[~positive]]
    return sum(wins) / len(wins)


def test_auc_counts_a_tie_as_one_half():
    # Pairs: (3,2) win, (3,1) win, (2,2) tie, (2,1) win -> 3.5 / 4.
    assert auc([3, 2, 2, 1], [True, True, False, False]) == 0.875
    assert auc([1, 1, 1, 1], [True, False, True, False]) == 0.5
    assert auc([1, 2, 3, 4], [True, True, False, False]) == 0.0


def test_auc_is_undefined_without_both_classes():
    assert np.isnan(auc([1, 2, 3], [True, True, True]))
    assert np.isnan(auc([1, 2, 3], [False, False, False]))


@settings(max_examples=150, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 4), st.booleans()), min_size=2, max_size=40))
def test_auc_equals_the_brute_force_pair_count(rows):
    scores, positive = [s for s, _ in rows], [p for _, p in rows]
    if all(positive) or not any(positive):
        assert np.isnan(auc(scores, positive))
    else:
        assert auc(scores, positive) == pytest.approx(_pair_count_auc(scores, positive))


@settings(max_examples=50, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 4), st.floats(0, 100)), min_size=1, max_size=30), st.randoms())
def test_row_order_does_not_change_the_measures(rows, random):
    shuffled = rows[:]
    random.shuffle(shuffled)
    for table in (rows, shuffled):
        scores, values = [s for s, _ in table], [v for _, v in table]
        result = (top_share(scores, values), gains_curve(scores, values, 11).tolist())
        if table is rows:
            expected = result
    np.testing.assert_allclose(np.nan_to_num(result[1]), np.nan_to_num(expected[1]), atol=1e-9)
    assert result[0] == pytest.approx(expected[0], nan_ok=True)


def test_top_share_takes_the_best_fifth():
    # 5 customers: the best one (score 5) holds 10 of 40.
    assert top_share([5, 4, 3, 2, 1], [10, 0, 0, 0, 30]) == 0.25
    # The worst one holds 30: ordered the other way round, the top fifth holds 75%.
    assert top_share([1, 2, 3, 4, 5], [10, 0, 0, 0, 30]) == 0.75


def test_a_tie_across_the_line_counts_in_proportion():
    # Ten customers; the best two tie with two more (scores 9 x4): the top 20% (2 customers) take half of that
    # block's revenue, (40 + 0 + 0 + 60) / 2 = 50 of 200.
    scores = [9, 9, 9, 9, 5, 5, 5, 1, 1, 1]
    revenue = [40, 0, 0, 60, 100, 0, 0, 0, 0, 0]
    assert top_share(scores, revenue) == pytest.approx(0.25)
    # All tied: no ordering at all, the top fifth holds a fifth.
    assert top_share([1] * 10, revenue) == pytest.approx(0.2)
    np.testing.assert_allclose(gains_curve([1] * 10, revenue, 5), [0, 0.25, 0.5, 0.75, 1.0])


def test_gains_curve_of_a_perfect_ordering():
    # Two buyers of four, ranked first: half the customers hold every buyer.
    np.testing.assert_allclose(gains_curve([4, 3, 2, 1], [1, 1, 0, 0], 5), [0, 0.5, 1, 1, 1])
    assert np.isnan(top_share([1, 2], [0, 0]))


def test_segment_outcomes_by_hand():
    index = pd.Index(list("vwxyz"), name="customer_id")
    labels = pd.Series(["a", "a", "b", "b", "b"], index=index)
    bought = pd.Series([True, False, True, True, False], index=index)
    revenue = pd.Series([10.0, 0.0, 30.0, 20.0, 0.0], index=index)
    table = segment_outcomes(labels, bought, revenue, "rfm").set_index("segment")
    # Every customer: 3 of 5 bought again (0.6).
    assert table.loc["b"].to_dict() == pytest.approx(
        {"kind": "rfm", "customers": 3, "bought_again_rate": 2 / 3, "revenue_per_customer": 50 / 3, "lift": (2 / 3) / 0.6}
    )
    assert table.loc["a", "lift"] == pytest.approx(0.5 / 0.6)
    assert list(table.index) == ["b", "a"]  # most customers first
