"""The app's one UI helper: session keys, cached wrappers around :mod:`rfm`, and error display.

Pages import this module and lay out what it returns; nothing here computes anything itself.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TypeVar

import streamlit as st

from rfm.cleaning.ledger import CleaningSettings
from rfm.cleaning.table import DEFAULT_PROFIT_MARGIN
from rfm.errors import RFMInputError
from rfm.scoring.classic import SegmentSettings
from rfm.scoring.scores import SCORE_LETTERS

# Session keys.
DATASET = "dataset"
CHOICES = "choices"
SEGMENTS = "segment_settings"
CLUSTERING = "cluster_settings"
CLUSTER_PICK = "cluster_pick"  # (k, algorithm) chosen on the Clusters page
RENAMES = "cluster_renames"
ROUTED = "routed"
MODEL = "saved_model"  # a model bundle the user uploaded (kept when the data file changes: it scores new files)
VALUE_SETTINGS = "value_settings"  # rfm.value.predict.ValueSettings: horizon, months, discount rate, margin
PERIOD = "period"  # (file digest, first date, second date): the Trends page's dates and the KPIs' retention period
WORKBOOK = "workbook"  # (digest of what it lists, bytes): the last big workbook built, offered again until the lists change
SCORES_RESET = "scores_reset"  # (note, previous SegmentSettings) after a new number of scores reset the user's own

T = TypeVar("T")


@dataclass(frozen=True)
class Dataset:
    """The file a session works on. ``digest`` keys the caches, so the bytes are hashed once."""

    name: str
    data: bytes = field(repr=False)
    digest: str
    is_demo: bool = False

    @classmethod
    def from_bytes(cls, name: str, data: bytes, is_demo: bool = False) -> Dataset:
        return cls(name=name, data=data, digest=hashlib.sha256(data).hexdigest(), is_demo=is_demo)


@dataclass(frozen=True)
class Choices:
    """What the user chose on the Data page; frozen so it keys the analysis cache."""

    sheets: tuple[str, ...] = ()  # empty: every sheet with transactions
    overrides: tuple[tuple[str, str | None], ...] = ()  # field -> column chosen by hand
    settings: CleaningSettings = CleaningSettings()
    profit_margin: float = DEFAULT_PROFIT_MARGIN


def mark_routed() -> None:
    """Called by the entry script: this session's pages run under st.navigation."""
    st.session_state[ROUTED] = True


def require_router() -> None:
    """Send a page opened outside the router to the entry script.

    Until some session has run the entry script, Streamlit serves ``pages/*.py`` on their own (its
    older multipage mode), e.g. for a bookmarked link reloaded right after the server started.
    """
    if not st.session_state.get(ROUTED):
        st.switch_page("streamlit_app.py")


def upload_limit_mb() -> int:
    """The upload limit set in .streamlit/config.toml (server.maxUploadSize)."""
    return int(st.get_option("server.maxUploadSize"))


def demo_dataset() -> Dataset:
    from rfm.demo import DEMO_PATH

    return Dataset.from_bytes(Path(DEMO_PATH).name, Path(DEMO_PATH).read_bytes(), is_demo=True)


def current_dataset() -> Dataset:
    """The session's dataset; a new session starts on the demo data."""
    if DATASET not in st.session_state:
        st.session_state[DATASET] = demo_dataset()
    return st.session_state[DATASET]


def set_dataset(dataset: Dataset) -> None:
    """Work on another file: its choices start afresh (its widgets too: see :func:`file_key`)."""
    st.session_state[DATASET] = dataset
    st.session_state[CHOICES] = Choices()


def file_key(name: str) -> str:
    """The key of a widget that shows something of the session's file (its sheets, a customer search).

    The key carries the file's digest: another file gets new widgets, drawn from their defaults. Deleting a
    widget's state is not enough, since the browser keeps showing (and sends back) what a widget of the same
    key last showed: the previous file's columns.
    """
    return f"{name}@{current_dataset().digest[:12]}"


