"""Downloads: CSV per segment, ZIP and workbook, on tiny hand-made lists and on the demo's labelled list.

Every file is read back the way a user's program would: CSV with ``pd.read_csv(..., dtype=str)`` after the
BOM, workbooks with openpyxl (cell types, number formats, sheet settings), text and widths taken as Excel
shows them (see :func:`shown` and :func:`shown_width`).
"""

import datetime as dt
import io
import re
import zipfile

import numpy as np
import openpyxl
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rfm import schema
from rfm.errors import RFMInputError
from rfm.outputs.files import (
    FORMULA_PREFIXES,
    NO_SEGMENT,
    PROGRESS_ROWS,
    csv_bytes,
    export_file_name,
    neutralise,
    neutralise_frame,
    segment_files,
    workbook_bytes,
    workbook_cells,
    zip_bytes,
)
from rfm.schema import ACTION, RFM_SEGMENT, SEGMENT_NAME

ANALYSIS_DATE = dt.date(2011, 12, 9)
BOM = b"\xef\xbb\xbf"

# Four customers in two segments. Revenue: "Zürich fans" 10.5 + 200 = 210.5, "=1+1" 5.25 + (-3) = 2.25,
# so the Zürich list comes first although "=1+1" sorts first and appears first.
TINY = pd.DataFrame(
    {
        schema.RECENCY: [3, 40, 7, 0],
        schema.FREQUENCY: [1, -2, 12, 4],
        schema.MONETARY: [5.25, -3.0, 10.5, 200.0],
        SEGMENT_NAME: pd.array(["=1+1", "=1+1", "Zürich fans", "Zürich fans"], dtype="str"),
        ACTION: pd.array(["+call them", "+call them", "Say hi", "Say hi"], dtype="str"),
        schema.COUNTRY: pd.array(["Côte d'Ivoire", pd.NA, "@home", "Zürich"], dtype="string"),
        "cluster": pd.array([1, 1, pd.NA, 0], dtype="Int64"),
        schema.LAST_PURCHASE: pd.to_datetime(
            ["2011-12-06 10:30:00", "2011-10-30 08:00:00", None, "2011-12-09 17:45:00"]
        ),
    },
    index=pd.Index(["00123", "-42", "007", "A-9"], name=schema.CUSTOMER_ID, dtype="str"),
)
#: Text whose first character a spreadsheet would read as a formula, one per OWASP prefix.
RISKY = [f"{prefix}1+1" for prefix in FORMULA_PREFIXES]


def read_csv(data: bytes) -> pd.DataFrame:
    """A CSV download as a user's program reads it: every field as text, empty fields as ""."""
    assert data.startswith(BOM)
    return pd.read_csv(io.BytesIO(data), dtype=str, encoding="utf-8-sig", keep_default_na=False)


def read_workbook(data: bytes) -> openpyxl.Workbook:
    return openpyxl.load_workbook(io.BytesIO(data))


OOXML_ESCAPE = re.compile(r"_x([0-9A-Fa-f]{4})_")


def shown(value):
    """A cell value as Excel (and calamine) reads it: OOXML escapes decoded, which openpyxl leaves as they are.

    A workbook writes a carriage return as ``_x000D_`` and a literal ``_x0041_`` as ``_x005F_x0041_``.
    """
    return OOXML_ESCAPE.sub(lambda match: chr(int(match[1], 16)), value) if isinstance(value, str) else value


def shown_width(sheet, letter: str) -> float:
    """A column's width as Excel shows it, in characters of Calibri 11 (7 pixels a digit).

    The file stores it with the 5 pixels of cell padding added, as Excel does: 13 characters are stored as 13.71.
    """
    stored = sheet.column_dimensions[letter].width
    return round((round(stored * 7) - 5) / 7, 2)


def sheet_rows(sheet) -> list[list]:
    return [[shown(cell.value) for cell in row] for row in sheet.iter_rows()]


def risky_list() -> pd.DataFrame:
    """One customer per risky text, the text in the id, a str column, a string column and an object column."""
    n = len(RISKY)
    return pd.DataFrame(
        {
            schema.MONETARY: [-1.5] * n,
            schema.FREQUENCY: [-7] * n,
            SEGMENT_NAME: pd.array(["Risky"] * n, dtype="str"),
            "note": pd.array(RISKY, dtype="str"),
            schema.COUNTRY: pd.array(RISKY, dtype="string"),
            "remark": pd.Series(RISKY, dtype=object).to_numpy(),
        },
        index=pd.Index(RISKY, name=schema.CUSTOMER_ID, dtype="str"),
    )


# --------------------------------------------------------------------------------------------- neutralise


@pytest.mark.parametrize("prefix", FORMULA_PREFIXES)
def test_neutralise_quotes_every_formula_prefix(prefix):
    assert neutralise(f"{prefix}cmd|' /C calc'!A0") == f"'{prefix}cmd|' /C calc'!A0"
    assert neutralise(prefix) == "'" + prefix


