"""Reference material shared by tests: where the real data lives, and answers written out by hand."""

from importlib.util import find_spec
from pathlib import Path

#: The real UCI Online Retail II excerpt beside the repository (tests skip when it is absent).
WORKBOOK = Path(__file__).resolve().parents[2] / "shared" / "data" / "online_retail_II_sample_nonUK.xlsx"


def lifetimes_datasets() -> Path | None:
    """The data folder of the lifetimes wheel (a test dependency, never imported by RFM Studio), or None: the public
    CDNOW files (Fader, Hardie & Lee 2005)."""
    spec = find_spec("lifetimes")
    return None if spec is None or not spec.submodule_search_locations else Path(spec.submodule_search_locations[0]) / "datasets"


def cdnow_master() -> Path | None:
    """CDNOW's master file (69,659 rows; 23,502 customers after cleaning; no invoice column), or None when absent."""
    folder = lifetimes_datasets()
    path = None if folder is None else folder / "CDNOW_master.txt"
    return path if path is not None and path.is_file() else None

#: The published R x F segment map, written out cell by cell independently of the rule table
#: (rows R=5 .. 1, columns F=1 .. 5); M plays no part.
GRID_5 = {
    5: ["New Customers", "Potential Loyalist", "Potential Loyalist", "Champions", "Champions"],
    4: ["Promising", "Potential Loyalist", "Potential Loyalist", "Loyal Customers", "Loyal Customers"],
    3: ["About To Sleep", "About To Sleep", "Need Attention", "Loyal Customers", "Loyal Customers"],
    2: ["Hibernating", "Hibernating", "At Risk", "At Risk", "Can't Lose Them"],
    1: ["Lost", "Lost", "At Risk", "At Risk", "Can't Lose Them"],
}
