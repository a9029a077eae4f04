"""Segment migration between two dates: who moved where, who is new, who left.

Both dates are labelled by the same model (:func:`rfm.trends.timeline.labelled_as_of`), so a customer who changes
segment changed their own behaviour. A customer with no order on or before the first date is
:data:`NEW`; with ``active_days`` set, one whose last purchase is more than that many days before a date has
:data:`rfm.trends.timeline.LEFT` at that date. Customers who had already left at the first date and bought nothing
since are not part of the flows (:attr:`Migration.still_gone` counts them).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import pandas as pd

from rfm import schema
from rfm.cleaning.orders import DATE, VALUE
from rfm.cleaning.table import DEFAULT_PROFIT_MARGIN
from rfm.errors import RFMInputError
from rfm.trends.timeline import LABELS, LEFT, labelled_as_of, state_order

if TYPE_CHECKING:
    from rfm.bundle.model import ModelBundle

#: The first-date state of customers whose first order came after it.
NEW = "New customer"
FROM, TO = "from", "to"
#: Per-customer columns of :attr:`Migration.customers` besides the two states.
_MEASURES = (schema.RECENCY, schema.FREQUENCY, schema.MONETARY)


@dataclass(frozen=True, eq=False)
class Migration:
    """Where every customer was at ``from_date`` and is at ``to_date``.

    ``customers``: indexed by ``customer_id``; ``from`` and ``to`` states, recency/frequency/monetary at both dates
    (``*_from``, ``*_to``; missing for a new customer at the first), and ``orders_between``/``revenue_between``
    (orders after the first date up to the second).
    ``matrix``: customer counts, first-date states × second-date states (every state, zeros included).
    ``flows``: one row per non-empty pair: ``from``, ``to``, ``customers``, ``share_of_from`` (of the customers in
    that first-date state), ``revenue_between``, largest first within each first-date state.
    """

    from_date: dt.date
    to_date: dt.date
    by: str
    active_days: int | None
    customers: pd.DataFrame
    matrix: pd.DataFrame
    flows: pd.DataFrame
    still_gone: int
    #: Every customer with an order by ``to_date`` (the still-gone included): ``label``, the model's segment then
    #: whatever their last order, and ``left``, whether they count as :data:`LEFT` there. See :meth:`reconciliation`.
    at_to_date: pd.DataFrame = field(default_factory=lambda: pd.DataFrame({"label": pd.Series(dtype="str"), "left": pd.Series(dtype="bool")}))

    @property
    def shares(self) -> pd.DataFrame:
        """Row shares of :attr:`matrix`: where each first-date state went (rows sum to 1)."""
        totals = self.matrix.sum(axis=1)
        return self.matrix.div(totals.where(totals > 0), axis=0).fillna(0.0)

    def flow_customers(self, source: str, target: str) -> pd.DataFrame:
        """The customers of one flow (e.g. Champions → At Risk), best customers at the second date first."""
        chosen = self.customers[(self.customers[FROM] == source) & (self.customers[TO] == target)]
        return chosen.sort_values(f"{schema.MONETARY}_to", ascending=False, kind="stable")

    @property
    def customers_at_to_date(self) -> int:
        """Everyone who had bought by ``to_date``: the customers a segmentation as of that day counts."""
        return len(self.at_to_date)

    @property
    def customers_at_from_date(self) -> int:
        """Everyone who had bought by ``from_date`` (customers who had left by then included)."""
        return int((self.customers[FROM] != NEW).sum()) + self.still_gone

    @property
    def left_at_to_date(self) -> int:
        """Customers counted as :data:`LEFT` on ``to_date``, the still-gone included."""
        return int(self.at_to_date["left"].sum())

    def reconciliation(self, order: list[str] | None = None) -> pd.DataFrame:
        """Customers per segment on ``to_date`` as a segmentation of that day counts them (the Segments page's
        counts when ``to_date`` is the analysis date), and how many of them this comparison shows as Left instead.

        Returns
        -------
        DataFrame indexed by segment (in ``order`` when given) with ``customers``, ``shown_in_segment`` and
        ``counted_as_left`` (``customers = shown_in_segment + counted_as_left``); a ``Total`` row last.
        """
        table = self.at_to_date.groupby("label", sort=False).agg(customers=("left", "size"), counted_as_left=("left", "sum"))
        if order is not None:
            table = table.reindex([name for name in order if name in table.index] + [n for n in table.index if n not in order])
        table["counted_as_left"] = table["counted_as_left"].astype("int64")
        table.insert(1, "shown_in_segment", table["customers"] - table["counted_as_left"])
        table.loc["Total"] = table.sum()
        table.index.name = LABELS[self.by]
        return table

    def describe(self) -> str:
        label = LABELS[self.by].lower()
        left = f"; a customer has left after {self.active_days:,} days without an order" if self.active_days else ""
        return f"{len(self.customers):,} customers by {label} on {self.from_date} and {self.to_date}{left}"


def migrate(
    orders: pd.DataFrame,
    bundle: ModelBundle,
    from_date: dt.date,
    to_date: dt.date,
    by: str = "segment",
    active_days: int | None = None,
    profit_margin: float = DEFAULT_PROFIT_MARGIN,
) -> Migration:
    """Label the customers at both dates with ``bundle`` and tabulate the moves.

    Parameters
    ----------
    orders : DataFrame
        :func:`rfm.cleaning.orders.order_table`.
    bundle : rfm.bundle.model.ModelBundle
        The fitted (or saved) model that labels both dates.
    from_date, to_date : date
        ``from_date`` must be before ``to_date``.
    by : ``"segment"`` (RFM segments), ``"cluster_name"`` (the clusters' names) or ``"lifecycle_stage"`` (the lifecycle
        stages, by the model's thresholds at both dates)
    active_days : int, optional
        After this many days without an order a customer has left; ``None``: nobody leaves.

    Raises
    ------
    RFMInputError
        When the dates are in the wrong order or nobody had bought by the second date.
    """
    if from_date >= to_date:
        raise RFMInputError(f"The first date ({from_date}) must be before the second ({to_date}).")
    if active_days is not None and active_days < 1:
        raise RFMInputError(f"A customer leaves after at least 1 day without an order, not {active_days}.")
    before = labelled_as_of(orders, bundle, from_date, by, active_days, profit_margin)
    after = labelled_as_of(orders, bundle, to_date, by, active_days, profit_margin)
    if after.empty:
        raise RFMInputError(f"No customer had bought by {to_date}: choose a later second date.")
    customers = pd.DataFrame(index=after.index)
    customers[FROM] = before["state"].reindex(after.index).fillna(NEW).astype("str")
    customers[TO] = after["state"].astype("str")
    for measure in _MEASURES:
        earlier = before[measure].reindex(after.index)
        customers[f"{measure}_{FROM}"] = earlier if measure == schema.MONETARY else earlier.astype("Int64")
        customers[f"{measure}_{TO}"] = after[measure]
    between = _between(orders, from_date, to_date)
    customers["orders_between"] = between["orders"].reindex(after.index).fillna(0).astype("int64")
    customers["revenue_between"] = between["revenue"].reindex(after.index).fillna(0.0).round(6)
    gone = (customers[FROM] == LEFT) & (customers[TO] == LEFT) & (customers["orders_between"] == 0)
    at_to_date = pd.DataFrame({"label": after[by].astype("str"), "left": customers[TO] == LEFT}, index=after.index)
    customers = customers[~gone]
    customers.index.name = schema.CUSTOMER_ID

    sources = [NEW] + state_order(set(customers[FROM]) - {NEW}, bundle, by)
    targets = state_order(set(customers[TO]), bundle, by)
    matrix = pd.crosstab(customers[FROM], customers[TO]).reindex(index=sources, columns=targets, fill_value=0)
    matrix.index.name, matrix.columns.name = FROM, TO
    flows = _flows(customers, sources, targets)
    return Migration(from_date, to_date, by, active_days, customers, matrix, flows, int(gone.sum()), at_to_date)


def _between(orders: pd.DataFrame, from_date: dt.date, to_date: dt.date) -> pd.DataFrame:
    """Orders and revenue per customer after ``from_date`` up to the end of ``to_date``."""
    start, end = pd.Timestamp(from_date) + pd.Timedelta(days=1), pd.Timestamp(to_date) + pd.Timedelta(days=1)
    window = orders[(orders[DATE] >= start) & (orders[DATE] < end)]
    return window.groupby(schema.CUSTOMER_ID).agg(orders=(VALUE, "size"), revenue=(VALUE, "sum"))


def _flows(customers: pd.DataFrame, sources: list[str], targets: list[str]) -> pd.DataFrame:
    flows = (
        customers.groupby([FROM, TO], sort=False)
        .agg(customers=(FROM, "size"), revenue_between=("revenue_between", "sum"))
        .reset_index()
    )
    totals = flows.groupby(FROM)["customers"].transform("sum")
    flows["share_of_from"] = flows["customers"] / totals
    flows["_source"] = flows[FROM].map({name: i for i, name in enumerate(sources)})
    flows["_target"] = flows[TO].map({name: i for i, name in enumerate(targets)})
    flows = flows.sort_values(["_source", "customers", "_target"], ascending=[True, False, True], kind="stable")
    return flows[[FROM, TO, "customers", "share_of_from", "revenue_between"]].reset_index(drop=True)


def flow_label(source: str, target: str) -> str:
    """How a flow is named in lists and file names: "Champions → At Risk"."""
    return f"{source} → {target}" if source != target else f"{source} (stayed)"





def flow_list(migration: Migration, source: str, target: str, labelled: pd.DataFrame | None = None) -> pd.DataFrame:
    """One flow's customers with the columns a campaign needs: both states, R/F/M at both dates, the orders in
    between and, when ``labelled`` (:func:`rfm.outputs.lists.labelled_customers`) is given, each customer's country,
    segment names as of the analysis date and, when it holds them (:func:`rfm.outputs.lists.with_values`), their
    predicted value: what the customers of a move are worth. A customer's email and phone, when the labelled list
    has them, come first, right after the customer id, as in every other customer list."""
    from rfm.schema import ACTION, COUNTRY, EMAIL, PHONE, RFM_SEGMENT, SEGMENT_NAME

    chosen = migration.flow_customers(source, target)
    if labelled is not None:
        contacts = [column for column in (EMAIL, PHONE) if column in labelled.columns]
        wanted = (COUNTRY, SEGMENT_NAME, ACTION, RFM_SEGMENT, *schema.VALUE_COLUMNS)
        extra = [column for column in wanted if column in labelled.columns]
        chosen = labelled[contacts].join(chosen, how="right").join(labelled[extra], how="left")
    return chosen


def migration_files(migration: Migration, labelled: pd.DataFrame | None = None) -> dict[str, bytes]:
    """What ``python -m rfm migrate`` writes: ``matrix.csv`` (counts), ``shares.csv`` (row shares),
    ``flows.csv`` (one row per flow), ``customers.csv`` (every customer's two states) and ``flows/<flow>.csv``."""
    from rfm.outputs.files import csv_bytes, table_csv_bytes, unique_file_names

    titles = [f"{source} to {target}" for source, target in zip(migration.flows[FROM], migration.flows[TO])]
    flows = migration.flows.assign(file=[f"flows/{name}" for name in unique_file_names(titles, migration.to_date, "csv")])
    files = {
        "matrix.csv": table_csv_bytes(migration.matrix),
        "shares.csv": table_csv_bytes(migration.shares.round(4)),
        "flows.csv": table_csv_bytes(flows.round({"share_of_from": 4, "revenue_between": 2}), index=False),
        "customers.csv": csv_bytes(migration.customers),
    }
    for source, target, name in zip(flows[FROM], flows[TO], flows["file"]):
        files[name] = csv_bytes(flow_list(migration, source, target, labelled))
    return files
__all__ = ["FROM", "NEW", "TO", "Migration", "flow_label", "flow_list", "migrate", "migration_files"]
