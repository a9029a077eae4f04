"""Orders, RFM as of any day, segment migration between two dates, campaign KPIs and `python -m rfm migrate`.

Most answers come from a small file built here whose customers' moves are known by construction (see
``ROWS``); the rest check the real UCI excerpt and the demo workbook against the RFM table they already give.
The timeline's and the KPIs' own unit tests, on smaller hand-made orders, are in test_timeline.py and test_kpis.py.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import math

import numpy as np
import pandas as pd
import pytest

from devkit.data import WORKBOOK
from rfm import schema
from rfm.cleaning.analyse import analyse_file
from rfm.cleaning.ledger import CleaningSettings
from rfm.cleaning.orders import DATE, LAST_LINE, VALUE, order_table
from rfm.demo import DEMO_PATH
from rfm.errors import RFMInputError
from rfm.segment_run import segment_kpis, segment_run
from rfm.trends.kpis import TOTAL, campaign_kpis
from rfm.trends.migration import NEW, Migration, flow_label, flow_list, migrate, migration_files
from rfm.trends.timeline import (
    LEFT,
    default_dates,
    labelled_as_of,
    quarter_before,
    rfm_as_of,
    sizes_over_time,
    snapshot_days,
)

needs_workbook = pytest.mark.skipif(not WORKBOOK.exists(), reason=f"real data not found at {WORKBOOK}")

FROM_DATE, TO_DATE, ACTIVE = dt.date(2024, 3, 31), dt.date(2024, 6, 30), 60

# Invoice, customer, time, quantity, price. The comparison is 2024-03-31 -> 2024-06-30 with customers leaving
# after 60 days without an order:
#   A  four orders; invoice 1 has two lines (09:00 and 10:00): one order of 15 at 09:00.  active -> active
#   B  one order in January.                                                     Left -> Left (still gone)
#   C  January, then 2024-06-01.                                                  Left -> active
#   D  first order 2024-04-15.                                                    New -> active
#   E  one order 2024-03-20 (recency 11 at the first date, 102 at the second).    active -> Left
#   F  two rows without an invoice id (two orders of 7 and 8), 03-30, 06-30.      active -> active
#   G  one order 2024-04-05.                                                      New -> Left
#   H  an order at 23:00 on the first date (before) and at 00:30 the day after (between).  active -> active
#   K  last order 2024-05-01: recency exactly 60 at the second date, not Left.    active -> active
#   L  last order 2024-04-30: recency 61 at the second date.                      active -> Left
ROWS = [
    ("1", "A", "2024-01-10 10:00", 1, 10.0),
    ("1", "A", "2024-01-10 09:00", 1, 5.0),
    ("2", "A", "2024-03-15 12:00", 2, 10.0),
    ("3", "A", "2024-05-10 12:00", 1, 30.0),
    ("4", "A", "2024-06-20 12:00", 4, 10.0),
    ("5", "B", "2024-01-05 12:00", 1, 50.0),
    ("6", "C", "2024-01-03 12:00", 1, 25.0),
    ("7", "C", "2024-06-01 12:00", 1, 35.0),
    ("8", "D", "2024-04-15 12:00", 3, 20.0),
    ("9", "D", "2024-06-25 12:00", 1, 10.0),
    ("10", "E", "2024-03-20 12:00", 1, 45.0),
    ("", "F", "2024-02-10 08:00", 1, 7.0),
    ("", "F", "2024-02-10 08:00", 1, 8.0),
    ("11", "F", "2024-03-30 23:59", 1, 9.0),
    ("12", "F", "2024-06-30 18:00", 1, 11.0),
    ("13", "G", "2024-04-05 12:00", 1, 12.0),
    ("14", "H", "2024-02-01 12:00", 1, 100.0),
    ("15", "H", "2024-03-31 23:00", 1, 100.0),
    ("16", "H", "2024-04-01 00:30", 1, 100.0),
    ("17", "H", "2024-06-10 12:00", 1, 100.0),
    ("18", "K", "2024-02-15 12:00", 1, 30.0),
    ("19", "K", "2024-05-01 12:00", 1, 30.0),
    ("20", "L", "2024-03-01 12:00", 1, 20.0),
    ("21", "L", "2024-04-30 12:00", 1, 20.0),
]
COLUMNS = ["Invoice", "Customer ID", "InvoiceDate", "Quantity", "Price"]
# Hand-computed from ROWS.
ORDERS = {"A": 4, "B": 1, "C": 2, "D": 2, "E": 1, "F": 4, "G": 1, "H": 4, "K": 2, "L": 2}
REVENUE = {"A": 105.0, "B": 50.0, "C": 60.0, "D": 70.0, "E": 45.0, "F": 35.0, "G": 12.0, "H": 400.0, "K": 60.0, "L": 40.0}
FIRST_ORDER = {
    "A": "2024-01-10", "B": "2024-01-05", "C": "2024-01-03", "D": "2024-04-15", "E": "2024-03-20",
    "F": "2024-02-10", "G": "2024-04-05", "H": "2024-02-01", "K": "2024-02-15", "L": "2024-03-01",
}
BETWEEN = {  # orders and revenue after 2024-03-31 up to 2024-06-30
    "A": (2, 70.0), "C": (1, 35.0), "D": (2, 70.0), "E": (0, 0.0), "F": (1, 11.0),
    "G": (1, 12.0), "H": (2, 200.0), "K": (1, 30.0), "L": (1, 20.0),
}
NEW_AT_FROM = {"D", "G"}
LEFT_AT_FROM = {"B", "C"}
LEFT_AT_TO = {"B", "E", "G", "L"}


def csv_file(rows) -> bytes:
    return pd.DataFrame(rows, columns=COLUMNS).to_csv(index=False).encode("utf-8")


@pytest.fixture(scope="module")
def analysis():
    return analyse_file(csv_file(ROWS), "x.csv")


@pytest.fixture(scope="module")
def run(analysis):
    return segment_run(analysis, k=2)


@pytest.fixture(scope="module")
def moves(analysis, run):
    return migrate(analysis.orders, run.bundle, FROM_DATE, TO_DATE, "segment", ACTIVE)


def expected_states(orders, bundle, day, by="segment", active_days=ACTIVE) -> pd.Series:
    """Each customer's state at ``day``, scored independently of rfm.trends.timeline.labelled_as_of."""
    scored = bundle.score(rfm_as_of(orders, day))
    return pd.Series(
        np.where(scored[schema.RECENCY].to_numpy() > active_days, LEFT, scored[by].astype(str).to_numpy()),
        index=scored.index,
    )


