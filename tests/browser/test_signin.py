"""Sign-in and roles end to end: Debian's Chromium signs in to the app against a real OpenID Connect provider
(``oidc-provider-mock``) on loopback, as an analyst, a marketer and someone in neither list.

The provider and the app run on free ports of 127.0.0.1; the app reads a secrets file of its own (``[auth]`` pointing
at the provider, ``[rfm.roles]``), so the developer's own .streamlit/secrets.toml plays no part. Skips cleanly when
Chromium, Playwright or oidc-provider-mock is missing, unless ``RFM_REQUIRE_BROWSER=1`` (CI), where it fails.
"""

from __future__ import annotations

import contextlib
import importlib.util
import json
import os
import re
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from devkit.browser import (
    HEALTH_TIMEOUT_S,
    PROXY_VARIABLES,
    WAIT_MS,
    assert_no_exception,
    free_port,
    healthy,
    live,
    settled,
    start_server,
    stop,
)
from tests.browser.conftest import launched_chromium
from tests.support.browser import unavailable

pytestmark = pytest.mark.browser

PEOPLE = {"ana": "ana@example.com", "mark": "mark@example.com", "eve": "eve@elsewhere.example"}
ANALYST_PAGES = ["Data", "RFM", "Clusters", "Segments", "Trends", "Value", "Backtest", "Audiences", "Export", "What if", "Score"]


@pytest.fixture(scope="module")
def browser():
    yield from launched_chromium()


def _discovered(url: str) -> bool:
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    try:
        with opener.open(url, timeout=2) as response:
            return "authorization_endpoint" in json.load(response)
    except (urllib.error.URLError, OSError, ValueError):
        return False


@pytest.fixture(scope="module")
def provider(browser, tmp_path_factory: pytest.TempPathFactory):
    """``oidc-provider-mock`` on a free port with the three people; yields its base URL."""
    if importlib.util.find_spec("oidc_provider_mock") is None:
        unavailable("oidc-provider-mock is not installed (pip install -r requirements-test.txt)")
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    claims = [json.dumps({"sub": sub, "email": email, "email_verified": True, "name": sub.title()}) for sub, email in PEOPLE.items()]
    command = [sys.executable, "-m", "oidc_provider_mock", "-H", "127.0.0.1", "-p", str(port)]
    for person in claims:
        command += ["--user-claims", person]
    log_path = tmp_path_factory.mktemp("provider") / "provider.log"
    env = {k: v for k, v in os.environ.items() if k.lower() not in PROXY_VARIABLES}
    with open(log_path, "wb") as log:
        server = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True)
    try:
        _wait_for(lambda: _discovered(f"{url}/.well-known/openid-configuration"), server, log_path, "oidc-provider-mock")
        yield url
    finally:
        stop(server)


def _wait_for(ready, server: subprocess.Popen, log_path: Path, what: str) -> None:
    """Until ``ready()``; fail with the end of the log when the process exits or takes longer than the health timeout."""
    deadline = time.monotonic() + HEALTH_TIMEOUT_S
    while not ready():
        if server.poll() is not None or time.monotonic() > deadline:
            pytest.fail(f"{what} did not start; log:\n{log_path.read_text(errors='replace')[-3000:]}", pytrace=False)
        time.sleep(0.2)


@pytest.fixture(scope="module")
def app_url(provider: str, tmp_path_factory: pytest.TempPathFactory):
    """The app with sign-in on: its own secrets file, its own workspace, on a free port."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    folder = tmp_path_factory.mktemp("signin-app")
    secrets = folder / "secrets.toml"
    secrets.write_text(
        f"""[auth]
redirect_uri = "{url}/oauth2callback"
cookie_secret = "a test cookie secret, not used anywhere else"
client_id = "rfm-studio"
client_secret = "rfm-studio-secret"
server_metadata_url = "{provider}/.well-known/openid-configuration"

