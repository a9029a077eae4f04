"""Predictive customer lifetime value: BG/NBD purchase counts and Gamma-Gamma spend, fitted by maximum likelihood.

The frame that goes in is an *orders* table (one row per order: ``customer_id``, ``date``, ``value``);
:func:`clv_summary` turns it into the "buy till you die" summary (one row per customer: ``frequency``,
``recency``, ``T``, ``monetary_value``) that the two models are fitted on, and :func:`customer_lifetime_value`
combines them into a discounted value per customer. Models and formulas:

- BG/NBD: Fader, Hardie & Lee (2005), "Counting your customers the easy way: an alternative to the
  Pareto/NBD model", Marketing Science 24(2).
- Gamma-Gamma: Fader & Hardie (2013), "The Gamma-Gamma model of monetary value".

Both follow the conventions of the ``lifetimes`` package, so its published CDNOW figures are reproduced
(``tests/value/test_models.py``); only numpy, scipy and pandas are used. The churn models beside BG/NBD
(MBG/NBD in :mod:`rfm.value.mbg_nbd`, Pareto/NBD in :mod:`rfm.value.pareto_nbd`) share this module's fit plumbing:
the checks and distinct histories of :func:`_fit_data`, the optimiser :func:`_maximise`, and
:class:`PurchaseModel`, what a fitted model of repeat purchases offers.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Protocol, Self, TypeAlias

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike
from scipy import optimize, special

from rfm import schema
from rfm.cleaning.orders import DATE, VALUE
from rfm.errors import RFMInputError, TooLittleDataError
from rfm.shared.data_needs import MIN_MODEL_CUSTOMERS, MIN_REPEAT_BUYERS, more_needed, too_little
from rfm.shared.numeric import distinct_rows, is_int

#: Days in an average month (365.25 / 12): the step of the CLV sum.
DAYS_PER_MONTH = 30.4375
#: |correlation| between purchase count and spend above which Gamma-Gamma's independence assumption is doubtful.
CORRELATION_WARNING = 0.3

# The optimiser works on log-parameters inside a box of e^±20; a fitted parameter beyond e^±14 (1.2e6) is
# running off to 0 or infinity, far from any value a calendar in days or weeks gives.
_LOG_BOUND = 20.0
_RUNAWAY = 14.0
_BGNBD_PARAMS = ("r", "alpha", "a", "b")
_GAMMA_GAMMA_PARAMS = ("p", "q", "v")


# ----------------------------------------------------------------------------------------------------------------
# Orders -> summary


#: A day as a date, a timestamp or ISO text.
DateLike: TypeAlias = dt.date | pd.Timestamp | str


def clv_summary(
    orders: pd.DataFrame,
    observation_end: DateLike,
    *,
    calibration_end: DateLike | None = None,
    unit_days: float = 1.0,
) -> pd.DataFrame:
    """The per-customer BTYD summary of an orders table (the ``lifetimes`` convention).

    Orders are grouped per customer per calendar day: several orders on one day are one purchase, their
    values summed. A customer's first purchase day starts their clock; the repeat purchases are the later days.
    ``T`` runs from the first purchase day to the end day (``calibration_end`` when given, else
    ``observation_end``) without counting the end day itself: a first purchase on 1997-01-01 and an end of
    1997-09-30 give T = 272 days = 38.86 weeks, which is how the published CDNOW summary counts it.

    Parameters
    ----------
    orders : DataFrame
        One row per order, with columns ``customer_id`` (str), ``date`` (datetime64) and ``value`` (float).
    observation_end : date-like
        The last day of data; later orders are ignored. Compared by calendar day.
    calibration_end : date-like, optional
        Split the data: the summary uses orders up to and including this day (customers who first buy
        later are dropped), and the holdout columns count the purchases after it, up to ``observation_end``.
    unit_days : float
        Length of the time unit in days (7 for weeks) for ``recency``, ``T`` and ``duration_holdout``.

    Returns
    -------
    DataFrame indexed by ``customer_id`` (str, sorted) with columns
        ``frequency`` (int, repeat purchase days: distinct purchase days - 1), ``recency`` (float, last minus
        first purchase day, in units), ``T`` (float, end day minus first purchase day, in units),
        ``monetary_value`` (float, mean value of the repeat purchase days; 0.0 for frequency 0), and with
        ``calibration_end`` also ``frequency_holdout`` (int, purchase days after ``calibration_end``),
        ``monetary_value_holdout`` (float, their mean value; 0.0 when none) and ``duration_holdout``
        (float, ``observation_end`` minus ``calibration_end``, in units).

    Examples
    --------
    >>> orders = pd.DataFrame({"customer_id": ["a", "a", "a", "b"],
    ...                        "date": pd.to_datetime(["2024-01-01", "2024-01-01", "2024-01-11", "2024-01-05"]),
    ...                        "value": [10.0, 5.0, 20.0, 8.0]})
    >>> clv_summary(orders, "2024-01-31")  # doctest: +NORMALIZE_WHITESPACE
                 frequency  recency     T  monetary_value
    customer_id
    a                    1     10.0  30.0            20.0
    b                    0      0.0  26.0             0.0
    """
    unit_days = _positive_number(unit_days, "unit_days")
    end = _day(observation_end, "observation_end")
    days = _purchase_days(orders, end)
    if calibration_end is None:
        return _summarise(days, end, unit_days)
    return _calibration_summary(days, _day(calibration_end, "calibration_end"), end, unit_days)


def _calibration_summary(
    days: pd.DataFrame, calibration: pd.Timestamp, end: pd.Timestamp, unit_days: float
) -> pd.DataFrame:
    """The summary of the purchase days up to ``calibration``, with the holdout columns of the days after it."""
    first_day = days[DATE].min()
    if not first_day <= calibration < end:
        raise RFMInputError(
            f"calibration_end {calibration:%Y-%m-%d} should be on or after the first order "
            f"({first_day:%Y-%m-%d}) and before observation_end ({end:%Y-%m-%d})."
        )
    summary = _summarise(days[days[DATE] <= calibration], calibration, unit_days)
    holdout = days[(days[DATE] > calibration) & days[schema.CUSTOMER_ID].isin(summary.index)]
    per_customer = holdout.groupby(schema.CUSTOMER_ID)[VALUE]
    summary["frequency_holdout"] = per_customer.size().reindex(summary.index, fill_value=0).astype("int64")
    summary["monetary_value_holdout"] = per_customer.mean().reindex(summary.index, fill_value=0.0)
    summary["duration_holdout"] = (end - calibration).days / unit_days
    return summary


def _purchase_days(orders: pd.DataFrame, end: pd.Timestamp) -> pd.DataFrame:
    """One row per customer and purchase day up to ``end`` (values summed), sorted by customer then day."""
    if not isinstance(orders, pd.DataFrame):
        raise RFMInputError(f"orders should be a DataFrame; got a {type(orders).__name__}.")
    missing = [c for c in (schema.CUSTOMER_ID, DATE, VALUE) if c not in orders.columns]
    if missing:
        raise RFMInputError(f"The orders table has no column {missing}; it has {list(orders.columns)}.")
    customers = orders[schema.CUSTOMER_ID]
    dates = pd.to_datetime(orders[DATE], errors="coerce")
    if isinstance(dates.dtype, pd.DatetimeTZDtype):
        dates = dates.dt.tz_localize(None)
    values = pd.to_numeric(orders[VALUE], errors="coerce")
    problems = [
        _problem(customers.isna().to_numpy(), orders[schema.CUSTOMER_ID], "customer_id is missing"),
        _problem(dates.isna().to_numpy(), orders[DATE], "date is missing or not a date"),
        _problem(~np.isfinite(values.to_numpy(dtype=float, na_value=np.nan)), orders[VALUE],
                 "value is missing or not a number"),
    ]
    problems = [p for p in problems if p]
    if problems:
        raise RFMInputError(" ".join(problems))
    frame = pd.DataFrame({
        schema.CUSTOMER_ID: customers.astype("str").to_numpy(),
        DATE: dates.dt.normalize().to_numpy(),
        VALUE: values.to_numpy(dtype=float),
    })
    frame = frame[frame[DATE] <= end]
    if frame.empty:
        first = "" if dates.empty else f" (the first order is on {dates.min():%Y-%m-%d})"
        raise RFMInputError(f"There are no orders on or before observation_end {end:%Y-%m-%d}{first}.")
    days = frame.groupby([schema.CUSTOMER_ID, DATE], sort=True)[VALUE].sum()
    return days.reset_index()


def _problem(bad: np.ndarray, column: pd.Series, what: str) -> str:
    """'<what> in N of M orders (first: row 7, 'x').', or '' when no row is bad."""
    count = int(bad.sum())
    if not count:
        return ""
    position = int(np.argmax(bad))
    return (f"{what} in {count:,} of {len(bad):,} orders "
            f"(first: row {column.index[position]!r}, {column.iloc[position]!r}).")


def _summarise(days: pd.DataFrame, end: pd.Timestamp, unit_days: float) -> pd.DataFrame:
    """frequency / recency / T / monetary_value per customer from sorted purchase days up to ``end``."""
    per_customer = days.groupby(schema.CUSTOMER_ID, sort=True)[DATE]
    first, last = per_customer.min(), per_customer.max()
    is_repeat = days[schema.CUSTOMER_ID].duplicated().to_numpy()  # every day after a customer's first
    repeats = days[is_repeat].groupby(schema.CUSTOMER_ID)[VALUE]
    summary = pd.DataFrame(
        {
            "frequency": (per_customer.size() - 1).astype("int64"),
            "recency": (last - first).dt.days / unit_days,
            "T": (end - first).dt.days / unit_days,
            "monetary_value": repeats.mean().reindex(first.index, fill_value=0.0),
        }
    )
    summary.index = summary.index.astype("str").rename(schema.CUSTOMER_ID)
    return summary


def _day(value, name: str) -> pd.Timestamp:
    """A date-like setting as a tz-naive midnight timestamp."""
    try:
        day = pd.Timestamp(value)
    except (TypeError, ValueError):
        day = pd.NaT
    if pd.isna(day):
        raise RFMInputError(f"{name} should be a date; got {value!r}.")
    return day.tz_localize(None).normalize() if day.tzinfo else day.normalize()


def _positive_number(value, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float, np.number)) or not np.isfinite(value) \
            or value <= 0:
        raise RFMInputError(f"{name} should be a number > 0; got {value!r}.")
    return float(value)


# ----------------------------------------------------------------------------------------------------------------
# BG/NBD


class PurchaseModel(Protocol):
    """What a fitted model of repeat purchases offers (BG/NBD here; MBG/NBD in :mod:`rfm.value.mbg_nbd`, Pareto/NBD
    in :mod:`rfm.value.pareto_nbd`): each is fitted on the same ``frequency``, ``recency``, ``T`` summary."""

    params_: dict[str, float]
    log_likelihood_: float
    n_customers_: int

    def fit(self, frequency: ArrayLike, recency: ArrayLike, T: ArrayLike) -> Self: ...

    def expected_purchases(
        self, t: float | ArrayLike, frequency: ArrayLike, recency: ArrayLike, T: ArrayLike
    ) -> np.ndarray: ...

    def p_alive(self, frequency: ArrayLike, recency: ArrayLike, T: ArrayLike) -> np.ndarray: ...

    def expected_purchases_new(self, t: float | np.ndarray) -> np.ndarray | float: ...


class BetaGeoModel:
    """BG/NBD model of repeat purchases (Fader, Hardie & Lee 2005), fitted by maximum likelihood.

    While alive, a customer buys at a rate λ ~ Gamma(r, α); after each purchase they drop out with
    probability p ~ Beta(a, b).

    Attributes
    ----------
    params_ : dict[str, float]
        ``r``, ``alpha`` (in the summary's time unit), ``a``, ``b``.
    log_likelihood_ : float
        Log-likelihood of the fitted data at ``params_``.
    n_customers_ : int
        Customers the model was fitted on.

    Examples
    --------
    >>> model = BetaGeoModel().fit(summary["frequency"], summary["recency"], summary["T"])  # doctest: +SKIP
    >>> model.expected_purchases(39, summary["frequency"], summary["recency"], summary["T"])  # doctest: +SKIP
    """

    #: Whether P(alive) says anything about a customer without a repeat purchase. Not here: a BG/NBD customer can
    #: drop out only right after a purchase, so one who never bought again is alive by construction.
    judges_one_time_buyers = False

    def fit(self, frequency: ArrayLike, recency: ArrayLike, T: ArrayLike) -> BetaGeoModel:
        """Fit by maximum likelihood.

        Parameters
        ----------
        frequency, recency, T : array-like of shape (n_customers,)
            Repeat purchases, time from first to last purchase, and time from first purchase to the end of
            the data, as :func:`clv_summary` gives them.

        Returns
        -------
        self
        """
        self.params_, self.log_likelihood_, self.n_customers_ = _fit_beta_geometric(
            frequency, recency, T, drop_at_start=False
        )
        return self

    def expected_purchases(self, t: float | ArrayLike, frequency: ArrayLike, recency: ArrayLike, T: ArrayLike) -> np.ndarray:
        """Expected purchases in the next ``t`` time units, given each customer's history (FHL 2005, eq. 10).

        Parameters
        ----------
        t : float or array-like
            Horizon in the summary's time unit (>= 0); broadcast against the customers.
        frequency, recency, T : array-like of shape (n_customers,)

        Returns
        -------
        ndarray of shape (n_customers,), finite and >= 0.
        """
        _check_fitted(self)
        x, t_x, T = _btyd_arrays(frequency, recency, T)
        t = _horizon(t)
        r, alpha, a, b = (self.params_[name] for name in _BGNBD_PARAMS)
        return _bgnbd_expected(t, x, alpha + T, r, a, b) * _p_alive(x, t_x, T, r, alpha, a, b)

    def p_alive(self, frequency: ArrayLike, recency: ArrayLike, T: ArrayLike) -> np.ndarray:
        """Probability that each customer is still active at the end of their data (1 for frequency 0).

        Parameters
        ----------
        frequency, recency, T : array-like of shape (n_customers,)

        Returns
        -------
        ndarray of shape (n_customers,), in [0, 1].
        """
        _check_fitted(self)
        x, t_x, T = _btyd_arrays(frequency, recency, T)
        return _p_alive(x, t_x, T, *(self.params_[name] for name in _BGNBD_PARAMS))

    def expected_purchases_new(self, t: float | np.ndarray) -> np.ndarray | float:
        """Expected purchases E[X(t)] of a newly acquired customer in their first ``t`` time units.

        Parameters
        ----------
        t : float or array-like
            Horizon in the summary's time unit (>= 0).

        Returns
        -------
        float for a scalar ``t``, else an ndarray shaped like ``t``.
        """
        _check_fitted(self)
        r, alpha, a, b = (self.params_[name] for name in _BGNBD_PARAMS)
        return _bgnbd_expected(_horizon(t), 0.0, alpha, r, a, b)


def _fit_beta_geometric(
    frequency: ArrayLike, recency: ArrayLike, T: ArrayLike, *, drop_at_start: bool
) -> tuple[dict[str, float], float, int]:
    """``(params_, log_likelihood_, n_customers_)`` of BG/NBD, or of MBG/NBD with ``drop_at_start``."""
    name = "MBG/NBD" if drop_at_start else "BG/NBD"
    (x, t_x, T), weight, n_customers = _fit_data(frequency, recency, T, name)
    # Start from λ's mean at the observed repeat-purchase rate, with r = a = b = 1.
    alpha = np.sum(weight * T) / np.sum(weight * x)
    start = np.log([1.0, alpha, 1.0, 1.0])
    data = (x, t_x, T, weight, drop_at_start)
    log_params, mean_loglik = _maximise(_bgnbd_loglik, start, data, name, _BGNBD_PARAMS)
    return dict(zip(_BGNBD_PARAMS, np.exp(log_params).tolist())), mean_loglik * n_customers, n_customers


def _bgnbd_loglik(log_params: np.ndarray, x, t_x, T, weight, drop_at_start: bool = False) -> tuple[float, np.ndarray]:
    """Weighted mean BG/NBD log-likelihood and its gradient with respect to the log-parameters.

    A BG/NBD customer has had n = x chances to drop out, one right after each repeat purchase; with
    ``drop_at_start`` (MBG/NBD) also one right after the first purchase, n = x + 1. With p ~ Beta(a, b), surviving
    them all has probability B(a, b+n)/B(a, b), dropping out at the last one B(a, b+n)/B(a, b) a/(b+n-1).
    """
    r, alpha, a, b = np.exp(log_params)
    chances = x + drop_at_start
    # The special functions depend on the frequency alone: evaluate them once per distinct frequency.
    counts, which = np.unique(chances, return_inverse=True)
    frequencies = counts - drop_at_start
    gammaln, betaln, psi = special.gammaln, special.betaln, special.digamma
    # Two ways to produce the data: still alive at T, or dropped out right after the last purchase (n > 0 only).
    log_alive = -(r + x) * np.log(alpha + T)
    log_dropped = _log_odds_dropped(chances, a, b) - (r + x) * np.log(alpha + t_x)
    log_either = np.logaddexp(log_alive, log_dropped)
    share_alive = np.exp(log_alive - log_either)
    share_dropped = np.exp(log_dropped - log_either)
    by_frequency = (gammaln(r + frequencies) - gammaln(r) + betaln(a, b + counts) - betaln(a, b))
    loglik = by_frequency[which] + r * np.log(alpha) + log_either
    gradient = np.array([
        (psi(r + frequencies) - psi(r))[which] + np.log(alpha)
        - share_alive * np.log(alpha + T) - share_dropped * np.log(alpha + t_x),
        r / alpha - (r + x) * (share_alive / (alpha + T) + share_dropped / (alpha + t_x)),
        (psi(a + b) - psi(a + b + counts))[which] + share_dropped / a,
        (psi(b + counts) - psi(b) + psi(a + b) - psi(a + b + counts))[which]
        - share_dropped / (b + np.maximum(chances - 1, 0)),
    ])
    total = weight.sum()
    return float(weight @ loglik) / total, (gradient @ weight) * np.exp(log_params) / total


def _log_odds_dropped(chances, a, b) -> np.ndarray:
    """log(a / (b + n - 1)): the odds of having dropped out at the last of n chances rather than surviving them
    (-inf for n = 0)."""
    return np.where(chances > 0, np.log(a) - np.log(b + np.maximum(chances - 1, 0)), -np.inf)


def _p_alive(x, t_x, T, r, alpha, a, b, *, drop_at_start: bool = False) -> np.ndarray:
    """P(alive | x, t_x, T): 1 / (1 + a / (b + n - 1) ((α + T) / (α + t_x))^(r + x)), with n chances to drop out
    (x, or x + 1 with ``drop_at_start``; the odds are 0 for n = 0)."""
    log_odds_dropped = _log_odds_dropped(x + drop_at_start, a, b) + (r + x) * (np.log(alpha + T) - np.log(alpha + t_x))
    return special.expit(-log_odds_dropped)


def _bgnbd_expected(t, x, span, r, a, b) -> np.ndarray | float:
    """E over p ~ Beta(a, b+x) of (1 - (1 + p t/span)^-(r+x)) / p: expected purchases in the next t while alive.

    In closed form (a+b+x-1)/(a-1) [1 - (span/(span+t))^(r+x) 2F1(r+x, b+x; a+b+x-1; t/(span+t))]; times
    P(alive) with span = α + T it is FHL 2005's eq. 10, and with x = 0, span = α their E[X(t)]. The Euler
    transformation 2F1(A, B; C; z) = (1-z)^(C-A-B) 2F1(C-A, C-B; C; z) keeps the first two arguments small
    (a+b-1-r and a-1) however many purchases a customer made. Even so scipy's hyp2f1 returns NaN or 0 for
    some large x and horizons, and the closed form cancels badly when a is near 1; values that are not finite or
    fall outside the bounds g(E[p]) <= E <= (r+x) t/span (g is convex, so Jensen gives the lower one) are
    computed again by quadrature.
    """
    t, x, span = np.broadcast_arrays(*(np.asarray(v, dtype=float) for v in (t, x, span)))
    z = t / (span + t)
    c = a + b + x - 1
    with np.errstate(all="ignore"):
        tail = (1 - z) ** (a - 1) * special.hyp2f1(a + b - 1 - r, a - 1, c, z)
        expected = c / (a - 1) * (1 - tail)
        shape = r + x
        upper = shape * t / span
        lower = _purchases_given_dropout(a / (a + b + x), shape, t / span)
        trouble = ~((expected >= lower * (1 - 1e-6)) & (expected <= upper * (1 + 1e-6))) | (abs(a - 1) < 1e-3)
    expected = np.array(expected)
    if trouble.any():
        expected[trouble] = _expected_by_quadrature(t[trouble], x[trouble], span[trouble], r, a, b)
    return expected if expected.ndim else float(expected)


def _purchases_given_dropout(p, shape, scaled_t):
    """(1 - (1 + p t/span)^-(r+x)) / p: expected purchases in t given the drop-out probability p, with λ integrated."""
    return np.where(p > 0, -np.expm1(-shape * np.log1p(p * scaled_t)) / np.maximum(p, 1e-300), shape * scaled_t)


def _expected_by_quadrature(t, x, span, r, a, b, points: int = 2000, chunk: int = 1000) -> np.ndarray:
    """:func:`_bgnbd_expected` by the trapezoid rule over w = logit(p), where the integrand is smooth and falls
    off exponentially on both sides (p^a as p -> 0, (1-p)^(b+x) as p -> 1), so the rule converges fast."""
    result = np.empty(len(t))
    for begin in range(0, len(t), chunk):
        rows = slice(begin, begin + chunk)
        shape, scaled_t, b_x = (r + x[rows])[:, None], (t[rows] / span[rows])[:, None], (b + x[rows])[:, None]
        peak = np.log(a / b_x)
        low = np.minimum(peak, -np.log1p(shape * scaled_t)) - 40 / a - 5
        high = np.maximum(peak, 0) + 40 / b_x + 5
        w = low + (high - low) * np.linspace(0, 1, points)
        log_p, log_q = special.log_expit(w), special.log_expit(-w)
        gain = -np.expm1(-shape * np.log1p(np.exp(log_p) * scaled_t))
        # In logs: with a < 1, p^(a-1) alone overflows far into the left tail, where the gain (~ p) makes up for it.
        with np.errstate(divide="ignore"):
            integrand = np.exp(np.log(gain) + (a - 1) * log_p + b_x * log_q - special.betaln(a, b_x))
        result[rows] = np.trapezoid(integrand, w, axis=1)
    return result


# ----------------------------------------------------------------------------------------------------------------
# Gamma-Gamma


class GammaGammaModel:
    """Gamma-Gamma model of the average spend per purchase (Fader & Hardie 2013), fitted by maximum likelihood.

    Each purchase's value is Gamma(p, ν) with a customer's ν ~ Gamma(q, v). Fitted on repeat buyers only:
    ``monetary_value`` is the mean of the repeat purchases, so a first purchase alone says nothing here.
    The model assumes spend does not depend on how often a customer buys; see
    ``frequency_monetary_correlation_``.

    Attributes
    ----------
    params_ : dict[str, float]
        ``p``, ``q``, ``v`` (``v`` in money).
    log_likelihood_ : float
        Log-likelihood of the repeat buyers' mean spends at ``params_``.
    n_repeat_buyers_ : int
        Customers used: frequency > 0 and monetary_value > 0.
    n_customers_ : int
        Customers passed to ``fit``.
    frequency_monetary_correlation_ : float
        Pearson correlation between frequency and monetary_value among the repeat buyers used (0.0 when
        either is constant).
    """

    def fit(self, frequency: ArrayLike, monetary_value: ArrayLike) -> GammaGammaModel:
        """Fit by maximum likelihood on the customers with frequency > 0 and monetary_value > 0.

        Parameters
        ----------
        frequency : array-like of shape (n_customers,)
            Repeat purchases.
        monetary_value : array-like of shape (n_customers,)
            Mean value of the repeat purchases.

        Returns
        -------
        self
        """
        x, spend = _spend_arrays(frequency, monetary_value)
        used = (x > 0) & (spend > 0)
        n_used = int(used.sum())
        if n_used < MIN_REPEAT_BUYERS:
            raise TooLittleDataError(
                f"Gamma-Gamma needs at least {MIN_REPEAT_BUYERS} repeat buyers with a positive spend; "
                f"{n_used} of the {len(x):,} customers are {more_needed(MIN_REPEAT_BUYERS, n_used)}."
            )
        x, spend = x[used], spend[used]
        (x_distinct, spend_distinct), weight = distinct_rows(x, spend)
        start = np.log([1.0, 2.0, spend.mean()])
        log_params, mean_loglik = _maximise(
            _gamma_gamma_loglik, start, (x_distinct, spend_distinct, weight), "Gamma-Gamma", _GAMMA_GAMMA_PARAMS
        )
        params = dict(zip(_GAMMA_GAMMA_PARAMS, np.exp(log_params).tolist()))
        if params["q"] <= 1:
            raise RFMInputError(
                f"Gamma-Gamma fitted q = {params['q']:.3g} <= 1: the mean spend per purchase is undefined "
                f"(the spends have too heavy a tail for this model)."
            )
        self.params_ = params
        self.log_likelihood_ = mean_loglik * n_used
        self.n_repeat_buyers_ = n_used
        self.n_customers_ = len(used)
        self.frequency_monetary_correlation_ = _correlation(x, spend)
        return self

    def expected_average_value(self, frequency: ArrayLike, monetary_value: ArrayLike) -> np.ndarray:
        """Expected average value of a customer's future purchases: p (v + x z̄) / (p x + q - 1).

        This weighs the customer's own mean spend z̄ against the population mean p v / (q - 1) by how many
        repeat purchases x it rests on. Customers with frequency 0, or a mean spend <= 0 (which the model
        cannot describe), get the population mean.

        Parameters
        ----------
        frequency, monetary_value : array-like of shape (n_customers,)

        Returns
        -------
        ndarray of shape (n_customers,), > 0.
        """
        _check_fitted(self)
        x, spend = _spend_arrays(frequency, monetary_value)
        x = np.where(spend > 0, x, 0.0)
        p, q, v = (self.params_[name] for name in _GAMMA_GAMMA_PARAMS)
        return p * (v + x * np.maximum(spend, 0.0)) / (p * x + q - 1)


def _gamma_gamma_loglik(log_params: np.ndarray, x, spend, weight) -> tuple[float, np.ndarray]:
    """Weighted mean log-density of the mean spends and its gradient with respect to the log-parameters."""
    p, q, v = np.exp(log_params)
    # The special functions depend on the frequency alone: evaluate them once per distinct frequency.
    frequencies, which = np.unique(x, return_inverse=True)
    gammaln, psi = special.gammaln, special.digamma
    px = p * x
    log_total = np.log(x * spend + v)
    by_frequency = gammaln(p * frequencies + q) - gammaln(p * frequencies) - gammaln(q)
    loglik = by_frequency[which] + q * np.log(v) + (px - 1) * np.log(spend) + px * np.log(x) - (px + q) * log_total
    psi_sum = psi(p * frequencies + q)[which]
    gradient = np.array([
        x * (psi_sum - psi(p * frequencies)[which] + np.log(x * spend) - log_total),
        psi_sum - psi(q) + np.log(v) - log_total,
        q / v - (px + q) / (x * spend + v),
    ])
    total = weight.sum()
    return float(weight @ loglik) / total, (gradient @ weight) * np.exp(log_params) / total


def _correlation(x: np.ndarray, spend: np.ndarray) -> float:
    if np.ptp(x) == 0 or np.ptp(spend) == 0:
        return 0.0
    return float(np.corrcoef(x, spend)[0, 1])


# ----------------------------------------------------------------------------------------------------------------
# CLV and holdout check


def customer_lifetime_value(
    bgnbd: PurchaseModel,
    gamma_gamma: GammaGammaModel,
    frequency: ArrayLike,
    recency: ArrayLike,
    T: ArrayLike,
    monetary_value: ArrayLike,
    *,
    months: int = 12,
    annual_discount_rate: float = 0.10,
    unit_days: float = 1.0,
    margin: float = 1.0,
) -> np.ndarray:
    """Discounted value of each customer's purchases over the next ``months`` months.

    For month i = 1 .. months: the expected purchases between the ends of months i-1 and i (BG/NBD, a month
    being 30.4375 days), times the expected average value (Gamma-Gamma), times ``margin``, discounted by
    (1 + monthly rate)^i, where monthly rate = (1 + annual_discount_rate)^(1/12) - 1. This is ``lifetimes``'
    ``customer_lifetime_value`` with an annual rather than a monthly rate.

    Parameters
    ----------
    bgnbd : PurchaseModel
        BG/NBD, or another fitted purchase model (MBG/NBD, Pareto/NBD), fitted on a summary in units of
        ``unit_days`` days.
    gamma_gamma : GammaGammaModel
        Fitted.
    frequency, recency, T, monetary_value : array-like of shape (n_customers,)
        The customers' summary, as :func:`clv_summary` gives it.
    months : int
        Horizon in months (>= 1).
    annual_discount_rate : float
        Yearly discount rate (0.10 = 10 %), >= 0.
    unit_days : float
        Length of the summary's time unit in days.
    margin : float
        Share of the spend that is profit (1.0 = revenue).

    Returns
    -------
    ndarray of shape (n_customers,), aligned with the inputs.
    """
    if not is_int(months) or months < 1:
        raise RFMInputError(f"months should be a whole number >= 1; got {months!r}.")
    if not isinstance(annual_discount_rate, (int, float)) or not 0 <= annual_discount_rate < np.inf:
        raise RFMInputError(f"annual_discount_rate should be a number >= 0; got {annual_discount_rate!r}.")
    if not isinstance(margin, (int, float)) or not np.isfinite(margin):
        raise RFMInputError(f"margin should be a number; got {margin!r}.")
    month = DAYS_PER_MONTH / _positive_number(unit_days, "unit_days")
    value = gamma_gamma.expected_average_value(frequency, monetary_value) * margin
    monthly_growth = (1 + annual_discount_rate) ** (1 / 12)
    clv = np.zeros_like(value)
    purchased = np.zeros_like(value)
    for i in range(1, months + 1):
        by_month_end = bgnbd.expected_purchases(i * month, frequency, recency, T)
        clv += (by_month_end - purchased) * value / monthly_growth**i
        purchased = by_month_end
    return clv


def holdout_check(summary_with_holdout: pd.DataFrame, model: PurchaseModel, max_frequency: int = 7) -> pd.DataFrame:
    """Actual against predicted holdout purchases, by calibration frequency (FHL 2005, figure 4).

    Parameters
    ----------
    summary_with_holdout : DataFrame
        :func:`clv_summary` with ``calibration_end``; ``model`` fitted on its calibration columns.
    model : PurchaseModel
        BG/NBD, or another fitted purchase model (MBG/NBD, Pareto/NBD).
    max_frequency : int
        Customers with this many repeat purchases or more form the last group.

    Returns
    -------
    DataFrame with one row per group that has customers, in order "0", "1", ..., "<max_frequency>+":
        ``group`` (str), ``customers`` (int), ``actual`` (mean purchases in the holdout), ``predicted``
        (mean of ``model.expected_purchases`` over the holdout's duration).
    """
    needed = ["frequency", "recency", "T", "frequency_holdout", "duration_holdout"]
    missing = [c for c in needed if c not in summary_with_holdout.columns]
    if missing:
        raise RFMInputError(
            f"The summary has no column {missing}: make it with clv_summary(..., calibration_end=...)."
        )
    if not is_int(max_frequency) or max_frequency < 1:
        raise RFMInputError(f"max_frequency should be a whole number >= 1; got {max_frequency!r}.")
    frequency = summary_with_holdout["frequency"].to_numpy()
    predicted = model.expected_purchases(
        summary_with_holdout["duration_holdout"].to_numpy(dtype=float),
        frequency, summary_with_holdout["recency"], summary_with_holdout["T"],
    )
    rows = pd.DataFrame({
        "position": np.minimum(frequency, max_frequency),
        "actual": summary_with_holdout["frequency_holdout"].to_numpy(dtype=float),
        "predicted": predicted,
    })
    table = rows.groupby("position").agg(
        customers=("actual", "size"), actual=("actual", "mean"), predicted=("predicted", "mean")
    )
    labels = [str(i) for i in range(max_frequency)] + [f"{max_frequency}+"]
    table.insert(0, "group", [labels[int(i)] for i in table.index])
    return table.reset_index(drop=True)


def holdout_error(table: pd.DataFrame) -> float:
    """Customer-weighted mean absolute error of :func:`holdout_check`'s table.

    The sum over groups of customers × |actual - predicted|, divided by all customers: how far, in purchases
    per customer over the holdout, the model's group means miss the actual ones on average.
    """
    customers = table["customers"].to_numpy(dtype=float)
    if customers.sum() == 0:
        raise RFMInputError("The holdout table has no customers.")
    gap = np.abs(table["actual"].to_numpy(dtype=float) - table["predicted"].to_numpy(dtype=float))
    return float(customers @ gap / customers.sum())


def fit_clv(
    orders: pd.DataFrame, observation_end: DateLike, *, unit_days: float = 1.0
) -> tuple[BetaGeoModel, GammaGammaModel | None, pd.DataFrame, list[str]]:
    """Summarise an orders table and fit both models on it.

    Parameters
    ----------
    orders : DataFrame
        As for :func:`clv_summary`.
    observation_end : date-like
    unit_days : float

    Returns
    -------
    (bgnbd, gamma_gamma, summary, warnings)
        ``gamma_gamma`` is None when the spend model cannot be fitted (the reason is in ``warnings``);
        ``warnings`` are sentences to show the user.
    """
    summary = clv_summary(orders, observation_end, unit_days=unit_days)
    bgnbd = BetaGeoModel().fit(summary["frequency"], summary["recency"], summary["T"])
    gamma_gamma, warnings = fit_spend(summary)
    return bgnbd, gamma_gamma, summary, warnings


def fit_spend(summary: pd.DataFrame) -> tuple[GammaGammaModel | None, list[str]]:
    """Gamma-Gamma fitted on :func:`clv_summary`'s ``frequency`` and ``monetary_value``, and the warnings to show.

    Returns
    -------
    (gamma_gamma, warnings)
        ``gamma_gamma`` is None when the spend model cannot be fitted (the reason is in ``warnings``).
    """
    try:
        gamma_gamma = GammaGammaModel().fit(summary["frequency"], summary["monetary_value"])
    except RFMInputError as error:
        return None, [f"No spend model, so no lifetime value in money: {error}"]
    correlation = gamma_gamma.frequency_monetary_correlation_
    warnings = []
    if abs(correlation) > CORRELATION_WARNING:
        warnings.append(
            "Gamma-Gamma assumes spend does not depend on how often a customer buys; "
            f"here the correlation is {correlation:.2f}."
        )
    return gamma_gamma, warnings


# ----------------------------------------------------------------------------------------------------------------
# Shared helpers


def _maximise(
    loglik, start: np.ndarray, data: tuple, model: str, names: tuple[str, ...], floors: Mapping[str, float] | None = None
) -> tuple[np.ndarray, float]:
    """Maximise a mean log-likelihood over log-parameters; return them and the maximum.

    A parameter whose log passes :data:`_RUNAWAY` (or, for a name in ``floors``, that falls below its floor) ends
    the fit at once with a refusal: the data cannot pin the model down, and following a parameter towards 0 or
    infinity only gets slower (Pareto/NBD's 2F1 terms need quadrature there).
    """
    low = np.array([max(-_RUNAWAY, float(np.log((floors or {}).get(name, np.exp(-_RUNAWAY))))) for name in names])

    def stop_on_runaway(intermediate_result: optimize.OptimizeResult) -> None:
        if (intermediate_result.x > _RUNAWAY).any() or (intermediate_result.x < low).any():
            raise StopIteration

    with np.errstate(over="ignore", divide="ignore", invalid="ignore"):
        result = optimize.minimize(
            lambda theta: tuple(-part for part in loglik(theta, *data)),
            np.clip(start, -_RUNAWAY, _RUNAWAY), jac=True, method="L-BFGS-B", callback=stop_on_runaway,
            bounds=[(-_LOG_BOUND, _LOG_BOUND)] * len(start), options={"maxiter": 5000, "ftol": 1e-13, "gtol": 1e-9},
        )
    runaway = [name for name, value, floor in zip(names, result.x, low) if value > _RUNAWAY or value < floor]
    if runaway:
        raise RFMInputError(
            f"{model} did not converge: {', '.join(runaway)} ran off towards 0 or infinity "
            f"(the data cannot pin the model down: more customers, or less uniform ones, are needed)."
        )
    # A line search that cannot improve on a point where the gradient is ~0 has found the maximum: the
    # likelihood is flat there to machine precision.
    at_maximum = result.success or np.abs(result.jac).max() < 1e-6
    if not at_maximum or not np.isfinite(result.fun):
        raise RFMInputError(f"{model} did not converge: the optimiser stopped with {result.message!r}.")
    return result.x, -float(result.fun)


def _check_fitted(model) -> None:
    if not hasattr(model, "params_"):
        raise RFMInputError(f"This {type(model).__name__} is not fitted yet: call fit(...) first.")


def _customer_columns(**named) -> dict[str, np.ndarray]:
    """Per-customer inputs as equal-length one-dimensional float arrays."""
    columns = {}
    for name, values in named.items():
        try:
            columns[name] = np.asarray(values, dtype=float)
        except (TypeError, ValueError) as error:
            raise RFMInputError(f"{name} should hold numbers: {error}.") from error
        if columns[name].ndim != 1:
            raise RFMInputError(f"{name} should be one-dimensional; got shape {columns[name].shape}.")
    lengths = {name: len(array) for name, array in columns.items()}
    if len(set(lengths.values())) > 1:
        raise RFMInputError(f"The per-customer inputs differ in length: {lengths}.")
    return columns


def _check_rules(columns: dict[str, np.ndarray], rules: list[tuple[np.ndarray, str]]) -> None:
    """Raise one RFMInputError naming every broken rule (a mask of bad customers, what is wrong), its count
    and the first customer breaking it."""
    problems = []
    for bad, what in rules:
        if bad.any():
            i = int(np.argmax(bad))
            example = ", ".join(f"{name}={array[i]:g}" for name, array in columns.items())
            problems.append(
                f"{what} for {int(bad.sum()):,} of {len(bad):,} customers (first at position {i}: {example})."
            )
    if problems:
        raise RFMInputError(" ".join(problems))


def _whole_counts(x: np.ndarray) -> np.ndarray:
    """Mask of frequencies that are not whole numbers >= 0 (NaN included)."""
    return ~((x >= 0) & (x == np.round(x)))


def _btyd_arrays(frequency, recency, T) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """frequency, recency, T as float arrays, checked: whole frequency >= 0, 0 <= recency <= T < infinity."""
    columns = _customer_columns(frequency=frequency, recency=recency, T=T)
    x, t_x, T = columns.values()
    with np.errstate(invalid="ignore"):
        _check_rules(columns, [
            (_whole_counts(x), "frequency is not a whole number >= 0"),
            (~((t_x >= 0) & (t_x <= T) & np.isfinite(T)), "recency is not between 0 and a finite T"),
        ])
    return x, t_x, T


def _fit_data(frequency, recency, T, model: str) -> tuple[list[np.ndarray], np.ndarray, int]:
    """The distinct histories ``[x, t_x, T]`` a purchase model is fitted on, how many customers share each (the
    likelihood's weights), and the number of customers; checked: enough customers, some of whom bought again."""
    x, t_x, T = _btyd_arrays(frequency, recency, T)
    n_customers = len(x)
    if n_customers < MIN_MODEL_CUSTOMERS:
        raise too_little(model, MIN_MODEL_CUSTOMERS, "customers to fit", n_customers)
    if not (x > 0).any():
        raise TooLittleDataError(
            f"{model} needs customers who bought more than once: none of the {n_customers:,} customers did."
        )
    histories, weight = distinct_rows(x, t_x, T)
    return histories, weight, n_customers


def _spend_arrays(frequency, monetary_value) -> tuple[np.ndarray, np.ndarray]:
    """frequency and monetary_value as float arrays, checked: whole frequency >= 0, finite spend."""
    columns = _customer_columns(frequency=frequency, monetary_value=monetary_value)
    x, spend = columns.values()
    with np.errstate(invalid="ignore"):
        _check_rules(columns, [
            (_whole_counts(x), "frequency is not a whole number >= 0"),
            (~np.isfinite(spend), "monetary_value is missing or infinite"),
        ])
    return x, spend


def _horizon(t) -> np.ndarray | float:
    """A prediction horizon (scalar or array), checked finite and >= 0."""
    try:
        horizon = np.asarray(t, dtype=float)
    except (TypeError, ValueError) as error:
        raise RFMInputError(f"The horizon t should be a number; got {t!r}.") from error
    bad = ~(np.isfinite(horizon) & (horizon >= 0))
    if bad.any():
        raise RFMInputError(
            f"The horizon t should be finite and >= 0; {int(bad.sum())} value(s) are not "
            f"(first: {horizon.flat[int(np.argmax(bad))]!r})."
        )
    return horizon if horizon.ndim else float(horizon)
