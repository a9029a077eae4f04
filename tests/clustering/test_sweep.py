"""Choosing k: the sweep's metrics, the recommendation rule, sampling, and degenerate data."""

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from sklearn.metrics import adjusted_rand_score, silhouette_score

from rfm.clustering.sweep import (
    METRICS,
    STABLE_ARI,
    SweepResult,
    _metric_sample,
    adjusted_rand_index,
    calinski_davies,
    elbow_k,
    recommend_k,
    silhouette_scores,
    sweep_k,
)
from rfm.errors import RFMInputError

PROPERTY = settings(max_examples=25, deadline=None, derandomize=True)
# Small sweeps stay fast: fewer initialisations than the defaults where the test is not about them.
FAST = dict(n_init=3, stability_runs=3)


def _blobs(n_blobs: int, per_blob: int = 80, seed: int = 0) -> np.ndarray:
    """Well-separated round blobs on a circle of radius 8 (standard deviation 1 each)."""
    rng = np.random.default_rng(seed)
    angles = 2 * np.pi * np.arange(n_blobs) / n_blobs
    centres = 8 * np.column_stack([np.cos(angles), np.sin(angles), np.zeros(n_blobs)])
    return np.concatenate([c + rng.normal(size=(per_blob, 3)) for c in centres])


# --- the recommendation on clear structure -------------------------------------------------------------


@pytest.mark.parametrize("n_blobs", [2, 3, 4])  # with 2, the elbow needs the k=1 anchor
def test_the_rule_finds_the_number_of_clear_blobs(n_blobs):
    result = sweep_k(_blobs(n_blobs), k_min=2, k_max=8)
    assert result.recommended_k == n_blobs
    assert result.reason.startswith(f"k={n_blobs}:")
    assert result.elbow_k == n_blobs
    frame = result.as_frame()
    assert frame.loc[n_blobs, "stability"] >= STABLE_ARI
    assert frame["silhouette"].idxmax() == n_blobs
    assert frame["davies_bouldin"].idxmin() == n_blobs
    assert frame["recommended"].tolist() == [k == n_blobs for k in range(2, 9)]


def test_hand_computed_metrics_on_two_pairs_of_points():
    # (0,0),(0,1) and (10,0),(10,1): k=2 puts each pair together, centres (0,0.5) and (10,0.5), so the inertia
    # is 4 × 0.5² = 1. For (0,0): a = 1, b = (10 + √101) / 2, silhouette = 1 - a/b, the same for all four.
    X = np.array([[0.0, 0.0], [0.0, 1.0], [10.0, 0.0], [10.0, 1.0]])
    result = sweep_k(X, k_min=2, k_max=10, **FAST)
    assert result.ks == (2, 3)  # 4 distinct customers: k_max lowered to 3
    assert result.warnings == (
        "Only 4 distinct customers among 4: k_max lowered from 10 to 3 (silhouette needs fewer clusters than "
        "distinct customers).",
    )
    assert result.inertia[0] == pytest.approx(1.0)
    assert result.silhouette[0] == pytest.approx(1 - 1 / ((10 + math.sqrt(101)) / 2))
    assert result.stability[0] == pytest.approx(1.0)
    assert result.silhouette_sample == result.n_customers == 4
    assert result.method == "KMeans" and result.notes == ()


def test_as_frame_is_indexed_by_k_with_every_metric():
    result = sweep_k(_blobs(3, per_blob=30), k_min=2, k_max=5, **FAST)
    frame = result.as_frame()
    assert frame.index.name == "k" and frame.index.tolist() == [2, 3, 4, 5]
    assert list(frame.columns) == [*METRICS, "recommended"]
    assert frame["inertia"].tolist() == list(result.inertia)
    assert frame["recommended"].sum() == 1


def test_same_seed_gives_the_same_result_and_another_seed_can_differ():
    X = _blobs(5, per_blob=40, seed=3)
    first, again = sweep_k(X, k_max=9, **FAST), sweep_k(X, k_max=9, **FAST)
    pd.testing.assert_frame_equal(first.as_frame(), again.as_frame())
    assert (first.recommended_k, first.reason) == (again.recommended_k, again.reason)
    other = sweep_k(X, k_max=9, random_state=7, **FAST)
    assert other.stability != first.stability


