"""Which purchase model the value predictions use (rfm.value.predict): "auto" takes the smallest holdout error (the
lowest BIC when no holdout fits), a named model is used as asked, BG/NBD's figures are those of the BG/NBD-only
path, and the churn fields of the chosen model reach customer_value, the what-if customer, the labelled lists, the
workbook and ``python -m rfm clv``."""

from __future__ import annotations

import functools
import io
import json

import numpy as np
import pandas as pd
import pytest

from devkit.data import WORKBOOK
from rfm import schema
from rfm.cleaning.analyse import analyse_file
from rfm.demo import DEMO_PATH
from rfm.errors import RFMInputError
from rfm.outputs.files import csv_bytes, workbook_bytes
from rfm.outputs.lists import COLUMN_LABELS, LABELLED_COLUMNS, with_values
from rfm.schema import CHURN_COLUMNS, CUSTOMER_VALUE_COLUMNS, PURCHASE_MODEL_CHOICES, VALUE_COLUMNS
from rfm.value.churn import PURCHASE_MODELS, churn_table
from rfm.value.mbg_nbd import ModifiedBetaGeoModel
from rfm.value.models import BetaGeoModel, fit_clv
from rfm.value.pareto_nbd import ParetoNBDModel
from rfm.value.predict import (
    MODEL_KEYS,
    ValueSettings,
    churn_band_counts,
    compare_purchase_models,
    customer_value,
    fit_value,
    holdout,
    what_if_value,
)


@functools.cache
def _demo():
    """(analysis, the three models compared) of the demo workbook, computed once."""
    analysis = analyse_file(DEMO_PATH)
    return analysis, compare_purchase_models(analysis.orders, analysis.report.analysis_date)


@pytest.fixture(scope="module")
def demo():
    return _demo()


def test_the_choices_name_the_models_of_the_comparison():
    assert list(PURCHASE_MODEL_CHOICES) == ["auto", "bgnbd", "mbgnbd", "pareto_nbd"]
    assert set(MODEL_KEYS) == set(PURCHASE_MODELS)
    assert MODEL_KEYS == {"BG/NBD": "bgnbd", "MBG/NBD": "mbgnbd", "Pareto/NBD": "pareto_nbd"}


@pytest.mark.slow
def test_auto_takes_the_smallest_holdout_error(demo):
    analysis, selection = demo
    orders, day = analysis.orders, analysis.report.analysis_date
    table = selection.table()
    assert table["model"].tolist() == ["BG/NBD", "MBG/NBD", "Pareto/NBD"]
    assert table["holdout_error"].notna().all()
    # Each model's holdout error is that of holdout() for it, on the same default third.
    for key in ("bgnbd", "mbgnbd", "pareto_nbd"):
        check = holdout(orders, day, purchase_model=key)
        assert check.purchase_model == key and check.calibration_end == selection.calibration_end
        row = table.loc[table["model"] == PURCHASE_MODEL_CHOICES[key]].iloc[0]
        assert row["holdout_error"] == pytest.approx(check.error, rel=1e-9)
    smallest = table.loc[table["holdout_error"].idxmin(), "model"]
    assert selection.decided_by == "holdout" and selection.best == MODEL_KEYS[smallest]
    assert selection.best == "pareto_nbd"  # on the demo data: 0.128 against 0.228 (BG/NBD) and 0.167 (MBG/NBD)
    assert selection.reason.startswith("Pareto/NBD has the smallest holdout error")

    model = fit_value(orders, day, selection=selection)
    assert model.purchase_model == selection.best and model.decided_by == "holdout"
    assert isinstance(model.purchases, ParetoNBDModel)
    assert model.why() == selection.reason
    assert model.parameters()["model"].unique().tolist() == ["Pareto/NBD", "Gamma-Gamma"]
    # Without a selection given, "auto" makes the same one.
    again = fit_value(orders, day)
    assert again.purchase_model == model.purchase_model
    assert again.purchases.params_ == model.purchases.params_


@pytest.mark.slow
def test_a_named_model_is_used_as_asked(demo):
    analysis, selection = demo
    orders, day = analysis.orders, analysis.report.analysis_date
    for key, kind in (("bgnbd", BetaGeoModel), ("mbgnbd", ModifiedBetaGeoModel), ("pareto_nbd", ParetoNBDModel)):
        model = fit_value(orders, day, key, selection=selection)
        assert isinstance(model.purchases, kind) and model.purchase_model == key and model.decided_by == "chosen"
        assert model.purchases is selection.fit(key).model
        assert model.why().startswith(f"{PURCHASE_MODEL_CHOICES[key]}, as chosen. Auto would take Pareto/NBD")
    alone = fit_value(orders, day, "mbgnbd")  # fitted alone: the same fit, no comparison
    assert alone.selection is None and alone.why() == "MBG/NBD, as chosen."
    assert alone.purchases.params_ == selection.fit("mbgnbd").model.params_


