"""The churn models beside BG/NBD (rfm.value.pareto_nbd, rfm.value.mbg_nbd) and what is built on them (rfm.value.churn).

Pareto/NBD reproduces its published CDNOW fit; both models recover the parameters of customers simulated from their
own generative story, and their P(alive) and conditional expectations agree with Monte Carlo: (λ, p) or (λ, μ)
drawn from the prior, weighted by the individual likelihood of a customer's history, and their future purchases
simulated (``tests/support/btyd.py``). Then the model comparison and the churn fields per customer.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import integrate, special

from rfm import schema
from rfm.errors import RFMInputError
from rfm.value import churn
from rfm.value import models as clv
from rfm.value import pareto_nbd as pnbd
from rfm.value.mbg_nbd import ModifiedBetaGeoModel
from rfm.value.pareto_nbd import ParetoNBDModel
from tests.support import btyd

MODELS = [clv.BetaGeoModel, ModifiedBetaGeoModel, ParetoNBDModel]
#: The fits on CDNOW (weeks), used where a test needs realistic parameters rather than a fit.
MBG_CDNOW = {"r": 0.525, "alpha": 6.18, "a": 0.891, "b": 1.614}
PARETO_CDNOW = {"r": 0.5534, "alpha": 10.5802, "s": 0.6061, "beta": 11.6562}


def _with(model_class, params: dict):
    model = model_class()
    model.params_ = dict(params)
    return model


@pytest.fixture(scope="module")
def published() -> pd.DataFrame:
    return btyd.cdnow_published_summary()


@pytest.fixture(scope="module")
def split() -> pd.DataFrame:
    """Our own 39-week calibration summary of CDNOW in weeks, with the 39-week holdout columns."""
    return clv.clv_summary(
        btyd.cdnow_orders(), btyd.CDNOW_OBSERVATION_END, calibration_end=btyd.CDNOW_CALIBRATION_END, unit_days=btyd.WEEK
    )


@pytest.fixture(scope="module")
def pareto(published) -> ParetoNBDModel:
    return ParetoNBDModel().fit(published["frequency"], published["recency"], published["T"])


@pytest.fixture(scope="module")
def mbg(published) -> ModifiedBetaGeoModel:
    return ModifiedBetaGeoModel().fit(published["frequency"], published["recency"], published["T"])


def _columns(summary: pd.DataFrame) -> list[pd.Series]:
    return [summary[column] for column in ("frequency", "recency", "T")]


# ---------------------------------------------------------------------------------------------------------------
# Pareto/NBD


def test_pareto_nbd_reproduces_the_published_cdnow_fit(pareto):
    # Fader & Hardie's Pareto/NBD on CDNOW (weeks), to two decimals: r = 0.55, alpha = 10.58, s = 0.61,
    # beta = 11.67, LL = -9595.0.
    assert pareto.params_ == pytest.approx({"r": 0.55, "alpha": 10.58, "s": 0.61, "beta": 11.67}, rel=0.01)
    assert pareto.log_likelihood_ == pytest.approx(-9595.0, abs=0.5)
    assert pareto.n_customers_ == 2_357


def test_pareto_nbd_fit_on_our_summary_matches_the_published_one(split, pareto):
    ours = ParetoNBDModel().fit(*_columns(split))
    assert ours.params_ == pytest.approx(pareto.params_, rel=2e-3)


def _pareto_by_integral(params: dict, x: float, t_x: float, T: float, t: float) -> tuple[float, float]:
    """P(alive) and E[Y(t) | x, t_x, T] with A0 written as the integral it stands for, s/(r+s+x) A0 =
    s ∫_{t_x}^{T} (α+τ)^-(r+x) (β+τ)^-(s+1) dτ, scaled by the alive term so that large x stays finite."""
    r, alpha, s, beta = params.values()
    scaled = integrate.quad(
        lambda tau: ((alpha + tau) / (alpha + T)) ** -(r + x) * ((beta + tau) / (beta + T)) ** -(s + 1),
        t_x, T, epsabs=0, epsrel=1e-12,
    )[0]
    alive = 1 / (1 + s / (beta + T) * scaled)
    lifetime = (beta + T) / (s - 1) * (1 - ((beta + T) / (beta + T + t)) ** (s - 1))
    return alive, alive * (r + x) / (alpha + T) * lifetime


def test_pareto_nbd_one_customer_by_hand():
    # x = 2, t_x = 30.43, T = 38.86 weeks (FHL's example customer), 39 weeks ahead, at the published parameters.
    model = _with(ParetoNBDModel, PARETO_CDNOW)
    assert model.p_alive([2], [30.43], [38.86])[0] == pytest.approx(0.869111, abs=1e-6)
    assert model.expected_purchases(39, [2], [30.43], [38.86])[0] == pytest.approx(1.455093, abs=1e-6)


@pytest.mark.parametrize("alpha, beta", [(10.58, 11.67), (20.0, 5.0), (5.0, 20.0), (100.0, 0.5), (0.5, 100.0)])
@pytest.mark.parametrize("x, t_x, T", [(0, 0.0, 38.86), (2, 30.43, 38.86), (50, 300.0, 310.0), (5000, 19_999.9, 20_000.0)])
def test_pareto_nbd_agrees_with_the_integral_on_both_branches_of_a0(alpha, beta, x, t_x, T):
    """The note's A0 takes one 2F1 when alpha >= beta and another when alpha < beta: both match the integral."""
    params = {"r": 0.55, "alpha": alpha, "s": 0.61, "beta": beta}
    model = _with(ParetoNBDModel, params)
    alive, expected = _pareto_by_integral(params, x, t_x, T, 52.0)
    assert model.p_alive([x], [t_x], [T])[0] == pytest.approx(alive, rel=1e-7)
    assert model.expected_purchases(52.0, [x], [t_x], [T])[0] == pytest.approx(expected, rel=1e-7)


