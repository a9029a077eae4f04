"""Downloads a marketer opens in Excel: one CSV per segment, a ZIP of them, and one workbook.

Everything here is cut from the labelled customer list (:func:`rfm.outputs.lists.labelled_customers`): a frame
indexed by ``customer_id`` (text) with columns among :data:`rfm.outputs.lists.LABELLED_COLUMNS`.

Two promises hold for every file:

- **No formula injection** (OWASP "CSV injection"): a text cell that starts with ``=``, ``+``, ``-``, ``@``,
  tab or carriage return gets a leading ``'``, in CSV and workbook alike, ids and headers included.
  Numbers are never text, so a negative number stays a number.
- **Excel reads it as written**: CSV is UTF-8 with a BOM (accents survive a double-click), ids stay text
  (``00123`` keeps its zeros), and the workbook holds real numbers and dates with number formats.

XlsxWriter is imported lazily: only the workbook needs it.
"""

from __future__ import annotations

import datetime as dt
import io
import math
import re
import unicodedata
import zipfile
from collections.abc import Callable, Iterable, Mapping, Sequence
from functools import partial
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from rfm import schema
from rfm.errors import RFMInputError
from rfm.outputs.lists import SPLITS, segment_sizes
from rfm.schema import SEGMENT_NAME

if TYPE_CHECKING:
    from rfm.trends.kpis import SegmentKPIs

#: Text starting with one of these is read as a formula by spreadsheet programs (OWASP list).
FORMULA_PREFIXES: tuple[str, ...] = ("=", "+", "-", "@", "\t", "\r")
#: Columns holding amounts of money: two decimals in CSV, ``#,##0.00`` in the workbook.
MONEY_COLUMNS: tuple[str, ...] = (
    schema.MONETARY, schema.AVG_ORDER_VALUE, schema.HISTORICAL_CLV,
    # migration lists (rfm.trends.migration) and predicted value (rfm.value.models)
    "monetary_from", "monetary_to", "revenue_between", "expected_order_value", "predicted_clv",
)
#: The list a customer without a segment value is put in (nobody is dropped from a download).
NO_SEGMENT = "(no segment)"
SUMMARY_SHEET = "Summary"

CSV_DATE_FORMAT = "%Y-%m-%d %H:%M:%S"
XLSX_COUNT_FORMAT = "#,##0"
XLSX_MONEY_FORMAT = "#,##0.00"
XLSX_SHARE_FORMAT = "0.0%"
XLSX_DATETIME_FORMAT = "yyyy-mm-dd hh:mm"
XLSX_DATE_FORMAT = "yyyy-mm-dd"
XLSX_TEXT_FORMAT = "@"

MAX_SLUG_LENGTH = 60
MIN_COLUMN_WIDTH, MAX_COLUMN_WIDTH = 10, 60
MAX_SHEET_NAME = 31
EXCEL_MAX_ROWS = 1_048_576
EXCEL_MAX_TEXT = 32_767
#: A workbook's writer reports progress every this many customer rows.
PROGRESS_ROWS = 2_000
#: About this many cells a second go into a workbook (XlsxWriter on one core, as measured in bench/RESULTS.md): what
#: the app tells a user to expect.
WORKBOOK_CELLS_PER_SECOND = 60_000
# Names Windows refuses for a file whatever its extension ("con.csv" cannot be saved).
_WINDOWS_RESERVED = {"con", "prn", "aux", "nul", *(f"com{i}" for i in range(1, 10)), *(f"lpt{i}" for i in range(1, 10))}
# Excel refuses "History" as a sheet name; "Summary" is ours.
_RESERVED_SHEETS = {SUMMARY_SHEET.lower(), "history"}
_SHEET_FORBIDDEN = re.compile(r"[\[\]:*?/\\]")
# Characters XML 1.0 cannot hold (control characters, lone surrogates, U+FFFE, U+FFFF), dropped from workbook
# text and sheet names: nothing a spreadsheet shows, and a lone surrogate cannot even be encoded.
# A phone number as ad platforms take it: it starts with "+" but, made of digits and punctuation, calls nothing.
_PLAIN_PHONE = re.compile(r"^\+[\d ().-]+$")
_XML_ILLEGAL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


# --------------------------------------------------------------------------------------------- injection


def neutralise(value: str) -> str:
    """Make one text value safe to open in a spreadsheet: prefix ``'`` when it could start a formula.

    >>> neutralise("=1+1"), neutralise("-42"), neutralise("Zürich")
    ("'=1+1", "'-42", 'Zürich')
    """
    return "'" + value if value.startswith(FORMULA_PREFIXES) else value


def _is_text_dtype(dtype: Any) -> bool:
    return pd.api.types.is_object_dtype(dtype) or isinstance(dtype, (pd.StringDtype, pd.CategoricalDtype))


