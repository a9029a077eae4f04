"""The labelled customer list (rfm.outputs.lists): joining scores, segments, clusters and countries, and list sizes.

Four hand-made customers scored as :attr:`rfm.scoring.classic.Segmentation.customers` gives them; every expected
value below is written out by hand from that table.
"""

from __future__ import annotations

import pandas as pd
import pytest

from rfm import schema
from rfm.outputs.lists import (
    ACTION_COLUMNS,
    DEFAULT_COLUMNS,
    LABELLED_COLUMNS,
    SPLITS,
    labelled_customers,
    segment_sizes,
    with_values,
)
from rfm.schema import (
    ACTION,
    CLUSTER,
    COUNTRY,
    OUTLIER_TIER,
    RFM_ACTION,
    RFM_SEGMENT,
    SEGMENT,
    SEGMENT_NAME,
    TIER,
)

# Four customers as rfm.scoring.classic.segment_customers returns them. Revenue: Champions 500 + 300 = 800,
# Lost 10, At Risk 90.
SEGMENTED = pd.DataFrame(
    {
        schema.RECENCY: [1, 200, 3, 90],
        schema.FREQUENCY: [9, 1, 6, 2],
        schema.MONETARY: [500.0, 10.0, 300.0, 90.0],
        schema.R_SCORE: [3, 1, 3, 1],
        schema.F_SCORE: [3, 1, 3, 2],
        schema.M_SCORE: [3, 1, 3, 2],
        schema.RFM_CELL: ["333", "111", "333", "122"],
        SEGMENT: ["Champions", "Lost", "Champions", "At Risk"],
        TIER: ["Elite VIP", "Regular", "Regular", "Regular"],
    },
    index=pd.Index(["00123", "7", "b", "c"], name=schema.CUSTOMER_ID),
)
INFO = pd.DataFrame(
    {"description": ["Best", "Gone", "Slipping"], "action": ["Reward", "Let go", "Win back"]},
    index=pd.Index(["Champions", "Lost", "At Risk"], name="segment"),
)
# Fitted clusters for three of the four customers, in another order; "7" was not clustered.
CLUSTERS = pd.DataFrame(
    {
        schema.CLUSTER: [1, 0, 1],
        schema.CLUSTER_NAME: ["Stars", "Sleepers", "Stars"],
        schema.CLUSTER_ACTION: ["Thank them", "Wake them", "Thank them"],
    },
    index=pd.Index(["b", "c", "00123"], name=schema.CUSTOMER_ID),
)
COUNTRIES = pd.Series({"c": "France", "00123": "Zürich", "b": "Côte d'Ivoire"}, name=COUNTRY)


# --------------------------------------------------------------------------------------------- column lists


def test_column_lists_are_consistent():
    assert len(set(LABELLED_COLUMNS)) == len(LABELLED_COLUMNS)
    assert LABELLED_COLUMNS[: len(DEFAULT_COLUMNS)] == DEFAULT_COLUMNS and DEFAULT_COLUMNS[-1] == COUNTRY
    assert set(SPLITS) == set(ACTION_COLUMNS) == {SEGMENT_NAME, RFM_SEGMENT}
    assert ACTION_COLUMNS == {SEGMENT_NAME: ACTION, RFM_SEGMENT: RFM_ACTION}


# --------------------------------------------------------------------------------------------- labelled_customers


def test_labelled_customers_without_clusters_take_the_rfm_segment():
    out = labelled_customers(SEGMENTED, segment_info=INFO)
    assert list(out.columns) == [
        schema.RECENCY, schema.FREQUENCY, schema.MONETARY, schema.R_SCORE, schema.F_SCORE, schema.M_SCORE,
        schema.RFM_CELL, RFM_SEGMENT, SEGMENT_NAME, ACTION, OUTLIER_TIER, RFM_ACTION,
    ]
    assert out.index.tolist() == ["00123", "7", "b", "c"] and out.index.name == schema.CUSTOMER_ID
    assert out[RFM_SEGMENT].tolist() == out[SEGMENT_NAME].tolist() == ["Champions", "Lost", "Champions", "At Risk"]
    assert out[RFM_ACTION].tolist() == out[ACTION].tolist() == ["Reward", "Let go", "Reward", "Win back"]
    assert out[OUTLIER_TIER].tolist() == ["Elite VIP", "Regular", "Regular", "Regular"]
    assert out.loc["00123", schema.MONETARY] == 500.0 and out.loc["c", schema.RECENCY] == 90
    assert SEGMENT not in out.columns and TIER not in out.columns  # renamed, not copied
    assert SEGMENTED.columns.tolist()[-2:] == [SEGMENT, TIER]  # the input is left as it was


