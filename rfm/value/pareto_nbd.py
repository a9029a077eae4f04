"""Pareto/NBD: repeat purchases at a Poisson rate until an exponential lifetime ends, fitted by maximum likelihood.

Schmittlein, Morrison & Colombo (1987), "Counting your customers: who are they and what will they do next?",
Management Science 33(1); the likelihood, P(alive) and the conditional expectation as in Fader, Hardie & Lee
(2005), "A note on deriving the Pareto/NBD model and related expressions". Unlike BG/NBD, a customer can drop
out at any moment, not only right after a purchase, so a one-time buyer's P(alive) is below 1.

The frame that goes in is the "buy till you die" summary of :func:`rfm.value.models.clv_summary`; the fit shares
:mod:`rfm.value.models`' plumbing (checks, distinct histories as weights, the optimiser on log-parameters).
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike
from scipy import special

from rfm.value.models import _btyd_arrays, _check_fitted, _fit_data, _horizon, _maximise

_PARETO_PARAMS = ("r", "alpha", "s", "beta")
#: Below this shape of the dropout rates' gamma (s; 0.61 on CDNOW) the fit is refused. On data where customers
#: show no dropout the likelihood climbs a ridge towards s -> 0, beta -> infinity (the model turns into the NBD,
#: which has no dropout), every step slower than the last; an estimate out there would mean nothing.
MIN_DROPOUT_SHAPE = 0.05
# Central differences on the log-parameters: a step of 1e-5 keeps both the truncation error (step^2) and the
# rounding error (machine epsilon / step) of the gradient near 1e-10.
_STEP = 1e-5
# scipy's hyp2f1 values outside their bounds by more than this share are computed again by quadrature.
_HYP2F1_TOLERANCE = 1e-6


class ParetoNBDModel:
    """Pareto/NBD model of repeat purchases (Schmittlein, Morrison & Colombo 1987), fitted by maximum likelihood.

    While alive, a customer buys at a rate λ ~ Gamma(r, α); their lifetime is exponential with a rate
    μ ~ Gamma(s, β). With x repeat purchases, the last at t_x, and T time units since the first (FHL 2005 note):

        L = Γ(r+x) α^r β^s / Γ(r) [1 / ((α+T)^(r+x) (β+T)^s) + s/(r+s+x) A0],

    where A0 (the note's eq. 22) is a difference of two Gauss hypergeometric functions 2F1 at t_x and T, whose
    form depends on whether α >= β. P(alive) = 1 / (1 + s/(r+s+x) (α+T)^(r+x) (β+T)^s A0), and

        E[Y(t) | x, t_x, T] = P(alive) (r+x)(β+T) / ((α+T)(s-1)) [1 - ((β+T)/(β+T+t))^(s-1)].

    Everything is computed in logs, so customers with thousands of purchases do not overflow. The gradient of
    the log-likelihood is numerical (central differences on the log-parameters): the derivatives of 2F1 in its
    parameters have no closed form. The fit stays quick because it runs over the distinct customer histories.

    Attributes
    ----------
    params_ : dict[str, float]
        ``r``, ``alpha``, ``s``, ``beta`` (``alpha`` and ``beta`` in the summary's time unit).
    log_likelihood_ : float
        Log-likelihood of the fitted data at ``params_``.
    n_customers_ : int
        Customers the model was fitted on.

    Examples
    --------
    >>> model = ParetoNBDModel().fit(summary["frequency"], summary["recency"], summary["T"])  # doctest: +SKIP
    >>> model.params_  # doctest: +SKIP
    {'r': 0.553, 'alpha': 10.58, 's': 0.606, 'beta': 11.67}
    """

    def fit(self, frequency: ArrayLike, recency: ArrayLike, T: ArrayLike) -> ParetoNBDModel:
        """Fit by maximum likelihood.

        Parameters
        ----------
        frequency, recency, T : array-like of shape (n_customers,)
            Repeat purchases, time from first to last purchase, and time from first purchase to the end of
            the data, as :func:`rfm.value.models.clv_summary` gives them.

        Returns
        -------
        self
        """
        (x, t_x, T), weight, n_customers = _fit_data(frequency, recency, T, "Pareto/NBD")
        # Start from λ's mean at the observed repeat-purchase rate, a mean lifetime as long, and r = s = 1.
        alpha = np.sum(weight * T) / np.sum(weight * x)
        start = np.log([1.0, alpha, 1.0, alpha])
        log_params, mean_loglik = _maximise(
            _pareto_loglik, start, (x, t_x, T, weight), "Pareto/NBD", _PARETO_PARAMS, floors={"s": MIN_DROPOUT_SHAPE}
        )
        self.params_ = dict(zip(_PARETO_PARAMS, np.exp(log_params).tolist()))
        self.log_likelihood_ = mean_loglik * n_customers
        self.n_customers_ = n_customers
        return self

    def expected_purchases(self, t: float | ArrayLike, frequency: ArrayLike, recency: ArrayLike, T: ArrayLike) -> np.ndarray:
        """Expected purchases in the next ``t`` time units, given each customer's history (FHL 2005 note, eq. 21).

        Parameters
        ----------
        t : float or array-like
            Horizon in the summary's time unit (>= 0); broadcast against the customers.
        frequency, recency, T : array-like of shape (n_customers,)

        Returns
        -------
        ndarray of shape (n_customers,), finite and >= 0.
        """
        alive = self.p_alive(frequency, recency, T)
        x, _, T = _btyd_arrays(frequency, recency, T)
        r, alpha, s, beta = (self.params_[name] for name in _PARETO_PARAMS)
        # Given alive at T, λ ~ Gamma(r+x, α+T) and μ ~ Gamma(s, β+T) independently.
        return alive * (r + x) / (alpha + T) * _expected_lifetime(_horizon(t), beta + T, s)

    def p_alive(self, frequency: ArrayLike, recency: ArrayLike, T: ArrayLike) -> np.ndarray:
        """Probability that each customer is still active at the end of their data (FHL 2005 note, eq. 18).

        Parameters
        ----------
        frequency, recency, T : array-like of shape (n_customers,)

        Returns
        -------
        ndarray of shape (n_customers,), in [0, 1]; below 1 for one-time buyers too.
        """
        _check_fitted(self)
        x, t_x, T = _btyd_arrays(frequency, recency, T)
        log_alive, log_dropped = _pareto_terms(x, t_x, T, *(self.params_[name] for name in _PARETO_PARAMS))
        return special.expit(log_alive - log_dropped)

    def expected_purchases_new(self, t: float | np.ndarray) -> np.ndarray | float:
        """Expected repeat purchases E[X(t)] of a newly acquired customer in their first ``t`` time units.

        r β / (α (s-1)) [1 - (β/(β+t))^(s-1)] (FHL 2005 note, eq. 17).

        Parameters
        ----------
        t : float or array-like
            Horizon in the summary's time unit (>= 0).

        Returns
        -------
        float for a scalar ``t``, else an ndarray shaped like ``t``.
        """
        _check_fitted(self)
        r, alpha, s, beta = (self.params_[name] for name in _PARETO_PARAMS)
        expected = r / alpha * _expected_lifetime(_horizon(t), beta, s)
        return expected if np.ndim(expected) else float(expected)


def _pareto_loglik(log_params: np.ndarray, x, t_x, T, weight) -> tuple[float, np.ndarray]:
    """Weighted mean Pareto/NBD log-likelihood and its gradient with respect to the log-parameters, the gradient
    by central differences."""
    value = _pareto_mean_loglik(log_params, x, t_x, T, weight)
    gradient = np.array([
        (_pareto_mean_loglik(log_params + step, x, t_x, T, weight)
         - _pareto_mean_loglik(log_params - step, x, t_x, T, weight)) / (2 * _STEP)
        for step in np.eye(len(log_params)) * _STEP
    ])
    return value, gradient


def _pareto_mean_loglik(log_params: np.ndarray, x, t_x, T, weight) -> float:
    r, alpha, s, beta = np.exp(log_params)
    frequencies, which = np.unique(x, return_inverse=True)
    by_frequency = special.gammaln(r + frequencies) - special.gammaln(r)
    log_alive, log_dropped = _pareto_terms(x, t_x, T, r, alpha, s, beta)
    loglik = by_frequency[which] + r * np.log(alpha) + s * np.log(beta) + np.logaddexp(log_alive, log_dropped)
    return float(weight @ loglik) / weight.sum()


def _pareto_terms(x, t_x, T, r, alpha, s, beta) -> tuple[np.ndarray, np.ndarray]:
    """The logs of the likelihood's two terms without their common factor Γ(r+x) α^r β^s / Γ(r): alive at T,
    1 / ((α+T)^(r+x) (β+T)^s), and dropped out between t_x and T, s/(r+s+x) A0 (-inf when t_x = T)."""
    log_alive = -(r + x) * np.log(alpha + T) - s * np.log(beta + T)
    at_last, at_end = _log_tail(t_x, x, r, alpha, s, beta), _log_tail(T, x, r, alpha, s, beta)
    # A0 = tail(t_x) - tail(T) >= 0; rounding can make the difference slightly negative when t_x is close to T.
    with np.errstate(divide="ignore"):
        log_a0 = np.where(at_end < at_last, at_last + np.log(-np.expm1(np.minimum(at_end - at_last, 0.0))), -np.inf)
    return log_alive, np.log(s) - np.log(r + s + x) + log_a0


def _log_tail(tau, x, r, alpha, s, beta) -> np.ndarray:
    """log of the note's 2F1(r+s+x, s+1; r+s+x+1; (α-β)/(α+τ)) / (α+τ)^(r+s+x) when α >= β, or
    2F1(r+s+x, r+x; r+s+x+1; (β-α)/(β+τ)) / (β+τ)^(r+s+x) when α < β, so that A0 = tail(t_x) - tail(T).

    Euler's transformation 2F1(a, b; c; z) = (1-z)^(c-a-b) 2F1(c-a, c-b; c; z) turns both into a 2F1(1, ·; ·; z)
    between 1 and 1/(1-z), whatever x: no overflow however many purchases, and a range to check scipy against.
    """
    if alpha >= beta:
        z, one_minus_z = (alpha - beta) / (alpha + tau), (beta + tau) / (alpha + tau)
        hypergeometric = _hyp2f1_one(r + x, r + s + x + 1, z, one_minus_z)
        return -(r + x) * np.log(alpha + tau) - s * np.log(beta + tau) + np.log(hypergeometric)
    z, one_minus_z = (beta - alpha) / (beta + tau), (alpha + tau) / (beta + tau)
    hypergeometric = _hyp2f1_one(s + 1, r + s + x + 1, z, one_minus_z)
    return -(r + x - 1) * np.log(alpha + tau) - (s + 1) * np.log(beta + tau) + np.log(hypergeometric)


def _hyp2f1_one(b, c, z, one_minus_z) -> np.ndarray:
    """2F1(1, b; c; z) for c > b > 0 and 0 <= z < 1, which is E[1 / (1 - z u)] over u ~ Beta(b, c-b).

    So it lies between 1 / (1 - z b/c) (Jensen: the integrand is convex in u) and 1 / (1 - z). scipy's hyp2f1
    returns NaN for some large b with z near 1; values that are not finite or fall outside the bounds are computed
    again by quadrature.
    """
    b, c, z, one_minus_z = np.broadcast_arrays(*(np.asarray(v, dtype=float) for v in (b, c, z, one_minus_z)))
    lower = 1 / (one_minus_z + z * (c - b) / c)
    upper = 1 / one_minus_z
    with np.errstate(all="ignore"):
        value = np.array(special.hyp2f1(1.0, b, c, z), dtype=float, ndmin=1)
        trouble = ~((value >= lower * (1 - _HYP2F1_TOLERANCE)) & (value <= upper * (1 + _HYP2F1_TOLERANCE)))
    if trouble.any():
        bad = trouble.reshape(value.shape)
        value[bad] = _hyp2f1_one_by_quadrature(*(np.atleast_1d(v)[bad] for v in (b, c, z, one_minus_z)))
    return value.reshape(np.shape(b))


def _hyp2f1_one_by_quadrature(b, c, z, one_minus_z, points: int = 4000, chunk: int = 256) -> np.ndarray:
    """:func:`_hyp2f1_one` by the trapezoid rule over w = logit(u), where the integrand is smooth and falls off
    exponentially on both sides (u^b as u -> 0, (1-u)^(c-b) as u -> 1), so the rule converges fast."""
    result = np.empty(len(b))
    for begin in range(0, len(b), chunk):
        rows = slice(begin, begin + chunk)
        b_, q_, z_, rest_ = (v[rows][:, None] for v in (b, c - b, z, one_minus_z))
        peak = np.log(b_ / q_)
        # 1 / (1 - z u) climbs from 1 to 1 / (1 - z) around u = 1 - (1 - z), that is w = -log(1 - z).
        low = peak - 40 / b_ - 5
        high = np.maximum(peak, -np.log(rest_)) + 40 / q_ + 5
        w = low + (high - low) * np.linspace(0, 1, points)
        density = np.exp(b_ * special.log_expit(w) + q_ * special.log_expit(-w) - special.betaln(b_, q_))
        result[rows] = np.trapezoid(density / (rest_ + z_ * special.expit(-w)), w, axis=1)
    return result


def _expected_lifetime(t, span, s) -> np.ndarray | float:
    """E[min(t, lifetime)] for an exponential lifetime with rate μ ~ Gamma(s, span):
    span/(s-1) [1 - (span/(span+t))^(s-1)], and span log(1 + t/span) at s = 1."""
    log_growth = np.log1p(np.asarray(t, dtype=float) / span)
    shape = s - 1
    if shape == 0:
        return span * log_growth
    return span * -np.expm1(-shape * log_growth) / shape
