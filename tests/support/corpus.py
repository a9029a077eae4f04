"""A corpus of bad and awkward input files, each generated here (no binaries in git) with its expected outcome.

Every :class:`Case` builds its file's bytes and says what the pipeline must do with it: refuse it with one
:class:`rfm.errors.RFMInputError` whose message matches ``error`` (the CLI then exits 2 with one ``error: ...``
line), or read it, with the specifics given (rows read, customers, ledger lines, warnings, notes).

    python tests/support/corpus.py OUTDIR     # writes every file of the corpus into OUTDIR, to look at them

The cases of ``tests/test_bad_input.py`` (BAD_FILE_MESSAGES) are not repeated here, except where a variant
is new (a workbook with the wrong extension, a corrupt zip that is not cut in half, ...).
"""

from __future__ import annotations

import struct
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # `python tests/support/corpus.py DIR` and pytest alike

from tests.support.builders import encrypted_xlsx_bytes, ods_bytes, xls_bytes, xlsx_bytes

HEADER = "Invoice,InvoiceDate,Customer ID,Quantity,Price,Country\n"
FEW_CUSTOMERS = "Only {n} customer(s) remain after cleaning"
DAMAGED = r"^{name} is damaged: it is not a complete \.xlsx/\.ods archive\.$"


@dataclass(frozen=True)
class Case:
    """One corpus file: its name (the extension may lie on purpose), how to build it, what must happen.

    ``error`` is a regex of the one-line message when the file is refused; otherwise the other fields
    are checked when given: ``ledger`` maps a rule to the rows it removed, ``optional`` a rule that is off
    to the rows it would remove, ``warnings``/``notes`` are substrings of one warning/note each.
    """

    name: str
    build: Callable[[], bytes]
    error: str | None = None
    rows_read: int | None = None
    customers: int | None = None
    revenue: float | None = None
    ledger: dict[str, int] = field(default_factory=dict)
    optional: dict[str, int] = field(default_factory=dict)
    warnings: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()
    dates: tuple[str, str] | None = None  # first and last purchase date, YYYY-MM-DD
    customer_ids: tuple[str, ...] | None = None  # the first customer ids of the RFM table, in order
    xfail: str | None = None  # a known bug outside the reader: what is wrong (the test expects the right outcome)


def _text(content: str, encoding: str = "utf-8") -> Callable[[], bytes]:
    return lambda: content.encode(encoding)


def _orders(n_customers: int = 12, rows: int = 3, *, sep: str = ",", start: str = "2011-01-03") -> str:
    """``rows`` purchases for each of ``n_customers`` (ids 10001..), one invoice each, a day apart."""
    lines = [HEADER.replace(",", sep)]
    day0 = pd.Timestamp(start)
    invoice = 500000
    for customer in range(n_customers):
        for row in range(rows):
            invoice += 1
            date = (day0 + pd.Timedelta(days=customer + 5 * row)).strftime("%Y-%m-%d")
            cells = [str(invoice), date, str(10001 + customer), str(row + 1), f"{1.25 + customer:.2f}", "France"]
            lines.append(sep.join(cells) + "\n")
    return "".join(lines)


ORDERS = _orders()  # 36 rows, 12 customers

ORDERS_FRAME = pd.DataFrame(
    {
        "Invoice": [f"{500001 + i}" for i in range(12)],
        "InvoiceDate": pd.date_range("2011-01-03", periods=12, freq="D"),
        "Customer ID": [10001.0 + i for i in range(12)],
        "Quantity": [2] * 12,
        "Price": [1.5] * 12,
        "Country": ["Spain"] * 12,
    }
)


def _ledger_rows(lines: list[str]) -> str:
    return HEADER + "".join(lines)


# --- workbooks ----------------------------------------------------------------------------------


def _xlsx() -> bytes:
    return xlsx_bytes({"Orders": ORDERS_FRAME})


def _notes_then_data() -> bytes:
    notes = pd.DataFrame({"About this export": ["Exported from the shop", "Prices in EUR", "Do not edit"]})
    return xlsx_bytes({"Notes": notes, "Orders": ORDERS_FRAME})