def state_key(name: str, *state) -> str:
    """The key of a widget whose default is drawn from ``state`` (frozen settings): a new key, so a fresh widget
    showing the new default, whenever the state changes (see :func:`file_key` for why deleting is not enough)."""
    token = hashlib.sha256(repr((current_dataset().digest, state)).encode()).hexdigest()[:12]
    return f"{name}@{token}"


def choices_key(name: str) -> str:
    """The key of a widget whose default is one of the choices applied to the file (the column mapping, the
    date order, the cleaning options): it changes with the file and with every applied change, so the widget
    always starts from what is applied now."""
    return state_key(name, current_choices())


def current_choices() -> Choices:
    return st.session_state.setdefault(CHOICES, Choices())


def update_choices(**changes) -> None:
    st.session_state[CHOICES] = replace(current_choices(), **changes)


@st.cache_data(show_spinner=False, max_entries=4)
def _read(digest: str, name: str, sheets: tuple[str, ...], _data: bytes):
    """A workbook read into memory, or a CSV/Parquet file scanned by DuckDB (only a sample in memory)."""
    from rfm.reading.scan import open_transactions

    return open_transactions(_data, name, sheets=sheets or None, max_bytes=upload_limit_mb() * 1024**2)


@st.cache_data(show_spinner=False, max_entries=4)
def _sheet_names(digest: str, name: str, _data: bytes) -> list[str]:
    from rfm.reading.files import list_sheets

    return list_sheets(_data, name)


@st.cache_data(show_spinner=False, max_entries=16)
def _analyse(digest: str, name: str, choices: Choices, _data: bytes):
    from rfm.cleaning.analyse import analyse

    raw = _read(digest, name, choices.sheets, _data)
    return analyse(raw, dict(choices.overrides), choices.settings, choices.profit_margin)


@st.cache_data(show_spinner=False, max_entries=8)
def _guess(digest: str, name: str, sheets: tuple[str, ...], _data: bytes):
    from rfm.reading.columns import detect_mapping

    return detect_mapping(_read(digest, name, sheets, _data).sample)


def mapping_guess(dataset: Dataset, choices: Choices):
    """The detected column mapping of the file (cached)."""
    return _guess(dataset.digest, dataset.name, choices.sheets, dataset.data)


@st.cache_data(show_spinner=False, max_entries=8)
def _countries(digest: str, name: str, sheets: tuple[str, ...], overrides: tuple, _data: bytes) -> tuple[str, ...]:
    from rfm.cleaning.analyse import country_values, resolve_mapping

    raw = _read(digest, name, sheets, _data)
    return country_values(raw, resolve_mapping(raw, dict(overrides))[1])


def country_options(dataset: Dataset, choices: Choices) -> tuple[str, ...]:
    """Every country in the file, most rows first (for the country filter)."""
    return guarded(lambda: _countries(dataset.digest, dataset.name, choices.sheets, choices.overrides, dataset.data))


def sheet_names(dataset: Dataset) -> list[str]:
    return guarded(lambda: _sheet_names(dataset.digest, dataset.name, dataset.data))


def read_raw(dataset: Dataset, choices: Choices):
    """The file as read (cached on its bytes and the chosen sheets)."""
    return _read(dataset.digest, dataset.name, choices.sheets, dataset.data)


def reading_note(raw) -> str:
    """How the file is held: scanned by DuckDB (a sample in memory) or read into memory."""
    from rfm.reading.scan import ScannedTable

    if isinstance(raw, ScannedTable):
        if len(raw.sample) >= raw.n_rows:
            return f"{raw.n_rows:,} rows scanned by DuckDB straight from the file; the file is small, so all of them are also held in memory."
        return (
            f"{raw.n_rows:,} rows scanned by DuckDB straight from the file; only a sample of "
            f"{len(raw.sample):,} rows is held in memory."
        )
    return f"All {raw.n_rows:,} rows are held in memory (workbooks, and text split on runs of spaces, are read whole)."


