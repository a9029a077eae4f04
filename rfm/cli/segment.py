"""``rfm segment FILE --out DIR`` (fit segments and clusters) and ``rfm score FILE --model model.json --out DIR`` (label a
new file with a saved model): both write the lists, the workbook, the report and the summary."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from rfm.cli.options import (
    EXIT_OK,
    add_cluster_options,
    add_file_options,
    add_score_options,
    analysed_file,
    cleaning_settings,
    load_model,
    say,
    warn,
)
from rfm.segment_run import SegmentRun

if TYPE_CHECKING:
    from rfm.bundle.model import ModelBundle
    from rfm.cleaning.analyse import Analysis

HELP = "segment customers and write lists, a workbook, the model, a report and a summary into a folder"
SCORE_HELP = "label a new file's customers with a saved model (model.json)"
SEGMENT_OUT = "folder to write customers.csv, segments/, segments.xlsx, model.json, report.html, summary.json"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_file_options(parser)
    add_score_options(parser)
    add_cluster_options(parser)
    parser.add_argument("--out", required=True, metavar="DIR", help=SEGMENT_OUT)


def add_score_arguments(parser: argparse.ArgumentParser) -> None:
    """``score``'s options: unset cleaning options take the saved model's own."""
    add_file_options(parser, model_defaults=True)
    parser.add_argument("--model", required=True, metavar="MODEL.json", help="a model bundle written by `segment` or the app's Export page")
    parser.add_argument("--out", required=True, metavar="DIR", help="folder to write customers.csv, segments/, segments.xlsx and summary.json")


def run(args: argparse.Namespace) -> int:
    return _write(args, fitted_run(args))


def run_score(args: argparse.Namespace) -> int:
    model = load_model(args.model)
    analysis = analysed_file(args, cleaning_settings(args, model), profit_margin=model.profit_margin, with_orders=True)
    return _write(args, scored_run(model, analysis), with_model=False)


def fitted_run(args: argparse.Namespace) -> SegmentRun:
    """Segments and clusters fitted on ``args.file`` with the command's options; their warnings on stderr."""
    from rfm.clustering.fit import ClusterSettings
    from rfm.scoring.classic import SegmentSettings
    from rfm.segment_run import segment_run

    segments = SegmentSettings(n_bins=args.bins, iqr_multiplier=args.iqr_multiplier)
    segments.check()  # before the (possibly long) read of the file
    cleaning = cleaning_settings(args)
    analysis = analysed_file(args, cleaning, profit_margin=args.profit_margin, with_orders=True)
    run = segment_run(
        analysis, segments, ClusterSettings(min_cluster_share=args.min_cluster_share), k=args.k, algorithm=args.algorithm,
        cleaning=cleaning, profit_margin=analysis_margin(args),
    )
    for text in run.warnings:
        warn(text)
    for note in run.notes:
        say(f"note: {note}")
    if args.k is None and run.sweep is not None and run.sweep.ks:
        say(f"recommended {run.sweep.reason}")
    return run


def scored_run(model: ModelBundle, analysis: Analysis) -> SegmentRun:
    """``analysis`` labelled by a saved ``model``; how the file compares with the model's customers on stderr."""
    from rfm.segment_run import score_run

    run = score_run(model, analysis)
    say(f"scored with {model.describe()}")
    for text in run.warnings:
        warn(text)
    for note in run.notes:
        say(f"note: {note}")
    return run


def analysis_margin(args: argparse.Namespace) -> float:
    from rfm.cleaning.table import DEFAULT_PROFIT_MARGIN

    return DEFAULT_PROFIT_MARGIN if args.profit_margin is None else args.profit_margin


def _write(args: argparse.Namespace, run: SegmentRun, with_model: bool = True) -> int:
    from rfm.segment_run import write_run

    written = write_run(run, args.out, run.analysis.as_json(), with_model=with_model, warn=warn)
    sizes = run.labelled["segment_name"].value_counts()
    silhouette = "" if run.silhouette is None else f", silhouette {run.silhouette:.3f}"
    say(f"wrote {len(written)} files to {args.out}: {len(run.labelled):,} customers in {len(sizes)} segments (k={run.k}{_fitted_note(run)}{silhouette})")
    return EXIT_OK


def _fitted_note(run: SegmentRun) -> str:
    """", 2 fitted" when the data held fewer clusters than asked for (the warning above says why)."""
    fitted = run.clusters.estimator.n_clusters_ if run.clusters is not None else run.k
    return f", {fitted} fitted" if fitted != run.k else ""

