"""The backtest: cut the history, fit on the orders up to the cut, measure what customers did after it.

:func:`backtest` takes the order table (:func:`rfm.cleaning.orders.order_table`), its last day and a
:class:`BacktestSettings`; it returns a :class:`Backtest`: per ordering of the customers (recency alone, frequency
alone, the RFM score sum, each purchase model's expected purchases, predicted CLV) the AUC for "bought again" and
the top 20%'s share of the revenue after the cut, the cumulative gains, per segment (rule segments and clusters)
what its customers did, and a verdict naming the ordering to trust.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from rfm import schema
from rfm.backtest.measures import GAINS_POINTS, TOP_SHARE, auc, gains_curve, segment_outcomes, top_share
from rfm.cleaning.orders import DATE, VALUE
from rfm.errors import RFMInputError, TooLittleDataError
from rfm.shared.data_needs import MIN_CUSTOMERS_AT_CUT, more_needed

if TYPE_CHECKING:  # scikit-learn behind it: imported when clusters are fitted
    from rfm.clustering.fit import ClusterSettings
    from rfm.scoring.classic import Segmentation, SegmentSettings

#: Every ordering of the customers, by key (the keys of ``--json``'s ``rankings``), with its label.
ORDERINGS: dict[str, str] = {
    "recency": "Recency alone",
    "frequency": "Frequency alone",
    "rfm_sum": "RFM score sum",
    "bgnbd": "BG/NBD expected purchases",
    "mbgnbd": "MBG/NBD expected purchases",
    "pareto_nbd": "Pareto/NBD expected purchases",
    "clv": "Predicted CLV (BG/NBD and Gamma-Gamma)",
}
#: The orderings that come from a fitted model.
MODEL_ORDERINGS = ("bgnbd", "mbgnbd", "pareto_nbd", "clv")
#: rfm.value.churn's model names to ordering keys.
_MODEL_KEYS = {"BG/NBD": "bgnbd", "MBG/NBD": "mbgnbd", "Pareto/NBD": "pareto_nbd"}
DEFAULT_HOLDOUT_DAYS = 90
MAX_HOLDOUT_DAYS = 3650
#: Days in an average month: the predicted CLV covers the holdout's months.
_DAYS_PER_MONTH = 30.4375


@dataclass(frozen=True)
class BacktestSettings:
    """How the backtest cuts and fits; frozen so that it keys a cache. ``None`` settings take the defaults; ``k``
    ``None`` takes the k-sweep's recommendation on the customers at the cut."""

    holdout_days: int = DEFAULT_HOLDOUT_DAYS
    segments: SegmentSettings | None = None
    clustering: ClusterSettings | None = None
    k: int | None = None
    algorithm: str = "kmeans"

    def __post_init__(self) -> None:
        days = self.holdout_days
        if isinstance(days, bool) or not isinstance(days, (int, np.integer)) or not 1 <= days <= MAX_HOLDOUT_DAYS:
            raise RFMInputError(f"The holdout should be a whole number of days from 1 to {MAX_HOLDOUT_DAYS:,}; got {days!r}.")


