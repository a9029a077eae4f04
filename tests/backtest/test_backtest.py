"""The backtest on a constructed file whose answer is known, too little data said plainly, and the golden figures on
CDNOW (RFM score sum AUC about 0.76 at a 273-day holdout) and the shared UCI excerpt."""

import datetime as dt
from functools import lru_cache

import numpy as np
import pandas as pd
import pytest

from devkit.data import WORKBOOK, cdnow_master
from rfm.backtest.run import MODEL_ORDERINGS, ORDERINGS, Backtest, BacktestSettings, backtest
from rfm.cleaning.orders import tidy_orders
from rfm.errors import RFMInputError
from rfm.outputs.charts import gains_figure
from tests.support.btyd import simulate_beta_geometric

CUT = dt.date(2024, 6, 30)
LAST = dt.date(2024, 7, 30)


def _known_orders(n: int = 80) -> pd.DataFrame:
    """``n`` customers, a quarter each with 1, 2, 3 and 4 orders of 20 before the cut, the last of them all 5 days
    before it (recency ties for everyone), the others 5 to 27 days apart. After the cut, those with 4 orders spend
    100, those with 3 spend 50, the others nothing: buying again is a function of frequency. Five customers first
    buy after the cut (not counted)."""
    rows = []
    for i in range(n):
        frequency, gap = 1 + i % 4, 5 + (7 * i) % 23
        rows += [(f"c{i:02d}", CUT - dt.timedelta(days=5 + gap * j), 20.0) for j in range(frequency)]
        if frequency >= 3:
            rows.append((f"c{i:02d}", CUT + dt.timedelta(days=10 + i % 7), 100.0 if frequency == 4 else 50.0))
    rows += [(f"new{i}", LAST - dt.timedelta(days=i), 30.0) for i in range(5)]
    return tidy_orders(pd.DataFrame(rows, columns=["customer_id", "date", "value"]))


def _simulated_orders() -> pd.DataFrame:
    """400 customers drawn from BG/NBD (CDNOW's parameters, in days) before the cut; after it, every customer with
    2 or more repeat purchases buys once, for 10 per order they had made, and nobody else buys."""
    rng = np.random.default_rng(11)
    summary = simulate_beta_geometric(rng, 400, 0.24, 31.0, 0.79, 2.4, rng.integers(30, 270, 400).astype(float), drop_at_start=False)
    rows = []
    for i, (frequency, recency, T) in enumerate(summary.itertuples(index=False)):
        first = pd.Timestamp(CUT) - pd.Timedelta(days=int(T))
        repeats = np.linspace(recency, 0, int(frequency), endpoint=False)[::-1] if frequency else []
        value = 10.0 + (13 * i) % 37
        rows += [(f"s{i:03d}", first + pd.Timedelta(days=int(day)), value) for day in (0, *(int(r) + 1 for r in repeats))]
        if frequency >= 2:
            rows.append((f"s{i:03d}", pd.Timestamp(CUT) + pd.Timedelta(days=3), 10.0 * (frequency + 1)))
    return tidy_orders(pd.DataFrame(rows, columns=["customer_id", "date", "value"]))


@lru_cache(maxsize=1)
def _known() -> Backtest:
    return backtest(_known_orders(), LAST, BacktestSettings(holdout_days=30, k=2))


@lru_cache(maxsize=1)
def _simulated() -> Backtest:
    return backtest(_simulated_orders(), LAST, BacktestSettings(holdout_days=30))


def test_the_cut_and_who_bought_again():
    result = _known()
    assert result.cut == CUT
    assert result.customers_at_cut == 80  # the five who first bought after the cut are not in it
    assert result.bought_again == 40
    assert result.bought_again_rate == 0.5
    assert result.revenue_after == 20 * 100 + 20 * 50


