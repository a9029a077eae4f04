"""Every benchmark of RFM Studio in one command, printed as one table.

Each case runs in its own child process, so that its peak memory is its own. Per case the table gives the
wall time of the whole process (what a user waits for, interpreter start included), its peak memory, and
both divided by the baseline of the same case in the same run (below 1 means faster or smaller):

    workbook       the 1,067,371-row two-sheet workbook: pandas + openpyxl (baseline) vs RFM Studio
                   (bench_pipeline.py's builder and its two approaches)
    csv            1M-row CSV: pandas read_csv + the same rules + groupby (baseline) vs `python -m rfm table`
    parquet        10M-row Parquet: pandas (baseline) vs `python -m rfm table`, and `--engine spark`;
                   also says whether `rfm table` stayed under the 2 GiB memory target
    parquet-large  50M-row Parquet: pandas (baseline, may run out of time or memory) vs `python -m rfm table`
    ksweep         rfm.clustering.sweep.sweep_k on 6k / 100k / 1M synthetic customers (bench_clusters.py's table)
    whatif         what-if latency per slider move, library and app (bench_whatif.py)

Transactions come from devkit/datagen.py (cached outside git, generated once). Peak memory is the larger of
the largest process's max RSS (from the kernel, via wait4) and the sum of the RSS of every process the case
started, sampled every 0.2 s (sheet workers, the Spark JVM). A case that runs past ``--timeout`` or past
``--max-memory-gib`` is killed and shown as such. Nothing is asserted: this script prints figures.

    python bench/run_all.py                         # everything: about 10 minutes on 2 cores once the data exist
    python bench/run_all.py --quick                 # small sizes, no workbook: a smoke run of a minute or two
    python bench/run_all.py --only parquet --only ksweep/6k
    python bench/run_all.py --list
"""

from __future__ import annotations

import argparse
import contextlib
import importlib.metadata
import importlib.util
import io
import json
import os
import platform
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field, replace
from pathlib import Path

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
MEMORY_TARGET_MIB = 2048  # the project's target for the 10M-row Parquet case
SAMPLE_SECONDS = 0.2
WHATIF_FIGURES = {  # bench_whatif.py's labels -> the words in the table (median and p95 per move)
    "library: predict": "predict",
    "library: moves_up": "moves_up",
    "library: all of it": "predict + moves_up + charts",
    "app: panel's own time (Answered in …)": "panel",
}
LIBRARIES = (
    "numpy", "pandas", "pyarrow", "duckdb", "ibis-framework", "scikit-learn",
    "fastexcel", "openpyxl", "streamlit", "pyspark",
)  # fmt: skip


@dataclass(frozen=True)
class Sizes:
    csv_rows: int
    parquet_rows: int
    large_rows: int | None  # None: skipped
    ksweep_customers: tuple[int, ...]
    whatif_moves: int
    app_moves: int
    workbook: bool


FULL = Sizes(1_000_000, 10_000_000, 50_000_000, (6_000, 100_000, 1_000_000), 200, 100, True)
QUICK = Sizes(100_000, 200_000, None, (6_000, 100_000), 50, 20, False)


@dataclass(frozen=True)
class Case:
    """One run: ``argv`` started from the project root (``None`` when skipped, with the reason)."""

    group: str
    variant: str
    engine: str
    rows: int
    argv: tuple[str, ...] | None
    baseline: bool = False
    skip: str = ""
    env: tuple[tuple[str, str], ...] = ()
    output: str | None = None  # the RFM table a `rfm table` run writes: its customers are counted
    memory_target: bool = False  # report whether the peak stayed under MEMORY_TARGET_MIB

    @property
    def name(self) -> str:
        return f"{self.group}/{self.variant}"


@dataclass
class Outcome:
    status: str  # "ok", "failed", "timeout", "memory", "skipped"
    wall_s: float = float("nan")
    peak_mib: float = float("nan")
    largest_mib: float = float("nan")  # the largest single process (kernel's max RSS)
    processes: int = 1
    details: dict = field(default_factory=dict)  # the JSON a Python child prints last
    message: str = ""


# --- the work done inside children (called as `python -c "import run_all; run_all.FUNCTION(...)"`) ---------