[rfm.roles]
analysts = ["ana@example.com", "@analytics.example.com"]
marketers = ["mark@example.com"]
"""
    )
    log_path = folder / "server.log"
    server = start_server(port, log_path, {"RFM_WORKSPACE": str(folder / "workspace.duckdb")}, secrets_file=secrets)
    try:
        _wait_for(lambda: healthy(url), server, log_path, "streamlit server")
        yield url
    finally:
        stop(server)
        print(log_path.read_text(errors="replace")[-2000:])  # shown by pytest when a test failed


@contextlib.contextmanager
def _person(browser, tmp_path: Path, name: str):
    """A fresh browser (no cookie) for one person; a screenshot of where it ended, whatever happened."""
    context = browser.new_context(viewport={"width": 1400, "height": 1600})
    page = context.new_page()
    page.set_default_timeout(WAIT_MS)
    try:
        yield page
    finally:
        with contextlib.suppress(Exception):
            page.screenshot(path=tmp_path / f"{name}.png")
        context.close()


def _sign_in(page, app_url: str, provider: str, sub: str) -> None:
    """From the sign-in page through the provider's form (the subject typed in) back to the app."""
    from playwright.sync_api import expect

    page.goto(app_url)
    expect(page.get_by_role("heading", name="RFM Studio")).to_be_visible(timeout=WAIT_MS)
    expect(page.get_by_test_id("stSidebarNavLink")).to_have_count(0)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(re.compile(rf"^{re.escape(provider)}/"))
    page.locator('input[name="sub"]').fill(sub)
    page.get_by_role("button", name="Authorize", exact=True).click()
    page.wait_for_url(re.compile(rf"^{re.escape(app_url)}/?(\?.*)?$"))


def _sign_out(page, app_url: str, provider: str, button) -> None:
    """Sign out (the provider ends its session too, after asking), back to the app's sign-in page."""
    from playwright.sync_api import expect

    button.click()
    page.wait_for_url(re.compile(rf"^{re.escape(provider)}/oauth2/end_session"))  # the provider has end_session_endpoint
    page.get_by_role("button", name="End session").click()
    page.wait_for_url(re.compile(rf"^{re.escape(app_url)}/"))
    expect(page.get_by_role("button", name="Sign in")).to_be_visible(timeout=WAIT_MS)


def _sidebar_says(page, text: str):
    return page.get_by_test_id("stSidebar").get_by_test_id("stCaptionContainer").filter(has_text=text)


def test_nobody_signed_in_sees_the_sign_in_page_whatever_the_url(browser, app_url: str, tmp_path: Path) -> None:
    from playwright.sync_api import expect

    with _person(browser, tmp_path, "nobody") as page:
        for path in ("", "/data", "/clusters", "/audiences"):
            page.goto(app_url + path)
            expect(page.get_by_role("button", name="Sign in")).to_be_visible(timeout=WAIT_MS)
            settled(page)
            expect(page.get_by_test_id("stSidebarNavLink")).to_have_count(0)
            expect(page.get_by_test_id("stFileUploader")).to_have_count(0)
            expect(page.get_by_role("heading", name="Clusters")).to_have_count(0)
            assert_no_exception(page)


def test_an_analyst_signs_in_to_the_data_page_and_every_page_then_out(browser, app_url: str, provider: str, tmp_path: Path) -> None:
    from playwright.sync_api import expect

    with _person(browser, tmp_path, "analyst") as page:
        _sign_in(page, app_url, provider, "ana")
        expect(page.get_by_role("heading", name="Demo data: demo_online_retail.xlsx")).to_be_visible(timeout=WAIT_MS)
        expect(page.get_by_test_id("stSidebarNavLink")).to_have_count(len(ANALYST_PAGES))
        links = page.get_by_test_id("stSidebarNavLink").all_inner_texts()
        assert [link.strip().split("\n")[-1] for link in links] == ANALYST_PAGES  # each link: its icon's name, its title
        expect(_sidebar_says(page, "Signed in as ana@example.com")).to_contain_text("Analyst")
        page.get_by_test_id("stSidebarNavLink").filter(has_text="Clusters").click()
        expect(page.get_by_role("heading", name="Clusters", exact=True)).to_be_visible(timeout=WAIT_MS)
        assert_no_exception(page)

        _sign_out(page, app_url, provider, page.get_by_test_id("stSidebar").get_by_role("button", name="Sign out"))
        page.goto(f"{app_url}/data")  # the session is over: no page of the app, even by its URL
        expect(page.get_by_role("button", name="Sign in")).to_be_visible(timeout=WAIT_MS)
        settled(page)
        expect(page.get_by_test_id("stFileUploader")).to_have_count(0)
        expect(page.get_by_test_id("stSidebarNavLink")).to_have_count(0)


