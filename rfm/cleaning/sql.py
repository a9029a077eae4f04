"""The RFM aggregation as SQL, for teams who run it in their own warehouse.

The SQL is compiled by ibis from the expressions the app runs: the cleaning rules of
:func:`rfm.cleaning.ledger.build_rules` and the aggregate of :func:`rfm.cleaning.table.customer_aggregate`. Only the
reading and typing of a file (text dates, decimal commas) stays in the app: a warehouse table is
expected to hold typed columns already. The SQL gives the RFM aggregate only: a customer's country, email and phone
(:func:`rfm.cleaning.table.customer_contacts`) are left out, since the warehouse holds them already.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

from rfm import schema
from rfm.cleaning.ledger import _DUPLICATE_RANK, RULE, CleaningSettings, Rule, build_rules, line_value, tag_rows
from rfm.errors import RFMInputError
from rfm.schema import FIELDS, ColumnMapping

if TYPE_CHECKING:
    import ibis

DIALECTS: tuple[str, ...] = ("bigquery", "snowflake", "databricks", "postgres", "duckdb")
DEFAULT_TABLE = "transactions"
KEPT = "(kept)"  # the ledger's label for rows no rule removed

_TYPES = {
    schema.INVOICE_DATE: "timestamp",
    schema.QUANTITY: "float64",
    schema.UNIT_PRICE: "float64",
    schema.AMOUNT: "float64",
}  # every other field is text


def parse_map(pairs: Sequence[str]) -> dict[str, str | None]:
    """``field=COLUMN`` texts (the CLI's ``--map``) as a dict; an empty COLUMN unmaps the field.

    Raises
    ------
    RFMInputError
        A text without ``=`` or with an unknown field.
    """
    overrides: dict[str, str | None] = {}
    for text in pairs:
        field, sep, column = text.partition("=")
        if not sep or field not in FIELDS:
            raise RFMInputError(f"--map expects field=COLUMN with field one of {', '.join(FIELDS)}; got {text!r}.")
        overrides[field] = column or None
    return overrides


def sql_mapping(overrides: Mapping[str, str | None] | None = None, *, country: bool = False) -> ColumnMapping:
    """The warehouse column of each field: its canonical name unless ``overrides`` says otherwise.

    By default customer_id, invoice_id, invoice_date, quantity and unit_price are read (and
    country, when ``country`` filters on it); mapping ``amount`` drops the default quantity and
    unit_price. An empty column name unmaps a field.

    Raises
    ------
    RFMInputError
        An unknown field, or a required field left unmapped.
    """
    overrides = dict(overrides or {})
    unknown = sorted(set(overrides) - set(FIELDS))
    if unknown:
        raise RFMInputError(f"Unknown field {unknown[0]!r} in --map; fields are {', '.join(FIELDS)}.")
    defaults = [schema.CUSTOMER_ID, schema.INVOICE_ID, schema.INVOICE_DATE]
    if not overrides.get(schema.AMOUNT):
        defaults += [schema.QUANTITY, schema.UNIT_PRICE]
    if country:
        defaults.append(schema.COUNTRY)
    mapping = ColumnMapping(**{field: field for field in defaults}).replace(
        **{field: column or None for field, column in overrides.items()}
    )
    missing = mapping.missing_required() + (["country (to filter on)"] if country and mapping.country is None else [])
    if missing:
        raise RFMInputError(f"The SQL needs a column for {' and '.join(missing)}; map it with --map field=COLUMN.")
    return mapping


def source_table(mapping: ColumnMapping, table: str = DEFAULT_TABLE, *, drop_duplicates: bool = False) -> ibis.Table:
    """The warehouse table with its columns renamed to the canonical fields, as an ibis expression.

    ``table`` may be qualified (``catalog.database.table``). Adds ``line_value`` (amount, or
    quantity × unit_price, by :func:`rfm.cleaning.ledger.line_value`), a row number as ``invoice_id``
    when no invoice column is mapped, and ``duplicate_rank`` (0 for the first of rows equal in every
    mapped column) when asked.
    """
    import ibis

    *namespace, name = table.split(".")
    if not name or len(namespace) > 2 or not all(namespace):
        raise RFMInputError(f"Table name {table!r} should be TABLE, DATABASE.TABLE or CATALOG.DATABASE.TABLE.")
    catalog, database = [None] * (2 - len(namespace)) + namespace
    columns = mapping.mapped()
    raw = ibis.table(
        {column: _TYPES.get(field, "string") for field, column in columns.items()},
        name=name,
        catalog=catalog,
        database=database,
    )
    fields = {field: raw[column] for field, column in columns.items()}
    # Text keys: BigQuery refuses to partition by FLOAT64. Ordering by them too makes row numbers repeatable.
    keys = [raw[column].cast("string") for column in dict.fromkeys(columns.values())]
    if mapping.invoice_id is None:  # as in the app: each row is one purchase
        fields[schema.INVOICE_ID] = ibis.row_number().over(order_by=keys).cast("string")
    fields[schema.LINE_VALUE] = line_value(mapping, fields)  # the app's own definition, on the warehouse's columns
    if drop_duplicates:
        # The app hashes every column of its file; a warehouse table may hold many more, so only the mapped ones count.
        fields[_DUPLICATE_RANK] = ibis.row_number().over(group_by=keys, order_by=keys)
    return raw.select(**fields)


def tagged_transactions(
    mapping: ColumnMapping, settings: CleaningSettings, table: str = DEFAULT_TABLE
) -> tuple[ibis.Table, list[Rule]]:
    """Every row with the ``rule`` that removes it (null when kept), and the active rules in order."""
    source = source_table(mapping, table, drop_duplicates=settings.drop_duplicates)
    active, _ = build_rules(mapping, settings, n_sheets=1)  # one warehouse table: no overlapping sheets
    return tag_rows(source, active), active


def rfm_expression(mapping: ColumnMapping, settings: CleaningSettings = CleaningSettings(), table: str = DEFAULT_TABLE) -> ibis.Table:
    """The RFM table as an ibis expression: one row per customer, sorted by ``customer_id``.

    Columns are those of :func:`rfm.cleaning.table.rfm_table` but ``historical_clv``; the analysis date is
    ``settings.analysis_date`` or else the latest purchase date kept.
    """
    import ibis

    from rfm.cleaning.table import customer_aggregate

    tagged, _ = tagged_transactions(mapping, settings, table)
    per_customer = customer_aggregate(tagged.filter(tagged[RULE].isnull()))
    last, first = per_customer[schema.LAST_PURCHASE], per_customer[schema.FIRST_PURCHASE]
    # The latest last purchase is the latest kept purchase: a window, not a second pass over the rows.
    day = ibis.literal(settings.analysis_date) if settings.analysis_date is not None else last.max().date()
    # Rounded as in rfm.cleaning.table.finish_rfm_table, so the warehouse and the app agree to the cent and beyond.
    monetary = per_customer[schema.MONETARY].round(6)
    table_expr = per_customer.mutate(
        **{
            schema.RECENCY: day.delta(last.date(), unit="day"),
            schema.MONETARY: monetary,
            schema.TENURE: day.delta(first.date(), unit="day"),
            schema.AVG_ORDER_VALUE: monetary / per_customer[schema.FREQUENCY],
        }
    )
    columns = [schema.CUSTOMER_ID, *(c for c in schema.RFM_COLUMNS if c != schema.HISTORICAL_CLV)]
    return table_expr.select(*columns).order_by(schema.CUSTOMER_ID)


def ledger_expression(mapping: ColumnMapping, settings: CleaningSettings = CleaningSettings(), table: str = DEFAULT_TABLE) -> ibis.Table:
    """Rows and revenue each rule removes, in rule order, then the kept rows (``rule = '(kept)'``)."""
    import ibis

    tagged, active = tagged_transactions(mapping, settings, table)
    ledger = tagged.group_by(RULE).aggregate(rows=tagged.count(), revenue=tagged[schema.LINE_VALUE].sum())
    step = ibis.cases(*[(ledger[RULE] == rule.name, i) for i, rule in enumerate(active)], else_=len(active))
    return ledger.mutate(step=step, **{RULE: ledger[RULE].fill_null(KEPT)}).order_by("step").drop("step")


def rfm_sql(
    dialect: str,
    overrides: Mapping[str, str | None] | None = None,
    settings: CleaningSettings = CleaningSettings(),
    table: str = DEFAULT_TABLE,
    *,
    ledger: bool = False,
) -> str:
    """The RFM query (and, with ``ledger``, the ledger query) in ``dialect``, under a comment header.

    Raises
    ------
    RFMInputError
        An unknown dialect or field, a required field unmapped, or a bad table name.
    """
    import ibis

    if dialect not in DIALECTS:
        raise RFMInputError(f"Unknown SQL dialect {dialect!r}; dialects are {', '.join(DIALECTS)}.")
    mapping = sql_mapping(overrides, country=bool(settings.countries))
    # Every dialect compiles through ibis's own compiler (ibis 12 knows all five); no transpiling.
    parts = [_header(dialect, mapping, settings, table), ibis.to_sql(rfm_expression(mapping, settings, table), dialect=dialect) + ";"]
    if ledger:
        parts += [
            "-- Cleaning ledger: rows and revenue (sum of line values) each rule removes, then the rows kept.",
            ibis.to_sql(ledger_expression(mapping, settings, table), dialect=dialect) + ";",
        ]
    return "\n".join(parts) + "\n"


def _header(dialect: str, mapping: ColumnMapping, settings: CleaningSettings, table: str) -> str:
    active, optional = build_rules(mapping, settings, n_sheets=1)
    value = "amount" if mapping.uses_amount else "quantity * unit_price"
    day = settings.analysis_date.isoformat() if settings.analysis_date else "the latest purchase date kept"
    lines = [
        f"RFM table from {table}: one row per customer ({dialect} SQL compiled by ibis from the expressions RFM Studio runs).",
        "Columns: recency_days and tenure_days (whole days from the calendar date of the last / first purchase",
        "to the analysis date), frequency (distinct invoices), monetary (sum of line values, rounded to 6 decimals),",
        "first_purchase, last_purchase, avg_order_value (monetary / frequency). historical_clv is not computed.",
        f"Analysis date: {day}. Line value = {value}.",
        "Columns read: " + ", ".join(f"{field} <- {column}" for field, column in mapping.mapped().items()) + ".",
        "Cleaning rules, in order (the first that matches a row removes it):",
        *(f"  {i}. {rule.name}: {rule.description}" for i, rule in enumerate(active, 1)),
        *(f"  (off) {rule.name}: {rule.description}" for rule in optional),
    ]
    if mapping.invoice_id is None:
        lines.append("No invoice column: each row counts as one purchase (frequency = number of rows).")
    if settings.drop_duplicates:
        lines.append("Duplicates are rows equal in every MAPPED column (the app compares every column of its file).")
    lines += [
        "Assumes typed columns: invoice_date a TIMESTAMP (or DATE), quantity/unit_price/amount numbers, ids and",
        "country text (CAST numeric ids first). The app's parsing of text dates and numbers and its trimming of",
        "ids and text are not part of this SQL. Identifiers are quoted: give names as the warehouse stores them.",
    ]
    return "\n".join(f"-- {line}".rstrip() for line in lines)