def test_hyp2f1_falls_back_to_quadrature_where_scipy_gives_nan():
    # 2F1(1, b; c; z) where scipy 1.17's hyp2f1 returns NaN; the reference values are adaptive quadrature of
    # E[1 / (1 - z u)], u ~ Beta(b, c - b), to 1e-13.
    b, c, z = np.array([1000.5, 5000.5, 200.5]), np.array([1002.1, 5002.1, 201.5]), np.array([0.999, 0.99999, 0.9999])
    assert np.isnan(special.hyp2f1(1.0, b, c, z)).any()
    value = pnbd._hyp2f1_one(b, c, z, 1 - z)
    assert value == pytest.approx([466.5792963526148, 6193.930470671052, 686.2314741053119], rel=1e-9)
    assert pnbd._hyp2f1_one_by_quadrature(b[:1] / 100, c[:1] / 100, z[:1], 1 - z[:1]) == pytest.approx(
        special.hyp2f1(1.0, b[0] / 100, c[0] / 100, z[0]), rel=1e-9
    )


@pytest.mark.parametrize("alpha, x, t_x, T", [(1e4, 1000, 5.0, 6.0), (3000.0, 500, 1.0, 3.0)])
def test_pareto_nbd_where_scipy_hyp2f1_fails(monkeypatch, alpha, x, t_x, T):
    """Many purchases and alpha >> beta: scipy's hyp2f1 gives NaN, the quadrature takes over, the answer holds."""
    params = {"r": 0.55, "alpha": alpha, "s": 0.61, "beta": 1.0}
    used, quadrature = [], pnbd._hyp2f1_one_by_quadrature
    monkeypatch.setattr(pnbd, "_hyp2f1_one_by_quadrature", lambda *args: used.append(len(args[0])) or quadrature(*args))
    model = _with(ParetoNBDModel, params)
    alive, expected = _pareto_by_integral(params, x, t_x, T, 52.0)
    assert model.p_alive([x], [t_x], [T])[0] == pytest.approx(alive, rel=1e-9)
    assert model.expected_purchases(52.0, [x], [t_x], [T])[0] == pytest.approx(expected, rel=1e-9)
    assert used