def _neutralise_series(values: pd.Series, safe: re.Pattern | None = None) -> pd.Series:
    """The series with every text cell neutralised; non-text cells (numbers in an object column, NA) and text
    matching ``safe`` kept."""
    risky = np.fromiter(
        (isinstance(v, str) and v.startswith(FORMULA_PREFIXES) and not (safe and safe.match(v)) for v in values),
        dtype=bool,
        count=len(values),
    )
    if not risky.any():
        return values
    if isinstance(values.dtype, pd.CategoricalDtype):  # "'=a" may already be a category: plain text is simpler
        values = values.astype(object)
    out = values.copy()
    out[risky] = "'" + values[risky]
    return out


def neutralise_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """Neutralise every text cell of a frame, its index (the customer ids) and its column names.

    Parameters
    ----------
    frame : DataFrame
        Any table; text columns are those of dtype ``object``, ``str``/``string`` or ``category``.

    Returns
    -------
    DataFrame of the same shape, dtypes and order: text starting with ``= + - @``, tab or carriage return
    prefixed with ``'``. Numbers (negative ones too), dates, booleans and NA are left as they are, and so is an
    international phone number in the ``phone`` column (``+44 7700 900123``: digits, spaces and ``( ) - .`` only,
    which can call no function), which ad platforms expect with its ``+``.
    """
    out = frame.copy()
    for position, dtype in enumerate(frame.dtypes):
        if _is_text_dtype(dtype):
            safe = _PLAIN_PHONE if frame.columns[position] == schema.PHONE else None
            out.isetitem(position, _neutralise_series(frame.iloc[:, position], safe))
    if not isinstance(frame.index, pd.MultiIndex) and _is_text_dtype(frame.index.dtype):
        ids = _neutralise_series(pd.Series(frame.index, dtype=frame.index.dtype))
        out.index = pd.Index(ids, name=frame.index.name)
    out.columns = [neutralise(c) if isinstance(c, str) else c for c in frame.columns]
    return out


# --------------------------------------------------------------------------------------------- file names


def _slug(text: str) -> str:
    """Lower-case ASCII words joined by ``-``: accents folded, apostrophes dropped ("Can't" -> "cant")."""
    folded = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii").lower()
    folded = folded.replace("'", "")
    slug = re.sub(r"[^a-z0-9]+", "-", folded).strip("-")
    slug = slug[:MAX_SLUG_LENGTH].rstrip("-") or "segment"
    return f"{slug}-segment" if slug in _WINDOWS_RESERVED else slug


def _file_name(stem: str, analysis_date: dt.date | None, extension: str) -> str:
    clean_extension = extension.lstrip(".").lower()
    if not re.fullmatch(r"[a-z0-9]{1,10}", clean_extension):
        raise RFMInputError(f"File extension {extension!r} should be letters or digits, such as 'csv' or 'xlsx'.")
    dated = f"{stem}_{analysis_date.strftime('%Y-%m-%d')}" if analysis_date is not None else stem
    return f"{dated}.{clean_extension}"


def export_file_name(segment: str, analysis_date: dt.date | None, extension: str) -> str:
    """A file name for one list, safe on Windows, macOS and Linux.

    Parameters
    ----------
    segment : str
        The segment (or any title); folded to lower-case ASCII words joined by ``-``, at most 60 characters,
        ``"segment"`` when nothing is left.
    analysis_date : date, optional
        Appended as ``_YYYY-MM-DD`` when given.
    extension : str
        ``"csv"``, ``"xlsx"``, ... (a leading dot is ignored).

    Returns
    -------
    str, such as ``"cant-lose-them_2011-12-09.csv"`` for ``("Can't Lose Them", date(2011, 12, 9), "csv")``.
    """
    return _file_name(_slug(segment), analysis_date, extension)


# --------------------------------------------------------------------------------------------- selection


def select_columns(frame: pd.DataFrame, columns: Sequence[str] | None = None) -> pd.DataFrame:
    """The columns of a download, validated: the one check shared by the CSV and workbook writers.

    Parameters
    ----------
    frame : DataFrame
        The labelled customer list (or a slice of it), indexed by customer id.
    columns : sequence of str, optional
        Columns to keep, in the order the file shows them; ``None`` keeps all. ``customer_id`` is always
        the first column of a file (it is the index), so naming it here changes nothing.

    Returns
    -------
    DataFrame with the chosen columns, indexed by ``customer_id``.

    Raises
    ------
    RFMInputError
        Naming every unknown column and listing the available ones.
    """
    if columns is None:
        chosen = list(frame.columns)
    else:
        if isinstance(columns, str):  # one name, not its letters
            columns = [columns]
        chosen = list(dict.fromkeys(c for c in columns if c != schema.CUSTOMER_ID))
        unknown = [c for c in chosen if c not in frame.columns]
        if unknown:
            raise RFMInputError(
                f"Unknown column{'s' if len(unknown) > 1 else ''} {', '.join(map(repr, unknown))}: "
                f"choose among {', '.join(map(str, frame.columns))}."
            )
    out = frame[chosen]
    return out.rename_axis(schema.CUSTOMER_ID)


