"""RFMClusterer, compare_algorithms and stratified_sample_indices on small synthetic RFM tables.

The blob table holds three well-separated groups of 100 customers (champions, at risk, lost); after log1p on
frequency and monetary and standard scaling each group's spread is below 0.2 while the groups sit more than
1.5 apart, so every algorithm worth its name recovers them exactly.
"""

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.metrics import adjusted_rand_score
from sklearn.preprocessing import RobustScaler, StandardScaler
from sklearn.utils.estimator_checks import parametrize_with_checks
from threadpoolctl import threadpool_limits

from rfm import schema
from rfm.clustering.estimator import (
    COMPARISON_COLUMNS,
    ESTIMATOR_ALGORITHMS,
    RFMClusterer,
    compare_algorithms,
    stratified_sample_indices,
)
from rfm.errors import RFMInputError

R, F, M = schema.RECENCY, schema.FREQUENCY, schema.MONETARY
CENTROID = ("kmeans", "minibatch_kmeans", "gmm")
DENSITY_SETTINGS = {"dbscan": dict(eps=0.4, min_samples=5), "hdbscan": dict(min_samples=5)}


def _table(recency, frequency, monetary, **extra) -> pd.DataFrame:
    index = pd.Index([f"c{i:03d}" for i in range(len(recency))], name=schema.CUSTOMER_ID)
    return pd.DataFrame({R: recency, F: frequency, M: monetary, **extra}, index=index, dtype="float64")


def _blobs(n_per_group: int = 100, seed: int = 7) -> tuple[pd.DataFrame, np.ndarray]:
    """Three groups of customers, rows shuffled; returns the table and each customer's true group."""
    rng = np.random.default_rng(seed)
    groups = [(10, 30, 5000), (180, 8, 800), (400, 1.5, 50)]  # recency days, orders, revenue
    columns, truth = [], []
    for group, (recency, frequency, monetary) in enumerate(groups):
        columns.append(
            np.c_[
                np.clip(rng.normal(recency, 0.08 * recency + 1, n_per_group), 0, None),
                np.exp(rng.normal(np.log(frequency), 0.1, n_per_group)),
                np.exp(rng.normal(np.log(monetary), 0.15, n_per_group)),
            ]
        )
        truth += [group] * n_per_group
    values = np.vstack(columns)
    order = rng.permutation(len(values))
    table = _table(*values[order].T, **{schema.TENURE: rng.uniform(400, 900, len(values))})
    return table, np.asarray(truth)[order]


@pytest.fixture(autouse=True, scope="module")
def _one_thread():
    """K-Means' OpenMP threads spin while waiting; on a busy laptop or CI box one thread is the fast choice
    for these tiny tables (the suite runs 2-4x faster under load)."""
    with threadpool_limits(limits=1):
        yield


BLOBS, TRUTH = _blobs()
# Three far customers, far from the groups and from each other.
OUTLIERS = pd.DataFrame(
    {R: [5.0, 700.0, 60.0], F: [300.0, 100.0, 1.0], M: [1e6, 20.0, 2e5], schema.TENURE: [800.0, 800.0, 800.0]},
    index=pd.Index(["o1", "o2", "o3"], name=schema.CUSTOMER_ID),
)


# --- scikit-learn's estimator checks --------------------------------------------------------------


@parametrize_with_checks(
    [
        RFMClusterer(),
        RFMClusterer(algorithm="minibatch_kmeans", n_init=3),  # the default n_init=10 passes too, slower
        RFMClusterer(algorithm="gmm", n_init=3),
        RFMClusterer(algorithm="dbscan"),
        RFMClusterer(algorithm="hdbscan"),
    ],
    xfail_strict=True,
)
def test_sklearn_estimator_checks(estimator, check):
    check(estimator)


# --- the three blobs ------------------------------------------------------------------------------


@pytest.mark.parametrize("algorithm", CENTROID)
def test_recovers_the_three_groups(algorithm):
    model = RFMClusterer(3, algorithm=algorithm).fit(BLOBS)
    assert model.n_clusters_ == 3
    assert adjusted_rand_score(TRUTH, model.labels_) >= 0.95
    assert model.warnings_ == ()


