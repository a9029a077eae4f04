"""Reading: a transaction file in, a raw table out.

In: CSV/TSV/TXT, Excel/ODS workbooks, Parquet files, folders or globs (bytes or a path). Out: a ``RawTable`` held in
memory or a ``ScannedTable`` that DuckDB scans, with how the file was read, the column mapping guessed from a sample,
and the value parsers (dates, numbers, ids). Uses: ``rfm.schema`` and ``rfm.errors`` only.
"""

from rfm._exports import lazy_exports

__all__ = [
    "DateDecision",
    "MappingGuess",
    "RawTable",
    "ReadInfo",
    "ScannedTable",
    "detect_mapping",
    "list_sheets",
    "open_transactions",
    "parse_dates",
    "parse_numbers",
    "read_transactions",
]

__getattr__, __dir__ = lazy_exports(
    __name__,
    {
        "RawTable": "files",
        "ReadInfo": "files",
        "list_sheets": "files",
        "read_transactions": "files",
        "ScannedTable": "scan",
        "open_transactions": "scan",
        "MappingGuess": "columns",
        "detect_mapping": "columns",
        "DateDecision": "values",
        "parse_dates": "values",
        "parse_numbers": "values",
    },
)
