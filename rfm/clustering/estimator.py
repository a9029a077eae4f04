"""Cluster customers on their RFM features: one scikit-learn estimator, and a side-by-side of algorithms.

:class:`RFMClusterer` chains the three steps every clustering of an RFM table needs -- log1p on the skewed
columns, a scaler, a clusterer -- so that ``fit``, ``predict`` and ``transform`` always see customers in the
same space. :func:`compare_algorithms` fits several algorithms on one table and scores each partition;
:func:`stratified_sample_indices` draws the sample the scores use on large tables.

This module imports scikit-learn's base classes at import time, which is slow; import it lazily from UI code.
"""

from __future__ import annotations

import math
import numbers
import time
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike
from sklearn.base import BaseEstimator, ClusterMixin, OneToOneFeatureMixin, TransformerMixin
from sklearn.utils import check_random_state
from sklearn.utils.validation import check_is_fitted, validate_data

from rfm import schema
from rfm.clustering.assign import assign, squared_distances
from rfm.clustering.features import (
    DEFAULT_FEATURES,
    DEFAULT_LOG_FEATURES,
    check_features,
    check_finite,
    feature_frame,
    make_scaler,
)
from rfm.errors import RFMInputError
from rfm.schema import ALGORITHM_LABELS, CENTROID_ALGORITHMS, DENSITY_ALGORITHMS, NOISE
from rfm.shared.numeric import count_distinct_rows, is_int

#: A seed, a numpy RandomState, or None (fresh randomness), as scikit-learn takes it.
RandomState = int | np.random.RandomState | None
#: Every algorithm the estimator fits (the app offers four of them: ``rfm.schema.ALGORITHMS``).
ESTIMATOR_ALGORITHMS: tuple[str, ...] = CENTROID_ALGORITHMS + DENSITY_ALGORITHMS
COMPARISON_COLUMNS: tuple[str, ...] = (
    "clusters",
    "noise_share",
    "silhouette",
    "calinski_harabasz",
    "davies_bouldin",
    "seconds",
    "note",
)


