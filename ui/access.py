"""Sign-in and roles on the Streamlit side: read the secrets, ask the provider once, say who is signed in.

The rules (what the secrets mean, who holds which role, the messages) are ``rfm.access``; this module only reads
``st.secrets`` and ``st.user``, calls ``st.login``/``st.logout`` and draws the pages a person sees instead of the
app: the sign-in page, the no-access page and the configuration message. The entry script calls
:func:`who_enters` on every run and builds its navigation from the answer: pages never decide by themselves.
"""

from __future__ import annotations

import functools
import importlib.util
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

import streamlit as st

from rfm import access as rules

OPEN: Literal["open"] = "open"  # no [auth]: one person on their own machine, every page
ANALYST, MARKETER = rules.ANALYST, rules.MARKETER


@dataclass(frozen=True)
class Entry:
    """What this run may show: a ``role`` (``"open"``, ``"analyst"`` or ``"marketer"``) and the app's pages for it,
    or no role and the one ``page`` drawn instead (sign in, no access, or a configuration to fix)."""

    role: str | None
    page: Callable[[], None] | None = None
    email: str | None = None


def _secrets() -> dict[str, Any]:
    """The secrets as a plain dict; ``{}`` when there is no secrets file. A file that exists but cannot be parsed
    raises :class:`rfm.access.AccessConfigError`: a broken file must not open an app meant to need sign-in."""
    from streamlit.errors import StreamlitSecretNotFoundError

    try:
        return st.secrets.to_dict()
    except StreamlitSecretNotFoundError as error:
        if getattr(error, "error_id", None) == "no-secrets-found":
            return {}
        raise rules.AccessConfigError(str(error)) from error


def current_access() -> rules.Access:
    """The app's access settings from its secrets; raises :class:`rfm.access.AccessConfigError` when unusable."""
    return rules.access_from_secrets(_secrets())


@functools.cache
def provider_problem(server_metadata_url: str) -> str | None:
    """:func:`rfm.access.provider_problem`, asked once per process (a restart asks again)."""
    return rules.provider_problem(server_metadata_url)


@functools.cache
def _log_once(message: str) -> None:
    from streamlit.logger import get_logger

    get_logger("rfm_studio").error(message)  # the same logger as ui.errors: the server's log


def _claims() -> dict[str, Any]:
    """The signed-in person's claims (``is_logged_in`` false or absent: nobody is signed in)."""
    claims = st.user.to_dict()
    return claims if claims.get("is_logged_in") else {}


def signed_in_email() -> str | None:
    """The signed-in person's (verified) email, lowercase; ``None`` in open mode or when nobody is signed in."""
    try:
        if not current_access().signin:
            return None
    except rules.AccessConfigError:
        return None
    claims = _claims()
    return rules.trusted_email(claims) if claims else None


def who_enters() -> Entry:
    """Decide, for this run, what the person may see (see :class:`Entry`); call once per run, before navigation."""
    try:
        access = current_access()
    except rules.AccessConfigError as error:
        return _closed(rules.config_message(error))
    if not access.signin:
        return Entry(role=OPEN)
    if importlib.util.find_spec("authlib") is None:  # st.login would fail at the first click
        return _closed(rules.config_message("sign-in needs the Authlib package: pip install -r requirements.txt"))
    problem = provider_problem(access.server_metadata_url)
    if problem is not None:
        return _closed(rules.config_message(problem))
    claims = _claims()
    if not claims:
        return Entry(role=None, page=sign_in_page)
    email = rules.trusted_email(claims)
    role = rules.role_for(email, access.roles)
    if role is None:
        return Entry(role=None, page=functools.partial(no_access_page, email), email=email)
    return Entry(role=role, email=email)


def _closed(message: str) -> Entry:
    _log_once(message)
    return Entry(role=None, page=functools.partial(configuration_page, message))


def sign_in_page() -> None:
    st.title("RFM Studio")
    st.write("Sign in with your organisation's account to open RFM Studio.")
    if st.button("Sign in", type="primary", icon=":material/login:", key="sign_in"):
        st.login()


def no_access_page(email: str | None) -> None:
    st.title("No access")
    st.warning(rules.no_access_message(email), icon=":material/block:")
    if st.button("Sign out", icon=":material/logout:", key="no_access_sign_out"):
        st.logout()


def configuration_page(message: str) -> None:
    st.title("RFM Studio")
    st.error(message, icon=":material/error:")


def show_gate(entry: Entry) -> None:
    """Draw ``entry``'s page as the only page: no menu, no sidebar, whatever the URL asked for."""
    assert entry.page is not None
    page = st.Page(entry.page, title="RFM Studio", icon=":material/lock:", url_path="welcome", default=True)
    st.navigation([page], position="hidden").run()


def sidebar_identity(entry: Entry) -> None:
    """One line in the sidebar: who is signed in and as what (with a sign-out button), or that the app is open."""
    if entry.role == OPEN:
        st.sidebar.caption(rules.OPEN_MODE_NOTE)
        return
    label = rules.ROLE_LABELS.get(entry.role or "", entry.role)
    st.sidebar.caption(f"Signed in as **{entry.email}** · {label}")
    if st.sidebar.button("Sign out", icon=":material/logout:", key="sign_out"):
        st.logout()
