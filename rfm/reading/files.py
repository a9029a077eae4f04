"""Reading transaction files: CSV/TSV/TXT, Excel (.xlsx/.xlsm/.xls), OpenDocument (.ods) and Parquet.

Everything here turns bytes into a :class:`RawTable`: the file's own columns, untouched apart from
text decoding, plus a :data:`rfm.schema.SHEET` column saying which sheet each row came from.
Typing the values (dates, numbers, ids) is :mod:`rfm.reading.values`'s job, so that every value that cannot
be read is counted by the cleaning ledger instead of being lost here.
"""

from __future__ import annotations

import codecs
import csv
import io
import os
import re
import unicodedata
import zipfile
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from rfm.errors import RFMInputError
from rfm.schema import SHEET

#: Refuse workbooks whose XML inflates beyond this many bytes (a "zip bomb" guard): the 1M-row
#: UCI workbook inflates to well under 1 GiB.
MAX_INFLATED_BYTES = 3 * 1024**3

#: Refuse workbooks whose sheets declare more rows than this: a workbook is read whole into memory
#: (the UCI workbook has 1,067,371); bigger data belongs in CSV or Parquet, which are scanned.
MAX_WORKBOOK_ROWS = 5_000_000

#: Workbooks at least this large load their sheets in parallel processes (starting a worker process has
#: a cost that only a large workbook repays).
PARALLEL_SHEETS_MIN_BYTES = 4 * 1024**2

_DELIMITERS = {",": ",", ";": ";", "\t": "tab", "|": "|"}
_SNIFF_LINES = 200
_LEGACY_ENCODINGS = ("cp1252", "latin_1", "cp437")  # on a tie, the first wins (cp1252 is by far the most common)


@dataclass(frozen=True)
class ReadInfo:
    """How a file was read: shown to the user so that nothing about it is a guess they cannot see."""

    file_name: str
    file_format: str  # "csv", "xlsx", "xls", "ods" or "parquet"
    encoding: str | None = None  # text files only
    delimiter: str | None = None  # text files only: ",", ";", "tab", "|" or "whitespace"
    header_line: int = 0  # lines skipped above the header (title rows)
    sheets: tuple[str, ...] = ()  # every sheet of a workbook
    sheets_used: tuple[str, ...] = ()  # the sheets combined into the table
    rows_per_sheet: tuple[int, ...] = ()
    notes: tuple[str, ...] = field(default=())

    def describe(self) -> str:
        """One line a person can read, e.g. ``CSV, utf-8, delimiter ';'``."""
        parts = [self.file_format.upper()]
        if self.encoding:
            parts.append(f"encoding {self.encoding}")
        if self.delimiter:
            parts.append(f"delimiter {self.delimiter!r}" if len(self.delimiter) == 1 else f"delimiter {self.delimiter}")
        if self.sheets_used:
            used = ", ".join(f"{name!r} ({rows:,} rows)" for name, rows in zip(self.sheets_used, self.rows_per_sheet))
            parts.append(f"sheets {used}")
        return ", ".join(parts)


@dataclass(frozen=True)
class RawTable:
    """A file's rows with its own column names, plus :data:`rfm.schema.SHEET` (sheet index)."""

    frame: pd.DataFrame
    info: ReadInfo

    @property
    def columns(self) -> list[str]:
        return [c for c in self.frame.columns if c != SHEET]

    @property
    def n_rows(self) -> int:
        return len(self.frame)

    @property
    def sample(self) -> pd.DataFrame:
        """The rows column detection looks at (all of them: it samples by itself)."""
        return self.frame

    def first_row(self) -> dict:
        return self.frame.drop(columns=SHEET).iloc[0].to_dict() if len(self.frame) else {}

    def value_counts(self, column: str) -> pd.Series:
        """Rows per distinct raw value of ``column``."""
        return self.frame[column].value_counts(dropna=True)


def sniff_format(data: bytes, file_name: str = "") -> str:
    """Tell the file's format from its first bytes (the extension can lie), falling back to the name."""
    if data[:4] == b"PK\x03\x04":
        if b"application/vnd.oasis.opendocument.spreadsheet" in data[:200]:
            return "ods"
        return "xlsx"
    if data[:8] == b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1":
        # An OLE container is either a legacy .xls or an encrypted (password-protected) OOXML file.
        if "EncryptedPackage".encode("utf-16-le") in data:
            raise RFMInputError(
                f"{file_name or 'The file'} is password-protected: open it in Excel, remove the password "
                "(File > Info > Protect Workbook) and save it again, or export it as CSV."
            )
        return "xls"
    if data[:4] == b"PAR1":
        return "parquet"
    return "csv"


