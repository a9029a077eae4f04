"""Placing points among fitted clusters with numpy alone: nearest centre, or most probable Gaussian component.

Shared by :class:`rfm.clustering.estimator.RFMClusterer` and by saved models (:mod:`rfm.bundle.model`), which score new customers
without scikit-learn's estimators.
"""

from __future__ import annotations

import numpy as np

from rfm.schema import NOISE


def squared_distances(points: np.ndarray, centers: np.ndarray) -> np.ndarray:
    """Exact squared Euclidean distances, shape (n_points, n_centers), one centre at a time (memory O(n))."""
    out = np.empty((points.shape[0], centers.shape[0]))
    for j, center in enumerate(centers):
        out[:, j] = ((points - center) ** 2).sum(axis=1)
    return out


def gaussian_log_weights(weights: np.ndarray, means: np.ndarray, precisions_cholesky: np.ndarray, points: np.ndarray) -> np.ndarray:
    """log(weight) + log-density of each point under each Gaussian component, up to a shared constant.

    Parameters
    ----------
    weights : ndarray of shape (n_components,)
    means : ndarray of shape (n_components, n_features)
    precisions_cholesky : ndarray of shape (n_components, n_features, n_features)
        As in :class:`sklearn.mixture.GaussianMixture` with full covariances.
    points : ndarray of shape (n_points, n_features)

    Returns
    -------
    ndarray of shape (n_points, n_components); its argmax is ``GaussianMixture.predict``.
    """
    out = np.empty((points.shape[0], len(weights)))
    for j in range(len(weights)):
        cholesky = precisions_cholesky[j]
        projected = (points - means[j]) @ cholesky
        log_det = np.log(np.diag(cholesky)).sum()
        out[:, j] = np.log(weights[j]) + log_det - 0.5 * (projected**2).sum(axis=1)
    return out


def assign(points: np.ndarray, centers: np.ndarray, mixture: tuple[np.ndarray, np.ndarray] | None = None) -> np.ndarray:
    """The cluster of each point: nearest centre, or with ``mixture=(weights, precisions_cholesky)`` the most
    probable component (``centers`` are then the components' means); ``-1`` for all when there is no centre."""
    if centers.shape[0] == 0:
        return np.full(points.shape[0], NOISE, dtype=np.intp)
    scores = gaussian_log_weights(mixture[0], centers, mixture[1], points) if mixture is not None else -squared_distances(points, centers)
    return np.argmax(scores, axis=1).astype(np.intp)
