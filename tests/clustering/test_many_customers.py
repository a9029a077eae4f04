"""The large-customer path: 200,000 customers go through scoring, the k-sweep and clustering.

Above 50,000 customers the sweep fits MiniBatchKMeans and computes silhouette, Calinski-Harabasz and
Davies-Bouldin on a stratified sample (every cluster represented), and says so; the charts draw a
stratified sample too. Fast enough for CI (a few seconds); timings belong in bench/, not here.
"""

from __future__ import annotations

import numpy as np
import pytest

from devkit.data import synthetic_customers
from rfm.clustering.fit import ClusterSettings, fit_clusters, run_sweep
from rfm.outputs.charts import pca_scatter
from rfm.outputs.lists import labelled_customers, segment_sizes
from rfm.scoring.classic import segment_customers

pytestmark = pytest.mark.slow

N = 200_000


@pytest.fixture(scope="module")
def segmented():
    return segment_customers(synthetic_customers(N, seed=11)).customers


@pytest.fixture(scope="module")
def sweep(segmented):
    return run_sweep(segmented, ClusterSettings(k_max=8))


def test_the_sweep_switches_to_minibatch_and_sampled_metrics_and_says_so(sweep):
    assert sweep.n_customers == N
    assert sweep.method == "MiniBatchKMeans"
    assert sweep.sampled and sweep.silhouette_sample == 3000
    assert any("MiniBatchKMeans above 50,000 customers (200,000 here)" in note for note in sweep.notes)
    assert any("stratified sample of 3,000 of 200,000" in note for note in sweep.notes)
    assert not sweep.warnings
    assert np.all(np.isfinite(sweep.silhouette)) and np.all(np.isfinite(sweep.inertia))
    assert sweep.recommended_k in sweep.ks


def test_every_customer_is_clustered_named_and_listed(segmented, sweep):
    k = sweep.recommended_k or 4
    clusters = fit_clusters(segmented, ClusterSettings(), k)
    assert clusters.customers["cluster"].between(0, k - 1).all()
    labelled = labelled_customers(segmented, clusters.customers)
    assert len(labelled) == N
    sizes = segment_sizes(labelled, "segment_name")
    assert sizes["customers"].sum() == N
    # The scatter draws a stratified sample in which every cluster appears.
    figure = pca_scatter(clusters.projection, clusters.customers["cluster"], clusters.names["name"], segmented)
    drawn = sum(len(trace.x) for trace in figure.data if trace.mode == "markers" and len(trace.x) > k)
    # A browser draws 5,000 points in about a second without a graphics card; more only slows every visit.
    assert drawn <= 5_000
    assert "5,000 of 200,000" in figure.layout.title.subtitle.text
