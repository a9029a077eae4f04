"""Scoring: the RFM table in; R, F and M scores, named segments by score rules, and outlier tiers out.

``classic.segment_customers`` does all three in one call. Uses: ``rfm.cleaning`` (its table's columns) only.
"""

from rfm._exports import lazy_exports

__all__ = [
    "ScoreResult",
    "SegmentRule",
    "SegmentSettings",
    "Segmentation",
    "TierResult",
    "compute_scores",
    "default_rules",
    "outlier_tiers",
    "segment_customers",
]

__getattr__, __dir__ = lazy_exports(
    __name__,
    {
        "ScoreResult": "scores",
        "compute_scores": "scores",
        "SegmentRule": "rules",
        "default_rules": "rules",
        "TierResult": "tiers",
        "outlier_tiers": "tiers",
        "SegmentSettings": "classic",
        "Segmentation": "classic",
        "segment_customers": "classic",
    },
)
