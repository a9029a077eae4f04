"""The BTYD fits weigh each distinct customer history by how often it occurs (``rfm.shared.numeric.distinct_rows``), and
the whole-number settings use the library's one integer check (``rfm.shared.numeric.is_int``)."""

import numpy as np
import pandas as pd
import pytest

from rfm.errors import RFMInputError
from rfm.value import models as clv


def _summary(n: int = 600, seed: int = 0) -> pd.DataFrame:
    """Customers drawn from BG/NBD (r=0.5, alpha=4, a=0.8, b=2.5) in whole weeks, with spends rounded to tens, so
    that many histories repeat."""
    rng = np.random.default_rng(seed)
    T = rng.integers(20, 40, n).astype(float)
    rate, dropout = rng.gamma(0.5, 1 / 4.0, n), rng.beta(0.8, 2.5, n)
    frequency, recency, now = np.zeros(n), np.zeros(n), np.zeros(n)
    active = np.ones(n, dtype=bool)
    while active.any():
        now[active] += rng.exponential(1 / rate[active])
        active &= now <= T
        frequency[active] += 1
        recency[active] = np.floor(now[active])
        active &= rng.random(n) >= dropout
    spend = np.where(frequency > 0, np.round(rng.lognormal(3.5, 0.5, n), -1), 0.0)
    return pd.DataFrame({"frequency": frequency, "recency": recency, "T": T, "monetary_value": spend})


def _fits(summary: pd.DataFrame) -> tuple[clv.BetaGeoModel, clv.GammaGammaModel]:
    bgnbd = clv.BetaGeoModel().fit(summary["frequency"], summary["recency"], summary["T"])
    gamma_gamma = clv.GammaGammaModel().fit(summary["frequency"], summary["monetary_value"])
    return bgnbd, gamma_gamma


def test_the_data_repeat_histories():
    summary = _summary()
    assert len(summary[["frequency", "recency", "T"]].drop_duplicates()) < 0.7 * len(summary)
    assert len(summary[["frequency", "monetary_value"]].drop_duplicates()) < len(summary) / 2


def test_repeating_every_customer_changes_no_parameter_and_multiplies_the_likelihood():
    summary = _summary()
    once, thrice = _fits(summary), _fits(pd.concat([summary] * 3, ignore_index=True))
    assert thrice[0].params_ == pytest.approx(once[0].params_, rel=1e-6)
    assert thrice[1].params_ == pytest.approx(once[1].params_, rel=1e-6)
    assert thrice[0].log_likelihood_ == pytest.approx(3 * once[0].log_likelihood_, rel=1e-9)
    assert thrice[0].n_customers_ == 3 * once[0].n_customers_


def test_customer_order_does_not_matter():
    summary = _summary()
    shuffled = summary.sample(frac=1.0, random_state=3)
    (bgnbd, gamma_gamma), (bgnbd_shuffled, gamma_gamma_shuffled) = _fits(summary), _fits(shuffled)
    assert bgnbd_shuffled.params_ == pytest.approx(bgnbd.params_, rel=1e-6)
    assert gamma_gamma_shuffled.params_ == pytest.approx(gamma_gamma.params_, rel=1e-6)


def test_whole_number_settings_take_numpy_integers_and_refuse_bools():
    summary = _summary()
    bgnbd, gamma_gamma = _fits(summary)
    columns = [summary[c] for c in ("frequency", "recency", "T", "monetary_value")]
    by_numpy = clv.customer_lifetime_value(bgnbd, gamma_gamma, *columns, months=np.int64(6))
    assert by_numpy == pytest.approx(clv.customer_lifetime_value(bgnbd, gamma_gamma, *columns, months=6))
    with pytest.raises(RFMInputError, match="months should be a whole number >= 1; got True"):
        clv.customer_lifetime_value(bgnbd, gamma_gamma, *columns, months=True)
    with pytest.raises(RFMInputError, match=r"months should be a whole number >= 1; got 6\.0"):
        clv.customer_lifetime_value(bgnbd, gamma_gamma, *columns, months=6.0)
    split = summary.assign(frequency_holdout=1, duration_holdout=10.0)
    assert len(clv.holdout_check(split, bgnbd, max_frequency=np.int32(2))) == 3
    with pytest.raises(RFMInputError, match="max_frequency should be a whole number >= 1; got False"):
        clv.holdout_check(split, bgnbd, max_frequency=False)
