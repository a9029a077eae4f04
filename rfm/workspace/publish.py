"""Publishing a run to the workspace: the labelled list with the predicted values and how each customer moved since
the previous run of the same name, in one transaction (:meth:`rfm.workspace.store.Workspace.publish`)."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any

import pandas as pd

from rfm import schema
from rfm.outputs.lists import with_values
from rfm.value.predict import ValueSettings
from rfm.workspace.movement import movement, segment_merits
from rfm.workspace.store import RunInfo, Workspace

if TYPE_CHECKING:
    from rfm.segment_run import SegmentRun


@dataclass(frozen=True, eq=False)
class Published:
    """A run as published: its record, the run before it of the same name (``None`` for the first), and the customers
    stored (the labelled list, the values when given, and the movement columns)."""

    info: RunInfo
    previous: RunInfo | None
    customers: pd.DataFrame


def publish_run(
    workspace: Workspace,
    name: str,
    run: SegmentRun,
    *,
    published_by: str,
    source_digest: str,
    values: pd.DataFrame | None = None,
    value_settings: ValueSettings | None = None,
) -> Published:
    """Publish ``run`` under ``name``: compare it with the newest run of that name, then store it as a new run.

    Parameters
    ----------
    workspace : Workspace
    name : str
        The run's name (e.g. "Monthly UK"): a name is a series of runs, each compared with the one before.
    run : SegmentRun
        A fitted or scored run (:func:`rfm.segment_run.segment_run`, :func:`~rfm.segment_run.score_run`).
    published_by : str
        Who publishes (shown to the marketer who downloads its audiences).
    source_digest : str
        The file's digest (SHA-256 of its bytes), so that two runs of the same file can be told apart from two files.
    values : DataFrame, optional
        Predicted value and churn per customer (:func:`rfm.value.predict.customer_value`), stored with the labels.
    value_settings : ValueSettings, optional
        The settings ``values`` were predicted with (horizon, discount, margin), recorded with the run so that its
        predicted CLV is described as it was made; the defaults when ``None``.

    Raises
    ------
    RFMInputError
        When the workspace refuses the run (nothing of it is stored then).
    """
    labelled = with_values(run.labelled, values)
    previous = workspace.latest(name)
    model_json = run.bundle.to_json()
    moved = movement(
        labelled,
        None if previous is None else workspace.customers(previous.run_id),
        run.analysis.report.analysis_date,
        merits=segment_merits(model_json),
        previous_merits=None if previous is None else segment_merits(previous.model_json),
        seen_before=() if previous is None else workspace.seen_customers(name, except_run_id=previous.run_id),
    )
    customers = labelled.join(moved)
    info = workspace.publish(
        name, customers, published_by=published_by, source_file=run.analysis.read_info.file_name,
        source_digest=source_digest, rows_read=run.analysis.report.rows_read,
        revenue=float(labelled[schema.MONETARY].sum()), settings=run_settings(run, None if values is None else value_settings or ValueSettings()),
        ledger=run.analysis.report.ledger_frame().to_dict("records"), model_json=model_json,
    )
    return Published(info, previous, customers)


def run_settings(run: SegmentRun, value_settings: ValueSettings | None = None) -> dict[str, Any]:
    """What the run was made with, in words and numbers: the model, k, the analysis date, and how its values were
    predicted (``values``, when it has them: the settings' fields and ``described``, the same in words)."""
    settings: dict[str, Any] = {
        "model": run.bundle.describe(),
        "k": run.k,
        "algorithm": run.bundle.algorithm,
        "analysis_date": run.analysis.report.analysis_date.isoformat(),
        "fitted": run.clusters is not None,
    }
    if value_settings is not None:
        settings["values"] = {**asdict(value_settings), "described": value_settings.describe()}
    return settings
