"""Reading big files straight into the engine: CSV and Parquet scanned by DuckDB (or Spark).

:func:`open_transactions` is what the CLI and the app call. Workbooks are read into memory by
:func:`rfm.reading.files.read_transactions` (a :class:`~rfm.reading.files.RawTable`); CSV and Parquet files (a Parquet
file, a folder of Parquet files or a glob) become a :class:`ScannedTable`: the engine reads the file
itself, so no pandas frame of all rows is ever built. A 50M-row Parquet file segments in well under
a GiB this way.

How the two meet: cleaning (:mod:`rfm.cleaning.ledger`) types the mapped columns of either kind with the same
parsers of :mod:`rfm.reading.values`. For a scanned table they run on each column's *distinct* values only
(a million rows hold a few thousand prices and dates), and the engine joins the typed values back;
see :func:`typed_relation`.

CSV files are first copied by DuckDB into a temporary Parquet file (once; about a second per
million rows): every later pass scans columns instead of re-parsing text, and Parquet gives each
row its position in the file. Text that is not UTF-8 is re-encoded to UTF-8 on the way.
"""

from __future__ import annotations

import codecs
import csv
import glob as globbing
import hashlib
import os
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from rfm import schema
from rfm.cleaning import engine as engines
from rfm.errors import RFMInputError
from rfm.reading.files import (
    _DELIMITERS,
    RawTable,
    ReadInfo,
    _one_line,
    _size_text,
    decode_text,
    read_transactions,
    sniff_format,
    text_layout,
    unique_names,
)

if TYPE_CHECKING:
    import ibis
    from ibis.backends import BaseBackend

#: Bytes of a text file read to decide its encoding, delimiter and header (the whole file below this).
SNIFF_BYTES = 4 * 1024**2
#: Rows sampled (evenly across the file) to recognise the columns.
SAMPLE_ROWS = 20_000
#: A row's position is ``file index * FILE_STRIDE + row in file`` for a folder of Parquet files.
FILE_STRIDE = 1 << 40

@dataclass(frozen=True)
class ScannedTable:
    """A transaction file the engine reads itself: its columns, row count and a sample, never all rows.

    Small and picklable (the app caches it): the engine's view of the file is rebuilt from ``paths``
    on whichever connection :meth:`relation` is given.
    """

    paths: tuple[str, ...]  # Parquet files (a CSV is converted once), or the CSV itself on Spark
    info: ReadInfo
    columns_: tuple[str, ...]
    types: tuple[str, ...]  # the engine's type of each column, e.g. "string", "float64", "timestamp"
    n_rows: int
    sample: pd.DataFrame = field(repr=False, compare=False)
    backend: str = "duckdb"
    csv_options: tuple[tuple[str, object], ...] = ()  # Spark reads the CSV itself with these
    labels: tuple[str, ...] = ()  # file names shown in examples when a folder has several files

    @property
    def columns(self) -> list[str]:
        return list(self.columns_)

    def type_of(self, column: str) -> str:
        return self.types[self.columns_.index(column)]

    def connect(self) -> BaseBackend:
        return engines.connect(self.backend)

    def relation(self, connection: BaseBackend) -> ibis.Table:
        """The file as an ibis table on ``connection``: its columns, ``source_sheet`` (0),
        ``source_row`` (position in the file) and ``row_hash`` (of every column, for duplicates)."""
        if self.backend == "spark":
            return _spark_relation(self, connection)
        return _duckdb_relation(self, connection)

    def first_row(self) -> dict:
        return self.sample.drop(columns=schema.SHEET).iloc[0].to_dict() if len(self.sample) else {}

    def value_counts(self, column: str, connection: BaseBackend | None = None) -> pd.Series:
        """Rows per distinct raw value of ``column``, counted by the engine."""
        table = self.relation(connection or self.connect())
        counts = table.group_by(column).aggregate(rows=table.count()).to_pandas()
        return pd.Series(counts["rows"].to_numpy(), index=counts[column].astype("object"), name="rows")

    def example_rows(self, positions: Sequence[int], connection: BaseBackend | None = None) -> list[tuple[tuple[str, str], ...]]:
        """The original rows at ``positions`` (``source_row`` values) as ``(column, value)`` pairs."""
        if not positions:
            return []
        table = self.relation(connection or self.connect())
        rows = table.filter(table[schema.ROW].isin([int(p) for p in positions])).to_pandas().set_index(schema.ROW)
        examples = []
        for position in positions:
            if position not in rows.index:
                continue
            row = rows.loc[position]
            where = []
            file_index, row_in_file = divmod(int(position), FILE_STRIDE)
            if len(self.labels) > 1:
                where.append(("file", self.labels[file_index]))
            if self.backend == "duckdb":
                # +2 for a CSV: the header row, and spreadsheets and editors count lines from 1.
                first = 2 + self.info.header_line if self.info.file_format == "csv" else 1
                where.append(("row", str(row_in_file + first)))
            examples.append(tuple(where + [(c, _display(row[c])) for c in self.columns_]))
        return examples


