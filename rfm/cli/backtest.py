"""``rfm backtest FILE [--holdout-days N] [--json]``: does the segmentation predict the next days? Fitted on the
history up to a cut, judged on the days after it."""

from __future__ import annotations

import argparse
import json
from typing import TYPE_CHECKING

from rfm.cli.options import (
    EXIT_OK,
    add_cluster_options,
    add_file_options,
    add_score_options,
    analysed_file,
    cleaning_settings,
    warn,
)

if TYPE_CHECKING:
    from rfm.backtest.run import Backtest

HELP = "backtest: fit scores, segments, clusters and purchase models up to a cut, and measure how they ranked what came after"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_file_options(parser)
    add_score_options(parser)
    add_cluster_options(parser, " fitted at the cut")
    parser.add_argument(
        "--holdout-days", type=int, default=90, metavar="N", help="cut the history N days before its last date (default 90)"
    )
    parser.add_argument("--json", action="store_true", help="print one JSON object instead of tables")


def run(args: argparse.Namespace) -> int:
    from rfm.backtest.run import BacktestSettings, backtest
    from rfm.clustering.fit import ClusterSettings
    from rfm.scoring.classic import SegmentSettings

    settings = BacktestSettings(
        args.holdout_days, SegmentSettings(n_bins=args.bins, iqr_multiplier=args.iqr_multiplier),
        ClusterSettings(min_cluster_share=args.min_cluster_share), args.k, args.algorithm,
    )  # checked before the read
    analysis = analysed_file(args, cleaning_settings(args), profit_margin=args.profit_margin, with_orders=True)
    result = backtest(analysis.orders, analysis.report.analysis_date, settings)
    for text in result.warnings:
        warn(text)
    print(json.dumps(result.as_json(), indent=2, ensure_ascii=False) if args.json else backtest_text(result))
    return EXIT_OK


def backtest_text(result: Backtest) -> str:
    """The backtest as readable tables: the cut, the verdict, the rankings and the segments."""
    rankings = result.rankings.assign(
        auc=result.rankings["auc"].map("{:.3f}".format),
        top20_revenue_share=result.rankings["top20_revenue_share"].map("{:.1%}".format),
    ).rename(columns={"auc": "AUC", "top20_revenue_share": "top 20% revenue"})
    segments = result.segments.assign(
        bought_again_rate=result.segments["bought_again_rate"].map("{:.1%}".format),
        revenue_per_customer=result.segments["revenue_per_customer"].map("{:,.2f}".format),
        lift=result.segments["lift"].map("{:.2f}".format),
    )
    below = result.model_below_rfm()
    lines = [
        f"cut {result.cut} ({result.holdout_days:,} days before {result.last_day}): {result.customers_at_cut:,} customers, "
        f"{result.bought_again:,} bought again ({result.bought_again_rate:.1%})",
        result.verdict(),
        *([] if below is None else [below]),
        "",
        rankings.to_string(),
        "",
        segments.to_string(index=False),
    ]
    return "\n".join(lines)
