"""What the commands share: argument types, the reading and cleaning options, and reading a file with its warnings."""

from __future__ import annotations

import argparse
import datetime as dt
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING

from rfm.cleaning.ledger import CleaningSettings
from rfm.schema import ALGORITHMS, DATE_ORDERS, FIELDS

if TYPE_CHECKING:
    from rfm.bundle.model import ModelBundle
    from rfm.cleaning.analyse import Analysis

EXIT_OK, EXIT_BAD_INPUT = 0, 2
MAX_K = 15
MIN_CLUSTER_SHARE_HELP = (
    "DBSCAN and HDBSCAN: the smallest cluster, as a percentage (1%%) or share (0.01) of the customers; smaller "
    "dense groups are noise. Raise it for fewer, larger clusters (default 1%%)"
)


def warn(text: str) -> None:
    """One ``warning:`` line on stderr (the exit code stays 0)."""
    print(f"warning: {text}", file=sys.stderr)


def say(text: str) -> None:
    """What a command did, on stderr (stdout is for what a command prints on purpose, e.g. JSON)."""
    print(text, file=sys.stderr)


# --- argument types -------------------------------------------------------------------------------


def field_mapping(text: str) -> tuple[str, str]:
    """``--map FIELD=COLUMN``."""
    field, sep, column = text.partition("=")
    if not sep or field not in FIELDS:
        raise argparse.ArgumentTypeError(f"expected field=COLUMN with field one of {', '.join(FIELDS)}; got {text!r}")
    return field, column


def date(text: str) -> dt.date:
    """A date as YYYY-MM-DD."""
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a date as YYYY-MM-DD; got {text!r}") from None


def clusters(text: str) -> int | None:
    """``--k N|auto``: a whole number of clusters, or ``None`` for the k-sweep's recommendation."""
    if text == "auto":
        return None
    try:
        k = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number of clusters or 'auto'; got {text!r}") from None
    if not 1 <= k <= MAX_K:
        raise argparse.ArgumentTypeError(f"k={k} should be between 1 and {MAX_K}")
    return k


def min_cluster_share(text: str) -> float:
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


# --- option groups ----------------------------------------------------------------------------------


def add_file_options(parser: argparse.ArgumentParser, *, model_defaults: bool = False) -> None:
    """The file, the engine, how it is read and cleaned (see :func:`add_cleaning_options` for ``model_defaults``)."""
    parser.add_argument(
        "file",
        help="transaction file: CSV/TSV/TXT, .xlsx/.xlsm/.xls, .ods or Parquet; also a folder or a glob of Parquet files "
        "(CSV and Parquet are scanned by the engine, never loaded whole into memory)",
    )
    parser.add_argument(
        "--engine", choices=("duckdb", "spark"), default="duckdb",
        help="engine for the transaction-level work on CSV and Parquet: in-process DuckDB (default) or Apache Spark",
    )
    parser.add_argument(
        "--spark-master", metavar="URL",
        help="Spark master, e.g. spark://host:7077 or local[4] (default: an active session, else local[*]); implies --engine spark",
    )
    parser.add_argument(
        "--sheet", action="append", metavar="NAME", help="workbook sheet to read (repeat for several; default: every sheet with transactions)"
    )
    parser.add_argument(
        "--map", action="append", type=field_mapping, default=[], metavar="FIELD=COLUMN",
        help=f"use COLUMN for FIELD ({', '.join(FIELDS)}); an empty COLUMN unmaps it",
    )
    add_cleaning_options(parser, model_defaults=model_defaults)


def add_cleaning_options(parser: argparse.ArgumentParser, *, model_defaults: bool = False) -> None:
    """The cleaning rules' settings. With ``model_defaults`` the date order, cancel prefix and duplicates default to
    ``None``: a saved model's own (see :func:`cleaning_settings`)."""
    parser.add_argument(
        "--dates", choices=tuple(DATE_ORDERS), default=None if model_defaults else "auto",
        help="day/month order of dates like 01/02/2010 (default: decided from the values)",
    )
    parser.add_argument(
        "--cancel-prefix", default=None if model_defaults else "C",
        help="invoice ids starting with this are cancellations (default: C; empty to keep them)",
    )
    parser.add_argument("--drop-duplicates", action="store_true", default=None if model_defaults else False, help="also remove exact duplicate rows")
    parser.add_argument("--date-from", type=date, help="keep purchases on or after this date")
    parser.add_argument("--date-to", type=date, help="keep purchases on or before this date")
    parser.add_argument("--country", action="append", default=[], help="keep only these countries (repeat for several)")
    parser.add_argument(
        "--analysis-date", type=date, help="measure recency from this date (default: the latest purchase); later purchases are removed"
    )