def test_pareto_nbd_p_alive_properties(pareto, published):
    alive = pareto.p_alive(*_columns(published))
    assert ((alive >= 0) & (alive <= 1)).all()
    one_time = published["frequency"].to_numpy() == 0
    assert (alive[one_time] < 1).all() and alive[one_time].max() < 0.6  # unlike BG/NBD, where they are all 1
    by_age = pareto.p_alive([3] * 5, [20] * 5, [20, 25, 30, 40, 80])
    assert (np.diff(by_age) < 0).all()  # the longer the silence, the likelier they are gone
    by_recency = pareto.p_alive([3] * 5, [5, 10, 20, 30, 38], [38.86] * 5)
    assert (np.diff(by_recency) > 0).all()


def test_pareto_nbd_extreme_customers_stay_finite(pareto):
    x, T = np.meshgrid([0, 1, 10, 100, 1000, 5000], [50, 5000, 20000])
    x, T = x.ravel().astype(float), T.ravel().astype(float)
    for t_x in (T / 2 * (x > 0), T * (x > 0)):
        alive = pareto.p_alive(x, t_x, T)
        assert np.isfinite(alive).all() and ((alive >= 0) & (alive <= 1)).all()
        previous = np.zeros(len(x))
        for horizon in (0.0, 1.0, 52.0, 5200.0, 52000.0):
            expected = pareto.expected_purchases(horizon, x, t_x, T)
            assert np.isfinite(expected).all() and (expected >= previous).all()
            previous = expected
    assert np.diff(pareto.expected_purchases_new([0, 1, 10, 100, 1000])).min() > 0


def test_pareto_nbd_expectations_at_s_equal_to_one_are_the_limit():
    near = [_with(ParetoNBDModel, {"r": 0.5, "alpha": 10.0, "s": s, "beta": 12.0}) for s in (1 - 1e-9, 1.0, 1 + 1e-9)]
    conditional = [model.expected_purchases(39, [2], [30.0], [39.0])[0] for model in near]
    new = [model.expected_purchases_new(39.0) for model in near]
    assert conditional[1] == pytest.approx(conditional[0], rel=1e-7) and conditional[1] == pytest.approx(conditional[2], rel=1e-7)
    assert new[1] == pytest.approx(new[0], rel=1e-7) and new[1] == pytest.approx(new[2], rel=1e-7)


# Across 10 seeds, the estimates from 20,000 customers observed for 1 to 3 years spread by these shares of the true
# value (standard deviations): r 2.3 %, alpha 2.0 %, s 2.1 %, beta 4.5 % for Pareto/NBD; r 5 %, alpha 3 %, a 5 %,
# b 12 % for MBG/NBD. The tolerances are about four of them.
PARETO_RECOVERY = {"r": 0.10, "alpha": 0.08, "s": 0.09, "beta": 0.18}
MBG_RECOVERY = {"r": 0.20, "alpha": 0.12, "a": 0.20, "b": 0.45}


def _observed_for(rng: np.random.Generator, n: int) -> np.ndarray:
    """T of ``n`` customers who first bought 1 to 3 years ago, in weeks of whole days."""
    return rng.integers(365, 3 * 365, n) / 7


@pytest.mark.slow
def test_pareto_nbd_recovers_the_parameters_it_was_simulated_with():
    rng = np.random.default_rng(20240602)
    truth = {"r": 0.55, "alpha": 10.58, "s": 0.61, "beta": 11.67}
    customers = btyd.simulate_pareto_nbd(rng, 20_000, *truth.values(), T=_observed_for(rng, 20_000))
    model = ParetoNBDModel().fit(*_columns(customers))
    for name, tolerance in PARETO_RECOVERY.items():
        assert model.params_[name] == pytest.approx(truth[name], rel=tolerance), name


