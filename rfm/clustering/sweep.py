"""Choosing k: fit K-Means for a range of k, score every partition, and recommend one k with a reason.

:func:`sweep_k` takes the scaled feature matrix (customers × features) and returns a :class:`SweepResult`:
inertia, silhouette, Calinski-Harabasz, Davies-Bouldin and seed stability for each k, the recommended k
and a sentence saying why. :func:`recommend_k` and :func:`elbow_k` hold the rule, so that it can be read
and tested on its own.

Speed: the silhouettes of all ks come from one pass over the pairwise distances (each block of distances is
reduced against every k's labels at once), many times faster than ``silhouette_score`` once per k. Even so, a
sweep with exact metrics on several thousand customers ran over its one-second budget, so by default the metrics
are exact up to :data:`EXACT_SILHOUETTE_MAX` customers and use a stratified sample of that size above (on
synthetic customers the sample's silhouettes stayed well inside the :data:`SILHOUETTE_TIE` that
:func:`recommend_k` treats as a tie), and stability uses :data:`STABILITY_SAMPLE` customers. The K-Means fits
themselves are then the largest cost. ``bench/bench_clusters.py`` times each part; bench/RESULTS.md holds the
figures.

The quality metrics below (:func:`silhouette_scores`, :func:`calinski_davies`, :func:`adjusted_rand_index`) are
the library's one implementation of them: :func:`rfm.clustering.estimator.compare_algorithms` scores with them
too, and tests check them against ``sklearn.metrics``.

scikit-learn is imported inside the functions: its first import is slow.
"""

from __future__ import annotations

import math
import warnings as pywarnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from itertools import combinations
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike

from rfm.clustering.features import check_finite
from rfm.errors import RFMInputError
from rfm.shared.data_needs import MIN_DISTINCT_CUSTOMERS_TO_CLUSTER, more_needed
from rfm.shared.numeric import count_distinct_rows, is_int

#: Largest k a sweep may try.
K_LIMIT = 15
#: The k range a sweep tries unless told otherwise: two clusters are too coarse to act on (one of them held about
#: half the customers on every file tried), more than eight too many campaigns to run. 2 can still be chosen.
DEFAULT_K_MIN, DEFAULT_K_MAX = 3, 8
#: A segment a marketer can act on holds at least this share of the customers (smaller is not worth a campaign)...
SMALLEST_SEGMENT_SHARE = 0.03
#: ...and at most this share (a segment holding most customers says little about any of them).
LARGEST_SEGMENT_SHARE = 0.5
#: A k whose mean adjusted Rand index between seeds reaches this is "stable".
STABLE_ARI = 0.8
#: Silhouettes closer than this to the best count as a tie, which the elbow breaks.
SILHOUETTE_TIE = 0.02
#: Stability is measured on at most this many customers (a uniform sample).
STABILITY_SAMPLE = 3_000
#: Silhouette, Calinski-Harabasz and Davies-Bouldin are exact up to this many customers, else on a sample this size.
EXACT_SILHOUETTE_MAX = 3_000
# Each block of pairwise distances holds about this many bytes (small blocks stay in cache).
_BLOCK_BYTES = 4_000_000
# OpenMP (K-Means) and BLAS threads during a sweep. With two threads, every Lloyd iteration and every small
# matrix product ends in a barrier that waits for the slower thread; when the machine is busy (the app
# serving another page, a second process) that thread is descheduled and the wait dominates. On the 2-core
# machine under load one thread was faster for the fits (above all mini-batch K-Means) and for the
# silhouettes alike (bench/bench_clusters.py prints both settings).
_THREADS = 1

METRICS: tuple[str, ...] = (
    "inertia", "silhouette", "calinski_harabasz", "davies_bouldin", "stability", "smallest_share", "largest_share",
    "separation",
)


