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

STEPS = ("open", "upload", "rfm", "clusters", "segments", "export", "download", "whatif", "slider")


@dataclass
class UserResult:
    user: int
    times: dict[str, float] = field(default_factory=dict)  # step -> seconds
    errors: list[str] = field(default_factory=list)


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


def descendants(root: int) -> list[int]:
    """``root`` and every process below it (from the parent ids in /proc/*/stat)."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        parent = int(stat.rsplit(")", 1)[1].split()[1])  # the command name may hold spaces and parentheses
        children.setdefault(parent, []).append(int(entry))
    found, queue = [], [root]
    while queue:
        pid = queue.pop()
        found.append(pid)
        queue.extend(children.get(pid, []))
    return found


def rss_kib(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


async def journey(browser, url: str, user: int, csv: Path, expected: dict, own_ids: set[str], work: Path, step_ms: int, deadline: float) -> UserResult:
    """One user's whole journey; stops at the first failed step (later steps depend on it)."""
    from playwright.async_api import expect

    result = UserResult(user)
    context = await browser.new_context(viewport={"width": 1400, "height": 2000}, accept_downloads=True)
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


async def run_users(url: str, users: int, customers: int, work: Path, step_ms: int, timeout_s: float) -> list[UserResult]:
    from playwright.async_api import async_playwright

    files = []
    for user in range(users):
        csv = work / f"shop_user{user:02d}.csv"
        first_id = 100_000 * (user + 1)
        expected = transactions_csv(csv, first_id, customers + 7 * user, seed=user)
        files.append((csv, expected, {str(first_id + i) for i in range(expected["customers"])}))
    env = {k: v for k, v in os.environ.items() if k.lower() not in PROXY_VARIABLES}
    deadline = time.monotonic() + timeout_s
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, env=env)
        try:
            tasks = [journey(browser, url, user, csv, expected, ids, work, step_ms, deadline) for user, (csv, expected, ids) in enumerate(files)]
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


def report(results: list[UserResult], users: int, peak_kib: int, peak_processes: int, wall_s: float, idle_kib: int) -> None:
    print(f"\n{users} concurrent users, one server, {os.cpu_count()} CPUs\n")
    print(f"{'step':<10} {'done':>5} {'p50 s':>7} {'p95 s':>7} {'max s':>7} {'errors':>7}")
    errors_by_step = {name: sum(any(e.startswith(f"{name}:") for e in r.errors) for r in results) for name in STEPS}
    for name in STEPS:
        times = [r.times[name] for r in results if name in r.times and not any(e.startswith(f"{name}:") for e in r.errors)]
        if times:
            print(f"{name:<10} {len(times):>5} {percentile(times, 0.5):>7.2f} {percentile(times, 0.95):>7.2f} {max(times):>7.2f} {errors_by_step[name]:>7}")
        else:
            print(f"{name:<10} {0:>5} {'-':>7} {'-':>7} {'-':>7} {errors_by_step[name]:>7}")
    journeys = [sum(r.times.values()) for r in results if not r.errors]
    completed = len(journeys)
    times = f"; journey time p50 {percentile(journeys, 0.5):.1f} s, max {max(journeys):.1f} s" if journeys else ""
    print(f"\njourneys completed: {completed}/{users}{times}")
    print(f"errors: {sum(len(r.errors) for r in results)}")
    for r in results:
        for error in r.errors:
            print(f"  user {r.user}: {error}")
    print(f"server RSS: idle {idle_kib / 1024:.0f} MiB, peak {peak_kib / 1024:.0f} MiB ({peak_processes} process(es))")
    print(f"total wall time: {wall_s:.1f} s")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--users", type=int, default=10)
    parser.add_argument("--timeout", type=float, default=300, help="seconds for the whole run (all users)")
    parser.add_argument("--step-timeout", type=float, default=180, help="seconds any one step may take")
    parser.add_argument("--customers", type=int, default=200, help="customers in user 0's file (user i gets 7*i more)")
    parser.add_argument("--warm", action="store_true", help="open the app once before the users start (no cold first run)")
    args = parser.parse_args()
    if not Path(CHROMIUM).is_file():
        print(f"Chromium is not installed at {CHROMIUM}", file=sys.stderr)
        return 2

    work = Path(tempfile.mkdtemp(prefix="rfm-bench-concurrency-"))
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    server = start_server(port, work / "server.log")
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
        results = asyncio.run(run_users(url, args.users, args.customers, work, int(args.step_timeout * 1000), args.timeout))
        wall_s = time.perf_counter() - started
        sampler.stop()
        print(f"\nserver: {'warmed by one session first' if args.warm else 'cold (the first users pay the imports)'}")
        report(results, args.users, sampler.peak_kib, sampler.peak_processes, wall_s, idle_kib)
        print(f"files, screenshots of failures and the server log: {work}")
        return 0
    finally:
        if sampler is not None and sampler.is_alive():
            sampler.stop()
        stop(server)


if __name__ == "__main__":
    raise SystemExit(main())
