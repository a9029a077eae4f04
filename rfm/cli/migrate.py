"""``rfm migrate FILE --from DATE --out DIR``: how customers moved between segments from one date to another."""

from __future__ import annotations

import argparse
import json

from rfm.cli.options import (
    EXIT_OK,
    add_cluster_options,
    add_file_options,
    add_score_options,
    analysed_file,
    cleaning_settings,
    date,
    load_model,
    say,
    warn,
    write_files,
)
from rfm.cli.segment import fitted_run, scored_run

HELP = "how customers moved between segments from one date to another: matrix, flows, a list per flow"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_file_options(parser)
    add_score_options(parser)
    parser.add_argument("--from", dest="from_date", type=date, required=True, metavar="YYYY-MM-DD", help="the first date (e.g. the end of last quarter)")
    parser.add_argument(
        "--to", dest="to_date", type=date, default=None, metavar="YYYY-MM-DD",
        help="the second date (default: the analysis date, i.e. the latest purchase)",
    )
    parser.add_argument("--by", choices=("segment", "cluster"), default="segment", help="name customers by RFM segment (default) or by cluster")
    parser.add_argument(
        "--left-after-days", type=int, default=365, metavar="N",
        help="a customer with no order in the N days before a date has left (default 365; 0: nobody leaves)",
    )
    parser.add_argument("--model", metavar="MODEL.json", help="label both dates with this saved model (default: fit one on the file, as `segment` does)")
    add_cluster_options(parser, fitted=" of the fitted model")
    parser.add_argument(
        "--out", required=True, metavar="DIR", help="folder to write matrix.csv, shares.csv, flows.csv, customers.csv, flows/ and summary.json"
    )


def run(args: argparse.Namespace) -> int:
    from rfm.outputs.lists import with_values
    from rfm.segment_run import values_or_warn
    from rfm.trends.migration import migrate, migration_files

    if args.model:
        model = load_model(args.model)
        run = scored_run(model, analysed_file(args, cleaning_settings(args, model), profit_margin=model.profit_margin, with_orders=True))
    else:
        run = fitted_run(args)
    analysis = run.analysis
    by = "cluster_name" if args.by == "cluster" else "segment"
    to_date = args.to_date or analysis.report.analysis_date
    migration = migrate(analysis.orders, run.bundle, args.from_date, to_date, by, args.left_after_days or None, run.bundle.profit_margin)
    files = migration_files(migration, with_values(run.labelled, values_or_warn(analysis, warn)))
    files["summary.json"] = json.dumps(_summary(migration, analysis, run.bundle, by), indent=2, ensure_ascii=False).encode("utf-8")
    write_files(args.out, files)
    say(f"wrote {len(files)} files to {args.out}: {migration.describe()}, {len(migration.flows)} flows{_largest_move(migration)}")
    return EXIT_OK


def _summary(migration, analysis, bundle, by: str) -> dict:
    return {
        "file": analysis.read_info.file_name,
        "from": migration.from_date.isoformat(),
        "to": migration.to_date.isoformat(),
        "by": by,
        "left_after_days": migration.active_days,
        "model": bundle.describe(),
        "customers": len(migration.customers),
        "still_gone": migration.still_gone,
        "flows": [
            {"from": row["from"], "to": row["to"], "customers": int(row["customers"]), "share_of_from": round(float(row["share_of_from"]), 4)}
            for _, row in migration.flows.iterrows()
        ],
    }


def _largest_move(migration) -> str:
    from rfm.trends.migration import flow_label

    moved = migration.flows[migration.flows["from"] != migration.flows["to"]]
    biggest = moved.sort_values("customers", ascending=False).head(1)
    if biggest.empty:
        return ""
    return f"; largest move: {flow_label(biggest['from'].iat[0], biggest['to'].iat[0])} ({int(biggest['customers'].iat[0]):,})"