def _display(value: object) -> str:
    if value is None or value is pd.NA or value is pd.NaT or (isinstance(value, float) and np.isnan(value)):
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def how_held(raw: RawTable | ScannedTable) -> str:
    """How a file's rows are held, in words: scanned by DuckDB (a sample in memory) or read into memory."""
    if isinstance(raw, ScannedTable):
        if len(raw.sample) >= raw.n_rows:
            return f"{raw.n_rows:,} rows scanned by DuckDB straight from the file; the file is small, so all of them are also held in memory."
        return f"{raw.n_rows:,} rows scanned by DuckDB straight from the file; only a sample of {len(raw.sample):,} rows is held in memory."
    return f"All {raw.n_rows:,} rows are held in memory (workbooks, and text split on runs of spaces, are read whole)."


# --- opening a file ---------------------------------------------------------------------------


def open_transactions(
    source: bytes | str | Path,
    file_name: str | None = None,
    *,
    sheets: Sequence[str] | None = None,
    max_bytes: int | None = None,
    backend: str = "duckdb",
) -> RawTable | ScannedTable:
    """Open a transaction file the cheapest way: scanned by the engine when it can, else read.

    Parameters
    ----------
    source : bytes or path
        The file's content, a path to a file, a folder of Parquet files, or a glob (``exports/*.parquet``).
    file_name : str, optional
        Name shown in messages.
    sheets : sequence of str, optional
        Workbook sheets to combine (workbooks only).
    max_bytes : int, optional
        Refuse inputs larger than this (the app's upload limit).
    backend : {"duckdb", "spark"}
        The engine that scans CSV and Parquet. Workbooks are always read into memory.

    Returns
    -------
    RawTable or ScannedTable
    """
    if isinstance(source, (bytes, bytearray, memoryview)):
        data = bytes(source)
        file_name = file_name or "uploaded file"
        if max_bytes is not None and len(data) > max_bytes:
            return read_transactions(data, file_name, max_bytes=max_bytes)  # its message names the limit
        if not data.strip() or sniff_format(data[:64 * 1024] if len(data) > 64 * 1024 else data, file_name) not in ("csv", "parquet"):
            return read_transactions(data, file_name, sheets=sheets, max_bytes=max_bytes)
        return _scan_or_read(_spooled(data, file_name), file_name, backend)
    paths = _expand(source)
    if len(paths) == 1 and not Path(str(source)).is_dir():
        path = Path(paths[0])
        size = path.stat().st_size
        if max_bytes is not None and size > max_bytes:
            raise RFMInputError(
                f"{file_name or path.name} is {_size_text(size, max_bytes)}, over the upload limit of "
                f"{_size_text(max_bytes)}; it was not read."
            )
        with path.open("rb") as handle:
            head = handle.read(64 * 1024)
        if not head.strip() or sniff_format(head, path.name) not in ("csv", "parquet"):
            return read_transactions(path, file_name, sheets=sheets, max_bytes=max_bytes)
    return _scan_or_read(source, file_name, backend)


def _scan_or_read(source: str | Path, file_name: str | None, backend: str) -> RawTable | ScannedTable:
    try:
        return scan(source, file_name, backend=backend)
    except _NotScannable:
        return read_transactions(source, file_name)


