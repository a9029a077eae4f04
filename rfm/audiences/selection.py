"""Which customers of a published run make an audience: segments, and optionally how they moved since the previous
run of the same name (:mod:`rfm.workspace.movement`).

A movement narrows the chosen segments (``segments`` empty = every segment):

- ``all``: everyone in the segments;
- ``entered``: in one of the segments now, having moved up or down from another segment since the previous run (e.g.
  newly "At Risk"); a segment that only changed its name between two models, at the same merit, is not a move;
- ``dropped``: in the segments in the previous run and moved down since, wherever they are now (e.g. "Champions who
  dropped");
- ``up``, ``down``, ``same``, ``new``, ``returned``: in the segments now, with that direction;
- ``newly_at_risk``: in the segments now, and newly at risk by lifecycle stage (Active or New before, At risk now:
  :func:`rfm.workspace.movement.newly_at_risk`).

``entered`` and ``dropped`` compare segment names, so they need the split the movement columns record (the segment
name); the others work with any split.
"""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd

from rfm import schema
from rfm.errors import RFMInputError
from rfm.workspace.movement import DOWN, NEW, RETURNED, SAME, UP, newly_at_risk
from rfm.workspace.tables import DIRECTION, PREVIOUS_SEGMENT

MOVEMENTS: dict[str, str] = {
    "all": "Everyone in the segments",
    "entered": "Moved into the segments since the previous run",
    "dropped": "Were in the segments in the previous run and moved down",
    UP: "Moved up since the previous run",
    DOWN: "Moved down since the previous run",
    SAME: "In the same segment as in the previous run",
    NEW: "New customers (in no earlier run)",
    RETURNED: "Returned (in an earlier run, not the previous one)",
    "newly_at_risk": "Newly at risk: lifecycle stage At risk now, Active or New before",
}
#: The movements that compare segment names with the previous segment.
_BY_SEGMENT_NAME = ("entered", "dropped")


def select_audience(
    customers: pd.DataFrame,
    segments: Sequence[str] = (),
    *,
    by: str = schema.SEGMENT_NAME,
    movement: str = "all",
    previous: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """The rows of ``customers`` (a published run's customers, with its movement columns) in the audience.

    Parameters
    ----------
    customers : DataFrame
        A run's customers as :meth:`rfm.workspace.store.Workspace.customers` gives them.
    segments : sequence of str
        Segment names as they appear in the column ``by``; empty for every segment.
    by : str
        The column that names the segments (``segment_name`` or ``rfm_segment``).
    movement : str
        A key of :data:`MOVEMENTS`.
    previous : DataFrame, optional
        The previous run's customers (only ``newly_at_risk`` needs them; without them nobody is newly at risk).

    Raises
    ------
    RFMInputError
        An unknown segment (the message lists the run's), split or movement.

    Examples
    --------
    >>> run = pd.DataFrame({"segment_name": ["At Risk", "At Risk", "Champions"],
    ...                     "previous_segment": ["Champions", "At Risk", "Champions"],
    ...                     "direction": ["down", "same", "same"]}, index=["a", "b", "c"])
    >>> select_audience(run, ["At Risk"], movement="entered").index.tolist()
    ['a']
    >>> select_audience(run, ["Champions"], movement="dropped").index.tolist()
    ['a']
    """
    before = _text(customers, PREVIOUS_SEGMENT)
    _check_choices(customers, segments, by, movement, before)
    named = customers[by].astype("str")
    chosen = list(segments)
    now = named.isin(chosen) if chosen else pd.Series(True, index=customers.index)
    held = before.notna()
    direction = _text(customers, DIRECTION)
    if movement == "all":
        keep = now
    elif movement == "entered":
        keep = now & held & (before != named) & direction.isin([UP, DOWN])
    elif movement == "dropped":
        keep = held & (before.isin(chosen) if chosen else held) & (direction == DOWN)
    elif movement == "newly_at_risk":
        keep = now & newly_at_risk(customers, previous).to_numpy()
    else:
        keep = now & (direction == movement)
    return customers[keep.to_numpy(dtype="bool")]


def _check_choices(customers: pd.DataFrame, segments: Sequence[str], by: str, movement: str, before: pd.Series) -> None:
    if movement not in MOVEMENTS:
        raise RFMInputError(f"Unknown movement {movement!r}: choose one of {', '.join(MOVEMENTS)}.")
    if by not in customers.columns:
        raise RFMInputError(f"This run has no column {by!r} to choose segments by.")
    if movement in _BY_SEGMENT_NAME and by != schema.SEGMENT_NAME:
        raise RFMInputError(
            f"The movement {movement!r} compares segment names ({schema.SEGMENT_NAME}); choose segments by {schema.SEGMENT_NAME}."
        )
    known = set(customers[by].dropna().astype("str")) | (set(before.dropna()) if movement == "dropped" else set())
    unknown = sorted(set(segments) - known)
    if unknown:
        raise RFMInputError(
            f"This run has no segment {', '.join(map(repr, unknown))} in {by}: its segments are "
            f"{', '.join(map(repr, sorted(known)))}."
        )


def _text(customers: pd.DataFrame, column: str) -> pd.Series:
    """A text column as objects with ``None`` for a missing value (all missing when the run lacks the column)."""
    if column not in customers.columns:
        return pd.Series(None, index=customers.index, dtype="object")
    series = customers[column]
    return series.astype("object").where(series.notna() & (series.astype("str") != "nan"), None)
