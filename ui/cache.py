"""Cached calls into ``rfm``: each keyed on the file's digest and the settings (never on a large frame), with the
current session's ``current_*`` accessors that show a bad-input message and stop the page."""

from __future__ import annotations

import functools
import hashlib
from dataclasses import dataclass, replace

import streamlit as st

from rfm.errors import RFMInputError
from rfm.scoring.classic import SegmentSettings
from ui import state
from ui.errors import guarded
from ui.preload import ahead, preload_engine, when_quiet
from ui.state import (
    CLUSTER_PICK,
    CLUSTERING,
    PERIOD,
    PREPARED,
    PUBLISHED,
    Choices,
    Dataset,
    current_choices,
    current_cluster_settings,
    current_dataset,
    current_renames,
    current_segment_settings,
    current_value_settings,
    saved_model,
)

#: After reading a file of this many rows, the freed memory is handed back to the system (see
#: :func:`ui.state.release_freed_memory`).
TRIM_AFTER_ROWS = 100_000


@dataclass(frozen=True)
class _Refusal:
    """What a cached computation raised: the data cannot give this result (a model that does not converge, too few
    customers)."""

    error: RFMInputError


def cached_outcome(max_entries: int):
    """``st.cache_data`` that also keeps a refusal (:class:`RFMInputError`) and raises it again on the next call.

    ``st.cache_data`` keeps only what a function returns, so a computation the data refuses ran again on every rerun
    of every page that asks for it: on the 1M-row benchmark workbook, whose customers the purchase models cannot be
    fitted to, 0.2 s more of each run of the Trends, Value, Export and What-if pages (each slider move included).
    The same inputs give the same refusal, so it is kept like a result; other exceptions are not kept.
    """

    def decorate(function):
        @st.cache_data(show_spinner=False, max_entries=max_entries)
        @functools.wraps(function)
        def outcome(*args, **kwargs):
            try:
                return function(*args, **kwargs)
            except RFMInputError as error:
                return _Refusal(error)

        @functools.wraps(function)
        def call(*args, **kwargs):
            result = outcome(*args, **kwargs)
            if isinstance(result, _Refusal):
                raise result.error
            return result

        return call

    return decorate


def _read(digest: str, name: str, sheets: tuple[str, ...], _data: bytes):
    """A workbook read into memory, or a CSV/Parquet file scanned by DuckDB (only a sample in memory).

    Read once per session and file and held by reference (:data:`ui.state.RAW`): the cached results built from it
    (analysis, mapping, countries) are shared by every session, the rows themselves are not copied. Nothing
    changes a table once read.
    """
    from rfm.reading.scan import open_transactions

    if ahead():  # the session's rows are its own: no file is read ahead of its user (ui.preload.when_quiet)
        raise LookupError(f"{name} is not read ahead of the user")
    key = (digest, sheets)
    held = st.session_state.get(state.RAW)
    if held is not None and held[0] == key:
        return held[1]
    st.session_state.pop(state.RAW, None)  # the previous file's rows go before the next file is read
    preload_engine()  # cleaning needs it next
    try:
        raw = open_transactions(_data, name, sheets=sheets or None, max_bytes=state.upload_limit_mb() * 1024**2)
    except BaseException:  # not read: the memory promised to it is free again (read, it is freed once cleaned)
        state.reading_done()
        raise
    st.session_state[state.RAW] = (key, raw)
    return raw


@st.cache_data(show_spinner=False, max_entries=4)
def _sheet_names(digest: str, name: str, _data: bytes) -> list[str]:
    from rfm.reading.files import list_sheets

    return list_sheets(_data, name)


@st.cache_data(show_spinner=False, max_entries=16)
def _analyse(digest: str, name: str, choices: Choices, _data: bytes):
    from rfm.cleaning.analyse import analyse

    raw = _read(digest, name, choices.sheets, _data)
    guess = _guess(digest, name, choices.sheets, _data)  # detected once per file, not again for each choice
    return analyse(raw, dict(choices.overrides), choices.settings, choices.profit_margin, guess=guess)


