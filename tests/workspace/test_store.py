"""The workspace store (rfm.workspace.store), run on both stores: a DuckDB file and a real PostgreSQL server.

What goes in comes back (every column type, missing values, the run's settings, ledger and model); publishing is
append-only and newest first; archiving hides a run and keeps it; a newer schema is refused and left unchanged; a
publish that fails leaves nothing; two threads publishing at once both land whole.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import threading
from pathlib import Path

import pandas as pd
import pytest
from sqlalchemy import create_engine, func, inspect, select, text, update

from rfm import schema
from rfm.cleaning.analyse import analyse_file
from rfm.errors import RFMInputError
from rfm.outputs.lists import LABELLED_COLUMNS
from rfm.segment_run import segment_run
from rfm.workspace import SCHEMA_VERSION, Workspace, workspace_url
from rfm.workspace.tables import COLUMN_TYPES, CUSTOMER_COLUMNS, TEXT_COLUMNS, meta, run_customers, runs
from tests.workspace.frames import labelled_frame

ROWS = [
    ("1", "007", "2024-01-10 10:00", 1, 10.0, "UK", "a@example.com"),
    ("2", "007", "2024-03-15 12:00", 2, 10.0, "UK", "a@example.com"),
    ("3", "B", "2024-01-05 12:00", 1, 50.0, "France", None),
    ("4", "C", "2024-02-03 12:00", 1, 25.0, "UK", "c@example.com"),
    ("5", "C", "2024-06-01 12:00", 1, 35.0, "UK", "c@example.com"),
    ("6", "D", "2024-04-15 12:00", 3, 20.0, "Spain", None),
    ("7", "D", "2024-06-25 12:00", 1, 10.0, "Spain", None),
    ("8", "E", "2024-03-20 12:00", 1, 45.0, "UK", "e@example.com"),
    ("9", "F", "2024-06-30 12:00", 2, 6.0, "France", None),
]
SETTINGS = {"scores": 5, "k": 2, "cut": "2024-06-30"}
LEDGER = [{"rule": "missing customer id", "rows": 3}, {"rule": "returns", "rows": 1}]


def publish(workspace: Workspace, name: str, labelled: pd.DataFrame, **changes) -> object:
    arguments = dict(
        published_by="ana", source_file="orders.csv", source_digest="sha256:ab12", rows_read=12, revenue=297.5,
        settings=SETTINGS, ledger=LEDGER, model_json='{"k": 2}',
    )
    return workspace.publish(name, labelled, **{**arguments, **changes})


def one_sentence(message: str) -> bool:
    return "\n" not in message and message.endswith(".") and "Traceback" not in message


@pytest.fixture
def workspace(store_url):
    with Workspace.open(store_url) as opened:
        yield opened


@pytest.fixture(scope="module")
def run_labelled():
    frame = pd.DataFrame(ROWS, columns=["Invoice", "Customer ID", "InvoiceDate", "Quantity", "Price", "Country", "Email"])
    return segment_run(analyse_file(frame.to_csv(index=False).encode("utf-8"), "nine.csv"), k=2).labelled


def count(workspace: Workspace, table) -> int:
    with workspace.engine.connect() as connection:
        return connection.execute(select(func.count()).select_from(table)).scalar_one()


# ------------------------------------------------------------------------------------------------ round trips


@pytest.mark.slow  # a whole segmentation run first
def test_a_real_run_comes_back_as_published(workspace, run_labelled):
    info = publish(workspace, "Spring", run_labelled)
    back = workspace.customers(info.run_id)
    assert list(back.columns) == list(run_labelled.columns) and back.index.name == schema.CUSTOMER_ID
    assert "007" in back.index  # leading zeros kept
    pd.testing.assert_frame_equal(back, run_labelled.sort_index(), check_dtype=False)
    assert back[schema.LIFECYCLE_STAGE].dtype == run_labelled[schema.LIFECYCLE_STAGE].dtype


def test_every_column_type_and_missing_value_comes_back(workspace):
    labelled = labelled_frame(60)
    info = publish(workspace, "Every type", labelled)
    back = workspace.customers(info.run_id)
    pd.testing.assert_frame_equal(back, labelled)  # dtypes too: str, int64, Int64, float64, datetime64[us], category
    assert back[schema.PHONE].isna().all() and back[schema.EXPECTED_NEXT_ORDER].isna().sum() == 12


def test_the_movement_columns_come_back(workspace):
    labelled = labelled_frame(4).assign(
        previous_segment=pd.array(["Champions", None, "Lost", "New"], dtype="str"),
        segment_changed_on=pd.to_datetime(["2025-01-03", None, "2025-02-01", "2024-12-31"]).astype("datetime64[us]"),
        direction=pd.array(["up", None, "down", "same"], dtype="str"),
        p_alive_change=[0.25, float("nan"), -0.5, 0.0],
    )
    info = publish(workspace, "Moves", labelled)
    pd.testing.assert_frame_equal(workspace.customers(info.run_id), labelled)


def test_the_run_record_comes_back_whole(workspace):
    moment = dt.datetime(2025, 3, 1, 9, 30, tzinfo=dt.timezone(dt.timedelta(hours=2)))
    labelled = labelled_frame(6)
    info = publish(workspace, "Spring", labelled, published_at=moment)
    stored = workspace.run(info.run_id)
    assert stored == info
    assert stored.published_at == moment and stored.published_at.tzinfo == dt.UTC
    assert (stored.settings, stored.ledger, stored.model_json) == (SETTINGS, LEDGER, '{"k": 2}')
    assert (stored.customers, stored.rows_read, stored.revenue, stored.archived) == (6, 12, 297.5, False)
    assert stored.columns == tuple(labelled.columns)


def test_an_unknown_run_is_named(workspace):
    with pytest.raises(RFMInputError, match="has no run 'nope'"):
        workspace.customers("nope")


# ------------------------------------------------------------------------------------- append-only, archive


def test_publishing_a_name_again_keeps_both_runs(workspace):
    first = publish(workspace, "Weekly", labelled_frame(10, seed=1), published_at=dt.datetime(2025, 1, 1))
    second = publish(workspace, "Weekly", labelled_frame(12, seed=2), published_at=dt.datetime(2025, 1, 8))
    assert workspace.runs("Weekly")["run_id"].tolist() == [second.run_id, first.run_id]
    assert len(workspace.customers(first.run_id)) == 10 and len(workspace.customers(second.run_id)) == 12
    assert workspace.latest("Weekly") == second
    assert workspace.previous("Weekly", second.run_id) == first
    assert workspace.previous("Weekly", first.run_id) is None


def test_runs_are_listed_newest_first(workspace):
    days = [dt.datetime(2025, 1, day) for day in (5, 1, 9)]
    infos = [publish(workspace, f"Run {day.day}", labelled_frame(3), published_at=day) for day in days]
    listed = workspace.runs()
    assert listed["name"].tolist() == ["Run 9", "Run 5", "Run 1"]
    assert listed.columns.tolist() == ["run_id", "name", "published_at", "published_by", "source_file", "customers", "revenue", "archived"]
    assert listed["published_at"].iloc[0] == pd.Timestamp("2025-01-09", tz="UTC")
    assert set(listed["run_id"]) == {info.run_id for info in infos}


def test_an_archived_run_leaves_the_list_and_stays_stored(workspace):
    first = publish(workspace, "Weekly", labelled_frame(4), published_at=dt.datetime(2025, 1, 1))
    second = publish(workspace, "Weekly", labelled_frame(5), published_at=dt.datetime(2025, 1, 8))
    archived = workspace.archive(second.run_id)
    assert archived.archived and workspace.runs()["run_id"].tolist() == [first.run_id]
    assert workspace.runs(include_archived=True)["archived"].tolist() == [True, False]
    assert workspace.latest("Weekly") == first
    assert len(workspace.customers(second.run_id)) == 5


def test_an_empty_list_is_a_run_with_no_customers(workspace):
    info = publish(workspace, "Empty", labelled_frame(0))
    assert workspace.customers(info.run_id).empty and workspace.run(info.run_id).customers == 0


# -------------------------------------------------------------------------------------------- refusals


def test_a_column_the_workspace_does_not_know_is_refused(workspace):
    labelled = labelled_frame(3).assign(loyalty_points=1)
    with pytest.raises(RFMInputError, match=r"no place for 1 column\(s\) of the customer list: 'loyalty_points'"):
        publish(workspace, "Spring", labelled)
    assert workspace.runs().empty


def test_a_run_without_a_name_is_refused(workspace):
    with pytest.raises(RFMInputError, match="needs a name"):
        publish(workspace, "  ", labelled_frame(3))


def test_a_failure_mid_publish_leaves_no_run(workspace):
    kept = publish(workspace, "Kept", labelled_frame(5))
    broken = labelled_frame(6).astype({schema.RECENCY: object})
    broken.loc[broken.index[-1], schema.RECENCY] = "yesterday"  # no whole number: the customers' insert fails
    with pytest.raises(RFMInputError, match=r"Publishing the run 'Broken' in the workspace .* failed, and nothing was changed") as raised:
        publish(workspace, "Broken", broken)
    assert one_sentence(str(raised.value))
    assert workspace.runs()["run_id"].tolist() == [kept.run_id]
    assert count(workspace, runs) == 1 and count(workspace, run_customers) == 5


def test_a_customer_twice_is_refused(workspace):
    labelled = labelled_frame(4)
    labelled.index = pd.Index(["1", "2", "007", "007"], name=schema.CUSTOMER_ID)
    with pytest.raises(RFMInputError, match="holds 1 repeated customer id\\(s\\), the first '007': a run has one row per customer"):
        publish(workspace, "Twice", labelled)
    assert workspace.runs().empty


def _snapshot(url: str, path: Path | None) -> object:
    """What a refused open must leave alone: the file's bytes (DuckDB), or every table and the stored version."""
    if path is not None:
        return hashlib.sha256(path.read_bytes()).hexdigest()
    engine = create_engine(workspace_url(url))
    with engine.connect() as connection:
        state = (sorted(inspect(connection).get_table_names()), connection.execute(select(meta)).all())
    engine.dispose()
    return state