def test_labelled_customers_with_clusters_and_countries():
    out = labelled_customers(SEGMENTED, CLUSTERS, COUNTRIES, INFO)
    assert list(out.columns) == [
        *LABELLED_COLUMNS[LABELLED_COLUMNS.index(schema.RECENCY) : LABELLED_COLUMNS.index(RFM_SEGMENT) + 1],
        CLUSTER, SEGMENT_NAME, ACTION, OUTLIER_TIER,
        COUNTRY, RFM_ACTION,
    ]
    # Clusters are aligned by id; the customer without a cluster keeps their row with empty cluster fields.
    assert out[CLUSTER].dtype == "Int64"
    assert out[CLUSTER].tolist() == [1, pd.NA, 1, 0]
    assert out.loc["00123", SEGMENT_NAME] == "Stars" and out.loc["c", SEGMENT_NAME] == "Sleepers"
    assert out.loc["c", ACTION] == "Wake them" and pd.isna(out.loc["7", SEGMENT_NAME])
    # The RFM segment and its action stay beside the cluster's.
    assert out.loc["c", RFM_SEGMENT] == "At Risk" and out.loc["c", RFM_ACTION] == "Win back"
    assert out.loc["b", COUNTRY] == "Côte d'Ivoire" and pd.isna(out.loc["7", COUNTRY])


def test_labelled_customers_of_one_customer_with_a_number_for_an_id():
    one = SEGMENTED.iloc[[0]].rename(index={"00123": 123})
    out = labelled_customers(one)
    assert out.index.tolist() == ["123"] and out.index.name == schema.CUSTOMER_ID
    # Without segment_info there is no action to copy: neither action column exists.
    assert RFM_ACTION not in out.columns and ACTION not in out.columns
    assert out.loc["123", SEGMENT_NAME] == "Champions" and COUNTRY not in out.columns


# --------------------------------------------------------------------------------------------- with_values


def test_with_values_joins_by_id_and_leaves_customers_without_a_value_empty():
    labelled = labelled_customers(SEGMENTED, segment_info=INFO)
    values = pd.DataFrame(
        {column: [float(i + 1), float(i + 10)] for i, column in enumerate(schema.VALUE_COLUMNS)},
        index=pd.Index(["c", "00123"], name=schema.CUSTOMER_ID),
    )
    out = with_values(labelled, values)
    assert list(out.columns) == [*labelled.columns, *schema.VALUE_COLUMNS]
    assert out.index.tolist() == labelled.index.tolist()
    first = schema.VALUE_COLUMNS[0]
    assert out.loc["c", first] == 1.0 and out.loc["00123", first] == 10.0
    assert out.loc[["7", "b"], list(schema.VALUE_COLUMNS)].isna().all().all()
    assert with_values(labelled, None) is labelled


# --------------------------------------------------------------------------------------------- segment_sizes


def test_segment_sizes_by_hand():
    labelled = labelled_customers(SEGMENTED, segment_info=INFO)
    sizes = segment_sizes(labelled)
    assert list(sizes.columns) == ["name", "customers", "share", "revenue", "revenue_share", "action"]
    assert sizes["name"].tolist() == ["Champions", "At Risk", "Lost"]  # largest revenue first
    assert sizes["customers"].tolist() == [2, 1, 1]
    assert sizes["share"].tolist() == pytest.approx([2 / 4, 1 / 4, 1 / 4])
    assert sizes["revenue"].tolist() == pytest.approx([800.0, 90.0, 10.0])
    assert sizes["revenue_share"].tolist() == pytest.approx([800 / 900, 90 / 900, 10 / 900])
    assert sizes["action"].tolist() == ["Reward", "Win back", "Let go"]


