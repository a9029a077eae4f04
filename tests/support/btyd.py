"""The CDNOW data of the BTYD tests, and customers drawn from the purchase models' generative stories.

CDNOW's 1/10th sample ships inside the ``lifetimes`` wheel (a test dependency); it is read from the wheel's data
folder without importing lifetimes, whose import may break on newer pandas or scipy. The simulations follow each
model's story step by step (who drops out when, Poisson purchases meanwhile), written here independently of the
likelihoods and closed forms in ``rfm.value`` that they check.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from devkit.data import lifetimes_datasets
from rfm import schema
from rfm.cleaning.orders import DATE, VALUE

#: The split of FHL (2005): calibration up to week 39, holdout to week 78; time in weeks.
CDNOW_CALIBRATION_END = "1997-09-30"
CDNOW_OBSERVATION_END = "1998-06-30"
WEEK = 7.0


def cdnow_folder() -> Path:
    """The lifetimes wheel's data folder; fails the test (not skips) when the test dependency is missing."""
    folder = lifetimes_datasets()
    if folder is None:
        pytest.fail(
            "The CDNOW data ships in the lifetimes wheel, a test dependency: run `make test`, or "
            "`.venv/bin/python -m pip install lifetimes==0.11.3`.",
            pytrace=False,
        )
    return folder


def cdnow_orders() -> pd.DataFrame:
    """CDNOW's 1/10th sample as an orders table; customer_id is the sample's 1-based id, as in the summaries."""
    raw = pd.read_csv(
        cdnow_folder() / "CDNOW_sample.txt", sep=r"\s+", header=None,
        names=["master_id", "id", "date", "cds", "value"], dtype={"date": str},
    )
    return pd.DataFrame({
        schema.CUSTOMER_ID: raw["id"].astype(str),
        DATE: pd.to_datetime(raw["date"], format="%Y%m%d"),
        VALUE: raw["value"].astype(float),
    })


def cdnow_published_summary() -> pd.DataFrame:
    """The published 39-week calibration summary of the 2,357 customers (weeks) joined with zbar, indexed by id as
    str: frequency, recency, T, zbar."""
    folder = cdnow_folder()
    summary = pd.read_csv(folder / "cdnow_customers_summary.csv", index_col="ID")
    spend = pd.read_csv(folder / "cdnow_customers_summary_with_transactions.csv", index_col="ID")
    table = summary.join(spend["zbar"])
    table.index = table.index.astype(str)
    return table


# ---------------------------------------------------------------------------------------------------------------
# Generative stories


def _history(rng: np.random.Generator, purchases: np.ndarray, span: np.ndarray, n_arrivals: np.ndarray) -> np.ndarray:
    """Time of the last of ``purchases`` made among ``n_arrivals`` Poisson arrivals spread uniformly over
    [0, span]: the purchases-th smallest of n_arrivals uniforms, which is Beta(purchases, n_arrivals - purchases + 1)."""
    made = purchases > 0
    last = np.zeros(len(purchases))
    last[made] = span[made] * rng.beta(purchases[made], n_arrivals[made] - purchases[made] + 1)
    return last


def simulate_beta_geometric(
    rng: np.random.Generator, n: int, r: float, alpha: float, a: float, b: float, T: np.ndarray, *, drop_at_start: bool
) -> pd.DataFrame:
    """frequency, recency, T of customers drawn from BG/NBD, or from MBG/NBD with ``drop_at_start``.

    Rate λ ~ Gamma(r, α), drop-out probability p ~ Beta(a, b). In BG/NBD a customer may drop out right after each
    repeat purchase, so the purchases they ever make are Geometric(p) on 1, 2, ...; in MBG/NBD they may also drop
    out right after the first purchase (then never buy again). Purchases follow a Poisson(λ) process until then.
    """
    rate, dropout = rng.gamma(r, 1 / alpha, n), rng.beta(a, b, n)
    ever = rng.geometric(dropout)
    if drop_at_start:
        ever = np.where(rng.random(n) < dropout, 0, ever)
    arrivals = rng.poisson(rate * T)
    frequency = np.minimum(arrivals, ever)
    return pd.DataFrame({"frequency": frequency, "recency": _history(rng, frequency, T, arrivals), "T": T})