def test_a_newer_schema_version_is_refused_and_left_unchanged(store_url):
    Workspace.open(store_url).close()
    engine = create_engine(workspace_url(store_url))
    with engine.begin() as connection:
        connection.execute(update(meta).values(value=str(SCHEMA_VERSION + 1)))
        connection.execute(text("DROP TABLE run_customers"))  # a newer version may have other tables
    engine.dispose()
    path = Path(workspace_url(store_url).database) if store_url.startswith("duckdb") else None
    before = _snapshot(store_url, path)
    refusal = (
        rf"newer RFM Studio \(schema version {SCHEMA_VERSION + 1}; this version reads up to {SCHEMA_VERSION}\): "
        "update RFM Studio, the workspace is left unchanged"
    )
    with pytest.raises(RFMInputError, match=refusal) as raised:
        Workspace.open(store_url)
    assert one_sentence(str(raised.value))
    assert _snapshot(store_url, path) == before


def test_a_version_1_workspace_gains_the_audience_tables_and_keeps_its_runs(store_url):
    with Workspace.open(store_url) as workspace:
        info = publish(workspace, "Spring", labelled_frame(7))
    engine = create_engine(workspace_url(store_url))
    with engine.begin() as connection:  # as version 1 left it: no audience tables
        connection.execute(text("DROP TABLE audience_members"))
        connection.execute(text("DROP TABLE audiences"))
        connection.execute(update(meta).values(value="1"))
    engine.dispose()
    with Workspace.open(store_url) as workspace:
        assert workspace.runs()["run_id"].tolist() == [info.run_id]
        assert workspace.audiences().empty
    engine = create_engine(workspace_url(store_url))
    with engine.connect() as connection:
        assert {"audiences", "audience_members"} <= set(inspect(connection).get_table_names())
        assert connection.execute(select(meta.c.value)).scalars().all() == [str(SCHEMA_VERSION)]
    engine.dispose()


