"""Workspace: the database of published runs. A run's labelled customer list
(:func:`rfm.outputs.lists.labelled_customers`), its model.json, settings and cleaning ledger come in; they are stored
once, append-only, and come back as a list of runs (newest first), one run's facts (:class:`RunInfo`) or its customers
(a DataFrame indexed by ``customer_id``).

The default store is an embedded DuckDB file, ``workspace/rfm.duckdb`` (``RFM_WORKSPACE`` or ``--workspace`` names
another); a team server that runs several app processes sets ``RFM_WORKSPACE_URL=postgresql://...``. One SQLAlchemy
Core implementation serves both. Uses: ``rfm.schema`` and ``rfm.outputs.lists`` (the column names), nothing else of
the pipeline.
"""

from rfm._exports import lazy_exports

__all__ = [
    "SCHEMA_VERSION",
    "RunInfo",
    "Workspace",
    "describe_url",
    "workspace_url",
]

__getattr__, __dir__ = lazy_exports(
    __name__,
    {
        "SCHEMA_VERSION": "tables",
        "RunInfo": "store",
        "Workspace": "store",
        "describe_url": "location",
        "workspace_url": "location",
    },
)
