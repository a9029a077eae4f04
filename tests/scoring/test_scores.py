"""R, F and M scores on tiny frames with hand-computed answers, and their invariants (hypothesis)."""

import re

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rfm import schema
from rfm.errors import RFMInputError
from rfm.schema import F_SCORE, M_SCORE, R_SCORE, RFM_CELL
from rfm.scoring.scores import (
    SCORING_RULE,
    check_thresholds,
    compute_scores,
    parse_thresholds,
    rank_scores,
    threshold_scores,
    value_bounds,
)
from tests.support.strategies import rfm_tables

R, F, M = schema.RECENCY, schema.FREQUENCY, schema.MONETARY

# Ten customers, rows deliberately not in any sorted order. Score = 1 + floor(5 x worse / 10) = 1 + worse // 2,
# where worse counts the customers with a strictly worse value.
#   recency  (distinct; a larger recency is worse): from worst 35 i, 15 d, 9 e, 8 j, 6 g, 5 h, 4 c, 3 a, 2 f, 1 b
#       worse 0..9 -> i d -> 1, e j -> 2, g h -> 3, c a -> 4, f b -> 5
#   frequency (60% share 1): a b d f g i = 1, nobody worse -> F=1;
#       e=2 has 6 worse -> 1 + 3 = 4; h=3 has 7 -> 4; c=4 has 8 -> 5; j=5 has 9 -> 5.
#       F=2 and F=3 hold nobody: the block of 1s fills their share of customers.
#   monetary (distinct): sorted 5 j, 7 d, 12.5 b, 19.99 g, 45 f, 50 a, 60 i, 80 c, 150 h, 300 e
#       worse 0..9 -> j d -> 1, b g -> 2, f a -> 3, i c -> 4, h e -> 5
TEN = pd.DataFrame(
    {
        R: [3, 1, 4, 15, 9, 2, 6, 5, 35, 8],
        F: [1, 1, 4, 1, 2, 1, 1, 3, 1, 5],
        M: [50.0, 12.5, 80.0, 7.0, 300.0, 45.0, 19.99, 150.0, 60.0, 5.0],
    },
    index=pd.Index(list("abcdefghij"), name=schema.CUSTOMER_ID),
)
TEN_R = dict(a=4, b=5, c=4, d=1, e=2, f=5, g=3, h=3, i=1, j=2)
TEN_F = dict(a=1, b=1, c=5, d=1, e=4, f=1, g=1, h=4, i=1, j=5)
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
        a="413", b="512", c="454", d="111", e="245", f="513", g="312", h="345", i="114", j="251"
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
    # 10, 20, 20, 30, 40 with 5 scores: score = 1 + worse. 10 has none worse -> 1; both 20s have 1 -> 2;
    # 30 has 3 -> 4; 40 has 4 -> 5. Score 3 holds nobody.
    values = pd.Series([20.0, 40.0, 10.0, 30.0, 20.0], index=list("pqrst"))
    assert rank_scores(values, 5).to_dict() == dict(p=2, q=5, r=1, s=4, t=2)


def test_a_tied_block_on_a_bin_edge_is_never_split_by_row_order():
    # Four customers at 1 and four at 2 with 4 scores: by position the 1s would span scores 1-2, the 2s 3-4.
    # score = 1 + floor(4 x worse / 8): the 1s have 0 worse -> 1, the 2s have 4 worse -> 1 + 2 = 3.
    values = pd.Series([2, 1, 1, 2, 1, 2, 2, 1])
    assert rank_scores(values, 4).tolist() == [3, 1, 1, 3, 1, 3, 3, 1]


def test_a_tie_at_the_bottom_gets_1():
    # 60% of customers with one order: nobody is worse, so F=1 (the average rank gave them F=2).
    # 2 has 6 worse -> 1 + floor(5 x 6 / 10) = 4; 3 has 7 -> 4; 4 has 8 -> 5; 5 has 9 -> 5.
    frequency = pd.Series([1, 1, 1, 1, 1, 1, 2, 3, 4, 5])
    assert rank_scores(frequency, 5).tolist() == [1, 1, 1, 1, 1, 1, 4, 4, 5, 5]


