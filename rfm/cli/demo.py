"""``rfm demo``: regenerate the demo workbook in ``data/``."""

from __future__ import annotations

import argparse

from rfm.cli.options import EXIT_OK

HELP = "regenerate the demo workbook in data/"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--seed", type=int, default=None)


def run(args: argparse.Namespace) -> int:
    from rfm import demo

    path = demo.write_demo_workbook(demo.DEMO_PATH, **({"seed": args.seed} if args.seed is not None else {}))
    print(f"wrote {path}")
    return EXIT_OK
