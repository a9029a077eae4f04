"""``rfm demo``: regenerate the demo workbook (in ``data/`` of a checkout, else where ``--out`` says), and beside it
the summary the app opens with (:mod:`rfm.cleaning.summary`)."""

from __future__ import annotations

import argparse
from pathlib import Path

from rfm.cli.options import EXIT_OK

HELP = "regenerate the demo workbook (data/demo_online_retail.xlsx in a checkout) and its summary"


def default_path() -> Path:
    """``data/demo_online_retail.xlsx`` in a source checkout; in the working directory when installed by pip."""
    from rfm.demo import DEMO_PATH

    in_checkout = (DEMO_PATH.parent.parent / "pyproject.toml").is_file()
    return DEMO_PATH if in_checkout else Path.cwd() / DEMO_PATH.name


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--seed", type=int, default=None, help="random seed (default: the one the committed file uses)")
    parser.add_argument("--out", type=Path, default=None, help="where to write the workbook (default: data/ in a checkout, else the working directory)")
    parser.add_argument(
        "--summary-only", action="store_true",
        help="keep the workbook as it is and write its summary again (after a change to reading or cleaning)",
    )


def run(args: argparse.Namespace) -> int:
    from rfm import demo
    from rfm.cleaning.summary import summarise, summary_path, write_summary

    path = args.out or default_path()
    if not args.summary_only:
        seed = {"seed": args.seed} if args.seed is not None else {}
        demo.write_demo_workbook(path, **seed)
        print(f"wrote {path} ({path.stat().st_size / 1e6:.2f} MB)")
    summary = write_summary(summarise(path.read_bytes(), path.name), summary_path(path))
    print(f"wrote {summary} (what the app's Data page shows of it, so that the app opens without reading it)")
    return EXIT_OK
