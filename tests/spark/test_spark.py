"""The Spark engine runs the same expressions as DuckDB and gives exactly the same results.

Skipped with the reason when pyspark or Java is missing (``make spark`` installs pyspark); CI sets
``RFM_REQUIRE_SPARK=1`` and installs both, so there they must run.
"""

from __future__ import annotations

import os
import warnings

import numpy as np
import pandas as pd
import pytest

from rfm.cleaning import engine
from rfm.cleaning.analyse import analyse_file

REASON = engine.spark_missing()
if REASON and os.environ.get("RFM_REQUIRE_SPARK") == "1":
    raise RuntimeError(f"RFM_REQUIRE_SPARK=1 but the Spark tests cannot run: {REASON}")

from tests.support.scan_cases import CSV_CASES, parquet_bytes, typed_frame  # noqa: E402

pytestmark = [pytest.mark.spark, pytest.mark.skipif(REASON is not None, reason=f"Spark engine unavailable: {REASON}")]

LEDGER = ["rule", "rows", "revenue", "applied"]


@pytest.fixture(scope="module", autouse=True)
def spark():
    warnings.filterwarnings("ignore", message=".*PySpark does not yet fully support pandas.*")
    engine.use_spark("local[2]")
    session = engine.spark_session()
    yield session
    engine.use_spark(None)


def _same(duck, spark) -> None:
    pd.testing.assert_frame_equal(spark.report.ledger_frame()[LEDGER], duck.report.ledger_frame()[LEDGER])
    for name in ("rows_read", "rows_clean", "customers", "revenue", "first_date", "last_date", "analysis_date", "notes", "date_decision"):
        assert getattr(spark.report, name) == getattr(duck.report, name), name
    pd.testing.assert_frame_equal(spark.customers, duck.customers)
    pd.testing.assert_frame_equal(spark.orders, duck.orders)  # what migration and CLV are computed from
    assert spark.countries == duck.countries
    if duck.customer_country is not None:
        pd.testing.assert_series_equal(spark.customer_country, duck.customer_country)
    if duck.customer_contacts is not None:
        pd.testing.assert_frame_equal(spark.customer_contacts, duck.customer_contacts)


@pytest.mark.parametrize("name", ["plain.csv", "semicolon_comma_decimal.csv", "cp1252.csv", "no_invoice.csv"])
def test_a_dirty_csv_gives_the_same_ledger_and_rfm_table_on_spark(tmp_path, name):
    path = tmp_path / name
    path.write_bytes(CSV_CASES[name])
    _same(analyse_file(path), analyse_file(path, backend="spark"))


def test_a_parquet_folder_gives_the_same_on_spark(tmp_path):
    frame = typed_frame(8000)
    folder = tmp_path / "export"
    folder.mkdir()
    for index, positions in enumerate(np.array_split(np.arange(len(frame)), 3)):
        (folder / f"part-{index}.parquet").write_bytes(parquet_bytes(frame.iloc[positions]))
    duck, spark = analyse_file(folder), analyse_file(folder, backend="spark")
    _same(duck, spark)
    assert duck.report.rows_read == len(frame) and duck.report.customers > 300


def test_cleaning_options_give_the_same_on_spark(tmp_path):
    import datetime as dt

    from rfm.cleaning.ledger import CleaningSettings

    path = tmp_path / "export.parquet"
    path.write_bytes(parquet_bytes(typed_frame(4000)))
    settings = CleaningSettings(drop_duplicates=True, date_from=dt.date(2011, 1, 1), countries=("France", "Germany"))
    _same(analyse_file(path, settings=settings), analyse_file(path, settings=settings, backend="spark"))


def test_title_rows_above_a_csv_header_are_refused_on_spark_with_a_reason(tmp_path):
    from rfm.errors import RFMInputError

    path = tmp_path / "title_rows.csv"
    path.write_bytes(CSV_CASES["title_rows.csv"])
    with pytest.raises(RFMInputError, match=r"title line.*use the DuckDB engine"):
        analyse_file(path, backend="spark")


def test_the_cli_with_a_spark_master_writes_what_duckdb_writes(tmp_path, cli):
    path = tmp_path / "export.parquet"
    path.write_bytes(parquet_bytes(typed_frame(3000)))
    runs = cli(
        {
            "duckdb": ["table", path, "-o", tmp_path / "duckdb.csv"],
            "spark": ["table", path, "--spark-master", "local[1]", "-o", tmp_path / "spark.csv"],
        }
    )
    for run in runs.values():
        assert run.returncode == 0, run.stderr
    assert (tmp_path / "spark.csv").read_bytes() == (tmp_path / "duckdb.csv").read_bytes()


def test_email_and_phone_are_the_same_on_spark(tmp_path):
    from tests.cleaning.test_table import CONTACTS

    path = tmp_path / "contacts.csv"
    path.write_text(CONTACTS)
    duck, spark = analyse_file(path), analyse_file(path, backend="spark")
    _same(duck, spark)
    assert duck.customer_contacts is not None and duck.customer_contacts.loc["A", "email"] == "a-mid@example.com"
