"""The workspace's tables (SQLAlchemy Core), the same on DuckDB and PostgreSQL.

``rfm_meta`` holds the schema version; ``runs`` one row per published run; ``run_customers`` one row per customer of
each run, with every column a labelled list can hold (:data:`rfm.outputs.lists.LABELLED_COLUMNS`) and the four
movement columns; ``audiences`` one row per audience saved with a random control group, and ``audience_members``
which of its customers were contacted and which held back. A table change is a new :data:`SCHEMA_VERSION`:

- 1: ``runs`` and ``run_customers``;
- 2: ``audiences`` and ``audience_members`` added (a version-1 workspace gains them when opened; nothing else changes).
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Date,
    DateTime,
    Double,
    MetaData,
    Table,
    Text,
    false,
)
from sqlalchemy.types import TypeEngine

from rfm import schema
from rfm.outputs.lists import LABELLED_COLUMNS

#: The version of the tables this code writes, and the newest it reads.
SCHEMA_VERSION = 2
VERSION_KEY = "schema_version"

# Movement since the previous run of the same name (filled by a later step; stored as given).
PREVIOUS_SEGMENT = "previous_segment"
SEGMENT_CHANGED_ON = "segment_changed_on"
DIRECTION = "direction"
P_ALIVE_CHANGE = "p_alive_change"
MOVEMENT_COLUMNS: tuple[str, ...] = (PREVIOUS_SEGMENT, SEGMENT_CHANGED_ON, DIRECTION, P_ALIVE_CHANGE)
#: How lists and pages name them.
MOVEMENT_LABELS: dict[str, str] = {
    PREVIOUS_SEGMENT: "Previous segment",
    SEGMENT_CHANGED_ON: "Segment changed on",
    DIRECTION: "Direction",
    P_ALIVE_CHANGE: "Change in P(alive)",
}

#: The type of every per-customer column that is not text. Every labelled column is named here or in TEXT_COLUMNS
#: (a test checks it), so that a new column is stored as what it is.
COLUMN_TYPES: dict[str, type[TypeEngine]] = {
    **dict.fromkeys(
        (schema.RECENCY, schema.FREQUENCY, schema.R_SCORE, schema.F_SCORE, schema.M_SCORE, schema.CLUSTER, schema.TENURE),
        BigInteger,
    ),
    **dict.fromkeys(
        (
            schema.MONETARY,
            schema.AVG_ORDER_VALUE,
            schema.HISTORICAL_CLV,
            *schema.VALUE_COLUMNS,
            schema.CHURN_PROBABILITY,
            schema.AVG_DAYS_BETWEEN_ORDERS,
            schema.PREDICTED_ORDERS_365D,
            P_ALIVE_CHANGE,
        ),
        Double,
    ),
    **dict.fromkeys((schema.FIRST_PURCHASE, schema.LAST_PURCHASE, schema.EXPECTED_NEXT_ORDER), DateTime),
    SEGMENT_CHANGED_ON: Date,
}
TEXT_COLUMNS: tuple[str, ...] = (
    schema.EMAIL,
    schema.PHONE,
    schema.RFM_CELL,
    schema.RFM_SEGMENT,
    schema.SEGMENT_NAME,
    schema.ACTION,
    schema.LIFECYCLE_STAGE,
    schema.OUTLIER_TIER,
    schema.COUNTRY,
    schema.RFM_ACTION,
    schema.CHURN_RISK,
    PREVIOUS_SEGMENT,
    DIRECTION,
)
#: Every per-customer column of ``run_customers`` besides the keys, in the order lists show them.
CUSTOMER_COLUMNS: tuple[str, ...] = (*LABELLED_COLUMNS, *MOVEMENT_COLUMNS)

metadata = MetaData()

meta = Table("rfm_meta", metadata, Column("key", Text, primary_key=True), Column("value", Text, nullable=False))

runs = Table(
    "runs",
    metadata,
    Column("run_id", Text, primary_key=True),
    Column("name", Text, nullable=False, index=True),
    Column("published_at", DateTime, nullable=False),  # UTC
    Column("published_by", Text, nullable=False),
    Column("source_file", Text, nullable=False),
    Column("source_digest", Text, nullable=False),
    Column("rows_read", BigInteger, nullable=False),
    Column("customers", BigInteger, nullable=False),
    Column("revenue", Double, nullable=False),
    Column("columns_json", Text, nullable=False),  # the customer columns as published, in order
    Column("settings_json", Text, nullable=False),
    Column("ledger_json", Text, nullable=False),
    Column("model_json", Text, nullable=False),
    Column("archived", Boolean, nullable=False, server_default=false()),
)

run_customers = Table(
    "run_customers",
    metadata,
    Column("run_id", Text, primary_key=True),
    Column(schema.CUSTOMER_ID, Text, primary_key=True),
    *(Column(name, COLUMN_TYPES.get(name, Text)) for name in CUSTOMER_COLUMNS),
)

audiences = Table(
    "audiences",
    metadata,
    Column("audience_id", Text, primary_key=True),
    Column("run_id", Text, nullable=False, index=True),  # the run its customers were chosen from
    Column("label", Text, nullable=False),
    Column("created_at", DateTime, nullable=False),  # UTC
    Column("created_by", Text, nullable=False),
    Column("split", Text, nullable=False),  # the column the segments name (segment_name, rfm_segment)
    Column("segments_json", Text, nullable=False),  # the segments chosen ([] = every segment)
    Column("movement", Text, nullable=False),  # rfm.audiences.selection.MOVEMENTS
    Column("control_share", Double, nullable=False),
    Column("seed", BigInteger, nullable=False),
    Column("customers", BigInteger, nullable=False),  # contacted + held back
    Column("held_back", BigInteger, nullable=False),
)

audience_members = Table(
    "audience_members",
    metadata,
    Column("audience_id", Text, primary_key=True),
    Column(schema.CUSTOMER_ID, Text, primary_key=True),
    Column("held_back", Boolean, nullable=False),
)