def _check_split(labelled: pd.DataFrame, by: str) -> None:
    if by not in SPLITS:
        raise RFMInputError(f"Cannot split customers by {by!r}: choose {' or '.join(map(repr, SPLITS))}.")
    missing = [c for c in (by, schema.MONETARY) if c not in labelled.columns]
    if missing:
        raise RFMInputError(
            f"The customer list has no {' or '.join(map(repr, missing))} column, needed to split it by {by!r}."
        )


def too_long_for_a_sheet(labelled: pd.DataFrame, by: str, segments: Sequence[str] | None = None) -> str | None:
    """Why the lists cannot be one workbook (a segment longer than an Excel sheet), or ``None``."""
    _, groups = _segment_groups(labelled, by, segments)
    too_long = [(name, len(customers)) for name, customers in groups if len(customers) >= EXCEL_MAX_ROWS]
    if not too_long:
        return None
    name, count = too_long[0]
    return (
        f"Segment {name!r} has {count:,} customers, more than an Excel sheet holds "
        f"({EXCEL_MAX_ROWS - 1:,} below the header): download it as CSV instead."
    )


def _segment_groups(
    labelled: pd.DataFrame, by: str, segments: Sequence[str] | None
) -> tuple[pd.DataFrame, list[tuple[str, pd.DataFrame]]]:
    """The lists to export, largest revenue first, and the size table of all of them.

    Returns ``(sizes, groups)``: ``sizes`` is :func:`rfm.outputs.lists.segment_sizes` over the whole list (``name``,
    ``customers``, ``revenue``), ``groups`` the ``(segment, customers)`` pairs chosen, in ``sizes`` order.
    """
    _check_split(labelled, by)
    keys = labelled[by].astype(object).where(labelled[by].notna(), NO_SEGMENT).astype(str)
    keyed = labelled.assign(**{by: keys})
    sizes = segment_sizes(keyed, by)
    available = list(sizes["name"])
    if not available:
        raise RFMInputError("The customer list is empty: there is nothing to export.")
    if segments is None:
        chosen = available
    else:
        if isinstance(segments, str):
            segments = [segments]
        wanted = set(segments)
        unknown = [s for s in dict.fromkeys(segments) if s not in available]
        if unknown:
            raise RFMInputError(
                f"Unknown segment{'s' if len(unknown) > 1 else ''} {', '.join(map(repr, unknown))} in {by!r}: "
                f"choose among {', '.join(map(repr, available))}."
            )
        if not wanted:
            raise RFMInputError("No segment selected: choose at least one segment to export.")
        chosen = [name for name in available if name in wanted]
    positions = keys.groupby(keys, sort=False).indices
    groups = [(name, labelled.iloc[positions[name]]) for name in chosen]
    return sizes, groups


# --------------------------------------------------------------------------------------------- CSV and ZIP


def csv_bytes(frame: pd.DataFrame, columns: Sequence[str] | None = None) -> bytes:
    """One customer list as CSV that Excel opens cleanly.

    Parameters
    ----------
    frame : DataFrame
        Customers indexed by ``customer_id`` (the labelled list or a segment of it).
    columns : sequence of str, optional
        Columns after ``customer_id``, in this order; ``None`` for all.

    Returns
    -------
    bytes: UTF-8 with a BOM, CRLF line ends, header ``customer_id,<columns>``; text neutralised; money
    columns (:data:`MONEY_COLUMNS`) with two decimals; dates as ``YYYY-MM-DD HH:MM:SS``; NA as an empty field.

    Raises
    ------
    RFMInputError
        For an unknown column.
    """
    out = neutralise_frame(select_columns(frame, columns))
    for position, name in enumerate(out.columns):
        if name in MONEY_COLUMNS and pd.api.types.is_numeric_dtype(out.dtypes.iloc[position]):
            money = out.iloc[:, position].astype("float64").round(2) + 0.0  # + 0.0 turns -0.0 into 0.0
            out.isetitem(position, money.map("{:.2f}".format, na_action="ignore"))
    text = out.to_csv(
        index=True,
        index_label=schema.CUSTOMER_ID,
        na_rep="",
        date_format=CSV_DATE_FORMAT,
        lineterminator="\r\n",
    )
    return text.encode("utf-8-sig")


def table_csv_bytes(frame: pd.DataFrame, index: bool = True) -> bytes:
    """Any summary table (a migration matrix, a KPI table) as CSV for Excel: neutralised, UTF-8 with a BOM, CRLF."""
    return neutralise_frame(frame).to_csv(index=index, na_rep="", lineterminator="\r\n").encode("utf-8-sig")


