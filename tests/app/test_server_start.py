"""``make run`` (``streamlit run app.py``): the server opens the user's browser on the app, as Streamlit does for a
plain script and does not for an ``st.App``; a headless server opens nothing."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from devkit.browser import PROXY_VARIABLES, free_port, healthy, stop

ROOT = Path(__file__).resolve().parents[2]


def _serve(port: int, headless: bool, browser: Path, log: Path) -> subprocess.Popen:
    env = {k: v for k, v in os.environ.items() if k.lower() not in PROXY_VARIABLES}
    env |= {"NO_PROXY": "127.0.0.1,localhost", "no_proxy": "127.0.0.1,localhost", "BROWSER": str(browser)}
    command = [
        sys.executable, "-m", "streamlit", "run", "app.py",
        "--server.headless", str(headless).lower(),
        "--server.address", "127.0.0.1",
        "--server.port", str(port),
        "--browser.serverAddress", "127.0.0.1",
        "--browser.gatherUsageStats", "false",
        "--server.fileWatcherType", "none",
    ]  # fmt: skip
    with open(log, "wb") as out:
        return subprocess.Popen(command, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)


@pytest.fixture
def browser(tmp_path: Path) -> Path:
    """A stand-in for the user's browser ($BROWSER): it writes the address it was asked to open."""
    script = tmp_path / "browser.sh"
    script.write_text(f'#!/bin/sh\necho "$1" >> {tmp_path / "opened.txt"}\n')
    script.chmod(0o755)
    return script


def _wait_healthy(port: int, server: subprocess.Popen) -> None:
    deadline = time.monotonic() + 60
    while not healthy(f"http://127.0.0.1:{port}"):
        assert server.poll() is None and time.monotonic() < deadline, "the server did not start"
        time.sleep(0.1)


@pytest.mark.parametrize("headless", [False, True])
def test_make_run_opens_the_browser_on_the_app_unless_headless(browser: Path, tmp_path: Path, headless: bool):
    port, opened = free_port(), tmp_path / "opened.txt"
    server = _serve(port, headless, browser, tmp_path / "server.log")
    try:
        _wait_healthy(port, server)
        deadline = time.monotonic() + (2 if headless else 30)
        while not opened.exists() and time.monotonic() < deadline:
            time.sleep(0.1)
    finally:
        stop(server)
    if headless:
        assert not opened.exists()
    else:
        assert opened.read_text().split() == [f"http://127.0.0.1:{port}"], (tmp_path / "server.log").read_text()[-2000:]