# --------------------------------------------------------------------------------------------- orders


def test_orders_one_per_invoice_and_per_row_without_invoice(analysis):
    orders = analysis.orders
    assert list(orders.columns) == [schema.CUSTOMER_ID, DATE, LAST_LINE, VALUE]
    assert len(orders) == sum(ORDERS.values()) == 24 - 1  # 24 rows, invoice 1's two lines are one order
    assert orders.groupby(schema.CUSTOMER_ID).size().to_dict() == ORDERS
    assert orders.groupby(schema.CUSTOMER_ID)[VALUE].sum().to_dict() == pytest.approx(REVENUE)
    a = orders[orders[schema.CUSTOMER_ID] == "A"]
    assert (a[DATE].iloc[0], a[VALUE].iloc[0]) == (pd.Timestamp("2024-01-10 09:00"), 15.0)  # earliest line, summed
    f = orders[orders[schema.CUSTOMER_ID] == "F"]
    assert sorted(f[VALUE]) == [7.0, 8.0, 9.0, 11.0]  # the two rows without an invoice stay two orders
    assert (f[DATE] == pd.Timestamp("2024-02-10 08:00")).sum() == 2
    # Sorted by date then customer; types as documented.
    assert orders[DATE].is_monotonic_increasing
    assert str(orders[DATE].dtype) == "datetime64[ns]" and orders[VALUE].dtype == "float64"


def test_order_count_per_customer_is_the_frequency(analysis):
    counts = analysis.orders.groupby(schema.CUSTOMER_ID).size()
    pd.testing.assert_series_equal(
        counts.sort_index(), analysis.customers[schema.FREQUENCY].sort_index(), check_names=False, check_dtype=False
    )
    revenue = analysis.orders.groupby(schema.CUSTOMER_ID)[VALUE].sum()
    np.testing.assert_allclose(revenue.sort_index(), analysis.customers[schema.MONETARY].sort_index())


@pytest.mark.slow
def test_order_table_of_the_clean_result_equals_the_analysis_orders():
    from rfm.cleaning.ledger import clean
    from rfm.reading.columns import detect_mapping
    from rfm.reading.files import read_transactions

    raw = read_transactions(csv_file(ROWS), "x.csv")
    result = clean(raw, detect_mapping(raw.frame).mapping, CleaningSettings())
    pd.testing.assert_frame_equal(order_table(result), analyse_file(csv_file(ROWS), "x.csv").orders)


@pytest.fixture(scope="module")
def real():
    if not WORKBOOK.exists():
        pytest.skip(f"real data not found at {WORKBOOK}")
    return analyse_file(WORKBOOK)


@pytest.mark.slow
@needs_workbook
def test_order_count_per_customer_is_the_frequency_on_real_data(real):
    counts = real.orders.groupby(schema.CUSTOMER_ID).size().sort_index()
    assert counts.to_dict() == real.customers[schema.FREQUENCY].sort_index().to_dict()
    assert real.orders[VALUE].sum() == pytest.approx(real.customers[schema.MONETARY].sum(), rel=1e-9)


# --------------------------------------------------------------------------------------------- RFM as of a day


def test_rfm_as_of_the_analysis_date_is_the_rfm_table(analysis):
    pd.testing.assert_frame_equal(rfm_as_of(analysis.orders, analysis.report.analysis_date), analysis.customers, check_dtype=False)


@pytest.mark.slow
def test_rfm_as_of_the_analysis_date_is_the_rfm_table_on_the_demo_workbook():
    demo = analyse_file(DEMO_PATH)
    pd.testing.assert_frame_equal(rfm_as_of(demo.orders, demo.report.analysis_date), demo.customers, check_dtype=False)


@pytest.mark.slow
@needs_workbook
def test_rfm_as_of_on_real_data_now_and_mid_period(real):
    pd.testing.assert_frame_equal(rfm_as_of(real.orders, real.report.analysis_date), real.customers, check_dtype=False)
    day = dt.date(2010, 12, 31)
    earlier = analyse_file(WORKBOOK, settings=CleaningSettings(analysis_date=day), with_orders=False)
    as_of = rfm_as_of(real.orders, day)
    assert 0 < len(as_of) < len(real.customers)
    pd.testing.assert_frame_equal(as_of, earlier.customers, check_dtype=False)


