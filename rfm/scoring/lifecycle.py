"""Lifecycle stages: where each customer is in their life with the store, judged by the store's own order rhythm.

In: the RFM table (``recency_days``, ``frequency``, ``tenure_days``; :func:`rfm.cleaning.table.rfm_table`). Out: the
thresholds in whole days (:class:`LifecycleThresholds`, from the data by :func:`lifecycle_thresholds`, or the user's),
one stage per customer (:func:`lifecycle_stages`), the thresholds in words (:func:`thresholds_table`) and the
customers and revenue per stage (:func:`stage_summary`).

The stages (:data:`rfm.schema.LIFECYCLE_STAGES`), earliest first:

- a repeat customer (two orders or more) is **Active** while their last order is at most ``active_days`` old, **At
  risk** up to ``at_risk_days``, **Lapsed** up to ``lost_days`` and **Lost** after that;
- a one-time buyer is **New** while their only order is at most ``new_days`` old, **Lapsed** up to ``lost_days`` and
  **Lost** after that.

A stage depends on recency and frequency alone (a one-time buyer's first order is their last), so a saved model and
the what-if panel give it from the same two numbers.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from rfm import schema
from rfm.errors import RFMInputError
from rfm.schema import LIFECYCLE_STAGE, LIFECYCLE_STAGES
from rfm.shared.data_needs import MIN_REPEAT_CUSTOMERS_FOR_STAGES, more_needed
from rfm.shared.numeric import is_int

#: Where a set of thresholds comes from: the store's own gaps, the fixed defaults, or the user.
SOURCES: dict[str, str] = {"store": "this store's gaps between orders", "default": "fixed defaults", "user": "set by you"}
#: The quantile of repeat customers' average gaps that is the store's "long gap".
LONG_GAP_QUANTILE = 0.9
#: The thresholds used when too few customers bought twice to measure the store's gaps: a month, a quarter, half a
#: year, and a quarter for a new customer.
DEFAULT_DAYS: dict[str, int] = {"active_days": 30, "at_risk_days": 90, "lost_days": 180, "new_days": 90}


@dataclass(frozen=True)
class LifecycleThresholds:
    """The day counts that set the stages; frozen, so it keys a cache (:class:`rfm.scoring.classic.SegmentSettings`).

    Parameters
    ----------
    active_days, at_risk_days, lost_days : int
        A repeat customer whose last order is at most this many days old is Active, At risk, Lapsed; older is Lost.
    new_days : int
        A one-time buyer whose only order is at most this many days old is New (then Lapsed up to ``lost_days``).
    source : str
        ``"store"`` (from the data), ``"default"`` (too few repeat customers) or ``"user"``.
    repeat_customers : int, optional
        How many repeat customers the figures were measured on (``None`` for thresholds set by the user).

    Raises
    ------
    RFMInputError
        Unless every day count is a whole number >= 1 and ``active_days <= at_risk_days <= lost_days`` and
        ``new_days <= lost_days``; the message names every value.
    """

    active_days: int
    at_risk_days: int
    lost_days: int
    new_days: int
    source: str = "user"
    repeat_customers: int | None = None

    def __post_init__(self) -> None:
        check_days(self.active_days, self.at_risk_days, self.lost_days, self.new_days)
        if self.source not in SOURCES:
            raise RFMInputError(f"Lifecycle thresholds come from {', '.join(map(repr, SOURCES))}, not source={self.source!r}.")

    @property
    def days(self) -> dict[str, int]:
        """The four day counts by name (what ``model.json`` stores)."""
        return {name: int(getattr(self, name)) for name in DEFAULT_DAYS}

    @property
    def warning(self) -> str | None:
        """Why these are not the store's own figures, for thresholds that fell back to the defaults."""
        if self.source != "default":
            return None
        have = self.repeat_customers
        why = (
            f"the table has no {schema.TENURE} to measure the store's gaps between orders on" if have is None
            else f"only {have:,} customers ordered twice or more, and measuring the store's gaps between orders needs "
            f"{MIN_REPEAT_CUSTOMERS_FOR_STAGES} {more_needed(MIN_REPEAT_CUSTOMERS_FOR_STAGES, have)}"
        )
        return (
            f"Lifecycle stages use fixed default thresholds ({self.active_days}/{self.at_risk_days}/{self.lost_days} days, "
            f"{self.new_days} for new customers), not this store's own figures: {why}."
        )

    def describe(self) -> tuple[str, ...]:
        """Each stage's rule in words with its number, e.g. "Active: last order within 41 days (the median gap ...)"."""
        return tuple(f"{row.stage}: {row.rule} ({row.basis})" for row in thresholds_table(self).itertuples(index=False))


