"""How much memory reading and cleaning a file takes, and whether a server holding other analyses has room for it.

A workbook is unzipped and parsed whole: reading and cleaning the 1,067,371-row, 39 MB UCI-shaped workbook peaked at
about 820 MB above the interpreter (bench/RESULTS.md, "Fast in the browser"), about 21 times the file. A CSV, TSV or
Parquet file is scanned by DuckDB, which holds a sample and its own buffers: a few times the file. The multiples below
round those up. A server refuses a *big* upload (one that needs at least :data:`BIG_UPLOAD_MB`) when what it already
holds plus what the file needs is over its budget, with a sentence, instead of running out of memory; small files are
always read.
"""

from __future__ import annotations

from pathlib import PurePath

#: Memory needed per byte of the file, by extension (rounded up from the measurements above).
MEMORY_PER_FILE_BYTE: dict[str, float] = {
    "xlsx": 25.0, "xlsm": 25.0, "xls": 25.0, "ods": 25.0, "csv": 6.0, "tsv": 6.0, "txt": 6.0, "parquet": 4.0,
}
#: For an extension not listed.
DEFAULT_PER_FILE_BYTE = 25.0
#: An upload that needs less than this is always read, whatever the server holds.
BIG_UPLOAD_MB = 100.0
#: The variable that sets a server's budget in MB (default: three quarters of the machine's memory).
BUDGET_VARIABLE = "RFM_MEMORY_BUDGET_MB"


def memory_needed_mb(file_name: str, size_bytes: int) -> float:
    """The memory (MB) reading and cleaning this file is expected to take.

    Examples
    --------
    >>> memory_needed_mb("orders.xlsx", 40_000_000)
    1000.0
    >>> memory_needed_mb("orders.csv", 10_000_000)
    60.0
    """
    extension = PurePath(file_name).suffix.lower().lstrip(".")
    return size_bytes * MEMORY_PER_FILE_BYTE.get(extension, DEFAULT_PER_FILE_BYTE) / 1e6


def busy_message(file_name: str, size_bytes: int, used_mb: float, budget_mb: float) -> str | None:
    """``None`` when the server may read the file now; else why not, in one sentence (a big file that would take the
    server past its budget).

    Examples
    --------
    >>> busy_message("orders.csv", 1_000_000, used_mb=5_000, budget_mb=4_000) is None  # small: always read
    True
    >>> print(busy_message("orders.xlsx", 40_000_000, used_mb=3_500, budget_mb=4_000))  # doctest: +NORMALIZE_WHITESPACE
    The server is busy: it holds 3,500 MB for other analyses, and orders.xlsx needs about 1,000 MB more, over its
    budget of 4,000 MB. Try again in a few minutes (or ask whoever runs it to raise RFM_MEMORY_BUDGET_MB), or read the
    file with the command line: python -m rfm inspect FILE.
    """
    needed = memory_needed_mb(file_name, size_bytes)
    if needed < BIG_UPLOAD_MB or used_mb + needed <= budget_mb:
        return None
    return (
        f"The server is busy: it holds {used_mb:,.0f} MB for other analyses, and {file_name} needs about {needed:,.0f} MB "
        f"more, over its budget of {budget_mb:,.0f} MB. Try again in a few minutes (or ask whoever runs it to raise "
        f"{BUDGET_VARIABLE}), or read the file with the command line: python -m rfm inspect FILE."
    )
