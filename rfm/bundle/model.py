"""Saved models: everything needed to score next month's file with the same segments, as plain JSON.

A :class:`ModelBundle` holds the RFM score cut points, the segment rules, the outlier fences, and the
clustering (features, log transforms, scaler parameters, centres, names and actions), plus the settings and
the library version, and a few quantiles of every feature it scores on over the customers it was fitted on
(so that :func:`rfm.bundle.drift.check_fit` can tell when a new file lies outside what the model saw).

In: a checked ``model.json`` (:func:`load_bundle`, which checks it with :func:`rfm.bundle.validate.read_payload`) or
a fresh fit (:func:`rfm.bundle.build.build_bundle`). Out: typed views of the document, and the labels the model
gives new customers (:meth:`ModelBundle.score`, :meth:`ModelBundle.label_columns`). Only the accessors at the top of
the class read the JSON document; scoring works from them.

Scoring needs numpy, not scikit-learn: the same maths as the fitted estimator, written out.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from rfm import schema
from rfm.bundle.validate import read_payload
from rfm.clustering.assign import assign, squared_distances
from rfm.errors import RFMInputError
from rfm.schema import (
    CLUSTER,
    CLUSTER_ACTION,
    CLUSTER_NAME,
    F_SCORE,
    LIFECYCLE_STAGE,
    M_SCORE,
    R_SCORE,
    RFM_CELL,
    SEGMENT,
    TIER,
)
from rfm.scoring.lifecycle import (
    DEFAULT_DAYS,
    LifecycleThresholds,
    lifecycle_thresholds,
    stage_array,
)
from rfm.scoring.rules import SegmentRule, segment_array, segment_info
from rfm.scoring.scores import SCORE_COLUMNS, rfm_cells
from rfm.scoring.tiers import REGULAR, TIER_GROUP_LABELS, tier_array

if TYPE_CHECKING:
    from rfm.cleaning.ledger import CleaningSettings
    from rfm.clustering.profiles import PCAProjection


@dataclass(frozen=True, eq=False)
class ModelBundle:
    """A saved model, validated. Build one with :func:`rfm.bundle.build.build_bundle`, read one with
    :func:`load_bundle`.

    ``payload`` is the JSON document (checked by :mod:`rfm.bundle.validate`); only the accessors below read it, and
    the arrays scoring uses are made from it once.
    """

    payload: dict = field(repr=False)

    # -- reading the payload --
    @property
    def n_bins(self) -> int:
        """The number of scores per metric (5: scores 1 to 5)."""
        return int(self.payload["scores"]["n_bins"])

    @cached_property
    def rules(self) -> tuple[SegmentRule, ...]:
        """The segment rules, best segment first."""
        return tuple(SegmentRule(**rule) for rule in self.payload["rules"])

    @property
    def features(self) -> tuple[str, ...]:
        """The features the clusters are fitted on, in the order of the centres' coordinates."""
        return tuple(self.payload["clusters"]["features"])

    @property
    def log_features(self) -> tuple[str, ...]:
        """The features taken as ``log1p`` before scaling."""
        return tuple(self.payload["clusters"]["log_features"])

    @cached_property
    def distribution(self) -> pd.DataFrame | None:
        """Quantiles of each scored feature over the customers the model was fitted on: one row per feature
        (recency, frequency, monetary, then the other clustering features), one column per level of
        :data:`rfm.bundle.validate.QUANTILE_LEVELS`. ``None`` for a bundle saved before they were recorded (format_version 1)."""
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
    def lifecycle(self) -> LifecycleThresholds | None:
        """The lifecycle stages' thresholds of the fit; ``None`` for a bundle saved before they were recorded
        (format_version 1 and 2): :meth:`lifecycle_for` then takes them from the file being scored."""
        saved = self.payload.get("lifecycle")
        if saved is None:
            return None
        repeat = saved["repeat_customers"]
        return LifecycleThresholds(
            **{name: int(saved[name]) for name in DEFAULT_DAYS},
            source=str(saved["source"]),
            repeat_customers=None if repeat is None else int(repeat),
        )

    def lifecycle_for(self, table: pd.DataFrame) -> LifecycleThresholds:
        """The thresholds that stage ``table``'s customers: the model's own; for a model saved before it recorded
        them, the scored file's (:func:`rfm.scoring.lifecycle.lifecycle_thresholds`), as the fit would have taken
        them from its own file (the fixed defaults when it has no tenure to measure gaps on)."""
        return self.lifecycle if self.lifecycle is not None else lifecycle_thresholds(table)

    @cached_property
    def centers(self) -> np.ndarray:
        """The cluster centres in the scaled space, shape (n_centers, n_features)."""
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
        """The name of each centre, in label order (``Cluster <label>`` for one without a name)."""
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
        """One sentence on what the model is and what it was fitted on, for showing where it is used."""
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
        """The document as written to ``model.json`` (what :func:`load_bundle` reads back)."""
        return json.dumps(self.payload, indent=1, ensure_ascii=False, allow_nan=False)

    @property
    def tier_fences(self) -> tuple[float, float]:
        """The outlier fences ``(monetary, frequency)``: customers above one are in an outlier tier."""
        tiers = self.payload["tiers"]
        return float(tiers["monetary_fence"]), float(tiers["frequency_fence"])

    @property
    def outlier_groups(self) -> bool:
        """Whether customers of an outlier tier form their own groups (labels -2..-4) rather than join a cluster."""
        return bool(self.payload["clusters"]["outlier_groups"])

    @property
    def projection_axes(self) -> tuple[np.ndarray, np.ndarray]:
        """The fit's PCA ``(mean, components)`` in the scaled space, shapes (n_features,) and (2, n_features)."""
        projection = self.payload["clusters"]["projection"]
        return np.asarray(projection["mean"]), np.asarray(projection["components"])

    @property
    def explained_variance_ratio(self) -> tuple[float, float]:
        """The share of the scaled features' variance along each of the two PCA axes."""
        ratio = self.payload["clusters"]["projection"]["explained_variance_ratio"]
        return float(ratio[0]), float(ratio[1])

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

    # -- scoring --
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
        mean, components = self.projection_axes
        return (points - mean) @ components.T

    def label_columns(self, columns: Mapping[str, np.ndarray], lifecycle: LifecycleThresholds | None = None) -> dict[str, np.ndarray]:
        """Scores, segment, tier and cluster for customers given as plain arrays (the model's whole rule book).

        ``columns`` holds ``recency_days``, ``frequency``, ``monetary`` and the model's features. numpy only,
        so that the what-if page can score hundreds of candidate customers on every slider move. ``lifecycle``
        stages them instead of the model's own thresholds (:attr:`lifecycle`).

        Returns
        -------
        dict of arrays: ``r_score``, ``f_score``, ``m_score`` (int), ``segment``, ``tier``, ``cluster`` (int),
        ``cluster_name``, ``cluster_action`` (object) and ``scaled`` (the points in the clusters' space), and
        ``lifecycle_stage`` (object) when there are thresholds to stage with (given, or the model's).
        """
        arrays = self._arrays
        out: dict[str, np.ndarray] = {}
        for metric, column in SCORE_COLUMNS.items():
            band = np.searchsorted(arrays["bounds"][metric], np.asarray(columns[metric], dtype="float64"), side="left") + 1
            out[column] = band if metric != schema.RECENCY else self.n_bins + 1 - band
        out[SEGMENT] = segment_array(out[R_SCORE], out[F_SCORE], out[M_SCORE], self.rules)
        out[TIER] = tier_array(
            np.asarray(columns[schema.MONETARY], dtype="float64"), np.asarray(columns[schema.FREQUENCY], dtype="float64"),
            *self.tier_fences,
        )
        lifecycle = lifecycle or self.lifecycle
        if lifecycle is not None:
            out[LIFECYCLE_STAGE] = stage_array(columns[schema.RECENCY], columns[schema.FREQUENCY], lifecycle)
        out["scaled"] = self.scale_columns(columns)
        labels = self.predict_scaled(out["scaled"]).astype("int64")
        if self.outlier_groups:
            grouped = out[TIER] != REGULAR
            labels[grouped] = [TIER_GROUP_LABELS[tier] for tier in out[TIER][grouped]]
        out[CLUSTER] = labels
        # Name the few distinct labels once each, not every customer's.
        distinct, position = np.unique(labels, return_inverse=True)
        out[CLUSTER_NAME] = np.array([arrays["name"].get(label, "Unnamed") for label in distinct.tolist()], dtype=object)[position]
        out[CLUSTER_ACTION] = np.array([arrays["action"].get(label, "") for label in distinct.tolist()], dtype=object)[position]
        return out

    def projection(self, table: pd.DataFrame) -> PCAProjection:
        """Customers of ``table`` and the centres on the fit's two PCA axes (:class:`rfm.clustering.profiles.PCAProjection`)."""
        from rfm.clustering.profiles import PCAProjection

        mean, components = self.projection_axes
        return PCAProjection(
            coords=self.project(self.scaled(table)),
            center_coords=self.project(self.centers),
            explained_variance_ratio=self.explained_variance_ratio,
            mean=mean,
            components=components,
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
            ``lifecycle_stage`` (by :meth:`lifecycle_for`), ``cluster``, ``cluster_name`` and ``cluster_action``: the columns of
            :attr:`rfm.scoring.classic.Segmentation.customers` and :attr:`rfm.clustering.fit.ClusterResult.customers`,
            so :func:`rfm.outputs.lists.labelled_customers` takes it as both.

        Raises
        ------
        RFMInputError
            When the table lacks a feature the model needs.
        """
        check_provides(self, table)
        needed = dict.fromkeys([*SCORE_COLUMNS, *self.features])
        labels = self.label_columns({column: table[column].to_numpy(dtype="float64") for column in needed}, self.lifecycle_for(table))
        out = table.copy()
        for column in (R_SCORE, F_SCORE, M_SCORE):
            out[column] = labels[column].astype("int64")
        out[RFM_CELL] = rfm_cells(out, self.n_bins)
        for column in (SEGMENT, TIER, LIFECYCLE_STAGE, CLUSTER_NAME, CLUSTER_ACTION):
            out[column] = pd.Series(labels[column], index=table.index, dtype="str")
        out[CLUSTER] = labels[CLUSTER]
        labelled = [R_SCORE, F_SCORE, M_SCORE, RFM_CELL, SEGMENT, TIER, LIFECYCLE_STAGE, CLUSTER, CLUSTER_NAME, CLUSTER_ACTION]
        return out[[*(c for c in table.columns if c not in labelled), *labelled]]

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


def load_bundle(data: bytes | str) -> ModelBundle:
    """Read a bundle written by :meth:`ModelBundle.to_json`, checked field by field before anything in it is used.

    Raises
    ------
    RFMInputError
        For a file that is too big, not JSON, not an RFM Studio model, from an incompatible version, or
        whose fields are missing, unexpected, of the wrong type, out of range or inconsistent. The message
        names the first problems and how many there are (:func:`rfm.bundle.validate.read_payload`).
    """
    return ModelBundle(read_payload(data))
