"""Cleaning with a ledger: every row removed is counted under a named rule.

Rows in = rows kept + the sum of the ledger, always. Rules are data (:class:`Rule`): a name, a
description and an ibis predicate; the first rule that matches a row claims it. Optional rules
(exact duplicates, a date window, a country filter) are always evaluated and reported as
"would remove N" when they are off.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from rfm import schema
from rfm.cleaning import engine
from rfm.errors import RFMInputError
from rfm.reading.files import RawTable
from rfm.reading.scan import ScannedTable
from rfm.reading.values import DateDecision, normalise_ids, normalise_text, parse_dates, parse_numbers
from rfm.schema import ColumnMapping, DateOrder

if TYPE_CHECKING:
    import ibis
    from ibis.backends import BaseBackend

RULE = "rule"
#: A line worth more than this (in any currency) is a data error; it would also overflow sums and rounding.
MAX_LINE_VALUE = 1e12
DUPLICATE_RULE = "exact duplicate row"
_FIRST_SHEET = "first_sheet_of_key"
_DUPLICATE_RANK = "duplicate_rank"


@dataclass(frozen=True)
class CleaningSettings:
    """What the cleaning step does; frozen so it can key a cache.

    ``date_from``/``date_to`` and ``countries`` set the optional filters (inclusive dates; an empty
    ``countries`` keeps every country). ``analysis_date`` (default: the latest purchase date kept)
    also removes purchases after it.
    """

    date_order: DateOrder = "auto"
    cancel_prefix: str = "C"
    analysis_date: dt.date | None = None
    drop_duplicates: bool = False
    date_from: dt.date | None = None
    date_to: dt.date | None = None
    countries: tuple[str, ...] = ()


@dataclass(frozen=True)
class Rule:
    """A cleaning rule: ``predicate(table)`` is true for the rows the rule removes."""

    name: str
    description: str
    predicate: Callable = field(compare=False, repr=False)


@dataclass(frozen=True)
class LedgerLine:
    """One rule's line: rows and revenue it removed (or would remove) and up to two example rows."""

    rule: str
    description: str
    rows: int
    revenue: float
    examples: tuple[tuple[tuple[str, str], ...], ...] = ()  # each example: (column, value) pairs
    applied: bool = True

    def example_dicts(self) -> list[dict[str, str]]:
        return [dict(example) for example in self.examples]


@dataclass(frozen=True)
class CleaningReport:
    """What cleaning did: the ledger, what was kept, and every decision taken on the way."""

    rows_read: int
    rows_clean: int
    customers: int
    revenue: float
    first_date: dt.datetime  # a report exists only when some row is kept (else clean() refuses the file)
    last_date: dt.datetime
    analysis_date: dt.date
    ledger: tuple[LedgerLine, ...]
    optional: tuple[LedgerLine, ...]
    mapping: ColumnMapping
    date_decision: DateDecision
    notes: tuple[str, ...] = ()
    warnings: tuple[str, ...] = ()

    @property
    def rows_removed(self) -> int:
        return sum(line.rows for line in self.ledger)

    def ledger_frame(self, include_optional: bool = True) -> pd.DataFrame:
        """The ledger as a table: rule, description, rows, revenue, applied, example."""
        lines = list(self.ledger) + (list(self.optional) if include_optional else [])
        return pd.DataFrame(
            {
                "rule": [line.rule for line in lines],
                "description": [line.description for line in lines],
                "rows": [line.rows for line in lines],
                "revenue": [line.revenue for line in lines],
                "applied": [line.applied for line in lines],
                "example": [_example_text(line) for line in lines],
            }
        )

    def as_json(self) -> dict:
        return {
            "rows_read": self.rows_read,
            "rows_clean": self.rows_clean,
            "customers": self.customers,
            "revenue": round(self.revenue, 2),
            "first_date": self.first_date.isoformat(),
            "last_date": self.last_date.isoformat(),
            "analysis_date": self.analysis_date.isoformat(),
            "mapping": self.mapping.mapped(),
            "date_order": self.date_decision.order,
            "date_note": self.date_decision.note,
            "ledger": [_line_json(line) for line in self.ledger],
            "optional_rules": [_line_json(line) for line in self.optional],
            "notes": list(self.notes),
            "warnings": list(self.warnings),
        }


def _line_json(line: LedgerLine) -> dict:
    return {
        "rule": line.rule,
        "description": line.description,
        "rows": line.rows,
        "revenue": round(line.revenue, 2),
        "applied": line.applied,
        "examples": line.example_dicts(),
    }