class RFMClusterer(ClusterMixin, OneToOneFeatureMixin, TransformerMixin, BaseEstimator):
    """Cluster customers: log1p on skewed RFM columns, then a scaler, then a clustering algorithm.

    Parameters
    ----------
    n_clusters : int, default=4
        Number of clusters for ``"kmeans"``, ``"minibatch_kmeans"`` and ``"gmm"``. Ignored by the density
        methods, which find their own number. When the data hold fewer distinct customers than
        ``n_clusters``, that many clusters are fitted and ``warnings_`` says so.
    algorithm : {"kmeans", "minibatch_kmeans", "gmm", "dbscan", "hdbscan"}, default="kmeans"
        ``"gmm"`` is a Gaussian mixture with full covariances; ``"hdbscan"`` is :class:`sklearn.cluster.HDBSCAN`.
    features : sequence of str, default=DEFAULT_FEATURES
        Columns of the RFM table to cluster on (a choice among ``rfm.clustering.features.FEATURE_CHOICES``). Used only
        when ``X`` is a DataFrame; a plain array is clustered on all its columns.
    log_features : sequence of str, default=DEFAULT_LOG_FEATURES
        Features taken as ``log1p`` (negatives clipped to 0) before scaling. Applied only when ``X`` is a
        DataFrame: an array has no column names, so its columns are used as given.
    scaler : {"standard", "robust"}, default="standard"
        ``StandardScaler`` (mean 0, variance 1) or ``RobustScaler`` (median 0, interquartile range 1).
    n_init : int, default=10
        Number of initialisations for K-Means (both kinds) and for the Gaussian mixture.
    random_state : int, RandomState instance or None, default=42
        Seed of the initialisations; the same seed gives the same labels.
    eps : float, default=0.5
        DBSCAN's neighbourhood radius, in the *scaled* space (with the standard scaler, in standard deviations).
    min_samples : int or float, default=5
        DBSCAN's and HDBSCAN's ``min_samples``: the neighbours a customer needs to be a core point. An int is a
        number of customers; a float in (0, 1) is a share of the customers fitted on (rounded up, at least 2),
        which means the same density whether the fit ran on every customer or on a sample.
    min_cluster_size : int, float or None, default=None
        The smallest cluster, as an int (customers, >= 2) or a float in (0, 1) (share of the customers fitted
        on, rounded up, at least 2). HDBSCAN's ``min_cluster_size``; DBSCAN's clusters smaller than this are
        marked noise. ``None``: HDBSCAN uses ``max(min_samples, 2)`` and DBSCAN keeps every cluster.
    max_fit_samples : int or None, default=None
        DBSCAN and HDBSCAN fit on a random sample of this many customers when there are more (their cost grows
        faster than linearly); every other customer then takes the label -- cluster or noise -- of its nearest
        sampled customer, so noise is estimated for everyone. The sample is drawn from the customers sorted by
        their features, so row order does not change it. ``None``: fit on every customer. Ignored by the
        centroid methods and the mixture.

    Attributes
    ----------
    feature_names_in_ : ndarray of str, shape (n_features,)
        The features clustered on. Set only when fitted on a DataFrame.
    n_features_in_ : int
        Number of features clustered on.
    scaler_ : StandardScaler or RobustScaler
        The fitted scaler; ``transform`` applies it.
    model_ : KMeans, MiniBatchKMeans, GaussianMixture, DBSCAN, HDBSCAN or None
        The fitted clusterer, on the scaled features. ``None`` when all customers are identical: there is
        nothing to fit and every customer is in cluster 0.
    labels_ : ndarray of int, shape (n_samples,)
        Cluster of each customer; ``-1`` marks noise (DBSCAN and HDBSCAN only). For the centroid methods
        and the mixture, ``labels_`` equals ``predict(X)`` on the training data.
    cluster_centers_ : ndarray of shape (n_clusters_, n_features)
        Centres in the scaled space: the K-Means centroids, the mixture's means, or for the density
        methods the mean of each cluster's members.
    sample_indices_ : ndarray of int or None
        Rows of ``X`` the density method was fitted on (see ``max_fit_samples``), in the order it saw them;
        ``None`` when it was fitted on every row (always for the centroid methods and the mixture).
    n_clusters_ : int
        Number of clusters found, noise excluded. Below ``n_clusters`` when the data have fewer distinct
        customers, or when a cluster or mixture component ends up holding nobody (it is then dropped, and
        the remaining clusters keep their order, renumbered from 0).
    inertia_ : float
        Sum of squared distances of customers to their cluster centre in the scaled space, noise excluded.
    warnings_ : tuple of str
        Why the result is degenerate (too few customers, a feature with one value, all points noise...);
        empty when nothing is wrong.

    Notes
    -----
    ``predict`` assigns a new customer to the nearest centre (K-Means, and the density methods), or to the
    most probable mixture component. For DBSCAN and HDBSCAN noise is a training-time label only: ``predict``
    places every point in its nearest cluster (and returns -1 only when training found no cluster at all),
    so there ``predict(X)`` differs from ``labels_`` on the noise points.

    Cluster numbers are the algorithm's own; ordering or naming clusters is left to the caller.

    Examples
    --------
    >>> import pandas as pd
    >>> from rfm.clustering.estimator import RFMClusterer
    >>> table = pd.DataFrame(
    ...     {"recency_days": [3, 5, 4, 200, 220, 210],
    ...      "frequency": [12, 15, 11, 1, 1, 2],
    ...      "monetary": [900.0, 1200.0, 950.0, 20.0, 35.0, 25.0]},
    ...     index=pd.Index(["a", "b", "c", "d", "e", "f"], name="customer_id"))
    >>> model = RFMClusterer(n_clusters=2).fit(table)
    >>> model.n_clusters_, model.cluster_centers_.shape
    (2, (2, 3))
    >>> bool(model.labels_[0] == model.labels_[2] != model.labels_[3])
    True
    >>> model.transform(table).shape
    (6, 3)
    """

    # Set by fit (scikit-learn's convention: attributes ending in _ exist once fitted).
    model_: Any  # the scikit-learn clusterer, or None when every customer is identical
    scaler_: Any
    labels_: np.ndarray
    cluster_centers_: np.ndarray
    n_clusters_: int
    inertia_: float
    warnings_: tuple[str, ...]
    sample_indices_: np.ndarray | None
    _components: np.ndarray | None  # the mixture components that hold customers (Gaussian mixture only)
    _log_features: tuple[str, ...]  # the features fitted on a log scale (set by fit on a table)

    def __init__(
        self,
        n_clusters=4,
        *,
        algorithm="kmeans",
        features=DEFAULT_FEATURES,
        log_features=DEFAULT_LOG_FEATURES,
        scaler="standard",
        n_init=10,
        random_state=42,
        eps=0.5,
        min_samples=5,
        min_cluster_size=None,
        max_fit_samples=None,
    ):
        self.n_clusters = n_clusters
        self.algorithm = algorithm
        self.features = features
        self.log_features = log_features
        self.scaler = scaler
        self.n_init = n_init
        self.random_state = random_state
        self.eps = eps
        self.min_samples = min_samples
        self.min_cluster_size = min_cluster_size
        self.max_fit_samples = max_fit_samples

    # --- fitting ------------------------------------------------------------------------------

    def fit(self, X: pd.DataFrame | ArrayLike, y: None = None) -> RFMClusterer:
        """Fit the scaler and the clusterer.

        Parameters
        ----------
        X : DataFrame of shape (n_customers, n_columns) or array-like of shape (n_samples, n_features)
            The RFM table indexed by customer id, whose ``features`` columns are used (``log_features``
            taken as log1p); or a plain numeric array, all of whose columns are used as they are.
        y : None
            Ignored.

        Returns
        -------
        self : RFMClusterer
            The fitted estimator.

        Raises
        ------
        RFMInputError
            For a bad parameter, a missing or non-numeric column, a missing or infinite value, or no data.
        """
        self._check_params()
        features = self._validated_features(X, reset=True)
        self.scaler_ = make_scaler(self.scaler).fit(features)
        scaled = self.scaler_.transform(features)
        warnings = self._feature_warnings(features)
        wanted = self.n_clusters if self.algorithm in CENTROID_ALGORITHMS else 1
        n_distinct = count_distinct_rows(scaled, cap=max(wanted, 2))

        self._components = None
        self.sample_indices_ = None
        if n_distinct == 1:
            labels, centers, warnings = self._fit_identical(scaled)
        elif self.algorithm in CENTROID_ALGORITHMS:
            labels, centers = self._fit_centroids(scaled, n_distinct, warnings)
        else:
            labels, centers = self._fit_density(scaled, warnings)

        self.labels_ = labels
        self.cluster_centers_ = centers
        self.n_clusters_ = int(centers.shape[0])
        members = labels != NOISE
        self.inertia_ = float(((scaled[members] - centers[labels[members]]) ** 2).sum())
        self.warnings_ = tuple(warnings)
        return self

    def _fit_identical(self, scaled: np.ndarray) -> tuple[np.ndarray, np.ndarray, list[str]]:
        """Labels, centre and the one warning when every customer has the same features: one cluster, no model."""
        n_samples = scaled.shape[0]
        if n_samples == 1:
            warnings = ["n_samples=1: a single customer makes 1 cluster."]
        else:
            warnings = [f"All n_samples={n_samples} customers have identical features: fitted 1 cluster."]
        self.model_ = None
        return np.zeros(n_samples, dtype=np.intp), scaled[:1].copy(), warnings

    def _fit_centroids(self, scaled: np.ndarray, n_distinct: int, warnings: list[str]) -> tuple[np.ndarray, np.ndarray]:
        """Labels and centres of K-Means or the mixture, with at most ``n_distinct`` clusters; ``warnings`` gains
        why there are fewer than ``n_clusters`` and whether the mixture converged."""
        n_samples = scaled.shape[0]
        n_fitted = min(self.n_clusters, n_distinct)
        if n_fitted < self.n_clusters:
            warnings.append(_too_few_customers(n_samples, n_distinct, self.n_clusters))
        self.model_ = self._make_model(n_fitted, n_samples).fit(scaled)
        labels, centers, dropped = self._centroid_labels(scaled)
        if dropped:
            kind = "mixture components" if self.algorithm == "gmm" else "clusters"
            holds = "holds no customer and was" if dropped == 1 else "hold no customer and were"
            warnings.append(f"{dropped} of the {n_fitted} {kind} {holds} dropped: fitted {n_fitted - dropped} clusters.")
        if self.algorithm == "gmm" and not self.model_.converged_:
            warnings.append(
                f"The Gaussian mixture did not converge in max_iter={self.model_.max_iter} iterations: "
                "its clusters may change with random_state."
            )
        return labels, centers

    def _fit_density(self, scaled: np.ndarray, warnings: list[str]) -> tuple[np.ndarray, np.ndarray]:
        """Labels of DBSCAN or HDBSCAN and the mean of each cluster as its centre; ``warnings`` gains a line
        when every customer is noise."""
        labels = self._density_labels(scaled)
        clusters = np.unique(labels[labels != NOISE])
        centers = np.array([scaled[labels == c].mean(axis=0) for c in clusters]).reshape(-1, scaled.shape[1])
        if clusters.size == 0:
            warnings.append(self._all_noise_warning(scaled.shape[0]))
        return labels, centers

    def _make_model(self, n_clusters: int, n_samples: int):
        from sklearn.cluster import DBSCAN, HDBSCAN, KMeans, MiniBatchKMeans
        from sklearn.mixture import GaussianMixture

        seed = self.random_state
        if self.algorithm == "kmeans":
            return KMeans(n_clusters=n_clusters, n_init=self.n_init, random_state=seed)
        if self.algorithm == "minibatch_kmeans":
            return MiniBatchKMeans(n_clusters=n_clusters, n_init=self.n_init, random_state=seed)
        if self.algorithm == "gmm":
            return GaussianMixture(
                n_components=n_clusters, covariance_type="full", n_init=self.n_init, random_state=seed
            )
        min_samples, min_cluster_size = self._density_sizes(n_samples)
        if self.algorithm == "dbscan":
            return DBSCAN(eps=self.eps, min_samples=min_samples)
        # HDBSCAN refuses min_samples above n_samples; capped, it finds no cluster (a cluster spanning every
        # point is not allowed), which is what DBSCAN reports for so few points too.
        return HDBSCAN(
            min_cluster_size=min(min_cluster_size or 2, n_samples), min_samples=min(min_samples, n_samples), copy=True
        )

    def _density_sizes(self, n_fitted: int) -> tuple[int, int | None]:
        """``(min_samples, min_cluster_size)`` in customers for a fit on ``n_fitted`` customers; the size is
        ``None`` for DBSCAN without a ``min_cluster_size``."""
        min_samples = _count(self.min_samples, n_fitted) or 1  # min_samples is never None (checked)
        size = _count(self.min_cluster_size, n_fitted)
        if size is None and self.algorithm == "hdbscan":
            size = max(min_samples, 2)
        return min_samples, size

    def _density_labels(self, scaled: np.ndarray) -> np.ndarray:
        """DBSCAN's or HDBSCAN's labels, fitted on every customer or on a sample (``max_fit_samples``).

        Sets ``model_`` and ``sample_indices_``. DBSCAN's clusters below ``min_cluster_size`` become noise and
        the remaining clusters are renumbered in order.
        """
        rows = self._fit_rows(scaled)
        fitted = scaled if rows is None else scaled[rows]
        self.sample_indices_ = rows
        self.model_ = self._make_model(self.n_clusters, fitted.shape[0]).fit(fitted)
        labels = np.asarray(self.model_.labels_, dtype=np.intp)
        if self.algorithm == "dbscan":
            smallest = self._density_sizes(fitted.shape[0])[1]
            if smallest is not None:
                labels = _without_small_clusters(labels, smallest)
        if rows is None:
            return labels
        return _nearest_sampled_labels(scaled, rows, labels)

    def _fit_rows(self, scaled: np.ndarray) -> np.ndarray | None:
        """Rows to fit a density method on: ``None`` for all, else a random ``max_fit_samples`` of them.

        Drawn among the rows sorted by value, and fitted in that order, so that shuffling the customers
        changes neither the sample's values nor the fit (equal rows are interchangeable).
        """
        n_samples = scaled.shape[0]
        if self.max_fit_samples is None or n_samples <= self.max_fit_samples:
            return None
        by_value = np.lexsort(scaled.T[::-1])
        picked = check_random_state(self.random_state).choice(n_samples, self.max_fit_samples, replace=False)
        return by_value[np.sort(picked)]

    def _centroid_labels(self, scaled: np.ndarray) -> tuple[np.ndarray, np.ndarray, int]:
        """Training labels of a centroid or mixture model, dropping clusters nobody falls in.

        Labels come from the same rule as ``predict``, so that ``predict(X) == labels_`` on the training data.
        """
        if self.algorithm == "gmm":
            self._components = np.arange(self.model_.n_components)
            centers = self.model_.means_
        else:
            centers = self.model_.cluster_centers_
        self.cluster_centers_ = centers
        raw = self._assign(scaled)
        used = np.unique(raw)
        dropped = centers.shape[0] - used.size
        if dropped:
            # Renumbering in order keeps the model's numbering for the clusters that remain; assigning among
            # the remaining centres changes no training label (no customer was nearest to a dropped one).
            if self._components is not None:
                self._components = self._components[used]
            self.cluster_centers_ = centers[used]
            raw = self._assign(scaled)
        return raw, self.cluster_centers_, int(dropped)

    def _all_noise_warning(self, n_samples: int) -> str:
        n_fitted = n_samples if self.sample_indices_ is None else len(self.sample_indices_)
        min_samples, size = self._density_sizes(n_fitted)
        if self.algorithm == "dbscan":
            setting = f"eps={self.eps} in the scaled space, min_samples={min_samples}"
            setting += "" if size is None else f", min_cluster_size={size}"
        else:
            setting = f"min_cluster_size={size}, min_samples={min_samples}"
        name = ALGORITHM_LABELS[self.algorithm]
        few = f" n_samples={n_samples} is below min_samples={min_samples}." if n_samples < min_samples else ""
        return f"Every customer is noise for {name} ({setting}): no cluster found.{few}"

    # --- using the fitted model -----------------------------------------------------------------

    def transform(self, X: pd.DataFrame | ArrayLike) -> np.ndarray:
        """The scaled features: the space the clusters live in.

        Parameters
        ----------
        X : DataFrame or array-like of shape (n_samples, n_features)
            Same kind of input as in ``fit``: a table with the fitted features (other columns are ignored)
            when fitted on a table, otherwise an array with ``n_features_in_`` columns.

        Returns
        -------
        ndarray of shape (n_samples, n_features_in_)
            Features after log1p (tables only) and scaling; columns in ``get_feature_names_out()`` order.
        """
        check_is_fitted(self)
        return self.scaler_.transform(self._validated_features(X, reset=False))

    def predict(self, X: pd.DataFrame | ArrayLike) -> np.ndarray:
        """The cluster of each customer.

        Parameters
        ----------
        X : DataFrame or array-like of shape (n_samples, n_features)
            As for ``transform``.

        Returns
        -------
        ndarray of int, shape (n_samples,)
            Nearest centre (K-Means, DBSCAN, HDBSCAN) or most probable component (Gaussian mixture), in
            ``0 .. n_clusters_ - 1``; ``-1`` for every point only if training found no cluster.
        """
        check_is_fitted(self)
        return self._assign(self.transform(X))

    def distances(self, X: pd.DataFrame | ArrayLike) -> np.ndarray:
        """Euclidean distance of each customer to each cluster centre, in the scaled space.

        Parameters
        ----------
        X : DataFrame or array-like of shape (n_samples, n_features)
            As for ``transform``.

        Returns
        -------
        ndarray of shape (n_samples, n_clusters_)
        """
        check_is_fitted(self)
        return np.sqrt(squared_distances(self.transform(X), self.cluster_centers_))

    def _assign(self, scaled: np.ndarray) -> np.ndarray:
        return assign(scaled, self.cluster_centers_, self.mixture_parameters())

    def mixture_parameters(self) -> tuple[np.ndarray, np.ndarray] | None:
        """``(weights, precisions_cholesky)`` of the mixture components that hold customers (their means are
        ``cluster_centers_``); ``None`` for the other algorithms, which place points at the nearest centre."""
        if getattr(self, "_components", None) is None:
            return None
        return self.model_.weights_[self._components], self.model_.precisions_cholesky_[self._components]

    # --- input checks -----------------------------------------------------------------------------

    def _check_params(self) -> None:
        problems = []
        if not is_int(self.n_clusters) or self.n_clusters < 1:
            problems.append(f"n_clusters={self.n_clusters!r} should be an integer >= 1.")
        if self.algorithm not in ESTIMATOR_ALGORITHMS:
            problems.append(f"algorithm={self.algorithm!r} should be one of {', '.join(map(repr, ESTIMATOR_ALGORITHMS))}.")
        if not is_int(self.n_init) or self.n_init < 1:
            problems.append(f"n_init={self.n_init!r} should be an integer >= 1.")
        if not (is_int(self.min_samples) and self.min_samples >= 1) and not _is_share(self.min_samples):
            problems.append(f"min_samples={self.min_samples!r} should be an integer >= 1 or a share in (0, 1).")
        size = self.min_cluster_size
        if size is not None and not (is_int(size) and size >= 2) and not _is_share(size):
            problems.append(f"min_cluster_size={size!r} should be an integer >= 2, a share in (0, 1) or None.")
        if self.max_fit_samples is not None and not (is_int(self.max_fit_samples) and self.max_fit_samples >= 2):
            problems.append(f"max_fit_samples={self.max_fit_samples!r} should be an integer >= 2 or None.")
        if not isinstance(self.eps, numbers.Real) or isinstance(self.eps, bool) or not 0 < float(self.eps) < np.inf:
            problems.append(f"eps={self.eps!r} should be a number > 0.")
        for name in ("features", "log_features"):
            value = getattr(self, name)
            if not isinstance(value, (list, tuple, np.ndarray, pd.Index)):
                problems.append(f"{name} should be a list of column names; got {value!r}.")
        try:
            check_random_state(self.random_state)
        except ValueError:
            problems.append(f"random_state={self.random_state!r} should be an integer, a RandomState or None.")
        if not problems:
            features = list(self.features)
            repeated = sorted({f for f in features if features.count(f) > 1})
            if repeated:
                problems.append(f"features lists {repeated} more than once.")
            try:
                check_features(tuple(features), tuple(self.log_features), self.scaler)
            except RFMInputError as error:
                problems.append(str(error))
        if problems:
            raise RFMInputError(" ".join(problems))

    def _validated_features(self, X, *, reset: bool) -> np.ndarray:
        """The float matrix to scale: chosen columns with their logs for a table, all columns for an array."""
        on_table = isinstance(X, pd.DataFrame) if reset else hasattr(self, "feature_names_in_")
        if on_table:
            if not isinstance(X, pd.DataFrame):
                raise RFMInputError(
                    f"This model was fitted on a customer table: pass a DataFrame with the columns "
                    f"{list(self.feature_names_in_)}, not a {type(X).__name__}."
                )
            features = tuple(self.features) if reset else tuple(self.feature_names_in_)
            logs = tuple(self.log_features) if reset else self._log_features
            _check_table(X, features)
            X = feature_frame(X, features, logs)
            if reset:
                self._log_features = logs
        try:
            matrix = validate_data(self, X, dtype=np.float64, reset=reset, ensure_all_finite=False)
        except ValueError as error:
            raise RFMInputError(str(error)) from error
        if not on_table:
            check_finite(matrix)
        return matrix

    def _feature_warnings(self, features: np.ndarray) -> list[str]:
        names = self._feature_labels()
        if features.shape[0] < 2:
            return []
        constant = np.ptp(features, axis=0) == 0
        warnings = [
            f"Feature {name} has the same value for every customer: it carries no information."
            for name, flat in zip(names, constant)
            if flat
        ]
        if self.scaler == "robust":
            q1, q3 = np.percentile(features, [25, 75], axis=0)
            warnings += [
                f"Feature {name} has an interquartile range of 0 (most customers share one value): "
                "the robust scaler leaves it unscaled."
                for name, flat, no_spread in zip(names, constant, q3 == q1)
                if no_spread and not flat
            ]
        return warnings

    def _feature_labels(self) -> list[str]:
        if hasattr(self, "feature_names_in_"):  # as the pages name them ("Recency (days)"), not the column
            return [schema.RFM_LABELS.get(str(name), repr(str(name))) for name in self.feature_names_in_]
        return [f"column {i}" for i in range(self.n_features_in_)]


