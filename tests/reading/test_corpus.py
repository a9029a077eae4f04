"""Every file of the bad-input corpus (tests/corpus.py) through the library and through ``python -m rfm inspect``.

Library: ``analyse_file`` either raises ``RFMInputError`` matching the case's message, or reads the file with
the case's specifics; the ledger always adds up. Any other exception is a bug. CLI: exit code 0 or 2, never a
traceback, and on 2 exactly one ``error: ...`` line matching the same message. Plus the cases that are not
files of the corpus: a million identical rows, the upload limit, the zip bomb refused before reading, the
CSV-injection text neutralised in the export, and k=4 on two customers.
"""

from __future__ import annotations

import csv
import io
import json
import math
import re
import subprocess
import time

import pytest

from rfm.cleaning.analyse import analyse_file
from rfm.errors import RFMInputError
from rfm.reading.scan import open_transactions
from tests.support.corpus import CASES, INJECTION_TEXT, TWO_CUSTOMERS, Case, write_corpus

pytestmark = pytest.mark.slow

CLI_BATCH = 8  # CLI runs started at once: ~1.5 s of start-up each, on 2 cores


def _cases() -> list:
    """Case keys as pytest params, the known bugs marked xfail (strict: a fix must remove the mark)."""
    return [
        pytest.param(key, marks=pytest.mark.xfail(reason=case.xfail, strict=True)) if case.xfail else key
        for key, case in CASES.items()
    ]


def check_analysis(case: Case, analysis) -> None:
    """The case's expectations on a successful read; the ledger always adds up."""
    report = analysis.report
    ledger = {line.rule: line.rows for line in report.ledger if line.rows}
    assert report.rows_read == report.rows_clean + sum(line.rows for line in report.ledger)
    assert math.isfinite(report.revenue), report.revenue
    assert analysis.customers["monetary"].map(math.isfinite).all()
    if case.rows_read is not None:
        assert report.rows_read == case.rows_read
    if case.customers is not None:
        assert report.customers == len(analysis.customers) == case.customers
    if case.revenue is not None:
        assert report.revenue == pytest.approx(case.revenue)
    assert ledger == case.ledger
    optional = {line.rule: line.rows for line in report.optional if line.rows}
    assert optional == case.optional
    for expected in case.warnings:
        assert any(expected in warning for warning in report.warnings), (expected, report.warnings)
    if not case.warnings:
        assert not [w for w in report.warnings if "customer(s) remain" not in w], report.warnings
    for expected in case.notes:
        assert any(expected in note for note in report.notes), (expected, report.notes)
    if case.dates is not None:
        assert (f"{report.first_date:%Y-%m-%d}", f"{report.last_date:%Y-%m-%d}") == case.dates
    if case.customer_ids is not None:
        assert tuple(analysis.customers.index[: len(case.customer_ids)]) == case.customer_ids


def test_the_corpus_has_at_least_40_files():
    assert len(CASES) >= 40
    assert len({case.name for case in CASES.values()}) == len(CASES)  # names are unique too


# --- the library --------------------------------------------------------------------------------


@pytest.mark.parametrize("key", _cases())
def test_library(key):
    case = CASES[key]
    data = case.build()
    if case.error is not None:
        with pytest.raises(RFMInputError, match=case.error) as caught:
            analyse_file(data, case.name)
        assert "\n" not in str(caught.value)
        return
    check_analysis(case, analyse_file(data, case.name))


def test_a_million_identical_rows(tmp_path):
    """Scanned, not loaded: one customer, and the off-by-default duplicates rule would remove all but one row."""
    path = tmp_path / "million.csv"
    line = b"536365,2010-12-01 08:26:00,17850,6,2.55,United Kingdom\n"
    path.write_bytes(b"Invoice,InvoiceDate,Customer ID,Quantity,Price,Country\n" + line * 1_000_000)
    report = analyse_file(path).report
    assert (report.rows_read, report.rows_clean, report.customers) == (1_000_000, 1_000_000, 1)
    assert report.revenue == pytest.approx(1_000_000 * 6 * 2.55)
    would_remove = {line.rule: line.rows for line in report.optional if not line.applied}
    assert would_remove["exact duplicate row"] == 999_999
    assert sum(line.rows for line in report.ledger) == 0


@pytest.mark.parametrize("key", ["csv_named_xlsx", "xlsx_named_csv", "ods", "xls"])
def test_a_file_over_the_upload_limit_is_refused_unread(key, tmp_path):
    case = CASES[key]
    data = case.build()
    assert len(data) > 1000
    message = rf"^{re.escape(case.name)} is [\d.,]+ (bytes|KB), over the upload limit of 1,?000 bytes; it was not read\.$"
    with pytest.raises(RFMInputError, match=message):
        open_transactions(data, case.name, max_bytes=1000)
    path = tmp_path / case.name
    path.write_bytes(data)
    with pytest.raises(RFMInputError, match=message):
        open_transactions(path, max_bytes=1000)


def test_the_zip_bomb_is_refused_before_anything_is_inflated(monkeypatch):
    import fastexcel

    def must_not_open(*args, **kwargs):
        raise AssertionError("the workbook was opened")

    monkeypatch.setattr(fastexcel, "read_excel", must_not_open)
    started = time.perf_counter()
    data = CASES["zip_bomb_xlsx"].build()
    assert time.perf_counter() - started < 2.0
    assert len(data) < 20_000
    with pytest.raises(RFMInputError, match=CASES["zip_bomb_xlsx"].error):
        analyse_file(data, "bomb.xlsx")


