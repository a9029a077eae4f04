"""The workspace store: publish a run once (one transaction), list runs, read a run's customers back, archive a run.

The same code runs on an embedded DuckDB file and on a PostgreSQL server, through SQLAlchemy Core
(:mod:`rfm.workspace.tables`). Every failure of the database (a file that is not a workspace, a read-only file, a full
disk, a server that does not answer, two sessions colliding) reaches the caller as one :class:`rfm.errors.RFMInputError`
sentence; a publish that fails leaves nothing behind.
"""

from __future__ import annotations

import datetime as dt
import json
import random
import time
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

import pandas as pd
from sqlalchemy import BigInteger, Connection, Date, DateTime, Double, Engine, create_engine, inspect, select, update
from sqlalchemy.exc import DBAPIError, SQLAlchemyError

from rfm import schema
from rfm.errors import RFMInputError
from rfm.workspace.location import describe_url, workspace_url
from rfm.workspace.tables import (
    COLUMN_TYPES,
    CUSTOMER_COLUMNS,
    SCHEMA_VERSION,
    VERSION_KEY,
    audience_members,
    audiences,
    meta,
    metadata,
    run_customers,
    runs,
)

# Rows per executemany batch (the generic path): bounded memory for the Python values of a batch.
CHUNK_ROWS = 20_000
#: The columns of :meth:`Workspace.runs`, in order.
RUN_LIST_COLUMNS: tuple[str, ...] = (
    "run_id", "name", "published_at", "published_by", "source_file", "customers", "revenue", "archived",
)
# Text columns whose values come back as the ordered categories they were published as.
_CATEGORIES: dict[str, tuple[str, ...]] = {schema.LIFECYCLE_STAGE: schema.LIFECYCLE_STAGES}


@dataclass(frozen=True)
class RunInfo:
    """One published run: who published what, when, from which file; its settings, ledger and model as JSON text
    (so that the record stays hashable); and the customer columns it holds, in order."""

    run_id: str
    name: str
    published_at: dt.datetime  # UTC, timezone-aware
    published_by: str
    source_file: str
    source_digest: str
    rows_read: int
    customers: int
    revenue: float
    columns: tuple[str, ...]
    settings_json: str
    ledger_json: str
    model_json: str
    archived: bool = False

    @property
    def settings(self) -> dict[str, Any]:
        """The settings the run was made with."""
        return json.loads(self.settings_json)

    @property
    def analysis_date(self) -> dt.date | None:
        """The run's analysis date (every purchase it counts is on or before it), or ``None`` when not recorded."""
        text = self.settings.get("analysis_date")
        return dt.date.fromisoformat(str(text)[:10]) if text else None

    @property
    def ledger(self) -> list[Any] | dict[str, Any]:
        """The cleaning ledger: every rule and the rows it removed."""
        return json.loads(self.ledger_json)


@dataclass(frozen=True)
class AudienceInfo:
    """An audience saved with a random control group: the run its customers were chosen from, how they were chosen
    (the split, the segments, the movement), the control group's share and seed, and how many were held back."""

    audience_id: str
    run_id: str
    label: str
    created_at: dt.datetime  # UTC, timezone-aware
    created_by: str
    split: str
    segments: tuple[str, ...]
    movement: str
    control_share: float
    seed: int
    customers: int
    held_back: int


#: The columns of :meth:`Workspace.audiences`, in order.
AUDIENCE_LIST_COLUMNS: tuple[str, ...] = (
    "audience_id", "run_id", "name", "label", "created_at", "created_by", "customers", "held_back", "control_share",
)