def test_reopening_keeps_the_runs(store_url):
    with Workspace.open(store_url) as workspace:
        info = publish(workspace, "Spring", labelled_frame(7))
    with Workspace.open(store_url) as workspace:
        assert workspace.runs()["run_id"].tolist() == [info.run_id] and len(workspace.customers(info.run_id)) == 7


# ------------------------------------------------------------------------------------------- concurrency


@pytest.mark.slow
@pytest.mark.parametrize("sessions", ["one workspace", "two workspaces"])
def test_two_threads_publishing_at_once_both_land_whole(store_url, sessions):
    first = Workspace.open(store_url)
    second = first if sessions == "one workspace" else Workspace.open(store_url)
    sizes = {"North": 3000, "South": 4000}
    barrier, published, errors = threading.Barrier(2), {}, []

    def publish_one(workspace: Workspace, name: str) -> None:
        barrier.wait()
        try:
            published[name] = publish(workspace, name, labelled_frame(sizes[name], seed=len(name)))
        except Exception as error:  # reported below, with the other thread's result
            errors.append(error)

    threads = [threading.Thread(target=publish_one, args=pair) for pair in ((first, "North"), (second, "South"))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    try:
        assert errors == []
        assert sorted(first.runs()["name"]) == ["North", "South"]
        for name, info in published.items():
            pd.testing.assert_frame_equal(first.customers(info.run_id), labelled_frame(sizes[name], seed=len(name)))
    finally:
        first.close()
        second.close()


# ---------------------------------------------------------------------------------------- the tables


def test_every_labelled_column_has_a_stored_type():
    """A new labelled column must be given a type here (and a new schema version), not fall to text by accident."""
    assert [column for column in LABELLED_COLUMNS if column not in COLUMN_TYPES and column not in TEXT_COLUMNS] == []
    assert set(CUSTOMER_COLUMNS) <= set(run_customers.c.keys())


def test_money_and_probabilities_keep_every_digit(workspace):
    # Stored as 8-byte doubles on both stores: a 4-byte float would turn 1,279,533.03 into 1,279,533.0.
    labelled = pd.DataFrame(
        {schema.MONETARY: [1_279_533.03, 0.1 + 0.2], schema.P_ALIVE: [0.123456789012345, 1e-12]},
        index=pd.Index(["1", "2"], name=schema.CUSTOMER_ID),
    )
    info = publish(workspace, "Digits", labelled, revenue=1_279_533.03)
    assert workspace.run(info.run_id).revenue == 1_279_533.03
    back = workspace.customers(info.run_id)
    assert back[schema.MONETARY].tolist() == [1_279_533.03, 0.1 + 0.2]
    assert back[schema.P_ALIVE].tolist() == [0.123456789012345, 1e-12]


def test_an_audience_and_its_control_group_are_stored_and_read_back(store_url):
    from rfm.audiences.control import hold_out

    with Workspace.open(store_url) as workspace:
        info = publish(workspace, "Spring", labelled_frame(50))
        held = hold_out(workspace.customers(info.run_id).index, 0.2, seed=9)
        audience = workspace.save_audience(
            info.run_id, held, label="Win-back", created_by="mark@example.com", split=schema.SEGMENT_NAME,
            segments=["At risk", "Champions"], movement="entered", control_share=0.2, seed=9,
        )
        assert (audience.customers, audience.held_back) == (50, 10)
        listed = workspace.audiences()
        assert listed.to_dict("records")[0] | {"created_at": None} == {
            "audience_id": audience.audience_id, "run_id": info.run_id, "name": "Spring", "label": "Win-back",
            "created_at": None, "created_by": "mark@example.com", "customers": 50, "held_back": 10, "control_share": 0.2,
        }
        assert workspace.audiences("Autumn").empty
        assert workspace.audience(audience.audience_id) == audience
        assert workspace.audience_members(audience.audience_id).equals(held.sort_index())
        with pytest.raises(RFMInputError, match="has no audience 'nope'"):
            workspace.audience("nope")
        with pytest.raises(RFMInputError, match="has no run 'nope'"):
            workspace.save_audience("nope", held, label="x", created_by="x", split="x", segments=[], movement="all",
                                    control_share=0.2, seed=1)
        assert len(workspace.audiences()) == 1
