"""Fixtures every test folder may use: builders of input files (built in the tests, no binary fixtures in git) and a
runner for ``python -m rfm``. Builders are fixtures that hand back a function; the functions themselves live in
``tests/support/builders.py``.

Markers (``make check`` runs none of them; ``make test`` and CI run everything):
    browser  a real Chromium driven by Playwright (tests/browser)
    spark    the Spark engine (tests/spark)
    slow     over about half a second: the app headless, the command line in a subprocess, corpus and fuzz runs,
             whole workbooks
"""

from __future__ import annotations

import os

import pytest

from tests.support.builders import encrypted_xlsx_bytes, ods_bytes, run_cli_all, xls_bytes, xlsx_bytes
from tests.support.stores import postgres_url, store_url  # noqa: F401 (fixtures: a workspace on DuckDB, on PostgreSQL)


@pytest.fixture(scope="session", autouse=True)
def _workspace_of_the_tests(tmp_path_factory):
    """No test publishes to the user's workspace (``workspace/rfm.duckdb``): the app pages, the commands and anything
    else that opens the default workspace get a file of this test session's own."""
    previous = os.environ.get("RFM_WORKSPACE")
    os.environ["RFM_WORKSPACE"] = str(tmp_path_factory.mktemp("workspace") / "rfm.duckdb")
    yield
    if previous is None:
        os.environ.pop("RFM_WORKSPACE", None)
    else:
        os.environ["RFM_WORKSPACE"] = previous


@pytest.fixture(scope="session")
def cli():
    return run_cli_all


@pytest.fixture(scope="session")
def make_xlsx():
    return xlsx_bytes


@pytest.fixture(scope="session")
def make_ods():
    return ods_bytes


@pytest.fixture(scope="session")
def make_xls():
    return xls_bytes


@pytest.fixture(scope="session")
def locked_xlsx() -> bytes:
    return encrypted_xlsx_bytes()