def test_the_result_is_frozen_and_hashable():
    result = sweep_k(_blobs(3, per_blob=20), k_max=4, **FAST)
    assert isinstance(hash(result), int)
    with pytest.raises(AttributeError):
        result.recommended_k = 2


# --- the rule on its own -----------------------------------------------------------------------------------


def test_elbow_is_the_point_furthest_below_the_chord():
    # Scaled: x = 0, .2, ..., 1; y = 1, .362, .043, .021, .011, 0; the chord is 1 - x, the gaps
    # 0, .438, .557, .379, .189, 0: the elbow is at k=3.
    assert elbow_k([1, 2, 3, 4, 5, 6], [100, 40, 10, 8, 7, 6]) == 3
    # The total inertia anchors the curve at k=1, so the first k swept can be the elbow.
    assert elbow_k([2, 3, 4, 5], [10, 9, 8, 7], total_inertia=100) == 2
    assert elbow_k([2, 3, 4, 5], [10, 9, 8, 7]) is None  # a straight line has no elbow
    assert elbow_k([2, 3], [10, 9]) is None


def test_rule_keeps_only_stable_ks_when_there_are_some():
    k, reason = recommend_k([2, 3, 4], [0.70, 0.60, 0.50], [0.60, 0.90, 0.95], elbow=None)
    assert k == 3
    assert reason == (
        "k=3: highest silhouette (0.60) among the ks whose stability is ≥ 0.8 (3, 4); "
        "the inertia curve has no clear elbow. Decided by stability: k=2 has a higher silhouette (0.70), but its "
        "stability is 0.60 (below 0.8)."
    )


def test_rule_sets_aside_ks_with_a_cluster_too_small_or_too_large_to_act_on():
    sizes = [(0.45, 0.55), (0.02, 0.45), (0.10, 0.40), (0.08, 0.35)]
    k, reason = recommend_k([2, 3, 4, 5], [0.70, 0.65, 0.50, 0.45], [1.0, 1.0, 0.9, 0.9], elbow=3, sizes=sizes)
    assert k == 4
    assert reason.startswith(
        "k=4: highest silhouette (0.50) among the ks whose clusters each hold 3%–50% of the customers and whose "
        "stability is ≥ 0.8 (4, 5)"
    )
    assert reason.endswith(
        "Decided by cluster sizes: k=2 has a higher silhouette (0.70), but its largest cluster holds 55% of the "
        "customers (more than 50%)."
    )
    # k=3 is set aside for its smallest cluster; when no k avoids an uneven cluster, every k is compared.
    assert "smallest cluster holds 2.0%" in recommend_k([3, 4], [0.7, 0.5], [1.0, 1.0], None, sizes=sizes[1:3])[1]
    k, reason = recommend_k([2, 3], [0.70, 0.65], [1.0, 1.0], elbow=None, sizes=sizes[:2])
    assert k == 2 and "no k keeps every cluster within 3%–50% of the customers" in reason


def test_rule_lets_the_predictive_separation_break_a_near_tie():
    k, reason = recommend_k([3, 4, 5], [0.41, 0.40, 0.30], [1.0] * 3, elbow=3, separation=[0.30, 0.45, 0.90])
    assert k == 4
    assert reason.startswith("k=4: the widest predictive separation (45% between its best and worst cluster's")
    # Not measured at every tied k: the elbow decides as before.
    assert recommend_k([3, 4, 5], [0.41, 0.40, 0.30], [1.0] * 3, elbow=3, separation=[0.30, math.nan, 0.9])[0] == 3


def test_rule_lets_the_elbow_break_a_near_tie_in_silhouette():
    k, reason = recommend_k([2, 3, 4], [0.61, 0.60, 0.40], [1.0, 1.0, 1.0], elbow=3)
    assert k == 3
    assert "elbow" in reason and "within 0.02 of the highest (k=2, 0.61)" in reason
    # Further than the tie: silhouette wins, and the reason names the elbow.
    k, reason = recommend_k([2, 3, 4], [0.70, 0.60, 0.40], [1.0, 1.0, 1.0], elbow=3)
    assert (k, reason.endswith("the elbow is at k=3.")) == (2, True)


def test_rule_falls_back_to_all_ks_when_none_is_stable():
    k, reason = recommend_k([2, 3, 4], [0.3, 0.5, 0.4], [0.5, 0.7, 0.6], elbow=4)
    assert k == 3
    assert "none has stability ≥ 0.8 (the most stable is k=3 at 0.70)" in reason


