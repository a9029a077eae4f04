"""Monthly cohorts (rfm.trends.cohorts) on five hand-made customers in three cohorts, every cell worked out below;
invariants on random order tables (hypothesis); and the shared UCI excerpt recomputed with plain pandas.

The data ends on 2024-04-15 (mid-April: a partial last month); months since the first order run 0..3.

    a  2024-01-05 (10), 2024-01-25 (5): twice in its first month; 2024-03-10 (20)      cohort 2024-01
    b  2024-01-31 23:00 (8), 2024-02-01 00:30 (12): month 0, then month 1              cohort 2024-01
    c  2024-02-14 (40), 2024-04-15 18:00 (10): month 2, on the data's last day         cohort 2024-02
    d  2024-02-29 (30): never again                                                    cohort 2024-02
    e  2024-03-03 (50), 2024-04-01 (25): month 1                                       cohort 2024-03

Customers buying, per cohort and month (months after April are missing):
    2024-01 (a, b):  2 (a, b)   1 (b)   1 (a)   0        -> 100%  50%  50%   0%
    2024-02 (c, d):  2 (c, d)   0       1 (c)   -        -> 100%   0%  50%   -
    2024-03 (e):     1          1 (e)   -       -        -> 100% 100%   -    -
Cumulative revenue per customer (revenue so far / cohort size):
    2024-01: 23/2 = 11.5, 35/2 = 17.5, 55/2 = 27.5, 27.5
    2024-02: 70/2 = 35, 35, 80/2 = 40, -
    2024-03: 50, 75, -, -
"""

from __future__ import annotations

import datetime as dt
import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from devkit.data import WORKBOOK
from rfm import schema
from rfm.cleaning.orders import DATE, VALUE, tidy_orders
from rfm.errors import RFMInputError
from rfm.trends import CohortTable, cohort_files, cohort_table
from rfm.trends.cohorts import MIN_COHORT_CUSTOMERS

ORDER_ROWS = [
    ("a", "2024-01-05 10:00", 10.0),
    ("a", "2024-01-25 10:00", 5.0),
    ("a", "2024-03-10 10:00", 20.0),
    ("b", "2024-01-31 23:00", 8.0),
    ("b", "2024-02-01 00:30", 12.0),
    ("c", "2024-02-14 10:00", 40.0),
    ("c", "2024-04-15 18:00", 10.0),
    ("d", "2024-02-29 10:00", 30.0),
    ("e", "2024-03-03 10:00", 50.0),
    ("e", "2024-04-01 10:00", 25.0),
]
ORDERS = tidy_orders(pd.DataFrame(ORDER_ROWS, columns=[schema.CUSTOMER_ID, DATE, VALUE]))
NAN = float("nan")
COHORTS = pd.PeriodIndex(["2024-01", "2024-02", "2024-03"], freq="M", name="cohort")
RETENTION = [[1.0, 0.5, 0.5, 0.0], [1.0, 0.0, 0.5, NAN], [1.0, 1.0, NAN, NAN]]
ACTIVE = [[2, 1, 1, 0], [2, 0, 1, NAN], [1, 1, NAN, NAN]]
REVENUE = [[11.5, 17.5, 27.5, 27.5], [35.0, 35.0, 40.0, NAN], [50.0, 75.0, NAN, NAN]]


def frame(values: list[list[float]]) -> pd.DataFrame:
    return pd.DataFrame(values, index=COHORTS, columns=pd.RangeIndex(4, name="months_since_first_order"), dtype="float64")


@pytest.fixture(scope="module")
def cohorts() -> CohortTable:
    return cohort_table(ORDERS)


def test_every_cell_of_the_hand_computed_table(cohorts):
    pd.testing.assert_frame_equal(cohorts.retention, frame(RETENTION))
    pd.testing.assert_frame_equal(cohorts.active, frame(ACTIVE))
    pd.testing.assert_frame_equal(cohorts.revenue, frame(REVENUE))
    pd.testing.assert_series_equal(cohorts.sizes, pd.Series([2, 2, 1], index=COHORTS, name="customers"))
    assert (cohorts.first_day, cohorts.last_day) == (dt.date(2024, 1, 5), dt.date(2024, 4, 15))


def test_cells_after_the_data_ends_are_missing_not_zero(cohorts):
    # Observed and empty (the January cohort in April, the February cohort in March) is 0; the future is NaN.
    assert cohorts.retention.loc["2024-01", 3] == 0.0 and cohorts.retention.loc["2024-02", 1] == 0.0
    future = cohorts.retention.isna().to_numpy()
    assert future.tolist() == [[False] * 4, [False, False, False, True], [False, False, True, True]]
    assert (cohorts.revenue.isna().to_numpy() == future).all() and (cohorts.active.isna().to_numpy() == future).all()