def segment_files(
    labelled: pd.DataFrame,
    by: str = SEGMENT_NAME,
    columns: Sequence[str] | None = None,
    analysis_date: dt.date | None = None,
    segments: Sequence[str] | None = None,
) -> dict[str, bytes]:
    """One CSV per segment, keyed by file name, largest revenue first.

    Parameters
    ----------
    labelled : DataFrame
        :func:`rfm.outputs.lists.labelled_customers`, indexed by ``customer_id``.
    by : str
        ``"segment_name"`` (cluster segments) or ``"rfm_segment"``; customers without a value go to the
        list :data:`NO_SEGMENT`.
    columns : sequence of str, optional
        Columns of every file (see :func:`csv_bytes`).
    analysis_date : date, optional
        Part of each file name (see :func:`export_file_name`).
    segments : sequence of str, optional
        Only these segments (their order does not matter: files follow revenue); ``None`` for all.

    Returns
    -------
    dict of file name -> CSV bytes, in order of segment revenue (sum of ``monetary``), descending. Two
    segments whose names give the same file name get ``-2``, ``-3``, ... rather than overwrite each other.

    Raises
    ------
    RFMInputError
        Unknown split, column or segment, or an empty selection.
    """
    _, groups = _segment_groups(labelled, by, segments)
    select_columns(labelled, columns)  # fail before writing anything
    names = unique_file_names([name for name, _ in groups], analysis_date, "csv")
    return {file_name: csv_bytes(customers, columns) for file_name, (_, customers) in zip(names, groups)}


def unique_file_names(segments: Iterable[str], analysis_date: dt.date | None, extension: str) -> list[str]:
    """:func:`export_file_name` for each title, with ``-2``, ``-3``... where two would be the same file."""
    names: list[str] = []
    taken: set[str] = set()
    for segment in segments:
        stem = _slug(segment)
        name, suffix = _file_name(stem, analysis_date, extension), 1
        while name.lower() in taken:  # case-insensitive: macOS and Windows file systems are
            suffix += 1
            name = _file_name(f"{stem}-{suffix}", analysis_date, extension)
        taken.add(name.lower())
        names.append(name)
    return names


