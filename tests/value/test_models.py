"""Predictive CLV (rfm.value.models): the published CDNOW figures of Fader, Hardie & Lee (2005) and Fader & Hardie (2013),
a parameter-recovery check on simulated data, and the errors degenerate input gives.

The CDNOW 1/10th sample ships inside the ``lifetimes`` wheel (a test dependency); ``tests/support/btyd.py`` reads
it from the wheel's folder without importing lifetimes.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from rfm import schema
from rfm.errors import RFMInputError
from rfm.value import models as clv
from tests.support import btyd

CALIBRATION_END = btyd.CDNOW_CALIBRATION_END
OBSERVATION_END = btyd.CDNOW_OBSERVATION_END
WEEK = btyd.WEEK


@pytest.fixture(scope="module")
def cdnow_orders() -> pd.DataFrame:
    """The raw transactions as an orders table; customer_id is the sample's 1-based id, as in the summaries."""
    return btyd.cdnow_orders()


@pytest.fixture(scope="module")
def published() -> pd.DataFrame:
    """The published 39-week calibration summary (weeks) joined with zbar, indexed by id as str."""
    return btyd.cdnow_published_summary()


@pytest.fixture(scope="module")
def split(cdnow_orders) -> pd.DataFrame:
    return clv.clv_summary(cdnow_orders, OBSERVATION_END, calibration_end=CALIBRATION_END, unit_days=WEEK)


@pytest.fixture(scope="module")
def bgnbd(published) -> clv.BetaGeoModel:
    return clv.BetaGeoModel().fit(published["frequency"], published["recency"], published["T"])


@pytest.fixture(scope="module")
def gamma_gamma(published) -> clv.GammaGammaModel:
    return clv.GammaGammaModel().fit(published["frequency"], published["zbar"])


# ---------------------------------------------------------------------------------------------------------------
# Summary


def test_summary_reproduces_the_published_cdnow_calibration_summary(split, published):
    assert len(split) == 2_357
    assert split.index.name == schema.CUSTOMER_ID and split.index.is_monotonic_increasing
    ours = split.loc[published.index]
    assert (ours["frequency"] == published["frequency"]).all()
    # The published figures are weeks rounded to 2 decimals; T counts days from the first purchase to
    # calibration_end without the end day (1997-01-01 .. 1997-09-30 = 272 days = 38.86 weeks).
    assert np.abs(ours["recency"] - published["recency"]).max() <= 0.0051
    assert np.abs(ours["T"] - published["T"]).max() <= 0.0051
    # zbar is the mean of the repeat purchase days, rounded to cents.
    assert np.abs(ours["monetary_value"] - published["zbar"]).max() <= 0.0051
    assert (split["duration_holdout"] == 39.0).all()


def test_summary_groups_orders_by_day_and_ignores_later_orders():
    orders = pd.DataFrame({
        schema.CUSTOMER_ID: ["a", "a", "a", "a", "b"],
        clv.DATE: pd.to_datetime(
            ["2024-01-01 09:00", "2024-01-01 17:00", "2024-01-11 08:00", "2024-03-01 08:00", "2024-01-05 12:00"]
        ),
        clv.VALUE: [10.0, 5.0, 20.0, 99.0, 8.0],
    })
    summary = clv.clv_summary(orders, "2024-01-31")
    assert summary.to_dict("index") == {
        "a": {"frequency": 1, "recency": 10.0, "T": 30.0, "monetary_value": 20.0},
        "b": {"frequency": 0, "recency": 0.0, "T": 26.0, "monetary_value": 0.0},
    }
    shuffled = clv.clv_summary(orders.sample(frac=1, random_state=3), "2024-01-31")
    pd.testing.assert_frame_equal(summary, shuffled)


def test_summary_holdout_columns():
    orders = pd.DataFrame({
        schema.CUSTOMER_ID: ["a", "a", "a", "a", "b", "c"],
        clv.DATE: pd.to_datetime(["2024-01-01", "2024-01-05", "2024-02-02", "2024-02-09", "2024-01-03", "2024-02-01"]),
        clv.VALUE: [1.0, 2.0, 30.0, 10.0, 4.0, 5.0],
    })
    summary = clv.clv_summary(orders, "2024-02-29", calibration_end="2024-01-31")
    assert list(summary.index) == ["a", "b"]  # c first bought after calibration_end
    assert summary.loc["a", "frequency"] == 1 and summary.loc["a", "T"] == 30.0
    assert summary["frequency_holdout"].tolist() == [2, 0]
    assert summary["monetary_value_holdout"].tolist() == [20.0, 0.0]
    assert summary["duration_holdout"].tolist() == [29.0, 29.0]


# ---------------------------------------------------------------------------------------------------------------
# BG/NBD


