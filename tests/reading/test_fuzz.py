"""Fuzzing of the whole pipeline (hypothesis): random transaction frames and random bytes.

Every input must either give a consistent analysis or raise :class:`rfm.errors.RFMInputError`, never any
other exception. Each frame reaches the pipeline the three ways a file does: CSV read into memory, CSV
scanned by DuckDB, and Parquet scanned by DuckDB; the two CSV paths must agree.
"""

from __future__ import annotations

import datetime as dt
import io
import math

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rfm import schema
from rfm.cleaning.analyse import analyse, analyse_file
from rfm.errors import RFMInputError
from rfm.reading.files import read_transactions
from rfm.reading.scan import open_transactions

pytestmark = pytest.mark.slow

# Reproducible in CI: derandomized, no example database.
FUZZ = settings(
    max_examples=60,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

UCI_HEADERS = ["Invoice", "StockCode", "Quantity", "InvoiceDate", "Price", "Customer ID", "Country"]
OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"

# ---------------------------------------------------------------------------------------------- values

ODD_TEXT = st.sampled_from(
    [
        "", " ", "مرحبا", "\u202eevil\u202c", "שלום", "🛒🎁", "👩‍👩‍👧", "a\u200bb", "\ufeff", "\u200d", "\x01\x1b\x7f",
        "line\nbreak", "cr\rret", "tab\there", '"quoted"', "semi;colon", "pipe|x", "=SUM(A1)", "NaN", "null",
        "None", "-", "N/A", "∞", "1e308", "-0", "12,5", "£3.50", "€1.234,56", "C", "c", "ＣＵＳＴ", "İ",
    ]
)
TEXT = st.one_of(ODD_TEXT, st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), max_size=12))
EXTREME_FLOATS = st.sampled_from([math.inf, -math.inf, math.nan, 1e308, -1e308, -0.0, 0.0, 5e-324, 1e-300])
FLOATS = st.one_of(st.floats(allow_nan=True, allow_infinity=True), EXTREME_FLOATS, st.floats(-1000, 1000))
HUGE_INTS = st.sampled_from([2**63 - 1, -(2**63), 2**64, 10**30, -(10**30), 0, -1])
INTS = st.one_of(st.integers(-1000, 100_000), HUGE_INTS)
DATETIMES = st.one_of(
    st.datetimes(dt.datetime(2009, 1, 1), dt.datetime(2012, 12, 31)),
    st.datetimes(dt.datetime(1678, 1, 1), dt.datetime(2261, 12, 31)),
    st.sampled_from([dt.datetime(1, 1, 1), dt.datetime(9999, 12, 31, 23, 59, 59), dt.datetime(1970, 1, 1)]),
)
DATE_TEXT = st.one_of(
    st.datetimes(dt.datetime(2009, 1, 1), dt.datetime(2012, 12, 31)).flatmap(
        lambda d: st.sampled_from(
            [d.strftime("%Y-%m-%d %H:%M"), d.strftime("%d/%m/%Y %H:%M"), d.strftime("%m/%d/%Y"), d.strftime("%Y%m%d"),
             str((d - dt.datetime(1899, 12, 30)).days)]
        )
    ),
    st.sampled_from(["", "not a date", "2010-13-45", "31/02/2011", "00000000", "99999999", "0", "-1", "1e308"]),
)
MIXED = st.one_of(st.none(), TEXT, FLOATS, INTS, st.booleans(), DATETIMES)

# A column is a kind (its values' type) and, sometimes, missing values.
KINDS = {
    "text": TEXT,
    "int": INTS,
    "float": FLOATS,
    "bool": st.booleans(),
    "datetime": DATETIMES,
    "mixed": MIXED,
}