def zip_bytes(files: Mapping[str, bytes]) -> bytes:
    """A ZIP archive (deflated) holding each ``name -> bytes`` of ``files`` at its top level."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, data in files.items():
            archive.writestr(name, data)
    return buffer.getvalue()


# --------------------------------------------------------------------------------------------- workbook
#
# XlsxWriter writes the workbook: on a large list it is several times quicker than openpyxl's writer (see
# bench/RESULTS.md).
# It runs in constant_memory mode: each row goes to a temporary file once the next one starts, so memory stays
# flat and every sheet must be written top to bottom. Cells are written with typed calls only (write_string,
# write_number, ...), each value prepared by the helpers below.


def _excel_text(value: str) -> str:
    """The one way text reaches a workbook cell: characters XML cannot hold dropped, then neutralised, then cut
    to the 32,767 characters an Excel cell holds (Excel calls a longer one a corrupt file).

    Dropping first matters: ``"\\x01=1+1"`` would otherwise become the formula ``=1+1``."""
    return _cut(neutralise(_XML_ILLEGAL.sub("", value)), EXCEL_MAX_TEXT)


def _cut(text: str, limit: int) -> str:
    """``text`` cut to ``limit`` characters as Excel counts them: UTF-16 units (an emoji is two), pairs kept whole."""
    if len(text) <= limit // 2:  # too short to be too long: spare the encoding
        return text
    units = text.encode("utf-16-le")
    return text if len(units) <= 2 * limit else units[: 2 * limit].decode("utf-16-le", "ignore")


def _is_share(name: str) -> bool:
    return "share" in name or name.startswith("segment: ") or name in _SHARE_NAMES


#: Columns that are shares though their names do not say so (the campaign KPIs' rates).
_SHARE_NAMES = frozenset({"Repeat purchase rate", "Retention", "P(alive)", "p_alive", "churn_probability", "Churn probability"})


def _number_format(name: str, dtype: Any) -> str | None:
    """The number format of a column, from its dtype and, for floats, its name (shares are percentages)."""
    if pd.api.types.is_bool_dtype(dtype):
        return None
    if pd.api.types.is_datetime64_any_dtype(dtype):
        return XLSX_DATETIME_FORMAT
    if pd.api.types.is_integer_dtype(dtype):
        return XLSX_COUNT_FORMAT
    if pd.api.types.is_float_dtype(dtype):
        return XLSX_SHARE_FORMAT if _is_share(name) else XLSX_MONEY_FORMAT
    return None


def _cell_values(values: pd.Series) -> list[Any]:
    """Plain Python values for cells: text made safe, NA and non-finite numbers as ``None`` (an empty cell)."""
    dtype = values.dtype
    if pd.api.types.is_datetime64_any_dtype(dtype):
        if getattr(dtype, "tz", None) is not None:  # Excel has no time zones: keep the wall-clock time
            values = values.dt.tz_localize(None)
        return [None if pd.isna(v) else v.to_pydatetime() for v in values.astype(object)]
    if pd.api.types.is_bool_dtype(dtype) or pd.api.types.is_integer_dtype(dtype):
        return [None if v is pd.NA else v for v in values.astype(object).tolist()]
    if pd.api.types.is_float_dtype(dtype):
        return [v if math.isfinite(v) else None for v in values.astype("float64").tolist()]
    return [_excel_object(v) for v in values.astype(object).tolist()]


def _phone_cells(values: pd.Series) -> list[Any]:
    """Cells of the phone column: an international number keeps its leading ``+`` (see :func:`neutralise_frame`);
    anything else is made safe as any text."""
    return [v if isinstance(v, str) and _PLAIN_PHONE.match(v) else _excel_object(v) for v in values.astype(object).tolist()]


def _excel_object(value: Any) -> Any:
    """One cell of a text (object) column: text made safe, numbers and dates kept, anything else as text."""
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, str):
        return _excel_text(value)
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        return float(value) if math.isfinite(value) else None
    if isinstance(value, dt.datetime):  # pd.Timestamp too; Excel has no time zones: keep the wall-clock time
        stamp = pd.Timestamp(value)
        return (stamp.tz_localize(None) if stamp.tzinfo else stamp).to_pydatetime()
    if isinstance(value, dt.date):
        return value
    return _excel_text(str(value))


_SHOWN = {XLSX_COUNT_FORMAT: "{:,.0f}", XLSX_MONEY_FORMAT: "{:,.2f}", XLSX_SHARE_FORMAT: "{:.1%}"}


def _width(header: str, values: Sequence[Any], number_format: str | None) -> float:
    """A column width (in characters) fitting the header and the widest value as Excel shows it, in 10..60."""
    widest = len(header)
    present = [v for v in values if v is not None]
    numbers = [v for v in present if isinstance(v, (int, float)) and not isinstance(v, bool)]
    if numbers and number_format in _SHOWN:  # the widest number is the largest or the most negative
        widest = max(widest, *(len(_SHOWN[number_format].format(v)) for v in (min(numbers), max(numbers))))
    elif present and number_format == XLSX_DATETIME_FORMAT:
        widest = max(widest, len("2011-12-09 12:19"))
    elif present:
        widest = max(widest, *(len(str(v)) for v in present))
    return float(min(max(widest + 2, MIN_COLUMN_WIDTH), MAX_COLUMN_WIDTH))


class _Column:
    """One column ready for a sheet: safe header, cell values, number format and width."""

    __slots__ = ("header", "number_format", "values", "width")

    def __init__(self, header: str, values: list[Any], number_format: str | None) -> None:
        self.header = _excel_text(str(header))
        self.values = values
        self.number_format = number_format
        self.width = _width(self.header, values, number_format)


def _frame_columns(frame: pd.DataFrame, index: str) -> list[_Column]:
    """The sheet columns of a frame, its index first unless ``index="drop"``.

    ``index="ids"`` writes the index as text cells (customer ids: ``00123`` keeps its zeros), ``"keep"`` as
    any other column (a profile's cluster name), ``"drop"`` leaves it out (a ledger's row numbers).
    """
    columns = []
    for position, name in enumerate(frame.columns):
        values = frame.iloc[:, position]
        cells = _phone_cells(values) if name == schema.PHONE else _cell_values(values)
        columns.append(_Column(str(name), cells, _number_format(str(name), values.dtype)))
    if index == "ids":
        ids = [None if pd.isna(v) else _excel_text(str(v)) for v in frame.index]
        return [_Column(schema.CUSTOMER_ID, ids, XLSX_TEXT_FORMAT), *columns]
    if index == "keep":
        values = pd.Series(frame.index)
        return [_Column(str(frame.index.name or ""), _cell_values(values), _number_format("", values.dtype)), *columns]
    return columns


def _sheet_name(segment: str, taken: set[str]) -> str:
    """A valid, unused sheet name: no ``[]:*?/\\``, at most 31 characters (as Excel counts them), not starting
    or ending with ``'``.

    ``taken`` holds the lower-cased names used so far (Excel compares them case-insensitively); the new one
    is added to it.
    """
    base = _SHEET_FORBIDDEN.sub("-", _XML_ILLEGAL.sub("", segment)).strip().strip("'").strip()
    base = _cut(base, MAX_SHEET_NAME).rstrip().rstrip("'") or "Segment"
    name, suffix = base, 1
    while name.lower() in taken or name.lower() in _RESERVED_SHEETS:
        suffix += 1
        tail = f" ({suffix})"
        name = _cut(base, MAX_SHEET_NAME - len(tail)).rstrip().rstrip("'") + tail
    taken.add(name.lower())
    return name


def _kind(value: Any) -> type:
    """The cell type of a value from :func:`_cell_values`: ``str``, ``bool``, ``int``, ``float``, datetime or date."""
    for kind in (str, bool, int, float, dt.datetime, dt.date):
        if isinstance(value, kind):
            return kind
    raise TypeError(f"Cannot write {type(value).__name__} {value!r} to a workbook cell.")


def _write_text(sheet: Any, row: int, column: int, text: str, cell_format: Any = None) -> None:
    """A string cell holding ``text`` as it is: never a formula, a link or markup.

    XlsxWriter copies text shaped like ``<r>...</r>`` into the file as rich-text XML (it stores its own rich
    strings that way), so ``"<r>a & b</r>"`` would corrupt the file: such text goes in as plain runs instead.
    """
    if text.startswith("<r>") and text.endswith("</r>"):
        runs = (text[:1], text[1:3], text[3:])  # XlsxWriter wants more than two, none empty
        sheet.write_rich_string(row, column, *runs, *([cell_format] if cell_format is not None else []))
    else:
        sheet.write_string(row, column, text, cell_format)


class _SheetWriter:
    """Writes the sheets of one XlsxWriter workbook, with its cell formats made once."""

    def __init__(self, workbook: Any) -> None:
        self.workbook = workbook
        self.bold = workbook.add_format({"bold": True})
        self.title = workbook.add_format({"bold": True, "font_size": 14})
        self._formats: dict[str, Any] = {}

    def format(self, number_format: str | None) -> Any:
        """The cell format showing numbers with ``number_format``; ``None`` (General) for ``None``."""
        if number_format is None:
            return None
        if number_format not in self._formats:
            self._formats[number_format] = self.workbook.add_format({"num_format": number_format})
        return self._formats[number_format]

    def sheet(self, name: str, widths: Sequence[float]) -> Any:
        """A new sheet with its column widths, in characters as Excel shows them."""
        sheet = self.workbook.add_worksheet(name)
        for position, width in enumerate(widths):
            sheet.set_column(position, position, width)
        return sheet

    def writers(self, sheet: Any, number_format: str | None) -> dict[type, tuple[Callable[..., Any], Any]]:
        """How a column with ``number_format`` writes each :func:`_kind` of value: ``kind -> (call, format)``."""
        column_format = self.format(number_format)
        return {
            str: (partial(_write_text, sheet), column_format),
            bool: (sheet.write_boolean, None),
            int: (sheet.write_number, column_format),
            float: (sheet.write_number, column_format),
            dt.datetime: (sheet.write_datetime, self.format(XLSX_DATETIME_FORMAT)),
            dt.date: (sheet.write_datetime, self.format(XLSX_DATE_FORMAT)),
        }

    def header(self, sheet: Any, row: int, headers: Sequence[str]) -> None:
        """A bold header row; ``headers`` are already safe (see :class:`_Column`)."""
        for position, header in enumerate(headers):
            _write_text(sheet, row, position, header, self.bold)

    def rows(self, sheet: Any, first_row: int, columns: Sequence[_Column], written: Callable[[int], None] | None = None) -> int:
        """The columns' values from ``first_row`` down, empty cells left out; returns the row after the last.

        ``written(n)`` is called after every :data:`PROGRESS_ROWS` rows (and after the last) with the rows just written."""
        writers = [self.writers(sheet, column.number_format) for column in columns]
        pending = 0
        for row, values in enumerate(zip(*(column.values for column in columns)), start=first_row):
            for position, value in enumerate(values):
                if value is not None:
                    writer = writers[position]
                    write, cell_format = writer.get(type(value)) or writer[_kind(value)]
                    write(row, position, value, cell_format)
            pending += 1
            if written is not None and pending == PROGRESS_ROWS:
                written(pending)
                pending = 0
        if written is not None and pending:
            written(pending)
        return first_row + (len(columns[0].values) if columns else 0)


def _segment_table(sizes: pd.DataFrame, groups: Sequence[tuple[str, pd.DataFrame]]) -> pd.DataFrame:
    """The segment table of the summary sheet: one row per exported segment, shares of the whole list."""
    chosen = sizes.set_index("name").loc[[name for name, _ in groups]]
    table = pd.DataFrame(
        {
            "segment": chosen.index.astype(object),
            "customers": chosen["customers"].astype("int64").to_numpy(),
            "customer_share": chosen["share"].to_numpy(),
            "revenue": chosen["revenue"].astype("float64").round(2).to_numpy(),
            "revenue_share": chosen["revenue_share"].to_numpy(),
        }
    )
    if "action" in chosen.columns:
        table["action"] = chosen["action"].to_numpy(dtype=object)
    return table


def workbook_cells(labelled: pd.DataFrame, by: str = SEGMENT_NAME, columns: Sequence[str] | None = None, segments: Sequence[str] | None = None) -> int:
    """Customer cells :func:`workbook_bytes` writes for these lists (ids included): what its time depends on."""
    chosen = labelled if segments is None else labelled[labelled[by].astype("str").isin([str(s) for s in segments])]
    return len(chosen) * (1 + len(select_columns(labelled.head(0), columns).columns))


def workbook_bytes(
    labelled: pd.DataFrame,
    by: str = SEGMENT_NAME,
    columns: Sequence[str] | None = None,
    analysis_date: dt.date | None = None,
    segments: Sequence[str] | None = None,
    profiles: pd.DataFrame | None = None,
    ledger: pd.DataFrame | None = None,
    title: str = "RFM Studio segments",
    kpis: SegmentKPIs | None = None,
    progress: Callable[[float], None] | None = None,
) -> bytes:
    """One Excel workbook: a summary sheet, then one sheet of customers per segment.

    Parameters
    ----------
    labelled : DataFrame
        :func:`rfm.outputs.lists.labelled_customers`, indexed by ``customer_id``.
    by, columns, analysis_date, segments
        As in :func:`segment_files`.
    profiles : DataFrame, optional
        :attr:`rfm.clustering.fit.ClusterResult.profiles` (one row per cluster), shown on the summary sheet
        with its index as first column.
    ledger : DataFrame, optional
        :meth:`rfm.cleaning.ledger.CleaningReport.ledger_frame` (rule, description, rows, revenue, ...), shown on the
        summary sheet.
    title : str
        First line of the summary sheet.
    kpis : rfm.trends.kpis.SegmentKPIs, optional
        Campaign KPIs per segment, shown on the summary sheet after the segments.
    progress : callable, optional
        Called with the share of customer rows written so far (0 to 1) every :data:`PROGRESS_ROWS` rows: writing
        the cells is the slow part of a large export (see bench/RESULTS.md).

    Returns
    -------
    bytes of an ``.xlsx`` file. Sheet ``"Summary"``: title, analysis date, customers and revenue of the
    whole list, the table of exported segments (customers, share, revenue, share, action), the customers and revenue
    per lifecycle stage when the list has ``lifecycle_stage``, then the KPIs, profiles and ledger tables when given,
    each under a bold header. Then one sheet per segment, largest revenue first, named after it (made valid and
    unique): ``customer_id`` as text, then ``columns``; bold header frozen, autofilter, fitted widths, numbers and
    dates as real cells with number formats, NA as empty cells, every text cell neutralised.

    Raises
    ------
    RFMInputError
        Unknown split, column or segment, an empty selection, or a segment too long for one sheet.
    """
    sizes, groups = _workbook_groups(labelled, by, columns, segments)
    written = _rows_written(sum(len(customers) for _, customers in groups), progress)

    def write_sheets(writer: _SheetWriter) -> None:
        _write_summary(writer, by, sizes, groups, analysis_date, profiles, ledger, title, kpis, stage_table(labelled))
        _write_segments(writer, groups, columns, written)

    return _workbook(write_sheets)


def _workbook_groups(
    labelled: pd.DataFrame, by: str, columns: Sequence[str] | None, segments: Sequence[str] | None
) -> tuple[pd.DataFrame, list[tuple[str, pd.DataFrame]]]:
    """:func:`_segment_groups`, once the columns are known and every segment fits on a sheet (else
    :class:`RFMInputError`)."""
    sizes, groups = _segment_groups(labelled, by, segments)
    select_columns(labelled, columns)
    problem = too_long_for_a_sheet(labelled, by, segments)
    if problem:
        raise RFMInputError(problem)
    return sizes, groups


def stage_table(labelled: pd.DataFrame) -> pd.DataFrame | None:
    """Customers and revenue per lifecycle stage of the whole list (:func:`rfm.scoring.lifecycle.stage_summary`), every
    stage in order, for the workbook's summary sheet; ``None`` when the list has no ``lifecycle_stage``."""
    from rfm.scoring.lifecycle import stage_summary

    if schema.LIFECYCLE_STAGE not in labelled.columns:
        return None
    table = stage_summary(labelled)
    table["revenue"] = table["revenue"].astype("float64").round(2)
    return table.rename(columns={"share": "customer_share"})


