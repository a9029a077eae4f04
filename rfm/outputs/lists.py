"""The labelled customer list: one row per customer with email and phone (when the file has them), scores,
segments, cluster, action, lifecycle stage, tier and country.

This is the table every download is cut from (CSV per segment, workbook, CLI ``segment``), so its column
names and order are defined here, once.
"""

from __future__ import annotations

import pandas as pd

from rfm import schema
from rfm.schema import (
    ACTION,
    CLUSTER,
    COUNTRY,
    EMAIL,
    F_SCORE,
    LIFECYCLE_STAGE,
    M_SCORE,
    OUTLIER_TIER,
    PHONE,
    R_SCORE,
    RFM_ACTION,
    RFM_CELL,
    RFM_SEGMENT,
    SEGMENT,
    SEGMENT_NAME,
    TIER,
)

#: Every column a labelled list can hold, in the order files show them (the index, customer_id, comes first).
LABELLED_COLUMNS: tuple[str, ...] = (
    EMAIL,
    PHONE,
    schema.RECENCY,
    schema.FREQUENCY,
    schema.MONETARY,
    R_SCORE,
    F_SCORE,
    M_SCORE,
    RFM_CELL,
    RFM_SEGMENT,
    CLUSTER,
    SEGMENT_NAME,
    ACTION,
    LIFECYCLE_STAGE,
    OUTLIER_TIER,
    COUNTRY,
    RFM_ACTION,
    schema.FIRST_PURCHASE,
    schema.LAST_PURCHASE,
    schema.TENURE,
    schema.AVG_ORDER_VALUE,
    schema.HISTORICAL_CLV,
    *schema.CUSTOMER_VALUE_COLUMNS,
)
#: What a campaign list holds unless the user chooses otherwise.
DEFAULT_COLUMNS: tuple[str, ...] = LABELLED_COLUMNS[: LABELLED_COLUMNS.index(COUNTRY) + 1]
#: The two ways to split customers into lists: the business (cluster) segments or the classic RFM segments.
SPLITS: dict[str, str] = {SEGMENT_NAME: "Segment (cluster) name", RFM_SEGMENT: "RFM segment"}
#: The action column that goes with each way of splitting customers into lists.
ACTION_COLUMNS: dict[str, str] = {SEGMENT_NAME: ACTION, RFM_SEGMENT: RFM_ACTION}

COLUMN_LABELS: dict[str, str] = {
    **schema.RFM_LABELS,
    R_SCORE: "R score",
    F_SCORE: "F score",
    M_SCORE: "M score",
    RFM_CELL: "RFM cell",
    RFM_SEGMENT: "RFM segment",
    CLUSTER: "Cluster number",
    SEGMENT_NAME: "Segment name",
    ACTION: "Recommended action",
    LIFECYCLE_STAGE: "Lifecycle stage",
    OUTLIER_TIER: "Outlier tier",
    COUNTRY: "Country",
    EMAIL: "Email",
    PHONE: "Phone",
    RFM_ACTION: "RFM segment action",
    **schema.VALUE_LABELS,
    **schema.CHURN_LABELS,
}


def labelled_customers(
    segmented: pd.DataFrame,
    clusters: pd.DataFrame | None = None,
    countries: pd.Series | None = None,
    segment_info: pd.DataFrame | None = None,
    contacts: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Join everything known about each customer into one list.

    Parameters
    ----------
    segmented : DataFrame
        :attr:`rfm.scoring.classic.Segmentation.customers`: RFM columns, ``r_score``, ``f_score``, ``m_score``,
        ``rfm_cell``, ``segment``, ``tier`` and ``lifecycle_stage``, indexed by customer id.
    clusters : DataFrame, optional
        :attr:`rfm.clustering.fit.ClusterResult.customers` (``cluster``, ``cluster_name``, ``cluster_action``).
        Without it the segment name and action are the RFM segment's.
    countries : Series, optional
        Each customer's country (:attr:`rfm.cleaning.analyse.Analysis.customer_country`); the column is left out
        when ``None`` (the file had no country column).
    segment_info : DataFrame, optional
        :attr:`rfm.scoring.classic.Segmentation.info` (``action`` per segment), for ``rfm_action``.
    contacts : DataFrame, optional
        Each customer's ``email`` and/or ``phone`` (:attr:`rfm.cleaning.analyse.Analysis.customer_contacts`), shown
        right after the customer id; a customer without one gets ``<NA>``. Left out when ``None`` (the file had
        neither column).

    Returns
    -------
    DataFrame indexed by ``customer_id`` (text, leading zeros kept) with the :data:`LABELLED_COLUMNS` that
    apply, in that order.
    """
    out = segmented.rename(columns={SEGMENT: RFM_SEGMENT, TIER: OUTLIER_TIER}).copy()
    if segment_info is not None and "action" in segment_info.columns:
        out[RFM_ACTION] = out[RFM_SEGMENT].map(segment_info["action"])
    if clusters is not None:
        aligned = clusters.reindex(out.index)
        out[CLUSTER] = aligned[schema.CLUSTER].astype("Int64")
        out[SEGMENT_NAME] = aligned[schema.CLUSTER_NAME]
        out[ACTION] = aligned[schema.CLUSTER_ACTION]
    else:
        out[SEGMENT_NAME] = out[RFM_SEGMENT]
        if RFM_ACTION in out.columns:
            out[ACTION] = out[RFM_ACTION]
    if countries is not None:
        out[COUNTRY] = countries.reindex(out.index)
    if contacts is not None:
        aligned = contacts.set_axis(contacts.index.astype("str")).reindex(out.index.astype("str"))
        for column in (EMAIL, PHONE):
            if column in aligned.columns:
                out[column] = aligned[column].set_axis(out.index)
    out.index = out.index.astype("str").rename(schema.CUSTOMER_ID)
    return out[[column for column in LABELLED_COLUMNS if column in out.columns]]


def with_values(labelled: pd.DataFrame, values: pd.DataFrame | None) -> pd.DataFrame:
    """The labelled list with the predicted value and churn columns (:func:`rfm.value.predict.customer_value`,
    :data:`rfm.schema.CUSTOMER_VALUE_COLUMNS`) in their place; unchanged when ``values`` is ``None`` (no model could
    be fitted)."""
    if values is None:
        return labelled
    predicted = [c for c in schema.CUSTOMER_VALUE_COLUMNS if c in values.columns]
    out = labelled.drop(columns=[c for c in schema.CUSTOMER_VALUE_COLUMNS if c in labelled.columns]).join(values[predicted], how="left")
    return out[[column for column in LABELLED_COLUMNS if column in out.columns]]


def segment_sizes(labelled: pd.DataFrame, by: str = SEGMENT_NAME) -> pd.DataFrame:
    """Each list's size, largest revenue first.

    Returns
    -------
    DataFrame with ``name``, ``customers``, ``share`` (of all customers), ``revenue``, ``revenue_share``
    (NaN when the total is 0) and, when the list has the split's action column, ``action``.
    """
    grouped = labelled.groupby(by, sort=False, dropna=False)
    sizes = pd.DataFrame({"customers": grouped.size(), "revenue": grouped[schema.MONETARY].sum()})
    sizes.insert(1, "share", sizes["customers"] / max(len(labelled), 1))
    total = sizes["revenue"].sum()
    sizes["revenue_share"] = sizes["revenue"] / total if total else float("nan")
    action = ACTION_COLUMNS.get(by)
    if action in labelled.columns:
        sizes["action"] = grouped[action].first()
    sizes = sizes.sort_values(["revenue", "customers"], ascending=False, kind="stable")
    return sizes.rename_axis("name").reset_index()