def _example_text(line: LedgerLine) -> str:
    if not line.examples:
        return ""
    return " | ".join(", ".join(f"{k}={v}" for k, v in example) for example in line.examples[:1])


@dataclass(frozen=True)
class CleanResult:
    """Clean transactions (an ibis table in the engine) and the :class:`CleaningReport`."""

    transactions: ibis.Table  # kept rows with canonical columns, in the engine
    report: CleaningReport

    def to_pandas(self, limit: int | None = None) -> pd.DataFrame:
        """Kept transactions with canonical columns, in file order."""
        table = self.transactions.order_by(schema.ROW)
        if limit is not None:
            table = table.limit(limit)
        return table.select(*_CANONICAL_OUTPUT).to_pandas()


_CANONICAL_OUTPUT = (
    schema.CUSTOMER_ID,
    schema.INVOICE_ID,
    schema.INVOICE_DATE,
    schema.QUANTITY,
    schema.UNIT_PRICE,
    schema.AMOUNT,
    schema.LINE_VALUE,
    schema.COUNTRY,
    schema.PRODUCT,
    schema.EMAIL,
    schema.PHONE,
)


# --- typing the raw columns -------------------------------------------------------------------


def validate_mapping(raw: RawTable | ScannedTable, mapping: ColumnMapping) -> None:
    """Raise :class:`RFMInputError` if required fields are unmapped or mapped to absent columns."""
    absent = {f: c for f, c in mapping.mapped().items() if c not in raw.columns}
    if absent:
        field_name, column = next(iter(absent.items()))
        raise RFMInputError(
            f"Column {column!r} (mapped to {field_name}) is not in {raw.info.file_name}; its columns are {raw.columns}."
        )
    missing = mapping.missing_required()
    if missing:
        raise RFMInputError(
            f"No column of {raw.info.file_name} could be recognised as {' or '.join(missing)} "
            f"(looked at {len(raw.columns)} columns: {raw.columns}; first row: {_short(raw.first_row())}). "
            "Map the column by hand (app: Data page; CLI: --map field=COLUMN)."
        )


def _short(row: dict, limit: int = 6) -> str:
    items = list(row.items())[:limit]
    return "{" + ", ".join(f"{k}: {v!r}" for k, v in items) + (", ..." if len(row) > limit else "") + "}"


def typed_transactions(
    raw: RawTable, mapping: ColumnMapping, date_order: DateOrder = "auto"
) -> tuple[pd.DataFrame, DateDecision, list[str]]:
    """Canonical, typed columns for every raw row (nothing dropped here).

    Returns
    -------
    frame : DataFrame
        One row per raw row: ``customer_id`` and ``invoice_id`` (str), ``invoice_date``
        (datetime64), ``quantity``, ``unit_price``, ``amount``, ``line_value`` (float; NaN where not
        a number), ``country``, ``product``, ``email``, ``phone`` (str, stripped; missing when not mapped),
        ``source_sheet``, ``source_row``, ``row_hash``.
    date_decision : DateDecision
    notes : list of str
        Decisions a user should know about (number formats, no invoice column...).
    """
    validate_mapping(raw, mapping)
    source = raw.frame.reset_index(drop=True)  # rows are aligned by position from here on
    n_rows = len(source)
    notes: list[str] = []
    out = pd.DataFrame(index=pd.RangeIndex(n_rows))
    out[schema.CUSTOMER_ID] = normalise_ids(source[mapping.customer_id])
    if mapping.invoice_id:
        out[schema.INVOICE_ID] = normalise_ids(source[mapping.invoice_id])
    else:
        out[schema.INVOICE_ID] = pd.Series(np.arange(n_rows), dtype="int64").astype("str").radd("row-")
        notes.append("No invoice column: each row counts as one purchase (frequency = number of rows).")
    dates, decision = parse_dates(source[mapping.invoice_date], date_order)
    out[schema.INVOICE_DATE] = dates.astype("datetime64[us]").to_numpy()
    for field_name in (schema.QUANTITY, schema.UNIT_PRICE, schema.AMOUNT):
        column = getattr(mapping, field_name)
        if column is None:
            out[field_name] = np.nan
            continue
        numbers, number_note = parse_numbers(source[column], column)
        out[field_name] = numbers.to_numpy()
        if described := number_note.describe():
            notes.append(described)
    # The engine's formula too (line_value), run here by pandas: a missing factor gives NaN where the engine
    # gives NULL, and engine.load_frame turns NaN into NULL as it hands the frame over, so both paths agree.
    out[schema.LINE_VALUE] = line_value(mapping, out)
    for field_name in _FREE_TEXT:
        column = getattr(mapping, field_name)
        out[field_name] = normalise_text(source[column]) if column else pd.Series(pd.NA, index=out.index, dtype="str")
    out[schema.SHEET] = source[schema.SHEET].to_numpy(dtype="int64")
    out[schema.ROW] = np.arange(n_rows, dtype="int64")
    out[schema.ROW_HASH] = pd.util.hash_pandas_object(source.drop(columns=schema.SHEET), index=False).to_numpy().view("int64")
    # Explicit types: a column that is wholly missing must still reach the engine as text or float.
    out = out.astype({**dict.fromkeys(_TEXT_COLUMNS, "str"), **dict.fromkeys(_NUMBER_COLUMNS, "float64")})
    return out, decision, notes


