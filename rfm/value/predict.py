"""What each customer is worth next and how likely they are gone: P(alive), expected purchases, predicted CLV and
churn, from :mod:`rfm.value.models` and :mod:`rfm.value.churn`.

:func:`compare_purchase_models` fits BG/NBD, MBG/NBD and Pareto/NBD on a file's orders, and again on all but its
last days to check each on the days it did not see, and picks the one with the smallest holdout error (the lowest
BIC when the history is too short to hold any out). :func:`fit_value` fits that model, or one the user chose, and
Gamma-Gamma for spend (time in days); :func:`customer_value` gives the per-customer columns (value and churn) that
the Value page, the exports and the what-if page show; :func:`holdout` checks one model on a period it did not
see, and :func:`alive_matrix` / :func:`purchases_matrix` are the grids of the two heat maps.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike

from rfm import schema
from rfm.cleaning.orders import DATE
from rfm.errors import RFMInputError, TooLittleDataError
from rfm.schema import (
    CHURN_RISK,
    CUSTOMER_VALUE_COLUMNS,
    EXPECTED_ORDER_VALUE,
    EXPECTED_PURCHASES,
    P_ALIVE,
    PREDICTED_CLV,
    PURCHASE_MODEL_CHOICES,
    VALUE_COLUMNS,
    VALUE_LABELS,
    PurchaseModelChoice,
)
from rfm.shared.data_needs import MIN_HOLDOUT_SPAN_DAYS, more_needed
from rfm.value.churn import CHURN_BANDS, PURCHASE_MODELS, ModelComparison, ModelFit, churn_table, compare_models
from rfm.value.models import (
    GammaGammaModel,
    PurchaseModel,
    clv_summary,
    customer_lifetime_value,
    fit_spend,
    holdout_check,
    holdout_error,
)

#: Each purchase model's key (rfm.schema.PURCHASE_MODEL_CHOICES) by its name in rfm.value.churn.PURCHASE_MODELS.
MODEL_KEYS: dict[str, str] = {label: key for key, label in PURCHASE_MODEL_CHOICES.items() if key != "auto"}
def _check_choice(purchase_model: object) -> None:
    if purchase_model not in PURCHASE_MODEL_CHOICES:
        raise RFMInputError(f"The purchase model should be one of {list(PURCHASE_MODEL_CHOICES)}; got {purchase_model!r}.")


@dataclass(frozen=True)
class ValueSettings:
    """The horizon and money settings of the predictions; frozen so that it keys a cache."""

    horizon_days: int = 90  # expected purchases over the next N days
    months: int = 12  # CLV over the next N months
    annual_discount_rate: float = 0.10
    margin: float = 1.0  # share of revenue that is profit; 1 = CLV as revenue
    purchase_model: PurchaseModelChoice = "auto"  # the model fit_value fits (the app's and the CLI's choice)

    def __post_init__(self) -> None:
        _check_choice(self.purchase_model)
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
class ModelSelection:
    """BG/NBD, MBG/NBD and Pareto/NBD compared on one file's orders, and the one "auto" takes.

    ``comparison`` holds the models fitted on every order up to the observation end (log-likelihood, BIC): these
    fits make the predictions. ``holdout`` holds them fitted on the orders up to ``calibration_end`` only, each with
    its holdout error on the days after; it is ``None`` when the history is too short to hold any out (``reason``
    says why), and the lowest BIC decides instead.
    """

    comparison: ModelComparison
    holdout: ModelComparison | None
    calibration_end: dt.date | None
    observation_end: dt.date
    best: str  # the key (rfm.schema.PURCHASE_MODEL_CHOICES) of the model "auto" takes
    decided_by: str  # "holdout" (the smallest holdout error) or "bic" (the lowest BIC)
    reason: str  # one sentence: which model "auto" takes, and why
    summary: pd.DataFrame = field(repr=False)  # clv_summary of every order, time in days

    def fit(self, purchase_model: str) -> ModelFit:
        """The fit on every order of one model, by key; raises :class:`RFMInputError` when it could not be fitted."""
        name = PURCHASE_MODEL_CHOICES[purchase_model]
        for fit in self.comparison.fits:
            if fit.name == name:
                return fit
        raise RFMInputError(" ".join(w for w in self.comparison.warnings if w.startswith(name)) or f"{name} was not fitted.")

    def table(self) -> pd.DataFrame:
        """One row per fitted model: ``model``, its parameters (``r``, ``alpha``, ``a``, ``b``, ``s``, ``beta``;
        NaN where it has none), ``log_likelihood`` and ``bic`` on every order, and ``holdout_error`` (purchases per
        customer the group means miss by over the held-out days; NaN without a holdout check)."""
        table = self.comparison.table()
        errors = {} if self.holdout is None else {fit.name: fit.holdout_error for fit in self.holdout.fits}
        table["holdout_error"] = [errors.get(name, np.nan) for name in table["model"]]
        return table

    @property
    def warnings(self) -> tuple[str, ...]:
        """Why a model is missing from the comparison or from the holdout check."""
        held = () if self.holdout is None else tuple(f"On the holdout check: {w}" for w in self.holdout.warnings)
        return self.comparison.warnings + held


def compare_purchase_models(orders: pd.DataFrame, observation_end: dt.date, holdout_days: int | None = None) -> ModelSelection:
    """Fit the three purchase models on the orders up to ``observation_end`` and check each on a holdout.

    The holdout check fits them again on all but the last ``holdout_days`` (default: a third of the period, as
    :func:`holdout`) and measures how far each one's predictions of those days miss (:func:`holdout_check`). The
    model with the smallest holdout error is ``best``; when no check can be made (the history is too short, or
    nobody bought twice before the cut) the lowest BIC on every order decides.

    Raises
    ------
    RFMInputError
        When none of the three models can be fitted on every order (too few customers, nobody bought twice).
    """
    summary = clv_summary(orders, observation_end, unit_days=1.0)
    comparison = compare_models(summary)
    try:
        calibration, calibration_end = _calibration_summary(orders, observation_end, holdout_days)
        checked: ModelComparison | None = compare_models(calibration)
        why_not = ""
    except RFMInputError as error:
        checked, calibration_end, why_not = None, None, str(error)
    errors: dict[str, float] = {} if checked is None else {
        fit.name: fit.holdout_error for fit in checked.fits if fit.holdout_error is not None
    }
    candidates = [fit for fit in comparison.fits if fit.name in errors]
    if candidates:
        best = min(candidates, key=lambda fit: errors[fit.name])
        days = (observation_end - calibration_end).days if calibration_end else 0
        reason = (
            f"{best.name} has the smallest holdout error: fitted on the orders up to {calibration_end}, its "
            f"predictions of the {days:,} days after miss by {errors[best.name]:.3f} purchases per customer ("
            + ", ".join(f"{fit.name} {errors[fit.name]:.3f}" for fit in candidates if fit is not best) + ")."
        )
        return ModelSelection(comparison, checked, calibration_end, observation_end, MODEL_KEYS[best.name], "holdout", reason, summary)
    best = comparison.best
    reason = f"{best.name} has the lowest BIC ({best.bic:,.1f}); no holdout check: {why_not or 'no model could be checked.'}"
    return ModelSelection(comparison, checked, calibration_end, observation_end, MODEL_KEYS[best.name], "bic", reason, summary)


@dataclass(frozen=True, eq=False)
class ValueModel:
    """A purchase model (BG/NBD, MBG/NBD or Pareto/NBD) and Gamma-Gamma fitted on a file's orders up to
    ``observation_end``, time in days."""

    purchases: PurchaseModel
    gamma_gamma: GammaGammaModel | None
    summary: pd.DataFrame = field(repr=False)  # clv_summary: frequency, recency, T, monetary_value per customer
    observation_end: dt.date
    warnings: tuple[str, ...] = ()
    purchase_model: str = "bgnbd"  # the key (rfm.schema.PURCHASE_MODEL_CHOICES) of ``purchases``
    decided_by: str = "chosen"  # "holdout" or "bic" when "auto" picked it, "chosen" when it was asked for
    selection: ModelSelection | None = None  # the three models compared, when they were

    @property
    def purchase_model_name(self) -> str:
        """"BG/NBD", "MBG/NBD" or "Pareto/NBD"."""
        return PURCHASE_MODEL_CHOICES[self.purchase_model]

    def why(self) -> str:
        """One sentence: which purchase model makes the predictions, and what decided."""
        if self.decided_by != "chosen" and self.selection is not None:
            return self.selection.reason
        chosen = f"{self.purchase_model_name}, as chosen."
        if self.selection is None:
            return chosen
        auto = self.selection
        by = "the smallest holdout error" if auto.decided_by == "holdout" else "the lowest BIC"
        return f"{chosen} Auto would take {PURCHASE_MODEL_CHOICES[auto.best]} ({by})."

    def parameters(self) -> pd.DataFrame:
        """The fitted parameters, one row per model: ``model``, ``parameter``, ``value``."""
        rows = [(self.purchase_model_name, name, value) for name, value in self.purchases.params_.items()]
        if self.gamma_gamma is not None:
            rows += [("Gamma-Gamma", name, value) for name, value in self.gamma_gamma.params_.items()]
        return pd.DataFrame(rows, columns=["model", "parameter", "value"])


def fit_value(
    orders: pd.DataFrame,
    observation_end: dt.date,
    purchase_model: PurchaseModelChoice = "auto",
    *,
    selection: ModelSelection | None = None,
) -> ValueModel:
    """Fit a purchase model and Gamma-Gamma on the orders up to ``observation_end`` (the analysis date).

    ``purchase_model`` is a key of :data:`rfm.schema.PURCHASE_MODEL_CHOICES`: "auto" compares the three models
    (:func:`compare_purchase_models`) and takes the best; a named model is fitted alone, or taken from
    ``selection`` when given (:func:`compare_purchase_models` of the same orders and day), which saves refitting.

    Raises
    ------
    RFMInputError
        When the purchase model cannot be fitted (too few customers, nobody bought twice); Gamma-Gamma's failure is
        a warning.
    """
    _check_choice(purchase_model)
    if selection is None and purchase_model == "auto":
        selection = compare_purchase_models(orders, observation_end)
    if selection is not None:
        key = selection.best if purchase_model == "auto" else purchase_model
        summary, purchases = selection.summary, selection.fit(key).model
    else:
        key, summary = purchase_model, clv_summary(orders, observation_end, unit_days=1.0)
        purchases = PURCHASE_MODELS[PURCHASE_MODEL_CHOICES[key]]().fit(summary["frequency"], summary["recency"], summary["T"])
    gamma_gamma, warnings = fit_spend(summary)
    decided_by = selection.decided_by if selection is not None and purchase_model == "auto" else "chosen"
    return ValueModel(purchases, gamma_gamma, summary, observation_end, tuple(warnings), key, decided_by, selection)


def predict_value(
    model: ValueModel, frequency: ArrayLike, recency: ArrayLike, T: ArrayLike, monetary_value: ArrayLike, settings: ValueSettings = ValueSettings()
) -> dict[str, np.ndarray]:
    """The four value columns for customers given by their BTYD summary (days)."""
    purchases = model.purchases
    out = {
        P_ALIVE: purchases.p_alive(frequency, recency, T),
        EXPECTED_PURCHASES: purchases.expected_purchases(settings.horizon_days, frequency, recency, T),
    }
    if model.gamma_gamma is None:
        out[EXPECTED_ORDER_VALUE] = out[PREDICTED_CLV] = np.full(len(out[P_ALIVE]), np.nan)
        return out
    out[EXPECTED_ORDER_VALUE] = model.gamma_gamma.expected_average_value(frequency, monetary_value)
    out[PREDICTED_CLV] = customer_lifetime_value(
        purchases, model.gamma_gamma, frequency, recency, T, monetary_value,
        months=settings.months, annual_discount_rate=settings.annual_discount_rate, margin=settings.margin,
    )
    return out


def customer_value(model: ValueModel, settings: ValueSettings = ValueSettings()) -> pd.DataFrame:
    """Per customer, indexed by ``customer_id`` like the RFM table, the columns of
    :data:`rfm.schema.CUSTOMER_VALUE_COLUMNS`: ``p_alive``, ``expected_purchases`` (next ``horizon_days``),
    ``expected_order_value`` and ``predicted_clv``, then the churn fields of :func:`rfm.value.churn.churn_table`
    (``churn_probability``, ``churn_risk``, ``avg_days_between_orders``, ``expected_next_order``,
    ``predicted_orders_365d``)."""
    summary = model.summary
    columns = predict_value(model, summary["frequency"], summary["recency"], summary["T"], summary["monetary_value"], settings)
    values = pd.DataFrame(columns, index=summary.index)[list(VALUE_COLUMNS)]
    return values.join(churn_table(model.purchases, summary, model.observation_end))[list(CUSTOMER_VALUE_COLUMNS)]


def what_if_value(model: ValueModel, values: dict[str, float], tenure_days: float, settings: ValueSettings = ValueSettings()) -> dict[str, Any]:
    """The value and churn columns of a customer given as the what-if page sets them.

    ``values`` holds ``recency_days``, ``frequency`` (orders) and ``monetary`` (total spend); ``tenure_days`` is
    how long ago their first purchase was (the model's feature when it has one). Orders stand for purchase days:
    repeat purchases = frequency − 1, days from first to last purchase = tenure − recency, spend per order =
    monetary ÷ frequency. Returns the :data:`rfm.schema.CUSTOMER_VALUE_COLUMNS`: floats, but ``churn_risk`` (text)
    and ``expected_next_order`` (a ``pd.Timestamp``, NaT when under one order a year is expected).
    """
    frequency = max(float(values[schema.FREQUENCY]), 1.0)
    tenure = max(float(tenure_days), float(values[schema.RECENCY]), 0.0)
    summary = pd.DataFrame({"frequency": [frequency - 1.0], "recency": [tenure - float(values[schema.RECENCY])], "T": [tenure]})
    predicted = predict_value(
        model, summary["frequency"].to_numpy(), summary["recency"].to_numpy(), summary["T"].to_numpy(),
        np.array([float(values[schema.MONETARY]) / frequency]), settings,
    )
    out: dict[str, Any] = {name: float(column[0]) for name, column in predicted.items()}
    churn = churn_table(model.purchases, summary, model.observation_end).iloc[0]
    for name, value in churn.items():
        out[str(name)] = value if isinstance(value, (str, pd.Timestamp)) or value is pd.NaT else float(value)
    return out


def churn_band_counts(values: pd.DataFrame) -> pd.Series:
    """Customers per churn-risk band of :func:`customer_value`'s table, "Low", "Medium", "High" in that order
    (0 for an empty band)."""
    return values[CHURN_RISK].value_counts().reindex(list(CHURN_BANDS), fill_value=0).astype("int64")


@dataclass(frozen=True, eq=False)
class Holdout:
    """A purchase model fitted on the orders up to ``calibration_end`` and compared with the days after it."""

    calibration_end: dt.date
    observation_end: dt.date
    table: pd.DataFrame  # rfm.value.models.holdout_check: group, customers, actual, predicted
    error: float  # rfm.value.models.holdout_error: purchases per customer the group means miss by
    actual_total: float
    predicted_total: float
    parameters: dict[str, float]
    purchase_model: str = "bgnbd"  # the key (rfm.schema.PURCHASE_MODEL_CHOICES) of the model checked


def holdout(orders: pd.DataFrame, observation_end: dt.date, holdout_days: int | None = None, purchase_model: str = "bgnbd") -> Holdout:
    """Fit a purchase model (a key of :data:`rfm.schema.PURCHASE_MODEL_CHOICES` other than "auto"; default
    BG/NBD) on all but the last ``holdout_days`` (default: a third of the period) and predict them."""
    if purchase_model not in MODEL_KEYS.values():
        raise RFMInputError(f"The holdout check needs one purchase model, one of {sorted(MODEL_KEYS.values())}; got {purchase_model!r}.")
    summary, calibration_end = _calibration_summary(orders, observation_end, holdout_days)
    model = PURCHASE_MODELS[PURCHASE_MODEL_CHOICES[purchase_model]]().fit(summary["frequency"], summary["recency"], summary["T"])
    table = holdout_check(summary, model)
    predicted = table["predicted"] * table["customers"]
    actual = table["actual"] * table["customers"]
    return Holdout(
        calibration_end, observation_end, table, holdout_error(table), float(actual.sum()), float(predicted.sum()),
        dict(model.params_), purchase_model,
    )


def _calibration_summary(orders: pd.DataFrame, observation_end: dt.date, holdout_days: int | None) -> tuple[pd.DataFrame, dt.date]:
    """:func:`clv_summary` split at the start of the holdout, and that day (the last of the calibration)."""
    first = orders[DATE].min().date()
    period = (observation_end - first).days
    if period < MIN_HOLDOUT_SPAN_DAYS:
        span = max(period, 0)
        raise TooLittleDataError(
            f"The orders span {span} day(s) up to {observation_end}: too short to hold any out. The holdout check "
            f"needs at least {MIN_HOLDOUT_SPAN_DAYS} days {more_needed(MIN_HOLDOUT_SPAN_DAYS, span)}."
        )
    days = holdout_days if holdout_days is not None else max(period // 3, 1)
    if not 1 <= days < period:
        raise RFMInputError(
            f"A holdout of {days:,} days does not fit in the {period:,} days from {first} to {observation_end}: "
            f"choose between 1 and {period - 1:,}."
        )
    calibration_end = observation_end - dt.timedelta(days=days)
    return clv_summary(orders, observation_end, calibration_end=calibration_end, unit_days=1.0), calibration_end


def alive_matrix(model: ValueModel, max_frequency: int | None = None, points: int = 40) -> pd.DataFrame:
    """P(alive) of a customer whose first purchase was T days ago (T: the longest tenure), by repeat purchases
    (columns) and days since the last purchase (rows)."""
    return _grid(model, max_frequency, points, model.purchases.p_alive)


def purchases_matrix(model: ValueModel, horizon_days: int, max_frequency: int | None = None, points: int = 40) -> pd.DataFrame:
    """Expected purchases over the next ``horizon_days`` on the grid of :func:`alive_matrix`."""
    return _grid(model, max_frequency, points, lambda x, t_x, T: model.purchases.expected_purchases(horizon_days, x, t_x, T))


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
    "CUSTOMER_VALUE_COLUMNS",
    "EXPECTED_ORDER_VALUE",
    "EXPECTED_PURCHASES",
    "MODEL_KEYS",
    "PREDICTED_CLV",
    "P_ALIVE",
    "VALUE_COLUMNS",
    "VALUE_LABELS",
    "Holdout",
    "ModelSelection",
    "ValueModel",
    "ValueSettings",
    "alive_matrix",
    "churn_band_counts",
    "compare_purchase_models",
    "customer_value",
    "fit_value",
    "holdout",
    "predict_value",
    "purchases_matrix",
    "value_by_segment",
    "what_if_value",
]