class Workspace:
    """A database of published runs (append-only: publishing never overwrites; a run is archived, never deleted).

    Open one with :meth:`open`; close it with :meth:`close` or a ``with`` block (a DuckDB file stays locked against
    other processes while open). One Workspace may be shared by threads.

    Examples
    --------
    >>> with Workspace.open(tmp_path / "rfm.duckdb") as workspace:  # doctest: +SKIP
    ...     info = workspace.publish("Spring", run.labelled, published_by="ana", ...)
    ...     workspace.customers(info.run_id)
    """

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.where = describe_url(engine.url)

    @classmethod
    def open(cls, workspace: str | Path | None = None) -> Workspace:
        """Open (creating if needed) the workspace named by a URL or path, else by the environment
        (:func:`rfm.workspace.location.workspace_url`).

        Raises
        ------
        RFMInputError
            The database cannot be opened (not a DuckDB file, no server answering), or it was written by a newer
            RFM Studio; in that case nothing is written to it.
        """
        url = workspace_url(workspace)
        where = describe_url(url)
        try:
            engine = create_engine(url)
        except (SQLAlchemyError, ImportError) as error:
            raise RFMInputError(f"The workspace {where} cannot be opened: {_cause(error)}.") from None
        try:
            _prepare(engine, where)
        except BaseException:
            engine.dispose()
            raise
        return cls(engine)

    def close(self) -> None:
        """Release the database (and, for DuckDB, the file)."""
        self.engine.dispose()

    def __enter__(self) -> Workspace:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"Workspace({self.where!r})"

    @contextmanager
    def _failing_as(self, action: str) -> Iterator[None]:
        """Turn a database or file-system failure into one sentence naming the workspace and the cause (the bulk load
        talks to the driver itself, so the driver's own errors are caught too)."""
        driver_error = getattr(self.engine.dialect.loaded_dbapi, "Error", DBAPIError)
        try:
            yield
        except (DBAPIError, OSError, driver_error) as error:
            raise RFMInputError(f"{action} in the workspace {self.where} failed, and nothing was changed: {_cause(error)}.") from None

    def publish(
        self,
        name: str,
        labelled: pd.DataFrame,
        *,
        published_by: str,
        source_file: str,
        source_digest: str,
        rows_read: int,
        revenue: float,
        settings: dict[str, Any],
        ledger: list[Any] | dict[str, Any],
        model_json: str,
        published_at: dt.datetime | None = None,
    ) -> RunInfo:
        """Store a run and its customers as a new run, in one transaction.

        Parameters
        ----------
        name : str
            The run's name; publishing a name again adds a run beside the earlier ones.
        labelled : DataFrame
            The labelled list indexed by customer id (:func:`rfm.outputs.lists.labelled_customers`), with any of
            :data:`rfm.workspace.tables.CUSTOMER_COLUMNS`; a column missing is stored as empty.
        published_by, source_file, source_digest : str
            Who publishes, the file the run was made from and its digest.
        rows_read, revenue : int, float
            The rows read from the file and the run's revenue.
        settings, ledger : dict, list
            The run's settings and its cleaning ledger (stored as JSON).
        model_json : str
            The saved model (:meth:`rfm.bundle.model.ModelBundle.to_json`).
        published_at : datetime, optional
            When (UTC when naive); now when ``None``.

        Returns
        -------
        RunInfo
            The run as stored.

        Raises
        ------
        RFMInputError
            A column the workspace does not know, or the database refused the run (a duplicate customer id, a
            read-only file, a full disk); then no part of the run is stored.
        """
        if not str(name).strip():
            raise RFMInputError("A run needs a name to be published: give it one.")
        columns = _checked_columns(labelled)
        info = RunInfo(
            run_id=uuid.uuid4().hex, name=str(name), published_at=_utc(published_at), published_by=str(published_by),
            source_file=str(source_file), source_digest=str(source_digest), rows_read=int(rows_read),
            customers=len(labelled), revenue=float(revenue), columns=columns, settings_json=json.dumps(settings, default=str),
            ledger_json=json.dumps(ledger, default=str), model_json=str(model_json),
        )
        with self._failing_as(f"Publishing the run {info.name!r}"), self.engine.begin() as connection:
            connection.execute(runs.insert().values(_run_row(info)))
            _insert_customers(connection, labelled, columns, info.run_id)
        return info

    def runs(self, name: str | None = None, include_archived: bool = False) -> pd.DataFrame:
        """The published runs, newest first: :data:`RUN_LIST_COLUMNS` (``published_at`` in UTC), all names or one."""
        query = select(*(runs.c[column] for column in RUN_LIST_COLUMNS)).order_by(runs.c.published_at.desc(), runs.c.run_id)
        if name is not None:
            query = query.where(runs.c.name == name)
        if not include_archived:
            query = query.where(runs.c.archived == False)  # noqa: E712 (SQL, not Python)
        with self._failing_as("Listing the runs"), self.engine.connect() as connection:
            rows = connection.execute(query).all()
        frame = pd.DataFrame([tuple(row) for row in rows], columns=list(RUN_LIST_COLUMNS))
        frame["published_at"] = pd.to_datetime(frame["published_at"]).astype("datetime64[us]").dt.tz_localize("UTC")
        return frame.astype({"customers": "int64", "revenue": "float64", "archived": "bool"})

    def run(self, run_id: str) -> RunInfo:
        """One run, archived or not.

        Raises
        ------
        RFMInputError
            No run has this id.
        """
        found = self._infos(runs.c.run_id == run_id, limit=1)
        if not found:
            raise RFMInputError(f"The workspace {self.where} has no run {run_id!r}.")
        return found[0]

    def latest(self, name: str) -> RunInfo | None:
        """The newest run of this name that is not archived, or ``None``."""
        found = self._infos((runs.c.name == name) & (runs.c.archived == False), limit=1)  # noqa: E712
        return found[0] if found else None

    def previous(self, name: str, before_run_id: str) -> RunInfo | None:
        """The newest run of this name published before ``before_run_id`` and not archived, or ``None``."""
        before = self.run(before_run_id)
        earlier = (runs.c.published_at < before.published_at.replace(tzinfo=None)) | (
            (runs.c.published_at == before.published_at.replace(tzinfo=None)) & (runs.c.run_id > before.run_id)
        )
        found = self._infos((runs.c.name == name) & (runs.c.archived == False) & earlier, limit=1)  # noqa: E712
        return found[0] if found else None

    def _infos(self, condition: Any, limit: int) -> list[RunInfo]:
        query = select(runs).where(condition).order_by(runs.c.published_at.desc(), runs.c.run_id).limit(limit)
        with self._failing_as("Reading the runs"), self.engine.connect() as connection:
            rows = connection.execute(query).mappings().all()
        return [_run_info(row) for row in rows]

    def customers(self, run_id: str) -> pd.DataFrame:
        """The run's customers as published: indexed by ``customer_id`` (in id order), its columns in their order.

        Whole numbers come back as ``int64`` (``Int64`` when some are missing), decimals as ``float64``, dates as
        ``datetime64[us]``, the lifecycle stage as its ordered categories and other text as ``str``.

        Raises
        ------
        RFMInputError
            No run has this id.
        """
        info = self.run(run_id)
        query = (
            select(run_customers.c[schema.CUSTOMER_ID], *(run_customers.c[column] for column in info.columns))
            .where(run_customers.c.run_id == run_id)
            .order_by(run_customers.c[schema.CUSTOMER_ID])
        )
        with self._failing_as(f"Reading the customers of the run {info.name!r}"), self.engine.connect() as connection:
            rows = connection.execute(query).all()
        frame = pd.DataFrame([tuple(row) for row in rows], columns=[schema.CUSTOMER_ID, *info.columns])
        frame = frame.set_index(frame[schema.CUSTOMER_ID].astype("str")).drop(columns=schema.CUSTOMER_ID)
        return _typed(frame)

    def seen_customers(self, name: str, *, except_run_id: str | None = None) -> set[str]:
        """Every customer id any run of this name holds (archived runs included), but for ``except_run_id``'s."""
        condition = runs.c.name == name
        if except_run_id is not None:
            condition = condition & (runs.c.run_id != except_run_id)
        query = (
            select(run_customers.c[schema.CUSTOMER_ID]).distinct()
            .select_from(run_customers.join(runs, run_customers.c.run_id == runs.c.run_id)).where(condition)
        )
        with self._failing_as(f"Reading the customers of the runs {name!r}"), self.engine.connect() as connection:
            return {str(row[0]) for row in connection.execute(query)}

    def archive(self, run_id: str) -> RunInfo:
        """Mark a run archived: it leaves the default list and :meth:`latest`, and stays stored.

        Raises
        ------
        RFMInputError
            No run has this id, or the database refused the change.
        """
        info = self.run(run_id)
        with self._failing_as(f"Archiving the run {info.name!r}"), self.engine.begin() as connection:
            connection.execute(update(runs).where(runs.c.run_id == run_id).values(archived=True))
        return self.run(run_id)


    def save_audience(
        self,
        run_id: str,
        held_back: pd.Series,
        *,
        label: str,
        created_by: str,
        split: str,
        segments: Sequence[str],
        movement: str,
        control_share: float,
        seed: int,
        created_at: dt.datetime | None = None,
    ) -> AudienceInfo:
        """Store an audience of the run ``run_id`` with its control group, in one transaction.

        Parameters
        ----------
        held_back : Series of bool
            Every customer of the audience (index: customer id) and whether they are held back
            (:func:`rfm.audiences.control.hold_out`).
        label, created_by : str
            The audience's label (e.g. "Win-back December") and who made it.
        split, segments, movement : str, sequence of str, str
            How the customers were chosen (:func:`rfm.audiences.selection.select_audience`).
        control_share, seed : float, int
            The share held back and the seed of the draw.

        Raises
        ------
        RFMInputError
            No run has this id, or the database refused the audience (then nothing of it is stored).
        """
        run = self.run(run_id)
        info = AudienceInfo(
            audience_id=uuid.uuid4().hex, run_id=run.run_id, label=str(label).strip() or run.name, created_at=_utc(created_at),
            created_by=str(created_by), split=str(split), segments=tuple(map(str, segments)), movement=str(movement),
            control_share=float(control_share), seed=int(seed), customers=len(held_back), held_back=int(held_back.sum()),
        )
        row = {field.name: getattr(info, field.name) for field in fields(info) if field.name != "segments"}
        row["created_at"] = info.created_at.replace(tzinfo=None)
        row["segments_json"] = json.dumps(list(info.segments))
        members = pd.DataFrame(
            {"audience_id": info.audience_id, schema.CUSTOMER_ID: held_back.index.astype("str"), "held_back": held_back.to_numpy(dtype="bool")}
        )
        with self._failing_as(f"Saving the audience {info.label!r}"), self.engine.begin() as connection:
            connection.execute(audiences.insert().values(row))
            _bulk_insert(
                connection, audience_members.name, list(members.columns), frame=lambda: members,
                rows=lambda: list(members.itertuples(index=False, name=None)),
            )
        return info

    def audiences(self, name: str | None = None) -> pd.DataFrame:
        """The saved audiences, newest first (:data:`AUDIENCE_LIST_COLUMNS`; ``name`` is their run's name), of the runs
        of one name or of all."""
        query = (
            select(*(audiences.c[c] if c != "name" else runs.c.name for c in AUDIENCE_LIST_COLUMNS))
            .select_from(audiences.join(runs, audiences.c.run_id == runs.c.run_id))
            .order_by(audiences.c.created_at.desc(), audiences.c.audience_id)
        )
        if name is not None:
            query = query.where(runs.c.name == name)
        with self._failing_as("Listing the audiences"), self.engine.connect() as connection:
            rows = connection.execute(query).all()
        frame = pd.DataFrame([tuple(row) for row in rows], columns=list(AUDIENCE_LIST_COLUMNS))
        frame["created_at"] = pd.to_datetime(frame["created_at"]).astype("datetime64[us]").dt.tz_localize("UTC")
        return frame.astype({"customers": "int64", "held_back": "int64", "control_share": "float64"})

    def audience(self, audience_id: str) -> AudienceInfo:
        """One saved audience.

        Raises
        ------
        RFMInputError
            No audience has this id.
        """
        with self._failing_as("Reading the audiences"), self.engine.connect() as connection:
            row = connection.execute(select(audiences).where(audiences.c.audience_id == audience_id)).mappings().first()
        if row is None:
            raise RFMInputError(f"The workspace {self.where} has no audience {audience_id!r}.")
        values = {field.name: row[field.name] for field in fields(AudienceInfo) if field.name != "segments"}
        values["created_at"] = values["created_at"].replace(tzinfo=dt.UTC)
        values["segments"] = tuple(json.loads(row["segments_json"]))
        return AudienceInfo(**values)

    def audience_members(self, audience_id: str) -> pd.Series:
        """Whether each of the audience's customers was held back (index: customer id, in id order)."""
        query = (
            select(audience_members.c[schema.CUSTOMER_ID], audience_members.c.held_back)
            .where(audience_members.c.audience_id == audience_id)
            .order_by(audience_members.c[schema.CUSTOMER_ID])
        )
        with self._failing_as("Reading the audience's customers"), self.engine.connect() as connection:
            rows = connection.execute(query).all()
        index = pd.Index([str(row[0]) for row in rows], name=schema.CUSTOMER_ID)
        return pd.Series([bool(row[1]) for row in rows], index=index, name="held_back", dtype="bool")