PROFILES = [(0, 0.0, 38.86), (1, 20.0, 38.86), (2, 30.43, 38.86), (5, 35.0, 38.86)]


@pytest.mark.parametrize("x, t_x, T", PROFILES)
def test_pareto_nbd_conditional_expectation_matches_monte_carlo(x, t_x, T):
    model = _with(ParetoNBDModel, PARETO_CDNOW)
    weight, alive, purchases = btyd.pareto_nbd_posterior(np.random.default_rng(7), 300_000, PARETO_CDNOW, x, t_x, T, 39.0)
    _assert_matches_monte_carlo(model, weight, alive, purchases, x, t_x, T)


def _assert_matches_monte_carlo(model, weight, alive, purchases, x, t_x, T) -> None:
    """Within four standard errors of the simulated P(alive) and purchases in the next 39 weeks."""
    simulated_alive, alive_error = btyd.weighted_mean(weight, alive)
    simulated, error = btyd.weighted_mean(weight, alive * purchases)
    assert abs(model.p_alive([x], [t_x], [T])[0] - simulated_alive) < 4 * alive_error
    assert abs(model.expected_purchases(39.0, [x], [t_x], [T])[0] - simulated) < 4 * error
    assert error < 0.01 * simulated  # the check is sharp: a 4 % error would not pass


# ---------------------------------------------------------------------------------------------------------------
# MBG/NBD


def _mbg_loglik_by_hand(params: dict, x, t_x, T) -> np.ndarray:
    """The published MBG/NBD likelihood, term by term: B(a, b+x+1)/B(a,b) Γ(r+x)α^r/(Γ(r)(α+T)^(r+x))
    + B(a+1, b+x)/B(a,b) Γ(r+x)α^r/(Γ(r)(α+t_x)^(r+x)), in logs."""
    r, alpha, a, b = params.values()
    rate_part = special.gammaln(r + x) - special.gammaln(r) + r * np.log(alpha)
    alive = special.betaln(a, b + x + 1) - special.betaln(a, b) + rate_part - (r + x) * np.log(alpha + T)
    dropped = special.betaln(a + 1, b + x) - special.betaln(a, b) + rate_part - (r + x) * np.log(alpha + t_x)
    return np.logaddexp(alive, dropped)


def test_mbg_nbd_likelihood_and_gradient_are_the_published_ones(published):
    x, t_x, T = (published[column].to_numpy(dtype=float) for column in ("frequency", "recency", "T"))
    weight = np.ones(len(x))
    log_params = np.log(list(MBG_CDNOW.values()))
    mean, gradient = clv._bgnbd_loglik(log_params, x, t_x, T, weight, True)
    assert mean == pytest.approx(_mbg_loglik_by_hand(MBG_CDNOW, x, t_x, T).mean(), rel=1e-12)
    step = 1e-6
    numerical = [
        (clv._bgnbd_loglik(log_params + e, x, t_x, T, weight, True)[0]
         - clv._bgnbd_loglik(log_params - e, x, t_x, T, weight, True)[0]) / (2 * step)
        for e in np.eye(4) * step
    ]
    assert gradient == pytest.approx(numerical, abs=1e-7)


def test_mbg_nbd_fit_on_cdnow_is_at_the_maximum(mbg, published):
    x, t_x, T = (published[column].to_numpy(dtype=float) for column in ("frequency", "recency", "T"))
    assert mbg.log_likelihood_ == pytest.approx(_mbg_loglik_by_hand(mbg.params_, x, t_x, T).sum(), rel=1e-10)
    for name in mbg.params_:  # nudging any parameter lowers the likelihood
        for factor in (0.99, 1.01):
            nudged = {**mbg.params_, name: mbg.params_[name] * factor}
            assert _mbg_loglik_by_hand(nudged, x, t_x, T).sum() < mbg.log_likelihood_


