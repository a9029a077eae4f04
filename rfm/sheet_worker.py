"""Loading one workbook sheet to Arrow, in this process or in a worker process.

It lives apart from :mod:`rfm.read` so that a worker started with "spawn" imports fastexcel only.
"""

from __future__ import annotations


def load_sheet_arrow(data: bytes, name: str):
    """``(pyarrow.Table, None)`` for the sheet, or ``(None, error_text)`` if it cannot be read."""
    import fastexcel

    try:
        # schema_sample_rows=None: type each column from all its rows. With the default sample, a
        # column whose text appears after row 1000 (e.g. "C" cancellation invoices) reads as null.
        return fastexcel.read_excel(data).load_sheet(name, schema_sample_rows=None).to_arrow(), None
    except Exception as exc:  # a damaged sheet: fastexcel has no single error type; the text goes back
        return None, str(exc)
