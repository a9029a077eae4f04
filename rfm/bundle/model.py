"""Saved models: everything needed to score next month's file with the same segments, as plain JSON.

A :class:`ModelBundle` holds the RFM score cut points, the segment rules, the outlier fences, and the
clustering (features, log transforms, scaler parameters, centres, names and actions), plus the settings and
the library version, and a few quantiles of every feature it scores on over the customers it was fitted on
(so that :func:`rfm.bundle.drift.check_fit` can tell when a new file lies outside what the model saw). It is
written with :func:`json.dumps` and read back by :func:`load_bundle`, which checks every field against a
schema with size limits before anything is used: a bundle is data, never code (no pickle), so one uploaded
by anyone cannot run anything.

Format versions: 2 adds ``distribution``; bundles of version 1 (saved before it) still load and score,
without it. Any other version is refused.

Scoring (:meth:`ModelBundle.score`) needs only numpy: the same maths as the fitted estimator, written out.
"""

from __future__ import annotations

import datetime as dt
import json
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property
from itertools import pairwise
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from rfm import __version__, schema
from rfm.clustering.assign import assign, squared_distances
from rfm.clustering.features import FEATURE_CHOICES
from rfm.errors import RFMInputError
from rfm.schema import (
    ALGORITHM_LABELS,
    CLUSTER,
    CLUSTER_ACTION,
    CLUSTER_NAME,
    DATE_ORDERS,
    F_SCORE,
    M_SCORE,
    R_SCORE,
    RFM_CELL,
    SCALERS,
    SEGMENT,
    TIER,
)
from rfm.scoring.rules import SegmentRule, segment_array, segment_info
from rfm.scoring.scores import MAX_BINS, MIN_BINS, SCORE_COLUMNS, rfm_cells, value_bounds
from rfm.scoring.tiers import REGULAR, TIER_GROUP_LABELS, tier_array

if TYPE_CHECKING:
    from rfm.cleaning.ledger import CleaningSettings
    from rfm.clustering.fit import ClusterResult, ClusterSettings
    from rfm.clustering.profiles import PCAProjection
    from rfm.scoring.classic import Segmentation

FORMAT = "rfm-studio-model"
FORMAT_VERSION = 2
#: Versions :func:`load_bundle` reads: 1 is 2 without ``distribution``.
READABLE_VERSIONS = (1, 2)
#: The quantiles of each feature a bundle records (0 and 1 are the smallest and largest value).
QUANTILE_LEVELS = (0.0, 0.01, 0.05, 0.25, 0.5, 0.75, 0.95, 0.99, 1.0)
MAX_BUNDLE_BYTES = 2 * 1024**2  # a real bundle is a few kB; anything this big is not one
MAX_CLUSTERS = 64
MAX_RULES = 100
MAX_TEXT = 1_000
MAX_ABS_NUMBER = 1e15


# --- the schema: data describing what a bundle may hold ----------------------------------------------


@dataclass(frozen=True)
class _Num:
    low: float = -MAX_ABS_NUMBER
    high: float = MAX_ABS_NUMBER
    integer: bool = False


@dataclass(frozen=True)
class _Text:
    max_length: int = MAX_TEXT
    choices: tuple[str, ...] = ()


@dataclass(frozen=True)
class _List:
    item: Any
    max_length: int
    min_length: int = 0


@dataclass(frozen=True)
class _Optional:
    inner: Any


