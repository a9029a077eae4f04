"""The clustering orchestration: population, sweep, fit, names, outlier handling; one configuration for the fit
and the comparison, and the cap on clusters."""

import math

import numpy as np
import pandas as pd
import pytest

from rfm import schema
from rfm.bundle import validate
from rfm.cleaning.table import finish_rfm_table
from rfm.clustering.fit import (
    DENSITY_SAMPLE_MAX,
    MAX_CLUSTERS,
    ClusterSettings,
    TooManyClustersError,
    clusterer_params,
    compare_clusters,
    fit_clusters,
    fit_population,
    run_sweep,
)
from rfm.errors import RFMInputError
from rfm.schema import ALGORITHMS, CLUSTER, CLUSTER_NAME
from rfm.scoring.classic import segment_customers


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
    assert result.ks == (3, 4, 5, 6)
    # k=4 (three groups and the two extreme spenders on their own) has the highest silhouette, but a cluster of 2
    # customers in 182 is too small to act on: the three groups win, and the reason says what decided.
    assert result.recommended_k == 3
    assert "Decided by cluster sizes: k=4 has a higher silhouette" in result.reason
    assert result.as_frame().loc[4, "smallest_share"] == pytest.approx(2 / 182)
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
    assert result.names.loc[0, ["name", "action"]].tolist() == ["First", "Call them"]
    assert math.isnan(result.names.loc[0, "agreement"])  # a name of the user's own agrees with no segment
    automatic = fit_clusters(customers, ClusterSettings(), 3).names
    assert result.names.loc[1].tolist() == automatic.loc[1].tolist()  # blank entries keep the automatic name
    assert (result.customers[CLUSTER_NAME] == "First").sum() == (result.customers[CLUSTER] == 0).sum()


def test_few_customers_warn_instead_of_crashing():
    customers = _customers().iloc[:3]
    result = fit_clusters(customers, ClusterSettings(), 4)
    assert any("n_samples=3" in warning for warning in result.warnings)
    assert result.customers[CLUSTER_NAME].notna().all()
    assert run_sweep(customers, ClusterSettings()).warnings


# --- one configuration for the fit and the comparison; at most MAX_CLUSTERS clusters (issue 14) -------------


def _rfm_customers(recency, frequency, monetary) -> pd.DataFrame:
    """Segmented customers from per-customer recency (days), orders and revenue."""
    day = pd.Timestamp("2024-06-30")
    recency = pd.to_timedelta(np.asarray(recency, dtype="int64"), unit="D")
    per_customer = pd.DataFrame(
        {
            schema.CUSTOMER_ID: [f"c{i:06d}" for i in range(len(recency))],
            schema.FREQUENCY: np.asarray(frequency, dtype="int64"),
            schema.MONETARY: np.asarray(monetary, dtype="float64"),
            schema.FIRST_PURCHASE: day - recency - pd.Timedelta(days=60),
            schema.LAST_PURCHASE: day - recency,
        }
    )
    return segment_customers(finish_rfm_table(per_customer, day.date(), 0.1)).customers


@pytest.fixture(scope="module")
def many_customers() -> pd.DataFrame:
    """24,000 customers drawn like real RFM tables (loyal, regular, new, lapsed; geometric orders, log-normal
    baskets): more than DENSITY_SAMPLE_MAX, so the density methods fit on a sample."""
    rng = np.random.default_rng(7)
    groups = ((0.15, 0, 30, 0.12, 4.6), (0.35, 10, 180, 0.35, 4.0), (0.20, 0, 60, 0.90, 3.6), (0.30, 180, 730, 0.70, 3.4))
    group = rng.choice(len(groups), 24_000, p=[g[0] for g in groups])
    low, high, p, basket = (np.array([g[i] for g in groups])[group] for i in (1, 2, 3, 4))
    frequency = rng.geometric(p)
    return _rfm_customers(rng.integers(low, high + 1), frequency, np.round(frequency * rng.lognormal(basket, 0.7), 2))


@pytest.fixture(scope="module")
def demo_customers() -> pd.DataFrame:
    from rfm.cleaning.analyse import analyse_file
    from rfm.demo import DEMO_PATH

    return segment_customers(analyse_file(DEMO_PATH, with_orders=False).customers).customers


@pytest.fixture(scope="module")
def tiny_blobs() -> pd.DataFrame:
    """40 tight groups of 60 customers (5 recencies x 4 order counts x 2 basket sizes): 40 dense clusters."""
    rng = np.random.default_rng(11)
    rows = []
    for recency in (5, 40, 120, 300, 600):
        for frequency in (1, 3, 8, 20):
            for basket in (20.0, 400.0):
                rows += [(recency + rng.integers(0, 2), frequency, frequency * basket * rng.uniform(0.99, 1.01)) for _ in range(60)]
    return _rfm_customers(*zip(*rows))