def test_a_marketer_gets_audiences_only_and_no_analyst_page_by_url(browser, app_url: str, provider: str, tmp_path: Path) -> None:
    from playwright.sync_api import expect

    with _person(browser, tmp_path, "marketer") as page:
        _sign_in(page, app_url, provider, "mark")
        expect(page.get_by_role("heading", name="Audiences", exact=True)).to_be_visible(timeout=WAIT_MS)
        expect(_sidebar_says(page, "Signed in as mark@example.com")).to_contain_text("Marketer")
        settled(page)
        # One page: Streamlit draws no menu at all; in any case no link to an analyst's page.
        expect(page.get_by_test_id("stSidebarNavLink").filter(has_not_text="Audiences")).to_have_count(0)
        for path, heading in (("/clusters", "Clusters"), ("/data", "Demo data: demo_online_retail.xlsx"), ("/export", "Export")):
            page.goto(app_url + path)
            expect(page.get_by_role("heading", name="Audiences", exact=True)).to_be_visible(timeout=WAIT_MS)
            settled(page)
            expect(page.get_by_role("heading", name=heading, exact=True)).to_have_count(0)
            expect(page.get_by_test_id("stFileUploader")).to_have_count(0)
            expect(page.get_by_role("button", name="Publish")).to_have_count(0)
            expect(page.get_by_test_id("stSidebarNavLink").filter(has_not_text="Audiences")).to_have_count(0)
        assert_no_exception(page)


def test_someone_in_neither_list_sees_no_access_with_their_email_then_signs_out(browser, app_url: str, provider: str, tmp_path: Path) -> None:
    from playwright.sync_api import expect

    with _person(browser, tmp_path, "outsider") as page:
        _sign_in(page, app_url, provider, "eve")
        expect(page.get_by_role("heading", name="No access")).to_be_visible(timeout=WAIT_MS)
        expect(live(page).get_by_test_id("stAlertContentWarning")).to_contain_text("eve@elsewhere.example")
        settled(page)
        expect(page.get_by_test_id("stSidebarNavLink")).to_have_count(0)
        expect(page.get_by_test_id("stFileUploader")).to_have_count(0)
        expect(page.get_by_test_id("stMetric")).to_have_count(0)
        page.goto(f"{app_url}/clusters")
        expect(page.get_by_role("heading", name="No access")).to_be_visible(timeout=WAIT_MS)
        settled(page)
        expect(page.get_by_role("heading", name="Clusters", exact=True)).to_have_count(0)
        assert_no_exception(page)
        page.goto(app_url)  # away from Streamlit's "page not found" dialog, which leaves the page behind it inert
        expect(page.get_by_role("heading", name="No access")).to_be_visible(timeout=WAIT_MS)
        _sign_out(page, app_url, provider, page.get_by_role("button", name="Sign out"))


def test_an_analyst_publishes_as_their_email_and_a_marketer_takes_the_run(browser, app_url: str, provider: str, tmp_path: Path) -> None:
    """The hand-off between the two roles: the run the analyst publishes from the Export page is recorded as published
    by their signed-in email (which they cannot type over), and the marketer finds it on Audiences under that name."""
    from playwright.sync_api import expect

    name = f"Hand-off {os.getpid()}"
    with _person(browser, tmp_path, "analyst-publishes") as page:
        _sign_in(page, app_url, provider, "ana")
        page.get_by_test_id("stSidebarNavLink").filter(has_text="Export").click()
        expect(page.get_by_role("heading", name="Export", exact=True)).to_be_visible(timeout=WAIT_MS)
        by = live(page, ".st-key-publish_by_signed_in").locator("input")
        expect(by).to_have_value("ana@example.com", timeout=WAIT_MS)
        expect(by).to_be_disabled()
        live(page, ".st-key-publish_name").locator("input").fill(name)
        page.get_by_role("button", name="Publish").click()
        expect(live(page).get_by_test_id("stAlertContentSuccess")).to_contain_text(f"Published {name}", timeout=WAIT_MS)
        assert_no_exception(page)
    with _person(browser, tmp_path, "marketer-takes") as page:
        _sign_in(page, app_url, provider, "mark")
        expect(page.get_by_role("heading", name="Audiences", exact=True)).to_be_visible(timeout=WAIT_MS)
        run = live(page, ".st-key-audience_run").get_by_role("combobox")
        expect(run).to_have_value(re.compile(rf"^{re.escape(name)} — .* by ana@example\.com \(2,999 customers\)$"), timeout=WAIT_MS)
        expect(live(page).get_by_test_id("stMetric").filter(has_text="Published by")).to_contain_text("ana@example.com")
        expect(live(page, ".st-key-audience_platform_file").get_by_role("button")).to_contain_text("2,999 of 2,999 customers")
        assert_no_exception(page)
