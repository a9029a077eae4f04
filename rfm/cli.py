"""Command line: the same pipeline as the app, without the UI.

    python -m rfm inspect FILE [--sheet NAME ...] [--map field=COLUMN ...] [--dates auto|dayfirst|monthfirst] [--json]
    python -m rfm table FILE [same options] [--analysis-date YYYY-MM-DD] -o OUT.csv

Exit codes: 0 success (warnings on stderr), 2 bad input (one line on stderr).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
from typing import Sequence

from rfm.clean import CleaningSettings
from rfm.errors import RFMInputError
from rfm.schema import FIELDS

EXIT_OK, EXIT_BAD_INPUT = 0, 2


def _field_mapping(text: str) -> tuple[str, str]:
    field, sep, column = text.partition("=")
    if not sep or field not in FIELDS:
        raise argparse.ArgumentTypeError(f"expected field=COLUMN with field one of {', '.join(FIELDS)}; got {text!r}")
    return field, column


def _date(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a date as YYYY-MM-DD; got {text!r}") from None


def _add_pipeline_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("file", help="transaction file: CSV/TSV/TXT, .xlsx/.xlsm/.xls, .ods or Parquet")
    parser.add_argument("--sheet", action="append", metavar="NAME", help="workbook sheet to read (repeat for several; default: every sheet with transactions)")
    parser.add_argument("--map", action="append", type=_field_mapping, default=[], metavar="FIELD=COLUMN", help=f"use COLUMN for FIELD ({', '.join(FIELDS)}); an empty COLUMN unmaps it")
    parser.add_argument("--dates", choices=("auto", "dayfirst", "monthfirst"), default="auto", help="day/month order of dates like 01/02/2010 (default: decided from the values)")
    parser.add_argument("--cancel-prefix", default="C", help="invoice ids starting with this are cancellations (default: C; empty to keep them)")
    parser.add_argument("--drop-duplicates", action="store_true", help="also remove exact duplicate rows")
    parser.add_argument("--date-from", type=_date, help="keep purchases on or after this date")
    parser.add_argument("--date-to", type=_date, help="keep purchases on or before this date")
    parser.add_argument("--country", action="append", default=[], help="keep only these countries (repeat for several)")
    parser.add_argument("--analysis-date", type=_date, help="measure recency from this date (default: the latest purchase); later purchases are removed")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m rfm", description="RFM Studio: read, clean and summarise transaction files.")
    commands = parser.add_subparsers(dest="command", required=True)
    inspect = commands.add_parser("inspect", help="show how a file is read and cleaned")
    _add_pipeline_options(inspect)
    inspect.add_argument("--json", action="store_true", help="print one JSON object instead of text")
    table = commands.add_parser("table", help="write the RFM table (one row per customer) as CSV")
    _add_pipeline_options(table)
    table.add_argument("-o", "--output", required=True, help="CSV file to write")
    table.add_argument("--profit-margin", type=float, default=None, help="profit margin for the historical CLV (default 0.10)")
    table.add_argument("--scores", action="store_true", help="add R/F/M scores, the named RFM segment and the outlier tier")
    table.add_argument("--bins", type=int, default=5, help="scores per metric with --scores, 3 to 10 (default 5)")
    table.add_argument("--iqr-multiplier", type=float, default=1.5, help="outlier fence Q3 + k*IQR with --scores (default 1.5)")
    demo = commands.add_parser("demo", help="regenerate the demo workbook in data/")
    demo.add_argument("--seed", type=int, default=None)
    return parser


def _settings(args: argparse.Namespace) -> CleaningSettings:
    return CleaningSettings(
        date_order=args.dates,
        cancel_prefix=args.cancel_prefix,
        analysis_date=args.analysis_date,
        drop_duplicates=args.drop_duplicates,
        date_from=args.date_from,
        date_to=args.date_to,
        countries=tuple(args.country),
    )


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.command == "demo":
        from rfm import demo

        path = demo.write_demo_workbook(demo.DEMO_PATH, **({"seed": args.seed} if args.seed is not None else {}))
        print(f"wrote {path}")
        return EXIT_OK
    try:
        return _run(args)
    except RFMInputError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except BrokenPipeError:  # output piped into `head` and the like
        sys.stderr.close()
        return EXIT_OK


def _run(args: argparse.Namespace) -> int:
    from rfm.pipeline import analyse_file
    from rfm.table import DEFAULT_PROFIT_MARGIN

    if getattr(args, "scores", False):
        # Refuse bad score settings before the (possibly long) read of the file.
        from rfm.scores import check_bins
        from rfm.tiers import check_multiplier

        check_bins(args.bins)
        check_multiplier(args.iqr_multiplier)
    margin = getattr(args, "profit_margin", None)
    analysis = analyse_file(
        args.file,
        sheets=args.sheet,
        overrides=dict(args.map),
        settings=_settings(args),
        profit_margin=DEFAULT_PROFIT_MARGIN if margin is None else margin,
    )
    for warning in analysis.report.warnings:
        print(f"warning: {warning}", file=sys.stderr)
    if args.command == "inspect":
        if args.json:
            print(json.dumps(inspect_json(analysis), indent=2, ensure_ascii=False))
        else:
            print(inspect_text(analysis))
        return EXIT_OK
    customers = analysis.customers
    if args.scores:
        from rfm.segmentation import SegmentSettings, segment_customers

        segmentation = segment_customers(customers, SegmentSettings(n_bins=args.bins, iqr_multiplier=args.iqr_multiplier))
        for warning in segmentation.warnings:
            print(f"warning: {warning}", file=sys.stderr)
        customers = segmentation.customers
    customers.to_csv(args.output, index=True, date_format="%Y-%m-%d %H:%M:%S", float_format="%.2f")
    print(f"wrote {len(customers):,} customers to {args.output}", file=sys.stderr)
    return EXIT_OK


def inspect_json(analysis) -> dict:
    info = analysis.read_info
    return {
        "file": info.file_name,
        "format": info.file_format,
        "encoding": info.encoding,
        "delimiter": info.delimiter,
        "sheets": list(info.sheets),
        "sheets_used": list(info.sheets_used),
        "confidence": dict(analysis.guess.confidence),
        **analysis.report.as_json(),
    }


def inspect_text(analysis) -> str:
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
    for line in report.ledger:
        lines.append(f"  {line.rule:<24} {line.rows:>10,}  {line.revenue:>14,.2f}")
    for line in report.optional:
        lines.append(f"  (off) {line.rule:<18} would remove {line.rows:,} rows, {line.revenue:,.2f}")
    lines.append(f"Rows kept: {report.rows_clean:,}")
    lines.append(f"Customers: {report.customers:,}")
    lines.append(f"Revenue: {report.revenue:,.2f}")
    lines.append(f"Date range: {report.first_date:%Y-%m-%d} .. {report.last_date:%Y-%m-%d} (analysis date {report.analysis_date})")
    lines.extend(f"Note: {note}" for note in report.notes)
    return "\n".join(lines)
