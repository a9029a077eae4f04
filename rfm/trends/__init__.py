"""Trends: the order table and a saved model in; customers as of any day, who moved between two dates, segment
sizes over time, campaign KPIs and monthly cohorts' retention and revenue (no model needed) out. Uses:
``rfm.cleaning``, ``rfm.scoring``, ``rfm.bundle`` (to label each date) and ``rfm.outputs`` (to write a migration's
and the cohorts' files).
"""

from rfm._exports import lazy_exports

__all__ = [
    "CohortTable",
    "Migration",
    "SegmentKPIs",
    "campaign_kpis",
    "cohort_files",
    "cohort_table",
    "migrate",
    "rfm_as_of",
    "sizes_over_time",
]

__getattr__, __dir__ = lazy_exports(
    __name__,
    {
        "rfm_as_of": "timeline",
        "sizes_over_time": "timeline",
        "Migration": "migration",
        "migrate": "migration",
        "SegmentKPIs": "kpis",
        "campaign_kpis": "kpis",
        "CohortTable": "cohorts",
        "cohort_table": "cohorts",
        "cohort_files": "cohorts",
    },
)