@dataclass(frozen=True, eq=False)
class Backtest:
    """What the orderings and segments fitted up to ``cut`` said about the ``holdout_days`` after it."""

    cut: dt.date
    last_day: dt.date
    holdout_days: int
    customers_at_cut: int  # customers with an order on or before the cut
    bought_again: int  # of them, those with an order after the cut
    revenue_after: float  # their revenue after the cut
    rankings: pd.DataFrame  # indexed by ordering key: label, auc, top20_revenue_share
    gains: pd.DataFrame  # indexed by share_of_customers (0..1); per ordering, the share of buyers-again captured
    revenue_gains: pd.DataFrame  # the same for the revenue after the cut
    segments: pd.DataFrame  # segment_outcomes of the rule segments, then of the clusters
    k: int | None  # clusters fitted at the cut (None when they could not be)
    algorithm: str
    warnings: tuple[str, ...] = ()

    @property
    def bought_again_rate(self) -> float:
        return self.bought_again / self.customers_at_cut

    @property
    def best(self) -> str:
        """The key of the ordering with the highest AUC (the first listed on a tie)."""
        return str(self.rankings["auc"].idxmax())

    def verdict(self) -> str:
        """One plain sentence: which ordering to trust, and by how much it beats the RFM score sum."""
        aucs = self.rankings["auc"]
        best, rfm = self.best, float(aucs["rfm_sum"])
        window = f"who bought again in the {self.holdout_days:,} days after {self.cut}"
        if best != "rfm_sum":
            gap = float(aucs[best]) - rfm
            return (
                f"Trust {_in_sentence(self.rankings.at[best, 'label'])}: it ranks {window} best, with an AUC of {aucs[best]:.3f}, "
                f"{gap:.3f} above the RFM score sum ({rfm:.3f})."
            )
        model = self._best_model()
        behind = "" if model is None else f"; the best model ordering, {self.rankings.at[model, 'label']}, reaches {aucs[model]:.3f}"
        return f"Trust the RFM score sum: it ranks {window} best, with an AUC of {rfm:.3f}{behind}."

    def model_below_rfm(self) -> str | None:
        """A plain warning when the best model ordering ranks worse than the RFM score sum, else ``None``."""
        model = self._best_model()
        aucs = self.rankings["auc"]
        if model is None or not aucs[model] < aucs["rfm_sum"]:
            return None
        return (
            f"The best model ordering, {self.rankings.at[model, 'label']} (AUC {aucs[model]:.3f}), falls below the RFM "
            f"score sum ({aucs['rfm_sum']:.3f}) on this file: here the purchase models rank customers worse than the scores."
        )

    def _best_model(self) -> str | None:
        models = self.rankings["auc"].reindex([key for key in MODEL_ORDERINGS if key in self.rankings.index])
        return None if models.empty else str(models.idxmax())

    def as_json(self) -> dict:
        """``cut``, ``customers_at_cut``, ``bought_again``, ``rankings`` ({key: {auc, top20_revenue_share}}) and
        ``segments`` (a list of {segment, kind, customers, bought_again_rate, revenue_per_customer, lift}); NaN as null."""
        rankings = {
            key: {"auc": _number(row["auc"]), "top20_revenue_share": _number(row["top20_revenue_share"])}
            for key, row in self.rankings.iterrows()
        }
        segments = [
            {"segment": row["segment"], "kind": row["kind"], "customers": int(row["customers"]),
             **{column: _number(row[column]) for column in ("bought_again_rate", "revenue_per_customer", "lift")}}
            for row in self.segments.to_dict("records")
        ]
        return {"cut": self.cut.isoformat(), "customers_at_cut": self.customers_at_cut, "bought_again": self.bought_again,
                "rankings": rankings, "segments": segments}


def _in_sentence(label: str) -> str:
    """A label inside a sentence: "Frequency alone" -> "frequency alone"; "RFM score sum", "BG/NBD ..." unchanged."""
    return label[0].lower() + label[1:] if label[1:2].islower() else label


def _number(value: float) -> float | None:
    return None if value is None or not math.isfinite(float(value)) else round(float(value), 6)


