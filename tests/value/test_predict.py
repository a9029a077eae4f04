"""Predicted value per customer (rfm.value.predict): P(alive), expected purchases, expected order value and CLV on the
real UCI excerpt and the demo workbook, checked against the BG/NBD and Gamma-Gamma formulas and the clv API;
the what-if customer, the holdout check, the heat-map grids, per-segment totals, the labelled list's value
columns, degenerate data and ``python -m rfm clv``.
"""

from __future__ import annotations

import datetime as dt
import functools
import io
import json

import numpy as np
import pandas as pd
import pytest

from devkit.data import WORKBOOK
from rfm import schema
from rfm.cleaning.analyse import analyse_file
from rfm.cleaning.orders import DATE, VALUE, tidy_orders
from rfm.demo import DEMO_PATH
from rfm.errors import RFMInputError
from rfm.outputs.lists import LABELLED_COLUMNS, with_values
from rfm.schema import (
    CUSTOMER_VALUE_COLUMNS,
    EXPECTED_ORDER_VALUE,
    EXPECTED_PURCHASES,
    P_ALIVE,
    PREDICTED_CLV,
    VALUE_COLUMNS,
)
from rfm.value.models import DAYS_PER_MONTH, clv_summary
from rfm.value.predict import (
    ValueModel,
    ValueSettings,
    alive_matrix,
    customer_value,
    fit_value,
    holdout,
    purchases_matrix,
    value_by_segment,
    what_if_value,
)

SOURCES = ["real", "demo"]


@functools.cache
def _analysed(source: str):
    """(analysis, fitted model) of the real excerpt or the demo workbook, read once per session."""
    if source == "real" and not WORKBOOK.exists():
        pytest.skip(f"real data not found at {WORKBOOK}")
    analysis = analyse_file(WORKBOOK if source == "real" else DEMO_PATH)
    return analysis, fit_value(analysis.orders, analysis.report.analysis_date, "bgnbd")


@pytest.fixture(scope="module", params=SOURCES)
def fitted(request):
    """(analysis, BG/NBD model, values with default settings) for the real excerpt and the demo workbook."""
    analysis, model = _analysed(request.param)
    return analysis, model, customer_value(model)


def _purchase_days(orders: pd.DataFrame) -> pd.DataFrame:
    """One row per customer and calendar day with an order, values summed (written here, not from rfm.value.models)."""
    days = orders.assign(day=orders[DATE].dt.normalize())
    return days.groupby([schema.CUSTOMER_ID, "day"], as_index=False)[VALUE].sum()


def _p_alive(x, t_x, T, params) -> np.ndarray:
    """FHL (2005) eq. 11: 1 / (1 + [x > 0] a / (b + x - 1) ((alpha + T) / (alpha + t_x))^(r + x))."""
    r, alpha, a, b = (params[name] for name in ("r", "alpha", "a", "b"))
    x, t_x, T = (np.asarray(v, dtype="float64") for v in (x, t_x, T))
    odds = np.where(x > 0, a / (b + np.maximum(x - 1, 0)) * ((alpha + T) / (alpha + t_x)) ** (r + x), 0.0)
    return 1.0 / (1.0 + odds)


# --------------------------------------------------------------------------------------------- the columns


@pytest.mark.slow
def test_one_row_per_customer_of_the_rfm_table(fitted):
    analysis, model, values = fitted
    assert list(values.columns) == list(CUSTOMER_VALUE_COLUMNS)
    assert values.index.equals(analysis.customers.index)
    assert values.index.name == schema.CUSTOMER_ID
    assert model.observation_end == analysis.report.analysis_date
    assert np.isfinite(values[list(VALUE_COLUMNS)].to_numpy()).all()


def test_p_alive_is_a_probability_and_one_for_single_purchase_days(fitted):
    analysis, _model, values = fitted
    assert values[P_ALIVE].between(0, 1).all()
    days = _purchase_days(analysis.orders).groupby(schema.CUSTOMER_ID).size()
    once = days[days == 1].index
    repeat = days[days > 1].index
    assert len(once) > 10 and len(repeat) > 10
    assert (values.loc[once, P_ALIVE] == 1.0).all()
    # A repeat buyer with a long silence is not certainly alive.
    assert (values.loc[repeat, P_ALIVE] < 1).any()