def _expand(source: str | Path) -> list[str]:
    """The files a path, a folder (its ``*.parquet`` files, recursively) or a glob names, sorted."""
    text = str(source)
    path = Path(text)
    if path.is_dir():
        files = sorted(str(p) for p in path.rglob("*.parquet") if p.is_file())
        if not files:
            raise RFMInputError(f"The folder {text} holds no .parquet files.")
        return files
    if path.is_file():
        return [text]
    if any(ch in text for ch in "*?["):
        files = sorted(p for p in globbing.glob(text, recursive=True) if Path(p).is_file())
        if not files:
            raise RFMInputError(f"No file matches {text}.")
        return files
    raise RFMInputError(f"Cannot read {text}: no such file or folder.")


def _spooled(data: bytes, file_name: str) -> Path:
    """Uploaded bytes on disk for the engine, named by their content (the same upload is written once)."""
    digest = hashlib.sha256(data).hexdigest()[:24]
    path = engines.scratch() / f"upload-{digest}{Path(file_name).suffix[:8]}"
    if not path.exists():
        partial = _partial(path)
        partial.write_bytes(data)
        partial.replace(path)
    return path


def _partial(target: Path) -> Path:
    """A file name of its own to write ``target`` under before renaming it: two sessions converting
    the same upload at once must not write into one file."""
    return target.with_name(f"{target.name}.{os.getpid()}.{threading.get_ident()}.partial")


def scan(source: str | Path, file_name: str | None = None, *, backend: str = "duckdb") -> ScannedTable:
    """Scan a CSV or Parquet file, a folder of Parquet files or a glob (see :func:`open_transactions`)."""
    paths = _expand(source)
    file_name = file_name or Path(str(source)).name
    formats = set()
    for path in paths:
        with open(path, "rb") as handle:
            head = handle.read(64 * 1024)
        if not head.strip():
            raise RFMInputError(f"{Path(path).name} is empty: it has no header and no rows.")
        formats.add(sniff_format(head, path))
    if formats == {"parquet"}:
        return _scan_parquet(paths, file_name, backend)
    if formats == {"csv"} and len(paths) == 1:
        return _scan_csv(Path(paths[0]), file_name, backend)
    if formats == {"csv"}:
        raise RFMInputError(f"{file_name} names {len(paths)} CSV files; combine them into one, or export Parquet.")
    raise RFMInputError(f"{file_name} mixes file formats ({', '.join(sorted(formats))}); a folder or glob must be all Parquet.")


def _scan_parquet(paths: list[str], file_name: str, backend: str) -> ScannedTable:
    import pyarrow as pa
    import pyarrow.parquet as pq

    schemas = []
    n_rows = 0
    for path in paths:
        try:
            metadata = pq.read_metadata(path)
            schemas.append(pq.read_schema(path))
        except (OSError, ValueError, pa.ArrowException) as exc:
            raise RFMInputError(
                f"{file_name if len(paths) == 1 else Path(path).name} cannot be read as Parquet; it may be damaged ({_one_line(exc)})."
            ) from None
        n_rows += metadata.num_rows
    names = schemas[0].names
    for path, other in zip(paths[1:], schemas[1:]):
        if other.names != names:
            raise RFMInputError(
                f"{Path(path).name} has columns {other.names}, but {Path(paths[0]).name} has {names}: "
                "the files of a folder must share their columns."
            )
    if n_rows == 0:
        raise RFMInputError(f"{file_name} has columns but no data rows.")
    labels = tuple(Path(p).name for p in paths)
    names = unique_names(names)  # "" -> "Unnamed: 3", a repeat -> "name.1", as the in-memory reader names them
    notes = (f"Read {len(paths)} Parquet files as one table.",) if len(paths) > 1 else ()
    info = ReadInfo(file_name=file_name, file_format="parquet", rows_per_sheet=(n_rows,), notes=notes)
    return _finish(tuple(paths), info, tuple(names), n_rows, backend, (), labels)


