"""``rfm sql --dialect D``: the cleaning rules and the RFM aggregation as one query for a warehouse table (reads no file)."""

from __future__ import annotations

import argparse

from rfm.cli.options import EXIT_OK, cleaning_settings, date
from rfm.schema import FIELDS

HELP = "print the cleaning and RFM aggregation as SQL for a warehouse table (reads no file)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from rfm.cleaning.sql import DIALECTS

    parser.add_argument("--dialect", required=True, choices=DIALECTS, help="SQL dialect to print")
    parser.add_argument("--table", default="transactions", help="warehouse table of typed transactions, optionally DATABASE.TABLE (default: transactions)")
    # Checked by rfm.cleaning.sql.parse_map, so that a bad field is one line of error and exit code 2.
    parser.add_argument(
        "--map", action="append", default=[], metavar="FIELD=COLUMN",
        help=f"use COLUMN for FIELD ({', '.join(FIELDS)}); default: each field's own name, with quantity and unit_price unless amount is mapped",
    )
    parser.add_argument("--cancel-prefix", default="C", help="invoice ids starting with this are cancellations (default: C; empty to keep them)")
    parser.add_argument("--drop-duplicates", action="store_true", help="also remove rows equal in every mapped column")
    parser.add_argument("--date-from", type=date, help="keep purchases on or after this date")
    parser.add_argument("--date-to", type=date, help="keep purchases on or before this date")
    parser.add_argument("--country", action="append", default=[], help="keep only these countries (repeat for several; read from the country column)")
    parser.add_argument(
        "--analysis-date", type=date, help="measure recency from this date (default: the latest purchase kept); later purchases are removed"
    )
    parser.add_argument("--ledger", action="store_true", help="also print a query counting the rows and revenue each cleaning rule removes")
    parser.set_defaults(dates="auto")


def run(args: argparse.Namespace) -> int:
    from rfm.cleaning.sql import parse_map, rfm_sql

    print(rfm_sql(args.dialect, parse_map(args.map), cleaning_settings(args), args.table, ledger=args.ledger), end="")
    return EXIT_OK
