"""Cleaning rules and the ledger, on tiny files with hand-computed answers."""

import datetime as dt
import io

import pandas as pd
import pytest

from rfm import schema
from rfm.cleaning.ledger import CleaningSettings, clean
from rfm.errors import RFMInputError
from rfm.reading.columns import detect_mapping
from rfm.reading.files import read_transactions
from rfm.schema import ColumnMapping

# Line values: 10 + 3 (A, invoice 1001), 10 (B, 1002), 10 + 10 duplicated (C, 1009); the rest is dirt.
TINY = """Invoice,Customer ID,InvoiceDate,Quantity,Price,Country
1001,A,2024-01-01 10:00,2,5.00,UK
1001,A,2024-01-01 10:00,1,3.00,UK
1002,B,2024-01-05 09:00,1,10.00,France
C1003,A,2024-01-06 09:00,-1,5.00,UK
1004,,2024-01-07 09:00,3,2.00,UK
1005,B,notadate,1,1.00,France
1006,B,2024-01-08 09:00,0,4.00,France
1007,C,2024-01-09 09:00,2,0,UK
1008,C,2024-01-10 09:00,abc,1.50,UK
1009,C,2024-01-10 12:00,4,2.50,UK
1009,C,2024-01-10 12:00,4,2.50,UK
"""


def _clean(text: str = TINY, settings: CleaningSettings = CleaningSettings(), mapping: ColumnMapping | None = None):
    raw = read_transactions(text.encode(), "tiny.csv")
    return clean(raw, mapping or detect_mapping(raw.frame).mapping, settings)


def _ledger(report) -> dict[str, tuple[int, float]]:
    return {line.rule: (line.rows, round(line.revenue, 2)) for line in report.ledger}


def test_each_rule_removes_its_rows_and_revenue():
    report = _clean().report
    assert _ledger(report) == {
        "unparseable date": (1, 1.0),
        "missing customer id": (1, 6.0),
        "cancelled invoice": (1, -5.0),
        "quantity not a number": (1, 0.0),
        "quantity ≤ 0": (1, 0.0),
        "unit price not a number": (0, 0.0),
        "unit price ≤ 0": (1, 0.0),
        "line value too large": (0, 0.0),
    }
    assert (report.rows_read, report.rows_clean, report.customers) == (11, 5, 3)
    assert report.revenue == pytest.approx(43.0)
    assert report.rows_read == report.rows_clean + report.rows_removed


def test_rows_sheet_rule_only_for_workbooks_with_several_sheets():
    assert "repeated across sheets" not in _ledger(_clean().report)


def test_examples_are_the_original_rows_with_their_row_number():
    report = _clean().report
    cancelled = next(line for line in report.ledger if line.rule == "cancelled invoice")
    example = cancelled.example_dicts()[0]
    assert example["Invoice"] == "C1003"
    assert example["row"] == "5"  # header is row 1, so the 4th data row is row 5
    date_line = next(line for line in report.ledger if line.rule == "unparseable date")
    assert date_line.example_dicts()[0]["InvoiceDate"] == "notadate"


def test_optional_rules_report_what_they_would_remove():
    report = _clean().report
    optional = {line.rule: (line.rows, round(line.revenue, 2), line.applied) for line in report.optional}
    assert optional["exact duplicate row"] == (1, 10.0, False)
    assert optional["outside date window"] == (0, 0.0, False)
    assert optional["country not selected"] == (0, 0.0, False)


def test_duplicates_rule_when_on():
    report = _clean(settings=CleaningSettings(drop_duplicates=True)).report
    assert _ledger(report)["exact duplicate row"] == (1, 10.0)
    assert report.rows_clean == 4
    assert report.revenue == pytest.approx(33.0)


def test_country_filter():
    report = _clean(settings=CleaningSettings(countries=("UK",))).report
    assert _ledger(report)["country not selected"] == (1, 10.0)
    assert report.customers == 2


def test_date_window():
    report = _clean(settings=CleaningSettings(date_to=dt.date(2024, 1, 5))).report
    assert _ledger(report)["outside date window"] == (2, 20.0)
    assert report.last_date == dt.datetime(2024, 1, 5, 9, 0)


def test_analysis_date_removes_later_purchases():
    report = _clean(settings=CleaningSettings(analysis_date=dt.date(2024, 1, 6))).report
    assert _ledger(report)["after analysis date"] == (2, 20.0)
    assert report.analysis_date == dt.date(2024, 1, 6)