def analysis(dataset: Dataset, choices: Choices):
    """The :class:`rfm.cleaning.analyse.Analysis` for the session's file and choices (cached)."""
    return _analyse(dataset.digest, dataset.name, choices, dataset.data)


def current_analysis():
    """Analysis of the current dataset with the current choices; shows the error and stops on bad input."""
    return guarded(lambda: analysis(current_dataset(), current_choices()))


def analysis_with_progress(dataset: Dataset, choices: Choices):
    """Like :func:`analysis`, showing each long step in an ``st.status`` box with a progress bar."""
    import time

    started = time.perf_counter()
    with st.status(f"Reading {dataset.name}…", expanded=False) as status:
        bar = st.progress(0, text="Reading the file")
        try:
            raw = read_raw(dataset, choices)
            bar.progress(50, text=f"Read {raw.n_rows:,} rows; recognising columns, cleaning, computing RFM")
            result = analysis(dataset, choices)
        except RFMInputError:
            status.update(label=f"{dataset.name} could not be used", state="error")
            raise
        bar.progress(100, text="Done")
        status.update(
            label=f"{dataset.name}: {result.report.rows_read:,} rows read, {result.report.customers:,} customers "
            f"({time.perf_counter() - started:.1f} s)",
            state="complete",
        )
    return result


def current_segment_settings() -> SegmentSettings:
    return st.session_state.setdefault(SEGMENTS, SegmentSettings())


def update_segment_settings(**changes) -> None:
    st.session_state[SEGMENTS] = replace(current_segment_settings(), **changes)
    st.session_state.pop(SCORES_RESET, None)


def change_number_of_scores(n_bins: int) -> None:
    """Score on ``n_bins`` scores. Thresholds and rules are written for one number of scores: the user's own are
    reset to ranks and the default rules, and :func:`scores_reset` says so (with the settings to go back to)."""
    previous = current_segment_settings()
    reset = [f"thresholds for {', '.join(SCORE_LETTERS[metric] for metric, _ in previous.thresholds)}"] if previous.thresholds else []
    if previous.rules is not None:
        reset.append("your segment rules")
    update_segment_settings(n_bins=n_bins, thresholds=(), rules=None)
    if reset:
        st.session_state[SCORES_RESET] = (
            f"Your {' and '.join(reset)} were written for {previous.n_bins} scores, so with {n_bins} scores they were "
            f"reset: scores by rank, the default rules.",
            previous,
        )


def scores_reset():
    """``(note, previous settings)`` when the last change of the number of scores reset the user's own thresholds
    or rules; ``None`` otherwise."""
    return st.session_state.get(SCORES_RESET)


def restore_segment_settings(settings: SegmentSettings, n_bins_key: str, rules_key: str) -> None:
    """Go back to ``settings``. A callback: the number-of-scores widget (``n_bins_key``) follows before it is drawn,
    and the rule editor (``rules_key``) drops edits made to the other rules."""
    update_segment_settings(**{name: getattr(settings, name) for name in ("n_bins", "thresholds", "rules", "iqr_multiplier")})
    st.session_state[n_bins_key] = settings.n_bins
    st.session_state.pop(rules_key, None)


@st.cache_data(show_spinner=False, max_entries=16)
def _segment(digest: str, name: str, choices: Choices, settings: SegmentSettings, _data: bytes):
    from rfm.scoring.classic import segment_customers

    return segment_customers(_analyse(digest, name, choices, _data).customers, settings)


def current_segmentation():
    """Scores, segments and tiers of the current analysis (cached); stops the page on bad input."""
    dataset, choices = current_dataset(), current_choices()
    return guarded(lambda: _segment(dataset.digest, dataset.name, choices, current_segment_settings(), dataset.data))


def current_cluster_settings():
    from rfm.clustering.fit import ClusterSettings

    return st.session_state.setdefault(CLUSTERING, ClusterSettings())


