"""What a saved model file may hold: the format of ``model.json`` written as data, and the checks a file passes
before anything in it is used.

:func:`read_payload` takes the bytes of a file and gives back its JSON document, or raises one
:class:`rfm.errors.RFMInputError` naming the first problems: too big, not JSON, not an RFM Studio model, a version
this library does not read, a field missing, unexpected, of the wrong type, out of range, or inconsistent with
another. A bundle is data, never code (no pickle), so one uploaded by anyone cannot run anything.

Format versions: 2 adds ``distribution``, 3 adds ``lifecycle`` (the lifecycle stages' thresholds); bundles of versions
1 and 2 (saved before them) still load and score, without them. Any other version is refused. The document is
checked as plain JSON values, before any array is made of it.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass
from itertools import pairwise
from typing import Any, NoReturn

from rfm import __version__
from rfm.clustering.features import FEATURE_CHOICES
from rfm.errors import RFMInputError
from rfm.schema import ALGORITHM_LABELS, DATE_ORDERS, SCALERS
from rfm.scoring.lifecycle import DEFAULT_DAYS, SOURCES, check_days
from rfm.scoring.scores import MAX_BINS, MIN_BINS, SCORE_COLUMNS

FORMAT = "rfm-studio-model"
FORMAT_VERSION = 3
#: Versions :func:`read_payload` reads: 2 is 3 without ``lifecycle``, 1 is 2 without ``distribution``.
READABLE_VERSIONS = (1, 2, 3)
#: The quantiles of each feature a bundle records (0 and 1 are the smallest and largest value).
QUANTILE_LEVELS = (0.0, 0.01, 0.05, 0.25, 0.5, 0.75, 0.95, 0.99, 1.0)
MAX_BUNDLE_BYTES = 2 * 1024**2  # a real bundle is a few kB; anything this big is not one
MAX_CLUSTERS = 64
MAX_RULES = 100
MAX_TEXT = 1_000
MAX_ABS_NUMBER = 1e15
#: Checking stops after this many problems: the message shows the first few and counts the rest.
_MAX_PROBLEMS = 20


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
    # The lifecycle stages' thresholds in whole days, and where they came from (format_version 3).
    "lifecycle": {
        **{name: _Num(1, MAX_ABS_NUMBER, integer=True) for name in DEFAULT_DAYS},
        "source": _Text(choices=tuple(SOURCES)),
        "repeat_customers": _Optional(_Num(0, MAX_ABS_NUMBER, integer=True)),
    },
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
#: A format_version 2 bundle: the same without ``lifecycle``; a format_version 1 bundle: also without ``distribution``.
SCHEMA_V2: dict = {key: spec for key, spec in SCHEMA.items() if key != "lifecycle"}
SCHEMA_V1: dict = {key: spec for key, spec in SCHEMA_V2.items() if key != "distribution"}
_SCHEMAS = {1: SCHEMA_V1, 2: SCHEMA_V2, FORMAT_VERSION: SCHEMA}


# --- reading a file ----------------------------------------------------------------------------------


def read_payload(data: bytes | str) -> dict:
    """The JSON document of a file written by :meth:`rfm.bundle.model.ModelBundle.to_json`, checked.

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
    check_payload(payload)
    return payload


def _refuse_constant(name: str) -> NoReturn:
    raise ValueError(f"{name} is not a number a model may hold")


def check_payload(payload: dict) -> None:
    """Raise :class:`RFMInputError` ("This model bundle is corrupt: ...") unless ``payload`` follows the schema of
    its ``format_version`` and its fields agree with each other."""
    problems: list[str] = []
    version = payload.get("format_version")
    _check(payload, _SCHEMAS.get(version, SCHEMA) if isinstance(version, int) else SCHEMA, "", problems)
    if not problems:
        problems = _consistency(payload)
    if problems:
        more = f" (and {len(problems) - 3} more problem(s))" if len(problems) > 3 else ""
        raise RFMInputError("This model bundle is corrupt: " + " ".join(problems[:3]) + more)