# --- helpers of the estimator ---------------------------------------------------------------------


def _is_share(value) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, (bool, numbers.Integral)) and 0 < float(value) < 1


def _count(value, n_fitted: int) -> int | None:
    """A number of customers: an int as it is, a share of ``n_fitted`` rounded up (at least 2), or None."""
    if value is None or is_int(value):
        return value if value is None else int(value)
    # The tolerance keeps 5 / 300 * 300 at 5 rather than rounding a float error up to 6.
    return max(2, math.ceil(value * n_fitted - 1e-9))


def _without_small_clusters(labels: np.ndarray, smallest: int) -> np.ndarray:
    """Clusters with fewer than ``smallest`` members become noise; the others are renumbered 0, 1, ... in order."""
    clusters, sizes = np.unique(labels[labels != NOISE], return_counts=True)
    kept = clusters[sizes >= smallest]
    if kept.size == clusters.size:
        return labels
    renumbered = np.full(int(labels.max()) + 1, NOISE, dtype=np.intp)
    renumbered[kept] = np.arange(kept.size)
    out = np.full_like(labels, NOISE)
    members = labels != NOISE
    out[members] = renumbered[labels[members]]
    return out


def _nearest_sampled_labels(scaled: np.ndarray, rows: np.ndarray, sample_labels: np.ndarray) -> np.ndarray:
    """Labels of every row: the sample's own, and for the others the label of the nearest sampled row."""
    from sklearn.neighbors import NearestNeighbors

    labels = np.empty(scaled.shape[0], dtype=np.intp)
    labels[rows] = sample_labels
    others = np.ones(scaled.shape[0], dtype=bool)
    others[rows] = False
    if others.any():
        nearest = NearestNeighbors(n_neighbors=1).fit(scaled[rows]).kneighbors(scaled[others], return_distance=False)
        labels[others] = sample_labels[nearest[:, 0]]
    return labels