#: Free text, stripped of surrounding spaces and nothing else (an email or phone is never checked: a malformed
#: one is still a purchase, and no rule reads these columns).
_FREE_TEXT = (schema.COUNTRY, schema.PRODUCT, schema.EMAIL, schema.PHONE)
_TEXT_COLUMNS = (schema.CUSTOMER_ID, schema.INVOICE_ID, *_FREE_TEXT)
_NUMBER_COLUMNS = (schema.QUANTITY, schema.UNIT_PRICE, schema.AMOUNT, schema.LINE_VALUE)


def line_value(mapping: ColumnMapping, columns: pd.DataFrame | ibis.Table | Mapping[str, Any]) -> Any:
    """What one transaction line is worth: ``amount`` when the mapping has one, else ``quantity × unit_price``.

    The one definition of the line value, for every path: ``columns`` gives the canonical number
    columns by name, either as a pandas frame (the in-memory path, :func:`typed_transactions`) or
    as ibis columns (the engine's, :func:`typed_relation`, and the warehouse SQL,
    :func:`rfm.cleaning.sql.source_table`); the result is a pandas Series or an ibis column to match.
    Nothing is rounded: a float64 product, missing where either factor is missing, infinite where it
    overflows (the "line value too large" rule removes such lines).
    """
    if mapping.uses_amount:
        return columns[schema.AMOUNT]
    return columns[schema.QUANTITY] * columns[schema.UNIT_PRICE]


def typed_relation(
    raw: ScannedTable, mapping: ColumnMapping, date_order: DateOrder, connection: BaseBackend
) -> tuple[ibis.Table, DateDecision, list[str]]:
    """The same canonical, typed columns as :func:`typed_transactions`, as an ibis table in the engine.

    Each mapped column is typed by the same parser, run on the column's distinct values and joined
    back by the engine. Where the engine can say the same thing directly, it does, without a join:
    a Parquet column that already holds numbers or timestamps is cast (a non-finite number is
    missing, as the parser says), and a text column the parser leaves unchanged is used as it is.
    """
    validate_mapping(raw, mapping)
    columns = _EngineColumns(raw, raw.relation(connection))
    columns.add_ids(mapping)
    decision = columns.add_date(mapping.required(schema.INVOICE_DATE), date_order)
    columns.add_numbers(mapping)
    columns.add_texts(mapping)
    return columns.typed_table(mapping, connection), decision, columns.notes