def add_score_options(parser: argparse.ArgumentParser) -> None:
    """How customers are scored."""
    parser.add_argument("--profit-margin", type=float, default=None, help="profit margin for the historical CLV (default 0.10)")
    parser.add_argument("--bins", type=int, default=5, help="R/F/M scores per metric, 3 to 10 (default 5)")
    parser.add_argument("--iqr-multiplier", type=float, default=1.5, help="outlier fence Q3 + k*IQR (default 1.5)")


def add_cluster_options(parser: argparse.ArgumentParser, fitted: str = "") -> None:
    """How the model is fitted (``fitted`` names it in the help, e.g. "of the fitted model")."""
    parser.add_argument(
        "--k", type=clusters, default=None, metavar="N|auto",
        help=f"clusters{fitted} (default auto: the k-sweep's recommendation)",
    )
    parser.add_argument(
        "--algorithm", choices=tuple(ALGORITHMS), default="kmeans", help=f"clustering algorithm{fitted} (default kmeans)"
    )
    parser.add_argument("--min-cluster-share", type=min_cluster_share, default=0.01, metavar="SHARE", help=MIN_CLUSTER_SHARE_HELP)


# --- from arguments to settings and an analysed file --------------------------------------------------


def cleaning_settings(args: argparse.Namespace, model: ModelBundle | None = None) -> CleaningSettings:
    """The cleaning settings the arguments ask for; options left unset take the saved ``model``'s own."""
    saved = model.cleaning_settings() if model is not None else CleaningSettings()
    return CleaningSettings(
        date_order=saved.date_order if args.dates is None else args.dates,
        cancel_prefix=saved.cancel_prefix if args.cancel_prefix is None else args.cancel_prefix,
        analysis_date=args.analysis_date,
        drop_duplicates=saved.drop_duplicates if args.drop_duplicates is None else args.drop_duplicates,
        date_from=args.date_from,
        date_to=args.date_to,
        countries=tuple(args.country),
    )


def load_model(path_text: str) -> ModelBundle:
    """A saved model from a file, validated; refused with one message when missing or corrupt."""
    from rfm.bundle.model import load_bundle
    from rfm.errors import RFMInputError

    path = Path(path_text)
    if not path.is_file():
        raise RFMInputError(f"Model file {path_text!r} not found.")
    return load_bundle(path.read_bytes())


def analysed_file(args: argparse.Namespace, settings: CleaningSettings, *, profit_margin: float | None = None, with_orders: bool = False) -> Analysis:
    """Read and clean ``args.file`` on the chosen engine; the report's warnings (and an undecided date order) go to stderr."""
    from rfm.cleaning.analyse import analyse_file
    from rfm.cleaning.table import DEFAULT_PROFIT_MARGIN

    backend = "spark" if args.spark_master else args.engine
    if backend == "spark":
        from rfm.cleaning import engine

        engine.use_spark(args.spark_master)
    analysis = analyse_file(
        args.file,
        backend=backend,
        sheets=args.sheet,
        overrides=dict(args.map),
        settings=settings,
        profit_margin=DEFAULT_PROFIT_MARGIN if profit_margin is None else profit_margin,
        with_orders=with_orders,
    )
    for text in analysis.report.warnings:
        warn(text)
    decision = analysis.report.date_decision
    if decision.undecided:
        readings = decision.readings()
        warn(
            f"every date fits both day/month orders (e.g. {decision.undecided_example}): read month first, as "
            f"{readings['monthfirst']}; pass --dates dayfirst to read it as {readings['dayfirst']}."
        )
    return analysis


def write_files(out_dir: str | Path, files: Mapping[str, bytes]) -> None:
    """Write ``name -> bytes`` under ``out_dir``, folders created as needed."""
    for name, data in files.items():
        path = Path(out_dir) / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