@st.cache_data(show_spinner=False, max_entries=8)
def _guess(digest: str, name: str, sheets: tuple[str, ...], _data: bytes):
    from rfm.reading.columns import detect_mapping

    return detect_mapping(_read(digest, name, sheets, _data).sample)


def mapping_guess(dataset: Dataset, choices: Choices):
    """The detected column mapping of the file (cached)."""
    if shipped := _shipped(dataset, choices):
        return shipped.guess
    return _guess(dataset.digest, dataset.name, choices.sheets, dataset.data)


@st.cache_data(show_spinner=False, max_entries=2)
def _demo_summary(digest: str):
    from rfm.cleaning.summary import read_summary, summary_path
    from rfm.demo import DEMO_PATH

    return read_summary(summary_path(DEMO_PATH), digest)


def _shipped(dataset: Dataset, choices: Choices):
    """What the Data page shows of the demo, from the summary written with it (:mod:`rfm.cleaning.summary`), while
    the session shows the demo as it comes (every sheet, the detected columns, the default cleaning); else ``None``.
    A new session opens from it without reading the workbook or starting the engine: the other pages read it."""
    if not dataset.is_demo or replace(choices, profit_margin=Choices().profit_margin) != Choices():  # the page shows no margin
        return None
    return _demo_summary(dataset.digest)


@st.cache_data(show_spinner=False, max_entries=8)
def _countries(digest: str, name: str, sheets: tuple[str, ...], overrides: tuple, _data: bytes) -> tuple[str, ...]:
    from rfm.cleaning.analyse import country_values, resolve_mapping

    raw = _read(digest, name, sheets, _data)
    return country_values(raw, resolve_mapping(raw, dict(overrides), _guess(digest, name, sheets, _data))[1])


def country_options(dataset: Dataset, choices: Choices) -> tuple[str, ...]:
    """Every country in the file, most rows first (for the country filter)."""
    if shipped := _shipped(dataset, choices):
        return shipped.countries
    return guarded(lambda: _countries(dataset.digest, dataset.name, choices.sheets, choices.overrides, dataset.data))


def sheet_names(dataset: Dataset) -> list[str]:
    if shipped := _shipped(dataset, Choices()):
        return list(shipped.sheets)
    return guarded(lambda: _sheet_names(dataset.digest, dataset.name, dataset.data))


@st.cache_data(show_spinner=False, max_entries=16)
def _reading(digest: str, name: str, sheets: tuple[str, ...], _data: bytes) -> tuple[str, str, int, tuple[str, ...]]:
    from rfm.reading.scan import how_held

    raw = _read(digest, name, sheets, _data)
    return raw.info.describe(), how_held(raw), raw.n_rows, tuple(raw.columns)


def reading_summary(dataset: Dataset, choices: Choices) -> tuple[str, str, int, tuple[str, ...]]:
    """How the file was read, in words; how it is held; its rows; its columns (cached, and small: the Data page, which
    only says how the file was read, does not take a copy of its rows from the cache on every run)."""
    if shipped := _shipped(dataset, choices):
        return shipped.described, shipped.held, shipped.rows, shipped.columns
    return _reading(dataset.digest, dataset.name, choices.sheets, dataset.data)


def analysis(dataset: Dataset, choices: Choices):
    """The :class:`rfm.cleaning.analyse.Analysis` for the session's file and choices (cached)."""
    return _analyse(dataset.digest, dataset.name, choices, dataset.data)


def current_analysis():
    """Analysis of the current dataset with the current choices; shows the error and stops on bad input. Reading and
    cleaning a file takes seconds (the first page after the demo's Data page reads it): a spinner says so, shown only
    when the call lasts over half a second, that is, when it was not cached."""
    dataset = current_dataset()
    with st.spinner(f"Reading and cleaning {dataset.name}…", show_time=True):
        return guarded(lambda: analysis(dataset, current_choices()))