def _corrupt_central_directory() -> bytes:
    """A complete-length xlsx whose central directory is overwritten with noise."""
    data = bytearray(_xlsx())
    start = data.find(b"PK\x01\x02")
    data[start : start + 200] = bytes(range(200))
    return bytes(data)


def _zip_bomb() -> bytes:
    """A small real xlsx whose central directory claims each entry inflates to 2 GiB (the guard reads the
    declared sizes, so it refuses before inflating anything)."""
    data = bytearray(_xlsx())
    position = data.find(b"PK\x01\x02")
    while position != -1:
        struct.pack_into("<I", data, position + 24, 0x7FFF_FFFF)  # uncompressed size
        position = data.find(b"PK\x01\x02", position + 4)
    return bytes(data)


def _xls() -> bytes:
    rows: list[list[object]] = [["Invoice", "InvoiceDate", "Customer ID", "Quantity", "Price"]]
    rows += [[f"{600 + i}", f"2011-02-{i + 1:02d}", 20001 + i, 1, 3.5] for i in range(12)]
    return xls_bytes({"Sheet1": rows})


def _ods() -> bytes:
    rows: list[list[object]] = [["Invoice", "InvoiceDate", "Customer ID", "Quantity", "Price"]]
    rows += [[f"{700 + i}", f"2011-03-{i + 1:02d}", 30001 + i, 2, 4.0] for i in range(12)]
    return ods_bytes({"Orders": rows})


# --- awkward text -------------------------------------------------------------------------------

GARBAGE = np.random.default_rng(7).integers(0, 256, 5000, dtype=np.uint8).tobytes()

ACCENTED = (
    "Invoice,InvoiceDate,Customer ID,Quantity,Price,Country\n"
    + "".join(f"{800 + i},2011-04-{i + 1:02d},{40001 + i},1,2.50,Côte d'Ivoire Zürich Ørsted\n" for i in range(12))
)

BOX = (  # cp437 has box-drawing characters and accented letters at other code points than cp1252
    "Invoice,InvoiceDate,Customer ID,Quantity,Price,Country\n"
    + "".join(f"{900 + i},2011-05-{i + 1:02d},{50001 + i},1,2.50,Ça│Ñoño\n" for i in range(12))
)

TITLE_ROWS = "Sales report\nExported 2011-12-31 by the shop\n\n" + ORDERS

DUPLICATE_NAMES = (
    "Invoice,InvoiceDate,Customer ID,Quantity,Price,Price\n"
    + "".join(f"{1000 + i},2011-06-{i + 1:02d},{60001 + i},1,2.50,9.99\n" for i in range(12))
)

UNNAMED = (
    "Invoice,,Customer ID,Quantity,Price,\n"
    + "".join(f"{1100 + i},2011-06-{i + 1:02d},{61001 + i},1,2.50,x\n" for i in range(12))
)

WHITESPACE = "".join(  # "Customer ID" would be two columns here
    "  ".join(line.split(",")) + "\n" for line in ORDERS.replace("Customer ID", "CustomerID").splitlines()
)

COMMA_DECIMALS = _orders(sep=";").replace(".25;", ",25;")

MONEY = HEADER + "".join(
    f'{1200 + i},2011-07-{i + 1:02d},{62001 + i},1,"€1,{i:03d}.50",UK\n' for i in range(12)
)  # 12 x 1,000.50 + (0+...+11) = 12,072.00

TEXT_QUANTITY = HEADER + "".join(
    f"{1300 + i},2011-07-{i + 1:02d},{63001 + i},{'two' if i < 3 else i},2.00,UK\n" for i in range(12)
)

NONFINITE = HEADER + (
    "1401,2011-08-01,64001,1,NaN,UK\n"
    "1402,2011-08-02,64002,1,inf,UK\n"
    "1403,2011-08-03,64003,1,-inf,UK\n"
) + "".join(f"{1410 + i},2011-08-{i + 6:02d},{64010 + i},1,2.00,UK\n" for i in range(10))

