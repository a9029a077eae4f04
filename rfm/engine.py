"""The engine that runs transaction-level expressions.

The rules, the ledger and the per-customer aggregation are ibis expressions, written once. They run
on an in-process DuckDB connection by default; the same expressions can be handed to any other ibis
backend (PySpark for data beyond one machine) without a second implementation.
"""

from __future__ import annotations

import itertools

import pandas as pd

_names = itertools.count()


def connect(backend: str = "duckdb"):
    """A new ibis connection (in-process DuckDB unless told otherwise)."""
    import ibis

    if backend != "duckdb":
        raise ValueError(f"backend={backend!r} is not available; use 'duckdb'")
    return ibis.duckdb.connect()


def load_frame(connection, frame: pd.DataFrame):
    """Put a pandas frame into the engine as a temporary table and return it as an ibis table."""
    name = f"rfm_transactions_{next(_names)}"
    return connection.create_table(name, obj=frame, temp=True)