def test_columns_equal_the_formulas_and_the_clv_api(fitted):
    analysis, model, values = fitted
    day = analysis.report.analysis_date
    summary = clv_summary(analysis.orders, day)
    pd.testing.assert_frame_equal(summary, model.summary)

    # The summary itself, from the orders by hand.
    days = _purchase_days(analysis.orders)
    per = days.groupby(schema.CUSTOMER_ID)
    end = pd.Timestamp(day)
    assert (summary["frequency"] == per.size() - 1).all()
    assert (summary["recency"] == (per["day"].max() - per["day"].min()).dt.days).all()
    assert (summary["T"] == (end - per["day"].min()).dt.days).all()

    x, t_x, T = summary["frequency"], summary["recency"], summary["T"]
    np.testing.assert_allclose(values[P_ALIVE], _p_alive(x, t_x, T, model.purchases.params_), rtol=1e-10)
    np.testing.assert_allclose(values[P_ALIVE], model.purchases.p_alive(x, t_x, T), rtol=0, atol=0)
    np.testing.assert_allclose(values[EXPECTED_PURCHASES], model.purchases.expected_purchases(90, x, t_x, T), rtol=0, atol=0)
    gg = model.gamma_gamma
    assert gg is not None
    expected_value = gg.expected_average_value(x, summary["monetary_value"])
    np.testing.assert_allclose(values[EXPECTED_ORDER_VALUE], expected_value, rtol=0, atol=0)
    # Gamma-Gamma's conditional mean, written out: p (v + x m) / (p x + q - 1), population mean for x = 0.
    p, q, v = gg.params_["p"], gg.params_["q"], gg.params_["v"]
    m = summary["monetary_value"].where(x > 0, 0.0)
    np.testing.assert_allclose(values[EXPECTED_ORDER_VALUE], p * (v + x * m) / (p * x + q - 1), rtol=1e-10)

    # CLV: the month-by-month discounted sum of the extra purchases times the order value.
    clv = np.zeros(len(summary))
    before = np.zeros(len(summary))
    for month in range(1, 13):
        by_end = model.purchases.expected_purchases(month * DAYS_PER_MONTH, x, t_x, T)
        clv += (by_end - before) * expected_value / 1.10 ** (month / 12)
        before = by_end
    np.testing.assert_allclose(values[PREDICTED_CLV], clv, rtol=1e-10)


def test_settings_move_the_columns_the_right_way(fitted):
    _, model, values = fitted
    longer = customer_value(model, ValueSettings(horizon_days=180))
    assert (values[EXPECTED_PURCHASES] >= 0).all()
    assert (longer[EXPECTED_PURCHASES] > values[EXPECTED_PURCHASES]).all()
    pd.testing.assert_series_equal(longer[P_ALIVE], values[P_ALIVE])

    two_years = customer_value(model, ValueSettings(months=24))
    assert (two_years[PREDICTED_CLV] > values[PREDICTED_CLV]).all()
    dearer = customer_value(model, ValueSettings(annual_discount_rate=0.30))
    assert (dearer[PREDICTED_CLV] < values[PREDICTED_CLV]).all()
    free = customer_value(model, ValueSettings(annual_discount_rate=0.0))
    assert (free[PREDICTED_CLV] > values[PREDICTED_CLV]).all()
    half = customer_value(model, ValueSettings(margin=0.5))
    np.testing.assert_allclose(half[PREDICTED_CLV], values[PREDICTED_CLV] * 0.5, rtol=1e-12)
    # The margin is applied to the CLV only, not to the order value.
    pd.testing.assert_series_equal(half[EXPECTED_ORDER_VALUE], values[EXPECTED_ORDER_VALUE])


def test_settings_describe_themselves():
    assert ValueSettings().describe() == (
        "expected purchases over the next 90 days; CLV: revenue over the next 12 months, discounted at 10% a year"
    )
    assert "profit at a 25% margin" in ValueSettings(margin=0.25).describe()


