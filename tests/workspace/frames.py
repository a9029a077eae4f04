"""A labelled customer list built by hand, with every column type the workspace stores, missing values included."""

from __future__ import annotations

import numpy as np
import pandas as pd

from rfm import schema
from rfm.outputs.lists import LABELLED_COLUMNS

INTEGERS = (schema.RECENCY, schema.FREQUENCY, schema.R_SCORE, schema.F_SCORE, schema.M_SCORE, schema.TENURE)
FLOATS = (
    schema.MONETARY, schema.AVG_ORDER_VALUE, schema.HISTORICAL_CLV, *schema.VALUE_COLUMNS, schema.CHURN_PROBABILITY,
    schema.AVG_DAYS_BETWEEN_ORDERS, schema.PREDICTED_ORDERS_365D,
)
TEXTS = (
    schema.RFM_CELL, schema.RFM_SEGMENT, schema.SEGMENT_NAME, schema.ACTION, schema.OUTLIER_TIER, schema.COUNTRY,
    schema.RFM_ACTION, schema.CHURN_RISK,
)
DATES = (schema.FIRST_PURCHASE, schema.LAST_PURCHASE, schema.EXPECTED_NEXT_ORDER)


def labelled_frame(customers: int, seed: int = 0) -> pd.DataFrame:
    """``customers`` rows with every labelled column: ids with leading zeros, emails with gaps, no phone at all,
    NaN among the decimals, NaT among the expected next orders, a nullable cluster and the ordered lifecycle stage."""
    rng = np.random.default_rng(seed)
    data: dict[str, object] = {
        schema.EMAIL: pd.array([f"c{i}@example.com" if i % 7 else None for i in range(customers)], dtype="str"),
        schema.PHONE: pd.array([None] * customers, dtype="str"),
        schema.CLUSTER: pd.array(rng.integers(-1, 4, customers), dtype="Int64"),
        schema.LIFECYCLE_STAGE: pd.Categorical(
            rng.choice(["New", "Active", "Lost"], customers), categories=schema.LIFECYCLE_STAGES, ordered=True
        ),
    }
    data.update({column: rng.integers(0, 500, customers) for column in INTEGERS})
    data.update({column: rng.random(customers) * 100 for column in FLOATS})
    data.update({column: pd.array(rng.choice(["Champions", "At risk", "Ça va, 'quoted'"], customers), dtype="str") for column in TEXTS})
    start = pd.Timestamp("2020-01-01 08:30:00")
    data.update({column: (start + pd.to_timedelta(rng.integers(0, 10**8, customers), unit="s")).astype("datetime64[us]") for column in DATES})
    index = pd.Index([f"{i:07d}" for i in range(customers)], name=schema.CUSTOMER_ID)
    frame = pd.DataFrame(data, index=index)
    frame.loc[frame.index[::3], schema.AVG_DAYS_BETWEEN_ORDERS] = np.nan
    frame.loc[frame.index[::5], schema.EXPECTED_NEXT_ORDER] = pd.NaT
    if customers > 1:
        frame.loc[frame.index[1], schema.CLUSTER] = pd.NA
    return frame[[column for column in LABELLED_COLUMNS if column in frame.columns]]
