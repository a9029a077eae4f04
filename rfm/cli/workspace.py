"""``rfm publish FILE --name N`` (fit, or score with ``--model``, and publish to the workspace) and ``rfm runs``
(the published runs). The workspace is ``--workspace`` (a DuckDB file or a ``postgresql://`` URL), else
``RFM_WORKSPACE_URL``, ``RFM_WORKSPACE``, else ``workspace/rfm.duckdb``."""

from __future__ import annotations

import argparse
import getpass
import glob
import hashlib
import json
from pathlib import Path
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

if TYPE_CHECKING:
    from rfm.bundle.model import ModelBundle
    from rfm.segment_run import SegmentRun
    from rfm.workspace import Workspace
    from rfm.workspace.publish import Published

PUBLISH_HELP = "fit segments (or score with a saved model) and publish the run to the workspace under a name"
RUNS_HELP = "list the runs published to the workspace, newest first"


def add_workspace_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--workspace", metavar="W",
        help="a DuckDB file or a postgresql:// URL (default: RFM_WORKSPACE_URL, RFM_WORKSPACE, else workspace/rfm.duckdb)",
    )


def add_publish_arguments(parser: argparse.ArgumentParser) -> None:
    add_file_options(parser)
    add_score_options(parser)
    add_cluster_options(parser)
    add_workspace_option(parser)
    parser.add_argument("--name", required=True, metavar="N", help="the run's name: runs of one name are compared with each other")
    parser.add_argument("--model", metavar="MODEL.json", help="score with this saved model instead of fitting (not with --k)")
    parser.add_argument("--by", metavar="WHO", help="who publishes (default: the login name)")


def add_runs_arguments(parser: argparse.ArgumentParser) -> None:
    add_workspace_option(parser)
    parser.add_argument("--name", metavar="N", help="only the runs of this name")
    parser.add_argument("--all", action="store_true", help="archived runs too")
    parser.add_argument("--json", action="store_true", help="print one JSON array instead of a table")


def run_publish(args: argparse.Namespace) -> int:
    from rfm.cli.segment import fitted_run
    from rfm.errors import RFMInputError
    from rfm.workspace import Workspace, describe_url, workspace_url

    if args.model and args.k is not None:
        raise RFMInputError("Give --model (score with a saved model) or --k (fit), not both.")
    url = workspace_url(args.workspace)
    # Opened from the text given: str() of a URL masks its password (workspace_url(URL) would lose it).
    with Workspace.open(args.workspace) as workspace:  # refused before the (possibly long) read when it cannot be opened
        run = scored_with(args, load_model(args.model)) if args.model else fitted_run(args)
        published = publish_file_run(workspace, args, run)
    say(f"published {published.info.name!r} (run {published.info.run_id}) to {describe_url(url)}: {movement_summary(published)}")
    return EXIT_OK


def scored_with(args: argparse.Namespace, model: ModelBundle) -> SegmentRun:
    """``args.file`` read, cleaned and labelled by a saved ``model`` (``rfm publish --model``, ``rfm refresh``): the
    cleaning options left unset take the model's own, the profit margin is the model's."""
    from rfm.cli.segment import scored_run

    return scored_run(model, analysed_file(args, cleaning_settings(args, model), profit_margin=model.profit_margin, with_orders=True))


def publish_file_run(workspace: Workspace, args: argparse.Namespace, run: SegmentRun) -> Published:
    """Publish ``run`` (made from ``args.file``) under ``args.name`` by ``args.by`` (else the login name), with the
    predicted values when they can be fitted (a warning on stderr when not)."""
    from rfm.segment_run import values_or_warn
    from rfm.value.predict import ValueSettings
    from rfm.workspace.publish import publish_run

    return publish_run(
        workspace, args.name, run, published_by=args.by or login_name(), source_digest=file_digest(args.file),
        values=values_or_warn(run.analysis, warn), value_settings=ValueSettings(),
    )


def movement_summary(published: Published) -> str:
    """``"1,234 customers; since 2024-06-01 09:30 UTC: up 12, same 1,100, ..."``: what a publish line says."""
    from rfm.workspace.movement import movement_counts

    counts = ", ".join(f"{direction} {customers:,}" for direction, customers in movement_counts(published.customers).items())
    since = "first run of this name" if published.previous is None else f"since {published.previous.published_at:%Y-%m-%d %H:%M} UTC"
    return f"{published.info.customers:,} customers; {since}: {counts}"


def run_runs(args: argparse.Namespace) -> int:
    from rfm.workspace import Workspace

    with Workspace.open(args.workspace) as workspace:
        runs = workspace.runs(args.name, include_archived=args.all)
    if args.json:
        records = [
            {**row, "published_at": row["published_at"].isoformat(), "customers": int(row["customers"]),
             "revenue": round(float(row["revenue"]), 2), "archived": bool(row["archived"])}
            for row in runs.to_dict("records")
        ]
        print(json.dumps(records, indent=2, ensure_ascii=False))
    else:
        print("no runs published yet" if runs.empty else runs.to_string(index=False))
    return EXIT_OK


def file_digest(source: str) -> str:
    """The SHA-256 of the file's bytes in hex, as the app digests an upload (of each file's name and bytes, in name
    order, for a folder or glob of Parquet files): the same file has the same digest, published from either."""
    path = Path(source)
    found = path.rglob("*") if path.is_dir() else (Path(name) for name in glob.glob(source))
    files = [path] if path.is_file() else sorted(p for p in found if p.is_file())
    digest = hashlib.sha256()
    for file in files:
        if len(files) > 1:
            digest.update(file.name.encode("utf-8"))
        with open(file, "rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
    return digest.hexdigest()


def login_name() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "unknown"
