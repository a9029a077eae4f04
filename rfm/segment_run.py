"""A whole segmentation run, and the files it writes: shared by ``python -m rfm segment/score`` and the app.

:func:`segment_run` takes an analysed file through scores, the k-sweep and the clusters to a saved model and
the labelled customer list; :func:`score_run` labels a new file with a saved model and checks the file lies
within what the model saw (:func:`rfm.bundle.drift.check_fit`). :func:`write_run` writes
what a marketer and an analyst take away: ``customers.csv``, ``segments/<name>.csv``, ``segments.xlsx``,
``model.json``, ``report.html``, ``kpis.csv`` and ``summary.json``.
"""

from __future__ import annotations

import datetime as dt
import json
import math
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

from rfm.bundle.build import build_bundle
from rfm.bundle.drift import FitCheck, check_fit
from rfm.bundle.model import ModelBundle
from rfm.cleaning.analyse import Analysis
from rfm.outputs.lists import labelled_customers, segment_sizes, with_values
from rfm.schema import SEGMENT_NAME

if TYPE_CHECKING:  # heavy to import (scikit-learn), and only types here
    from rfm.cleaning.ledger import CleaningSettings
    from rfm.clustering.fit import ClusterResult, ClusterSettings
    from rfm.clustering.sweep import SweepResult
    from rfm.scoring.classic import Segmentation, SegmentSettings
    from rfm.trends.kpis import SegmentKPIs


@dataclass(frozen=True, eq=False)
class SegmentRun:
    """Everything one run produced. ``sweep`` and ``clusters`` are ``None`` for a run scored by a saved model;
    ``fit_check`` (how the file compares with the customers the model was fitted on) is ``None`` for a fit."""

    analysis: Analysis
    segmentation: Segmentation | None  # None when scored by a model
    sweep: SweepResult | None
    clusters: ClusterResult | None
    bundle: ModelBundle
    labelled: pd.DataFrame  # rfm.outputs.lists.labelled_customers
    fit_check: FitCheck | None = None

    @property
    def k(self) -> int:
        return self.bundle.k

    @property
    def silhouette(self) -> float | None:
        """The sweep's silhouette at the fitted k (None when not swept or undefined)."""
        if self.sweep is None or self.k not in self.sweep.ks:
            return None
        value = float(self.sweep.silhouette[self.sweep.ks.index(self.k)])
        return value if math.isfinite(value) else None

    @property
    def warnings(self) -> tuple[str, ...]:
        """What the user should know about this run: the scores', the sweep's and the fit's warnings, or how the file
        compares with the customers of the model that scored it."""
        parts = (self.segmentation, self.sweep, self.clusters, self.fit_check)
        return tuple(warning for part in parts if part is not None for warning in part.warnings)

    @property
    def notes(self) -> tuple[str, ...]:
        """How the run was made, where it matters (a density fit on a sample, a model saved before the fit check)."""
        clusters = () if self.clusters is None else self.clusters.notes
        checked = () if self.fit_check is None else self.fit_check.notes
        return (*clusters, *checked)

    @property
    def profiles(self) -> pd.DataFrame | None:
        if self.clusters is None:
            return None
        return self.clusters.profiles_with_actions()


