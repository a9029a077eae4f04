"""N users at once on one server: per-step response times, errors and the server's peak memory.

Starts ``streamlit run`` on a free loopback port (the flags of tests/test_browser.py), then N Playwright browser
contexts in one Chromium (async API, one task per user) each run the whole journey at the same time:

    open (demo data) -> upload (a small generated CSV, different customers per user) -> RFM -> Clusters ->
    Segments -> Export -> download (every customer, one CSV; its ids must be the user's own) -> What if ->
    slider (frequency to its maximum; the number input follows)

Each step is timed from the action (goto, upload, click, key press) until the element that proves it is done is
visible. An error is a timeout, an ``stException`` element on the page, or a download holding another user's
customers. The server's resident memory (its process and every descendant, from /proc/PID/status VmRSS) is
sampled every 0.2 s.

    .venv/bin/python bench/bench_concurrency.py --users 10 --timeout 300
    .venv/bin/python bench/bench_concurrency.py --users 2 --customers 300
    .venv/bin/python bench/bench_concurrency.py --users 10 --warm   # a server that has served once already

With ``--workbooks N`` each user uploads a big workbook instead: N different two-sheet workbooks in the UCI Online
Retail II shape (``--rows`` rows each, 1,067,371 by default, ~39 MB; devkit.data.uci_shape_workbook, seeds 1..N, so
different bytes and disjoint customer ids; generated once and cached in ~/.cache/rfm-studio). User i uploads
workbook i mod N, and the journey is shorter:

    open (demo data) -> upload (the workbook; done when its ledger is on screen) -> RFM -> Clusters -> Segments

An upload the server refuses over its memory budget (the "server busy" sentence) is counted as *refused*, an outcome
reported apart from errors, with its message. ``--budget-mb N`` starts the server with RFM_MEMORY_BUDGET_MB=N.

    .venv/bin/python bench/bench_concurrency.py --users 2 --workbooks 2 --timeout 1200 --step-timeout 900
    .venv/bin/python bench/bench_concurrency.py --users 10 --workbooks 10 --timeout 2400 --step-timeout 1800
    .venv/bin/python bench/bench_concurrency.py --users 10 --workbooks 10 --budget-mb 6000 --timeout 2400 --step-timeout 1800
    ... --stagger 30   # user i starts 30*i s after user 0 (uploads arrive one after another)

Needs /usr/bin/chromium (or RFM_CHROMIUM) and the playwright package. Prints figures; asserts nothing.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import re
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from devkit.browser import (  # noqa: E402
    CHROMIUM,
    CHROMIUM_ARGS,
    PROXY_VARIABLES,
    free_port,
    healthy,
    live,
    metric_value,
    start_server,
    stop,
)
from devkit.data import customer_ids, transactions_csv  # noqa: E402
from rfm.reading.memory import descendants, rss_kib  # noqa: E402

STEPS = ("open", "upload", "rfm", "clusters", "segments", "export", "download", "whatif", "slider")
WORKBOOK_STEPS = ("open", "upload", "rfm", "clusters", "segments")
BUSY_TEXT = "The server is busy"  # how pages/data.py's refusal (rfm.reading.memory.busy_message) begins


@dataclass
class UserResult:
    user: int
    times: dict[str, float] = field(default_factory=dict)  # step -> seconds
    errors: list[str] = field(default_factory=list)
    refused: str | None = None  # the server-busy sentence, when the server refused this user's upload
    refused_s: float | None = None  # seconds from the upload to the sentence
    file: str = ""


class MemorySampler(threading.Thread):
    """Peak of the summed VmRSS of a process and all its descendants, sampled every ``interval`` seconds."""

    def __init__(self, pid: int, interval: float = 0.2):
        super().__init__(daemon=True)
        self.pid, self.interval = pid, interval
        self.peak_kib, self.peak_processes = 0, 0
        self._stop_event = threading.Event()

    def run(self) -> None:
        while not self._stop_event.is_set():
            pids = descendants(self.pid)
            total = sum(rss_kib(pid) for pid in pids)
            if total > self.peak_kib:
                self.peak_kib, self.peak_processes = total, len(pids)
            self._stop_event.wait(self.interval)

    def stop(self) -> None:
        self._stop_event.set()
        self.join()


async def journey(
    browser, url: str, user: int, csv: Path, expected: dict, own_ids: set[str], work: Path, step_ms: int, deadline: float,
    stagger_s: float = 0.0,
) -> UserResult:
    """One user's whole journey; stops at the first failed step (later steps depend on it)."""
    from playwright.async_api import expect

    result = UserResult(user)
    context = await browser.new_context(viewport={"width": 1400, "height": 2000}, accept_downloads=True)
    await asyncio.sleep(user * stagger_s)  # --stagger: users arrive one after another
    result.file = csv.name
    page = await context.new_page()

    def timeout_ms() -> int:
        return max(1_000, min(step_ms, int((deadline - time.monotonic()) * 1000)))

    async def step(name: str, action, *done) -> bool:
        started = time.perf_counter()
        try:
            await action()
            for locator_check in done:
                await locator_check()
            result.times[name] = time.perf_counter() - started
            if await page.get_by_test_id("stException").count():
                text = (await page.get_by_test_id("stException").first.inner_text())[:200]
                result.errors.append(f"{name}: stException: {text!r}")
                return False
            return True
        except Exception as exc:  # a timeout or a failed check: record it and end this user's journey
            first_line = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            result.errors.append(f"{name}: {type(exc).__name__}: {first_line[:200]}")
            with contextlib.suppress(Exception):
                await page.screenshot(path=work / f"user{user}-{name}-failed.png")
            return False

    def visible(locator):
        return lambda: expect(locator).to_be_visible(timeout=timeout_ms())

    def text(locator, value):
        return lambda: expect(locator).to_have_text(value, timeout=timeout_ms())

    def nav(label):
        return lambda: page.get_by_test_id("stSidebarNavLink").filter(has_text=label).click(timeout=timeout_ms())

    def heading(name):
        return visible(page.get_by_role("heading", name=name, exact=True))

    downloaded: dict[str, Path] = {}

    async def download() -> None:
        async with page.expect_download(timeout=timeout_ms()) as info:
            await live(page, ".st-key-export_all_csv").get_by_role("button").click(timeout=timeout_ms())
        value = await info.value
        path = work / f"user{user}-{value.suggested_filename}"
        await value.save_as(path)
        downloaded["csv"] = path

    async def check_download() -> None:
        ids = customer_ids(downloaded["csv"])
        if ids != own_ids:
            raise AssertionError(f"download holds {len(ids - own_ids)} foreign ids and misses {len(own_ids - ids)} own ids")

    frequency = page.get_by_role("slider", name="Frequency (invoices)")
    start_value: dict[str, str] = {}

    async def move_slider() -> None:
        start_value["value"] = await frequency.input_value()
        await frequency.focus()
        await frequency.press("End")

    async def slider_moved() -> None:
        await expect(frequency).not_to_have_value(start_value["value"], timeout=timeout_ms())
        top = await frequency.input_value()
        await expect(live(page, ".st-key-whatif_number_frequency").locator("input")).to_have_value(top, timeout=timeout_ms())

    if expected.get("workbook"):
        try:
            await workbook_steps(page, url, result, step, visible, text, nav, heading, csv, expected)
        finally:
            await context.close()
        return result

    try:
        uploader = page.locator('[data-testid="stFileUploader"] input[type="file"]')
        ok = await step("open", lambda: page.goto(url, timeout=timeout_ms()),
                        visible(page.get_by_role("heading", name="Demo data: demo_online_retail.xlsx")),
                        text(metric_value(page, "Rows read"), re.compile(r"^\d{1,3}(,\d{3})*$")))  # fmt: skip
        ok = ok and await step("upload", lambda: uploader.set_input_files(csv, timeout=timeout_ms()),
                               visible(page.get_by_role("heading", name=csv.name)),
                               text(metric_value(page, "Rows read"), f"{expected['rows']:,}"),
                               text(metric_value(page, "Customers"), f"{expected['customers']:,}"))  # fmt: skip
        ok = ok and await step("rfm", nav("RFM"), heading("RFM"),
                               text(metric_value(page, "Customers"), f"{expected['customers']:,}"),
                               visible(live(page, ".st-key-hist_recency_days").locator(".js-plotly-plot")))  # fmt: skip
        ok = ok and await step("clusters", nav("Clusters"), heading("Clusters"),
                               visible(live(page).get_by_test_id("stAlertContentInfo").filter(has_text="Recommended k =")))  # fmt: skip
        ok = ok and await step("segments", nav("Segments"), heading("Segments"),
                               visible(live(page, ".st-key-pca").locator(".js-plotly-plot")))  # fmt: skip
        ok = ok and await step("export", nav("Export"), heading("Export"),
                               text(live(page, ".st-key-export_all_csv").get_by_role("button"),
                                    re.compile(rf"Every customer \({expected['customers']:,}, one CSV\)")))  # fmt: skip
        ok = ok and await step("download", download, check_download)
        ok = ok and await step("whatif", nav("What if"), heading("What if"),
                               visible(live(page).get_by_test_id("stCaptionContainer").filter(has_text="Answered in ")))  # fmt: skip
        ok = ok and await step("slider", move_slider, slider_moved)
    finally:
        await context.close()
    return result