def test_cancel_prefix_is_configurable_and_can_be_off():
    report = _clean(settings=CleaningSettings(cancel_prefix="")).report
    assert "cancelled invoice" not in _ledger(report)
    # The cancellation line has quantity -1, so the quantity rule catches it instead.
    assert _ledger(report)["quantity ≤ 0"] == (2, -5.0)


def test_default_analysis_date_is_latest_purchase_date():
    report = _clean().report
    assert report.analysis_date == dt.date(2024, 1, 10)
    assert (report.first_date, report.last_date) == (dt.datetime(2024, 1, 1, 10), dt.datetime(2024, 1, 10, 12))


def test_repeated_invoices_across_sheets_are_kept_once():
    first = pd.DataFrame(
        {
            "Invoice": [1, 1, 2],
            "Customer ID": [10.0, 10.0, 11.0],
            "InvoiceDate": pd.to_datetime(["2024-01-01", "2024-01-01", "2024-01-31"]),
            "Quantity": [1, 2, 1],
            "Price": [1.0, 1.0, 5.0],
        }
    )
    second = pd.DataFrame(
        {
            "Invoice": [2, 3],
            "Customer ID": [11.0, 12.0],
            "InvoiceDate": pd.to_datetime(["2024-01-31", "2024-02-02"]),
            "Quantity": [1, 4],
            "Price": [5.0, 1.0],
        }
    )
    buffer = io.BytesIO()
    with pd.ExcelWriter(buffer, engine="openpyxl") as writer:
        first.to_excel(writer, sheet_name="2023-24", index=False)
        second.to_excel(writer, sheet_name="2024-25", index=False)
    raw = read_transactions(buffer.getvalue(), "two.xlsx")
    report = clean(raw, detect_mapping(raw.frame).mapping).report
    assert _ledger(report)["repeated across sheets"] == (1, 5.0)
    assert report.ledger[0].example_dicts()[0]["sheet"] == "2024-25"
    assert (report.rows_read, report.rows_clean, report.revenue) == (5, 4, pytest.approx(12.0))


def test_without_invoice_column_each_row_is_a_purchase():
    text = "Customer,Date,Amount\nA,2024-01-01,5\nA,2024-01-01,7\nB,2024-01-02,-3\n"
    result = _clean(text)
    assert any("each row counts as one purchase" in note for note in result.report.notes)
    assert _ledger(result.report)["amount ≤ 0"] == (1, -3.0)
    kept = result.to_pandas()
    assert kept[schema.INVOICE_ID].nunique() == 2


def test_amount_column_is_the_line_value():
    text = "Order ID,Customer,Order Date,Quantity,Sales\n1,A,2024-01-01,3,9.99\n"
    result = _clean(text)
    assert result.report.mapping.amount == "Sales"
    assert result.report.revenue == pytest.approx(9.99)


def test_every_row_removed_is_a_clear_error():
    text = "Invoice,Customer ID,InvoiceDate,Quantity,Price\nC1,A,2024-01-01,-1,2\nC2,B,2024-01-02,-1,2\n"
    with pytest.raises(RFMInputError, match=r"Every one of the 2 rows .* 'cancelled invoice' with 2 rows"):
        _clean(text)


def test_unmapped_required_field_is_a_clear_error():
    raw = read_transactions(TINY.encode(), "tiny.csv")
    mapping = detect_mapping(raw.frame).mapping.replace(customer_id=None)
    with pytest.raises(RFMInputError, match=r"could be recognised as customer_id .*'Invoice'"):
        clean(raw, mapping)


def test_mapping_to_absent_column_is_a_clear_error():
    raw = read_transactions(TINY.encode(), "tiny.csv")
    mapping = detect_mapping(raw.frame).mapping.replace(country="Land")
    with pytest.raises(RFMInputError, match=r"Column 'Land' \(mapped to country\) is not in tiny.csv"):
        clean(raw, mapping)


def test_few_customers_give_a_warning_not_an_error():
    assert any("Only 3 customer(s)" in warning for warning in _clean().report.warnings)


def test_report_json_has_the_cli_contract_keys():
    data = _clean().report.as_json()
    for key in ("rows_read", "rows_clean", "customers", "revenue", "first_date", "last_date", "mapping", "ledger"):
        assert key in data
    assert {"rule", "rows", "revenue"} <= set(data["ledger"][0])
    assert data["mapping"]["customer_id"] == "Customer ID"
