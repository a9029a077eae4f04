"""Clustering: the scored customers in; clusters with business names, profiles and a projection out.

``estimator.RFMClusterer`` is the scikit-learn estimator; ``sweep`` tries every k; ``profiles`` names and describes
clusters; ``fit`` is the one call (settings, the fit, names, the comparison of algorithms); ``threads`` holds them to
one BLAS and OpenMP thread. Uses: ``rfm.scoring``.
"""

from rfm._exports import lazy_exports

__all__ = [
    "ClusterResult",
    "ClusterSettings",
    "RFMClusterer",
    "SweepResult",
    "compare_algorithms",
    "compare_clusters",
    "fit_clusters",
    "run_sweep",
    "sweep_k",
]

__getattr__, __dir__ = lazy_exports(
    __name__,
    {
        "RFMClusterer": "estimator",
        "compare_algorithms": "estimator",
        "SweepResult": "sweep",
        "sweep_k": "sweep",
        "ClusterResult": "fit",
        "ClusterSettings": "fit",
        "compare_clusters": "fit",
        "fit_clusters": "fit",
        "run_sweep": "fit",
    },
)
