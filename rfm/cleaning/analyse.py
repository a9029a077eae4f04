"""One call from a file to the RFM table, shared by the CLI and the app."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from rfm.cleaning.ledger import CleaningReport, CleaningSettings, clean
from rfm.cleaning.orders import order_table
from rfm.cleaning.table import DEFAULT_PROFIT_MARGIN, customer_contacts, customer_countries, rfm_table
from rfm.errors import RFMInputError
from rfm.reading.columns import MappingGuess, detect_mapping
from rfm.reading.files import RawTable, ReadInfo
from rfm.reading.scan import ScannedTable, open_transactions
from rfm.reading.values import normalise_text
from rfm.schema import FIELDS, ColumnMapping

PREVIEW_ROWS = 200


@dataclass(frozen=True)
class Analysis:
    """Everything a page or a command shows about one file: small, picklable, cacheable."""

    read_info: ReadInfo
    guess: MappingGuess
    report: CleaningReport
    customers: pd.DataFrame  # the RFM table, see rfm.cleaning.table.rfm_table
    preview: pd.DataFrame  # the first clean transactions, canonical columns
    countries: tuple[str, ...] = ()  # every country in the file, most rows first
    customer_country: pd.Series | None = None  # each customer's main country, when a country column is mapped
    orders: pd.DataFrame | None = None  # one row per order (rfm.cleaning.orders.order_table); None when not asked for
    # each customer's latest email and phone (rfm.cleaning.table.customer_contacts), when either column is mapped
    customer_contacts: pd.DataFrame | None = None

    def as_json(self) -> dict:
        """How the file was read and cleaned, as plain JSON values: ``python -m rfm inspect --json`` and every
        ``summary.json`` start with it."""
        info = self.read_info
        return {
            "file": info.file_name,
            "format": info.file_format,
            "encoding": info.encoding,
            "delimiter": info.delimiter,
            "sheets": list(info.sheets),
            "sheets_used": list(info.sheets_used),
            "confidence": dict(self.guess.confidence),
            **self.report.as_json(),
        }


def resolve_mapping(
    raw: RawTable | ScannedTable, overrides: Mapping[str, str | None] | None = None, guess: MappingGuess | None = None
) -> tuple[MappingGuess, ColumnMapping]:
    """Detected mapping with the user's overrides applied (``None`` or ``""`` unmaps a field). ``guess``: the file's
    :func:`~rfm.reading.columns.detect_mapping`, when the caller has it already (a quarter of a second on 1M rows)."""
    guess = guess if guess is not None else detect_mapping(raw.sample)
    overrides = dict(overrides or {})
    unknown = sorted(set(overrides) - set(FIELDS))
    if unknown:
        raise RFMInputError(f"Unknown field {unknown[0]!r} in the mapping; fields are {', '.join(FIELDS)}.")
    changes = {field: (column or None) for field, column in overrides.items()}
    return guess, guess.mapping.replace(**changes)


def mapping_overrides(
    detected: Mapping[str, str | None], picked: Mapping[str, str | None]
) -> tuple[tuple[str, str | None], ...]:
    """The overrides that give the ``picked`` mapping: the fields whose column differs from the ``detected`` one.

    Parameters
    ----------
    detected : mapping
        Field -> column found by :func:`rfm.reading.columns.detect_mapping` (``None``: not found).
    picked : mapping
        Field -> column the user wants (``None`` or ``""``: unmapped). Fields left out keep the detected column.

    Returns
    -------
    tuple of (field, column or None)
        In :data:`rfm.schema.FIELDS` order, so equal mappings give equal overrides (they key caches). Picking the
        current mapping again gives the overrides that made it: applying a form unchanged changes nothing.

    Examples
    --------
    >>> mapping_overrides({"customer_id": "Customer ID", "amount": "SALES"}, {"customer_id": "Customer ID", "amount": "SALES"})
    ()
    >>> mapping_overrides({"customer_id": "Customer ID", "amount": "SALES"}, {"amount": None})
    (('amount', None),)
    """
    changes = []
    for field in FIELDS:
        if field not in picked:
            continue
        column = picked[field] or None
        if column != (detected.get(field) or None):
            changes.append((field, column))
    return tuple(changes)


def analyse(
    raw: RawTable | ScannedTable,
    overrides: Mapping[str, str | None] | None = None,
    settings: CleaningSettings = CleaningSettings(),
    profit_margin: float = DEFAULT_PROFIT_MARGIN,
    with_orders: bool = True,
    guess: MappingGuess | None = None,
) -> Analysis:
    """Detect columns, clean and build the RFM table for a file already read.

    ``with_orders`` also keeps the order table (:func:`rfm.cleaning.orders.order_table`) that migration, CLV and the
    campaign KPIs need; commands that only write the RFM table or segments skip that pass. ``guess``: the file's
    detected mapping, when the caller has it already (see :func:`resolve_mapping`).
    """
    guess, mapping = resolve_mapping(raw, overrides, guess)
    result = clean(raw, mapping, settings)
    return Analysis(
        read_info=raw.info,
        guess=guess,
        report=result.report,
        customers=rfm_table(result, profit_margin=profit_margin),
        preview=result.to_pandas(limit=PREVIEW_ROWS),
        countries=country_values(raw, mapping),
        customer_country=customer_countries(result),
        orders=order_table(result) if with_orders else None,
        customer_contacts=customer_contacts(result),
    )


def country_values(raw: RawTable | ScannedTable, mapping: ColumnMapping) -> tuple[str, ...]:
    """Distinct countries of every row read (before any filter), most rows first (ties: alphabetical)."""
    if mapping.country is None:
        return ()
    counts = raw.value_counts(mapping.country)
    names = normalise_text(pd.Series(counts.index.to_numpy(), dtype="object"))
    totals = pd.Series(counts.to_numpy(), index=names.to_numpy()).groupby(level=0).sum()
    totals = totals[totals.index.notna()]
    return tuple(totals.sort_index().sort_values(ascending=False, kind="stable").index)


def analyse_file(
    source: bytes | str | Path,
    file_name: str | None = None,
    *,
    sheets: Sequence[str] | None = None,
    overrides: Mapping[str, str | None] | None = None,
    settings: CleaningSettings = CleaningSettings(),
    profit_margin: float = DEFAULT_PROFIT_MARGIN,
    backend: str = "duckdb",
    with_orders: bool = True,
) -> Analysis:
    """Open a file (scanned by the engine when it is CSV or Parquet; see :func:`rfm.reading.scan.open_transactions`)
    and :func:`analyse` it."""
    raw = open_transactions(source, file_name, sheets=sheets, backend=backend)
    return analyse(raw, overrides, settings, profit_margin, with_orders)


__all__ = ["Analysis", "analyse", "analyse_file", "mapping_overrides", "resolve_mapping"]