def list_sheets(data: bytes, file_name: str = "") -> list[str]:
    """Names of a workbook's sheets, in order; ``[]`` for files that have no sheets."""
    if sniff_format(data, file_name) not in ("xlsx", "xls", "ods"):
        return []
    return list(_open_workbook(data, file_name).sheet_names)


def read_transactions(
    source: bytes | str | Path,
    file_name: str | None = None,
    *,
    sheets: Sequence[str] | None = None,
    max_bytes: int | None = None,
) -> RawTable:
    """Read a transaction file into a :class:`RawTable`.

    Parameters
    ----------
    source : bytes or path
        The file's content, or a path to it.
    file_name : str, optional
        Name shown in messages (defaults to the path's name).
    sheets : sequence of str, optional
        Workbook sheets to combine. By default every sheet that has transaction columns
        (a customer id, a date and money) is combined; rows are tagged with their sheet index.
    max_bytes : int, optional
        Refuse files larger than this (the app's upload limit).

    Returns
    -------
    RawTable
        ``frame`` holds the file's columns as read (text files: every column as text) plus
        ``source_sheet`` (int); ``info`` says how the file was read.

    Raises
    ------
    RFMInputError
        Empty file, no data rows, not a table, unreadable or password-protected workbook.

    Examples
    --------
    >>> raw = read_transactions(b"Customer,Date,Amount\\n1,2024-01-02,9.50\\n")
    >>> raw.info.delimiter, raw.frame.shape
    (',', (1, 4))
    """
    data, file_name = _file_bytes(source, file_name, max_bytes)
    file_format = sniff_format(data, file_name)
    if file_format in ("xlsx", "xls", "ods"):
        return _read_workbook(data, file_name, file_format, sheets)
    if file_format == "parquet":
        return _read_parquet(data, file_name)
    return _read_text(data, file_name)


def _file_bytes(source: bytes | str | Path, file_name: str | None, max_bytes: int | None) -> tuple[bytes, str]:
    """The bytes of ``source`` (its content, or a path to it) and the name messages give it.

    Raises
    ------
    RFMInputError
        The path cannot be read, or the file is over ``max_bytes`` or empty.
    """
    if isinstance(source, (str, Path)):
        path = Path(source)
        file_name = file_name or path.name
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise RFMInputError(f"Cannot read {path}: {exc.strerror or exc}") from None
    else:
        data = bytes(source)
    file_name = file_name or "uploaded file"
    if max_bytes is not None and len(data) > max_bytes:
        raise RFMInputError(
            f"{file_name} is {_size_text(len(data), max_bytes)}, over the upload limit of {_size_text(max_bytes)}; "
            "it was not read."
        )
    if not data.strip():
        raise RFMInputError(f"{file_name} is empty: it has no header and no rows.")
    return data, file_name


def _size_text(size: int, limit: int | None = None) -> str:
    """``"250.3 MB"``; exact bytes when rounding would make ``size`` read the same as ``limit``."""
    for unit, scale in (("GB", 1024**3), ("MB", 1024**2), ("KB", 1024)):
        if size >= scale:
            text = f"{size / scale:,.1f}".removesuffix(".0") + f" {unit}"
            break
    else:
        text = f"{size:,} bytes"
    if limit is not None and text == _size_text(limit):
        text = f"{size:,} bytes"
    return text


def _one_line(exc: BaseException) -> str:
    """The first line of a library's error message: messages are shown on one line (CLI stderr, st.error)."""
    lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
    return lines[0] if lines else type(exc).__name__


# --- text files -------------------------------------------------------------------------------