def test_rfm_as_of_an_earlier_day_on_the_constructed_file(analysis):
    table = rfm_as_of(analysis.orders, FROM_DATE)
    assert set(table.index) == set(ORDERS) - NEW_AT_FROM
    # H's order at 23:00 on the day counts, the one at 00:30 the day after does not.
    assert table.loc["H", schema.FREQUENCY] == 2 and table.loc["H", schema.RECENCY] == 0
    assert table.loc["H", schema.MONETARY] == 200.0
    assert table.loc["E", schema.RECENCY] == 11 and table.loc["B", schema.RECENCY] == 86
    earlier = analyse_file(csv_file(ROWS), "x.csv", settings=CleaningSettings(analysis_date=FROM_DATE), with_orders=False)
    pd.testing.assert_frame_equal(table, earlier.customers, check_dtype=False)
    empty = rfm_as_of(analysis.orders, dt.date(2023, 12, 31))
    assert empty.empty and list(empty.columns) == list(schema.RFM_COLUMNS)


@pytest.mark.slow
def test_rfm_as_of_matches_the_rfm_table_when_an_invoice_spans_midnight():
    rows = [
        ("1", "A", "2024-01-10 10:00", 1, 10.0),
        ("2", "A", "2024-06-10 23:30", 1, 5.0),
        ("2", "A", "2024-06-11 00:30", 1, 5.0),  # same invoice, next day
        ("3", "B", "2024-06-30 12:00", 1, 50.0),
    ]
    analysis = analyse_file(csv_file(rows), "x.csv")
    assert analysis.customers.loc["A", schema.RECENCY] == 19  # rfm_table: last line 2024-06-11
    pd.testing.assert_frame_equal(rfm_as_of(analysis.orders, analysis.report.analysis_date), analysis.customers, check_dtype=False)


# --------------------------------------------------------------------------------------------- migration


def test_states_at_both_dates_are_the_model_scoring_rfm_as_of(analysis, run, moves):
    before = expected_states(analysis.orders, run.bundle, FROM_DATE)
    after = expected_states(analysis.orders, run.bundle, TO_DATE)
    kept = sorted(set(ORDERS) - {"B"})
    assert sorted(moves.customers.index) == kept
    assert moves.customers.index.name == schema.CUSTOMER_ID
    expected_from = before.reindex(kept).fillna(NEW)
    assert moves.customers["from"].to_dict() == expected_from.to_dict()
    assert moves.customers["to"].to_dict() == after.reindex(kept).to_dict()


def test_new_left_and_returning_customers(moves):
    states = moves.customers
    assert {c for c in states.index if states.loc[c, "from"] == NEW} == NEW_AT_FROM
    assert {c for c in states.index if states.loc[c, "from"] == LEFT} == {"C"}  # B is still gone
    assert {c for c in states.index if states.loc[c, "to"] == LEFT} == LEFT_AT_TO - {"B"}
    assert states.loc["K", "to"] != LEFT  # recency exactly 60: not yet left
    assert moves.still_gone == 1 and "B" not in states.index
    assert states.loc["C", "to"] != LEFT
    # New customers have no first-date measures; the others have the hand-computed ones.
    assert states.loc[sorted(NEW_AT_FROM), "frequency_from"].isna().all()
    assert states.loc[sorted(NEW_AT_FROM), "monetary_from"].isna().all()
    assert states.loc["H", "frequency_from"] == 2 and states.loc["H", "frequency_to"] == 4
    assert states.loc["E", "recency_days_from"] == 11 and states.loc["E", "recency_days_to"] == 102
    assert states.loc["A", "monetary_from"] == 35.0 and states.loc["A", "monetary_to"] == 105.0


def test_counts_at_both_dates_include_everyone_who_had_bought(moves):
    # All ten customers (A..L) had bought by the second date; B, gone at both dates and not drawn, is counted.
    assert moves.customers_at_to_date == 10 and "B" in moves.at_to_date.index
    assert moves.customers_at_from_date == 8  # everyone but D and G (first order after the first date)
    assert moves.left_at_to_date == len(LEFT_AT_TO)  # B (still gone) included
    assert moves.at_to_date.loc[sorted(LEFT_AT_TO), "left"].all()


def test_reconciliation_adds_up_to_a_segmentation_of_the_second_date(moves, analysis, run):
    table = moves.reconciliation()
    assert (table["customers"] == table["shown_in_segment"] + table["counted_as_left"]).all()
    assert table.loc["Total", "customers"] == moves.customers_at_to_date
    assert table.loc["Total", "counted_as_left"] == moves.left_at_to_date
    # Each segment's count is the model's own label of the RFM table as of the second date, Left or not.
    labels = run.bundle.score(rfm_as_of(analysis.orders, TO_DATE))["segment"].value_counts()
    assert table.drop(index="Total")["customers"].to_dict() == labels.to_dict()
    # Those shown in a segment are the matrix's column totals for that segment.
    shown = moves.matrix.sum(axis=0).drop(LEFT, errors="ignore")
    assert table.drop(index="Total")["shown_in_segment"].loc[shown.index].to_dict() == shown.to_dict()


