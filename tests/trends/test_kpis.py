"""Campaign KPIs per segment (rfm.trends.kpis) on five hand-made customers and nine orders.

Retention is measured from 2024-03-31 to 2024-06-30: of those who had bought by the end of the first date, the
share who bought again after it, up to the end of the second. Every expected figure is worked out in the comments.
"""

from __future__ import annotations

import datetime as dt
import math

import pandas as pd
import pytest

from rfm import schema
from rfm.cleaning.orders import DATE, VALUE, tidy_orders
from rfm.errors import RFMInputError
from rfm.trends.kpis import KPI_HELP, KPI_LABELS, TOTAL, SegmentKPIs, campaign_kpis

FROM_DATE, TO_DATE = dt.date(2024, 3, 31), dt.date(2024, 6, 30)

#   a  three orders (20, 30, 50); bought before and after the first date        existing, came back
#   b  one order at 23:00 on the first date (40): it counts as before           existing, did not come back
#   c  two orders (10, 30), the second at 18:00 on the second date              existing, came back
#   d  two orders (25, 35), both after the first date                           new: not counted for retention
#   e  one order in January (15)                                                existing, did not come back
ORDER_ROWS = [
    ("a", "2024-01-10 09:00", 20.0),
    ("a", "2024-02-15 12:00", 30.0),
    ("a", "2024-04-10 12:00", 50.0),
    ("b", "2024-03-31 23:00", 40.0),
    ("c", "2024-02-01 12:00", 10.0),
    ("c", "2024-06-30 18:00", 30.0),
    ("d", "2024-05-05 12:00", 25.0),
    ("d", "2024-06-01 12:00", 35.0),
    ("e", "2024-01-20 12:00", 15.0),
]
ORDERS = tidy_orders(pd.DataFrame(ORDER_ROWS, columns=[schema.CUSTOMER_ID, DATE, VALUE]))
# The RFM table's two columns the KPIs read: orders and revenue per customer.
CUSTOMERS = pd.DataFrame(
    {schema.FREQUENCY: [3, 1, 2, 2, 1], schema.MONETARY: [100.0, 40.0, 40.0, 60.0, 15.0]},
    index=pd.Index(list("abcde"), name=schema.CUSTOMER_ID),
)
SEGMENTS = pd.Series({"a": "Gold", "c": "Gold", "b": "Silver", "d": "Silver", "e": "Silver"})
COLUMNS = list(KPI_LABELS)


def expect_row(table: pd.DataFrame, name: str, expected: tuple) -> None:
    """``expected``: customers, repeat rate, orders per customer, order value, revenue per customer, retention,
    customers by the first date; a NaN retention must be NaN."""
    row = table.loc[name]
    assert int(row["customers"]) == expected[0] and int(row["retained_of"]) == expected[6], name
    got = [row[column] for column in COLUMNS[1:5]]
    assert got == pytest.approx(list(expected[1:5])), name
    if math.isnan(expected[5]):
        assert math.isnan(row["retention"]), name
    else:
        assert row["retention"] == pytest.approx(expected[5]), name


def test_campaign_kpis_by_hand():
    table = campaign_kpis(CUSTOMERS, SEGMENTS, ORDERS, FROM_DATE, TO_DATE)
    assert list(table.columns) == COLUMNS and table.index.name == "segment"
    assert list(table.index) == ["Silver", "Gold", TOTAL]  # largest segment first, all customers last
    # Gold (a, c): 5 orders, 140 revenue; both bought by the first date and both came back.
    expect_row(table, "Gold", (2, 2 / 2, 5 / 2, 140 / 5, 140 / 2, 2 / 2, 2))
    # Silver (b, d, e): 4 orders, 115 revenue; d repeats; b and e had bought by the first date, neither came back.
    expect_row(table, "Silver", (3, 1 / 3, 4 / 3, 115 / 4, 115 / 3, 0 / 2, 2))
    # Everyone: 9 orders, 255 revenue; a, b, c, e had bought by the first date; a and c came back.
    expect_row(table, TOTAL, (5, 3 / 5, 9 / 5, 255 / 9, 255 / 5, 2 / 4, 4))
    assert table["customers"].dtype == "int64" and table["retained_of"].dtype == "int64"


def test_campaign_kpis_in_a_chosen_order_and_equal_sizes_in_order_seen():
    chosen = campaign_kpis(CUSTOMERS, SEGMENTS, ORDERS, FROM_DATE, TO_DATE, order=["Gold", "Silver"])
    assert list(chosen.index) == ["Gold", "Silver", TOTAL]
    pairs = pd.Series({"a": "Y", "b": "X", "c": "Y", "d": "X", "e": "Z"})  # Y is seen first (customer a)
    assert list(campaign_kpis(CUSTOMERS, pairs, ORDERS, FROM_DATE, TO_DATE).index) == ["Y", "X", "Z", TOTAL]


def test_a_segment_nobody_of_which_had_bought_by_the_first_date_has_no_retention():
    segments = SEGMENTS.copy()
    segments["d"] = "Newcomers"
    table = campaign_kpis(CUSTOMERS, segments, ORDERS, FROM_DATE, TO_DATE)
    # d alone: 2 orders, 60 revenue, first order after the first date.
    expect_row(table, "Newcomers", (1, 1.0, 2.0, 30.0, 60.0, math.nan, 0))


def test_a_period_without_orders_retains_nobody():
    table = campaign_kpis(CUSTOMERS, SEGMENTS, ORDERS, dt.date(2024, 7, 1), dt.date(2024, 7, 31))
    # Everyone had bought by 2024-07-01; nobody bought in July.
    assert table["retention"].tolist() == [0.0, 0.0, 0.0]
    assert table["retained_of"].tolist() == [3, 2, 5]


def test_one_customer():
    table = campaign_kpis(CUSTOMERS.loc[["a"]], SEGMENTS, ORDERS, FROM_DATE, TO_DATE)
    assert list(table.index) == ["Gold", TOTAL]
    expect_row(table, "Gold", (1, 1.0, 3.0, 100 / 3, 100.0, 1.0, 1))
    expect_row(table, TOTAL, (1, 1.0, 3.0, 100 / 3, 100.0, 1.0, 1))


def test_the_first_date_must_be_before_the_second():
    for to_date in (FROM_DATE, FROM_DATE - dt.timedelta(days=1)):
        with pytest.raises(RFMInputError, match=r"^The first date \(2024-03-31\) must be before the second"):
            campaign_kpis(CUSTOMERS, SEGMENTS, ORDERS, FROM_DATE, to_date)


def test_segment_kpis_caption_and_readable_table():
    table = campaign_kpis(CUSTOMERS, SEGMENTS, ORDERS, FROM_DATE, TO_DATE)
    kpis = SegmentKPIs(table, FROM_DATE, TO_DATE)
    assert kpis.caption == (
        "Campaign KPIs per segment; retention: bought again after 2024-03-31, up to 2024-06-30"
    )
    readable = kpis.labelled_table()
    assert list(readable.columns) == list(KPI_LABELS.values()) and readable.index.name == "Segment"
    assert readable.loc[TOTAL, "Customers by the first date"] == 4
    assert list(kpis.table.columns) == COLUMNS  # the table itself keeps its column names
    assert set(KPI_HELP) <= set(KPI_LABELS)