def test_bgnbd_reproduces_the_published_cdnow_fit(bgnbd):
    # Fader, Hardie & Lee (2005): r = 0.243, alpha = 4.414, a = 0.793, b = 2.426, LL = -9582.4.
    published = {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426}
    assert bgnbd.params_ == pytest.approx(published, rel=0.005)
    assert bgnbd.log_likelihood_ == pytest.approx(-9582.4, abs=0.1)
    assert bgnbd.n_customers_ == 2_357


def test_bgnbd_fit_on_our_summary_matches_the_published_one(split, bgnbd):
    ours = clv.BetaGeoModel().fit(split["frequency"], split["recency"], split["T"])
    assert ours.params_ == pytest.approx(bgnbd.params_, rel=1e-3)


def test_bgnbd_published_prediction_for_one_customer(bgnbd):
    # FHL 2005: x = 2, t_x = 30.43, T = 38.86 weeks -> 1.226 expected purchases in the next 39 weeks.
    assert bgnbd.expected_purchases(39, [2], [30.43], [38.86])[0] == pytest.approx(1.226, rel=0.01)


def test_p_alive_is_a_probability_and_grows_with_recency(bgnbd, published):
    alive = bgnbd.p_alive(published["frequency"], published["recency"], published["T"])
    assert ((alive >= 0) & (alive <= 1)).all()
    assert (alive[published["frequency"].to_numpy() == 0] == 1).all()
    by_recency = bgnbd.p_alive([3] * 5, [5, 10, 20, 30, 38], [38.86] * 5)
    assert (np.diff(by_recency) > 0).all()


def test_expected_purchases_are_finite_for_extreme_customers(bgnbd):
    # Large frequencies and horizons are where the hypergeometric function overflows or cancels.
    x, T = np.meshgrid([0, 1, 10, 100, 1000, 5000], [5000, 20000])
    x, T = x.ravel(), T.ravel()
    for horizon in (0.0, 1.0, 52.0, 5200.0, 52000.0):
        expected = bgnbd.expected_purchases(horizon, x, T / 2 * (x > 0), T)
        assert np.isfinite(expected).all() and (expected >= 0).all()
    assert np.diff(bgnbd.expected_purchases_new([0, 1, 10, 100, 1000])).min() > 0


def test_expected_purchases_matches_the_closed_form_where_it_is_reliable(bgnbd):
    """The quadrature fallback and scipy's hyp2f1 agree on the CDNOW customers."""
    r, alpha, a, b = bgnbd.params_.values()
    x, T = np.array([0.0, 1, 2, 5, 10]), np.full(5, 38.86)
    closed = clv._bgnbd_expected(39.0, x, alpha + T, r, a, b)
    quadrature = clv._expected_by_quadrature(np.full(5, 39.0), x, alpha + T, r, a, b)
    assert quadrature == pytest.approx(closed, rel=1e-6)


@pytest.mark.parametrize(
    "params",
    [
        {"r": 0.5, "alpha": 100.0, "a": 2.5, "b": 8.0},  # scipy's hyp2f1 gives NaN here
        {"r": 5.0, "alpha": 2.0, "a": 10.0, "b": 0.2},  # ... and 0 here
        {"r": 0.24, "alpha": 4.4, "a": 1.0, "b": 2.4},  # the closed form divides by a - 1
    ],
)
def test_expected_purchases_where_the_closed_form_breaks(params):
    model = clv.BetaGeoModel()
    model.params_ = params
    x, t_x, T = np.array([100.0, 500.0]), np.array([90.0, 900.0]), np.array([100.0, 1000.0])
    expected = model.expected_purchases(3650.0, x, t_x, T)
    r, alpha, a, b = params.values()
    careful = clv._expected_by_quadrature(np.full(2, 3650.0), x, alpha + T, r, a, b, points=8000)
    assert expected == pytest.approx(careful * model.p_alive(x, t_x, T), rel=1e-6)
    assert (expected > 0).all() and (expected < model.expected_purchases(36500.0, x, t_x, T)).all()


def test_holdout_predictions_track_the_actual_purchases(split):
    model = clv.BetaGeoModel().fit(split["frequency"], split["recency"], split["T"])
    table = clv.holdout_check(split, model)
    assert table["group"].tolist() == ["0", "1", "2", "3", "4", "5", "6", "7+"]
    assert table["customers"].sum() == 2_357
    assert table["customers"].tolist()[0] == 1_411
    actual = (table["customers"] * table["actual"]).sum()
    predicted = (table["customers"] * table["predicted"]).sum()
    assert actual == split["frequency_holdout"].sum() == 1_882  # repeat purchase days in weeks 40-78
    # The conditional forecast is 1,653 (12 % low; FHL's figure 4 shows the same under-forecast for x = 1, 2).
    assert predicted == pytest.approx(actual, rel=0.15)
    # FHL's figure 3: cumulative repeat purchases over all 78 weeks, from E[X(t)] per customer: 4,161 vs 4,339.
    cumulative = model.expected_purchases_new(split["T"].to_numpy() + 39.0).sum()
    assert cumulative == pytest.approx(split["frequency"].sum() + actual, rel=0.05)
    assert 0 < clv.holdout_error(table) < 0.2


