"""A marketer's audience from the workspace, as the Audiences page and ``rfm audience`` make it: find the run, choose
its customers (:mod:`rfm.audiences.selection`), hold back a random control group (:mod:`rfm.audiences.control`) and
store it, and later compare the contacted customers with those held back in the next run of the same name."""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from rfm import schema
from rfm.audiences.control import ControlComparison, compare_groups, hold_out
from rfm.audiences.selection import select_audience
from rfm.errors import RFMInputError
from rfm.workspace.store import AudienceInfo, RunInfo, Workspace

LATEST = "latest"


def find_run(workspace: Workspace, which: str) -> RunInfo:
    """The run ``which`` names: ``latest`` (the newest run of any name), a run id, or a name (its newest run).

    Raises
    ------
    RFMInputError
        Nothing published, or no run of that id or name (the message lists the names there are).
    """
    listed = workspace.runs()
    if listed.empty:
        raise RFMInputError(f"The workspace {workspace.where} has no published run yet: publish one first (rfm publish, or the Export page).")
    if which == LATEST:
        return workspace.run(str(listed["run_id"].iloc[0]))
    if which in set(listed["run_id"]):
        return workspace.run(which)
    found = workspace.latest(which)
    if found is None:
        names = ", ".join(map(repr, dict.fromkeys(listed["name"])))
        raise RFMInputError(f"The workspace {workspace.where} has no run named or numbered {which!r}: its runs are named {names}.")
    return found


def analysis_date(info: RunInfo) -> dt.date:
    """The run's analysis date (every purchase it counts is on or before it).

    Raises
    ------
    RFMInputError
        The run does not record it (a run stored by hand, not by RFM Studio).
    """
    if info.analysis_date is None:
        raise RFMInputError(f"The run {info.name!r} ({info.run_id}) does not record its analysis date.")
    return info.analysis_date