HUGE = HEADER + "1491,2011-08-01,64491,1,1e308,UK\n" + "".join(  # finite, but x 100 to round cents is not
    f"{1492 + i},2011-08-{i + 2:02d},{64492 + i},1,2.00,UK\n" for i in range(11)
)

OVERFLOW = HEADER + "1501,2011-08-01,64501,1e300,1e300,UK\n" + "".join(  # 1e300 x 1e300 overflows a float
    f"{1510 + i},2011-08-{i + 2:02d},{64510 + i},1,2.00,UK\n" for i in range(11)
)

NEGATIVE_PRICES = HEADER + "".join(
    f"{1500 + i},2011-08-{i + 1:02d},{65001 + i},1,{-2.0 if i < 4 else 2.0},UK\n" for i in range(12)
)

SERIAL_DATES = HEADER + "".join(f"{1600 + i},{40544 + i},{66001 + i},1,2.00,UK\n" for i in range(12))  # 2011-01-01..

YYYYMMDD = HEADER + "".join(f"{1700 + i},201102{i + 1:02d},{67001 + i},1,2.00,UK\n" for i in range(12))

MIXED_ORDER = HEADER + "".join(  # 13/01 can only be day-first, 01/13 only month-first
    f"{1800 + i},{'13/01/2011' if i % 2 else '01/13/2011'},{68001 + i},1,2.00,UK\n" for i in range(12)
)

UNPARSEABLE_DATES = HEADER + "".join(
    f"{1900 + i},{'not a date' if i < 5 else f'2011-09-{i:02d}'},{69001 + i},1,2.00,UK\n" for i in range(15)
)

FAR_FUTURE = HEADER + "".join(f"{2000 + i},2011-10-{i + 1:02d},{70001 + i},1,2.00,UK\n" for i in range(11)) + (
    "2011,2999-12-31,70100,1,2.00,UK\n"
)

YEAR_1900 = HEADER + "".join(f"{2100 + i},2011-10-{i + 1:02d},{71001 + i},1,2.00,UK\n" for i in range(11)) + (
    "2111,1900-01-01,71100,1,2.00,UK\n"
)

MIXED_IDS = HEADER + "".join(
    f"{2200 + i},2011-11-{i + 1:02d},{12346 + i % 6}{'.0' if i % 2 else ''},1,2.00,UK\n" for i in range(12)
)

ALL_MISSING_CUSTOMERS = HEADER + "".join(f"{2300 + i},2011-11-{i + 1:02d},,1,2.00,UK\n" for i in range(12))

ONE_CUSTOMER = HEADER + "".join(f"{2400 + i},2011-11-{i + 1:02d},77777,1,2.00,UK\n" for i in range(12))

TWO_CUSTOMERS = HEADER + "".join(f"{2500 + i},2011-11-{i + 1:02d},{88880 + i % 2},1,2.00,UK\n" for i in range(12))

IDENTICAL_CUSTOMERS = HEADER + "".join(f"{2600 + i},2011-11-05,{90001 + i},1,2.00,UK\n" for i in range(12))

INJECTION_TEXT = ("=cmd|' /C calc'!A0", "+1", "-1+2", "@SUM(1)")
INJECTION = "Invoice,InvoiceDate,Customer ID,Quantity,Price,Country\n" + "".join(
    f'{2700 + i},2011-11-{i + 1:02d},"{INJECTION_TEXT[i % 4]}{"" if i < 4 else i}",1,2.00,"{INJECTION_TEXT[i % 4]}"\n'
    for i in range(12)
)

ONE_ROW = HEADER + "1,2011-01-02,12346,1,2.50,UK\n"

BIG_NUMBERS = HEADER + "".join(
    f"{2800 + i},2011-12-{i + 1:02d},{91001 + i},1,\"1,234,567,890.{i:02d}\",UK\n" for i in range(12)
)


CASES: dict[str, Case] = {}


def _add(key: str, case: Case) -> None:
    CASES[key] = case


