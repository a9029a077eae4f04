"""Command line: the same pipeline as the app, without the UI.

    python -m rfm inspect FILE [--sheet NAME ...] [--map field=COLUMN ...] [--dates auto|dayfirst|monthfirst] [--json]
        (FILE: a file, a folder or glob of Parquet files; every command: [--engine duckdb|spark] [--spark-master URL])
    python -m rfm table FILE [same options] [--analysis-date YYYY-MM-DD] -o OUT.csv
    python -m rfm segment FILE [same options] [--k N|auto] [--algorithm NAME] --out DIR
    python -m rfm score FILE --model model.json [same options] --out DIR
    python -m rfm migrate FILE --from YYYY-MM-DD --to YYYY-MM-DD [--by segment|cluster] [--left-after-days N] [--model model.json] --out DIR
    python -m rfm clv FILE [--horizon-days N] [--months N] [--discount-rate R] [--holdout-days N] --out DIR
    python -m rfm sql --dialect bigquery|snowflake|databricks|postgres|duckdb [--table NAME] [--map field=COLUMN ...] [--ledger]

Exit codes: 0 success (warnings on stderr), 2 bad input (one line on stderr).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
from typing import Sequence

from rfm.cleaning.ledger import CleaningSettings
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
    parser.add_argument(
        "file",
        help="transaction file: CSV/TSV/TXT, .xlsx/.xlsm/.xls, .ods or Parquet; also a folder or a glob of Parquet files "
        "(CSV and Parquet are scanned by the engine, never loaded whole into memory)",
    )
    parser.add_argument("--engine", choices=("duckdb", "spark"), default="duckdb", help="engine for the transaction-level work on CSV and Parquet: in-process DuckDB (default) or Apache Spark")
    parser.add_argument("--spark-master", metavar="URL", help="Spark master, e.g. spark://host:7077 or local[4] (default: an active session, else local[*]); implies --engine spark")
    parser.add_argument("--sheet", action="append", metavar="NAME", help="workbook sheet to read (repeat for several; default: every sheet with transactions)")
    parser.add_argument("--map", action="append", type=_field_mapping, default=[], metavar="FIELD=COLUMN", help=f"use COLUMN for FIELD ({', '.join(FIELDS)}); an empty COLUMN unmaps it")
    parser.add_argument("--dates", choices=("auto", "dayfirst", "monthfirst"), default="auto", help="day/month order of dates like 01/02/2010 (default: decided from the values)")
    parser.add_argument("--cancel-prefix", default="C", help="invoice ids starting with this are cancellations (default: C; empty to keep them)")
    parser.add_argument("--drop-duplicates", action="store_true", help="also remove exact duplicate rows")
    parser.add_argument("--date-from", type=_date, help="keep purchases on or after this date")
    parser.add_argument("--date-to", type=_date, help="keep purchases on or before this date")
    parser.add_argument("--country", action="append", default=[], help="keep only these countries (repeat for several)")
    parser.add_argument("--analysis-date", type=_date, help="measure recency from this date (default: the latest purchase); later purchases are removed")


def _k(text: str) -> int | None:
    if text == "auto":
        return None
    try:
        k = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number of clusters or 'auto'; got {text!r}") from None
    if not 1 <= k <= 15:
        raise argparse.ArgumentTypeError(f"k={k} should be between 1 and 15")
    return k


def _min_cluster_share(text: str) -> float:
    """``--min-cluster-share``: a percentage ("1%", "0.5%") or a share ("0.01"), checked against the settings' range."""
    from rfm.clustering.fit import MIN_CLUSTER_SHARE_RANGE

    low, high = MIN_CLUSTER_SHARE_RANGE
    number = text.strip().removesuffix("%")
    try:
        share = float(number) / (100 if text.strip().endswith("%") else 1)
    except ValueError:
        share = float("nan")
    if not low <= share <= high:
        raise argparse.ArgumentTypeError(
            f"expected the smallest cluster as a percentage from {low:.1%} to {high:.0%} (e.g. 1%) or a share from "
            f"{low:g} to {high:g} (e.g. 0.01); got {text!r}"
        )
    return share


_MIN_CLUSTER_SHARE_HELP = (
    "DBSCAN and HDBSCAN: the smallest cluster, as a percentage (1%%) or share (0.01) of the customers; smaller "
    "dense groups are noise. Raise it for fewer, larger clusters (default 1%%)"
)