def analysis_with_progress(dataset: Dataset, choices: Choices):
    """What the Data page shows of the file (its ``report`` and ``preview``): like :func:`analysis`, showing each
    long step in an ``st.status`` box with a progress bar; for the demo as it comes, its shipped summary."""
    import time

    if shipped := _shipped(dataset, choices):
        return shipped

    started = time.perf_counter()
    with st.status(f"Reading {dataset.name}…", expanded=False) as status:
        bar = st.progress(0, text="Reading the file")
        try:
            rows = reading_summary(dataset, choices)[2]
            bar.progress(50, text=f"Read {rows:,} rows; recognising columns, cleaning, computing RFM")
            result = analysis(dataset, choices)
        except RFMInputError:
            status.update(label=f"{dataset.name} could not be used", state="error")
            raise
        finally:
            state.reading_done()
        bar.progress(100, text="Done")
        if result.report.rows_read >= TRIM_AFTER_ROWS:
            state.release_freed_memory()
        status.update(
            label=f"{dataset.name}: {result.report.rows_read:,} rows read, {result.report.customers:,} customers "
            f"({time.perf_counter() - started:.1f} s)",
            state="complete",
        )
    return result


@cached_outcome(max_entries=16)
def _segment(digest: str, name: str, choices: Choices, settings: SegmentSettings, _data: bytes):
    from rfm.scoring.classic import segment_customers

    return segment_customers(_analyse(digest, name, choices, _data).customers, settings)


def current_segmentation():
    """Scores, segments and tiers of the current analysis (cached); stops the page on bad input."""
    dataset, choices = current_dataset(), current_choices()
    return guarded(lambda: _segment(dataset.digest, dataset.name, choices, current_segment_settings(), dataset.data))


def _sweep_settings(clustering):
    """The settings the k-sweep depends on: K-Means ignores the density methods' (smallest cluster, eps), so changing
    them must not sweep k again."""
    from rfm.clustering.fit import ClusterSettings

    defaults = ClusterSettings()
    return replace(clustering, min_cluster_share=defaults.min_cluster_share, eps=defaults.eps)


@cached_outcome(max_entries=16)
def _cached_sweep(digest: str, name: str, choices: Choices, segments: SegmentSettings, clustering, _data: bytes):
    from rfm.backtest.separation import sweep_with_separation
    from rfm.clustering.fit import run_sweep

    analysis = _analyse(digest, name, choices, _data)
    sweep = run_sweep(_segment(digest, name, choices, segments, _data).customers, clustering)
    return sweep_with_separation(sweep, analysis.orders, analysis.report.analysis_date, clustering, segments)


def _sweep(digest: str, name: str, choices: Choices, segments: SegmentSettings, clustering, _data: bytes):
    # The sweep reads only the features: the lifecycle thresholds (a stage column) must not sweep k again.
    return _cached_sweep(digest, name, choices, replace(segments, lifecycle=None), _sweep_settings(clustering), _data)


@cached_outcome(max_entries=32)
def _clusters(digest: str, name: str, choices: Choices, segments: SegmentSettings, clustering, k: int, algorithm: str, renames, _data: bytes):
    from rfm.clustering.fit import fit_clusters

    return fit_clusters(_segment(digest, name, choices, segments, _data).customers, clustering, k, algorithm, renames)


@cached_outcome(max_entries=64)
def _comparison(digest: str, name: str, choices: Choices, segments: SegmentSettings, clustering, k: int, algorithm: str, _data: bytes):
    """One algorithm's row of the comparison, scored on the very fit the Fit section shows (``_clusters``, cached):
    the table and the fit agree by construction, and choosing that algorithm afterwards costs nothing."""
    from rfm.clustering.fit import compare_clusters

    def fit(customers, settings, k, algorithm):
        return _clusters(digest, name, choices, segments, settings, k, algorithm, (), _data)

    customers = _segment(digest, name, choices, segments, _data).customers
    return compare_clusters(customers, clustering, k, (algorithm,), fit=fit)


def _cluster_key():
    dataset, choices = current_dataset(), current_choices()
    return dataset.digest, dataset.name, choices, current_segment_settings(), current_cluster_settings()


def current_sweep():
    """The k-sweep for the current data and clustering settings (cached)."""
    digest, name, choices, segments, clustering = _cluster_key()
    return guarded(lambda: _sweep(digest, name, choices, segments, clustering, current_dataset().data))


