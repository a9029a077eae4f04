"""Real and synthetic data for tests and benchmarks: the shared UCI excerpt, CDNOW from the lifetimes wheel, RFM tables
and clean transaction files drawn at random."""

from __future__ import annotations

import re
import time
from importlib.util import find_spec
from pathlib import Path

import numpy as np
import pandas as pd

from rfm import schema

#: The real UCI Online Retail II excerpt beside the repository (tests skip when it is absent).
WORKBOOK = Path(__file__).resolve().parents[2] / "shared" / "data" / "online_retail_II_sample_nonUK.xlsx"


def lifetimes_datasets() -> Path | None:
    """The data folder of the lifetimes wheel (a test dependency, never imported by RFM Studio), or None: the public
    CDNOW files (Fader, Hardie & Lee 2005)."""
    spec = find_spec("lifetimes")
    return None if spec is None or not spec.submodule_search_locations else Path(spec.submodule_search_locations[0]) / "datasets"


def cdnow_master() -> Path | None:
    """CDNOW's master file (69,659 rows; 23,502 customers after cleaning; no invoice column), or None when absent."""
    folder = lifetimes_datasets()
    path = None if folder is None else folder / "CDNOW_master.txt"
    return path if path is not None and path.is_file() else None


# (share of customers, recency window in days, geometric p of frequency, log-normal mean of order value)
GROUPS = (
    (0.15, (0, 30), 0.12, 4.6),  # loyal: recent, many orders, bigger baskets
    (0.35, (10, 180), 0.35, 4.0),  # regular
    (0.20, (0, 60), 0.90, 3.6),  # new: recent, one order
    (0.30, (180, 730), 0.70, 3.4),  # lapsed
)


def synthetic_customers(n: int, seed: int = 7) -> pd.DataFrame:
    """An RFM table of ``n`` customers (recency_days, frequency, monetary), indexed by customer id."""
    rng = np.random.default_rng(seed)
    group = rng.choice(len(GROUPS), n, p=[g[0] for g in GROUPS])
    low = np.array([g[1][0] for g in GROUPS])[group]
    high = np.array([g[1][1] for g in GROUPS])[group]
    recency = rng.integers(low, high + 1)
    frequency = rng.geometric(np.array([g[2] for g in GROUPS])[group])
    order_value = rng.lognormal(np.array([g[3] for g in GROUPS])[group], 0.7)
    return pd.DataFrame(
        {schema.RECENCY: recency, schema.FREQUENCY: frequency, schema.MONETARY: np.round(frequency * order_value, 2)},
        index=pd.Index([f"C{i:06d}" for i in range(n)], name=schema.CUSTOMER_ID),
    )


COLUMNS = ("Invoice", "StockCode", "Description", "Quantity", "InvoiceDate", "Price", "Customer ID", "Country")


def transactions_csv(path: Path, first_id: int, customers: int, seed: int = 0) -> dict[str, int]:
    """Write clean UCI-shaped transactions for ``customers`` ids from ``first_id`` on; nothing is removed by cleaning.

    Customer ``i`` places ``1 + (i*7 + seed) % 6`` invoices of 1 to 3 lines on days spread over 2011, so the customers
    differ in recency, frequency and monetary value (enough spread for the k-sweep). Returns
    ``{"rows": lines written, "customers": customers}``.
    """
    lines = [",".join(COLUMNS)]
    invoice = 500_000 + first_id
    for index in range(customers):
        customer = first_id + index
        for order in range(1 + (index * 7 + seed) % 6):
            invoice += 1
            day = 1 + (index * 37 + order * 53 + seed * 11) % 330
            date = time.strftime("%Y-%m-%d", time.gmtime(1293840000 + day * 86400))  # 2011-01-01 + day
            for line in range(1 + (index + order) % 3):
                quantity = 1 + (index * 13 + line * 5 + order) % 24
                price = 0.5 + ((index * 17 + line * 3 + seed) % 40) * 0.75
                lines.append(
                    f"{invoice},{10_000 + line},ITEM {line},{quantity},{date} 10:{line:02d}:00,{price:.2f},{customer},Germany"
                )
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return {"rows": len(lines) - 1, "customers": customers}


def customer_ids(path: Path) -> set[str]:
    """The customer ids of a downloaded CSV (UTF-8 with a BOM), as text without a ``.0`` suffix."""
    import pandas as pd

    frame = pd.read_csv(path, encoding="utf-8-sig", dtype={"customer_id": str})
    return {re.sub(r"\.0$", "", str(value)) for value in frame["customer_id"]}


#: Rows of the real UCI Online Retail II workbook (both sheets), the size of bench/bench_pipeline.py's workbook.
UCI_II_ROWS = 1_067_371


def uci_shape_workbook_path(seed: int, rows: int = UCI_II_ROWS) -> Path:
    """Where :func:`uci_shape_workbook` caches the workbook of ``seed`` (outside git; the seed is in the name)."""
    from bench.bench_pipeline import CACHE

    return CACHE / f"online_retail_ii_shape_{rows}r_seed{seed}.xlsx"


def uci_shape_workbook(seed: int, rows: int = UCI_II_ROWS) -> tuple[Path, dict]:
    """A two-sheet workbook in the UCI Online Retail II shape, like bench/bench_pipeline.py's (the same generator,
    ``synthetic_transactions``, and the same two overlapping sheets), but drawn with ``seed`` and with customer ids
    moved up by ``seed * 100,000``: workbooks of different seeds differ in bytes and share no customer id.

    Generated once and cached (``$RFM_BENCH_CACHE`` or ``~/.cache/rfm-studio``) beside a ``.json`` of its figures:
    ``{"rows", "customers" (ids with at least one kept line: id present, not cancelled, quantity and price > 0),
    "first_id", "last_id", "sha256", "seconds" (generation time)}``. Returns ``(path, figures)``.
    """
    import hashlib
    import json

    from bench.bench_pipeline import synthetic_transactions, write_uci_workbook

    path = uci_shape_workbook_path(seed, rows)
    meta = path.with_suffix(".json")
    if path.exists() and meta.exists():
        return path, json.loads(meta.read_text())
    started = time.perf_counter()
    frame = synthetic_transactions(rows, seed=seed)
    frame["Customer ID"] = frame["Customer ID"] + seed * 100_000
    parts = write_uci_workbook(path, frame, rows)
    frame = pd.concat(parts)
    kept = frame[frame["Customer ID"].notna() & ~frame["Invoice"].str.startswith("C") & (frame["Quantity"] > 0) & (frame["Price"] > 0)]
    figures = {
        "rows": sum(len(part) for part in parts),
        "customers": int(kept["Customer ID"].nunique()),
        "first_id": int(frame["Customer ID"].min()),
        "last_id": int(frame["Customer ID"].max()),
        "sha256": hashlib.sha256(path.read_bytes()).hexdigest(),
        "seconds": round(time.perf_counter() - started, 1),
    }
    meta.write_text(json.dumps(figures, indent=1) + "\n")
    return path, figures
