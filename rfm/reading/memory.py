"""How much memory reading and cleaning a file takes, and whether a server holding other analyses has room for it.

A workbook is unzipped and parsed whole: reading and cleaning the 1,067,371-row, 39 MB UCI-shaped workbook peaked at
about 820 MB above the interpreter (bench/RESULTS.md, "Fast in the browser"), about 21 times the file. A CSV, TSV or
Parquet file is scanned by DuckDB, which holds a sample and its own buffers: a few times the file. The multiples below
round those up. A server refuses a *big* upload (one that needs at least :data:`BIG_UPLOAD_MB`) when what it already
holds, plus what it promised to the big files still being read, plus what the file needs is over its budget, with a
sentence, instead of running out of memory; small files are always read.

What a server holds is measured (its process and the worker processes that read sheets); what it promised is kept
in :data:`ADMISSIONS`: ten uploads that arrive together are each checked before any of them has grown, so without the
promises every one of them passed (bench/RESULTS.md, "ten users").
"""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path, PurePath

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


def busy_message(
    file_name: str, size_bytes: int, used_mb: float, budget_mb: float, promised_mb: float = 0.0, reading: int = 0
) -> str | None:
    """``None`` when the server may read the file now; else why not, in one sentence (a big file that would take the
    server past its budget). ``promised_mb``: what ``reading`` big files admitted before, and still being read, are
    expected to take on top of ``used_mb``.

    Examples
    --------
    >>> busy_message("orders.csv", 1_000_000, used_mb=5_000, budget_mb=4_000) is None  # small: always read
    True
    >>> print(busy_message("orders.xlsx", 40_000_000, used_mb=3_500, budget_mb=4_000))  # doctest: +NORMALIZE_WHITESPACE
    The server is busy: it holds 3,500 MB for other analyses, and orders.xlsx needs about 1,000 MB more, over its
    budget of 4,000 MB. Try again in a few minutes (or ask whoever runs it to raise RFM_MEMORY_BUDGET_MB), or read the
    file with the command line: python -m rfm inspect FILE.
    >>> print(busy_message("orders.xlsx", 40_000_000, 900, 4_000, promised_mb=2_500, reading=2))  # doctest: +NORMALIZE_WHITESPACE
    The server is busy: it holds 900 MB for other analyses and is reading 2 more big files that need about 2,500 MB,
    and orders.xlsx needs about 1,000 MB more, over its budget of 4,000 MB. Try again in a few minutes (or ask whoever
    runs it to raise RFM_MEMORY_BUDGET_MB), or read the file with the command line: python -m rfm inspect FILE.
    """
    needed = memory_needed_mb(file_name, size_bytes)
    if needed < BIG_UPLOAD_MB or used_mb + promised_mb + needed <= budget_mb:
        return None
    files = "1 more big file that needs" if reading == 1 else f"{reading} more big files that need"
    being_read = f" and is reading {files} about {promised_mb:,.0f} MB" if reading else ""
    return (
        f"The server is busy: it holds {used_mb:,.0f} MB for other analyses{being_read}, and {file_name} needs about "
        f"{needed:,.0f} MB more, over its budget of {budget_mb:,.0f} MB. Try again in a few minutes (or ask whoever runs "
        f"it to raise {BUDGET_VARIABLE}), or read the file with the command line: python -m rfm inspect FILE."
    )


class Admissions:
    """The big reads a server admitted and has not finished, with the memory each is expected to take.

    :meth:`admit` checks a file against the budget counting these promises, and records its own when it is admitted;
    :meth:`release` ends it once the file is read (its memory is then in the measured figure). A promise older than
    ``expire_s`` is dropped: its session went away before reading. Thread-safe: each session runs in its own thread.
    """

    def __init__(self, expire_s: float = 600.0) -> None:
        self.expire_s = expire_s
        self._lock = threading.Lock()
        self._promised: dict[str, tuple[float, float]] = {}  # key -> (MB, when admitted, monotonic seconds)

    def admit(self, key: str, file_name: str, size_bytes: int, used_mb: float, budget_mb: float) -> str | None:
        """``None`` and the promise recorded under ``key`` (replacing an earlier one of that key), or why not.

        Examples
        --------
        >>> admissions = Admissions()
        >>> admissions.admit("ana", "a.xlsx", 40_000_000, used_mb=500, budget_mb=2_000) is None
        True
        >>> admissions.admit("bob", "b.xlsx", 40_000_000, used_mb=500, budget_mb=2_000)[:76]
        'The server is busy: it holds 500 MB for other analyses and is reading 1 more'
        >>> admissions.release("ana")
        >>> admissions.admit("bob", "b.xlsx", 40_000_000, used_mb=500, budget_mb=2_000) is None
        True
        """
        now = time.monotonic()
        with self._lock:
            self._promised = {k: v for k, v in self._promised.items() if k != key and now - v[1] < self.expire_s}
            promised = sum(mb for mb, _ in self._promised.values())
            message = busy_message(file_name, size_bytes, used_mb, budget_mb, promised, len(self._promised))
            needed = memory_needed_mb(file_name, size_bytes)
            if message is None and needed >= BIG_UPLOAD_MB:
                self._promised[key] = (needed, now)
            return message

    def release(self, key: str) -> None:
        with self._lock:
            self._promised.pop(key, None)

    def promised_mb(self) -> float:
        with self._lock:
            return sum(mb for mb, _ in self._promised.values())


#: The server's promises: one process, one memory, one set of promises shared by its sessions.
ADMISSIONS = Admissions()


def process_tree_rss_mb(pid: int | None = None) -> float:
    """The resident memory (MB) of process ``pid`` (default: this one) and every process below it, such as the worker
    processes that read a big workbook's sheets. Linux only (``/proc``); elsewhere the process's peak so far."""
    root = os.getpid() if pid is None else pid
    try:
        return sum(rss_kib(p) for p in descendants(root)) * 1024 / 1e6
    except OSError:
        import resource
        import sys

        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # kilobytes on Linux, bytes on macOS
        return peak / 1e6 if sys.platform == "darwin" else peak / 1e3


def descendants(root: int) -> list[int]:
    """``root`` and every process below it (from the parent ids in /proc/*/stat)."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue  # gone since listed
        parent = int(stat.rsplit(")", 1)[1].split()[1])  # the command name may hold spaces and parentheses
        children.setdefault(parent, []).append(int(entry))
    found, queue = [], [root]
    while queue:
        pid = queue.pop()
        found.append(pid)
        queue.extend(children.get(pid, []))
    return found


def rss_kib(pid: int) -> int:
    """VmRSS of ``pid`` in KiB; 0 for a process gone since it was listed."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except OSError:  # gone since it was listed
        return 0
    return 0