class _EngineColumns:
    """The canonical columns of a scanned table, typed field by field for :func:`typed_relation`.

    Each field's output is a function of the final table (the source joined to every lookup), so it
    can name the lookups' columns. A lookup is a small frame of one raw column's distinct values
    (``_key{i}``) and their typed values (``_value{i}``), joined to the source by the engine.
    """

    def __init__(self, raw: ScannedTable, source: ibis.Table) -> None:
        self.raw = raw
        self.source = source
        self.notes: list[str] = []
        self.outputs: dict[str, Callable] = {}
        self.lookups: list[tuple[str, pd.DataFrame]] = []  # (raw column, rows: key, value)

    def distinct(self, column: str) -> pd.Series:
        """The distinct non-missing raw values of ``column``."""
        # A small file's sample is the whole file: its distinct values need no query.
        complete = len(self.raw.sample) == self.raw.n_rows
        values = self.raw.sample[column].drop_duplicates() if complete else self.source.select(column).distinct().to_pandas()[column]
        return values[values.notna()].reset_index(drop=True)

    def lookup(self, output: str, column: str, values: pd.Series, typed: pd.Series, partial: bool = False) -> None:
        """Type ``column`` by joining its distinct ``values`` to ``typed``; ``partial``: only changed values
        are listed, the others are kept as they are."""
        import ibis

        if values.empty:  # an all-missing column: nothing to look up, and an empty key column has no type to join on
            kind = "float64" if output in _NUMBER_COLUMNS else "timestamp" if output == schema.INVOICE_DATE else "string"
            self.outputs[output] = (lambda t: t[column].cast("string")) if partial else (lambda t: ibis.null(kind))
            return
        index = len(self.lookups)
        key, value = f"_key{index}", f"_value{index}"
        self.lookups.append((column, pd.DataFrame({key: values.to_numpy(), value: typed.to_numpy()})))
        if partial:
            self.outputs[output] = lambda t: ibis.ifelse(t[key].notnull(), t[value].cast("string"), t[column].cast("string"))
        else:
            self.outputs[output] = lambda t: t[value]

    def text(self, output: str, column: str, transform: Callable[[pd.Series], pd.Series]) -> None:
        """Ids and free text: a text column the parser leaves unchanged needs no join."""
        values = self.distinct(column)
        result = transform(values)
        if self.raw.type_of(column) != "string":
            self.lookup(output, column, values, result)
            return
        same = result.notna().to_numpy() & (result.astype("object").to_numpy() == values.astype("object").to_numpy())
        if same.all():
            self.outputs[output] = lambda t: t[column]
        else:
            self.lookup(output, column, values[~same], result[~same], partial=True)

    def add_ids(self, mapping: ColumnMapping) -> None:
        """Customer and invoice ids; a row number as the invoice id when there is no invoice column."""
        import ibis

        for output in (schema.CUSTOMER_ID, schema.INVOICE_ID):
            column = getattr(mapping, output)
            if column is not None and self.raw.type_of(column) == "integer":
                self.outputs[output] = lambda t, column=column: t[column].cast("string")
            elif column is not None:
                self.text(output, column, normalise_ids)
        if mapping.invoice_id is None:
            self.outputs[schema.INVOICE_ID] = lambda t: ibis.literal("row-") + t[schema.ROW].cast("string")
            self.notes.append("No invoice column: each row counts as one purchase (frequency = number of rows).")

    def add_date(self, column: str, date_order: DateOrder) -> DateDecision:
        """The invoice date from ``column``: cast when the engine holds real dates, else parsed."""
        if self.raw.type_of(column) in ("timestamp", "date"):
            self.outputs[schema.INVOICE_DATE] = lambda t: t[column].cast("timestamp")
            return DateDecision("n/a", date_order == "auto", ("datetime",), "real dates")
        values = self.distinct(column)
        dates, decision = parse_dates(values, date_order)
        self.lookup(schema.INVOICE_DATE, column, values, dates)
        return decision

    def add_numbers(self, mapping: ColumnMapping) -> None:
        """Quantity, unit price and amount: cast when the engine holds numbers, else parsed."""
        import ibis

        for output in (schema.QUANTITY, schema.UNIT_PRICE, schema.AMOUNT):
            column = getattr(mapping, output)
            if column is None:
                self.outputs[output] = lambda t: ibis.null("float64")
            elif self.raw.type_of(column) in ("integer", "float", "boolean"):
                self.outputs[output] = lambda t, column=column: _finite(t[column].cast("float64"))
            else:
                values = self.distinct(column)
                numbers, number_note = parse_numbers(values, column)
                if described := number_note.describe():
                    self.notes.append(described)
                self.lookup(output, column, values, numbers.astype("float64"))

    def add_texts(self, mapping: ColumnMapping) -> None:
        """Country, product, email and phone, as normalised text."""
        import ibis

        for output in _FREE_TEXT:
            column = getattr(mapping, output)
            if column is None:
                self.outputs[output] = lambda t: ibis.null("string")
            else:
                self.text(output, column, normalise_text)

    def typed_table(self, mapping: ColumnMapping, connection: BaseBackend) -> ibis.Table:
        """The source joined to its lookups: the canonical columns, typed, with the line value and
        ``source_sheet``, ``source_row`` and ``row_hash``."""
        # One left join per column that needs it; each lookup is small (distinct values only).
        table = self.source
        for column, rows in self.lookups:
            right = engine.load_frame(connection, rows)
            table = table.left_join(right, table[column] == right[rows.columns[0]])
        types = {**dict.fromkeys(_TEXT_COLUMNS, "string"), **dict.fromkeys(_NUMBER_COLUMNS, "float64"), schema.INVOICE_DATE: "timestamp"}
        columns = {c: self.outputs[c](table).cast(types[c]) for c in _CANONICAL_OUTPUT if c != schema.LINE_VALUE}
        # Computed from the typed (float64) factors, as the in-memory path computes it from its typed frame.
        columns[schema.LINE_VALUE] = line_value(mapping, columns)
        return table.select(
            *[columns[c].name(c) for c in _CANONICAL_OUTPUT],
            table[schema.SHEET],
            table[schema.ROW],
            table[schema.ROW_HASH],
        )