def update_cluster_settings(settings) -> None:
    """New clustering settings: the chosen k and the names given to clusters start afresh."""
    st.session_state[CLUSTERING] = settings
    st.session_state.pop(CLUSTER_PICK, None)
    st.session_state.pop(RENAMES, None)


def _sweep_settings(clustering):
    """The settings the k-sweep depends on: K-Means ignores the density methods' (smallest cluster, eps), so changing
    them must not sweep k again."""
    from rfm.clustering.fit import ClusterSettings

    defaults = ClusterSettings()
    return replace(clustering, min_cluster_share=defaults.min_cluster_share, eps=defaults.eps)


@st.cache_data(show_spinner=False, max_entries=16)
def _cached_sweep(digest: str, name: str, choices: Choices, segments: SegmentSettings, clustering, _data: bytes):
    from rfm.clustering.fit import run_sweep

    return run_sweep(_segment(digest, name, choices, segments, _data).customers, clustering)


def _sweep(digest: str, name: str, choices: Choices, segments: SegmentSettings, clustering, _data: bytes):
    return _cached_sweep(digest, name, choices, segments, _sweep_settings(clustering), _data)


@st.cache_data(show_spinner=False, max_entries=32)
def _clusters(digest: str, name: str, choices: Choices, segments: SegmentSettings, clustering, k: int, algorithm: str, renames, _data: bytes):
    from rfm.clustering.fit import fit_clusters

    return fit_clusters(_segment(digest, name, choices, segments, _data).customers, clustering, k, algorithm, renames)


@st.cache_data(show_spinner=False, max_entries=64)
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


def current_pick() -> tuple[int, str]:
    """(k, algorithm): the user's choice, else the sweep's recommended k with K-Means."""
    if CLUSTER_PICK not in st.session_state:
        st.session_state[CLUSTER_PICK] = (current_sweep().recommended_k or 2, "kmeans")
    return st.session_state[CLUSTER_PICK]


def set_pick(k: int, algorithm: str) -> None:
    if (k, algorithm) != st.session_state.get(CLUSTER_PICK):
        st.session_state[CLUSTER_PICK] = (k, algorithm)
        st.session_state.pop(RENAMES, None)  # names belong to one fit


def current_renames() -> tuple:
    return st.session_state.get(RENAMES, ())


def set_renames(renames: tuple) -> None:
    st.session_state[RENAMES] = renames


def current_clusters():
    """The fitted, named clusters for the current choices (cached)."""
    digest, name, choices, segments, clustering = _cluster_key()
    k, algorithm = current_pick()
    return guarded(lambda: _clusters(digest, name, choices, segments, clustering, k, algorithm, current_renames(), current_dataset().data))


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


@st.cache_data(show_spinner=False, max_entries=8)
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
    digest, name, choices, segments, clustering = _cluster_key()
    k, algorithm = current_pick()
    return guarded(lambda: _run(digest, name, choices, segments, clustering, k, algorithm, current_renames(), current_dataset().data))


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


def set_period(from_date, to_date) -> None:
    st.session_state[PERIOD] = (current_dataset().digest, from_date, to_date)


@st.cache_data(show_spinner=False, max_entries=8)
def _value_model(digest: str, name: str, choices: Choices, _data: bytes):
    from rfm.value.predict import fit_value

    analysis = _analyse(digest, name, choices, _data)
    return fit_value(analysis.orders, analysis.report.analysis_date)


def current_value_model():
    """BG/NBD and Gamma-Gamma fitted on the session's orders (:func:`rfm.value.predict.fit_value`, cached); shows why
    and stops the page when they cannot be fitted."""
    dataset, choices = current_dataset(), current_choices()
    return guarded(lambda: _value_model(dataset.digest, dataset.name, choices, dataset.data), too_little_data=True)


