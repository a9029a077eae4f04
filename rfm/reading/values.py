"""Typing raw values: dates, numbers and ids, reporting every decision taken.

Each parser returns the typed values (missing where a value cannot be read; the cleaning ledger
counts those rows) together with a short note of what it decided, e.g. "day-first (31/12/2010 seen)".
Parsing works on the distinct values of a column, so a million rows with a few thousand distinct
dates cost a few thousand parses.
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd

from rfm.schema import DateOrder

_EXCEL_EPOCH = pd.Timestamp("1899-12-30")
# Excel serials for 1950-01-01 .. 2100-01-01: bare numbers outside this range are not taken as dates.
_SERIAL_MIN, _SERIAL_MAX = 18264, 73051
_MISSING_TEXT = {"", "nan", "none", "null", "na", "n/a", "nat", "-", "--", "?"}
_SLASH_DATE = re.compile(
    r"^\s*(?P<a>\d{1,2})[/.\-](?P<b>\d{1,2})[/.\-](?P<year>\d{4}|\d{2})"
    r"(?:[ T]+(?P<hour>\d{1,2}):(?P<minute>\d{2})(?::(?P<second>\d{2})(?:\.\d+)?)?\s*(?P<ampm>[AaPp][Mm])?)?\s*$"
)
_ISO_DATE = re.compile(r"^\s*\d{4}-\d{1,2}-\d{1,2}([ T].*)?$")
_YYYYMMDD = re.compile(r"^\s*(19|20|21)\d{2}(0[1-9]|1[0-2])(0[1-9]|[12]\d|3[01])(\.0+)?\s*$")
# Currency codes may touch the digits ("USD12.50", "12.50EUR"), so they are delimited by non-letters, not \b.
_CURRENCY_SYMBOL = re.compile(
    r"[$€£¥₹₽₩¢]|(?<![A-Za-z])(?:USD|EUR|GBP|JPY|CHF|AUD|CAD|SEK|NOK|DKK|PLN|INR)(?![A-Za-z])"
)
_CURRENCY = re.compile(_CURRENCY_SYMBOL.pattern + r"|\s|\u00a0|\u202f|'")
# A month name marks a written-out date ("1 Dec 2010"); without one, free parsing turns "2,55" into a date.
_MONTH_NAME = re.compile(r"(?i)(?<![a-z])(?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*\.?(?![a-z])")
_BARE_NUMBER = re.compile(r"^\s*[+-]?\d+(?:[.,]\d+)?\s*$")


@dataclass(frozen=True)
class DateDecision:
    """How a date column was read: ``order`` used for ambiguous ``a/b/y`` values, and what was seen."""

    order: Literal["dayfirst", "monthfirst", "n/a"]
    detected: bool  # False when the user chose the order
    formats: tuple[str, ...]  # e.g. ("d/m/Y H:M", "Excel serial")
    note: str
    #: A value as written in the file (e.g. "1/12/2010") when every ``a/b/y`` value fits both orders and
    #: the order was assumed, not decided: the user should confirm it. ``None`` otherwise.
    undecided_example: str | None = None

    @property
    def undecided(self) -> bool:
        """True when the day/month order could not be told from the values (month-first was assumed)."""
        return self.undecided_example is not None

    def readings(self) -> dict[str, str]:
        """How :attr:`undecided_example` reads in each order, e.g. ``{"monthfirst": "12 January 2010",
        "dayfirst": "1 December 2010"}``; empty when the order was decided."""
        if self.undecided_example is None:
            return {}
        a, b, year = (int(part) for part in re.split(r"[/.-]", self.undecided_example)[:3])
        year = year if year >= 100 else year + (2000 if year < 70 else 1900)
        return {
            "monthfirst": f"{b} {calendar.month_name[a]} {year}",
            "dayfirst": f"{a} {calendar.month_name[b]} {year}",
        }


@dataclass(frozen=True)
class NumberNote:
    """What parsing a numeric column had to do (currency symbols, separators)."""

    column: str
    decimal_comma: bool
    stripped_symbols: int  # values that carried a currency symbol or code
    thousands_separators: int  # values that carried thousands separators

    def describe(self) -> str | None:
        parts = []
        if self.stripped_symbols:
            parts.append(f"removed currency symbols from {self.stripped_symbols:,} value(s)")
        if self.thousands_separators:
            parts.append(f"read thousands separators in {self.thousands_separators:,} value(s)")
        if self.decimal_comma:
            parts.append("read ',' as the decimal separator")
        return f"{self.column}: " + "; ".join(parts) if parts else None


# --- ids and text -----------------------------------------------------------------------------


def _by_distinct_value(values: pd.Series, transform) -> pd.Series:
    """Apply ``transform`` to the distinct values only and spread the result back over the rows.

    Ids, countries and products repeat a lot: a million rows hold a few thousand distinct values.
    """
    import pyarrow as pa

    codes, uniques = pd.factorize(values, use_na_sentinel=True)
    mapped = pa.array(transform(pd.Series(uniques)).astype("str"), type=pa.large_string())
    rows = mapped.take(pa.array(codes, mask=codes < 0))  # Arrow take: no Python objects per row
    return pd.Series(rows, index=values.index, dtype="str")


def _id_text(uniques: pd.Series) -> pd.Series:
    if pd.api.types.is_float_dtype(uniques.dtype):
        finite = uniques.where(np.isfinite(uniques))
        whole = finite.notna() & (finite == np.round(finite))
        text = pd.Series(pd.NA, index=uniques.index, dtype="str")
        text[whole] = finite[whole].astype("int64").astype("str")
        text[finite.notna() & ~whole] = finite[finite.notna() & ~whole].astype("str")
        return text
    if pd.api.types.is_integer_dtype(uniques.dtype):
        return uniques.astype("str")
    # Mixed columns (Excel numbers among text) reach here as objects: 12346.0 becomes "12346.0" first.
    return _clean_text(uniques).str.replace(r"^(\d+)\.0+$", r"\1", regex=True)


def normalise_ids(values: pd.Series) -> pd.Series:
    """Ids as text: ``12346.0`` (Excel's float) -> ``"12346"``, zero padding kept, blanks -> missing.

    Returns a pandas ``str`` Series aligned with ``values``.
    """
    return _by_distinct_value(values, _id_text)


def _clean_text(values: pd.Series) -> pd.Series:
    text = values.astype("str").str.strip()
    missing = values.isna() | text.str.lower().isin(_MISSING_TEXT)
    return text.mask(missing)


def normalise_text(values: pd.Series) -> pd.Series:
    """Free text (country, product) stripped, blanks -> missing."""
    return _by_distinct_value(values, _clean_text)


# --- numbers ----------------------------------------------------------------------------------


def to_numbers_quick(values: pd.Series) -> np.ndarray:
    """Float array for detection only: plain numbers and numbers with symbols/separators, else NaN."""
    numbers, _ = parse_numbers(values, "sample")
    return numbers.to_numpy(dtype="float64", na_value=np.nan)


def parse_numbers(values: pd.Series, column: str) -> tuple[pd.Series, NumberNote]:
    """Parse a numeric column that may hold text like ``£1,234.50``, ``1.234,50`` or ``(12.00)``.

    Returns float64 values (NaN where a value is missing or not a number; inf counts as not a
    number) and a :class:`NumberNote`. The decimal separator is decided once for the column.
    """
    if pd.api.types.is_bool_dtype(values.dtype):
        values = values.astype("object")
    if pd.api.types.is_numeric_dtype(values.dtype):
        numbers = values.astype("float64")
        return numbers.where(np.isfinite(numbers)), NumberNote(column, False, 0, 0)
    text = values.astype("str").str.strip()
    text = text.mask(values.isna())
    uniques = pd.Series(text.dropna().unique(), dtype="str")
    if uniques.empty:
        return pd.Series(np.nan, index=values.index), NumberNote(column, False, 0, 0)
    symbols = uniques.str.contains(_CURRENCY_SYMBOL.pattern, regex=True)
    bare = uniques.str.replace(_CURRENCY.pattern, "", regex=True)
    negative = bare.str.fullmatch(r"\(.*\)") | bare.str.endswith("-")
    bare = bare.str.strip("()").str.rstrip("-")
    decimal_comma = _decimal_comma(bare)
    thousands = "." if decimal_comma else ","
    has_thousands = bare.str.contains(re.escape(thousands), regex=True)
    # A thousands separator groups digits by three: "3,50" in a dot-decimal column is not 350.
    decimal = "," if decimal_comma else "."
    grouped = bare.str.fullmatch(rf"-?\d{{1,3}}(?:{re.escape(thousands)}\d{{3}})+(?:{re.escape(decimal)}\d*)?")
    bare = bare.where(~has_thousands | grouped).str.replace(thousands, "", regex=False)
    if decimal_comma:
        bare = bare.str.replace(",", ".", regex=False)
    parsed = pd.to_numeric(bare, errors="coerce").astype("float64")
    parsed = parsed.where(~negative, -parsed)
    parsed = parsed.where(np.isfinite(parsed))
    lookup = pd.Series(parsed.to_numpy(), index=uniques.to_numpy())
    numbers = text.map(lookup).astype("float64")
    read = parsed.notna()
    has_thousands = has_thousands & grouped.fillna(False)
    note = NumberNote(column, bool(decimal_comma), int((symbols & read).sum()), int((has_thousands & read).sum()))
    return numbers, note


def _decimal_comma(bare: pd.Series) -> bool:
    """True when the column writes decimals with a comma (``2,55`` or ``1.234,50``)."""
    comma_decimal = bare.str.fullmatch(r"-?\d{1,3}(\.\d{3})+,\d+|-?\d+,\d{1,2}|-?\d+,\d{4,}")
    dot_decimal = bare.str.fullmatch(r"-?\d{1,3}(,\d{3})+\.\d+|-?\d+\.\d+")
    return bool(comma_decimal.sum() > dot_decimal.sum())


# --- dates ------------------------------------------------------------------------------------


def looks_like_dates(values: pd.Series) -> float:
    """Share of values that read as dates (for column detection)."""
    if pd.api.types.is_datetime64_any_dtype(values.dtype):
        return 1.0
    if pd.api.types.is_numeric_dtype(values.dtype):
        return 0.0  # bare numbers are dates only when the header says so
    # The same for numbers written as text (a CSV's ids and stock codes can fall in the Excel-serial range).
    bare_number = values.astype("str").str.match(_BARE_NUMBER.pattern).fillna(False).astype(bool)
    dates, _ = parse_dates(values.where(~bare_number))
    return float(dates.notna().mean()) if len(values) else 0.0


def parse_dates(values: pd.Series, order: DateOrder = "auto") -> tuple[pd.Series, DateDecision]:
    """Parse a date column that may mix formats.

    Understands real datetimes, ISO strings, Excel serial numbers, ``yyyymmdd`` integers and
    ``d/m/Y H:M`` or ``m/d/Y H:M`` (also with ``.`` or ``-`` and two-digit years). With
    ``order="auto"`` the day/month order is decided from the values (a first part above 12 means
    day-first) and reported; values that only fit the other order are read in that order.

    Returns ``datetime64[ns]`` values (NaT where missing or unparseable) and a :class:`DateDecision`.
    """
    if pd.api.types.is_datetime64_any_dtype(values.dtype):
        dates = values.dt.tz_localize(None) if getattr(values.dt, "tz", None) is not None else values
        return _as_ns(dates), DateDecision("n/a", order == "auto", ("datetime",), "real dates")
    if pd.api.types.is_numeric_dtype(values.dtype):
        numbers = values.astype("float64")
        dates, formats = _dates_from_numbers(numbers)
        return dates, DateDecision("n/a", order == "auto", formats, ", ".join(formats) or "no dates")
    text = values.astype("str").str.strip().mask(values.isna())
    uniques = pd.Series(text.dropna().unique(), dtype="str")
    if uniques.empty:  # an all-blank column (mapping it by hand must not crash)
        none = pd.Series(pd.NaT, index=values.index, dtype="datetime64[ns]")
        return none, DateDecision("n/a", order == "auto", (), "no value could be read as a date")
    parsed, decision = _parse_unique_dates(uniques, order)
    lookup = pd.Series(parsed.to_numpy(), index=uniques.to_numpy())
    dates = text.map(lookup)
    return pd.to_datetime(dates).astype("datetime64[ns]"), decision


def _dates_from_numbers(numbers: pd.Series) -> tuple[pd.Series, tuple[str, ...]]:
    dates = pd.Series(pd.NaT, index=numbers.index, dtype="datetime64[ns]")
    formats = []
    yyyymmdd = (numbers >= 19000101) & (numbers <= 21001231) & (numbers == np.round(numbers))
    if yyyymmdd.any():
        dates[yyyymmdd] = pd.to_datetime(numbers[yyyymmdd].astype("int64").astype("str"), format="%Y%m%d", errors="coerce")
        formats.append("yyyymmdd")
    serial = (numbers >= _SERIAL_MIN) & (numbers <= _SERIAL_MAX)
    if serial.any():
        dates[serial] = _EXCEL_EPOCH + pd.to_timedelta(numbers[serial], unit="D").dt.round("s")
        formats.append("Excel serial")
    return dates, tuple(formats)


def _parse_unique_dates(uniques: pd.Series, order: DateOrder) -> tuple[pd.Series, DateDecision]:
    parsed = pd.Series(pd.NaT, index=uniques.index, dtype="datetime64[ns]")
    formats: list[str] = []

    compact = uniques.str.match(_YYYYMMDD.pattern)
    if compact.any():
        parsed[compact] = pd.to_datetime(uniques[compact].str.strip().str[:8], format="%Y%m%d", errors="coerce")
        formats.append("yyyymmdd")

    numeric = pd.to_numeric(uniques.where(~compact), errors="coerce")
    serial = numeric.between(_SERIAL_MIN, _SERIAL_MAX)
    if serial.any():
        parsed[serial] = _EXCEL_EPOCH + pd.to_timedelta(numeric[serial], unit="D").dt.round("s")
        formats.append("Excel serial")

    iso = uniques.str.match(_ISO_DATE.pattern) & parsed.isna()
    if iso.any():
        parsed[iso] = _to_naive_datetimes(uniques[iso], format="ISO8601")
        formats.append("ISO")

    parts = uniques.str.extract(_SLASH_DATE.pattern)
    slashed = parts["a"].notna() & parsed.isna()
    decision_order: Literal["dayfirst", "monthfirst", "n/a"] = "n/a"
    note = ""
    undecided_example = None
    if slashed.any():
        decision_order, note, slash_dates, undecided_example = _slash_dates(parts[slashed], order, uniques[slashed])
        parsed[slashed] = slash_dates
        formats.append("d/m/Y" if decision_order == "dayfirst" else "m/d/Y")

    rest = parsed.isna() & ~numeric.notna() & ~slashed & uniques.str.contains(_MONTH_NAME.pattern, regex=True)
    if rest.any():
        # Month names and other spelled-out forms ("1 Dec 2010", "Dec 1, 2010 08:26").
        guessed = _to_naive_datetimes(uniques[rest], format="mixed", dayfirst=decision_order == "dayfirst")
        if guessed.notna().any():
            parsed[rest] = guessed
            formats.append("written-out dates")

    if not note:
        note = ", ".join(formats) if formats else "no value could be read as a date"
    return parsed, DateDecision(decision_order, order == "auto", tuple(formats), note, undecided_example)


def _to_naive_datetimes(values: pd.Series, **options) -> pd.Series:
    """Parse strings to naive datetimes; values with a UTC offset are converted to UTC wall time."""
    dates = pd.to_datetime(values, errors="coerce", utc=True, **options)
    return _as_ns(dates.dt.tz_convert(None))


def _as_ns(dates: pd.Series) -> pd.Series:
    """``datetime64[ns]``; dates outside its range (placeholders like 9999-12-31 or 0001-01-01) become NaT."""
    inside = (dates >= pd.Timestamp.min) & (dates <= pd.Timestamp.max)
    return dates.where(inside).astype("datetime64[ns]")


def _slash_dates(
    parts: pd.DataFrame, order: DateOrder, written: pd.Series
) -> tuple[Literal["dayfirst", "monthfirst"], str, pd.Series, str | None]:
    """Read ``a/b/year`` values in one day/month order; the fourth item is a value as ``written`` when no value
    could decide the order (``order="auto"`` only), else ``None``."""
    a = parts["a"].astype("int64")
    b = parts["b"].astype("int64")
    read_dayfirst = _dates_from_parts(parts, day=a, month=b)
    read_monthfirst = _dates_from_parts(parts, day=b, month=a)
    # Evidence is a value that is a real date in one order only (31/02/2010 fits neither: no evidence).
    only_dayfirst = read_dayfirst.notna() & read_monthfirst.isna()
    only_monthfirst = read_monthfirst.notna() & read_dayfirst.isna()
    n_day, n_month = int(only_dayfirst.sum()), int(only_monthfirst.sum())
    undecided_example = None
    if order == "auto":
        chosen: Literal["dayfirst", "monthfirst"] = "dayfirst" if n_day > n_month else "monthfirst"
        if n_day and n_month:
            note = (
                f"mixed day/month order: {n_day:,} distinct value(s) only fit day-first, {n_month:,} only "
                f"month-first; ambiguous values were read {'day-first' if chosen == 'dayfirst' else 'month-first'}"
            )
        elif n_day or n_month:
            example = parts.index[only_dayfirst | only_monthfirst][0]
            note = f"{'day-first' if chosen == 'dayfirst' else 'month-first'} (a value like {_format_parts(parts.loc[example])} only fits that order)"
        else:
            note = "month-first assumed: every value fits both orders (day and month both ≤ 12); override if wrong"
            both = read_dayfirst.notna() & read_monthfirst.notna() & (read_dayfirst != read_monthfirst)
            undecided_example = str(written[both].iloc[0]).split()[0] if both.any() else None
    else:
        chosen = order
        note = f"{'day-first' if order == 'dayfirst' else 'month-first'} (chosen by the user)"
    dayfirst = only_dayfirst if order == "auto" else pd.Series(chosen == "dayfirst", index=parts.index)
    if order == "auto":
        dayfirst = dayfirst | ((chosen == "dayfirst") & ~only_monthfirst)
    return chosen, note, read_dayfirst.where(dayfirst, read_monthfirst), undecided_example


def _dates_from_parts(parts: pd.DataFrame, day: pd.Series, month: pd.Series) -> pd.Series:
    """Dates from the regex parts of ``a/b/year [H:M[:S] [AM|PM]]`` in one day/month order (NaT if invalid)."""
    year = parts["year"].astype("int64")
    # Two-digit years by their digits, not their value ("0001" is year 1, not 2001): 00-69 -> 20xx, 70-99 -> 19xx.
    two_digit = parts["year"].str.len() == 2
    year = year.where(~two_digit, year + 2000).where(~two_digit | (year < 70), year + 1900)
    hour = parts["hour"].fillna("0").astype("int64")
    pm = parts["ampm"].fillna("").str.lower() == "pm"
    am = parts["ampm"].fillna("").str.lower() == "am"
    hour = hour.where(~(pm & (hour < 12)), hour + 12).where(~(am & (hour == 12)), 0)
    dates = pd.to_datetime(
        pd.DataFrame(
            {
                "year": year,
                "month": month,
                "day": day,
                "hour": hour,
                "minute": parts["minute"].fillna("0").astype("int64"),
                "second": parts["second"].fillna("0").astype("int64"),
            }
        ),
        errors="coerce",
    )
    return _as_ns(dates)


def _format_parts(row: pd.Series) -> str:
    return f"{row['a']}/{row['b']}/{row['year']}"
