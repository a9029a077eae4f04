"""Showing what went wrong: bad input as one message where it belongs, a bug as a short apology with a reference."""

from __future__ import annotations

import secrets
from collections.abc import Callable
from typing import TypeVar

import streamlit as st

from rfm.errors import RFMInputError

T = TypeVar("T")


def apologise(error: BaseException) -> None:
    """An unexpected error: the detail goes to the server log under a reference, the user gets a short
    apology with that reference and what to do next (never a stack trace). The rest of the app stays usable."""

    from streamlit.logger import get_logger

    reference = secrets.token_hex(4).upper()
    get_logger("rfm_studio").error("Unexpected error, reference %s", reference, exc_info=error)
    st.error(
        f"Sorry, something went wrong on our side and this part of the page could not be shown. Your file and "
        f"choices are kept: try again, change a setting, or open another page. If it happens again, please "
        f"quote reference **{reference}** (the details are in the server's log).",
        icon=":material/build:",
    )


def safely(function: Callable[[], None]) -> Callable[[], None]:
    """Wrap a page part (a fragment reruns on its own, outside the page's own guard) in :func:`apologise`."""

    def run() -> None:
        try:
            function()
        except Exception as error:  # StopException and RerunException are BaseExceptions: they pass
            apologise(error)

    run.__name__, run.__doc__ = function.__name__, function.__doc__
    return run


def guarded(action: Callable[[], T], too_little_data: bool = False) -> T:
    """Run ``action``; on bad input show the one clear message and stop the page (no traceback).

    ``too_little_data``: the file is fine but too small or too short for this page (a model needs more
    customers, a comparison needs two dates), so the message is a warning, not an error."""
    try:
        return action()
    except RFMInputError as exc:
        _show_input_error(exc, too_little_data)
        st.stop()
        raise  # st.stop() raises; this keeps type checkers honest


def shown_or_none(action: Callable[[], T], too_little_data: bool = False) -> T | None:
    """Run ``action``; on bad input show the message where it belongs (a tab, a panel) and return ``None``, so the
    rest of the page still shows. :func:`guarded` stops the page instead."""
    try:
        return action()
    except RFMInputError as exc:
        _show_input_error(exc, too_little_data)
        return None


def _show_input_error(error: RFMInputError, too_little_data: bool) -> None:
    (st.warning if too_little_data else st.error)(str(error), icon=":material/warning:")