def pandas_rfm(path: str) -> dict:
    """The plain pandas way on a CSV or Parquet file: read, RFM Studio's default rules, groupby.

    Rules as ``rfm table`` applies them by default: unreadable date, missing customer id, cancelled invoice
    (``C``), quantity <= 0, price <= 0 (duplicates are kept, as ours does by default). Recency is counted
    in whole days from the last purchase's day to the latest purchase's day.
    """
    import pandas as pd

    started = time.perf_counter()
    if path.endswith(".csv"):
        frame = pd.read_csv(path, dtype={"Invoice": str, "StockCode": str, "Description": str, "Country": str})
        frame["InvoiceDate"] = pd.to_datetime(frame["InvoiceDate"], format="%Y-%m-%d %H:%M:%S", errors="coerce")
    else:
        frame = pd.read_parquet(path)
    read = time.perf_counter()
    rows = len(frame)
    frame = frame.dropna(subset=["InvoiceDate", "Customer ID"])
    frame = frame[~frame["Invoice"].str.startswith("C")]
    frame = frame[(frame["Quantity"] > 0) & (frame["Price"] > 0)]
    frame = frame.assign(line_value=frame["Quantity"] * frame["Price"])
    table = frame.groupby("Customer ID").agg(
        last_purchase=("InvoiceDate", "max"),
        frequency=("Invoice", "nunique"),
        monetary=("line_value", "sum"),
    )
    table["recency_days"] = (table["last_purchase"].max().normalize() - table["last_purchase"].dt.normalize()).dt.days
    done = time.perf_counter()
    return {
        "rows": rows,
        "read_s": read - started,
        "clean_rfm_s": done - read,
        "customers": len(table),
        "revenue": float(table["monetary"].sum()),
    }


def ksweep(n_customers: int) -> dict:
    """Time ``sweep_k`` (k = 2..10, every metric) once on bench_clusters.py's synthetic customers."""
    import bench_clusters

    from rfm.clustering.sweep import sweep_k

    X = bench_clusters.scaled(bench_clusters.synthetic_customers(n_customers))
    sweep_k(X[:300], k_max=4)  # warm-up: imports and thread pools, as bench_clusters.py does
    seconds, _, result = bench_clusters.timed(lambda: sweep_k(X), 1)
    return {
        "sweep_s": seconds,
        "method": result.method,
        "k": result.recommended_k,
        "metric_sample": result.silhouette_sample,
    }


def whatif(part: str, customers: int, moves: int, seed: int = 3) -> dict:
    """bench_whatif.py's ``library_times`` or ``app_times`` on a demo file of ``customers`` customers.

    They print their figures; the lines are read back (``label  median X ms  p95 Y ms``).
    """
    import bench_whatif

    from rfm.demo import generate_demo_transactions

    frame = generate_demo_transactions(n_customers=customers, seed=seed)
    buffer = io.BytesIO()
    frame.to_excel(buffer, index=False, engine="xlsxwriter")
    timing = bench_whatif.library_times if part == "library" else bench_whatif.app_times
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        timing(buffer.getvalue(), moves, seed)
    figures = {}
    for line in printed.getvalue().splitlines():
        found = re.match(r"(.+?)\s+median\s+([\d.]+) ms\s+p95\s+([\d.]+) ms", line)
        if found:
            figures[found.group(1).strip()] = (float(found.group(2)), float(found.group(3)))
    return {"transactions": len(frame), "figures": figures, "printed": printed.getvalue()[-2000:]}


# --- running one child and measuring it ---------------------------------------------------------------------


def _group_members(group: int) -> dict[int, int]:
    """RSS in bytes of every live process in process group ``group``, by pid (from /proc/PID/stat)."""
    members, page = {}, os.sysconf("SC_PAGE_SIZE")
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            with open(f"/proc/{entry.name}/stat", "rb") as stat:
                fields = stat.read().rsplit(b")", 1)[1].split()
        except OSError:  # the process ended meanwhile
            continue
        # after the command: state, ppid, pgrp, ... rss is field 24 of the whole line
        if int(fields[2]) == group and fields[0] != b"Z":
            members[int(entry.name)] = int(fields[21]) * page
    return members