def value_model_or_none():
    """:func:`current_value_model`, or ``None`` (and the reason as a caption) where the page goes on without it."""
    dataset, choices = current_dataset(), current_choices()
    try:
        return _value_model(dataset.digest, dataset.name, choices, dataset.data)
    except RFMInputError as error:
        st.caption(f"No predicted value for this data: {error}")
        return None


def current_value_settings():
    from rfm.value.predict import ValueSettings

    return st.session_state.setdefault(VALUE_SETTINGS, ValueSettings(margin=current_choices().profit_margin))


def update_value_settings(**changes) -> None:
    st.session_state[VALUE_SETTINGS] = replace(current_value_settings(), **changes)


@st.cache_data(show_spinner=False, max_entries=16)
def _values(digest: str, name: str, choices: Choices, settings, _data: bytes):
    from rfm.value.predict import customer_value

    return customer_value(_value_model(digest, name, choices, _data), settings)


def current_values():
    """Per-customer P(alive), expected purchases, expected order value and predicted CLV (cached);
    ``None`` (with the reason as a caption) when no model could be fitted."""
    dataset, choices = current_dataset(), current_choices()
    if value_model_or_none() is None:
        return None
    return _values(dataset.digest, dataset.name, choices, current_value_settings(), dataset.data)


@st.cache_data(show_spinner=False, max_entries=16)
def _holdout(digest: str, name: str, choices: Choices, days: int, _data: bytes):
    from rfm.value.predict import holdout

    analysis = _analyse(digest, name, choices, _data)
    return holdout(analysis.orders, analysis.report.analysis_date, days)


def current_holdout(days: int):
    """The calibration/holdout check of the value model (:func:`rfm.value.predict.holdout`, cached); raises
    :class:`RFMInputError` when it cannot be made (the page shows why in its tab)."""
    dataset, choices = current_dataset(), current_choices()
    return _holdout(dataset.digest, dataset.name, choices, days, dataset.data)


def current_kpis(by: str):
    """Campaign KPIs of the session's segments over the session's period (:func:`rfm.segment_run.segment_kpis`);
    ``None`` when every order is on one day."""
    from rfm.segment_run import segment_kpis
    from rfm.trends.timeline import has_period

    run = current_run()
    if not has_period(run.analysis.orders, run.analysis.report.analysis_date):
        return None
    return guarded(lambda: segment_kpis(run, current_period(run.analysis), by))


def kpi_columns() -> dict:
    """Column formats of the campaign KPI table."""
    from rfm.trends.kpis import KPI_HELP, KPI_LABELS

    formats = {"repeat_rate": "percent", "retention": "percent", "purchase_frequency": "%.2f", "avg_order_value": "%.2f", "revenue_per_customer": "%.2f"}
    return {
        name: st.column_config.NumberColumn(label, format=formats.get(name, "localized"), help=KPI_HELP.get(name))
        for name, label in KPI_LABELS.items()
    }


def clicked_cell(chart_key: str) -> tuple[str, str] | None:
    """The (row, column) of the cell last clicked in a clickable :func:`rfm.outputs.charts.crosstab_heatmap`, or ``None``."""
    try:
        points = st.session_state[chart_key]["selection"]["points"]
    except (KeyError, TypeError):  # no chart yet, or nothing selected
        return None
    for point in points:
        data = point.get("customdata")
        if isinstance(data, (list, tuple)) and len(data) >= 2:
            return str(data[0]), str(data[1])
    return None


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


@st.cache_data(show_spinner=False, max_entries=16)
def _migration(digest: str, name: str, choices: Choices, model: tuple, period: tuple, _data: bytes, _model: bytes | None):
    from rfm.trends.migration import migrate

    bundle = _trend_bundle(digest, name, choices, model, _data, _model)
    return migrate(_analyse(digest, name, choices, _data).orders, bundle, *period, profit_margin=choices.profit_margin)