def test_the_rankings_on_a_known_answer():
    rankings = _known().rankings
    assert rankings.at["frequency", "auc"] == 1.0
    # Every customer's last order is on the same day: recency cannot tell anyone apart.
    assert rankings.at["recency", "auc"] == 0.5
    assert rankings.at["recency", "top20_revenue_share"] == pytest.approx(0.2)
    # The best fifth by frequency is 16 of the 20 customers with 4 orders: 1,600 of 3,000.
    assert rankings.at["frequency", "top20_revenue_share"] == pytest.approx(1600 / 3000)
    # R is 1 for everyone, so the score sum is F + M, both a function of frequency here: a perfect ordering too.
    assert rankings.at["rfm_sum", "auc"] == 1.0


def test_every_model_ranks_customers_drawn_from_bgnbd():
    result = _simulated()
    rankings = result.rankings
    assert list(rankings.index) == list(ORDERINGS)
    # Buying again is a function of frequency (2+ repeat purchases), and the 51 buyers are all in the best fifth.
    assert result.bought_again == 51
    assert rankings.at["frequency", "auc"] == 1.0
    assert rankings.at["frequency", "top20_revenue_share"] == 1.0
    assert (rankings.loc[list(MODEL_ORDERINGS), "auc"] > 0.95).all()
    assert result.verdict() == (
        "Trust frequency alone: it ranks who bought again in the 30 days after 2024-06-30 best, with an AUC of 1.000, "
        f"{1 - rankings.at['rfm_sum', 'auc']:.3f} above the RFM score sum ({rankings.at['rfm_sum', 'auc']:.3f})."
    )


def test_each_segment_what_its_customers_did():
    segments = _known().segments
    for kind in ("rfm", "cluster"):
        part = segments[segments["kind"] == kind]
        assert part["customers"].sum() == 80
        # The rates, weighted by customers, give back everyone's; lift is the rate over everyone's (0.5).
        assert (part["customers"] * part["bought_again_rate"]).sum() == pytest.approx(40)
        np.testing.assert_allclose(part["lift"], part["bought_again_rate"] / 0.5)
        assert (part["customers"] * part["revenue_per_customer"]).sum() == pytest.approx(3000)
    assert _known().k == 2


def test_the_verdict_names_the_best_ordering():
    result = _simulated()
    best = result.best
    assert result.rankings.at[best, "auc"] == result.rankings["auc"].max()
    verdict = result.verdict()
    assert best == "frequency" and verdict.startswith("Trust frequency alone: ")
    assert "30 days after 2024-06-30" in verdict


def test_a_model_below_the_scores_is_said_plainly():
    result = _simulated()
    rankings = result.rankings.copy()
    rankings.loc[list(MODEL_ORDERINGS), "auc"] = 0.6
    rankings.loc[["recency", "frequency"], "auc"] = 0.5
    rankings.loc["rfm_sum", "auc"] = 0.9
    worse = Backtest(**{**result.__dict__, "rankings": rankings})
    assert worse.verdict() == (
        "Trust the RFM score sum: it ranks who bought again in the 30 days after 2024-06-30 best, with an AUC of 0.900; "
        "the best model ordering, BG/NBD expected purchases, reaches 0.600."
    )
    assert "falls below the RFM score sum (0.900)" in worse.model_below_rfm()
    rankings.loc["bgnbd", "auc"] = 0.95
    assert Backtest(**{**result.__dict__, "rankings": rankings}).model_below_rfm() is None


def test_the_json_has_exactly_the_documented_keys():
    data = _simulated().as_json()
    assert set(data) == {"cut", "customers_at_cut", "bought_again", "rankings", "segments"}
    assert data["cut"] == "2024-06-30"
    assert set(data["rankings"]) == {"recency", "frequency", "rfm_sum", "bgnbd", "mbgnbd", "pareto_nbd", "clv"}
    assert data["rankings"]["frequency"] == {"auc": 1.0, "top20_revenue_share": 1.0}
    assert data["bought_again"] == 51
    assert {row["kind"] for row in data["segments"]} == {"rfm", "cluster"}
    assert set(data["segments"][0]) == {"segment", "kind", "customers", "bought_again_rate", "revenue_per_customer", "lift"}