def run_child(argv: tuple[str, ...], timeout: float, max_bytes: int, env: dict[str, str]) -> Outcome:
    """Start ``argv`` in a new session, wait for it, and measure it.

    Wall time runs from the start to the moment ``wait4`` reaps the child; ``wait4``'s ``ru_maxrss`` is the
    largest max RSS of the child and the descendants it waited for. A watchdog samples the RSS of the whole
    process group, and kills the group (by the pids it started) past ``timeout`` seconds or ``max_bytes``.
    """
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        started = time.perf_counter()
        process = subprocess.Popen(argv, cwd=ROOT, env=env, stdout=out, stderr=err, start_new_session=True)
        reaped: dict = {}
        waiter = threading.Thread(target=lambda: reaped.update(_reap(process.pid)), daemon=True)
        waiter.start()
        tree_peak, most_processes, stopped = 0, 1, ""
        while not reaped and waiter.is_alive():
            waiter.join(SAMPLE_SECONDS)
            if reaped:
                break
            members = _group_members(process.pid)
            tree_peak = max(tree_peak, sum(members.values()))
            most_processes = max(most_processes, len(members))
            if time.perf_counter() - started > timeout:
                stopped = "timeout"
            elif sum(members.values()) > max_bytes:
                stopped = "memory"
            if stopped:
                _kill(members)
                waiter.join()
        process.returncode = os.waitstatus_to_exitcode(reaped["status"])  # reaped by wait4, not by Popen
        _kill(_group_members(process.pid))  # anything the child left running (a JVM, a worker)
        out.seek(0)
        err.seek(0)
        stdout, stderr = out.read().decode(errors="replace"), err.read().decode(errors="replace")
    largest = reaped["usage"].ru_maxrss / 1024
    outcome = Outcome(
        status=stopped or ("ok" if process.returncode == 0 else "failed"),
        wall_s=reaped["end"] - started,
        peak_mib=max(largest, tree_peak / 2**20),
        largest_mib=largest,
        processes=most_processes,
        details=_last_json(stdout),
    )
    if stopped == "timeout":
        outcome.message = f"killed after {timeout:,.0f} s"
    elif stopped == "memory":
        outcome.message = f"killed above {max_bytes / 2**30:.1f} GiB"
    elif process.returncode != 0:
        lines = [line for line in stderr.strip().splitlines() if line.strip()]
        outcome.message = f"exit {process.returncode}: {lines[-1][:160] if lines else '(no message)'}"
    return outcome


def _reap(pid: int) -> dict:
    _, status, usage = os.wait4(pid, 0)
    return {"end": time.perf_counter(), "status": status, "usage": usage}


def _kill(members: dict[int, int]) -> None:
    for pid in members:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)


def _last_json(stdout: str) -> dict:
    for line in reversed(stdout.strip().splitlines()):
        with contextlib.suppress(ValueError):
            value = json.loads(line)
            if isinstance(value, dict):
                return value
    return {}


def python_call(module: str, function: str, *args) -> tuple[str, ...]:
    """argv running ``module.function(*args)`` in a fresh interpreter and printing its result as JSON."""
    code = (
        f"import json, sys; sys.path[:0] = {[str(ROOT), str(BENCH)]!r}; import {module}; "
        f"print(json.dumps({module}.{function}(*{args!r}), default=str))"
    )
    return (sys.executable, "-c", code)


def rfm_table(path: Path, output: Path, *options: str) -> tuple[str, ...]:
    return (sys.executable, "-m", "rfm", "table", str(path), "-o", str(output), *options)


# --- the inputs ---------------------------------------------------------------------------------------------


def transactions(rows: int, fmt: str, timeout: float) -> Path:
    """devkit/datagen.py's file (generated in a child process the first time); says what it did."""
    run = subprocess.run(
        [sys.executable, str(ROOT / "devkit" / "datagen.py"), "--rows", str(rows), "--format", fmt],
        capture_output=True, text=True, timeout=timeout, check=True,
    )  # fmt: skip
    print(f"  data: {run.stdout.strip()} ({run.stderr.strip()})", flush=True)
    return Path(run.stdout.strip())


def workbook(timeout: float) -> Path:
    from bench_pipeline import WORKBOOK  # imports pandas: only when the workbook case runs

    if not WORKBOOK.exists():
        print(f"  data: building {WORKBOOK} once (a few minutes) ...", flush=True)
        code = f"import sys; sys.path[:0] = [{str(BENCH)!r}]; import bench_pipeline as b; b.build_workbook(b.WORKBOOK)"
        subprocess.run([sys.executable, "-c", code], cwd=ROOT, check=True, timeout=timeout)
    print(f"  data: {WORKBOOK} ({WORKBOOK.stat().st_size / 2**20:,.0f} MiB)", flush=True)
    return WORKBOOK


