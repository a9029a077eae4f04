"""What the Data page shows of a file before anything is chosen, as plain JSON.

A new session opens on the demo workbook. Reading and cleaning it needs the engine (ibis and DuckDB), about two
seconds and 200 MB on a fresh server, before the user has asked for anything. ``rfm demo`` therefore writes the
demo's :class:`FileSummary` beside the workbook (``data/demo_online_retail.summary.json``), and the app shows the
Data page from it while the file and the choices are the demo's own. The summary carries the SHA-256 of the bytes
it was made from: for any other bytes it is not used, and a test rebuilds it from the workbook and compares.
Reading the summary imports neither the engine nor the file readers.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from rfm.cleaning.ledger import CleaningReport, LedgerLine
from rfm.reading.columns import MappingGuess
from rfm.reading.values import DateDecision
from rfm.schema import ColumnMapping

#: Raised when the summary's layout changes: an older file is then not used (the page computes instead).
SUMMARY_VERSION = 1


@dataclass(frozen=True)
class FileSummary:
    """Everything the Data page shows of one file read with the default choices (every sheet, no overrides,
    default cleaning settings)."""

    digest: str  # SHA-256 of the file's bytes
    sheets: tuple[str, ...]  # the workbook's sheets; () for files without sheets
    described: str  # how the file was read, in words (ReadInfo.describe)
    held: str  # how its rows are held (:func:`rfm.reading.scan.how_held`)
    rows: int
    columns: tuple[str, ...]
    guess: MappingGuess
    countries: tuple[str, ...]
    report: CleaningReport
    preview: pd.DataFrame  # the first clean transactions

    def __eq__(self, other: object) -> bool:  # the preview is a frame: compared by value
        if not isinstance(other, FileSummary):
            return NotImplemented
        simple = [name for name in self.__dataclass_fields__ if name != "preview"]
        return all(getattr(self, name) == getattr(other, name) for name in simple) and self.preview.equals(other.preview)

    __hash__ = None  # type: ignore[assignment]

    def as_json(self) -> dict[str, Any]:
        return {
            "version": SUMMARY_VERSION,
            "digest": self.digest,
            "sheets": list(self.sheets),
            "described": self.described,
            "held": self.held,
            "rows": self.rows,
            "columns": list(self.columns),
            "guess": {
                "mapping": self.guess.mapping.as_dict(),
                "confidence": [list(pair) for pair in self.guess.confidence],
                "reasons": [list(pair) for pair in self.guess.reasons],
            },
            "countries": list(self.countries),
            "report": _report_json(self.report),
            "preview": _frame_json(self.preview),
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> FileSummary:
        guess = data["guess"]
        return cls(
            digest=data["digest"],
            sheets=tuple(data["sheets"]),
            described=data["described"],
            held=data["held"],
            rows=data["rows"],
            columns=tuple(data["columns"]),
            guess=MappingGuess(
                mapping=ColumnMapping(**guess["mapping"]),
                confidence=tuple((field, value) for field, value in guess["confidence"]),
                reasons=tuple((field, reason) for field, reason in guess["reasons"]),
            ),
            countries=tuple(data["countries"]),
            report=_report_from_json(data["report"]),
            preview=_frame_from_json(data["preview"]),
        )


def summarise(data: bytes, file_name: str) -> FileSummary:
    """Read and clean ``data`` with the default choices, as the Data page does, and keep what it shows."""
    from rfm.cleaning.analyse import analyse
    from rfm.reading.files import list_sheets
    from rfm.reading.scan import how_held, open_transactions

    raw = open_transactions(data, file_name)
    analysis = analyse(raw, with_orders=False)
    return FileSummary(
        digest=hashlib.sha256(data).hexdigest(),
        sheets=tuple(list_sheets(data, file_name)),
        described=raw.info.describe(),
        held=how_held(raw),
        rows=raw.n_rows,
        columns=tuple(raw.columns),
        guess=analysis.guess,
        countries=analysis.countries,
        report=analysis.report,
        preview=analysis.preview,
    )


def summary_path(workbook: Path) -> Path:
    """Where a file's summary is kept: beside it, ``NAME.summary.json``."""
    return workbook.with_name(f"{workbook.stem}.summary.json")