def _scan_csv(path: Path, file_name: str, backend: str) -> ScannedTable:
    size = path.stat().st_size
    with path.open("rb") as handle:
        head = handle.read(SNIFF_BYTES)
    whole = size <= SNIFF_BYTES
    if not whole:
        head = head[: head.rfind(b"\n") + 1] or head  # whole lines only
    text, encoding = decode_text(head, file_name)
    delimiter, header_line, skip, header = text_layout(text, file_name)
    if delimiter == "whitespace":
        raise _NotScannable
    names = _header_names(header, delimiter)
    notes = (f"Skipped {header_line} title line(s) above the header.",) if header_line else ()
    info = ReadInfo(
        file_name=file_name, file_format="csv", encoding=encoding, delimiter=_DELIMITERS.get(delimiter, delimiter),
        header_line=skip, notes=notes,
    )
    utf8 = path if encoding in ("utf-8", "utf-8 with BOM") else _reencoded(path, encoding)
    options = (("delim", delimiter), ("skip", skip), ("names", tuple(names)))
    if backend == "spark":
        if skip:
            raise RFMInputError(
                f"{file_name} has {header_line} title line(s) above its header; Spark reads the header from the "
                "first line. Remove the title lines or use the DuckDB engine."
            )
        return _finish((str(utf8),), info, tuple(names), None, backend, options, ())
    parquet = _csv_to_parquet(utf8, file_name, options, size)
    return _finish((str(parquet),), info, tuple(names), None, backend, (), ())


class _NotScannable(Exception):
    """A text file the engine's CSV reader cannot split (columns separated by runs of spaces)."""


def _header_names(line: str, delimiter: str) -> list[str]:
    """Column names as pandas would give them: blanks become ``Unnamed: i``, repeats ``name.1``."""
    return unique_names([name if name.strip() else "" for name in next(csv.reader([line], delimiter=delimiter))])


def _reencoded(path: Path, encoding: str) -> Path:
    """A UTF-8 copy of a text file in another encoding, written in chunks."""
    target = engines.scratch() / f"utf8-{_file_key(path)}.csv"
    if target.exists():
        return target
    python_encoding = {"utf-16": "utf-16", "utf-16-le": "utf-16-le", "utf-16-be": "utf-16-be"}.get(encoding, encoding)
    decoder = codecs.getincrementaldecoder(python_encoding)(errors="replace")
    partial = _partial(target)
    with path.open("rb") as source, partial.open("w", encoding="utf-8", newline="") as out:
        while chunk := source.read(8 * 1024**2):
            out.write(decoder.decode(chunk))
        out.write(decoder.decode(b"", final=True))
    partial.replace(target)
    return target


def _file_key(path: Path) -> str:
    stat = path.stat()
    return hashlib.sha256(f"{path.resolve()}|{stat.st_size}|{stat.st_mtime_ns}".encode()).hexdigest()[:24]


def _csv_to_parquet(path: Path, file_name: str, options, size: int) -> Path:
    """DuckDB copies the CSV, every column as text, into a Parquet file in the scratch folder."""
    import duckdb

    opts = dict(options)
    target = engines.scratch() / f"csv-{_file_key(path)}-{hashlib.sha256(repr(options).encode()).hexdigest()[:8]}.parquet"
    if target.exists():
        return target
    partial = _partial(target)
    names = ", ".join(_quote(n) for n in opts["names"])
    connection = engines.connect("duckdb").con  # with the memory cap and spill folder

    def copy(parallel: bool) -> None:
        connection.execute(
            f"COPY (SELECT * FROM read_csv(?, all_varchar=true, header=true, delim=?, skip=?, quote='\"', escape='\"', "
            f"null_padding=true, names=[{names}], sample_size=-1, strict_mode=true, parallel={str(parallel).lower()})) "
            f"TO '{partial}' (FORMAT parquet)",
            [str(path), opts["delim"], int(opts["skip"])],
        )

    try:
        try:
            copy(parallel=True)
        except duckdb.Error as exc:
            # Short rows padded with missing values and line breaks inside quotes need the serial reader.
            if "parallel=false" not in str(exc):
                raise
            copy(parallel=False)
    except duckdb.Error as exc:
        partial.unlink(missing_ok=True)
        raise RFMInputError(
            f"{file_name} could not be split into columns with delimiter {opts['delim']!r}: "
            f"{_ragged_line(path, opts) or _one_line(exc).replace(str(path), file_name)}"
        ) from None
    finally:
        connection.close()
    partial.replace(target)
    return target


def _ragged_line(path: Path, options: dict) -> str | None:
    """"Expected 3 fields in line 7, saw 4": the first record with more fields than the header."""
    expected = len(options["names"])
    with path.open(encoding="utf-8", errors="replace", newline="") as handle:
        for _ in range(int(options["skip"])):
            handle.readline()
        reader = csv.reader(handle, delimiter=options["delim"])
        for record in reader:
            if len(record) > expected:
                return f"Expected {expected} fields in line {reader.line_num + int(options['skip'])}, saw {len(record)}"
    return None


