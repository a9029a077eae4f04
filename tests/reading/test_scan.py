"""Scanned files (CSV and Parquet read by the engine) give exactly what reading them into memory gives.

The in-memory reader (:func:`rfm.reading.files.read_transactions`) is the reference: the same dirty files go
through both and must produce the same ledger, notes, date decision, RFM table, countries and
preview. Also: Parquet folders and globs, and the scanned table never holding all rows.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from devkit.data import WORKBOOK
from rfm.cleaning.analyse import analyse, analyse_file
from rfm.errors import RFMInputError
from rfm.reading.files import RawTable, read_transactions
from rfm.reading.scan import SAMPLE_ROWS, ScannedTable, open_transactions, scan
from tests.support.scan_cases import CSV_CASES, parquet_bytes, typed_frame

pytestmark = pytest.mark.slow


def _assert_same(scanned, read) -> None:
    """Everything a user sees about a file is the same whether it was scanned or read."""
    a, b = scanned.report, read.report
    pd.testing.assert_frame_equal(a.ledger_frame(), b.ledger_frame())
    figures = ("rows_read", "rows_clean", "customers", "revenue", "first_date", "last_date", "analysis_date", "notes", "warnings")
    for name in (*figures, "date_decision", "mapping"):
        assert getattr(a, name) == getattr(b, name), name
    pd.testing.assert_frame_equal(scanned.customers, read.customers)
    pd.testing.assert_frame_equal(scanned.preview.reset_index(drop=True), read.preview.reset_index(drop=True), check_dtype=False)
    assert scanned.countries == read.countries
    if read.customer_country is None:
        assert scanned.customer_country is None
    else:
        pd.testing.assert_series_equal(scanned.customer_country, read.customer_country)
    if read.customer_contacts is None:
        assert scanned.customer_contacts is None
    else:
        pd.testing.assert_frame_equal(scanned.customer_contacts, read.customer_contacts)
    assert scanned.guess == read.guess
    assert scanned.read_info.describe() == read.read_info.describe()


def _both(data: bytes, name: str, **kwargs):
    raw = open_transactions(data, name)
    assert isinstance(raw, ScannedTable)
    return analyse(raw, **kwargs), analyse(read_transactions(data, name), **kwargs)


@pytest.mark.parametrize("name", CSV_CASES)
def test_a_scanned_csv_gives_what_reading_it_gives(name):
    scanned, read = _both(CSV_CASES[name], name)
    _assert_same(scanned, read)


def test_the_dirty_file_is_cleaned_as_designed():
    scanned, _ = _both(CSV_CASES["plain.csv"], "plain.csv")
    rows = dict(zip(scanned.report.ledger_frame()["rule"], scanned.report.ledger_frame()["rows"]))
    assert rows["unparseable date"] == 1 and rows["missing customer id"] == 1 and rows["cancelled invoice"] == 1
    assert rows["quantity not a number"] == 1 and rows["quantity ≤ 0"] == 1 and rows["unit price ≤ 0"] == 1
    assert rows["exact duplicate row"] == 1  # off: "would remove"
    assert list(scanned.customers.index) == ["12583", "17850"]
    # Examples are the user's own rows, with their line numbers in the file.
    cancelled = next(line for line in scanned.report.ledger if line.rule == "cancelled invoice")
    assert cancelled.example_dicts()[0]["row"] == "5" and cancelled.example_dicts()[0]["Invoice"] == "C536379"


@pytest.mark.parametrize("settings", ["duplicates", "window", "countries", "analysis_date", "monthfirst"])
def test_cleaning_options_give_the_same_on_both_paths(settings):
    import datetime as dt

    from rfm.cleaning.ledger import CleaningSettings

    chosen = {
        "duplicates": CleaningSettings(drop_duplicates=True),
        "window": CleaningSettings(date_from=dt.date(2010, 12, 2), date_to=dt.date(2010, 12, 13)),
        "countries": CleaningSettings(countries=("France", "EIRE")),
        "analysis_date": CleaningSettings(analysis_date=dt.date(2010, 12, 5)),
        "monthfirst": CleaningSettings(date_order="monthfirst"),
    }[settings]
    scanned, read = _both(CSV_CASES["plain.csv"], "plain.csv", settings=chosen)
    _assert_same(scanned, read)


@pytest.mark.parametrize("kind", ["typed", "all text"])
def test_a_scanned_parquet_file_gives_what_reading_it_gives(kind):
    frame = typed_frame()
    if kind == "all text":
        frame = frame.astype("str").replace({"nan": None, "None": None})
    scanned, read = _both(parquet_bytes(frame), "export.parquet")
    _assert_same(scanned, read)


def test_a_folder_or_glob_of_parquet_files_is_one_table(tmp_path):
    frame = typed_frame(6000)
    single = tmp_path / "one.parquet"
    single.write_bytes(parquet_bytes(frame))
    folder = tmp_path / "export" / "year=2011"
    folder.mkdir(parents=True)
    parts = np.array_split(np.arange(len(frame)), 3)
    for index, positions in enumerate(parts):
        (folder / f"part-{index:05d}.parquet").write_bytes(parquet_bytes(frame.iloc[positions]))
    whole = analyse_file(single)
    by_folder = analyse_file(tmp_path / "export")
    by_glob = analyse_file(str(folder / "part-*.parquet"))
    for other in (by_folder, by_glob):
        pd.testing.assert_frame_equal(other.customers, whole.customers)
        columns = ["rule", "rows", "revenue", "applied"]
        pd.testing.assert_frame_equal(other.report.ledger_frame()[columns], whole.report.ledger_frame()[columns])
        assert other.report.rows_read == len(frame)
        assert "Read 3 Parquet files as one table." in other.report.notes
    # An example names the part file and the row in it.
    example = next(line for line in by_folder.report.ledger if line.rule == "missing customer id").example_dicts()[0]
    assert example["file"].startswith("part-0000") and int(example["row"]) >= 1


def test_folder_and_glob_mistakes_get_one_clear_message(tmp_path):
    with pytest.raises(RFMInputError, match=r"holds no \.parquet files"):
        scan(tmp_path)
    with pytest.raises(RFMInputError, match=r"No file matches"):
        scan(str(tmp_path / "*.parquet"))
    with pytest.raises(RFMInputError, match=r"no such file or folder"):
        open_transactions(tmp_path / "missing.parquet")
    (tmp_path / "a.parquet").write_bytes(parquet_bytes(pd.DataFrame({"x": [1], "y": [2]})))
    (tmp_path / "b.parquet").write_bytes(parquet_bytes(pd.DataFrame({"x": [1], "z": [2]})))
    with pytest.raises(RFMInputError, match=r"b\.parquet has columns \['x', 'z'\].*must share their columns"):
        scan(tmp_path)


def test_a_scanned_table_holds_a_sample_not_the_rows(tmp_path):
    frame = typed_frame(3 * SAMPLE_ROWS)
    path = tmp_path / "big.parquet"
    path.write_bytes(parquet_bytes(frame))
    table = open_transactions(path)
    assert isinstance(table, ScannedTable)
    assert table.n_rows == len(frame)
    assert len(table.sample) <= SAMPLE_ROWS
    # Spread over the file, not its first rows only.
    assert table.sample["InvoiceDate"].min() < frame["InvoiceDate"].iloc[:SAMPLE_ROWS].max()


def test_workbooks_and_whitespace_tables_are_read_into_memory(make_xlsx):
    workbook = make_xlsx({"Sheet1": pd.DataFrame({"Customer": ["A"], "Date": ["2024-01-02"], "Amount": [1.0]})})
    assert isinstance(open_transactions(workbook, "x.xlsx"), RawTable)
    spaced = b"Customer   Date         Amount\nA          2024-01-02   10\nB          2024-01-03   5\n"
    assert isinstance(open_transactions(spaced, "x.txt"), RawTable)


def test_the_cli_takes_a_parquet_folder(tmp_path, cli):
    folder = tmp_path / "export"
    folder.mkdir()
    frame = typed_frame(2000)
    for index, positions in enumerate(np.array_split(np.arange(len(frame)), 2)):
        (folder / f"part-{index}.parquet").write_bytes(parquet_bytes(frame.iloc[positions]))
    out = tmp_path / "table.csv"
    done = cli({"table": ["table", folder, "-o", out]})["table"]
    assert done.returncode == 0, done.stderr
    table = pd.read_csv(out, dtype={"customer_id": str}).set_index("customer_id")
    assert len(table) == analyse_file(folder).report.customers


@pytest.mark.skipif(not WORKBOOK.exists(), reason="real data not present")
@pytest.mark.parametrize("kind", ["csv", "parquet"])
def test_the_real_excerpt_exported_as_csv_or_parquet_scans_as_it_reads(tmp_path, kind):
    """The UCI excerpt's rows, as an analyst would export them, give the same on both paths."""
    rows = read_transactions(WORKBOOK).frame.drop(columns="source_sheet")
    path = tmp_path / f"online_retail.{kind}"
    if kind == "csv":
        rows.to_csv(path, index=False)
    else:
        rows.to_parquet(path, index=False)
    scanned = analyse_file(path)
    assert isinstance(open_transactions(path), ScannedTable)
    _assert_same(scanned, analyse(read_transactions(path)))
    assert scanned.report.rows_read == 34_766 and scanned.report.customers == 260
