"""RFM as of any day and segments over time (rfm.trends.timeline) on four hand-made customers and nine orders.

The model is a stand-in whose labels can be worked out by hand (:class:`RecencyModel`), so every count below is
written out from the orders; tests/trends/test_migration.py checks the same functions with a fitted model.
"""

from __future__ import annotations

import datetime as dt
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

from rfm import schema
from rfm.cleaning.orders import DATE, LAST_LINE, VALUE, tidy_orders
from rfm.errors import RFMInputError
from rfm.scoring.rules import OTHER
from rfm.trends.timeline import (
    LEFT,
    MAX_SNAPSHOTS,
    date_range,
    default_dates,
    has_period,
    labelled_as_of,
    quarter_before,
    rfm_as_of,
    sizes_over_time,
    snapshot_days,
    state_order,
)

#   a  four orders; the first's lines run from 09:00 to 10:00
#   b  one order in January: 86 days without an order by 2024-03-31
#   c  an order at 23:30 on 2024-02-29 whose last line is at 00:15 the day after, then one in June
#   d  first order in April
ORDER_ROWS = [
    ("a", "2024-01-10 09:00", "2024-01-10 10:00", 15.0),
    ("a", "2024-03-15 12:00", "2024-03-15 12:00", 20.0),
    ("a", "2024-05-10 12:00", "2024-05-10 12:00", 30.0),
    ("a", "2024-06-30 18:00", "2024-06-30 18:00", 5.0),
    ("b", "2024-01-05 12:00", "2024-01-05 12:00", 50.0),
    ("c", "2024-02-29 23:30", "2024-03-01 00:15", 10.0),
    ("c", "2024-06-01 12:00", "2024-06-01 12:00", 35.0),
    ("d", "2024-04-15 12:00", "2024-04-15 12:00", 60.0),
    ("d", "2024-06-25 12:00", "2024-06-25 12:00", 10.0),
]
ORDERS = tidy_orders(pd.DataFrame(ORDER_ROWS, columns=[schema.CUSTOMER_ID, DATE, LAST_LINE, VALUE]))
LAST_DAY = dt.date(2024, 6, 30)
ACTIVE = 60


