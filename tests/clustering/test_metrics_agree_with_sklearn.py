"""The library's own cluster metrics (``rfm.clustering.sweep``) against ``sklearn.metrics``, on realistic data.

The k-sweep and the comparison of algorithms both score with ``silhouette_scores`` and ``calinski_davies`` (one
implementation, faster than scikit-learn's, see the sweep's module docstring); scikit-learn is the reference.
``tests/clustering/test_sweep.py`` checks them on tiny hand-made frames; here they meet the data they are for:
scaled RFM tables, ties, a singleton cluster, and the stratified samples the sweep and the comparison draw.

Tolerances: Calinski-Harabasz and Davies-Bouldin to 1e-12 (relative). Silhouette to 1e-9 (absolute): both
implementations expand the distances as |a|² - 2a·b + |b|², which loses digits on near-zero distances, and
scikit-learn then zeroes each point's distance to itself where ours keeps the rounding (about 1e-11 here).
"""

import numpy as np
import pandas as pd
import pytest
from sklearn.cluster import KMeans
from sklearn.metrics import calinski_harabasz_score, davies_bouldin_score, silhouette_score
from threadpoolctl import threadpool_limits

from rfm.clustering.estimator import RFMClusterer, compare_algorithms, stratified_sample_indices
from rfm.clustering.sweep import _metric_sample, calinski_davies, silhouette_scores, sweep_k
from rfm.schema import NOISE

SILHOUETTE_ABS = 1e-9
INDEX_REL = 1e-12


@pytest.fixture(autouse=True)
def one_thread():
    """The reference fits and metrics on one thread, as the library runs its own (two fight on a busy machine)."""
    with threadpool_limits(1):
        yield


def _rfm_table(n: int, seed: int = 0) -> pd.DataFrame:
    """Skewed like real customers: recency uniform, frequency geometric, spend log-normal."""
    rng = np.random.default_rng(seed)
    return pd.DataFrame(
        {
            "recency_days": rng.integers(0, 700, n).astype(float),
            "frequency": rng.geometric(0.35, n).astype(float),
            "monetary": rng.lognormal(5.0, 1.1, n),
        },
        index=pd.Index([f"c{i}" for i in range(n)], name="customer_id"),
    )


def _scaled(table: pd.DataFrame) -> np.ndarray:
    return RFMClusterer().fit(table).transform(table)


def _blobs() -> np.ndarray:
    rng = np.random.default_rng(1)
    return np.concatenate([c + rng.normal(size=(100, 3)) for c in ([0, 0, 0], [8, 0, 0], [0, 8, 0])])


def _ties() -> np.ndarray:
    """40 distinct customers, each repeated 1 to 19 times."""
    rng = np.random.default_rng(2)
    return np.repeat(rng.normal(size=(40, 3)), rng.integers(1, 20, 40), axis=0)


def _singleton() -> np.ndarray:
    """A cloud and one customer far from it: K-Means gives that customer a cluster of its own."""
    rng = np.random.default_rng(3)
    return np.vstack([rng.normal(size=(400, 3)), [[40.0, 40.0, 40.0]]])


DATASETS = {
    "scaled RFM table": lambda: _scaled(_rfm_table(800)),
    "round blobs": _blobs,
    "tied customers": _ties,
    "a singleton cluster": _singleton,
}


def _assert_same_scores(points, labels, silhouette, calinski, davies):
    assert silhouette == pytest.approx(silhouette_score(points, labels), abs=SILHOUETTE_ABS)
    assert calinski == pytest.approx(calinski_harabasz_score(points, labels), rel=INDEX_REL)
    assert davies == pytest.approx(davies_bouldin_score(points, labels), rel=INDEX_REL)


@pytest.mark.parametrize("dataset", DATASETS)
def test_the_metrics_equal_sklearn_for_every_k(dataset):
    points = DATASETS[dataset]()
    labellings = [KMeans(n_clusters=k, n_init=3, random_state=0).fit(points).labels_ for k in range(2, 7)]
    silhouettes = silhouette_scores(points, labellings)
    for labels, silhouette in zip(labellings, silhouettes):
        _assert_same_scores(points, labels, silhouette, *calinski_davies(points, labels))
    if dataset == "a singleton cluster":
        assert any(np.bincount(labels).min() == 1 for labels in labellings)


def test_a_sampled_sweep_scores_its_sample_as_sklearn_does():
    """Above ``exact_silhouette_max`` the sweep scores one stratified sample (drawn with its ``random_state``) for
    every k: each of its figures is scikit-learn's on that sample. (scikit-learn's own ``sample_size`` draws a
    uniform sample with another generator, so the sample is rebuilt here, not asked of scikit-learn.)"""
    points, seed, size = _scaled(_rfm_table(1_000, seed=4)), 7, 250
    result = sweep_k(points, k_max=5, random_state=seed, n_init=3, stability_runs=0, exact_silhouette_max=size)
    labellings = [
        KMeans(n_clusters=k, n_init=3, random_state=seed).fit(points).labels_.astype(np.intp) for k in result.ks
    ]
    sample = _metric_sample(labellings, size, seed)
    assert result.sampled and result.silhouette_sample == len(sample) >= size
    for i, labels in enumerate(labellings):
        scores = result.silhouette[i], result.calinski_harabasz[i], result.davies_bouldin[i]
        _assert_same_scores(points[sample], labels[sample], *scores)


@pytest.mark.parametrize("algorithm", ["kmeans", "gmm", "dbscan"])
def test_the_comparison_scores_as_sklearn_does_with_its_sample_and_without_noise(algorithm):
    """Silhouette on the stratified sample of the non-noise customers, the two indices on all of them."""
    table, seed, size = _rfm_table(800, seed=5), 11, 300
    params = dict(random_state=seed, eps=0.3, min_samples=10, n_init=2)
    row = compare_algorithms(table, 4, algorithms=(algorithm,), sample_size=size, **params).loc[algorithm]
    model = RFMClusterer(4, algorithm=algorithm, **params).fit(table)
    kept = model.labels_ != NOISE
    points, labels = model.transform(table)[kept], model.labels_[kept]
    assert row["clusters"] == np.unique(labels).size >= 2
    assert (row["noise_share"] > 0) == (algorithm == "dbscan")
    sample = stratified_sample_indices(labels, size, seed)
    assert silhouette_score(points[sample], labels[sample]) == pytest.approx(row["silhouette"], abs=SILHOUETTE_ABS)
    assert calinski_harabasz_score(points, labels) == pytest.approx(row["calinski_harabasz"], rel=INDEX_REL)
    assert davies_bouldin_score(points, labels) == pytest.approx(row["davies_bouldin"], rel=INDEX_REL)
