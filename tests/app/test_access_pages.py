"""Sign-in and roles, headless: the entry script lets in, per run, whom the secrets allow and shows each person
only their pages (``st.user`` is set through ``AppTest.user``, the secrets through ``AppTest.secrets``).

The provider's discovery document is not fetched here (``ui.access.provider_problem`` is stubbed) except in the
test of an unreachable provider; tests/browser/test_signin.py signs in against a real provider."""

from __future__ import annotations

import socket
import uuid

import pytest

import ui.access
from rfm.access import OPEN_MODE_NOTE
from rfm.workspace import Workspace, workspace_url
from tests.support.app import app_test

pytestmark = pytest.mark.slow

AUTH = {
    "redirect_uri": "http://localhost:8501/oauth2callback",
    "cookie_secret": "not a secret: a test",
    "client_id": "rfm-studio",
    "client_secret": "test",
    "server_metadata_url": "http://127.0.0.1:9/.well-known/openid-configuration",
}
ROLES = {"analysts": ["ana@example.com", "@analytics.example.com"], "marketers": ["mark@example.com"]}
ANA = {"is_logged_in": True, "email": "Ana@Example.com", "email_verified": True, "sub": "ana"}
MARK = {"is_logged_in": True, "email": "mark@example.com", "email_verified": True, "sub": "mark"}
EVE = {"is_logged_in": True, "email": "eve@elsewhere.example", "email_verified": True, "sub": "eve"}