@pytest.mark.parametrize("algorithm", CENTROID)
def test_predict_on_the_training_table_gives_labels(algorithm):
    model = RFMClusterer(3, algorithm=algorithm).fit(BLOBS)
    np.testing.assert_array_equal(model.predict(BLOBS), model.labels_)
    assert model.labels_.dtype.kind == "i"


def test_gmm_predict_agrees_with_the_mixture():
    model = RFMClusterer(3, algorithm="gmm").fit(BLOBS)
    np.testing.assert_array_equal(model.predict(BLOBS), model.model_.predict(model.transform(BLOBS)))


def test_gmm_predict_follows_the_posterior_not_the_nearest_mean():
    # A tight group and a wide one: between them, points nearer the tight mean belong to the wide component.
    rng = np.random.default_rng(0)
    values = np.r_[rng.normal(0, 0.2, (100, 2)), rng.normal(4, 2.0, (100, 2))]
    model = RFMClusterer(2, algorithm="gmm").fit(values)
    new = rng.uniform(-4, 8, (500, 2))
    predicted = model.predict(new)
    np.testing.assert_array_equal(predicted, model.model_.predict(model.transform(new)))
    assert (predicted != model.distances(new).argmin(axis=1)).sum() > 50


def test_a_cluster_nobody_falls_in_is_dropped_and_the_rest_renumbered():
    # Mini-batch K-Means leaves one of three centres empty on these three customers.
    table = _table([1, 50, 300], [1, 5, 20], [10, 500, 5000])
    model = RFMClusterer(3, algorithm="minibatch_kmeans").fit(table)
    assert model.model_.cluster_centers_.shape[0] == 3
    assert model.warnings_ == ("1 of the 3 clusters holds no customer and was dropped: fitted 2 clusters.",)
    assert model.n_clusters_ == 2
    assert model.cluster_centers_.shape == (2, 3)
    assert sorted(set(model.labels_)) == [0, 1]
    np.testing.assert_array_equal(model.predict(table), model.labels_)


@pytest.mark.parametrize("algorithm", CENTROID)
def test_same_seed_same_labels(algorithm):
    first = RFMClusterer(3, algorithm=algorithm, random_state=3).fit(BLOBS)
    second = RFMClusterer(3, algorithm=algorithm, random_state=3).fit(BLOBS)
    np.testing.assert_array_equal(first.labels_, second.labels_)
    np.testing.assert_array_equal(first.cluster_centers_, second.cluster_centers_)


@pytest.mark.parametrize("algorithm", ESTIMATOR_ALGORITHMS)
def test_row_order_does_not_change_the_partition(algorithm):
    settings_ = DENSITY_SETTINGS.get(algorithm, {})
    shuffled = BLOBS.sample(frac=1.0, random_state=11)
    assert not shuffled.index.equals(BLOBS.index)
    original = pd.Series(RFMClusterer(3, algorithm=algorithm, **settings_).fit(BLOBS).labels_, index=BLOBS.index)
    reordered = pd.Series(
        RFMClusterer(3, algorithm=algorithm, **settings_).fit(shuffled).labels_, index=shuffled.index
    )
    assert adjusted_rand_score(original, reordered.loc[original.index]) == 1.0


@pytest.mark.parametrize("algorithm", ["dbscan", "hdbscan"])
def test_density_methods_find_the_groups_and_call_far_customers_noise(algorithm):
    table = pd.concat([BLOBS, OUTLIERS])
    model = RFMClusterer(algorithm=algorithm, **DENSITY_SETTINGS[algorithm]).fit(table)
    assert model.n_clusters_ == 3
    assert list(model.labels_[-3:]) == [-1, -1, -1]
    assert adjusted_rand_score(TRUTH, model.labels_[:-3]) >= 0.95
    # Noise is a training-time label: predict puts every customer in its nearest cluster.
    predicted = model.predict(table)
    assert predicted.min() >= 0
    members = model.labels_ >= 0
    np.testing.assert_array_equal(predicted[members], model.labels_[members])


