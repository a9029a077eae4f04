"""``rfm table FILE -o OUT.csv``: the RFM table, one row per customer, optionally with scores, segment, tier and lifecycle
stage."""

from __future__ import annotations

import argparse

from rfm.cli.options import EXIT_OK, add_file_options, add_score_options, analysed_file, cleaning_settings, say, warn

HELP = "write the RFM table (one row per customer) as CSV"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_file_options(parser)
    parser.add_argument("-o", "--output", required=True, help="CSV file to write")
    parser.add_argument("--scores", action="store_true", help="add R/F/M scores, the named RFM segment, the outlier tier and the lifecycle stage")
    add_score_options(parser)


def run(args: argparse.Namespace) -> int:
    from rfm.scoring.classic import SegmentSettings, segment_customers

    settings = SegmentSettings(n_bins=args.bins, iqr_multiplier=args.iqr_multiplier)
    settings.check()  # before the (possibly long) read of the file
    customers = analysed_file(args, cleaning_settings(args), profit_margin=args.profit_margin).customers
    if args.scores:
        segmentation = segment_customers(customers, settings)
        lifecycle_warning = segmentation.lifecycle.warning if segmentation.lifecycle else None
        for text in (*segmentation.warnings, *([lifecycle_warning] if lifecycle_warning else [])):
            warn(text)
        customers = segmentation.customers
    customers.to_csv(args.output, index=True, date_format="%Y-%m-%d %H:%M:%S", float_format="%.2f")
    say(f"wrote {len(customers):,} customers to {args.output}")
    return EXIT_OK