def segment_run(
    analysis: Analysis,
    segment_settings: SegmentSettings | None = None,
    cluster_settings: ClusterSettings | None = None,
    k: int | None = None,
    algorithm: str = "kmeans",
    renames: tuple[tuple[int, str, str], ...] = (),
    *,
    cleaning: CleaningSettings | None = None,
    profit_margin: float = 0.10,
    sweep: SweepResult | None = None,
    segmentation: Segmentation | None = None,
    clusters: ClusterResult | None = None,
) -> SegmentRun:
    """Score, segment, sweep k, cluster and capture the model for an analysed file.

    Parameters
    ----------
    analysis : Analysis
    segment_settings : rfm.scoring.classic.SegmentSettings, optional
    cluster_settings : rfm.clustering.fit.ClusterSettings, optional
    k : int, optional
        Number of clusters; ``None`` takes the sweep's recommended k (2 when it recommends none). The sweep measures
        the predictive separation of each k when the analysis kept its orders.
    algorithm, renames : as for :func:`rfm.clustering.fit.fit_clusters`.
    cleaning, profit_margin : saved in the model, for files scored with it later.
    sweep, segmentation, clusters : results already computed (the app passes its cached ones).
    """
    from rfm.clustering.fit import ClusterSettings, fit_clusters, run_sweep
    from rfm.scoring.classic import SegmentSettings, segment_customers

    segment_settings = segment_settings or SegmentSettings()
    cluster_settings = cluster_settings or ClusterSettings()
    if k is not None and k > cluster_settings.k_max:  # the sweep covers the fitted k, so that its figures show
        cluster_settings = replace(cluster_settings, k_max=min(k, 15))
    if k is not None and k < cluster_settings.k_min:
        cluster_settings = replace(cluster_settings, k_min=max(k, 2))
    segmentation = segmentation or segment_customers(analysis.customers, segment_settings)
    if sweep is None:
        from rfm.backtest.separation import sweep_with_separation

        sweep = sweep_with_separation(
            run_sweep(segmentation.customers, cluster_settings), analysis.orders, analysis.report.analysis_date,
            cluster_settings, segment_settings,
        )
    chosen = k if k is not None else (sweep.recommended_k or 2)
    clusters = clusters or fit_clusters(segmentation.customers, cluster_settings, chosen, algorithm, renames)
    bundle = build_bundle(
        segmentation,
        clusters,
        cluster_settings,
        source_file=analysis.read_info.file_name,
        analysis_date=analysis.report.analysis_date,
        cleaning=cleaning,
        profit_margin=profit_margin,
    )
    labelled = labelled_customers(
        segmentation.customers, clusters.customers, analysis.customer_country, segmentation.info, analysis.customer_contacts
    )
    return SegmentRun(analysis, segmentation, sweep, clusters, bundle, labelled)


def score_run(bundle: ModelBundle, analysis: Analysis) -> SegmentRun:
    """Label an analysed (new) file's customers with a saved model: same cut points, rules, fences, clusters.

    The run's ``fit_check`` warns when the file lies outside what the model saw (:func:`rfm.bundle.drift.check_fit`).
    """
    scored = bundle.score(analysis.customers)
    labelled = labelled_customers(scored, scored, analysis.customer_country, bundle.segment_info, analysis.customer_contacts)
    return SegmentRun(analysis, None, None, None, bundle, labelled, check_fit(bundle, analysis.customers))


def segment_kpis(run: SegmentRun, period: tuple[dt.date, dt.date] | None = None, by: str = SEGMENT_NAME) -> SegmentKPIs | None:
    """Campaign KPIs of the run's segments (:func:`rfm.trends.kpis.campaign_kpis`) as a :class:`rfm.trends.kpis.SegmentKPIs`.

    ``period`` (first date, second date) is what retention is measured over; default the end of the previous
    quarter to the analysis date. ``None`` when the analysis kept no orders (``analyse(with_orders=False)``) or
    they are all on one day (no period to measure retention over).
    """
    from rfm.outputs.lists import segment_sizes
    from rfm.trends.kpis import SegmentKPIs, campaign_kpis
    from rfm.trends.timeline import default_dates, has_period

    analysis = run.analysis
    if analysis.orders is None or not has_period(analysis.orders, analysis.report.analysis_date):
        return None
    from_date, to_date = period or default_dates(analysis.orders, analysis.report.analysis_date)
    order = list(segment_sizes(run.labelled, by)["name"])
    table = campaign_kpis(analysis.customers, run.labelled[by], analysis.orders, from_date, to_date, order)
    return SegmentKPIs(table, from_date, to_date)