def _check_table(table: pd.DataFrame, features: tuple[str, ...]) -> None:
    """Every problem with the table's feature columns in one :class:`RFMInputError`: missing or
    non-numeric columns, missing or infinite values (count and first customer), or no customer at all."""
    missing = [f for f in features if f not in table.columns]
    if missing:
        raise RFMInputError(f"The customer table has no column {missing}; it has {list(table.columns)}.")
    if len(table) == 0:
        raise RFMInputError("The customer table is empty: n_samples=0, nothing to cluster.")
    problems = []
    for feature in features:
        column = table[feature]
        if isinstance(column, pd.DataFrame):
            problems.append(f"Column {feature!r} appears {column.shape[1]} times in the customer table.")
            continue
        if not pd.api.types.is_numeric_dtype(column):
            numbers_ = pd.to_numeric(column, errors="coerce")
            bad = column[numbers_.isna() & column.notna()]
            example = f", e.g. {bad.iloc[0]!r} for customer {bad.index[0]!r}" if len(bad) else ""
            problems.append(f"Column {feature!r} is not numeric (dtype {column.dtype}){example}.")
            continue
        values = column.to_numpy(dtype="float64", na_value=np.nan)
        bad = ~np.isfinite(values)
        if bad.any():
            first = int(np.flatnonzero(bad)[0])
            problems.append(
                f"Column {feature!r} has {int(bad.sum())} missing (NaN) or infinite value(s), "
                f"first for customer {table.index[first]!r}: {values[first]}."
            )
    if problems:
        raise RFMInputError(" ".join(problems) + " Every customer needs a finite number in each feature.")