def prepare_clusters() -> None:
    """For a file of the user's, what every clustering page starts with, made while the server is quiet
    (:func:`ui.preload.when_quiet`), once a page has shown what it shows: scikit-learn's import, the k-sweep of the
    session's settings and the fit of the chosen (else the recommended) k. The pages then find them in the cache."""
    dataset = current_dataset()
    if dataset.is_demo:  # shown from its summary, not read: a new visitor's first page loads nothing more
        return
    choices, segments, renames = current_choices(), current_segment_settings(), current_renames()
    clustering = st.session_state.get(CLUSTERING)  # None: the defaults (reading them imports scikit-learn)
    pick = st.session_state.get(CLUSTER_PICK)
    key = hashlib.sha256(repr((dataset.digest, choices, segments, clustering, pick, renames)).encode()).hexdigest()[:16]
    latest = st.session_state.setdefault(PREPARED, [None])  # the session's own, read by the task
    latest[0] = key

    def prepare() -> None:
        from rfm.clustering.fit import ClusterSettings

        if latest[0] != key:  # the choices changed while it waited: made for the new ones
            return
        settings = clustering or ClusterSettings()
        sweep = _sweep(dataset.digest, dataset.name, choices, segments, settings, dataset.data)
        k, algorithm = pick or _recommended_pick(sweep)  # as current_pick will choose
        _clusters(dataset.digest, dataset.name, choices, segments, settings, k, algorithm, renames, dataset.data)

    when_quiet(f"prepare-clusters-{key}", prepare)


def _recommended_pick(sweep) -> tuple[int, str]:
    return sweep.recommended_k or 2, "kmeans"


def current_pick() -> tuple[int, str]:
    """(k, algorithm): the user's choice, else the sweep's recommended k with K-Means."""
    if CLUSTER_PICK not in st.session_state:
        st.session_state[CLUSTER_PICK] = _recommended_pick(current_sweep())
    return st.session_state[CLUSTER_PICK]


def _fit_key() -> tuple:
    """What the session's fit and run are cached on, but the file's bytes: (digest, name, choices, segment settings,
    cluster settings, k, algorithm, renames)."""
    digest, name, choices, segments, clustering = _cluster_key()
    return (digest, name, choices, segments, clustering, *current_pick(), current_renames())


def current_clusters():
    """The fitted, named clusters for the current choices (cached)."""
    key = _fit_key()
    return guarded(lambda: _clusters(*key, current_dataset().data))


def fitted_cluster_names():
    """Each customer's cluster name once clusters were fitted in this session, else ``None``."""
    if CLUSTER_PICK not in st.session_state:
        return None
    return current_clusters().customers["cluster_name"]


def algorithm_comparison(k: int):
    """Every algorithm side by side (:func:`rfm.clustering.fit.compare_clusters`), one cached row per algorithm,
    with a progress bar that moves as each algorithm is fitted and scored."""
    import pandas as pd

    from rfm.schema import ALGORITHMS

    digest, name, choices, segments, clustering = _cluster_key()
    data = current_dataset().data
    bar = st.progress(0.0)
    rows = []
    for done, algorithm in enumerate(ALGORITHMS):
        bar.progress(done / len(ALGORITHMS), text=f"Fitting {ALGORITHMS[algorithm]} ({done + 1} of {len(ALGORITHMS)})…")
        rows.append(guarded(lambda algorithm=algorithm: _comparison(digest, name, choices, segments, clustering, k, algorithm, data)))
    bar.empty()
    return pd.concat(rows)


@cached_outcome(max_entries=8)
def _run(digest: str, name: str, choices: Choices, segments: SegmentSettings, clustering, k: int, algorithm: str, renames, _data: bytes):
    from rfm.segment_run import segment_run

    return segment_run(
        _analyse(digest, name, choices, _data), segments, clustering, k, algorithm, renames,
        cleaning=choices.settings, profit_margin=choices.profit_margin,
        segmentation=_segment(digest, name, choices, segments, _data),
        sweep=_sweep(digest, name, choices, segments, clustering, _data),
        clusters=_clusters(digest, name, choices, segments, clustering, k, algorithm, renames, _data),
    )


