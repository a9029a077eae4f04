"""Cluster profiles, business names from the customers' RFM segments, the segment crosstab and the PCA projection."""

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rfm import schema
from rfm.clustering.profiles import (
    ACTIONS,
    PROFILE_COLUMNS,
    PCAProjection,
    cluster_profiles,
    name_clusters,
    pca_projection,
    segment_crosstab,
)
from rfm.errors import RFMInputError
from rfm.schema import NOISE

PROPERTY = settings(max_examples=25, deadline=None, derandomize=True)

CUSTOMERS = pd.DataFrame(
    {
        schema.RECENCY: [1, 3, 300, 200, 20, 400],
        schema.FREQUENCY: [10, 8, 1, 2, 1, 1],
        schema.MONETARY: [1000.0, 800.0, 20.0, 50.0, 30.0, 10.0],
        "segment": ["Champions", "Champions", "Lost", "At Risk", "New Customers", "Lost"],
    },
    index=pd.Index(list("abcdef"), name=schema.CUSTOMER_ID),
)
LABELS = pd.Series([0, 0, 1, 1, 2, -1], index=CUSTOMERS.index)


# --- profiles --------------------------------------------------------------------------------------------


def test_profile_figures_by_hand():
    profile = cluster_profiles(CUSTOMERS, LABELS)
    assert profile.index.tolist() == [0, 1, 2, NOISE]  # noise (-1) last, one label everywhere
    assert profile.index.name == "cluster"
    assert profile["size"].tolist() == [2, 2, 1, 1]
    assert profile["share"].tolist() == pytest.approx([2 / 6, 2 / 6, 1 / 6, 1 / 6])
    assert profile["revenue"].tolist() == [1800.0, 70.0, 30.0, 10.0]
    assert profile["revenue_share"].tolist() == pytest.approx([1800 / 1910, 70 / 1910, 30 / 1910, 10 / 1910])
    assert profile["mean_recency_days"].tolist() == [2.0, 250.0, 20.0, 400.0]
    assert profile["median_frequency"].tolist() == [9.0, 1.5, 1.0, 1.0]
    # Cluster revenue over cluster orders: 1800 / 18 and 70 / 3, not the mean of the customers' own values.
    assert profile["avg_order_value"].tolist() == pytest.approx([100.0, 70 / 3, 30.0, 10.0])


def test_profile_adds_segment_shares_largest_segment_first():
    profile = cluster_profiles(CUSTOMERS, LABELS)
    segments = ["segment: Champions", "segment: Lost", "segment: At Risk", "segment: New Customers"]
    assert list(profile.columns) == [*PROFILE_COLUMNS, *segments]
    assert profile.loc[1, segments].tolist() == [0.0, 0.5, 0.5, 0.0]
    assert profile[segments].sum(axis=1).tolist() == pytest.approx([1.0] * 4)


def test_profile_keeps_categorical_segment_order_and_works_without_segments():
    order = ["New Customers", "Lost", "Champions", "At Risk", "Unused"]
    ordered = CUSTOMERS.assign(segment=pd.Categorical(CUSTOMERS["segment"], order))
    columns = [c for c in cluster_profiles(ordered, LABELS).columns if c.startswith("segment: ")]
    assert columns == ["segment: New Customers", "segment: Lost", "segment: Champions", "segment: At Risk"]
    plain = cluster_profiles(CUSTOMERS.drop(columns="segment"), LABELS)
    assert list(plain.columns) == list(PROFILE_COLUMNS)


def test_profile_does_not_depend_on_row_order():
    shuffled = [4, 1, 5, 0, 3, 2]
    profile = cluster_profiles(CUSTOMERS.iloc[shuffled], LABELS.iloc[::-1])
    pd.testing.assert_frame_equal(profile, cluster_profiles(CUSTOMERS, LABELS))