class RecencyModel:
    """A stand-in for :class:`rfm.bundle.model.ModelBundle` with labels worked out by hand: the RFM segment is
    ``Recent`` up to 30 days after the last order and ``Lapsed`` after; the cluster is ``Repeat`` from two orders
    and ``Single`` below."""

    rules = (SimpleNamespace(segment="Recent"), SimpleNamespace(segment="Lapsed"))
    features = (schema.RECENCY, schema.FREQUENCY)
    names = pd.DataFrame({"name": ["Single", "Repeat"], "merit": [1.0, 2.0]})

    def label_columns(self, columns: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        return {
            "segment": np.where(np.asarray(columns[schema.RECENCY]) <= 30, "Recent", "Lapsed"),
            "cluster_name": np.where(np.asarray(columns[schema.FREQUENCY]) >= 2, "Repeat", "Single"),
        }

    def score(self, table: pd.DataFrame) -> pd.DataFrame:
        return table.assign(**self.label_columns({column: table[column].to_numpy() for column in self.features}))


MODEL = RecencyModel()


def _orders(days: list[str]) -> pd.DataFrame:
    return tidy_orders(pd.DataFrame({schema.CUSTOMER_ID: [f"c{i}" for i in range(len(days))], DATE: days, VALUE: 1.0}))


# --------------------------------------------------------------------------------------------- RFM as of a day


def test_rfm_as_of_a_day_by_hand():
    table = rfm_as_of(ORDERS, dt.date(2024, 3, 31))
    assert list(table.columns) == list(schema.RFM_COLUMNS) and table.index.tolist() == ["a", "b", "c"]  # d: not yet
    assert table[schema.FREQUENCY].tolist() == [2, 1, 1]
    assert table[schema.MONETARY].tolist() == [35.0, 50.0, 10.0]
    assert table[schema.RECENCY].tolist() == [16, 86, 30]  # from 03-15, 01-05 and c's last line on 03-01
    assert table[schema.TENURE].tolist() == [81, 86, 31]
    assert table[schema.AVG_ORDER_VALUE].tolist() == [17.5, 50.0, 10.0]
    assert table.loc["c", schema.LAST_PURCHASE] == pd.Timestamp("2024-03-01 00:15")


def test_rfm_as_of_the_day_an_order_spans_midnight_counts_it_up_to_midnight():
    table = rfm_as_of(ORDERS, dt.date(2024, 2, 29))
    # c's order was placed on the day; its last line, after midnight, is not: the last purchase is the order's time.
    assert table.loc["c", schema.LAST_PURCHASE] == pd.Timestamp("2024-02-29 23:30")
    assert table[schema.RECENCY].tolist() == [50, 55, 0]
    assert table[schema.FREQUENCY].tolist() == [1, 1, 1]


def test_rfm_as_of_the_last_day_and_before_any_order():
    table = rfm_as_of(ORDERS, LAST_DAY)
    assert table.index.tolist() == ["a", "b", "c", "d"]
    assert table[schema.FREQUENCY].tolist() == [4, 1, 2, 2]
    assert table[schema.MONETARY].tolist() == [70.0, 50.0, 45.0, 70.0]
    assert table[schema.RECENCY].tolist() == [0, 177, 29, 5]
    empty = rfm_as_of(ORDERS, dt.date(2023, 12, 31))
    assert empty.empty and list(empty.columns) == list(schema.RFM_COLUMNS)


# --------------------------------------------------------------------------------------------- dates


def test_date_range_and_has_period():
    assert date_range(ORDERS) == (dt.date(2024, 1, 5), LAST_DAY)
    assert has_period(ORDERS, LAST_DAY)
    assert not has_period(ORDERS, dt.date(2024, 1, 5))  # no order before the first day
    with pytest.raises(RFMInputError, match=r"^There are no orders to compare over time"):
        date_range(ORDERS.iloc[:0])


def test_snapshot_days():
    assert snapshot_days(dt.date(2024, 1, 3), dt.date(2024, 6, 30)) == [
        dt.date(2024, 1, 31), dt.date(2024, 2, 29), dt.date(2024, 3, 31),
        dt.date(2024, 4, 30), dt.date(2024, 5, 31), dt.date(2024, 6, 30),
    ]
    assert snapshot_days(dt.date(2024, 1, 3), dt.date(2024, 3, 20))[-2:] == [dt.date(2024, 2, 29), dt.date(2024, 3, 20)]
    assert snapshot_days(dt.date(2024, 1, 3), dt.date(2024, 1, 20)) == [dt.date(2024, 1, 20)]
    weeks = snapshot_days(dt.date(2024, 1, 3), dt.date(2024, 6, 30), "week")
    assert weeks[0] == dt.date(2024, 1, 7) and weeks[-1] == dt.date(2024, 6, 30) and len(weeks) == 26
    assert all(day.weekday() == 6 for day in weeks)
    assert snapshot_days(dt.date(2024, 1, 3), dt.date(2024, 1, 17), "week") == [
        dt.date(2024, 1, 7), dt.date(2024, 1, 14), dt.date(2024, 1, 17)
    ]
    first = dt.date(2024, 1, 1)  # a Monday: the 260th Sunday is 259 weeks after 2024-01-07
    last_ok = dt.date(2024, 1, 7) + dt.timedelta(weeks=MAX_SNAPSHOTS - 1)
    assert len(snapshot_days(first, last_ok, "week")) == MAX_SNAPSHOTS
    with pytest.raises(RFMInputError, match="261 weekly snapshots"):
        snapshot_days(first, last_ok + dt.timedelta(days=1), "week")
    with pytest.raises(RFMInputError, match="monthly"):
        snapshot_days(dt.date(2000, 1, 1), dt.date(2011, 12, 9), "week")
    with pytest.raises(RFMInputError, match="'day'"):
        snapshot_days(first, last_ok, "day")


def test_quarter_before():
    assert quarter_before(dt.date(2011, 12, 9)) == dt.date(2011, 9, 30)
    assert quarter_before(dt.date(2024, 1, 15)) == dt.date(2023, 12, 31)
    assert quarter_before(dt.date(2024, 3, 31)) == dt.date(2023, 12, 31)
    assert quarter_before(dt.date(2024, 4, 1)) == dt.date(2024, 3, 31)
    assert quarter_before(dt.date(2024, 7, 1)) == dt.date(2024, 6, 30)
    assert quarter_before(dt.date(2024, 10, 31)) == dt.date(2024, 9, 30)


def test_default_dates():
    # The end of the previous quarter, and the analysis date.
    assert default_dates(ORDERS, LAST_DAY) == (dt.date(2024, 3, 31), LAST_DAY)
    # Shorter than a quarter: the middle of the file's range.
    short = _orders(["2024-05-10 12:00", "2024-06-29 08:00"])
    assert default_dates(short, dt.date(2024, 6, 29)) == (dt.date(2024, 6, 4), dt.date(2024, 6, 29))
    # The previous quarter ends on the first day: still the middle.
    edge = _orders(["2024-03-31 12:00", "2024-05-10 08:00"])
    assert default_dates(edge, dt.date(2024, 5, 10)) == (dt.date(2024, 4, 20), dt.date(2024, 5, 10))
    with pytest.raises(RFMInputError):
        default_dates(_orders([]), dt.date(2024, 5, 10))


# --------------------------------------------------------------------------------------------- labels over time


def test_labelled_as_of_names_each_customer_or_counts_them_as_left():
    day = dt.date(2024, 3, 31)
    labelled = labelled_as_of(ORDERS, MODEL, day, "segment", ACTIVE)
    # Recency 16, 86 and 30: b, silent for more than 60 days, has left.
    assert labelled["state"].to_dict() == {"a": "Recent", "b": LEFT, "c": "Recent"}
    assert labelled["segment"].to_dict() == {"a": "Recent", "b": "Lapsed", "c": "Recent"}
    assert labelled_as_of(ORDERS, MODEL, day)["state"].to_dict() == {"a": "Recent", "b": "Lapsed", "c": "Recent"}
    by_cluster = labelled_as_of(ORDERS, MODEL, day, "cluster_name", ACTIVE)
    assert by_cluster["state"].to_dict() == {"a": "Repeat", "b": LEFT, "c": "Single"}


def test_labelled_as_of_before_any_order_and_a_wrong_name():
    assert labelled_as_of(ORDERS, MODEL, dt.date(2023, 12, 31), "segment", ACTIVE).empty
    with pytest.raises(RFMInputError, match="not 'nonsense'"):
        labelled_as_of(ORDERS, MODEL, LAST_DAY, "nonsense")


def test_sizes_over_time_by_hand():
    days = [LAST_DAY, dt.date(2024, 1, 31), dt.date(2024, 2, 29), dt.date(2024, 3, 31)]  # any order: sorted
    sizes = sizes_over_time(ORDERS, MODEL, days, "segment", ACTIVE)
    # Recency of a, b, c, d: 01-31: 21, 26; 02-29: 50, 55, 0; 03-31: 16, 86 (left), 30; 06-30: 0, 177 (left), 29, 5.
    expected = pd.DataFrame(
        {"Recent": [2, 1, 2, 3], "Lapsed": [0, 2, 0, 0], LEFT: [0, 0, 1, 1]},
        index=pd.Index(sorted(days), name="day"),
    )
    pd.testing.assert_frame_equal(sizes, expected)
    # Each snapshot is labelled_as_of that day, counted.
    for day in sizes.index:
        counts = labelled_as_of(ORDERS, MODEL, day, "segment", ACTIVE)["state"].value_counts()
        assert sizes.loc[day][sizes.loc[day] > 0].to_dict() == counts.to_dict()


def test_sizes_over_time_by_cluster_with_nobody_leaving_and_a_day_before_any_order():
    days = [dt.date(2023, 12, 31), dt.date(2024, 3, 31), LAST_DAY]
    sizes = sizes_over_time(ORDERS, MODEL, days, "cluster_name")
    # Orders by 03-31: a 2, b 1, c 1; by 06-30: a 4, b 1, c 2, d 2. Best cluster (highest merit) first.
    expected = pd.DataFrame({"Repeat": [0, 1, 3], "Single": [0, 2, 1]}, index=pd.Index(days, name="day"))
    pd.testing.assert_frame_equal(sizes, expected)
    with pytest.raises(RFMInputError, match="not 'tier'"):
        sizes_over_time(ORDERS, MODEL, days, "tier")


def test_state_order():
    states = [LEFT, "Zeta", "Lapsed", "Alpha", "Recent"]
    # The model's rules in order, then states it does not know (sorted), then Left.
    assert state_order(states, MODEL, "segment") == ["Recent", "Lapsed", "Alpha", "Zeta", LEFT]
    assert state_order([OTHER, "Lapsed"], MODEL, "segment") == ["Lapsed", OTHER]  # the rules' fallback last
    # Clusters from the highest merit down.
    assert state_order(["Single", LEFT, "Repeat"], MODEL, "cluster_name") == ["Repeat", "Single", LEFT]
    assert state_order([], MODEL, "segment") == []