_NUMBER, _INT = _Num(), _Num(integer=True)
_FEATURE = _Text(choices=FEATURE_CHOICES)
_SCORE = _Num(1, MAX_BINS, integer=True)
_VECTOR = _List(_NUMBER, len(FEATURE_CHOICES), 1)
_RULE = {
    "segment": _Text(200), "r_min": _SCORE, "r_max": _SCORE, "f_min": _SCORE, "f_max": _SCORE,
    "m_min": _SCORE, "m_max": _SCORE, "description": _Text(), "action": _Text(),
}
SCHEMA: dict = {
    "format": _Text(choices=(FORMAT,)),
    "format_version": _INT,
    "library_version": _Text(40),
    "created": _Text(40),
    "source": {"file": _Text(500), "analysis_date": _Optional(_Text(10)), "customers": _Num(0, MAX_ABS_NUMBER, integer=True)},
    "settings": {
        "cancel_prefix": _Text(40),
        "drop_duplicates": bool,
        "date_order": _Text(choices=tuple(DATE_ORDERS)),
        "profit_margin": _Num(0, 1),
    },
    "scores": {
        "n_bins": _Num(MIN_BINS, MAX_BINS, integer=True),
        "bounds": {metric: _List(_NUMBER, MAX_BINS - 1, MIN_BINS - 1) for metric in SCORE_COLUMNS},
    },
    "rules": _List(_RULE, MAX_RULES),
    "tiers": {"iqr_multiplier": _Num(0, 1e6), "monetary_fence": _NUMBER, "frequency_fence": _NUMBER},
    "clusters": {
        "algorithm": _Text(choices=tuple(ALGORITHM_LABELS)),
        "k": _Num(1, MAX_CLUSTERS, integer=True),
        "features": _List(_FEATURE, len(FEATURE_CHOICES), 1),
        "log_features": _List(_FEATURE, len(FEATURE_CHOICES)),
        "scaler": {"kind": _Text(choices=tuple(SCALERS)), "center": _VECTOR, "scale": _VECTOR},
        "centers": _List(_VECTOR, MAX_CLUSTERS),
        "mixture": _Optional(
            {"weights": _List(_Num(0, 1), MAX_CLUSTERS, 1), "precisions_cholesky": _List(_List(_VECTOR, len(FEATURE_CHOICES), 1), MAX_CLUSTERS, 1)}
        ),
        "names": _List(
            {"label": _Num(-4, MAX_CLUSTERS, integer=True), "name": _Text(200), "action": _Text(), "merit": _Optional(_Num(0, 3))},
            MAX_CLUSTERS + 5,
            1,
        ),
        "outlier_groups": bool,
        "projection": {"mean": _VECTOR, "components": _List(_VECTOR, 2, 2), "explained_variance_ratio": _List(_Num(0, 1), 2, 2)},
    },
    # The customers the model was fitted on, feature by feature: recency, frequency, monetary, then the
    # clustering features not among them (format_version 2).
    "distribution": {
        "customers": _Num(0, MAX_ABS_NUMBER, integer=True),
        "levels": _List(_Num(0, 1), len(QUANTILE_LEVELS), len(QUANTILE_LEVELS)),
        "features": _List(
            {"feature": _FEATURE, "quantiles": _List(_NUMBER, len(QUANTILE_LEVELS), len(QUANTILE_LEVELS))},
            len(FEATURE_CHOICES),
            len(SCORE_COLUMNS),
        ),
    },
}
#: A format_version 1 bundle: the same without ``distribution``.
SCHEMA_V1: dict = {key: spec for key, spec in SCHEMA.items() if key != "distribution"}


def _check(value, spec, path: str, problems: list[str]) -> None:
    """Append to ``problems`` every way ``value`` breaks ``spec`` (paths like ``clusters.centers[2][0]``)."""
    if len(problems) >= 20:
        return
    if isinstance(spec, _Optional):
        if value is not None:
            _check(value, spec.inner, path, problems)
    elif spec is bool:
        if not isinstance(value, bool):
            problems.append(f"{path} should be true or false; got {_shown(value)}.")
    elif isinstance(spec, _Num):
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            problems.append(f"{path} should be a number; got {_shown(value)}.")
        elif not math.isfinite(value) or not spec.low <= value <= spec.high:
            problems.append(f"{path}={_shown(value)} is outside {spec.low:g}..{spec.high:g}.")
        elif spec.integer and value != int(value):
            problems.append(f"{path}={_shown(value)} should be a whole number.")
    elif isinstance(spec, _Text):
        if not isinstance(value, str):
            problems.append(f"{path} should be text; got {_shown(value)}.")
        elif len(value) > spec.max_length:
            problems.append(f"{path} is {len(value):,} characters long; at most {spec.max_length:,} are allowed.")
        elif spec.choices and value not in spec.choices:
            problems.append(f"{path}={_shown(value)} should be one of {', '.join(spec.choices)}.")
    elif isinstance(spec, _List):
        if not isinstance(value, list):
            problems.append(f"{path} should be a list; got {_shown(value)}.")
        elif not spec.min_length <= len(value) <= spec.max_length:
            problems.append(f"{path} holds {len(value):,} items; {spec.min_length}..{spec.max_length} are allowed.")
        else:
            for position, item in enumerate(value):
                _check(item, spec.item, f"{path}[{position}]", problems)
    elif isinstance(spec, dict):
        if not isinstance(value, dict):
            problems.append(f"{path or 'The bundle'} should be an object; got {_shown(value)}.")
            return
        for key in value:
            if key not in spec:
                problems.append(f"Unexpected field {_join(path, key)!r}: this is not a bundle this version wrote.")
        for key, inner in spec.items():
            if key not in value:
                problems.append(f"Missing field {_join(path, key)!r}.")
            else:
                _check(value[key], inner, _join(path, key), problems)


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else str(key)