_add("empty", Case("empty.csv", _text(""), error=r"^empty\.csv is empty: it has no header and no rows\.$"))
_add("whitespace_only", Case("blank.csv", _text("\n\n   \n\t\n"), error=r"^blank\.csv is empty"))
_add("header_only", Case("header.csv", _text(HEADER), error=r"^header\.csv has a header row but no data rows\.$"))
_add(
    "header_only_xlsx",
    Case("header.xlsx", lambda: xlsx_bytes({"Orders": ORDERS_FRAME.iloc[:0]}),
         error=r"^header\.xlsx has a header row but no data rows in sheet\(s\) \['Orders'\]\.$"),
)
_add("one_row", Case("one_row.csv", _text(ONE_ROW), rows_read=1, customers=1, warnings=(FEW_CUSTOMERS.format(n=1),)))
_add("garbage_csv", Case("garbage.csv", lambda: GARBAGE, error=r"^garbage\.csv is not a table \(it contains binary data\)"))
_add("csv_named_xlsx", Case("orders.xlsx", _text(ORDERS), rows_read=36, customers=12, revenue=486.0))
_add("xlsx_named_csv", Case("orders.csv", _xlsx, rows_read=12, customers=12, revenue=36.0))
_add("truncated_xlsx", Case("cut.xlsx", lambda: _xlsx()[:300], error=DAMAGED.format(name=r"cut\.xlsx")))
_add("corrupt_directory_xlsx", Case("corrupt.xlsx", _corrupt_central_directory, error=DAMAGED.format(name=r"corrupt\.xlsx")))
_add("locked_xlsx", Case("locked.xlsx", encrypted_xlsx_bytes, error=r"^locked\.xlsx is password-protected"))
_add("zip_bomb_xlsx", Case("bomb.xlsx", _zip_bomb, error=r"^bomb\.xlsx inflates to [\d.]+ GiB when unpacked"))
_add("notes_sheet_first", Case("notes_first.xlsx", _notes_then_data, rows_read=12, customers=12,
                                notes=("Skipped sheet(s) without transaction columns: Notes.",)))
_add("xls", Case("legacy.xls", _xls, rows_read=12, customers=12, revenue=42.0, dates=("2011-02-01", "2011-02-12")))
_add("ods", Case("sheet.ods", _ods, rows_read=12, customers=12, revenue=96.0, dates=("2011-03-01", "2011-03-12")))
_add("title_rows", Case("titled.csv", _text(TITLE_ROWS), rows_read=36, customers=12,
                        notes=("Skipped 2 title line(s) above the header.",)))
_add("duplicate_names", Case("dup_cols.csv", _text(DUPLICATE_NAMES), rows_read=12, customers=12, revenue=30.0))  # the first Price
_add("unnamed_columns", Case("unnamed.csv", _text(UNNAMED), rows_read=12, customers=12, dates=("2011-06-01", "2011-06-12")))
_add("utf16", Case("utf16.csv", _text(ACCENTED, "utf-16"), rows_read=12, customers=12))
_add("cp1252", Case("cp1252.csv", _text(ACCENTED, "cp1252"), rows_read=12, customers=12))
_add("cp437", Case("cp437.csv", _text(BOX, "cp437"), rows_read=12, customers=12, revenue=30.0))
_add("utf8_bom", Case("bom.csv", _text(ACCENTED, "utf-8-sig"), rows_read=12, customers=12))
_add("semicolon", Case("semi.csv", _text(_orders(sep=";")), rows_read=36, customers=12))
_add("tab", Case("tabs.tsv", _text(_orders(sep="\t")), rows_read=36, customers=12))
_add("pipe", Case("pipes.txt", _text(_orders(sep="|")), rows_read=36, customers=12))
_add("whitespace_separated", Case("spaces.txt", _text(WHITESPACE), rows_read=36, customers=12, revenue=486.0))
_add("comma_decimals", Case("comma_dec.csv", _text(COMMA_DECIMALS), rows_read=36, customers=12, revenue=486.0,
                            notes=("Price: read ',' as the decimal separator",)))
_add("currency_thousands", Case("money.csv", _text(MONEY), rows_read=12, customers=12, revenue=12072.0,
                                notes=("Price: removed currency symbols from 12 value(s); read thousands separators in 12 value(s)",)))
