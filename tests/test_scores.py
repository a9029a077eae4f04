"""R, F and M scores on tiny frames with hand-computed answers, and their invariants (hypothesis)."""

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rfm import schema
from tests.strategies import rfm_tables
from rfm.errors import RFMInputError
from rfm.scores import (
    F_SCORE,
    M_SCORE,
    R_SCORE,
    RFM_CELL,
    check_thresholds,
    compute_scores,
    parse_thresholds,
    rank_scores,
    threshold_scores,
)

R, F, M = schema.RECENCY, schema.FREQUENCY, schema.MONETARY

# Ten customers, rows deliberately not in any sorted order.
#   recency  (distinct): sorted 1 b, 2 f, 3 a, 4 c, 5 h, 6 g, 8 j, 9 e, 15 d, 35 i
#       ranks 1..10 -> ascending score ceil(rank/2); recent = high, so R = 6 - that:
#       b f -> 5, a c -> 4, h g -> 3, j e -> 2, d i -> 1
#   frequency (60% share 1): a b d f g i = 1 take ranks 1..6, average 3.5, pct 0.35, 0.35 x 5 = 1.75 -> F=2;
#       e=2 rank 7 -> 3.5 -> 4; h=3 rank 8 -> 4.0 -> 4; c=4 rank 9 -> 4.5 -> 5; j=5 rank 10 -> 5.
#       F=1 and F=3 hold nobody.
#   monetary (distinct): sorted 5 j, 7 d, 12.5 b, 19.99 g, 45 f, 50 a, 60 i, 80 c, 150 h, 300 e
#       M = ceil(rank/2): j d -> 1, b g -> 2, f a -> 3, i c -> 4, h e -> 5
TEN = pd.DataFrame(
    {
        R: [3, 1, 4, 15, 9, 2, 6, 5, 35, 8],
        F: [1, 1, 4, 1, 2, 1, 1, 3, 1, 5],
        M: [50.0, 12.5, 80.0, 7.0, 300.0, 45.0, 19.99, 150.0, 60.0, 5.0],
    },
    index=pd.Index(list("abcdefghij"), name=schema.CUSTOMER_ID),
)
TEN_R = dict(a=4, b=5, c=4, d=1, e=2, f=5, g=3, h=3, i=1, j=2)
TEN_F = dict(a=2, b=2, c=5, d=2, e=4, f=2, g=2, h=4, i=2, j=5)
TEN_M = dict(a=3, b=2, c=4, d=1, e=5, f=3, g=2, h=5, i=4, j=1)


def _frame(recency, frequency, monetary) -> pd.DataFrame:
    index = pd.Index([f"c{i}" for i in range(len(recency))], name=schema.CUSTOMER_ID)
    return pd.DataFrame({R: recency, F: frequency, M: monetary}, index=index)


# --- rank-based scores ------------------------------------------------------------------------


def test_ten_customers_five_scores_by_hand():
    result = compute_scores(TEN)
    scores = result.scores
    assert result.n_bins == 5
    assert list(scores.columns) == [R_SCORE, F_SCORE, M_SCORE, RFM_CELL]
    assert list(scores.index) == list(TEN.index)
    assert scores[R_SCORE].to_dict() == TEN_R
    assert scores[F_SCORE].to_dict() == TEN_F
    assert scores[M_SCORE].to_dict() == TEN_M
    assert all(scores[c].dtype == "int64" for c in (R_SCORE, F_SCORE, M_SCORE))


def test_distinct_values_give_two_customers_per_score():
    scores = compute_scores(TEN).scores
    for column in (R_SCORE, M_SCORE):
        assert scores[column].value_counts().sort_index().to_dict() == {1: 2, 2: 2, 3: 2, 4: 2, 5: 2}


def test_rfm_cell_is_r_f_m_digits():
    cells = compute_scores(TEN).scores[RFM_CELL]
    assert cells.to_dict() == dict(
        a="423", b="522", c="454", d="121", e="245", f="523", g="322", h="345", i="124", j="251"
    )