def test_a_tie_in_the_middle_takes_the_score_where_it_starts():
    # 1 and 2 have 0 and 1 worse -> 1; the four 3s have 2 worse -> 1 + floor(10 / 10) = 2;
    # 4 (6 worse) -> 4, 5 (7) -> 4, 6 (8) -> 5, 7 (9) -> 5. The 3s span score 3's share: it holds nobody.
    table = _frame(
        recency=list(range(10)), frequency=[3, 1, 3, 2, 7, 3, 4, 6, 3, 5], monetary=[float(v) for v in range(10)]
    )
    result = compute_scores(table)
    assert result.scores[F_SCORE].tolist() == [2, 1, 2, 1, 5, 2, 4, 5, 2, 4]
    # Score 3's share starts at position ceil(2 x 10 / 5) = 4 from the worst: 1 2 3 3 [3] 3 4 5 6 7.
    assert result.warnings == (
        "F=3 cannot be reached: 40% of customers share frequency 3, so they all get F=2.",
    )


def test_a_tie_at_the_top_misses_the_best_score():
    # 1 and 2 -> 1 (0, 1 worse); 3, 4 -> 2 (2, 3 worse); 5, 6 -> 3 (4, 5 worse); the four 9s have 6 worse
    # -> 1 + floor(30 / 10) = 4. Held by 40% (more than a fifth), the best value cannot get M=5.
    table = _frame(
        recency=list(range(10)), frequency=list(range(1, 11)), monetary=[9.0, 1.0, 9.0, 2.0, 3.0, 9.0, 4.0, 5.0, 6.0, 9.0]
    )
    result = compute_scores(table)
    assert result.scores[M_SCORE].tolist() == [4, 1, 4, 1, 2, 4, 2, 3, 3, 4]
    # Score 5's share starts at position ceil(4 x 10 / 5) = 8 from the worst: the 9s.
    assert result.warnings == (
        "M=5 cannot be reached: 40% of customers share monetary value 9.00, so they all get M=4.",
    )


def test_the_best_value_gets_the_top_score_unless_more_than_a_share_hold_it():
    # 9 customers, 3 scores: score = 1 + floor(3 x worse / 9) = 1 + worse // 3.
    # The 1s (0 worse) and 2s (2) -> 1; 3 (4) and 4 (5) -> 2; 5 (6) -> 3; the best, 7, held by 2 (< 9 / 3),
    # has 7 worse -> 3.
    assert rank_scores(pd.Series([1, 1, 2, 2, 3, 4, 5, 7, 7]), 3).tolist() == [1, 1, 1, 1, 2, 2, 3, 3, 3]
    # Held by exactly 9 / 3 = 3 customers: 6 worse -> still 3.
    assert rank_scores(pd.Series([1, 1, 2, 2, 3, 4, 7, 7, 7]), 3).tolist() == [1, 1, 1, 1, 2, 2, 3, 3, 3]
    # Held by 4 (more than a third): 5 worse -> 2, like 3 (4 worse); score 3 holds nobody.
    assert rank_scores(pd.Series([1, 1, 2, 2, 3, 7, 7, 7, 7]), 3).tolist() == [1, 1, 1, 1, 2, 2, 2, 2, 2]


def test_the_largest_recency_is_the_worst_and_gets_r_1():
    # Six customers last bought a year ago: nobody is worse, so R=1 (the average rank gave them R=2).
    # 30 days has 6 worse -> 1 + floor(5 x 6 / 10) = 4; 20 -> 4; 10 (8 worse) -> 5; 0 (9) -> 5.
    days = pd.Series([365, 30, 365, 365, 0, 20, 365, 10, 365, 365])
    assert rank_scores(days, 5, higher_is_better=False).tolist() == [1, 4, 1, 1, 5, 4, 1, 5, 1, 1]


