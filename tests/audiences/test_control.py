"""Random control groups: a seeded draw independent of the list's order, and the later comparison by hand."""

from __future__ import annotations

import datetime as dt
import math

import numpy as np
import pandas as pd
import pytest

from rfm import schema
from rfm.audiences.control import CONTACTED, HELD_BACK, compare_groups, control_note, hold_out
from rfm.errors import RFMInputError


def test_the_draw_holds_back_the_share_and_repeats_with_the_seed():
    ids = [f"{i:05d}" for i in range(1_000)]
    held = hold_out(ids, 0.1, seed=42)
    assert held.sum() == 100 and held.dtype == bool and held.index.tolist() == ids
    assert held.equals(hold_out(ids, 0.1, seed=42))
    assert held.equals(hold_out(ids[::-1], 0.1, seed=42).reindex(held.index))  # order does not matter
    assert not held.equals(hold_out(ids, 0.1, seed=43))


def test_the_draw_looks_random():
    held = hold_out([str(i) for i in range(20_000)], 0.2, seed=1)
    halves = [held.iloc[:10_000].mean(), held.iloc[10_000:].mean()]
    assert all(abs(share - 0.2) < 0.02 for share in halves)


@pytest.mark.parametrize("share", [0, -0.1, 0.51, 1])
def test_a_share_outside_0_to_half_is_refused(share):
    with pytest.raises(RFMInputError, match="between 0% and 50%"):
        hold_out(["a", "b"], share, seed=1)


def test_small_groups_are_warned():
    assert "nobody held back" in control_note(4, 0)
    assert "Only 10 customers are held back" in control_note(100, 10)
    assert control_note(1_000, 100) is None


def _run(rows):
    frame = pd.DataFrame(rows, columns=["id", schema.FIRST_PURCHASE, schema.LAST_PURCHASE, schema.MONETARY]).set_index("id")
    for column in (schema.FIRST_PURCHASE, schema.LAST_PURCHASE):
        frame[column] = pd.to_datetime(frame[column])
    return frame


def test_the_comparison_by_hand():
    since = dt.date(2024, 2, 1)
    base = _run([(c, "2023-01-01", "2024-01-15", 100.0) for c in "abcdef"])
    later = _run([
        ("a", "2023-01-01", "2024-02-10", 150.0),  # contacted, bought 50 since
        ("b", "2023-01-01", "2024-02-01", 130.0),  # contacted, bought on the day itself
        ("c", "2023-01-01", "2024-01-15", 100.0),  # contacted, did not buy
        ("d", "2023-01-01", "2024-03-01", 110.0),  # held back, bought 10 since
        ("e", "2023-01-01", "2024-01-15", 100.0),  # held back, did not buy
    ])  # f (held back) is missing from the later run
    held = pd.Series([False, False, False, True, True, True], index=list("abcdef"))
    result = compare_groups(held, base, later, since)
    table = result.table
    assert table.loc[CONTACTED, ["customers", "in_later_run", "bought_again"]].tolist() == [3, 3, 2]
    assert table.loc[HELD_BACK, ["customers", "in_later_run", "bought_again"]].tolist() == [3, 2, 1]
    assert table.at[CONTACTED, "bought_again_rate"] == pytest.approx(2 / 3)
    assert table.at[CONTACTED, "spend_since"] == pytest.approx(80.0)
    assert table.at[HELD_BACK, "spend_since_per_customer"] == pytest.approx(10 / 3)
    assert result.lift == pytest.approx(1 / 3)
    pooled = 0.5
    z = (1 / 3) / math.sqrt(pooled * pooled * (2 / 3))
    assert result.p_value == pytest.approx(math.erfc(z / math.sqrt(2)))
    assert any("1 of the audience's customers are not in the later run" in note for note in result.notes)
    assert "66.7% of the contacted customers bought again against 33.3%" in result.summary()


def test_spend_since_is_left_out_when_the_later_history_starts_later():
    base = _run([("a", "2023-01-01", "2024-01-15", 100.0), ("b", "2023-01-01", "2024-01-15", 100.0)])
    later = _run([("a", "2023-06-01", "2024-02-10", 40.0), ("b", "2023-06-01", "2024-01-10", 20.0)])
    result = compare_groups(pd.Series([False, True], index=["a", "b"]), base, later, dt.date(2024, 2, 1))
    assert "spend_since" not in result.table.columns
    assert any("Spend since is left out" in note for note in result.notes)
    assert result.table["bought_again"].tolist() == [1, 0]


def test_an_empty_group_gives_no_lift():
    base = _run([("a", "2023-01-01", "2024-01-15", 100.0)])
    result = compare_groups(pd.Series([False], index=["a"]), base, base, dt.date(2024, 2, 1))
    assert np.isnan(result.lift) and "one of the groups is empty" in result.summary()
