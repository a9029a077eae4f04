"""How each customer moved since the previous published run of the same name, as Klaviyo's RFM feature records it:
the previous segment, the date the segment changed, the direction and the change in P(alive).

The direction of a customer who was in the previous run:

- ``same`` when the segment (cluster) name is the same;
- ``up`` or ``down`` by how good the two segments are: each model records a merit per segment (0 = worst, 3 = best:
  recency, frequency and spend, see ``rfm.clustering.profiles.merit_scores``), so a move from a merit-0.0 segment of
  last month's model to a merit-1.3 segment of this month's is up, even when the models differ. When a segment has
  no merit (an outlier tier group), the change of the customer's own R + F + M scores decides (``same`` when equal);

and of a customer who was not: ``new`` when no run of that name held them, ``returned`` when an earlier one did.

The date a segment changed is the analysis date of the run in which it changed, carried forward while it stays the
same; unknown (missing) for customers in the first run of a name, whose earlier segment nobody recorded.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Collection, Mapping

import numpy as np
import pandas as pd

from rfm import schema
from rfm.workspace.tables import DIRECTION, MOVEMENT_COLUMNS, P_ALIVE_CHANGE, PREVIOUS_SEGMENT, SEGMENT_CHANGED_ON

UP, DOWN, SAME, NEW, RETURNED = "up", "down", "same", "new", "returned"
#: The directions in the order pages show them, and their labels.
DIRECTIONS: tuple[str, ...] = (UP, SAME, DOWN, NEW, RETURNED)
DIRECTION_LABELS: dict[str, str] = {UP: "Moved up", SAME: "Same segment", DOWN: "Moved down", NEW: "New", RETURNED: "Returned"}
_SCORES = (schema.R_SCORE, schema.F_SCORE, schema.M_SCORE)


def segment_merits(model_json: str) -> dict[str, float]:
    """Segment name → merit, from a saved model's JSON (the names it gives its clusters); segments without a merit
    (outlier tier groups, noise) are left out."""
    names = json.loads(model_json).get("clusters", {}).get("names", [])
    return {str(row["name"]): float(row["merit"]) for row in names if row.get("merit") is not None}


def movement(
    current: pd.DataFrame,
    previous: pd.DataFrame | None,
    analysis_date: dt.date,
    *,
    merits: Mapping[str, float] | None = None,
    previous_merits: Mapping[str, float] | None = None,
    seen_before: Collection[str] = (),
) -> pd.DataFrame:
    """The movement columns of ``current``'s customers since ``previous``.

    Parameters
    ----------
    current : DataFrame
        This run's labelled list, indexed by customer id, with ``segment_name`` (and ``p_alive``, the scores when
        present).
    previous : DataFrame or None
        The previous run's customers as the workspace gives them back (with their own movement columns); ``None``
        for the first run of a name.
    analysis_date : date
        This run's analysis date: the date a segment that changed now changed on.
    merits, previous_merits : mapping of segment name to merit
        Of this run's model and the previous run's (:func:`segment_merits`).
    seen_before : collection of str
        Customer ids in any run of this name before the previous one (they make ``returned`` rather than ``new``).

    Returns
    -------
    DataFrame indexed like ``current`` with :data:`rfm.workspace.tables.MOVEMENT_COLUMNS`.
    """
    index = current.index.astype(str)
    frame = pd.DataFrame(index=current.index, columns=list(MOVEMENT_COLUMNS))
    frame[SEGMENT_CHANGED_ON] = pd.Series(pd.NaT, index=current.index, dtype="datetime64[us]")
    frame[P_ALIVE_CHANGE] = np.nan
    if previous is None:
        frame[DIRECTION] = NEW
        return frame
    was = previous.reindex(index)
    held = index.isin(previous.index.astype(str))
    now_segment = current[schema.SEGMENT_NAME].astype(str).to_numpy()
    then_segment = was[schema.SEGMENT_NAME].to_numpy(dtype=object)
    frame[PREVIOUS_SEGMENT] = np.where(held, then_segment, None)
    frame[DIRECTION] = _directions(current, was, held, merits or {}, previous_merits or {})
    back = ~held & index.isin([str(c) for c in seen_before])
    frame.loc[back, DIRECTION] = RETURNED
    same = held & (now_segment == then_segment.astype(str))
    carried = pd.to_datetime(was[SEGMENT_CHANGED_ON]).to_numpy() if SEGMENT_CHANGED_ON in was.columns else pd.NaT
    changed_on = np.where(same, carried, np.datetime64(pd.Timestamp(analysis_date)))
    frame[SEGMENT_CHANGED_ON] = pd.to_datetime(changed_on).astype("datetime64[us]")
    if schema.P_ALIVE in current.columns and schema.P_ALIVE in was.columns:
        frame[P_ALIVE_CHANGE] = current[schema.P_ALIVE].to_numpy(dtype="float64") - was[schema.P_ALIVE].to_numpy(dtype="float64")
    return frame


def _directions(current: pd.DataFrame, was: pd.DataFrame, held: np.ndarray, merits: Mapping[str, float],
                previous_merits: Mapping[str, float]) -> np.ndarray:
    """up / down / same for the customers the previous run held (by segment merit, else by the R + F + M change);
    ``new`` for the others."""
    now = current[schema.SEGMENT_NAME].astype(str).to_numpy()
    then = was[schema.SEGMENT_NAME].astype(str).to_numpy()
    merit_now = np.array([merits.get(name, np.nan) for name in now], dtype="float64")
    merit_then = np.array([previous_merits.get(name, np.nan) for name in then], dtype="float64")
    step = merit_now - merit_then
    if all(column in current.columns and column in was.columns for column in _SCORES):
        scores = current[list(_SCORES)].sum(axis=1).to_numpy(dtype="float64") - was[list(_SCORES)].sum(axis=1).to_numpy(dtype="float64")
        step = np.where(np.isfinite(step), step, scores)
    step = np.nan_to_num(step, nan=0.0)
    direction = np.where(step > 0, UP, np.where(step < 0, DOWN, SAME)).astype(object)
    direction[now == then] = SAME
    direction[~held] = NEW
    return direction


#: The lifecycle stages a customer slips from into "At risk" (a Lapsed or Lost customer cannot become At risk
#: without buying, which makes them Active).
_BEFORE_AT_RISK = (schema.STAGE_NEW, schema.STAGE_ACTIVE)


def newly_at_risk(current: pd.DataFrame, previous: pd.DataFrame | None) -> pd.Series:
    """Whether each of ``current``'s customers is newly at risk: their lifecycle stage is "At risk" now and was
    "Active" or "New" in ``previous`` (the previous run's customers). All ``False`` for the first run of a name, or when
    either run has no lifecycle stage.

    Examples
    --------
    >>> now = pd.DataFrame({"lifecycle_stage": ["At risk", "At risk", "Active"]}, index=["a", "b", "c"])
    >>> then = pd.DataFrame({"lifecycle_stage": ["Active", "At risk", "Active"]}, index=["a", "b", "c"])
    >>> newly_at_risk(now, then).tolist()
    [True, False, False]
    """
    stage = schema.LIFECYCLE_STAGE
    if previous is None or stage not in current.columns or stage not in previous.columns:
        return pd.Series(False, index=current.index, dtype="bool")
    before = previous[stage].astype("object").reindex(current.index.astype(str)).to_numpy()
    now = current[stage].astype("object").to_numpy()
    return pd.Series((now == schema.STAGE_AT_RISK) & pd.Series(before).isin(_BEFORE_AT_RISK).to_numpy(), index=current.index)


def movement_counts(moved: pd.DataFrame) -> pd.Series:
    """Customers per direction, in :data:`DIRECTIONS` order (0 for none)."""
    return moved[DIRECTION].value_counts().reindex(list(DIRECTIONS), fill_value=0).astype("int64")