def test_a_later_last_day_turns_future_months_into_observed_zeros():
    later = cohort_table(ORDERS, dt.date(2024, 5, 31))
    assert list(later.retention.columns) == [0, 1, 2, 3, 4]
    assert later.retention.loc["2024-02", 3] == 0.0 and later.retention.loc["2024-03", 2] == 0.0
    assert math.isnan(later.retention.loc["2024-03", 3]) and math.isnan(later.retention.loc["2024-02", 4])
    assert later.revenue.loc["2024-02", 3] == 40.0  # nothing more spent: the cumulative figure stays
    assert not later.last_month_partial and not later.partial.to_numpy().any()


def test_the_partial_last_month_is_marked_and_left_out_of_the_averages(cohorts):
    assert cohorts.last_month_partial and cohorts.first_month_partial
    partial = cohorts.partial
    # April: month 3 of January's cohort, 2 of February's, 1 of March's.
    assert partial.to_numpy().tolist() == [[False, False, False, True], [False, False, True, False], [False, True, False, False]]
    assert cohorts.average(1) == pytest.approx((1 + 0) / (2 + 2))  # March's month 1 is April: partial
    assert cohorts.average(2) == pytest.approx(1 / 2)  # February's month 2 is April
    assert cohorts.average(1, "revenue") == pytest.approx((17.5 * 2 + 35.0 * 2) / 4)
    assert math.isnan(cohorts.average(3)) and math.isnan(cohorts.average(12))
    whole_april = cohort_table(ORDERS, dt.date(2024, 4, 30))
    assert whole_april.average(1) == pytest.approx((1 + 0 + 1) / 5)
    notes = cohorts.notes()
    assert notes[0].startswith("The data ends on 2024-04-15, before the end of 2024-04")
    assert notes[1].startswith("The first cohort (2024-01) holds every customer who bought in the data's first month (from 2024-01-05)")
    with pytest.raises(ValueError, match="measure='profit' should be one of retention, revenue"):
        cohorts.average(1, "profit")


def test_row_order_and_customer_labels_do_not_matter(cohorts):
    for seed in range(5):
        shuffled = ORDERS.sample(frac=1, random_state=seed).reset_index(drop=True)
        again = cohort_table(shuffled)
        for name in ("retention", "active", "revenue"):
            pd.testing.assert_frame_equal(getattr(again, name), getattr(cohorts, name))
        pd.testing.assert_series_equal(again.sizes, cohorts.sizes)
    renamed = ORDERS.assign(**{schema.CUSTOMER_ID: ORDERS[schema.CUSTOMER_ID].map(dict(zip("abcde", "54321")))})
    pd.testing.assert_frame_equal(cohort_table(renamed).retention, cohorts.retention)


def test_files_and_frames_people_read(cohorts):
    frames = cohorts.as_frames()
    assert list(frames["retention"].columns) == ["customers", "month_0", "month_1", "month_2", "month_3"]
    assert list(frames["retention"].index) == ["2024-01", "2024-02", "2024-03"] and frames["revenue"].index.name == "cohort"
    files = cohort_files(cohorts)
    assert set(files) == {"retention.csv", "revenue.csv"}
    assert files["retention.csv"].decode("utf-8-sig").splitlines() == [
        "cohort,customers,month_0,month_1,month_2,month_3",
        "2024-01,2,1.0,0.5,0.5,0.0",
        "2024-02,2,1.0,0.0,0.5,",
        "2024-03,1,1.0,1.0,,",
    ]
    assert files["revenue.csv"].decode("utf-8-sig").splitlines()[1:] == [
        "2024-01,2,11.5,17.5,27.5,27.5",
        "2024-02,2,35.0,35.0,40.0,",
        "2024-03,1,50.0,75.0,,",
    ]
    assert cohorts.describe() == (
        "3 monthly cohorts of 5 customers from 2024-01-05 to 2024-04-15 (2024-04 partial); month 1: 50.0% of the "
        "2024-01 cohort, 25.0% of all cohorts' customers"
    )


def test_few_customers_give_a_warning_not_an_error(cohorts):
    assert cohorts.warnings == (
        f"Every cohort has fewer than {MIN_COHORT_CUSTOMERS} customers (5 customers in all): one customer moves a "
        "cohort's retention by 5 points or more, so read the shares with care.",
    )
    january = [(f"j{i}", "2024-01-10", 10.0) for i in range(MIN_COHORT_CUSTOMERS)]
    mixed = cohort_table(tidy_orders(pd.DataFrame([*january, ("f", "2024-02-02", 5.0)], columns=[schema.CUSTOMER_ID, DATE, VALUE])))
    assert mixed.warnings == (
        f"1 of 2 cohorts has fewer than {MIN_COHORT_CUSTOMERS} customers (the smallest: 2024-02 with 1): one customer "
        "moves its retention by 5 points or more.",
    )
    assert mixed.retention.loc["2024-01", 1] == 0.0