@pytest.mark.parametrize("algorithm", ["dbscan", "hdbscan"])
def test_density_centres_are_member_means(algorithm):
    table = pd.concat([BLOBS, OUTLIERS])
    model = RFMClusterer(algorithm=algorithm, **DENSITY_SETTINGS[algorithm]).fit(table)
    scaled = model.transform(table)
    for cluster in range(model.n_clusters_):
        np.testing.assert_allclose(model.cluster_centers_[cluster], scaled[model.labels_ == cluster].mean(axis=0))
    members = model.labels_ >= 0
    own = model.cluster_centers_[model.labels_[members]]
    assert model.inertia_ == pytest.approx(((scaled[members] - own) ** 2).sum())


def test_transform_is_the_scaled_log_features():
    model = RFMClusterer(3).fit(BLOBS)
    scaled = model.transform(BLOBS)
    by_hand = StandardScaler().fit_transform(np.c_[BLOBS[R], np.log1p(BLOBS[F]), np.log1p(BLOBS[M])])
    assert scaled.shape == (300, 3)
    np.testing.assert_allclose(scaled, by_hand)
    np.testing.assert_allclose(scaled.mean(axis=0), 0, atol=1e-12)
    np.testing.assert_allclose(scaled.std(axis=0), 1)


def test_robust_scaler_centres_on_the_median():
    model = RFMClusterer(3, scaler="robust").fit(BLOBS)
    scaled = model.transform(BLOBS)
    by_hand = RobustScaler().fit_transform(np.c_[BLOBS[R], np.log1p(BLOBS[F]), np.log1p(BLOBS[M])])
    np.testing.assert_allclose(scaled, by_hand)
    np.testing.assert_allclose(np.median(scaled, axis=0), 0, atol=1e-12)


def test_an_array_is_clustered_on_all_its_columns_without_logs():
    values = BLOBS[[R, F, M]].to_numpy()
    model = RFMClusterer(3).fit(values)
    assert not hasattr(model, "feature_names_in_")
    assert model.n_features_in_ == 3
    np.testing.assert_allclose(model.transform(values), StandardScaler().fit_transform(values))


def test_features_are_chosen_by_name_from_the_table():
    model = RFMClusterer(3, features=(M, R, schema.TENURE), log_features=(M,)).fit(BLOBS)
    assert list(model.feature_names_in_) == [M, R, schema.TENURE]
    assert model.n_features_in_ == 3
    assert model.cluster_centers_.shape == (3, 3)
    by_hand = StandardScaler().fit_transform(np.c_[np.log1p(BLOBS[M]), BLOBS[R], BLOBS[schema.TENURE]])
    np.testing.assert_allclose(model.transform(BLOBS), by_hand)


def test_fitted_logs_survive_a_later_set_params():
    model = RFMClusterer(3).fit(BLOBS)
    before = model.transform(BLOBS)
    model.set_params(log_features=())
    np.testing.assert_array_equal(model.transform(BLOBS), before)


def test_fit_transform_equals_fit_then_transform():
    np.testing.assert_array_equal(RFMClusterer(3).fit_transform(BLOBS), RFMClusterer(3).fit(BLOBS).transform(BLOBS))


def test_pandas_output_keeps_customer_ids_and_feature_names():
    scaled = RFMClusterer(3).set_output(transform="pandas").fit(BLOBS).transform(BLOBS)
    assert isinstance(scaled, pd.DataFrame)
    assert scaled.index.equals(BLOBS.index)
    assert list(scaled.columns) == [R, F, M]


def test_distances_to_each_centre():
    model = RFMClusterer(3).fit(BLOBS)
    distances = model.distances(BLOBS)
    assert distances.shape == (300, 3)
    np.testing.assert_array_equal(distances.argmin(axis=1), model.labels_)
    assert (distances[np.arange(300), model.labels_] ** 2).sum() == pytest.approx(model.inertia_)
    assert model.inertia_ == pytest.approx(model.model_.inertia_)


def test_predict_on_new_customers_follows_their_group():
    model = RFMClusterer(3).fit(BLOBS)
    champion = BLOBS.index[TRUTH == 0][0]
    lost = BLOBS.index[TRUTH == 2][0]
    new = _table([12.0, 390.0], [28.0, 1.0], [4800.0, 45.0])
    assert list(model.predict(new)) == [model.labels_[BLOBS.index.get_loc(c)] for c in (champion, lost)]