@pytest.mark.parametrize(
    "labels, message",
    [
        (LABELS.iloc[:5], "1 customer\\(s\\) have no cluster, first 'f'"),
        (
            pd.concat([LABELS, pd.Series([0], index=["z"])]),
            "1 labelled customer\\(s\\) are not in the table, first 'z'",
        ),
        (pd.Series([0, 0, 1, 1, 2, 2], index=list("abcdee")), "1 repeated customer id\\(s\\), first 'e'"),
        (pd.Series([0, 0, 1, None, 2, 2], index=list("abcdef")), "1 missing value\\(s\\), first for customer 'd'"),
        ([0, 0, 1, 1, 2, 2], "should be a Series indexed by customer id; got list"),
    ],
)
def test_labels_must_match_the_customers(labels, message):
    with pytest.raises(RFMInputError, match=message):
        cluster_profiles(CUSTOMERS, labels)


def test_profile_needs_the_rfm_columns():
    with pytest.raises(RFMInputError, match="customer table has no column 'monetary'"):
        cluster_profiles(CUSTOMERS.drop(columns=schema.MONETARY), LABELS)


# --- names -----------------------------------------------------------------------------------------------


SEGMENTS = ("Champions", "Loyal Customers", "Potential Loyalist", "At Risk", "Hibernating", "Lost")


def _profile(rows: dict) -> pd.DataFrame:
    """A profile with what the naming reads: {cluster: ((recency, frequency, monetary), {segment: share})}."""
    means = [f"mean_{schema.RECENCY}", f"mean_{schema.FREQUENCY}", f"mean_{schema.MONETARY}"]
    frame = pd.DataFrame(
        [[*m, *(shares.get(seg, 0.0) for seg in SEGMENTS)] for m, shares in rows.values()],
        index=pd.Index(list(rows), name="cluster", dtype=object),
        columns=[*means, *(f"segment: {seg}" for seg in SEGMENTS)],
    )
    return frame


FOUR = {
    0: ((5, 12, 2000.0), {"Champions": 0.7, "Loyal Customers": 0.3}),
    1: ((10, 1, 80.0), {"Potential Loyalist": 0.6, "Champions": 0.4}),
    2: ((300, 8, 900.0), {"At Risk": 0.55, "Hibernating": 0.45}),
    3: ((400, 1.2, 50.0), {"Lost": 0.8, "Hibernating": 0.2}),
}


def test_each_cluster_is_named_after_its_most_common_segment():
    names = name_clusters(_profile(FOUR))
    assert names["name"].tolist() == ["Champions", "Potential Loyalist", "At Risk", "Lost"]
    assert names["agreement"].tolist() == [0.7, 0.6, 0.55, 0.8]
    assert names.loc[0, "basis"] == "70% Champions, 30% Loyal Customers"
    assert names.loc[0, "action"] == ACTIONS["Champions"]
    assert list(names.columns) == ["name", "action", "agreement", "basis"]


def test_names_do_not_depend_on_the_rank_among_the_clusters():
    # The best cluster here is mostly Hibernating: it is not called Champions because it is the best of three.
    names = name_clusters(_profile({
        0: ((60, 3, 300.0), {"Hibernating": 0.6, "At Risk": 0.4}),
        1: ((200, 1, 50.0), {"Lost": 0.9, "Hibernating": 0.1}),
        2: ((250, 1, 40.0), {"Lost": 1.0}),
    }))
    assert names.loc[0, "name"] == "Hibernating"
    assert "Champions" not in names["name"].tolist()


def test_champions_and_lost_need_most_of_the_cluster_in_their_family():
    # 45% Champions, 5% Loyal Customers: Champions is the most common, but not most of the cluster with Loyal.
    names = name_clusters(_profile({
        0: ((5, 9, 900.0), {"Champions": 0.45, "Loyal Customers": 0.05, "Potential Loyalist": 0.3, "At Risk": 0.2}),
        1: ((300, 1, 20.0), {"Lost": 0.4, "Potential Loyalist": 0.6}),
    }))
    assert names.loc[0, "name"] == "Potential Loyalist"
    assert names.loc[1, "name"] == "Potential Loyalist 2"  # Lost is 40%, less than most of the cluster
    names = name_clusters(_profile({
        0: ((5, 9, 900.0), {"Champions": 0.45, "Loyal Customers": 0.1, "At Risk": 0.45}),
        1: ((300, 1, 20.0), {"Lost": 0.45, "Hibernating": 0.15, "Potential Loyalist": 0.4}),
    }))
    assert names["name"].tolist() == ["Champions", "Lost"]


