"""RFM Studio's library: read transaction files, clean them with a ledger, compute RFM tables.

No UI code lives here (no streamlit import anywhere under ``rfm/``).
"""

from rfm.clean import CleaningReport, CleaningSettings, CleanResult, LedgerLine, clean
from rfm.detect import MappingGuess, detect_mapping
from rfm.errors import RFMInputError
from rfm.pipeline import Analysis, analyse, analyse_file
from rfm.read import RawTable, ReadInfo, list_sheets, read_transactions
from rfm.schema import ColumnMapping
from rfm.table import rfm_table

__version__ = "0.1.0"

__all__ = [
    "Analysis",
    "CleanResult",
    "CleaningReport",
    "CleaningSettings",
    "ColumnMapping",
    "LedgerLine",
    "MappingGuess",
    "RFMInputError",
    "RawTable",
    "ReadInfo",
    "analyse",
    "analyse_file",
    "clean",
    "detect_mapping",
    "list_sheets",
    "read_transactions",
    "rfm_table",
]