def test_segment_sizes_by_cluster_name_keep_the_unclustered_customer():
    labelled = labelled_customers(SEGMENTED, CLUSTERS, None, INFO)
    sizes = segment_sizes(labelled, SEGMENT_NAME)
    assert sizes["customers"].sum() == 4
    assert sizes["name"].tolist()[:2] == ["Stars", "Sleepers"]  # 800, then 90
    assert pd.isna(sizes["name"].iloc[2]) and sizes["revenue"].iloc[2] == 10.0  # "7": no cluster, own row
    assert sizes["action"].tolist()[:2] == ["Thank them", "Wake them"]


def test_segment_sizes_ties_go_by_customers_then_first_seen_and_no_revenue_gives_no_share():
    labelled = pd.DataFrame(
        {
            RFM_SEGMENT: ["B", "A", "C", "A", "D"],
            schema.MONETARY: [0.0, 0.0, 0.0, 0.0, 0.0],
        },
        index=pd.Index(list("vwxyz"), name=schema.CUSTOMER_ID),
    )
    sizes = segment_sizes(labelled, RFM_SEGMENT)
    assert sizes["name"].tolist() == ["A", "B", "C", "D"]  # equal revenue: A has two customers, then order seen
    assert sizes["revenue_share"].isna().all()
    assert "action" not in sizes.columns  # no rfm_action column in this list


def test_segment_sizes_of_an_empty_list():
    empty = labelled_customers(SEGMENTED.iloc[:0], segment_info=INFO)
    sizes = segment_sizes(empty, RFM_SEGMENT)
    assert sizes.empty and list(sizes.columns) == ["name", "customers", "share", "revenue", "revenue_share", "action"]


def test_the_lifecycle_stage_goes_with_the_segment_columns():
    stages = pd.Series(["Active", "Lost", "Active", "At risk"], index=SEGMENTED.index, dtype="category")
    out = labelled_customers(SEGMENTED.assign(**{schema.LIFECYCLE_STAGE: stages}), CLUSTERS, COUNTRIES, INFO)
    assert out[schema.LIFECYCLE_STAGE].astype(str).tolist() == ["Active", "Lost", "Active", "At risk"]
    columns = list(out.columns)
    assert columns.index(ACTION) + 1 == columns.index(schema.LIFECYCLE_STAGE) == columns.index(OUTLIER_TIER) - 1
    assert schema.LIFECYCLE_STAGE in DEFAULT_COLUMNS  # a campaign list carries it unless the user leaves it out


# --------------------------------------------------------------------------------------------- email and phone

# Contacts for three of the four customers ("7" has none), in another order; "b" has an email but no phone.
CONTACTS = pd.DataFrame(
    {
        schema.EMAIL: pd.array(["c@example.com", "a@example.com", "b@example.com"], dtype="string"),
        schema.PHONE: pd.array(["+33 6 39 98 00 01", "+44 7700 900123", pd.NA], dtype="string"),
    },
    index=pd.Index(["c", "00123", "b"], name=schema.CUSTOMER_ID),
)


def test_email_and_phone_come_right_after_the_customer_id_and_are_on_by_default():
    assert LABELLED_COLUMNS[:2] == DEFAULT_COLUMNS[:2] == (schema.EMAIL, schema.PHONE)
    out = labelled_customers(SEGMENTED, CLUSTERS, COUNTRIES, INFO, CONTACTS)
    assert list(out.columns)[:3] == [schema.EMAIL, schema.PHONE, schema.RECENCY]
    assert out[schema.EMAIL].tolist()[0] == "a@example.com" and out.loc["c", schema.PHONE] == "+33 6 39 98 00 01"
    assert pd.isna(out.loc["7", schema.EMAIL]) and pd.isna(out.loc["b", schema.PHONE])
    # Nothing else changes: the list without contacts is the same list minus the two columns.
    pd.testing.assert_frame_equal(
        out.drop(columns=[schema.EMAIL, schema.PHONE]), labelled_customers(SEGMENTED, CLUSTERS, COUNTRIES, INFO)
    )


def test_a_file_with_only_emails_gives_only_the_email_column():
    out = labelled_customers(SEGMENTED, contacts=CONTACTS[[schema.EMAIL]], segment_info=INFO)
    assert schema.EMAIL in out.columns and schema.PHONE not in out.columns
    assert out.columns[0] == schema.EMAIL


def test_without_contacts_there_is_no_email_or_phone_column():
    out = labelled_customers(SEGMENTED, CLUSTERS, COUNTRIES, INFO)
    assert schema.EMAIL not in out.columns and schema.PHONE not in out.columns