def current_migration(model: tuple, from_date, to_date, by: str, active_days: int | None):
    """:func:`rfm.trends.migration.migrate` of the session's customers with ``model`` (:func:`trend_model`; cached)."""
    dataset, choices, saved = current_dataset(), current_choices(), saved_model()
    period = (from_date, to_date, by, active_days)
    return guarded(lambda: _migration(dataset.digest, dataset.name, choices, model, period, dataset.data, saved and saved.data))


@st.cache_data(show_spinner=False, max_entries=16)
def _sizes(digest: str, name: str, choices: Choices, model: tuple, every: str, by: str, active_days, _data: bytes, _model: bytes | None):
    from rfm.trends.timeline import date_range, sizes_over_time, snapshot_days

    bundle = _trend_bundle(digest, name, choices, model, _data, _model)
    orders = _analyse(digest, name, choices, _data).orders
    return sizes_over_time(orders, bundle, snapshot_days(*date_range(orders), every), by, active_days, choices.profit_margin)


def current_sizes(model: tuple, every: str, by: str, active_days: int | None):
    """Customers per segment at monthly or weekly snapshots (:func:`rfm.trends.timeline.sizes_over_time`, cached)."""
    dataset, choices, saved = current_dataset(), current_choices(), saved_model()
    return guarded(lambda: _sizes(dataset.digest, dataset.name, choices, model, every, by, active_days, dataset.data, saved and saved.data))


@dataclass(frozen=True)
class SavedModel:
    """A model bundle the user uploaded: its bytes (validated when used) and their digest for the caches."""

    name: str
    data: bytes = field(repr=False)
    digest: str


def set_saved_model(name: str, data: bytes) -> None:
    st.session_state[MODEL] = SavedModel(name, data, hashlib.sha256(data).hexdigest())


def saved_model() -> SavedModel | None:
    return st.session_state.get(MODEL)


@st.cache_data(show_spinner=False, max_entries=8)
def _bundle(digest: str, _data: bytes):
    from rfm.bundle.model import load_bundle

    return load_bundle(_data)


def saved_bundle():
    """The uploaded model, validated (cached); shows why it is refused and stops the page if it is."""
    model = saved_model()
    return None if model is None else guarded(lambda: _bundle(model.digest, model.data))


@st.cache_data(show_spinner=False, max_entries=8)
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


def apologise(error: BaseException) -> None:
    """An unexpected error: the detail goes to the server log under a reference, the user gets a short
    apology with that reference and what to do next (never a stack trace). The rest of the app stays usable."""
    import secrets

    from streamlit.logger import get_logger

    reference = secrets.token_hex(4).upper()
    get_logger("rfm_studio").error("Unexpected error, reference %s", reference, exc_info=error)
    st.error(
        f"Sorry, something went wrong on our side and this part of the page could not be shown. Your file and "
        f"choices are kept: try again, change a setting, or open another page. If it happens again, please "
        f"quote reference **{reference}** (the details are in the server's log).",
        icon=":material/build:",
    )


def safely(function: Callable[[], None]) -> Callable[[], None]:
    """Wrap a page part (a fragment reruns on its own, outside the page's own guard) in :func:`apologise`."""

    def run() -> None:
        try:
            function()
        except Exception as error:  # StopException and RerunException are BaseExceptions: they pass
            apologise(error)

    run.__name__, run.__doc__ = function.__name__, function.__doc__
    return run


def guarded(action: Callable[[], T], too_little_data: bool = False) -> T:
    """Run ``action``; on bad input show the one clear message and stop the page (no traceback).

    ``too_little_data``: the file is fine but too small or too short for this page (a model needs more
    customers, a comparison needs two dates), so the message is a warning, not an error."""
    try:
        return action()
    except RFMInputError as exc:
        _show_input_error(exc, too_little_data)
        st.stop()
        raise  # st.stop() raises; this keeps type checkers honest


def shown_or_none(action: Callable[[], T], too_little_data: bool = False) -> T | None:
    """Run ``action``; on bad input show the message where it belongs (a tab, a panel) and return ``None``, so the
    rest of the page still shows. :func:`guarded` stops the page instead."""
    try:
        return action()
    except RFMInputError as exc:
        _show_input_error(exc, too_little_data)
        return None