def test_mbg_nbd_p_alive_by_hand_and_below_one_for_one_time_buyers(mbg, published):
    model = _with(ModifiedBetaGeoModel, MBG_CDNOW)
    r, alpha, a, b = MBG_CDNOW.values()
    for x, t_x, T in [(0, 0.0, 38.86), (2, 30.43, 38.86)]:
        by_hand = 1 / (1 + a / (b + x) * ((alpha + T) / (alpha + t_x)) ** (r + x))
        assert model.p_alive([x], [t_x], [T])[0] == pytest.approx(by_hand, rel=1e-12)
    alive = mbg.p_alive(*_columns(published))
    assert ((alive > 0) & (alive < 1)).all()
    assert (np.diff(mbg.p_alive([0] * 4, [0] * 4, [10, 20, 30, 40])) < 0).all()


@pytest.mark.slow
def test_mbg_nbd_recovers_the_parameters_it_was_simulated_with():
    rng = np.random.default_rng(20240603)
    truth = {"r": 0.5, "alpha": 6.0, "a": 0.9, "b": 1.6}
    customers = btyd.simulate_beta_geometric(rng, 20_000, *truth.values(), T=_observed_for(rng, 20_000), drop_at_start=True)
    model = ModifiedBetaGeoModel().fit(*_columns(customers))
    for name, tolerance in MBG_RECOVERY.items():
        assert model.params_[name] == pytest.approx(truth[name], rel=tolerance), name


@pytest.mark.parametrize("x, t_x, T", PROFILES)
def test_mbg_nbd_conditional_expectation_matches_monte_carlo(x, t_x, T):
    model = _with(ModifiedBetaGeoModel, MBG_CDNOW)
    weight, alive, purchases = btyd.beta_geometric_posterior(
        np.random.default_rng(7), 300_000, MBG_CDNOW, x, t_x, T, 39.0, drop_at_start=True
    )
    _assert_matches_monte_carlo(model, weight, alive, purchases, x, t_x, T)


@pytest.mark.slow
@pytest.mark.parametrize("model_class, params", [(ModifiedBetaGeoModel, MBG_CDNOW), (ParetoNBDModel, PARETO_CDNOW)])
def test_expected_purchases_of_a_new_customer_match_simulation(model_class, params):
    """E[X(t)]: the mean repeat purchases of 400,000 customers simulated for 39 and 78 weeks from their first."""
    rng = np.random.default_rng(11)
    model = _with(model_class, params)
    for weeks in (39.0, 78.0):
        T = np.full(400_000, weeks)
        if model_class is ParetoNBDModel:
            customers = btyd.simulate_pareto_nbd(rng, len(T), *params.values(), T=T)
        else:
            customers = btyd.simulate_beta_geometric(rng, len(T), *params.values(), T=T, drop_at_start=True)
        frequency = customers["frequency"].to_numpy()
        standard_error = frequency.std() / np.sqrt(len(T))
        assert abs(model.expected_purchases_new(weeks) - frequency.mean()) < 4 * standard_error


def test_mbg_nbd_extreme_customers_stay_finite(mbg):
    x, T = np.meshgrid([0, 1, 10, 100, 1000, 5000], [50, 5000, 20000])
    x, T = x.ravel().astype(float), T.ravel().astype(float)
    for horizon in (0.0, 1.0, 52.0, 5200.0, 52000.0):
        expected = mbg.expected_purchases(horizon, x, T / 2 * (x > 0), T)
        assert np.isfinite(expected).all() and (expected >= 0).all()


# ---------------------------------------------------------------------------------------------------------------
# Shared behaviour