def decode_text(data: bytes, file_name: str = "") -> tuple[str, str]:
    """Decode a text file, returning ``(text, encoding_name)``.

    BOMs decide first (utf-8-sig, utf-16); then strict utf-8; then utf-16 without BOM (NUL bytes in
    every other position); then the legacy single-byte code page (cp1252, latin-1 or cp437) whose reading
    of the non-ASCII bytes looks most like words (see :func:`_text_plausibility`).
    """
    if data.startswith(codecs.BOM_UTF8):
        return data[len(codecs.BOM_UTF8) :].decode("utf-8", errors="replace"), "utf-8 with BOM"
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return data.decode("utf-16", errors="replace"), "utf-16"
    sample = data[:4000]
    even_nuls, odd_nuls = sample[0::2].count(0), sample[1::2].count(0)
    if len(sample) >= 4 and max(even_nuls, odd_nuls) > len(sample) // 4 and min(even_nuls, odd_nuls) == 0:
        encoding = "utf-16-le" if odd_nuls else "utf-16-be"
        return data.decode(encoding, errors="replace"), encoding
    if b"\x00" in sample:
        raise _not_a_table(file_name, "it contains binary data")
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    # charset-normalizer reads cp437 files with a few accents (Caf\x82, M\x81ller) as cp1252 or latin-1: score
    # the readings instead. The three code pages agree on ASCII, so only the non-ASCII characters matter.
    sample = data[:200_000]
    scores = {}
    for encoding in _LEGACY_ENCODINGS:
        try:
            scores[encoding] = _text_plausibility(sample.decode(encoding))
        except UnicodeDecodeError:  # cp1252 leaves five bytes undefined
            continue
    encoding = max(scores, key=lambda name: (scores[name], -_LEGACY_ENCODINGS.index(name)))
    try:
        return data.decode(encoding), encoding
    except UnicodeDecodeError:  # an undefined cp1252 byte after the sample
        return data.decode("latin_1"), "latin_1"


_RARE_PUNCTUATION = set("‚„†‡‰‹›")  # where cp437's é ä å ç ë ï ¢ land when read as cp1252
_RARE_LATIN = set("ƒŠšŒœŽžŸ")  # cp1252 letters outside Western European words (cp437's â è Ü î £ Ä ₧ land here)


def _text_plausibility(text: str, limit: int = 5_000) -> int:
    """How much the non-ASCII characters of ``text`` look like real text: + for a Latin letter inside a word
    of ASCII letters (same case), a currency sign beside digits, a run of box drawing, typographic
    punctuation where it belongs; - for other scripts, symbols inside words and control characters."""
    score = 0
    for count, match in enumerate(re.finditer(r"[^\x00-\x7f]", text)):
        if count == limit:
            break
        i = match.start()
        char = text[i]
        before = text[i - 1] if i else " "
        after = text[i + 1] if i + 1 < len(text) else " "
        category = unicodedata.category(char)
        if category == "Cc":
            score -= 2
        elif char.isalpha():
            score += _letter_plausibility(text, i)
        elif category == "Sc":
            score += -1 if before.isalpha() or after.isalpha() else 1
        elif "\u2500" <= char <= "\u259f":  # box drawing and blocks
            score += 1 if "\u2500" <= before <= "\u259f" or "\u2500" <= after <= "\u259f" else -1
        elif char in _RARE_PUNCTUATION:
            score -= 1
        elif before.isalpha() and after.isalpha():
            score += 1 if char == "\u2019" else -1  # only an apostrophe sits inside a word
        elif char in "…–—" and not after.isalpha():
            score += 1
        elif (char in "“‘" and after.isalnum()) or (char in "”’" and before.isalnum()):
            score += 1  # quotes at the edges of a word
    return score


def _letter_plausibility(text: str, i: int) -> int:
    char = text[i]
    if not unicodedata.name(char, "").startswith("LATIN"):
        return -1  # Greek, superscripts, modifier letters: cp1252's é è à read as cp437
    start, end = i, i + 1
    while start > 0 and text[start - 1].isalpha():
        start -= 1
    while end < len(text) and text[end].isalpha():
        end += 1
    ascii_letters = [c for c in text[start:end] if c.isascii()]
    if not ascii_letters or char in _RARE_LATIN:
        return 0
    before = text[i - 1] if i else " "
    if char.isupper() and before.islower():
        return -1  # "crŠme"
    if char.islower() and len(ascii_letters) >= 2 and all(c.isupper() for c in ascii_letters):
        return -1  # "MšLLER"
    return 1