# --- field by field ----------------------------------------------------------------------------------


def _check(value: Any, spec: Any, path: str, problems: list[str]) -> None:
    """Append to ``problems`` every way ``value`` breaks ``spec`` (paths like ``clusters.centers[2][0]``)."""
    if len(problems) >= _MAX_PROBLEMS:
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


def _shown(value: Any) -> str:
    text = json.dumps(value) if not isinstance(value, float) or math.isfinite(value) else str(value)
    return text if len(text) <= 40 else text[:37] + "..."


# --- across fields -----------------------------------------------------------------------------------


def _consistency(payload: Mapping) -> list[str]:
    """Checks across fields: lengths agree, bounds ascend, scales are positive, rules fit the scores."""
    problems = _score_problems(payload["scores"], payload["rules"]) + _cluster_problems(payload["clusters"])
    if "distribution" in payload:
        problems.extend(_distribution_problems(payload["distribution"], payload["clusters"]["features"]))
    if "lifecycle" in payload:
        problems.extend(_lifecycle_problems(payload["lifecycle"]))
    return problems


def _lifecycle_problems(lifecycle: Mapping) -> list[str]:
    """The stages' thresholds are in order: active <= at risk <= lost, and new <= lost."""
    try:
        check_days(*(lifecycle[name] for name in DEFAULT_DAYS))
    except RFMInputError as error:
        return [f"lifecycle: {error}"]
    return []


def _score_problems(scores: Mapping, rules: list) -> list[str]:
    """Each metric has one cut point fewer than scores, in ascending order; every rule's ranges lie within the
    scores."""
    problems = []
    n_bins = scores["n_bins"]
    for metric, bounds in scores["bounds"].items():
        if len(bounds) != n_bins - 1:
            problems.append(f"scores.bounds.{metric} holds {len(bounds)} cut points; {n_bins} scores need {n_bins - 1}.")
        elif any(b < a for a, b in pairwise(bounds)):
            problems.append(f"scores.bounds.{metric} should be in ascending order; got {bounds}.")
    for position, rule in enumerate(rules):
        for letter in "rfm":
            low, high = rule[f"{letter}_min"], rule[f"{letter}_max"]
            if not 1 <= low <= high <= n_bins:
                problems.append(
                    f"rules[{position}] ({rule['segment']!r}): {letter}_min={low}, {letter}_max={high} "
                    f"should satisfy 1 <= min <= max <= {n_bins}."
                )
    return problems


def _cluster_problems(clusters: Mapping) -> list[str]:
    """Features are distinct, and every vector and matrix holds one value per feature; every centre has a name."""
    problems = []
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
    if clusters["mixture"] is not None:
        problems.extend(_mixture_problems(clusters["mixture"], n, len(centers)))
    labels = [entry["label"] for entry in clusters["names"]]
    if len(set(labels)) != len(labels):
        problems.append("clusters.names gives one label two names.")
    unnamed = [label for label in range(len(centers)) if label not in labels]
    if unnamed:
        problems.append(f"clusters.names has no name for cluster(s) {unnamed}.")
    projection = clusters["projection"]
    if len(projection["mean"]) != n or any(len(row) != n for row in projection["components"]):
        problems.append(f"clusters.projection should hold {n} values per axis.")
    return problems


def _mixture_problems(mixture: Mapping, n: int, n_centers: int) -> list[str]:
    """A Gaussian mixture holds one positive weight and one n×n matrix with a positive diagonal per centre."""
    matrices = mixture["precisions_cholesky"]
    shapes_ok = len(mixture["weights"]) == n_centers and len(matrices) == n_centers and all(
        len(matrix) == n and all(len(row) == n for row in matrix) for matrix in matrices
    )
    if not shapes_ok:
        return [f"clusters.mixture should hold one weight and one {n}×{n} matrix per centre ({n_centers})."]
    if any(matrix[i][i] <= 0 for matrix in matrices for i in range(n)) or any(w <= 0 for w in mixture["weights"]):
        return ["clusters.mixture should have positive weights and positive diagonals."]
    return []


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