def spark_skip_reason() -> str:
    """Why the Spark case cannot run here ("" when it can)."""
    if importlib.util.find_spec("pyspark") is None:
        return "pyspark is not installed"
    if shutil.which("java") is None and not os.environ.get("JAVA_HOME"):
        return "no java on PATH (pyspark needs a JVM)"
    help_text = subprocess.run(
        [sys.executable, "-m", "rfm", "table", "--help"], cwd=ROOT, capture_output=True, text=True, check=False
    ).stdout
    if "--engine" not in help_text:
        return "`rfm table` has no --engine option yet"
    return ""


# --- the cases ----------------------------------------------------------------------------------------------


def all_cases(sizes: Sizes) -> list[Case]:
    """Every case, without touching any file yet (paths are resolved when a case runs)."""
    cases = []
    if sizes.workbook:
        cases += [
            Case("workbook", "pandas", "pandas + openpyxl", 1_067_371, ("workbook", "run_seed"), baseline=True),
            Case("workbook", "rfm", "rfm: fastexcel + duckdb", 1_067_371, ("workbook", "run_ours")),
        ]
    files = (
        ("csv", sizes.csv_rows, "csv"),
        ("parquet", sizes.parquet_rows, "parquet"),
        ("parquet-large", sizes.large_rows, "parquet"),
    )
    for group, rows, fmt in files:
        if rows is None:
            cases.append(Case(group, "all", "-", 50_000_000, None, skip="not in --quick"))
            continue
        cases += [
            Case(group, "pandas", "pandas", rows, (fmt, "pandas"), baseline=True),
            Case(group, "duckdb", "rfm table (duckdb)", rows, (fmt, "table"), memory_target=group == "parquet"),
        ]
        if group == "parquet":
            spark_env = (("SPARK_LOCAL_IP", "127.0.0.1"),)
            spark = Case(group, "spark", "rfm table --engine spark", rows, (fmt, "spark"), env=spark_env, memory_target=True)
            cases.append(spark)
    for n in sizes.ksweep_customers:
        label = f"{n // 1000}k" if n < 1_000_000 else f"{n // 1_000_000}m"
        cases.append(Case("ksweep", label, "sweep_k (rows: customers)", n, ("ksweep", str(n))))
    cases += [
        Case("whatif", "library", "rfm.bundle.whatif + charts (customers)", 6_000, ("whatif", "library")),
        Case("whatif", "app", "app panel, AppTest (customers)", 6_000, ("whatif", "app")),
    ]
    return cases


def resolve(case: Case, sizes: Sizes, work: Path, timeout: float) -> Case:
    """The case with its argv (inputs generated if need be), or skipped with the reason."""
    if case.argv is None:
        return case
    kind, what = case.argv
    if kind == "workbook":
        return _with(case, python_call("bench_pipeline", what, str(workbook(timeout))))
    if kind == "ksweep":
        return _with(case, python_call("run_all", "ksweep", int(what)))
    if kind == "whatif":
        moves = sizes.whatif_moves if what == "library" else sizes.app_moves
        return _with(case, python_call("run_all", "whatif", what, 6_000, moves))
    if what == "spark":
        reason = spark_skip_reason()
        if reason:
            return replace(case, argv=None, skip=reason)
    path = transactions(case.rows, kind, timeout)
    if what == "pandas":
        return _with(case, python_call("run_all", "pandas_rfm", str(path)))
    output = work / f"{case.group}_{case.variant}.csv"
    options = ("--engine", "spark") if what == "spark" else ()
    return replace(case, argv=rfm_table(path, output, *options), output=str(output))


def _with(case: Case, argv: tuple[str, ...]) -> Case:
    return replace(case, argv=argv)


def run_case(case: Case, timeout: float, max_bytes: int) -> Outcome:
    if case.argv is None:
        return Outcome("skipped", message=case.skip)
    outcome = run_child(case.argv, timeout, max_bytes, {**os.environ, **dict(case.env)})
    if outcome.status == "ok" and case.output:
        outcome.details.update(_table_figures(Path(case.output)))
    return outcome


def _table_figures(path: Path) -> dict:
    """Customers and revenue of an RFM table CSV written by `rfm table`."""
    import pyarrow.csv as pa_csv

    table = pa_csv.read_csv(path, convert_options=pa_csv.ConvertOptions(include_columns=["monetary"]))
    return {"customers": table.num_rows, "revenue": float(table["monetary"].to_numpy().sum())}


# --- the report ---------------------------------------------------------------------------------------------