def test_csv_injection_text_is_neutralised_in_the_export():
    from rfm.outputs.files import csv_bytes
    from rfm.segment_run import segment_run

    analysis = analyse_file(CASES["csv_injection"].build(), "injection.csv")
    labelled = segment_run(analysis, k=2).labelled
    rows = list(csv.reader(io.StringIO(csv_bytes(labelled).decode("utf-8-sig"))))
    header, body = rows[0], rows[1:]
    ids = [row[0] for row in body]
    assert len(ids) == 12 and all(value.startswith("'") for value in ids), ids
    assert all(any(value.startswith("'" + text) for text in INJECTION_TEXT) for value in ids), ids
    country = [row[header.index("country")] for row in body]
    assert set(country) == {"'" + text for text in INJECTION_TEXT}


@pytest.mark.parametrize("key", ["huge_price", "overflowing_amount"])
def test_segmenting_huge_values_is_not_a_crash(key):
    """The line too large to be real is removed by cleaning, so the rest segments normally."""
    from rfm.segment_run import segment_run

    run = segment_run(analyse_file(CASES[key].build(), CASES[key].name), k=2)
    assert len(run.labelled) == 11 and run.labelled["monetary"].abs().max() < 1e12


# --- the command line ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def cli_runs(tmp_path_factory, cli) -> dict[str, subprocess.CompletedProcess]:
    """``inspect --json`` on every corpus file, plus ``segment --k 4`` on two customers, in batches."""
    folder = tmp_path_factory.mktemp("corpus")
    paths = write_corpus(folder)
    commands: dict[str, list] = {key: ["inspect", "--json", path] for key, path in paths.items()}
    two = folder / "two.csv"
    two.write_text(TWO_CUSTOMERS)
    commands["segment k=4"] = ["segment", two, "--k", "4", "--out", folder / "segment_out"]
    runs: dict[str, subprocess.CompletedProcess] = {}
    keys = list(commands)
    for start in range(0, len(keys), CLI_BATCH):
        runs.update(cli({key: commands[key] for key in keys[start : start + CLI_BATCH]}))
    return runs


@pytest.mark.parametrize("key", _cases())
def test_cli_inspect(cli_runs, key):
    case, run = CASES[key], cli_runs[key]
    assert "Traceback" not in run.stderr, run.stderr
    assert run.returncode in (0, 2)
    if case.error is not None:
        assert run.returncode == 2, run.stdout
        lines = run.stderr.splitlines()
        assert len(lines) == 1, run.stderr
        assert lines[0].startswith("error: ")
        assert re.search(case.error, lines[0].removeprefix("error: "))
        return
    assert run.returncode == 0, run.stderr
    result = json.loads(run.stdout)
    assert math.isfinite(result["revenue"]), result["revenue"]
    assert result["rows_read"] == result["rows_clean"] + sum(line["rows"] for line in result["ledger"])
    if case.rows_read is not None:
        assert result["rows_read"] == case.rows_read
    if case.customers is not None:
        assert result["customers"] == case.customers
    assert {line["rule"]: line["rows"] for line in result["ledger"] if line["rows"]} == case.ledger
    warnings = [line.removeprefix("warning: ") for line in run.stderr.splitlines()]
    assert all(line.startswith("warning: ") for line in run.stderr.splitlines()), run.stderr
    for expected in case.warnings:
        assert any(expected in warning for warning in warnings), (expected, warnings)


def test_cli_segment_k4_on_two_customers_fits_two_clusters_with_a_warning(cli_runs):
    run = cli_runs["segment k=4"]
    assert "Traceback" not in run.stderr
    assert run.returncode == 0, run.stderr
    assert "warning: n_samples=2 is below n_clusters=4: fitted 2 clusters." in run.stderr.splitlines()
    assert "2 customers in 2 segments" in run.stderr


def test_a_workbook_declaring_too_many_rows_is_refused_before_reading(monkeypatch, make_xlsx):
    """The row-count guard reads each sheet's <dimension> only: fastexcel is never called."""
    import zipfile

    import fastexcel
    import pandas as pd

    from rfm.reading import files as read

    workbook = make_xlsx({"Orders": pd.DataFrame({"Customer": ["A"], "Date": ["2024-01-02"], "Amount": [1.0]})})
    source, out = zipfile.ZipFile(io.BytesIO(workbook)), io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for member in source.infolist():
            content = source.read(member)
            if member.filename.startswith("xl/worksheets/sheet"):
                content = re.sub(rb"<dimension ref=\"[^\"]*\"", b'<dimension ref="A1:C3000000"', content)
                assert b'A1:C3000000' in content
                target.writestr("xl/worksheets/sheet99.xml", content)  # a second part declaring as many rows
            target.writestr(member, content)
    monkeypatch.setattr(fastexcel, "read_excel", lambda *a, **k: pytest.fail("the workbook was read"))
    assert read._declared_rows(out.getvalue()) == 6_000_000
    with pytest.raises(RFMInputError, match=r"x\.xlsx declares 6,000,000 rows in its sheets, over the limit of 5,000,000.*Export it as CSV or Parquet"):
        read.read_transactions(out.getvalue(), "x.xlsx")