def test_parameters_table(fitted):
    _, model, _ = fitted
    table = model.parameters()
    assert list(table.columns) == ["model", "parameter", "value"]
    assert table[["model", "parameter"]].values.tolist() == [
        ["BG/NBD", "r"], ["BG/NBD", "alpha"], ["BG/NBD", "a"], ["BG/NBD", "b"],
        ["Gamma-Gamma", "p"], ["Gamma-Gamma", "q"], ["Gamma-Gamma", "v"],
    ]
    assert table["value"].tolist() == [*model.purchases.params_.values(), *model.gamma_gamma.params_.values()]


# --------------------------------------------------------------------------------------------- what-if


def test_what_if_of_a_real_customer_equals_their_row(fitted):
    analysis, model, values = fitted
    customers, summary = analysis.customers, model.summary
    # Every order on its own day, so orders = purchase days, and RFM's days agree with the summary's.
    plain = (
        (customers[schema.FREQUENCY] == summary["frequency"] + 1)
        & (customers[schema.TENURE] == summary["T"])
        & (customers[schema.RECENCY] == summary["T"] - summary["recency"])
        & (summary["frequency"] >= 2)
    )
    assert plain.sum() >= 10
    for customer in plain[plain].index[:5]:
        row = customers.loc[customer]
        given = {schema.RECENCY: row[schema.RECENCY], schema.FREQUENCY: row[schema.FREQUENCY], schema.MONETARY: row[schema.MONETARY]}
        answer = what_if_value(model, given, row[schema.TENURE])
        assert set(answer) == set(CUSTOMER_VALUE_COLUMNS)
        assert answer[P_ALIVE] == pytest.approx(values.at[customer, P_ALIVE], rel=1e-12)
        assert answer[EXPECTED_PURCHASES] == pytest.approx(values.at[customer, EXPECTED_PURCHASES], rel=1e-12)
        # The what-if spend per order is the mean of ALL orders (monetary / orders), not of the repeat ones.
        mean_all = row[schema.MONETARY] / row[schema.FREQUENCY]
        x = row[schema.FREQUENCY] - 1
        assert answer[EXPECTED_ORDER_VALUE] == pytest.approx(
            float(model.gamma_gamma.expected_average_value(np.array([x]), np.array([mean_all]))[0]), rel=1e-12
        )


def test_what_if_with_no_orders_is_one_order(fitted):
    _, model, _ = fitted
    one = what_if_value(model, {schema.RECENCY: 40, schema.FREQUENCY: 1, schema.MONETARY: 80.0}, 40)
    for frequency in (0, -3):
        other = what_if_value(model, {schema.RECENCY: 40, schema.FREQUENCY: frequency, schema.MONETARY: 80.0}, 40)
        assert other.keys() == one.keys()
        assert all(other[name] == one[name] or (pd.isna(other[name]) and pd.isna(one[name])) for name in one)
    assert one[P_ALIVE] == 1.0  # a single purchase day: alive by the model's assumption
    expected = model.purchases.expected_purchases(90, np.array([0.0]), np.array([0.0]), np.array([40.0]))[0]
    assert one[EXPECTED_PURCHASES] == pytest.approx(float(expected), rel=1e-12)


# --------------------------------------------------------------------------------------------- holdout