def machine() -> list[str]:
    """CPU, memory, OS, Python and library versions, and how busy the machine is."""
    cpuinfo = Path("/proc/cpuinfo").read_text() if Path("/proc/cpuinfo").exists() else ""
    models = re.findall(r"^model name\s*:\s*(.+)$", cpuinfo, re.M)
    logical = len(re.findall(r"^processor\s*:", cpuinfo, re.M)) or os.cpu_count()
    cores = re.findall(r"^cpu cores\s*:\s*(\d+)", cpuinfo, re.M)
    sockets = len(set(re.findall(r"^physical id\s*:\s*(\d+)", cpuinfo, re.M))) or 1
    physical = f", {int(cores[0]) * sockets} physical cores" if cores else ""
    meminfo = Path("/proc/meminfo").read_text() if Path("/proc/meminfo").exists() else ""
    total = re.search(r"^MemTotal:\s*(\d+) kB", meminfo, re.M)
    versions = []
    for name in LIBRARIES:
        with contextlib.suppress(importlib.metadata.PackageNotFoundError):
            versions.append(f"{name} {importlib.metadata.version(name)}")
    lines = [
        f"CPU: {models[0] if models else platform.processor() or 'unknown'}, {logical} logical CPUs{physical}",
        f"RAM: {int(total.group(1)) / 2**20:.1f} GiB" if total else "RAM: unknown",
        f"OS: {platform.platform()}",
        f"Python {platform.python_version()}; {', '.join(versions)}",
    ]
    java = shutil.which("java")
    if java and importlib.util.find_spec("pyspark") is not None:
        version = subprocess.run([java, "-version"], capture_output=True, text=True, check=False).stderr.splitlines()
        lines.append(f"Java: {version[0] if version else 'unknown'}")
    lines.append(f"load average (1, 5, 15 min): {', '.join(f'{v:.2f}' for v in os.getloadavg())}")
    return lines


def notes(case: Case, outcome: Outcome, baseline: Outcome | None) -> str:
    d, parts = outcome.details, []
    if outcome.status != "ok":
        return outcome.message
    if "customers" in d:
        parts.append(f"{d['customers']:,} customers")
        parts.extend(_disagreement(d, baseline.details if baseline is not None else {}))
    if "read_s" in d:
        parts.append(f"read {d['read_s']:.1f} s + clean/RFM {d['clean_rfm_s']:.1f} s")
    if "sweep_s" in d:
        parts.append(f"sweep {d['sweep_s']:.2f} s, {d['method']}, k={d['k']}, metrics on {d['metric_sample']:,}")
    for label, (median, p95) in d.get("figures", {}).items():
        if label in WHATIF_FIGURES:
            parts.append(f"{WHATIF_FIGURES[label]} {median:.1f} ms (p95 {p95:.1f})")
    if outcome.processes > 1:
        parts.append(f"{outcome.processes} processes, largest {outcome.largest_mib:,.0f} MiB")
    if case.memory_target:
        met = "yes" if outcome.peak_mib <= MEMORY_TARGET_MIB else "NO"
        parts.append(f"under {MEMORY_TARGET_MIB / 1024:.0f} GiB: {met}")
    return "; ".join(parts)


def _disagreement(figures: dict, baseline: dict) -> list[str]:
    """What differs from the baseline's RFM table (both runs should find the same customers and revenue)."""
    problems = []
    if baseline.get("customers") not in (None, figures["customers"]):
        problems.append(f"NOT the baseline's {baseline['customers']:,} customers")
    # `rfm table` writes monetary rounded to cents: allow half a cent per customer.
    revenue, expected = figures.get("revenue"), baseline.get("revenue")
    if revenue is not None and expected is not None and abs(revenue - expected) > 0.005 * figures["customers"] + 0.01:
        problems.append(f"revenue {figures['revenue']:,.2f} is NOT the baseline's {baseline['revenue']:,.2f}")
    return problems


def memory_summary(results: list[tuple[Case, Outcome]]) -> list[str]:
    """One line per run held to the memory target."""
    lines = []
    for case, outcome in results:
        if case.memory_target and outcome.status == "ok":
            verdict = "met" if outcome.peak_mib <= MEMORY_TARGET_MIB else "NOT met"
            lines.append(
                f"memory target (<= {MEMORY_TARGET_MIB:,} MiB peak): {case.name} on {case.rows:,} rows, "
                f"{outcome.peak_mib:,.0f} MiB: {verdict}"
            )
    return lines


