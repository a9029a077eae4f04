"""Outputs: results in; what people take away out: labelled customer lists (``lists``), CSV, ZIP and workbook files
(``files``), the HTML report (``report``) and the plotly charts every page draws (``charts``). Uses: every other step.
"""

from rfm._exports import lazy_exports

__all__ = [
    "csv_bytes",
    "html_report",
    "labelled_customers",
    "segment_files",
    "segment_sizes",
    "with_values",
    "workbook_bytes",
    "zip_bytes",
]

__getattr__, __dir__ = lazy_exports(
    __name__,
    {
        "labelled_customers": "lists",
        "segment_sizes": "lists",
        "with_values": "lists",
        "csv_bytes": "files",
        "segment_files": "files",
        "workbook_bytes": "files",
        "zip_bytes": "files",
        "html_report": "report",
    },
)