def _shown(value) -> str:
    text = json.dumps(value) if not isinstance(value, float) or math.isfinite(value) else str(value)
    return text if len(text) <= 40 else text[:37] + "..."


# --- the bundle ----------------------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class ModelBundle:
    """A saved model, validated. Build one with :func:`build_bundle`, read one with :func:`load_bundle`.

    ``payload`` is the JSON document; the arrays are views of it made once for scoring.
    """

    payload: dict = field(repr=False)

    # -- reading the payload --
    @property
    def n_bins(self) -> int:
        return int(self.payload["scores"]["n_bins"])

    @cached_property
    def rules(self) -> tuple[SegmentRule, ...]:
        return tuple(SegmentRule(**rule) for rule in self.payload["rules"])

    @property
    def features(self) -> tuple[str, ...]:
        return tuple(self.payload["clusters"]["features"])

    @property
    def log_features(self) -> tuple[str, ...]:
        return tuple(self.payload["clusters"]["log_features"])

    @cached_property
    def distribution(self) -> pd.DataFrame | None:
        """Quantiles of each scored feature over the customers the model was fitted on: one row per feature
        (recency, frequency, monetary, then the other clustering features), one column per level of
        :data:`QUANTILE_LEVELS`. ``None`` for a bundle saved before they were recorded (format_version 1)."""
        distribution = self.payload.get("distribution")
        if distribution is None:
            return None
        return pd.DataFrame(
            [entry["quantiles"] for entry in distribution["features"]],
            index=pd.Index([entry["feature"] for entry in distribution["features"]], name="feature"),
            columns=[float(level) for level in distribution["levels"]],
            dtype="float64",
        )

    @cached_property
    def centers(self) -> np.ndarray:
        centers = np.asarray(self.payload["clusters"]["centers"], dtype="float64")
        return centers.reshape(len(self.payload["clusters"]["centers"]), len(self.features))

    @cached_property
    def names(self) -> pd.DataFrame:
        """``name``, ``action`` and ``merit`` (higher is better; NaN for noise) per cluster label, tier groups
        (-2..-4) and noise (-1) included."""
        rows = self.payload["clusters"]["names"]
        return pd.DataFrame(
            {
                "name": [r["name"] for r in rows],
                "action": [r["action"] for r in rows],
                "merit": [np.nan if r["merit"] is None else float(r["merit"]) for r in rows],
            },
            index=pd.Index([int(r["label"]) for r in rows], name=CLUSTER),
        )

    def center_names(self) -> list[str]:
        names = self.names["name"]
        return [str(names.get(label, f"Cluster {label}")) for label in range(len(self.centers))]

    @property
    def profit_margin(self) -> float:
        """The profit margin of the run the model was saved from (the historical CLV of files it scores)."""
        return float(self.payload["settings"]["profit_margin"])

    @property
    def k(self) -> int:
        """The number of clusters asked for when the model was fitted."""
        return int(self.payload["clusters"]["k"])

    @property
    def algorithm(self) -> str:
        """The clustering algorithm the model was fitted with (a key of ``rfm.schema.ALGORITHM_LABELS``)."""
        return str(self.payload["clusters"]["algorithm"])

    @property
    def fitted_customers(self) -> int | None:
        """How many customers the model was fitted on, when it recorded them (format 2 on)."""
        distribution = self.payload.get("distribution")
        return None if distribution is None else int(distribution["customers"])

    def describe(self) -> str:
        source, clusters = self.payload["source"], self.payload["clusters"]
        return (
            f"{clusters['algorithm']} model with {len(clusters['centers'])} clusters on "
            f"{', '.join(schema.RFM_LABELS[f].lower() for f in self.features)}, fitted on {source['customers']:,} customers "
            f"of {source['file']} (analysis date {source['analysis_date'] or 'unknown'}), RFM Studio {self.payload['library_version']}"
        )

    def cleaning_settings(self) -> CleaningSettings:
        """The cleaning settings the model was fitted with, for scoring a new file the same way."""
        from rfm.cleaning.ledger import CleaningSettings

        settings = self.payload["settings"]
        return CleaningSettings(
            date_order=settings["date_order"], cancel_prefix=settings["cancel_prefix"], drop_duplicates=settings["drop_duplicates"]
        )

    def to_json(self) -> str:
        return json.dumps(self.payload, indent=1, ensure_ascii=False, allow_nan=False)

    # -- scoring --
    @cached_property
    def _arrays(self) -> dict:
        """The payload's numbers as arrays, made once."""
        clusters = self.payload["clusters"]
        mixture = clusters["mixture"]
        names = self.names
        return {
            "bounds": {metric: np.asarray(b, dtype="float64") for metric, b in self.payload["scores"]["bounds"].items()},
            "center": np.asarray(clusters["scaler"]["center"], dtype="float64"),
            "scale": np.asarray(clusters["scaler"]["scale"], dtype="float64"),
            "mixture": None if mixture is None else (
                np.asarray(mixture["weights"], dtype="float64"), np.asarray(mixture["precisions_cholesky"], dtype="float64")
            ),
            "logged": np.array([feature in self.log_features for feature in self.features]),
            "name": names["name"].to_dict(),
            "action": names["action"].to_dict(),
        }

    def scaled(self, table: pd.DataFrame) -> np.ndarray:
        """Customers' features in the clusters' space: log1p where the model took logs, then the scaler."""
        check_provides(self, table)
        return self.scale_columns({feature: table[feature].to_numpy(dtype="float64") for feature in self.features})

    def scale_columns(self, columns: Mapping[str, np.ndarray]) -> np.ndarray:
        """:meth:`scaled` on plain arrays, one per feature."""
        arrays = self._arrays
        matrix = np.column_stack([np.asarray(columns[feature], dtype="float64") for feature in self.features])
        matrix[:, arrays["logged"]] = np.log1p(np.clip(matrix[:, arrays["logged"]], 0, None))
        return (matrix - arrays["center"]) / arrays["scale"]

    def predict_scaled(self, points: np.ndarray) -> np.ndarray:
        """Cluster labels of points already in the scaled space (tier groups not applied)."""
        return assign(points, self.centers, self._arrays["mixture"])

    def distances_scaled(self, points: np.ndarray) -> np.ndarray:
        """Distance of each point to each centre in the scaled space, shape (n_points, n_centers)."""
        return np.sqrt(squared_distances(points, self.centers))

    def project(self, points: np.ndarray) -> np.ndarray:
        """Scaled points on the two PCA axes of the fit (shape (n_points, 2))."""
        projection = self.payload["clusters"]["projection"]
        return (points - np.asarray(projection["mean"])) @ np.asarray(projection["components"]).T

    def label_columns(self, columns: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
        """Scores, segment, tier and cluster for customers given as plain arrays (the model's whole rule book).

        ``columns`` holds ``recency_days``, ``frequency``, ``monetary`` and the model's features. numpy only,
        so that the what-if page can score hundreds of candidate customers on every slider move.

        Returns
        -------
        dict of arrays: ``r_score``, ``f_score``, ``m_score`` (int), ``segment``, ``tier``, ``cluster`` (int),
        ``cluster_name``, ``cluster_action`` (object) and ``scaled`` (the points in the clusters' space).
        """
        arrays = self._arrays
        out: dict[str, np.ndarray] = {}
        for metric, column in SCORE_COLUMNS.items():
            band = np.searchsorted(arrays["bounds"][metric], np.asarray(columns[metric], dtype="float64"), side="left") + 1
            out[column] = band if metric != schema.RECENCY else self.n_bins + 1 - band
        out[SEGMENT] = segment_array(out[R_SCORE], out[F_SCORE], out[M_SCORE], self.rules)
        tiers = self.payload["tiers"]
        out[TIER] = tier_array(
            np.asarray(columns[schema.MONETARY], dtype="float64"), np.asarray(columns[schema.FREQUENCY], dtype="float64"),
            tiers["monetary_fence"], tiers["frequency_fence"],
        )
        out["scaled"] = self.scale_columns(columns)
        labels = self.predict_scaled(out["scaled"]).astype("int64")
        if self.payload["clusters"]["outlier_groups"]:
            grouped = out[TIER] != REGULAR
            labels[grouped] = [TIER_GROUP_LABELS[tier] for tier in out[TIER][grouped]]
        out[CLUSTER] = labels
        # A few distinct labels: look each up once (per customer, this was most of the time on 200k customers).
        distinct, position = np.unique(labels, return_inverse=True)
        out[CLUSTER_NAME] = np.array([arrays["name"].get(label, "Unnamed") for label in distinct.tolist()], dtype=object)[position]
        out[CLUSTER_ACTION] = np.array([arrays["action"].get(label, "") for label in distinct.tolist()], dtype=object)[position]
        return out

    def projection(self, table: pd.DataFrame) -> PCAProjection:
        """Customers of ``table`` and the centres on the fit's two PCA axes (:class:`rfm.clustering.profiles.PCAProjection`)."""
        from rfm.clustering.profiles import PCAProjection

        saved = self.payload["clusters"]["projection"]
        ratio = saved["explained_variance_ratio"]
        return PCAProjection(
            coords=self.project(self.scaled(table)),
            center_coords=self.project(self.centers),
            explained_variance_ratio=(float(ratio[0]), float(ratio[1])),
            mean=np.asarray(saved["mean"]),
            components=np.asarray(saved["components"]),
        )

    def score(self, table: pd.DataFrame) -> pd.DataFrame:
        """Score new customers with this model.

        Parameters
        ----------
        table : DataFrame
            An RFM table (:func:`rfm.cleaning.table.rfm_table`) indexed by customer id, e.g. of next month's file.

        Returns
        -------
        DataFrame
            ``table`` plus ``r_score``, ``f_score``, ``m_score``, ``rfm_cell``, ``segment``, ``tier``,
            ``cluster``, ``cluster_name`` and ``cluster_action``: the columns of
            :attr:`rfm.scoring.classic.Segmentation.customers` and :attr:`rfm.clustering.fit.ClusterResult.customers`,
            so :func:`rfm.outputs.lists.labelled_customers` takes it as both.

        Raises
        ------
        RFMInputError
            When the table lacks a feature the model needs.
        """
        check_provides(self, table)
        needed = dict.fromkeys([*SCORE_COLUMNS, *self.features])
        labels = self.label_columns({column: table[column].to_numpy(dtype="float64") for column in needed})
        out = table.copy()
        for column in (R_SCORE, F_SCORE, M_SCORE):
            out[column] = labels[column].astype("int64")
        out[RFM_CELL] = rfm_cells(out, self.n_bins)
        for column in (SEGMENT, TIER, CLUSTER_NAME, CLUSTER_ACTION):
            out[column] = pd.Series(labels[column], index=table.index, dtype="str")
        out[CLUSTER] = labels[CLUSTER]
        return out[[*table.columns, R_SCORE, F_SCORE, M_SCORE, RFM_CELL, SEGMENT, TIER, CLUSTER, CLUSTER_NAME, CLUSTER_ACTION]]

    @cached_property
    def segment_info(self) -> pd.DataFrame:
        """Description and action per RFM segment, in rule order."""
        return segment_info(self.rules)


def check_provides(bundle: ModelBundle, table: pd.DataFrame) -> None:
    """Raise :class:`RFMInputError` when ``table`` lacks a column the model scores on."""
    needed = list(dict.fromkeys([*SCORE_COLUMNS, *bundle.features]))
    missing = [column for column in needed if column not in table.columns]
    if missing:
        raise RFMInputError(
            f"This file cannot provide the model's feature(s) {', '.join(map(repr, missing))}: the customer table "
            f"has {', '.join(map(repr, table.columns))}."
        )


# --- building and reading ------------------------------------------------------------------------------


def build_bundle(
    segmentation: Segmentation,
    clusters: ClusterResult,
    cluster_settings: ClusterSettings,
    *,
    source_file: str,
    analysis_date: dt.date | None,
    cleaning: CleaningSettings | None = None,
    profit_margin: float = 0.10,
) -> ModelBundle:
    """Capture a fitted segmentation and clustering as a bundle.

    Parameters
    ----------
    segmentation : rfm.scoring.classic.Segmentation
    clusters : rfm.clustering.fit.ClusterResult
    cluster_settings : rfm.clustering.fit.ClusterSettings
        The settings ``clusters`` was fitted with (for how outliers were treated).
    source_file, analysis_date : the file and the day the model was fitted on (shown when it is used).
    cleaning : rfm.cleaning.ledger.CleaningSettings, optional
        The cleaning settings to apply to files scored with the model.
    profit_margin : float
    """
    from rfm.cleaning.ledger import CleaningSettings

    cleaning = cleaning or CleaningSettings()
    estimator = clusters.estimator
    scaler = estimator.scaler_
    center = getattr(scaler, "mean_", None)
    if center is None:
        center = scaler.center_
    mixture = estimator.mixture_parameters()
    names = clusters.names
    merit = _merits(clusters)
    payload = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "library_version": __version__,
        "created": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "source": {
            "file": str(source_file)[:500],
            "analysis_date": analysis_date.isoformat() if analysis_date else None,
            "customers": len(segmentation.customers),
        },
        "settings": {
            "cancel_prefix": cleaning.cancel_prefix,
            "drop_duplicates": bool(cleaning.drop_duplicates),
            "date_order": cleaning.date_order,
            "profit_margin": float(profit_margin),
        },
        "scores": {
            "n_bins": int(segmentation.scores.n_bins),
            "bounds": {cut.metric: list(value_bounds(cut)) for cut in segmentation.scores.cuts},
        },
        "rules": [
            {key: (int(value) if isinstance(value, (int, np.integer)) else value) for key, value in vars(rule).items()}
            for rule in segmentation.rules
        ],
        "tiers": {
            "iqr_multiplier": float(segmentation.tiers.monetary.multiplier),
            "monetary_fence": float(segmentation.tiers.monetary.fence),
            "frequency_fence": float(segmentation.tiers.frequency.fence),
        },
        "clusters": {
            "algorithm": clusters.algorithm,
            "k": int(clusters.k),
            "features": list(estimator.feature_names_in_),
            "log_features": [f for f in cluster_settings.log_features if f in estimator.feature_names_in_],
            "scaler": {"kind": cluster_settings.scaler, "center": _floats(center), "scale": _floats(scaler.scale_)},
            "centers": [_floats(row) for row in estimator.cluster_centers_],
            "mixture": None if mixture is None else {
                "weights": _floats(mixture[0]), "precisions_cholesky": [[_floats(row) for row in m] for m in mixture[1]],
            },
            "names": [
                {"label": int(label), "name": str(row["name"]), "action": str(row["action"]), "merit": merit.get(label)}
                for label, row in names.iterrows()
            ],
            "outlier_groups": bool((clusters.customers[CLUSTER] <= -2).any()),
            "projection": {
                "mean": _floats(clusters.projection.axes()[0]),
                "components": [_floats(row) for row in clusters.projection.axes()[1]],
                "explained_variance_ratio": [r if math.isfinite(r) else 0.0 for r in map(float, clusters.projection.explained_variance_ratio)],
            },
        },
        "distribution": _distribution(segmentation.customers, list(estimator.feature_names_in_)),
    }
    return _validated(payload)