@pytest.mark.parametrize("text", ["", "Zürich", "a=b", "1-2", "'=already quoted", " =spaced", "00123", "Lost"])
def test_neutralise_leaves_safe_text(text):
    assert neutralise(text) == text


def test_neutralise_frame_text_cells_ids_and_nothing_else():
    out = neutralise_frame(TINY)
    assert list(out.index) == ["00123", "'-42", "007", "A-9"]
    assert list(out[SEGMENT_NAME]) == ["'=1+1", "'=1+1", "Zürich fans", "Zürich fans"]
    assert list(out[ACTION]) == ["'+call them", "'+call them", "Say hi", "Say hi"]
    assert out[schema.COUNTRY].tolist()[2] == "'@home" and out[schema.COUNTRY].isna().tolist() == [0, 1, 0, 0]
    # numbers (negative ones too), dates and NA untouched, dtypes kept
    for column in (schema.FREQUENCY, schema.MONETARY, "cluster", schema.LAST_PURCHASE):
        pd.testing.assert_series_equal(out[column], TINY[column], check_index=False)
    assert out.dtypes.equals(TINY.dtypes)
    assert list(TINY.index) == ["00123", "-42", "007", "A-9"]  # the input is not modified


def test_neutralise_frame_object_and_category_columns():
    frame = pd.DataFrame({"mixed": ["-x", -5, None, 2.5], "kind": pd.Categorical(["@a", "b", "@a", "b"])})
    out = neutralise_frame(frame)
    assert out["mixed"].tolist() == ["'-x", -5, None, 2.5]
    assert out["kind"].tolist() == ["'@a", "b", "'@a", "b"]
    assert list(out.index) == [0, 1, 2, 3]  # a numeric index is not text


@given(st.text(alphabet=st.sampled_from([*FORMULA_PREFIXES, "'", "a", "é", " ", "\n"]), max_size=6))
@settings(max_examples=200, derandomize=True)
def test_neutralised_text_never_starts_a_formula_and_is_stable(text):
    safe = neutralise(text)
    assert not safe.startswith(FORMULA_PREFIXES)
    assert safe in (text, "'" + text)
    assert neutralise(safe) == safe


# --------------------------------------------------------------------------------------------- file names


@pytest.mark.parametrize(
    ("segment", "date", "extension", "expected"),
    [
        ("Can't Lose Them", ANALYSIS_DATE, "csv", "cant-lose-them_2011-12-09.csv"),
        ("Clients fidèles", None, "xlsx", "clients-fideles.xlsx"),
        ("Zürich / Genève: VIP*", ANALYSIS_DATE, ".CSV", "zurich-geneve-vip_2011-12-09.csv"),
        ("../../etc/passwd", None, "csv", "etc-passwd.csv"),
        ("  --Lost--  ", None, "csv", "lost.csv"),
        ("", None, "csv", "segment.csv"),
        ("日本の顧客", ANALYSIS_DATE, "csv", "segment_2011-12-09.csv"),
        ("CON", None, "csv", "con-segment.csv"),
        ("=1+1", None, "csv", "1-1.csv"),
    ],
)
def test_export_file_name(segment, date, extension, expected):
    assert export_file_name(segment, date, extension) == expected


def test_export_file_name_caps_long_names():
    name = export_file_name("Very " * 30, ANALYSIS_DATE, "csv")
    stem = name.removesuffix("_2011-12-09.csv")
    assert len(stem) <= 60 and not stem.endswith("-") and stem.startswith("very-very-")


def test_export_file_name_refuses_a_path_as_extension():
    with pytest.raises(RFMInputError, match=r"File extension '/\.\./csv' should be letters or digits"):
        export_file_name("Lost", None, "/../csv")


# --------------------------------------------------------------------------------------------- CSV


def test_csv_has_bom_ids_first_and_keeps_accents_and_leading_zeros():
    data = csv_bytes(TINY)
    assert data.startswith(BOM)
    text = data.decode("utf-8-sig")
    assert "Côte d'Ivoire" in text and "Zürich fans" in text
    back = read_csv(data)
    assert list(back.columns) == [schema.CUSTOMER_ID, *TINY.columns]
    assert list(back[schema.CUSTOMER_ID]) == ["00123", "'-42", "007", "A-9"]
    assert list(back[schema.COUNTRY]) == ["Côte d'Ivoire", "", "'@home", "Zürich"]


def test_csv_formats_money_dates_and_na_and_leaves_negative_numbers():
    back = read_csv(csv_bytes(TINY))
    assert list(back[schema.MONETARY]) == ["5.25", "-3.00", "10.50", "200.00"]
    assert list(back[schema.FREQUENCY]) == ["1", "-2", "12", "4"]
    assert list(back["cluster"]) == ["1", "1", "", "0"]
    assert list(back[schema.LAST_PURCHASE]) == ["2011-12-06 10:30:00", "2011-10-30 08:00:00", "", "2011-12-09 17:45:00"]