@pytest.mark.slow
@pytest.mark.parametrize("by", ["segment", "cluster_name"])
def test_trends_counts_reconcile_with_the_segments_page_at_the_analysis_date(by):
    """The Segments page's counts (the run's labels) are the Trends page's once its Left are added back."""
    demo = analyse_file(DEMO_PATH)
    demo_run = segment_run(demo, k=4)
    day = demo.report.analysis_date
    moved = migrate(demo.orders, demo_run.bundle, quarter_before(day), day, by, 365)
    column = "rfm_segment" if by == "segment" else "segment_name"
    segments_page = demo_run.labelled[column].value_counts()
    table = moved.reconciliation().drop(index="Total")
    assert table["customers"].to_dict() == segments_page.to_dict()
    assert moved.customers_at_to_date == len(demo_run.labelled)
    assert table["counted_as_left"].sum() > 0  # the demo has customers silent for a year: the pages differ by them


def test_orders_and_revenue_between_the_dates(moves):
    got = {c: (int(r.orders_between), float(r.revenue_between)) for c, r in moves.customers.iterrows()}
    assert got == BETWEEN


def test_matrix_shares_and_flows_add_up(moves):
    matrix, customers = moves.matrix, moves.customers
    assert (matrix.index.name, matrix.columns.name) == ("from", "to")
    assert int(matrix.to_numpy().sum()) == len(customers) == 9
    assert matrix.index[0] == NEW and matrix.columns[-1] == LEFT and matrix.index[-1] == LEFT
    assert set(matrix.index) == set(customers["from"]) | {NEW}
    assert set(matrix.columns) == set(customers["to"])
    for source in matrix.index:
        for target in matrix.columns:
            expected = int(((customers["from"] == source) & (customers["to"] == target)).sum())
            assert matrix.loc[source, target] == expected, (source, target)
    sums = moves.shares.sum(axis=1)
    for source, total in sums.items():
        assert total == pytest.approx(1.0 if matrix.loc[source].sum() else 0.0)
    flows = moves.flows
    assert list(flows.columns) == ["from", "to", "customers", "share_of_from", "revenue_between"]
    assert flows["customers"].sum() == len(customers)
    assert (flows["customers"] > 0).all()
    assert len(flows) == int((matrix.to_numpy() > 0).sum())
    for row in flows.itertuples(index=False):
        assert row.customers == matrix.loc[row[0], row[1]]
        assert row.share_of_from == pytest.approx(moves.shares.loc[row[0], row[1]])
        members = customers[(customers["from"] == row[0]) & (customers["to"] == row[1])]
        assert row.revenue_between == pytest.approx(members["revenue_between"].sum())
    assert flows.groupby("from")["share_of_from"].sum().to_numpy() == pytest.approx(1.0)
    # Largest first within each first-date state, first-date states in matrix order.
    order = {name: i for i, name in enumerate(matrix.index)}
    keys = [(order[f], -c) for f, c in zip(flows["from"], flows["customers"])]
    assert keys == sorted(keys)


def test_flow_customers_are_exactly_that_flow(moves):
    customers = moves.customers
    for source, target in zip(moves.flows["from"], moves.flows["to"]):
        chosen = moves.flow_customers(source, target)
        expected = customers.index[(customers["from"] == source) & (customers["to"] == target)]
        assert sorted(chosen.index) == sorted(expected)
        assert chosen["monetary_to"].is_monotonic_decreasing
    g_flow = moves.flow_customers(NEW, LEFT)
    assert list(g_flow.index) == ["G"]
    assert moves.flow_customers("nowhere", LEFT).empty
    assert flow_label("A", "B") == "A → B" and flow_label("A", "A") == "A (stayed)"
    assert moves.describe() == (
        "9 customers by rfm segment on 2024-03-31 and 2024-06-30; a customer has left after 60 days without an order"
    )


def test_nobody_leaves_without_active_days(analysis, run):
    moves = migrate(analysis.orders, run.bundle, FROM_DATE, TO_DATE)
    assert LEFT not in set(moves.customers["from"]) | set(moves.customers["to"])
    assert moves.still_gone == 0 and len(moves.customers) == len(ORDERS)
    assert set(moves.customers.index[moves.customers["from"] == NEW]) == NEW_AT_FROM
    after = expected_states(analysis.orders, run.bundle, TO_DATE, active_days=10**9)
    assert moves.customers["to"].to_dict() == after.to_dict()


def test_migration_by_cluster_name(analysis, run):
    moves = migrate(analysis.orders, run.bundle, FROM_DATE, TO_DATE, "cluster_name", ACTIVE)
    before = expected_states(analysis.orders, run.bundle, FROM_DATE, "cluster_name")
    after = expected_states(analysis.orders, run.bundle, TO_DATE, "cluster_name")
    kept = sorted(moves.customers.index)
    assert kept == sorted(set(ORDERS) - {"B"})
    assert moves.customers["from"].to_dict() == before.reindex(kept).fillna(NEW).to_dict()
    assert moves.customers["to"].to_dict() == after.reindex(kept).to_dict()
    names = set(run.bundle.names["name"])
    assert set(moves.customers["to"]) - {LEFT} <= names
    assert int(moves.matrix.to_numpy().sum()) == len(moves.customers)


def test_a_customer_who_came_back_and_left_again_is_not_still_gone(run):
    rows = ROWS + [("30", "M", "2024-01-02 12:00", 1, 40.0), ("31", "M", "2024-04-10 12:00", 1, 40.0)]
    analysis = analyse_file(csv_file(rows), "x.csv")
    # M: Left on 2024-03-31 (recency 89), bought on 2024-04-10, Left again on 2024-06-30 (recency 81).
    moves = migrate(analysis.orders, run.bundle, FROM_DATE, TO_DATE, "segment", ACTIVE)
    assert moves.still_gone == 1  # B only
    assert "M" in moves.customers.index
    assert moves.customers.loc["M", "orders_between"] == 1


