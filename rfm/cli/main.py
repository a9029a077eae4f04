"""Command line: the same pipeline as the app, without the UI. One module per command, found through ``COMMANDS``.

    rfm inspect FILE [--sheet NAME ...] [--map field=COLUMN ...] [--dates auto|dayfirst|monthfirst] [--json]
        (FILE: a file, a folder or glob of Parquet files; every command: [--engine duckdb|spark] [--spark-master URL])
    rfm table FILE [same options] [--analysis-date YYYY-MM-DD] -o OUT.csv
    rfm segment FILE [same options] [--k N|auto] [--algorithm NAME] [--min-cluster-share SHARE] --out DIR
    rfm score FILE --model model.json [same options] --out DIR
    rfm migrate FILE --from YYYY-MM-DD --to YYYY-MM-DD [--by segment|cluster] [--left-after-days N] [--model model.json] --out DIR
    rfm clv FILE [--horizon-days N] [--months N] [--discount-rate R] [--holdout-days N] --out DIR
    rfm cohorts FILE [same options] --out DIR
    rfm backtest FILE [same options] [--holdout-days N] [--k N|auto] [--algorithm NAME] [--json]
    rfm publish FILE --name N [--workspace W] [--k N|auto | --model model.json] [--by WHO] [same options]
    rfm refresh FILE --name N [--workspace W] [--out DIR] [--by WHO] [same options]
    rfm runs [--workspace W] [--name N] [--all] [--json]
    rfm audience [--workspace W] [--run N|latest] [--segment S ...] [--movement M] [--format csv|klaviyo|mailchimp|meta|google]
        [--control SHARE [--seed N]] --out DIR
    rfm audiences [--workspace W] [--name N] [--json]
    rfm sql --dialect bigquery|snowflake|databricks|postgres|duckdb [--table NAME] [--map field=COLUMN ...] [--ledger]
    rfm demo [--seed N]

``python -m rfm`` is the same. Exit codes: 0 success (warnings on stderr), 2 bad input (one line on stderr).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from rfm.cli import audience, backtest, clv, cohorts, demo, inspect, migrate, refresh, segment, sql, table, workspace
from rfm.cli.options import EXIT_BAD_INPUT, EXIT_OK
from rfm.errors import RFMInputError


@dataclass(frozen=True)
class Command:
    """One subcommand: its help line, how it adds its arguments, and what runs it (returning the exit code)."""

    help: str
    add_arguments: Callable[[argparse.ArgumentParser], None]
    run: Callable[[argparse.Namespace], int]


COMMANDS: dict[str, Command] = {
    "inspect": Command(inspect.HELP, inspect.add_arguments, inspect.run),
    "table": Command(table.HELP, table.add_arguments, table.run),
    "segment": Command(segment.HELP, segment.add_arguments, segment.run),
    "score": Command(segment.SCORE_HELP, segment.add_score_arguments, segment.run_score),
    "migrate": Command(migrate.HELP, migrate.add_arguments, migrate.run),
    "clv": Command(clv.HELP, clv.add_arguments, clv.run),
    "publish": Command(workspace.PUBLISH_HELP, workspace.add_publish_arguments, workspace.run_publish),
    "refresh": Command(refresh.HELP, refresh.add_arguments, refresh.run),
    "runs": Command(workspace.RUNS_HELP, workspace.add_runs_arguments, workspace.run_runs),
    "audience": Command(audience.HELP, audience.add_arguments, audience.run),
    "audiences": Command(audience.LIST_HELP, audience.add_list_arguments, audience.run_list),
    "cohorts": Command(cohorts.HELP, cohorts.add_arguments, cohorts.run),
    "backtest": Command(backtest.HELP, backtest.add_arguments, backtest.run),
    "sql": Command(sql.HELP, sql.add_arguments, sql.run),
    "demo": Command(demo.HELP, demo.add_arguments, demo.run),
}


def build_parser() -> argparse.ArgumentParser:
    """The parser of every command (``COMMANDS``), each with its own options."""
    prog = "python -m rfm" if Path(sys.argv[0]).name == "__main__.py" else "rfm"
    parser = argparse.ArgumentParser(prog=prog, description="RFM Studio: read, clean and summarise transaction files.")
    commands = parser.add_subparsers(dest="command", required=True)
    for name, command in COMMANDS.items():
        command.add_arguments(commands.add_parser(name, help=command.help))
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command; bad input is one ``error:`` line and exit code 2, never a traceback."""
    args = build_parser().parse_args(argv)
    try:
        return COMMANDS[args.command].run(args)
    except RFMInputError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except BrokenPipeError:  # output piped into `head` and the like
        sys.stderr.close()
        return EXIT_OK
    except Exception as exc:
        if not type(exc).__module__.startswith(("pyspark", "py4j")):
            raise  # a bug: keep its traceback
        print(_spark_failure(exc), file=sys.stderr)
        return EXIT_BAD_INPUT


def _spark_failure(exc: Exception) -> str:
    """A Spark job that failed (out of memory, a lost executor) as one line naming it, not a page of JVM stack."""
    first = next((line.strip() for line in str(exc).splitlines() if line.strip()), type(exc).__name__)
    return (
        f"error: the Spark engine failed: {first[:300]} (local mode: raise RFM_SPARK_DRIVER_MEMORY, "
        "now 4g by default; on a cluster, its executors' memory)"
    )