def _prepare(engine: Engine, where: str) -> None:
    """Check the schema version, then create what is missing; a newer version is refused before anything is written."""
    try:
        with engine.connect() as connection:
            version = _stored_version(connection, where)
        if version is not None and version > SCHEMA_VERSION:
            raise RFMInputError(
                f"This workspace ({where}) was written by a newer RFM Studio (schema version {version}; this version "
                f"reads up to {SCHEMA_VERSION}): update RFM Studio, the workspace is left unchanged."
            )
        if version is None or version < SCHEMA_VERSION:
            _create(engine, where)  # a new workspace, or an older one gaining the tables added since
    except (DBAPIError, OSError) as error:
        raise RFMInputError(f"The workspace {where} cannot be opened: {_cause(error)}.") from None


#: Attempts at creating the tables when other sessions or processes create them at the same moment.
_CREATE_ATTEMPTS = 6


def _create(engine: Engine, where: str) -> None:
    """Create the missing tables and write the version, in one transaction (an older workspace gains the tables added
    since and keeps its runs). Sessions opening a workspace at the same moment (two browser users, two threads, two
    processes) conflict on the catalogue: the losers wait a little and find the tables made."""
    for attempt in range(1, _CREATE_ATTEMPTS + 1):
        try:
            with engine.begin() as connection:
                metadata.create_all(connection)
                version = _stored_version(connection, where)
                if version is None:
                    connection.execute(meta.insert().values(key=VERSION_KEY, value=str(SCHEMA_VERSION)))
                elif version < SCHEMA_VERSION:
                    connection.execute(update(meta).where(meta.c.key == VERSION_KEY).values(value=str(SCHEMA_VERSION)))
            return
        except DBAPIError:
            if attempt == _CREATE_ATTEMPTS:
                raise
            time.sleep(0.05 * attempt * (1 + random.random()))
            with engine.connect() as connection:
                if _stored_version(connection, where) == SCHEMA_VERSION:
                    return