def backtest(orders: pd.DataFrame, last_day: dt.date, settings: BacktestSettings = BacktestSettings()) -> Backtest:
    """Cut ``orders`` ``settings.holdout_days`` before ``last_day``, fit on the orders up to the cut, and measure.

    Parameters
    ----------
    orders : DataFrame
        :func:`rfm.cleaning.orders.order_table` (``customer_id``, ``date``, ``value``).
    last_day : date
        The history's last day (the analysis date): the holdout runs from the day after the cut to it.
    settings : BacktestSettings

    Returns
    -------
    Backtest

    Raises
    ------
    RFMInputError
        When the history is not longer than the holdout, fewer than :data:`MIN_CUSTOMERS_AT_CUT` customers had
        ordered by the cut, or nobody (or everybody) ordered again after it: each message names what is missing.
    """
    from rfm.scoring.classic import SegmentSettings, segment_customers
    from rfm.trends.timeline import rfm_as_of

    cut = cut_day(orders, last_day, settings.holdout_days)
    table = rfm_as_of(orders, cut)
    if len(table) < MIN_CUSTOMERS_AT_CUT:
        raise TooLittleDataError(
            f"Only {len(table):,} customers had ordered by the cut ({cut}); a backtest needs at least "
            f"{MIN_CUSTOMERS_AT_CUT} {more_needed(MIN_CUSTOMERS_AT_CUT, len(table))}. Choose fewer holdout days."
        )
    bought, revenue = outcome_after(orders, table.index, cut, last_day)
    segmentation = segment_customers(table, settings.segments or SegmentSettings())
    clusters, k, warnings = _cluster_names(segmentation, settings)
    scores, model_warnings = _orderings(orders, segmentation.customers, cut, settings.holdout_days)
    rankings = pd.DataFrame(
        {"label": [ORDERINGS[key] for key in scores],
         "auc": [auc(score, bought) for score in scores.values()],
         "top20_revenue_share": [top_share(score, revenue, TOP_SHARE) for score in scores.values()]},
        index=pd.Index(list(scores), name="ordering"),
    )
    labels = [segment_outcomes(segmentation.customers[schema.SEGMENT], bought, revenue, "rfm")]
    if clusters is not None:
        labels.append(segment_outcomes(clusters, bought, revenue, "cluster"))
    return Backtest(
        cut, last_day, settings.holdout_days, len(table), int(bought.sum()), float(revenue.sum()), rankings,
        _gains(scores, bought.to_numpy(dtype="float64")), _gains(scores, revenue.to_numpy()),
        pd.concat(labels, ignore_index=True), k, settings.algorithm, (*segmentation.warnings, *warnings, *model_warnings),
    )


def cut_day(orders: pd.DataFrame, last_day: dt.date, holdout_days: int) -> dt.date:
    """``last_day`` minus ``holdout_days``; refused when no order is on or before it (the history is too short)."""
    if orders is None or orders.empty:
        raise RFMInputError("There are no orders to backtest on: every row was removed by the cleaning.")
    first = orders[DATE].min().date()
    cut = last_day - dt.timedelta(days=holdout_days)
    if cut < first:
        span = (last_day - first).days
        raise TooLittleDataError(
            f"The history runs {span:,} days ({first} to {last_day}), not more than the {holdout_days:,}-day holdout: "
            f"there are no orders before the cut to fit on. Choose fewer than {span:,} holdout days."
        )
    return cut


def outcome_after(orders: pd.DataFrame, customers: pd.Index, cut: dt.date, last_day: dt.date) -> tuple[pd.Series, pd.Series]:
    """Per customer at the cut: whether they ordered after it (up to ``last_day``), and their revenue then."""
    start, end = pd.Timestamp(cut) + pd.Timedelta(days=1), pd.Timestamp(last_day) + pd.Timedelta(days=1)
    after = orders[(orders[DATE] >= start) & (orders[DATE] < end)]
    revenue = after.groupby(schema.CUSTOMER_ID)[VALUE].sum().reindex(customers, fill_value=0.0).astype("float64")
    bought = pd.Series(customers.isin(after[schema.CUSTOMER_ID].unique()), index=customers)
    if not bought.any():
        raise TooLittleDataError(
            f"Nobody of the {len(customers):,} customers who had ordered by the cut ({cut}) ordered again by {last_day}: "
            "there is nothing to predict. Choose more holdout days."
        )
    if bought.all():
        raise TooLittleDataError(
            f"Every one of the {len(customers):,} customers who had ordered by the cut ({cut}) ordered again by "
            f"{last_day}: there is no one to tell apart. Choose fewer holdout days."
        )
    return bought, revenue


