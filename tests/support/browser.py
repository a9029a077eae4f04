"""Skipping browser tests: cleanly on a user's machine, never in CI (``RFM_REQUIRE_BROWSER=1``)."""

from __future__ import annotations

import os

import pytest

REQUIRE_BROWSER = os.environ.get("RFM_REQUIRE_BROWSER") == "1"


def unavailable(reason: str) -> None:
    """Skip, or fail when the environment promises a browser (CI sets RFM_REQUIRE_BROWSER=1)."""
    if REQUIRE_BROWSER:
        pytest.fail(f"RFM_REQUIRE_BROWSER=1 but {reason}", pytrace=False)
    pytest.skip(f"{reason} (set RFM_REQUIRE_BROWSER=1 to make this a failure)")