def check_days(active_days: int, at_risk_days: int, lost_days: int, new_days: int) -> None:
    """Raise one :class:`RFMInputError` naming the values unless they are whole days >= 1, in order."""
    values = {"active_days": active_days, "at_risk_days": at_risk_days, "lost_days": lost_days, "new_days": new_days}
    shown = ", ".join(f"{name}={value!r}" for name, value in values.items())
    if not all(is_int(value) and value >= 1 for value in values.values()):
        raise RFMInputError(f"Lifecycle thresholds should be whole numbers of days, at least 1; got {shown}.")
    if not (active_days <= at_risk_days <= lost_days and new_days <= lost_days):
        raise RFMInputError(
            f"Lifecycle thresholds should satisfy active_days <= at_risk_days <= lost_days and new_days <= lost_days; got {shown}."
        )


def default_thresholds(repeat_customers: int | None = None) -> LifecycleThresholds:
    """The fixed thresholds (:data:`DEFAULT_DAYS`), with ``source="default"``."""
    return LifecycleThresholds(**DEFAULT_DAYS, source="default", repeat_customers=repeat_customers)


def repeat_gaps(table: pd.DataFrame) -> pd.Series:
    """Each repeat customer's average days between orders: (first to last order) / (orders - 1).

    ``tenure_days`` runs from the first order to the analysis date, so the span of the orders is tenure minus
    recency; dividing the whole tenure would count the silence since the last order as a gap and stretch the
    thresholds by the very lateness they judge.

    Returns
    -------
    Series of float indexed like ``table``'s customers with ``frequency >= 2``.
    """
    _check_columns(table, (schema.RECENCY, schema.FREQUENCY, schema.TENURE))
    repeat = table[table[schema.FREQUENCY] >= 2]
    span = (repeat[schema.TENURE] - repeat[schema.RECENCY]).astype("float64")
    return (span / (repeat[schema.FREQUENCY] - 1)).rename("avg_gap_days")


def lifecycle_thresholds(table: pd.DataFrame) -> LifecycleThresholds:
    """The store's thresholds, from its repeat customers' average gaps between orders.

    ``active_days`` is the median gap, ``at_risk_days`` the 90th percentile (the long gap), ``lost_days`` twice that
    and ``new_days`` the long gap, each rounded to whole days (half up) and at least 1. With fewer than
    :data:`rfm.shared.data_needs.MIN_REPEAT_CUSTOMERS_FOR_STAGES` repeat customers: :func:`default_thresholds`,
    whose :attr:`LifecycleThresholds.warning` says so; likewise for a table without ``tenure_days`` (nothing to
    measure the gaps on).

    Examples
    --------
    >>> table = pd.DataFrame({"recency_days": [0] * 20, "frequency": [2] * 20, "tenure_days": range(1, 21)})
    >>> lifecycle_thresholds(table).days
    {'active_days': 11, 'at_risk_days': 18, 'lost_days': 36, 'new_days': 18}
    """
    if schema.TENURE not in table.columns:
        return default_thresholds()
    gaps = repeat_gaps(table)
    if len(gaps) < MIN_REPEAT_CUSTOMERS_FOR_STAGES:
        return default_thresholds(len(gaps))
    typical = _whole_days(float(gaps.median()))
    long = max(typical, _whole_days(float(gaps.quantile(LONG_GAP_QUANTILE))))
    return LifecycleThresholds(typical, long, 2 * long, long, source="store", repeat_customers=len(gaps))


def _whole_days(days: float) -> int:
    return max(1, math.floor(days + 0.5))


def stage_array(recency: np.ndarray, frequency: np.ndarray, thresholds: LifecycleThresholds) -> np.ndarray:
    """:func:`lifecycle_stages` on plain arrays (an object array of stage names), for scoring many candidates."""
    recency = np.asarray(recency, dtype="float64")
    repeat = np.asarray(frequency, dtype="float64") >= 2
    t = thresholds
    repeat_stage = np.select(
        [recency <= t.active_days, recency <= t.at_risk_days, recency <= t.lost_days],
        [schema.STAGE_ACTIVE, schema.STAGE_AT_RISK, schema.STAGE_LAPSED],
        schema.STAGE_LOST,
    )
    once_stage = np.select([recency <= t.new_days, recency <= t.lost_days], [schema.STAGE_NEW, schema.STAGE_LAPSED], schema.STAGE_LOST)
    return np.where(repeat, repeat_stage, once_stage).astype(object)


