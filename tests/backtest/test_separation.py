"""Predictive separation per k on a file whose answer is known, what the sweep says when it cannot be measured, and
the recommended segmentation on the shared UCI excerpt: a k from 3 to 8, clusters a marketer can act on, and names
that agree with the customers' own RFM segments."""

import datetime as dt

import pandas as pd
import pytest

from devkit.data import WORKBOOK
from rfm import schema
from rfm.backtest.separation import predictive_separation, sweep_with_separation
from rfm.cleaning.orders import tidy_orders
from rfm.clustering.fit import ClusterSettings, fit_clusters, run_sweep
from rfm.clustering.sweep import LARGEST_SEGMENT_SHARE, SMALLEST_SEGMENT_SHARE
from rfm.scoring.classic import segment_customers

LAST = dt.date(2024, 9, 30)
CUT = LAST - dt.timedelta(days=90)


def _orders() -> pd.DataFrame:
    """40 regulars who order every 10 days for a year, before and after the cut, for 50 to 89 each; 40 one-time
    buyers of 10 to 29, 200 to 239 days before the cut, who never come back. Any two clusters that split them split
    the buyers-again from the others: the best cluster's rate is 100%, the worst's 0%."""
    rows = []
    for i in range(40):
        value = 50.0 + i
        day = LAST - dt.timedelta(days=360 + i % 5)
        while day <= LAST:
            rows.append((f"r{i:02d}", day, value))
            day += dt.timedelta(days=10)
        rows.append((f"o{i:02d}", CUT - dt.timedelta(days=200 + i), 10.0 + i / 2))
    return tidy_orders(pd.DataFrame(rows, columns=["customer_id", "date", "value"]))


def test_separation_on_a_known_answer():
    separation = predictive_separation(_orders(), LAST, (2, 3), ClusterSettings())
    assert separation.cut == CUT
    assert separation.customers == 80 and separation.bought_again == 40
    assert separation.table.loc[2].tolist() == [1.0, 1.0, 0.0]
    assert separation.table.loc[3, "spread"] == 1.0  # a third cluster splits one side: still 100% against 0%
    assert "80 customers who had ordered by 2024-07-02" in separation.note()


def test_the_sweep_shows_the_separation_or_why_it_is_missing():
    orders = _orders()
    from rfm.trends.timeline import rfm_as_of

    customers = segment_customers(rfm_as_of(orders, LAST)).customers
    settings = ClusterSettings(k_min=2, k_max=4)
    sweep = run_sweep(customers, settings)
    assert not sweep.separation_measured and len(sweep.separation) == len(sweep.ks)
    measured = sweep_with_separation(sweep, orders, LAST, settings)
    assert measured.separation[0] == 1.0 and measured.separation_measured
    assert measured.as_frame()["separation"].notna().all()
    assert measured.notes[-1].startswith("Predictive separation: clusters fitted on the 80 customers")
    missing = sweep_with_separation(sweep, None, LAST, settings)
    assert missing.notes[-1] == "Predictive separation not measured: the orders were not kept."
    short = sweep_with_separation(sweep, orders[orders["date"] > pd.Timestamp(CUT)], LAST, settings)
    assert short.notes[-1].startswith("Predictive separation not measured: The history runs")
    assert short.recommended_k == sweep.recommended_k


@pytest.fixture(scope="module")
def uci():
    if not WORKBOOK.exists():
        pytest.skip(f"real UCI excerpt absent: {WORKBOOK}")
    from rfm.cleaning.analyse import analyse_file

    analysis = analyse_file(WORKBOOK)
    customers = segment_customers(analysis.customers).customers
    settings = ClusterSettings()
    sweep = sweep_with_separation(run_sweep(customers, settings), analysis.orders, analysis.report.analysis_date, settings)
    return customers, sweep, fit_clusters(customers, settings, sweep.recommended_k)


def test_uci_excerpt_gets_segments_a_marketer_can_act_on(uci):
    _, sweep, clusters = uci
    assert sweep.ks == tuple(range(3, 9)) and 3 <= sweep.recommended_k <= 8
    assert sweep.separation_measured
    shares = clusters.customers[schema.CLUSTER_NAME].value_counts(normalize=True)
    assert shares.min() >= SMALLEST_SEGMENT_SHARE and shares.max() <= LARGEST_SEGMENT_SHARE
    assert clusters.names["name"].is_unique


def test_uci_excerpt_names_agree_with_the_customers_segments(uci):
    customers, _, clusters = uci
    for k in (3, 5, 8):
        fitted = clusters if k == clusters.k else fit_clusters(customers, ClusterSettings(), k)
        table = pd.crosstab(fitted.customers[schema.CLUSTER_NAME], fitted.customers[schema.SEGMENT], normalize="index")
        for name, row in table.iterrows():
            base = name.rsplit(" ", 1)[0] if name[-1].isdigit() else name
            if base == "Champions":
                assert row.reindex(["Champions", "Loyal Customers"], fill_value=0).sum() > 0.5, (k, name)
            if base == "Lost":
                assert row.reindex(["Lost", "Hibernating", "At Risk"], fill_value=0).sum() > 0.5, (k, name)
            if base in row.index:  # the name's agreement is the crosstab's share
                assert fitted.names.set_index("name").loc[name, "agreement"] == pytest.approx(row[base])