def summary(run: SegmentRun, inspect: dict) -> dict:
    """``summary.json``: the inspect summary plus ``k``, ``silhouette``, the sweep's ``recommended_k`` and
    ``k_reason`` (for a fit), one entry per segment (``name``, ``customers``, ``share``, ``revenue``) and, for a file
    scored with a saved model, ``fit_check`` (:meth:`rfm.bundle.drift.FitCheck.as_json`)."""
    sizes = segment_sizes(run.labelled, SEGMENT_NAME)
    fit_check = {} if run.fit_check is None else {"fit_check": run.fit_check.as_json()}
    swept = {} if run.sweep is None else {"recommended_k": run.sweep.recommended_k, "k_reason": run.sweep.reason}
    total = max(len(run.labelled), 1)
    return {
        **inspect,
        "k": run.k,
        "silhouette": None if run.silhouette is None else round(run.silhouette, 4),
        **swept,
        "model": run.bundle.describe(),
        "segments": [
            {"name": str(row.name), "customers": int(row.customers), "share": round(int(row.customers) / total, 4),
             "revenue": round(float(row.revenue), 2)}
            for row in sizes.itertuples(index=False)
        ],
        **fit_check,
    }


def values_or_warn(analysis: Analysis, warn: Callable[[str], None]) -> pd.DataFrame | None:
    """Predicted value per customer (:mod:`rfm.value.predict`, default settings), or ``None`` with ``warn`` told why."""
    from rfm.errors import RFMInputError
    from rfm.value.predict import ValueSettings, customer_value, fit_value

    if analysis.orders is None:
        return None
    try:
        model = fit_value(analysis.orders, analysis.report.analysis_date)
    except RFMInputError as error:
        warn(f"no predicted value columns: {error}")
        return None
    for text in model.warnings:
        warn(text)
    return customer_value(model, ValueSettings())


def write_run(
    run: SegmentRun, out_dir: str | Path, inspect: dict, *, with_model: bool = True, warn: Callable[[str], None] = print
) -> list[Path]:
    """Write the run's files into ``out_dir`` (created if needed); returns the paths written.

    A file that cannot be written for this data (``segments.xlsx`` when a segment is longer than an
    Excel sheet) is left out, ``warn`` is told why, and ``summary.json`` lists it under ``not_written``.
    """
    from rfm.outputs.files import csv_bytes, segment_files, table_csv_bytes, too_long_for_a_sheet, workbook_bytes
    from rfm.outputs.report import html_report

    out = Path(out_dir)
    (out / "segments").mkdir(parents=True, exist_ok=True)
    day = run.analysis.report.analysis_date
    kpis = segment_kpis(run)
    labelled = with_values(run.labelled, values_or_warn(run.analysis, warn))
    files: dict[str, bytes] = {"customers.csv": csv_bytes(labelled)}
    if kpis is not None:
        files["kpis.csv"] = table_csv_bytes(kpis.table.round(6))
    for name, data in segment_files(labelled, SEGMENT_NAME, analysis_date=day).items():
        files[f"segments/{name}"] = data
    not_written = {}
    problem = too_long_for_a_sheet(labelled, SEGMENT_NAME)
    if problem:
        not_written["segments.xlsx"] = f"{problem} Every customer is in customers.csv and segments/."
        warn(f"segments.xlsx not written: {not_written['segments.xlsx']}")
    else:
        files["segments.xlsx"] = workbook_bytes(
            labelled, SEGMENT_NAME, analysis_date=day, profiles=run.profiles, ledger=run.analysis.report.ledger_frame(),
            kpis=kpis,
        )
    if with_model:
        files["model.json"] = run.bundle.to_json().encode("utf-8")
    if run.segmentation is not None:
        files["report.html"] = html_report(run.analysis, run.segmentation, run.sweep, run.clusters, run.labelled, kpis=kpis).encode("utf-8")
    files["summary.json"] = json.dumps({**summary(run, inspect), "not_written": not_written}, indent=2, ensure_ascii=False).encode("utf-8")
    written = []
    for name, data in files.items():
        path = out / name
        path.write_bytes(data)
        written.append(path)
    return written