def test_ten_scores_separate_the_cell_with_dashes():
    # Ten distinct values per metric and ten scores: F and M score = rank, R = 11 - rank of recency.
    # c0 has the lowest recency (R=10), the 3rd-lowest frequency (F=3) and the 7th-lowest spend (M=7).
    table = _frame(
        recency=[0, 1, 2, 3, 4, 5, 6, 7, 8, 9],
        frequency=[3, 1, 2, 4, 5, 6, 7, 8, 9, 10],
        monetary=[70.0, 10.0, 20.0, 30.0, 40.0, 50.0, 60.0, 80.0, 90.0, 100.0],
    )
    cells = compute_scores(table, n_bins=10).scores[RFM_CELL]
    assert cells["c0"] == "10-3-7"
    assert cells["c1"] == "9-1-1"  # recency 1 is rank 2, frequency 1 and spend 10 are rank 1
    assert cells["c9"] == "1-10-10"


def test_nine_scores_keep_single_digits_without_separator():
    table = _frame(recency=list(range(9)), frequency=list(range(1, 10)), monetary=[float(v) for v in range(1, 10)])
    cells = compute_scores(table, n_bins=9).scores[RFM_CELL]
    assert cells["c0"] == "911"  # ranks = scores with 9 distinct values in 9 bins
    assert cells["c8"] == "199"


def test_recency_runs_the_other_way():
    days = pd.Series([0, 10, 20, 30, 40], index=list("vwxyz"))
    assert rank_scores(days, 5, higher_is_better=False).tolist() == [5, 4, 3, 2, 1]
    assert rank_scores(days, 5).tolist() == [1, 2, 3, 4, 5]


def test_ties_share_a_score_wherever_they_sit():
    # 10, 20, 20, 30, 40: ranks 1, 2.5, 2.5, 4, 5 -> pct 0.2, 0.5, 0.5, 0.8, 1.0 -> x5 -> 1, 3, 3, 4, 5.
    values = pd.Series([20.0, 40.0, 10.0, 30.0, 20.0], index=list("pqrst"))
    assert rank_scores(values, 5).to_dict() == dict(p=3, q=5, r=1, s=4, t=3)


def test_a_tied_block_on_a_bin_edge_is_never_split_by_row_order():
    # Four customers at 1 and four at 2 with 4 scores: by position the 1s would span scores 1-2, the 2s 3-4.
    # Average ranks 2.5 and 6.5 -> pct 0.3125 and 0.8125 -> x4 = 1.25 -> 2 and 3.25 -> 4.
    values = pd.Series([2, 1, 1, 2, 1, 2, 2, 1])
    assert rank_scores(values, 4).tolist() == [4, 2, 2, 4, 2, 4, 4, 2]


def test_sixty_percent_tie_scores_and_warnings():
    result = compute_scores(TEN)
    frequency = next(cut for cut in result.cuts if cut.metric == F)
    assert [b.customers for b in frequency.bins] == [0, 6, 0, 2, 2]  # F=1 .. F=5
    # The middle of F=1's slot (10%) and of F=3's slot (50%) both fall in the block of 1s (first 60%).
    assert frequency.warnings == (
        "F=1 cannot be reached: 60% of customers share frequency 1, so they all get F=2.",
        "F=3 cannot be reached: 60% of customers share frequency 1, so they all get F=2.",
    )
    assert result.warnings == frequency.warnings  # R and M have distinct values: no warning


def test_an_unreachable_monetary_score_names_the_tied_value():
    # 10, 20, 20, 30, 40 -> M 1, 3, 3, 4, 5: M=2's slot (middle at 30%) lies in the block of 20s (20%-60%).
    table = _frame(recency=[1, 2, 3, 4, 5], frequency=[1, 2, 3, 4, 5], monetary=[20.0, 40.0, 10.0, 30.0, 20.0])
    assert compute_scores(table).warnings == (
        "M=2 cannot be reached: 40% of customers share monetary value 20.00, so they all get M=3.",
    )


