"""The stores every workspace test (tests/workspace, the workspace commands) runs on, as fixtures the root conftest
registers: a DuckDB file in the test's folder, and a real PostgreSQL server.

PostgreSQL is ``RFM_TEST_POSTGRES_URL`` (default ``postgresql://rfm:rfm@127.0.0.1:5432/rfm``); each test gets a
schema of its own (through ``search_path``), dropped afterwards. Without a server the PostgreSQL tests skip with the
reason, except when ``RFM_REQUIRE_POSTGRES=1`` (CI, where ``.ci/run`` starts one): then they fail.
"""

from __future__ import annotations

import os
import uuid
from functools import cache

import pytest
from sqlalchemy import create_engine, make_url, text

POSTGRES_URL = os.environ.get("RFM_TEST_POSTGRES_URL", "postgresql://rfm:rfm@127.0.0.1:5432/rfm")


def _admin_url():
    return make_url(POSTGRES_URL).set(drivername="postgresql+psycopg")


@cache
def postgres_unavailable() -> str | None:
    """Why PostgreSQL cannot be used here, or None when it answers."""
    try:
        engine = create_engine(_admin_url(), connect_args={"connect_timeout": 3})
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
        engine.dispose()
    except Exception as error:  # any reason at all: the tests say which
        return f"no PostgreSQL at {make_url(POSTGRES_URL).render_as_string(hide_password=True)}: {str(error).splitlines()[0]}"
    return None


@pytest.fixture
def postgres_url():
    """A PostgreSQL URL whose tables live in a fresh schema, dropped when the test ends."""
    reason = postgres_unavailable()
    if reason:
        if os.environ.get("RFM_REQUIRE_POSTGRES") == "1":
            pytest.fail(f"RFM_REQUIRE_POSTGRES=1 but {reason}")
        pytest.skip(reason)
    name = f"rfm_test_{uuid.uuid4().hex[:12]}"
    engine = create_engine(_admin_url())
    with engine.begin() as connection:
        connection.execute(text(f'CREATE SCHEMA "{name}"'))
    url = make_url(POSTGRES_URL).update_query_dict({"options": f"-csearch_path={name}"})
    yield url.render_as_string(hide_password=False)
    with engine.begin() as connection:
        connection.execute(text(f'DROP SCHEMA "{name}" CASCADE'))
    engine.dispose()


@pytest.fixture(params=["duckdb", "postgresql"])
def store_url(request, tmp_path):
    """The workspace URL of each store in turn: a DuckDB file in ``tmp_path``, then a PostgreSQL schema."""
    if request.param == "duckdb":
        return f"duckdb:///{tmp_path / 'workspace' / 'rfm.duckdb'}"
    return request.getfixturevalue("postgres_url")
