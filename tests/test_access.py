"""rfm.access: the sign-in and roles configuration read from a plain dict, and who holds which role."""

from __future__ import annotations

import doctest
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import ClassVar

import pytest

import rfm.access
from rfm.access import (
    ANALYST,
    MARKETER,
    OPEN,
    AccessConfigError,
    Roles,
    access_from_secrets,
    config_message,
    no_access_message,
    parse_roles,
    provider_problem,
    role_for,
    trusted_email,
)

AUTH = {
    "redirect_uri": "http://localhost:8501/oauth2callback",
    "cookie_secret": "a long random string",
    "client_id": "rfm-studio",
    "client_secret": "s3cret",
    "server_metadata_url": "https://accounts.google.com/.well-known/openid-configuration",
}
ROLES = Roles(analysts=("ana@example.com", "@analytics.example.com"), marketers=("mark@example.com",))


def test_doctests() -> None:
    assert doctest.testmod(rfm.access, optionflags=doctest.ELLIPSIS).failed == 0


# --- role_for -------------------------------------------------------------------------------------


def test_an_exact_email_gets_its_role() -> None:
    assert role_for("ana@example.com", ROLES) == ANALYST
    assert role_for("mark@example.com", ROLES) == MARKETER


def test_a_domain_entry_admits_everyone_at_that_domain_and_no_one_else() -> None:
    assert role_for("bo@analytics.example.com", ROLES) == ANALYST
    assert role_for("bo@example.com", ROLES) is None  # the parent domain is not listed
    assert role_for("bo@eu.analytics.example.com", ROLES) is None  # nor are subdomains
    assert role_for("bo@notanalytics.example.com", ROLES) is None


def test_emails_match_whatever_their_case() -> None:
    assert role_for("ANA@Example.COM", ROLES) == ANALYST
    assert role_for(" Mark@EXAMPLE.com ", ROLES) == MARKETER
    roles = parse_roles({"analysts": ["Ana@Example.com", "@Analytics.Example.com"]})
    assert role_for("ana@example.com", roles) == ANALYST and role_for("x@analytics.example.com", roles) == ANALYST


def test_someone_in_neither_list_has_no_role() -> None:
    assert role_for("eve@elsewhere.example", ROLES) is None
    assert role_for(None, ROLES) is None
    assert role_for("", ROLES) is None
    assert role_for("not-an-email", ROLES) is None


def test_someone_in_both_lists_is_an_analyst() -> None:
    roles = Roles(analysts=("@example.com",), marketers=("mark@example.com",))
    assert role_for("mark@example.com", roles) == ANALYST


# --- parse_roles and access_from_secrets ---------------------------------------------------------


def test_roles_are_read_lowercase_and_in_order() -> None:
    assert parse_roles({"analysts": ["Ana@Example.com", "@analytics.example.com"], "marketers": ["MARK@example.com"]}) == ROLES


def test_one_list_alone_is_enough() -> None:
    assert parse_roles({"marketers": ["mark@example.com"]}) == Roles(marketers=("mark@example.com",))


def test_an_empty_role_list_is_an_error() -> None:
    with pytest.raises(AccessConfigError, match=r"rfm\.roles\.analysts is empty"):
        parse_roles({"analysts": [], "marketers": ["mark@example.com"]})


def test_an_empty_roles_table_is_an_error() -> None:
    with pytest.raises(AccessConfigError, match=r"rfm\.roles must be a table with 'analysts' and/or 'marketers' lists"):
        parse_roles({})


def test_an_unknown_role_is_an_error() -> None:
    with pytest.raises(AccessConfigError, match=r"unknown key 'analyst' \(known: analysts, marketers\)"):
        parse_roles({"analyst": ["ana@example.com"]})


def test_an_entry_that_is_not_an_email_is_an_error_and_every_problem_is_named() -> None:
    with pytest.raises(AccessConfigError, match=r"analysts has 'ana', .*; rfm\.roles\.marketers must be a list"):
        parse_roles({"analysts": ["ana"], "marketers": "mark@example.com"})


def test_no_auth_and_no_roles_is_the_open_app() -> None:
    assert access_from_secrets({}) == OPEN
    assert access_from_secrets({"other": {"key": "value"}}) == OPEN
    assert not OPEN.signin


