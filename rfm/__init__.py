"""RFM Studio's library: read transaction files, clean them with a ledger, compute RFM tables.

No UI code lives here (no streamlit import anywhere under ``rfm/``). Names are imported on first
use, so that ``import rfm.read`` (or a worker process reading one sheet) does not pay for the rest.
"""

from importlib import import_module

__version__ = "0.5.0"

_EXPORTS = {
    "Analysis": "rfm.pipeline",
    "analyse": "rfm.pipeline",
    "analyse_file": "rfm.pipeline",
    "CleanResult": "rfm.clean",
    "CleaningReport": "rfm.clean",
    "CleaningSettings": "rfm.clean",
    "LedgerLine": "rfm.clean",
    "clean": "rfm.clean",
    "ColumnMapping": "rfm.schema",
    "MappingGuess": "rfm.detect",
    "detect_mapping": "rfm.detect",
    "RFMInputError": "rfm.errors",
    "RawTable": "rfm.read",
    "ReadInfo": "rfm.read",
    "list_sheets": "rfm.read",
    "read_transactions": "rfm.read",
    "rfm_table": "rfm.table",
    "SegmentSettings": "rfm.segmentation",
    "segment_customers": "rfm.segmentation",
    "RFMClusterer": "rfm.cluster",
    "compare_algorithms": "rfm.cluster",
    "ClusterSettings": "rfm.clustering",
    "fit_clusters": "rfm.clustering",
    "run_sweep": "rfm.clustering",
    "sweep_k": "rfm.sweep",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str):
    if name in _EXPORTS:
        return getattr(import_module(_EXPORTS[name]), name)
    raise AttributeError(f"module 'rfm' has no attribute {name!r}")