@dataclass(frozen=True)
class SweepResult:
    """Scores of K-Means for each k, and the recommended k.

    Each metric is a tuple aligned with ``ks``; NaN where it is undefined.

    Attributes
    ----------
    ks : tuple of int
        The numbers of clusters tried (empty when the data have fewer than 3 distinct customers).
    inertia : tuple of float
        Sum of squared distances of customers to their centre, on every customer (lower is tighter).
    silhouette, calinski_harabasz, davies_bouldin : tuple of float
        Higher, higher and lower is better; on ``silhouette_sample`` customers.
    stability : tuple of float
        Mean adjusted Rand index between K-Means fits with different seeds (1 = the same partition).
    recommended_k : int
        The k :func:`recommend_k` picks; 0 when no k was tried.
    reason : str
        Why, naming the figures.
    method : str
        ``"KMeans"`` or ``"MiniBatchKMeans"``.
    n_customers : int
        Rows of the matrix swept.
    silhouette_sample : int
        Customers the silhouette, Calinski-Harabasz and Davies-Bouldin were computed on (``n_customers``
        when exact).
    warnings : tuple of str
        Why the sweep is degenerate (too few distinct customers, a k that did not converge...).
    notes : tuple of str
        How it was computed when that is not the default (mini-batch K-Means, sampled metrics); not problems.
    elbow_k : int or None
        The elbow of the inertia curve (see :func:`elbow_k`), ``None`` when the curve has none.
    smallest_share, largest_share : tuple of float
        The share of the swept customers in the smallest and the largest cluster at each k.
    separation : tuple of float
        The predictive separation at each k (see :func:`with_separation`): how far apart the best and the worst
        cluster's bought-again rates were in a backtest; NaN where it was not measured.
    """

    ks: tuple[int, ...]
    inertia: tuple[float, ...]
    silhouette: tuple[float, ...]
    calinski_harabasz: tuple[float, ...]
    davies_bouldin: tuple[float, ...]
    stability: tuple[float, ...]
    recommended_k: int
    reason: str
    method: str
    n_customers: int
    silhouette_sample: int
    warnings: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()
    elbow_k: int | None = None
    smallest_share: tuple[float, ...] = ()
    largest_share: tuple[float, ...] = ()
    separation: tuple[float, ...] = ()

    def __post_init__(self) -> None:
        for metric in ("smallest_share", "largest_share", "separation"):  # unmeasured: NaN at every k
            if len(getattr(self, metric)) != len(self.ks):
                object.__setattr__(self, metric, (math.nan,) * len(self.ks))

    @property
    def separation_measured(self) -> bool:
        """Whether the predictive separation was measured at some k."""
        return any(math.isfinite(value) for value in self.separation)

    @property
    def sampled(self) -> bool:
        """Whether silhouette, Calinski-Harabasz and Davies-Bouldin were computed on a sample."""
        return self.silhouette_sample < self.n_customers

    def as_frame(self) -> pd.DataFrame:
        """The metrics as a table.

        Returns
        -------
        DataFrame indexed by ``k`` with the float columns of :data:`METRICS` and a bool ``recommended``.
        """
        frame = pd.DataFrame(
            {metric: np.asarray(getattr(self, metric), dtype="float64") for metric in METRICS},
            index=pd.Index(np.asarray(self.ks, dtype="int64"), name="k"),
        )
        frame["recommended"] = frame.index == self.recommended_k
        return frame


# --- the sweep ----------------------------------------------------------------------------------------


def sweep_k(X: ArrayLike, k_min: int = DEFAULT_K_MIN, k_max: int = DEFAULT_K_MAX, random_state: int = 42, n_init: int = 10,
            stability_runs: int = 5, exact_silhouette_max: int = EXACT_SILHOUETTE_MAX, minibatch_above: int = 50_000,
            *, stability_sample: int = STABILITY_SAMPLE) -> SweepResult:
    """Fit K-Means for every k in ``k_min..k_max`` and score each partition.

    Parameters
    ----------
    X : ndarray of shape (n_customers, n_features)
        The scaled feature matrix, one row per customer (e.g. ``RFMClusterer.transform(table)``).
    k_min, k_max : int
        The range of k, ``2 <= k_min <= k_max <= 15`` (default 3 to 8). ``k_max`` is lowered (with a warning) to the number
        of distinct customers minus one: silhouette needs fewer clusters than points.
    random_state : int
        Seed of the fits and samples (>= 0); the same seed gives the same result.
    n_init : int
        Initialisations per k for the fit that gives labels, inertia and the quality metrics.
    stability_runs : int
        Fits per k, one initialisation each with seeds ``random_state``, ``random_state + 1``, ..., whose
        pairwise adjusted Rand indices are averaged. Below 2, stability is not measured (NaN).
    exact_silhouette_max : int
        Up to this many customers silhouette, Calinski-Harabasz and Davies-Bouldin use every customer; above it,
        a sample of this size stratified on the labels at the largest k (``estimator.stratified_sample_indices``),
        topped up so that every cluster of every k keeps at least 2 members. At least 100.
    minibatch_above : int
        Above this many customers ``MiniBatchKMeans`` replaces ``KMeans`` (and ``notes`` says so).
    stability_sample : int, keyword-only
        Stability is measured on a uniform sample of at most this many customers (at least 100).

    Returns
    -------
    SweepResult
        One entry per k tried. With fewer than 3 distinct customers no k is tried: ``ks`` is empty,
        ``recommended_k`` is 0 and ``warnings`` says why.

    Raises
    ------
    RFMInputError
        For a bad k range or setting, a matrix that is not 2-D, or a missing or infinite value.

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> centres = np.array([[0, 0], [6, 0], [0, 6]])
    >>> X = np.concatenate([c + rng.normal(size=(60, 2)) for c in centres])
    >>> result = sweep_k(X, k_max=6)
    >>> result.ks, result.recommended_k
    ((3, 4, 5, 6), 3)
    """
    matrix = _check_matrix(X)
    _check_settings(
        k_min, k_max, random_state, n_init, stability_runs, exact_silhouette_max, minibatch_above, stability_sample
    )
    method = "MiniBatchKMeans" if matrix.shape[0] > minibatch_above else "KMeans"
    top, warnings = _usable_k_max(matrix, k_min, k_max)
    if top is None:
        return _empty_result(method, matrix.shape[0], warnings)
    return _sweep(matrix, tuple(range(k_min, top + 1)), method, random_state, n_init, stability_runs,
                  exact_silhouette_max, minibatch_above, stability_sample, warnings)


