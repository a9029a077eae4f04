"""Who may use the app: the sign-in settings and the roles, read from a plain dict (the app's secrets).

In: the secrets as a plain nested dict (``[auth]`` for Streamlit's OpenID Connect sign-in, ``[rfm.roles]`` for who
is an analyst and who a marketer) and, per request, the signed-in person's claims. Out: an :class:`Access` (open,
or sign-in with its :class:`Roles`), the role of an email, and the messages the app shows. Uses no other step.

Without ``[auth]`` the app is *open*: one person on their own machine, as before sign-in existed. With it, a person
must sign in, and only the emails listed under a role get in::

    [rfm.roles]
    analysts  = ["ana@example.com", "@analytics.example.com"]   # exact emails, or @domain for everyone there
    marketers = ["mark@example.com"]

Emails match case-insensitively. Someone in both lists is an analyst (the larger role). An email the provider says
is *not* verified (``email_verified`` false) is not trusted; when the provider does not send ``email_verified`` at
all (Microsoft Entra, for one), the email is trusted: the provider, which the organisation chose, vouches for it.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from rfm.errors import RFMInputError

Role = Literal["analyst", "marketer"]
ANALYST: Role = "analyst"
MARKETER: Role = "marketer"

ROLE_LISTS: dict[str, Role] = {"analysts": ANALYST, "marketers": MARKETER}  # key under [rfm.roles] -> role
AUTH_KEYS = ("redirect_uri", "cookie_secret", "client_id", "client_secret", "server_metadata_url")
CALLBACK_PATH = "/oauth2callback"  # Streamlit serves the provider's answer there
PROVIDER_TIMEOUT = 5.0  # how long the provider's discovery document may take, once per process


class AccessConfigError(RFMInputError):
    """The sign-in or roles configuration cannot be used; the message lists every problem found, to fix at once."""


@dataclass(frozen=True)
class Roles:
    """Who holds each role: lowercase exact emails (``ana@example.com``) or domains (``@example.com``)."""

    analysts: tuple[str, ...] = ()
    marketers: tuple[str, ...] = ()


@dataclass(frozen=True)
class Access:
    """How the app lets people in: ``open`` (no sign-in, one person on their own machine) or sign-in with ``roles``.

    ``server_metadata_url`` is the provider's discovery document (checked once, see :func:`provider_problem`).
    """

    signin: bool
    roles: Roles = Roles()
    server_metadata_url: str = ""


OPEN = Access(signin=False)


def _entries(key: str, value: Any, problems: list[str]) -> tuple[str, ...]:
    """One role's list, normalised (stripped, lowercase), with its problems appended to ``problems``."""
    if not isinstance(value, list | tuple):
        problems.append(f"rfm.roles.{key} must be a list of emails or @domains, not {value!r}")
        return ()
    if not value:
        problems.append(f"rfm.roles.{key} is empty: list at least one email or @domain, or remove the key")
        return ()
    entries = []
    for entry in value:
        text = entry.strip().lower() if isinstance(entry, str) else ""
        name, at, domain = text.rpartition("@")
        if not at or not domain or "." not in domain or " " in text:
            problems.append(f"rfm.roles.{key} has {entry!r}, which is neither an email nor an @domain")
        else:
            entries.append(text if name else f"@{domain}")
    return tuple(entries)


def parse_roles(table: Any) -> Roles:
    """The ``[rfm.roles]`` table (a dict of lists) as :class:`Roles`; raises :class:`AccessConfigError` naming every
    problem (an unknown key, an empty list, an entry that is neither an email nor an ``@domain``).

    >>> parse_roles({"analysts": ["Ana@Example.com", "@Analytics.example.com"], "marketers": ["mark@example.com"]})
    Roles(analysts=('ana@example.com', '@analytics.example.com'), marketers=('mark@example.com',))
    >>> parse_roles({"marketers": []})
    Traceback (most recent call last):
    ...
    rfm.access.AccessConfigError: rfm.roles.marketers is empty: list at least one email or @domain, or remove the key
    """
    if not isinstance(table, Mapping) or not table:
        raise AccessConfigError("rfm.roles must be a table with 'analysts' and/or 'marketers' lists")
    problems = [f"rfm.roles has an unknown key {key!r} (known: analysts, marketers)" for key in table if key not in ROLE_LISTS]
    lists = {key: _entries(key, value, problems) for key, value in table.items() if key in ROLE_LISTS}
    if problems:
        raise AccessConfigError("; ".join(problems))
    return Roles(analysts=lists.get("analysts", ()), marketers=lists.get("marketers", ()))


def _auth_problems(auth: Any) -> list[str]:
    """What is missing or wrong in the ``[auth]`` table (Streamlit's own keys for one unnamed provider)."""
    if not isinstance(auth, Mapping):
        return ["auth must be a table"]
    problems = [f"auth.{key} is missing" for key in AUTH_KEYS if not str(auth.get(key, "") or "").strip()]
    redirect_uri = str(auth.get("redirect_uri", "") or "")
    if redirect_uri and not redirect_uri.rstrip("/").endswith(CALLBACK_PATH):
        problems.append(f"auth.redirect_uri={redirect_uri!r} must be the app's URL followed by {CALLBACK_PATH}")
    for key in ("redirect_uri", "server_metadata_url"):
        url = str(auth.get(key, "") or "")
        if url and not url.startswith(("http://", "https://")):
            problems.append(f"auth.{key}={url!r} must start with https:// (or http:// on this machine)")
    return problems


