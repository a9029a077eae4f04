"""Too little data: every threshold lives in rfm.shared.data_needs, and every step that uses one says, one short of it,
which threshold, what the data has and how much more is needed; at the threshold the step runs."""

from __future__ import annotations

import ast
import datetime as dt
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from rfm.backtest.run import BacktestSettings, backtest
from rfm.cleaning.orders import tidy_orders
from rfm.clustering.sweep import sweep_k
from rfm.errors import RFMInputError, TooLittleDataError
from rfm.shared import data_needs
from rfm.shared.data_needs import (
    MIN_COHORT_CUSTOMERS,
    MIN_COHORT_MONTHS,
    MIN_CUSTOMERS_AT_CUT,
    MIN_DISTINCT_CUSTOMERS_TO_CLUSTER,
    MIN_HOLDOUT_SPAN_DAYS,
    MIN_MODEL_CUSTOMERS,
    MIN_REPEAT_BUYERS,
    MIN_REPEAT_CUSTOMERS_FOR_STAGES,
    more_needed,
    too_little,
)
from rfm.trends.cohorts import cohort_table
from rfm.value.churn import PURCHASE_MODELS
from rfm.value.models import GammaGammaModel
from rfm.value.predict import _calibration_summary

RFM = Path(__file__).resolve().parents[1] / "rfm"
CUT = dt.date(2024, 6, 30)
LAST = dt.date(2024, 7, 30)


def test_the_message_names_the_threshold_the_count_and_the_shortfall():
    error = too_little("The value models", 20, "customers with a repeat purchase", 7)
    assert isinstance(error, TooLittleDataError) and isinstance(error, RFMInputError) and isinstance(error, ValueError)
    assert str(error) == "The value models needs at least 20 customers with a repeat purchase; got 7 (13 more needed)."
    assert str(too_little("A", 2, "days", 0, advice="Choose a longer file.")).endswith("(2 more needed). Choose a longer file.")
    assert more_needed(10, 12) == "(0 more needed)"


