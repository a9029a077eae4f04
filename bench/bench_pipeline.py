"""Benchmark: read + clean + RFM on a 1,067,371-row two-sheet workbook shaped like UCI Online Retail II.

Prints, side by side in one run, wall time and peak memory for
  (a) the seed way: pandas.read_excel with openpyxl, pandas filters and groupby;
  (b) RFM Studio: rfm.analyse_file (fastexcel read, ibis/DuckDB rules, ledger and aggregation).
Each approach runs in its own child process so that peak memory (max RSS) is its own.

The workbook is generated once and cached outside git (``$RFM_BENCH_CACHE`` or ``~/.cache/rfm-studio``).

    python bench/bench_pipeline.py            # both approaches
    python bench/bench_pipeline.py --only ours
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

TOTAL_ROWS = 1_067_371  # rows of the real UCI Online Retail II workbook (both sheets)
SHEET_NAMES = ("Year 2009-2010", "Year 2010-2011")
CACHE = Path(os.environ.get("RFM_BENCH_CACHE", Path.home() / ".cache" / "rfm-studio"))
WORKBOOK = CACHE / "online_retail_ii_shape_1067371.xlsx"


# --- the workbook ---------------------------------------------------------------------------------


def synthetic_transactions(n_rows: int, seed: int = 11) -> pd.DataFrame:
    """UCI II-shaped rows (about 5,900 customers, 54,000 invoices), dated 2009-12-01..2011-12-09."""
    rng = np.random.default_rng(seed)
    n_invoices = n_rows // 20
    start = pd.Timestamp("2009-12-01 08:00")
    span_minutes = int((pd.Timestamp("2011-12-09 18:00") - start).total_seconds() // 60)
    invoice_minute = np.sort(rng.integers(0, span_minutes, n_invoices))
    invoice_customer = rng.integers(12346, 18288, n_invoices).astype("float64")
    invoice_customer[rng.random(n_invoices) < 0.2] = np.nan  # ~20% of invoices have no customer id
    invoice_country = rng.choice(["United Kingdom"] * 18 + ["Germany", "France", "EIRE", "Spain", "Netherlands"], n_invoices)
    cancelled = rng.random(n_invoices) < 0.02
    lines = rng.multinomial(n_rows - n_invoices, np.full(n_invoices, 1 / n_invoices)) + 1
    invoice_of_row = np.repeat(np.arange(n_invoices), lines)
    numbers = 489434 + np.arange(n_invoices)
    invoice = np.where(cancelled, np.char.add("C", numbers.astype(str)), numbers.astype(str))[invoice_of_row]
    products = rng.integers(0, 4000, n_rows)
    quantity = rng.choice([1, 2, 3, 4, 6, 12, 24, 48], n_rows)
    quantity = np.where(cancelled[invoice_of_row], -quantity, quantity)
    price = np.round(rng.choice([0.0] * 1 + [0.42, 0.85, 1.25, 1.65, 2.1, 2.95, 3.75, 4.95, 7.95, 12.75] * 50, n_rows), 2)
    return pd.DataFrame(
        {
            "Invoice": invoice,
            "StockCode": np.char.add("2", (products + 1000).astype(str)),
            "Description": np.char.add("PRODUCT ", products.astype(str)),
            "Quantity": quantity,
            "InvoiceDate": (start + pd.to_timedelta(invoice_minute[invoice_of_row], unit="min")),
            "Price": price,
            "Customer ID": invoice_customer[invoice_of_row],
            "Country": invoice_country[invoice_of_row],
        }
    )


def build_workbook(path: Path) -> None:
    """Two sheets that overlap on 2010-12-01..09 like the real workbook, TOTAL_ROWS rows in all."""
    first, second = write_uci_workbook(path, synthetic_transactions(TOTAL_ROWS), TOTAL_ROWS)
    print(f"built {path} ({len(first):,} + {len(second):,} = {len(first) + len(second):,} rows, {path.stat().st_size / 1e6:.1f} MB)")


def write_uci_workbook(path: Path, frame: pd.DataFrame, rows: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Write ``frame`` (``synthetic_transactions``' columns, in date order) as UCI's two sheets, which overlap on
    2010-12-01..09, ``rows`` rows in all; returns the two sheets' rows. Written to a temporary name, then renamed."""
    import xlsxwriter

    # Rows dated in the overlap are written to both sheets. Rows are in date order, so trimming the
    # tail by the overlap's size keeps the overlap intact and makes the two sheets `rows` rows.
    overlap = frame["InvoiceDate"].between("2010-12-01", "2010-12-09 23:59")
    frame = frame.iloc[: rows - int(overlap.sum())]
    dates = frame["InvoiceDate"]
    parts = (frame[dates < "2010-12-10"], frame[dates >= "2010-12-01"])
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.stem}.tmp-{os.getpid()}.xlsx")
    workbook = xlsxwriter.Workbook(tmp, {"constant_memory": True})
    date_format = workbook.add_format({"num_format": "yyyy-mm-dd hh:mm"})
    for name, part in zip(SHEET_NAMES, parts):
        sheet = workbook.add_worksheet(name)
        sheet.write_row(0, 0, list(part.columns))
        columns = [part[c].to_numpy() for c in part.columns]
        dates_py = part["InvoiceDate"].to_numpy().astype("datetime64[us]").tolist()
        for row in range(len(part)):
            invoice = columns[0][row]
            sheet.write(row + 1, 0, int(invoice) if invoice[0] != "C" else invoice)
            sheet.write_string(row + 1, 1, columns[1][row])
            sheet.write_string(row + 1, 2, columns[2][row])
            sheet.write_number(row + 1, 3, int(columns[3][row]))
            sheet.write_datetime(row + 1, 4, dates_py[row], date_format)
            sheet.write_number(row + 1, 5, float(columns[5][row]))
            customer = columns[6][row]
            if not np.isnan(customer):
                sheet.write_number(row + 1, 6, float(customer))
            sheet.write_string(row + 1, 7, columns[7][row])
    workbook.close()
    tmp.rename(path)
    return parts