async def workbook_steps(page, url: str, result: UserResult, step, visible, text, nav, heading, path: Path, expected: dict) -> None:
    """The ``--workbooks`` journey: open -> upload a big workbook (or be refused) -> RFM -> Clusters -> Segments;
    each page is done when its last element (bench_browser.LAST_ELEMENT) is on screen."""
    from bench.bench_browser import LAST_ELEMENT

    uploader = page.locator('[data-testid="stFileUploader"] input[type="file"]')
    busy = live(page).get_by_test_id("stAlertContentError").filter(has_text=BUSY_TEXT)
    ledger = page.get_by_role("heading", name=path.name, exact=True)

    async def accepted_or_refused() -> None:
        await visible(ledger.or_(busy))()
        if await busy.count():
            sentence = busy.first.get_by_test_id("stMarkdownContainer")  # without the icon's name
            result.refused = " ".join((await (sentence if await sentence.count() else busy.first).inner_text()).split())

    async def ledger_done() -> None:
        if result.refused is not None:  # the session keeps its previous file
            await visible(page.get_by_role("heading", name="Demo data: demo_online_retail.xlsx"))()
        else:
            await text(metric_value(page, "Rows read"), f"{expected['rows']:,}")()
            await text(metric_value(page, "Customers"), f"{expected['customers']:,}")()
            await visible(live(page, LAST_ELEMENT["Data"]).first)()

    ok = await step("open", lambda: page.goto(url, timeout=600_000),
                    visible(page.get_by_role("heading", name="Demo data: demo_online_retail.xlsx")),
                    text(metric_value(page, "Rows read"), re.compile(r"^\d{1,3}(,\d{3})*$")))  # fmt: skip
    ok = ok and await step("upload", lambda: uploader.set_input_files(path, timeout=600_000), accepted_or_refused, ledger_done)
    if result.refused is not None:  # an outcome, not an upload time: its time is reported apart
        result.refused_s = result.times.pop("upload", None)
    if not ok or result.refused is not None:
        return
    ok = await step("rfm", nav("RFM"), heading("RFM"), text(metric_value(page, "Customers"), f"{expected['customers']:,}"),
                    visible(live(page, LAST_ELEMENT["RFM"]).locator(".js-plotly-plot")))  # fmt: skip
    ok = ok and await step("clusters", nav("Clusters"), heading("Clusters"),
                           visible(live(page).get_by_test_id("stAlertContentInfo").filter(has_text="Recommended k =")),
                           visible(live(page, LAST_ELEMENT["Clusters"])))  # fmt: skip
    ok = ok and await step("segments", nav("Segments"), heading("Segments"),
                           visible(live(page, LAST_ELEMENT["Segments"]).locator(".js-plotly-plot")))  # fmt: skip