def _stored_version(connection: Connection, where: str) -> int | None:
    if not inspect(connection).has_table(meta.name):
        return None
    value = connection.execute(select(meta.c.value).where(meta.c.key == VERSION_KEY)).scalar()
    if value is None:
        return None
    try:
        return int(value)
    except ValueError:
        raise RFMInputError(f"The workspace {where} holds an unreadable schema version {value!r}: it was not written by RFM Studio.") from None


def _cause(error: BaseException) -> str:
    """The first line of what the database said, without SQLAlchemy's statement and link."""
    original = getattr(error, "orig", None) or error
    text = str(original).strip().splitlines()[0] if str(original).strip() else type(original).__name__
    return text.rstrip(".! ")


def _utc(moment: dt.datetime | None) -> dt.datetime:
    if moment is None:
        return dt.datetime.now(dt.UTC)
    return moment.replace(tzinfo=dt.UTC) if moment.tzinfo is None else moment.astimezone(dt.UTC)


def _checked_columns(labelled: pd.DataFrame) -> tuple[str, ...]:
    """The frame's columns, refused when the workspace has no place for some (they would be lost) or when a customer
    appears twice."""
    unknown = [str(column) for column in labelled.columns if column not in CUSTOMER_COLUMNS]
    if unknown:
        raise RFMInputError(
            f"The workspace has no place for {len(unknown)} column(s) of the customer list: {', '.join(map(repr, unknown))}; "
            "publish the labelled list as RFM Studio makes it."
        )
    duplicated = labelled.index.astype("str")[labelled.index.astype("str").duplicated()]
    if len(duplicated):
        raise RFMInputError(
            f"The customer list holds {len(duplicated)} repeated customer id(s), the first {duplicated[0]!r}: "
            "a run has one row per customer."
        )
    return tuple(str(column) for column in labelled.columns)