def test_csv_rounds_money_to_two_decimals_without_negative_zero():
    frame = pd.DataFrame(
        {
            schema.MONETARY: [1.005, -0.001, 2.0 / 3],
            schema.AVG_ORDER_VALUE: [1e6, np.nan, 0.125],
            "ratio": [0.5, 0.25, 1.0],
        },
        index=pd.Index(["a", "b", "c"], name=schema.CUSTOMER_ID),
    )
    back = read_csv(csv_bytes(frame))
    assert list(back[schema.MONETARY]) == ["1.00", "0.00", "0.67"]  # 1.005 is 1.00499... in binary
    assert list(back[schema.AVG_ORDER_VALUE]) == ["1000000.00", "", "0.12"]
    assert list(back["ratio"]) == ["0.5", "0.25", "1.0"]  # not money: left as it is


def test_csv_neutralises_every_prefix_in_ids_and_every_text_column():
    back = read_csv(csv_bytes(risky_list()))
    expected = ["'" + text for text in RISKY]
    for column in (schema.CUSTOMER_ID, "note", schema.COUNTRY, "remark"):
        assert list(back[column]) == expected, column
    assert set(back[schema.MONETARY]) == {"-1.50"} and set(back[schema.FREQUENCY]) == {"-7"}


def test_csv_columns_in_the_given_order():
    back = read_csv(csv_bytes(TINY, [schema.MONETARY, schema.CUSTOMER_ID, schema.RECENCY, schema.MONETARY]))
    assert list(back.columns) == [schema.CUSTOMER_ID, schema.MONETARY, schema.RECENCY]


def test_csv_unknown_columns_are_named_with_the_available_ones():
    with pytest.raises(RFMInputError, match=r"Unknown columns 'spend', 'email': choose among recency_days, frequency"):
        csv_bytes(TINY, [schema.RECENCY, "spend", "email"])
    with pytest.raises(RFMInputError, match=r"Unknown column 'spend': choose among"):
        csv_bytes(TINY, "spend")


# --------------------------------------------------------------------------------------------- segment files and ZIP


def test_segment_files_one_per_segment_by_revenue():
    files = segment_files(TINY, analysis_date=ANALYSIS_DATE)
    assert list(files) == ["zurich-fans_2011-12-09.csv", "1-1_2011-12-09.csv"]
    zurich, formula = (read_csv(data) for data in files.values())
    assert list(zurich[schema.CUSTOMER_ID]) == ["007", "A-9"]
    assert list(formula[schema.CUSTOMER_ID]) == ["00123", "'-42"]
    assert set(formula[SEGMENT_NAME]) == {"'=1+1"}


def test_segment_files_honour_columns_and_segment_choice():
    files = segment_files(TINY, columns=[schema.MONETARY, schema.COUNTRY], segments=["=1+1"])
    assert list(files) == ["1-1.csv"]
    back = read_csv(files["1-1.csv"])
    assert list(back.columns) == [schema.CUSTOMER_ID, schema.MONETARY, schema.COUNTRY]
    assert list(back[schema.MONETARY]) == ["5.25", "-3.00"]


def test_segment_files_same_slug_does_not_overwrite():
    frame = pd.DataFrame(
        {schema.MONETARY: [30.0, 20.0, 10.0], SEGMENT_NAME: ["Top!", "top?", "TOP"]},
        index=pd.Index(["a", "b", "c"], name=schema.CUSTOMER_ID),
    )
    files = segment_files(frame)
    assert list(files) == ["top.csv", "top-2.csv", "top-3.csv"]
    assert [read_csv(data)[schema.CUSTOMER_ID].tolist() for data in files.values()] == [["a"], ["b"], ["c"]]


def test_customers_without_a_segment_get_their_own_list():
    frame = pd.DataFrame(
        {schema.MONETARY: [1.0, 2.0], SEGMENT_NAME: pd.array(["Lost", pd.NA], dtype="string")},
        index=pd.Index(["a", "b"], name=schema.CUSTOMER_ID),
    )
    files = segment_files(frame)
    assert list(files) == ["no-segment.csv", "lost.csv"]
    assert read_csv(files["no-segment.csv"])[schema.CUSTOMER_ID].tolist() == ["b"]
    assert list(segment_files(frame, segments=[NO_SEGMENT])) == ["no-segment.csv"]


def test_segment_files_unknown_segment():
    message = r"Unknown segment 'Gold' in 'segment_name': choose among 'Zürich fans', '=1\+1'"
    with pytest.raises(RFMInputError, match=message):
        segment_files(TINY, segments=["Zürich fans", "Gold"])


def test_segment_files_empty_selection():
    with pytest.raises(RFMInputError, match="choose at least one segment"):
        segment_files(TINY, segments=[])