def workbooks_for(count: int, rows: int) -> list[tuple[Path, dict]]:
    """``count`` different cached workbooks (seeds 1..count), generating the missing ones two at a time."""
    from concurrent.futures import ProcessPoolExecutor

    from devkit.data import uci_shape_workbook, uci_shape_workbook_path

    seeds = range(1, count + 1)
    missing = [s for s in seeds if not (uci_shape_workbook_path(s, rows).exists() and uci_shape_workbook_path(s, rows).with_suffix(".json").exists())]
    if missing:
        print(f"generating {len(missing)} workbook(s) of {rows:,} rows (seeds {missing}) into {uci_shape_workbook_path(1, rows).parent} ...", flush=True)
        started = time.perf_counter()
        with ProcessPoolExecutor(max_workers=min(2, os.cpu_count() or 1)) as pool:
            list(pool.map(uci_shape_workbook, missing, [rows] * len(missing)))
        print(f"generated {len(missing)} workbook(s) in {time.perf_counter() - started:.1f} s wall", flush=True)
    books = [uci_shape_workbook(s, rows) for s in seeds]
    digests = {figures["sha256"] for _, figures in books}
    if len(digests) != len(books):
        raise SystemExit("two workbooks have the same bytes: expected one different workbook per seed")
    for path, figures in books:
        state = "generated" if int(path.stem.rsplit("seed", 1)[1]) in missing else "cached"
        print(f"  {path.name}: {path.stat().st_size / 1e6:.1f} MB, {figures['rows']:,} rows, {figures['customers']:,} customers "
              f"(ids {figures['first_id']:,}..{figures['last_id']:,}), sha256 {figures['sha256'][:12]}, "
              f"{state} (generation took {figures['seconds']:.0f} s)")  # fmt: skip
    return books


