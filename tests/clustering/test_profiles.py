"""Cluster profiles, business names from the centroids, the segment crosstab and the PCA projection."""

import itertools
import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rfm import schema
from rfm.clustering.profiles import (
    ACTIONS,
    NAME_RULES,
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


def _profile(rows: dict) -> pd.DataFrame:
    """A profile with only the mean columns the naming reads: {cluster: (recency, frequency, monetary)}."""
    return pd.DataFrame(
        list(rows.values()),
        index=pd.Index(list(rows), name="cluster", dtype=object),
        columns=[f"mean_{schema.RECENCY}", f"mean_{schema.FREQUENCY}", f"mean_{schema.MONETARY}"],
    )


FOUR = {0: (5, 12, 2000.0), 1: (10, 1, 80.0), 2: (300, 8, 900.0), 3: (400, 1.2, 50.0)}


def test_four_typical_clusters_get_the_expected_names():
    # Scores (half rank, half position; log scale for F and M): cluster 1 has recency score
    # (2/3 + 390/395) / 2 = 0.83 (high) and the lowest frequency (low) and monetary score
    # (1/3 + 0.13) / 2 = 0.23 (low): New. Cluster 2 has recency (1/3 + 100/395) / 2 = 0.29 (low) and
    # frequency (2/3 + 0.80) / 2 = 0.74 (high): At Risk.
    names = name_clusters(_profile(FOUR))
    assert names["name"].tolist() == ["Champions", "New", "At Risk", "Lost"]
    assert names.loc[1, "basis"] == "recency high, frequency low, monetary low"
    assert names.loc[0, "action"] == ACTIONS["Champions"]
    assert list(names.columns) == ["name", "action", "basis"]


@PROPERTY
@given(
    st.integers(2, 7).flatmap(
        lambda k: st.tuples(
            st.lists(
                st.tuples(st.integers(0, 700), st.integers(1, 60), st.integers(1, 50_000)),
                min_size=k, max_size=k, unique_by=(lambda t: t[0], lambda t: t[1], lambda t: t[2]),
            ),
            st.permutations(range(k)),
        )
    )
)
def test_names_follow_the_centroids_not_the_cluster_numbers(case):
    means, permutation = case
    original = _profile(dict(enumerate(means)))
    # Cluster i is renumbered permutation[i]; rows are also listed in a different order.
    renumbered = _profile({permutation[i]: m for i, m in enumerate(means)}).sort_index()
    before, after = name_clusters(original), name_clusters(renumbered)
    for i in range(len(means)):
        assert after.loc[permutation[i], "name"] == before.loc[i, "name"]
    assert before["name"].is_unique


def test_clusters_earning_the_same_name_are_numbered_best_first():
    # Clusters 1 and 2 are both low on every axis; 2 is the worse (older, fewer orders, less money).
    names = name_clusters(_profile({0: (5, 10, 1000.0), 1: (300, 1.01, 20.0), 2: (310, 1.0, 19.0)}))
    assert names["name"].tolist() == ["Champions", "Lost", "Lost 2"]
    names = name_clusters(_profile({0: (5, 10, 1000.0), 2: (300, 1.01, 20.0), 1: (310, 1.0, 19.0)}))
    assert names.loc[[2, 1], "name"].tolist() == ["Lost", "Lost 2"]
    # The total score decides before monetary: cluster 1 is more recent and more frequent (total 0.52
    # against 0.26) though it spends a little less.
    names = name_clusters(_profile({0: (5, 10, 1000.0), 1: (300, 1.05, 19.0), 2: (310, 1.0, 20.0)}))
    assert names["name"].tolist() == ["Champions", "Lost", "Lost 2"]


def test_noise_and_a_single_cluster_have_their_own_names():
    names = name_clusters(cluster_profiles(CUSTOMERS, LABELS))
    assert names.loc[NOISE, "name"] == "Noise"
    assert names.loc[[0, 1, 2], "name"].tolist() == ["Champions", "Lost", "New"]
    alone = name_clusters(_profile({0: (10, 2, 100.0)}))
    assert alone.loc[0, "name"] == "All customers"


def test_every_pattern_of_levels_has_a_rule_and_every_name_an_action():
    levels = ("low", "mid", "high")
    for r, f, m in itertools.product(levels, repeat=3):
        assert any(r in rr and f in ff and m in mm for _, rr, ff, mm in NAME_RULES), (r, f, m)
    assert {name for name, *_ in NAME_RULES} <= set(ACTIONS)


def test_naming_needs_the_mean_columns():
    with pytest.raises(RFMInputError, match="profile has no column 'mean_recency_days'"):
        name_clusters(pd.DataFrame({"size": [1]}))


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