def _finite(number):
    """A number column with NaN and infinities missing (as :func:`rfm.reading.values.parse_numbers` reads them)."""
    import ibis

    # A range test, not isnan/isinf: engines disagree on those (ibis compiles isinf to FALSE on Spark),
    # while both order NaN above every number and infinity.
    largest = float(np.finfo("float64").max)
    return ibis.ifelse(number.between(-largest, largest), number, ibis.null("float64"))


# --- rules ------------------------------------------------------------------------------------


def build_rules(
    mapping: ColumnMapping, settings: CleaningSettings, n_sheets: int
) -> tuple[list[Rule], list[Rule]]:
    """The rules that apply (in order, first match wins) and the optional ones reported as "would remove"."""
    prefix = settings.cancel_prefix.strip().upper()
    value_field = "amount" if mapping.uses_amount else "unit price"
    value_column = schema.AMOUNT if mapping.uses_amount else schema.UNIT_PRICE
    candidates: list[tuple[bool, Rule]] = [
        (
            n_sheets > 1,
            Rule(
                "repeated across sheets",
                "invoice already read from an earlier sheet (the sheets overlap in time); kept once",
                lambda t: t[_FIRST_SHEET] < t[schema.SHEET],
            ),
        ),
        (True, Rule("unparseable date", "date missing or not readable as a date", lambda t: t[schema.INVOICE_DATE].isnull())),
        (True, Rule("missing customer id", "no customer id: the purchase cannot be attributed", lambda t: t[schema.CUSTOMER_ID].isnull())),
        (
            bool(mapping.invoice_id and prefix),
            Rule(
                "cancelled invoice",
                f"invoice id starts with {prefix!r} (a cancellation or return)",
                lambda t: t[schema.INVOICE_ID].upper().startswith(prefix),
            ),
        ),
        (
            mapping.quantity is not None,
            Rule("quantity not a number", "quantity missing or not a number", lambda t: t[schema.QUANTITY].isnull()),
        ),
        (mapping.quantity is not None, Rule("quantity ≤ 0", "zero or negative quantity (returns, adjustments)", lambda t: t[schema.QUANTITY] <= 0)),
        (True, Rule(f"{value_field} not a number", f"{value_field} missing or not a number", lambda t: t[value_column].isnull())),
        (True, Rule(f"{value_field} ≤ 0", f"zero or negative {value_field} (free items, bad-debt adjustments)", lambda t: t[value_column] <= 0)),
        (
            True,
            Rule(
                "line value too large",
                f"line value above {MAX_LINE_VALUE:,.0f} or not finite (a data error: 1e308 as a price, a quantity × price that overflows)",
                lambda t: ~t[schema.LINE_VALUE].between(-MAX_LINE_VALUE, MAX_LINE_VALUE),
            ),
        ),
    ]
    if settings.analysis_date is not None:
        limit = settings.analysis_date
        candidates.append(
            (True, Rule("after analysis date", f"purchase after the analysis date {limit.isoformat()}", lambda t: t[schema.INVOICE_DATE].date() > limit))
        )
    active = [rule for applies, rule in candidates if applies]

    duplicates = Rule(DUPLICATE_RULE, "same values in every column as an earlier row", lambda t: t[_DUPLICATE_RANK] > 0)
    window = Rule("outside date window", _window_text(settings), lambda t: _outside_window(t, settings))
    countries = Rule("country not selected", _countries_text(settings), lambda t: _country_excluded(t, settings))
    optional: list[Rule] = []
    (active if settings.drop_duplicates else optional).append(duplicates)
    (active if settings.date_from or settings.date_to else optional).append(window)
    if mapping.country is not None:
        (active if settings.countries else optional).append(countries)
    return active, optional


def _window_text(settings: CleaningSettings) -> str:
    if not (settings.date_from or settings.date_to):
        return "purchase outside a chosen date window (no window set)"
    return f"purchase outside {settings.date_from or '…'} – {settings.date_to or '…'}"


def _outside_window(t, settings: CleaningSettings):
    import ibis

    day = t[schema.INVOICE_DATE].date()
    outside = ibis.literal(False)
    if settings.date_from:
        outside = outside | (day < settings.date_from)
    if settings.date_to:
        outside = outside | (day > settings.date_to)
    return outside


