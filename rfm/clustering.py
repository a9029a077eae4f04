"""Clustering customers in one call: the k-sweep, the fit, names, profiles, projection and crosstab."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd

from rfm.cluster import RFMClusterer
from rfm.features import DEFAULT_FEATURES, DEFAULT_LOG_FEATURES, check_features, feature_frame, make_scaler
from rfm.profiles import PCAProjection, cluster_profiles, name_clusters, pca_projection, segment_crosstab
from rfm.schema import CLUSTER, CLUSTER_ACTION, CLUSTER_NAME
from rfm.segments import SEGMENT
from rfm.sweep import SweepResult, sweep_k
from rfm.tiers import ELITE_VIP, HIGH_SPENDER, POWER_SHOPPER, REGULAR, TIER, TIER_GROUP_LABELS

ALGORITHMS = {"kmeans": "K-Means", "gmm": "Gaussian mixture", "dbscan": "DBSCAN", "hdbscan": "HDBSCAN"}

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
    """

    features: tuple[str, ...] = DEFAULT_FEATURES
    log_features: tuple[str, ...] = DEFAULT_LOG_FEATURES
    scaler: Literal["standard", "robust"] = "standard"
    exclude_outliers: bool = False
    outliers_as: Literal["nearest", "own_tier"] = "nearest"
    k_min: int = 2
    k_max: int = 10
    random_state: int = 42
    n_init: int = 10


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

    @property
    def centers(self) -> np.ndarray:
        return self.estimator.cluster_centers_

    @property
    def feature_names(self) -> list[str]:
        return list(self.estimator.features)

    def profiles_with_actions(self) -> pd.DataFrame:
        """The profiles with each cluster's recommended action as a last column."""
        return self.profiles.join(self.names.set_index("name")["action"], how="left")

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
        Number of clusters (K-Means, Gaussian mixture); density methods find their own.
    algorithm : {"kmeans", "gmm", "dbscan", "hdbscan"}
    renames : tuple of (cluster label, name, action)
        The user's names and actions, replacing the automatic ones.

    Returns
    -------
    ClusterResult
        ``customers`` gains ``cluster``, ``cluster_name`` and ``cluster_action``.
    """
    from threadpoolctl import threadpool_limits

    population = fit_population(customers, settings)
    with threadpool_limits(1):  # one thread: two fight each other on a busy 2-core machine (10x slower)
        return _fit_clusters(customers, settings, k, algorithm, renames, population)


def _fit_clusters(customers, settings, k, algorithm, renames, population) -> ClusterResult:
    estimator = RFMClusterer(
        n_clusters=k,
        algorithm=algorithm,
        features=settings.features,
        log_features=settings.log_features,
        scaler=settings.scaler,
        n_init=settings.n_init,
        random_state=settings.random_state,
    ).fit(customers[population])
    labels = pd.Series(-1, index=customers.index, dtype="int64")
    labels[population] = estimator.labels_
    outsiders = ~population
    if outsiders.any():
        if settings.outliers_as == "nearest":
            labels[outsiders] = estimator.predict(customers[outsiders])
        else:
            labels[outsiders] = customers.loc[outsiders, TIER].map(TIER_GROUP_LABELS).astype("int64")

    profiles = cluster_profiles(customers, labels, SEGMENT if SEGMENT in customers.columns else "segment")
    names = _names(profiles, labels, renames)
    named = customers.copy()
    named[CLUSTER] = labels
    named[CLUSTER_NAME] = labels.map(names["name"])
    named[CLUSTER_ACTION] = labels.map(names["action"])
    counts, shares = segment_crosstab(customers[SEGMENT], named[CLUSTER_NAME]) if SEGMENT in customers.columns else (pd.DataFrame(), pd.DataFrame())
    projection = pca_projection(estimator.transform(customers), estimator.cluster_centers_, settings.random_state)
    warnings = list(estimator.warnings_) + list(projection.warnings)
    if settings.exclude_outliers and not outsiders.any() and (customers.get(TIER, pd.Series(dtype=str)) != REGULAR).any():
        warnings.append("Too few regular customers to leave the outliers out: every customer was clustered.")
    return ClusterResult(
        customers=named,
        names=names,
        profiles=profiles.rename(index=lambda label: names["name"].get(-1 if label == "noise" else label, label)),
        estimator=estimator,
        projection=projection,
        crosstab_counts=counts,
        crosstab_shares=shares,
        algorithm=algorithm,
        k=k,
        warnings=tuple(warnings),
    )


def _is_cluster(label) -> bool:
    return isinstance(label, (int, np.integer)) and label >= 0


def _names(profiles: pd.DataFrame, labels: pd.Series, renames) -> pd.DataFrame:
    """Automatic names for fitted clusters, tier names for tier groups, then the user's renames.

    Returns a frame indexed by cluster label with ``name`` and ``action``.
    """
    names = name_clusters(profiles.loc[[label for label in profiles.index if _is_cluster(label)]])[["name", "action"]]
    for tier, label in TIER_GROUP_LABELS.items():
        if (labels == label).any():
            names.loc[label] = (tier, _TIER_ACTIONS[tier])
    if (labels == -1).any():
        names.loc[-1] = ("Noise", "Not in any dense group: review these customers one by one.")
    for label, name, action in renames:
        if label in names.index:
            names.loc[label] = (name.strip() or names.loc[label, "name"], action.strip() or names.loc[label, "action"])
    return names
