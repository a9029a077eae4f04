"""``rfm audience`` (a published run's customers in a platform's import format, with an optional random control group
stored in the workspace) and ``rfm audiences`` (the saved audiences, and how their contacted customers compare with
those held back in a later run)."""

from __future__ import annotations

import argparse
import json
import secrets
from pathlib import Path

from rfm.audiences.formats import FORMATS
from rfm.audiences.selection import MOVEMENTS
from rfm.cli.options import EXIT_OK, say, warn
from rfm.cli.workspace import add_workspace_option, login_name
from rfm.outputs.lists import SPLITS

HELP = "write a published run's segments (or a movement) in a platform's import format, optionally holding back a control group"
LIST_HELP = "list the saved audiences and compare their contacted customers with those held back in a later run"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_workspace_option(parser)
    parser.add_argument("--run", default="latest", metavar="N|latest", help="a run name (its newest run), a run id, or latest (default)")
    parser.add_argument("--segment", nargs="+", default=[], metavar="S", help="segment names as the run's lists show them (default: every segment)")
    parser.add_argument("--split", choices=list(SPLITS), default="segment_name", help="the column the segment names are in (default segment_name)")
    parser.add_argument("--movement", choices=list(MOVEMENTS), default="all", help="narrow to how customers moved since the previous run (default all)")
    parser.add_argument("--format", choices=list(FORMATS), default="csv", help="the platform's import format (default csv)")
    parser.add_argument(
        "--control", type=control_share, metavar="SHARE", help="hold back this share (0-0.5) at random as a control group, stored in the workspace",
    )
    parser.add_argument("--seed", type=int, help="the control group's seed (default: a random one, printed and stored)")
    parser.add_argument("--label", help="the audience's label in the workspace (default: the run's name)")
    parser.add_argument("--by", metavar="WHO", help="who makes the audience (default: the login name)")
    parser.add_argument("--out", required=True, metavar="DIR", help="folder for the audience file (and the control group's list)")


def control_share(text: str) -> float:
    """``--control SHARE``: a share of the audience between 0 and 0.5 (refused before the workspace is opened)."""
    from rfm.audiences.control import MAX_CONTROL_SHARE

    try:
        share = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a share such as 0.1; got {text!r}") from None
    if not 0 < share <= MAX_CONTROL_SHARE:
        raise argparse.ArgumentTypeError(f"a control group holds back more than 0 and at most {MAX_CONTROL_SHARE} of the audience; got {text}")
    return share


def add_list_arguments(parser: argparse.ArgumentParser) -> None:
    add_workspace_option(parser)
    parser.add_argument("--name", metavar="N", help="only the audiences of runs of this name")
    parser.add_argument("--json", action="store_true", help="print one JSON array instead of lines")


def run(args: argparse.Namespace) -> int:
    from rfm.audiences.campaign import analysis_date, check_not_empty, find_run, run_audience, save_with_control
    from rfm.audiences.control import control_note
    from rfm.audiences.formats import audience_file
    from rfm.outputs.files import export_file_name
    from rfm.workspace import Workspace, workspace_url

    out = Path(args.out)
    with Workspace.open(workspace_url(args.workspace)) as workspace:
        info = find_run(workspace, args.run)
        audience = run_audience(workspace, info, args.segment, by=args.split, movement=args.movement)
        check_not_empty(workspace, info, audience, args.movement)
        say(f"run {info.name!r} of {info.published_at:%Y-%m-%d %H:%M} UTC by {info.published_by}: {len(audience):,} customers chosen")
        contacted, held = audience, None
        if args.control is not None:
            seed = args.seed if args.seed is not None else secrets.randbelow(1_000_000)
            held = save_with_control(
                workspace, info, audience, share=args.control, seed=seed, label=args.label or info.name,
                created_by=args.by or login_name(), by=args.split, segments=args.segment, movement=args.movement,
            )
            contacted = held.contacted
    result = audience_file(contacted, args.format)
    day = analysis_date(info)
    out.mkdir(parents=True, exist_ok=True)
    label = args.label or info.name
    path = out / export_file_name(f"audience-{args.format}-{label}", day, "csv")
    path.write_bytes(result.to_csv())
    for text in result.warnings:
        warn(text)
    say(f"wrote {path} ({len(result.table):,} rows)")
    if held is not None:
        control_path = out / export_file_name(f"control-group-{label}", day, "csv")
        control_path.write_bytes(audience_file(held.control, "csv").to_csv())
        note = control_note(held.info.customers, held.info.held_back)
        if note:
            warn(note)
        say(
            f"held back {held.info.held_back:,} of {held.info.customers:,} customers ({held.info.control_share:.0%}, seed "
            f"{held.info.seed}) as audience {held.info.audience_id}: do not contact them; their list is {control_path}"
        )
    return EXIT_OK


def run_list(args: argparse.Namespace) -> int:
    from rfm.audiences.campaign import control_results
    from rfm.workspace import Workspace, workspace_url

    with Workspace.open(workspace_url(args.workspace)) as workspace:
        results = control_results(workspace, args.name)
    if args.json:
        print(json.dumps([result.to_dict() for result in results], indent=2, ensure_ascii=False))
        return EXIT_OK
    if not results:
        print("no audiences saved yet (rfm audience --control SHARE saves one)")
    for result in results:
        print(result.headline())
    return EXIT_OK