def current_run():
    """The session's whole run (:class:`rfm.segment_run.SegmentRun`): labelled customers and the model bundle (cached)."""
    key = _fit_key()
    return guarded(lambda: _run(*key, current_dataset().data))


def run_token() -> tuple:
    """What the session's run (:func:`current_run`, with the predicted values) depends on: equal tokens, equal lists."""
    digest, _, choices, segments, clustering = _cluster_key()
    return ("run", digest, choices, segments, clustering, current_pick(), current_renames(), current_value_settings())


def current_period(analysis) -> tuple:
    """The two dates customers are compared on (Trends page, retention KPI): the user's, else the end of the
    previous quarter and the analysis date. Dates chosen for another file start afresh."""
    from rfm.trends.timeline import default_dates

    digest = current_dataset().digest
    stored = st.session_state.get(PERIOD)
    if stored is None or stored[0] != digest:
        stored = (digest, *guarded(lambda: default_dates(analysis.orders, analysis.report.analysis_date), too_little_data=True))
        st.session_state[PERIOD] = stored
    return stored[1], stored[2]


@cached_outcome(max_entries=8)
def _model_selection(digest: str, name: str, choices: Choices, _data: bytes):
    from rfm.value.predict import compare_purchase_models

    analysis = _analyse(digest, name, choices, _data)
    return compare_purchase_models(analysis.orders, analysis.report.analysis_date)


@cached_outcome(max_entries=8)
def _value_model(digest: str, name: str, choices: Choices, purchase_model: str, _data: bytes):
    from rfm.value.predict import fit_value

    analysis = _analyse(digest, name, choices, _data)
    selection = _model_selection(digest, name, choices, _data)  # the three models compared once per file
    return fit_value(analysis.orders, analysis.report.analysis_date, purchase_model, selection=selection)


def current_value_model():
    """The session's purchase model (its value settings' choice, "auto" by default) and Gamma-Gamma fitted on its
    orders (:func:`rfm.value.predict.fit_value`, cached); shows why and stops the page when they cannot be fitted."""
    dataset, choices, chosen = current_dataset(), current_choices(), current_value_settings().purchase_model
    return guarded(lambda: _value_model(dataset.digest, dataset.name, choices, chosen, dataset.data), too_little_data=True)


def value_model_or_none():
    """:func:`current_value_model`, or ``None`` (and the reason as a caption) where the page goes on without it."""
    dataset, choices, chosen = current_dataset(), current_choices(), current_value_settings().purchase_model
    try:
        return _value_model(dataset.digest, dataset.name, choices, chosen, dataset.data)
    except RFMInputError as error:
        st.caption(f"No predicted value for this data: {error}")
        return None


@cached_outcome(max_entries=16)
def _values(digest: str, name: str, choices: Choices, settings, _data: bytes):
    from rfm.value.predict import customer_value

    return customer_value(_value_model(digest, name, choices, settings.purchase_model, _data), settings)


def current_values():
    """Per-customer P(alive), expected purchases, expected order value, predicted CLV and the churn fields (cached);
    ``None`` (with the reason as a caption) when no model could be fitted."""
    dataset, choices = current_dataset(), current_choices()
    if value_model_or_none() is None:
        return None
    return _values(dataset.digest, dataset.name, choices, current_value_settings(), dataset.data)


@cached_outcome(max_entries=16)
def _holdout(digest: str, name: str, choices: Choices, days: int, purchase_model: str, _data: bytes):
    from rfm.value.predict import holdout

    analysis = _analyse(digest, name, choices, _data)
    return holdout(analysis.orders, analysis.report.analysis_date, days, purchase_model)


def current_holdout(days: int, purchase_model: str = "bgnbd"):
    """The calibration/holdout check of one purchase model (:func:`rfm.value.predict.holdout`, cached); raises
    :class:`RFMInputError` when it cannot be made (the page shows why in its tab)."""
    dataset, choices = current_dataset(), current_choices()
    return _holdout(dataset.digest, dataset.name, choices, days, purchase_model, dataset.data)