def test_an_array_is_refused_by_a_model_fitted_on_a_table():
    model = RFMClusterer(3).fit(BLOBS)
    with pytest.raises(RFMInputError, match="fitted on a customer table"):
        model.predict(BLOBS[[R, F, M]].to_numpy())


# --- degenerate data: warnings, not crashes ----------------------------------------------------------


def test_five_customers_four_clusters_is_fine():
    table = _table([1, 50, 300, 20, 5], [1, 5, 20, 2, 3], [10, 500, 5000, 30, 70])
    model = RFMClusterer(4).fit(table)
    assert model.n_clusters_ == 4
    assert sorted(set(model.labels_)) == [0, 1, 2, 3]
    assert model.warnings_ == ()


@pytest.mark.parametrize("algorithm", ["kmeans", "gmm"])
def test_three_customers_four_clusters_warns_and_fits_three(algorithm):
    table = _table([1, 50, 300], [1, 5, 20], [10, 500, 5000])
    model = RFMClusterer(4, algorithm=algorithm).fit(table)
    assert model.warnings_ == ("n_samples=3 is below n_clusters=4: fitted 3 clusters.",)
    assert model.n_clusters_ == 3
    assert sorted(model.labels_) == [0, 1, 2]
    assert model.cluster_centers_.shape == (3, 3)


def test_duplicated_customers_cap_the_clusters():
    table = _table([1, 1, 1, 90, 90, 90], [2] * 6, [50] * 6)
    model = RFMClusterer(4).fit(table)
    assert model.n_clusters_ == 2
    assert "Only 2 distinct customers among n_samples=6 for n_clusters=4: fitted 2 clusters." in model.warnings_
    assert list(model.labels_[:3]) == [model.labels_[0]] * 3 != list(model.labels_[3:])


def test_zero_variance_recency_warns():
    table = _table([7] * 10, range(1, 11), [10 * i for i in range(1, 11)])
    model = RFMClusterer(3).fit(table)
    assert model.warnings_ == (
        "Feature Recency (days) has the same value for every customer: it carries no information.",
    )
    np.testing.assert_array_equal(model.transform(table)[:, 0], 0.0)
    assert model.n_clusters_ == 3


def test_robust_scaler_warns_about_a_feature_without_spread():
    table = _table(range(20), [1] * 16 + [2, 3, 4, 9], np.linspace(10, 500, 20))
    model = RFMClusterer(3, scaler="robust").fit(table)
    assert any("Frequency (invoices) has an interquartile range of 0" in w for w in model.warnings_)
    assert not any("Frequency (invoices) has an interquartile range of 0" in w for w in RFMClusterer(3).fit(table).warnings_)


@pytest.mark.parametrize("algorithm", ESTIMATOR_ALGORITHMS)
def test_identical_customers_make_one_cluster(algorithm):
    table = _table([7] * 6, [2] * 6, [9.5] * 6)
    model = RFMClusterer(4, algorithm=algorithm).fit(table)
    assert model.warnings_ == ("All n_samples=6 customers have identical features: fitted 1 cluster.",)
    assert model.n_clusters_ == 1
    assert list(model.labels_) == [0] * 6
    assert list(model.predict(_table([1, 7], [1, 2], [1, 9.5]))) == [0, 0]


@pytest.mark.parametrize("algorithm", ESTIMATOR_ALGORITHMS)
def test_a_single_customer_is_one_cluster(algorithm):
    model = RFMClusterer(4, algorithm=algorithm).fit(_table([3], [1], [25.0]))
    assert model.warnings_ == ("n_samples=1: a single customer makes 1 cluster.",)
    assert model.n_clusters_ == 1
    assert list(model.labels_) == [0]
    assert model.inertia_ == 0.0


@pytest.mark.parametrize("algorithm", ["dbscan", "hdbscan"])
def test_too_few_customers_for_a_density_cluster_are_all_noise(algorithm):
    table = _table([1, 50, 300], [1, 5, 20], [10, 500, 5000])
    model = RFMClusterer(algorithm=algorithm).fit(table)
    assert list(model.labels_) == [-1, -1, -1]
    assert model.n_clusters_ == 0
    assert model.cluster_centers_.shape == (0, 3)
    assert model.distances(table).shape == (3, 0)
    assert list(model.predict(table)) == [-1, -1, -1]
    assert len(model.warnings_) == 1
    assert model.warnings_[0].startswith("Every customer is noise")
    assert "n_samples=3 is below min_samples=5" in model.warnings_[0]


