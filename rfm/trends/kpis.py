"""Campaign KPIs per segment: how often, how much and how loyally each group buys.

Per segment: customers, repeat purchase rate (share with two or more orders), purchase frequency (orders per
customer), average order value (revenue ÷ orders), revenue per customer, and retention between two dates:
of the segment's customers who had bought by the first date, the share who bought again after it, up to the
second.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pandas as pd

from rfm import schema
from rfm.cleaning.orders import DATE
from rfm.errors import RFMInputError

#: Column names and labels of :func:`campaign_kpis`.
KPI_LABELS: dict[str, str] = {
    "customers": "Customers",
    "repeat_rate": "Repeat purchase rate",
    "purchase_frequency": "Orders per customer",
    "avg_order_value": "Average order value",
    "revenue_per_customer": "Revenue per customer",
    "retention": "Retention",
    "retained_of": "Customers by the first date",
}
KPI_HELP: dict[str, str] = {
    "repeat_rate": "Share of the segment's customers with two or more orders.",
    "purchase_frequency": "Orders per customer over the whole period.",
    "avg_order_value": "Revenue divided by orders.",
    "revenue_per_customer": "Revenue divided by customers.",
    "retention": "Of the customers who had bought by the first date, the share who bought again after it, up to the second.",
    "retained_of": "The customers retention is measured on.",
}
TOTAL = "All customers"


@dataclass(frozen=True, eq=False)
class SegmentKPIs:
    """:func:`campaign_kpis` with the period its retention was measured over, for reports and workbooks."""

    table: pd.DataFrame
    from_date: dt.date
    to_date: dt.date

    @property
    def caption(self) -> str:
        return f"Campaign KPIs per segment; retention: bought again after {self.from_date}, up to {self.to_date}"

    def labelled_table(self) -> pd.DataFrame:
        """The table with readable column names (for files people read)."""
        return self.table.rename(columns=KPI_LABELS).rename_axis("Segment")


def campaign_kpis(
    customers: pd.DataFrame,
    segments: pd.Series,
    orders: pd.DataFrame,
    from_date: dt.date,
    to_date: dt.date,
    order: list[str] | None = None,
) -> pd.DataFrame:
    """The KPIs of each segment, and of all customers in the last row (:data:`TOTAL`).

    Parameters
    ----------
    customers : DataFrame
        The RFM table (:func:`rfm.cleaning.table.rfm_table`): frequency and monetary per customer.
    segments : Series
        Each customer's segment, indexed like ``customers``.
    orders : DataFrame
        :func:`rfm.cleaning.orders.order_table`, for retention.
    from_date, to_date : date
        The period retention is measured over.
    order : list of str, optional
        Segments in the order to show; default by size.

    Returns
    -------
    DataFrame indexed by segment with the columns of :data:`KPI_LABELS`; ``retention`` is NaN for a segment
    nobody of which had bought by the first date.
    """
    if from_date >= to_date:
        raise RFMInputError(f"The first date ({from_date}) must be before the second ({to_date}).")
    start, end = pd.Timestamp(from_date) + pd.Timedelta(days=1), pd.Timestamp(to_date) + pd.Timedelta(days=1)
    first = orders.groupby(schema.CUSTOMER_ID)[DATE].min()
    window = orders[(orders[DATE] >= start) & (orders[DATE] < end)]
    frame = pd.DataFrame(
        {
            "segment": segments.reindex(customers.index).astype("str"),
            "orders": customers[schema.FREQUENCY],
            "revenue": customers[schema.MONETARY],
            "repeat": customers[schema.FREQUENCY] >= 2,
            "existing": first.reindex(customers.index) < start,
            "came_back": customers.index.isin(window[schema.CUSTOMER_ID].unique()),
        }
    )
    frame["retained"] = frame["existing"] & frame["came_back"]
    table = _kpis(frame.groupby("segment", sort=False))
    table = table.reindex(order or table.sort_values("customers", ascending=False, kind="stable").index)
    table.loc[TOTAL] = _kpis(frame.assign(segment=TOTAL).groupby("segment")).iloc[0]
    table.index.name = "segment"
    return table[list(KPI_LABELS)].astype({"customers": "int64", "retained_of": "int64"})


def _kpis(groups) -> pd.DataFrame:
    sums = groups[["orders", "revenue", "repeat", "existing", "retained"]].sum()
    size = groups.size()
    return pd.DataFrame(
        {
            "customers": size,
            "repeat_rate": sums["repeat"] / size,
            "purchase_frequency": sums["orders"] / size,
            "avg_order_value": sums["revenue"] / sums["orders"],
            "revenue_per_customer": sums["revenue"] / size,
            "retention": sums["retained"] / sums["existing"].where(sums["existing"] > 0),
            "retained_of": sums["existing"],
        }
    )


__all__ = ["KPI_HELP", "KPI_LABELS", "TOTAL", "SegmentKPIs", "campaign_kpis"]