def _usable_k_max(matrix: np.ndarray, k_min: int, k_max: int) -> tuple[int | None, list[str]]:
    """The largest k to try, ``k_max`` lowered below the number of distinct customers (silhouette needs fewer
    clusters than points), or ``None`` when no k from ``k_min`` is usable; and the warnings saying why."""
    n_customers = matrix.shape[0]
    n_distinct = count_distinct_rows(matrix, cap=k_max + 1)  # exact whenever it lowers k_max
    top = min(k_max, n_distinct - 1)
    if n_distinct < MIN_DISTINCT_CUSTOMERS_TO_CLUSTER:
        return None, [
            f"Only {n_distinct} distinct customer(s) among {n_customers}: clustering needs at least "
            f"{MIN_DISTINCT_CUSTOMERS_TO_CLUSTER} {more_needed(MIN_DISTINCT_CUSTOMERS_TO_CLUSTER, n_distinct)}, no k was tried."
        ]
    warnings = []
    if top < k_max:
        warnings.append(
            f"Only {n_distinct} distinct customers among {n_customers}: k_max lowered from {k_max} to {top} "
            "(silhouette needs fewer clusters than distinct customers)."
        )
    if top < k_min:
        warnings.append(f"k_min={k_min} is above the largest usable k={top}: no k was tried.")
        return None, warnings
    return top, warnings


def _sweep(matrix, ks, method, random_state, n_init, stability_runs, exact_silhouette_max, minibatch_above,
           stability_sample, warnings: list[str]) -> SweepResult:
    """The fits, metrics, stability and recommendation for ``ks``, on ``_THREADS`` threads."""
    from rfm.clustering.threads import limit_threads

    n_customers = matrix.shape[0]
    notes: list[str] = []
    if method == "MiniBatchKMeans":
        notes.append(
            f"MiniBatchKMeans above {minibatch_above:,} customers ({n_customers:,} here): much faster than "
            "KMeans, with a slightly higher inertia."
        )
    with limit_threads(_THREADS):
        labels, inertia = _fit_all(matrix, ks, method, n_init, random_state, warnings)
        sample = _metric_sample(labels, exact_silhouette_max, random_state)
        points = matrix if sample is None else matrix[sample]
        sampled_labels = labels if sample is None else [lab[sample] for lab in labels]
        silhouette = silhouette_scores(points, sampled_labels)
        calinski, davies = _ch_db_scores(points, sampled_labels)
        stability = _stability(matrix, ks, stability_runs, stability_sample, random_state)
    if sample is not None:
        notes.append(
            f"Silhouette, Calinski-Harabasz and Davies-Bouldin on a stratified sample of {len(sample):,} of "
            f"{n_customers:,} customers (every cluster represented); inertia on all of them."
        )
    elbow = elbow_k(ks, inertia, total_inertia=float(((matrix - matrix.mean(axis=0)) ** 2).sum()))
    shares = [np.bincount(labelling) / n_customers for labelling in labels]
    smallest, largest = tuple(float(s[s > 0].min()) for s in shares), tuple(float(s.max()) for s in shares)
    recommended, reason = recommend_k(ks, silhouette, stability, elbow, sizes=list(zip(smallest, largest)))
    return SweepResult(
        ks=ks,
        inertia=tuple(inertia),
        silhouette=tuple(silhouette),
        calinski_harabasz=tuple(calinski),
        davies_bouldin=tuple(davies),
        stability=tuple(stability),
        recommended_k=recommended,
        reason=reason,
        method=method,
        n_customers=n_customers,
        silhouette_sample=n_customers if sample is None else len(sample),
        warnings=tuple(dict.fromkeys(warnings)),
        notes=tuple(notes),
        elbow_k=elbow,
        smallest_share=smallest,
        largest_share=largest,
    )


