"""``rfm cohorts FILE --out DIR``: customers grouped by the month of their first order, followed month by month."""

from __future__ import annotations

import argparse

from rfm.cli.options import EXIT_OK, add_file_options, analysed_file, cleaning_settings, say, warn, write_files

HELP = "monthly cohorts of first orders: the share buying, and revenue per customer, in each month since the first"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_file_options(parser)
    parser.add_argument(
        "--out", required=True, metavar="DIR",
        help="folder to write retention.csv (share of each cohort buying, per month since the first order) and "
        "revenue.csv (cumulative revenue per customer); months not yet in the data are empty",
    )


def run(args: argparse.Namespace) -> int:
    from rfm.trends.cohorts import cohort_files, cohort_table

    analysis = analysed_file(args, cleaning_settings(args), with_orders=True)
    cohorts = cohort_table(analysis.orders, analysis.report.analysis_date)
    for text in cohorts.warnings:
        warn(text)
    files = cohort_files(cohorts)
    write_files(args.out, files)
    say(f"wrote {len(files)} files to {args.out}: {cohorts.describe()}")
    return EXIT_OK