def _show_input_error(error: RFMInputError, too_little_data: bool) -> None:
    (st.warning if too_little_data else st.error)(str(error), icon=":material/warning:")


def summary_columns(columns) -> dict:
    """Column formats for the segment summary and cluster profile tables (shares, money, means, actions)."""
    from rfm import schema

    config = {
        "size": st.column_config.NumberColumn("customers", format="localized"),
        "customers": st.column_config.NumberColumn(format="localized"),
        "share": st.column_config.NumberColumn(format="percent"),
        "revenue": st.column_config.NumberColumn(format="localized"),
        "revenue_share": st.column_config.NumberColumn("share of revenue", format="percent"),
        "avg_order_value": st.column_config.NumberColumn("average order value", format="%.2f"),
        "action": st.column_config.TextColumn("recommended action", width="large"),
    }
    for stat in ("mean", "median"):
        for metric in (schema.RECENCY, schema.FREQUENCY, schema.MONETARY):
            config[f"{stat}_{metric}"] = st.column_config.NumberColumn(f"{stat} {schema.RFM_LABELS[metric].lower()}", format="%.1f")
    for column in columns:
        if str(column).startswith("segment: "):
            config[column] = st.column_config.NumberColumn(format="percent")
    return {name: value for name, value in config.items() if name in set(columns)}


def money(value: float) -> str:
    return f"{value:,.2f}"


def fitted_number_column(values, label: str | None = None, *, format: str = "localized", decimals: int = 2, **options):
    """A number column wide enough for its longest value, sign, separators and decimals included.

    Left to size itself, the grid measures the numbers before they are formatted and clips the widest on the
    left ("128,427.39" showed as "28,427.39", "-30,123.04" as "30,123.04"): a number must never lose digits.
    """
    import pandas as pd

    numbers = pd.to_numeric(pd.Series(values), errors="coerce").dropna()
    texts = [f"{value:,.{decimals}f}" for value in numbers]
    widest = max([len(text) for text in texts] + [len(label or "")], default=4)
    return st.column_config.NumberColumn(label, format=format, width=max(64, 9 * widest + 28), **options)


def choose_lists(labelled, prefix: str):
    """Controls for what to export: split (cluster or RFM segments), which segments, which columns.

    Shows the chosen segments' sizes and actions, and stops the page when no segment is chosen.
    Returns ``(split, chosen segments, columns)``.
    """
    from rfm.outputs.lists import COLUMN_LABELS, DEFAULT_COLUMNS, SPLITS, segment_sizes

    split = st.radio("Split the lists by", list(SPLITS), format_func=SPLITS.get, horizontal=True, key=f"{prefix}_split")
    sizes = segment_sizes(labelled, split)
    chosen = st.multiselect("Segments to export", list(sizes["name"]), default=list(sizes["name"]), key=f"{prefix}_segments_{split}")
    columns = st.multiselect(
        "Columns", list(labelled.columns), default=[c for c in DEFAULT_COLUMNS if c in labelled.columns],
        format_func=lambda column: COLUMN_LABELS.get(column, column), key=f"{prefix}_columns",
        help="The customer id is always the first column.",
    )
    if not chosen:
        st.info("Choose at least one segment to export.")
        st.stop()
    shown = sizes[sizes["name"].isin(chosen)].set_index("name")
    st.dataframe(shown, width="stretch", column_config=summary_columns(shown.columns), key=f"{prefix}_sizes")
    return split, chosen, columns