def _distribution(customers: pd.DataFrame, cluster_features: list[str]) -> dict:
    """The ``distribution`` field: :data:`QUANTILE_LEVELS` of each scored feature over ``customers``."""
    features = list(dict.fromkeys([*SCORE_COLUMNS, *cluster_features]))
    entries = []
    for feature in features:
        values = customers[feature].to_numpy(dtype="float64")
        values = values[np.isfinite(values)]
        quantiles = np.quantile(values, QUANTILE_LEVELS) if len(values) else np.zeros(len(QUANTILE_LEVELS))
        # Interpolation can leave neighbours a rounding error out of order; the schema wants them ascending.
        entries.append({"feature": feature, "quantiles": _floats(np.maximum.accumulate(quantiles))})
    return {"customers": len(customers), "levels": list(QUANTILE_LEVELS), "features": entries}


def _merits(clusters) -> dict[int, float]:
    """How good each group is (0 to 3, see :func:`rfm.clustering.profiles.merit_scores`), by label; noise has none."""
    from rfm.clustering.profiles import merit_scores

    names = clusters.names["name"]
    by_name = merit_scores(clusters.profiles.drop(index=[names[-1]] if -1 in names.index else [])).sum(axis=1)
    return {int(label): round(float(by_name[name]), 6) for label, name in names.items() if label != -1 and name in by_name.index}