def _countries_text(settings: CleaningSettings) -> str:
    if not settings.countries:
        return "country not in a chosen list (no filter set)"
    shown = ", ".join(settings.countries[:5]) + (" …" if len(settings.countries) > 5 else "")
    return f"country not among {shown}"


def _country_excluded(t, settings: CleaningSettings):
    import ibis

    if not settings.countries:
        return ibis.literal(False)
    return t[schema.COUNTRY].isnull() | ~t[schema.COUNTRY].isin(list(settings.countries))


# --- running the rules ------------------------------------------------------------------------


def clean(
    raw: RawTable | ScannedTable,
    mapping: ColumnMapping,
    settings: CleaningSettings = CleaningSettings(),
    *,
    connection: BaseBackend | None = None,
) -> CleanResult:
    """Type the mapped columns, apply the rules in the engine and count every removed row.

    Parameters
    ----------
    raw : RawTable or ScannedTable
        The file as read by :func:`rfm.reading.files.read_transactions` or scanned by :func:`rfm.reading.scan.scan`.
    mapping : ColumnMapping
        Which column holds each field (see :func:`rfm.reading.columns.detect_mapping`).
    settings : CleaningSettings
    connection : ibis backend, optional
        Where the rules run; a new in-process DuckDB by default.

    Returns
    -------
    CleanResult
        ``transactions``: an ibis table of the kept rows; ``report``: the ledger and totals.

    Raises
    ------
    RFMInputError
        A required field is not mapped, or every row was removed.
    """
    table, decision, notes, connection = _into_engine(raw, mapping, settings.date_order, connection)
    sheets = 1 if isinstance(raw, ScannedTable) else int(raw.frame[schema.SHEET].nunique())
    active, optional = build_rules(mapping, settings, sheets)
    tagged = tag_rows(_with_rule_columns(table, mapping, settings, sheets), active)
    # Rows read into memory are kept there, tagged, for the passes below; Spark caches them across its executors.
    # A file DuckDB scans is never copied into memory: each pass scans it again, which measured faster than
    # writing the tagged rows to a Parquet file once, and far leaner than caching them (see bench/RESULTS.md).
    if not (isinstance(raw, ScannedTable) and connection.name == "duckdb"):
        tagged = tagged.cache()
    kept = tagged.filter(tagged[RULE].isnull())
    summary = _rule_summary(tagged)
    ledger, optional_lines = _ledger_lines(raw, tagged, kept, summary, active, optional, connection)
    totals = _kept_totals(raw, summary, ledger)
    last_date = pd.Timestamp(totals["last_date"]).to_pydatetime()
    report = CleaningReport(
        rows_read=raw.n_rows,
        rows_clean=int(totals["rows"]),
        customers=int(totals["customers"]),
        revenue=_number(totals["revenue"]),
        first_date=pd.Timestamp(totals["first_date"]).to_pydatetime(),
        last_date=last_date,
        analysis_date=settings.analysis_date or last_date.date(),
        ledger=ledger,
        optional=optional_lines,
        mapping=mapping,
        date_decision=decision,
        notes=tuple(raw.info.notes) + tuple(notes),
        warnings=tuple(_warnings(int(totals["customers"]), ledger, raw.n_rows)),
    )
    return CleanResult(transactions=kept, report=report)


def _into_engine(
    raw: RawTable | ScannedTable, mapping: ColumnMapping, date_order: DateOrder, connection: BaseBackend | None
) -> tuple[ibis.Table, DateDecision, list[str], BaseBackend]:
    """The typed transactions (see :func:`typed_transactions`) as an ibis table, the date decision, the
    notes, and the connection they live on (``connection``, else a new one). A scanned file is typed by
    the engine itself; rows read into memory are typed there and handed over."""
    if isinstance(raw, ScannedTable):
        connection = connection or raw.connect()
        table, decision, notes = typed_relation(raw, mapping, date_order, connection)
        return table, decision, notes, connection
    frame, decision, notes = typed_transactions(raw, mapping, date_order)
    connection = connection or engine.connect()
    return engine.load_frame(connection, frame), decision, notes, connection


def _with_rule_columns(table: ibis.Table, mapping: ColumnMapping, settings: CleaningSettings, sheets: int) -> ibis.Table:
    """``table`` with the columns some rules read that need every row grouped or sorted, added only
    when an active rule reads them: the first sheet of each invoice, and each row's rank among its
    exact duplicates."""
    import ibis

    if sheets > 1:
        table = _with_first_sheet(table, mapping)
    if settings.drop_duplicates:
        rank = ibis.row_number().over(group_by=table[schema.ROW_HASH], order_by=table[schema.ROW])
        table = table.mutate(**{_DUPLICATE_RANK: rank})
    return table