# --- density methods: smallest cluster, shares, fitting on a sample -------------------------------


def _blobs_and_a_small_group() -> pd.DataFrame:
    """The three blobs and a tight group of 6 customers far from them (its own DBSCAN cluster at eps=0.4)."""
    small = _table([30.0] * 6, [60.0, 61, 62, 60, 61, 62], [30_000.0, 30_500, 31_000, 30_200, 30_700, 30_900])
    small.index = pd.Index([f"s{i}" for i in range(6)], name=schema.CUSTOMER_ID)
    return pd.concat([BLOBS[[R, F, M]], small])


def test_dbscan_marks_clusters_below_the_smallest_size_as_noise():
    table = _blobs_and_a_small_group()
    every = RFMClusterer(algorithm="dbscan", eps=0.4, min_samples=3).fit(table)
    assert every.n_clusters_ == 4
    kept = RFMClusterer(algorithm="dbscan", eps=0.4, min_samples=3, min_cluster_size=10).fit(table)
    assert kept.n_clusters_ == 3
    assert list(kept.labels_[-6:]) == [-1] * 6
    assert sorted(set(kept.labels_)) == [-1, 0, 1, 2]  # renumbered without a gap
    assert adjusted_rand_score(TRUTH, kept.labels_[:300]) == 1.0


def test_a_share_is_counted_on_the_customers_fitted():
    table = _blobs_and_a_small_group()  # 306 customers: 3% is 10 (9.18 rounded up)
    as_share = RFMClusterer(algorithm="dbscan", eps=0.4, min_samples=3, min_cluster_size=0.03).fit(table)
    as_count = RFMClusterer(algorithm="dbscan", eps=0.4, min_samples=3, min_cluster_size=10).fit(table)
    np.testing.assert_array_equal(as_share.labels_, as_count.labels_)
    hdbscan = RFMClusterer(algorithm="hdbscan", min_samples=0.02, min_cluster_size=0.03).fit(table)
    assert (hdbscan.model_.min_samples, hdbscan.model_.min_cluster_size) == (7, 10)


@pytest.mark.parametrize("algorithm", ["dbscan", "hdbscan"])
def test_a_density_method_fitted_on_a_sample_labels_every_customer(algorithm):
    settings_ = dict(DENSITY_SETTINGS[algorithm], min_samples=0.02)
    model = RFMClusterer(algorithm=algorithm, max_fit_samples=120, **settings_).fit(BLOBS)
    assert len(model.sample_indices_) == len(set(model.sample_indices_)) == 120
    assert model.labels_.shape == (300,)
    assert adjusted_rand_score(TRUTH, model.labels_) == 1.0
    scaled = model.transform(BLOBS)
    for cluster in range(model.n_clusters_):  # centres are the means of every member, sampled or not
        np.testing.assert_allclose(model.cluster_centers_[cluster], scaled[model.labels_ == cluster].mean(axis=0))
    assert RFMClusterer(algorithm=algorithm, max_fit_samples=300, **settings_).fit(BLOBS).sample_indices_ is None


@pytest.mark.parametrize("algorithm", ["dbscan", "hdbscan"])
def test_the_sample_does_not_depend_on_row_order(algorithm):
    table = pd.concat([BLOBS, OUTLIERS])
    shuffled = table.sample(frac=1.0, random_state=5)
    params = dict(algorithm=algorithm, max_fit_samples=150, min_samples=0.03, eps=0.4)
    first = RFMClusterer(**params).fit(table)
    second = RFMClusterer(**params).fit(shuffled)
    # The same customers, in the same order (by value), whatever the order of the table.
    np.testing.assert_array_equal(
        table[[R, F, M]].to_numpy()[first.sample_indices_], shuffled[[R, F, M]].to_numpy()[second.sample_indices_]
    )
    original = pd.Series(first.labels_, index=table.index)
    reordered = pd.Series(second.labels_, index=shuffled.index).loc[table.index]
    assert adjusted_rand_score(original, reordered) == 1.0
    assert ((original == -1) == (reordered == -1)).all()