def test_an_unreachable_recency_score_counts_slots_from_the_recent_end():
    # Recency 0, 0, 0, 5, 9: the three 0s average rank 2 -> pct 0.4 -> ascending 2 -> R=4; 5 -> R=2; 9 -> R=1.
    # R=5 is the most recent slot (ascending slot 1, middle 10%): the block of 0s (first 60%) holds it.
    # R=3 is ascending slot 3 (middle 50%): also inside the 0s.
    table = _frame(recency=[0, 5, 0, 9, 0], frequency=[1, 2, 3, 4, 5], monetary=[1.0, 2.0, 3.0, 4.0, 5.0])
    result = compute_scores(table)
    assert result.scores[R_SCORE].tolist() == [4, 2, 4, 1, 4]
    assert result.warnings == (
        "R=3 cannot be reached: 60% of customers share recency (days) 0, so they all get R=4.",
        "R=5 cannot be reached: 60% of customers share recency (days) 0, so they all get R=4.",
    )


# --- cut points -------------------------------------------------------------------------------


def test_cut_labels_and_counts():
    result = compute_scores(TEN)
    labels = {(cut.metric, b.score): b.label for cut in result.cuts for b in cut.bins}
    assert labels[(R, 5)] == "last purchase ≤ 2 days ago"  # b 1, f 2
    assert labels[(R, 4)] == "last purchase 3–4 days ago"
    assert labels[(R, 2)] == "last purchase 8–9 days ago"
    assert labels[(R, 1)] == "last purchase ≥ 15 days ago"  # d 15, i 35
    assert labels[(F, 5)] == "≥ 4 orders"
    assert labels[(F, 4)] == "2–3 orders"
    assert labels[(F, 3)] == "no customer"
    assert labels[(F, 2)] == "1 order"
    assert labels[(M, 5)] == "spent ≥ 150.00"
    assert labels[(M, 2)] == "spent 12.50–19.99"
    assert labels[(M, 1)] == "spent ≤ 7.00"
    bins = {(cut.metric, b.score): b for cut in result.cuts for b in cut.bins}
    assert (bins[(M, 3)].low, bins[(M, 3)].high, bins[(M, 3)].customers) == (45.0, 50.0, 2)
    assert (bins[(F, 1)].low, bins[(F, 1)].high, bins[(F, 1)].customers) == (None, None, 0)


def test_labels_for_a_single_recency_day_several_equal_orders_and_thousands():
    # 3 scores: recency 0, 7, 7, 7, 30 -> ranks 1, 3, 3, 3, 5 -> pct .2, .6, .6, .6, 1 -> ascending 1, 2, 2, 2, 3.
    # frequency 1, 2, 2, 2, 9 the same way; monetary 5, 6, 7, 1000, 1250.5 -> pct .2 .. 1 -> 1, 2, 2, 3, 3.
    table = _frame(recency=[0, 7, 7, 7, 30], frequency=[1, 2, 2, 2, 9], monetary=[5.0, 6.0, 7.0, 1000.0, 1250.5])
    labels = {(cut.metric, b.score): b.label for cut in compute_scores(table, n_bins=3).cuts for b in cut.bins}
    assert labels[(R, 2)] == "last purchase 7 days ago"
    assert labels[(F, 1)] == "1 order"
    assert labels[(F, 2)] == "2 orders"
    assert labels[(F, 3)] == "9 orders"
    assert labels[(M, 3)] == "spent ≥ 1,000.00"


def test_cuts_frame_lists_scores_best_first_with_shares():
    frame = compute_scores(TEN).cuts_frame()
    assert list(frame.columns) == ["metric", "score", "holds", "customers", "share"]
    assert len(frame) == 15
    assert frame["metric"].unique().tolist() == [
        "R (Recency (days))", "F (Frequency (invoices))", "M (Monetary (revenue))"
    ]
    assert frame["score"].tolist() == [5, 4, 3, 2, 1] * 3
    frequency = frame[frame["metric"].str.startswith("F")]
    assert frequency["customers"].tolist() == [2, 2, 0, 6, 0]
    assert frequency["share"].tolist() == pytest.approx([0.2, 0.2, 0.0, 0.6, 0.0])
    assert frequency["holds"].tolist() == ["≥ 4 orders", "2–3 orders", "no customer", "1 order", "no customer"]


# --- the user's thresholds --------------------------------------------------------------------


