"""Predictive separation: for each k of the sweep, how far apart K-Means clusters fitted before a cut kept their
customers after it.

The history is cut :data:`SEPARATION_HOLDOUT_DAYS` before its last date (the backtest's default). At each k, K-Means
is fitted on the customers' features as of the cut, with the session's clustering settings, and each cluster's
bought-again rate (the share of its customers with an order after the cut) is measured. The *separation* is the best
cluster's rate minus the worst's: a segmentation whose segments behave alike next quarter gives a marketer nothing
to act on, however tidy its silhouette. :func:`sweep_with_separation` adds it to the k-sweep, where it breaks
ties of silhouette (:func:`rfm.clustering.sweep.recommend_k`).
"""

from __future__ import annotations

import datetime as dt
import warnings as pywarnings
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from rfm.backtest.run import DEFAULT_HOLDOUT_DAYS, cut_day, outcome_after
from rfm.errors import RFMInputError

if TYPE_CHECKING:
    from rfm.clustering.fit import ClusterSettings
    from rfm.clustering.sweep import SweepResult
    from rfm.scoring.classic import SegmentSettings

#: The holdout of the separation: the backtest's default.
SEPARATION_HOLDOUT_DAYS = DEFAULT_HOLDOUT_DAYS
#: At most this many customers at the cut are clustered (a uniform sample above): a bought-again rate on a
#: cluster of a few thousand customers is within a point or two of the rate on all of them.
SEPARATION_SAMPLE = 20_000
#: K-Means starts per k: the partition, not its last digit of inertia, matters here.
SEPARATION_N_INIT = 3


@dataclass(frozen=True)
class Separation:
    """The predictive separation at each k: ``spread`` (best minus worst cluster's bought-again rate), ``best`` and
    ``worst`` rates, indexed by k; with the cut and the customers it was measured on."""

    table: pd.DataFrame
    cut: dt.date
    customers: int
    bought_again: int

    def as_dict(self) -> dict[int, float]:
        """k → spread."""
        return {int(k): float(v) for k, v in self.table["spread"].items()}

    def note(self) -> str:
        """How it was measured, in one sentence."""
        return (
            f"Predictive separation: clusters fitted on the {self.customers:,} customers who had ordered by {self.cut} "
            f"({SEPARATION_HOLDOUT_DAYS} days before the last date), then the share of each cluster who ordered again "
            f"after it ({self.bought_again:,} did); the spread between the best and the worst cluster."
        )


def predictive_separation(
    orders: pd.DataFrame,
    last_day: dt.date,
    ks: Sequence[int],
    clustering: ClusterSettings,
    segments: SegmentSettings | None = None,
    holdout_days: int = SEPARATION_HOLDOUT_DAYS,
) -> Separation:
    """The predictive separation of K-Means at each k, fitted on the history before a cut.

    Parameters
    ----------
    orders : DataFrame
        :func:`rfm.cleaning.orders.order_table`.
    last_day : date
        The history's last day.
    ks : sequence of int
        The ks to measure (those of the sweep).
    clustering : ClusterSettings
        Features, transform, scaler, outliers and seed, as the sweep uses them.
    segments : SegmentSettings, optional
        Scores and tiers at the cut (the tiers matter when outliers are left out of the fit).
    holdout_days : int

    Returns
    -------
    Separation

    Raises
    ------
    TooLittleDataError
        When the history is not longer than the holdout, or nobody (or everybody) bought again after the cut.
    RFMInputError
        For the same bad settings the sweep refuses.
    """
    from rfm.clustering.fit import fit_population, scaled_features
    from rfm.scoring.classic import SegmentSettings, segment_customers
    from rfm.trends.timeline import rfm_as_of

    cut = cut_day(orders, last_day, holdout_days)
    table = rfm_as_of(orders, cut)
    customers = segment_customers(table, segments or SegmentSettings()).customers
    bought, _ = outcome_after(orders, customers.index, cut, last_day)
    population = fit_population(customers, clustering)
    matrix = scaled_features(customers, clustering)
    outcome = bought[population].to_numpy(dtype=bool)
    if len(outcome) > SEPARATION_SAMPLE:
        chosen = np.sort(np.random.default_rng(clustering.random_state).choice(len(outcome), SEPARATION_SAMPLE, replace=False))
        matrix, outcome = matrix[chosen], outcome[chosen]
    rows = {k: _spread(matrix, outcome, k, clustering.random_state) for k in ks if k <= len(outcome) - 1}
    table_by_k = pd.DataFrame.from_dict(rows, orient="index", columns=["spread", "best", "worst"]).rename_axis("k")
    return Separation(table_by_k, cut, len(customers), int(bought.sum()))


def _spread(matrix: np.ndarray, outcome: np.ndarray, k: int, random_state: int) -> tuple[float, float, float]:
    """(best - worst, best, worst) bought-again rate of K-Means' ``k`` clusters."""
    from sklearn.cluster import KMeans
    from sklearn.exceptions import ConvergenceWarning

    from rfm.clustering.threads import limit_threads

    with limit_threads(1), pywarnings.catch_warnings():
        pywarnings.simplefilter("ignore", ConvergenceWarning)  # fewer distinct customers than k: still a partition
        labels = KMeans(n_clusters=k, n_init=SEPARATION_N_INIT, random_state=random_state).fit(matrix).labels_
    rates = np.bincount(labels, weights=outcome.astype("float64")) / np.maximum(np.bincount(labels), 1)
    held = rates[np.bincount(labels) > 0]
    return float(held.max() - held.min()), float(held.max()), float(held.min())


def sweep_with_separation(
    sweep: SweepResult,
    orders: pd.DataFrame | None,
    last_day: dt.date,
    clustering: ClusterSettings,
    segments: SegmentSettings | None = None,
) -> SweepResult:
    """The sweep with its predictive separation per k and the recommendation made again with it; when the orders
    are missing or too short to cut, the sweep unchanged but for a note saying why it was not measured."""
    from rfm.clustering.sweep import with_separation

    if not sweep.ks:
        return sweep
    if orders is None:
        return with_separation(sweep, {}, "Predictive separation not measured: the orders were not kept.")
    try:
        separation = predictive_separation(orders, last_day, sweep.ks, clustering, segments)
    except RFMInputError as error:
        return with_separation(sweep, {}, f"Predictive separation not measured: {error}")
    return with_separation(sweep, separation.as_dict(), separation.note())
