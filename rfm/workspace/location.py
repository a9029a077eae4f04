"""Where the workspace is: a database URL from the ``--workspace`` option, ``RFM_WORKSPACE_URL``, ``RFM_WORKSPACE``
(a file path) or the default file ``workspace/rfm.duckdb``."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError

from rfm.errors import RFMInputError

#: The workspace file used when nothing names another (relative to the working folder; git-ignored).
DEFAULT_PATH = Path("workspace") / "rfm.duckdb"
URL_VARIABLE = "RFM_WORKSPACE_URL"
PATH_VARIABLE = "RFM_WORKSPACE"
# "postgresql://" alone means psycopg2 to SQLAlchemy; psycopg (3) is the driver installed with RFM Studio.
_DRIVERS = {"postgresql": "postgresql+psycopg", "postgres": "postgresql+psycopg", "duckdb": "duckdb"}


def workspace_url(workspace: str | Path | URL | None = None, environ: Mapping[str, str] | None = None) -> URL:
    """The SQLAlchemy URL of the workspace.

    Parameters
    ----------
    workspace : str, Path or URL, optional
        A database URL (``postgresql://user:password@host/db``, ``duckdb:///path``, or a URL this function returned)
        or a file path, as given to ``--workspace``. When ``None``, ``RFM_WORKSPACE_URL``, then ``RFM_WORKSPACE``, then
        :data:`DEFAULT_PATH`.
    environ : mapping, optional
        The environment to read (``os.environ`` when ``None``).

    Returns
    -------
    URL
        ``duckdb:///<absolute path>`` for a file, whose folder is created; ``postgresql+psycopg://...`` for
        PostgreSQL.

    Raises
    ------
    RFMInputError
        The URL cannot be read, or names a database other than DuckDB or PostgreSQL.
    """
    env = os.environ if environ is None else environ
    given = workspace if workspace is not None else env.get(URL_VARIABLE) or env.get(PATH_VARIABLE) or DEFAULT_PATH
    # A URL object prints its password as ***: render it in full to read it back.
    text = given.render_as_string(hide_password=False) if isinstance(given, URL) else str(given)
    if "://" not in text:
        return _file_url(Path(text))
    try:
        url = make_url(text)
    except ArgumentError:
        raise RFMInputError(f"The workspace URL {text!r} cannot be read: write it as postgresql://user:password@host/database.") from None
    driver = _DRIVERS.get(url.drivername.split("+")[0])
    if driver is None:
        raise RFMInputError(f"The workspace URL names {url.drivername!r}: RFM Studio stores runs in DuckDB or PostgreSQL.")
    if driver == "duckdb" and url.database and url.database != ":memory:":
        return _file_url(Path(url.database), url.query)
    return url.set(drivername=url.drivername if "+" in url.drivername else driver)


def _file_url(path: Path, query: Mapping[str, str | tuple[str, ...]] | None = None) -> URL:
    path = path.expanduser().absolute()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise RFMInputError(f"The workspace folder {str(path.parent)!r} cannot be created: {error.strerror}.") from None
    return URL.create("duckdb", database=str(path), query=query or {})


def describe_url(url: URL) -> str:
    """The workspace as a user knows it: the file path for DuckDB, the URL without its password for a server."""
    if url.get_backend_name() == "duckdb":
        return str(url.database)
    return url.render_as_string(hide_password=True)