@pytest.mark.parametrize("model_class", MODELS)
def test_every_model_refuses_degenerate_input_with_its_name(model_class):
    name = {clv.BetaGeoModel: "BG/NBD", ModifiedBetaGeoModel: "MBG/NBD", ParetoNBDModel: "Pareto/NBD"}[model_class]
    with pytest.raises(RFMInputError, match=rf"^{name} needs at least 10 customers to fit; got 5 \(5 more needed\)\.$"):
        model_class().fit([1] * 5, [1] * 5, [2] * 5)
    with pytest.raises(RFMInputError, match=rf"^{name} needs customers who bought more than once: none of the 12"):
        model_class().fit([0] * 12, [0] * 12, [5] * 12)
    with pytest.raises(RFMInputError, match="recency is not between 0 and a finite T for 1 of 12 customers"):
        model_class().fit([1] * 12, [1, 1, 1, 9] + [1] * 8, [5] * 12)
    with pytest.raises(RFMInputError, match=f"This {model_class.__name__} is not fitted yet"):
        model_class().p_alive([1], [1], [2])
    with pytest.raises(RFMInputError, match="The horizon t should be finite and >= 0"):
        _with(model_class, MBG_CDNOW if model_class is not ParetoNBDModel else PARETO_CDNOW).expected_purchases(-1, [1], [1], [2])


_positive = st.floats(1e-3, 1e3)


@settings(max_examples=150, deadline=None)
@given(
    params=st.tuples(_positive, _positive, _positive, _positive),
    x=st.integers(0, 3000), share_of_T=st.floats(0, 1), T=st.floats(0, 1e4), horizon=st.floats(0, 1e4),
    pareto=st.booleans(),
)
def test_p_alive_and_expected_purchases_are_sane_anywhere(params, x, share_of_T, T, horizon, pareto):
    """Any parameters and history: P(alive) in [0, 1], expected purchases finite, >= 0 and growing with the horizon."""
    names = ("r", "alpha", "s", "beta") if pareto else ("r", "alpha", "a", "b")
    model = _with(ParetoNBDModel if pareto else ModifiedBetaGeoModel, dict(zip(names, params)))
    t_x = share_of_T * T if x else 0.0
    alive = model.p_alive([x], [t_x], [T])[0]
    assert 0 <= alive <= 1
    sooner, later = model.expected_purchases(np.array([horizon, 2 * horizon + 1]), [x, x], [t_x, t_x], [T, T])
    assert np.isfinite([sooner, later]).all() and 0 <= sooner <= later * (1 + 1e-9)


@pytest.mark.slow
@pytest.mark.parametrize("model_class", [ModifiedBetaGeoModel, ParetoNBDModel])
def test_customer_order_and_repeated_customers_do_not_change_the_fit(model_class, published):
    once = model_class().fit(*_columns(published))
    shuffled = model_class().fit(*_columns(published.sample(frac=1.0, random_state=3)))
    twice = model_class().fit(*_columns(pd.concat([published] * 2)))
    assert shuffled.params_ == pytest.approx(once.params_, rel=1e-5)
    assert twice.params_ == pytest.approx(once.params_, rel=1e-5)
    assert twice.log_likelihood_ == pytest.approx(2 * once.log_likelihood_, rel=1e-9)


# ---------------------------------------------------------------------------------------------------------------
# Comparison


def test_compare_models_on_cdnow_with_a_holdout(split):
    comparison = churn.compare_models(split)
    assert [fit.name for fit in comparison.fits] == ["BG/NBD", "MBG/NBD", "Pareto/NBD"]
    assert comparison.n_customers == 2_357 and comparison.warnings == ()
    for fit in comparison.fits:
        assert fit.log_likelihood == fit.model.log_likelihood_
        assert fit.bic == pytest.approx(4 * np.log(2_357) - 2 * fit.log_likelihood)
        assert fit.holdout_error == clv.holdout_error(clv.holdout_check(split, fit.model))
        assert 0 < fit.holdout_error < 0.2
    bgnbd = clv.BetaGeoModel().fit(*_columns(split))
    assert comparison.fits[0].model.params_ == pytest.approx(bgnbd.params_)
    assert comparison.best is min(comparison.fits, key=lambda fit: fit.bic)
    table = comparison.table()
    assert list(table.columns) == ["model", "r", "alpha", "a", "b", "s", "beta", "log_likelihood", "bic", "holdout_error"]
    assert table["s"].isna().tolist() == [True, True, False] and table["a"].isna().tolist() == [False, False, True]