# Plausible values for each UCI column (so that the mapping is found and cleaning really runs), mixed with noise.
PLAUSIBLE = {
    "Invoice": st.one_of(st.integers(500000, 500008).map(str), st.integers(500000, 500008).map(lambda i: f"C{i}"),
                         st.integers(500000, 500008)),
    "StockCode": st.one_of(st.sampled_from(["85123A", "71053", "POST", "M", "DOT"]), st.integers(10000, 99999)),
    "Quantity": st.one_of(st.integers(-5, 50), st.integers(-5, 50).map(str), st.sampled_from(["", "abc", "1e3", "nan"])),
    "InvoiceDate": st.one_of(st.datetimes(dt.datetime(2010, 1, 1), dt.datetime(2011, 12, 31)), DATE_TEXT),
    "Price": st.one_of(st.floats(-2, 100, allow_nan=False).map(lambda x: round(x, 2)),
                       st.sampled_from(["", "£3.50", "0", "1,25", "2.5", "-1"])),
    "Customer ID": st.one_of(st.integers(12340, 12350), st.sampled_from(["12346", "12347.0", "00123", "A-9", "", " "]),
                             st.floats(12340, 12350).map(float.__floor__).map(float)),
    "Country": st.sampled_from(["United Kingdom", "France", "EIRE", "Ísland", "中国", "", "RSA"]),
}


@st.composite
def header_names(draw, count: int) -> list[str]:
    """Random headers: unicode, empty, and duplicates once stripped (" x" and "x ")."""
    names = draw(st.lists(st.one_of(TEXT, st.sampled_from(UCI_HEADERS + ["", " ", "Unnamed: 0"])), min_size=count, max_size=count))
    if count >= 2 and draw(st.booleans()):
        base = draw(st.sampled_from(names))
        names[-1] = f" {base} "
    return names


@st.composite
def column_values(draw, n: int, values=None):
    """``n`` values of one column: a kind (or the column's plausible values), sometimes with missing values
    and a few wild values mixed in."""
    base = values if values is not None else KINDS[draw(st.sampled_from(sorted(KINDS)))]
    strategy = base
    if draw(st.booleans()):
        strategy = st.one_of(base, base, base, st.none())
    if values is not None and draw(st.integers(0, 3)) == 0:
        strategy = st.one_of(strategy, strategy, MIXED)
    return draw(st.lists(strategy, min_size=n, max_size=n))


@st.composite
def transaction_frames(draw) -> pd.DataFrame:
    """A random transaction frame: UCI columns (usually) or random ones, with random types and values."""
    n = draw(st.integers(1, 25))
    columns: list[tuple[str, list]] = []
    if draw(st.integers(0, 3)) > 0:  # usually the UCI headers, so that the mapping is found
        headers = [h for h in UCI_HEADERS if h in ("Customer ID", "InvoiceDate", "Quantity", "Price") or draw(st.booleans())]
        for header in draw(st.permutations(headers)):
            columns.append((header, draw(column_values(n, PLAUSIBLE[header]))))
    extra = draw(st.integers(0 if columns else 1, 3))
    for name in draw(header_names(extra)):
        columns.append((name, draw(column_values(n))))
    frame = pd.DataFrame({i: pd.Series(values) for i, (_, values) in enumerate(columns)})
    frame.columns = [name for name, _ in columns]
    return frame


# ---------------------------------------------------------------------------------------------- encoders


def csv_bytes(frame: pd.DataFrame) -> bytes:
    return frame.to_csv(index=False).encode("utf-8")


def parquet_bytes(frame: pd.DataFrame) -> bytes | None:
    """The frame as Parquet, or ``None`` when a column does not convert to Arrow (mixed objects, huge ints)."""
    try:
        arrays = [pa.array(frame.iloc[:, i], from_pandas=True) for i in range(frame.shape[1])]
        table = pa.Table.from_arrays(arrays, names=[str(name) for name in frame.columns])
        buffer = io.BytesIO()
        pq.write_table(table, buffer)
    except (pa.ArrowException, ValueError, TypeError, OverflowError):
        return None
    return buffer.getvalue()


# ---------------------------------------------------------------------------------------------- checks


