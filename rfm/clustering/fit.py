"""Clustering customers in one call: the k-sweep, the fit, names, profiles, projection and crosstab.

:class:`ClusterSettings` says what to cluster on and how; :func:`clusterer_params` is the one place that turns
those settings and the number of customers into an estimator's parameters, so that :func:`fit_clusters`, the
side-by-side :func:`compare_clusters` and the command line fit exactly the same model.
"""

from __future__ import annotations

import math
import numbers
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd

from rfm.clustering.estimator import (
    COMPARISON_SILHOUETTE_SAMPLE,
    Progress,
    RFMClusterer,
    check_algorithms,
    comparison_frame,
    comparison_row,
)
from rfm.clustering.features import DEFAULT_FEATURES, DEFAULT_LOG_FEATURES, check_features, feature_frame, make_scaler
from rfm.clustering.profiles import (
    ACTIONS,
    PCAProjection,
    cluster_profiles,
    name_clusters,
    pca_projection,
    segment_crosstab,
)
from rfm.clustering.sweep import DEFAULT_K_MAX, DEFAULT_K_MIN, SweepResult, sweep_k
from rfm.errors import RFMInputError
from rfm.schema import (
    ALGORITHM_LABELS,
    ALGORITHMS,
    CENTROID_ALGORITHMS,
    CLUSTER,
    CLUSTER_ACTION,
    CLUSTER_NAME,
    DENSITY_ALGORITHMS,
    NOISE,
    NOISE_NAME,
    SEGMENT,
    TIER,
    Scaler,
)
from rfm.scoring.tiers import ELITE_VIP, HIGH_SPENDER, POWER_SHOPPER, REGULAR, TIER_GROUP_LABELS
from rfm.shared.numeric import is_int

#: The most clusters a fit may hand on to be named, profiled, exported and saved: the largest k the app and the
#: command line offer. Saved models allow up to ``rfm.bundle.validate.MAX_CLUSTERS`` (64); a density method that finds
#: more than this raises :class:`TooManyClustersError` rather than build a model nobody can read.
MAX_CLUSTERS = 15
#: DBSCAN and HDBSCAN are fitted on a random sample of at most this many customers; the others take the label
#: of their nearest sampled customer. With the default settings HDBSCAN found the same three clusters on a
#: sample this size as on all 23,502 CDNOW customers, noise 11.6% against 11.9%, in a small fraction of the
#: time (bench/RESULTS.md).
DENSITY_SAMPLE_MAX = 6_000
#: The Gaussian mixture runs at most this many customers x initialisations (at least one initialisation):
#: the 10 initialisations of the settings up to 6,000 customers, 2 on CDNOW's 23,502 (the same fit, several
#: times faster: bench/RESULTS.md).
GMM_INIT_BUDGET = 60_000
#: A density cluster holds at least this many customers, whatever the share (a 1% cluster of 300 is 3).
MIN_CLUSTER_CUSTOMERS = 5
MIN_CLUSTER_SHARE_RANGE = (0.001, 0.5)

_TIER_ACTIONS = {
    ELITE_VIP: "Treat personally: an account manager, exclusive previews, no discount needed.",
    HIGH_SPENDER: "Offer premium lines and bundles; protect the relationship.",
    POWER_SHOPPER: "Reward frequency: subscriptions, loyalty points, bulk offers.",
}


@dataclass(frozen=True)
class ClusterSettings:
    """What to cluster on and how; frozen so it can key a cache.

    ``exclude_outliers`` leaves the outlier tiers out of the fit; ``outliers_as`` then says whether they
    join their nearest cluster (``"nearest"``) or stay as their own tier groups (``"own_tier"``).

    The density methods (DBSCAN, HDBSCAN) read two more: ``min_cluster_share``, the smallest cluster as a
    share of the fitted customers (0.001 to 0.5; also the neighbours a core customer needs), and ``eps``,
    DBSCAN's radius in the scaled space. :func:`clusterer_params` turns them into the estimator's parameters.
    """

    features: tuple[str, ...] = DEFAULT_FEATURES
    log_features: tuple[str, ...] = DEFAULT_LOG_FEATURES
    scaler: Scaler = "standard"
    exclude_outliers: bool = False
    outliers_as: Literal["nearest", "own_tier"] = "nearest"
    k_min: int = DEFAULT_K_MIN
    k_max: int = DEFAULT_K_MAX
    random_state: int = 42
    n_init: int = 10
    min_cluster_share: float = 0.01
    eps: float = 0.5


