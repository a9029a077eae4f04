"""Benchmark: the app as a user meets it, in Debian's Chromium, on one file.

Prints, for a freshly started server (the browser is started first: a user's browser is open already):
  * cold open (server started -> the Data page's ledger on screen), in a new browser profile, and again at the end
    after a restart of the server, in the browser that has opened the app before (Streamlit's scripts cached);
  * warm open (a new session: a new tab of the same browser, and a new browser profile);
  * upload -> ledger on screen for FILE;
  * each page's first visit and revisit (click in the sidebar -> the page done running);
  * with ``--algorithm``, the Clusters page after choosing that algorithm, and *Compare algorithms*;
  * the Excel workbook of the Export page (prepare -> download ready) when it is big enough to be prepared;
  * the server's resident memory (its process and children) after each step;
  * ``python -m rfm inspect FILE`` on the same file, for the app/CLI ratio.
Each step prints two times. "drawn": from the action to the last change of the page (a MutationObserver in the page),
what the user waits for. "settled": until the harness has seen the run over, which includes its fixed 0.3 s wait for a
run to start (devkit.browser.settled); every figure before issue 20's third session was this one.
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

PAGES = ("RFM", "Clusters", "Segments", "Trends", "Value", "Backtest", "Audiences", "Export", "What if", "Score")
#: The last element each page draws: a visit is over when it is on screen (and nothing is running or stale).
LAST_ELEMENT = {
    "Data": ':has([data-testid="stPageLink"])', "RFM": ".st-key-hist_monetary", "Clusters": ".st-key-compare", "Segments": ".st-key-pca",
    "Trends": ".st-key-trends_download_all",
    # A file the purchase models cannot be fitted to (the synthetic workbook) gets the page's warning instead.
    "Value": ':is(.st-key-value_box, :has([data-testid="stAlertContentWarning"]))',
    "Backtest": ".st-key-backtest_gains",  # its last element, the segments' table, has no key class (a dataframe)
    # Nothing published to the workspace, no model uploaded: their first elements, then the run's end (settled).
    "Audiences": ':has([data-testid="stHeading"])', "Score": ".st-key-model_upload",
    "Export": ".st-key-model", "What if": ".st-key-whatif_pca",
}
#: Page titles that are not the page's name in the menu.
HEADINGS = {"Score": "Score with a saved model"}
TIMEOUT_MS = 300_000
#: Records, in the page, when its document last changed (``window.__lastChange``, ms since the page's time origin).
LAST_CHANGE = (
    "window.__lastChange = 0; new MutationObserver(() => { window.__lastChange = performance.now(); })"
    ".observe(document, {subtree: true, childList: true, attributes: true, characterData: true});"
)


def last_change(page) -> float:
    """When ``page`` last changed, in seconds since the epoch (the page's clock is this machine's)."""
    return page.evaluate("(performance.timeOrigin + window.__lastChange) / 1000")


def server_rss_mib(pid: int) -> float:
    """The server's resident memory: its process and every process below it. Until issue 20 this added the server's
    own process twice: the figures recorded before then are twice the server's."""
    return process_tree_rss_mb(pid) * 1e6 / 2**20


def timed(label: str, action, pid: int, rows: list, since: float | None = None):
    """Run ``action`` (which returns the page it acted on) and print how long until that page was drawn and settled,
    from ``since`` (seconds since the epoch) when given, else from the action's start; the page."""
    started, wall = time.perf_counter(), time.time()
    page = action()
    settled_s = time.perf_counter() - started + (wall - since if since else 0.0)
    drawn = last_change(page) - (since or wall)
    rows.append((label, drawn, settled_s, server_rss_mib(pid)))
    print(f"{label:<44} {drawn:8.2f} s drawn {settled_s:8.2f} s settled   server {rows[-1][3]:8.0f} MiB", flush=True)
    return page


