"""`python -m rfm sql`: the warehouse SQL gives the app's RFM table and ledger, in every dialect."""

from __future__ import annotations

import datetime as dt

import duckdb
import numpy as np
import pandas as pd
import pytest
import sqlglot

from rfm import schema
from rfm.cleaning.analyse import analyse_file
from rfm.cleaning.ledger import CleaningSettings
from rfm.cleaning.sql import DIALECTS, KEPT, rfm_sql
from rfm.cli.main import main

# Online Retail style rows with every kind of dirt the rules remove.
ROWS = [
    # InvoiceNo, InvoiceDate, Quantity, UnitPrice, CustomerID, Country
    ("536365", "2010-12-01 08:26:00", 6, 2.55, "17850", "United Kingdom"),
    ("536365", "2010-12-01 08:26:00", 8, 3.39, "17850", "United Kingdom"),
    ("536366", "2010-12-05 23:59:00", 2, 1.85, "17850", "United Kingdom"),
    ("C536379", "2010-12-06 09:41:00", -1, 27.50, "17850", "United Kingdom"),  # cancelled
    ("536367", "2010-12-01 08:34:00", 24, 0.10, "13047", "France"),
    ("536367", "2010-12-01 08:34:00", 24, 0.10, "13047", "France"),  # exact duplicate
    ("536368", "2011-01-10 10:00:00", 12, 1.25, "13047", "France"),
    ("536369", "2011-01-11 10:00:00", 3, 4.95, None, "France"),  # no customer
    ("536370", "2011-01-12 12:00:00", 5, 0.0, "12583", "Germany"),  # zero price
    ("536371", "2011-01-12 12:00:00", -4, 2.10, "12583", "Germany"),  # negative quantity
    ("536372", "2011-01-13 13:00:00", 1, None, "12583", "Germany"),  # no price
    ("536373", "2011-01-14 14:00:00", 10, 0.85, "12583", "Germany"),
    ("536374", None, 1, 9.99, "12583", "Germany"),  # no date
    ("536375", "2011-02-01 07:00:00", 2, 15.00, "14688", None),
    ("536376", "2011-02-03 18:30:00", 1, 7.50, "12583", "Germany"),
]
FILE_COLUMNS = ["InvoiceNo", "InvoiceDate", "Quantity", "UnitPrice", "CustomerID", "Country"]
FILE_MAPPING = {
    "invoice_id": "InvoiceNo",
    "invoice_date": "InvoiceDate",
    "quantity": "Quantity",
    "unit_price": "UnitPrice",
    "customer_id": "CustomerID",
    "country": "Country",
}
COMPARED = [c for c in schema.RFM_COLUMNS if c != schema.HISTORICAL_CLV]


def _file_frame() -> pd.DataFrame:
    return pd.DataFrame(ROWS, columns=FILE_COLUMNS)


def _warehouse(columns: dict[str, str]) -> duckdb.DuckDBPyConnection:
    """A DuckDB table ``transactions`` of the rows, typed as a warehouse holds them, columns renamed."""
    frame = _file_frame()
    frame["InvoiceDate"] = pd.to_datetime(frame["InvoiceDate"])
    frame = frame.astype({"Quantity": "float64", "UnitPrice": "float64"}).rename(columns=columns)
    connection = duckdb.connect()
    connection.register("typed_rows", frame)
    connection.execute("CREATE TABLE transactions AS SELECT * FROM typed_rows")
    return connection


def _statements(sql: str) -> list[str]:
    return [statement for statement in sql.split(";\n") if statement.strip()]


def _app(settings: CleaningSettings = CleaningSettings()):
    data = _file_frame().to_csv(index=False).encode()
    return analyse_file(data, "x.csv", overrides=FILE_MAPPING, settings=settings)


def _run_sql(settings: CleaningSettings, overrides: dict, columns: dict[str, str]) -> tuple[pd.DataFrame, pd.DataFrame]:
    connection = _warehouse(columns)
    table_sql, ledger_sql = _statements(rfm_sql("duckdb", overrides, settings, ledger=True))
    customers = connection.execute(table_sql).df().set_index(schema.CUSTOMER_ID)
    return customers, connection.execute(ledger_sql).df()


CANONICAL = {file_column: field for field, file_column in FILE_MAPPING.items()}


