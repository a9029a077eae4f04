"""Orders: one row per customer and invoice, the unit every question about time is answered from.

Migration between two dates, segment sizes over time, predictive CLV and campaign KPIs all need each
customer's purchases with their dates, not just the totals of :func:`rfm.cleaning.table.rfm_table`. The engine
aggregates the kept transactions once into orders (a few per customer), small enough to keep in memory even
when the transactions are not.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pandas as pd

from rfm import schema
from rfm.cleaning.ledger import CleanResult

if TYPE_CHECKING:
    import ibis

#: Column names of the order table (besides ``customer_id``): when the order was placed (its earliest line),
#: its latest line (a later time only for an invoice whose lines span a while) and its value.
DATE = "date"
LAST_LINE = "last_line"
VALUE = "value"
ORDER_COLUMNS = (schema.CUSTOMER_ID, DATE, LAST_LINE, VALUE)


def order_aggregate(kept: ibis.Table) -> ibis.Table:
    """The engine's per-order aggregate of kept transactions, as an ibis expression.

    An order is a customer's invoice; a row without an invoice id is an order of its own (as
    :func:`rfm.cleaning.table.customer_aggregate` counts it). ``date`` is the order's earliest line time, ``last_line`` its
    latest (what the RFM table's last purchase is), ``value`` the sum of its line values.
    """
    import ibis

    invoice = kept[schema.INVOICE_ID]
    # Rows without an invoice id are told apart by their row number; rows with one share the key -1.
    with_key = kept.mutate(_row_order=ibis.ifelse(invoice.isnull(), kept[schema.ROW].cast("int64"), ibis.literal(-1, "int64")))
    return with_key.group_by([schema.CUSTOMER_ID, schema.INVOICE_ID, "_row_order"]).aggregate(
        **{
            DATE: with_key[schema.INVOICE_DATE].min(),
            LAST_LINE: with_key[schema.INVOICE_DATE].max(),
            VALUE: with_key[schema.LINE_VALUE].sum(),
        }
    ).drop(schema.INVOICE_ID, "_row_order")


def order_table(result: CleanResult) -> pd.DataFrame:
    """Orders of the kept transactions, sorted by date, customer, last line and value.

    Returns
    -------
    DataFrame with ``customer_id`` (str), ``date`` and ``last_line`` (datetime64) and ``value`` (float, rounded
    to 6 decimals like monetary), one row per order.
    """
    orders = order_aggregate(result.transactions).to_pandas()
    return tidy_orders(orders)


def tidy_orders(orders: pd.DataFrame) -> pd.DataFrame:
    """Orders in the canonical types and order (also for orders built by hand, e.g. in tests, where
    ``last_line`` may be left out: it is then the order's date)."""
    date = pd.to_datetime(orders[DATE]).astype("datetime64[ns]")
    out = pd.DataFrame(
        {
            schema.CUSTOMER_ID: orders[schema.CUSTOMER_ID].astype("str"),
            DATE: date,
            LAST_LINE: pd.to_datetime(orders[LAST_LINE]).astype("datetime64[ns]") if LAST_LINE in orders.columns else date,
            VALUE: orders[VALUE].astype("float64").round(6),
        }
    )
    # Every column in the key: the engine returns groups in any order, and the same file must give the same table.
    return out.sort_values([DATE, schema.CUSTOMER_ID, LAST_LINE, VALUE], kind="stable").reset_index(drop=True)


__all__ = ["DATE", "LAST_LINE", "ORDER_COLUMNS", "VALUE", "order_aggregate", "order_table", "tidy_orders"]