def _floats(values) -> list[float]:
    return [float(v) for v in np.asarray(values, dtype="float64").ravel()]


def load_bundle(data: bytes | str) -> ModelBundle:
    """Read and check a bundle written by :meth:`ModelBundle.to_json`.

    Raises
    ------
    RFMInputError
        For a file that is too big, not JSON, not an RFM Studio model, from an incompatible version, or
        whose fields are missing, unexpected, of the wrong type, out of range or inconsistent. The message
        names the first problems and how many there are.
    """
    size = len(data.encode("utf-8") if isinstance(data, str) else data)
    if size > MAX_BUNDLE_BYTES:
        raise RFMInputError(
            f"This model file is {size / 1024**2:,.1f} MB; a model bundle is a few kB (at most {MAX_BUNDLE_BYTES // 1024**2} MB)."
        )
    try:
        payload = json.loads(data, parse_constant=_refuse_constant)
    except (ValueError, UnicodeDecodeError, RecursionError) as error:
        raise RFMInputError(f"This is not a model bundle: it is not valid JSON ({str(error)[:120]}).") from None
    if not isinstance(payload, dict) or payload.get("format") != FORMAT:
        raise RFMInputError(
            "This JSON file is not an RFM Studio model bundle (its \"format\" is not "
            f"{FORMAT!r}): download one from the Export page or write one with `python -m rfm segment`."
        )
    version = payload.get("format_version")
    if isinstance(version, bool) or version not in READABLE_VERSIONS:
        readable = " or ".join(map(str, READABLE_VERSIONS))
        raise RFMInputError(
            f"This model bundle has format_version {_shown(version)}, written by RFM Studio {_shown(payload.get('library_version'))}; "
            f"this version ({__version__}) reads format_version {readable}. Re-fit the model with this version."
        )
    return _validated(payload)