def checked(run):
    """The analysis ``run()`` returns, checked for consistency; ``None`` when it raised RFMInputError."""
    try:
        result = run()
    except RFMInputError:
        return None
    report = result.report
    assert report.rows_read == report.rows_clean + sum(line.rows for line in report.ledger)
    assert all(line.rows >= 0 for line in report.ledger)
    assert report.customers <= report.rows_clean
    assert math.isfinite(report.revenue)
    table = result.customers
    assert len(table) == report.customers
    assert table.index.is_unique
    assert (table[schema.FREQUENCY] >= 1).all()
    if report.analysis_date is not None and report.last_date is not None:
        assert report.analysis_date >= report.last_date.date()
        assert (table[schema.RECENCY] >= 0).all()
    return result


def ledger_rows(result) -> dict[str, int]:
    return {line.rule: line.rows for line in result.report.ledger}


# ---------------------------------------------------------------------------------------------- tests


@FUZZ
@given(transaction_frames())
def test_random_frames_analyse_or_raise_input_error(frame):
    data = csv_bytes(frame)
    in_memory = checked(lambda: analyse(read_transactions(data, "f.csv")))
    scanned = checked(lambda: analyse_file(data, "f.csv"))
    if in_memory is not None and scanned is not None:
        summary = lambda r: (r.report.rows_read, r.report.rows_clean, r.report.customers, ledger_rows(r))  # noqa: E731
        assert summary(in_memory) == summary(scanned)
    parquet = parquet_bytes(frame)
    if parquet is not None:
        checked(lambda: analyse_file(parquet, "f.parquet"))


# Text-like bytes too (delimiters, quotes, digits, line ends, in several encodings), so that the CSV sniffing and
# the DuckDB scan run rather than the binary-data check refusing everything at once.
TEXTISH = st.tuples(
    st.text(st.sampled_from(list("abcC,;|\t\n\r\"' 0123456789.-/:€éم🛒")), max_size=300),
    st.sampled_from(["utf-8", "utf-8-sig", "utf-16", "cp1252"]),
).map(lambda pair: pair[0].encode(pair[1], errors="replace"))
RANDOM_BYTES = st.one_of(
    st.binary(max_size=400),
    TEXTISH,
    st.tuples(st.just(b"Invoice,Customer ID,InvoiceDate,Quantity,Price\n"), TEXTISH).map(b"".join),
    st.tuples(st.sampled_from([b"PK\x03\x04", b"PAR1", OLE_MAGIC]), st.binary(max_size=400)).map(b"".join),
    st.tuples(st.binary(max_size=200), st.sampled_from([b"PAR1", b""])).map(b"".join).map(lambda b: b"PAR1" + b),
)


@settings(FUZZ, max_examples=150)  # most random bytes are refused at once: cheap examples
@given(RANDOM_BYTES, st.sampled_from(["f.csv", "f.parquet", "f.xlsx", "f.xls", "f.ods", "f.txt", "f"]))
def test_random_bytes_open_or_raise_input_error(data, name):
    checked(lambda: analyse(open_transactions(data, name)))


# ---------------------------------------------------------------------------------------------- found by fuzzing


def test_a_column_with_no_values_is_scanned():
    # Every quantity missing: DuckDB once failed to join the (empty, untyped) lookup of its distinct values.
    data = b"InvoiceDate,Price,Quantity,Customer ID\nTrue,,,1970-01-01 00:00:00\n0,11.32,,False\n"
    assert checked(lambda: analyse(read_transactions(data, "f.csv"))) is None
    assert checked(lambda: analyse_file(data, "f.csv")) is None


def test_a_row_without_an_invoice_id_is_one_purchase():
    # The customer's only row has no invoice id: frequency was 0 and the average order value infinite.
    data = b"Invoice,Price,Customer ID,InvoiceDate,Quantity\n,1,12340,2011-08-23 23:16:59,1\n5001,1,12341,2011-01-01 10:00,2\n"
    for result in (analyse(read_transactions(data, "f.csv")), analyse_file(data, "f.csv")):
        assert result.customers[schema.FREQUENCY].to_dict() == {"12340": 1, "12341": 1}
        assert result.customers[schema.AVG_ORDER_VALUE].to_dict() == {"12340": 1.0, "12341": 2.0}
