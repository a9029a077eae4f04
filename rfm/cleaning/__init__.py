"""Cleaning: a raw table in; clean transactions with a ledger of every removed row, the RFM table and the order table out.

The rules run as one ibis expression on DuckDB or Spark (``engine``, ``ledger``, ``sql`` prints them as SQL);
``analyse`` takes a file to its :class:`Analysis` in one call. Uses: ``rfm.reading``.
"""

from rfm._exports import lazy_exports

__all__ = [
    "Analysis",
    "CleanResult",
    "CleaningReport",
    "CleaningSettings",
    "LedgerLine",
    "analyse",
    "analyse_file",
    "clean",
    "mapping_overrides",
    "order_table",
    "resolve_mapping",
    "rfm_sql",
    "rfm_table",
    "use_spark",
]

__getattr__, __dir__ = lazy_exports(
    __name__,
    {
        "CleanResult": "ledger",
        "CleaningReport": "ledger",
        "CleaningSettings": "ledger",
        "LedgerLine": "ledger",
        "clean": "ledger",
        "rfm_table": "table",
        "order_table": "orders",
        "rfm_sql": "sql",
        "use_spark": "engine",
        "Analysis": "analyse",
        "analyse": "analyse",
        "analyse_file": "analyse",
        "mapping_overrides": "analyse",
        "resolve_mapping": "analyse",
    },
)
