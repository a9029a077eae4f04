"""``make run`` (``streamlit run app.py``): the server opens the user's browser on the app, as Streamlit does for a
plain script and does not for an ``st.App``; a headless server opens nothing."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from devkit.browser import free_port, start_server, stop, wait_until_healthy


@pytest.fixture
def browser(tmp_path: Path) -> Path:
    """A stand-in for the user's browser ($BROWSER): it writes the address it was asked to open."""
    script = tmp_path / "browser.sh"
    script.write_text(f'#!/bin/sh\necho "$1" >> {tmp_path / "opened.txt"}\n')
    script.chmod(0o755)
    return script


@pytest.mark.parametrize("headless", [False, True])
def test_make_run_opens_the_browser_on_the_app_unless_headless(browser: Path, tmp_path: Path, headless: bool):
    port, opened = free_port(), tmp_path / "opened.txt"
    log = tmp_path / "server.log"
    server = start_server(port, log, environ={"BROWSER": str(browser)}, headless=headless)
    try:
        wait_until_healthy(f"http://127.0.0.1:{port}", server, log)
        deadline = time.monotonic() + (2 if headless else 30)
        while not opened.exists() and time.monotonic() < deadline:
            time.sleep(0.1)
    finally:
        stop(server)
    if headless:
        assert not opened.exists()
    else:
        assert opened.read_text().split() == [f"http://127.0.0.1:{port}"], log.read_text()[-2000:]
