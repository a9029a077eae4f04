"""Churn: the three purchase models side by side, and the churn fields per customer that commercial tools show.

:func:`compare_models` fits BG/NBD, MBG/NBD and Pareto/NBD on one calibration summary (the frame of
:func:`rfm.value.models.clv_summary`, with or without its holdout columns) and returns a
:class:`ModelComparison`: parameters, log-likelihood, BIC and, given holdout columns, each model's holdout error.
:func:`churn_table` turns any one fitted model and the summary into a table indexed by customer id: churn
probability and its Low / Medium / High band, average days between orders, expected date of the next order and
predicted orders over the next 365 days.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike

from rfm.errors import RFMInputError
from rfm.schema import (
    AVG_DAYS_BETWEEN_ORDERS,
    CHURN_COLUMNS,
    CHURN_PROBABILITY,
    CHURN_RISK,
    EXPECTED_NEXT_ORDER,
    PREDICTED_ORDERS_365D,
)
from rfm.value.mbg_nbd import ModifiedBetaGeoModel
from rfm.value.models import (
    BetaGeoModel,
    DateLike,
    PurchaseModel,
    _day,
    _positive_number,
    holdout_check,
    holdout_error,
)
from rfm.value.pareto_nbd import ParetoNBDModel

#: The models :func:`compare_models` fits, by name, in the order of its table.
PURCHASE_MODELS: dict[str, type[PurchaseModel]] = {
    "BG/NBD": BetaGeoModel,
    "MBG/NBD": ModifiedBetaGeoModel,
    "Pareto/NBD": ParetoNBDModel,
}
#: Each model has four parameters (r, α and a, b or s, β): the k of the BIC.
N_PARAMETERS = 4
#: Churn probability bands: Low below 0.3, High above 0.7, Medium from 0.3 to 0.7 inclusive.
LOW_CHURN_BELOW = 0.3
HIGH_CHURN_ABOVE = 0.7
CHURN_BANDS: tuple[str, ...] = ("Low", "Medium", "High")
#: The horizon of the predicted orders and of the expected next order, in days.
HORIZON_DAYS = 365
_SUMMARY_COLUMNS = ("frequency", "recency", "T")
_HOLDOUT_COLUMNS = ("frequency_holdout", "duration_holdout")


@dataclass(frozen=True, eq=False)
class ModelFit:
    """One purchase model fitted on the comparison's summary."""

    name: str  # "BG/NBD", "MBG/NBD" or "Pareto/NBD"
    model: PurchaseModel  # fitted: its params_, p_alive, expected_purchases ...
    log_likelihood: float
    bic: float  # k ln(n) - 2 log-likelihood, k = 4 parameters, n = customers; lower is better
    holdout_error: float | None  # rfm.value.models.holdout_error of its holdout_check; None without holdout columns


@dataclass(frozen=True, eq=False)
class ModelComparison:
    """The purchase models fitted on one summary, in :data:`PURCHASE_MODELS` order; a model that could not be
    fitted is left out, and why is in ``warnings``."""

    fits: tuple[ModelFit, ...]
    n_customers: int
    warnings: tuple[str, ...] = ()

    @property
    def best(self) -> ModelFit:
        """The fit with the lowest BIC (all have four parameters, so also the highest likelihood)."""
        return min(self.fits, key=lambda fit: fit.bic)

    def table(self) -> pd.DataFrame:
        """One row per model: ``model``, the parameters ``r``, ``alpha``, ``a``, ``b``, ``s``, ``beta`` (NaN where
        a model has no such parameter), ``log_likelihood``, ``bic`` and ``holdout_error`` (NaN without holdout)."""
        rows = [
            {"model": fit.name, **fit.model.params_, "log_likelihood": fit.log_likelihood, "bic": fit.bic,
             "holdout_error": np.nan if fit.holdout_error is None else fit.holdout_error}
            for fit in self.fits
        ]
        columns = ["model", "r", "alpha", "a", "b", "s", "beta", "log_likelihood", "bic", "holdout_error"]
        return pd.DataFrame(rows).reindex(columns=columns)


def bic(log_likelihood: float, n_parameters: int, n_customers: int) -> float:
    """Bayesian information criterion k ln(n) - 2 log-likelihood.

    Examples
    --------
    >>> round(bic(-9582.4, 4, 2357), 1)
    19195.9
    """
    return n_parameters * math.log(n_customers) - 2 * log_likelihood


def compare_models(summary: pd.DataFrame) -> ModelComparison:
    """Fit BG/NBD, MBG/NBD and Pareto/NBD on one summary and set their figures side by side.

    Parameters
    ----------
    summary : DataFrame
        :func:`rfm.value.models.clv_summary`'s frame: ``frequency``, ``recency``, ``T`` (the calibration period
        when it was made with ``calibration_end``). With its holdout columns ``frequency_holdout`` and
        ``duration_holdout`` (``calibration_end`` given, as :func:`rfm.value.predict.holdout` builds it), each
        model's holdout error is computed too.

    Returns
    -------
    ModelComparison
        ``table()`` gives one row per model; ``best`` the lowest BIC.

    Raises
    ------
    RFMInputError
        When a column is missing, or when no model can be fitted (the reasons of each).
    """
    _check_columns(summary, _SUMMARY_COLUMNS, "clv_summary(...)")
    with_holdout = all(column in summary.columns for column in _HOLDOUT_COLUMNS)
    columns = [summary[column] for column in _SUMMARY_COLUMNS]
    fits, warnings = [], []
    for name, model_class in PURCHASE_MODELS.items():
        try:
            model = model_class().fit(*columns)
        except RFMInputError as error:
            warnings.append(f"{name} was not fitted: {error}")
            continue
        error_in_holdout = holdout_error(holdout_check(summary, model)) if with_holdout else None
        fits.append(ModelFit(
            name, model, model.log_likelihood_, bic(model.log_likelihood_, N_PARAMETERS, model.n_customers_),
            error_in_holdout,
        ))
    if not fits:
        raise RFMInputError(" ".join(warnings))
    return ModelComparison(tuple(fits), len(summary), tuple(warnings))