def _rows_written(total_rows: int, progress: Callable[[float], None] | None) -> Callable[[int], None]:
    """The ``written(rows)`` callback of :meth:`_SheetWriter.rows`: adds up the customer rows written and tells
    ``progress`` their share of ``total_rows``."""
    total, done = total_rows or 1, 0

    def written(rows: int) -> None:
        nonlocal done
        done += rows
        if progress is not None:
            progress(done / total)

    return written


def _workbook(write_sheets: Callable[[_SheetWriter], None]) -> bytes:
    """The bytes of an ``.xlsx`` file whose sheets ``write_sheets`` writes, in constant-memory mode."""
    import xlsxwriter

    package = io.BytesIO()
    # Only typed calls write cells; should a plain write() ever creep in, it still must not make formulas or links.
    options = {"constant_memory": True, "strings_to_formulas": False, "strings_to_urls": False}
    with xlsxwriter.Workbook(package, options) as workbook:
        write_sheets(_SheetWriter(workbook))
    return package.getvalue()


def _write_segments(
    writer: _SheetWriter,
    groups: Sequence[tuple[str, pd.DataFrame]],
    columns: Sequence[str] | None,
    written: Callable[[int], None],
) -> None:
    """One sheet per segment, in ``groups`` order, named after it (made valid and unique: :func:`_sheet_name`)."""
    taken: set[str] = set()
    for name, customers in groups:
        _write_segment(writer, _sheet_name(name, taken), select_columns(customers, columns), written)


