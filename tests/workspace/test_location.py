"""Where the workspace is (rfm.workspace.location): the option, then RFM_WORKSPACE_URL, RFM_WORKSPACE, the default."""

from __future__ import annotations

from pathlib import Path

import pytest

from rfm.errors import RFMInputError
from rfm.workspace import describe_url, workspace_url


def test_the_default_is_a_duckdb_file_in_workspace(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    url = workspace_url(environ={})
    assert url.drivername == "duckdb" and url.database == str(tmp_path / "workspace" / "rfm.duckdb")
    assert (tmp_path / "workspace").is_dir()


def test_the_url_variable_wins_over_the_path_variable(tmp_path):
    environ = {"RFM_WORKSPACE_URL": "postgresql://rfm:pw@db.example/rfm", "RFM_WORKSPACE": str(tmp_path / "x.duckdb")}
    url = workspace_url(environ=environ)
    assert url.drivername == "postgresql+psycopg" and url.host == "db.example"
    assert describe_url(url) == "postgresql+psycopg://rfm:***@db.example/rfm"


def test_the_path_variable_names_a_file_and_makes_its_folder(tmp_path):
    url = workspace_url(environ={"RFM_WORKSPACE": str(tmp_path / "team" / "runs.duckdb")})
    assert url.database == str(tmp_path / "team" / "runs.duckdb") and (tmp_path / "team").is_dir()


def test_the_option_wins_over_the_environment(tmp_path):
    url = workspace_url(tmp_path / "mine.duckdb", environ={"RFM_WORKSPACE_URL": "postgresql://db/rfm"})
    assert Path(url.database) == tmp_path / "mine.duckdb"


def test_another_database_is_refused():
    with pytest.raises(RFMInputError, match="names 'mysql': RFM Studio stores runs in DuckDB or PostgreSQL"):
        workspace_url("mysql://db/rfm")


def test_a_url_given_back_keeps_its_password():
    url = workspace_url("postgresql://rfm:s3cret@127.0.0.1:5432/rfm", environ={})
    assert workspace_url(url, environ={}).password == "s3cret"
    assert describe_url(workspace_url(url, environ={})) == "postgresql+psycopg://rfm:***@127.0.0.1:5432/rfm"
