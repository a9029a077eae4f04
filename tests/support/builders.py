"""Files built in the tests themselves (no binary fixtures in git), and a runner for ``python -m rfm``."""

from __future__ import annotations

import io
import struct
import subprocess
import sys
import zipfile
from pathlib import Path
from xml.sax.saxutils import escape

import pandas as pd

ROOT = Path(__file__).resolve().parents[2]


OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"


def start_cli(*args: object) -> subprocess.Popen:
    """Start ``python -m rfm ARGS`` from the project root, as a user runs it; ``communicate()`` to wait.

    Each run costs ~1.5 s of interpreter start-up, so tests start their runs together and then wait."""
    return subprocess.Popen(
        [sys.executable, "-m", "rfm", *map(str, args)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def run_cli_all(commands: dict[str, list]) -> dict[str, subprocess.CompletedProcess]:
    """Start every ``python -m rfm`` command at once, then wait for all; keyed like ``commands``."""
    processes = {key: start_cli(*args) for key, args in commands.items()}
    runs = {}
    try:
        for key, process in processes.items():
            stdout, stderr = process.communicate(timeout=120)
            runs[key] = subprocess.CompletedProcess(process.args, process.returncode, stdout, stderr)
    finally:  # a hung run must not leave the others behind
        for process in processes.values():
            if process.poll() is None:
                process.kill()
                process.communicate()
    return runs


def xlsx_bytes(sheets: dict[str, pd.DataFrame]) -> bytes:
    """A real .xlsx written by openpyxl, one sheet per frame, in order."""
    buffer = io.BytesIO()
    with pd.ExcelWriter(buffer, engine="openpyxl") as writer:
        for name, frame in sheets.items():
            frame.to_excel(writer, sheet_name=name, index=False)
    return buffer.getvalue()


def ods_bytes(sheets: dict[str, list[list[object]]]) -> bytes:
    """A minimal OpenDocument spreadsheet written by hand (odfpy is not a dependency): mimetype stored first,
    a manifest, and content.xml with one table per sheet; numbers as float cells, the rest as strings."""

    def cell(value: object) -> str:
        kind = f'office:value-type="float" office:value="{value}"' if isinstance(value, (int, float)) else 'office:value-type="string"'
        return f"<table:table-cell {kind}><text:p>{escape(str(value))}</text:p></table:table-cell>"

    tables = "".join(
        f'<table:table table:name="{escape(name)}">'
        + "".join("<table:table-row>" + "".join(cell(v) for v in row) + "</table:table-row>" for row in rows)
        + "</table:table>"
        for name, rows in sheets.items()
    )
    content = (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<office:document-content xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" '
        'xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" '
        'xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" office:version="1.2">'
        f"<office:body><office:spreadsheet>{tables}</office:spreadsheet></office:body></office:document-content>"
    )
    manifest = (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<manifest:manifest xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0" manifest:version="1.2">'
        '<manifest:file-entry manifest:full-path="/" '
        'manifest:media-type="application/vnd.oasis.opendocument.spreadsheet"/>'
        '<manifest:file-entry manifest:full-path="content.xml" manifest:media-type="text/xml"/></manifest:manifest>'
    )
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr(zipfile.ZipInfo("mimetype"), "application/vnd.oasis.opendocument.spreadsheet")
        archive.writestr("META-INF/manifest.xml", manifest, compress_type=zipfile.ZIP_DEFLATED)
        archive.writestr("content.xml", content, compress_type=zipfile.ZIP_DEFLATED)
    return buffer.getvalue()


def _biff_record(kind: int, payload: bytes = b"") -> bytes:
    return struct.pack("<HH", kind, len(payload)) + payload


def _biff8_workbook_stream(sheets: dict[str, list[list[object]]]) -> bytes:
    """BIFF8 records: globals (BOF, CODEPAGE, BOUNDSHEET per sheet, EOF), then per sheet BOF, DIMENSIONS,
    NUMBER/LABEL cells, EOF."""

    def bof(kind: int) -> bytes:
        return _biff_record(0x0809, struct.pack("<HHHHII", 0x0600, kind, 0x0DBB, 0x07CC, 0, 6))

    sheet_streams = []
    for rows in sheets.values():
        body = bof(0x0010) + _biff_record(0x0200, struct.pack("<IIHHH", 0, len(rows), 0, max(map(len, rows)), 0))
        for r, row in enumerate(rows):
            for c, value in enumerate(row):
                if isinstance(value, (int, float)):
                    body += _biff_record(0x0203, struct.pack("<HHHd", r, c, 15, float(value)))
                else:
                    text = str(value)
                    label = struct.pack("<HHHHB", r, c, 15, len(text), 1) + text.encode("utf-16-le")
                    body += _biff_record(0x0204, label)
        sheet_streams.append(body + _biff_record(0x000A))

    def globals_part(offsets: list[int]) -> bytes:
        part = bof(0x0005) + _biff_record(0x0042, struct.pack("<H", 1200))
        for name, offset in zip(sheets, offsets):
            part += _biff_record(0x0085, struct.pack("<IBBBB", offset, 0, 0, len(name), 1) + name.encode("utf-16-le"))
        return part + _biff_record(0x000A)

    position, offsets = len(globals_part([0] * len(sheets))), []
    for stream in sheet_streams:
        offsets.append(position)
        position += len(stream)
    return globals_part(offsets) + b"".join(sheet_streams)


def ole_file(stream_name: str, stream: bytes) -> bytes:
    """An OLE2 compound file (version 3, 512-byte sectors) holding one stream: header, one FAT sector,
    one directory sector, then the stream (padded past the 4096-byte mini-stream cutoff)."""
    sector, end, free = 512, 0xFFFFFFFE, 0xFFFFFFFF
    stream = stream.ljust(max(4096, -(-len(stream) // sector) * sector), b"\x00")
    n_sectors = len(stream) // sector
    fat = [0xFFFFFFFD, end] + [3 + i for i in range(n_sectors - 1)] + [end]
    fat += [free] * (128 - len(fat))

    def entry(name: str, kind: int, child: int, start: int, size: int) -> bytes:
        raw = (name + "\x00").encode("utf-16-le") if name else b""
        return (
            raw.ljust(64, b"\x00")
            + struct.pack("<HBBIII", len(raw), kind, 1, free, free, child)
            + b"\x00" * 36
            + struct.pack("<IQ", start, size)
        )

    root = entry("Root Entry", 5, 1, end, 0)
    directory = root + entry(stream_name, 2, free, 2, len(stream)) + entry("", 0, free, free, 0) * 2
    header = (
        OLE_MAGIC
        + b"\x00" * 16
        + struct.pack("<HHHHH", 0x3E, 3, 0xFFFE, 9, 6)
        + b"\x00" * 6
        + struct.pack("<9I", 0, 1, 1, 0, 4096, end, 0, end, 0)
        + struct.pack("<I", 0)
        + struct.pack("<I", free) * 108
    )
    return header + struct.pack("<128I", *fat) + directory + stream


def xls_bytes(sheets: dict[str, list[list[object]]]) -> bytes:
    """A legacy .xls (BIFF8 in an OLE2 container) written by hand: no xls writer is a dependency."""
    return ole_file("Workbook", _biff8_workbook_stream(sheets))


def encrypted_xlsx_bytes() -> bytes:
    """What Excel saves for a password-protected workbook: an OLE2 container whose directory names an
    "EncryptedPackage" stream (UTF-16-LE, as the reader looks for it) instead of a zip."""
    return ole_file("EncryptedPackage", bytes(range(256)) * 8)
