"""What-if: one customer's prediction matches scoring, and the moves found are the smallest that help."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from rfm import schema
from rfm.bundle.build import build_bundle
from rfm.bundle.whatif import Move, customer_values, input_ranges, levers, moves_up, predict
from rfm.clustering.fit import ClusterSettings, fit_clusters
from rfm.scoring.classic import segment_customers


def _table() -> pd.DataFrame:
    """Three clear groups: lapsed one-off buyers, regulars, and frequent big spenders (30 customers each)."""
    rng = np.random.default_rng(7)
    groups = [(300, 1, 40.0), (60, 4, 400.0), (10, 12, 3000.0)]
    rows = []
    for recency, frequency, monetary in groups:
        for _ in range(30):
            rows.append(
                (
                    int(recency * rng.uniform(0.8, 1.2)),
                    max(1, round(frequency * rng.uniform(0.8, 1.2))),
                    monetary * rng.uniform(0.8, 1.2),
                )
            )
    table = pd.DataFrame(rows, columns=[schema.RECENCY, schema.FREQUENCY, schema.MONETARY])
    table.index = pd.Index([f"c{i:03d}" for i in range(len(table))], name=schema.CUSTOMER_ID)
    table[schema.TENURE] = table[schema.RECENCY] + 30
    table[schema.AVG_ORDER_VALUE] = table[schema.MONETARY] / table[schema.FREQUENCY]
    return table


@pytest.fixture(scope="module")
def model():
    table = _table()
    segmentation = segment_customers(table)
    settings = ClusterSettings()
    clusters = fit_clusters(segmentation.customers, settings, 3)
    bundle = build_bundle(segmentation, clusters, settings, source_file="t.csv", analysis_date=None)
    return table, segmentation, clusters, bundle


def test_prediction_for_a_real_customer_matches_the_fit(model):
    table, segmentation, clusters, bundle = model
    for customer in ("c000", "c045", "c089"):
        answer = predict(bundle, customer_values(table, customer, levers(bundle)))
        assert answer.name == clusters.customers.loc[customer, "cluster_name"]
        assert answer.segment == segmentation.customers.loc[customer, "segment"]
        assert answer.rfm_cell == segmentation.customers.loc[customer, "rfm_cell"]
        assert answer.distances.idxmin() == answer.name  # K-Means: the nearest centre wins
        projected = clusters.projection.coords[table.index.get_loc(customer)]
        assert np.allclose(answer.point, projected)


def test_moving_a_slider_changes_the_prediction(model):
    table, _, clusters, bundle = model
    lapsed = customer_values(table, "c000", levers(bundle))
    best = dict(lapsed, recency_days=5, frequency=14, monetary=3500.0)
    assert predict(bundle, lapsed).name != predict(bundle, best).name
    assert predict(bundle, best).name == clusters.customers.loc["c089", "cluster_name"]


def test_moves_are_the_smallest_change_that_reaches_a_better_segment(model):
    table, _, _, bundle = model
    ranges = input_ranges(table, levers(bundle))
    values = customer_values(table, "c000", levers(bundle))
    merit = bundle.names.set_index("name")["merit"]
    now = predict(bundle, values)
    moves = moves_up(bundle, values, ranges)
    segment_moves = [move for move in moves if move.kind == "segment"]
    assert segment_moves, "a lapsed one-off buyer can always be moved up"
    for move in segment_moves:
        assert merit[move.to] > merit[now.name]
        reached = predict(bundle, dict(values, **{move.feature: move.target}))
        assert reached.name == move.to
        if move.feature in (schema.FREQUENCY, schema.RECENCY):  # whole numbers: one step less is not enough
            step = 1 if move.feature == schema.FREQUENCY else -1
            before = predict(bundle, dict(values, **{move.feature: move.target - step}))
            assert merit[before.name] <= merit[now.name]


def test_rfm_moves_reach_an_earlier_rule(model):
    table, _, _, bundle = model
    values = customer_values(table, "c000", levers(bundle))
    order = [rule.segment for rule in bundle.rules]
    now = predict(bundle, values)
    for move in (m for m in moves_up(bundle, values, input_ranges(table, levers(bundle))) if m.kind == "rfm"):
        assert order.index(move.to) < order.index(now.segment)
        assert predict(bundle, dict(values, **{move.feature: move.target})).segment == move.to


def test_the_best_customer_has_no_better_segment(model):
    table, _, clusters, bundle = model
    best = table.index[clusters.customers["cluster_name"].eq(bundle.names.sort_values("merit").iloc[-1]["name"])][0]
    values = dict(customer_values(table, best, levers(bundle)), recency_days=0, frequency=40, monetary=90_000.0)
    assert [move for move in moves_up(bundle, values, input_ranges(table, levers(bundle))) if move.kind == "segment"] == []


def test_moves_read_like_advice():
    assert Move(schema.FREQUENCY, "segment", 2, 4, "Loyal").describe() == "2 more orders → Loyal"
    assert Move(schema.FREQUENCY, "segment", 2, 3, "Loyal").describe() == "1 more order → Loyal"
    assert Move(schema.MONETARY, "rfm", 100.0, 1350.0, "Champions").describe() == "spend 1,250.00 more (total 1,350.00) → Champions"
    assert Move(schema.RECENCY, "segment", 200, 30, "New").describe() == "a purchase 170 days more recent (last one 30 days ago) → New"


def test_slider_ranges_come_from_the_data(model):
    table, _, _, bundle = model
    ranges = input_ranges(table, levers(bundle))
    assert set(ranges) == {schema.RECENCY, schema.FREQUENCY, schema.MONETARY}
    frequency = ranges[schema.FREQUENCY]
    assert frequency.whole and frequency.step == 1 and frequency.low == 0 and frequency.high >= 12
    assert ranges[schema.MONETARY].low == 0 and ranges[schema.MONETARY].median == pytest.approx(table[schema.MONETARY].median())


def test_levers_include_the_model_s_other_features():
    table = _table()
    segmentation = segment_customers(table)
    settings = ClusterSettings(features=(schema.RECENCY, schema.FREQUENCY, schema.MONETARY, schema.AVG_ORDER_VALUE))
    clusters = fit_clusters(segmentation.customers, settings, 3)
    bundle = build_bundle(segmentation, clusters, settings, source_file="t.csv", analysis_date=None)
    assert levers(bundle) == (schema.RECENCY, schema.FREQUENCY, schema.MONETARY, schema.AVG_ORDER_VALUE)
    values = customer_values(table, "c050", levers(bundle))
    assert predict(bundle, values).name == clusters.customers.loc["c050", "cluster_name"]
