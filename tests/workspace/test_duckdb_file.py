"""What can go wrong with the DuckDB file itself: not a database, read-only, a folder that cannot be made."""

from __future__ import annotations

import os
import re

import pytest

from rfm.errors import RFMInputError
from rfm.workspace import Workspace
from tests.workspace.frames import labelled_frame
from tests.workspace.test_store import one_sentence, publish


def test_a_file_that_is_not_a_workspace_is_refused_and_kept(tmp_path):
    path = tmp_path / "notes.duckdb"
    path.write_bytes(b"Customer,Amount\n1,10\n" * 100)
    before = path.read_bytes()
    with pytest.raises(RFMInputError, match=f"The workspace {re.escape(str(path))} cannot be opened: ") as raised:
        Workspace.open(path)
    assert one_sentence(str(raised.value)) and path.read_bytes() == before


def test_publishing_to_a_read_only_workspace_is_one_sentence(tmp_path):
    path = tmp_path / "rfm.duckdb"
    with Workspace.open(path) as workspace:
        kept = publish(workspace, "Kept", labelled_frame(3))
    with Workspace.open(f"duckdb:///{path}?access_mode=read_only") as workspace:
        assert workspace.runs()["run_id"].tolist() == [kept.run_id]  # reading works
        with pytest.raises(RFMInputError, match=r"Publishing the run 'New' in the workspace .* failed, and nothing was changed: ") as raised:
            publish(workspace, "New", labelled_frame(3))
    assert one_sentence(str(raised.value))


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes read-only files anyway")
def test_a_read_only_file_is_one_sentence(tmp_path):
    path = tmp_path / "rfm.duckdb"
    Workspace.open(path).close()
    path.chmod(0o444)
    with pytest.raises(RFMInputError, match=r"cannot be opened|failed") as raised, Workspace.open(path) as workspace:
        publish(workspace, "New", labelled_frame(3))
    assert one_sentence(str(raised.value))


def test_a_server_that_does_not_answer_is_one_sentence():
    with pytest.raises(RFMInputError, match=r"The workspace postgresql\+psycopg://rfm:\*\*\*@127.0.0.1:1/rfm cannot be opened: ") as raised:
        Workspace.open("postgresql://rfm:secret@127.0.0.1:1/rfm")
    assert one_sentence(str(raised.value)) and "secret" not in str(raised.value)


def test_sessions_opening_a_new_workspace_at_once_all_get_it(tmp_path):
    """Browser users arriving together open a workspace nobody made yet: they conflict on creating the tables, and
    every one of them ends up with it (one set of tables, one version)."""
    import threading

    from rfm.workspace import SCHEMA_VERSION, Workspace, workspace_url

    url = workspace_url(tmp_path / "new.duckdb")
    errors, opened = [], []
    start = threading.Barrier(8)

    def open_it():
        start.wait()
        try:
            with Workspace.open(url) as workspace:
                opened.append(len(workspace.runs()))
        except Exception as error:  # any failure is the test's answer
            errors.append(error)

    threads = [threading.Thread(target=open_it) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == [] and opened == [0] * 8
    with Workspace.open(url) as workspace:
        from sqlalchemy import text

        with workspace.engine.connect() as connection:
            assert connection.execute(text("SELECT value FROM rfm_meta")).scalars().all() == [str(SCHEMA_VERSION)]