def test_a_taken_name_passes_to_a_large_second_segment_else_a_number():
    names = name_clusters(_profile({
        0: ((5, 12, 2000.0), {"Champions": 0.9, "Loyal Customers": 0.1}),
        1: ((8, 9, 900.0), {"Champions": 0.6, "Loyal Customers": 0.4}),  # loses Champions, 40% Loyal is enough
        2: ((9, 8, 800.0), {"Champions": 0.8, "Loyal Customers": 0.1, "Potential Loyalist": 0.1}),
    }))
    assert names["name"].tolist() == ["Champions", "Loyal Customers", "Champions 2"]
    assert names.loc[1, "agreement"] == 0.4


@PROPERTY
@given(
    st.integers(2, 7).flatmap(
        lambda k: st.tuples(
            st.lists(
                st.tuples(
                    st.tuples(st.integers(0, 700), st.integers(1, 60), st.integers(1, 50_000)),
                    st.lists(st.integers(0, 10), min_size=len(SEGMENTS), max_size=len(SEGMENTS)).filter(any),
                ),
                min_size=k, max_size=k, unique_by=(lambda t: t[0][0], lambda t: t[0][1], lambda t: t[0][2]),
            ),
            st.permutations(range(k)),
        )
    )
)
def test_names_follow_the_customers_not_the_cluster_numbers(case):
    rows, permutation = case
    clusters = [(m, {seg: w / sum(weights) for seg, w in zip(SEGMENTS, weights)}) for m, weights in rows]
    original = _profile(dict(enumerate(clusters)))
    # Cluster i is renumbered permutation[i]; rows are also listed in a different order.
    renumbered = _profile({permutation[i]: c for i, c in enumerate(clusters)}).sort_index()
    before, after = name_clusters(original), name_clusters(renumbered)
    for i in range(len(clusters)):
        assert after.loc[permutation[i], "name"] == before.loc[i, "name"]
    assert before["name"].is_unique
    for cluster, (_, shares) in enumerate(clusters):
        name = before.loc[cluster, "name"].rsplit(" ", 1)[0] if before.loc[cluster, "name"][-1].isdigit() else before.loc[cluster, "name"]
        if name == "Champions":
            assert shares["Champions"] + shares["Loyal Customers"] > 0.5
        if name == "Lost":
            assert shares["Lost"] + shares["Hibernating"] + shares["At Risk"] > 0.5


def test_clusters_earning_the_same_name_are_numbered_best_first():
    lost = {"Lost": 1.0}
    names = name_clusters(_profile({0: ((5, 10, 1000.0), {"Champions": 1.0}), 1: ((300, 1.01, 20.0), lost), 2: ((310, 1.0, 19.0), lost)}))
    assert names["name"].tolist() == ["Champions", "Lost", "Lost 2"]
    names = name_clusters(_profile({0: ((5, 10, 1000.0), {"Champions": 1.0}), 2: ((300, 1.01, 20.0), lost), 1: ((310, 1.0, 19.0), lost)}))
    assert names.loc[[2, 1], "name"].tolist() == ["Lost", "Lost 2"]


def test_noise_and_a_single_cluster_have_their_own_names():
    names = name_clusters(cluster_profiles(CUSTOMERS, LABELS))
    assert names.loc[NOISE, "name"] == "Noise"
    assert math.isnan(names.loc[NOISE, "agreement"])
    assert names.loc[[0, 1, 2], "name"].tolist() == ["Champions", "Lost", "New Customers"]
    assert names.loc[1, "basis"] == "50% Lost, 50% At Risk"  # ties in the order of the profile (largest segment first)
    alone = name_clusters(_profile({0: ((10, 2, 100.0), {"Lost": 1.0})}))
    assert alone.loc[0, "name"] == "All customers"


def test_every_default_segment_and_cluster_name_has_an_action():
    from rfm.scoring.rules import default_rules

    assert {rule.segment for rule in default_rules()} <= set(ACTIONS)
    names = name_clusters(_profile(FOUR), actions={"Lost": "Call them."})
    assert names.loc[3, "action"] == "Call them."