def _add_score_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--profit-margin", type=float, default=None, help="profit margin for the historical CLV (default 0.10)")
    parser.add_argument("--bins", type=int, default=5, help="R/F/M scores per metric, 3 to 10 (default 5)")
    parser.add_argument("--iqr-multiplier", type=float, default=1.5, help="outlier fence Q3 + k*IQR (default 1.5)")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m rfm", description="RFM Studio: read, clean and summarise transaction files.")
    commands = parser.add_subparsers(dest="command", required=True)
    inspect = commands.add_parser("inspect", help="show how a file is read and cleaned")
    _add_pipeline_options(inspect)
    inspect.add_argument("--json", action="store_true", help="print one JSON object instead of text")
    table = commands.add_parser("table", help="write the RFM table (one row per customer) as CSV")
    _add_pipeline_options(table)
    table.add_argument("-o", "--output", required=True, help="CSV file to write")
    table.add_argument("--scores", action="store_true", help="add R/F/M scores, the named RFM segment and the outlier tier")
    _add_score_options(table)
    segment = commands.add_parser(
        "segment", help="segment customers and write lists, a workbook, the model, a report and a summary into a folder"
    )
    _add_pipeline_options(segment)
    _add_score_options(segment)
    segment.add_argument("--k", type=_k, default=None, metavar="N|auto", help="number of clusters (default auto: the k-sweep's recommendation)")
    segment.add_argument("--algorithm", choices=("kmeans", "gmm", "dbscan", "hdbscan"), default="kmeans", help="clustering algorithm (default kmeans)")
    segment.add_argument("--min-cluster-share", type=_min_cluster_share, default=0.01, metavar="SHARE", help=_MIN_CLUSTER_SHARE_HELP)
    segment.add_argument("--out", required=True, metavar="DIR", help="folder to write customers.csv, segments/, segments.xlsx, model.json, report.html, summary.json")
    score = commands.add_parser("score", help="label a new file's customers with a saved model (model.json)")
    _add_pipeline_options(score)
    score.add_argument("--model", required=True, metavar="MODEL.json", help="a model bundle written by `segment` or the app's Export page")
    score.add_argument("--out", required=True, metavar="DIR", help="folder to write customers.csv, segments/, segments.xlsx and summary.json")
    # Unset cleaning options fall back to the model's own (see _run).
    score.set_defaults(dates=None, cancel_prefix=None, drop_duplicates=None)
    migrate = commands.add_parser(
        "migrate", help="how customers moved between segments from one date to another: matrix, flows, a list per flow"
    )
    _add_pipeline_options(migrate)
    _add_score_options(migrate)
    migrate.add_argument("--from", dest="from_date", type=_date, required=True, metavar="YYYY-MM-DD", help="the first date (e.g. the end of last quarter)")
    migrate.add_argument("--to", dest="to_date", type=_date, default=None, metavar="YYYY-MM-DD", help="the second date (default: the analysis date, i.e. the latest purchase)")
    migrate.add_argument("--by", choices=("segment", "cluster"), default="segment", help="name customers by RFM segment (default) or by cluster")
    migrate.add_argument("--left-after-days", type=int, default=365, metavar="N", help="a customer with no order in the N days before a date has left (default 365; 0: nobody leaves)")
    migrate.add_argument("--model", metavar="MODEL.json", help="label both dates with this saved model (default: fit one on the file, as `segment` does)")
    migrate.add_argument("--k", type=_k, default=None, metavar="N|auto", help="clusters of the fitted model (default auto)")
    migrate.add_argument("--algorithm", choices=("kmeans", "gmm", "dbscan", "hdbscan"), default="kmeans", help="clustering algorithm of the fitted model (default kmeans)")
    migrate.add_argument("--min-cluster-share", type=_min_cluster_share, default=0.01, metavar="SHARE", help=_MIN_CLUSTER_SHARE_HELP)
    migrate.add_argument("--out", required=True, metavar="DIR", help="folder to write matrix.csv, shares.csv, flows.csv, customers.csv, flows/ and summary.json")
    clv = commands.add_parser("clv", help="predictive customer lifetime value (BG/NBD and Gamma-Gamma): per customer, and a holdout check")
    _add_pipeline_options(clv)
    clv.add_argument("--horizon-days", type=int, default=90, metavar="N", help="expected purchases over the next N days (default 90)")
    clv.add_argument("--months", type=int, default=12, metavar="N", help="CLV over the next N months (default 12)")
    clv.add_argument("--discount-rate", type=float, default=0.10, metavar="R", help="yearly discount rate of future revenue (default 0.10)")
    clv.add_argument("--margin", type=float, default=1.0, metavar="M", help="share of revenue that is profit, applied to the CLV (default 1: CLV as revenue)")
    clv.add_argument("--holdout-days", type=int, default=None, metavar="N", help="fit on all but the last N days and compare predicted with actual purchases in them (default: a third of the period)")
    clv.add_argument("--out", required=True, metavar="DIR", help="folder to write clv.csv, holdout.csv, parameters.json")
    from rfm.cleaning.sql import DIALECTS

    sql = commands.add_parser("sql", help="print the cleaning and RFM aggregation as SQL for a warehouse table (reads no file)")
    sql.add_argument("--dialect", required=True, choices=DIALECTS, help="SQL dialect to print")
    sql.add_argument("--table", default="transactions", help="warehouse table of typed transactions, optionally DATABASE.TABLE (default: transactions)")
    # Checked by rfm.cleaning.sql.parse_map, so that a bad field is one line of error and exit code 2.
    sql.add_argument("--map", action="append", default=[], metavar="FIELD=COLUMN", help=f"use COLUMN for FIELD ({', '.join(FIELDS)}); default: each field's own name, with quantity and unit_price unless amount is mapped")
    sql.add_argument("--cancel-prefix", default="C", help="invoice ids starting with this are cancellations (default: C; empty to keep them)")
    sql.add_argument("--drop-duplicates", action="store_true", help="also remove rows equal in every mapped column")
    sql.add_argument("--date-from", type=_date, help="keep purchases on or after this date")
    sql.add_argument("--date-to", type=_date, help="keep purchases on or before this date")
    sql.add_argument("--country", action="append", default=[], help="keep only these countries (repeat for several; read from the country column)")
    sql.add_argument("--analysis-date", type=_date, help="measure recency from this date (default: the latest purchase kept); later purchases are removed")
    sql.add_argument("--ledger", action="store_true", help="also print a query counting the rows and revenue each cleaning rule removes")
    sql.set_defaults(dates="auto")
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
    except Exception as exc:
        # A Spark job that fails (out of memory, a lost executor) reaches here as a Java error: one
        # line naming it, not a page of JVM stack. Anything else is a bug and keeps its traceback.
        if not type(exc).__module__.startswith(("pyspark", "py4j")):
            raise
        first = next((line.strip() for line in str(exc).splitlines() if line.strip()), type(exc).__name__)
        print(
            f"error: the Spark engine failed: {first[:300]} (local mode: raise RFM_SPARK_DRIVER_MEMORY, "
            "now 4g by default; on a cluster, its executors' memory)",
            file=sys.stderr,
        )
        return EXIT_BAD_INPUT