def run_audience(
    workspace: Workspace,
    info: RunInfo,
    segments: Sequence[str] = (),
    *,
    by: str = schema.SEGMENT_NAME,
    movement: str = "all",
    customers: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """The customers of the run ``info`` in the audience (:func:`rfm.audiences.selection.select_audience`); the
    previous run's customers are read only when the movement needs them. ``customers`` saves reading the run again."""
    customers = workspace.customers(info.run_id) if customers is None else customers
    previous = None
    if movement == "newly_at_risk":
        before = workspace.previous(info.name, info.run_id)
        previous = None if before is None else workspace.customers(before.run_id)
    return select_audience(customers, segments, by=by, movement=movement, previous=previous)


def check_not_empty(workspace: Workspace, info: RunInfo, audience: pd.DataFrame, movement: str) -> None:
    """Refuse an empty audience, saying why when the run is the first of its name (its movements are all empty).

    Raises
    ------
    RFMInputError
        When ``audience`` is empty.
    """
    if not audience.empty:
        return
    first = movement not in ("all", "new") and workspace.previous(info.name, info.run_id) is None
    why = (" The run is the first of its name, so nobody moved yet: choose everyone or new customers, or wait for the next run."
           if first else " Choose other segments or another movement.")
    raise RFMInputError("The audience is empty: nobody in the run matches these choices." + why)


@dataclass(frozen=True, eq=False)
class HeldBack:
    """An audience split into the customers to contact and the control group, as stored in the workspace."""

    info: AudienceInfo
    contacted: pd.DataFrame
    control: pd.DataFrame


def save_with_control(
    workspace: Workspace,
    run: RunInfo,
    audience: pd.DataFrame,
    *,
    share: float,
    seed: int,
    label: str,
    created_by: str,
    by: str,
    segments: Sequence[str],
    movement: str,
) -> HeldBack:
    """Hold back ``share`` of ``audience`` at random (seeded) and store the audience with its control group."""
    check_not_empty(workspace, run, audience, movement)
    held = hold_out(audience.index, share, seed)
    info = workspace.save_audience(
        run.run_id, held, label=label, created_by=created_by, split=by, segments=segments, movement=movement,
        control_share=share, seed=seed,
    )
    mask = held.reindex(audience.index.astype(str)).to_numpy(dtype="bool")
    return HeldBack(info, audience[~mask], audience[mask])


@dataclass(frozen=True, eq=False)
class ControlResult:
    """A saved audience, the later run it is judged in (``None`` while there is none) and the comparison."""

    audience: AudienceInfo
    run: RunInfo
    later: RunInfo | None
    comparison: ControlComparison | None

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: the audience, its run, the later run's id and, once there is one, each group's figures, the
        lift and its p-value (``None`` for a figure that cannot be computed)."""
        audience = self.audience
        record: dict[str, Any] = {
            "audience_id": audience.audience_id, "label": audience.label, "run_id": audience.run_id, "name": self.run.name,
            "created_at": audience.created_at.isoformat(), "created_by": audience.created_by,
            "customers": audience.customers, "held_back": audience.held_back, "control_share": audience.control_share,
            "seed": audience.seed, "segments": list(audience.segments), "split": audience.split,
            "movement": audience.movement, "later_run_id": None if self.later is None else self.later.run_id,
        }
        if self.comparison is not None:
            table = self.comparison.table
            record["groups"] = {str(group): {str(k): _plain(v) for k, v in row.items()} for group, row in table.to_dict("index").items()}
            record["lift"] = _plain(self.comparison.lift)
            record["p_value"] = _plain(self.comparison.p_value)
            record["notes"] = list(self.comparison.notes)
        return record

    def headline(self) -> str:
        """One line: the audience, where it came from, and the comparison's summary (or that it waits for a run)."""
        audience = self.audience
        head = (f"{audience.label} ({audience.audience_id}), from run {self.run.name!r} of {self.run.published_at:%Y-%m-%d}: "
                f"{audience.customers:,} customers, {audience.held_back:,} held back")
        tail = "no later run of this name yet" if self.comparison is None else self.comparison.summary()
        return f"{head}. {tail}"


def control_markdown(results: Sequence[ControlResult]) -> str:
    """A digest section on the control groups judged in a run: each audience's headline, its two groups and notes."""
    lines = ["## Control groups", ""]
    if not results:
        return "\n".join([*lines, "No audience with a control group was saved from the previous run of this name.", ""])
    lines += [
        "*What these numbers mean.* **Bought again**: a later purchase than in the audience's run (missing from this run "
        "counts as not). **Spend since**: this run's spend minus the audience's run's, only when this run's history "
        "covers the earlier one. **Lift**: the contacted group's bought-again rate minus the held-back group's; the "
        "p-value (two-proportion z-test) says how often chance alone would give a lift this large.",
        "",
    ]
    for result in results:
        lines += [f"### {result.audience.label}", "", result.headline(), ""]
        if result.comparison is None:
            continue
        table = result.comparison.table
        lines += ["| Group | Customers | Bought again | Rate | Spend since |", "|---|---:|---:|---:|---:|"]
        for group, row in table.iterrows():
            spend = f"{row['spend_since']:,.2f}" if "spend_since" in table.columns else "—"
            lines.append(f"| {group} | {int(row['customers']):,} | {int(row['bought_again']):,} | {row['bought_again_rate']:.1%} | {spend} |")
        lines += ["", *(f"- {note}" for note in result.comparison.notes), ""]
    return "\n".join(lines)


def _plain(value: Any) -> int | float | None:
    """A count as an int, a rate or amount rounded to 6 decimals, NaN as None (JSON has no NaN)."""
    if isinstance(value, (int, np.integer)):
        return int(value)
    number = float(value)
    return None if math.isnan(number) else round(number, 6)


def control_results(
    workspace: Workspace, name: str | None = None, customers: Callable[[str], pd.DataFrame] | None = None
) -> list[ControlResult]:
    """Every saved audience of the runs of ``name`` (all names when ``None``), newest first, each compared in the newest
    run of its name published after the audience's run (when there is one). ``customers`` reads a run's customers by
    id (default :meth:`Workspace.customers`; the app passes a cached one)."""
    read = workspace.customers if customers is None else customers
    results = []
    for audience_id in workspace.audiences(name)["audience_id"]:
        audience = workspace.audience(str(audience_id))
        run = workspace.run(audience.run_id)
        later = workspace.latest(run.name)
        if later is None or later.published_at <= run.published_at:
            results.append(ControlResult(audience, run, None, None))
            continue
        comparison = compare_groups(
            workspace.audience_members(audience.audience_id), read(run.run_id), read(later.run_id), analysis_date(run)
        )
        results.append(ControlResult(audience, run, later, comparison))
    return results