def _write_segment(writer: _SheetWriter, name: str, customers: pd.DataFrame, written: Callable[[int], None] | None = None) -> None:
    """A segment sheet: widths, bold header frozen above an autofilter, then one row per customer."""
    columns = _frame_columns(customers, index="ids")
    sheet = writer.sheet(name, [c.width for c in columns])
    sheet.freeze_panes(1, 0)
    sheet.autofilter(0, 0, len(customers), len(columns) - 1)
    writer.header(sheet, 0, [c.header for c in columns])
    writer.rows(sheet, 1, columns, written)


def _write_summary(
    writer: _SheetWriter,
    by: str,
    sizes: pd.DataFrame,
    groups: Sequence[tuple[str, pd.DataFrame]],
    analysis_date: dt.date | None,
    profiles: pd.DataFrame | None,
    ledger: pd.DataFrame | None,
    title: str,
    kpis: SegmentKPIs | None = None,
    stages: pd.DataFrame | None = None,
) -> None:
    """The summary sheet: the title, facts about the whole list, then the exported segments, the lifecycle stages, the
    KPIs, the profiles and the ledger (those given), each table under a bold caption."""
    facts: list[tuple[str, Any, str | None]] = []
    if analysis_date is not None:
        facts.append(("Analysis date", analysis_date, XLSX_DATE_FORMAT))
    facts.append(("Lists split by", SPLITS[by], None))
    facts.append(("Customers", int(sizes["customers"].sum()), XLSX_COUNT_FORMAT))
    facts.append(("Revenue", round(float(sizes["revenue"].sum()), 2), XLSX_MONEY_FORMAT))
    facts.append(("Segments exported", f"{len(groups)} of {len(sizes)}", None))

    tables = [("Segments", _frame_columns(_segment_table(sizes, groups), index="drop"))]
    if stages is not None:
        tables.append(("Lifecycle stages (all customers)", _frame_columns(stages, index="keep")))
    if kpis is not None:
        tables.append((kpis.caption, _frame_columns(kpis.labelled_table(), index="keep")))
    if profiles is not None:
        tables.append(("Cluster profiles", _frame_columns(profiles, index="keep")))
    if ledger is not None:
        tables.append(("Cleaning rules (rows and revenue removed)", _frame_columns(ledger, index="drop")))

    # A sheet column is as wide as the widest table column at its position (captions overflow, as titles do).
    fact_widths = [_width("", [label for label, _, _ in facts], None), _width("", [SPLITS[by]], None)]
    widths = []
    for position in range(max(2, *(len(columns) for _, columns in tables))):
        candidates = [columns[position].width for _, columns in tables if position < len(columns)]
        widths.append(max(candidates + fact_widths[position : position + 1]))
    sheet = writer.sheet(SUMMARY_SHEET, widths)

    _write_text(sheet, 0, 0, _excel_text(title), writer.title)
    for row, (label, value, number_format) in enumerate(facts, start=2):  # a blank row under the title
        _write_text(sheet, row, 0, label, writer.bold)
        shown = _excel_object(value)  # safe text; an infinite revenue total, say, as an empty cell
        if shown is not None:
            write, cell_format = writer.writers(sheet, number_format)[_kind(shown)]
            write(row, 1, shown, cell_format)
    row = 2 + len(facts)
    for caption, columns in tables:
        row += 1  # a blank row above each table
        _write_text(sheet, row, 0, caption, writer.bold)
        writer.header(sheet, row + 1, [c.header for c in columns])
        row = writer.rows(sheet, row + 2, columns)
