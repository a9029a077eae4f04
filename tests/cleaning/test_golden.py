"""Golden figures on the real UCI Online Retail II excerpt, recomputed here with plain pandas + openpyxl.

The independent computation follows the documented rules in the documented order (first rule that
matches a row claims it): repeated across sheets, unparseable date, missing customer id, cancelled
invoice, quantity ≤ 0, unit price ≤ 0.
"""


import numpy as np
import pandas as pd
import pytest

from devkit.data import WORKBOOK
from rfm import schema
from rfm.cleaning.analyse import analyse_file

pytestmark = [pytest.mark.slow, pytest.mark.skipif(not WORKBOOK.exists(), reason=f"real data not present at {WORKBOOK}")]


@pytest.fixture(scope="module")
def ours():
    return analyse_file(WORKBOOK)


@pytest.fixture(scope="module")
def independent():
    sheets = pd.read_excel(WORKBOOK, sheet_name=None, engine="openpyxl")
    frames = []
    for index, frame in enumerate(sheets.values()):
        frames.append(frame.assign(sheet=index))
    rows = pd.concat(frames, ignore_index=True)
    rows["invoice"] = rows["Invoice"].astype(str)
    rows["value"] = rows["Quantity"] * rows["Price"]
    first_sheet = rows.groupby("invoice")["sheet"].transform("min")
    conditions = {
        "repeated across sheets": rows["sheet"] > first_sheet,
        "unparseable date": rows["InvoiceDate"].isna(),
        "missing customer id": rows["Customer ID"].isna(),
        "cancelled invoice": rows["invoice"].str.upper().str.startswith("C"),
        "quantity ≤ 0": rows["Quantity"] <= 0,
        "unit price ≤ 0": rows["Price"] <= 0,
    }
    claimed = pd.Series(False, index=rows.index)
    ledger = {}
    for rule, condition in conditions.items():
        hit = condition & ~claimed
        ledger[rule] = (int(hit.sum()), float(rows.loc[hit, "value"].sum()))
        claimed |= hit
    kept = rows[~claimed].copy()
    kept["customer"] = kept["Customer ID"].astype("int64").astype(str)
    analysis_date = kept["InvoiceDate"].max().normalize()
    table = kept.groupby("customer").agg(
        frequency=("invoice", "nunique"),
        monetary=("value", "sum"),
        last=("InvoiceDate", "max"),
    )
    table["recency"] = (analysis_date - table["last"].dt.normalize()).dt.days
    return {"rows_read": len(rows), "ledger": ledger, "kept": kept, "table": table}


def test_rows_read_and_kept(ours, independent):
    assert ours.report.rows_read == independent["rows_read"] == 34_766
    assert ours.report.rows_clean == len(independent["kept"])


def test_ledger_matches_rule_by_rule(ours, independent):
    lines = {line.rule: line for line in ours.report.ledger}
    for rule, (rows, revenue) in independent["ledger"].items():
        assert lines[rule].rows == rows, rule
        assert lines[rule].revenue == pytest.approx(revenue, abs=0.01), rule
    assert lines["repeated across sheets"].rows > 0  # the two sheets do overlap in this excerpt


def test_totals(ours, independent):
    kept = independent["kept"]
    assert ours.report.customers == kept["customer"].nunique()
    assert ours.report.revenue == pytest.approx(kept["value"].sum(), rel=1e-9)
    assert ours.report.first_date == kept["InvoiceDate"].min()
    assert ours.report.last_date == kept["InvoiceDate"].max()


def test_rfm_table_matches(ours, independent):
    table, expected = ours.customers, independent["table"].sort_index()
    assert list(table.index) == list(expected.index)
    np.testing.assert_array_equal(table[schema.FREQUENCY].to_numpy(), expected["frequency"].to_numpy())
    np.testing.assert_allclose(table[schema.MONETARY].to_numpy(), expected["monetary"].to_numpy(), rtol=1e-9)
    np.testing.assert_array_equal(table[schema.RECENCY].to_numpy(), expected["recency"].to_numpy())