@pytest.fixture
def provider_answers(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(ui.access, "provider_problem", lambda url: None)


def _app(user: dict | None, secrets: dict | None = None):
    at = app_test()
    for key, value in ({"auth": AUTH, "rfm": {"roles": ROLES}} if secrets is None else secrets).items():
        at.secrets[key] = value
    if user is not None:
        at.user = user
    return at


def _titles(at) -> list[str]:
    return [title.value for title in at.title]


def _sidebar_captions(at) -> list[str]:
    return [caption.value for caption in at.sidebar.caption]


def _nothing_of_the_app(at) -> None:
    """No page of the app ran: no upload, no data, nothing in the sidebar."""
    assert not at.exception
    assert len(at.get("file_uploader")) == 0 and len(at.metric) == 0 and len(at.dataframe) == 0
    assert not at.sidebar.caption and not at.sidebar.button


def test_without_auth_the_app_is_open_and_the_sidebar_says_so():
    at = app_test().run()
    assert not at.exception
    assert _titles(at)[0].startswith("Demo data") or at.get("file_uploader")
    assert _sidebar_captions(at) == [OPEN_MODE_NOTE]
    assert [button.key for button in at.sidebar.button] == []


def test_nobody_signed_in_sees_only_the_sign_in_page(provider_answers):
    at = _app({"is_logged_in": False}).run()
    _nothing_of_the_app(at)
    assert _titles(at) == ["RFM Studio"]
    assert [button.label for button in at.button] == ["Sign in"]


def test_nobody_signed_in_has_a_page_of_the_app_in_the_navigation(provider_answers):
    """Streamlit runs only the pages passed to st.navigation (a URL to another one runs the default page: see the
    browser test); AppTest, asked to switch to one, says it is not there."""
    at = _app({"is_logged_in": False}).run()
    for page in ("pages/clusters.py", "pages/data.py", "pages/audiences.py"):
        with pytest.raises(ValueError, match="Could not find a navigation page"):
            at.switch_page(page)


def test_an_analyst_gets_the_data_page_and_the_sidebar_says_who(provider_answers):
    at = _app(ANA).run()
    assert not at.exception
    assert at.get("file_uploader")  # the Data page, the default
    assert _sidebar_captions(at) == ["Signed in as **ana@example.com** · Analyst"]
    assert [button.label for button in at.sidebar.button] == ["Sign out"]


def test_a_domain_analyst_gets_in(provider_answers):
    at = _app({"is_logged_in": True, "email": "bo@analytics.example.com"}).run()
    assert not at.exception and at.get("file_uploader")
    assert _sidebar_captions(at) == ["Signed in as **bo@analytics.example.com** · Analyst"]


def test_a_marketer_gets_the_audiences_page_only(provider_answers):
    at = _app(MARK).run()
    assert not at.exception
    assert _titles(at)[0] == "Audiences"
    assert not at.get("file_uploader")
    assert _sidebar_captions(at) == ["Signed in as **mark@example.com** · Marketer"]
    for analyst_page in ("pages/clusters.py", "pages/data.py", "pages/export.py"):
        with pytest.raises(ValueError, match="Could not find a navigation page"):  # not in the marketer's navigation
            at.switch_page(analyst_page)
    at.switch_page("pages/audiences.py").run()
    assert not at.exception and _titles(at)[0] == "Audiences"


def test_someone_in_neither_list_sees_no_access_with_their_email(provider_answers):
    at = _app(EVE).run()
    _nothing_of_the_app(at)
    assert _titles(at) == ["No access"]
    [warning] = at.warning
    assert "eve@elsewhere.example" in warning.value
    assert [button.label for button in at.button] == ["Sign out"]


def test_an_unverified_email_is_not_trusted(provider_answers):
    at = _app(ANA | {"email_verified": False}).run()
    _nothing_of_the_app(at)
    assert _titles(at) == ["No access"] and "did not give a verified email" in at.warning[0].value


def test_signing_out_goes_back_to_the_sign_in_page(provider_answers):
    at = _app(EVE).run()
    next(button for button in at.button if button.label == "Sign out").click().run()
    assert not at.exception
    assert at.user == {"is_logged_in": False}
    at.run()
    assert [button.label for button in at.button] == ["Sign in"]


@pytest.mark.parametrize(
    ("secrets", "expected"),
    [
        ({"rfm": {"roles": ROLES}}, "rfm.roles is set but sign-in is not"),
        ({"auth": AUTH, "rfm": {"roles": {"analysts": [], "marketers": ["mark@example.com"]}}}, "rfm.roles.analysts is empty"),
        ({"auth": AUTH}, "no [rfm.roles] table"),
        ({"auth": {k: v for k, v in AUTH.items() if k != "client_id"}, "rfm": {"roles": ROLES}}, "auth.client_id is missing"),
    ],
)
def test_a_bad_configuration_is_a_message_and_no_app(secrets, expected, provider_answers):
    at = _app(ANA, secrets).run()
    _nothing_of_the_app(at)
    [error] = at.error
    assert error.value.startswith("RFM Studio is not available") and expected in error.value
    assert not at.button


def test_an_unreachable_provider_is_a_message_and_no_app():
    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        url = f"http://127.0.0.1:{sock.getsockname()[1]}/.well-known/openid-configuration"
    at = _app({"is_logged_in": False}, {"auth": AUTH | {"server_metadata_url": url}, "rfm": {"roles": ROLES}}).run()
    _nothing_of_the_app(at)
    [error] = at.error
    assert "cannot be reached" in error.value and url in error.value
    assert not at.button


def test_a_signed_in_analyst_publishes_under_their_email(provider_answers):
    at = _app(ANA).run()
    at.switch_page("pages/export.py").run()
    assert not at.exception
    assert [field.key for field in at.text_input if field.key.startswith("publish_by")] == ["publish_by_signed_in"]
    field = at.text_input(key="publish_by_signed_in")
    assert field.value == "ana@example.com" and field.disabled
    name = f"Signed in {uuid.uuid4().hex[:6]}"
    at.text_input(key="publish_name").set_value(name)
    next(button for button in at.button if button.label == "Publish").click().run()
    assert not at.exception and not at.error
    with Workspace.open(workspace_url()) as workspace:
        assert workspace.runs(name)["published_by"].tolist() == ["ana@example.com"]
