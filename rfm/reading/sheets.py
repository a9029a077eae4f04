"""Loading one workbook sheet to Arrow, in this process or in a worker process.

A worker is ``python -m rfm.reading.sheets SHEET`` with the workbook's bytes on stdin; it writes the
sheet as an Arrow IPC stream on stdout, or one line on stderr and exit code 3. A plain subprocess,
not multiprocessing: "spawn" re-runs the parent's main module in each worker, and under Streamlit
that is the page script.
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import pyarrow as pa

EXIT_UNREADABLE = 3


def load_sheet_arrow(data: bytes, name: str) -> pa.Table:
    """``(pyarrow record batch, None)`` for the sheet, or ``(None, error_text)`` if it cannot be read."""
    import fastexcel

    try:
        # schema_sample_rows=None: type each column from all its rows. With the default sample, a
        # column whose text appears after row 1000 (e.g. "C" cancellation invoices) reads as null.
        return fastexcel.read_excel(data).load_sheet(name, schema_sample_rows=None).to_arrow(), None
    except Exception as exc:  # a damaged sheet: fastexcel has no single error type; the text goes back
        return None, str(exc)


def load_sheet_in_subprocess(data: bytes, name: str) -> pa.Table:
    """:func:`load_sheet_arrow` in a fresh interpreter (for parallel reading); same return value."""
    import subprocess

    import pyarrow as pa

    completed = subprocess.run(
        [sys.executable, "-m", "rfm.reading.sheets", name], input=data, capture_output=True, check=False
    )
    if completed.returncode == EXIT_UNREADABLE:
        return None, completed.stderr.decode("utf-8", "replace").strip()
    if completed.returncode != 0:
        raise OSError(f"sheet worker failed with exit code {completed.returncode}")
    return pa.ipc.open_stream(completed.stdout).read_all(), None


def main() -> int:
    import pyarrow as pa

    batch, error = load_sheet_arrow(sys.stdin.buffer.read(), sys.argv[1])
    if error is not None:
        print(error.replace("\n", " "), file=sys.stderr)
        return EXIT_UNREADABLE
    with pa.ipc.new_stream(sys.stdout.buffer, batch.schema) as writer:
        writer.write(batch)
    return 0


if __name__ == "__main__":
    sys.exit(main())