def test_the_sample_leaves_the_centroid_methods_alone():
    model = RFMClusterer(3, max_fit_samples=50).fit(BLOBS)
    assert model.sample_indices_ is None
    np.testing.assert_array_equal(model.labels_, RFMClusterer(3).fit(BLOBS).labels_)


def test_compare_algorithms_reports_progress_after_each_algorithm():
    calls = []
    compare_algorithms(BLOBS, 3, algorithms=("kmeans", "hdbscan"), progress=lambda *call: calls.append(call))
    assert calls == [(1, 2, "kmeans"), (2, 2, "hdbscan")]


# --- bad input: one RFMInputError naming the problem --------------------------------------------


@pytest.mark.parametrize(
    "params, message",
    [
        (dict(n_clusters=0), r"n_clusters=0 should be an integer >= 1"),
        (dict(n_clusters=2.5), r"n_clusters=2\.5 should be an integer"),
        (dict(algorithm="spectral"), r"algorithm='spectral' should be one of 'kmeans'"),
        (dict(scaler="minmax"), r"scaler='minmax' should be 'standard' or 'robust'"),
        (dict(features=("recency", M)), r"got \['recency', 'monetary'\]"),
        (dict(features=(R, F, F), log_features=()), r"features lists \['frequency'\] more than once"),
        (dict(features=M), r"features should be a list of column names; got 'monetary'"),
        (dict(features=(R, F), log_features=(M,)), r"log_features \['monetary'\] are not among the features"),
        (dict(n_init=0), r"n_init=0 should be an integer >= 1"),
        (dict(eps=-1.0), r"eps=-1\.0 should be a number > 0"),
        (dict(min_samples=0), r"min_samples=0 should be an integer >= 1 or a share in \(0, 1\)"),
        (dict(min_samples=1.5), r"min_samples=1\.5 should be an integer >= 1 or a share in \(0, 1\)"),
        (dict(min_cluster_size=1), r"min_cluster_size=1 should be an integer >= 2, a share in \(0, 1\) or None"),
        (dict(min_cluster_size=0.0), r"min_cluster_size=0\.0 should be an integer >= 2"),
        (dict(max_fit_samples=1), r"max_fit_samples=1 should be an integer >= 2 or None"),
        (dict(random_state="seed"), r"random_state='seed' should be an integer"),
    ],
)
def test_bad_parameters(params, message):
    with pytest.raises(RFMInputError, match=message):
        RFMClusterer(**params).fit(BLOBS)


def test_a_missing_column_is_named():
    with pytest.raises(RFMInputError, match=r"no column \['monetary'\]"):
        RFMClusterer().fit(BLOBS.drop(columns=M))


def test_missing_and_infinite_values_are_counted_with_the_first_customer():
    table = _table([1, 2, 3, 4], [1, 2, 3, 4], [10, np.nan, np.inf, 40])
    message = r"'monetary' has 2 missing \(NaN\) or infinite value\(s\), first for customer 'c001'"
    with pytest.raises(RFMInputError, match=message):
        RFMClusterer(2).fit(table)


def test_missing_values_are_refused_in_predict_too():
    model = RFMClusterer(3).fit(BLOBS)
    with pytest.raises(RFMInputError, match=r"'recency_days' has 1 missing"):
        model.predict(_table([np.nan], [1], [1]))


def test_infinite_values_in_an_array_are_refused():
    with pytest.raises(RFMInputError, match=r"1 missing \(NaN\) or infinite value\(s\), first at row 1, column 2"):
        RFMClusterer(2).fit(np.array([[1.0, 2.0, 3.0], [4.0, 5.0, np.inf], [7.0, 8.0, 9.0]]))


def test_a_text_column_is_refused():
    table = _table([1, 2, 3], [1, 2, 3], [1, 2, 3]).astype({R: object})
    table[R] = ["1", "two", "3"]
    with pytest.raises(RFMInputError, match=r"Column 'recency_days' is not numeric .*'two' for customer 'c001'"):
        RFMClusterer(2).fit(table)