def test_too_little_data_is_one_clear_error():
    with pytest.raises(RFMInputError, match="There are no orders to follow cohorts in"):
        cohort_table(ORDERS.iloc[0:0])
    one_month = ORDERS[ORDERS[DATE] < "2024-02-01"]
    with pytest.raises(RFMInputError, match=r"Every order in this file is in 2024-01: cohort retention needs orders in at least two"):
        cohort_table(one_month)
    with pytest.raises(RFMInputError, match="The data cannot end on 2024-03-31: there are orders up to 2024-04-15"):
        cohort_table(ORDERS, dt.date(2024, 3, 31))
    # One month of orders, but the data runs on into the next: a cohort with an observed (empty) month 1.
    assert cohort_table(one_month, dt.date(2024, 2, 29)).retention.loc["2024-01", 1] == 0.0


# --- invariants on random order tables ---------------------------------------------------------------------


@st.composite
def order_tables(draw):
    n = draw(st.integers(2, 40))
    customers = draw(st.lists(st.sampled_from(list("abcdefgh")), min_size=n, max_size=n))
    days = draw(st.lists(st.integers(0, 400), min_size=n, max_size=n))
    values = draw(st.lists(st.floats(0.01, 1000, allow_nan=False), min_size=n, max_size=n))
    dates = pd.Timestamp("2023-01-01") + pd.to_timedelta(days, unit="D")
    return tidy_orders(pd.DataFrame({schema.CUSTOMER_ID: customers, DATE: dates, VALUE: values}))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(order_tables(), st.integers(0, 10**6))
def test_invariants(orders, seed):
    if orders[DATE].dt.to_period("M").nunique() < 2:
        with pytest.raises(RFMInputError, match="cohort retention needs orders in at least two calendar months"):
            cohort_table(orders)
        return
    cohorts = cohort_table(orders)
    retention, revenue = cohorts.retention, cohorts.revenue
    assert (retention[0] == 1.0).all() and ((retention >= 0) & (retention <= 1) | retention.isna()).all().all()
    assert cohorts.sizes.sum() == orders[schema.CUSTOMER_ID].nunique()
    last = pd.Period(orders[DATE].max(), freq="M")
    ages = np.array([(last - cohort).n for cohort in retention.index])
    assert (retention.isna().to_numpy() == (retention.columns.to_numpy()[None, :] > ages[:, None])).all()
    assert (revenue.diff(axis=1).iloc[:, 1:].fillna(0) >= -1e-9).all().all()  # cumulative: never falls
    # The last observed cell of every row is everything the cohort spent.
    spent = [revenue.loc[cohort, age] * size for cohort, age, size in zip(retention.index, ages, cohorts.sizes)]
    assert sum(spent) == pytest.approx(orders[VALUE].sum())
    shuffled = cohort_table(orders.sample(frac=1, random_state=seed))
    pd.testing.assert_frame_equal(shuffled.retention, retention)
    pd.testing.assert_frame_equal(shuffled.revenue, revenue)


# --- real data ---------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def real():
    if not WORKBOOK.exists():
        pytest.skip(f"real data not found at {WORKBOOK}")
    from rfm.cleaning.analyse import analyse_file

    return analyse_file(WORKBOOK)


@pytest.mark.slow
def test_the_shared_uci_excerpt_matches_plain_pandas(real):
    orders = real.orders
    cohorts = cohort_table(orders, real.report.analysis_date)
    # Golden figures: 25 monthly cohorts (2009-12 to 2011-12) of the excerpt's 260 customers; 21 in the first,
    # 10 of whom bought again in 2010-01.
    assert len(cohorts.sizes) == 25 and cohorts.sizes.sum() == 260 == len(real.customers)
    assert cohorts.sizes.iloc[0] == 21 and cohorts.active.iloc[0, 1] == 10
    assert cohorts.retention.iloc[0, 1] == pytest.approx(10 / 21)
    assert cohorts.last_month_partial and str(cohorts.sizes.index[-1]) == "2011-12"
    # Every cell, with periods and a pivot table instead of month numbers and arrays.
    month = orders[DATE].dt.to_period("M")
    cohort = month.groupby(orders[schema.CUSTOMER_ID]).transform("min")
    frame = pd.DataFrame({"cohort": cohort, "age": (month - cohort).map(lambda offset: offset.n), "id": orders[schema.CUSTOMER_ID]})
    buyers = frame.drop_duplicates().pivot_table(index="cohort", columns="age", values="id", aggfunc="count", fill_value=0)
    sizes = frame.groupby("cohort")["id"].nunique()
    expected = buyers.div(sizes, axis=0).reindex(columns=range(25), fill_value=0.0).to_numpy()
    got = cohorts.retention.to_numpy()
    observed = ~np.isnan(got)
    assert np.allclose(got[observed], expected[observed])
    assert observed.sum() == 25 * 26 // 2  # a triangle: the cohort of month i is seen for 25 - i months
    assert cohorts.revenue.iloc[:, -1].iloc[0] * 21 == pytest.approx(orders[cohort == cohort.min()][VALUE].sum())