def check_cluster_settings(settings: ClusterSettings) -> None:
    """Raise one :class:`RFMInputError` naming every density setting out of range."""
    low, high = MIN_CLUSTER_SHARE_RANGE
    share, eps = settings.min_cluster_share, settings.eps
    problems = []
    if not _is_number(share) or not low <= share <= high:
        problems.append(
            f"min_cluster_share={share!r} should be a share of customers from {low:g} to {high:g} (0.01 is 1%)."
        )
    if not _is_number(eps) or not 0 < eps < math.inf:
        problems.append(f"eps={eps!r} should be a number > 0 (a distance in the scaled space).")
    if problems:
        raise RFMInputError(" ".join(problems))


def _is_number(value) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, bool) and math.isfinite(value)


def smallest_cluster(settings: ClusterSettings, n_customers: int) -> int:
    """Customers in the smallest cluster the density methods keep, among ``n_customers`` fitted customers."""
    return max(MIN_CLUSTER_CUSTOMERS, math.ceil(settings.min_cluster_share * n_customers - 1e-9))


def clusterer_params(settings: ClusterSettings, k: int, algorithm: str, n_customers: int) -> dict:
    """The :class:`~rfm.clustering.estimator.RFMClusterer` parameters that fit ``algorithm`` on ``n_customers`` customers.

    The one place settings become an estimator: :func:`fit_clusters` (hence the app's fit and the command
    line) and :func:`compare_clusters` all build theirs here.

    * K-Means: ``n_clusters=k`` and the settings' ``n_init``.
    * Gaussian mixture: ``n_init`` lowered so that customers x initialisations stay within ``GMM_INIT_BUDGET``.
    * DBSCAN and HDBSCAN: the smallest cluster is ``min_cluster_share`` of the fitted customers (at least
      ``MIN_CLUSTER_CUSTOMERS``), and a core customer needs as many neighbours (HDBSCAN's own default,
      ``min_samples = min_cluster_size``; for DBSCAN, within ``eps``). Both are passed as shares, so that the
      fit on a sample of ``DENSITY_SAMPLE_MAX`` customers looks for the same density as on everyone.

    Parameters
    ----------
    settings : ClusterSettings
    k : int
        Clusters asked for (the density methods find their own number).
    algorithm : {"kmeans", "gmm", "dbscan", "hdbscan"}
    n_customers : int
        Customers the estimator will be fitted on (the fit population).

    Returns
    -------
    dict of keyword arguments for ``RFMClusterer``.

    Examples
    --------
    >>> params = clusterer_params(ClusterSettings(), 4, "hdbscan", 23_502)
    >>> params["min_cluster_size"], params["max_fit_samples"]
    (0.01, 6000)
    >>> clusterer_params(ClusterSettings(), 4, "hdbscan", 300)["min_cluster_size"]  # 5 of 300, not 3
    0.016666666666666666
    >>> clusterer_params(ClusterSettings(), 4, "gmm", 23_502)["n_init"]
    2
    """
    check_cluster_settings(settings)
    density: float  # a count of customers, or a share of them
    if n_customers <= MIN_CLUSTER_CUSTOMERS:
        density = MIN_CLUSTER_CUSTOMERS  # as a count: too few customers for a cluster, every one is noise
    elif settings.min_cluster_share * n_customers < MIN_CLUSTER_CUSTOMERS:
        density = MIN_CLUSTER_CUSTOMERS / n_customers  # the floor, as a share (never sampled: n < 5,000)
    else:
        density = settings.min_cluster_share
    n_init = settings.n_init
    if algorithm == "gmm":
        n_init = max(1, min(n_init, GMM_INIT_BUDGET // max(n_customers, 1)))
    return dict(
        n_clusters=k,
        algorithm=algorithm,
        features=settings.features,
        log_features=settings.log_features,
        scaler=settings.scaler,
        n_init=n_init,
        random_state=settings.random_state,
        eps=settings.eps,
        min_samples=density,
        min_cluster_size=density,
        max_fit_samples=DENSITY_SAMPLE_MAX,
    )


class TooManyClustersError(RFMInputError):
    """A fit found more clusters than can be named and saved (``MAX_CLUSTERS``).

    Carries what was found, so that a comparison can still show the row: ``algorithm``, ``n_clusters``,
    ``noise_share`` and ``seconds``.
    """

    def __init__(
        self, message: str, *, algorithm: str = "", n_clusters: int = 0, noise_share: float = math.nan,
        seconds: float = math.nan,
    ):  # defaults: an unpickled copy (rebuilt from the message alone) still constructs
        super().__init__(message)
        self.algorithm, self.n_clusters, self.noise_share, self.seconds = algorithm, n_clusters, noise_share, seconds


def check_cluster_count(estimator: RFMClusterer, settings: ClusterSettings, seconds: float = math.nan) -> None:
    """Raise :class:`TooManyClustersError` when a fitted estimator found more than ``MAX_CLUSTERS`` clusters.

    Why an error and not the largest clusters kept with the rest marked noise: the clusters beyond the cap are
    dense groups, not outliers, and a "Noise" list holding thousands of coherent customers would tell a marketer
    to review them one by one. The fix is one setting away, and the message names it with its current value.
    """
    found = estimator.n_clusters_
    if found <= MAX_CLUSTERS:
        return
    n_customers = len(estimator.labels_)
    sampled = estimator.sample_indices_
    fitted_on = "" if sampled is None else f" (fitted on a sample of {len(sampled):,})"
    smallest = f"{settings.min_cluster_share * 100:g}% of customers, {smallest_cluster(settings, n_customers):,}"
    wider = f", widen eps (now {settings.eps:g})" if estimator.algorithm == "dbscan" else ""
    raise TooManyClustersError(
        f"{ALGORITHM_LABELS[estimator.algorithm]} found {found:,} clusters among {n_customers:,} customers{fitted_on}; "
        f"at most {MAX_CLUSTERS} can be named and saved. Raise the smallest cluster size (now {smallest}){wider} "
        "or use K-Means.",
        algorithm=estimator.algorithm,
        n_clusters=found,
        noise_share=float(np.mean(estimator.labels_ == NOISE)),
        seconds=seconds,
    )


def fit_population(customers: pd.DataFrame, settings: ClusterSettings) -> pd.Series:
    """True for the customers the clusters are fitted on (all, or the regular ones)."""
    if settings.exclude_outliers and TIER in customers.columns:
        regular = customers[TIER] == REGULAR
        if regular.sum() >= 2:
            return regular
    return pd.Series(True, index=customers.index)


def scaled_features(customers: pd.DataFrame, settings: ClusterSettings) -> np.ndarray:
    """The scaled feature matrix of the fitted population, as the sweep sees it."""
    check_features(settings.features, settings.log_features, settings.scaler)
    population = customers[fit_population(customers, settings)]
    frame = feature_frame(population, settings.features, settings.log_features)
    return make_scaler(settings.scaler).fit_transform(frame.to_numpy())


def run_sweep(customers: pd.DataFrame, settings: ClusterSettings) -> SweepResult:
    """Elbow, silhouette, Calinski–Harabasz, Davies–Bouldin and stability for k in the settings' range.

    Parameters
    ----------
    customers : DataFrame
        The RFM table (with a ``tier`` column when outliers may be excluded), indexed by customer id.
    """
    return sweep_k(
        scaled_features(customers, settings),
        k_min=settings.k_min,
        k_max=settings.k_max,
        random_state=settings.random_state,
        n_init=settings.n_init,
    )


@dataclass(frozen=True, eq=False)
class ClusterResult:
    """A fitted clustering and everything shown about it (compared by identity: it holds arrays)."""

    customers: pd.DataFrame  # input columns + cluster (int; -1 noise, -2..-4 tier groups), cluster_name, cluster_action
    names: pd.DataFrame  # per cluster label: name, action
    profiles: pd.DataFrame  # cluster_profiles, indexed by cluster name
    estimator: RFMClusterer
    projection: PCAProjection
    crosstab_counts: pd.DataFrame
    crosstab_shares: pd.DataFrame
    algorithm: str
    k: int
    warnings: tuple[str, ...]
    notes: tuple[str, ...] = ()  # how the fit was made (a sample, fewer initialisations): captions, not warnings
    seconds: float = math.nan  # wall time of the estimator's fit

    @property
    def centers(self) -> np.ndarray:
        return self.estimator.cluster_centers_

    @property
    def feature_names(self) -> list[str]:
        return list(self.estimator.features)

    def profiles_with_actions(self) -> pd.DataFrame:
        """The profiles with each cluster's recommended action as a last column."""
        return self.profiles.join(self.names.set_index("name")["action"], how="left")

    def method(self) -> str:
        """How the clusters were found, in words: "K-Means with k = 4", "HDBSCAN, which found 3 clusters"."""
        label, found = ALGORITHMS.get(self.algorithm, self.algorithm), self.estimator.n_clusters_
        if self.algorithm in DENSITY_ALGORITHMS:
            return f"{label}, which found {found} cluster{'' if found == 1 else 's'}"
        return f"{label} with k = {self.k}" + (f" ({found} fitted)" if found != self.k else "")

    def center_names(self) -> list[str]:
        """Names of the estimator's centres, in the order of ``centers``."""
        return [self.names.loc[label, "name"] for label in range(len(self.centers))]


def fit_clusters(
    customers: pd.DataFrame,
    settings: ClusterSettings,
    k: int,
    algorithm: str = "kmeans",
    renames: tuple[tuple[int, str, str], ...] = (),
) -> ClusterResult:
    """Fit the clusters, name and profile them, and place every customer.

    Parameters
    ----------
    customers : DataFrame
        The classic segmentation's customers (RFM columns, ``segment`` and ``tier``), indexed by id.
    settings : ClusterSettings
    k : int
        Number of clusters (K-Means, Gaussian mixture), at most ``MAX_CLUSTERS``; density methods find their own.
    algorithm : {"kmeans", "gmm", "dbscan", "hdbscan"}
    renames : tuple of (cluster label, name, action)
        The user's names and actions, replacing the automatic ones.

    Returns
    -------
    ClusterResult
        ``customers`` gains ``cluster``, ``cluster_name`` and ``cluster_action``; ``notes`` say when the fit
        ran on a sample (density methods on more than ``DENSITY_SAMPLE_MAX`` customers) or with fewer
        initialisations (the mixture on many customers).

    Raises
    ------
    TooManyClustersError
        When a density method finds more than ``MAX_CLUSTERS`` clusters (an :class:`RFMInputError` saying
        what was found and which setting to raise).
    RFMInputError
        For ``k`` above ``MAX_CLUSTERS`` or a setting out of range.
    """
    from rfm.clustering.threads import limit_threads

    if algorithm in CENTROID_ALGORITHMS and is_int(k) and k > MAX_CLUSTERS:
        raise RFMInputError(f"k={k} is more clusters than can be named and saved: choose k from 1 to {MAX_CLUSTERS}.")
    population = fit_population(customers, settings)
    n_fitted = int(population.sum())
    estimator = RFMClusterer(**clusterer_params(settings, k, algorithm, n_fitted))
    with limit_threads(1):  # one thread: two fight each other on a busy 2-core machine
        started = time.perf_counter()
        estimator.fit(customers[population])
        seconds = time.perf_counter() - started
        check_cluster_count(estimator, settings, seconds)
        return _named_clusters(customers, settings, k, algorithm, renames, population, estimator, seconds)


def fit_notes(estimator: RFMClusterer, settings: ClusterSettings) -> tuple[str, ...]:
    """How a fit was made, when not plainly on every customer with the settings' initialisations."""
    notes = []
    name = ALGORITHM_LABELS[estimator.algorithm]
    n_customers = len(estimator.labels_)
    if estimator.sample_indices_ is not None:
        notes.append(
            f"{name} was fitted on a random sample of {len(estimator.sample_indices_):,} of {n_customers:,} customers "
            f"(at most {DENSITY_SAMPLE_MAX:,}, for speed); every other customer took the cluster, or noise, of its "
            "nearest sampled customer."
        )
    if estimator.algorithm == "gmm" and estimator.n_init < settings.n_init:
        notes.append(
            f"The Gaussian mixture ran {estimator.n_init} initialisation{'s' if estimator.n_init > 1 else ''} "
            f"instead of {settings.n_init} on {n_customers:,} customers, for speed."
        )
    return tuple(notes)


def _named_clusters(customers, settings, k, algorithm, renames, population, estimator, seconds) -> ClusterResult:
    labels = pd.Series(-1, index=customers.index, dtype="int64")
    labels[population] = estimator.labels_
    outsiders = ~population
    if outsiders.any():
        if settings.outliers_as == "nearest":
            labels[outsiders] = estimator.predict(customers[outsiders])
        else:
            labels[outsiders] = customers.loc[outsiders, TIER].map(TIER_GROUP_LABELS).astype("int64")

    segments = customers[SEGMENT] if SEGMENT in customers.columns else _default_segments(customers)
    profiles = cluster_profiles(customers.assign(**{SEGMENT: segments}), labels, SEGMENT)
    names = _names(profiles, labels, renames)
    named = customers.copy()
    named[CLUSTER] = labels
    named[CLUSTER_NAME] = labels.map(names["name"])
    named[CLUSTER_ACTION] = labels.map(names["action"])
    counts, shares = segment_crosstab(segments, named[CLUSTER_NAME])
    projection = pca_projection(estimator.transform(customers), estimator.cluster_centers_, settings.random_state)
    warnings = list(estimator.warnings_) + list(projection.warnings)
    if settings.exclude_outliers and not outsiders.any() and (customers.get(TIER, pd.Series(dtype=str)) != REGULAR).any():
        warnings.append("Too few regular customers to leave the outliers out: every customer was clustered.")
    return ClusterResult(
        customers=named,
        names=names,
        profiles=profiles.rename(index=lambda label: names["name"].get(label, label)),
        estimator=estimator,
        projection=projection,
        crosstab_counts=counts,
        crosstab_shares=shares,
        algorithm=algorithm,
        k=k,
        warnings=tuple(warnings),
        notes=fit_notes(estimator, settings),
        seconds=seconds,
    )


def compare_clusters(
    customers: pd.DataFrame,
    settings: ClusterSettings,
    k: int,
    algorithms: Sequence[str] = tuple(ALGORITHMS),
    *,
    progress: Progress | None = None,
    fit: Callable[[pd.DataFrame, ClusterSettings, int, str], ClusterResult] | None = None,
) -> pd.DataFrame:
    """Algorithms side by side, each row scored on the very fit :func:`fit_clusters` gives for it.

    The table and the fit agree by construction: a row's ``clusters`` is its fit's ``estimator.n_clusters_``
    and its ``noise_share`` the share of the fitted customers its fit calls noise. A fit that finds more than
    ``MAX_CLUSTERS`` clusters keeps its row, with what it found, no metrics and the error's message as note.

    Parameters
    ----------
    customers : DataFrame
        As for :func:`fit_clusters`.
    settings : ClusterSettings
    k : int
        Clusters for K-Means and the Gaussian mixture.
    algorithms : sequence of str, default: every key of ``ALGORITHMS``
    progress : callable(done, total, algorithm), optional
        Called after each algorithm is fitted and scored.
    fit : callable(customers, settings, k, algorithm) -> ClusterResult, optional
        Where the fits come from; default :func:`fit_clusters`. The app passes its cached fits, so that the
        comparison and the Fit section share them.

    Returns
    -------
    DataFrame indexed by ``algorithm``, the columns of :func:`rfm.clustering.estimator.compare_algorithms`; silhouette on a
    stratified sample of at most ``COMPARISON_SILHOUETTE_SAMPLE`` customers, the other metrics exact. The
    note starts with the fit's own notes (e.g. the sample a density method was fitted on).
    """
    algorithms = check_algorithms(algorithms)
    fit = fit or fit_clusters
    population = customers[fit_population(customers, settings)]
    rows = {}
    for done, algorithm in enumerate(algorithms, start=1):
        try:
            result = fit(customers, settings, k, algorithm)
        except TooManyClustersError as error:
            rows[algorithm] = {
                "clusters": error.n_clusters, "noise_share": error.noise_share, "silhouette": np.nan,
                "calinski_harabasz": np.nan, "davies_bouldin": np.nan, "seconds": error.seconds, "note": str(error),
            }
        else:
            rows[algorithm] = comparison_row(
                result.estimator, population, seconds=result.seconds, sample_size=COMPARISON_SILHOUETTE_SAMPLE,
                random_state=settings.random_state, notes=result.notes,
            )
        if progress is not None:
            progress(done, len(algorithms), algorithm)
    return comparison_frame(rows)


def _is_cluster(label: object) -> bool:
    return isinstance(label, (int, np.integer)) and bool(label >= 0)


def _default_segments(customers: pd.DataFrame) -> pd.Series:
    """The default rules' RFM segment of each customer, for customers that come without one: clusters are named
    after their customers' segments."""
    from rfm.scoring.rules import assign_segments, default_rules
    from rfm.scoring.scores import compute_scores

    return assign_segments(compute_scores(customers).scores, default_rules())


def _names(profiles: pd.DataFrame, labels: pd.Series, renames) -> pd.DataFrame:
    """Automatic names for fitted clusters, tier names for tier groups, then the user's renames.

    Returns a frame indexed by cluster label with ``name``, ``action``, ``agreement`` (the share of the cluster in
    the RFM segment it is named after; NaN for tier groups, noise and renamed clusters) and ``basis``.
    """
    names = name_clusters(profiles.loc[[label for label in profiles.index if _is_cluster(label)]])
    for tier, label in TIER_GROUP_LABELS.items():
        if (labels == label).any():
            names.loc[label] = (tier, _TIER_ACTIONS[tier], np.nan, "outlier tier")
    if (labels == NOISE).any():
        names.loc[NOISE] = (NOISE_NAME, ACTIONS[NOISE_NAME], np.nan, "not in any cluster")
    for label, name, action in renames:
        if label in names.index:
            renamed = name.strip() and name.strip() != names.loc[label, "name"]
            names.loc[label, ["name", "action"]] = (name.strip() or names.loc[label, "name"], action.strip() or names.loc[label, "action"])
            if renamed:
                names.loc[label, "agreement"] = np.nan
    return names