@pytest.mark.slow
@pytest.mark.parametrize("table", ["demo_customers", "many_customers"])
def test_the_comparison_reports_what_the_fit_of_each_algorithm_gives(table, request):
    """Issue 14: the comparison fitted with min_samples = 1% of customers, the fit with 5, so the table said
    HDBSCAN makes 12 clusters and 17.9% noise on the demo while the fit made 33 and 5.9%."""
    customers = request.getfixturevalue(table)
    settings = ClusterSettings()
    comparison = compare_clusters(customers, settings, 4)
    assert list(comparison.index) == list(ALGORITHMS)
    for algorithm in ALGORITHMS:
        fit = fit_clusters(customers, settings, 4, algorithm)
        labels = fit.customers[CLUSTER]
        assert comparison.loc[algorithm, "clusters"] == fit.estimator.n_clusters_ == labels[labels >= 0].nunique(), algorithm
        assert comparison.loc[algorithm, "noise_share"] == pytest.approx((labels == -1).mean()), algorithm
        assert 1 <= fit.estimator.n_clusters_ <= MAX_CLUSTERS
        assert comparison.loc[algorithm, "note"].startswith("; ".join(fit.notes))


def test_density_methods_fit_a_large_table_on_a_sample_and_say_so(many_customers):
    fit = fit_clusters(many_customers, ClusterSettings(), 4, "hdbscan")
    assert len(fit.estimator.sample_indices_) == DENSITY_SAMPLE_MAX
    assert fit.customers[CLUSTER_NAME].notna().all()
    assert fit.notes == (
        f"HDBSCAN was fitted on a random sample of {DENSITY_SAMPLE_MAX:,} of 24,000 customers (at most "
        f"{DENSITY_SAMPLE_MAX:,}, for speed); every other customer took the cluster, or noise, of its nearest sampled customer.",
    )
    params = clusterer_params(ClusterSettings(min_cluster_share=0.02), 4, "hdbscan", 24_000)
    assert (params["min_samples"], params["min_cluster_size"], params["max_fit_samples"]) == (0.02, 0.02, DENSITY_SAMPLE_MAX)
    assert clusterer_params(ClusterSettings(), 4, "gmm", 24_000)["n_init"] == 2
    assert clusterer_params(ClusterSettings(), 4, "gmm", 3_000)["n_init"] == 10


@pytest.mark.parametrize(
    "algorithm, settings, message",
    [
        (
            "hdbscan",
            ClusterSettings(min_cluster_share=0.002),
            r"^HDBSCAN found \d+ clusters among 2,400 customers; at most 15 can be named and saved\. "
            r"Raise the smallest cluster size \(now 0\.2% of customers, 5\) or use K-Means\.$",
        ),
        (
            "dbscan",
            ClusterSettings(min_cluster_share=0.002, eps=0.05),
            r"^DBSCAN found \d+ clusters among 2,400 customers; at most 15 can be named and saved\. "
            r"Raise the smallest cluster size \(now 0\.2% of customers, 5\), widen eps \(now 0\.05\) or use K-Means\.$",
        ),
    ],
)
def test_more_clusters_than_can_be_saved_is_one_clear_error(tiny_blobs, algorithm, settings, message):
    with pytest.raises(TooManyClustersError, match=message) as raised:
        fit_clusters(tiny_blobs, settings, 4, algorithm)
    assert isinstance(raised.value, RFMInputError)  # what pages and the CLI catch
    assert raised.value.n_clusters > MAX_CLUSTERS
    row = compare_clusters(tiny_blobs, settings, 4, (algorithm,)).loc[algorithm]  # the comparison keeps the row
    assert row["clusters"] == raised.value.n_clusters
    assert row["note"] == str(raised.value)
    assert np.isnan(row["silhouette"])


def test_a_larger_smallest_cluster_brings_the_tiny_blobs_under_the_cap(tiny_blobs):
    fit = fit_clusters(tiny_blobs, ClusterSettings(min_cluster_share=0.1), 4, "hdbscan")
    assert 1 <= fit.estimator.n_clusters_ <= MAX_CLUSTERS


def test_the_cap_fits_in_a_saved_model_and_k_above_it_is_refused():
    assert MAX_CLUSTERS <= validate.MAX_CLUSTERS
    with pytest.raises(RFMInputError, match=r"^k=16 is more clusters than can be named and saved: choose k from 1 to 15\.$"):
        fit_clusters(_customers(), ClusterSettings(), 16)


@pytest.mark.parametrize(
    "settings, message",
    [
        (ClusterSettings(min_cluster_share=0.0001), r"min_cluster_share=0\.0001 should be a share of customers from 0\.001 to 0\.5"),
        (ClusterSettings(min_cluster_share=0.8), r"min_cluster_share=0\.8 should be a share"),
        (ClusterSettings(eps=0.0), r"eps=0\.0 should be a number > 0"),
    ],
)
def test_density_settings_out_of_range_are_refused(settings, message):
    with pytest.raises(RFMInputError, match=message):
        fit_clusters(_customers(), settings, 3, "dbscan")


def test_a_small_table_keeps_clusters_of_at_least_five_customers():
    customers = _customers()  # 182 customers: 1% would be 2
    fit = fit_clusters(customers, ClusterSettings(), 3, "hdbscan")
    sizes = fit.customers.loc[fit.customers[CLUSTER] >= 0, CLUSTER].value_counts()
    assert sizes.min() >= 5
    assert fit.estimator.model_.min_cluster_size == 5
