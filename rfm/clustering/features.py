"""Features for clustering: which RFM columns, which of them on a log scale, which scaler."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from rfm import schema
from rfm.errors import RFMInputError
from rfm.schema import SCALERS, Scaler

if TYPE_CHECKING:
    from sklearn.preprocessing import RobustScaler, StandardScaler

FEATURE_CHOICES: tuple[str, ...] = (schema.RECENCY, schema.FREQUENCY, schema.MONETARY, schema.TENURE, schema.AVG_ORDER_VALUE)
DEFAULT_FEATURES: tuple[str, ...] = (schema.RECENCY, schema.FREQUENCY, schema.MONETARY)
# Frequency and monetary are heavily right-skewed; log1p makes distances between customers meaningful.
DEFAULT_LOG_FEATURES: tuple[str, ...] = (schema.FREQUENCY, schema.MONETARY)



def check_features(features: Sequence[str], log_features: Sequence[str] = (), scaler: str = "standard") -> None:
    """Raise :class:`RFMInputError` for unknown features, a log on an unused feature, or an unknown scaler."""
    unknown = [f for f in features if f not in FEATURE_CHOICES]
    if not features or unknown:
        raise RFMInputError(f"Features must be a non-empty choice among {list(FEATURE_CHOICES)}; got {list(features)}.")
    stray = [f for f in log_features if f not in features]
    if stray:
        raise RFMInputError(f"log_features {stray} are not among the features {list(features)}.")
    if scaler not in SCALERS:
        raise RFMInputError(f"scaler={scaler!r} should be {' or '.join(map(repr, SCALERS))}.")


def feature_frame(
    table: pd.DataFrame, features: Sequence[str] = DEFAULT_FEATURES, log_features: Sequence[str] = DEFAULT_LOG_FEATURES
) -> pd.DataFrame:
    """The chosen RFM columns as floats, log1p applied to ``log_features`` (negatives clipped to 0 first).

    Parameters
    ----------
    table : DataFrame
        The RFM table, indexed by customer id.

    Returns
    -------
    DataFrame with one column per feature (same names), indexed like ``table``.
    """
    check_features(features, log_features)
    missing = [f for f in features if f not in table.columns]
    if missing:
        raise RFMInputError(f"The customer table has no column {missing[0]!r}; it has {list(table.columns)}.")
    frame = table[list(features)].astype("float64")
    for feature in log_features:
        frame[feature] = np.log1p(frame[feature].clip(lower=0))
    return frame


def make_scaler(scaler: Scaler = "standard") -> StandardScaler | RobustScaler:
    """A fresh scikit-learn scaler: ``StandardScaler`` or ``RobustScaler`` (median and IQR)."""
    from sklearn.preprocessing import RobustScaler, StandardScaler

    check_features(DEFAULT_FEATURES, (), scaler)
    return StandardScaler() if scaler == "standard" else RobustScaler()


def check_finite(matrix: np.ndarray) -> None:
    """Raise :class:`RFMInputError` naming the count and the first NaN or infinite cell of ``matrix``."""
    bad = ~np.isfinite(matrix)
    if bad.any():
        rows, columns = np.nonzero(bad)
        raise RFMInputError(
            f"X has {int(bad.sum())} missing (NaN) or infinite value(s), first at row {rows[0]}, "
            f"column {columns[0]}: {matrix[rows[0], columns[0]]}."
        )