def download_lists(labelled, split: str, columns, day, chosen, prefix: str, run_token: tuple, profiles=None, ledger=None, kpis=None) -> None:
    """Download buttons: a CSV per chosen segment, all of them as a ZIP, every customer, and the workbook.

    Files are built when clicked (``data`` is a callable) and clicking does not rerun the page. A workbook that
    takes more than about a second is built first, with a progress bar, then downloaded (see :func:`_workbook_button`);
    ``run_token`` says which run ``labelled`` is, so that a workbook built for it is offered again, not rebuilt.
    """
    from rfm.outputs import files as export
    from rfm.outputs.lists import segment_sizes

    sizes = segment_sizes(labelled, split).set_index("name")["customers"]
    st.markdown("#### One list per segment")
    buttons = st.columns(3)
    for position, name in enumerate(chosen):
        buttons[position % 3].download_button(
            f"{name} ({sizes[name]:,})",
            data=lambda name=name: next(iter(export.segment_files(labelled, split, columns, day, [name]).values())),
            file_name=export.export_file_name(name, day, "csv"), mime="text/csv",
            on_click="ignore", icon=":material/download:", key=f"{prefix}_csv_{position}",
        )
    st.markdown("#### Everything at once")
    zip_column, all_column, workbook_column = st.columns(3)
    zip_column.download_button(
        f"{len(chosen)} list{'s' if len(chosen) != 1 else ''} (ZIP)",
        data=lambda: export.zip_bytes(export.segment_files(labelled, split, columns, day, chosen)),
        file_name=export.export_file_name("segments", day, "zip"), mime="application/zip",
        on_click="ignore", icon=":material/folder_zip:", key=f"{prefix}_zip",
    )
    all_column.download_button(
        f"Every customer ({len(labelled):,}, one CSV)",
        data=lambda: export.csv_bytes(labelled, columns),
        file_name=export.export_file_name("all-customers", day, "csv"), mime="text/csv",
        on_click="ignore", icon=":material/download:", key=f"{prefix}_all_csv",
    )
    with workbook_column:
        _workbook_button(
            lambda progress=None: export.workbook_bytes(
                labelled, split, columns, day, chosen, profiles=profiles, ledger=ledger, kpis=kpis, progress=progress
            ),
            export.workbook_cells(labelled, split, columns, chosen), export.export_file_name("segments", day, "xlsx"),
            prefix, (run_token, split, tuple(chosen), tuple(columns)),
        )


#: Below this many cells a workbook is built when its download button is clicked (well under a second).
QUICK_WORKBOOK_CELLS = 60_000
XLSX_MIME = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _workbook_button(build: Callable, cells: int, file_name: str, prefix: str, token: tuple) -> None:
    """The workbook's download. A small one is built on click. A big one takes seconds (about 60,000 cells a
    second), so it is built on a first click with a progress bar, kept for this exact selection (one per session),
    and then downloaded with a second click."""
    from rfm.outputs.files import WORKBOOK_CELLS_PER_SECOND

    key = f"{prefix}_workbook"
    if cells <= QUICK_WORKBOOK_CELLS:
        st.download_button("Excel workbook (.xlsx)", data=build, file_name=file_name, mime=XLSX_MIME,
                           on_click="ignore", icon=":material/table_view:", key=key)
        return
    digest = hashlib.sha256(repr(token).encode()).hexdigest()
    built = st.session_state.get(WORKBOOK)
    if built is None or built[0] != digest:
        seconds = max(1, round(cells / WORKBOOK_CELLS_PER_SECOND))
        if not st.button(f"Prepare the Excel workbook (about {seconds} s)", key=f"{key}_prepare", icon=":material/table_view:",
                         help=f"{cells:,} cells: the workbook is written once, then offered for download."):
            return
        bar = st.progress(0.0, text="Writing the workbook…")
        data = build(progress=lambda share: bar.progress(min(share, 1.0), text=f"Writing the workbook… {share:.0%}"))
        bar.empty()
        st.session_state[WORKBOOK] = built = (digest, data)
    st.download_button("Excel workbook (.xlsx)", data=built[1], file_name=file_name, mime=XLSX_MIME,
                       on_click="ignore", icon=":material/table_view:", key=key, type="primary")