def lifecycle_stages(table: pd.DataFrame, thresholds: LifecycleThresholds) -> pd.Series:
    """Each customer's stage.

    Parameters
    ----------
    table : DataFrame
        ``recency_days`` and ``frequency`` per customer (the RFM table).
    thresholds : LifecycleThresholds

    Returns
    -------
    Series named ``lifecycle_stage``, indexed like ``table``: an ordered categorical of
    :data:`rfm.schema.LIFECYCLE_STAGES`, one stage per customer.
    """
    _check_columns(table, (schema.RECENCY, schema.FREQUENCY))
    stages = stage_array(table[schema.RECENCY].to_numpy(), table[schema.FREQUENCY].to_numpy(), thresholds)
    return pd.Series(pd.Categorical(stages, categories=LIFECYCLE_STAGES, ordered=True), index=table.index, name=LIFECYCLE_STAGE)


def thresholds_table(thresholds: LifecycleThresholds) -> pd.DataFrame:
    """The thresholds in words, one row per stage: ``stage``, ``customers`` (who it applies to), ``rule`` (with the
    number of days), ``days`` (the upper bound; ``None`` for Lost) and ``basis`` (where the number comes from)."""
    t = thresholds
    basis = {
        "store": (
            "the median gap between a repeat customer's orders",
            f"the long gap between orders: {LONG_GAP_QUANTILE:.0%} of repeat customers order at least this often",
            "twice the long gap",
        ),
        "default": ("a fixed default",) * 3,
        "user": ("set by you",) * 3,
    }[t.source]
    rows = [
        (schema.STAGE_NEW, "one-time buyers", f"first (only) order within {t.new_days:,} days", t.new_days, basis[1]),
        (schema.STAGE_ACTIVE, "repeat customers", f"last order within {t.active_days:,} days", t.active_days, basis[0]),
        (schema.STAGE_AT_RISK, "repeat customers", _days_ago(t.active_days, t.at_risk_days), t.at_risk_days, basis[1]),
        (schema.STAGE_LAPSED, "everyone", f"{_days_ago(t.at_risk_days, t.lost_days)}; one-time buyers: "
         f"{_days_ago(t.new_days, t.lost_days)}", t.lost_days, basis[2]),
        (schema.STAGE_LOST, "everyone", f"last order more than {t.lost_days:,} days ago", None, basis[2]),
    ]
    return pd.DataFrame(rows, columns=["stage", "customers", "rule", "days", "basis"])


def _days_ago(after: int, upto: int) -> str:
    """``"last order 12 to 18 days ago"``: the days after one threshold up to the next, or nobody when they are equal."""
    return f"last order {after + 1:,} to {upto:,} days ago" if upto > after else f"nobody (the threshold before is also {upto:,} days)"


def stage_summary(customers: pd.DataFrame, stages: pd.Series | None = None) -> pd.DataFrame:
    """Customers and revenue per stage, every stage in order (empty ones with zeros).

    Parameters
    ----------
    customers : DataFrame
        ``monetary`` per customer, and ``lifecycle_stage`` unless ``stages`` is given.
    stages : Series, optional
        Each customer's stage (:func:`lifecycle_stages`), indexed like ``customers``.

    Returns
    -------
    DataFrame indexed by ``lifecycle_stage`` (:data:`rfm.schema.LIFECYCLE_STAGES`) with ``customers`` (int),
    ``share``, ``revenue`` and ``revenue_share`` (0 when there is no revenue at all).
    """
    stage = (customers[LIFECYCLE_STAGE] if stages is None else stages).astype(object)
    grouped = customers[schema.MONETARY].groupby(stage.to_numpy())
    summary = pd.DataFrame({"customers": grouped.size(), "revenue": grouped.sum()}).reindex(list(LIFECYCLE_STAGES), fill_value=0)
    summary["customers"] = summary["customers"].astype("int64")
    summary.insert(1, "share", summary["customers"] / max(len(customers), 1))
    total = float(summary["revenue"].sum())
    summary["revenue_share"] = summary["revenue"] / total if total else 0.0
    return summary.rename_axis(LIFECYCLE_STAGE)


def _check_columns(table: pd.DataFrame, columns: tuple[str, ...]) -> None:
    missing = [column for column in columns if column not in table.columns]
    if missing:
        raise RFMInputError(f"Lifecycle stages need the column(s) {', '.join(map(repr, missing))}; the table has {list(table.columns)}.")


__all__ = [
    "DEFAULT_DAYS",
    "LifecycleThresholds",
    "default_thresholds",
    "lifecycle_stages",
    "lifecycle_thresholds",
    "repeat_gaps",
    "stage_array",
    "stage_summary",
    "thresholds_table",
]
