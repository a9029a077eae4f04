"""What each customer is worth next: P(alive), expected purchases and predicted CLV, from :mod:`rfm.value.models`.

:func:`fit_value` fits BG/NBD and Gamma-Gamma on a file's orders (time in days), :func:`customer_value` gives
the per-customer columns that the Value page, the exports and the what-if page show, :func:`holdout` checks
the model on a period it did not see, and :func:`alive_matrix` / :func:`purchases_matrix` are the grids of the
two heat maps.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike

from rfm import schema
from rfm.cleaning.orders import DATE
from rfm.errors import RFMInputError
from rfm.schema import EXPECTED_ORDER_VALUE, EXPECTED_PURCHASES, P_ALIVE, PREDICTED_CLV, VALUE_COLUMNS, VALUE_LABELS
from rfm.value.models import (
    BetaGeoModel,
    GammaGammaModel,
    clv_summary,
    customer_lifetime_value,
    fit_clv,
    holdout_check,
    holdout_error,
)


@dataclass(frozen=True)
class ValueSettings:
    """The horizon and money settings of the predictions; frozen so that it keys a cache."""

    horizon_days: int = 90  # expected purchases over the next N days
    months: int = 12  # CLV over the next N months
    annual_discount_rate: float = 0.10
    margin: float = 1.0  # share of revenue that is profit; 1 = CLV as revenue

    def __post_init__(self) -> None:
        checks = (
            ("the horizon", self.horizon_days, 1, 3650, "days"),
            ("the CLV horizon", self.months, 1, 120, "months"),
            ("the yearly discount rate", self.annual_discount_rate, 0, 1, ""),
            ("the profit margin", self.margin, 0.0001, 1, ""),
        )
        for what, value, low, high, unit in checks:
            if not low <= value <= high:
                bounds = f"{low:g} and {high:g}" + (f" {unit}" if unit else "")
                raise RFMInputError(f"{what[0].upper()}{what[1:]} should be between {bounds}; got {value!r}.")

    def describe(self) -> str:
        money = "revenue" if self.margin == 1 else f"profit at a {self.margin:.0%} margin"
        return (
            f"expected purchases over the next {self.horizon_days:,} days; CLV: {money} over the next "
            f"{self.months} months, discounted at {self.annual_discount_rate:.0%} a year"
        )


@dataclass(frozen=True, eq=False)
class ValueModel:
    """BG/NBD and Gamma-Gamma fitted on a file's orders up to ``observation_end``, time in days."""

    bgnbd: BetaGeoModel
    gamma_gamma: GammaGammaModel | None
    summary: pd.DataFrame = field(repr=False)  # clv_summary: frequency, recency, T, monetary_value per customer
    observation_end: dt.date
    warnings: tuple[str, ...] = ()

    def parameters(self) -> pd.DataFrame:
        """The fitted parameters, one row per model: ``model``, ``parameter``, ``value``."""
        rows = [("BG/NBD", name, value) for name, value in self.bgnbd.params_.items()]
        if self.gamma_gamma is not None:
            rows += [("Gamma-Gamma", name, value) for name, value in self.gamma_gamma.params_.items()]
        return pd.DataFrame(rows, columns=["model", "parameter", "value"])


def fit_value(orders: pd.DataFrame, observation_end: dt.date) -> ValueModel:
    """Fit both models on the orders up to ``observation_end`` (the analysis date).

    Raises
    ------
    RFMInputError
        When BG/NBD cannot be fitted (too few customers, nobody bought twice); Gamma-Gamma's failure is a warning.
    """
    bgnbd, gamma_gamma, summary, warnings = fit_clv(orders, observation_end, unit_days=1.0)
    return ValueModel(bgnbd, gamma_gamma, summary, observation_end, tuple(warnings))


def predict_value(
    model: ValueModel, frequency: ArrayLike, recency: ArrayLike, T: ArrayLike, monetary_value: ArrayLike, settings: ValueSettings = ValueSettings()
) -> dict[str, np.ndarray]:
    """The four value columns for customers given by their BTYD summary (days)."""
    bgnbd = model.bgnbd
    out = {
        P_ALIVE: bgnbd.p_alive(frequency, recency, T),
        EXPECTED_PURCHASES: bgnbd.expected_purchases(settings.horizon_days, frequency, recency, T),
    }
    if model.gamma_gamma is None:
        out[EXPECTED_ORDER_VALUE] = out[PREDICTED_CLV] = np.full(len(out[P_ALIVE]), np.nan)
        return out
    out[EXPECTED_ORDER_VALUE] = model.gamma_gamma.expected_average_value(frequency, monetary_value)
    out[PREDICTED_CLV] = customer_lifetime_value(
        bgnbd, model.gamma_gamma, frequency, recency, T, monetary_value,
        months=settings.months, annual_discount_rate=settings.annual_discount_rate, margin=settings.margin,
    )
    return out


def customer_value(model: ValueModel, settings: ValueSettings = ValueSettings()) -> pd.DataFrame:
    """Per customer: ``p_alive``, ``expected_purchases`` (next ``horizon_days``), ``expected_order_value`` and
    ``predicted_clv``, indexed by ``customer_id`` like the RFM table."""
    summary = model.summary
    columns = predict_value(model, summary["frequency"], summary["recency"], summary["T"], summary["monetary_value"], settings)
    return pd.DataFrame(columns, index=summary.index)[list(VALUE_COLUMNS)]