def test_an_empty_table_is_refused():
    with pytest.raises(RFMInputError, match=r"customer table is empty: n_samples=0"):
        RFMClusterer().fit(BLOBS.iloc[:0])


def test_an_empty_array_is_refused():
    with pytest.raises(RFMInputError, match=r"0 sample\(s\)"):
        RFMClusterer().fit(np.empty((0, 3)))


def test_predict_before_fit_is_refused():
    from sklearn.exceptions import NotFittedError

    with pytest.raises(NotFittedError):
        RFMClusterer().predict(BLOBS)


# --- property: any RFM-like table --------------------------------------------------------------------


@st.composite
def rfm_tables(draw):
    """5..60 customers drawn from a smaller pool of distinct ones, so that repeated customers, constant
    columns and fewer distinct customers than clusters all come up; one table in ten carries a NaN."""
    n_customers = draw(st.integers(5, 60))
    n_distinct = draw(st.integers(1, n_customers))
    customer = st.tuples(
        st.sampled_from([0, 1, 30, 365]) | st.integers(0, 800),
        st.integers(1, 3) | st.integers(1, 200),
        st.sampled_from([0.0, 9.99]) | st.floats(0, 1e6, allow_nan=False, allow_infinity=False),
    )
    pool = draw(st.lists(customer, min_size=n_distinct, max_size=n_distinct))
    picks = draw(st.lists(st.integers(0, n_distinct - 1), min_size=n_customers, max_size=n_customers))
    recency, frequency, monetary = (list(column) for column in zip(*(pool[i] for i in picks)))
    if draw(st.integers(0, 9)) == 0:
        monetary[draw(st.integers(0, n_customers - 1))] = np.nan
    return _table(recency, frequency, monetary)


def _check_fit(table: pd.DataFrame, k: int, algorithm: str) -> None:
    try:
        model = RFMClusterer(k, algorithm=algorithm, n_init=3).fit(table)
    except RFMInputError:
        assert table[M].isna().any()
        return
    assert not table[M].isna().any()
    assert model.labels_.shape == (len(table),)
    assert model.cluster_centers_.shape == (model.n_clusters_, 3)
    assert set(model.labels_) <= set(range(-1, model.n_clusters_))
    if algorithm in CENTROID:
        assert 1 <= model.n_clusters_ <= k
        assert set(model.labels_) == set(range(model.n_clusters_))
        np.testing.assert_array_equal(model.predict(table), model.labels_)


@pytest.mark.slow
@settings(max_examples=25, deadline=None, derandomize=True)
@given(table=rfm_tables(), k=st.integers(2, 6))
def test_kmeans_fits_any_rfm_table_or_refuses_it_cleanly(table, k):
    _check_fit(table, k, "kmeans")


@pytest.mark.slow
@settings(max_examples=25, deadline=None, derandomize=True)
@given(table=rfm_tables(), k=st.integers(2, 6), algorithm=st.sampled_from(ESTIMATOR_ALGORITHMS[1:]))
def test_other_algorithms_fit_any_rfm_table_or_refuse_it_cleanly(table, k, algorithm):
    _check_fit(table, k, algorithm)


# --- comparing algorithms -------------------------------------------------------------------------


def test_compare_algorithms_one_row_per_algorithm():
    result = compare_algorithms(BLOBS, 3, eps=0.4)
    assert list(result.index) == ["kmeans", "gmm", "dbscan", "hdbscan"]
    assert result.index.name == "algorithm"
    assert list(result.columns) == list(COMPARISON_COLUMNS)
    assert list(result["clusters"]) == [3, 3, 3, 3]
    assert (result.loc[["kmeans", "gmm"], "silhouette"] > 0.5).all()
    assert (result["noise_share"] == 0.0).all()
    assert (result["seconds"] > 0).all()
    assert (result["note"] == "").all()
    assert result["calinski_harabasz"].gt(100).all()
    assert result["davies_bouldin"].between(0, 0.5).all()


