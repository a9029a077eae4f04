"""Bad and awkward input, through the library and through the command line.

Library: one ``RFMInputError`` per bad file, its message naming what is wrong. CLI (``python -m rfm inspect``):
exit code 2 and one line on stderr starting with "error:", never a traceback. The CLI runs are started
together once per module (each costs ~1.5 s of interpreter start-up) and the tests read their results.
"""

from __future__ import annotations

import io
import json
import re
import struct
import subprocess
import zipfile
import zlib
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from rfm.cleaning.analyse import analyse_file
from rfm.cleaning.ledger import CleaningSettings
from rfm.errors import RFMInputError
from rfm.reading.files import read_transactions

pytestmark = pytest.mark.slow

HEADER = "Invoice,InvoiceDate,Customer ID,Quantity,Price\n"
ORDERS = pd.DataFrame(
    {
        "Invoice": ["1", "2"],
        "InvoiceDate": pd.to_datetime(["2010-01-02", "2010-01-03"]),
        "Customer ID": [12346.0, 12347.0],
        "Quantity": [1, 2],
        "Price": [1.5, 2.0],
    }
)


def png_bytes() -> bytes:
    """A real 4x4 red PNG."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    pixels = b"".join(b"\x00" + bytes([255, 0, 0] * 4) for _ in range(4))
    header = struct.pack(">IIBBBBB", 4, 4, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(pixels)) + chunk(b"IEND", b"")


def xlsx_with_a_broken_sheet(workbook: bytes) -> bytes:
    """A complete zip whose worksheet XML is cut in half (the reader's error text spans several lines)."""
    source = zipfile.ZipFile(io.BytesIO(workbook))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for item in source.infolist():
            content = source.read(item.filename)
            if item.filename.endswith("sheet1.xml"):
                content = content[: len(content) // 2]
            archive.writestr(item, content)
    return buffer.getvalue()


@pytest.fixture(scope="module")
def bad_files(make_xlsx, locked_xlsx) -> dict[str, bytes]:
    workbook = make_xlsx({"Orders": ORDERS})
    return {
        "empty.csv": b"",
        "header_only.csv": HEADER.encode(),
        "garbage.csv": np.random.default_rng(0).integers(0, 256, 3000, dtype=np.uint8).tobytes(),
        "photo.csv": png_bytes(),
        "truncated.xlsx": workbook[: len(workbook) // 2],
        "broken_sheet.xlsx": xlsx_with_a_broken_sheet(workbook),
        "locked.xlsx": locked_xlsx,
        "ragged.csv": b"a,b,c\n1,2,3\n4,5,6,7\n",
        "no_columns.csv": b"Name,Colour,Size\nA,red,3\nB,blue,4\n",
        "all_cancelled.csv": (HEADER + "C1,2010-01-02,1,1,2.50\nC2,2010-01-03,2,1,2.50\n").encode(),
    }


# The message each bad file must give.
BAD_FILE_MESSAGES: dict[str, str] = {
    "empty.csv": r"empty\.csv is empty: it has no header and no rows\.",
    "header_only.csv": r"header_only\.csv has a header row but no data rows\.",
    "garbage.csv": r"garbage\.csv is not a table \(it contains binary data\)",
    "photo.csv": r"photo\.csv is not a table \(it contains binary data\)",
    "truncated.xlsx": r"truncated\.xlsx is damaged: it is not a complete \.xlsx/\.ods archive\.",
    "broken_sheet.xlsx": r"Sheet 'Orders' of broken_sheet\.xlsx cannot be read; it may be damaged \(.+\)\.$",
    "locked.xlsx": r"locked\.xlsx is password-protected: open it in Excel, remove the password",
    "ragged.csv": (
        r"ragged\.csv could not be split into columns with delimiter ',': .*Expected 3 fields in line 3, saw 4$"
    ),
    "no_columns.csv": (
        r"No column of no_columns\.csv could be recognised as customer_id or invoice_date or amount \(or quantity "
        r"and unit_price\) \(looked at 3 columns: \['Name', 'Colour', 'Size'\]"
    ),
    "all_cancelled.csv": (
        r"Every one of the 2 rows of all_cancelled\.csv was removed by cleaning; the largest rule is "
        r"'cancelled invoice' with 2 rows"
    ),
}

# Parsed, not refused: 2 x 1,234.50 + 1 x 5.00 = 2,474.00.
MONEY = HEADER + '1,2010-01-02,1,2,"£1,234.50"\n2,2010-01-03,2,1,$5.00\n'
MONEY_NOTE = "Price: removed currency symbols from 2 value(s); read thousands separators in 1 value(s)"
# Comma decimals in a ';' file: 2 x 2.55 + 3 x 1.50 = 9.60.
SEMICOLON = HEADER.replace(",", ";") + "1;2010-01-02;1;2;2,55\n2;2010-01-03;2;3;1,50\n"
# Two lines with text as the quantity; the third is 1 x 2.50.
TEXT_QUANTITY = HEADER + "1,2010-01-02,1,two,2.5\n2,2010-01-03,2,1,2.5\n3,2010-01-04,2,x,2.5\n"
# Ambiguous dates (01/02/2010 is 2 January month-first, 1 February day-first) and a second id column.
# By Buyer, day-first: A buys on 1 Feb (10.00); B on 3 Feb (2 x 10.00) and 5 Feb (5.00).
BUYERS = (
    "Invoice,InvoiceDate,Customer ID,Buyer,Quantity,Price\n"
    "1,01/02/2010,1,A,1,10\n2,03/02/2010,1,B,2,10\n3,05/02/2010,2,B,1,5\n"
)


# --- the library ------------------------------------------------------------------------------


@pytest.mark.parametrize("name", BAD_FILE_MESSAGES)
def test_library_refuses_bad_files_with_a_message_naming_the_problem(bad_files, name):
    with pytest.raises(RFMInputError, match=BAD_FILE_MESSAGES[name]):
        analyse_file(bad_files[name], name)


def test_library_refuses_a_file_over_the_upload_limit():
    data = ("Customer,Date,Amount\n" + "1,2024-01-02,9.50\n" * 20).encode()  # 21 + 20 x 18 = 381 bytes
    message = r"^tx\.csv is 381 bytes, over the upload limit of 100 bytes; it was not read\.$"
    with pytest.raises(RFMInputError, match=message):
        read_transactions(data, "tx.csv", max_bytes=100)


def test_upload_limit_in_megabytes():
    data = b"x" * (3 * 1024**2 // 2)  # 1.5 MiB: refused on size before anything else is looked at
    with pytest.raises(RFMInputError, match=r"^big\.csv is 1\.5 MB, over the upload limit of 1 MB; it was not read\.$"):
        read_transactions(data, "big.csv", max_bytes=1024**2)


def test_a_file_exactly_at_the_upload_limit_is_read():
    data = ("Customer,Date,Amount\n" + "1,2024-01-02,9.50\n" * 20).encode()
    assert len(read_transactions(data, "tx.csv", max_bytes=len(data)).frame) == 20


def test_currency_symbols_and_thousands_separators_are_parsed():
    analysis = analyse_file(MONEY.encode(), "money.csv")
    assert analysis.report.revenue == pytest.approx(2474.00)
    assert MONEY_NOTE in analysis.report.notes


def test_comma_decimals_in_a_semicolon_file():
    analysis = analyse_file(SEMICOLON.encode(), "semicolon.csv")
    assert analysis.read_info.delimiter == ";"
    assert analysis.report.revenue == pytest.approx(9.60)
    assert "Price: read ',' as the decimal separator" in analysis.report.notes


def test_text_in_the_quantity_column_is_counted_by_the_ledger():
    report = analyse_file(TEXT_QUANTITY.encode(), "quantity.csv").report
    ledger = {line.rule: line.rows for line in report.ledger}
    assert ledger["quantity not a number"] == 2
    assert (report.rows_read, report.rows_clean) == (3, 1)
    assert report.revenue == pytest.approx(2.50)


def test_a_mapping_override_changes_the_customers():
    detected = analyse_file(BUYERS.encode(), "buyers.csv")
    overridden = analyse_file(BUYERS.encode(), "buyers.csv", overrides={"customer_id": "Buyer"})
    assert list(detected.customers.index) == ["1", "2"]
    assert list(overridden.customers.index) == ["A", "B"]


def test_a_mapping_override_naming_a_missing_column():
    with pytest.raises(RFMInputError, match=r"Column 'Client' \(mapped to customer_id\) is not in buyers\.csv"):
        analyse_file(BUYERS.encode(), "buyers.csv", overrides={"customer_id": "Client"})


def test_the_date_order_setting_changes_the_parse():
    auto = analyse_file(BUYERS.encode(), "buyers.csv").report
    dayfirst = analyse_file(BUYERS.encode(), "buyers.csv", settings=CleaningSettings(date_order="dayfirst")).report
    assert (auto.first_date, auto.last_date) == (pd.Timestamp("2010-01-02"), pd.Timestamp("2010-05-02"))
    assert (dayfirst.first_date, dayfirst.last_date) == (pd.Timestamp("2010-02-01"), pd.Timestamp("2010-02-05"))


# --- the command line -------------------------------------------------------------------------


@pytest.fixture(scope="module")
def cli_runs(tmp_path_factory, cli, bad_files) -> dict[str, subprocess.CompletedProcess]:
    """Every CLI call of this module, started at once and awaited together."""
    folder = tmp_path_factory.mktemp("cli")
    commands: dict[str, list[str]] = {}
    for name, data in bad_files.items():
        (folder / name).write_bytes(data)
        commands[name] = ["inspect", str(folder / name)]
    (folder / "money.csv").write_bytes(MONEY.encode())
    commands["inspect --json"] = ["inspect", str(folder / "money.csv"), "--json"]
    (folder / "buyers.csv").write_bytes(BUYERS.encode())
    out = folder / "out.csv"
    commands["table"] = ["table", str(folder / "buyers.csv"), "--map", "customer_id=Buyer", "--dates", "dayfirst"]
    commands["table"] += ["-o", str(out)]
    return cli(commands)


@pytest.mark.parametrize("name", BAD_FILE_MESSAGES)
def test_cli_bad_file_exits_2_with_one_line_on_stderr(cli_runs, name):
    run = cli_runs[name]
    assert "Traceback" not in run.stderr
    assert run.returncode == 2
    lines = run.stderr.splitlines()
    assert len(lines) == 1, run.stderr
    assert lines[0].startswith("error: ")
    assert re.search(BAD_FILE_MESSAGES[name], lines[0].removeprefix("error: "))


def test_cli_inspect_json(cli_runs):
    run = cli_runs["inspect --json"]
    assert run.returncode == 0, run.stderr
    result = json.loads(run.stdout)
    for key in ("rows_read", "rows_clean", "customers", "revenue", "first_date", "last_date", "mapping", "ledger"):
        assert key in result, key
    assert (result["rows_read"], result["rows_clean"], result["customers"]) == (2, 2, 2)
    assert result["revenue"] == 2474.0
    assert (result["first_date"], result["last_date"]) == ("2010-01-02T00:00:00", "2010-01-03T00:00:00")
    assert result["mapping"]["unit_price"] == "Price"
    assert all({"rule", "rows", "revenue"} <= set(line) for line in result["ledger"])
    assert sum(line["rows"] for line in result["ledger"]) == 0
    assert MONEY_NOTE in result["notes"]


def test_cli_table_with_map_and_dates(cli_runs):
    run = cli_runs["table"]
    assert run.returncode == 0, run.stderr
    assert "Traceback" not in run.stderr
    table = pd.read_csv(Path(run.args[-1]), dtype={"customer_id": str}).set_index("customer_id")
    assert list(table.index) == ["A", "B"]  # one row per customer, ids from the Buyer column
    assert table["frequency"].tolist() == [1, 2]
    assert table["monetary"].tolist() == [10.0, 25.0]
    # Day-first: the last purchase is 5 February, so A (1 February) is 4 days old.
    assert table["recency_days"].tolist() == [4, 0]
    assert table["last_purchase"].tolist() == ["2010-02-01 00:00:00", "2010-02-05 00:00:00"]


# --- table --scores ---------------------------------------------------------------------------

# Five customers, distinct values on every metric, so with 5 scores each score is the customer's rank
# (recency: the most recent is R=5). The last purchase (customer 2, 2024-03-31) is the analysis date.
#   customer  invoices  last purchase      recency  spend          R F M  segment (R x F map)
#   1         5 x 200   2024-02-20 (40 d)  rank 5   1,000 rank 5   1 5 5  Can't Lose Them
#   2         1 x 10    2024-03-31 (0 d)   rank 1   10 rank 1      5 1 1  New Customers
#   3         3 x 10    2024-03-11 (20 d)  rank 3   30 rank 3      3 3 3  Need Attention
#   4         2 x 10    2024-03-21 (10 d)  rank 2   20 rank 2      4 2 2  Potential Loyalist
#   5         4 x 10    2024-03-01 (30 d)  rank 4   40 rank 4      2 4 4  At Risk
# Tiers: spend 10 20 30 40 1000 -> Q1 20, Q3 40, fence 40 + 1.5 x 20 = 70: customer 1 is a High Spender;
# orders 1 2 3 4 5 -> Q1 2, Q3 4, fence 7: nobody.
SCORED = {  # customer: (number of invoices, price of each, last purchase date)
    1: (5, 200, "2024-02-20"),
    2: (1, 10, "2024-03-31"),
    3: (3, 10, "2024-03-11"),
    4: (2, 10, "2024-03-21"),
    5: (4, 10, "2024-03-01"),
}


def _scored_csv() -> str:
    lines, invoice = [HEADER], 1000
    for customer, (invoices, price, last) in SCORED.items():
        for day in range(invoices - 1):  # the earlier invoices fall in January
            invoice += 1
            lines.append(f"{invoice},2024-01-{day + 1:02d},{customer},1,{price}\n")
        invoice += 1
        lines.append(f"{invoice},{last},{customer},1,{price}\n")
    return "".join(lines)


@pytest.fixture(scope="module")
def scores_runs(tmp_path_factory, cli) -> dict[str, subprocess.CompletedProcess]:
    folder = tmp_path_factory.mktemp("scores")
    source = folder / "orders.csv"
    source.write_text(_scored_csv())
    commands = {
        "scores": ["table", source, "-o", folder / "scored.csv", "--scores"],
        "bins 12": ["table", source, "-o", folder / "bins.csv", "--scores", "--bins", "12"],
        "negative multiplier": ["table", source, "-o", folder / "iqr.csv", "--scores", "--iqr-multiplier", "-1"],
    }
    return cli(commands)


def test_cli_table_with_scores(scores_runs):
    run = scores_runs["scores"]
    assert run.returncode == 0, run.stderr
    assert "Traceback" not in run.stderr
    table = pd.read_csv(Path(run.args[run.args.index("-o") + 1]), dtype={"customer_id": str, "rfm_cell": str})
    table = table.set_index("customer_id")
    assert list(table.columns[-7:]) == ["r_score", "f_score", "m_score", "rfm_cell", "segment", "tier", "lifecycle_stage"]
    assert list(table.index) == ["1", "2", "3", "4", "5"]
    assert table["recency_days"].tolist() == [40, 0, 20, 10, 30]
    assert table["r_score"].tolist() == [1, 5, 3, 4, 2]
    assert table["f_score"].tolist() == [5, 1, 3, 2, 4]
    assert table["m_score"].tolist() == [5, 1, 3, 2, 4]
    assert table["rfm_cell"].tolist() == ["155", "511", "333", "422", "244"]
    assert table["segment"].tolist() == [
        "Can't Lose Them", "New Customers", "Need Attention", "Potential Loyalist", "At Risk"
    ]
    assert table["tier"].tolist() == ["High Spender", "Regular", "Regular", "Regular", "Regular"]
    # Five customers are too few to measure the store's gaps: the default thresholds (30/90/180, 90 for new), said.
    assert table["lifecycle_stage"].tolist() == ["At risk", "New", "Active", "Active", "Active"]
    assert "Lifecycle stages use fixed default thresholds" in run.stderr


@pytest.mark.parametrize(
    ("key", "message"),
    [
        ("bins 12", "n_bins=12 should be between 3 and 10."),
        ("negative multiplier", "IQR multiplier=-1.0 should be a number >= 0."),
    ],
)
def test_cli_table_with_bad_score_settings_exits_2_with_one_line(scores_runs, key, message):
    run = scores_runs[key]
    assert run.returncode == 2
    assert "Traceback" not in run.stderr
    # Refused before the file is read: not even the file's "only 5 customers" warning comes first.
    assert run.stderr.splitlines() == [f"error: {message}"]
    assert not Path(run.args[run.args.index("-o") + 1]).exists()
