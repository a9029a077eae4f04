"""Trends: the order table and a saved model in; customers as of any day, who moved between two dates, segment
sizes over time and campaign KPIs out. Uses: ``rfm.cleaning``, ``rfm.scoring``, ``rfm.bundle`` (to label each date) and
``rfm.outputs`` (to write a migration's files).
"""

from rfm._exports import lazy_exports

__all__ = ["Migration", "SegmentKPIs", "campaign_kpis", "migrate", "rfm_as_of", "sizes_over_time"]

__getattr__, __dir__ = lazy_exports(
    __name__,
    {
        "rfm_as_of": "timeline",
        "sizes_over_time": "timeline",
        "Migration": "migration",
        "migrate": "migration",
        "SegmentKPIs": "kpis",
        "campaign_kpis": "kpis",
    },
)