def _not_a_table(file_name: str, why: str) -> RFMInputError:
    return RFMInputError(
        f"{file_name or 'The file'} is not a table ({why}). Upload a CSV/TSV/TXT, Excel (.xlsx/.xls), "
        "OpenDocument (.ods) or Parquet file of transactions."
    )


def sniff_delimiter(lines: list[str]) -> tuple[str, int, int]:
    """Choose the delimiter of some text lines.

    Returns ``(delimiter, n_fields, header_line)``: the delimiter whose field count is the most
    consistent across lines (``"whitespace"`` for runs of spaces/tabs), its usual field count, and
    the first line with that count (lines above it are title rows).
    """
    best: tuple[float, int, str] | None = None
    for delimiter in _DELIMITERS:
        counts = [len(row) for row in csv.reader(lines, delimiter=delimiter)]
        n_fields, share = _modal_count(counts)
        if n_fields > 1 and (best is None or (share, n_fields) > best[:2]):
            best = (share, n_fields, delimiter)
    if best is None or best[0] < 0.8:
        counts = [len(line.split()) for line in lines]
        n_fields, share = _modal_count(counts)
        if n_fields > 1 and (best is None or share > best[0]):
            best = (share, n_fields, "whitespace")
    if best is None:
        raise RFMInputError("no delimiter splits the lines into columns")
    share, n_fields, delimiter = best
    counts = [len(line.split()) for line in lines] if delimiter == "whitespace" else [len(row) for row in csv.reader(lines, delimiter=delimiter)]
    header_line = next(i for i, count in enumerate(counts) if count == n_fields)
    return delimiter, n_fields, header_line


def _modal_count(counts: list[int]) -> tuple[int, float]:
    if not counts:
        return 0, 0.0
    n_fields, hits = Counter(counts).most_common(1)[0]
    return n_fields, hits / len(counts)


def text_layout(text: str, file_name: str) -> tuple[str, int, int, str]:
    """How a text file's table is laid out, from its first lines: ``(delimiter, title_lines, skip, header)``.

    ``title_lines`` counts the non-blank lines above the header, ``skip`` the physical lines (blank ones
    included) to skip to reach it, ``header`` is the header line itself. Shared by the in-memory reader and
    the engine's scan (:mod:`rfm.reading.scan`), so both refuse the same files with the same messages.
    """
    control = sum(1 for ch in text[:4000] if ord(ch) < 32 and ch not in "\r\n\t") + text[:4000].count("\ufffd")
    if control > len(text[:4000]) * 0.02:
        raise _not_a_table(file_name, "it contains binary data")
    lines = [line for line in text.splitlines()[: _SNIFF_LINES * 2] if line.strip()][:_SNIFF_LINES]
    if len(lines) < 2:
        raise RFMInputError(f"{file_name} has a header row but no data rows." if lines else f"{file_name} is empty.")
    try:
        delimiter, _, header_line = sniff_delimiter(lines)
    except RFMInputError:
        raise _not_a_table(file_name, "no delimiter splits its lines into columns") from None
    skip = _physical_line_of(text, lines[header_line]) if header_line else 0
    return delimiter, header_line, skip, lines[header_line]


def _read_text(data: bytes, file_name: str) -> RawTable:
    text, encoding = decode_text(data, file_name)
    delimiter, header_line, skip, _ = text_layout(text, file_name)
    sep = r"\s+" if delimiter == "whitespace" else delimiter
    try:
        frame = pd.read_csv(
            io.StringIO(text),
            sep=sep,
            skiprows=skip,
            dtype=str,
            keep_default_na=False,
            na_values=[""],
            skip_blank_lines=True,
            engine="c" if delimiter != "whitespace" else "python",
        )
    except pd.errors.ParserError as exc:
        raise RFMInputError(
            f"{file_name} could not be split into columns with delimiter {delimiter!r}: {_one_line(exc)}"
        ) from None
    except pd.errors.EmptyDataError:
        raise RFMInputError(f"{file_name} is empty.") from None
    if frame.empty:
        raise RFMInputError(f"{file_name} has a header row but no data rows.")
    notes = []
    if header_line:
        notes.append(f"Skipped {header_line} title line(s) above the header.")
    frame[SHEET] = 0
    info = ReadInfo(
        file_name=file_name,
        file_format="csv",
        encoding=encoding,
        delimiter=_DELIMITERS.get(delimiter, delimiter),
        header_line=skip,
        rows_per_sheet=(len(frame),),
        notes=tuple(notes),
    )
    return RawTable(frame=frame, info=info)