def test_a_file_of_one_day_gives_everyone_r_1_with_a_warning():
    # Every customer bought on the last day: recency 0 for all, nobody is worse than anybody -> R=1.
    table = _frame(recency=[0] * 6, frequency=[1, 2, 3, 4, 5, 6], monetary=[1.0, 2.0, 3.0, 4.0, 5.0, 6.0])
    result = compute_scores(table)
    assert result.scores[R_SCORE].tolist() == [1] * 6
    recency = next(cut for cut in result.cuts if cut.metric == R)
    assert [b.customers for b in recency.bins] == [6, 0, 0, 0, 0]
    assert result.warnings == ("Every customer has recency 0 days: R cannot tell them apart, so all get R=1.",)


def test_one_value_for_everyone_in_frequency_and_monetary():
    table = _frame(recency=[1, 2, 3, 4, 5], frequency=[1] * 5, monetary=[20.0] * 5)
    result = compute_scores(table, n_bins=3)
    assert result.scores[[F_SCORE, M_SCORE]].to_numpy().tolist() == [[1, 1]] * 5
    assert result.warnings == (
        "Every customer has frequency 1: F cannot tell them apart, so all get F=1.",
        "Every customer has monetary value 20.00: M cannot tell them apart, so all get M=1.",
    )


def test_six_scores():
    # 12 customers, 6 scores: score = 1 + floor(6 x worse / 12) = 1 + worse // 2.
    # Five 1s -> 1 (the average rank gave them 2); the 2s have 5 worse -> 3; 3 (7) -> 4; 4 (8) and 5 (9) -> 5;
    # 6 (10) and 8 (11) -> 6. F=2's share starts at position ceil(12 / 6) = 2 from the worst: a 1.
    table = _frame(
        recency=list(range(12)),
        frequency=[2, 1, 8, 1, 3, 1, 2, 4, 1, 6, 5, 1],
        monetary=[float(v) for v in range(12)],
    )
    result = compute_scores(table, n_bins=6)
    assert result.scores[F_SCORE].tolist() == [3, 1, 6, 1, 4, 1, 3, 5, 1, 6, 5, 1]
    frequency = next(cut for cut in result.cuts if cut.metric == F)
    assert [b.customers for b in frequency.bins] == [5, 0, 2, 1, 2, 2]
    assert result.warnings == ("F=2 cannot be reached: 42% of customers share frequency 1, so they all get F=1.",)


def test_the_rule_is_written_for_the_page():
    assert "worst" in SCORING_RULE and "same value share a score" in SCORING_RULE


def test_sixty_percent_tie_scores_and_warnings():
    result = compute_scores(TEN)
    frequency = next(cut for cut in result.cuts if cut.metric == F)
    assert [b.customers for b in frequency.bins] == [6, 0, 0, 2, 2]  # F=1 .. F=5
    # F=2's share starts at position ceil(1 x 10 / 5) = 2 from the worst, F=3's at 4: both in the block of 1s
    # (positions 0-5), which took F=1.
    # One warning for the block, naming both scores it swallowed.
    assert frequency.warnings == ("F=2 and F=3 cannot be reached: 60% of customers share frequency 1, so they all get F=1.",)
    assert result.warnings == frequency.warnings  # R and M have distinct values: no warning


def test_an_unreachable_monetary_score_names_the_tied_value():
    # 20, 40, 10, 30, 20 -> M 2, 5, 1, 4, 2: M=3's share starts at position ceil(2 x 5 / 5) = 2 from the worst
    # (10 20 [20] 30 40), inside the block of 20s, which took M=2.
    table = _frame(recency=[1, 2, 3, 4, 5], frequency=[1, 2, 3, 4, 5], monetary=[20.0, 40.0, 10.0, 30.0, 20.0])
    assert compute_scores(table).warnings == (
        "M=3 cannot be reached: 40% of customers share monetary value 20.00, so they all get M=2.",
    )


