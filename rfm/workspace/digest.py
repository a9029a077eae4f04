"""The digest of a published run for marketing: what the run holds, how its segments grew or shrank, who moved where,
and who is newly at risk, compared with the previous run of the same name.

In: a run's record (:class:`rfm.workspace.store.RunInfo`) and its customers as published (indexed by customer id, with
``segment_name``, ``monetary``, ``lifecycle_stage`` and the movement columns of :mod:`rfm.workspace.movement`), and
the same for the previous run of that name (``None`` for the first). Out: a :class:`Digest`, given as a
JSON-serialisable dict (:meth:`Digest.to_dict`) or as Markdown a marketer can read (:meth:`Digest.to_markdown`), every
figure defined in words beside it.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass
from typing import Any

import pandas as pd

from rfm import schema
from rfm.workspace.movement import DIRECTION_LABELS, DOWN, UP, movement_counts, newly_at_risk
from rfm.workspace.store import RunInfo, Workspace
from rfm.workspace.tables import DIRECTION, PREVIOUS_SEGMENT

#: How many flows and newly-at-risk customers a digest lists.
TOP_FLOWS = 10
TOP_AT_RISK = 20


@dataclass(frozen=True)
class RunFacts:
    """One run in a digest: who published what, when, from which file, for which analysis date; its customers and
    its revenue to date (the sum of its customers' ``monetary``)."""

    run_id: str
    name: str
    published_at: dt.datetime  # UTC
    published_by: str
    source_file: str
    analysis_date: dt.date | None
    customers: int
    revenue: float
    value_terms: str | None = None  # how its predicted values were made, in words, when the run records it

    @classmethod
    def of(cls, info: RunInfo, customers: pd.DataFrame) -> RunFacts:
        """The facts of ``info``, its customers and revenue counted from ``customers`` (as the digest's tables are)."""
        return cls(
            run_id=info.run_id, name=info.name, published_at=info.published_at.astimezone(dt.UTC),
            published_by=info.published_by, source_file=info.source_file,
            analysis_date=info.analysis_date,
            customers=len(customers), revenue=_money_sum(customers[schema.MONETARY]),
            value_terms=(info.settings.get("values") or {}).get("described"),
        )


@dataclass(frozen=True)
class SegmentSize:
    """A segment's customers in this run and in the previous one (``None`` for the first run of a name)."""

    segment: str
    customers: int
    previous_customers: int | None

    @property
    def change(self) -> int | None:
        """Customers now minus customers before (``None`` without a previous run)."""
        return None if self.previous_customers is None else self.customers - self.previous_customers


@dataclass(frozen=True)
class Flow:
    """Customers who moved from one segment (in the previous run) to another (in this run), and their revenue to
    date as of this run (the sum of their ``monetary``)."""

    from_segment: str
    to_segment: str
    direction: str  # "up" or "down"
    customers: int
    revenue: float


@dataclass(frozen=True)
class AtRiskCustomer:
    """One newly-at-risk customer, for a marketer to act on."""

    customer_id: str
    segment: str
    previous_segment: str | None
    monetary: float
    predicted_clv: float | None
    email: str | None


@dataclass(frozen=True)
class AtRisk:
    """The customers newly at risk (:func:`rfm.workspace.movement.newly_at_risk`): how many, their revenue to date,
    their predicted CLV (``None`` when the run has none), how many of them have no prediction, and the top of them
    by ``monetary``."""

    customers: int
    revenue: float
    predicted_clv: float | None
    without_prediction: int
    top: tuple[AtRiskCustomer, ...]


@dataclass(frozen=True)
class Digest:
    """A run compared with the previous run of its name (``previous`` is ``None`` for the first run).

    ``segments`` is ordered by current size (segments that vanished last, with 0 customers now); ``movement`` gives
    customers per direction (up, same, down, new, returned); ``flows`` the largest moves up or down.
    """

    run: RunFacts
    previous: RunFacts | None
    segments: tuple[SegmentSize, ...]
    movement: tuple[tuple[str, int], ...]
    flows: tuple[Flow, ...]
    at_risk: AtRisk

    def to_dict(self) -> dict[str, Any]:
        """The digest as plain JSON types: dates and times as ISO strings, amounts rounded to cents."""
        return {
            "run": _facts_dict(self.run),
            "previous": None if self.previous is None else _facts_dict(self.previous),
            "segments": [
                {"segment": s.segment, "customers": s.customers, "previous_customers": s.previous_customers, "change": s.change}
                for s in self.segments
            ],
            "movement": dict(self.movement),
            "flows": [
                {"from": f.from_segment, "to": f.to_segment, "direction": f.direction, "customers": f.customers,
                 "revenue": round(f.revenue, 2)}
                for f in self.flows
            ],
            "newly_at_risk": {
                "customers": self.at_risk.customers,
                "revenue": round(self.at_risk.revenue, 2),
                "predicted_clv": None if self.at_risk.predicted_clv is None else round(self.at_risk.predicted_clv, 2),
                "without_prediction": self.at_risk.without_prediction,
                "top": [
                    {"customer_id": c.customer_id, "segment": c.segment, "previous_segment": c.previous_segment,
                     "monetary": round(c.monetary, 2),
                     "predicted_clv": None if c.predicted_clv is None else round(c.predicted_clv, 2), "email": c.email}
                    for c in self.at_risk.top
                ],
            },
        }

    def to_markdown(self) -> str:
        """The digest as Markdown for a marketer: headings, small tables, every figure defined in words."""
        parts = [_run_section(self.run, self.previous), _segments_section(self.segments, self.previous)]
        parts.append(_movement_section(self.movement, self.flows, self.previous))
        parts.append(_at_risk_section(self.at_risk, self.previous, self.run.value_terms))
        return "\n\n".join(parts).rstrip() + "\n"


def run_digest(
    current: RunInfo,
    customers: pd.DataFrame,
    previous: RunInfo | None = None,
    previous_customers: pd.DataFrame | None = None,
    *,
    top_flows: int = TOP_FLOWS,
    top_at_risk: int = TOP_AT_RISK,
) -> Digest:
    """The digest of ``current`` compared with ``previous``, the run of the same name it was published after.

    Parameters
    ----------
    current : RunInfo
        The run to describe.
    customers : DataFrame
        Its customers as published, indexed by customer id: ``segment_name``, ``monetary``, ``direction`` (the
        movement columns), and when present ``lifecycle_stage``, ``predicted_clv``, ``email``.
    previous : RunInfo, optional
        The previous run of the name (the one ``current``'s movement was computed against); ``None`` for the first.
    previous_customers : DataFrame, optional
        Its customers as published (needed when ``previous`` is given).
    top_flows, top_at_risk : int
        How many flows and newly-at-risk customers to list.

    Returns
    -------
    Digest

    Examples
    --------
    >>> with Workspace.open(path) as workspace:  # doctest: +SKIP
    ...     print(published_digest(workspace, published).to_markdown())
    """
    if previous is not None and previous_customers is None:
        raise ValueError(f"previous={previous.run_id!r} is given without its customers (previous_customers=None)")
    before = previous_customers if previous is not None else None
    return Digest(
        run=RunFacts.of(current, customers),
        previous=None if previous is None or before is None else RunFacts.of(previous, before),
        segments=segment_sizes(customers, before),
        movement=tuple((direction, int(count)) for direction, count in movement_counts(customers).items()),
        flows=largest_flows(customers, top_flows),
        at_risk=at_risk_summary(customers, before, top_at_risk),
    )


def published_digest(workspace: Workspace, run_id: str, previous_run_id: str | None) -> Digest:
    """The digest of a stored run against a stored previous run (``None`` for the first), both read back from the
    workspace, so that every figure is counted from what the workspace holds."""
    previous = None if previous_run_id is None else workspace.run(previous_run_id)
    return run_digest(
        workspace.run(run_id), workspace.customers(run_id), previous,
        None if previous_run_id is None else workspace.customers(previous_run_id),
    )


def segment_sizes(customers: pd.DataFrame, previous_customers: pd.DataFrame | None) -> tuple[SegmentSize, ...]:
    """Customers per ``segment_name`` now and before, the largest now first (then the largest before, then by name);
    a segment of the previous run only is listed with 0 now."""
    now = customers[schema.SEGMENT_NAME].astype(str).value_counts()
    if previous_customers is None:
        ordered = sorted(now.items(), key=lambda item: (-item[1], item[0]))
        return tuple(SegmentSize(str(name), int(count), None) for name, count in ordered)
    before = previous_customers[schema.SEGMENT_NAME].astype(str).value_counts()
    names = set(now.index) | set(before.index)
    sizes = [SegmentSize(str(name), int(now.get(name, 0)), int(before.get(name, 0))) for name in names]
    return tuple(sorted(sizes, key=lambda s: (-s.customers, -(s.previous_customers or 0), s.segment)))


def largest_flows(customers: pd.DataFrame, top: int = TOP_FLOWS) -> tuple[Flow, ...]:
    """The ``top`` moves up or down (previous segment → segment now) with the most customers (then the most revenue),
    with their revenue to date as of this run."""
    moved = customers[customers[DIRECTION].isin([UP, DOWN])]
    if moved.empty:
        return ()
    groups = (
        moved.assign(_from=moved[PREVIOUS_SEGMENT].astype(str), _to=moved[schema.SEGMENT_NAME].astype(str))
        .groupby(["_from", "_to", DIRECTION], observed=True)[schema.MONETARY]
        .agg(["size", "sum"])
        .reset_index()
    )
    groups = groups.sort_values(["size", "sum", "_from", "_to"], ascending=[False, False, True, True]).head(top)
    return tuple(
        Flow(str(row["_from"]), str(row["_to"]), str(row[DIRECTION]), int(row["size"]), float(row["sum"]))
        for _, row in groups.iterrows()
    )


def at_risk_summary(customers: pd.DataFrame, previous_customers: pd.DataFrame | None, top: int = TOP_AT_RISK) -> AtRisk:
    """The customers :func:`~rfm.workspace.movement.newly_at_risk` marks: count, revenue to date, predicted CLV, and
    the ``top`` of them by ``monetary`` (then by customer id)."""
    flagged = customers[newly_at_risk(customers, previous_customers).to_numpy()]
    has_clv = schema.PREDICTED_CLV in customers.columns and customers[schema.PREDICTED_CLV].notna().any()
    clv = flagged[schema.PREDICTED_CLV].astype("float64") if has_clv else None
    ordered = flagged.assign(_id=flagged.index.astype(str)).sort_values([schema.MONETARY, "_id"], ascending=[False, True]).head(top)
    before = (
        previous_customers[schema.SEGMENT_NAME].reindex(ordered.index.astype(str))
        if previous_customers is not None else pd.Series(None, index=ordered.index, dtype=object)
    )
    listed = tuple(
        AtRiskCustomer(
            customer_id=str(customer_id),
            segment=str(row[schema.SEGMENT_NAME]),
            previous_segment=_text(before.iloc[position]),
            monetary=float(row[schema.MONETARY]),
            predicted_clv=_number(row[schema.PREDICTED_CLV]) if has_clv else None,
            email=_text(row[schema.EMAIL]) if schema.EMAIL in ordered.columns else None,
        )
        for position, (customer_id, row) in enumerate(ordered.iterrows())
    )
    return AtRisk(
        customers=len(flagged),
        revenue=_money_sum(flagged[schema.MONETARY]),
        predicted_clv=None if clv is None else _money_sum(clv),
        without_prediction=0 if clv is None else int(clv.isna().sum()),
        top=listed,
    )


# --- Markdown -------------------------------------------------------------------------------------------------------


def _run_section(run: RunFacts, previous: RunFacts | None) -> str:
    lines = [
        f"# Run digest: {_escape(run.name)}",
        "",
        f"Published {run.published_at:%Y-%m-%d %H:%M} UTC by {_escape(run.published_by)} from `{run.source_file}`, "
        f"run `{run.run_id}`.",
        "",
    ]
    if previous is None:
        lines += [
            "**First run of this name**: there is no earlier run to compare with, so every customer counts as new, "
            "no segment has a size before, and no one can be newly at risk.",
            "",
            "| | This run |",
            "|---|---:|",
            f"| Analysis date | {_date(run.analysis_date)} |",
            f"| Customers | {run.customers:,} |",
            f"| Revenue to date | {_money(run.revenue)} |",
        ]
    else:
        lines += [
            f"Compared with the previous run of this name, published {previous.published_at:%Y-%m-%d %H:%M} UTC by "
            f"{_escape(previous.published_by)} from `{previous.source_file}`.",
            "",
            "| | This run | Previous run | Change |",
            "|---|---:|---:|---:|",
            f"| Analysis date | {_date(run.analysis_date)} | {_date(previous.analysis_date)} | |",
            f"| Customers | {run.customers:,} | {previous.customers:,} | {run.customers - previous.customers:+,} |",
            f"| Revenue to date | {_money(run.revenue)} | {_money(previous.revenue)} | {_money(run.revenue - previous.revenue, sign=True)} |",
        ]
    lines += [
        "",
        "*What these numbers mean.* **Analysis date**: the day recency is measured from (the latest purchase in the "
        "file unless set). **Customers**: the customers in the run, one per customer id, after the cleaning rules. "
        "**Revenue to date**: the sum of every customer's *monetary* value, what they spent in the run's cleaned "
        "purchases up to its analysis date (amounts in the file's currency). Two runs may cover different periods of "
        "purchases, so a change in revenue to date is not the sales made between them.",
    ]
    return "\n".join(lines)


def _segments_section(segments: tuple[SegmentSize, ...], previous: RunFacts | None) -> str:
    lines = ["## Segments", ""]
    if previous is None:
        lines += ["| Segment | Customers |", "|---|---:|"]
        lines += [f"| {_escape(s.segment)} | {s.customers:,} |" for s in segments]
        meaning = "**Customers**: the customers the run puts in each segment."
    else:
        lines += ["| Segment | Customers now | Customers before | Change |", "|---|---:|---:|---:|"]
        lines += [
            f"| {_escape(s.segment)} | {s.customers:,} | {s.previous_customers or 0:,} | {s.change or 0:+,} |"
            for s in segments
        ]
        meaning = (
            "**Customers now / before**: the customers in each segment in this run and in the previous run; "
            "**Change**: now minus before, customers who joined or left the segment for any reason (moved, new, "
            "returned, or not in this run any more). A segment with 0 now is one the previous run had and this one "
            "has not."
        )
    lines += ["", f"*What these numbers mean.* Largest segment first. {meaning}"]
    return "\n".join(lines)


def _movement_section(movement: tuple[tuple[str, int], ...], flows: tuple[Flow, ...], previous: RunFacts | None) -> str:
    lines = ["## Who moved", "", "| | Customers |", "|---|---:|"]
    lines += [f"| {DIRECTION_LABELS[direction]} | {count:,} |" for direction, count in movement]
    lines += [
        "",
        "*What these numbers mean.* Each customer of this run counts once. **Moved up / down**: in the previous run "
        "too, now in a better / worse segment (segments are ranked by recency, frequency and spend; where a segment "
        "has no rank, by the change in the customer's own R + F + M scores). **Same segment**: in the same segment as "
        "in the previous run. **New**: in no earlier run of this name. **Returned**: not in the previous run, but in "
        "an earlier one. Customers of the previous run who are not in this one are not counted here.",
        "",
        "### Largest flows",
        "",
    ]
    if not flows:
        lines.append("No customer moved up or down." if previous is not None else "None: this is the first run of this name.")
        return "\n".join(lines)
    lines += ["| From (previous run) | To (this run) | Direction | Customers | Revenue to date |", "|---|---|---|---:|---:|"]
    lines += [
        f"| {_escape(f.from_segment)} | {_escape(f.to_segment)} | {f.direction} | {f.customers:,} | {_money(f.revenue)} |"
        for f in flows
    ]
    lines += [
        "",
        f"*What these numbers mean.* The moves up or down with the most customers (at most {TOP_FLOWS}), from the "
        "segment a customer had in the previous run to the one they have now. **Revenue to date**: the sum of those "
        "customers' monetary value in this run (what they spent up to this run's analysis date).",
    ]
    return "\n".join(lines)


def _at_risk_section(risk: AtRisk, previous: RunFacts | None, value_terms: str | None = None) -> str:
    lines = ["## Newly at risk", ""]
    if previous is None:
        lines.append("None can be: this is the first run of this name.")
        return "\n".join(lines)
    lines += ["| | |", "|---|---:|", f"| Customers newly at risk | {risk.customers:,} |", f"| Their revenue to date | {_money(risk.revenue)} |"]
    if risk.predicted_clv is not None:
        lines.append(f"| Their predicted CLV (the revenue at stake) | {_money(risk.predicted_clv)} |")
    clv_words = (
        " **Predicted CLV**: the sum of what the value model predicts each of them will bring from the analysis date on "
        + (f"({value_terms}, as this run recorded)" if value_terms else "(this run does not record its horizon and discount)")
        + ": what is at stake if they lapse."
        + (f" {risk.without_prediction:,} of them have no prediction and add nothing to it." if risk.without_prediction else "")
        if risk.predicted_clv is not None else " The run has no predicted CLV, so no revenue at stake is given."
    )
    lines += [
        "",
        "*What these numbers mean.* **Newly at risk**: customers whose lifecycle stage is *At risk* in this run and was "
        "*Active* or *New* in the previous run. This is the lifecycle stage, judged from recency and frequency against the store's "
        "order rhythm, not a segment that may bear a similar name. *At risk* is a repeat customer (two orders or more) whose last order is "
        "older than the *Active* window (set from the store's usual gap between orders) but not old enough to be "
        "*Lapsed*. **Revenue to date**: the sum of their monetary value in this run (what they have spent, up "
        "to the analysis date)." + clv_words,
    ]
    if risk.top:
        has_clv = risk.predicted_clv is not None
        has_email = any(c.email is not None for c in risk.top)
        header = ["Customer", "Segment", "Previous segment", "Revenue to date"] + (["Predicted CLV"] if has_clv else []) + (["Email"] if has_email else [])
        align = ["---", "---", "---", "---:"] + (["---:"] if has_clv else []) + (["---"] if has_email else [])
        lines += ["", f"### The {len(risk.top):,} with the highest revenue to date", "", _row(header), _row(align)]
        for c in risk.top:
            cells = [_escape(c.customer_id), _escape(c.segment), _escape(c.previous_segment or "—"), _money(c.monetary)]
            if has_clv:
                cells.append("—" if c.predicted_clv is None else _money(c.predicted_clv))
            if has_email:
                cells.append(_escape(c.email or "—"))
            lines.append(_row(cells))
    return "\n".join(lines)


# --- small helpers --------------------------------------------------------------------------------------------------


def _facts_dict(facts: RunFacts) -> dict[str, Any]:
    return {
        "run_id": facts.run_id, "name": facts.name, "published_at": facts.published_at.isoformat(),
        "published_by": facts.published_by, "source_file": facts.source_file,
        "analysis_date": None if facts.analysis_date is None else facts.analysis_date.isoformat(),
        "customers": facts.customers, "revenue": round(facts.revenue, 2), "value_terms": facts.value_terms,
    }


def _money_sum(values: pd.Series) -> float:
    return float(values.astype("float64").sum(skipna=True))


def _money(amount: float, sign: bool = False) -> str:
    return f"{amount:+,.2f}" if sign else f"{amount:,.2f}"


def _date(day: dt.date | None) -> str:
    return "unknown" if day is None else day.isoformat()


def _number(value: object) -> float | None:
    number = float(value) if value is not None and not pd.isna(value) else math.nan  # type: ignore[arg-type]
    return None if math.isnan(number) else number


def _text(value: object) -> str | None:
    return None if value is None or pd.isna(value) else str(value)


def _escape(text: str) -> str:
    """Text safe in a Markdown table cell: pipes escaped, line breaks flattened."""
    return str(text).replace("\\", "\\\\").replace("|", "\\|").replace("\r", " ").replace("\n", " ")


def _row(cells: list[str]) -> str:
    return "| " + " | ".join(cells) + " |"
