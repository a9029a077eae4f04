"""Benchmark: the workspace (rfm.workspace) publishing and reading back runs of 5,000 and 200,000 customers, on each
store: an embedded DuckDB file and a PostgreSQL server.

The labelled list is synthetic, with every column a real one has (text with gaps, whole numbers, decimals with NaN,
dates with NaT, the nullable cluster and the lifecycle stage). For each store and size: ``publish`` (one transaction:
the run row and every customer), ``customers(run_id)`` (the list read back as a DataFrame), ``runs()`` (the list of
runs). PostgreSQL is ``RFM_TEST_POSTGRES_URL`` (default ``postgresql://rfm:rfm@127.0.0.1:5432/rfm``); the runs go to
a schema of their own, dropped at the end; without a server that store is skipped with the reason. Scripts print;
nothing is asserted.

    python bench/bench_workspace.py                        # 5,000 and 200,000 customers, both stores
    python bench/bench_workspace.py --customers 5000 --store duckdb
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
POSTGRES_URL = os.environ.get("RFM_TEST_POSTGRES_URL", "postgresql://rfm:rfm@127.0.0.1:5432/rfm")


def timed(label: str, function):
    started = time.perf_counter()
    result = function()
    print(f"{label:<60} {time.perf_counter() - started:8.2f} s", flush=True)
    return result


def labelled_frame(customers: int):
    """A labelled list of ``customers`` rows with the columns and dtypes rfm.outputs.lists gives."""
    import numpy as np
    import pandas as pd

    from rfm import schema
    from rfm.outputs.lists import LABELLED_COLUMNS

    rng = np.random.default_rng(0)
    integers = (schema.RECENCY, schema.FREQUENCY, schema.R_SCORE, schema.F_SCORE, schema.M_SCORE, schema.TENURE)
    floats = (schema.MONETARY, schema.AVG_ORDER_VALUE, schema.HISTORICAL_CLV, *schema.VALUE_COLUMNS,
              schema.CHURN_PROBABILITY, schema.AVG_DAYS_BETWEEN_ORDERS, schema.PREDICTED_ORDERS_365D)
    texts = (schema.RFM_CELL, schema.RFM_SEGMENT, schema.SEGMENT_NAME, schema.ACTION, schema.OUTLIER_TIER,
             schema.COUNTRY, schema.RFM_ACTION, schema.CHURN_RISK)
    dates = (schema.FIRST_PURCHASE, schema.LAST_PURCHASE, schema.EXPECTED_NEXT_ORDER)
    data = {
        schema.EMAIL: pd.array([f"customer{i}@example.com" if i % 7 else None for i in range(customers)], dtype="str"),
        schema.PHONE: pd.array([f"+44 7700 {i:06d}" if i % 3 else None for i in range(customers)], dtype="str"),
        schema.CLUSTER: pd.array(rng.integers(0, 6, customers), dtype="Int64"),
        schema.LIFECYCLE_STAGE: pd.Categorical(rng.choice(schema.LIFECYCLE_STAGES, customers), categories=schema.LIFECYCLE_STAGES, ordered=True),
    }
    data |= {column: rng.integers(0, 700, customers) for column in integers}
    data |= {column: rng.random(customers) * 500 for column in floats}
    data |= {column: pd.array(rng.choice(["Champions", "Loyal Customers", "At Risk", "Hibernating"], customers), dtype="str") for column in texts}
    start = pd.Timestamp("2009-12-01 08:00")
    data |= {column: (start + pd.to_timedelta(rng.integers(0, 7 * 10**7, customers), unit="s")).astype("datetime64[us]") for column in dates}
    frame = pd.DataFrame(data, index=pd.Index([f"{12000 + i}" for i in range(customers)], name=schema.CUSTOMER_ID))
    frame.loc[frame.index[::3], schema.AVG_DAYS_BETWEEN_ORDERS] = np.nan
    frame.loc[frame.index[::5], schema.EXPECTED_NEXT_ORDER] = pd.NaT
    return frame[[column for column in LABELLED_COLUMNS if column in frame.columns]]


def postgres_schema():
    """(URL of a fresh schema, drop it) or (None, reason)."""
    from sqlalchemy import create_engine, make_url, text

    admin = create_engine(make_url(POSTGRES_URL).set(drivername="postgresql+psycopg"), connect_args={"connect_timeout": 3})
    name = f"rfm_bench_{uuid.uuid4().hex[:8]}"
    try:
        with admin.begin() as connection:
            connection.execute(text(f'CREATE SCHEMA "{name}"'))
    except Exception as error:  # any reason: printed, and the store skipped
        return None, str(error).splitlines()[0]

    def drop() -> None:
        with admin.begin() as connection:
            connection.execute(text(f'DROP SCHEMA "{name}" CASCADE'))
        admin.dispose()

    url = make_url(POSTGRES_URL).update_query_dict({"options": f"-csearch_path={name}"})
    return url.render_as_string(hide_password=False), drop


def bench_store(label: str, url: str, sizes: list[int], path: Path | None = None) -> None:
    from rfm.workspace import Workspace

    with Workspace.open(url) as workspace:
        for customers in sizes:
            labelled = labelled_frame(customers)
            info = timed(f"{label}: publish {customers:,} customers", lambda: workspace.publish(
                f"Bench {customers}", labelled, published_by="bench", source_file="orders.xlsx", source_digest="sha256:0",
                rows_read=customers * 45, revenue=float(labelled["monetary"].sum()), settings={"k": 4}, ledger=[],
                model_json="{}" * 1000,
            ))
            back = timed(f"{label}: customers(run_id), {customers:,} rows back", lambda: workspace.customers(info.run_id))
            assert len(back) == customers  # the bench measures a working store, not a broken one
            timed(f"{label}: runs() listing", workspace.runs)
            bench_audience(label, workspace, info, back)
        if path is not None:
            workspace.close()
            print(f"{label}: file size after all runs {path.stat().st_size / 1e6:,.1f} MB")


def bench_audience(label: str, workspace, info, customers) -> None:
    """An audience of every customer with a 10% control group: the draw, storing it, and the comparison with a later
    run (here the same run again, read back from the store)."""
    from rfm.audiences.campaign import HeldBack, save_with_control
    from rfm.audiences.control import compare_groups, hold_out

    size = len(customers)
    timed(f"{label}: hold_out 10% of {size:,} (seeded draw)", lambda: hold_out(customers.index, 0.1, seed=1))
    made: HeldBack = timed(f"{label}: save the audience with its control group, {size:,}", lambda: save_with_control(
        workspace, info, customers, share=0.1, seed=1, label="bench", created_by="bench", by="segment_name",
        segments=[], movement="all",
    ))
    members = timed(f"{label}: audience_members back, {size:,}", lambda: workspace.audience_members(made.info.audience_id))
    timed(f"{label}: compare contacted with held back, {size:,}", lambda: compare_groups(members, customers, customers, info.published_at.date()))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--customers", type=int, action="append", help="list size (repeat); default 5,000 and 200,000")
    parser.add_argument("--store", choices=["duckdb", "postgresql"], action="append", help="default both")
    args = parser.parse_args(argv)
    sizes = args.customers or [5_000, 200_000]
    stores = args.store or ["duckdb", "postgresql"]
    if "duckdb" in stores:
        with tempfile.TemporaryDirectory() as folder:
            path = Path(folder) / "rfm.duckdb"
            bench_store("DuckDB", f"duckdb:///{path}", sizes, path)
    if "postgresql" in stores:
        url, drop = postgres_schema()
        if url is None:
            print(f"PostgreSQL skipped: {drop}")
            return
        try:
            bench_store("PostgreSQL", url, sizes)
        finally:
            drop()


if __name__ == "__main__":
    main()