def _too_few_customers(n_samples: int, n_distinct: int, n_clusters: int) -> str:
    if n_samples < n_clusters:
        repeated = f" and only {n_distinct} customers are distinct" if n_distinct < n_samples else ""
        return f"n_samples={n_samples} is below n_clusters={n_clusters}{repeated}: fitted {n_distinct} clusters."
    return (
        f"Only {n_distinct} distinct customers among n_samples={n_samples} for n_clusters={n_clusters}: "
        f"fitted {n_distinct} clusters."
    )


# --- comparing algorithms -------------------------------------------------------------------------


def stratified_sample_indices(labels: ArrayLike, size: int, random_state: RandomState = None) -> np.ndarray:
    """Positions of a sample of about ``size`` points that keeps every cluster represented.

    Each distinct label is a stratum. A stratum with at least 2 members keeps at least 2 (one with a single
    member keeps it); the rest of the sample is shared among strata in proportion to their remaining
    members (largest remainders), so the total is exactly ``size`` -- more only when there are more than
    ``size / 2`` strata.

    Parameters
    ----------
    labels : array-like of shape (n_samples,)
        Cluster label of each point (any hashable values; ``-1`` is a stratum like any other).
    size : int
        Wanted sample size, >= 1. At or above ``n_samples`` every position is returned.
    random_state : int, RandomState instance or None, default=None
        Seed of the draw within each stratum.

    Returns
    -------
    ndarray of int, shape (n_sampled,)
        Sorted positions into ``labels``.

    Examples
    --------
    >>> import numpy as np
    >>> labels = np.array([0] * 19_996 + [1] * 4)
    >>> sample = stratified_sample_indices(labels, 1_000, random_state=0)
    >>> len(sample), int((labels[sample] == 1).sum())
    (1000, 2)
    """
    labels = np.asarray(labels)
    if labels.ndim != 1:
        raise RFMInputError(f"labels should be one-dimensional; got shape {labels.shape}.")
    if not is_int(size) or size < 1:
        raise RFMInputError(f"size={size!r} should be an integer >= 1.")
    n_samples = labels.shape[0]
    if size >= n_samples:
        return np.arange(n_samples)
    _, inverse, counts = np.unique(labels, return_inverse=True, return_counts=True)
    floors = np.minimum(counts, 2)
    quota = floors + _largest_remainders(max(size - int(floors.sum()), 0), counts - floors)
    rng = check_random_state(random_state)
    members = np.split(np.argsort(inverse, kind="stable"), np.cumsum(counts)[:-1])
    picked = [rng.choice(stratum, take, replace=False) for stratum, take in zip(members, quota) if take]
    return np.sort(np.concatenate(picked))