@cached_outcome(max_entries=16)
def _kpis(digest: str, name: str, choices: Choices, segments: SegmentSettings, clustering, k: int, algorithm: str, renames, period,
          by: str, _data: bytes):
    from rfm.segment_run import segment_kpis

    return segment_kpis(_run(digest, name, choices, segments, clustering, k, algorithm, renames, _data), period, by)


def current_kpis(by: str):
    """Campaign KPIs of the session's segments over the session's period (:func:`rfm.segment_run.segment_kpis`,
    cached); ``None`` when every order is on one day."""
    from rfm.trends.timeline import has_period

    run = current_run()
    if not has_period(run.analysis.orders, run.analysis.report.analysis_date):
        return None
    key, period = _fit_key(), current_period(run.analysis)
    return guarded(lambda: _kpis(*key, period, by, current_dataset().data))


def trend_model(use_saved: bool = False) -> tuple:
    """What labels customers on the Trends page, as a cache key: the session's model (its settings, k,
    algorithm and names) or the uploaded one (its digest)."""
    if use_saved:
        return ("saved", saved_model().digest)
    _, _, _, segments, clustering = _cluster_key()
    k, algorithm = current_pick()
    return ("session", segments, clustering, k, algorithm, current_renames())


def _trend_bundle(digest: str, name: str, choices: Choices, model: tuple, _data: bytes, _model: bytes | None):
    if model[0] == "saved":
        return _bundle(model[1], _model)
    _, segments, clustering, k, algorithm, renames = model
    return _run(digest, name, choices, segments, clustering, k, algorithm, renames, _data).bundle


@cached_outcome(max_entries=16)
def _migration(digest: str, name: str, choices: Choices, model: tuple, period: tuple, _data: bytes, _model: bytes | None):
    from rfm.trends.migration import migrate

    bundle = _trend_bundle(digest, name, choices, model, _data, _model)
    return migrate(_analyse(digest, name, choices, _data).orders, bundle, *period, profit_margin=choices.profit_margin)


def current_migration(model: tuple, from_date, to_date, by: str, active_days: int | None):
    """:func:`rfm.trends.migration.migrate` of the session's customers with ``model`` (:func:`trend_model`; cached)."""
    dataset, choices, saved = current_dataset(), current_choices(), saved_model()
    period = (from_date, to_date, by, active_days)
    return guarded(lambda: _migration(dataset.digest, dataset.name, choices, model, period, dataset.data, saved and saved.data))


@cached_outcome(max_entries=16)
def _sizes(digest: str, name: str, choices: Choices, model: tuple, every: str, by: str, active_days, _data: bytes, _model: bytes | None):
    from rfm.trends.timeline import date_range, sizes_over_time, snapshot_days

    bundle = _trend_bundle(digest, name, choices, model, _data, _model)
    orders = _analyse(digest, name, choices, _data).orders
    return sizes_over_time(orders, bundle, snapshot_days(*date_range(orders), every), by, active_days, choices.profit_margin)


def current_sizes(model: tuple, every: str, by: str, active_days: int | None):
    """Customers per segment at monthly or weekly snapshots (:func:`rfm.trends.timeline.sizes_over_time`, cached)."""
    dataset, choices, saved = current_dataset(), current_choices(), saved_model()
    return guarded(lambda: _sizes(dataset.digest, dataset.name, choices, model, every, by, active_days, dataset.data, saved and saved.data))


@cached_outcome(max_entries=8)
def _cohorts(digest: str, name: str, choices: Choices, _data: bytes):
    from rfm.trends.cohorts import cohort_table

    analysis = _analyse(digest, name, choices, _data)
    return cohort_table(analysis.orders, analysis.report.analysis_date)


def current_cohorts():
    """Monthly cohorts of the session's customers (:func:`rfm.trends.cohorts.cohort_table`, cached; no model needed);
    raises :class:`RFMInputError` when there is too little data (the page shows why in its tab)."""
    dataset, choices = current_dataset(), current_choices()
    return _cohorts(dataset.digest, dataset.name, choices, dataset.data)


