"""Cohort retention: customers grouped by the month of their first order, followed month by month.

A customer's cohort is the calendar month of their first order; month ``k`` of a cohort is the ``k``-th calendar
month after it (month 0 is the cohort's own month). For every cohort and month :func:`cohort_table` gives the share
of the cohort's customers who ordered in that month (month 0 is 100% by construction) and the revenue per customer
of the cohort so far (cumulative, divided by the cohort's size, so cohorts of any size compare). Months after the
data ends are missing, never 0: nobody knows yet whether those customers will buy.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import pandas as pd

from rfm import schema
from rfm.cleaning.orders import DATE, VALUE
from rfm.errors import RFMInputError, TooLittleDataError
from rfm.shared.data_needs import MIN_COHORT_CUSTOMERS, MIN_COHORT_MONTHS

#: Index and column names of the cohort frames, and the size column of the files.
COHORT = "cohort"
MONTHS_SINCE = "months_since_first_order"
CUSTOMERS = "customers"
#: What a cohort heat map shows, as offered to a user: a frame of :class:`CohortTable` and its label.
MEASURES: dict[str, str] = {"retention": "Retention", "revenue": "Revenue per customer"}
#: What :func:`cohort_files` writes.
RETENTION_FILE, REVENUE_FILE = "retention.csv", "revenue.csv"


@dataclass(frozen=True, eq=False)
class CohortTable:
    """Cohorts (rows, oldest first) × months since the first order (columns 0, 1, 2, ...).

    ``retention``: share of the cohort's customers with an order in that month (0 to 1; month 0 is 1).
    ``active``: those customers, counted (float, for the missing cells). ``revenue``: cumulative revenue per customer of the cohort up to and
    including that month. In all three a month after ``last_day``'s month is missing (NaN), not 0.
    ``sizes``: customers per cohort. The index is a monthly ``PeriodIndex`` named ``cohort``; the columns an
    integer index named ``months_since_first_order``.
    """

    retention: pd.DataFrame
    active: pd.DataFrame
    revenue: pd.DataFrame
    sizes: pd.Series
    first_day: dt.date
    last_day: dt.date
    warnings: tuple[str, ...] = ()

    @property
    def last_month_partial(self) -> bool:
        """Whether the data ends before the last day of its last month (that month's cells are not complete)."""
        return (pd.Timestamp(self.last_day) + pd.Timedelta(days=1)).day != 1

    @property
    def first_month_partial(self) -> bool:
        """Whether the data starts after the first day of its first month."""
        return self.first_day.day != 1

    @property
    def partial(self) -> pd.DataFrame:
        """``True`` in the cells of the data's last month when that month is partial (shaped like ``retention``)."""
        last = pd.Period(self.last_day, freq="M")
        months = np.asarray([(last - cohort).n for cohort in self.retention.index])
        cells = months[:, None] == self.retention.columns.to_numpy()[None, :]
        return pd.DataFrame(cells & self.last_month_partial, index=self.retention.index, columns=self.retention.columns)

    def month_retention(self, months: int) -> pd.Series:
        """Each cohort's retention ``months`` after its first month (missing where that month is not in the data)."""
        return self.retention[months] if months in self.retention.columns else pd.Series(np.nan, index=self.retention.index)

    def average(self, months: int, measure: str = "retention") -> float:
        """``retention`` (share of customers buying) or ``revenue`` (per customer so far) ``months`` after the first
        month, over every cohort whose month ``months`` is complete in the data, each weighted by its customers.

        NaN when no cohort is that old yet (or its only such month is the partial last one).
        """
        if measure not in MEASURES:
            raise ValueError(f"measure={measure!r} should be one of {', '.join(MEASURES)}")
        if months not in self.retention.columns:
            return float("nan")
        complete = self.retention[months].notna() & ~self.partial[months]
        if not complete.any():
            return float("nan")
        sizes = self.sizes[complete]
        totals = self.active[months] if measure == "retention" else self.revenue[months] * self.sizes
        return float(totals[complete].sum() / sizes.sum())

    def notes(self) -> list[str]:
        """What to keep in mind when reading the table: partial months and the first cohort's older customers."""
        notes = []
        if self.last_month_partial:
            notes.append(
                f"The data ends on {self.last_day}, before the end of {self.last_day:%Y-%m}: that month's cells (the last "
                "diagonal) count only part of a month."
            )
        first = self.retention.index[0]
        started = f" (from {self.first_day})" if self.first_month_partial else ""
        notes.append(
            f"The first cohort ({first}) holds every customer who bought in the data's first month{started}, including "
            f"any who had bought before {self.first_day} (the data cannot tell them apart)."
        )
        return notes

    def describe(self) -> str:
        """One line: cohorts, customers, period, the first cohort's month-1 retention and the average one."""
        first = self.retention.index[0]
        month_1, average = self.month_retention(1).iloc[0], self.average(1)
        shown = "" if np.isnan(month_1) else f"; month 1: {month_1:.1%} of the {first} cohort"
        shown += "" if np.isnan(average) else f", {average:.1%} of all cohorts' customers"
        partial = f" ({self.last_day:%Y-%m} partial)" if self.last_month_partial else ""
        return (
            f"{len(self.sizes):,} monthly cohorts of {int(self.sizes.sum()):,} customers from {self.first_day} to "
            f"{self.last_day}{partial}{shown}"
        )

    def as_frames(self) -> dict[str, pd.DataFrame]:
        """The two tables as people read them: ``retention`` and ``revenue``, indexed by cohort (``YYYY-MM``) with
        the cohort's ``customers`` first and one column per month since the first order (``month_0``, ...)."""
        frames = {}
        for name, table in (("retention", self.retention), ("revenue", self.revenue)):
            frame = table.rename(columns=lambda months: f"month_{months}").rename_axis(columns=None)
            frame.insert(0, CUSTOMERS, self.sizes.to_numpy())
            frames[name] = frame.set_axis(self.retention.index.strftime("%Y-%m"), axis=0).rename_axis(COHORT)
        return frames


def cohort_table(orders: pd.DataFrame, last_day: dt.date | None = None) -> CohortTable:
    """Monthly cohorts of first orders, and their retention and revenue per customer month by month.

    Parameters
    ----------
    orders : DataFrame
        :func:`rfm.cleaning.orders.order_table`: ``customer_id``, ``date`` and ``value``, one row per order, in
        any row order.
    last_day : date, optional
        The day the data ends (the analysis date); months after this day's month are missing. Default: the day
        of the last order.

    Returns
    -------
    CohortTable
        One row per month in which some customer made their first order, one column per month from 0 to the
        oldest cohort's age.

    Raises
    ------
    RFMInputError
        When there are no orders, ``last_day`` is before the last order, or every order is in one month (there
        is no month after the first to follow a cohort into).
    """
    first_day, last_day = _period(orders, last_day)
    codes, customers = pd.factorize(orders[schema.CUSTOMER_ID])
    months = _month_numbers(orders[DATE])
    first = np.full(len(customers), np.iinfo("int64").max)
    np.minimum.at(first, codes, months)
    cohort = first[codes]
    frame = pd.DataFrame({COHORT: cohort, MONTHS_SINCE: months - cohort, "customer": codes, VALUE: orders[VALUE].to_numpy("float64")})
    cohorts, sizes = np.unique(first, return_counts=True)
    columns = pd.RangeIndex(_month_number(last_day) - cohorts[0] + 1, name=MONTHS_SINCE)
    once = frame.drop_duplicates([COHORT, MONTHS_SINCE, "customer"])
    active = _grid(once.groupby([COHORT, MONTHS_SINCE]).size(), cohorts, columns)
    spent = _grid(frame.groupby([COHORT, MONTHS_SINCE])[VALUE].sum(), cohorts, columns).cumsum(axis=1)
    future = (cohorts[:, None] + columns.to_numpy()[None, :]) > _month_number(last_day)
    index = pd.PeriodIndex([_period_of(number) for number in cohorts], freq="M", name=COHORT)
    size_column = pd.Series(sizes, index=index, name=CUSTOMERS)

    def finished(values: np.ndarray) -> pd.DataFrame:
        return pd.DataFrame(np.where(future, np.nan, values), index=index, columns=columns)

    return CohortTable(
        retention=finished(active / sizes[:, None]),
        active=finished(active),
        revenue=finished(spent / sizes[:, None]),
        sizes=size_column,
        first_day=first_day,
        last_day=last_day,
        warnings=tuple(_small_cohorts(size_column)),
    )


def _period(orders: pd.DataFrame, last_day: dt.date | None) -> tuple[dt.date, dt.date]:
    """The first order's day and the day the data ends, checked: two calendar months at least."""
    if orders.empty:
        raise RFMInputError("There are no orders to follow cohorts in: every row was removed by the cleaning.")
    first, last = orders[DATE].min().date(), orders[DATE].max().date()
    if last_day is None:
        last_day = last
    elif last_day < last:
        raise RFMInputError(f"The data cannot end on {last_day}: there are orders up to {last}.")
    if _month_number(last_day) - _month_number(first) + 1 < MIN_COHORT_MONTHS:
        raise TooLittleDataError(
            f"Every order in this file is in {first:%Y-%m}: cohort retention needs orders in at least two calendar "
            "months (a first month, and one after it)."
        )
    return first, last_day


def _month_numbers(dates: pd.Series) -> np.ndarray:
    """Months since year 0 of each timestamp (so that consecutive calendar months differ by one)."""
    return (dates.dt.year * 12 + dates.dt.month - 1).to_numpy("int64")


def _month_number(day: dt.date) -> int:
    return day.year * 12 + day.month - 1


def _period_of(number: int) -> pd.Period:
    return pd.Period(year=int(number) // 12, month=int(number) % 12 + 1, freq="M")


def _grid(cells: pd.Series, cohorts: np.ndarray, columns: pd.RangeIndex) -> np.ndarray:
    """A ``(cohort, months since)`` series as a full cohorts × months array, 0 where nothing happened."""
    return cells.unstack(fill_value=0).reindex(index=cohorts, columns=columns, fill_value=0).to_numpy("float64")


def _small_cohorts(sizes: pd.Series) -> list[str]:
    """A warning when cohorts are too small for their shares to mean much."""
    small = sizes[sizes < MIN_COHORT_CUSTOMERS]
    if small.empty:
        return []
    smallest = small.idxmin()
    if len(small) == len(sizes):
        return [
            f"Every cohort has fewer than {MIN_COHORT_CUSTOMERS} customers ({int(sizes.sum()):,} customers in all): one "
            "customer moves a cohort's retention by 5 points or more, so read the shares with care."
        ]
    have = "has" if len(small) == 1 else "have"
    return [
        f"{len(small):,} of {len(sizes):,} cohorts {have} fewer than {MIN_COHORT_CUSTOMERS} customers (the smallest: "
        f"{smallest} with {int(small.min()):,}): one customer moves its retention by 5 points or more."
    ]


def cohort_files(cohorts: CohortTable) -> dict[str, bytes]:
    """What ``python -m rfm cohorts`` writes and the page downloads: ``retention.csv`` (shares, 4 decimals) and
    ``revenue.csv`` (cumulative revenue per customer, 2 decimals), one row per cohort with its ``customers``;
    a month not yet in the data is an empty cell."""
    from rfm.outputs.files import table_csv_bytes

    frames = cohorts.as_frames()
    months = [column for column in frames["retention"].columns if column != CUSTOMERS]
    return {
        RETENTION_FILE: table_csv_bytes(frames["retention"].round(dict.fromkeys(months, 4))),
        REVENUE_FILE: table_csv_bytes(frames["revenue"].round(dict.fromkeys(months, 2))),
    }


__all__ = [
    "COHORT",
    "CUSTOMERS",
    "MEASURES",
    "MIN_COHORT_CUSTOMERS",
    "MONTHS_SINCE",
    "RETENTION_FILE",
    "REVENUE_FILE",
    "CohortTable",
    "cohort_files",
    "cohort_table",
]