@pytest.mark.slow
def test_bgnbd_figures_are_those_of_the_bgnbd_only_fit(demo):
    analysis, selection = demo
    orders, day = analysis.orders, analysis.report.analysis_date
    bgnbd, gamma_gamma, summary, _ = fit_clv(orders, day)
    for model in (fit_value(orders, day, "bgnbd"), fit_value(orders, day, "bgnbd", selection=selection)):
        assert model.purchases.params_ == bgnbd.params_
        assert model.gamma_gamma.params_ == gamma_gamma.params_
        pd.testing.assert_frame_equal(model.summary, summary)
    values = customer_value(fit_value(orders, day, "bgnbd"))
    x, t_x, T = summary["frequency"], summary["recency"], summary["T"]
    np.testing.assert_array_equal(values[schema.P_ALIVE], bgnbd.p_alive(x, t_x, T))
    np.testing.assert_array_equal(values[schema.EXPECTED_PURCHASES], bgnbd.expected_purchases(90, x, t_x, T))


@pytest.mark.slow
def test_bic_decides_when_no_holdout_fits(demo):
    analysis, selection = demo
    orders, day = analysis.orders, analysis.report.analysis_date
    fallback = compare_purchase_models(orders, day, holdout_days=100_000)
    assert fallback.decided_by == "bic" and fallback.holdout is None and fallback.calibration_end is None
    lowest = fallback.comparison.best
    assert fallback.best == MODEL_KEYS[lowest.name] == "pareto_nbd"
    assert fallback.reason.startswith(f"Pareto/NBD has the lowest BIC ({lowest.bic:,.1f}); no holdout check: A holdout of 100,000 days")
    assert fallback.table()["holdout_error"].isna().all()
    pd.testing.assert_frame_equal(fallback.table().drop(columns="holdout_error"), selection.table().drop(columns="holdout_error"))


def test_an_unknown_model_is_refused_with_the_choices():
    message = r"The purchase model should be one of \['auto', 'bgnbd', 'mbgnbd', 'pareto_nbd'\]; got 'lifetimes'\."
    with pytest.raises(RFMInputError, match=message):
        ValueSettings(purchase_model="lifetimes")  # type: ignore[arg-type]
    with pytest.raises(RFMInputError, match=message):
        fit_value(pd.DataFrame(), pd.Timestamp("2024-01-01").date(), "lifetimes")  # type: ignore[arg-type]
    with pytest.raises(RFMInputError, match=r"The holdout check needs one purchase model"):
        holdout(pd.DataFrame(), pd.Timestamp("2024-01-01").date(), purchase_model="auto")


# --------------------------------------------------------------------------------------------- churn fields


@pytest.mark.slow
def test_customer_value_carries_the_churn_fields_of_the_chosen_model(demo):
    analysis, selection = demo
    day = analysis.report.analysis_date
    model = fit_value(analysis.orders, day, "mbgnbd", selection=selection)
    values = customer_value(model)
    assert list(values.columns) == list(CUSTOMER_VALUE_COLUMNS)
    expected = churn_table(model.purchases, model.summary, day)
    pd.testing.assert_frame_equal(values[list(CHURN_COLUMNS)], expected)
    np.testing.assert_allclose(values[schema.CHURN_PROBABILITY], 1 - values[schema.P_ALIVE], rtol=0, atol=1e-15)
    counts = churn_band_counts(values)
    assert counts.index.tolist() == ["Low", "Medium", "High"] and counts.sum() == len(values)
    assert counts.to_dict() == values[schema.CHURN_RISK].value_counts().to_dict()

    # The what-if customer built from a real one's row gets that row's churn fields.
    customers, summary = analysis.customers, model.summary
    plain = (customers[schema.FREQUENCY] == summary["frequency"] + 1) & (customers[schema.TENURE] == summary["T"]) & (
        customers[schema.RECENCY] == summary["T"] - summary["recency"]) & (summary["frequency"] >= 2)
    for customer in plain[plain].index[:3]:
        row = customers.loc[customer]
        answer = what_if_value(model, {name: row[name] for name in (schema.RECENCY, schema.FREQUENCY, schema.MONETARY)}, row[schema.TENURE])
        assert set(answer) == set(CUSTOMER_VALUE_COLUMNS)
        assert answer[schema.CHURN_RISK] == values.at[customer, schema.CHURN_RISK]
        assert answer[schema.CHURN_PROBABILITY] == pytest.approx(values.at[customer, schema.CHURN_PROBABILITY], abs=1e-12)
        assert answer[schema.PREDICTED_ORDERS_365D] == pytest.approx(values.at[customer, schema.PREDICTED_ORDERS_365D], rel=1e-12)
        assert answer[schema.AVG_DAYS_BETWEEN_ORDERS] == pytest.approx(values.at[customer, schema.AVG_DAYS_BETWEEN_ORDERS])
        expected_next = values.at[customer, schema.EXPECTED_NEXT_ORDER]
        assert answer[schema.EXPECTED_NEXT_ORDER] == expected_next or (pd.isna(expected_next) and pd.isna(answer[schema.EXPECTED_NEXT_ORDER]))