def tag_rows(table: ibis.Table, rules: list[Rule]) -> ibis.Table:
    """``table`` with a ``rule`` column: the name of the first of ``rules`` that removes the row, null
    for a row kept. Shared by the cleaning here and the warehouse SQL (:mod:`rfm.cleaning.sql`)."""
    import ibis

    rule_of_row = ibis.cases(*[(rule.predicate(table), rule.name) for rule in rules], else_=ibis.null("string"))
    return table.mutate(**{RULE: rule_of_row})


def _rule_summary(tagged: ibis.Table) -> pd.DataFrame:
    """One pass over the tagged rows: rows, revenue, customers and first and last dates per ``rule``.

    The group of unclaimed rows (``rule`` null) holds the totals of the rows kept.
    """
    import ibis

    value = tagged[schema.LINE_VALUE]
    return (
        tagged.group_by(RULE)
        .aggregate(
            rows=tagged.count(),
            # Lines too large to be real count no revenue (their sum would be infinite).
            revenue=ibis.ifelse(value.between(-MAX_LINE_VALUE, MAX_LINE_VALUE), value, 0.0).sum(),
            customers=tagged[schema.CUSTOMER_ID].nunique(),
            first_date=tagged[schema.INVOICE_DATE].min(),
            last_date=tagged[schema.INVOICE_DATE].max(),
        )
        .to_pandas()
    )


def _ledger_lines(
    raw: RawTable | ScannedTable,
    tagged: ibis.Table,
    kept: ibis.Table,
    summary: pd.DataFrame,
    active: list[Rule],
    optional: list[Rule],
    connection: BaseBackend,
) -> tuple[tuple[LedgerLine, ...], tuple[LedgerLine, ...]]:
    """The ledger of the active rules (from ``summary``) and of the optional ones (what they would
    remove), each line with up to two of the user's own rows as examples."""
    removed = {
        row[RULE]: (int(row["rows"]), _number(row["revenue"])) for _, row in summary.iterrows() if pd.notna(row[RULE])
    }
    examples = _example_rows(tagged.filter(tagged[RULE].notnull()), RULE)
    duplicates = _duplicates(kept) if any(rule.name == DUPLICATE_RULE for rule in optional) else None
    if duplicates is not None:
        examples[DUPLICATE_RULE] = duplicates["last_row"].head(2).tolist()
    shown = _shown_rows(raw, examples, connection)
    ledger = tuple(_ledger_line(rule, removed, examples, shown, True) for rule in active)
    return ledger, tuple(_would_remove(rule, duplicates, shown) for rule in optional)


def _kept_totals(raw: RawTable | ScannedTable, summary: pd.DataFrame, ledger: tuple[LedgerLine, ...]) -> pd.Series:
    """The totals of the rows kept (``summary``'s unclaimed group), once the ledger is known to add up.

    Raises
    ------
    RFMInputError
        Every row was removed.
    """
    totals = summary[summary[RULE].isna()]
    rows_clean = int(totals["rows"].sum())
    if rows_clean + sum(line.rows for line in ledger) != raw.n_rows:  # the ledger's promise; never expected to fail
        raise AssertionError("ledger does not add up to the rows read")
    if rows_clean == 0:
        raise RFMInputError(_all_removed_message(raw, ledger))
    return totals.iloc[0]


def _with_first_sheet(table, mapping: ColumnMapping):
    """Add the first sheet each invoice (or, without invoices, each identical row) appears in.

    A grouped minimum joined back costs less than the same minimum as a window (see bench/RESULTS.md).
    """
    import ibis

    key = ibis.coalesce(table[schema.INVOICE_ID], table[schema.ROW_HASH].cast("string")) if mapping.invoice_id else table[schema.ROW_HASH].cast("string")
    keyed = table.mutate(sheet_key=key)
    first = keyed.group_by("sheet_key").aggregate(**{_FIRST_SHEET: keyed[schema.SHEET].min()})
    return keyed.join(first, "sheet_key").drop("sheet_key")


def _number(value) -> float:
    """A sum of money from the engine, rounded to 6 decimals: engines sum in parallel, so the last bits
    of a float sum vary with the order (5299098.389999989 or 5299098.390000005); rounded, DuckDB and
    Spark, and every run of either, report the same figure."""
    return round(float(value), 6) if pd.notna(value) else 0.0