def _run(args: argparse.Namespace) -> int:
    if args.command == "sql":
        from rfm.cleaning.sql import parse_map, rfm_sql

        print(rfm_sql(args.dialect, parse_map(args.map), _settings(args), args.table, ledger=args.ledger), end="")
        return EXIT_OK
    from pathlib import Path

    from rfm.cleaning.analyse import analyse_file
    from rfm.cleaning.table import DEFAULT_PROFIT_MARGIN

    # Refuse bad settings and models before the (possibly long) read of the file.
    if args.command == "clv":
        from rfm.value.predict import ValueSettings

        args.value_settings = ValueSettings(args.horizon_days, args.months, args.discount_rate, args.margin)
    if args.command in ("table", "segment", "migrate"):
        from rfm.scoring.scores import check_bins
        from rfm.scoring.tiers import check_multiplier

        check_bins(args.bins)
        check_multiplier(args.iqr_multiplier)
    margin = getattr(args, "profit_margin", None)
    bundle = None
    if getattr(args, "model", None):
        from rfm.bundle.model import load_bundle

        path = Path(args.model)
        if not path.is_file():
            raise RFMInputError(f"Model file {args.model!r} not found.")
        bundle = load_bundle(path.read_bytes())
        saved = bundle.cleaning_settings()
        args.dates = args.dates or saved.date_order
        args.cancel_prefix = saved.cancel_prefix if args.cancel_prefix is None else args.cancel_prefix
        args.drop_duplicates = saved.drop_duplicates if args.drop_duplicates is None else args.drop_duplicates
        margin = bundle.payload["settings"]["profit_margin"]
    if args.spark_master:
        args.engine = "spark"
    if args.engine == "spark":
        from rfm.cleaning import engine

        engine.use_spark(args.spark_master)
    analysis = analyse_file(
        args.file,
        backend=args.engine,
        sheets=args.sheet,
        overrides=dict(args.map),
        settings=_settings(args),
        profit_margin=DEFAULT_PROFIT_MARGIN if margin is None else margin,
        with_orders=args.command in ("segment", "score", "migrate", "clv"),
    )
    for warning in analysis.report.warnings:
        print(f"warning: {warning}", file=sys.stderr)
    decision = analysis.report.date_decision
    if decision.undecided:
        readings = decision.readings()
        print(
            f"warning: every date fits both day/month orders (e.g. {decision.undecided_example}): read month first, as "
            f"{readings['monthfirst']}; pass --dates dayfirst to read it as {readings['dayfirst']}.",
            file=sys.stderr,
        )
    if args.command == "inspect":
        if args.json:
            print(json.dumps(inspect_json(analysis), indent=2, ensure_ascii=False))
        else:
            print(inspect_text(analysis))
        return EXIT_OK
    if args.command in ("segment", "score"):
        return _segment_or_score(args, analysis, bundle)
    if args.command == "migrate":
        return _migrate(args, analysis, bundle)
    if args.command == "clv":
        return _clv(args, analysis)
    customers = analysis.customers
    if args.scores:
        from rfm.scoring.classic import SegmentSettings, segment_customers

        segmentation = segment_customers(customers, SegmentSettings(n_bins=args.bins, iqr_multiplier=args.iqr_multiplier))
        for warning in segmentation.warnings:
            print(f"warning: {warning}", file=sys.stderr)
        customers = segmentation.customers
    customers.to_csv(args.output, index=True, date_format="%Y-%m-%d %H:%M:%S", float_format="%.2f")
    print(f"wrote {len(customers):,} customers to {args.output}", file=sys.stderr)
    return EXIT_OK