def test_thresholds_per_metric_with_ranks_for_the_others():
    # Recency bounds 30, 90, 180, 365: <= 30 is R=5, 31-90 R=4, 91-180 R=3, 181-365 R=2, above R=1.
    # Frequency bounds 1, 2, 5, 10: <= 1 is F=1, 2 F=2, 3-5 F=3, 6-10 F=4, above F=5.
    # Monetary by ranks: nine distinct values, pct k/9 x 5 -> 0.56, 1.11, 1.67, 2.22, 2.78, 3.33, 3.89, 4.44, 5.
    table = _frame(
        recency=[0, 30, 31, 90, 180, 181, 365, 366, 1000],
        frequency=[1, 2, 3, 5, 6, 10, 11, 1, 50],
        monetary=[1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0],
    )
    result = compute_scores(table, thresholds={R: [30, 90, 180, 365], F: (1, 2, 5, 10)})
    assert result.scores[R_SCORE].tolist() == [5, 5, 4, 4, 3, 2, 2, 1, 1]
    assert result.scores[F_SCORE].tolist() == [1, 2, 3, 3, 4, 4, 5, 1, 5]
    assert result.scores[M_SCORE].tolist() == [1, 2, 2, 3, 3, 4, 4, 5, 5]
    thresholds = {cut.metric: cut.thresholds for cut in result.cuts}
    assert thresholds == {R: (30.0, 90.0, 180.0, 365.0), F: (1.0, 2.0, 5.0, 10.0), M: ()}


def test_threshold_scores_bound_belongs_to_the_band_below():
    values = pd.Series([5.0, 10.0, 10.01, 20.0, 25.0])
    assert threshold_scores(values, (10, 20)).tolist() == [1, 1, 2, 2, 3]
    assert threshold_scores(values, (10, 20), higher_is_better=False).tolist() == [3, 3, 2, 2, 1]


def test_an_empty_threshold_band_is_a_warning():
    # Bounds 1, 2, 5, 10 and frequencies 1, 1, 2, 12 -> F 1, 1, 2, 5: nobody has 3-5 or 6-10 orders.
    table = _frame(recency=[1, 2, 3, 4], frequency=[1, 1, 2, 12], monetary=[1.0, 2.0, 3.0, 4.0])
    result = compute_scores(table, n_bins=5, thresholds={F: [1, 2, 5, 10]})
    frequency = next(cut for cut in result.cuts if cut.metric == F)
    assert [b.customers for b in frequency.bins] == [2, 1, 0, 0, 1]
    assert frequency.warnings == (
        "F=3 holds no customer: no frequency falls between those thresholds.",
        "F=4 holds no customer: no frequency falls between those thresholds.",
    )


def test_parse_thresholds_accepts_commas_semicolons_and_spaces():
    assert parse_thresholds(R, " 30, 90;180  365 ", 5) == (30.0, 90.0, 180.0, 365.0)
    assert parse_thresholds(M, "9.5, 100", 3) == (9.5, 100.0)


def test_thresholds_of_the_wrong_count():
    message = r"^Recency \(days\): 5 scores need 4 thresholds; got 3 \(\[30\.0, 90\.0, 180\.0\]\)\.$"
    with pytest.raises(RFMInputError, match=message):
        check_thresholds(R, [30, 90, 180], 5)


@pytest.mark.parametrize("text", ["30, 90, 90, 365", "30, 20, 90, 365", "30, 90, inf, 365"])
def test_thresholds_not_increasing(text):
    message = r"^Recency \(days\): thresholds must be numbers in increasing order; got \["
    with pytest.raises(RFMInputError, match=message):
        parse_thresholds(R, text, 5)


def test_a_threshold_that_is_not_a_number():
    message = r"^Monetary \(revenue\): 'lots' is not a number; write thresholds like 30, 90, 180, 365\.$"
    with pytest.raises(RFMInputError, match=message):
        parse_thresholds(M, "10, 20, lots, 100", 5)


def test_a_threshold_that_is_not_a_number_given_as_a_list():
    message = r"^Frequency \(invoices\): None is not a number; write thresholds like"
    with pytest.raises(RFMInputError, match=message):
        compute_scores(TEN, thresholds={F: [1, None, 5, 10]})


