"""Names and choices: the one place that names the fields of a transaction, the columns of every customer table, and
the choices a user makes (date orders, algorithms, scalers). Pages, the command line and saved models import them."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

# Transaction fields a file's columns are mapped onto.
CUSTOMER_ID = "customer_id"
INVOICE_ID = "invoice_id"
INVOICE_DATE = "invoice_date"
QUANTITY = "quantity"
UNIT_PRICE = "unit_price"
AMOUNT = "amount"
COUNTRY = "country"
PRODUCT = "product"
EMAIL = "email"  # optional, per customer: carried to the customer lists, never a reason to drop a row
PHONE = "phone"

FIELDS: tuple[str, ...] = (
    CUSTOMER_ID,
    INVOICE_ID,
    INVOICE_DATE,
    QUANTITY,
    UNIT_PRICE,
    AMOUNT,
    COUNTRY,
    PRODUCT,
    EMAIL,
    PHONE,
)

FIELD_LABELS: dict[str, str] = {
    CUSTOMER_ID: "Customer ID",
    INVOICE_ID: "Invoice / order ID",
    INVOICE_DATE: "Invoice date",
    QUANTITY: "Quantity",
    UNIT_PRICE: "Unit price",
    AMOUNT: "Line amount (instead of quantity × price)",
    COUNTRY: "Country",
    PRODUCT: "Product",
    EMAIL: "Email",
    PHONE: "Phone",
}

# Columns the cleaning step adds to the transaction table.
LINE_VALUE = "line_value"  # amount, or quantity × unit_price
SHEET = "source_sheet"  # index of the sheet a row came from (0 for single-table files)
ROW = "source_row"  # 0-based row position in the combined input
ROW_HASH = "row_hash"  # hash of every original column, for exact-duplicate detection

# RFM table columns (one row per customer, indexed by CUSTOMER_ID).
RECENCY = "recency_days"
FREQUENCY = "frequency"
MONETARY = "monetary"
FIRST_PURCHASE = "first_purchase"
LAST_PURCHASE = "last_purchase"
TENURE = "tenure_days"
AVG_ORDER_VALUE = "avg_order_value"
HISTORICAL_CLV = "historical_clv"

RFM_COLUMNS: tuple[str, ...] = (
    RECENCY,
    FREQUENCY,
    MONETARY,
    FIRST_PURCHASE,
    LAST_PURCHASE,
    TENURE,
    AVG_ORDER_VALUE,
    HISTORICAL_CLV,
)

# Predicted value per customer (rfm.value.predict): BG/NBD and Gamma-Gamma.
P_ALIVE = "p_alive"
EXPECTED_PURCHASES = "expected_purchases"
EXPECTED_ORDER_VALUE = "expected_order_value"
PREDICTED_CLV = "predicted_clv"
VALUE_COLUMNS: tuple[str, ...] = (P_ALIVE, EXPECTED_PURCHASES, EXPECTED_ORDER_VALUE, PREDICTED_CLV)
VALUE_LABELS: dict[str, str] = {
    P_ALIVE: "P(alive)",
    EXPECTED_PURCHASES: "Expected purchases",
    EXPECTED_ORDER_VALUE: "Expected order value",
    PREDICTED_CLV: "Predicted CLV",
}

# Churn per customer (rfm.value.churn), from any fitted purchase model: BG/NBD, MBG/NBD or Pareto/NBD.
CHURN_PROBABILITY = "churn_probability"  # 1 - P(alive)
CHURN_RISK = "churn_risk"  # Low / Medium / High band of the churn probability
AVG_DAYS_BETWEEN_ORDERS = "avg_days_between_orders"  # NaN for one-time buyers
EXPECTED_NEXT_ORDER = "expected_next_order"  # a date, or NaT when fewer than one order is expected in a year
PREDICTED_ORDERS_365D = "predicted_orders_365d"
CHURN_COLUMNS: tuple[str, ...] = (
    CHURN_PROBABILITY, CHURN_RISK, AVG_DAYS_BETWEEN_ORDERS, EXPECTED_NEXT_ORDER, PREDICTED_ORDERS_365D
)
CHURN_LABELS: dict[str, str] = {
    CHURN_PROBABILITY: "Churn probability",
    CHURN_RISK: "Churn risk",
    AVG_DAYS_BETWEEN_ORDERS: "Average days between orders",
    EXPECTED_NEXT_ORDER: "Expected next order",
    PREDICTED_ORDERS_365D: "Predicted orders (next 365 days)",
}
#: Every column rfm.value.predict.customer_value gives per customer: the value columns, then the churn columns.
CUSTOMER_VALUE_COLUMNS: tuple[str, ...] = (*VALUE_COLUMNS, *CHURN_COLUMNS)

# Score, segment and tier columns (rfm.scoring).
R_SCORE, F_SCORE, M_SCORE = "r_score", "f_score", "m_score"
RFM_CELL = "rfm_cell"  # e.g. "545" ("10-3-7" with 10 scores)
SEGMENT = "segment"  # the named RFM segment of the score rules
TIER = "tier"  # the outlier tier (Regular, High Spender, Power Shopper, Elite VIP)

# Lifecycle stage per customer (rfm.scoring.lifecycle): where each customer is against the store's own order rhythm.
LIFECYCLE_STAGE = "lifecycle_stage"
STAGE_NEW = "New"  # a one-time buyer whose first order is recent
STAGE_ACTIVE = "Active"
STAGE_AT_RISK = "At risk"
STAGE_LAPSED = "Lapsed"
STAGE_LOST = "Lost"
#: The stages from the earliest (best) to the latest: their order in charts, tables and categories.
LIFECYCLE_STAGES: tuple[str, ...] = (STAGE_NEW, STAGE_ACTIVE, STAGE_AT_RISK, STAGE_LAPSED, STAGE_LOST)

# Cluster columns added to the customer table once clusters are fitted (or a saved model scores it).
CLUSTER = "cluster"  # int: 0.. fitted clusters, NOISE, -2..-4 outlier tier groups
CLUSTER_NAME = "cluster_name"
CLUSTER_ACTION = "cluster_action"
#: The cluster label of a customer a density method leaves out of every cluster, and its name.
NOISE = -1
NOISE_NAME = "Noise"

# Columns of the labelled customer lists a marketer downloads (rfm.outputs.lists).
SEGMENT_NAME = "segment_name"  # the cluster's business name
ACTION = "recommended_action"
RFM_SEGMENT = "rfm_segment"
RFM_ACTION = "rfm_action"
OUTLIER_TIER = "outlier_tier"

# --- choices ----------------------------------------------------------------------------------------------

#: How dates like 01/02/2010 are read, as offered to a user.
DateOrder = Literal["auto", "dayfirst", "monthfirst"]
DATE_ORDERS: dict[str, str] = {
    "auto": "Decide from the values",
    "dayfirst": "Day first (31/12/2010)",
    "monthfirst": "Month first (12/31/2010)",
}
#: Every clustering algorithm the estimator fits, with its name; the centroid methods take k, the density methods
#: find their own number of clusters and mark noise.
ALGORITHM_LABELS: dict[str, str] = {
    "kmeans": "K-Means",
    "minibatch_kmeans": "Mini-batch K-Means",
    "gmm": "Gaussian mixture",
    "dbscan": "DBSCAN",
    "hdbscan": "HDBSCAN",
}
CENTROID_ALGORITHMS: tuple[str, ...] = ("kmeans", "minibatch_kmeans", "gmm")
DENSITY_ALGORITHMS: tuple[str, ...] = ("dbscan", "hdbscan")
#: The algorithms a user chooses among (the app and the command line); mini-batch K-Means is the sweep's own.
ALGORITHMS: dict[str, str] = {name: ALGORITHM_LABELS[name] for name in ("kmeans", "gmm", "dbscan", "hdbscan")}
#: How features are scaled before clustering.
Scaler = Literal["standard", "robust"]
SCALERS: dict[str, str] = {"standard": "Standard (mean, sd)", "robust": "Robust (median, IQR)"}
#: The purchase model behind P(alive), expected purchases, CLV and churn (rfm.value.predict); "auto" takes the one
#: with the smallest holdout error, or the lowest BIC when the history is too short to hold any out. The labels of
#: the three models are their names in rfm.value.churn.PURCHASE_MODELS.
PurchaseModelChoice = Literal["auto", "bgnbd", "mbgnbd", "pareto_nbd"]
PURCHASE_MODEL_CHOICES: dict[str, str] = {
    "auto": "Auto (best on the holdout check)",
    "bgnbd": "BG/NBD",
    "mbgnbd": "MBG/NBD",
    "pareto_nbd": "Pareto/NBD",
}

RFM_LABELS: dict[str, str] = {
    RECENCY: "Recency (days)",
    FREQUENCY: "Frequency (invoices)",
    MONETARY: "Monetary (revenue)",
    FIRST_PURCHASE: "First purchase",
    LAST_PURCHASE: "Last purchase",
    TENURE: "Tenure (days)",
    AVG_ORDER_VALUE: "Average order value",
    HISTORICAL_CLV: "Historical CLV",
}


@dataclass(frozen=True)
class ColumnMapping:
    """Which column of the file holds each canonical field (``None`` when absent).

    Required: ``customer_id``, ``invoice_date`` and either ``amount`` or both ``quantity`` and
    ``unit_price``. Without ``invoice_id`` each row counts as one purchase.
    """

    customer_id: str | None = None
    invoice_id: str | None = None
    invoice_date: str | None = None
    quantity: str | None = None
    unit_price: str | None = None
    amount: str | None = None
    country: str | None = None
    product: str | None = None
    email: str | None = None
    phone: str | None = None

    def required(self, field: str) -> str:
        """The column of a field the pipeline cannot do without (the mapping was validated for it before)."""
        column = getattr(self, field)
        if column is None:
            raise ValueError(f"No column is mapped to {FIELD_LABELS[field].lower()} ({field}).")
        return column

    def as_dict(self) -> dict[str, str | None]:
        return {field: getattr(self, field) for field in FIELDS}

    def mapped(self) -> dict[str, str]:
        """Field -> column for the fields that are mapped."""
        return {field: column for field, column in self.as_dict().items() if column is not None}

    def replace(self, **changes: str | None) -> ColumnMapping:
        unknown = set(changes) - set(FIELDS)
        if unknown:
            raise ValueError(f"unknown field(s) {sorted(unknown)}; fields are {list(FIELDS)}")
        return ColumnMapping(**{**self.as_dict(), **changes})

    @property
    def uses_amount(self) -> bool:
        return self.amount is not None

    def missing_required(self) -> list[str]:
        """Names of required fields this mapping lacks, in a readable form."""
        missing = [f for f in (CUSTOMER_ID, INVOICE_DATE) if getattr(self, f) is None]
        if self.amount is None and (self.quantity is None or self.unit_price is None):
            missing.append("amount (or quantity and unit_price)")
        return missing