def _physical_line_of(text: str, line: str) -> int:
    """Index of ``line`` among the text's physical lines (blank lines included), for ``skiprows``."""
    for index, candidate in enumerate(text.splitlines()):
        if candidate == line:
            return index
    return 0


# --- workbooks --------------------------------------------------------------------------------


def _open_workbook(data: bytes, file_name: str):
    import fastexcel

    if data[:4] == b"PK\x03\x04":
        _check_inflated_size(data, file_name)
    try:
        return fastexcel.read_excel(data)
    except Exception as exc:  # fastexcel raises several unrelated types for a damaged file
        raise RFMInputError(
            f"{file_name or 'The workbook'} cannot be opened as a workbook; it may be damaged ({_one_line(exc)})."
        ) from None


def _check_inflated_size(data: bytes, file_name: str) -> None:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            inflated = sum(member.file_size for member in archive.infolist())
    except zipfile.BadZipFile:
        raise RFMInputError(f"{file_name or 'The workbook'} is damaged: it is not a complete .xlsx/.ods archive.") from None
    if inflated > MAX_INFLATED_BYTES:
        raise RFMInputError(
            f"{file_name or 'The workbook'} inflates to {inflated / 1024**3:,.1f} GiB when unpacked, over the "
            f"{MAX_INFLATED_BYTES / 1024**3:,.0f} GiB limit; it was not read."
        )
    rows = _declared_rows(data)
    if rows > MAX_WORKBOOK_ROWS:
        raise RFMInputError(
            f"{file_name or 'The workbook'} declares {rows:,} rows in its sheets, over the limit of "
            f"{MAX_WORKBOOK_ROWS:,} for a workbook (read whole into memory); it was not read. Export it as CSV or "
            "Parquet instead: those are scanned by the engine, whatever their size."
        )


_DIMENSION = re.compile(rb'<(?:\w+:)?dimension\s+ref="[A-Z]+\d+(?::[A-Z]+(\d+))?"')


def _declared_rows(data: bytes) -> int:
    """Rows an .xlsx's sheets declare in their ``<dimension ref="A1:H541910"/>``, read from the first bytes
    of each sheet (nothing is parsed); 0 when a sheet declares none (other writers, .ods)."""
    total = 0
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        for member in archive.infolist():
            if not (member.filename.startswith("xl/worksheets/") and member.filename.endswith(".xml")):
                continue
            with archive.open(member) as sheet:
                head = sheet.read(4096)
            found = _DIMENSION.search(head)
            if found and found.group(1):
                total += int(found.group(1))
    return total


def _read_workbook(data: bytes, file_name: str, file_format: str, sheets: Sequence[str] | None) -> RawTable:
    from rfm.reading.columns import detect_mapping

    workbook = _open_workbook(data, file_name)
    all_sheets = tuple(workbook.sheet_names)
    unknown = [name for name in (sheets or ()) if name not in all_sheets]
    if unknown:
        raise RFMInputError(f"{file_name} has no sheet named {unknown[0]!r}; its sheets are {list(all_sheets)}.")
    wanted = list(sheets) if sheets else list(all_sheets)
    frames: dict[str, pd.DataFrame] = {}
    notes: list[str] = []
    for name, frame in zip(wanted, _load_sheets(data, wanted, file_name)):
        blank = int(frame.isna().all(axis=1).sum())
        if blank:
            # Wholly empty rows hold no transaction; say that they were passed over.
            notes.append(f"Sheet {name!r}: passed over {blank:,} empty row(s).")
            frame = frame.dropna(how="all").reset_index(drop=True)  # noqa: PLW2901 - the sheet, kept without its empty rows
        if not frame.empty:
            frames[name] = frame
    if not frames:
        raise RFMInputError(f"{file_name} has a header row but no data rows in sheet(s) {wanted}.")
    same_columns = len({tuple(f.columns) for f in frames.values()}) == 1
    if not sheets and not (same_columns and len(frames) > 1):
        # Sheets that share one header are one table split by period (like UCI's two years): the
        # mapping is detected on the combined rows. Otherwise keep the sheets that hold transactions.
        usable = {name: f for name, f in frames.items() if not detect_mapping(f).mapping.missing_required()}
        skipped = [name for name in frames if name not in usable]
        if usable and skipped:
            notes.append(f"Skipped sheet(s) without transaction columns: {', '.join(skipped)}.")
        frames = usable or dict(list(frames.items())[:1])
    for name, frame in frames.items():
        frame[SHEET] = all_sheets.index(name)
    combined = pd.concat(list(frames.values()), ignore_index=True) if len(frames) > 1 else next(iter(frames.values()))
    info = ReadInfo(
        file_name=file_name,
        file_format=file_format,
        sheets=all_sheets,
        sheets_used=tuple(frames),
        rows_per_sheet=tuple(len(f) for f in frames.values()),
        notes=tuple(notes),
    )
    return RawTable(frame=combined, info=info)


