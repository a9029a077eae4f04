"""MBG/NBD: the BG/NBD model of repeat purchases with a chance to drop out right after the first purchase too.

Batislam, Denizel & Filiztekin (2007), "Empirical validation and comparison of models for customer base analysis",
International Journal of Research in Marketing 24(3); the same model as Wagner & Hoppe's (2008) "central variant".
In BG/NBD a customer who never bought again is certainly alive (P(alive) = 1 for frequency 0), which overrates
one-time buyers; here they can have left straight after their first purchase.

The frame that goes in is the "buy till you die" summary of :func:`rfm.value.models.clv_summary`; the fit and the
formulas share :mod:`rfm.value.models`' BG/NBD code, which takes the extra chance to drop out as a flag.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

from rfm.value.models import (
    _BGNBD_PARAMS,
    _bgnbd_expected,
    _btyd_arrays,
    _check_fitted,
    _fit_beta_geometric,
    _horizon,
    _p_alive,
)


class ModifiedBetaGeoModel:
    """MBG/NBD model of repeat purchases (Batislam, Denizel & Filiztekin 2007), fitted by maximum likelihood.

    While alive, a customer buys at a rate λ ~ Gamma(r, α); right after each purchase, the first one included,
    they drop out with probability p ~ Beta(a, b). With x repeat purchases, the last at t_x, and T time units
    since the first:

        L = B(a, b+x+1)/B(a, b) Γ(r+x) α^r / (Γ(r) (α+T)^(r+x))
            + B(a+1, b+x)/B(a, b) Γ(r+x) α^r / (Γ(r) (α+t_x)^(r+x)),

    P(alive) = 1 / (1 + a/(b+x) ((α+T)/(α+t_x))^(r+x)), which is below 1 for one-time buyers too, and

        E[Y(t) | x, t_x, T] = P(alive) (a+b+x)/(a-1)
                              [1 - ((α+T)/(α+T+t))^(r+x) 2F1(r+x, b+x+1; a+b+x; t/(α+T+t))],

    BG/NBD's conditional expectation with b + 1 in place of b (given alive, p ~ Beta(a, b+x+1)). The gradient of
    the log-likelihood is exact.

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
    >>> model = ModifiedBetaGeoModel().fit(summary["frequency"], summary["recency"], summary["T"])  # doctest: +SKIP
    >>> model.p_alive([0], [0.0], [38.86])  # doctest: +SKIP
    array([0.7...])
    """

    def fit(self, frequency: ArrayLike, recency: ArrayLike, T: ArrayLike) -> ModifiedBetaGeoModel:
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
        self.params_, self.log_likelihood_, self.n_customers_ = _fit_beta_geometric(
            frequency, recency, T, drop_at_start=True
        )
        return self

    def expected_purchases(self, t: float | ArrayLike, frequency: ArrayLike, recency: ArrayLike, T: ArrayLike) -> np.ndarray:
        """Expected purchases in the next ``t`` time units, given each customer's history.

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
        r, alpha, a, b = (self.params_[name] for name in _BGNBD_PARAMS)
        alive = _p_alive(x, t_x, T, r, alpha, a, b, drop_at_start=True)
        return _bgnbd_expected(_horizon(t), x, alpha + T, r, a, b + 1) * alive

    def p_alive(self, frequency: ArrayLike, recency: ArrayLike, T: ArrayLike) -> np.ndarray:
        """Probability that each customer is still active at the end of their data (below 1 for frequency 0 too).

        Parameters
        ----------
        frequency, recency, T : array-like of shape (n_customers,)

        Returns
        -------
        ndarray of shape (n_customers,), in [0, 1].
        """
        _check_fitted(self)
        x, t_x, T = _btyd_arrays(frequency, recency, T)
        return _p_alive(x, t_x, T, *(self.params_[name] for name in _BGNBD_PARAMS), drop_at_start=True)

    def expected_purchases_new(self, t: float | np.ndarray) -> np.ndarray | float:
        """Expected repeat purchases E[X(t)] of a newly acquired customer in their first ``t`` time units.

        b/(a-1) [1 - (α/(α+t))^r 2F1(r, b+1; a+b; t/(α+t))]: the customer survives the first purchase with
        probability b/(a+b), and is then a BG/NBD customer with p ~ Beta(a, b+1).

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
        return b / (a + b) * _bgnbd_expected(_horizon(t), 0.0, alpha, r, a, b + 1)