def test_compare_models_without_holdout_columns(published):
    table = churn.compare_models(published[["frequency", "recency", "T"]]).table()
    assert len(table) == 3 and table["holdout_error"].isna().all()


def test_compare_models_reports_a_model_that_cannot_be_fitted(split, monkeypatch):
    class Unfittable(ParetoNBDModel):
        def fit(self, frequency, recency, T):
            raise RFMInputError("Pareto/NBD did not converge: test.")

    monkeypatch.setitem(churn.PURCHASE_MODELS, "Pareto/NBD", Unfittable)
    comparison = churn.compare_models(split)
    assert [fit.name for fit in comparison.fits] == ["BG/NBD", "MBG/NBD"]
    assert comparison.warnings == ("Pareto/NBD was not fitted: Pareto/NBD did not converge: test.",)


def test_compare_models_errors():
    with pytest.raises(RFMInputError, match=r"The summary has no column \['T'\]"):
        churn.compare_models(pd.DataFrame({"frequency": [1], "recency": [1.0]}))
    nobody_repeats = pd.DataFrame({"frequency": [0] * 12, "recency": [0.0] * 12, "T": [5.0] * 12})
    with pytest.raises(RFMInputError, match=r"BG/NBD was not fitted: .* Pareto/NBD was not fitted: Pareto/NBD needs customers"):
        churn.compare_models(nobody_repeats)


# ---------------------------------------------------------------------------------------------------------------
# Churn fields per customer


def test_churn_risk_bands_at_their_thresholds():
    assert churn.LOW_CHURN_BELOW == 0.3 and churn.HIGH_CHURN_ABOVE == 0.7
    bands = churn.churn_risk(np.array([0.0, 0.2999, 0.3, 0.5, 0.7, 0.7001, 1.0]))
    assert list(bands) == ["Low", "Low", "Medium", "Medium", "Medium", "High", "High"]
    assert bands.ordered and list(bands.categories) == ["Low", "Medium", "High"]


def test_churn_table_by_hand():
    # Days; BG/NBD with round parameters. a: 3 purchase days over 60 days, last 10 days ago; b: one purchase;
    # c: 2 purchase days long ago.
    model = _with(clv.BetaGeoModel, {"r": 2.0, "alpha": 40.0, "a": 0.5, "b": 3.0})
    summary = pd.DataFrame(
        {"frequency": [2, 0, 1], "recency": [60.0, 0.0, 30.0], "T": [70.0, 40.0, 400.0]},
        index=pd.Index(["a", "b", "c"], name=schema.CUSTOMER_ID),
    )
    table = churn.churn_table(model, summary, "2024-06-30")
    assert list(table.columns) == list(schema.CHURN_COLUMNS) and table.index.equals(summary.index)
    alive = model.p_alive(*_columns(summary))
    predicted = model.expected_purchases(365.0, *_columns(summary))
    # b never bought again: BG/NBD calls them alive by construction, so no churn probability or band is given.
    assert table[schema.CHURN_PROBABILITY].iloc[[0, 2]].tolist() == pytest.approx(1 - alive[[0, 2]])
    assert np.isnan(table[schema.CHURN_PROBABILITY].iloc[1]) and pd.isna(table[schema.CHURN_RISK].iloc[1])
    assert table[schema.PREDICTED_ORDERS_365D].tolist() == pytest.approx(predicted)
    assert table[schema.AVG_DAYS_BETWEEN_ORDERS].iloc[[0, 2]].tolist() == [30.0, 30.0]
    assert np.isnan(table[schema.AVG_DAYS_BETWEEN_ORDERS].iloc[1])
    assert predicted[0] >= 1 and predicted[2] < 1
    gap = round(365 * alive[0] / predicted[0])
    assert table[schema.EXPECTED_NEXT_ORDER].iloc[0] == pd.Timestamp("2024-06-30") + pd.Timedelta(days=gap)
    assert pd.isna(table[schema.EXPECTED_NEXT_ORDER].iloc[2])
    assert list(table[schema.CHURN_RISK].iloc[[0, 2]]) == list(churn.churn_risk(1 - alive[[0, 2]]))