def _btyd_columns(n_customers: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``n_customers`` histories in days, most of them with repeat purchases."""
    x = np.arange(n_customers, dtype=float) % 4
    T = np.full(n_customers, 100.0)
    t_x = np.where(x > 0, 20.0 + 7.0 * (np.arange(n_customers) % 10), 0.0)
    return x, t_x, T


@pytest.mark.parametrize("name", list(PURCHASE_MODELS))
def test_a_purchase_model_needs_min_model_customers(name):
    model_class = PURCHASE_MODELS[name]
    short = MIN_MODEL_CUSTOMERS - 1
    with pytest.raises(TooLittleDataError, match=rf"^{name} needs at least {MIN_MODEL_CUSTOMERS} customers to fit; "
                                                 rf"got {short} \(1 more needed\)\.$"):
        model_class().fit(*_btyd_columns(short))
    try:
        model_class().fit(*_btyd_columns(MIN_MODEL_CUSTOMERS))
    except RFMInputError as error:  # the optimiser may still refuse these ten histories, but not for their number
        assert not isinstance(error, TooLittleDataError), str(error)


def test_gamma_gamma_needs_min_repeat_buyers():
    rng = np.random.default_rng(3)
    spend = rng.gamma(4.0, 25.0, size=MIN_REPEAT_BUYERS)
    x = 1.0 + np.arange(MIN_REPEAT_BUYERS) % 5
    short_x = x.copy()
    short_x[0] = 0.0  # one repeat buyer fewer
    with pytest.raises(TooLittleDataError, match=(
        rf"Gamma-Gamma needs at least {MIN_REPEAT_BUYERS} repeat buyers with a positive spend; "
        rf"{MIN_REPEAT_BUYERS - 1} of the {MIN_REPEAT_BUYERS} customers are \(1 more needed\)\.$"
    )):
        GammaGammaModel().fit(short_x, spend)
    try:
        GammaGammaModel().fit(x, spend)
    except RFMInputError as error:
        assert not isinstance(error, TooLittleDataError), str(error)


def _orders(rows: list[tuple[str, dt.date | str, float]]) -> pd.DataFrame:
    return tidy_orders(pd.DataFrame(rows, columns=["customer_id", "date", "value"]))


def test_the_holdout_needs_min_holdout_span_days():
    first = dt.date(2024, 1, 1)
    orders = _orders([("a", first, 1.0), ("b", first, 2.0)])
    short_end = first + dt.timedelta(days=MIN_HOLDOUT_SPAN_DAYS - 1)
    with pytest.raises(TooLittleDataError, match=(
        rf"too short to hold any out\. The holdout check needs at least {MIN_HOLDOUT_SPAN_DAYS} days \(1 more needed\)\."
    )):
        _calibration_summary(orders, short_end, None)
    _, calibration_end = _calibration_summary(orders, first + dt.timedelta(days=MIN_HOLDOUT_SPAN_DAYS), None)
    assert calibration_end < first + dt.timedelta(days=MIN_HOLDOUT_SPAN_DAYS)


def _backtest_orders(n_customers: int) -> pd.DataFrame:
    """``n_customers`` customers with 1 to 4 orders before the cut; those with 3 or 4 buy again after it."""
    rows = []
    for i in range(n_customers):
        frequency, gap = 1 + i % 4, 5 + (7 * i) % 23
        rows += [(f"c{i:02d}", CUT - dt.timedelta(days=5 + gap * j), 20.0) for j in range(frequency)]
        if frequency >= 3:
            rows.append((f"c{i:02d}", CUT + dt.timedelta(days=10 + i % 7), 50.0))
    return _orders(rows)


def test_a_backtest_needs_min_customers_at_the_cut():
    short = MIN_CUSTOMERS_AT_CUT - 1
    with pytest.raises(TooLittleDataError, match=(
        rf"^Only {short} customers had ordered by the cut \({CUT}\); a backtest needs at least {MIN_CUSTOMERS_AT_CUT} "
        r"\(1 more needed\)\. Choose fewer holdout days\.$"
    )):
        backtest(_backtest_orders(short), LAST, BacktestSettings(holdout_days=30))
    result = backtest(_backtest_orders(MIN_CUSTOMERS_AT_CUT), LAST, BacktestSettings(holdout_days=30))
    assert result.customers_at_cut == MIN_CUSTOMERS_AT_CUT


def test_cohorts_need_min_cohort_months_and_warn_under_min_cohort_customers():
    assert MIN_COHORT_MONTHS == 2  # the message says "two calendar months"
    january = [(f"j{i}", "2024-01-10", 10.0) for i in range(MIN_COHORT_CUSTOMERS)]
    with pytest.raises(TooLittleDataError, match="cohort retention needs orders in at least two calendar months"):
        cohort_table(_orders(january))
    big = cohort_table(_orders([*january, ("j0", "2024-02-10", 10.0)]))
    assert not [w for w in big.warnings if "fewer than" in w]
    small = cohort_table(_orders([*january[1:], ("j1", "2024-02-10", 10.0)]))
    assert any(f"fewer than {MIN_COHORT_CUSTOMERS} customers" in w for w in small.warnings)


def test_clustering_needs_min_distinct_customers():
    short = np.arange(MIN_DISTINCT_CUSTOMERS_TO_CLUSTER - 1, dtype=float).reshape(-1, 1)
    result = sweep_k(np.repeat(short, 5, axis=0), k_min=2, k_max=4)
    assert result.ks == [] or len(result.ks) == 0
    assert any(
        f"clustering needs at least {MIN_DISTINCT_CUSTOMERS_TO_CLUSTER} (1 more needed)" in w for w in result.warnings
    )
    enough = np.arange(MIN_DISTINCT_CUSTOMERS_TO_CLUSTER, dtype=float).reshape(-1, 1)
    assert len(sweep_k(np.repeat(enough, 5, axis=0), k_min=2, k_max=4).ks) > 0


def test_lifecycle_stages_need_min_repeat_customers_for_the_store_s_own_thresholds():
    from rfm.scoring.lifecycle import lifecycle_thresholds

    def table(repeat: int) -> pd.DataFrame:
        return pd.DataFrame({"recency_days": 0, "frequency": [2] * repeat + [1] * 5, "tenure_days": list(range(1, repeat + 1)) + [0] * 5})

    short = lifecycle_thresholds(table(MIN_REPEAT_CUSTOMERS_FOR_STAGES - 1))
    assert short.source == "default"
    assert short.warning.endswith(
        f"only {MIN_REPEAT_CUSTOMERS_FOR_STAGES - 1} customers ordered twice or more, and measuring the store's gaps "
        f"between orders needs {MIN_REPEAT_CUSTOMERS_FOR_STAGES} (1 more needed)."
    )
    assert lifecycle_thresholds(table(MIN_REPEAT_CUSTOMERS_FOR_STAGES)).source == "store"


#: MIN_* constants under rfm/ that are tuning parameters, not "how much data a step needs".
_NOT_DATA_NEEDS = {
    "MIN_BINS",  # scores per metric, a setting
    "MIN_CLUSTER_CUSTOMERS",  # the smallest density cluster, a clustering parameter
    "MIN_CLUSTER_SHARE_RANGE",
    "MIN_CLUSTER_SHARE_HELP",
    "MIN_CUSTOMERS_OFF",  # customers off the model's range before drift is reported
    "MIN_DROPOUT_SHAPE",  # an optimiser floor
    "MIN_COLUMN_WIDTH",
    "PARALLEL_SHEETS_MIN_BYTES",
}


def test_no_module_keeps_its_own_data_threshold():
    owners = {}
    for path in RFM.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target] if isinstance(node, ast.AnnAssign) else []
            for target in targets:
                for name in ast.walk(target):
                    if isinstance(name, ast.Name) and re.search(r"MIN_", name.id) and name.id not in _NOT_DATA_NEEDS:
                        owners.setdefault(name.id, []).append(str(path.relative_to(RFM)))
    assert {name: files for name, files in owners.items() if files != ["shared/data_needs.py"]} == {}
    assert set(owners) == {name for name in data_needs.__all__ if name.startswith("MIN_")}