async def run_users(
    url: str, users: int, customers: int, work: Path, step_ms: int, timeout_s: float, books: list | None = None,
    stagger_s: float = 0.0,
) -> list[UserResult]:
    from playwright.async_api import async_playwright

    files = []
    for user in range(users):
        if books:
            path, figures = books[user % len(books)]
            files.append((path, {"workbook": True, "rows": figures["rows"], "customers": figures["customers"]}, set()))
            continue
        csv = work / f"shop_user{user:02d}.csv"
        first_id = 100_000 * (user + 1)
        expected = transactions_csv(csv, first_id, customers + 7 * user, seed=user)
        files.append((csv, expected, {str(first_id + i) for i in range(expected["customers"])}))
    env = {k: v for k, v in os.environ.items() if k.lower() not in PROXY_VARIABLES}
    deadline = time.monotonic() + timeout_s
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, env=env)
        try:
            tasks = [
                journey(browser, url, user, csv, expected, ids, work, step_ms, deadline, stagger_s)
                for user, (csv, expected, ids) in enumerate(files)
            ]
            return await asyncio.wait_for(asyncio.gather(*tasks), timeout=timeout_s + 30)
        finally:
            await browser.close()


async def warm_up(url: str) -> None:
    """One session opens the app on the demo data: the stack is imported and the demo analysis cached."""
    from playwright.async_api import async_playwright, expect

    env = {k: v for k, v in os.environ.items() if k.lower() not in PROXY_VARIABLES}
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, env=env)
        page = await browser.new_page()
        await page.goto(url)
        await expect(metric_value(page, "Rows read")).to_have_text(re.compile(r"^\d{1,3}(,\d{3})*$"), timeout=120_000)
        await browser.close()


