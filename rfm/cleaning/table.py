"""The RFM table: one row per customer, computed from clean transactions in the engine."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from rfm import schema
from rfm.cleaning.ledger import CleanResult

if TYPE_CHECKING:
    import ibis

#: Default profit margin for the historical CLV figure (a share of revenue).
DEFAULT_PROFIT_MARGIN = 0.10

CLV_FORMULA = (
    "Historical CLV = average order value × number of orders × profit margin ÷ churn rate, "
    "where churn rate = 1 − repeat-purchase rate (the share of customers with two or more orders)."
)


def repeat_rate(frequency: pd.Series) -> float:
    """Share of customers with two or more orders."""
    return float((frequency >= 2).mean()) if len(frequency) else 0.0


def rfm_table(
    result: CleanResult,
    analysis_date: dt.date | None = None,
    profit_margin: float = DEFAULT_PROFIT_MARGIN,
) -> pd.DataFrame:
    """Recency, frequency and monetary value per customer.

    Parameters
    ----------
    result : CleanResult
        Clean transactions from :func:`rfm.cleaning.ledger.clean`.
    analysis_date : date, optional
        The day recency is measured from; defaults to ``result.report.analysis_date`` (the latest
        purchase date kept, unless the cleaning settings set one).
    profit_margin : float
        Share of revenue that is profit, for ``historical_clv``.

    Returns
    -------
    DataFrame indexed by ``customer_id`` (str), sorted by it, with columns
        ``recency_days`` (int, whole days from the last purchase's date to the analysis date),
        ``frequency`` (int, distinct invoices), ``monetary`` (float, sum of line values),
        ``first_purchase``, ``last_purchase`` (datetime64), ``tenure_days`` (int, days from the
        first purchase to the analysis date), ``avg_order_value`` (monetary / frequency),
        ``historical_clv`` (see :data:`CLV_FORMULA`).
    """
    per_customer = customer_aggregate(result.transactions).to_pandas()
    return finish_rfm_table(per_customer, analysis_date or result.report.analysis_date, profit_margin)


def customer_aggregate(kept: ibis.Table) -> ibis.Table:
    """The engine's per-customer aggregate of kept transactions, as an ibis expression.

    One row per ``customer_id`` with ``frequency`` (distinct invoices, plus rows without one), ``monetary``
    (sum of line values), ``first_purchase`` and ``last_purchase``. It runs on whichever backend holds ``kept``
    (DuckDB, Spark) and is what ``python -m rfm sql`` prints for other SQL dialects.
    """
    # A row with no invoice id is a purchase of its own (as when the file has no invoice column): counting
    # distinct ids alone gave a customer whose rows all lack one a frequency of 0.
    return kept.group_by(schema.CUSTOMER_ID).aggregate(
        **{
            schema.FREQUENCY: kept[schema.INVOICE_ID].nunique() + kept[schema.INVOICE_ID].isnull().cast("int64").sum(),
            schema.MONETARY: kept[schema.LINE_VALUE].sum(),
            schema.FIRST_PURCHASE: kept[schema.INVOICE_DATE].min(),
            schema.LAST_PURCHASE: kept[schema.INVOICE_DATE].max(),
        }
    )


def customer_countries(result: CleanResult) -> pd.Series | None:
    """Each customer's country: the one most of their kept rows name (ties: alphabetical first).

    Returns
    -------
    Series of str indexed by ``customer_id`` (sorted), named ``country``; ``None`` when no country
    column was mapped. A customer whose rows name no country gets ``<NA>``.
    """
    if result.report.mapping.country is None:
        return None
    kept = result.transactions
    counts = (
        kept.group_by([schema.CUSTOMER_ID, schema.COUNTRY])
        .aggregate(rows=kept.count())
        .to_pandas()
        .sort_values([schema.CUSTOMER_ID, "rows", schema.COUNTRY], ascending=[True, False, True], na_position="last")
    )
    first = counts.drop_duplicates(schema.CUSTOMER_ID).set_index(schema.CUSTOMER_ID)[schema.COUNTRY]
    first.index = first.index.astype("str")
    return first.sort_index().astype("string").rename(schema.COUNTRY)


#: The contact fields a customer list carries when the file has them.
CONTACT_FIELDS: tuple[str, ...] = (schema.EMAIL, schema.PHONE)


def customer_contacts(result: CleanResult) -> pd.DataFrame | None:
    """Each customer's email and phone: the value on their most recent kept purchase that has one.

    "Most recent" is the latest invoice date, and among rows of that date the one latest in the file. A value is
    only trimmed of surrounding spaces: hashing or normalising it for an ad platform is left to whoever uploads
    it. A missing or malformed value never removed a row (no cleaning rule reads these columns). Runs on the
    engine that holds the transactions (DuckDB or Spark); the warehouse SQL (:mod:`rfm.cleaning.sql`) computes
    the RFM aggregate only and leaves them out.

    Returns
    -------
    DataFrame indexed by ``customer_id`` (str, sorted) with an ``email`` and/or a ``phone`` column (str), one for
    each of the two fields the mapping has; ``None`` when it has neither. Only customers with at least one value
    are rows: reindex to fill the others with ``<NA>``.
    """
    mapping = result.report.mapping
    fields = [field for field in CONTACT_FIELDS if getattr(mapping, field) is not None]
    if not fields:
        return None
    contacts = pd.concat([_latest_value(result.transactions, field) for field in fields], axis=1, sort=True)
    contacts.index = contacts.index.astype("str").rename(schema.CUSTOMER_ID)
    return contacts.sort_index().astype("string")[fields]


def _latest_value(kept: ibis.Table, field: str) -> pd.Series:
    """``field`` on each customer's latest kept row that has one, indexed by customer id."""
    import ibis

    has = kept.filter(kept[field].notnull())
    order = [ibis.desc(has[schema.INVOICE_DATE]), ibis.desc(has[schema.ROW])]
    ranked = has.mutate(latest_rank=ibis.row_number().over(group_by=has[schema.CUSTOMER_ID], order_by=order))
    latest = ranked.filter(ranked.latest_rank == 0).select(schema.CUSTOMER_ID, field).to_pandas()
    return latest.set_index(schema.CUSTOMER_ID)[field]


def finish_rfm_table(per_customer: pd.DataFrame, analysis_date: dt.date, profit_margin: float) -> pd.DataFrame:
    """Derive the day counts, order value and CLV from the engine's per-customer aggregate."""
    table = per_customer.set_index(schema.CUSTOMER_ID).sort_index()
    table.index = table.index.astype("str")
    day = pd.Timestamp(analysis_date)
    last = pd.to_datetime(table[schema.LAST_PURCHASE])
    first = pd.to_datetime(table[schema.FIRST_PURCHASE])
    table[schema.RECENCY] = (day - last.dt.normalize()).dt.days.astype("int64")
    table[schema.TENURE] = (day - first.dt.normalize()).dt.days.astype("int64")
    table[schema.FREQUENCY] = table[schema.FREQUENCY].astype("int64")
    # The engine sums in parallel, so the last bits of a float sum vary between runs (380.94 or
    # 380.93999999999994); rounded to 6 decimals, the same file always gives the same monetary value,
    # and a customer on a score's cut point stays there when a saved model scores the file again.
    table[schema.MONETARY] = table[schema.MONETARY].astype("float64").round(6)
    table[schema.AVG_ORDER_VALUE] = table[schema.MONETARY] / table[schema.FREQUENCY]
    churn = 1.0 - repeat_rate(table[schema.FREQUENCY])
    # With every customer a repeat buyer, churn is 0: the formula has no finite value.
    table[schema.HISTORICAL_CLV] = (
        table[schema.MONETARY] * profit_margin / churn if churn > 0 else np.nan
    )
    return table[list(schema.RFM_COLUMNS)]