def simulate_pareto_nbd(
    rng: np.random.Generator, n: int, r: float, alpha: float, s: float, beta: float, T: np.ndarray
) -> pd.DataFrame:
    """frequency, recency, T of customers drawn from Pareto/NBD: rate λ ~ Gamma(r, α), lifetime exponential with a
    rate μ ~ Gamma(s, β), purchases a Poisson(λ) process while alive."""
    rate, death = rng.gamma(r, 1 / alpha, n), rng.gamma(s, 1 / beta, n)
    active = np.minimum(rng.exponential(1 / death), T)
    frequency = rng.poisson(rate * active)
    return pd.DataFrame({"frequency": frequency, "recency": _history(rng, frequency, active, frequency), "T": T})


def beta_geometric_posterior(
    rng: np.random.Generator, draws: int, params: dict, x: float, t_x: float, T: float, t: float, *, drop_at_start: bool
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Monte Carlo of a BG/NBD (or MBG/NBD) customer with history (x, t_x, T): ``(weight, alive, purchases)``.

    (λ, p) are drawn from the prior and weighted by the individual likelihood of the history, split into alive at T,
    (1-p)^n λ^x e^(-λT), and dropped out right after the last purchase, p (1-p)^(n-1) λ^x e^(-λ t_x) (n chances to
    drop out: x, or x + 1 with ``drop_at_start``; none when n = 0). ``alive`` is each draw's probability of being
    alive given the history (the first part's share of the weight); ``purchases`` are simulated for the next ``t``
    from an alive customer: Poisson(λ t) arrivals, cut at the Geometric(p)-th purchase, after which they drop out.
    """
    rate, dropout = rng.gamma(params["r"], 1 / params["alpha"], draws), rng.beta(params["a"], params["b"], draws)
    chances = x + drop_at_start
    log_rate = x * np.log(rate)
    alive = np.exp(chances * np.log1p(-dropout) + log_rate - rate * T)
    dropped = np.exp(np.log(dropout) + (chances - 1) * np.log1p(-dropout) + log_rate - rate * t_x) if chances else 0.0
    purchases = np.minimum(rng.poisson(rate * t), rng.geometric(dropout))
    return _shares(alive, alive + dropped, purchases)


def pareto_nbd_posterior(
    rng: np.random.Generator, draws: int, params: dict, x: float, t_x: float, T: float, t: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Monte Carlo of a Pareto/NBD customer with history (x, t_x, T): ``(weight, alive, purchases)``.

    (λ, μ) are drawn from the prior and weighted by the individual likelihood of the history: alive at T,
    λ^x e^(-(λ+μ)T), or died between t_x and T, λ^x μ/(λ+μ) (e^(-(λ+μ)t_x) - e^(-(λ+μ)T)). ``purchases`` are
    simulated for the next ``t`` from an alive customer: Poisson(λ min(t, remaining lifetime)), the remaining
    lifetime exponential with rate μ (memoryless). ``alive`` is as for :func:`beta_geometric_posterior`.
    """
    rate, death = rng.gamma(params["r"], 1 / params["alpha"], draws), rng.gamma(params["s"], 1 / params["beta"], draws)
    both = rate + death
    alive = np.exp(x * np.log(rate) - both * T)
    dropped = np.exp(x * np.log(rate) - both * t_x) * -np.expm1(-both * (T - t_x)) * death / both
    purchases = rng.poisson(rate * np.minimum(t, rng.exponential(1 / death)))
    return _shares(alive, alive + dropped, purchases)


def _shares(alive: np.ndarray, weight: np.ndarray, purchases: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    return weight, np.divide(alive, weight, out=np.zeros_like(weight), where=weight > 0), purchases


def weighted_mean(weight: np.ndarray, values: np.ndarray) -> tuple[float, float]:
    """The self-normalised importance-sampling mean Σ w v / Σ w and its standard error (delta method): with
    ``beta_geometric_posterior``'s output, P(alive) is weighted_mean(weight, alive) and the expected purchases
    weighted_mean(weight, alive * purchases)."""
    total = weight.sum()
    mean = float(weight @ values / total)
    return mean, float(np.sqrt(np.sum((weight * (values - mean)) ** 2)) / total)