def test_naming_needs_the_segment_shares_and_the_means():
    with pytest.raises(RFMInputError, match="named after their customers' RFM segments"):
        name_clusters(pd.DataFrame({f"mean_{schema.RECENCY}": [1]}))
    with pytest.raises(RFMInputError, match="profile has no column 'mean_recency_days'"):
        name_clusters(pd.DataFrame({"segment: Lost": [1.0]}))


# --- crosstab --------------------------------------------------------------------------------------------


def test_crosstab_counts_and_row_shares_by_hand():
    counts, shares = segment_crosstab(CUSTOMERS["segment"], LABELS)
    assert counts.index.tolist() == ["Champions", "Lost", "At Risk", "New Customers"]
    assert counts.columns.tolist() == [0, 1, 2, NOISE]
    assert counts.loc["Lost"].tolist() == [0, 1, 0, 1]
    assert counts.loc["Champions"].tolist() == [2, 0, 0, 0]
    assert shares.loc["Lost"].tolist() == [0.0, 0.5, 0.0, 0.5]
    assert shares.sum(axis=1).tolist() == pytest.approx([1.0] * 4)
    assert counts.to_numpy().sum() == len(CUSTOMERS)


def test_crosstab_needs_matching_customers():
    with pytest.raises(RFMInputError, match="1 customer\\(s\\) have no cluster, first 'a'"):
        segment_crosstab(CUSTOMERS["segment"], LABELS.iloc[1:])


# --- PCA -------------------------------------------------------------------------------------------------


def test_points_on_a_line_have_all_their_variance_on_the_first_axis():
    X = np.array([[0.0, 0.0, 1.0], [1.0, 2.0, 1.0], [2.0, 4.0, 1.0], [3.0, 6.0, 1.0]])
    projection = pca_projection(X, X[[0, 3]])
    assert projection.explained_variance_ratio == pytest.approx((1.0, 0.0))
    # Along the line, the customers are √5 apart.
    assert np.abs(np.diff(projection.coords[:, 0])) == pytest.approx([math.sqrt(5)] * 3)
    assert projection.coords[:, 1] == pytest.approx([0.0] * 4)
    # A centre that equals a customer lands where that customer does.
    assert projection.center_coords == pytest.approx(projection.coords[[0, 3]])
    assert projection.warnings == ()


def test_two_features_are_rotated_not_squashed():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(30, 2)) * [3.0, 1.0]
    projection = pca_projection(X, X[:2])
    assert sum(projection.explained_variance_ratio) == pytest.approx(1.0)
    assert projection.explained_variance_ratio[0] > 0.8
    distances = lambda P: np.linalg.norm(P[:, None] - P[None], axis=-1)  # noqa: E731
    assert distances(projection.coords) == pytest.approx(distances(X))


def test_one_feature_is_padded_and_says_so():
    projection = pca_projection(np.array([[1.0], [2.0], [4.0]]), np.array([[1.5], [4.0]]))
    assert projection.coords.shape == (3, 2) and projection.center_coords.shape == (2, 2)
    assert projection.coords[:, 1].tolist() == [0.0, 0.0, 0.0]
    assert np.abs(projection.coords[:, 0]).tolist() == pytest.approx([4 / 3, 1 / 3, 5 / 3])
    assert projection.explained_variance_ratio == (1.0, 0.0)
    assert projection.warnings == ("The second axis is zeros: the data have only one feature.",)


@pytest.mark.parametrize(
    "X, why",
    [(np.array([[1.0, 2.0, 3.0]]), "a single customer"), (np.ones((5, 3)), "all 5 customers are identical")],
)
def test_no_variance_puts_everybody_at_the_origin(X, why):
    projection = pca_projection(X, X[:1])
    assert isinstance(projection, PCAProjection)
    assert projection.coords.tolist() == [[0.0, 0.0]] * len(X)
    assert all(math.isnan(r) for r in projection.explained_variance_ratio)
    assert why in projection.warnings[0]


def test_centres_must_live_in_the_same_space():
    with pytest.raises(RFMInputError, match=r"centers should have shape \(n_clusters, 3\) .* got \(2, 2\)"):
        pca_projection(np.zeros((4, 3)), np.zeros((2, 2)))