def test_roles_without_auth_is_an_error() -> None:
    with pytest.raises(AccessConfigError, match=r"rfm\.roles is set but sign-in is not: add an \[auth\] table"):
        access_from_secrets({"rfm": {"roles": {"analysts": ["ana@example.com"]}}})


def test_auth_with_roles_is_sign_in() -> None:
    access = access_from_secrets({"auth": AUTH, "rfm": {"roles": {"analysts": ["ana@example.com"]}}})
    assert access.signin and access.roles == Roles(analysts=("ana@example.com",))
    assert access.server_metadata_url == AUTH["server_metadata_url"]


def test_auth_without_roles_is_an_error() -> None:
    with pytest.raises(AccessConfigError, match=r"no \[rfm\.roles\] table says who may use the app"):
        access_from_secrets({"auth": AUTH})


def test_auth_with_an_empty_role_list_is_an_error() -> None:
    with pytest.raises(AccessConfigError, match=r"rfm\.roles\.marketers is empty"):
        access_from_secrets({"auth": AUTH, "rfm": {"roles": {"analysts": ["ana@example.com"], "marketers": []}}})


def test_missing_auth_keys_are_all_named() -> None:
    auth = {key: value for key, value in AUTH.items() if key not in ("client_id", "cookie_secret")}
    with pytest.raises(AccessConfigError, match=r"auth\.cookie_secret is missing; auth\.client_id is missing"):
        access_from_secrets({"auth": auth, "rfm": {"roles": {"analysts": ["ana@example.com"]}}})


def test_a_redirect_uri_not_ending_in_oauth2callback_is_an_error() -> None:
    auth = AUTH | {"redirect_uri": "http://localhost:8501/"}
    with pytest.raises(AccessConfigError, match=r"auth\.redirect_uri='http://localhost:8501/' must be the app's URL followed by /oauth2callback"):
        access_from_secrets({"auth": auth, "rfm": {"roles": {"analysts": ["ana@example.com"]}}})


# --- trusted_email --------------------------------------------------------------------------------


def test_a_verified_email_is_trusted_lowercase() -> None:
    assert trusted_email({"email": "Ana@Example.com", "email_verified": True}) == "ana@example.com"
    assert trusted_email({"email": "ana@example.com", "email_verified": "true"}) == "ana@example.com"


def test_an_email_without_the_verified_claim_is_trusted() -> None:
    assert trusted_email({"email": "ana@example.com"}) == "ana@example.com"


def test_an_unverified_email_is_not_trusted() -> None:
    assert trusted_email({"email": "ana@example.com", "email_verified": False}) is None
    assert trusted_email({"email": "ana@example.com", "email_verified": "false"}) is None


def test_no_email_is_none() -> None:
    assert trusted_email({"sub": "ana"}) is None
    assert trusted_email({"email": None}) is None


# --- messages and the provider -------------------------------------------------------------------


def test_the_no_access_message_names_the_email() -> None:
    assert "eve@elsewhere.example" in no_access_message("eve@elsewhere.example")
    assert "did not give a verified email" in no_access_message(None)


def test_the_configuration_message_says_what_is_wrong() -> None:
    message = config_message(AccessConfigError("auth.client_id is missing"))
    assert message.startswith("RFM Studio is not available") and "(auth.client_id is missing)" in message


class _Discovery(BaseHTTPRequestHandler):
    document: ClassVar[dict] = {}

    def do_GET(self) -> None:
        body = json.dumps(self.document).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def discovery_url():
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Discovery)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/.well-known/openid-configuration"
    server.shutdown()
    server.server_close()


def test_a_provider_that_answers_has_no_problem(discovery_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_Discovery, "document", {"issuer": "x", "authorization_endpoint": "http://127.0.0.1/authorize"})
    monkeypatch.setenv("NO_PROXY", "127.0.0.1")
    assert provider_problem(discovery_url) is None


def test_a_document_without_an_authorization_endpoint_is_a_problem(discovery_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_Discovery, "document", {"issuer": "x"})
    monkeypatch.setenv("NO_PROXY", "127.0.0.1")
    assert "is not an OpenID Connect discovery document" in provider_problem(discovery_url)


def test_an_unreachable_provider_is_a_problem() -> None:
    import socket

    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    problem = provider_problem(f"http://127.0.0.1:{port}/.well-known/openid-configuration", timeout=2)
    assert problem is not None and "cannot be reached" in problem
