"""Building a saved model: a fitted segmentation (:mod:`rfm.scoring`) and clustering (:mod:`rfm.clustering`) in, a
checked :class:`rfm.bundle.model.ModelBundle` out, its document written field by field in the order ``model.json``
holds them.

Uses :mod:`rfm.bundle.validate` (the format, and the check every document passes) and :mod:`rfm.bundle.model`.
"""

from __future__ import annotations

import datetime as dt
import math
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from rfm import __version__
from rfm.bundle.model import ModelBundle
from rfm.bundle.validate import FORMAT, FORMAT_VERSION, QUANTILE_LEVELS, check_payload
from rfm.schema import CLUSTER
from rfm.scoring.scores import SCORE_COLUMNS, value_bounds

if TYPE_CHECKING:
    from rfm.cleaning.ledger import CleaningSettings
    from rfm.clustering.fit import ClusterResult, ClusterSettings
    from rfm.scoring.classic import Segmentation


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
        **_segmentation_fields(segmentation),
        "clusters": _clusters(clusters, cluster_settings),
        "distribution": _distribution(segmentation.customers, list(clusters.estimator.feature_names_in_)),
    }
    check_payload(payload)
    return ModelBundle(payload)


def _segmentation_fields(segmentation: Segmentation) -> dict[str, Any]:
    """The ``scores``, ``rules``, ``tiers`` and ``lifecycle`` fields: the cut points, the segment rules, the outlier fences
    and the lifecycle stages' thresholds."""
    return {
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
        "lifecycle": _lifecycle(segmentation),
    }


def _lifecycle(segmentation: Segmentation) -> dict[str, Any]:
    """The ``lifecycle`` field: the stages' thresholds the fit used, so next month's file is staged the same way."""
    from rfm.scoring.lifecycle import lifecycle_thresholds

    thresholds = segmentation.lifecycle or lifecycle_thresholds(segmentation.customers)
    repeat = thresholds.repeat_customers
    return {**thresholds.days, "source": thresholds.source, "repeat_customers": None if repeat is None else int(repeat)}


def _clusters(clusters: ClusterResult, cluster_settings: ClusterSettings) -> dict[str, Any]:
    """The ``clusters`` field: what places a customer (features, scaler, centres, mixture), names it, and draws it."""
    estimator = clusters.estimator
    scaler = estimator.scaler_
    center = getattr(scaler, "mean_", None)
    if center is None:
        center = scaler.center_
    mixture = estimator.mixture_parameters()
    merit = _merits(clusters)
    axes = clusters.projection.axes()
    variance = map(float, clusters.projection.explained_variance_ratio)
    return {
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
            for label, row in clusters.names.iterrows()
        ],
        "outlier_groups": bool((clusters.customers[CLUSTER] <= -2).any()),
        "projection": {
            "mean": _floats(axes[0]),
            "components": [_floats(row) for row in axes[1]],
            "explained_variance_ratio": [r if math.isfinite(r) else 0.0 for r in variance],
        },
    }


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


def _merits(clusters: ClusterResult) -> dict[int, float]:
    """How good each group is (0 to 3, see :func:`rfm.clustering.profiles.merit_scores`), by label; noise has none."""
    from rfm.clustering.profiles import merit_scores

    names = clusters.names["name"]
    by_name = merit_scores(clusters.profiles.drop(index=[names[-1]] if -1 in names.index else [])).sum(axis=1)
    return {int(label): round(float(by_name[name]), 6) for label, name in names.items() if label != -1 and name in by_name.index}


def _floats(values: Any) -> list[float]:
    """``values`` (any array-like) flattened to a list of plain floats, as JSON holds them."""
    return [float(v) for v in np.asarray(values, dtype="float64").ravel()]
