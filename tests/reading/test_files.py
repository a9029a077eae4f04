"""Reading files (``rfm.reading.files``): encodings, delimiters, title rows, workbooks, Parquet, lying extensions."""

import io

import pandas as pd
import pytest

from rfm.errors import RFMInputError
from rfm.reading.files import decode_text, list_sheets, read_transactions, sniff_delimiter
from rfm.schema import SHEET

CSV = "Customer,Date,Amount\n1,2024-01-02,9.50\n2,2024-01-03,4.00\n"
CSV_TABLE = (["Customer", "Date", "Amount"], [["1", "2024-01-02", "9.50"], ["2", "2024-01-03", "4.00"]])


def columns_and_rows(raw) -> tuple[list[str], list[list[str]]]:
    frame = raw.frame.drop(columns=SHEET)
    return list(frame.columns), frame.astype(str).values.tolist()


# --- encodings --------------------------------------------------------------------------------

ACCENTED = "Customer,Date,Amount,Note\n1,2024-01-02,9.50,Café crème\n2,2024-01-03,4.00,Müller Zürich\n"


@pytest.mark.parametrize(
    ("codec", "expected"),
    [
        ("utf-8", "utf-8"),
        ("utf-8-sig", "utf-8 with BOM"),
        ("utf-16", "utf-16"),  # with a BOM
        ("utf-16-le", "utf-16-le"),  # no BOM: told from the NUL bytes
        ("utf-16-be", "utf-16-be"),
        ("cp437", "cp437"),  # DOS: é is 0x82, ü is 0x81
    ],
)
def test_encodings_are_told_and_decoded(codec, expected):
    text, encoding = decode_text(ACCENTED.encode(codec))
    assert encoding == expected
    assert text == ACCENTED


def test_cp1252_with_euro_and_accents():
    text = "Customer,Date,Amount,Note\n1,2024-01-02,9.50,Café €5 off\n2,2024-01-03,4.00,Don’t – résumé\n"
    decoded, encoding = decode_text(text.encode("cp1252"))
    assert (decoded, encoding) == (text, "cp1252")


def uci_lines_with(description: str) -> str:
    """31 ASCII lines of a UCI-like export; one line's description is ``description``."""
    lines = ["Invoice,Description,Quantity,InvoiceDate,Price,Customer ID"]
    lines += [f"{536365 + i},WHITE HEART T-LIGHT HOLDER,6,2010-12-01 08:26,2.55,{17850 + i % 3}" for i in range(30)]
    lines[12] = lines[12].replace("WHITE HEART T-LIGHT HOLDER", description)
    return "\n".join(lines) + "\n"


@pytest.mark.parametrize(
    "note", ["Café", "CAFÉ", "MÜLLER", "naïve", "crème brûlée", "piñata", "Hôtel", "Français", "José García"]
)
def test_cp437_with_a_single_accented_word_among_ascii_lines(note):
    text = uci_lines_with(note)
    decoded, encoding = decode_text(text.encode("cp437"))
    assert encoding == "cp437"
    assert decoded == text


@pytest.mark.parametrize("note", ["Café", "CAFÉ", "Müller", "Ñandú", "Straße", "£5 off", "Don’t"])
def test_cp1252_with_a_single_accented_word_among_ascii_lines(note):
    text = uci_lines_with(note)
    assert decode_text(text.encode("cp1252")) == (text, "cp1252")


def test_latin_1_decodes_right():
    # latin-1 and cp1252 agree on every letter from 0xA0 up, so either name reads the text right.
    text = "Customer,Date,Amount,Note\n1,2024-01-02,9.50,Ça coûte £5\n2,2024-01-03,4.00,Ørsted Ålborg\n"
    decoded, encoding = decode_text(text.encode("latin-1"))
    assert decoded == text
    assert encoding in ("cp1252", "latin_1")


def test_decoded_text_reaches_the_frame():
    raw = read_transactions(ACCENTED.encode("cp437"), "dos.csv")
    assert raw.info.encoding == "cp437"
    assert list(raw.frame["Note"]) == ["Café crème", "Müller Zürich"]


# --- delimiters and title rows ----------------------------------------------------------------


@pytest.mark.parametrize(("delimiter", "name"), [(",", ","), (";", ";"), ("\t", "tab"), ("|", "|")])
def test_delimiters(delimiter, name):
    raw = read_transactions(CSV.replace(",", delimiter).encode(), "tx.csv")
    assert raw.info.delimiter == name
    assert columns_and_rows(raw) == CSV_TABLE


