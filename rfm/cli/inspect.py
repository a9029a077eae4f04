"""``rfm inspect FILE``: how a file is read and cleaned, as text or one JSON object."""

from __future__ import annotations

import argparse
import json

from rfm.cleaning.analyse import Analysis
from rfm.cli.options import EXIT_OK, add_file_options, analysed_file, cleaning_settings

HELP = "show how a file is read and cleaned"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_file_options(parser)
    parser.add_argument("--json", action="store_true", help="print one JSON object instead of text")


def run(args: argparse.Namespace) -> int:
    analysis = analysed_file(args, cleaning_settings(args))
    print(json.dumps(analysis.as_json(), indent=2, ensure_ascii=False) if args.json else inspect_text(analysis))
    return EXIT_OK


def inspect_text(analysis: Analysis) -> str:
    """The file, its columns, the date order, the ledger and the totals, one fact per line."""
    info, report, guess = analysis.read_info, analysis.report, analysis.guess
    lines = [f"File: {info.file_name} ({info.describe()})"]
    if info.sheets:
        lines.append(f"Sheets: {', '.join(info.sheets)}")
    lines.append("Columns:")
    for field, column in report.mapping.as_dict().items():
        shown = f"{column!r} (confidence {guess.confidence_of(field):.2f})" if column else "-"
        if column and guess.mapping.as_dict().get(field) != column:
            shown = f"{column!r} (set by --map)"
        lines.append(f"  {field:<13} {shown}")
    lines.append(f"Dates: {report.date_decision.note}")
    lines.append(f"Rows read: {report.rows_read:,}")
    lines.append("Ledger (rule: rows removed, revenue removed):")
    lines.extend(f"  {line.rule:<24} {line.rows:>10,}  {line.revenue:>14,.2f}" for line in report.ledger)
    lines.extend(f"  (off) {line.rule:<18} would remove {line.rows:,} rows, {line.revenue:,.2f}" for line in report.optional)
    lines.append(f"Rows kept: {report.rows_clean:,}")
    lines.append(f"Customers: {report.customers:,}")
    lines.append(f"Revenue: {report.revenue:,.2f}")
    lines.append(f"Date range: {report.first_date:%Y-%m-%d} .. {report.last_date:%Y-%m-%d} (analysis date {report.analysis_date})")
    lines.extend(f"Note: {note}" for note in report.notes)
    return "\n".join(lines)