# --------------------------------------------------------------------------------------------- errors


def test_bad_migration_arguments(analysis, run):
    orders, bundle = analysis.orders, run.bundle
    with pytest.raises(RFMInputError) as wrong_order:
        migrate(orders, bundle, TO_DATE, FROM_DATE)
    assert "2024-06-30" in str(wrong_order.value) and "2024-03-31" in str(wrong_order.value)
    with pytest.raises(RFMInputError, match="2024-03-31"):
        migrate(orders, bundle, FROM_DATE, FROM_DATE)
    with pytest.raises(RFMInputError, match="2023-06-01"):
        migrate(orders, bundle, dt.date(2023, 1, 1), dt.date(2023, 6, 1))
    with pytest.raises(RFMInputError, match="nonsense"):
        migrate(orders, bundle, FROM_DATE, TO_DATE, by="nonsense")
    for days in (0, -5):
        with pytest.raises(RFMInputError, match=str(days)):
            migrate(orders, bundle, FROM_DATE, TO_DATE, active_days=days)


def test_a_first_date_before_any_order_makes_everyone_new(analysis, run):
    moves = migrate(analysis.orders, run.bundle, dt.date(2023, 12, 31), TO_DATE, "segment", ACTIVE)
    assert set(moves.customers["from"]) == {NEW}
    assert moves.still_gone == 0 and len(moves.customers) == len(ORDERS)
    assert list(moves.matrix.index) == [NEW]
    assert moves.customers["orders_between"].sum() == sum(ORDERS.values())


# --------------------------------------------------------------------------------------------- timeline


@pytest.mark.slow
def test_segment_kpis_on_a_file_of_one_day():
    rows = [(str(i), f"C{i % 7}", f"2024-05-01 {8 + i % 10}:00", 1 + i % 3, 5.0 + i) for i in range(30)]
    one_day = analyse_file(csv_file(rows), "x.csv")
    with pytest.raises(RFMInputError, match=r"^Every order in this file is on 2024-05-01: there are no two dates"):
        default_dates(one_day.orders, one_day.report.analysis_date)
    assert segment_kpis(segment_run(one_day, k=2)) is None  # no period for retention: segment runs without KPIs


def test_sizes_over_time(analysis, run, moves):
    days = snapshot_days(dt.date(2024, 1, 3), TO_DATE)
    sizes = sizes_over_time(analysis.orders, run.bundle, days, "segment", ACTIVE)
    assert list(sizes.index) == days and sizes.index.name == "day"
    assert sizes.columns[-1] == LEFT
    firsts = {c: dt.date.fromisoformat(d) for c, d in FIRST_ORDER.items()}
    expected_totals = [sum(first <= day for first in firsts.values()) for day in days]
    assert expected_totals == [3, 6, 8, 10, 10, 10]
    assert sizes.sum(axis=1).tolist() == expected_totals
    for day in days:
        counts = expected_states(analysis.orders, run.bundle, day).value_counts()
        assert sizes.loc[day][sizes.loc[day] > 0].to_dict() == counts.to_dict()
    # The last snapshot is the migration's second date: its states, plus the customers still gone (Left).
    last = moves.customers["to"].value_counts()
    last[LEFT] = last.get(LEFT, 0) + moves.still_gone
    assert sizes.loc[TO_DATE][sizes.loc[TO_DATE] > 0].to_dict() == last.to_dict()
    # A snapshot before any order has nobody.
    early = sizes_over_time(analysis.orders, run.bundle, [dt.date(2023, 12, 31), TO_DATE], "segment", ACTIVE)
    assert early.loc[dt.date(2023, 12, 31)].sum() == 0 and early.loc[TO_DATE].sum() == 10
    assert labelled_as_of(analysis.orders, run.bundle, dt.date(2023, 12, 31), "segment", ACTIVE).empty


# --------------------------------------------------------------------------------------------- campaign KPIs

GROUPS = {"Alpha": ["A", "C", "F"], "Beta": ["B", "E", "H", "K", "L"], "Newbies": ["D", "G"]}


