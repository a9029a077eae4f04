"""Benchmark: fitting the purchase models (BG/NBD, MBG/NBD, Pareto/NBD) on CDNOW.

Prints wall times (median of ``--repeats`` fits, and the fastest) of each model's ``fit`` on
  * CDNOW's 1/10th sample, 2,357 customers (the published 39-week calibration summary, in weeks);
  * CDNOW's master file, 23,502 customers (its 78-week summary built with ``clv_summary``, in weeks);
and of ``rfm.value.churn.compare_models`` (the three fits and their holdout checks) on the master file's 39-week
calibration summary with its 39-week holdout, with the number of distinct histories the likelihoods run over. The data ships in the lifetimes wheel (a test
dependency); without it the script says so and stops. Scripts print; nothing is asserted.

    python bench/bench_churn.py
    python bench/bench_churn.py --repeats 9
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from devkit.data import cdnow_master, lifetimes_datasets  # noqa: E402
from rfm import schema  # noqa: E402
from rfm.cleaning.orders import DATE, VALUE  # noqa: E402
from rfm.shared.numeric import distinct_rows  # noqa: E402
from rfm.value.churn import PURCHASE_MODELS, compare_models  # noqa: E402
from rfm.value.models import clv_summary  # noqa: E402

COLUMNS = ("frequency", "recency", "T")


def master_orders(path: Path) -> pd.DataFrame:
    """CDNOW's master file as an orders table, the orders of a positive value only."""
    raw = pd.read_csv(path, sep=r"\s+", header=0, names=["id", "date", "cds", "value"], dtype={"id": str, "date": str})
    raw = raw[raw["value"] > 0]  # as the app's cleaning does: 23,502 customers rather than 23,570
    return pd.DataFrame({
        schema.CUSTOMER_ID: raw["id"],
        DATE: pd.to_datetime(raw["date"], format="%Y%m%d"),
        VALUE: raw["value"].astype(float),
    })


def timed(function, repeats: int) -> tuple[float, float, object]:
    times, result = [], None
    for _ in range(repeats):
        started = time.perf_counter()
        result = function()
        times.append(time.perf_counter() - started)
    return statistics.median(times), min(times), result


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args(argv)
    folder, master = lifetimes_datasets(), cdnow_master()
    if folder is None or master is None:
        print("skipped: the lifetimes package, which ships the CDNOW data, is not installed")
        return
    orders = master_orders(master)
    summaries = {
        "CDNOW sample, 39 weeks": pd.read_csv(folder / "cdnow_customers_summary.csv", index_col="ID"),
        "CDNOW master, 78 weeks": clv_summary(orders, "1998-06-30", unit_days=7.0),
    }
    split = clv_summary(orders, "1998-06-30", calibration_end="1997-09-30", unit_days=7.0)
    print(f"{'fit (median / fastest of ' + str(args.repeats) + ')':<52} {'median':>9} {'fastest':>9}  note")
    print("-" * 110)
    for label, summary in summaries.items():
        columns = [summary[column] for column in COLUMNS]
        histories = len(distinct_rows(*(column.to_numpy(dtype=float) for column in columns))[1])
        print(f"{label}: {len(summary):,} customers, {histories:,} distinct histories")
        for name, model_class in PURCHASE_MODELS.items():
            median, fastest, model = timed(lambda: model_class().fit(*columns), args.repeats)
            params = ", ".join(f"{key}={value:.4g}" for key, value in model.params_.items())
            print(f"  {name:<50} {median:8.3f}s {fastest:8.3f}s  {params}; LL {model.log_likelihood_:,.2f}")
    median, fastest, comparison = timed(lambda: compare_models(split), args.repeats)
    print(f"CDNOW master, 39 + 39 weeks: {len(split):,} customers")
    print(f"  {'compare_models (3 fits + holdout checks)':<50} {median:8.3f}s {fastest:8.3f}s  best by BIC: {comparison.best.name}")
    for fit in comparison.fits:
        print(f"    {fit.name:<12} LL {fit.log_likelihood:,.2f}  BIC {fit.bic:,.1f}  holdout error {fit.holdout_error:.4f}")


if __name__ == "__main__":
    main()