def percentile(values: list[float], fraction: float) -> float:
    """Nearest-rank percentile."""
    ordered = sorted(values)
    return ordered[max(0, min(len(ordered) - 1, int(-(-fraction * len(ordered) // 1)) - 1))]


def report(
    results: list[UserResult], users: int, peak_kib: int, peak_processes: int, wall_s: float, idle_kib: int,
    steps: tuple[str, ...] = STEPS, end_kib: int | None = None, label: str = "",
) -> None:
    print(f"\n{users} concurrent users, one server, {os.cpu_count()} CPUs\n")
    print(f"{'step':<10} {'done':>5} {'p50 s':>7} {'p95 s':>7} {'max s':>7} {'errors':>7}")
    errors_by_step = {name: sum(any(e.startswith(f"{name}:") for e in r.errors) for r in results) for name in steps}
    for name in steps:
        times = [r.times[name] for r in results if name in r.times and not any(e.startswith(f"{name}:") for e in r.errors)]
        if times:
            print(f"{name:<10} {len(times):>5} {percentile(times, 0.5):>7.2f} {percentile(times, 0.95):>7.2f} {max(times):>7.2f} {errors_by_step[name]:>7}")
        else:
            print(f"{name:<10} {0:>5} {'-':>7} {'-':>7} {'-':>7} {errors_by_step[name]:>7}")
    refused = [r for r in results if r.refused is not None]
    journeys = [sum(r.times.values()) for r in results if not r.errors and r.refused is None]
    completed = len(journeys)
    times = f"; journey time p50 {percentile(journeys, 0.5):.1f} s, max {max(journeys):.1f} s" if journeys else ""
    print(f"\njourneys completed: {completed}/{users}{times}")
    print(f"refused (server busy, not errors): {len(refused)}/{users}")
    for r in refused:
        print(f"  user {r.user} ({r.file}): {r.refused}")
    print(f"errors: {sum(len(r.errors) for r in results)}")
    for r in results:
        for error in r.errors:
            print(f"  user {r.user}: {error}")
    end = f", at the end {end_kib / 1024:,.0f} MiB" if end_kib is not None else ""
    print(f"server RSS: idle {idle_kib / 1024:.0f} MiB, peak {peak_kib / 1024:.0f} MiB ({peak_processes} process(es)){end}")
    print(f"total wall time: {wall_s:.1f} s")
    markdown(results, users, peak_kib, wall_s, idle_kib, steps, end_kib, label)


def markdown(
    results: list[UserResult], users: int, peak_kib: int, wall_s: float, idle_kib: int, steps: tuple[str, ...],
    end_kib: int | None, label: str,
) -> None:
    """The same figures as a table for bench/RESULTS.md: seconds p50 / p95 / max per step (the users that did it)."""
    column = label or f"{users} users"
    print(f"\nMarkdown (seconds p50 / p95 / max; n = users that completed the step):\n\n| step | {column} |\n|---|---|")
    for name in steps:
        times = [r.times[name] for r in results if name in r.times and not any(e.startswith(f"{name}:") for e in r.errors)]
        errors = sum(any(e.startswith(f"{name}:") for e in r.errors) for r in results)
        cell = f"{percentile(times, 0.5):.2f} / {percentile(times, 0.95):.2f} / {max(times):.2f} (n={len(times)})" if times else "-"
        print(f"| {name} | {cell}{f', {errors} error(s)' if errors else ''} |")
    refused = [r for r in results if r.refused is not None]
    completed = sum(1 for r in results if not r.errors and r.refused is None)
    waits = [r.refused_s for r in refused if r.refused_s is not None]
    if waits:
        print(f"| upload refused (to the message) | {percentile(waits, 0.5):.2f} / {percentile(waits, 0.95):.2f} / {max(waits):.2f} (n={len(waits)}) |")
    print(f"| journeys completed, refused, errors | {completed}/{users}, {len(refused)}, {sum(len(r.errors) for r in results)} |")
    end = f" → {end_kib / 1024:,.0f}" if end_kib is not None else ""
    print(f"| server memory, idle → peak{' → end' if end else ''} | {idle_kib / 1024:,.0f} → {peak_kib / 1024:,.0f}{end} MiB |")
    print(f"| wall time | {wall_s:.1f} s |")
    if refused:
        print("\nRefusal messages (the `st.error` each refused user saw; the session kept its previous file):\n")
        for r in refused:
            print(f"- user {r.user} ({r.file}): {r.refused}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--users", type=int, default=10)
    parser.add_argument("--timeout", type=float, default=300, help="seconds for the whole run (all users)")
    parser.add_argument("--step-timeout", type=float, default=180, help="seconds any one step may take")
    parser.add_argument("--customers", type=int, default=200, help="customers in user 0's file (user i gets 7*i more)")
    parser.add_argument("--warm", action="store_true", help="open the app once before the users start (no cold first run)")
    parser.add_argument("--workbooks", type=int, default=0, metavar="N",
                        help="upload big workbooks instead: N different ones (user i gets workbook i mod N); shorter journey")  # fmt: skip
    parser.add_argument("--rows", type=int, default=1_067_371, help="rows of each --workbooks workbook (both sheets)")
    parser.add_argument("--stagger", type=float, default=0.0, help="seconds between one user's start and the next's")
    parser.add_argument("--budget-mb", type=float, help="start the server with RFM_MEMORY_BUDGET_MB=N (default: its own, 75%% of RAM)")
    args = parser.parse_args()
    if not Path(CHROMIUM).is_file():
        print(f"Chromium is not installed at {CHROMIUM}", file=sys.stderr)
        return 2

    books = workbooks_for(args.workbooks, args.rows) if args.workbooks > 0 else None
    work = Path(tempfile.mkdtemp(prefix="rfm-bench-concurrency-"))
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    environ = {"RFM_MEMORY_BUDGET_MB": f"{args.budget_mb:g}"} if args.budget_mb is not None else None
    server = start_server(port, work / "server.log", environ)
    sampler = None
    try:
        deadline = time.monotonic() + 60
        while not healthy(url):
            if server.poll() is not None or time.monotonic() > deadline:
                print((work / "server.log").read_text(errors="replace")[-3000:], file=sys.stderr)
                return 1
            time.sleep(0.2)
        if args.warm:
            asyncio.run(warm_up(url))
        idle_kib = sum(rss_kib(pid) for pid in descendants(server.pid))
        sampler = MemorySampler(server.pid)
        sampler.start()
        started = time.perf_counter()
        results = asyncio.run(run_users(url, args.users, args.customers, work, int(args.step_timeout * 1000), args.timeout, books, args.stagger))
        wall_s = time.perf_counter() - started
        end_kib = sum(rss_kib(pid) for pid in descendants(server.pid))
        sampler.stop()
        print(f"\nserver: {'warmed by one session first' if args.warm else 'cold (the first users pay the imports)'}")
        budget = f"RFM_MEMORY_BUDGET_MB={args.budget_mb:g}" if args.budget_mb is not None else "default memory budget (75% of RAM)"
        stagger = f", users {args.stagger:g} s apart" if args.stagger else ""
        if books:
            print(f"{len(books)} different workbooks of {args.rows:,} rows; {budget}{stagger}")
        label = f"{args.users} users, {len(books)} workbooks, {budget}{stagger}" if books else ""
        report(results, args.users, sampler.peak_kib, sampler.peak_processes, wall_s, idle_kib,
               WORKBOOK_STEPS if books else STEPS, end_kib, label)  # fmt: skip
        print(f"files, screenshots of failures and the server log: {work}")
        return 0
    finally:
        if sampler is not None and sampler.is_alive():
            sampler.stop()
        stop(server)


if __name__ == "__main__":
    raise SystemExit(main())