def _simulate_bgnbd(rng: np.random.Generator, n: int, r, alpha, a, b, T: np.ndarray) -> pd.DataFrame:
    """frequency, recency, T of customers drawn from BG/NBD (dropout may follow each repeat purchase)."""
    rate = rng.gamma(r, 1 / alpha, n)
    dropout = rng.beta(a, b, n)
    x, t_x, now = np.zeros(n), np.zeros(n), np.zeros(n)
    active = np.ones(n, dtype=bool)
    while active.any():
        now[active] += rng.exponential(1 / rate[active])
        active &= now <= T
        x[active] += 1
        t_x[active] = now[active]
        active &= rng.random(n) >= dropout
    return pd.DataFrame({"frequency": x, "recency": t_x, "T": T})


def test_bgnbd_recovers_the_parameters_it_was_simulated_with():
    rng = np.random.default_rng(20240601)
    truth = {"r": 0.5, "alpha": 10.0, "a": 0.8, "b": 2.5}
    customers = _simulate_bgnbd(rng, 5_000, *truth.values(), T=rng.uniform(30, 365, 5_000))
    model = clv.BetaGeoModel().fit(customers["frequency"], customers["recency"], customers["T"])
    assert model.params_ == pytest.approx(truth, rel=0.2)


# ---------------------------------------------------------------------------------------------------------------
# Gamma-Gamma and CLV


def test_gamma_gamma_reproduces_the_published_cdnow_fit(gamma_gamma):
    # Fader & Hardie (2013): p = 6.25, q = 3.74, gamma = 15.44 on the 946 repeat buyers.
    assert gamma_gamma.params_ == pytest.approx({"p": 6.25, "q": 3.74, "v": 15.44}, rel=0.005)
    assert gamma_gamma.n_repeat_buyers_ == 946 and gamma_gamma.n_customers_ == 2_357
    assert abs(gamma_gamma.frequency_monetary_correlation_) < 0.3


def test_expected_average_value(gamma_gamma):
    p, q, v = gamma_gamma.params_.values()
    values = gamma_gamma.expected_average_value([0, 0, 1, 10], [0.0, 55.0, 50.0, 50.0])
    assert values[:2] == pytest.approx([p * v / (q - 1)] * 2)  # no repeat spend: the population mean
    population = values[0]
    assert population < values[2] < values[3] < 50.0  # shrunk towards the mean, less so with more purchases


def test_customer_lifetime_value(bgnbd, gamma_gamma, published):
    columns = [published[c] for c in ("frequency", "recency", "T", "zbar")]

    def value(**settings):
        return clv.customer_lifetime_value(bgnbd, gamma_gamma, *columns, unit_days=WEEK, **settings)

    yearly = value()
    assert yearly.shape == (2_357,) and np.isfinite(yearly).all() and (yearly >= 0).all()
    assert (value(months=24) >= yearly).all() and value(months=24).sum() > yearly.sum()
    assert (value(annual_discount_rate=0.3) <= yearly).all() and value(annual_discount_rate=0.3).sum() < yearly.sum()
    assert (value(margin=0.0) == 0).all()
    assert value(margin=0.25) == pytest.approx(yearly * 0.25)
    # Undiscounted, it is the expected purchases in 12 months times the expected average value.
    months = 12 * clv.DAYS_PER_MONTH / WEEK
    expected = bgnbd.expected_purchases(months, *columns[:3]) * gamma_gamma.expected_average_value(
        columns[0], columns[3]
    )
    assert value(annual_discount_rate=0.0) == pytest.approx(expected)


def test_customer_lifetime_value_settings_are_checked(bgnbd, gamma_gamma):
    with pytest.raises(RFMInputError, match="months should be a whole number >= 1; got 0"):
        clv.customer_lifetime_value(bgnbd, gamma_gamma, [1], [1], [2], [10.0], months=0)
    with pytest.raises(RFMInputError, match="annual_discount_rate should be a number >= 0"):
        clv.customer_lifetime_value(bgnbd, gamma_gamma, [1], [1], [2], [10.0], annual_discount_rate=-0.5)
    with pytest.raises(RFMInputError, match="unit_days should be a number > 0"):
        clv.customer_lifetime_value(bgnbd, gamma_gamma, [1], [1], [2], [10.0], unit_days=0)