@cached_outcome(max_entries=8)
def _bundle(digest: str, _data: bytes):
    from rfm.bundle.model import load_bundle

    return load_bundle(_data)


def saved_bundle():
    """The uploaded model, validated (cached); shows why it is refused and stops the page if it is."""
    model = saved_model()
    return None if model is None else guarded(lambda: _bundle(model.digest, model.data))


@cached_outcome(max_entries=8)
def _scored(digest: str, name: str, choices: Choices, model_digest: str, _model: bytes, _data: bytes):
    from rfm.segment_run import score_run

    return score_run(_bundle(model_digest, _model), _analyse(digest, name, choices, _data))


def scored_token() -> tuple:
    """What :func:`scored_with_saved_model` depends on: equal tokens, equal lists."""
    return ("scored", current_dataset().digest, current_choices(), saved_model().digest)


def scored_with_saved_model():
    """The current file's customers labelled by the uploaded model (:class:`rfm.segment_run.SegmentRun`, cached)."""
    dataset, choices, model = current_dataset(), current_choices(), saved_model()
    return guarded(lambda: _scored(dataset.digest, dataset.name, choices, model.digest, model.data, dataset.data))


@cached_outcome(max_entries=8)
def _backtest(digest: str, name: str, choices: Choices, settings, _data: bytes):
    from rfm.backtest.run import backtest

    analysis = _analyse(digest, name, choices, _data)
    return backtest(analysis.orders, analysis.report.analysis_date, settings)


def current_backtest(holdout_days: int):
    """The backtest of the session's file (:func:`rfm.backtest.run.backtest`, cached on the file, the choices, the
    scores' and clusters' settings, k, the algorithm and ``holdout_days``). k is the one picked on the Clusters page,
    else the sweep's recommendation at the cut. Raises :class:`RFMInputError` when there is too little data."""
    from rfm.backtest.run import BacktestSettings

    dataset, choices = current_dataset(), current_choices()
    k, algorithm = st.session_state.get(CLUSTER_PICK, (None, "kmeans"))
    settings = BacktestSettings(holdout_days, current_segment_settings(), current_cluster_settings(), k, algorithm)
    return _backtest(dataset.digest, dataset.name, choices, settings, dataset.data)


def open_workspace():
    """The workspace (``RFM_WORKSPACE_URL``, ``RFM_WORKSPACE``, else ``workspace/rfm.duckdb``), opened for one use
    (close it: ``with ui.open_workspace() as workspace``). Not shared between sessions: each use opens its own
    connections (DuckDB shares one database per process itself).

    Raises
    ------
    RFMInputError
        When it cannot be opened (one sentence: which workspace, and why).
    """
    from rfm.workspace import Workspace, workspace_url

    return Workspace.open(workspace_url())


def published_customers(run_id: str):
    """A published run's customers as the workspace stores them (cached by workspace and run: a run never changes once
    published). Raises :class:`RFMInputError` when the workspace cannot be read."""
    from rfm.workspace import workspace_url

    return _published_customers(workspace_url().render_as_string(hide_password=False), run_id)


@st.cache_data(show_spinner=False, max_entries=8)
def _published_customers(url: str, run_id: str):
    from rfm.workspace import Workspace

    with Workspace.open(url) as workspace:
        return workspace.customers(run_id)


def publish_current_run(name: str, published_by: str):
    """Publish the session's run with its predicted values under ``name`` (:func:`rfm.workspace.publish.publish_run`),
    and keep the result for this run; an :class:`RFMInputError` (the workspace refused) is left to the page to say."""
    from rfm.workspace.publish import publish_run

    with open_workspace() as workspace:
        published = publish_run(
            workspace, name, current_run(), published_by=published_by, source_digest=current_dataset().digest,
            values=current_values(), value_settings=current_value_settings(),
        )
    st.session_state[PUBLISHED] = (run_token(), published)
    return published


def published_run():
    """The session's run as it was last published (:class:`rfm.workspace.publish.Published`), or ``None`` when this
    run (these data and choices) has not been published."""
    stored = st.session_state.get(PUBLISHED)
    return stored[1] if stored is not None and stored[0] == run_token() else None