def test_rule_without_silhouette_takes_the_elbow_or_the_smallest_k():
    nan = math.nan
    assert recommend_k([2, 3, 4], [nan] * 3, [1.0] * 3, elbow=3)[0] == 3
    assert recommend_k([2, 3, 4], [nan] * 3, [nan] * 3, elbow=None)[0] == 2
    assert recommend_k([], [], [], elbow=None) == (0, "No k was tried.")


# --- the fast metrics agree with scikit-learn ----------------------------------------------------------------

LABELLED = st.integers(3, 40).flatmap(
    lambda n: st.tuples(
        hnp.arrays(np.float64, (n, 2), elements=st.sampled_from([0.0, 1.0, 2.5, -3.0, 7.0])),
        st.lists(hnp.arrays(np.int64, n, elements=st.integers(0, 4)), min_size=1, max_size=3),
    )
)


@PROPERTY
@given(LABELLED)
def test_shared_silhouette_equals_sklearn_for_every_labelling(case):
    points, labellings = case
    ours = silhouette_scores(points, labellings)
    for labels, score in zip(labellings, ours):
        held = np.unique(labels).size
        if 2 <= held <= len(labels) - 1:
            assert score == pytest.approx(silhouette_score(points, labels), abs=1e-9)
        else:
            assert math.isnan(score)


@PROPERTY
@given(st.integers(2, 60).flatmap(lambda n: st.tuples(*[hnp.arrays(np.int64, n, elements=st.integers(0, 5))] * 2)))
def test_adjusted_rand_index_equals_sklearn(pair):
    first, second = pair
    assert adjusted_rand_index(first, second) == pytest.approx(adjusted_rand_score(first, second), abs=1e-12)


# --- sampling ------------------------------------------------------------------------------------------------


def _with_tiny_far_cluster(n: int = 20_000, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 3))
    X[-4:] = 40 + rng.normal(size=(4, 3))  # 4 customers far from everybody else
    return X, np.r_[np.zeros(n - 4, dtype=np.intp), np.ones(4, dtype=np.intp)]


def test_metric_sample_keeps_a_4_customer_cluster_among_20000():
    _X, labels = _with_tiny_far_cluster()
    sample = _metric_sample([labels], 1_000, random_state=0)
    assert len(sample) == 1_000 and np.all(np.diff(sample) > 0)
    assert (labels[sample] == 1).sum() == 2
    # A plain random sample of the same size usually misses it (expected 0.2 of its members).
    plain = np.random.default_rng(0).choice(len(labels), 1_000, replace=False)
    assert (labels[plain] == 1).sum() == 0


def test_metric_sample_tops_up_clusters_of_the_smaller_ks():
    # Strata come from the last (largest-k) labelling; a cluster of another k that the draw misses is added.
    fine = np.arange(1_000) % 10
    coarse = np.zeros(1_000, dtype=np.intp)
    coarse[[3, 17]] = 1  # customers 3 and 17 are strata 3 and 7 of the fine labelling
    sample = _metric_sample([coarse, fine], 100, random_state=1)
    assert {3, 17} <= set(sample)
    assert np.bincount(fine[sample]).min() >= 2


def test_sweep_on_a_sample_keeps_the_tiny_cluster_and_says_so():
    X, _ = _with_tiny_far_cluster()
    result = sweep_k(X, k_max=4, exact_silhouette_max=1_000, n_init=2, stability_runs=2, stability_sample=1_000)
    assert result.sampled and 1_000 <= result.silhouette_sample < 1_100
    assert all(math.isfinite(v) for v in result.silhouette + result.calinski_harabasz + result.davies_bouldin)
    sampled = "Silhouette, Calinski-Harabasz and Davies-Bouldin on a stratified sample"
    assert any(note.startswith(sampled) for note in result.notes)
    assert result.warnings == ()


def test_above_the_minibatch_threshold_the_method_changes_without_a_warning():
    X = _blobs(3, per_blob=100)
    result = sweep_k(X, k_max=4, minibatch_above=200, **FAST)
    assert result.method == "MiniBatchKMeans"
    assert result.notes[0].startswith("MiniBatchKMeans above 200 customers (300 here)")
    assert result.warnings == ()
    assert result.recommended_k == 3
    assert sweep_k(X, k_max=4, minibatch_above=300, **FAST).method == "KMeans"