def test_segment_files_unknown_split_and_column():
    message = r"Cannot split customers by 'country': choose 'segment_name' or 'rfm_segment'"
    with pytest.raises(RFMInputError, match=message):
        segment_files(TINY, by=schema.COUNTRY)
    with pytest.raises(RFMInputError, match=r"The customer list has no 'rfm_segment' column"):
        segment_files(TINY, by=RFM_SEGMENT)
    with pytest.raises(RFMInputError, match=r"Unknown column 'email'"):
        segment_files(TINY, columns=["email"])


def test_segment_files_empty_list():
    with pytest.raises(RFMInputError, match="The customer list is empty"):
        segment_files(TINY.iloc[:0])


def test_zip_holds_exactly_the_files():
    files = segment_files(TINY, analysis_date=ANALYSIS_DATE)
    with zipfile.ZipFile(io.BytesIO(zip_bytes(files))) as archive:
        assert archive.namelist() == list(files)
        assert {info.compress_type for info in archive.infolist()} == {zipfile.ZIP_DEFLATED}
        assert {name: archive.read(name) for name in archive.namelist()} == files


# --------------------------------------------------------------------------------------------- workbook, tiny


@pytest.fixture(scope="module")
def tiny_book():
    return read_workbook(workbook_bytes(TINY, analysis_date=ANALYSIS_DATE, title="=Segments"))


@pytest.mark.slow
def test_workbook_reports_its_progress_and_counts_its_cells():
    many = pd.concat([TINY] * 2_500, ignore_index=False)
    many.index = pd.Index([f"c{i}" for i in range(len(many))], name=schema.CUSTOMER_ID)
    shares = []
    book = read_workbook(workbook_bytes(many, progress=shares.append))
    assert shares == sorted(shares) and shares[-1] == 1.0
    # A report every PROGRESS_ROWS rows, and one more at the end of each sheet: at most one extra per sheet.
    assert len(many) // PROGRESS_ROWS <= len(shares) <= len(many) // PROGRESS_ROWS + len(book.worksheets) - 1
    assert sum(sheet.max_row - 1 for sheet in book.worksheets[1:]) == len(many)
    assert workbook_cells(many) == len(many) * (1 + len(TINY.columns))
    assert workbook_cells(many, columns=[SEGMENT_NAME], segments=["Zürich fans"]) == 2 * (many[SEGMENT_NAME] == "Zürich fans").sum()


def test_workbook_sheets_summary_then_segments_by_revenue(tiny_book):
    assert tiny_book.sheetnames == ["Summary", "Zürich fans", "=1+1"]


def test_workbook_segment_sheet_cells(tiny_book):
    sheet = tiny_book["Zürich fans"]
    assert sheet_rows(sheet) == [
        [schema.CUSTOMER_ID, *TINY.columns],
        ["007", 7, 12, 10.5, "Zürich fans", "Say hi", "'@home", None, None],
        ["A-9", 0, 4, 200, "Zürich fans", "Say hi", "Zürich", 0, dt.datetime(2011, 12, 9, 17, 45)],
    ]
    formats = [cell.number_format for cell in sheet[3]]
    assert formats == ["@", "#,##0", "#,##0", "#,##0.00", "General", "General", "General", "#,##0", "yyyy-mm-dd hh:mm"]
    types = [cell.data_type for cell in sheet[3]]
    assert types == ["s", "n", "n", "n", "s", "s", "s", "n", "d"]
    assert all(cell.font.b for cell in sheet[1])


def test_workbook_ids_are_text_with_leading_zeros_and_negatives_stay_numbers(tiny_book):
    sheet = tiny_book["=1+1"]
    ids = [sheet.cell(row, 1) for row in (2, 3)]
    assert [(c.value, c.data_type, c.number_format) for c in ids] == [("00123", "s", "@"), ("'-42", "s", "@")]
    frequency, monetary = sheet["C3"], sheet["D3"]
    assert (frequency.value, frequency.data_type) == (-2, "n") and isinstance(frequency.value, int)
    assert (monetary.value, monetary.data_type, monetary.number_format) == (-3, "n", "#,##0.00")
    assert sheet["H2"].value == 1 and sheet["G3"].value is None  # cluster 1; country <NA> is an empty cell


def test_workbook_segment_sheet_settings(tiny_book):
    sheet = tiny_book["Zürich fans"]
    assert sheet.freeze_panes == "A2"
    assert sheet.auto_filter.ref == "A1:I3"
    widths = {letter: shown_width(sheet, letter) for letter in "ABCDEFGHI"}
    assert all(10 <= width <= 60 for width in widths.values())
    assert widths["A"] == len("customer_id") + 2  # the header is the widest
    assert widths["G"] == 10  # "country", "'@home", "Zürich": the minimum
    assert shown_width(tiny_book["=1+1"], "G") == len("Côte d'Ivoire") + 2  # fitted per sheet
    assert widths["I"] == len("2011-12-09 17:45") + 2  # a date as the format shows it