def what_if_value(model: ValueModel, values: dict[str, float], tenure_days: float, settings: ValueSettings = ValueSettings()) -> dict[str, float]:
    """The value columns of a customer given as the what-if page sets them.

    ``values`` holds ``recency_days``, ``frequency`` (orders) and ``monetary`` (total spend); ``tenure_days`` is
    how long ago their first purchase was (the model's feature when it has one). Orders stand for purchase days:
    repeat purchases = frequency − 1, days from first to last purchase = tenure − recency, spend per order =
    monetary ÷ frequency.
    """
    frequency = max(float(values[schema.FREQUENCY]), 1.0)
    tenure = max(float(tenure_days), float(values[schema.RECENCY]), 0.0)
    span = np.array([tenure - float(values[schema.RECENCY])])
    predicted = predict_value(
        model, np.array([frequency - 1.0]), span, np.array([tenure]), np.array([float(values[schema.MONETARY]) / frequency]), settings
    )
    return {name: float(column[0]) for name, column in predicted.items()}


@dataclass(frozen=True, eq=False)
class Holdout:
    """The model fitted on the orders up to ``calibration_end`` and compared with the days after it."""

    calibration_end: dt.date
    observation_end: dt.date
    table: pd.DataFrame  # rfm.value.models.holdout_check: group, customers, actual, predicted
    error: float  # rfm.value.models.holdout_error: purchases per customer the group means miss by
    actual_total: float
    predicted_total: float
    parameters: dict[str, float]


def holdout(orders: pd.DataFrame, observation_end: dt.date, holdout_days: int | None = None) -> Holdout:
    """Fit BG/NBD on all but the last ``holdout_days`` (default: a third of the period) and predict them."""
    first = orders[DATE].min().date()
    period = (observation_end - first).days
    if period < 2:
        raise RFMInputError(f"The orders span {max(period, 0)} day(s) up to {observation_end}: too short to hold any out.")
    days = holdout_days if holdout_days is not None else max(period // 3, 1)
    if not 1 <= days < period:
        raise RFMInputError(
            f"A holdout of {days:,} days does not fit in the {period:,} days from {first} to {observation_end}: "
            f"choose between 1 and {period - 1:,}."
        )
    calibration_end = observation_end - dt.timedelta(days=days)
    summary = clv_summary(orders, observation_end, calibration_end=calibration_end, unit_days=1.0)
    bgnbd = BetaGeoModel().fit(summary["frequency"], summary["recency"], summary["T"])
    table = holdout_check(summary, bgnbd)
    predicted = table["predicted"] * table["customers"]
    actual = table["actual"] * table["customers"]
    return Holdout(
        calibration_end, observation_end, table, holdout_error(table), float(actual.sum()), float(predicted.sum()), dict(bgnbd.params_)
    )


def alive_matrix(model: ValueModel, max_frequency: int | None = None, points: int = 40) -> pd.DataFrame:
    """P(alive) of a customer whose first purchase was T days ago (T: the longest tenure), by repeat purchases
    (columns) and days since the last purchase (rows)."""
    return _grid(model, max_frequency, points, model.bgnbd.p_alive)


def purchases_matrix(model: ValueModel, horizon_days: int, max_frequency: int | None = None, points: int = 40) -> pd.DataFrame:
    """Expected purchases over the next ``horizon_days`` on the grid of :func:`alive_matrix`."""
    return _grid(model, max_frequency, points, lambda x, t_x, T: model.bgnbd.expected_purchases(horizon_days, x, t_x, T))


def _grid(model: ValueModel, max_frequency: int | None, points: int, function) -> pd.DataFrame:
    summary = model.summary
    tenure = float(summary["T"].max())
    top = int(max_frequency or max(1, np.ceil(summary["frequency"].quantile(0.99))))
    frequencies = np.arange(0, top + 1)
    since_last = np.unique(np.linspace(0, tenure, points).round())
    grid_x, grid_since = np.meshgrid(frequencies, since_last)
    x, since = grid_x.ravel().astype("float64"), grid_since.ravel()
    values = function(x, tenure - since, np.full(len(x), tenure))
    grid = pd.DataFrame(values.reshape(len(since_last), len(frequencies)), index=since_last.astype("int64"), columns=frequencies)
    grid.index.name, grid.columns.name = "days since last purchase", "repeat purchases"
    return grid


def value_by_segment(values: pd.DataFrame, segments: pd.Series, column: str = PREDICTED_CLV) -> pd.DataFrame:
    """Per segment: customers, total, mean and median of ``column``, largest total first (customers without a
    segment under "(no segment)", never dropped)."""
    from rfm.outputs.files import NO_SEGMENT

    named = segments.reindex(values.index).astype("object").where(lambda s: s.notna(), NO_SEGMENT).astype("str")
    frame = pd.DataFrame({"segment": named, "value": values[column]})
    table = frame.groupby("segment")["value"].agg(customers="size", total="sum", mean="mean", median="median")
    return table.sort_values("total", ascending=False, kind="stable")


__all__ = [
    "EXPECTED_ORDER_VALUE",
    "EXPECTED_PURCHASES",
    "PREDICTED_CLV",
    "P_ALIVE",
    "VALUE_COLUMNS",
    "VALUE_LABELS",
    "Holdout",
    "ValueModel",
    "ValueSettings",
    "alive_matrix",
    "customer_value",
    "fit_value",
    "holdout",
    "predict_value",
    "purchases_matrix",
    "value_by_segment",
    "what_if_value",
]