def _customer_rows(labelled: pd.DataFrame, columns: Sequence[str]) -> list[tuple[Any, ...]]:
    """One tuple per customer (id, then ``columns``), with Python values and ``None`` for a missing one."""
    values: dict[str, list[Any]] = {schema.CUSTOMER_ID: labelled.index.astype("str").tolist()}
    for column in columns:
        series = labelled[column]
        if COLUMN_TYPES.get(column) is Date:
            series = pd.to_datetime(series).dt.date
        values[column] = series.astype(object).where(series.notna(), None).tolist()
    return list(zip(*values.values(), strict=True))


def _insert_customers(connection: Connection, labelled: pd.DataFrame, columns: Sequence[str], run_id: str) -> None:
    """Insert the customers on the publish transaction's own connection (:func:`_bulk_insert`)."""
    names = ["run_id", schema.CUSTOMER_ID, *columns]
    _bulk_insert(
        connection, run_customers.name, names,
        frame=lambda: _load_frame(labelled, columns, run_id),
        rows=lambda: [(run_id, *row) for row in _customer_rows(labelled, columns)],
    )


def _bulk_insert(connection: Connection, table: str, names: Sequence[str], *, frame: Any, rows: Any) -> None:
    """Insert many rows into ``table`` inside the caller's transaction.

    The tables and every query are SQLAlchemy Core; only a bulk load takes the driver's native path (DuckDB scans
    ``frame()``, every column of the table in order, in place; PostgreSQL takes COPY of ``rows()``, tuples of
    ``names``), because SQLAlchemy's executemany is many times slower at a large list (bench/bench_workspace.py). Both
    run inside the same transaction, so a failure still leaves nothing.
    """
    driver: Any = connection.connection.driver_connection
    if connection.dialect.name == "duckdb":
        # A relation over the frame, inserted on this connection: no view to register and clean up after a failure.
        driver.from_df(frame()).insert_into(table)
    elif connection.dialect.name == "postgresql":
        _postgres_copy(driver, table, names, rows())
    else:
        every = rows()
        for start in range(0, len(every), CHUNK_ROWS):
            batch = [dict(zip(names, row, strict=True)) for row in every[start : start + CHUNK_ROWS]]
            connection.execute(metadata.tables[table].insert(), batch)


