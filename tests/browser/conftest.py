"""A real Chromium (Debian's, under Playwright) and the app served by ``streamlit run``, for every browser test.

Skips cleanly when Chromium, the Playwright package or the shared workbook is missing, unless
``RFM_REQUIRE_BROWSER=1`` (set by CI), in which case it fails and says what is missing.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from devkit.browser import (
    CHROMIUM,
    CHROMIUM_ARGS,
    PROXY_VARIABLES,
    free_port,
    start_server,
    stop,
    wait_until_healthy,
)
from devkit.data import WORKBOOK
from tests.support.browser import unavailable


@pytest.fixture(scope="module")
def workbook() -> Path:
    if not WORKBOOK.is_file():
        unavailable(f"the shared workbook {WORKBOOK} is absent")
    return WORKBOOK


@pytest.fixture(scope="module")
def browser(workbook: Path):
    yield from launched_chromium()


def launched_chromium():
    """Debian's Chromium under Playwright, closed when done (a generator for module fixtures); skips, or
    fails under RFM_REQUIRE_BROWSER=1, saying what is missing."""
    if not Path(CHROMIUM).is_file():
        unavailable(f"Chromium is not installed at {CHROMIUM} (apt-get install -y chromium)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        unavailable("the playwright Python package is not installed (pip install -r requirements-test.txt)")
    env = {k: v for k, v in os.environ.items() if k.lower() not in PROXY_VARIABLES}
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, env=env)
        yield chromium
        chromium.close()


@pytest.fixture(scope="module")
def app_url(browser, tmp_path_factory: pytest.TempPathFactory):
    """The app served by ``streamlit run`` (its own process group, killed at the end)."""
    yield from served_app(tmp_path_factory)


def served_app(tmp_path_factory: pytest.TempPathFactory):
    """Start the app on a free port, yield its URL once healthy, stop it after (a generator for fixtures)."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    folder = tmp_path_factory.mktemp("streamlit")
    log_path = folder / "server.log"
    # A workspace of its own: a DuckDB file admits one process, and the tests' own process may hold theirs.
    server = start_server(port, log_path, {"RFM_WORKSPACE": str(folder / "workspace.duckdb")})
    try:
        try:
            wait_until_healthy(url, server, log_path)
        except RuntimeError as error:
            pytest.fail(str(error), pytrace=False)
        yield url
    finally:
        stop(server)