def with_separation(result: SweepResult, separation: Mapping[int, float], note: str | None = None) -> SweepResult:
    """The sweep with the predictive separation of each k, and the recommendation made again with it.

    Parameters
    ----------
    result : SweepResult
    separation : mapping of k to float
        For each k, the bought-again rate of the best cluster minus that of the worst in a backtest (clusters fitted
        on the history before a cut, judged on the days after it; see ``rfm.backtest.separation``). A k left out is
        NaN.
    note : str, optional
        How it was measured (the cut, the customers), added to ``notes``.

    Returns
    -------
    SweepResult
        ``separation`` filled; ``recommended_k`` and ``reason`` from :func:`recommend_k` with it (it breaks
        ties of silhouette).
    """
    from dataclasses import replace

    values = tuple(float(separation.get(k, math.nan)) for k in result.ks)
    if not result.ks:
        return result
    recommended, reason = recommend_k(
        result.ks, result.silhouette, result.stability, result.elbow_k,
        sizes=list(zip(result.smallest_share, result.largest_share)), separation=values,
    )
    notes = result.notes + ((note,) if note else ())
    return replace(result, separation=values, recommended_k=recommended, reason=reason, notes=notes)


def _empty_result(method: str, n_customers: int, warnings: list[str]) -> SweepResult:
    return SweepResult(
        ks=(),
        inertia=(),
        silhouette=(),
        calinski_harabasz=(),
        davies_bouldin=(),
        stability=(),
        recommended_k=0,
        reason=warnings[-1],
        method=method,
        n_customers=n_customers,
        silhouette_sample=n_customers,
        warnings=tuple(warnings),
    )


def _check_matrix(X) -> np.ndarray:
    try:
        matrix = np.asarray(X, dtype="float64")
    except (TypeError, ValueError) as error:
        raise RFMInputError(f"X should be a numeric matrix (customers × features): {error}") from error
    if matrix.ndim != 2 or matrix.shape[1] == 0:
        raise RFMInputError(
            f"X should be 2-D (customers × features) with at least one feature; got shape {matrix.shape}."
        )
    check_finite(matrix)
    return matrix


def _check_settings(
    k_min, k_max, random_state, n_init, stability_runs, exact_silhouette_max, minibatch_above, stability_sample
) -> None:
    problems = []
    for name, value, least in (
        ("k_min", k_min, 2),
        ("k_max", k_max, 2),
        ("random_state", random_state, 0),
        ("n_init", n_init, 1),
        ("stability_runs", stability_runs, 0),
        ("exact_silhouette_max", exact_silhouette_max, 100),
        ("minibatch_above", minibatch_above, 1),
        ("stability_sample", stability_sample, 100),
    ):
        if not is_int(value) or value < least:
            problems.append(f"{name}={value!r} should be an integer >= {least}.")
    if not problems and k_max < k_min:
        problems.append(f"k_max={k_max} should be >= k_min={k_min}.")
    if not problems and k_max > K_LIMIT:
        problems.append(f"k_max={k_max} should be <= {K_LIMIT}.")
    if problems:
        raise RFMInputError(" ".join(problems))


def _fit_all(matrix, ks, method, n_init, random_state, warnings: list[str]):
    """Labels and inertia (on every customer) of one K-Means fit per k."""
    from sklearn.cluster import KMeans, MiniBatchKMeans
    from sklearn.exceptions import ConvergenceWarning

    if method == "MiniBatchKMeans":
        # Batches of 4,096 and at most 3 starts (scikit-learn's own default for mini-batches): on a million
        # customers much faster than 10 starts with batches of 1,024, for a 0.4% higher inertia (bench/RESULTS.md).
        def make(k: int) -> Any:
            return MiniBatchKMeans(n_clusters=k, n_init=min(n_init, 3), batch_size=4096, random_state=random_state)
    else:
        def make(k: int) -> Any:
            return KMeans(n_clusters=k, n_init=n_init, random_state=random_state)
    labels, inertia = [], []
    for k in ks:
        with pywarnings.catch_warnings(record=True) as caught:
            pywarnings.simplefilter("always", ConvergenceWarning)
            model = make(k).fit(matrix)
        for caught_warning in caught:
            if issubclass(caught_warning.category, ConvergenceWarning):
                warnings.append(f"k={k}: {caught_warning.message}")
            else:  # not ours to judge: pass it on
                pywarnings.warn(caught_warning.message, caught_warning.category, stacklevel=2)
        labels.append(np.asarray(model.labels_, dtype=np.intp))
        inertia.append(float(model.inertia_))
    return labels, inertia