_add("big_thousands", Case("billions.csv", _text(BIG_NUMBERS), rows_read=12, customers=12, revenue=14_814_814_680.66))
_add("text_quantity", Case("qty_text.csv", _text(TEXT_QUANTITY), rows_read=12, customers=9, ledger={"quantity not a number": 3},
                           warnings=("3 of 12 rows were removed as 'quantity not a number'",)))
_add("nonfinite_numbers", Case("nonfinite.csv", _text(NONFINITE), rows_read=13, customers=10, revenue=20.0,
                               ledger={"unit price not a number": 3}))
_add("huge_price", Case("huge.csv", _text(HUGE), rows_read=12, customers=11, revenue=22.0, ledger={"line value too large": 1}))
_add("overflowing_amount", Case("overflow.csv", _text(OVERFLOW), rows_read=12, customers=11, revenue=22.0,
                                ledger={"line value too large": 1}))
_add("negative_prices", Case("negative.csv", _text(NEGATIVE_PRICES), rows_read=12, customers=8, ledger={"unit price ≤ 0": 4}))
_add("excel_serial_dates", Case("serials.csv", _text(SERIAL_DATES), rows_read=12, customers=12, dates=("2011-01-01", "2011-01-12")))
_add("yyyymmdd_dates", Case("yyyymmdd.csv", _text(YYYYMMDD), rows_read=12, dates=("2011-02-01", "2011-02-12")))
_add("mixed_date_order", Case("mixed_order.csv", _text(MIXED_ORDER), rows_read=12, dates=("2011-01-13", "2011-01-13")))
_add("unparseable_dates", Case("bad_dates.csv", _text(UNPARSEABLE_DATES), rows_read=15, ledger={"unparseable date": 5},
                               warnings=("5 of 15 rows were removed as 'unparseable date'",)))
_add("far_future_date", Case("future.csv", _text(FAR_FUTURE), rows_read=12, ledger={"unparseable date": 1},  # past pandas' 2262
                             dates=("2011-10-01", "2011-10-11")))
_add("year_1900", Case("y1900.csv", _text(YEAR_1900), rows_read=12, customers=12, dates=("1900-01-01", "2011-10-11")))
_add("mixed_ids", Case("ids.csv", _text(MIXED_IDS), rows_read=12, customers=6,
                       customer_ids=("12346", "12347", "12348", "12349", "12350", "12351")))
_add(
    "all_cancelled",
    Case("cancelled.csv", _text(HEADER + "C1,2011-01-02,1,1,2.50,UK\nC2,2011-01-03,2,1,2.50,UK\n"),
         error=r"^Every one of the 2 rows of cancelled\.csv was removed by cleaning; the largest rule is 'cancelled invoice'"),
)
_add(
    "all_customers_missing",
    Case("no_customers.csv", _text(ALL_MISSING_CUSTOMERS),
         error=r"^Every one of the 12 rows of no_customers\.csv was removed by cleaning; the largest rule is 'missing customer id'"),
)
_add("one_customer", Case("one_customer.csv", _text(ONE_CUSTOMER), rows_read=12, customers=1,
                          warnings=(FEW_CUSTOMERS.format(n=1),)))
_add("two_customers", Case("two_customers.csv", _text(TWO_CUSTOMERS), rows_read=12, customers=2,
                           warnings=(FEW_CUSTOMERS.format(n=2),)))
_add("identical_customers", Case("identical.csv", _text(IDENTICAL_CUSTOMERS), rows_read=12, customers=12,
                                 dates=("2011-11-05", "2011-11-05")))
_add("csv_injection", Case("injection.csv", _text(INJECTION), rows_read=12, customers=12,
                           customer_ids=("+1", "+15", "+19", "-1+2", "-1+210", "-1+26")))


def write_corpus(folder: str | Path) -> dict[str, Path]:
    """Write every case's file into ``folder`` (created), named as the case names it; returns key -> path."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    paths = {}
    for key, case in CASES.items():
        path = folder / case.name
        path.write_bytes(case.build())
        paths[key] = path
    return paths


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: python tests/support/corpus.py OUTDIR")
    written = write_corpus(sys.argv[1])
    print(f"wrote {len(written)} files to {sys.argv[1]}")