def _largest_remainders(total: int, capacities: np.ndarray) -> np.ndarray:
    """Split ``total`` (<= sum of capacities) proportionally to ``capacities``; integer shares, each capped."""
    if total == 0 or capacities.sum() == 0:
        return np.zeros_like(capacities)
    quotas = total * capacities / capacities.sum()
    shares = np.minimum(np.floor(quotas).astype(capacities.dtype), capacities)
    for j in np.argsort(-(quotas - shares), kind="stable"):
        if shares.sum() >= total:
            break
        if shares[j] < capacities[j]:
            shares[j] += 1
    return shares


#: Customers the comparison's silhouette is computed on, at most (stratified by cluster above it). Silhouette is
#: quadratic in the customers: on CDNOW's 23,502 this sample was many times faster than 10,000 and moved the
#: silhouette by 0.001 (bench/RESULTS.md).
COMPARISON_SILHOUETTE_SAMPLE = 3_000

#: ``progress(done, total, algorithm)``: called after each algorithm of a comparison is fitted and scored.
Progress = Callable[[int, int, str], None]


def compare_algorithms(
    table: pd.DataFrame | ArrayLike, n_clusters: int, *, features: Sequence[str] = DEFAULT_FEATURES,
    log_features: Sequence[str] = DEFAULT_LOG_FEATURES, scaler: str = "standard", random_state: RandomState = 42,
    algorithms: Sequence[str] = ("kmeans", "gmm", "dbscan", "hdbscan"), sample_size: int = COMPARISON_SILHOUETTE_SAMPLE,
    eps: float = 0.5, min_samples: int | float = 5, min_cluster_size: int | float | None = None,
    max_fit_samples: int | None = None, n_init: int = 10, progress: Progress | None = None,
) -> pd.DataFrame:
    """Fit each algorithm on the same scaled features and score the partitions side by side.

    :func:`rfm.clustering.fit.compare_clusters` is the same comparison on the very fits the app shows.

    Parameters
    ----------
    table : DataFrame of shape (n_customers, n_columns)
        The RFM table, indexed by customer id (a plain array works too, as in :meth:`RFMClusterer.fit`).
    n_clusters : int
        Clusters for K-Means, mini-batch K-Means and the Gaussian mixture (the density methods find their own).
    features, log_features, scaler, random_state, eps, min_samples, min_cluster_size, max_fit_samples, n_init
        As in :class:`RFMClusterer`. ``eps`` (DBSCAN's radius) is measured in the scaled space.
    algorithms : sequence of str, default=("kmeans", "gmm", "dbscan", "hdbscan")
        Among ``ESTIMATOR_ALGORITHMS``, each at most once.
    sample_size : int, default=COMPARISON_SILHOUETTE_SAMPLE
        Silhouette (quadratic in the number of customers) is exact up to this many non-noise customers, above
        it computed on :func:`stratified_sample_indices` of that size (every cluster kept); the others always exact.
    progress : callable(done, total, algorithm), optional
        Called after each algorithm is fitted and scored, e.g. to move a progress bar.

    Returns
    -------
    DataFrame indexed by ``algorithm`` (one row per algorithm, in the order given) with columns
        ``clusters`` (int, noise excluded), ``noise_share`` (share of customers labelled -1), ``silhouette``
        (higher is better, -1..1), ``calinski_harabasz`` (higher is better), ``davies_bouldin`` (lower is
        better), ``seconds`` (fit time) and ``note`` (why a metric is missing, the samples used, the fit's
        warnings; "" when there is nothing to say). The metrics are the k-sweep's, on the non-noise customers
        in the scaled space; NaN when undefined (fewer than 2 clusters, or as many clusters as customers).

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> rng = np.random.default_rng(0)
    >>> table = pd.DataFrame({"recency_days": np.r_[rng.normal(10, 2, 50), rng.normal(300, 20, 50)],
    ...                       "frequency": np.r_[rng.integers(8, 12, 50), rng.integers(1, 3, 50)],
    ...                       "monetary": np.r_[rng.normal(900, 50, 50), rng.normal(40, 5, 50)]})
    >>> result = compare_algorithms(table, 2, algorithms=("kmeans", "gmm"))
    >>> list(result.index), int(result.loc["kmeans", "clusters"])
    (['kmeans', 'gmm'], 2)
    """
    algorithms = check_algorithms(algorithms)
    check_sample_size(sample_size)
    params = dict(
        features=features, log_features=log_features, scaler=scaler, n_init=n_init, random_state=random_state,
        eps=eps, min_samples=min_samples, min_cluster_size=min_cluster_size, max_fit_samples=max_fit_samples,
    )
    rows = {}
    for done, algorithm in enumerate(algorithms, start=1):
        estimator = RFMClusterer(n_clusters, algorithm=algorithm, **params)
        rows[algorithm] = _fitted_row(estimator, table, sample_size, random_state)
        if progress is not None:
            progress(done, len(algorithms), algorithm)
    return comparison_frame(rows)