def _quote(name: str) -> str:
    return "'" + name.replace("'", "''") + "'"


def _finish(paths, info: ReadInfo, names, n_rows, backend, csv_options, labels) -> ScannedTable:
    """Count the rows if needed, read the column types and a sample spread over the file."""
    draft = ScannedTable(paths, info, tuple(names), (), n_rows or 0, pd.DataFrame(), backend, csv_options, labels)
    connection = draft.connect()
    table = draft.relation(connection)
    if n_rows is None:
        n_rows = int(table.count().execute())
    if n_rows == 0:
        raise RFMInputError(f"{info.file_name} has a header row but no data rows.")
    types = tuple(_type_name(table.schema()[name]) for name in names)
    step = max(1, n_rows // SAMPLE_ROWS)
    picked = table.filter(table[schema.ROW] % step == 0) if step > 1 else table
    sample = picked.order_by(schema.ROW).limit(SAMPLE_ROWS).drop(schema.ROW, schema.ROW_HASH).to_pandas()
    from dataclasses import replace

    info = replace(info, rows_per_sheet=(n_rows,))
    return ScannedTable(tuple(paths), info, tuple(names), types, n_rows, sample, backend, csv_options, labels)


def _type_name(dtype) -> str:
    if dtype.is_string():
        return "string"
    if dtype.is_integer():
        return "integer"
    if dtype.is_floating() or dtype.is_decimal():
        return "float"
    if dtype.is_timestamp():
        return "timestamp"
    if dtype.is_date():
        return "date"
    if dtype.is_boolean():
        return "boolean"
    return str(dtype)


def _duckdb_relation(table: ScannedTable, connection):
    columns = ", ".join(_identifier(c) for c in table.columns_)
    files = "[" + ", ".join(_quote(p) for p in table.paths) + "]"
    index = ", ".join(f"({_quote(p)}, {i})" for i, p in enumerate(table.paths))
    # A row's position: its file's index and its row in the file; no window, so nothing is sorted.
    row = f"f.i * {FILE_STRIDE} + t.file_row_number" if len(table.paths) > 1 else "t.file_row_number"
    join = f" JOIN (VALUES {index}) AS f(name, i) ON f.name = t.filename" if len(table.paths) > 1 else ""
    sql = (
        f"SELECT {', '.join('t.' + _identifier(c) for c in table.columns_)}, 0::BIGINT AS {schema.SHEET}, "
        f"({row})::BIGINT AS {schema.ROW}, hash({', '.join('t.' + _identifier(c) for c in table.columns_)}) AS {schema.ROW_HASH} "
        f"FROM read_parquet({files}, file_row_number=true, filename=true) AS t({columns}){join}"
    )
    name = engines.temp_name()
    connection.con.execute(f"CREATE TEMP VIEW {name} AS {sql}")
    return connection.table(name)


def _identifier(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _spark_relation(table: ScannedTable, connection):
    from pyspark.sql import functions as F

    session = connection._session
    if table.csv_options:
        options = dict(table.csv_options)
        frame = session.read.csv(
            list(table.paths), header=True, sep=options["delim"], quote='"', escape='"', inferSchema=False,
            encoding="UTF-8", mode="PERMISSIVE",
        ).toDF(*list(options["names"]))  # type: ignore[call-overload]
    else:
        frame = session.read.parquet(*table.paths).toDF(*table.columns_)  # the names the scan gave (unnamed: "Unnamed: i")
    # Null markers keep (NULL, 'a') and ('a', NULL) apart: xxhash64 skips nulls.
    hashed = [F.coalesce(F.col(f"`{c}`").cast("string"), F.lit("\u0000")) for c in table.columns_]
    frame = frame.select(
        *[F.col(f"`{c}`") for c in table.columns_],
        F.lit(0).cast("bigint").alias(schema.SHEET),
        F.monotonically_increasing_id().alias(schema.ROW),
        F.xxhash64(*hashed).alias(schema.ROW_HASH),
    )
    name = engines.temp_name()
    frame.createOrReplaceTempView(name)
    return connection.table(name)