def test_workbook_summary_facts_and_segment_table(tiny_book):
    sheet = tiny_book["Summary"]
    rows = sheet_rows(sheet)
    assert rows[0][0] == "'=Segments"  # even the title is neutralised
    facts = {row[0]: row[1] for row in rows[2:7]}
    assert facts == {
        "Analysis date": dt.datetime(2011, 12, 9),
        "Lists split by": "Segment (cluster) name",
        "Customers": 4,
        "Revenue": 212.75,
        "Segments exported": "2 of 2",
    }
    assert sheet["B3"].number_format == "yyyy-mm-dd" and sheet["B6"].number_format == "#,##0.00"
    header = rows.index(["segment", "customers", "customer_share", "revenue", "revenue_share", "action"])
    assert all(cell.font.b for cell in sheet[header + 1])
    assert rows[header + 1] == ["Zürich fans", 2, 0.5, 210.5, pytest.approx(210.5 / 212.75), "Say hi"]
    assert rows[header + 2] == ["'=1+1", 2, 0.5, 2.25, pytest.approx(2.25 / 212.75), "'+call them"]
    shares = [sheet.cell(header + 2, column).number_format for column in (2, 3, 4, 5)]
    assert shares == ["#,##0", "0.0%", "#,##0.00", "0.0%"]


@pytest.mark.parametrize("prefix", FORMULA_PREFIXES)
def test_workbook_neutralises_every_prefix(prefix):
    frame = risky_list()
    sheet = read_workbook(workbook_bytes(frame))["Risky"]
    row = 2 + FORMULA_PREFIXES.index(prefix)
    for column in (1, 5, 6, 7):  # customer_id, note, country, remark
        cell = sheet.cell(row, column)
        assert (shown(cell.value), cell.data_type) == (f"'{prefix}1+1", "s")
    assert (sheet.cell(row, 2).value, sheet.cell(row, 3).value) == (-1.5, -7)


def test_workbook_formula_text_is_a_string_cell_not_a_formula(tiny_book):
    cell = tiny_book["=1+1"]["E2"]
    assert (cell.value, cell.data_type) == ("'=1+1", "s")


def test_workbook_drops_xml_illegal_characters_before_neutralising():
    ids = pd.Index(["a"], name=schema.CUSTOMER_ID)
    # A lone surrogate fits only an object column: Arrow-backed text cannot hold it.
    note = pd.Series(["\x01=1+1\x1f\uffff\ud800"], index=ids, dtype=object)
    frame = pd.DataFrame({schema.MONETARY: [1.0], SEGMENT_NAME: ["Lost"], "note": note}, index=ids)
    cell = read_workbook(workbook_bytes(frame))["Lost"]["D2"]
    assert (cell.value, cell.data_type) == ("'=1+1", "s")


@pytest.mark.parametrize(
    "text",
    ["<r>a & b</r>", "<r></r>", "<r><t>x</t></r>", "_x0041_", "a\r\nb", " padded ", "<b>&amp;</b>", "日本 😀"],
)
def test_workbook_text_reads_back_as_written(text):
    # XlsxWriter takes "<r>...</r>" for its own rich-text XML and escapes "_xHHHH_" and "\r": none may leak.
    frame = pd.DataFrame(
        {schema.MONETARY: [1.0], SEGMENT_NAME: [text], "note": [text]},
        index=pd.Index([text], name=schema.CUSTOMER_ID),
    )
    book = read_workbook(workbook_bytes(frame, title=text))
    sheet = book.worksheets[1]
    for cell in (sheet["A2"], sheet["C2"], sheet["D2"]):  # id, segment, note
        assert (shown(cell.value), cell.data_type) == (text, "s")
    assert sheet["A2"].number_format == "@"
    assert shown(book["Summary"]["A1"].value) == text


def test_workbook_other_cell_types():
    frame = pd.DataFrame(
        {
            schema.MONETARY: [np.inf, np.nan],
            SEGMENT_NAME: ["Lost", "Lost"],
            "flag": [True, False],
            "when": pd.to_datetime(["2011-12-09 12:19", None]).tz_localize("Europe/Paris"),
            "mixed": [dt.date(2011, 12, 9), -5],
            "long": ["x" * 40_000, ""],
        },
        index=pd.Index(["a", "b"], name=schema.CUSTOMER_ID),
    )
    sheet = read_workbook(workbook_bytes(frame))["Lost"]
    first, second = sheet[2], sheet[3]
    assert first[1].value is None and second[1].value is None  # inf and NaN: empty cells, not "inf"/"nan"
    assert (first[3].value, first[3].data_type, second[3].value) == (True, "b", False)
    assert (first[4].value, first[4].number_format) == (dt.datetime(2011, 12, 9, 12, 19), "yyyy-mm-dd hh:mm")
    assert second[4].value is None
    assert (first[5].value, first[5].number_format) == (dt.datetime(2011, 12, 9), "yyyy-mm-dd")
    assert (second[5].value, second[5].data_type) == (-5, "n")
    assert len(first[6].value) == 32_767  # the most an Excel cell holds
    assert shown_width(sheet, "G") == 60
    summary = read_workbook(workbook_bytes(frame))["Summary"]
    assert (summary["A5"].value, summary["B5"].value) == ("Revenue", None)  # an infinite total: empty, not "inf"