@pytest.mark.parametrize("n_bins", [0, 2, 11])
def test_n_bins_outside_3_to_10(n_bins):
    with pytest.raises(RFMInputError, match=rf"^n_bins={n_bins} should be between 3 and 10\.$"):
        compute_scores(TEN, n_bins=n_bins)


@pytest.mark.parametrize("n_bins", [3, 10])
def test_n_bins_at_the_ends_of_the_range(n_bins):
    scores = compute_scores(TEN, n_bins=n_bins).scores
    assert scores[M_SCORE].min() == 1
    assert scores[M_SCORE].max() == n_bins


# --- invariants -------------------------------------------------------------------------------

PROPERTY = settings(max_examples=30, deadline=None, derandomize=True)


@PROPERTY
@given(rfm_tables(), st.integers(3, 10))
def test_every_score_is_within_1_to_n_bins(table, n_bins):
    scores = compute_scores(table, n_bins=n_bins).scores
    for column in (R_SCORE, F_SCORE, M_SCORE):
        assert scores[column].between(1, n_bins).all()
    assert scores.index.equals(table.index)


@PROPERTY
@given(rfm_tables(min_size=2), st.integers(3, 10))
def test_better_on_every_metric_never_scores_lower(table, n_bins):
    scores = compute_scores(table, n_bins=n_bins).scores
    rows = list(table.itertuples())
    for a in rows:
        for b in rows:
            if getattr(a, R) < getattr(b, R) and getattr(a, F) > getattr(b, F) and getattr(a, M) > getattr(b, M):
                for column in (R_SCORE, F_SCORE, M_SCORE):
                    assert scores.at[a.Index, column] >= scores.at[b.Index, column], (a, b, column)


@PROPERTY
@given(rfm_tables(), st.integers(3, 10), st.randoms(use_true_random=False))
def test_row_order_does_not_change_anyone_s_scores(table, n_bins, random):
    order = list(table.index)
    random.shuffle(order)
    first = compute_scores(table, n_bins=n_bins)
    second = compute_scores(table.loc[order], n_bins=n_bins)
    pd.testing.assert_frame_equal(second.scores.loc[table.index], first.scores)
    assert second.cuts == first.cuts


@PROPERTY
@given(rfm_tables(), st.integers(3, 10))
def test_cut_counts_add_up_to_the_customers(table, n_bins):
    result = compute_scores(table, n_bins=n_bins)
    for cut in result.cuts:
        column = {R: R_SCORE, F: F_SCORE, M: M_SCORE}[cut.metric]
        assert sum(b.customers for b in cut.bins) == len(table)
        counted = [int((result.scores[column] == score).sum()) for score in range(1, n_bins + 1)]
        assert [b.customers for b in cut.bins] == counted
        # One warning per score that holds nobody, and only then; with fewer customers than scores,
        # one warning that lists every empty score.
        empty = [b.score for b in cut.bins if b.customers == 0]
        if len(table) < n_bins and empty:
            assert len(cut.warnings) == 1
            assert all(f"{cut.letter}={score}" in cut.warnings[0] for score in empty)
        else:
            assert len(cut.warnings) == len(empty)
    assert result.cuts_frame()["customers"].sum() == 3 * len(table)


def test_a_single_repeated_value_reads_as_one_amount():
    # Monetary 5, 5, 5 in the middle band of three: "spent 5.00", not "spent 5.00–5.00".
    table = pd.DataFrame({R: [1, 2, 3, 4, 5], F: [1, 2, 3, 4, 5], M: [1.0, 5.0, 5.0, 5.0, 9.0]})
    cuts = compute_scores(table, n_bins=3).cuts[2]
    assert cuts.bins[1].label == "spent 5.00"


def test_fewer_customers_than_scores_give_one_warning_per_metric():
    table = pd.DataFrame({R: [1, 5], F: [1, 2], M: [5.0, 9.0]})
    warnings = compute_scores(table, n_bins=5).warnings
    assert len(warnings) == 3
    assert warnings[1] == "Only 2 customer(s) for 5 scores: F=1, F=2, F=4 hold no customer."