def test_an_unreachable_recency_score_counts_from_the_oldest_purchase():
    # Recency 0, 5, 0, 9, 0: 9 days is the worst -> R=1; 5 has 1 worse -> R=2; the three 0s have 2 -> R=3.
    # From the worst: 9 5 0 0 0. R=4's share starts at position 3, R=5's at 4: both in the block of 0s.
    table = _frame(recency=[0, 5, 0, 9, 0], frequency=[1, 2, 3, 4, 5], monetary=[1.0, 2.0, 3.0, 4.0, 5.0])
    result = compute_scores(table)
    assert result.scores[R_SCORE].tolist() == [3, 2, 3, 1, 3]
    assert result.warnings == ("R=4 and R=5 cannot be reached: 60% of customers share recency 0 days, so they all get R=3.",)


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
    assert labels[(F, 2)] == "no customer"
    assert labels[(F, 1)] == "1 order"
    assert labels[(M, 5)] == "spent ≥ 150.00"
    assert labels[(M, 2)] == "spent 12.50–19.99"
    assert labels[(M, 1)] == "spent ≤ 7.00"
    bins = {(cut.metric, b.score): b for cut in result.cuts for b in cut.bins}
    assert (bins[(M, 3)].low, bins[(M, 3)].high, bins[(M, 3)].customers) == (45.0, 50.0, 2)
    assert (bins[(F, 1)].low, bins[(F, 1)].high, bins[(F, 1)].customers) == (1.0, 1.0, 6)
    assert (bins[(F, 2)].low, bins[(F, 2)].high, bins[(F, 2)].customers) == (None, None, 0)


def test_labels_for_a_single_recency_day_several_equal_orders_and_thousands():
    # 3 scores, 6 customers: score = 1 + floor(3 x worse / 6) = 1 + worse // 2.
    # recency from the worst 40, 30 (0, 1 worse) -> R=1; the three 7s (2 worse) -> R=2; 0 (5 worse) -> R=3.
    # frequency 1, 1 -> F=1; the three 2s (2 worse) -> F=2; 9 (5 worse) -> F=3.
    # monetary 3, 5 -> M=1; 6, 7 -> M=2; 1000, 1250.5 (4, 5 worse) -> M=3.
    table = _frame(
        recency=[0, 7, 7, 7, 30, 40], frequency=[1, 2, 2, 2, 9, 1], monetary=[5.0, 6.0, 7.0, 1000.0, 1250.5, 3.0]
    )
    labels = {(cut.metric, b.score): b.label for cut in compute_scores(table, n_bins=3).cuts for b in cut.bins}
    assert labels[(R, 1)] == "last purchase ≥ 30 days ago"
    assert labels[(R, 2)] == "last purchase 7 days ago"
    assert labels[(F, 1)] == "1 order"
    assert labels[(F, 2)] == "2 orders"
    assert labels[(F, 3)] == "9 orders"
    assert labels[(M, 1)] == "spent ≤ 5.00"
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
    assert frequency["customers"].tolist() == [2, 2, 0, 0, 6]
    assert frequency["share"].tolist() == pytest.approx([0.2, 0.2, 0.0, 0.0, 0.6])
    assert frequency["holds"].tolist() == ["≥ 4 orders", "2–3 orders", "no customer", "no customer", "1 order"]


# --- the user's thresholds --------------------------------------------------------------------


def test_thresholds_per_metric_with_ranks_for_the_others():
    # Recency bounds 30, 90, 180, 365: <= 30 is R=5, 31-90 R=4, 91-180 R=3, 181-365 R=2, above R=1.
    # Frequency bounds 1, 2, 5, 10: <= 1 is F=1, 2 F=2, 3-5 F=3, 6-10 F=4, above F=5.
    # Monetary by ranks: nine distinct values, worse = 0..8 -> 1 + floor(5 x worse / 9): 1, 1, 2, 2, 3, 3, 4, 4, 5.
    table = _frame(
        recency=[0, 30, 31, 90, 180, 181, 365, 366, 1000],
        frequency=[1, 2, 3, 5, 6, 10, 11, 1, 50],
        monetary=[1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0],
    )
    result = compute_scores(table, thresholds={R: [30, 90, 180, 365], F: (1, 2, 5, 10)})
    assert result.scores[R_SCORE].tolist() == [5, 5, 4, 4, 3, 2, 2, 1, 1]
    assert result.scores[F_SCORE].tolist() == [1, 2, 3, 3, 4, 4, 5, 1, 5]
    assert result.scores[M_SCORE].tolist() == [1, 1, 2, 2, 3, 3, 4, 4, 5]
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
    assert frequency.warnings == ("F=3 and F=4 hold no customer: no frequency falls between those thresholds.",)