def visit(page, name: str):
    page.get_by_test_id("stSidebarNavLink").filter(has_text=name).first.click()
    page.get_by_role("heading", name=HEADINGS.get(name, name), exact=True).wait_for(timeout=TIMEOUT_MS)
    live(page, LAST_ELEMENT[name]).first.wait_for(timeout=TIMEOUT_MS)
    settled(page, TIMEOUT_MS)
    return page


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("file", type=Path)
    parser.add_argument("--pages", nargs="*", default=list(PAGES), choices=PAGES)
    parser.add_argument("--algorithm", choices=("K-Means", "Gaussian mixture", "DBSCAN", "HDBSCAN", "kmeans", "gmm", "dbscan", "hdbscan"))
    parser.add_argument(
        "--dwell", type=float, default=0.0,
        help="seconds on the Data page after the upload before the first visit, as a user reading the ledger (default: none)",
    )
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
    with tempfile.TemporaryDirectory() as work, sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, env=env)
        user = browser.new_context(viewport={"width": 1400, "height": 1800})
        user.add_init_script(LAST_CHANGE)
        user.set_default_timeout(TIMEOUT_MS)
        page = user.new_page()
        started = time.time()
        server = start_server(port, Path(work) / "server.log")
        try:
            while not healthy(url):
                time.sleep(0.02)

            def open_app(target):
                target.goto(url)
                expect(metric_value(target, "Rows read")).to_have_count(1, timeout=TIMEOUT_MS)
                settled(target, TIMEOUT_MS)
                return target

            def new_profile():
                other = browser.new_context(viewport={"width": 1400, "height": 1800})
                other.add_init_script(LAST_CHANGE)
                return other.new_page()

            timed("cold open (server start -> Data page)", lambda: open_app(page), server.pid, rows, since=started)
            for label, new_page in (("warm open (a new tab, same browser)", user.new_page), ("warm open (a new browser profile)", new_profile)):
                # Closed after: an idle tab left open is a live session, and pushes the measured tab to the background.
                timed(label, lambda new_page=new_page: open_app(new_page()), server.pid, rows).close()

            def upload():
                page.locator('[data-testid="stFileUploader"] input[type="file"]').set_input_files(args.file)
                page.get_by_role("heading", name=args.file.name, exact=True).wait_for(timeout=TIMEOUT_MS)
                # A Markdown table since issue 20's fourth session; a grid before (for --root of an earlier checkout).
                ledger = live(page).get_by_test_id("stMarkdownContainer").locator("table").filter(has_text="description").or_(
                    live(page).get_by_test_id("stDataFrame").filter(has_text="rule"))
                expect(ledger).to_have_count(1, timeout=TIMEOUT_MS)
                settled(page, TIMEOUT_MS)
                return page

            timed(f"upload {args.file.name} -> ledger", upload, server.pid, rows)
            if args.dwell:
                print(f"(on the Data page for {args.dwell:g} s)", flush=True)
                time.sleep(args.dwell)
            for name in args.pages:
                timed(f"{name}: first visit", lambda: visit(page, name), server.pid, rows)
                if name == "Clusters" and algorithm:
                    def choose():
                        live(page, ".st-key-algorithm").get_by_role("combobox").click()
                        page.get_by_role("option", name=algorithm, exact=True).click()
                        settled(page, TIMEOUT_MS)
                        return page

                    timed(f"Clusters: fit {algorithm}", choose, server.pid, rows)

                    def compare():
                        live(page, ".st-key-compare").get_by_text("Compare algorithms").click()
                        live(page).get_by_test_id("stDataFrame").filter(has_text="silhouette").wait_for(timeout=TIMEOUT_MS)
                        settled(page, TIMEOUT_MS)
                        return page

                    timed("Clusters: compare algorithms", compare, server.pid, rows)
                if name == "Export":
                    prepare = page.get_by_role("button", name="Prepare the Excel workbook")
                    if prepare.count():
                        def workbook():
                            prepare.first.click()
                            live(page, ".st-key-export_workbook").get_by_role("button").wait_for(timeout=TIMEOUT_MS)
                            settled(page, TIMEOUT_MS)
                            return page

                        timed("Export: prepare the Excel workbook", workbook, server.pid, rows)
                visit(page, "Data")
                timed(f"{name}: revisit", lambda: visit(page, name), server.pid, rows)
            # The server restarted on the same address, opened by a browser that has been there: its scripts cached.
            stop(server)
            page.close()
            started = time.time()
            server = start_server(port, Path(work) / "server-again.log")
            while not healthy(url):
                time.sleep(0.02)
            timed("cold open, a browser that opened it before", lambda: open_app(user.new_page()), server.pid, rows, since=started)
        finally:
            stop(server)
            browser.close()
    started = time.perf_counter()
    subprocess.run([sys.executable, "-m", "rfm", "inspect", str(args.file)], cwd=ROOT, check=True, capture_output=True)
    cli = time.perf_counter() - started
    print(f"{'python -m rfm inspect (CLI, same file)':<44} {cli:8.2f} s")
    upload_row = next(row for row in rows if row[0].startswith("upload"))
    print(f"{'upload in the app / CLI inspect':<44} {upload_row[1] / cli:8.2f} x drawn {upload_row[2] / cli:8.2f} x settled")
    return 0


if __name__ == "__main__":
    sys.exit(main())
