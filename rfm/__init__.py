"""RFM Studio's library: customer segmentation from a transaction file, one package per step.

    reading -> cleaning -> scoring -> clustering -> bundle (the saved model) -> trends, value, backtest -> outputs
                                                                                    cli: every step from a shell

No UI code lives here (no streamlit import anywhere under ``rfm/``). Names are imported on first use, so that
``import rfm.reading.files`` (or a worker process reading one sheet) does not pay for the rest.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from rfm._exports import lazy_exports

__version__ = "0.5.0"

__all__ = [
    "Analysis",
    "CleanResult",
    "CleaningReport",
    "CleaningSettings",
    "ClusterSettings",
    "ColumnMapping",
    "LedgerLine",
    "MappingGuess",
    "RFMClusterer",
    "RFMInputError",
    "RawTable",
    "ReadInfo",
    "SegmentSettings",
    "__version__",
    "analyse",
    "analyse_file",
    "clean",
    "compare_algorithms",
    "detect_mapping",
    "fit_clusters",
    "list_sheets",
    "read_transactions",
    "rfm_table",
    "run_sweep",
    "segment_customers",
    "sweep_k",
]

__getattr__, __dir__ = lazy_exports(
    __name__,
    {
        "Analysis": "cleaning.analyse",
        "analyse": "cleaning.analyse",
        "analyse_file": "cleaning.analyse",
        "CleanResult": "cleaning.ledger",
        "CleaningReport": "cleaning.ledger",
        "CleaningSettings": "cleaning.ledger",
        "LedgerLine": "cleaning.ledger",
        "clean": "cleaning.ledger",
        "rfm_table": "cleaning.table",
        "ColumnMapping": "schema",
        "RFMInputError": "errors",
        "MappingGuess": "reading.columns",
        "detect_mapping": "reading.columns",
        "RawTable": "reading.files",
        "ReadInfo": "reading.files",
        "list_sheets": "reading.files",
        "read_transactions": "reading.files",
        "SegmentSettings": "scoring.classic",
        "segment_customers": "scoring.classic",
        "RFMClusterer": "clustering.estimator",
        "compare_algorithms": "clustering.estimator",
        "ClusterSettings": "clustering.fit",
        "fit_clusters": "clustering.fit",
        "run_sweep": "clustering.fit",
        "sweep_k": "clustering.sweep",
    },
)

if TYPE_CHECKING:  # what editors and type checkers see; at run time each name is imported on first use
    from rfm.cleaning.analyse import Analysis, analyse, analyse_file
    from rfm.cleaning.ledger import CleaningReport, CleaningSettings, CleanResult, LedgerLine, clean
    from rfm.cleaning.table import rfm_table
    from rfm.clustering.estimator import RFMClusterer, compare_algorithms
    from rfm.clustering.fit import ClusterSettings, fit_clusters, run_sweep
    from rfm.clustering.sweep import sweep_k
    from rfm.errors import RFMInputError
    from rfm.reading.columns import MappingGuess, detect_mapping
    from rfm.reading.files import RawTable, ReadInfo, list_sheets, read_transactions
    from rfm.schema import ColumnMapping
    from rfm.scoring.classic import SegmentSettings, segment_customers