def test_compare_algorithms_on_a_sample_keeps_the_exact_other_metrics():
    exact = compare_algorithms(BLOBS, 3, algorithms=("kmeans",))
    sampled = compare_algorithms(BLOBS, 3, algorithms=("kmeans",), sample_size=60)
    assert sampled.loc["kmeans", "note"] == "silhouette on a stratified sample of 60 of 300 customers"
    assert sampled.loc["kmeans", "silhouette"] != exact.loc["kmeans", "silhouette"]
    assert sampled.loc["kmeans", "silhouette"] == pytest.approx(exact.loc["kmeans", "silhouette"], abs=0.05)
    assert sampled.loc["kmeans", "calinski_harabasz"] == exact.loc["kmeans", "calinski_harabasz"]


def test_compare_algorithms_explains_missing_metrics():
    result = compare_algorithms(BLOBS, 1, algorithms=("kmeans", "dbscan"), eps=1e-4)
    assert result.loc["kmeans", "note"] == "1 cluster: metrics undefined"
    assert result.loc["dbscan", "note"].startswith("all points are noise: metrics undefined; Every customer is noise")
    assert result.loc["dbscan", "noise_share"] == 1.0
    assert result[["silhouette", "calinski_harabasz", "davies_bouldin"]].isna().all().all()


def test_compare_algorithms_counts_noise():
    table = pd.concat([BLOBS, OUTLIERS])
    result = compare_algorithms(table, 3, algorithms=("dbscan",), eps=0.4)
    assert result.loc["dbscan", "noise_share"] == pytest.approx(3 / 303)
    assert result.loc["dbscan", "clusters"] == 3
    assert result.loc["dbscan", "silhouette"] > 0.5


def test_compare_algorithms_refuses_unknown_algorithms():
    with pytest.raises(RFMInputError, match=r"got \['kmeans', 'optics'\]"):
        compare_algorithms(BLOBS, 3, algorithms=("kmeans", "optics"))
    with pytest.raises(RFMInputError, match=r"sample_size=1 should be an integer >= 2"):
        compare_algorithms(BLOBS, 3, sample_size=1)


# --- the stratified sample ------------------------------------------------------------------------


def test_a_four_customer_cluster_survives_a_one_in_twenty_sample():
    labels = np.array([0] * 19_996 + [1] * 4)
    sample = stratified_sample_indices(labels, 1_000, random_state=0)
    assert len(sample) == 1_000
    assert len(np.unique(sample)) == 1_000
    assert (np.diff(sample) > 0).all()
    assert (labels[sample] == 1).sum() >= 2


def test_the_sample_is_proportional_beyond_the_floor():
    labels = np.repeat([0, 1, 2], [5_000, 3_000, 2_000])
    counts = np.bincount(labels[stratified_sample_indices(labels, 1_000, random_state=1)])
    assert counts.sum() == 1_000
    np.testing.assert_allclose(counts, [500, 300, 200], atol=1)


def test_single_member_clusters_are_kept_and_many_clusters_get_their_floor():
    labels = np.r_[np.zeros(100, int), np.arange(1, 21)]  # one big cluster, twenty singletons
    sample = stratified_sample_indices(labels, 30, random_state=2)
    assert set(labels[sample]) == set(range(21))
    assert len(sample) == 30
    many = np.repeat(np.arange(50), 10)  # 50 clusters of 10, at least 2 each > size 60
    assert np.bincount(many[stratified_sample_indices(many, 60, random_state=2)]).tolist() == [2] * 50


def test_the_sample_is_reproducible_and_everything_when_small():
    labels = np.repeat([3, -1, 7], [400, 300, 300])
    first = stratified_sample_indices(labels, 100, random_state=5)
    np.testing.assert_array_equal(first, stratified_sample_indices(labels, 100, random_state=5))
    assert not np.array_equal(first, stratified_sample_indices(labels, 100, random_state=6))
    np.testing.assert_array_equal(stratified_sample_indices(labels, 1_000, random_state=5), np.arange(1_000))


def test_a_bad_sample_size_is_refused():
    with pytest.raises(RFMInputError, match=r"size=0 should be an integer >= 1"):
        stratified_sample_indices(np.zeros(10), 0)


def test_docstring_examples_run():
    import doctest

    import rfm.clustering.estimator

    result = doctest.testmod(rfm.clustering.estimator)
    assert result.attempted >= 10
    assert result.failed == 0