def _load_frame(labelled: pd.DataFrame, columns: Sequence[str], run_id: str) -> pd.DataFrame:
    """Every column of ``run_customers`` in the table's order (DuckDB inserts by position): the published ones as
    they are (categories as plain text), the others empty."""
    published = set(columns)
    data: dict[str, Any] = {"run_id": run_id, schema.CUSTOMER_ID: labelled.index.astype("str").to_numpy()}
    for column in CUSTOMER_COLUMNS:
        if column not in published:
            data[column] = pd.Series([None] * len(labelled), dtype=object).to_numpy()
            continue
        series = labelled[column]
        data[column] = (series.astype("str") if isinstance(series.dtype, pd.CategoricalDtype) else series).to_numpy()
    return pd.DataFrame(data, columns=list(run_customers.c.keys()))


def _postgres_copy(driver: Any, table: str, names: Sequence[str], rows: list[tuple[Any, ...]]) -> None:
    from psycopg import sql  # only with PostgreSQL

    statement = sql.SQL("COPY {} ({}) FROM STDIN").format(sql.Identifier(table), sql.SQL(", ").join(map(sql.Identifier, names)))
    with driver.cursor() as cursor, cursor.copy(statement) as copy:
        for row in rows:
            copy.write_row(row)


def _run_row(info: RunInfo) -> dict[str, Any]:
    row = {field.name: getattr(info, field.name) for field in fields(info) if field.name != "columns"}
    row["published_at"] = info.published_at.replace(tzinfo=None)
    row["columns_json"] = json.dumps(list(info.columns))
    return row


def _run_info(row: Any) -> RunInfo:
    values = {field.name: row[field.name] for field in fields(RunInfo) if field.name != "columns"}
    values["published_at"] = values["published_at"].replace(tzinfo=dt.UTC)
    values["columns"] = tuple(json.loads(row["columns_json"]))
    values["archived"] = bool(values["archived"])
    return RunInfo(**values)


def _typed(frame: pd.DataFrame) -> pd.DataFrame:
    """Give each column read back the dtype a labelled list has (drivers hand back Python objects)."""
    for column in frame.columns:
        kind = COLUMN_TYPES.get(column)
        series = frame[column]
        if kind is BigInteger:
            frame[column] = series.astype("Int64") if series.isna().any() else series.astype("int64")
        elif kind is Double:
            frame[column] = series.astype("float64")
        elif kind in (DateTime, Date):
            frame[column] = pd.to_datetime(series).astype("datetime64[us]")
        elif column in _CATEGORIES and series.dropna().isin(_CATEGORIES[column]).all():
            frame[column] = pd.Categorical(series, categories=_CATEGORIES[column], ordered=True)
        else:
            frame[column] = series.astype("str")
    return frame