def test_fit_clv_from_orders(cdnow_orders):
    bgnbd, gamma_gamma, summary, warnings = clv.fit_clv(cdnow_orders, CALIBRATION_END, unit_days=WEEK)
    assert len(summary) == 2_357 and gamma_gamma is not None and warnings == []
    assert bgnbd.params_["r"] == pytest.approx(0.243, rel=0.01)


# ---------------------------------------------------------------------------------------------------------------
# Bad and degenerate input


def _orders(customers: list[str], days: list[str], values: list[float] | None = None) -> pd.DataFrame:
    return pd.DataFrame({
        schema.CUSTOMER_ID: customers,
        clv.DATE: pd.to_datetime(days),
        clv.VALUE: values or [10.0] * len(customers),
    })


def test_too_few_customers():
    orders = _orders(list("abcdeab"), ["2024-01-01"] * 5 + ["2024-02-01"] * 2)
    with pytest.raises(RFMInputError, match=r"BG/NBD needs at least 10 customers to fit; got 5 \(5 more needed\)\."):
        clv.fit_clv(orders, "2024-03-01")


def test_nobody_repeats():
    orders = _orders([f"c{i}" for i in range(20)], ["2024-01-01"] * 20)
    with pytest.raises(RFMInputError, match="none of the 20 customers did"):
        clv.fit_clv(orders, "2024-03-01")


def test_calibration_end_must_be_before_observation_end():
    orders = _orders(["a", "a"], ["2024-01-01", "2024-02-01"])
    with pytest.raises(RFMInputError, match=r"calibration_end 2024-04-01 should be .* before observation_end"):
        clv.clv_summary(orders, "2024-03-01", calibration_end="2024-04-01")
    with pytest.raises(RFMInputError, match="on or after the first order"):
        clv.clv_summary(orders, "2024-03-01", calibration_end="2023-04-01")


def test_bad_orders_give_one_message_with_counts_and_an_example():
    orders = _orders(["a", None, "b"], ["2024-01-01", "2024-01-02", "2024-01-03"], [1.0, 2.0, float("nan")])
    with pytest.raises(RFMInputError, match=r"customer_id is missing in 1 of 3 orders \(first: row 1.*"
                                            r"value is missing or not a number in 1 of 3 orders"):
        clv.clv_summary(orders, "2024-03-01")
    with pytest.raises(RFMInputError, match=r"no column \['value'\]"):
        clv.clv_summary(orders.drop(columns=clv.VALUE), "2024-03-01")
    with pytest.raises(RFMInputError, match="no orders on or before observation_end 2023-01-01"):
        clv.clv_summary(orders.dropna(), "2023-01-01")


def test_bad_summary_columns():
    with pytest.raises(RFMInputError, match=r"recency is not between 0 and a finite T for 1 of 12 customers "
                                            r"\(first at position 3: frequency=1, recency=9, T=5\)"):
        clv.BetaGeoModel().fit([1] * 12, [1, 1, 1, 9] + [1] * 8, [5] * 12)
    with pytest.raises(RFMInputError, match="frequency is not a whole number >= 0 for 2 of 12"):
        clv.BetaGeoModel().fit([1.5, -1] + [1] * 10, [1] * 12, [5] * 12)
    with pytest.raises(RFMInputError, match="differ in length"):
        clv.BetaGeoModel().fit([1, 2], [1], [5, 5])
    with pytest.raises(RFMInputError, match="not fitted yet"):
        clv.BetaGeoModel().p_alive([1], [1], [2])


def test_gamma_gamma_needs_repeat_buyers():
    with pytest.raises(RFMInputError, match=r"at least 10 repeat buyers with a positive spend; 3 of the 12 customers"):
        clv.GammaGammaModel().fit([0] * 9 + [1, 2, 3], [0.0] * 9 + [5.0, 6.0, 7.0])


def test_equal_spends_leave_fit_clv_without_a_spend_model_and_say_why(cdnow_orders):
    orders = cdnow_orders.assign(**{clv.VALUE: 12.0})
    bgnbd, gamma_gamma, _, warnings = clv.fit_clv(orders, CALIBRATION_END, unit_days=WEEK)
    assert gamma_gamma is None and bgnbd.n_customers_ == 2_357
    assert len(warnings) == 1
    assert warnings[0].startswith("No spend model, so no lifetime value in money: Gamma-Gamma did not converge")


def test_identical_customers_give_a_clear_error_not_nonsense():
    # Twelve customers buying like clockwork: no spread to fit a Gamma or a Beta to.
    customers = [f"c{i:02d}" for i in range(12)]
    days = [f"2024-{month:02d}-01" for month in (1, 2, 3)]
    orders = _orders([c for c in customers for _ in days], days * 12)
    with pytest.raises(RFMInputError, match=r"BG/NBD did not converge: .* ran off towards 0 or infinity"):
        clv.fit_clv(orders, "2024-04-30")