def _fitted_row(
    estimator: RFMClusterer, table: pd.DataFrame | ArrayLike, sample_size: int, random_state: RandomState
) -> dict:
    """Fit ``estimator`` on ``table`` on one thread, timed, and give its :func:`comparison_row`."""
    from rfm.clustering.threads import limit_threads

    started = time.perf_counter()
    with limit_threads(1):  # one thread: two fight each other on a busy 2-core machine
        estimator.fit(table)
    seconds = time.perf_counter() - started
    return comparison_row(estimator, table, seconds=seconds, sample_size=sample_size, random_state=random_state)


def check_algorithms(algorithms: Sequence[str]) -> tuple[str, ...]:
    """``algorithms`` as a tuple, or :class:`RFMInputError` unless they are distinct choices among ``ESTIMATOR_ALGORITHMS``."""
    algorithms = tuple(algorithms)
    unknown = [a for a in algorithms if a not in ESTIMATOR_ALGORITHMS]
    repeated = sorted({a for a in algorithms if algorithms.count(a) > 1})
    if not algorithms or unknown or repeated:
        raise RFMInputError(
            f"algorithms should be distinct choices among {list(ESTIMATOR_ALGORITHMS)}; got {list(algorithms)}."
        )
    return algorithms


def check_sample_size(sample_size: int) -> None:
    """Raise :class:`RFMInputError` unless ``sample_size`` is an integer >= 2."""
    if not is_int(sample_size) or sample_size < 2:
        raise RFMInputError(f"sample_size={sample_size!r} should be an integer >= 2.")