def test_campaign_kpis_by_hand(analysis):
    segments = pd.Series({c: name for name, members in GROUPS.items() for c in members})
    table = campaign_kpis(analysis.customers, segments, analysis.orders, FROM_DATE, TO_DATE)
    assert list(table.index) == ["Beta", "Alpha", "Newbies", TOTAL]  # by size, then all customers
    assert list(table.columns) == [
        "customers", "repeat_rate", "purchase_frequency", "avg_order_value", "revenue_per_customer", "retention", "retained_of"
    ]
    expected = {
        # customers, repeat rate, orders/customer, AOV, revenue/customer, retention, retained_of
        "Alpha": (3, 1.0, 10 / 3, 200 / 10, 200 / 3, 1.0, 3),
        "Beta": (5, 3 / 5, 10 / 5, 595 / 10, 595 / 5, 3 / 5, 5),
        "Newbies": (2, 1 / 2, 3 / 2, 82 / 3, 82 / 2, math.nan, 0),
        TOTAL: (10, 7 / 10, 23 / 10, 877 / 23, 877 / 10, 6 / 8, 8),
    }
    for name, values in expected.items():
        row = table.loc[name]
        assert int(row["customers"]) == values[0] and int(row["retained_of"]) == values[6], name
        got = [row[c] for c in ("repeat_rate", "purchase_frequency", "avg_order_value", "revenue_per_customer")]
        assert got == pytest.approx(list(values[1:5])), name
        if math.isnan(values[5]):
            assert math.isnan(row["retention"]), name
        else:
            assert row["retention"] == pytest.approx(values[5]), name
    assert table["customers"].dtype == "int64" and table["retained_of"].dtype == "int64"
    chosen = campaign_kpis(analysis.customers, segments, analysis.orders, FROM_DATE, TO_DATE, order=["Newbies", "Alpha", "Beta"])
    assert list(chosen.index) == ["Newbies", "Alpha", "Beta", TOTAL]
    # Retention over another period: bought by 2024-01-31 (A, B, C), came back in February-March: A only.
    other = campaign_kpis(analysis.customers, segments, analysis.orders, dt.date(2024, 1, 31), dt.date(2024, 3, 31))
    assert other.loc[TOTAL, "retained_of"] == 3 and other.loc[TOTAL, "retention"] == pytest.approx(1 / 3)
    with pytest.raises(RFMInputError, match="2024-03-31"):
        campaign_kpis(analysis.customers, segments, analysis.orders, FROM_DATE, FROM_DATE)


def test_segment_kpis_of_a_run(run):
    kpis = segment_kpis(run, (FROM_DATE, TO_DATE))
    assert (kpis.from_date, kpis.to_date) == (FROM_DATE, TO_DATE)
    assert kpis.table.loc[TOTAL, "customers"] == 10
    assert kpis.table.loc[TOTAL, "retained_of"] == 8 and kpis.table.loc[TOTAL, "retention"] == pytest.approx(0.75)
    assert kpis.table.drop(TOTAL)["customers"].sum() == 10
    default = segment_kpis(run)
    assert (default.from_date, default.to_date) == (FROM_DATE, TO_DATE)
    assert "2024-03-31" in default.caption and "2024-06-30" in default.caption


# --------------------------------------------------------------------------------------------- files


def _read(data: bytes, **options) -> pd.DataFrame:
    return pd.read_csv(io.BytesIO(data), encoding="utf-8-sig", keep_default_na=False, **options)


def test_migration_files(moves, run):
    files = migration_files(moves, run.labelled)
    flow_files = sorted(name for name in files if name.startswith("flows/"))
    assert set(files) == {"matrix.csv", "shares.csv", "flows.csv", "customers.csv", *flow_files}
    assert len(flow_files) == len(moves.flows)
    assert all(data.startswith(b"\xef\xbb\xbf") for data in files.values())
    assert all(name.endswith("_2024-06-30.csv") for name in flow_files)
    matrix = _read(files["matrix.csv"], index_col=0)
    assert matrix.index.tolist() == moves.matrix.index.tolist()
    assert matrix.columns.tolist() == moves.matrix.columns.tolist()
    assert (matrix.to_numpy() == moves.matrix.to_numpy()).all()
    shares = _read(files["shares.csv"], index_col=0)
    np.testing.assert_allclose(shares.to_numpy(), moves.shares.round(4).to_numpy())
    flows = _read(files["flows.csv"])
    assert sorted(flows["file"]) == flow_files
    assert flows["customers"].sum() == len(moves.customers)
    customers = _read(files["customers.csv"], dtype={"customer_id": str}).set_index("customer_id")
    assert customers["from"].to_dict() == moves.customers["from"].to_dict()
    assert customers["to"].to_dict() == moves.customers["to"].to_dict()
    for row in flows.itertuples(index=False):
        listed = _read(files[row.file], dtype={"customer_id": str})
        assert listed["customer_id"].tolist() == moves.flow_customers(row[0], row[1]).index.tolist()
        assert set(listed["from"]) == {row[0]} and set(listed["to"]) == {row[1]}
        assert "segment_name" in listed.columns  # joined from the labelled customers


def test_migration_files_neutralise_formula_names():
    evil = '=HYPERLINK("http://example.com","Click")'
    customers = pd.DataFrame(
        {
            "from": [NEW, evil, evil],
            "to": [evil, LEFT, evil],
            "recency_days_from": pd.array([pd.NA, 3, 4], dtype="Int64"),
            "recency_days_to": [1, 90, 2],
            "frequency_from": pd.array([pd.NA, 1, 2], dtype="Int64"),
            "frequency_to": [1, 1, 3],
            "monetary_from": [np.nan, 10.0, 20.0],
            "monetary_to": [5.0, 10.0, 30.0],
            "orders_between": [1, 0, 1],
            "revenue_between": [5.0, 0.0, 10.0],
        },
        index=pd.Index(["1", "2", "+3"], name=schema.CUSTOMER_ID),
    )
    matrix = pd.crosstab(customers["from"], customers["to"]).reindex(index=[NEW, evil], columns=[evil, LEFT], fill_value=0)
    matrix.index.name, matrix.columns.name = "from", "to"
    flows = pd.DataFrame(
        {
            "from": [NEW, evil, evil],
            "to": [evil, evil, LEFT],
            "customers": [1, 1, 1],
            "share_of_from": [1.0, 0.5, 0.5],
            "revenue_between": [5.0, 10.0, 0.0],
        }
    )
    moves = Migration(FROM_DATE, TO_DATE, "cluster_name", 60, customers, matrix, flows, 0)
    files = migration_files(moves)
    text = files["matrix.csv"].decode("utf-8-sig")
    assert text.splitlines()[0] == 'from,"\'=HYPERLINK(""http://example.com"",""Click"")",Left'
    assert text.splitlines()[2].startswith('"\'=HYPERLINK(')
    parsed = _read(files["matrix.csv"], index_col=0)
    assert parsed.index.tolist() == [NEW, "'" + evil] and parsed.columns.tolist() == ["'" + evil, LEFT]
    assert parsed.to_numpy().tolist() == [[1, 0], [1, 1]]
    assert "\n=" not in text and ",=" not in text and '"=' not in text
    for name in ("shares.csv", "flows.csv", "customers.csv"):
        body = files[name].decode("utf-8-sig")
        assert "'=HYPERLINK(" in body and '"=' not in body and ",=" not in body, name
    assert "'+3" in files["customers.csv"].decode("utf-8-sig")
    flow_files = sorted(name for name in files if name.startswith("flows/"))
    assert len(flow_files) == 3
    assert all("=" not in name and '"' not in name for name in flow_files)
    for name in flow_files:
        assert "'=HYPERLINK(" in files[name].decode("utf-8-sig")