def test_workbook_caps_text_as_excel_counts_characters():
    # Excel counts UTF-16 units: an emoji is two, so 20,000 of them hold 16,383 (and no half of one).
    frame = pd.DataFrame(
        {schema.MONETARY: [1.0], SEGMENT_NAME: ["Lost"], "long": ["😀" * 20_000]},
        index=pd.Index(["a"], name=schema.CUSTOMER_ID),
    )
    assert read_workbook(workbook_bytes(frame))["Lost"]["D2"].value == "😀" * 16_383


@pytest.mark.parametrize(
    ("segments", "sheets"),
    [
        (["Lost", "LOST", "lost"], ["Lost", "LOST (2)", "lost (3)"]),
        (["a/b:c*d?[e]\\f"], ["a-b-c-d--e--f"]),
        (["'Quoted'"], ["Quoted"]),
        (["Summary", "history"], ["Summary (2)", "history (2)"]),
        (["x" * 40, "x" * 40 + "y"], ["x" * 31, "x" * 27 + " (2)"]),
        (["''", "?"], ["Segment", "-"]),
        (["😀" * 20, "😀" * 16], ["😀" * 15, "😀" * 13 + " (2)"]),  # 31 UTF-16 units at most, as Excel counts
    ],
)
def test_workbook_sheet_names_are_valid_and_unique(segments, sheets):
    revenue = np.arange(len(segments), 0, -1, dtype=float)  # keeps the given order
    frame = pd.DataFrame(
        {schema.MONETARY: revenue, SEGMENT_NAME: segments},
        index=pd.Index([f"c{i}" for i in range(len(segments))], name=schema.CUSTOMER_ID),
    )
    assert read_workbook(workbook_bytes(frame)).sheetnames == ["Summary", *sheets]


def test_workbook_honours_columns_and_segments(tiny_book):
    book = read_workbook(workbook_bytes(TINY, columns=[schema.COUNTRY, schema.MONETARY], segments=["=1+1"]))
    assert book.sheetnames == ["Summary", "=1+1"]
    assert sheet_rows(book["=1+1"]) == [
        [schema.CUSTOMER_ID, schema.COUNTRY, schema.MONETARY],
        ["00123", "Côte d'Ivoire", 5.25],
        ["'-42", None, -3],
    ]
    summary = sheet_rows(book["Summary"])
    assert summary[2][0] == "Lists split by"  # no analysis date given: no line for it
    assert summary[5][:2] == ["Segments exported", "1 of 2"]
    assert summary[3][:2] == ["Customers", 4]  # the whole list: the shares below are of it
    assert summary[-1][:3] == ["'=1+1", 2, 0.5]


def test_workbook_errors():
    with pytest.raises(RFMInputError, match="choose at least one segment"):
        workbook_bytes(TINY, segments=[])
    with pytest.raises(RFMInputError, match=r"Unknown segment 'Gold'"):
        workbook_bytes(TINY, segments=["Gold"])
    with pytest.raises(RFMInputError, match=r"Unknown column 'email': choose among recency_days"):
        workbook_bytes(TINY, columns=["email"])


TEXT = st.text(
    alphabet=st.sampled_from([*FORMULA_PREFIXES, "'", '"', ",", ";", "\n", " ", "a", "é", "€", "<", "&", "0"]),
    min_size=1,
    max_size=8,
)


@pytest.mark.slow
@given(st.lists(TEXT, min_size=1, max_size=5))
@settings(max_examples=30, deadline=None, derandomize=True)
def test_any_text_reads_back_neutralised_from_csv_and_workbook(texts):
    frame = pd.DataFrame(
        {schema.MONETARY: [1.0] * len(texts), SEGMENT_NAME: ["S"] * len(texts), "note": texts},
        index=pd.Index([f"c{i}" for i in range(len(texts))], name=schema.CUSTOMER_ID),
    )
    expected = [neutralise(text) for text in texts]
    assert read_csv(csv_bytes(frame))["note"].tolist() == expected
    cells = [row[3] for row in sheet_rows(read_workbook(workbook_bytes(frame))["S"])[1:]]
    assert cells == expected


# --------------------------------------------------------------------------------------------- demo data


@pytest.fixture(scope="module")
def demo():
    from rfm.cleaning.analyse import analyse_file
    from rfm.clustering.fit import ClusterSettings, fit_clusters
    from rfm.demo import DEMO_PATH
    from rfm.outputs.lists import labelled_customers
    from rfm.scoring.classic import segment_customers

    analysis = analyse_file(DEMO_PATH)
    segmentation = segment_customers(analysis.customers)
    clusters = fit_clusters(segmentation.customers, ClusterSettings(), 4)
    labelled = labelled_customers(
        segmentation.customers, clusters.customers, analysis.customer_country, segmentation.info
    )
    return analysis, clusters, labelled