def churn_table(
    model: PurchaseModel, summary: pd.DataFrame, analysis_date: DateLike, *, unit_days: float = 1.0
) -> pd.DataFrame:
    """Churn fields per customer, as commercial tools give them, from one fitted purchase model.

    Parameters
    ----------
    model : PurchaseModel
        BG/NBD, MBG/NBD or Pareto/NBD, fitted on a summary in units of ``unit_days`` days.
    summary : DataFrame
        :func:`rfm.value.models.clv_summary`'s frame (``frequency``, ``recency``, ``T``), indexed by customer id,
        made with the same ``unit_days``.
    analysis_date : date-like
        The day the summary ends on (its ``observation_end``): "today" for the predictions.
    unit_days : float
        Length of the summary's time unit in days (7 for weeks).

    Returns
    -------
    DataFrame indexed like ``summary`` with the columns of ``rfm.schema.CHURN_COLUMNS``:
        ``churn_probability`` (float): 1 - P(alive); NaN for a customer without a repeat purchase when the model
        is BG/NBD, which cannot judge them (its customers drop out only after a purchase, so it calls every one-time
        buyer alive, however long ago they bought; the lifecycle stage judges them instead).
        ``churn_risk`` (ordered category): "Low" below :data:`LOW_CHURN_BELOW` (0.3), "High" above
        :data:`HIGH_CHURN_ABOVE` (0.7), "Medium" from 0.3 to 0.7 inclusive.
        ``avg_days_between_orders`` (float): (last - first purchase day) / (purchase days - 1), in days; NaN for
        one-time buyers. As in the summary, several orders on one day count as one.
        ``expected_next_order`` (datetime64): ``analysis_date`` plus the expected days between purchases if the
        customer is still active, 365 / E[purchases in the next 365 days | alive], rounded to whole days (so within
        the next 365 days); NaT when the model expects fewer than one purchase in the next 365 days
        (``predicted_orders_365d`` < 1).
        ``predicted_orders_365d`` (float): expected purchases in the next 365 days, the risk of having churned
        included.
    """
    _check_columns(summary, _SUMMARY_COLUMNS, "clv_summary(...)")
    unit_days = _positive_number(unit_days, "unit_days")
    today = _day(analysis_date, "analysis_date")
    frequency, recency, T = (summary[column].to_numpy(dtype=float) for column in _SUMMARY_COLUMNS)
    alive = model.p_alive(frequency, recency, T)
    predicted = model.expected_purchases(HORIZON_DAYS / unit_days, frequency, recency, T)
    with np.errstate(divide="ignore", invalid="ignore"):
        between = np.where(frequency > 0, recency * unit_days / frequency, np.nan)
        days_to_next = np.where(predicted >= 1, np.rint(HORIZON_DAYS * alive / predicted), np.nan)
    churn = 1 - alive
    if not getattr(model, "judges_one_time_buyers", True):  # BG/NBD: P(alive) is 1 by construction, not a judgement
        churn = np.where(frequency > 0, churn, np.nan)
    table = pd.DataFrame(
        {
            CHURN_PROBABILITY: churn,
            CHURN_RISK: churn_risk(churn),
            AVG_DAYS_BETWEEN_ORDERS: between,
            EXPECTED_NEXT_ORDER: today + pd.to_timedelta(days_to_next, unit="D"),
            PREDICTED_ORDERS_365D: predicted,
        },
        index=summary.index,
    )
    return table[list(CHURN_COLUMNS)]


def churn_risk(churn_probability: ArrayLike) -> pd.Categorical:
    """The band of each churn probability: "Low" below :data:`LOW_CHURN_BELOW`, "High" above
    :data:`HIGH_CHURN_ABOVE`, "Medium" otherwise (both thresholds included), as an ordered category; missing for a
    missing probability.

    Examples
    --------
    >>> list(churn_risk(np.array([0.1, 0.3, 0.7, 0.9])))
    ['Low', 'Medium', 'Medium', 'High']
    """
    churn = np.asarray(churn_probability, dtype=float)
    codes = np.select([churn < LOW_CHURN_BELOW, churn > HIGH_CHURN_ABOVE, np.isnan(churn)], [0, 2, -1], 1)
    return pd.Categorical.from_codes(codes, categories=CHURN_BANDS, ordered=True)  # -1: no probability, no band


def _check_columns(summary: pd.DataFrame, needed: tuple[str, ...], how: str) -> None:
    if not isinstance(summary, pd.DataFrame):
        raise RFMInputError(f"The summary should be a DataFrame; got a {type(summary).__name__}.")
    missing = [column for column in needed if column not in summary.columns]
    if missing:
        raise RFMInputError(f"The summary has no column {missing}: make it with {how}.")