def _metric_sample(labels: list[np.ndarray], size: int, random_state) -> np.ndarray | None:
    """Positions of the customers the quality metrics use; ``None`` for all of them.

    Stratified on the labels at the largest k (the finest partition), then topped up so that every
    cluster of every other k keeps ``min(its size, 2)`` members too. One sample serves every k, which
    lets :func:`silhouette_scores` share its distance computations between them.
    """
    n_customers = labels[0].shape[0]
    if n_customers <= size:
        return None
    from rfm.clustering.estimator import stratified_sample_indices

    rng = np.random.default_rng(random_state)
    chosen = np.zeros(n_customers, dtype=bool)
    chosen[stratified_sample_indices(labels[-1], size, random_state)] = True
    for labelling in labels[:-1]:
        counts = np.bincount(labelling)
        present = np.bincount(labelling[chosen], minlength=counts.size)
        for cluster in np.flatnonzero(present < np.minimum(counts, 2)):
            spare = np.flatnonzero((labelling == cluster) & ~chosen)
            chosen[rng.choice(spare, min(counts[cluster], 2) - present[cluster], replace=False)] = True
    return np.flatnonzero(chosen)


# --- quality metrics ----------------------------------------------------------------------------------


def silhouette_scores(points: np.ndarray, labellings: Sequence[np.ndarray]) -> list[float]:
    """Mean silhouette of each labelling of the same points, in one pass over the pairwise distances.

    Equal, up to rounding, to ``sklearn.metrics.silhouette_score(points, labels)`` for each labelling (Euclidean;
    a singleton cluster's point scores 0), but the distances, which dominate the cost, are computed once
    for all labellings: each block of rows of the distance matrix is multiplied by the stacked one-hot
    matrix of every labelling, giving each point's summed distance to each cluster of each k.

    Parameters
    ----------
    points : ndarray of shape (n, n_features)
    labellings : sequence of ndarray of int, each of shape (n,)
        Cluster numbers ``0..k-1`` (a number nobody holds is allowed).

    Returns
    -------
    list of float
        One mean silhouette per labelling; NaN where it is undefined (fewer than 2 clusters held, or as
        many clusters as points).
    """
    n = points.shape[0]
    sizes = [int(lab.max()) + 1 if n else 0 for lab in labellings]
    if not labellings or n < 3:
        return [math.nan] * len(labellings)
    offsets = np.cumsum([0, *sizes])
    one_hot = np.zeros((n, offsets[-1]))
    for offset, lab in zip(offsets, labellings):
        one_hot[np.arange(n), offset + lab] = 1.0
    sums = _summed_distances(points, one_hot)
    return [
        _mean_silhouette(sums[:, offset : offset + size], lab, size)
        for offset, size, lab in zip(offsets, sizes, labellings)
    ]