# --- degenerate data -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "X, expected",
    [
        (np.array([[1.0, 2.0]]), "Only 1 distinct customer(s) among 1"),
        (np.ones((50, 3)), "Only 1 distinct customer(s) among 50"),
        (np.array([[0.0], [1.0], [0.0], [1.0]]), "Only 2 distinct customer(s) among 4"),
        (np.empty((0, 3)), "Only 0 distinct customer(s) among 0"),
    ],
)
def test_fewer_than_three_distinct_customers_give_an_empty_result_with_a_warning(X, expected):
    result = sweep_k(X)
    assert result.ks == () and result.recommended_k == 0
    assert result.warnings[0].startswith(expected)
    assert result.reason == result.warnings[0]
    assert result.as_frame().empty


def test_fewer_customers_than_k_lowers_k_max():
    X = np.array([[0.0], [1.0], [5.0], [6.0], [20.0]])
    result = sweep_k(X, k_min=2, k_max=10, **FAST)
    assert result.ks == (2, 3, 4)
    assert "k_max lowered from 10 to 4" in result.warnings[0]


def test_k_min_above_the_usable_ks_gives_an_empty_result():
    result = sweep_k(np.arange(5.0).reshape(-1, 1), k_min=6, k_max=8)
    assert result.ks == ()
    assert result.warnings[-1] == "k_min=6 is above the largest usable k=4: no k was tried."


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (dict(k_min=1), "k_min=1 should be an integer >= 2"),
        (dict(k_min=5, k_max=4), "k_max=4 should be >= k_min=5"),
        (dict(k_max=16), "k_max=16 should be <= 15"),
        (dict(n_init=0), "n_init=0 should be an integer >= 1"),
        (dict(random_state=None), "random_state=None should be an integer >= 0"),
        (dict(exact_silhouette_max=10), "exact_silhouette_max=10 should be an integer >= 100"),
    ],
)
def test_bad_settings_raise_naming_the_value(kwargs, message):
    with pytest.raises(RFMInputError, match=message):
        sweep_k(np.arange(10.0).reshape(-1, 1), **kwargs)


def test_bad_matrices_raise_naming_the_shape_or_the_row():
    with pytest.raises(RFMInputError, match=r"2-D .* got shape \(5,\)"):
        sweep_k(np.arange(5.0))
    X = np.zeros((4, 2))
    X[2, 1] = np.nan
    with pytest.raises(RFMInputError, match=r"1 missing .* first at row 2, column 1"):
        sweep_k(X)


@PROPERTY
@given(
    st.integers(1, 30).flatmap(
        lambda n: hnp.arrays(np.float64, (n, 2), elements=st.sampled_from([0.0, 1.0, 2.0, 5.0, -4.0]))
    )
)
def test_any_small_matrix_gives_a_consistent_result(X):
    result = sweep_k(X, k_min=2, k_max=6, n_init=2, stability_runs=2)
    distinct = len(np.unique(X, axis=0))
    assert isinstance(result, SweepResult)
    assert result.ks == tuple(range(2, min(6, distinct - 1) + 1))
    assert (result.recommended_k in result.ks) == bool(result.ks)
    for metric in METRICS:
        assert len(getattr(result, metric)) == len(result.ks)
    assert all(-1 <= s <= 1 for s in result.silhouette if not math.isnan(s))
    assert all(d >= 0 for d in result.davies_bouldin if not math.isnan(d))
    assert all(s <= 1 + 1e-12 for s in result.stability)


@PROPERTY
@given(LABELLED)
def test_calinski_and_davies_equal_sklearn(case):
    from sklearn.metrics import calinski_harabasz_score, davies_bouldin_score

    points, labellings = case
    for labels in labellings:
        calinski, davies = calinski_davies(points, labels)
        if 2 <= np.unique(labels).size <= len(labels) - 1:
            assert calinski == pytest.approx(calinski_harabasz_score(points, labels), rel=1e-9)
            assert davies == pytest.approx(davies_bouldin_score(points, labels), rel=1e-9, abs=1e-12)
        else:
            assert math.isnan(calinski) and math.isnan(davies)
