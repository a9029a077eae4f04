"""Named segments from score rules: defaults, first match wins, "Other", and the rules editor's table."""

import itertools
import re

import numpy as np
import pandas as pd
import pytest

from rfm.errors import RFMInputError
from rfm.schema import F_SCORE, M_SCORE, R_SCORE
from rfm.scoring.rules import (
    OTHER,
    RULE_COLUMNS,
    SegmentRule,
    assign_segments,
    default_rules,
    rules_frame,
    rules_from_frame,
    segment_info,
)
from tests.support.reference import GRID_5

SEGMENTS = [
    "Champions", "Loyal Customers", "Potential Loyalist", "New Customers", "Promising", "Need Attention",
    "About To Sleep", "At Risk", "Can't Lose Them", "Hibernating", "Lost",
]



def _scores(rows, index=None) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=[R_SCORE, F_SCORE, M_SCORE], index=index)


def _grid(n_bins: int) -> pd.DataFrame:
    return _scores(list(itertools.product(range(1, n_bins + 1), repeat=3)))


# --- the default rules ------------------------------------------------------------------------


def test_one_constructed_customer_per_default_segment():
    customers = {
        "Champions": (5, 5, 3),
        "Loyal Customers": (3, 4, 1),
        "Potential Loyalist": (4, 2, 5),
        "New Customers": (5, 1, 1),
        "Promising": (4, 1, 2),
        "Need Attention": (3, 3, 3),
        "About To Sleep": (3, 2, 4),
        "At Risk": (2, 3, 2),
        "Can't Lose Them": (1, 5, 5),
        "Hibernating": (2, 1, 3),
        "Lost": (1, 2, 1),
    }
    scores = _scores(list(customers.values()), index=[f"cust-{i}" for i in range(len(customers))])
    segments = assign_segments(scores, default_rules())
    assert segments.tolist() == list(customers)
    assert list(segments.index) == list(scores.index)
    assert [rule.segment for rule in default_rules()] == SEGMENTS


def test_default_rules_follow_the_published_grid_for_every_m():
    grid = _grid(5)
    expected = [GRID_5[r][f - 1] for r, f in zip(grid[R_SCORE], grid[F_SCORE])]
    assert assign_segments(grid, default_rules()).tolist() == expected


def test_default_rules_cover_the_5x5_grid_exactly_once():
    grid = _grid(5)
    matches = sum(rule.matches(grid).astype(int) for rule in default_rules())
    assert (matches == 1).all()


def test_every_default_rule_has_a_description_and_an_action():
    for rule in default_rules():
        assert rule.description and rule.action, rule.segment


@pytest.mark.parametrize("n_bins", range(3, 11))
def test_stretched_defaults_cover_the_whole_grid(n_bins):
    segments = assign_segments(_grid(n_bins), default_rules(n_bins))
    assert len(segments) == n_bins**3
    assert (segments != OTHER).all()