def test_holdout_on_the_default_third(fitted):
    analysis, _, _ = fitted
    orders, day = analysis.orders, analysis.report.analysis_date
    check = holdout(orders, day)
    first = orders[DATE].min().date()
    period = (day - first).days
    assert check.observation_end == day
    assert check.calibration_end == day - dt.timedelta(days=period // 3)

    days = _purchase_days(orders)
    calibration = pd.Timestamp(check.calibration_end)
    first_day = days.groupby(schema.CUSTOMER_ID)["day"].min()
    known = first_day[first_day <= calibration].index
    assert check.table["customers"].sum() == len(known)
    after = days[(days["day"] > calibration) & (days["day"] <= pd.Timestamp(day)) & days[schema.CUSTOMER_ID].isin(known)]
    assert check.actual_total == pytest.approx(len(after), abs=1e-9)

    groups = check.table["group"].tolist()
    assert groups == [str(i) for i in range(7)] + ["7+"][: len(groups) - 7]
    calibration_days = days[days["day"] <= calibration].groupby(schema.CUSTOMER_ID).size() - 1
    counts = calibration_days.clip(upper=7).value_counts().sort_index()
    assert check.table["customers"].tolist() == counts.tolist()
    assert check.predicted_total == pytest.approx(float((check.table["predicted"] * check.table["customers"]).sum()))
    assert check.error >= 0
    assert set(check.parameters) == {"r", "alpha", "a", "b"}


def test_holdout_days_given_and_out_of_range(fitted):
    analysis, _, _ = fitted
    orders, day = analysis.orders, analysis.report.analysis_date
    check = holdout(orders, day, 100)
    assert check.calibration_end == day - dt.timedelta(days=100)
    period = (day - orders[DATE].min().date()).days
    for days in (0, -5, period, period + 1, 100_000):
        with pytest.raises(RFMInputError) as caught:
            holdout(orders, day, days)
        message = str(caught.value)
        assert f"A holdout of {days:,} days does not fit" in message
        assert f"choose between 1 and {period - 1:,}" in message


# --------------------------------------------------------------------------------------------- heat-map grids


def test_alive_and_purchases_grids(fitted):
    _, model, _ = fitted
    summary = model.summary
    tenure = float(summary["T"].max())
    top = int(np.ceil(summary["frequency"].quantile(0.99)))
    alive = alive_matrix(model)
    rows = np.unique(np.round(np.linspace(0, tenure, 40)))
    assert alive.shape == (len(rows), top + 1)
    assert alive.index.tolist() == rows.astype(int).tolist()
    assert alive.index[0] == 0 and alive.index[-1] == int(tenure)
    assert alive.columns.tolist() == list(range(top + 1))
    assert alive.index.name == "days since last purchase"
    assert alive.columns.name == "repeat purchases"
    assert (alive[0] == 1.0).all()
    params = model.purchases.params_
    for since in (alive.index[1], alive.index[len(alive) // 2], alive.index[-1]):
        for x in (1, top):
            assert alive.at[since, x] == pytest.approx(float(_p_alive(x, tenure - since, tenure, params)), rel=1e-10)
    # The longer since the last purchase, the less likely alive (for a repeat buyer).
    assert (np.diff(alive[1].to_numpy()) < 0).all()

    purchases = purchases_matrix(model, 30)
    assert purchases.index.equals(alive.index) and purchases.columns.equals(alive.columns)
    since, x = alive.index[3], 2
    expected = model.purchases.expected_purchases(30, np.array([float(x)]), np.array([tenure - since]), np.array([tenure]))[0]
    assert purchases.at[since, x] == pytest.approx(float(expected), rel=1e-12)
    assert (purchases.to_numpy() >= 0).all()

    small = alive_matrix(model, max_frequency=3, points=5)
    assert small.columns.tolist() == [0, 1, 2, 3]
    assert small.index.tolist() == np.round(np.linspace(0, tenure, 5)).astype(int).tolist()


# --------------------------------------------------------------------------------------------- per segment


def test_value_by_segment():
    values = pd.DataFrame(
        {PREDICTED_CLV: [10.0, 30.0, 5.0, 100.0, 1.0], P_ALIVE: [0.1, 0.2, 0.3, 0.4, 0.5]},
        index=pd.Index(["a", "b", "c", "d", "e"], name=schema.CUSTOMER_ID),
    )
    segments = pd.Series({"e": "Lost", "d": "Champions", "c": "Lost", "b": "At Risk", "a": "At Risk"})
    table = value_by_segment(values, segments)
    assert table.index.tolist() == ["Champions", "At Risk", "Lost"]
    assert table["customers"].tolist() == [1, 2, 2]
    assert table["total"].tolist() == [100.0, 40.0, 6.0]
    assert table["mean"].tolist() == [100.0, 20.0, 3.0]
    assert table["median"].tolist() == [100.0, 20.0, 3.0]
    alive = value_by_segment(values, segments, P_ALIVE)
    assert alive.index.tolist() == ["Lost", "Champions", "At Risk"]
    assert alive["total"].tolist() == pytest.approx([0.8, 0.4, 0.3])


def test_value_by_segment_on_real_values(fitted):
    analysis, _, values = fitted
    customers = analysis.customers
    segments = pd.Series(np.where(customers[schema.FREQUENCY] > 1, "repeat", "once"), index=customers.index)
    table = value_by_segment(values, segments)
    expected = values[PREDICTED_CLV].groupby(segments).sum()
    assert table["total"].to_dict() == pytest.approx(expected.to_dict())
    assert table["customers"].sum() == len(values)
    assert table["total"].is_monotonic_decreasing


# --------------------------------------------------------------------------------------------- labelled list


def test_with_values_appends_the_columns_in_order():
    labelled = pd.DataFrame(
        {
            schema.MONETARY: [10.0, 20.0, 30.0],
            schema.RECENCY: [1, 2, 3],
            schema.FREQUENCY: [1, 2, 3],
            P_ALIVE: [9.0, 9.0, 9.0],  # stale values are replaced
        },
        index=pd.Index(["a", "b", "c"], name=schema.CUSTOMER_ID),
    )
    values = pd.DataFrame(
        {PREDICTED_CLV: [5.0, 6.0], EXPECTED_ORDER_VALUE: [7.0, 8.0], EXPECTED_PURCHASES: [0.5, 0.6], P_ALIVE: [0.9, 0.8], "extra": [1, 2]},
        index=pd.Index(["c", "a"], name=schema.CUSTOMER_ID),
    )
    assert with_values(labelled, None) is labelled
    out = with_values(labelled, values)
    order = [c for c in LABELLED_COLUMNS if c in out.columns]
    assert list(out.columns) == order
    assert list(out.columns) == [schema.RECENCY, schema.FREQUENCY, schema.MONETARY, *VALUE_COLUMNS]
    assert out.index.tolist() == ["a", "b", "c"]
    assert out[P_ALIVE].tolist()[0] == 0.8 and out[P_ALIVE].tolist()[2] == 0.9
    assert out.loc["a", PREDICTED_CLV] == 6.0 and out.loc["c", EXPECTED_ORDER_VALUE] == 7.0
    assert out.loc["b", list(VALUE_COLUMNS)].isna().all()
    assert out[schema.MONETARY].tolist() == [10.0, 20.0, 30.0]


# --------------------------------------------------------------------------------------------- degenerate data


def _orders(rows) -> pd.DataFrame:
    return tidy_orders(pd.DataFrame(rows, columns=[schema.CUSTOMER_ID, DATE, VALUE]))


END = dt.date(2024, 12, 31)


def test_too_few_customers():
    rows = [(f"c{i}", f"2024-0{m}-1{i}", 10.0 + i) for i in range(5) for m in (1, 6)]
    with pytest.raises(RFMInputError, match=r"BG/NBD needs at least 10 customers to fit; got 5 \(5 more needed\)\."):
        fit_value(_orders(rows), END)


def test_nobody_repeats():
    rows = [(f"c{i:02d}", f"2024-03-{i + 1:02d}", 10.0 + i) for i in range(15)]
    with pytest.raises(RFMInputError, match=r"BG/NBD needs customers who bought more than once: none of the 15"):
        fit_value(_orders(rows), END)


@pytest.fixture(scope="module")
def demo():
    return _analysed("demo")


def test_no_spend_model_leaves_money_columns_empty(demo):
    # The demo's orders with every repeat buyer's spend set to 0 but for nine: BG/NBD (which counts purchase
    # days) fits as before, Gamma-Gamma (needs 10 repeat buyers with a positive spend) cannot.
    analysis, full = demo
    day = analysis.report.analysis_date
    repeaters = full.summary.index[full.summary["frequency"] > 0]
    kept = repeaters[:9]
    orders = analysis.orders.copy()
    orders.loc[orders[schema.CUSTOMER_ID].isin(repeaters) & ~orders[schema.CUSTOMER_ID].isin(kept), VALUE] = 0.0
    model = fit_value(orders, day, "bgnbd")
    assert model.gamma_gamma is None
    assert model.warnings == (
        "No spend model, so no lifetime value in money: Gamma-Gamma needs at least 10 repeat buyers with a "
        f"positive spend; 9 of the {len(full.summary):,} customers are (1 more needed).",
    )
    assert model.purchases.params_ == full.purchases.params_
    values = customer_value(model)
    reference = customer_value(full)
    assert values.index.equals(analysis.customers.index)
    assert values[[EXPECTED_ORDER_VALUE, PREDICTED_CLV]].isna().all().all()
    assert np.isfinite(values[[P_ALIVE, EXPECTED_PURCHASES]].to_numpy()).all()
    pd.testing.assert_series_equal(values[P_ALIVE], reference[P_ALIVE])
    pd.testing.assert_series_equal(values[EXPECTED_PURCHASES], reference[EXPECTED_PURCHASES])
    answer = what_if_value(model, {schema.RECENCY: 10, schema.FREQUENCY: 3, schema.MONETARY: 90.0}, 200)
    assert np.isnan(answer[PREDICTED_CLV]) and np.isnan(answer[EXPECTED_ORDER_VALUE])
    assert 0 < answer[P_ALIVE] <= 1 and answer[EXPECTED_PURCHASES] > 0
    assert model.parameters()["model"].unique().tolist() == ["BG/NBD"]


def test_a_model_built_without_gamma_gamma(fitted):
    _, model, values = fitted
    bare = ValueModel(model.purchases, None, model.summary, model.observation_end)
    out = customer_value(bare)
    pd.testing.assert_series_equal(out[P_ALIVE], values[P_ALIVE])
    pd.testing.assert_series_equal(out[EXPECTED_PURCHASES], values[EXPECTED_PURCHASES])
    assert out[EXPECTED_ORDER_VALUE].isna().all() and out[PREDICTED_CLV].isna().all()


# --------------------------------------------------------------------------------------------- the command


@pytest.fixture(scope="module")
def clv_runs(tmp_path_factory, cli):
    if not WORKBOOK.exists():
        pytest.skip(f"real data not found at {WORKBOOK}")
    folder = tmp_path_factory.mktemp("clv")
    tiny = folder / "tiny.csv"
    tiny.write_text(
        "Invoice,Customer ID,InvoiceDate,Quantity,Price\n"
        "1,A,2024-01-01 10:00,1,10\n2,A,2024-02-01 10:00,1,12\n3,B,2024-01-05 10:00,2,5\n4,C,2024-03-01 10:00,1,7\n",
        encoding="utf-8",
    )
    commands = {
        "real": ["clv", WORKBOOK, "--model", "bgnbd", "--horizon-days", "30", "--out", folder / "real"],
        "no_holdout": ["clv", WORKBOOK, "--holdout-days", "100000", "--out", folder / "no_holdout"],
        "tiny": ["clv", tiny, "--out", folder / "tiny"],
    }
    return folder, cli(commands)


@pytest.fixture(scope="module")
def real_model():
    return _analysed("real")


@pytest.mark.slow
def test_cli_clv_writes_the_library_values(clv_runs, real_model):
    folder, runs = clv_runs
    result = runs["real"]
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    analysis, model = real_model
    out = folder / "real"
    assert sorted(p.name for p in out.iterdir()) == ["clv.csv", "holdout.csv", "parameters.json"]
    table = pd.read_csv(io.BytesIO((out / "clv.csv").read_bytes()), encoding="utf-8-sig", dtype={schema.CUSTOMER_ID: str})
    table = table.set_index(schema.CUSTOMER_ID)
    assert list(table.columns) == [schema.RECENCY, schema.FREQUENCY, schema.MONETARY, schema.TENURE, *CUSTOMER_VALUE_COLUMNS]
    assert table.index.tolist() == analysis.customers.index.tolist()
    values = customer_value(model, ValueSettings(horizon_days=30))
    np.testing.assert_allclose(table[P_ALIVE], values[P_ALIVE], rtol=1e-12)
    np.testing.assert_allclose(table[EXPECTED_PURCHASES], values[EXPECTED_PURCHASES], rtol=1e-12)
    np.testing.assert_allclose(table[EXPECTED_ORDER_VALUE], values[EXPECTED_ORDER_VALUE], atol=0.005 + 1e-9, rtol=0)
    np.testing.assert_allclose(table[PREDICTED_CLV], values[PREDICTED_CLV], atol=0.005 + 1e-9, rtol=0)
    assert (table[schema.FREQUENCY] == analysis.customers[schema.FREQUENCY]).all()

    parameters = json.loads((out / "parameters.json").read_text(encoding="utf-8"))
    assert parameters["observation_end"] == analysis.report.analysis_date.isoformat()
    assert parameters["time_unit"] == "day"
    assert parameters["settings"] == {"horizon_days": 30, "months": 12, "annual_discount_rate": 0.1, "margin": 1.0}
    assert parameters["purchase_model"]["model"] == "bgnbd" and parameters["purchase_model"]["decided_by"] == "chosen"
    assert parameters["purchase_model"]["parameters"] == {name: round(value, 6) for name, value in model.purchases.params_.items()}
    assert parameters["gamma_gamma"] == {name: round(value, 6) for name, value in model.gamma_gamma.params_.items()}
    check = holdout(analysis.orders, analysis.report.analysis_date)
    assert parameters["holdout"]["calibration_end"] == check.calibration_end.isoformat()
    assert parameters["holdout"]["actual_purchases"] == check.actual_total
    assert parameters["holdout"]["predicted_purchases"] == round(check.predicted_total, 2)
    saved = pd.read_csv(io.BytesIO((out / "holdout.csv").read_bytes()), encoding="utf-8-sig", dtype={"group": str})
    assert saved["group"].tolist() == check.table["group"].tolist()
    assert saved["customers"].tolist() == check.table["customers"].tolist()
    np.testing.assert_allclose(saved["actual"], check.table["actual"], atol=1e-6)


@pytest.mark.slow  # the command line in subprocesses (the clv_runs fixture)
def test_cli_clv_without_room_for_a_holdout(clv_runs):
    folder, runs = clv_runs
    result = runs["no_holdout"]
    assert result.returncode == 0, result.stderr
    warnings = [line for line in result.stderr.splitlines() if line.startswith("warning: no holdout check:")]
    assert len(warnings) == 1 and "100,000 days" in warnings[0]
    out = folder / "no_holdout"
    assert (out / "clv.csv").is_file() and not (out / "holdout.csv").exists()
    assert json.loads((out / "parameters.json").read_text(encoding="utf-8"))["holdout"] is None


@pytest.mark.slow  # the command line in subprocesses (the clv_runs fixture)
def test_cli_clv_on_three_customers(clv_runs):
    folder, runs = clv_runs
    result = runs["tiny"]
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    errors = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and "at least 10 customers" in errors[0] and "got 3" in errors[0]
    assert not (folder / "tiny" / "clv.csv").exists()


def test_value_settings_are_checked_with_one_clear_message():
    for changes, message in (
        ({"margin": -1}, "The profit margin should be between 0.0001 and 1; got -1."),
        ({"margin": 2.0}, "The profit margin should be between 0.0001 and 1; got 2.0."),
        ({"months": 0}, "The CLV horizon should be between 1 and 120 months; got 0."),
        ({"horizon_days": 4000}, "The horizon should be between 1 and 3650 days; got 4000."),
        ({"annual_discount_rate": 1.5}, "The yearly discount rate should be between 0 and 1; got 1.5."),
    ):
        with pytest.raises(RFMInputError) as error:
            ValueSettings(**changes)
        assert str(error.value) == message


def test_customers_without_a_segment_are_counted_not_dropped():
    values = pd.DataFrame({PREDICTED_CLV: [1.0, 2.0, 4.0]}, index=["a", "b", "c"])
    table = value_by_segment(values, pd.Series(["X", "X"], index=["a", "b"]))
    assert table.loc["(no segment)", "customers"] == 1 and table.loc["(no segment)", "total"] == 4.0
    assert table["customers"].sum() == 3


def test_a_holdout_on_orders_of_one_day_says_so():
    orders = pd.DataFrame({"customer_id": ["a", "b"], "date": pd.to_datetime(["2024-01-01", "2024-01-01"]), "value": [1.0, 2.0]})
    with pytest.raises(RFMInputError, match=(
        r"^The orders span 0 day\(s\) up to 2024-01-01: too short to hold any out\. The holdout check needs at least 2 "
        r"days \(2 more needed\)\.$"
    )):
        holdout(orders, dt.date(2024, 1, 1))