def _load_sheets(data: bytes, names: list[str], file_name: str) -> list[pd.DataFrame]:
    """Each named sheet as a frame. Large workbooks load their sheets in parallel worker processes:
    calamine parses one sheet on one core, the slowest step on a large workbook (see bench/RESULTS.md),
    and it holds the GIL."""
    from rfm.reading.sheets import load_sheet_arrow, load_sheet_in_subprocess

    workers = min(len(names), os.cpu_count() or 1)
    results = None
    if workers > 1 and len(data) >= PARALLEL_SHEETS_MIN_BYTES:
        results = _in_parallel(load_sheet_in_subprocess, data, names, workers)
    if results is None:
        results = [load_sheet_arrow(data, name) for name in names]
    frames = []
    for name, (table, error) in zip(names, results):
        if error is not None:
            raise RFMInputError(f"Sheet {name!r} of {file_name} cannot be read; it may be damaged ({_one_line(error)}).")
        frame = table.to_pandas()
        frame.columns = [_column_name(c, i) for i, c in enumerate(frame.columns)]
        frames.append(frame)
    return frames


def _in_parallel(function, data: bytes, names: list[str], workers: int) -> list | None:
    """``function(data, name)`` for each name on threads (each waits on its own worker process);
    ``None`` if worker processes cannot run here, so the caller reads in this process instead."""
    from concurrent.futures import ThreadPoolExecutor

    try:
        with ThreadPoolExecutor(workers) as pool:
            return list(pool.map(function, [data] * len(names), names))
    except OSError as error:  # no process can start (a locked-down host): slower, not wrong; said in the log
        import logging

        logging.getLogger(__name__).warning("Reading sheets in this process: worker processes cannot start (%s).", error)
        return None


def unique_names(names: Sequence[object]) -> list[str]:
    """Column names as pandas gives them for a CSV header: blanks become ``Unnamed: i``, repeats ``name.1``."""
    unique: list[str] = []
    seen: dict[str, int] = {}
    for position, raw in enumerate(names):
        name = str(raw) if raw is not None and str(raw).strip() else f"Unnamed: {position}"
        if name in seen:
            count = seen[name]
            while f"{name}.{count}" in seen:
                count += 1
            seen[name] = count + 1
            name = f"{name}.{count}"
        seen.setdefault(name, 1)
        unique.append(name)
    return unique


def _column_name(name: object, position: int) -> str:
    text = str(name).strip() if name is not None else ""
    return text if text and not re.fullmatch(r"__UNNAMED__\d+", text) else f"Unnamed: {position}"


# --- parquet ----------------------------------------------------------------------------------


def _read_parquet(data: bytes, file_name: str) -> RawTable:
    import pyarrow as pa

    try:
        frame = pd.read_parquet(io.BytesIO(data))
    except (OSError, ValueError, pa.ArrowException) as exc:
        raise RFMInputError(f"{file_name} cannot be read as Parquet; it may be damaged ({_one_line(exc)}).") from None
    if frame.empty:
        raise RFMInputError(f"{file_name} has columns but no data rows.")
    frame = frame.reset_index(drop=True)
    frame.columns = unique_names(frame.columns)
    frame[SHEET] = 0
    info = ReadInfo(file_name=file_name, file_format="parquet", rows_per_sheet=(len(frame),))
    return RawTable(frame=frame, info=info)