def test_runs_of_whitespace():
    text = "Customer   Date         Amount\n1          2024-01-02   9.50\n2  2024-01-03 \t 4.00\n"
    raw = read_transactions(text.encode(), "tx.txt")
    assert raw.info.delimiter == "whitespace"
    assert columns_and_rows(raw) == CSV_TABLE


def test_quoted_delimiters_stay_inside_their_field():
    text = 'Customer,Description,Amount\n1,"HEART, LARGE",9.50\n2,"LANTERN, RED",4.00\n'
    raw = read_transactions(text.encode(), "tx.csv")
    assert list(raw.frame["Description"]) == ["HEART, LARGE", "LANTERN, RED"]


def test_title_rows_above_the_header_are_skipped():
    text = "Sales report\nExported 2024-02-01\n\n" + CSV
    raw = read_transactions(text.encode(), "report.csv")
    assert columns_and_rows(raw)[0] == ["Customer", "Date", "Amount"]
    assert len(raw.frame) == 2
    assert raw.info.header_line == 3  # physical lines above the header, the blank one included
    assert raw.info.notes == ("Skipped 2 title line(s) above the header.",)


def test_sniff_delimiter_returns_field_count_and_header_line():
    lines = ["Report for January", "a;b;c", "1;2;3", "4;5;6"]
    assert sniff_delimiter(lines) == (";", 3, 1)


def test_every_text_column_is_read_as_text():
    raw = read_transactions(b"Customer,Amount\n007,1.50\n008,2\n", "tx.csv")
    assert list(raw.frame["Customer"]) == ["007", "008"]  # zero padding kept: typing is parse's job


# --- workbooks --------------------------------------------------------------------------------

FIRST = pd.DataFrame(
    {
        "Invoice": ["1", "1", "2"],
        "InvoiceDate": pd.to_datetime(["2010-01-02", "2010-01-02", "2010-03-04"]),
        "Customer ID": [12346.0, 12346.0, 12347.0],
        "Quantity": [1, 2, 3],
        "Price": [1.5, 2.0, 3.0],
    }
)
SECOND = pd.DataFrame(
    {
        "Invoice": ["3"],
        "InvoiceDate": pd.to_datetime(["2011-01-02"]),
        "Customer ID": [12348.0],
        "Quantity": [4],
        "Price": [5.0],
    }
)
NOTES = pd.DataFrame({"Note": ["Exported by the ERP", "Do not edit"]})


@pytest.fixture
def two_year_workbook(make_xlsx) -> bytes:
    return make_xlsx({"Year 2009-2010": FIRST, "Year 2010-2011": SECOND})


def test_two_sheets_are_combined_and_tagged_with_their_sheet(two_year_workbook):
    raw = read_transactions(two_year_workbook, "retail.xlsx")
    assert raw.info.file_format == "xlsx"
    assert list(raw.frame["Invoice"]) == ["1", "1", "2", "3"]
    assert list(raw.frame[SHEET]) == [0, 0, 0, 1]
    assert raw.info.sheets_used == ("Year 2009-2010", "Year 2010-2011")
    assert raw.info.rows_per_sheet == (3, 1)
    expected_dates = pd.to_datetime(["2010-01-02", "2010-01-02", "2010-03-04", "2011-01-02"])
    assert list(raw.frame["InvoiceDate"]) == list(expected_dates)


def test_list_sheets(make_xlsx):
    data = make_xlsx({"Year 2009-2010": FIRST, "Notes": NOTES, "Year 2010-2011": SECOND})
    assert list_sheets(data, "retail.xlsx") == ["Year 2009-2010", "Notes", "Year 2010-2011"]


def test_list_sheets_of_a_text_file_is_empty():
    assert list_sheets(CSV.encode(), "tx.csv") == []


def test_one_chosen_sheet_is_read_alone(make_xlsx):
    data = make_xlsx({"Year 2009-2010": FIRST, "Notes": NOTES, "Year 2010-2011": SECOND})
    raw = read_transactions(data, "retail.xlsx", sheets=["Year 2010-2011"])
    assert list(raw.frame["Invoice"]) == ["3"]
    assert list(raw.frame[SHEET]) == [2]  # the sheet's index in the workbook
    assert raw.info.sheets == ("Year 2009-2010", "Notes", "Year 2010-2011")
    assert raw.info.sheets_used == ("Year 2010-2011",)


def test_a_sheet_that_does_not_exist(two_year_workbook):
    message = r"retail\.xlsx has no sheet named 'Nope'; its sheets are \['Year 2009-2010', 'Year 2010-2011'\]"
    with pytest.raises(RFMInputError, match=message):
        read_transactions(two_year_workbook, "retail.xlsx", sheets=["Nope"])


