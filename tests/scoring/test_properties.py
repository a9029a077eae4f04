"""Invariants of cleaning and the RFM table on random transaction files (hypothesis)."""

import io

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rfm import schema
from rfm.cleaning.analyse import analyse
from rfm.errors import RFMInputError
from rfm.reading.files import read_transactions

pytestmark = pytest.mark.slow

CUSTOMERS = st.one_of(st.sampled_from(["12346", "12347.0", "00123", "A-9", ""]), st.none())
INVOICES = st.sampled_from(["500001", "500002", "500003", "C500004", "c500005", "500006"])
DATES = st.one_of(
    st.datetimes(min_value=pd.Timestamp("2010-01-01").to_pydatetime(), max_value=pd.Timestamp("2011-12-31").to_pydatetime()).map(
        lambda d: d.strftime("%Y-%m-%d %H:%M")
    ),
    st.sampled_from(["", "not a date", "2010-13-45"]),
)
QUANTITIES = st.one_of(st.integers(-5, 50).map(str), st.sampled_from(["", "abc", "1e3", "nan"]))
PRICES = st.one_of(st.decimals(-2, 100, places=2).map(str), st.sampled_from(["", "£3.50", "0"]))

ROWS = st.lists(st.tuples(INVOICES, CUSTOMERS, DATES, QUANTITIES, PRICES), min_size=1, max_size=40)
SETTINGS = settings(max_examples=25, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])


def _csv(rows) -> bytes:
    frame = pd.DataFrame(rows, columns=["Invoice", "Customer ID", "InvoiceDate", "Quantity", "Price"])
    buffer = io.StringIO()
    frame.to_csv(buffer, index=False)
    return buffer.getvalue().encode()


def _analyse(rows):
    try:
        return analyse(read_transactions(_csv(rows), "random.csv"))
    except RFMInputError:
        return None  # e.g. every row removed: a clear error is an allowed outcome


@SETTINGS
@given(ROWS)
def test_ledger_accounts_for_every_row(rows):
    result = _analyse(rows)
    if result is None:
        return
    report = result.report
    assert report.rows_read == len(rows)
    assert report.rows_read == report.rows_clean + sum(line.rows for line in report.ledger)


@SETTINGS
@given(ROWS)
def test_one_row_per_customer_and_recency_not_negative(rows):
    result = _analyse(rows)
    if result is None:
        return
    table = result.customers
    assert table.index.is_unique
    assert len(table) == result.report.customers
    assert (table[schema.RECENCY] >= 0).all()
    assert (table[schema.FREQUENCY] >= 1).all()
    assert (table[schema.MONETARY] > 0).all()
    assert table[schema.MONETARY].sum() == pytest.approx(result.report.revenue)


@SETTINGS
@given(ROWS, st.randoms(use_true_random=False))
def test_row_order_does_not_change_the_table(rows, random):
    shuffled = list(rows)
    random.shuffle(shuffled)
    first, second = _analyse(rows), _analyse(shuffled)
    if first is None or second is None:
        assert first is None and second is None
        return
    pd.testing.assert_frame_equal(first.customers, second.customers)
    assert [(line.rule, line.rows) for line in first.report.ledger] == [(line.rule, line.rows) for line in second.report.ledger]