@pytest.mark.slow
def test_the_lists_and_the_workbook_carry_the_churn_columns(demo):
    analysis, selection = demo
    values = customer_value(fit_value(analysis.orders, analysis.report.analysis_date, selection=selection))
    labelled = analysis.customers[[schema.RECENCY, schema.FREQUENCY, schema.MONETARY]].assign(segment_name="All")
    out = with_values(labelled, values)
    assert list(out.columns) == [schema.RECENCY, schema.FREQUENCY, schema.MONETARY, "segment_name", *CUSTOMER_VALUE_COLUMNS]
    assert list(out.columns) == [c for c in LABELLED_COLUMNS if c in out.columns]
    assert all(COLUMN_LABELS[column] == schema.CHURN_LABELS[column] for column in CHURN_COLUMNS)
    listed = pd.read_csv(io.BytesIO(csv_bytes(out)), encoding="utf-8-sig", dtype={schema.CUSTOMER_ID: str}).set_index(schema.CUSTOMER_ID)
    assert listed[schema.CHURN_RISK].tolist() == values[schema.CHURN_RISK].astype(str).tolist()
    assert listed[schema.EXPECTED_NEXT_ORDER].notna().sum() == values[schema.EXPECTED_NEXT_ORDER].notna().sum() > 0

    import openpyxl

    book = openpyxl.load_workbook(io.BytesIO(workbook_bytes(out.head(50), "segment_name")))
    sheet = book[next(name for name in book.sheetnames if name != "Summary")]
    header = [cell.value for cell in sheet[1]]
    for column in (*VALUE_COLUMNS, *CHURN_COLUMNS):
        assert column in header
    position = header.index(schema.CHURN_PROBABILITY) + 1
    assert sheet.cell(row=2, column=position).number_format == "0.0%"


# --------------------------------------------------------------------------------------------- the command


@pytest.mark.slow
def test_cli_clv_auto_writes_the_comparison(tmp_path, cli):
    if not WORKBOOK.exists():
        pytest.skip(f"real data not found at {WORKBOOK}")
    runs = cli({"auto": ["clv", WORKBOOK, "--out", tmp_path]})
    result = runs["auto"]
    assert result.returncode == 0, result.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["clv.csv", "holdout.csv", "models.csv", "parameters.json"]
    analysis = analyse_file(WORKBOOK)
    selection = compare_purchase_models(analysis.orders, analysis.report.analysis_date)
    models = pd.read_csv(tmp_path / "models.csv", encoding="utf-8-sig")
    assert models["model"].tolist() == selection.table()["model"].tolist()
    np.testing.assert_allclose(models["holdout_error"], selection.table()["holdout_error"], atol=1e-6)
    parameters = json.loads((tmp_path / "parameters.json").read_text(encoding="utf-8"))
    chosen = parameters["purchase_model"]
    assert chosen["model"] == selection.best and chosen["decided_by"] == selection.decided_by == "holdout"
    assert chosen["why"] == selection.reason and parameters["holdout"]["model"] == selection.best
    assert f"purchase model: {selection.reason}" in result.stderr
    table = pd.read_csv(tmp_path / "clv.csv", encoding="utf-8-sig", dtype={schema.CUSTOMER_ID: str})
    assert list(table.columns)[-len(CUSTOMER_VALUE_COLUMNS):] == list(CUSTOMER_VALUE_COLUMNS)