def table(results: list[tuple[Case, Outcome]]) -> str:
    """The results as a Markdown table (aligned, so it reads in a terminal too)."""
    baselines = {case.group: outcome for case, outcome in results if case.baseline and outcome.status == "ok"}
    header = ("case", "engine", "rows", "wall s", "peak MiB", "time × base", "memory × base", "notes")
    rows = []
    for case, outcome in results:
        base = baselines.get(case.group)
        ok = outcome.status == "ok"
        time_ratio = f"{outcome.wall_s / base.wall_s:.2f}×" if ok and base else "-"
        memory_ratio = f"{outcome.peak_mib / base.peak_mib:.2f}×" if ok and base else "-"
        rows.append(
            (
                case.name,
                case.engine,
                f"{case.rows:,}",
                f"{outcome.wall_s:.1f}" if ok else outcome.status,
                f"{outcome.peak_mib:,.0f}" if ok else "-",
                time_ratio,
                memory_ratio,
                notes(case, outcome, base),
            )
        )
    widths = [max(len(str(row[i])) for row in [header, *rows]) for i in range(len(header))]
    right = {2, 3, 4, 5, 6}

    def line(cells) -> str:
        padded = (str(c).rjust(w) if i in right else str(c).ljust(w) for i, (c, w) in enumerate(zip(cells, widths)))
        return "| " + " | ".join(padded) + " |"

    rule = "|" + "|".join(("-" * (w + 1) + ":") if i in right else ("-" * (w + 2)) for i, w in enumerate(widths)) + "|"
    return "\n".join([line(header), rule, *(line(r) for r in rows)])


def selected(cases: list[Case], only: list[str]) -> list[Case]:
    """Cases whose group, variant or group/variant is in ``only`` (all when ``only`` is empty)."""
    if not only:
        return cases
    names = {n for case in cases for n in (case.group, case.variant, case.name)}
    unknown = sorted(set(only) - names)
    if unknown:
        raise SystemExit(f"unknown case {unknown[0]!r}; choose among: {', '.join(sorted(names))}")
    return [case for case in cases if {case.group, case.variant, case.name} & set(only)]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="small sizes, no workbook: a smoke run of a minute or two")
    parser.add_argument(
        "--only", action="append", default=[], metavar="NAME",
        help="run only this case: a group (parquet), a variant (duckdb) or both (parquet/duckdb); repeatable",
    )  # fmt: skip
    parser.add_argument("--timeout", type=float, default=1800, metavar="SECONDS", help="kill a case after this (default 1800)")
    total_gib = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    parser.add_argument(
        "--max-memory-gib", type=float, default=round(0.75 * total_gib, 1),
        help="kill a case whose processes hold more than this (default: 75%% of RAM)",
    )  # fmt: skip
    parser.add_argument("--list", action="store_true", help="list the cases and exit")
    args = parser.parse_args(argv)
    sizes = QUICK if args.quick else FULL
    cases = selected(all_cases(sizes), args.only)
    if args.list:
        for case in cases:
            print(f"{case.name:<22} {case.engine:<34} {case.rows:>12,} rows{' (baseline)' if case.baseline else ''}")
        return

    sys.path.insert(0, str(BENCH))
    print("RFM Studio benchmarks" + (" (--quick)" if args.quick else ""))
    print("\n".join(machine()))
    print(f"each case in its own process; timeout {args.timeout:,.0f} s, memory limit {args.max_memory_gib:.1f} GiB\n")
    results = []
    with tempfile.TemporaryDirectory(prefix="rfm-bench-") as work:
        for number, listed in enumerate(cases, 1):
            print(f"[{number}/{len(cases)}] {listed.name}: {listed.engine}, {listed.rows:,} rows", flush=True)
            case = resolve(listed, sizes, Path(work), args.timeout)
            outcome = run_case(case, args.timeout, int(args.max_memory_gib * 2**30))
            shown = f"{outcome.wall_s:.1f} s, {outcome.peak_mib:,.0f} MiB" if outcome.status == "ok" else outcome.message
            print(f"  {outcome.status}: {shown}", flush=True)
            results.append((case, outcome))
    print(f"\nload average at the end: {', '.join(f'{v:.2f}' for v in os.getloadavg())}")
    print("wall s: the whole process; × base: this row divided by the baseline of its case in this run\n")
    print(table(results))
    print("\n".join(["", *memory_summary(results)]))


if __name__ == "__main__":
    main()
