"""``rfm refresh FILE --name N``: the next run of a name, for marketing. Score FILE with the model of the latest run
of that name (as ``rfm publish --model`` does), publish it, and write the digest of what changed since that run
(``digest.md`` for people, ``digest.json`` for tools) to ``--out``, with how the control groups of audiences saved
from earlier runs of the name compare in this one."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from rfm.cli.options import EXIT_OK, add_file_options, say, write_files
from rfm.cli.workspace import add_workspace_option, movement_summary, publish_file_run, scored_with

HELP = "score a file with the model of a name's latest run, publish it as the next run, and write the digest of what changed"
DIGEST_FILES = ("digest.md", "digest.json")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_file_options(parser, model_defaults=True)  # cleaning options left unset take the run's model's own
    add_workspace_option(parser)
    parser.add_argument("--name", required=True, metavar="N", help="the name of the runs to continue: its latest run's model scores FILE")
    parser.add_argument("--out", default=".", metavar="DIR", help="folder to write digest.md and digest.json (default: here)")
    parser.add_argument("--by", metavar="WHO", help="who publishes (default: the login name)")


def run(args: argparse.Namespace) -> int:
    from rfm.audiences.campaign import control_markdown, control_results
    from rfm.bundle.model import load_bundle
    from rfm.errors import RFMInputError
    from rfm.workspace import Workspace, describe_url, workspace_url
    from rfm.workspace.digest import published_digest

    try:  # before publishing: a folder that cannot be written must not leave a run without its digest
        Path(args.out).mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise RFMInputError(f"The folder {args.out!r} cannot be made for the digest: {error.strerror or error}.") from None
    url = workspace_url(args.workspace)
    with Workspace.open(args.workspace) as workspace:  # the text given: str() of a URL masks its password
        latest = workspace.latest(args.name)
        if latest is None:
            raise RFMInputError(
                f"No run named {args.name!r} in the workspace {describe_url(url)} (archived runs aside): publish one first "
                f"with rfm publish FILE --name {args.name!r}."
            )
        published = publish_file_run(workspace, args, scored_with(args, load_bundle(latest.model_json.encode("utf-8"))))
        previous_id = None if published.previous is None else published.previous.run_id
        digest = published_digest(workspace, published.info.run_id, previous_id)
        # The audiences saved from earlier runs of this name, judged in this one (contacted against held back).
        judged = [r for r in control_results(workspace, args.name) if r.later is not None and r.later.run_id == published.info.run_id]
    markdown = digest.to_markdown().rstrip("\n") + "\n\n" + control_markdown(judged)
    record = json.dumps(digest.to_dict() | {"control_groups": [r.to_dict() for r in judged]}, indent=2, ensure_ascii=False) + "\n"
    write_files(args.out, dict(zip(DIGEST_FILES, (markdown.encode("utf-8"), record.encode("utf-8")))))
    risk = digest.at_risk
    say(
        f"refreshed {published.info.name!r} (run {published.info.run_id}) in {describe_url(url)}: {movement_summary(published)}; "
        f"newly at risk {risk.customers:,} (revenue to date {risk.revenue:,.2f}); wrote {' and '.join(DIGEST_FILES)} "
        f"to {Path(args.out)}"
    )
    return EXIT_OK