@pytest.mark.parametrize(
    ("settings", "overrides", "columns"),
    [
        (CleaningSettings(), {}, CANONICAL),
        (CleaningSettings(), FILE_MAPPING, {}),
        (CleaningSettings(analysis_date=dt.date(2011, 1, 31)), FILE_MAPPING, {}),
        (CleaningSettings(drop_duplicates=True, date_from=dt.date(2010, 12, 2), countries=("France", "Germany")), FILE_MAPPING, {}),
    ],
    ids=["canonical names", "mapped names", "analysis date", "duplicates, window, countries"],
)
@pytest.mark.slow
def test_duckdb_sql_gives_the_app_table_and_ledger(settings, overrides, columns):
    customers, ledger = _run_sql(settings, overrides, columns)
    analysis = _app(settings)
    expected = analysis.customers[COMPARED]
    assert len(expected) >= 2
    pd.testing.assert_frame_equal(customers[COMPARED], expected, check_dtype=False, check_index_type=False)

    app_ledger = {line.rule: line.rows for line in analysis.report.ledger if line.rows}
    sql_ledger = dict(zip(ledger["rule"], ledger["rows"]))
    assert sql_ledger.pop(KEPT) == analysis.report.rows_clean
    assert sql_ledger == app_ledger
    app_revenue = {line.rule: line.revenue for line in analysis.report.ledger if line.rows}
    assert dict(zip(ledger["rule"], ledger["revenue"].fillna(0.0))) == pytest.approx({KEPT: analysis.report.revenue, **app_revenue}, nan_ok=True)


@pytest.mark.slow
def test_amount_column_and_no_invoice_column():
    """Line value from an amount column; without invoices each row is one purchase."""
    frame = _file_frame()
    frame["Amount"] = frame["Quantity"] * frame["UnitPrice"]
    frame = frame.drop(columns=["InvoiceNo", "Quantity", "UnitPrice"])
    overrides = {"invoice_date": "InvoiceDate", "amount": "Amount", "customer_id": "CustomerID", "invoice_id": ""}
    analysis = analyse_file(frame.to_csv(index=False).encode(), "x.csv", overrides=overrides)
    frame["InvoiceDate"] = pd.to_datetime(frame["InvoiceDate"])
    connection = duckdb.connect()
    connection.register("transactions", frame)
    (table_sql,) = _statements(rfm_sql("duckdb", overrides))
    customers = connection.execute(table_sql).df().set_index(schema.CUSTOMER_ID)
    pd.testing.assert_frame_equal(customers[COMPARED], analysis.customers[COMPARED], check_dtype=False, check_index_type=False)


@pytest.mark.parametrize("dialect", DIALECTS)
def test_every_dialect_compiles_and_parses_back(dialect):
    settings = CleaningSettings(drop_duplicates=True, analysis_date=dt.date(2011, 12, 9), date_to=dt.date(2011, 12, 1), countries=("UK",))
    sql = rfm_sql(dialect, {"invoice_id": ""}, settings, "sales.transactions", ledger=True)
    assert sql.startswith("-- RFM table from sales.transactions")
    statements = _statements(sql)
    assert len(statements) == 2
    for statement in statements:
        assert sqlglot.parse_one(statement, read=dialect) is not None


def test_cli_prints_the_sql(capsys):
    assert main(["sql", "--dialect", "bigquery", "--table", "shop.orders", "--map", "customer_id=CustomerID"]) == 0
    out = capsys.readouterr().out
    assert "`shop`.`orders`" in out and "`CustomerID` AS `customer_id`" in out
    assert sqlglot.parse_one(out, read="bigquery") is not None


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--map", "colour=Colour"], "--map expects field=COLUMN"),
        (["--map", "customer_id="], "needs a column for customer_id"),
        (["--country", "UK", "--map", "country="], "needs a column for country"),
        (["--table", "a.b.c.d"], "should be TABLE"),
    ],
)
def test_cli_bad_options_exit_2_with_one_line(capsys, argv, message):
    assert main(["sql", "--dialect", "duckdb", *argv]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.count("\n") == 1 and message in captured.err


def test_missing_values_are_nulls_in_the_warehouse_table():
    """The parity above relies on DuckDB reading the frame's NaN as NULL, as a warehouse holds it."""
    connection = _warehouse({})
    assert connection.execute("SELECT count(*) FROM transactions WHERE UnitPrice IS NULL").fetchone()[0] == 1
    assert np.isnan(_file_frame()["UnitPrice"]).sum() == 1