def _refuse_constant(name: str):
    raise ValueError(f"{name} is not a number a model may hold")


def _validated(payload: dict) -> ModelBundle:
    problems: list[str] = []
    _check(payload, SCHEMA_V1 if payload.get("format_version") == 1 else SCHEMA, "", problems)
    if not problems:
        problems = _consistency(payload)
    if problems:
        more = f" (and {len(problems) - 3} more problem(s))" if len(problems) > 3 else ""
        raise RFMInputError("This model bundle is corrupt: " + " ".join(problems[:3]) + more)
    return ModelBundle(payload)


def _consistency(payload: Mapping) -> list[str]:
    """Checks across fields: lengths agree, bounds ascend, scales are positive, rules fit the scores."""
    problems = []
    n_bins = payload["scores"]["n_bins"]
    for metric, bounds in payload["scores"]["bounds"].items():
        if len(bounds) != n_bins - 1:
            problems.append(f"scores.bounds.{metric} holds {len(bounds)} cut points; {n_bins} scores need {n_bins - 1}.")
        elif any(b < a for a, b in pairwise(bounds)):
            problems.append(f"scores.bounds.{metric} should be in ascending order; got {bounds}.")
    for position, rule in enumerate(payload["rules"]):
        for letter in "rfm":
            low, high = rule[f"{letter}_min"], rule[f"{letter}_max"]
            if not 1 <= low <= high <= n_bins:
                problems.append(f"rules[{position}] ({rule['segment']!r}): {letter}_min={low}, {letter}_max={high} should satisfy 1 <= min <= max <= {n_bins}.")
    clusters = payload["clusters"]
    features = clusters["features"]
    n = len(features)
    if len(set(features)) != n:
        problems.append(f"clusters.features lists a feature twice: {features}.")
    stray = [f for f in clusters["log_features"] if f not in features]
    if stray:
        problems.append(f"clusters.log_features {stray} are not among the features {features}.")
    scaler = clusters["scaler"]
    for key in ("center", "scale"):
        if len(scaler[key]) != n:
            problems.append(f"clusters.scaler.{key} holds {len(scaler[key])} values for {n} features.")
    if any(value <= 0 for value in scaler["scale"]):
        problems.append(f"clusters.scaler.scale should be positive; got {scaler['scale']}.")
    centers = clusters["centers"]
    if any(len(center) != n for center in centers):
        problems.append(f"clusters.centers should each hold {n} values (one per feature).")
    mixture = clusters["mixture"]
    if mixture is not None:
        shapes_ok = len(mixture["weights"]) == len(centers) and len(mixture["precisions_cholesky"]) == len(centers) and all(
            len(matrix) == n and all(len(row) == n for row in matrix) for matrix in mixture["precisions_cholesky"]
        )
        if not shapes_ok:
            problems.append(f"clusters.mixture should hold one weight and one {n}×{n} matrix per centre ({len(centers)}).")
        elif any(matrix[i][i] <= 0 for matrix in mixture["precisions_cholesky"] for i in range(n)) or any(w <= 0 for w in mixture["weights"]):
            problems.append("clusters.mixture should have positive weights and positive diagonals.")
    labels = [entry["label"] for entry in clusters["names"]]
    if len(set(labels)) != len(labels):
        problems.append("clusters.names gives one label two names.")
    unnamed = [label for label in range(len(centers)) if label not in labels]
    if unnamed:
        problems.append(f"clusters.names has no name for cluster(s) {unnamed}.")
    projection = clusters["projection"]
    if len(projection["mean"]) != n or any(len(row) != n for row in projection["components"]):
        problems.append(f"clusters.projection should hold {n} values per axis.")
    if "distribution" in payload:
        problems.extend(_distribution_problems(payload["distribution"], features))
    return problems


def _distribution_problems(distribution: Mapping, cluster_features: list[str]) -> list[str]:
    """The distribution covers exactly the scored features, at :data:`QUANTILE_LEVELS`, quantiles ascending."""
    problems = []
    if distribution["levels"] != list(QUANTILE_LEVELS):
        problems.append(f"distribution.levels should be {list(QUANTILE_LEVELS)}; got {distribution['levels']}.")
    expected = list(dict.fromkeys([*SCORE_COLUMNS, *cluster_features]))
    listed = [entry["feature"] for entry in distribution["features"]]
    if listed != expected:
        problems.append(f"distribution.features should describe {expected} in this order; got {listed}.")
    for position, entry in enumerate(distribution["features"]):
        quantiles = entry["quantiles"]
        if any(b < a for a, b in pairwise(quantiles)):
            problems.append(f"distribution.features[{position}].quantiles ({entry['feature']}) should be in ascending order; got {quantiles}.")
    return problems