def access_from_secrets(secrets: Mapping[str, Any]) -> Access:
    """The app's :class:`Access` from its secrets (a plain nested dict); raises :class:`AccessConfigError` listing
    every problem. No ``[auth]`` and no roles: :data:`OPEN`.

    >>> access_from_secrets({})
    Access(signin=False, roles=Roles(analysts=(), marketers=()), server_metadata_url='')
    >>> access_from_secrets({"rfm": {"roles": {"analysts": ["ana@example.com"]}}})
    Traceback (most recent call last):
    ...
    rfm.access.AccessConfigError: rfm.roles is set but sign-in is not: add an [auth] table (see the README, "Sign-in and roles"), or remove [rfm.roles]
    """
    rfm_table = secrets.get("rfm", {})
    roles_table = rfm_table.get("roles") if isinstance(rfm_table, Mapping) else None
    if "auth" not in secrets:
        if roles_table is not None:
            raise AccessConfigError(
                "rfm.roles is set but sign-in is not: add an [auth] table (see the README, \"Sign-in and roles\"), "
                "or remove [rfm.roles]"
            )
        return OPEN
    problems = _auth_problems(secrets["auth"])
    roles = Roles()
    if roles_table is None:
        problems.append("sign-in is on ([auth]) but no [rfm.roles] table says who may use the app: nobody could")
    else:
        try:
            roles = parse_roles(roles_table)
        except AccessConfigError as error:
            problems.append(str(error))
    if problems:
        raise AccessConfigError("; ".join(problems))
    return Access(signin=True, roles=roles, server_metadata_url=str(secrets["auth"]["server_metadata_url"]))


def _listed(email: str, entries: tuple[str, ...]) -> bool:
    domain = "@" + email.rpartition("@")[2]
    return email in entries or domain in entries


def role_for(email: str | None, roles: Roles) -> Role | None:
    """The role of ``email`` (any case): analyst when listed there (by email or @domain), else marketer when listed
    there, else ``None``.

    >>> roles = Roles(analysts=("ana@example.com", "@analytics.example.com"), marketers=("mark@example.com",))
    >>> role_for("ANA@example.com", roles), role_for("bo@analytics.example.com", roles), role_for("mark@example.com", roles)
    ('analyst', 'analyst', 'marketer')
    >>> role_for("eve@elsewhere.example", roles) is None, role_for("x@sub.analytics.example.com", roles) is None
    (True, True)
    """
    if not email or "@" not in email:
        return None
    email = email.strip().lower()
    if _listed(email, roles.analysts):
        return ANALYST
    if _listed(email, roles.marketers):
        return MARKETER
    return None


def trusted_email(claims: Mapping[str, Any]) -> str | None:
    """The signed-in person's email, lowercase, or ``None`` when there is none or the provider says it is not
    verified (``email_verified`` false; absent counts as verified, see the module's docstring).

    >>> trusted_email({"email": "Ana@Example.com", "email_verified": True}), trusted_email({"email": "ana@example.com"})
    ('ana@example.com', 'ana@example.com')
    >>> trusted_email({"email": "ana@example.com", "email_verified": False}) is None
    True
    """
    email = claims.get("email")
    if not isinstance(email, str) or "@" not in email:
        return None
    verified = claims.get("email_verified", True)
    if isinstance(verified, str):  # some providers send the claim as a string
        verified = verified.strip().lower() == "true"
    return email.strip().lower() if verified is True else None


def provider_problem(server_metadata_url: str, timeout: float = PROVIDER_TIMEOUT) -> str | None:
    """``None`` when the OpenID provider's discovery document answers with an authorization endpoint; else what
    went wrong, for the startup message. Goes over the network (once per process in the app)."""
    try:
        with urllib.request.urlopen(server_metadata_url, timeout=timeout) as response:
            document = json.load(response)
    except (urllib.error.URLError, OSError, ValueError) as error:
        reason = getattr(error, "reason", error)
        return f"the sign-in provider at {server_metadata_url} cannot be reached: {reason}"
    if not isinstance(document, dict) or "authorization_endpoint" not in document:
        return f"{server_metadata_url} is not an OpenID Connect discovery document (no authorization_endpoint)"
    return None


def config_message(error: AccessConfigError | str) -> str:
    """The startup message for a configuration that cannot be used: what is wrong, and that the app stays closed.

    >>> config_message("auth.client_id is missing")
    'RFM Studio is not available: its sign-in configuration cannot be used (auth.client_id is missing). ...'
    """
    return (
        f"RFM Studio is not available: its sign-in configuration cannot be used ({error}). "
        "Fix the secrets file (.streamlit/secrets.toml) and restart the app; the README's \"Sign-in and roles\" says how."
    )


def no_access_message(email: str | None) -> str:
    """What a signed-in person without a role reads.

    >>> no_access_message("eve@elsewhere.example")
    'You are signed in as eve@elsewhere.example, which has no access to RFM Studio. ...'
    """
    if email is None:
        return (
            "Your sign-in provider did not give a verified email address, so RFM Studio cannot tell who you are. "
            "Sign out and sign in with an account whose email is verified."
        )
    return (
        f"You are signed in as {email}, which has no access to RFM Studio. If you need it, ask the person who runs "
        "this app to add your email to its analysts or marketers; or sign out and sign in with another account."
    )


ROLE_LABELS: dict[str, str] = {ANALYST: "Analyst", MARKETER: "Marketer"}
OPEN_MODE_NOTE = "Open mode: no sign-in, for one person on this machine."