def comparison_row(
    estimator: RFMClusterer, table: pd.DataFrame | ArrayLike, *, seconds: float, sample_size: int = COMPARISON_SILHOUETTE_SAMPLE,
    random_state: RandomState = 42, notes: Sequence[str] = (),
) -> dict:
    """One row of a comparison (the columns of ``COMPARISON_COLUMNS``) for an estimator fitted on ``table``.

    ``notes`` come first in the row's note, before the metrics' own and the estimator's warnings.
    """
    scores, metric_notes = _partition_scores(estimator.transform(table), estimator.labels_, sample_size, random_state)
    return {
        "clusters": estimator.n_clusters_,
        "noise_share": float(np.mean(estimator.labels_ == NOISE)),
        **scores,
        "seconds": seconds,
        "note": "; ".join([*notes, *metric_notes, *estimator.warnings_]),
    }


def comparison_frame(rows: dict[str, dict]) -> pd.DataFrame:
    """Rows of :func:`comparison_row` keyed by algorithm, as the comparison's table."""
    index = pd.Index(list(rows), name="algorithm")
    return pd.DataFrame(list(rows.values()), index=index, columns=list(COMPARISON_COLUMNS))


def _partition_scores(scaled: np.ndarray, labels: np.ndarray, sample_size: int, random_state):
    """Silhouette, Calinski-Harabasz and Davies-Bouldin on the non-noise points, and notes on how.

    The metrics are the k-sweep's (:func:`rfm.clustering.sweep.silhouette_scores` and
    :func:`~rfm.clustering.sweep.calinski_davies`), so that a comparison and a sweep score a partition alike:
    scikit-learn's values up to rounding (the tests check both against ``sklearn.metrics``), computed faster.
    """
    from rfm.clustering.sweep import calinski_davies, silhouette_scores
    from rfm.clustering.threads import limit_threads

    undefined = dict(silhouette=np.nan, calinski_harabasz=np.nan, davies_bouldin=np.nan)
    kept = labels != NOISE
    points, labels = scaled[kept], labels[kept]
    n_clusters = np.unique(labels).size
    if n_clusters == 0:
        return undefined, ["all points are noise: metrics undefined"]
    if n_clusters == 1:
        return undefined, ["1 cluster: metrics undefined"]
    if n_clusters >= len(labels):
        return undefined, [f"{n_clusters} clusters for {len(labels)} customers: metrics undefined"]
    notes = []
    sample = np.arange(len(labels))
    if len(labels) > sample_size:
        sample = stratified_sample_indices(labels, sample_size, random_state)
        notes.append(f"silhouette on a stratified sample of {len(sample):,} of {len(labels):,} customers")
    with limit_threads(1):  # as for the fits: two threads fight each other on a busy 2-core machine
        # Labels of the kept points are the cluster numbers 0..n_clusters-1, as silhouette_scores wants them.
        silhouette = silhouette_scores(points[sample], [labels[sample]])[0]
        calinski, davies = calinski_davies(points, labels)
    return dict(silhouette=silhouette, calinski_harabasz=calinski, davies_bouldin=davies), notes