def test_two_tie_blocks_give_one_warning_each():
    # Frequencies 1 x4, 2 x4, 9, 10 (10 customers, 5 scores): the 1s take F=1 and swallow F=2 (its share starts at
    # position 2); the 2s have 4 worse -> F=3 and swallow F=4 (position 6); 9 (8 worse) and 10 (9 worse) -> F=5.
    table = _frame(recency=list(range(10)), frequency=[1, 1, 1, 1, 2, 2, 2, 2, 9, 10], monetary=[float(v) for v in range(10)])
    result = compute_scores(table)
    assert result.scores[F_SCORE].tolist() == [1, 1, 1, 1, 3, 3, 3, 3, 5, 5]
    assert result.warnings == (
        "F=2 cannot be reached: 40% of customers share frequency 1, so they all get F=1.",
        "F=4 cannot be reached: 40% of customers share frequency 2, so they all get F=3.",
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


@pytest.mark.slow
@PROPERTY
@given(rfm_tables(), st.integers(3, 10))
def test_every_score_is_within_1_to_n_bins(table, n_bins):
    scores = compute_scores(table, n_bins=n_bins).scores
    for column in (R_SCORE, F_SCORE, M_SCORE):
        assert scores[column].between(1, n_bins).all()
    assert scores.index.equals(table.index)


@pytest.mark.slow
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


@pytest.mark.slow
@PROPERTY
@given(rfm_tables(), st.integers(3, 10), st.randoms(use_true_random=False))
def test_row_order_does_not_change_anyone_s_scores(table, n_bins, random):
    order = list(table.index)
    random.shuffle(order)
    first = compute_scores(table, n_bins=n_bins)
    second = compute_scores(table.loc[order], n_bins=n_bins)
    pd.testing.assert_frame_equal(second.scores.loc[table.index], first.scores)
    assert second.cuts == first.cuts


@pytest.mark.slow
@PROPERTY
@given(rfm_tables(), st.integers(3, 10))
def test_cut_counts_add_up_to_the_customers(table, n_bins):
    result = compute_scores(table, n_bins=n_bins)
    for cut in result.cuts:
        column = {R: R_SCORE, F: F_SCORE, M: M_SCORE}[cut.metric]
        assert sum(b.customers for b in cut.bins) == len(table)
        counted = [int((result.scores[column] == score).sum()) for score in range(1, n_bins + 1)]
        assert [b.customers for b in cut.bins] == counted
        # A warning for every score that holds nobody, and only then; with one value for every customer, or
        # fewer customers than scores, one warning.
        empty = [b.score for b in cut.bins if b.customers == 0]
        if empty and len(table) > 1 and table[cut.metric].nunique() == 1:
            assert len(cut.warnings) == 1
            assert cut.warnings[0].endswith(f"{cut.letter} cannot tell them apart, so all get {cut.letter}=1.")
        elif len(table) < n_bins and empty:
            assert len(cut.warnings) == 1
            assert all(f"{cut.letter}={score}" in cut.warnings[0] for score in empty)
        else:
            # One warning per tie block, naming every score it swallowed: each empty score named exactly once.
            named = [int(n) for w in cut.warnings for n in re.findall(rf"\b{cut.letter}=(\d+)\b", w.split(" cannot")[0])]
            assert sorted(named) == empty
    assert result.cuts_frame()["customers"].sum() == 3 * len(table)


def _rank_by_hand(values: list[float], n_bins: int, higher_is_better: bool) -> list[int]:
    """The rule written out: 1 + floor(n_bins x customers with a strictly worse value / customers)."""
    worse = [sum((w < v) if higher_is_better else (w > v) for w in values) for v in values]
    return [1 + n_bins * count // len(values) for count in worse]


@pytest.mark.slow
@PROPERTY
@given(rfm_tables(), st.integers(3, 10), st.randoms(use_true_random=False))
def test_rank_scores_follow_the_rule_for_any_values(table, n_bins, random):
    order = list(table.index)
    random.shuffle(order)
    result = compute_scores(table, n_bins=n_bins)
    shuffled = compute_scores(table.loc[order], n_bins=n_bins)
    for cut in result.cuts:
        values = table[cut.metric].astype("float64")
        higher_is_better = cut.metric != R
        scores = result.scores[{R: R_SCORE, F: F_SCORE, M: M_SCORE}[cut.metric]]
        assert scores.tolist() == _rank_by_hand(values.tolist(), n_bins, higher_is_better)
        goodness = values if higher_is_better else -values
        # The worst value gets 1; tied values share one score; a better value never scores lower.
        assert (scores[goodness == goodness.min()] == 1).all()
        assert scores.groupby(values).nunique().max() == 1
        by_goodness = scores.iloc[np.argsort(goodness.to_numpy(), kind="stable")]
        assert by_goodness.is_monotonic_increasing
        # The best value gets the top score whenever at most N / n_bins customers hold it.
        best = goodness == goodness.max()
        if best.sum() * n_bins <= len(values):
            assert (scores[best] == n_bins).all()
        # Row order plays no part.
        assert shuffled.scores[scores.name].loc[table.index].tolist() == scores.tolist()
        # The bounds saved with a model score this table again the same way.
        rescored = threshold_scores(values, value_bounds(cut), higher_is_better)
        assert rescored.tolist() == scores.tolist()


def test_value_bounds_by_hand():
    # TEN's frequency: F=1 holds 1, F=2 and F=3 nobody, F=4 holds 2-3, F=5 4-5 -> bounds 1, 1, 1, 3
    # (an empty score repeats the bound before it, so nothing lands in it).
    result = compute_scores(TEN)
    frequency = next(cut for cut in result.cuts if cut.metric == F)
    assert value_bounds(frequency) == (1.0, 1.0, 1.0, 3.0)
    assert threshold_scores(TEN[F], value_bounds(frequency)).to_dict() == TEN_F
    # Recency 0, 0, 30, 90 with 4 scores: 90 -> R=1, 30 -> R=2, the 0s (2 worse) -> 1 + floor(8 / 4) = R=3;
    # R=4 holds nobody. In ascending days: R=4 (empty, just below 0: -1), R=3 up to 0, R=2 up to 30.
    table = _frame(recency=[0, 0, 30, 90], frequency=[1, 2, 3, 4], monetary=[1.0, 2.0, 3.0, 4.0])
    recency = next(cut for cut in compute_scores(table, n_bins=4).cuts if cut.metric == R)
    assert [b.customers for b in recency.bins] == [1, 1, 2, 0]
    assert value_bounds(recency) == (-1.0, 0.0, 30.0)
    assert threshold_scores(table[R], value_bounds(recency), higher_is_better=False).tolist() == [3, 3, 2, 1]


def test_a_single_repeated_value_reads_as_one_amount():
    # Monetary 1, 1, 5, 5, 5, 9 with three scores: the 5s have 2 worse -> 1 + floor(6 / 6) = M=2, the middle
    # band: "spent 5.00", not "spent 5.00–5.00".
    table = pd.DataFrame({R: [1, 2, 3, 4, 5, 6], F: [1, 2, 3, 4, 5, 6], M: [1.0, 1.0, 5.0, 5.0, 5.0, 9.0]})
    cuts = compute_scores(table, n_bins=3).cuts[2]
    assert cuts.bins[1].label == "spent 5.00"


def test_fewer_customers_than_scores_give_one_warning_per_metric():
    table = pd.DataFrame({R: [1, 5], F: [1, 2], M: [5.0, 9.0]})
    warnings = compute_scores(table, n_bins=5).warnings
    assert len(warnings) == 3
    # Frequency 1 and 2: 1 -> F=1, 2 has 1 worse -> 1 + floor(5 / 2) = F=3.
    assert warnings[1] == "Only 2 customer(s) for 5 scores: F=2, F=4, F=5 hold no customer."