@pytest.mark.parametrize("model_class", MODELS)
def test_churn_table_on_cdnow_with_each_model(model_class, split):
    model = model_class().fit(*_columns(split))
    table = churn.churn_table(model, split, btyd.CDNOW_CALIBRATION_END, unit_days=btyd.WEEK)
    assert len(table) == 2_357 and table.index.equals(split.index)
    probability = table[schema.CHURN_PROBABILITY]
    one_time = split["frequency"] == 0
    assert ((probability[~one_time] >= 0) & (probability[~one_time] <= 1)).all()
    assert table.loc[one_time, schema.AVG_DAYS_BETWEEN_ORDERS].isna().all()
    assert (table.loc[~one_time, schema.AVG_DAYS_BETWEEN_ORDERS] > 0).all()
    # BG/NBD cannot lose a one-time buyer, so it gives them no churn probability; the other two judge them.
    if model_class is clv.BetaGeoModel:
        assert probability[one_time].isna().all() and table.loc[one_time, schema.CHURN_RISK].isna().all()
    else:
        assert ((probability[one_time] >= 0) & (probability[one_time] <= 1)).all() and (probability[one_time] > 0).any()
    expected = table[schema.EXPECTED_NEXT_ORDER]
    shown = table[schema.PREDICTED_ORDERS_365D] >= 1
    assert expected[shown].notna().all() and expected[~shown].isna().all() and shown.any()
    start = pd.Timestamp(btyd.CDNOW_CALIBRATION_END)
    assert (expected[shown] > start).all() and (expected[shown] <= start + pd.Timedelta(days=365)).all()


def test_churn_table_errors():
    model = _with(clv.BetaGeoModel, {"r": 2.0, "alpha": 40.0, "a": 0.5, "b": 3.0})
    summary = pd.DataFrame({"frequency": [1], "recency": [5.0], "T": [10.0]})
    with pytest.raises(RFMInputError, match=r"The summary has no column \['recency'\]"):
        churn.churn_table(model, summary.drop(columns="recency"), "2024-06-30")
    with pytest.raises(RFMInputError, match="unit_days should be a number > 0; got 0"):
        churn.churn_table(model, summary, "2024-06-30", unit_days=0)
    with pytest.raises(RFMInputError, match="analysis_date should be a date; got 'soon'"):
        churn.churn_table(model, summary, "soon")
    with pytest.raises(RFMInputError, match="This ParetoNBDModel is not fitted yet"):
        churn.churn_table(ParetoNBDModel(), summary, "2024-06-30")


def test_pareto_nbd_refuses_data_without_dropout_instead_of_climbing_the_ridge():
    """Customers who never drop out (a pure NBD): the likelihood rises towards s -> 0, beta -> infinity. The fit stops
    once s passes MIN_DROPOUT_SHAPE and says the data cannot pin the model down."""
    rng = np.random.default_rng(11)
    T = rng.uniform(200, 700, 3000)
    rate = rng.gamma(0.8, 1 / 40, 3000)
    frequency = rng.poisson(rate * T)
    recency = np.where(frequency > 0, T * rng.beta(np.maximum(frequency, 1), 1), 0.0)
    with pytest.raises(RFMInputError, match=r"Pareto/NBD did not converge: (s|beta)\b.* ran off towards 0 or infinity"):
        ParetoNBDModel().fit(frequency, recency, T)
    assert pnbd.MIN_DROPOUT_SHAPE < 0.61  # CDNOW's published s stays well inside