@pytest.mark.slow
@pytest.mark.parametrize("by", [SEGMENT_NAME, RFM_SEGMENT])
def test_demo_segment_files_cover_every_customer_once(demo, by):
    analysis, _, labelled = demo
    files = segment_files(labelled, by=by, analysis_date=analysis.report.analysis_date)
    revenue = labelled.groupby(by)[schema.MONETARY].sum().sort_values(ascending=False)
    assert list(files) == [export_file_name(name, analysis.report.analysis_date, "csv") for name in revenue.index]
    counts = labelled[by].value_counts()
    for name, data in zip(revenue.index, files.values()):
        back = read_csv(data)
        assert len(back) == counts[name]
        assert set(back[by]) == {name}
    ids = pd.concat([read_csv(data)[schema.CUSTOMER_ID] for data in files.values()])
    assert sorted(ids) == sorted(labelled.index)


def test_demo_rfm_split_file_names(demo):
    analysis, _, labelled = demo
    files = segment_files(labelled, by=RFM_SEGMENT, analysis_date=analysis.report.analysis_date)
    assert "cant-lose-them_2011-12-09.csv" in files
    assert zip_bytes(files) and len(zipfile.ZipFile(io.BytesIO(zip_bytes(files))).namelist()) == len(files)


@pytest.fixture(scope="module")
def demo_book(demo):
    analysis, clusters, labelled = demo
    data = workbook_bytes(
        labelled,
        analysis_date=analysis.report.analysis_date,
        profiles=clusters.profiles,
        ledger=analysis.report.ledger_frame(),
    )
    return read_workbook(data)


@pytest.mark.slow
def test_demo_workbook_sheets_and_rows(demo, demo_book):
    _, _, labelled = demo
    revenue = labelled.groupby(SEGMENT_NAME)[schema.MONETARY].sum().sort_values(ascending=False)
    assert demo_book.sheetnames == ["Summary", *revenue.index]
    counts = labelled[SEGMENT_NAME].value_counts()
    for name in revenue.index:
        sheet = demo_book[name]
        assert sheet.max_row == counts[name] + 1
        assert sheet.max_column == len(labelled.columns) + 1
        assert sheet.freeze_panes == "A2"
        assert sheet.auto_filter.ref == f"A1:U{counts[name] + 1}"  # customer_id and 20 columns (lifecycle_stage the 20th)


def test_demo_workbook_cell_types(demo, demo_book):
    _, _, labelled = demo
    sheet = demo_book.worksheets[1]
    header = [cell.value for cell in sheet[1]]
    assert header == [schema.CUSTOMER_ID, *labelled.columns]
    first = dict(zip(header, sheet[2]))
    customer = labelled.loc[first[schema.CUSTOMER_ID].value]
    expected_formats = {
        schema.CUSTOMER_ID: "@",
        schema.RECENCY: "#,##0",
        schema.FREQUENCY: "#,##0",
        "r_score": "#,##0",
        "cluster": "#,##0",
        schema.MONETARY: "#,##0.00",
        schema.AVG_ORDER_VALUE: "#,##0.00",
        schema.HISTORICAL_CLV: "#,##0.00",
        schema.FIRST_PURCHASE: "yyyy-mm-dd hh:mm",
        schema.LAST_PURCHASE: "yyyy-mm-dd hh:mm",
        "rfm_cell": "General",
    }
    for column, number_format in expected_formats.items():
        assert first[column].number_format == number_format, column
    assert first[schema.RECENCY].value == customer[schema.RECENCY] and isinstance(first[schema.RECENCY].value, int)
    assert first[schema.MONETARY].value == pytest.approx(customer[schema.MONETARY])
    assert first[schema.LAST_PURCHASE].value == customer[schema.LAST_PURCHASE].to_pydatetime()
    assert first[schema.LAST_PURCHASE].data_type == "d"
    assert first["rfm_cell"].value == customer["rfm_cell"] and first["rfm_cell"].data_type == "s"
    widths = [shown_width(sheet, openpyxl.utils.get_column_letter(i)) for i in range(1, len(header) + 1)]
    assert all(10 <= width <= 60 for width in widths)
    assert max(widths) == 60  # the recommended actions are long sentences: capped


