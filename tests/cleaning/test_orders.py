"""rfm.cleaning.orders: one row per customer and invoice, from the engine or built by hand."""

from __future__ import annotations

import pandas as pd
import pytest

from rfm import schema
from rfm.cleaning.analyse import resolve_mapping
from rfm.cleaning.ledger import CleaningSettings, clean
from rfm.cleaning.orders import DATE, LAST_LINE, ORDER_COLUMNS, VALUE, order_table, tidy_orders
from rfm.reading.files import read_transactions

CSV = b"""Invoice,Customer ID,InvoiceDate,Quantity,Price
10,A,2024-01-01 10:00,2,5.00
10,A,2024-01-01 10:30,1,3.00
11,B,2024-01-01 09:00,1,10.00
12,A,2024-01-03 08:00,3,1.10
,B,2024-01-04 08:00,1,2.00
,B,2024-01-04 08:00,1,4.00
"""


@pytest.fixture(scope="module")
def orders() -> pd.DataFrame:
    raw = read_transactions(CSV, "orders.csv")
    _, mapping = resolve_mapping(raw)
    return order_table(clean(raw, mapping, CleaningSettings()))


def test_one_row_per_invoice_and_one_per_line_without_an_invoice(orders):
    # A: invoices 10 and 12; B: invoice 11 and two lines without an invoice id, each its own order.
    assert tuple(orders.columns) == ORDER_COLUMNS
    assert orders.groupby(schema.CUSTOMER_ID).size().to_dict() == {"A": 2, "B": 3}


def test_an_order_is_dated_by_its_first_line_and_worth_the_sum_of_its_lines(orders):
    first = orders[orders[schema.CUSTOMER_ID].eq("A")].iloc[0]
    assert first[DATE] == pd.Timestamp("2024-01-01 10:00") and first[LAST_LINE] == pd.Timestamp("2024-01-01 10:30")
    assert first[VALUE] == pytest.approx(13.0)
    assert orders.loc[orders[DATE].eq(pd.Timestamp("2024-01-03 08:00")), VALUE].item() == pytest.approx(3.3)


def test_orders_are_sorted_by_date_then_customer_then_last_line_then_value(orders):
    assert list(zip(orders[schema.CUSTOMER_ID], orders[VALUE].round(2))) == [
        ("B", 10.0), ("A", 13.0), ("A", 3.3), ("B", 2.0), ("B", 4.0)
    ]
    assert str(orders[DATE].dtype) == "datetime64[ns]" and orders[VALUE].dtype == "float64"


def test_tidy_orders_fills_last_line_with_the_date_and_rounds_values():
    hand = pd.DataFrame({schema.CUSTOMER_ID: [2, 1], DATE: ["2024-02-01", "2024-01-01"], VALUE: [1 / 3, 2]})
    tidy = tidy_orders(hand)
    assert list(tidy[schema.CUSTOMER_ID]) == ["1", "2"]  # ids become text, rows sorted by date
    assert (tidy[LAST_LINE] == tidy[DATE]).all()
    assert tidy[VALUE].tolist() == [2.0, 0.333333]


def test_tidy_orders_does_not_depend_on_row_order():
    hand = pd.DataFrame(
        {schema.CUSTOMER_ID: ["a", "b", "a", "b"], DATE: ["2024-01-02", "2024-01-02", "2024-01-01", "2024-01-02"], VALUE: [5, 1, 2, 0.5]}
    )
    pd.testing.assert_frame_equal(tidy_orders(hand), tidy_orders(hand.iloc[::-1]))
