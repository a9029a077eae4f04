"""The clustering orchestration: population, sweep, fit, names, outlier handling."""

import numpy as np
import pandas as pd

from rfm import schema
from rfm.clustering import CLUSTER, CLUSTER_NAME, ClusterSettings, fit_clusters, fit_population, run_sweep
from rfm.segmentation import segment_customers
from rfm.table import finish_rfm_table


def _customers(n_per_group: int = 60, seed: int = 3) -> pd.DataFrame:
    """Three clear groups (recent big spenders, regulars, lapsed one-timers) plus two extreme spenders."""
    rng = np.random.default_rng(seed)
    groups = [(5, 12, 900.0), (60, 4, 200.0), (400, 1, 40.0)]
    rows = []
    for recency, frequency, monetary in groups:
        for _ in range(n_per_group):
            rows.append((recency + rng.integers(0, 5), max(1, frequency + rng.integers(-1, 2)), monetary * rng.uniform(0.8, 1.2)))
    rows += [(3, 40, 50_000.0), (2, 45, 60_000.0)]
    day = pd.Timestamp("2024-06-30")
    per_customer = pd.DataFrame(
        {
            schema.CUSTOMER_ID: [f"c{i}" for i in range(len(rows))],
            schema.FREQUENCY: [r[1] for r in rows],
            schema.MONETARY: [r[2] for r in rows],
            schema.FIRST_PURCHASE: [day - pd.Timedelta(days=int(r[0]) + 30) for r in rows],
            schema.LAST_PURCHASE: [day - pd.Timedelta(days=int(r[0])) for r in rows],
        }
    )
    table = finish_rfm_table(per_customer, day.date(), 0.1)
    return segment_customers(table).customers


def test_the_sweep_finds_the_groups_and_the_outliers_make_one_more():
    result = run_sweep(_customers(), ClusterSettings(k_max=6))
    assert result.ks == (2, 3, 4, 5, 6)
    assert result.recommended_k == 4  # three groups, and the two extreme spenders on their own
    regular_only = run_sweep(_customers(), ClusterSettings(k_max=6, exclude_outliers=True))
    assert regular_only.recommended_k == 3


def test_fit_names_every_customer_and_profiles_add_up():
    customers = _customers()
    result = fit_clusters(customers, ClusterSettings(), 3)
    assert result.customers[CLUSTER].between(0, 2).all()
    assert result.customers[CLUSTER_NAME].notna().all()
    assert result.profiles["size"].sum() == len(customers)
    assert int(result.crosstab_counts.to_numpy().sum()) == len(customers)
    # The recent big spenders are the best cluster whatever its number.
    best = result.customers.loc["c0", CLUSTER_NAME]
    assert best == "Champions"
    assert len(result.center_names()) == 3


def test_outliers_left_out_join_their_nearest_cluster_or_stay_a_tier():
    customers = _customers()
    flagged = customers.index[customers["tier"] != "Regular"]
    assert {"c180", "c181"} <= set(flagged)
    population = fit_population(customers, ClusterSettings(exclude_outliers=True))
    assert not population[flagged].any()
    nearest = fit_clusters(customers, ClusterSettings(exclude_outliers=True, outliers_as="nearest"), 3)
    assert nearest.customers.loc[flagged, CLUSTER].between(0, 2).all()
    own = fit_clusters(customers, ClusterSettings(exclude_outliers=True, outliers_as="own_tier"), 3)
    assert set(own.customers.loc[["c180", "c181"], CLUSTER_NAME]) == {"Elite VIP"}
    assert (own.customers.loc[["c180", "c181"], CLUSTER] == -2).all()


def test_renames_replace_the_automatic_names():
    customers = _customers()
    result = fit_clusters(customers, ClusterSettings(), 3, renames=((0, "First", "Call them"), (1, " ", "")))
    assert result.names.loc[0].tolist() == ["First", "Call them"]
    automatic = fit_clusters(customers, ClusterSettings(), 3).names
    assert result.names.loc[1].tolist() == automatic.loc[1].tolist()  # blank entries keep the automatic name
    assert (result.customers[CLUSTER_NAME] == "First").sum() == (result.customers[CLUSTER] == 0).sum()


def test_few_customers_warn_instead_of_crashing():
    customers = _customers().iloc[:3]
    result = fit_clusters(customers, ClusterSettings(), 4)
    assert any("n_samples=3" in warning for warning in result.warnings)
    assert result.customers[CLUSTER_NAME].notna().all()
    assert run_sweep(customers, ClusterSettings()).warnings