def _would_remove(rule: Rule, duplicates: pd.DataFrame | None, shown: dict) -> LedgerLine:
    """What an optional rule that is off would remove from the kept rows.

    Only the duplicate rule has something to count while off: a date window or a country filter
    that is off has no window or list, so it would remove nothing.
    """
    if rule.name == DUPLICATE_RULE and duplicates is not None:
        extra = duplicates["copies"] - 1
        counts = {rule.name: (int(extra.sum()), _number((extra * duplicates["value"]).sum()))}
        # An example is a later copy: in a group of identical rows the last one repeats an earlier one.
        return _ledger_line(rule, counts, {rule.name: duplicates["last_row"].head(2).tolist()}, shown, False)
    return _ledger_line(rule, {}, {}, shown, False)


def _duplicates(kept) -> pd.DataFrame:
    """Groups of exact duplicates among the kept rows (by the row hash: cheaper than a window)."""
    groups = kept.group_by(schema.ROW_HASH).aggregate(
        copies=kept.count(),
        value=kept[schema.LINE_VALUE].max(),
        first_row=kept[schema.ROW].min(),
        last_row=kept[schema.ROW].max(),
    )
    return groups.filter(groups.copies > 1).to_pandas().sort_values("first_row")


def _shown_rows(raw: RawTable | ScannedTable, examples: dict[str, list[int]], connection) -> dict[int, tuple]:
    """Every example row, fetched in one go: position -> ``(column, value)`` pairs as in the user's file."""
    positions = sorted({int(p) for rows in examples.values() for p in rows})
    if isinstance(raw, ScannedTable):
        return dict(zip(positions, raw.example_rows(positions, connection)))
    return {position: _raw_row(raw, position) for position in positions}


def _example_rows(table, column: str, per_rule: int = 2) -> dict[str, list[int]]:
    import ibis

    ranked = table.mutate(example_rank=ibis.row_number().over(group_by=table[column], order_by=table[schema.ROW]))
    rows = ranked.filter(ranked.example_rank < per_rule).select(column, schema.ROW).to_pandas()
    examples: dict[str, list[int]] = {}
    for rule, row in zip(rows[column], rows[schema.ROW]):
        examples.setdefault(rule, []).append(int(row))
    return {rule: sorted(positions) for rule, positions in examples.items()}


def _ledger_line(rule: Rule, counts: dict, examples: dict, shown: dict, applied: bool) -> LedgerLine:
    rows, revenue = counts.get(rule.name, (0, 0.0))
    return LedgerLine(
        rule=rule.name,
        description=rule.description,
        rows=rows,
        revenue=revenue,
        examples=tuple(shown[int(p)] for p in examples.get(rule.name, []) if int(p) in shown),
        applied=applied,
    )


def _raw_row(raw: RawTable, position: int) -> tuple[tuple[str, str], ...]:
    """The original row as the user sees it in their file: sheet, row number and every column."""
    frame = raw.frame
    sheet_index = int(frame[schema.SHEET].iat[position])
    first_of_sheet = int(np.argmax(frame[schema.SHEET].to_numpy() == sheet_index))
    where: list[tuple[str, str]] = []
    if raw.info.sheets:
        where.append(("sheet", raw.info.sheets[sheet_index]))
    # +2: one for the header row, one because spreadsheets count from 1 (a Parquet file has no header row).
    first = 1 if raw.info.file_format == "parquet" else 2 + raw.info.header_line
    where.append(("row", str(position - first_of_sheet + first)))
    values = [(str(c), _display(frame[c].iat[position])) for c in raw.columns]
    return tuple(where + values)


def _display(value: object) -> str:
    if value is None or (isinstance(value, float) and np.isnan(value)) or value is pd.NA or value is pd.NaT:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _all_removed_message(raw: RawTable | ScannedTable, ledger: tuple[LedgerLine, ...]) -> str:
    biggest = max(ledger, key=lambda line: line.rows)
    example = f" Example: {_short(dict(biggest.examples[0]))}." if biggest.examples else ""
    return (
        f"Every one of the {sum(line.rows for line in ledger):,} rows of {raw.info.file_name} was removed by cleaning; "
        f"the largest rule is '{biggest.rule}' with {biggest.rows:,} rows ({biggest.description}).{example} "
        "Check the column mapping and the date order."
    )


def _warnings(customers: int, ledger: tuple[LedgerLine, ...], rows_read: int) -> list[str]:
    warnings = []
    if customers < 10:
        warnings.append(f"Only {customers} customer(s) remain after cleaning: scores and segments will be rough.")
    for line in ledger:
        if line.rule in ("unparseable date", "quantity not a number") and line.rows > 0.2 * rows_read:
            warnings.append(
                f"{line.rows:,} of {rows_read:,} rows were removed as '{line.rule}': check the column mapping."
            )
    return warnings