def test_ten_scores_double_every_range_and_reach_all_eleven_segments():
    rules = default_rules(10)
    champions = rules[0]
    assert (champions.r_min, champions.r_max, champions.f_min, champions.f_max) == (9, 10, 7, 10)
    assert (champions.m_min, champions.m_max) == (1, 10)
    need_attention = rules[SEGMENTS.index("Need Attention")]  # R 3, F 3 on 1-5 -> 5-6 on 1-10
    assert (need_attention.r_min, need_attention.r_max, need_attention.f_min, need_attention.f_max) == (5, 6, 5, 6)
    assert set(assign_segments(_grid(10), rules)) == set(SEGMENTS)
    # Each 10-score cell lands where its 5-score cell (ceil(score / 2)) lands.
    grid = _grid(10)
    expected = [GRID_5[-(-r // 2)][-(-f // 2) - 1] for r, f in zip(grid[R_SCORE], grid[F_SCORE])]
    assert assign_segments(grid, rules).tolist() == expected


def test_three_scores_stretch_by_hand():
    # Score s of 1-5 spans floor((s-1) x 3/5) + 1 .. ceil(s x 3/5) of 1-3: 1->1-1, 2->1-2, 3->2-2, 4->2-3, 5->3-3.
    rules = {rule.segment: rule for rule in default_rules(3)}
    champions, lost = rules["Champions"], rules["Lost"]
    assert (champions.r_min, champions.r_max, champions.f_min, champions.f_max, champions.m_max) == (3, 3, 2, 3, 3)
    assert (lost.r_min, lost.r_max, lost.f_min, lost.f_max) == (1, 1, 1, 2)


def test_default_rules_for_five_are_the_defaults():
    assert default_rules(5) == default_rules()


# --- first match, Other -----------------------------------------------------------------------

RECENT = SegmentRule("Recent", 4, 5, 1, 5, 1, 5)
FREQUENT = SegmentRule("Frequent", 1, 5, 4, 5, 1, 5)


def test_first_matching_rule_wins():
    scores = _scores([(5, 5, 1), (1, 5, 1), (5, 1, 1)], index=["both", "frequent", "recent"])
    assert assign_segments(scores, [RECENT, FREQUENT]).tolist() == ["Recent", "Frequent", "Recent"]
    assert assign_segments(scores, [FREQUENT, RECENT]).tolist() == ["Frequent", "Frequent", "Recent"]


def test_no_matching_rule_is_other():
    scores = _scores([(3, 3, 3), (5, 3, 3), (3, 3, 5)])
    only_m5 = SegmentRule("Big spend", 1, 5, 1, 5, 5, 5)
    assert assign_segments(scores, [RECENT, only_m5]).tolist() == [OTHER, "Recent", "Big spend"]
    assert assign_segments(scores, []).tolist() == [OTHER] * 3


def test_ranges_are_inclusive_at_both_ends():
    rule = SegmentRule("Middle", 2, 4, 2, 4, 2, 4)
    scores = _scores([(2, 2, 2), (4, 4, 4), (1, 3, 3), (3, 5, 3), (3, 3, 1)])
    assert assign_segments(scores, [rule]).tolist() == ["Middle", "Middle", OTHER, OTHER, OTHER]


# --- the editable table -----------------------------------------------------------------------


def test_rules_round_trip_through_the_table():
    frame = rules_frame(default_rules())
    assert list(frame.columns) == RULE_COLUMNS
    assert frame["segment"].tolist() == SEGMENTS
    assert rules_from_frame(frame) == default_rules()


def test_blank_rows_the_editor_adds_are_skipped():
    frame = rules_frame(default_rules()).astype(dict.fromkeys(RULE_COLUMNS[1:7], "float64"))
    blank = pd.DataFrame([[None] + [np.nan] * 6 + ["", None], [""] + ["  "] * 6 + [None, None]], columns=RULE_COLUMNS)
    edited = pd.concat([frame.iloc[:3], blank, frame.iloc[3:]], ignore_index=True)
    assert rules_from_frame(edited) == default_rules()


def test_whole_numbers_may_come_as_floats_or_text():
    frame = pd.DataFrame(
        [{"segment": " Best ", "r_min": 5.0, "r_max": "5", "f_min": 4, "f_max": 5, "m_min": 1, "m_max": 5}]
    )
    assert rules_from_frame(frame) == (SegmentRule("Best", 5, 5, 4, 5, 1, 5),)


def _one_rule(**changes) -> pd.DataFrame:
    row = {"segment": "Best", "r_min": 5, "r_max": 5, "f_min": 4, "f_max": 5, "m_min": 1, "m_max": 5, **changes}
    return pd.DataFrame([row, {**row, "segment": "Second"}])


def test_a_rule_without_a_name():
    frame = _one_rule()
    frame.loc[1, "segment"] = "  "
    with pytest.raises(RFMInputError, match=r"^Rule 2 has no segment name: segment='  ', r_min=5, r_max=5, "):
        rules_from_frame(frame)


@pytest.mark.parametrize(("column", "value"), [("r_max", 6), ("f_min", 0), ("m_max", -1)])
def test_a_score_out_of_range(column, value):
    message = rf"^Rule 1 \(Best\): {column} should be a whole score from 1 to 5; got {value}\.$"
    with pytest.raises(RFMInputError, match=message):
        rules_from_frame(_one_rule(**{column: value}))


def test_a_score_out_of_range_for_three_scores():
    with pytest.raises(RFMInputError, match=r"^Rule 1 \(Best\): r_min should be a whole score from 1 to 3; got 5\.$"):
        rules_from_frame(_one_rule(r_max=3, f_min=1, f_max=3, m_max=3), n_bins=3)


@pytest.mark.parametrize("value", [2.5, "x", "inf", None])
def test_a_score_that_is_not_a_whole_number(value):
    message = rf"^Rule 1 \(Best\): m_min should be a whole score from 1 to 5; got {re.escape(repr(value))}\.$"
    with pytest.raises(RFMInputError, match=message):
        rules_from_frame(_one_rule(m_min=value))


def test_min_above_max():
    with pytest.raises(RFMInputError, match=r"^Rule 1 \(Best\): f_min=4 is above f_max=2\.$"):
        rules_from_frame(_one_rule(f_max=2))


def test_an_empty_rules_table():
    message = r"^The rules table is empty: add at least one rule, or reset to the defaults\.$"
    with pytest.raises(RFMInputError, match=message):
        rules_from_frame(pd.DataFrame([[None] * 9], columns=RULE_COLUMNS))


def test_a_rules_table_without_some_columns():
    with pytest.raises(RFMInputError, match=r"^The rules table lacks column\(s\) \['m_min', 'm_max'\]; it needs "):
        rules_from_frame(rules_frame(default_rules()).drop(columns=["m_min", "m_max"]))


def test_descriptions_and_actions_are_optional():
    frame = _one_rule().drop(index=1)
    frame["description"] = [np.nan]
    (rule,) = rules_from_frame(frame)
    assert (rule.description, rule.action) == ("", "")


# --- descriptions -----------------------------------------------------------------------------


def test_segment_info_in_rule_order_with_other_last():
    info = segment_info(default_rules())
    assert list(info.index) == SEGMENTS + [OTHER]
    assert list(info.columns) == ["description", "action"]
    assert info.loc["Lost", "description"] == "Few orders, the longest time ago."
    assert info.loc[OTHER, "description"] == "No rule matched this customer's scores."


def test_segment_info_keeps_the_first_rule_of_a_repeated_name():
    rules = [SegmentRule("VIP", 5, 5, 5, 5, 1, 5, "first"), RECENT, SegmentRule("VIP", 1, 1, 5, 5, 1, 5, "second")]
    info = segment_info(rules)
    assert list(info.index) == ["VIP", "Recent", OTHER]
    assert info.loc["VIP", "description"] == "first"


def test_other_is_reserved_for_customers_no_rule_matches():
    frame = rules_frame(default_rules())
    frame.loc[0, "segment"] = "Other"
    with pytest.raises(RFMInputError, match=r"Rule 1: 'Other' is kept for customers no rule matches"):
        rules_from_frame(frame)