def _model_run(args: argparse.Namespace, analysis, bundle):
    """The run a command labels customers with: scored by a saved model, or segmented and clustered afresh."""
    from rfm.segment_run import score_run, segment_run
    from rfm.cleaning.table import DEFAULT_PROFIT_MARGIN

    if bundle is not None:
        run = score_run(bundle, analysis)
        print(f"scored with {bundle.describe()}", file=sys.stderr)
        for warning in run.fit_check.warnings:
            print(f"warning: {warning}", file=sys.stderr)
        for note in run.fit_check.notes:
            print(f"note: {note}", file=sys.stderr)
    else:
        from rfm.clustering.fit import ClusterSettings
        from rfm.scoring.classic import SegmentSettings

        run = segment_run(
            analysis,
            SegmentSettings(n_bins=args.bins, iqr_multiplier=args.iqr_multiplier),
            ClusterSettings(min_cluster_share=args.min_cluster_share),
            k=args.k,
            algorithm=args.algorithm,
            cleaning=_settings(args),
            profit_margin=DEFAULT_PROFIT_MARGIN if args.profit_margin is None else args.profit_margin,
        )
        for warning in (*run.segmentation.warnings, *run.sweep.warnings, *run.clusters.warnings):
            print(f"warning: {warning}", file=sys.stderr)
        for note in run.clusters.notes:
            print(f"note: {note}", file=sys.stderr)
    return run


def _segment_or_score(args: argparse.Namespace, analysis, bundle) -> int:
    from rfm.segment_run import write_run

    run = _model_run(args, analysis, bundle)
    written = write_run(
        run, args.out, inspect_json(analysis), with_model=bundle is None, warn=lambda text: print(f"warning: {text}", file=sys.stderr)
    )
    sizes = run.labelled["segment_name"].value_counts()
    print(
        f"wrote {len(written)} files to {args.out}: {len(run.labelled):,} customers in {len(sizes)} segments "
        f"(k={run.k}{_fitted_note(run)}{'' if run.silhouette is None else f', silhouette {run.silhouette:.3f}'})",
        file=sys.stderr,
    )
    return EXIT_OK


def _write_files(out_dir: str, files: dict[str, bytes]) -> None:
    from pathlib import Path

    for name, data in files.items():
        path = Path(out_dir) / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)


