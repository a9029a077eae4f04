"""The RFM table on a tiny file with hand-computed answers."""

import datetime as dt

import pandas as pd
import pytest

from rfm import schema
from rfm.cleaning.ledger import CleaningSettings, clean
from rfm.cleaning.table import rfm_table
from rfm.reading.columns import detect_mapping
from rfm.reading.files import read_transactions

# A: invoices 1 (2024-03-01, 2×5 + 1×2 = 12) and 2 (2024-03-08 16:00, 3×1 = 3)
# B: invoice 3 (2024-03-10 09:30, 1×20 = 20), the latest purchase: the default analysis date is 2024-03-10.
TEXT = """Invoice,Customer ID,InvoiceDate,Quantity,Price
1,A,2024-03-01 10:00,2,5
1,A,2024-03-01 10:00,1,2
2,A,2024-03-08 16:00,3,1
3,B,2024-03-10 09:30,1,20
"""


def _table(analysis_date=None, margin=0.1) -> pd.DataFrame:
    raw = read_transactions(TEXT.encode(), "t.csv")
    result = clean(raw, detect_mapping(raw.frame).mapping, CleaningSettings())
    return rfm_table(result, analysis_date, profit_margin=margin)


def test_one_row_per_customer_with_hand_computed_values():
    table = _table()
    assert list(table.index) == ["A", "B"]
    assert table.index.name == schema.CUSTOMER_ID
    assert list(table.columns) == list(schema.RFM_COLUMNS)
    a, b = table.loc["A"], table.loc["B"]
    assert (a[schema.RECENCY], a[schema.FREQUENCY], a[schema.MONETARY]) == (2, 2, 15.0)
    assert (b[schema.RECENCY], b[schema.FREQUENCY], b[schema.MONETARY]) == (0, 1, 20.0)
    assert a[schema.TENURE] == 9
    assert a[schema.AVG_ORDER_VALUE] == 7.5
    assert a[schema.FIRST_PURCHASE] == pd.Timestamp("2024-03-01 10:00")
    assert a[schema.LAST_PURCHASE] == pd.Timestamp("2024-03-08 16:00")


def test_recency_counts_whole_days_to_a_chosen_analysis_date():
    table = _table(analysis_date=dt.date(2024, 3, 31))
    assert table.loc["A", schema.RECENCY] == 23
    assert table.loc["B", schema.RECENCY] == 21
    assert table.loc["A", schema.TENURE] == 30


def test_historical_clv_formula():
    # One of two customers buys again: repeat rate 0.5, churn 0.5; CLV = monetary × margin / churn.
    table = _table(margin=0.2)
    assert table.loc["A", schema.HISTORICAL_CLV] == pytest.approx(15 * 0.2 / 0.5)
    assert table.loc["B", schema.HISTORICAL_CLV] == pytest.approx(20 * 0.2 / 0.5)
