"""What the clusters are: a profile per cluster, business names from the profile, the crosstab against the
named RFM segments, and a 2-D PCA projection to draw them.

Each cluster is named after the RFM segment most of its customers are in (see :func:`name_clusters`), never
after the cluster number or its rank among the clusters, so relabelling the clusters relabels the names with them.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

from rfm import schema
from rfm.errors import RFMInputError
from rfm.schema import CLUSTER, NOISE, NOISE_NAME, SEGMENT
from rfm.scoring.rules import default_rules

SEGMENT_PREFIX = "segment: "
PROFILE_COLUMNS: tuple[str, ...] = (
    "size",
    "share",
    "revenue",
    "revenue_share",
    *(
        f"{stat}_{metric}"
        for metric in (schema.RECENCY, schema.FREQUENCY, schema.MONETARY)
        for stat in ("mean", "median")
    ),
    "avg_order_value",
)

#: Names that promise the most. A cluster takes one only when most of its customers are in one of these RFM
#: segments: a "Champions" cluster is mostly Champions or Loyal Customers, a "Lost" one mostly Lost, Hibernating
#: or At Risk.
GUARDED_NAMES: dict[str, frozenset[str]] = {
    "Champions": frozenset({"Champions", "Loyal Customers"}),
    "Lost": frozenset({"Lost", "Hibernating", "At Risk"}),
}
#: A cluster whose most common segment's name went to a cluster with more of that segment takes another segment's
#: name only when at least this share of its customers are in it; else it is numbered ("Hibernating 2").
SECOND_NAME_SHARE = 0.25
#: The name of a cluster no segment name fits (only possible when the guarded segments split it evenly).
MIXED_NAME = "Mixed"
SINGLE_NAME = "All customers"
#: What to do about each name: the default RFM rules' actions, and the names only clusters take.
ACTIONS: dict[str, str] = {
    **{rule.segment: rule.action for rule in default_rules()},
    SINGLE_NAME: "One cluster says nothing about differences: try more clusters.",
    MIXED_NAME: "Look at the profile: no RFM segment describes most of this cluster.",
    NOISE_NAME: "Not in any dense group: review these customers one by one.",
}


def cluster_profiles(customers: pd.DataFrame, labels: pd.Series, segment_column: str = SEGMENT) -> pd.DataFrame:
    """Size, revenue and the typical customer of each cluster.

    Parameters
    ----------
    customers : DataFrame
        The RFM table (``recency_days``, ``frequency``, ``monetary``), indexed by customer id; optionally
        with a ``segment_column`` of named RFM segments.
    labels : Series
        Cluster of each customer, indexed by customer id (the same ids as ``customers``); -1 is noise.
    segment_column : str
        Column of named segments; when present, the share of each segment in each cluster is added.

    Returns
    -------
    DataFrame indexed by ``cluster`` (the cluster numbers in ascending order, then ``NOISE`` (-1) if
    present) with :data:`PROFILE_COLUMNS`: ``size``, ``share`` (of customers), ``revenue`` (sum of
    monetary), ``revenue_share``, ``mean_``/``median_`` recency_days, frequency and monetary, and
    ``avg_order_value`` (the cluster's revenue / its orders); then one ``"segment: <name>"`` column per
    named segment (its share of the cluster's customers; rows sum to 1).

    Raises
    ------
    RFMInputError
        For a missing RFM column, or labels that do not match the customers one to one.
    """
    from rfm.scoring.classic import segment_summary

    _require(customers, (schema.RECENCY, schema.FREQUENCY, schema.MONETARY), "customer table")
    clusters = _aligned(labels, customers.index, "labels")
    keyed = clusters.astype("int64")
    order = _cluster_order(clusters)
    frame = customers.assign(**{CLUSTER: keyed})
    summary = segment_summary(frame, order, by=CLUSTER).rename(columns={"customers": "size"})
    summary = summary[list(PROFILE_COLUMNS)]
    if segment_column in customers.columns:
        segments = customers[segment_column]
        shares = pd.crosstab(keyed, segments, normalize="index")
        shares = shares[_segment_order(segments)].reindex(summary.index)
        summary = summary.join(shares.add_prefix(SEGMENT_PREFIX))
    summary.index = pd.Index(list(summary.index), name=CLUSTER, dtype=object)
    return summary


def name_clusters(profile: pd.DataFrame, actions: Mapping[str, str] | None = None) -> pd.DataFrame:
    """A business name and a recommended action for each cluster, from its own customers' RFM segments.

    A cluster is named after the RFM segment (of the score rules) that most of its customers are in: names come
    from behaviour, the customers' own R/F/M scores, not from how a cluster ranks among the others. The rules:

    - a guarded name (:data:`GUARDED_NAMES`: Champions, Lost) needs most of the cluster in its family of segments;
    - names are unique: a segment's name goes to the cluster with the largest share of it; a cluster that loses its
      most common segment's name takes the next segment holding at least :data:`SECOND_NAME_SHARE` of it, else its
      own most common name numbered by how good the cluster is (" 2", " 3"...: by recency, frequency and spend,
      see :func:`merit_scores`), so the name never depends on the cluster number;
    - a single cluster is "All customers"; the noise row (label ``NOISE``, -1) is "Noise".

    Parameters
    ----------
    profile : DataFrame
        From :func:`cluster_profiles` with a segment column: the ``"segment: <name>"`` shares, and the means
        ``mean_recency_days``, ``mean_frequency``, ``mean_monetary``.
    actions : mapping of segment name to action, optional
        The rules' actions (``Segmentation.info["action"]``); the default rules' actions otherwise.

    Returns
    -------
    DataFrame indexed like ``profile`` with ``name`` (unique), ``action`` (one line), ``agreement`` (the share of
    the cluster's customers in the RFM segment it is named after; NaN for noise, a single cluster or "Mixed") and
    ``basis`` (its most common segments, e.g. ``"44% Loyal Customers, 40% Champions, 9% Potential Loyalist"``).

    Raises
    ------
    RFMInputError
        When the profile has no segment shares.
    """
    shares = segment_shares(profile)
    ranked = list(merit_scores(profile).sum(axis=1).sort_values(ascending=False, kind="stable").index)
    bases = {ranked[0]: SINGLE_NAME} if len(ranked) == 1 else _segment_names(shares.loc[ranked])
    unique = _numbered(bases, ranked)
    known = {**ACTIONS, **(actions or {})}
    rows = []
    for cluster in profile.index:
        if cluster == NOISE:
            rows.append((NOISE_NAME, known[NOISE_NAME], math.nan, "not in any cluster"))
            continue
        base, row = bases[cluster], shares.loc[cluster]
        action = known.get(base) or f"Act as for the RFM segment {base!r} (its action is on the RFM page)."
        agreement = float(row[base]) if base in row.index else math.nan
        rows.append((unique[cluster], action, agreement, _basis(row)))
    return pd.DataFrame(rows, columns=["name", "action", "agreement", "basis"], index=profile.index)


def segment_shares(profile: pd.DataFrame) -> pd.DataFrame:
    """The share of each RFM segment in each cluster (noise left out): the profile's ``"segment: "`` columns."""
    columns = [c for c in profile.columns if str(c).startswith(SEGMENT_PREFIX)]
    if not columns:
        raise RFMInputError(
            "Clusters are named after their customers' RFM segments, and the profile has none: build it with "
            "cluster_profiles() on customers with a 'segment' column."
        )
    shares = profile.loc[[c for c in profile.index if c != NOISE], columns].astype("float64").fillna(0.0)
    return shares.rename(columns=lambda c: str(c)[len(SEGMENT_PREFIX):])


def _segment_names(shares: pd.DataFrame) -> dict:
    """The segment each cluster is named after (rows of ``shares`` best cluster first); see :func:`name_clusters`."""
    allowed = {cluster: [seg for seg in shares.columns if _may_take(row, seg)] for cluster, row in shares.iterrows()}
    first = {
        cluster: max(segs, key=lambda seg: shares.at[cluster, seg]) if segs else MIXED_NAME
        for cluster, segs in allowed.items()
    }
    position = {cluster: place for place, cluster in enumerate(shares.index)}
    pairs = sorted(
        ((shares.at[cluster, seg], -position[cluster], -order, seg, cluster)
         for cluster, segs in allowed.items() for order, seg in enumerate(segs)),
        key=lambda pair: pair[:3], reverse=True,
    )
    named: dict = {}
    for share, _, _, seg, cluster in pairs:
        if cluster in named or seg in named.values():
            continue
        if seg == first[cluster] or share >= SECOND_NAME_SHARE:
            named[cluster] = seg
    return {cluster: named.get(cluster, first[cluster]) for cluster in shares.index}


def _may_take(row: pd.Series, segment: str) -> bool:
    """Whether a cluster (its segment shares) may be named after ``segment``: some of it is in that segment, and
    most of it is in the segment's family when the name is guarded."""
    if row[segment] <= 0:
        return False
    family = GUARDED_NAMES.get(segment)
    return family is None or float(row[[s for s in row.index if s in family]].sum()) > 0.5


def _numbered(bases: Mapping, ranked: list) -> dict:
    """Names made unique: the second cluster (in ``ranked`` order) with the same base gets " 2", and so on."""
    seen: dict[str, int] = {}
    unique = {}
    for cluster in ranked:
        base = bases[cluster]
        seen[base] = seen.get(base, 0) + 1
        unique[cluster] = base if seen[base] == 1 else f"{base} {seen[base]}"
    return unique


def _basis(row: pd.Series) -> str:
    """The cluster's three most common segments with their shares."""
    top = row[row > 0].sort_values(ascending=False, kind="stable").head(3)
    return ", ".join(f"{share:.0%} {segment}" for segment, share in top.items())


def merit_scores(profile: pd.DataFrame) -> pd.DataFrame:
    """How good each cluster is on each axis, from 0 (worst cluster) to 1 (best): half the rank among the clusters
    (evenly spaced), half the position between the worst and the best (on a log scale for frequency and monetary);
    the lowest recency is best.

    Returns a frame indexed like ``profile`` (noise left out) with ``r``, ``f`` and ``m``; their sum ranks
    the clusters from best to worst.
    """
    means = [f"mean_{schema.RECENCY}", f"mean_{schema.FREQUENCY}", f"mean_{schema.MONETARY}"]
    _require(profile, means, "profile")
    clusters = profile.loc[[c for c in profile.index if c != NOISE], means].astype("float64")
    return pd.DataFrame(
        {
            "r": _merit_scores(-clusters[means[0]]),
            "f": _merit_scores(np.log1p(clusters[means[1]].clip(lower=0))),
            "m": _merit_scores(np.log1p(clusters[means[2]].clip(lower=0))),
        }
    )


def segment_crosstab(segments: pd.Series, clusters: pd.Series) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Named RFM segments against clusters.

    Parameters
    ----------
    segments : Series
        Named segment of each customer, indexed by customer id.
    clusters : Series
        Cluster of each customer, indexed by the same ids (-1 is noise).

    Returns
    -------
    (counts, shares) : two DataFrames indexed by segment, one column per cluster (ascending, then
    ``NOISE``, -1). ``counts`` holds customers; ``shares`` divides each row by its total, so it says how a
    segment splits across the clusters (each row sums to 1).
    """
    aligned = _aligned(clusters, segments.index, "clusters")
    keyed = aligned
    counts = pd.crosstab(segments.rename("segment"), keyed.rename(CLUSTER))
    counts = counts.reindex(index=_segment_order(segments), columns=_cluster_order(aligned), fill_value=0)
    counts.columns = pd.Index(list(counts.columns), name=CLUSTER, dtype=object)
    shares = counts.div(counts.sum(axis=1), axis=0)
    return counts, shares


# --- PCA ----------------------------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class PCAProjection:
    """Customers and cluster centres on the first two principal components of the scaled features.

    Attributes
    ----------
    coords : ndarray of shape (n_customers, 2)
    center_coords : ndarray of shape (n_clusters, 2)
    explained_variance_ratio : (float, float)
        Share of the variance along each axis (0 for a padded axis; NaN when there is no variance).
    warnings : tuple of str
        When an axis is padded with zeros, or there is nothing to project.

    Compared and hashed by identity (``eq=False``): it holds arrays, and it is a result, not a cache key.
    """

    coords: np.ndarray
    center_coords: np.ndarray
    explained_variance_ratio: tuple[float, float]
    warnings: tuple[str, ...] = ()
    mean: np.ndarray | None = None  # (n_features,): the centre the axes start from
    components: np.ndarray | None = None  # (2, n_features): the axes; a padded axis is zeros

    def axes(self) -> tuple[np.ndarray, np.ndarray]:
        """``(mean, components)``: where the axes start and where they point."""
        if self.mean is None or self.components is None:
            raise RFMInputError("This projection keeps no axes: it cannot place new points.")
        return self.mean, self.components

    def project(self, points: np.ndarray) -> np.ndarray:
        """Place new points (scaled features, shape (n, n_features)) on the same two axes."""
        mean, components = self.axes()
        return (np.asarray(points, dtype="float64") - mean) @ components.T


def pca_projection(X: np.ndarray, centers: np.ndarray, random_state: int = 0) -> PCAProjection:
    """Project customers and centres onto the first two principal components of ``X``.

    Parameters
    ----------
    X : ndarray of shape (n_customers, n_features)
        The scaled features the clusters were fitted on.
    centers : ndarray of shape (n_clusters, n_features)
        Cluster centres in the same space.
    random_state : int
        Seed of the PCA solver (only the randomized solver uses it).

    Returns
    -------
    PCAProjection
        With one feature, or a single customer, the missing axis is zeros and ``warnings`` says so; with no
        variance at all every point sits at the origin and the ratios are NaN.

    Examples
    --------
    >>> import numpy as np
    >>> X = np.array([[0.0, 0.0, 1.0], [2.0, 0.0, 1.0], [4.0, 0.0, 1.0]])
    >>> projection = pca_projection(X, X[[0, 2]])
    >>> projection.explained_variance_ratio
    (1.0, 0.0)
    """
    matrix, centres = _projection_inputs(X, centers)
    n_samples, n_features = matrix.shape
    mean = matrix.mean(axis=0)
    if float(((matrix - mean) ** 2).sum()) == 0:
        return _flat_projection(matrix, centres, mean)
    from sklearn.decomposition import PCA

    n_components = min(2, n_features, n_samples)
    pca = PCA(n_components=n_components, random_state=random_state).fit(matrix)
    ratios = [float(r) for r in pca.explained_variance_ratio_] + [0.0] * (2 - n_components)
    warnings: tuple[str, ...] = ()
    if n_components < 2:
        why = "only one feature" if n_features == 1 else "only one direction of variation"
        warnings = (f"The second axis is zeros: the data have {why}.",)
    return PCAProjection(
        coords=_pad(pca.transform(matrix)),
        center_coords=_pad(pca.transform(centres)),
        explained_variance_ratio=(ratios[0], ratios[1]),
        warnings=warnings,
        mean=pca.mean_,
        components=np.vstack([pca.components_, np.zeros((2 - n_components, n_features))]),
    )


def _projection_inputs(X: np.ndarray, centers: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``X`` and ``centers`` as float matrices, checked: 2-D, at least one customer, the same features."""
    matrix = np.asarray(X, dtype="float64")
    centres = np.asarray(centers, dtype="float64")
    if matrix.ndim != 2 or matrix.shape[1] == 0:
        raise RFMInputError(f"X should be 2-D (customers × features); got shape {matrix.shape}.")
    if centres.ndim != 2 or centres.shape[1] != matrix.shape[1]:
        raise RFMInputError(
            f"centers should have shape (n_clusters, {matrix.shape[1]}) like X's features; got {centres.shape}."
        )
    if matrix.shape[0] == 0:
        raise RFMInputError("X has no customer (n_samples=0): nothing to project.")
    return matrix, centres


def _flat_projection(matrix: np.ndarray, centres: np.ndarray, mean: np.ndarray) -> PCAProjection:
    """The projection of customers without any variance: all at the origin, the ratios NaN, and a warning."""
    n_samples, n_features = matrix.shape
    why = "a single customer" if n_samples == 1 else f"all {n_samples} customers are identical"
    return PCAProjection(
        coords=np.zeros((n_samples, 2)),
        center_coords=_pad(centres[:, :2] - mean[:2]),
        explained_variance_ratio=(float("nan"), float("nan")),
        warnings=(f"No variance to project ({why}): every customer is drawn at the origin.",),
        mean=mean,
        components=np.eye(2, n_features),
    )


def _pad(coords: np.ndarray) -> np.ndarray:
    """Two columns: extra ones dropped, missing ones zeros."""
    out = np.zeros((coords.shape[0], 2))
    out[:, : min(2, coords.shape[1])] = coords[:, :2]
    return out


# --- helpers ------------------------------------------------------------------------------------------


def _require(frame: pd.DataFrame, columns, what: str) -> None:
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise RFMInputError(f"The {what} has no column {missing[0]!r}; it has {list(frame.columns)}.")


def _aligned(labels: pd.Series, index: pd.Index, name: str) -> pd.Series:
    """``labels`` in the order of ``index``; an error unless they cover the same customers once each."""
    if not isinstance(labels, pd.Series):
        raise RFMInputError(f"{name} should be a Series indexed by customer id; got {type(labels).__name__}.")
    if labels.index.has_duplicates:
        repeated = labels.index[labels.index.duplicated()]
        raise RFMInputError(f"{name} has {len(repeated)} repeated customer id(s), first {repeated[0]!r}.")
    missing = index.difference(labels.index, sort=False)
    extra = labels.index.difference(index, sort=False)
    if len(missing) or len(extra):
        parts = []
        if len(missing):
            parts.append(f"{len(missing)} customer(s) have no cluster, first {missing[0]!r}")
        if len(extra):
            parts.append(f"{len(extra)} labelled customer(s) are not in the table, first {extra[0]!r}")
        raise RFMInputError(f"{name} do not match the customers: " + "; ".join(parts) + ".")
    aligned = labels.reindex(index)
    if aligned.isna().any():
        first = aligned.index[aligned.isna().to_numpy()][0]
        raise RFMInputError(f"{name} has {int(aligned.isna().sum())} missing value(s), first for customer {first!r}.")
    return aligned


def _cluster_order(labels: pd.Series) -> list:
    """Cluster numbers (or names) in ascending order, noise last."""
    present = pd.unique(labels)
    ordered = sorted(v for v in present if v != NOISE)
    return ordered + ([NOISE] if (present == NOISE).any() else [])


def _segment_order(segments: pd.Series) -> list:
    """Categories in their own order when categorical (present ones only), else by size, largest first."""
    if isinstance(segments.dtype, pd.CategoricalDtype):
        present = set(segments.dropna())
        return [c for c in segments.cat.categories if c in present]
    counts = segments.value_counts()
    return sorted(counts.index, key=lambda s: (-counts[s], str(s)))


def _merit_scores(values: pd.Series) -> pd.Series:
    """Half the rank score (0 lowest, 1 highest, evenly spaced; ties share their mean rank), half the
    position between the lowest and the highest value; 0.5 for a single value or all equal."""
    if len(values) < 2 or values.max() == values.min():
        return pd.Series(0.5, index=values.index)
    rank = (values.rank(method="average") - 1) / (len(values) - 1)
    position = (values - values.min()) / (values.max() - values.min())
    return (rank + position) / 2