# --- the two approaches -----------------------------------------------------------------------------


def run_seed(path: Path) -> dict:
    """The seed projects' way: openpyxl read, pandas filters, groupby."""
    started = time.perf_counter()
    sheets = pd.read_excel(path, sheet_name=None, engine="openpyxl")
    read = time.perf_counter()
    frame = pd.concat(sheets.values(), ignore_index=True).drop_duplicates()
    frame = frame.dropna(subset=["Customer ID"])
    frame = frame[~frame["Invoice"].astype(str).str.startswith("C")]
    frame = frame[(frame["Quantity"] > 0) & (frame["Price"] > 0)]
    frame["TotalPrice"] = frame["Quantity"] * frame["Price"]
    analysis_date = frame["InvoiceDate"].max() + pd.Timedelta(days=1)
    table = frame.groupby("Customer ID").agg(
        recency=("InvoiceDate", lambda d: (analysis_date - d.max()).days),
        frequency=("Invoice", "nunique"),
        monetary=("TotalPrice", "sum"),
    )
    done = time.perf_counter()
    return {"read_s": read - started, "clean_rfm_s": done - read, "total_s": done - started, "customers": len(table)}


def run_ours(path: Path) -> dict:
    started = time.perf_counter()
    from rfm.cleaning.analyse import analyse
    from rfm.reading.files import read_transactions

    raw = read_transactions(path)
    read = time.perf_counter()
    analysis = analyse(raw)
    done = time.perf_counter()
    return {
        "read_s": read - started,
        "clean_rfm_s": done - read,
        "total_s": done - started,
        "customers": len(analysis.customers),
        "rows_read": analysis.report.rows_read,
        "rows_merged": analysis.report.ledger[0].rows,
    }


def _child(approach: str, path: Path) -> dict:
    """Run one approach in a fresh interpreter; return its figures plus its peak RSS and that of
    the largest worker process it started (sheets are read in worker processes)."""
    code = (
        f"import json, resource, sys; sys.path.insert(0, {str(ROOT)!r}); sys.path.insert(0, {str(Path(__file__).parent)!r});"
        "import bench_pipeline as b; from pathlib import Path;"
        f"r = b.run_{approach}(Path({str(path)!r})); r['peak_mib'] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024;"
        "r['worker_peak_mib'] = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024;"
        "print(json.dumps(r))"
    )
    output = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True).stdout
    return json.loads(output.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--only", choices=("seed", "ours"))
    args = parser.parse_args()
    if not WORKBOOK.exists():
        print(f"building the benchmark workbook once (cached at {WORKBOOK}) ...", flush=True)
        build_workbook(WORKBOOK)
    print(f"workbook: {WORKBOOK} ({WORKBOOK.stat().st_size / 1e6:.1f} MB), {os.cpu_count()} cores")
    approaches = [args.only] if args.only else ["seed", "ours"]
    results = {name: _child(name, WORKBOOK) for name in approaches}
    labels = {"seed": "(a) pandas + openpyxl + groupby", "ours": "(b) RFM Studio (fastexcel + ibis/DuckDB)"}
    print(f"\n{'approach':<42} {'read s':>8} {'clean+RFM s':>12} {'total s':>8} {'peak MiB':>9} {'worker MiB':>11} {'customers':>10}")
    for name, r in results.items():
        print(
            f"{labels[name]:<42} {r['read_s']:>8.1f} {r['clean_rfm_s']:>12.2f} {r['total_s']:>8.1f} "
            f"{r['peak_mib']:>9.0f} {r['worker_peak_mib']:>11.0f} {r['customers']:>10,}"
        )
    if len(results) == 2:
        print(f"\nspeed-up: {results['seed']['total_s'] / results['ours']['total_s']:.1f}x")
    if "ours" in results:
        print(f"ours: {results['ours']['rows_read']:,} rows read, {results['ours']['rows_merged']:,} rows merged across sheets")


if __name__ == "__main__":
    main()