def _cluster_names(segmentation: Segmentation, settings: BacktestSettings) -> tuple[pd.Series | None, int | None, tuple[str, ...]]:
    """Each customer's cluster name fitted at the cut, with the k used; ``None`` and why when they cannot be fitted."""
    from rfm.clustering.fit import ClusterSettings, fit_clusters, run_sweep

    clustering = settings.clustering or ClusterSettings()
    customers = segmentation.customers
    try:
        k = settings.k if settings.k is not None else (run_sweep(customers, clustering).recommended_k or 2)
        fitted = fit_clusters(customers, clustering, k, settings.algorithm)
    except RFMInputError as error:
        return None, None, (f"No clusters at the cut: {error}",)
    return fitted.customers[schema.CLUSTER_NAME].reindex(customers.index), k, fitted.warnings


def _orderings(orders: pd.DataFrame, customers: pd.DataFrame, cut: dt.date, holdout_days: int) -> tuple[dict[str, np.ndarray], tuple[str, ...]]:
    """Each ordering's score per customer (higher = more likely to buy again), aligned with ``customers``; a
    model that cannot be fitted is left out, and why is in the warnings."""
    scores = {
        "recency": -customers[schema.RECENCY].to_numpy(dtype="float64"),
        "frequency": customers[schema.FREQUENCY].to_numpy(dtype="float64"),
        "rfm_sum": customers[[schema.R_SCORE, schema.F_SCORE, schema.M_SCORE]].sum(axis=1).to_numpy(dtype="float64"),
    }
    predicted, warnings = _model_scores(orders, cut, holdout_days)
    for key, values in predicted.items():
        scores[key] = values.reindex(customers.index).to_numpy(dtype="float64")
    return scores, warnings


def _model_scores(orders: pd.DataFrame, cut: dt.date, holdout_days: int) -> tuple[dict[str, pd.Series], tuple[str, ...]]:
    """Expected purchases over the holdout per purchase model, and the predicted CLV, fitted on the orders up to
    the cut; indexed by customer id."""
    from rfm.value.churn import compare_models
    from rfm.value.models import GammaGammaModel, clv_summary, customer_lifetime_value

    summary = clv_summary(orders, cut)
    frequency, recency, T = (summary[column].to_numpy(dtype="float64") for column in ("frequency", "recency", "T"))
    try:
        comparison = compare_models(summary)
    except RFMInputError as error:
        return {}, (f"No purchase model could be fitted at the cut: {error}",)
    scores = {
        _MODEL_KEYS[fit.name]: pd.Series(fit.model.expected_purchases(holdout_days, frequency, recency, T), index=summary.index)
        for fit in comparison.fits
    }
    bgnbd = next((fit.model for fit in comparison.fits if fit.name == "BG/NBD"), None)
    if bgnbd is None:
        return scores, comparison.warnings
    try:
        spend = GammaGammaModel().fit(summary["frequency"], summary["monetary_value"])
    except RFMInputError as error:
        return scores, (*comparison.warnings, f"No predicted CLV: {error}")
    months = max(1, round(holdout_days / _DAYS_PER_MONTH))
    clv = customer_lifetime_value(bgnbd, spend, frequency, recency, T, summary["monetary_value"].to_numpy(), months=months)
    scores["clv"] = pd.Series(clv, index=summary.index)
    return scores, comparison.warnings


def _gains(scores: dict[str, np.ndarray], target: np.ndarray) -> pd.DataFrame:
    """Every ordering's cumulative gains curve of ``target``, one column each."""
    share = pd.Index(np.linspace(0.0, 1.0, GAINS_POINTS), name="share_of_customers")
    return pd.DataFrame({key: gains_curve(score, target) for key, score in scores.items()}, index=share)
