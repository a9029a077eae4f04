"""Benchmark: the app as a user meets it, in Debian's Chromium, on one file.

Prints, for a freshly started server:
  * cold open (server started -> the Data page's ledger on screen) and warm open (a second browser session);
  * upload -> ledger on screen for FILE;
  * each page's first visit and revisit (click in the sidebar -> the page done running);
  * with ``--algorithm``, the Clusters page after choosing that algorithm, and *Compare algorithms*;
  * the Excel workbook of the Export page (prepare -> download ready) when it is big enough to be prepared;
  * the server's resident memory (its process and children) after each step;
  * ``python -m rfm inspect FILE`` on the same file, for the app/CLI ratio.
The browser shares the two cores with the server, so compare ratios more than absolute times. Nothing is asserted.

    python bench/bench_browser.py FILE
    python bench/bench_browser.py ~/.venv/.../CDNOW_master.txt --algorithm hdbscan --pages RFM Clusters Segments Export
    git worktree add /tmp/before HEAD~5 && python bench/bench_browser.py FILE --root /tmp/before   # the same steps, before
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from devkit.browser import (  # noqa: E402
    CHROMIUM,
    CHROMIUM_ARGS,
    PROXY_VARIABLES,
    free_port,
    healthy,
    live,
    metric_value,
    settled,
    start_server,
    stop,
)
from rfm.reading.memory import process_tree_rss_mb  # noqa: E402

PAGES = ("RFM", "Clusters", "Segments", "Trends", "Value", "Export", "What if")
#: The last element each page draws: a visit is over when it is on screen (and nothing is running or stale).
LAST_ELEMENT = {
    "Data": ':has([data-testid="stVegaLiteChart"])', "RFM": ".st-key-hist_monetary", "Clusters": ".st-key-compare", "Segments": ".st-key-pca",
    "Trends": ".st-key-trends_sizes", "Value": ".st-key-value_box", "Export": ".st-key-model", "What if": ".st-key-whatif_pca",
}
TIMEOUT_MS = 300_000


def server_rss_mib(pid: int) -> float:
    """The server's resident memory: its process and every process below it. Until issue 20 this added the server's
    own process twice: the figures recorded before then are twice the server's."""
    return process_tree_rss_mb(pid) * 1e6 / 2**20


def timed(label: str, action, pid: int, rows: list) -> float:
    started = time.perf_counter()
    action()
    seconds = time.perf_counter() - started
    rows.append((label, seconds, server_rss_mib(pid)))
    print(f"{label:<44} {seconds:8.2f} s   server {rows[-1][2]:8.0f} MiB", flush=True)
    return seconds


def visit(page, name: str) -> None:
    page.get_by_test_id("stSidebarNavLink").filter(has_text=name).first.click()
    page.get_by_role("heading", name=name, exact=True).wait_for(timeout=TIMEOUT_MS)
    live(page, LAST_ELEMENT[name]).first.wait_for(timeout=TIMEOUT_MS)
    settled(page, TIMEOUT_MS)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("file", type=Path)
    parser.add_argument("--pages", nargs="*", default=list(PAGES), choices=PAGES)
    parser.add_argument("--algorithm", choices=("K-Means", "Gaussian mixture", "DBSCAN", "HDBSCAN", "kmeans", "gmm", "dbscan", "hdbscan"))
    parser.add_argument("--root", type=Path, help="serve the app from this checkout instead (e.g. a git worktree of an earlier commit)")
    args = parser.parse_args()
    if args.root:
        import devkit.browser

        devkit.browser.REPO = args.root.resolve()
    from playwright.sync_api import expect, sync_playwright

    labels = {"kmeans": "K-Means", "gmm": "Gaussian mixture", "dbscan": "DBSCAN", "hdbscan": "HDBSCAN"}
    algorithm = labels.get(args.algorithm, args.algorithm)
    port, rows = free_port(), []
    url = f"http://127.0.0.1:{port}"
    env = {k: v for k, v in os.environ.items() if k.lower() not in PROXY_VARIABLES}
    with tempfile.TemporaryDirectory() as work:
        started = time.perf_counter()
        server = start_server(port, Path(work) / "server.log")
        try:
            while not healthy(url):
                time.sleep(0.05)
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, env=env)
                page = browser.new_page(viewport={"width": 1400, "height": 1800})
                page.set_default_timeout(TIMEOUT_MS)

                def open_app(target):
                    target.goto(url)
                    expect(metric_value(target, "Rows read")).to_have_count(1, timeout=TIMEOUT_MS)
                    settled(target, TIMEOUT_MS)

                timed("cold open (server start -> Data page)", lambda: open_app(page), server.pid, rows)
                rows[-1] = (rows[-1][0], time.perf_counter() - started, rows[-1][2])
                print(f"{'  (from the server start)':<44} {rows[-1][1]:8.2f} s")
                timed("warm open (a new session)", lambda: open_app(browser.new_page()), server.pid, rows)

                def upload():
                    page.locator('[data-testid="stFileUploader"] input[type="file"]').set_input_files(args.file)
                    page.get_by_role("heading", name=args.file.name, exact=True).wait_for(timeout=TIMEOUT_MS)
                    expect(live(page).get_by_test_id("stDataFrame").filter(has_text="rows read").or_(
                        live(page).get_by_test_id("stDataFrame").filter(has_text="rule"))).to_have_count(1, timeout=TIMEOUT_MS)
                    settled(page, TIMEOUT_MS)

                timed(f"upload {args.file.name} -> ledger", upload, server.pid, rows)
                for name in args.pages:
                    timed(f"{name}: first visit", lambda: visit(page, name), server.pid, rows)
                    if name == "Clusters" and algorithm:
                        def choose():
                            live(page, ".st-key-algorithm").get_by_role("combobox").click()
                            page.get_by_role("option", name=algorithm, exact=True).click()
                            settled(page, TIMEOUT_MS)

                        timed(f"Clusters: fit {algorithm}", choose, server.pid, rows)

                        def compare():
                            live(page, ".st-key-compare").get_by_text("Compare algorithms").click()
                            live(page).get_by_test_id("stDataFrame").filter(has_text="silhouette").wait_for(timeout=TIMEOUT_MS)
                            settled(page, TIMEOUT_MS)

                        timed("Clusters: compare algorithms", compare, server.pid, rows)
                    if name == "Export":
                        prepare = page.get_by_role("button", name="Prepare the Excel workbook")
                        if prepare.count():
                            def workbook():
                                prepare.first.click()
                                live(page, ".st-key-export_workbook").get_by_role("button").wait_for(timeout=TIMEOUT_MS)
                                settled(page, TIMEOUT_MS)

                            timed("Export: prepare the Excel workbook", workbook, server.pid, rows)
                    visit(page, "Data")
                    timed(f"{name}: revisit", lambda: visit(page, name), server.pid, rows)
                browser.close()
        finally:
            stop(server)
    started = time.perf_counter()
    subprocess.run([sys.executable, "-m", "rfm", "inspect", str(args.file)], cwd=ROOT, check=True, capture_output=True)
    cli = time.perf_counter() - started
    print(f"{'python -m rfm inspect (CLI, same file)':<44} {cli:8.2f} s")
    upload_row = next(row for row in rows if row[0].startswith("upload"))
    print(f"{'upload in the app / CLI inspect':<44} {upload_row[1] / cli:8.2f} x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
