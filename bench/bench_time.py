"""Benchmark: customers over time and predicted value on a generated UCI-shaped file.

Prints, for ``--rows`` generated transactions (devkit/datagen.py, cached outside git):
  * the cost of keeping the order table: ``analyse_file`` with and without ``with_orders``;
  * RFM as of one day, a migration between two dates, segment sizes at monthly and weekly snapshots;
  * BG/NBD + Gamma-Gamma fit, the per-customer value columns, and the holdout check;
  * campaign KPIs per segment;
  * monthly cohorts: retention and revenue per customer, month by month since the first order.
Scripts print; nothing is asserted.

    python bench/bench_time.py                  # 1,000,000 rows (CSV)
    python bench/bench_time.py --rows 10000000 --format parquet
    python bench/bench_time.py --customers 200000 --format parquet   # about that many customers (rows = 45 x)
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
ROWS_PER_CUSTOMER = 45  # datagen: about one customer buys per 45 rows (devkit/datagen.py)
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))


def timed(label: str, function):
    started = time.perf_counter()
    result = function()
    print(f"{label:<52} {time.perf_counter() - started:8.2f} s", flush=True)
    return result


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    size = parser.add_mutually_exclusive_group()
    size.add_argument("--rows", type=int, default=1_000_000)
    size.add_argument("--customers", type=int, help=f"about this many customers: {ROWS_PER_CUSTOMER} rows each")
    parser.add_argument("--format", choices=("csv", "parquet"), default="csv")
    args = parser.parse_args(argv)
    if args.customers:
        args.rows = args.customers * ROWS_PER_CUSTOMER

    from devkit import datagen
    from rfm.cleaning.analyse import analyse_file
    from rfm.segment_run import segment_run
    from rfm.trends.cohorts import cohort_files, cohort_table
    from rfm.trends.kpis import campaign_kpis
    from rfm.trends.migration import migrate
    from rfm.trends.timeline import date_range, default_dates, rfm_as_of, sizes_over_time, snapshot_days
    from rfm.value.predict import customer_value, fit_value, holdout

    path = datagen.transactions(args.rows, args.format)
    print(f"{args.rows:,} rows ({args.format}): {path}")
    analyse_file(path, with_orders=False)  # warm-up: imports, and a CSV's one-off copy to Parquet
    timed("analyse_file without the order table", lambda: analyse_file(path, with_orders=False))
    analysis = timed("analyse_file with the order table", lambda: analyse_file(path))
    orders, day = analysis.orders, analysis.report.analysis_date
    print(f"  {len(analysis.customers):,} customers, {len(orders):,} orders, {orders.memory_usage(deep=True).sum() / 2**20:,.0f} MiB of orders")
    run = timed("segment_run (k=4, for the model)", lambda: segment_run(analysis, k=4))
    first, last = date_range(orders)
    from_date, to_date = default_dates(orders, day)
    timed(f"rfm_as_of {from_date}", lambda: rfm_as_of(orders, from_date))
    moves = timed(f"migrate {from_date} -> {to_date} (RFM segments)", lambda: migrate(orders, run.bundle, from_date, to_date, "segment", 365))
    print(f"  {len(moves.customers):,} customers in {len(moves.flows)} flows")
    for every in ("month", "week"):
        days = snapshot_days(first, last, every)
        timed(f"sizes_over_time, {len(days)} {every}ly snapshots", lambda: sizes_over_time(orders, run.bundle, days, "segment", 365))
    timed("campaign_kpis (cluster segments)", lambda: campaign_kpis(analysis.customers, run.labelled["segment_name"], orders, from_date, to_date))
    cohorts = timed("cohort_table (monthly cohorts)", lambda: cohort_table(orders, day))
    print(f"  {cohorts.describe()}")
    timed("cohort_files (retention.csv, revenue.csv)", lambda: cohort_files(cohorts))
    model = timed("fit BG/NBD + Gamma-Gamma", lambda: fit_value(orders, day, "bgnbd"))
    print(f"  BG/NBD {model.purchases.params_}")
    chosen = timed("fit auto: 3 purchase models on all orders and on a holdout, + Gamma-Gamma", lambda: fit_value(orders, day))
    print(f"  {chosen.why()}")
    timed("customer_value (P(alive), purchases, CLV 12 months)", lambda: customer_value(model))
    check = timed("holdout (fit on two thirds, predict the rest)", lambda: holdout(orders, day))
    print(f"  actual {check.actual_total:,.0f} vs predicted {check.predicted_total:,.0f} repeat purchases, error {check.error:.3f}/customer")


if __name__ == "__main__":
    main()