# --------------------------------------------------------------------------------------------- the command


@pytest.fixture(scope="module")
def cli_runs(tmp_path_factory, cli):
    folder = tmp_path_factory.mktemp("migrate")
    data = folder / "x.csv"
    data.write_bytes(csv_file(ROWS))
    common = ["--from", "2024-03-31", "--k", "2"]
    commands = {
        "csv": ["migrate", data, *common, "--left-after-days", "60", "--out", folder / "csv"],
        "csv_cluster_never_left": ["migrate", data, *common, "--by", "cluster", "--left-after-days", "0", "--out", folder / "cluster"],
        "late": ["migrate", data, "--from", "2024-07-01", "--k", "2", "--out", folder / "late"],
    }
    if WORKBOOK.exists():
        commands["real"] = ["migrate", WORKBOOK, "--from", "2010-12-31", "--out", folder / "real"]
    return folder, cli(commands)


def _summary(folder, name) -> dict:
    return json.loads((folder / name / "summary.json").read_text(encoding="utf-8"))


@pytest.mark.slow
def test_cli_migrate_on_the_constructed_file(cli_runs, moves):
    folder, results = cli_runs
    result = results["csv"]
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    out = folder / "csv"
    for name in ("matrix.csv", "shares.csv", "flows.csv", "customers.csv", "summary.json"):
        assert (out / name).is_file(), name
    summary = _summary(folder, "csv")
    assert (summary["from"], summary["to"], summary["by"], summary["left_after_days"]) == ("2024-03-31", "2024-06-30", "segment", 60)
    assert summary["customers"] == 9 and summary["still_gone"] == 1
    assert sum(flow["customers"] for flow in summary["flows"]) == summary["customers"]
    customers = _read((out / "customers.csv").read_bytes(), dtype={"customer_id": str}).set_index("customer_id")
    # Segments do not depend on the clustering: the command agrees with the library.
    assert customers["from"].to_dict() == moves.customers["from"].to_dict()
    assert customers["to"].to_dict() == moves.customers["to"].to_dict()
    flow_files = sorted(path.name for path in (out / "flows").iterdir())
    assert len(flow_files) == len(summary["flows"])
    assert sorted(_read((out / "flows.csv").read_bytes())["file"]) == [f"flows/{name}" for name in flow_files]


@pytest.mark.slow
def test_cli_migrate_by_cluster_with_nobody_leaving(cli_runs, run):
    folder, results = cli_runs
    result = results["csv_cluster_never_left"]
    assert result.returncode == 0, result.stderr
    summary = _summary(folder, "cluster")
    assert summary["by"] == "cluster_name" and summary["left_after_days"] is None
    assert summary["customers"] == 10 and summary["still_gone"] == 0
    assert sum(flow["customers"] for flow in summary["flows"]) == 10
    states = {flow["from"] for flow in summary["flows"]} | {flow["to"] for flow in summary["flows"]}
    assert LEFT not in states
    assert states - {NEW} <= set(run.bundle.names["name"])


@pytest.mark.slow
def test_cli_migrate_with_a_first_date_after_the_data(cli_runs):
    _, results = cli_runs
    result = results["late"]
    assert result.returncode == 2
    errors = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and "2024-07-01" in errors[0] and "2024-06-30" in errors[0]
    assert "Traceback" not in result.stderr


@pytest.mark.slow
@needs_workbook
def test_cli_migrate_on_real_data(cli_runs, real):
    folder, results = cli_runs
    result = results["real"]
    assert result.returncode == 0, result.stderr
    summary = _summary(folder, "real")
    assert (summary["from"], summary["to"], summary["left_after_days"]) == ("2010-12-31", "2011-12-09", 365)
    assert sum(flow["customers"] for flow in summary["flows"]) == summary["customers"]
    assert summary["customers"] + summary["still_gone"] == len(real.customers)
    out = folder / "real"
    for name in ("matrix.csv", "shares.csv", "flows.csv", "customers.csv"):
        assert (out / name).read_bytes().startswith(b"\xef\xbb\xbf"), name
    customers = _read((out / "customers.csv").read_bytes(), dtype={"customer_id": str})
    assert len(customers) == summary["customers"]
    matrix = _read((out / "matrix.csv").read_bytes(), index_col=0)
    assert int(matrix.to_numpy().sum()) == summary["customers"]
    # Customers whose first order is after the first date are new there.
    first = real.customers[schema.FIRST_PURCHASE]
    new = set(first.index[first >= pd.Timestamp("2011-01-01")])
    assert set(customers.loc[customers["from"] == NEW, "customer_id"]) == new
    assert len(list((out / "flows").iterdir())) == len(summary["flows"])