def _summed_distances(points: np.ndarray, one_hot: np.ndarray) -> np.ndarray:
    """``distances @ one_hot``: each point's summed Euclidean distance to the points of each column of
    ``one_hot``, computed a block of rows at a time so that the n × n distance matrix never exists whole."""
    n = points.shape[0]
    sums = np.empty_like(one_hot)
    squared = (points**2).sum(axis=1)
    transposed = np.ascontiguousarray(points.T)
    step = max(16, _BLOCK_BYTES // (8 * n))
    for start in range(0, n, step):
        block = points[start : start + step] @ transposed
        block *= -2.0
        block += squared[start : start + step, None]
        block += squared[None, :]
        np.maximum(block, 0.0, out=block)
        np.sqrt(block, out=block)
        sums[start : start + step] = block @ one_hot
    return sums


def _mean_silhouette(to_cluster: np.ndarray, labels: np.ndarray, size: int) -> float:
    """Mean silhouette of one labelling (cluster numbers ``0..size-1``) from each point's summed distance to
    each cluster, ``to_cluster`` of shape (n, size); NaN unless ``2 <= clusters held <= n - 1``."""
    n = labels.shape[0]
    counts = np.bincount(labels, minlength=size).astype("float64")
    held = int((counts > 0).sum())
    if not 2 <= held <= n - 1:
        return math.nan
    rows = np.arange(n)
    own = counts[labels]
    within = to_cluster[rows, labels] / np.maximum(own - 1, 1)
    with np.errstate(divide="ignore", invalid="ignore"):
        mean_to = to_cluster / counts
    mean_to[:, counts == 0] = np.inf
    mean_to[rows, labels] = np.inf
    nearest = mean_to.min(axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        values = np.nan_to_num((nearest - within) / np.maximum(within, nearest))
    values[own == 1] = 0.0
    return float(values.mean())


def _ch_db_scores(points: np.ndarray, labellings: Sequence[np.ndarray]) -> tuple[list[float], list[float]]:
    """Calinski-Harabasz and Davies-Bouldin of each labelling (NaN where undefined)."""
    calinski, davies = [], []
    for lab in labellings:
        ch, db = calinski_davies(points, lab)
        calinski.append(ch)
        davies.append(db)
    return calinski, davies


def calinski_davies(points: np.ndarray, labels: np.ndarray) -> tuple[float, float]:
    """Calinski-Harabasz and Davies-Bouldin indices of one labelling, vectorised.

    The same figures, up to rounding, as ``sklearn.metrics.calinski_harabasz_score`` and ``davies_bouldin_score``
    (including their conventions: 1.0 and 0.0 when every cluster is a single point or all centres coincide),
    without their per-call validation, which costs more than the arithmetic on a sweep's sizes. The comparison
    of algorithms scores with it too.

    Parameters
    ----------
    points : ndarray of shape (n, n_features)
    labels : ndarray of shape (n,)

    Returns
    -------
    (float, float)
        Higher and lower is better; both NaN unless ``2 <= clusters <= n - 1``.
    """
    _, codes = np.unique(labels, return_inverse=True)
    n, k = points.shape[0], int(codes.max()) + 1 if len(codes) else 0
    if not 2 <= k <= n - 1:
        return math.nan, math.nan
    counts = np.bincount(codes).astype("float64")
    centres = np.column_stack([np.bincount(codes, weights=column) for column in points.T]) / counts[:, None]
    squared = ((points - centres[codes]) ** 2).sum(axis=1)
    within = float(squared.sum())
    between = float((counts * ((centres - points.mean(axis=0)) ** 2).sum(axis=1)).sum())
    calinski = 1.0 if within == 0 else between * (n - k) / (within * (k - 1))
    spread = np.bincount(codes, weights=np.sqrt(squared)) / counts
    apart = np.sqrt(((centres[:, None, :] - centres[None, :, :]) ** 2).sum(axis=-1))
    if np.allclose(spread, 0) or np.allclose(apart, 0):
        return calinski, 0.0
    apart[apart == 0] = np.inf
    davies = float(np.mean(np.max((spread[:, None] + spread[None, :]) / apart, axis=1)))
    return calinski, davies


def adjusted_rand_index(first: np.ndarray, second: np.ndarray) -> float:
    """Adjusted Rand index of two labellings of the same points (as ``sklearn.metrics.adjusted_rand_score``).

    Computed from the contingency table by ``np.bincount``, without scikit-learn's per-call validation: many
    times faster on a sweep's sample, which matters for the 90 pairs a default sweep compares.

    Parameters
    ----------
    first, second : ndarray of non-negative int, shape (n,)

    Returns
    -------
    float
        1 for identical partitions (up to renumbering), about 0 for independent ones.
    """
    n = first.shape[0]
    _, first = np.unique(first, return_inverse=True)
    _, second = np.unique(second, return_inverse=True)
    width = int(second.max()) + 1 if n else 1
    table = np.bincount(first * width + second)

    def pairs(counts: np.ndarray) -> float:
        counts = counts.astype("float64")
        return float((counts * (counts - 1)).sum() / 2)

    together = pairs(table)
    in_first = pairs(np.bincount(first))
    in_second = pairs(np.bincount(second))
    total = n * (n - 1) / 2
    if total == 0:
        return 1.0
    expected = in_first * in_second / total
    best = (in_first + in_second) / 2
    if best == expected:  # both partitions trivial (one cluster, or all singletons): the same partition
        return 1.0
    return (together - expected) / (best - expected)


def _stability(matrix, ks, runs: int, sample_size: int, random_state) -> list[float]:
    """Mean pairwise ARI of ``runs`` single-initialisation K-Means fits per k, on a uniform sample."""
    if runs < 2:
        return [math.nan] * len(ks)
    from sklearn.cluster import KMeans
    from sklearn.exceptions import ConvergenceWarning

    rng = np.random.default_rng(random_state)
    sample = matrix
    if matrix.shape[0] > sample_size:
        sample = matrix[np.sort(rng.choice(matrix.shape[0], sample_size, replace=False))]
    stability = []
    for k in ks:
        with pywarnings.catch_warnings():
            # A sample can hold fewer distinct customers than k; the index still says how alike the fits are.
            pywarnings.simplefilter("ignore", ConvergenceWarning)
            fits = [
                KMeans(n_clusters=k, n_init=1, random_state=random_state + run).fit(sample).labels_
                for run in range(runs)
            ]
        stability.append(float(np.mean([adjusted_rand_index(a, b) for a, b in combinations(fits, 2)])))
    return stability


# --- the rule -----------------------------------------------------------------------------------------


def elbow_k(ks: Sequence[int], inertia: Sequence[float], total_inertia: float | None = None) -> int | None:
    """The elbow of the inertia curve, "kneedle" style.

    Both axes are scaled to 0..1 and the elbow is the k whose point lies furthest below the straight line
    from the first point of the curve to the last. ``total_inertia`` (the inertia of one cluster, the
    total sum of squares) starts the curve at k=1 when given, so that the elbow can be ``ks[0]`` itself.

    Parameters
    ----------
    ks : sequence of int
    inertia : sequence of float, aligned with ``ks``
    total_inertia : float, optional

    Returns
    -------
    int or None
        A k among ``ks``; ``None`` for fewer than 3 points, or when no point is below the line.

    Examples
    --------
    >>> elbow_k([1, 2, 3, 4, 5, 6], [100, 40, 10, 8, 7, 6])
    3
    """
    x = [1.0] if total_inertia is not None else []
    y = [float(total_inertia)] if total_inertia is not None else []
    x += [float(k) for k in ks]
    y += [float(v) for v in inertia]
    if len(x) < 3 or not np.all(np.isfinite(y)):
        return None
    x_arr, y_arr = np.asarray(x), np.asarray(y)
    x_norm = (x_arr - x_arr[0]) / (x_arr[-1] - x_arr[0])
    spread = y_arr.max() - y_arr.min()
    if spread == 0:
        return None
    y_norm = (y_arr - y_arr.min()) / spread
    line = y_norm[0] + (y_norm[-1] - y_norm[0]) * x_norm
    below = line - y_norm  # 0 at both ends of the chord, so the k=1 anchor is never the elbow
    best = int(np.argmax(below))
    if below[best] <= 1e-12:
        return None
    return int(x_arr[best])


def recommend_k(
    ks: Sequence[int],
    silhouette: Sequence[float],
    stability: Sequence[float],
    elbow: int | None,
    sizes: Sequence[tuple[float, float]] | None = None,
    separation: Sequence[float] | None = None,
) -> tuple[int, str]:
    """The recommended k and a sentence saying why, naming the criterion that decided.

    The rule, in order:

    1. **Sizes a marketer can act on:** keep the ks whose every cluster holds from :data:`SMALLEST_SEGMENT_SHARE` to
       :data:`LARGEST_SEGMENT_SHARE` of the customers (all ks when none does, or when ``sizes`` is not given).
    2. **Stability:** of those, keep the ks whose stability is at least :data:`STABLE_ARI` (all of them when none
       is, or when stability was not measured).
    3. **Silhouette:** take the highest. A k within :data:`SILHOUETTE_TIE` of it ties with it: among the tied ks
       the widest predictive separation wins when it was measured for all of them, else the elbow of the inertia
       curve when it is among them.

    Without any silhouette, the elbow if it is kept, else the smallest kept k. When a k with a higher silhouette
    was set aside by step 1 or 2, the reason says which k and why.

    Parameters
    ----------
    ks : sequence of int
    silhouette, stability : sequence of float, aligned with ``ks`` (NaN where undefined)
    elbow : int or None
        From :func:`elbow_k`.
    sizes : sequence of (float, float), optional
        The smallest and the largest cluster's share of the customers at each k.
    separation : sequence of float, optional
        The predictive separation at each k (NaN where not measured); see :func:`with_separation`.

    Returns
    -------
    (int, str)
        The k (0 when ``ks`` is empty) and the reason, e.g. ``"k=4: highest silhouette (0.41) among the ks whose
        clusters each hold 3–50% of the customers and whose stability is ≥ 0.8 (3, 4, 7); the elbow is at k=4 too."``

    Examples
    --------
    >>> recommend_k([2, 3, 4], [0.50, 0.62, 0.55], [1.0, 0.97, 0.71], elbow=3)[0]
    3
    >>> recommend_k([2, 3, 4], [0.70, 0.62, 0.55], [1.0, 0.97, 0.9], 3, sizes=[(0.4, 0.6), (0.2, 0.4), (0.1, 0.4)])[0]
    3
    """
    if not ks:
        return 0, "No k was tried."
    silhouette_of = dict(zip(ks, map(float, silhouette)))
    stability_of = dict(zip(ks, map(float, stability)))
    sized, size_words, too_uneven = _sized_ks(ks, sizes)
    kept, among = _kept_ks(sized, stability_of, size_words)
    scored = [k for k in kept if math.isfinite(silhouette_of[k])]
    if not scored:
        chosen = elbow if elbow in kept else kept[0]
        how = "the elbow of the inertia curve" if chosen == elbow else "the smallest k"
        return chosen, f"k={chosen}: {how} {among}; silhouette is undefined for every k."
    chosen, reason = _by_silhouette(scored, silhouette_of, elbow, among, _separation_of(ks, separation))
    return chosen, reason + _set_aside(ks, chosen, silhouette_of, stability_of, kept, too_uneven)


def _by_silhouette(scored: list[int], silhouette_of: dict[int, float], elbow: int | None, among: str,
                   separation_of: dict[int, float]) -> tuple[int, str]:
    """Step 3 of :func:`recommend_k`: the highest silhouette, ties broken by the separation, else the elbow."""
    best = max(scored, key=lambda k: (silhouette_of[k], -k))
    tied = [k for k in scored if silhouette_of[k] >= silhouette_of[best] - SILHOUETTE_TIE]
    elbow_text = "the inertia curve has no clear elbow" if elbow is None else f"the elbow is at k={elbow}"
    if len(tied) > 1 and all(k in separation_of for k in tied):
        widest = max(tied, key=lambda k: (separation_of[k], -k))
        if widest != best:
            return widest, (
                f"k={widest}: the widest predictive separation ({separation_of[widest]:.0%} between its best and worst "
                f"cluster's bought-again rate, against {separation_of[best]:.0%} at k={best}) among the ks whose "
                f"silhouette is within {SILHOUETTE_TIE:g} of the highest (k={best}, {silhouette_of[best]:.2f}) {among}; "
                f"{elbow_text}."
            )
    elif elbow in tied and elbow != best:
        return elbow, (
            f"k={elbow}: the elbow of the inertia curve, and its silhouette ({silhouette_of[elbow]:.2f}) is within "
            f"{SILHOUETTE_TIE:g} of the highest (k={best}, {silhouette_of[best]:.2f}) {among}."
        )
    agree = f"{elbow_text} too" if elbow == best else elbow_text
    return best, f"k={best}: highest silhouette ({silhouette_of[best]:.2f}) {among}; {agree}."


def _separation_of(ks: Sequence[int], separation: Sequence[float] | None) -> dict[int, float]:
    """The measured separations by k (NaN ones left out)."""
    if separation is None:
        return {}
    return {k: float(value) for k, value in zip(ks, separation) if math.isfinite(value)}


def _sized_ks(ks: Sequence[int], sizes: Sequence[tuple[float, float]] | None) -> tuple[list[int], str, dict[int, str]]:
    """Step 1 of :func:`recommend_k`: the ks whose clusters all hold a share a marketer can act on, the words for
    them, and for every other k why not (e.g. ``"its largest cluster holds 56% of the customers"``)."""
    bounds = f"{SMALLEST_SEGMENT_SHARE:.0%}–{LARGEST_SEGMENT_SHARE:.0%}"
    if sizes is None:
        return list(ks), "", {}
    uneven = {}
    for k, (smallest, largest) in zip(ks, sizes):
        if largest > LARGEST_SEGMENT_SHARE:
            uneven[k] = f"its largest cluster holds {largest:.0%} of the customers (more than {LARGEST_SEGMENT_SHARE:.0%})"
        elif smallest < SMALLEST_SEGMENT_SHARE:
            uneven[k] = f"its smallest cluster holds {smallest:.1%} of the customers (less than {SMALLEST_SEGMENT_SHARE:.0%})"
    even = [k for k in ks if k not in uneven]
    if not even:
        return list(ks), f"no k keeps every cluster within {bounds} of the customers, so all are compared", {}
    return even, f"whose clusters each hold {bounds} of the customers", uneven


def _kept_ks(ks: Sequence[int], stability_of: dict[int, float], size_words: str = "") -> tuple[list[int], str]:
    """Step 2 of :func:`recommend_k`: the ks chosen among (the stable ones, else all) and the words saying which."""
    measured = [k for k in ks if math.isfinite(stability_of[k])]
    stable = [k for k in measured if stability_of[k] >= STABLE_ARI]
    sized = size_words.startswith("whose")
    if stable:
        also = f"{size_words} and " if sized else ""
        after = f" ({size_words})" if size_words and not sized else ""
        return stable, f"among the ks {also}whose stability is ≥ {STABLE_ARI:g} ({', '.join(map(str, stable))}){after}"
    scope = f"among the ks {size_words} ({', '.join(map(str, ks))})" if sized else "among all ks"
    after = f" ({size_words})" if size_words and not sized else ""
    if measured:
        steady = max(measured, key=lambda k: (stability_of[k], -k))
        return list(ks), (
            f"{scope}, as none has stability ≥ {STABLE_ARI:g} "
            f"(the most stable is k={steady} at {stability_of[steady]:.2f}){after}"
        )
    return list(ks), f"{scope} (stability not measured){after}"


def _set_aside(ks: Sequence[int], chosen: int, silhouette_of: dict[int, float], stability_of: dict[int, float],
               kept: list[int], too_uneven: dict[int, str]) -> str:
    """When a k with a higher silhouette than the chosen one was set aside, which one and why (else "")."""
    higher = [k for k in ks if k not in kept and math.isfinite(silhouette_of[k]) and silhouette_of[k] > silhouette_of[chosen]]
    if not higher or not math.isfinite(silhouette_of[chosen]):
        return ""
    top = max(higher, key=lambda k: (silhouette_of[k], -k))
    why = too_uneven.get(top) or f"its stability is {stability_of[top]:.2f} (below {STABLE_ARI:g})"
    decided = "cluster sizes" if top in too_uneven else "stability"
    digits = 2 if f"{silhouette_of[top]:.2f}" != f"{silhouette_of[chosen]:.2f}" else 3
    return f" Decided by {decided}: k={top} has a higher silhouette ({silhouette_of[top]:.{digits}f}), but {why}."