def write_summary(summary: FileSummary, path: Path) -> Path:
    path.write_text(json.dumps(summary.as_json(), indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    return path


def read_summary(path: Path, digest: str) -> FileSummary | None:
    """The summary kept at ``path`` when it was made from the bytes of ``digest`` by this version; else ``None``
    (missing, stale, or from another layout: the caller computes instead)."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(data, dict) or data.get("version") != SUMMARY_VERSION or data.get("digest") != digest:
        return None
    return FileSummary.from_json(data)


# --- JSON of the parts ---------------------------------------------------------------------------


def _line_json(line: LedgerLine) -> dict[str, Any]:
    return {
        "rule": line.rule,
        "description": line.description,
        "rows": line.rows,
        "revenue": line.revenue,
        "examples": [[list(pair) for pair in example] for example in line.examples],
        "applied": line.applied,
    }


def _line_from_json(data: dict[str, Any]) -> LedgerLine:
    examples = tuple(tuple((column, value) for column, value in example) for example in data["examples"])
    return LedgerLine(data["rule"], data["description"], data["rows"], data["revenue"], examples, data["applied"])


def _report_json(report: CleaningReport) -> dict[str, Any]:
    """Every field, exactly (:meth:`CleaningReport.as_json` is for people: rounded, and without what a page needs to
    draw the report again, such as the examples' columns and the date decision)."""
    decision = report.date_decision
    return {
        "rows_read": report.rows_read,
        "rows_clean": report.rows_clean,
        "customers": report.customers,
        "revenue": report.revenue,
        "first_date": report.first_date.isoformat(),
        "last_date": report.last_date.isoformat(),
        "analysis_date": report.analysis_date.isoformat(),
        "ledger": [_line_json(line) for line in report.ledger],
        "optional": [_line_json(line) for line in report.optional],
        "mapping": report.mapping.as_dict(),
        "date_decision": {
            "order": decision.order,
            "detected": decision.detected,
            "formats": list(decision.formats),
            "note": decision.note,
            "undecided_example": decision.undecided_example,
        },
        "notes": list(report.notes),
        "warnings": list(report.warnings),
    }


def _report_from_json(data: dict[str, Any]) -> CleaningReport:
    decision = data["date_decision"]
    return CleaningReport(
        rows_read=data["rows_read"],
        rows_clean=data["rows_clean"],
        customers=data["customers"],
        revenue=data["revenue"],
        first_date=dt.datetime.fromisoformat(data["first_date"]),
        last_date=dt.datetime.fromisoformat(data["last_date"]),
        analysis_date=dt.date.fromisoformat(data["analysis_date"]),
        ledger=tuple(_line_from_json(line) for line in data["ledger"]),
        optional=tuple(_line_from_json(line) for line in data["optional"]),
        mapping=ColumnMapping(**data["mapping"]),
        date_decision=DateDecision(
            order=decision["order"],
            detected=decision["detected"],
            formats=tuple(decision["formats"]),
            note=decision["note"],
            undecided_example=decision["undecided_example"],
        ),
        notes=tuple(data["notes"]),
        warnings=tuple(data["warnings"]),
    )


def _frame_json(frame: pd.DataFrame) -> dict[str, Any]:
    """A small frame as columns, dtypes and rows (dates in ISO form, missing values as null)."""
    rows = frame.astype("object").where(frame.notna(), None)
    return {
        "dtypes": {str(column): str(dtype) for column, dtype in frame.dtypes.items()},
        "rows": [[value.isoformat() if isinstance(value, pd.Timestamp) else value for value in row] for row in rows.itertuples(index=False)],
    }


def _frame_from_json(data: dict[str, Any]) -> pd.DataFrame:
    dtypes = data["dtypes"]
    frame = pd.DataFrame(data["rows"], columns=list(dtypes), dtype="object")
    return frame.astype(dtypes) if len(dtypes) else frame