# --------------------------------------------------------------------------------------------- lifecycle stage flows

#: The session's thresholds: a repeat customer is Active up to 30 days, At risk to 60, Lapsed to 90; a one-time buyer
#: is New up to 45 days.
STAGE_DAYS = (30, 60, 90, 45)
#: Hand-computed from ROWS (2024 is a leap year). At 2024-03-31 / at 2024-06-30:
#:   A  2 orders, last 03-15 (16 days): Active        / 4 orders, last 06-20 (10): Active
#:   B  1 order 01-05 (86 days): Lapsed               / 177 days: Lost
#:   C  1 order 01-03 (88): Lapsed                    / 2 orders, last 06-01 (29): Active
#:   D  no order yet: New customer                    / 2 orders, last 06-25 (5): Active
#:   E  1 order 03-20 (11): New                       / 102 days: Lost
#:   F  3 orders, last 03-30 (1): Active              / 4 orders, last 06-30 (0): Active
#:   G  no order yet: New customer                    / 1 order 04-05 (86): Lapsed
#:   H  2 orders, last 03-31 23:00 (0): Active        / 4 orders, last 06-10 (20): Active
#:   K  1 order 02-15 (45, exactly new_days): New     / 2 orders, last 05-01 (60, exactly at_risk_days): At risk
#:   L  1 order 03-01 (30): New                       / 2 orders, last 04-30 (61): Lapsed
STAGE_MOVES = {
    "A": ("Active", "Active"), "B": ("Lapsed", "Lost"), "C": ("Lapsed", "Active"), "D": (NEW, "Active"),
    "E": ("New", "Lost"), "F": ("Active", "Active"), "G": (NEW, "Lapsed"), "H": ("Active", "Active"),
    "K": ("New", "At risk"), "L": ("New", "Lapsed"),
}


@pytest.fixture(scope="module")
def staged_run(analysis):
    from rfm.scoring.classic import SegmentSettings
    from rfm.scoring.lifecycle import LifecycleThresholds

    return segment_run(analysis, SegmentSettings(lifecycle=LifecycleThresholds(*STAGE_DAYS)), k=2)


def test_stage_flows_between_two_dates_by_hand(analysis, staged_run):
    moves = migrate(analysis.orders, staged_run.bundle, FROM_DATE, TO_DATE, schema.LIFECYCLE_STAGE)
    assert moves.customers[["from", "to"]].apply(tuple, axis=1).to_dict() == STAGE_MOVES
    assert list(moves.matrix.index) == [NEW, "New", "Active", "Lapsed"]
    assert list(moves.matrix.columns) == ["Active", "At risk", "Lapsed", "Lost"]
    assert moves.matrix.to_numpy().tolist() == [[1, 0, 1, 0], [0, 1, 1, 1], [3, 0, 0, 0], [1, 0, 0, 1]]
    assert moves.describe().startswith("10 customers by lifecycle stage on 2024-03-31 and 2024-06-30")
    assert moves.flows.iloc[0].to_dict() == {"from": NEW, "to": "Active", "customers": 1, "share_of_from": 0.5, "revenue_between": 70.0}


def test_stage_counts_over_time_use_the_same_thresholds(analysis, staged_run):
    sizes = sizes_over_time(analysis.orders, staged_run.bundle, [FROM_DATE, TO_DATE], schema.LIFECYCLE_STAGE)
    assert list(sizes.columns) == ["New", "Active", "At risk", "Lapsed", "Lost"]
    assert sizes.loc[FROM_DATE].to_dict() == {"New": 3, "Active": 3, "At risk": 0, "Lapsed": 2, "Lost": 0}
    assert sizes.loc[TO_DATE].to_dict() == {"New": 0, "Active": 5, "At risk": 1, "Lapsed": 2, "Lost": 2}
    labelled = labelled_as_of(analysis.orders, staged_run.bundle, TO_DATE, schema.LIFECYCLE_STAGE)
    assert labelled["state"].value_counts().to_dict() == {"Active": 5, "Lapsed": 2, "Lost": 2, "At risk": 1}


def test_flow_lists_carry_email_and_phone_first_when_the_labelled_list_has_them(moves, run):
    source, target = moves.flows["from"].iloc[0], moves.flows["to"].iloc[0]
    plain = flow_list(moves, source, target, run.labelled)
    ids = plain.index
    contacts = pd.DataFrame(
        {schema.EMAIL: [f"c{i}@example.com" for i in range(len(ids))], schema.PHONE: pd.NA}, index=ids
    )
    labelled = pd.concat([contacts.reindex(run.labelled.index), run.labelled], axis=1)
    listed = flow_list(moves, source, target, labelled)
    assert list(listed.columns) == [schema.EMAIL, schema.PHONE, *plain.columns]
    assert listed.index.tolist() == ids.tolist()
    assert listed[schema.EMAIL].tolist() == contacts[schema.EMAIL].tolist()