def test_shuffled_orders_give_the_same_backtest():
    shuffled = _simulated_orders().sample(frac=1, random_state=3)
    again = backtest(shuffled, LAST, BacktestSettings(holdout_days=30))
    pd.testing.assert_frame_equal(again.rankings, _simulated().rankings)
    pd.testing.assert_frame_equal(again.segments, _simulated().segments)


def test_the_gains_chart_draws_every_ordering_and_the_diagonal():
    result = _simulated()
    figure = gains_figure(result)
    names = [trace.name for trace in figure.data]
    assert names == ["random order", *result.rankings["label"]]
    frequency = figure.data[1 + list(result.rankings.index).index("frequency")]
    # Every buyer is in the best fifth: the frequency line reaches 100% by then (51 of 400 customers).
    assert frequency.y[list(frequency.x).index(20.0)] == pytest.approx(100)
    assert frequency.y[0] == 0
    assert "revenue after the cut" in gains_figure(result, "revenue").layout.title.text


@pytest.mark.parametrize(
    ("orders", "days", "message"),
    [
        (_known_orders(), 400, r"The history runs \d+ days \(2024-\d\d-\d\d to 2024-07-30\), not more than the 400-day holdout"),
        (_known_orders().head(8), 30, r"Only \d customers had ordered by the cut \(2024-06-30\); a backtest needs at least 20"),
        (_known_orders(), 1, r"Nobody of the \d+ customers who had ordered by the cut \(2024-07-29\) ordered again"),
        (_known_orders().iloc[0:0], 30, "There are no orders to backtest on"),
    ],
)
def test_too_little_data_names_what_is_missing(orders, days, message):
    # With a 1-day holdout the only order after the cut is a new customer's first: nobody at the cut bought again.
    with pytest.raises(RFMInputError, match=message):
        backtest(orders, LAST, BacktestSettings(holdout_days=days))


def test_a_model_that_cannot_be_fitted_is_left_out_and_said():
    # Everyone last bought on one day and buys every few weeks: no purchase model finds a maximum.
    result = _known()
    assert list(result.rankings.index) == ["recency", "frequency", "rfm_sum"]
    assert any(warning.startswith("No purchase model could be fitted at the cut") for warning in result.warnings)
    assert result.model_below_rfm() is None


def test_the_holdout_is_checked():
    with pytest.raises(RFMInputError, match="The holdout should be a whole number of days from 1 to 3,650; got 0"):
        BacktestSettings(holdout_days=0)


# --- Real data -------------------------------------------------------------------------------------------------


def _real(path, days: int) -> Backtest:
    from rfm.cleaning.analyse import analyse_file

    analysis = analyse_file(path)
    return backtest(analysis.orders, analysis.report.analysis_date, BacktestSettings(holdout_days=days))


@pytest.mark.slow
def test_cdnow_rfm_score_sum_at_a_273_day_holdout():
    path = cdnow_master()
    if path is None:
        pytest.skip("CDNOW master file absent (the lifetimes wheel, a test dependency, is not installed)")
    result = _real(path, 273)
    assert result.cut == dt.date(1997, 9, 30)  # the classic 39-week calibration
    assert result.customers_at_cut == 23_500
    aucs = result.rankings["auc"]
    assert 0.74 <= aucs["rfm_sum"] <= 0.78
    assert aucs.reindex(list(MODEL_ORDERINGS)).max() >= aucs["rfm_sum"]
    assert result.model_below_rfm() is None


@pytest.mark.slow
def test_uci_excerpt_best_model_is_not_below_the_scores():
    if not WORKBOOK.exists():
        pytest.skip(f"real UCI excerpt absent: {WORKBOOK}")
    result = _real(WORKBOOK, 90)
    aucs = result.rankings["auc"]
    assert list(result.rankings.index) == list(ORDERINGS)
    assert aucs.reindex(list(MODEL_ORDERINGS)).max() >= aucs["rfm_sum"]
    assert result.model_below_rfm() is None
