"""The app served by ``streamlit run`` and driven by Debian's Chromium under Playwright: start and stop a server,
launch options, and locators for what a page shows (live elements, metrics, captions), for the browser tests and
the benchmarks alike."""

from __future__ import annotations

import contextlib
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
WAIT_MS = 30_000  # the longest any one expectation may wait (the first run imports the whole stack)

CHROMIUM = os.environ.get("RFM_CHROMIUM", "/usr/bin/chromium")


CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-proxy-server",  # the app is on 127.0.0.1: never go through a proxy
]


PROXY_VARIABLES = {"http_proxy", "https_proxy", "all_proxy", "ftp_proxy", "no_proxy"}


HEALTH_TIMEOUT_S = 60


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def healthy(url: str) -> bool:
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    try:
        with opener.open(f"{url}/_stcore/health", timeout=2) as response:
            return response.read().decode().strip() == "ok"
    except (urllib.error.URLError, OSError):
        return False


def wait_until_healthy(url: str, server: subprocess.Popen, log_path: Path) -> None:
    """Until the server at ``url`` answers its health check; RuntimeError with the end of its log when it exits or
    takes longer than HEALTH_TIMEOUT_S."""
    deadline = time.monotonic() + HEALTH_TIMEOUT_S
    while not healthy(url):
        if server.poll() is not None or time.monotonic() > deadline:
            state = f"exited with code {server.returncode}" if server.poll() is not None else f"not healthy after {HEALTH_TIMEOUT_S} s"
            raise RuntimeError(f"streamlit server {state}; log:\n{log_path.read_text(errors='replace')[-3000:]}")
        time.sleep(0.1)


def start_server(
    port: int,
    log_path: Path,
    environ: dict[str, str] | None = None,
    secrets_file: Path | None = None,
    headless: bool = True,
) -> subprocess.Popen:
    """``streamlit run app.py`` (as ``make run`` does; ``streamlit_app.py`` in a checkout from before app.py) on
    127.0.0.1:PORT, no proxy, its own process group; ``environ`` adds to (or replaces in) this process's
    environment, e.g. a workspace of its own; ``secrets_file`` is read instead of .streamlit/secrets.toml (e.g.
    sign-in against a provider on loopback); ``headless=False`` as on a user's desktop (it opens their browser)."""
    env = {k: v for k, v in os.environ.items() if k.lower() not in PROXY_VARIABLES} | (environ or {})
    env["NO_PROXY"] = env["no_proxy"] = "127.0.0.1,localhost"
    command = [
        sys.executable, "-m", "streamlit", "run", "app.py" if (REPO / "app.py").exists() else "streamlit_app.py",
        "--server.headless", str(headless).lower(),
        "--server.address", "127.0.0.1",
        "--browser.serverAddress", "127.0.0.1",
        "--server.port", str(port),
        "--browser.gatherUsageStats", "false",
        "--server.fileWatcherType", "none",
    ]  # fmt: skip
    if secrets_file is not None:
        command += ["--secrets.files", str(secrets_file)]
    with open(log_path, "wb") as log:
        return subprocess.Popen(
            command, cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True
        )


def stop(server: subprocess.Popen) -> None:
    """SIGTERM the server's process group, SIGKILL it after 10 s, then kill anything left in the group."""
    group = server.pid  # start_new_session=True: the server leads its own group
    try:
        os.killpg(group, signal.SIGTERM)
        server.wait(timeout=10)
    except ProcessLookupError:
        pass
    except subprocess.TimeoutExpired:
        os.killpg(group, signal.SIGKILL)
    server.wait()
    with contextlib.suppress(ProcessLookupError):
        os.killpg(group, signal.SIGKILL)  # children that outlived the leader


def live(page, css: str = ""):
    """Elements of the current run only: during a rerun Streamlit keeps the previous run's elements (marked
    ``data-stale="true"``, keyed ones even beside their replacement), which would match twice."""
    return page.locator(f'[data-testid="stElementContainer"]{css}[data-stale="false"]')


def settled(page, timeout_ms: int = WAIT_MS) -> None:
    """Wait until the script run is over: no "Running..." widget and no stale element left."""
    page.wait_for_timeout(300)  # the run starts
    page.wait_for_function(
        "() => !document.querySelector('[data-testid=\"stStatusWidget\"]') && !document.querySelector('[data-stale=\"true\"]')",
        timeout=timeout_ms,
    )


def metric_value(page, label: str):
    """The value element of the ``st.metric`` whose label is exactly ``label``."""
    label_element = page.get_by_test_id("stMetricLabel").filter(has_text=re.compile(rf"^\s*{re.escape(label)}\s*$"))
    return live(page).get_by_test_id("stMetric").filter(has=label_element).get_by_test_id("stMetricValue")


def caption(page, text: str):
    """The live caption containing ``text``."""
    return live(page).get_by_test_id("stCaptionContainer").filter(has_text=text)


def assert_no_exception(page) -> None:
    from playwright.sync_api import expect

    expect(page.get_by_test_id("stException")).to_have_count(0)
