"""Benchmark: the backtest (rfm.backtest) on generated UCI-shaped files of about 5,000 and 200,000 customers.

For each size: the file is generated once (devkit/datagen.py, cached outside git) and analysed (not timed), then the
backtest is timed as the Backtest page and ``python -m rfm backtest`` run it, at a 90-day holdout: RFM as of the
cut, scores and rule segments, the k-sweep and the clusters at the cut, BG/NBD, MBG/NBD, Pareto/NBD and Gamma-Gamma,
the AUCs, top-20% shares, gains curves and the per-segment table. Also the same with k given (no sweep), as when
k was picked on the Clusters page. Scripts print; nothing is asserted.

    python bench/bench_backtest.py                         # 5,000 and 200,000 customers
    python bench/bench_backtest.py --customers 5000
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
ROWS_PER_CUSTOMER = 45  # datagen: about one customer buys per 45 rows (devkit/datagen.py)
sys.path.insert(0, str(ROOT))


def timed(label: str, function):
    started = time.perf_counter()
    result = function()
    print(f"{label:<60} {time.perf_counter() - started:8.2f} s", flush=True)
    return result


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--customers", type=int, action="append", help="about this many customers (repeat); default 5,000 and 200,000")
    parser.add_argument("--holdout-days", type=int, default=90)
    args = parser.parse_args(argv)

    from devkit import datagen
    from rfm.backtest.run import BacktestSettings, backtest
    from rfm.backtest.separation import predictive_separation
    from rfm.cleaning.analyse import analyse_file
    from rfm.clustering.fit import ClusterSettings

    for customers in args.customers or [5_000, 200_000]:
        rows = customers * ROWS_PER_CUSTOMER
        path = datagen.transactions(rows, "csv" if rows <= 1_000_000 else "parquet")
        analysis = analyse_file(path)
        orders, day = analysis.orders, analysis.report.analysis_date
        print(f"{rows:,} rows: {len(analysis.customers):,} customers, {len(orders):,} orders ({path.name})")
        result = timed(
            f"backtest, {args.holdout_days}-day holdout, k from the sweep at the cut",
            lambda: backtest(orders, day, BacktestSettings(args.holdout_days)),
        )
        print(f"  cut {result.cut}: {result.customers_at_cut:,} customers, {result.bought_again:,} bought again; k={result.k}")
        for key, row in result.rankings.iterrows():
            print(f"  {key:<11} AUC {row['auc']:.3f}  top 20% revenue {row['top20_revenue_share']:.1%}")
        print(f"  {result.verdict()}")
        timed(f"backtest, {args.holdout_days}-day holdout, k={result.k} given", lambda: backtest(orders, day, BacktestSettings(args.holdout_days, k=result.k)))
        separation = timed(
            "predictive separation for k = 3..8 (the Clusters page's sweep)",
            lambda: predictive_separation(orders, day, range(3, 9), ClusterSettings()),
        )
        print("  spread by k: " + ", ".join(f"{k}: {v:.0%}" for k, v in separation.as_dict().items()))


if __name__ == "__main__":
    main()