def test_demo_workbook_summary_tables(demo, demo_book):
    analysis, clusters, labelled = demo
    rows = sheet_rows(demo_book["Summary"])
    assert rows[2][:2] == ["Analysis date", dt.datetime(2011, 12, 9)]
    assert rows[4][:2] == ["Customers", len(labelled)]
    assert rows[5][1] == pytest.approx(labelled[schema.MONETARY].sum(), abs=0.005)
    expected = ["Segments", "Cluster profiles", "Cleaning rules (rows and revenue removed)"]
    assert [row[0] for row in rows if row[0] in expected] == expected
    profiles_header = rows.index(next(row for row in rows if row[:3] == ["cluster", "size", "share"]))
    profile_rows = rows[profiles_header + 1 : profiles_header + 1 + len(clusters.profiles)]
    assert [row[0] for row in profile_rows] == list(clusters.profiles.index)
    assert [row[1] for row in profile_rows] == clusters.profiles["size"].tolist()
    share = demo_book["Summary"].cell(profiles_header + 2, 3)
    assert share.number_format == "0.0%" and share.value == pytest.approx(clusters.profiles["share"].iloc[0])
    ledger = analysis.report.ledger_frame()
    ledger_header = rows.index(next(row for row in rows if row[:4] == ["rule", "description", "rows", "revenue"]))
    ledger_rows = rows[ledger_header + 1 : ledger_header + 1 + len(ledger)]
    assert [row[0] for row in ledger_rows] == ledger["rule"].tolist()
    assert [row[2] for row in ledger_rows] == ledger["rows"].tolist()
    assert len(rows) == ledger_header + 1 + len(ledger)


def test_workbook_summary_counts_customers_and_revenue_per_lifecycle_stage():
    staged = TINY.assign(**{schema.LIFECYCLE_STAGE: pd.Categorical(["New", "Lost", "Active", "Active"], categories=schema.LIFECYCLE_STAGES)})
    book = read_workbook(workbook_bytes(staged, analysis_date=ANALYSIS_DATE))
    rows = sheet_rows(book["Summary"])
    caption = rows.index(["Lifecycle stages (all customers)", None, None, None, None, None])
    assert rows[caption + 1][:5] == ["lifecycle_stage", "customers", "customer_share", "revenue", "revenue_share"]
    # Revenue: New 5.25, Lost -3, Active 10.5 + 200 = 210.5; every stage listed, in order, the empty ones with zeros.
    assert [row[:4] for row in rows[caption + 2 : caption + 7]] == [
        ["New", 1, 0.25, 5.25], ["Active", 2, 0.5, 210.5], ["At risk", 0, 0, 0], ["Lapsed", 0, 0, 0], ["Lost", 1, 0.25, -3],
    ]
    assert rows[caption + 3][4] == pytest.approx(210.5 / 212.75)
    sheet = book["Zürich fans"]
    header = [cell.value for cell in sheet[1]]
    assert schema.LIFECYCLE_STAGE in header and sheet.cell(2, header.index(schema.LIFECYCLE_STAGE) + 1).value == "Active"
    assert "Lifecycle stages (all customers)" not in [row[0] for row in sheet_rows(read_workbook(workbook_bytes(TINY))["Summary"])]


# --------------------------------------------------------------------------------------------- email and phone

CONTACT_LIST = TINY.assign(
    **{
        schema.EMAIL: pd.array(["a@example.com", pd.NA, "=c@example.com", "d@example.com"], dtype="string"),
        schema.PHONE: pd.array(["+44 7700 900123", "(020) 7946 0018", pd.NA, "+1 =cmd|' /C calc'!A0"], dtype="string"),
    }
)[[schema.EMAIL, schema.PHONE, *TINY.columns]]


def test_csv_keeps_email_and_phone_after_the_id_and_the_plus_of_a_phone():
    back = read_csv(csv_bytes(CONTACT_LIST))
    assert list(back.columns)[:3] == [schema.CUSTOMER_ID, schema.EMAIL, schema.PHONE]
    assert back[schema.EMAIL].tolist() == ["a@example.com", "", "'=c@example.com", "d@example.com"]
    # A phone made of digits and punctuation keeps its "+" (ad platforms want it); anything else is neutralised.
    assert back[schema.PHONE].tolist() == ["+44 7700 900123", "(020) 7946 0018", "", "'+1 =cmd|' /C calc'!A0"]


def test_segment_files_and_workbook_carry_email_and_phone_first():
    files = segment_files(CONTACT_LIST, analysis_date=ANALYSIS_DATE)
    for data in files.values():
        assert list(read_csv(data).columns)[:3] == [schema.CUSTOMER_ID, schema.EMAIL, schema.PHONE]
    book = read_workbook(workbook_bytes(CONTACT_LIST, analysis_date=ANALYSIS_DATE))
    rows = sheet_rows(book["Zürich fans"])
    assert rows[0][:3] == [schema.CUSTOMER_ID, schema.EMAIL, schema.PHONE]
    assert rows[1][:3] == ["007", "'=c@example.com", None]
    assert rows[2][:3] == ["A-9", "d@example.com", "'+1 =cmd|' /C calc'!A0"]
    assert sheet_rows(book["=1+1"])[1][:3] == ["00123", "a@example.com", "+44 7700 900123"]