def _migrate(args: argparse.Namespace, analysis, bundle) -> int:
    from rfm.outputs.lists import with_values
    from rfm.trends.migration import flow_label, migrate, migration_files
    from rfm.segment_run import values_or_warn

    run = _model_run(args, analysis, bundle)
    by = "cluster_name" if args.by == "cluster" else "segment"
    to_date = args.to_date or analysis.report.analysis_date
    migration = migrate(
        analysis.orders, run.bundle, args.from_date, to_date, by, args.left_after_days or None, run.bundle.payload["settings"]["profit_margin"]
    )
    labelled = with_values(run.labelled, values_or_warn(analysis, lambda text: print(f"warning: {text}", file=sys.stderr)))
    files = migration_files(migration, labelled)
    moved = migration.flows[migration.flows["from"] != migration.flows["to"]]
    summary = {
        "file": analysis.read_info.file_name,
        "from": migration.from_date.isoformat(),
        "to": migration.to_date.isoformat(),
        "by": by,
        "left_after_days": migration.active_days,
        "model": run.bundle.describe(),
        "customers": int(len(migration.customers)),
        "still_gone": migration.still_gone,
        "flows": [
            {"from": row["from"], "to": row["to"], "customers": int(row["customers"]), "share_of_from": round(float(row["share_of_from"]), 4)}
            for _, row in migration.flows.iterrows()
        ],
    }
    files["summary.json"] = json.dumps(summary, indent=2, ensure_ascii=False).encode("utf-8")
    _write_files(args.out, files)
    biggest = moved.sort_values("customers", ascending=False).head(1)
    note = "" if biggest.empty else f"; largest move: {flow_label(biggest['from'].iat[0], biggest['to'].iat[0])} ({int(biggest['customers'].iat[0]):,})"
    print(
        f"wrote {len(files)} files to {args.out}: {migration.describe()}, {len(migration.flows)} flows{note}",
        file=sys.stderr,
    )
    return EXIT_OK


def _clv(args: argparse.Namespace, analysis) -> int:
    from rfm import schema
    from rfm.outputs.files import csv_bytes, table_csv_bytes
    from rfm.value.predict import customer_value, fit_value, holdout

    settings = args.value_settings
    day = analysis.report.analysis_date
    model = fit_value(analysis.orders, day)
    for warning in model.warnings:
        print(f"warning: {warning}", file=sys.stderr)
    values = customer_value(model, settings)
    table = analysis.customers[[schema.RECENCY, schema.FREQUENCY, schema.MONETARY, schema.TENURE]].join(values)
    files = {"clv.csv": csv_bytes(table)}
    try:
        check = holdout(analysis.orders, day, args.holdout_days)
    except RFMInputError as error:
        check = None
        print(f"warning: no holdout check: {error}", file=sys.stderr)
    if check is not None:
        files["holdout.csv"] = table_csv_bytes(check.table.round(6), index=False)
    parameters = {
        "file": analysis.read_info.file_name,
        "observation_end": day.isoformat(),
        "time_unit": "day",
        "settings": {"horizon_days": settings.horizon_days, "months": settings.months, "annual_discount_rate": settings.annual_discount_rate, "margin": settings.margin},
        "bgnbd": {name: round(float(v), 6) for name, v in model.bgnbd.params_.items()},
        "gamma_gamma": None if model.gamma_gamma is None else {name: round(float(v), 6) for name, v in model.gamma_gamma.params_.items()},
        "warnings": list(model.warnings),
        "holdout": None if check is None else {
            "calibration_end": check.calibration_end.isoformat(),
            "actual_purchases": check.actual_total,
            "predicted_purchases": round(check.predicted_total, 2),
            "mean_absolute_error_per_customer": round(check.error, 4),
        },
    }
    files["parameters.json"] = json.dumps(parameters, indent=2, ensure_ascii=False).encode("utf-8")
    _write_files(args.out, files)
    total = values[schema.PREDICTED_CLV].sum(min_count=1)
    print(
        f"wrote {len(files)} files to {args.out}: {len(values):,} customers, {values[schema.EXPECTED_PURCHASES].sum():,.0f} purchases "
        f"expected in {settings.horizon_days} days" + ("" if total != total else f", predicted CLV {total:,.2f} over {settings.months} months"),
        file=sys.stderr,
    )
    return EXIT_OK


def _fitted_note(run) -> str:
    """", 2 fitted" when the data held fewer clusters than asked for (the warning above says why)."""
    fitted = getattr(run.clusters.estimator, "n_clusters_", run.k) if run.clusters is not None else run.k
    return f", {fitted} fitted" if fitted != run.k else ""


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