def test_a_notes_sheet_without_transaction_columns_is_skipped(make_xlsx):
    data = make_xlsx({"Year 2009-2010": FIRST, "Notes": NOTES, "Year 2010-2011": SECOND})
    raw = read_transactions(data, "retail.xlsx")
    assert raw.info.sheets_used == ("Year 2009-2010", "Year 2010-2011")
    assert list(raw.frame[SHEET]) == [0, 0, 0, 2]
    assert "Note" not in raw.frame.columns
    assert "Skipped sheet(s) without transaction columns: Notes." in raw.info.notes


def test_opendocument_spreadsheet(make_ods):
    data = make_ods({"Orders": [["Customer", "Date", "Amount"], ["A", "2024-01-02", 9.5], ["B", "2024-01-03", 4]]})
    raw = read_transactions(data, "orders.ods")
    assert raw.info.file_format == "ods"
    assert list(raw.frame["Customer"]) == ["A", "B"]
    assert list(raw.frame["Amount"]) == [9.5, 4.0]


def test_legacy_xls(make_xls):
    data = make_xls(
        {
            "Orders": [["Customer", "InvoiceDate", "Amount"], ["A", 40513, 9.5], ["B", 40514, 4]],
            "Notes": [["Note"], ["Exported by the ERP"]],
        }
    )
    raw = read_transactions(data, "orders.xls")
    assert raw.info.file_format == "xls"
    assert raw.info.sheets == ("Orders", "Notes")
    # InvoiceDate holds Excel serials (numbers), still recognised as the date: Orders has transactions, Notes not.
    assert raw.info.sheets_used == ("Orders",)
    assert raw.info.notes == ("Skipped sheet(s) without transaction columns: Notes.",)
    assert list(raw.frame["Customer"]) == ["A", "B"]
    assert list(raw.frame["InvoiceDate"]) == [40513.0, 40514.0]


def test_parquet_keeps_its_types():
    buffer = io.BytesIO()
    FIRST.to_parquet(buffer)
    raw = read_transactions(buffer.getvalue(), "tx.parquet")
    assert raw.info.file_format == "parquet"
    assert raw.frame["Quantity"].tolist() == [1, 2, 3]
    assert pd.api.types.is_integer_dtype(raw.frame["Quantity"])
    assert pd.api.types.is_datetime64_any_dtype(raw.frame["InvoiceDate"])
    assert list(raw.frame[SHEET]) == [0, 0, 0]


def test_an_xlsx_named_csv_is_read_as_a_workbook(two_year_workbook):
    raw = read_transactions(two_year_workbook, "export.csv")
    assert raw.info.file_format == "xlsx"
    assert len(raw.frame) == 4


def test_csv_text_named_xlsx_is_read_as_text():
    raw = read_transactions(CSV.encode(), "export.xlsx")
    assert raw.info.file_format == "csv"
    assert columns_and_rows(raw) == CSV_TABLE


def test_a_path_is_read_like_bytes(tmp_path):
    path = tmp_path / "tx.csv"
    path.write_bytes(CSV.encode())
    raw = read_transactions(path)
    assert raw.info.file_name == "tx.csv"
    assert len(raw.frame) == 2


def test_describe_says_how_the_file_was_read():
    raw = read_transactions(CSV.replace(",", ";").encode(), "tx.csv")
    assert raw.info.describe() == "CSV, encoding utf-8, delimiter ';'"


def test_sheets_read_in_worker_processes_equal_sheets_read_here(two_year_workbook, monkeypatch):
    import rfm.reading.files

    here = read_transactions(two_year_workbook, "two.xlsx").frame
    monkeypatch.setattr(rfm.reading.files, "PARALLEL_SHEETS_MIN_BYTES", 0)  # force the worker processes
    monkeypatch.setattr(rfm.reading.files.os, "cpu_count", lambda: 2)
    parallel_results = []
    real_in_parallel = rfm.reading.files._in_parallel

    def spy(*args):
        parallel_results.append(real_in_parallel(*args))
        return parallel_results[-1]

    monkeypatch.setattr(rfm.reading.files, "_in_parallel", spy)
    in_workers = read_transactions(two_year_workbook, "two.xlsx").frame
    assert len(parallel_results) == 1 and parallel_results[0] is not None  # no silent fallback
    pd.testing.assert_frame_equal(in_workers, here)


def test_a_sheet_worker_reports_an_unreadable_workbook_as_text():
    from rfm.reading.sheets import load_sheet_in_subprocess

    table, error = load_sheet_in_subprocess(b"PK\x03\x04 not really a workbook", "Sheet1")
    assert table is None
    assert "Cannot detect file format" in error
