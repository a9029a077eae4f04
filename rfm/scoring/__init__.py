"""Scoring: the RFM table in; R, F and M scores, named segments by score rules, outlier tiers and lifecycle stages out.

``classic.segment_customers`` does all four in one call. Uses: ``rfm.cleaning`` (its table's columns) only.
"""

from rfm._exports import lazy_exports

__all__ = [
    "LifecycleThresholds",
    "ScoreResult",
    "SegmentRule",
    "SegmentSettings",
    "Segmentation",
    "TierResult",
    "compute_scores",
    "default_rules",
    "lifecycle_stages",
    "lifecycle_thresholds",
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
        "LifecycleThresholds": "lifecycle",
        "lifecycle_stages": "lifecycle",
        "lifecycle_thresholds": "lifecycle",
        "SegmentSettings": "classic",
        "Segmentation": "classic",
        "segment_customers": "classic",
    },
)
