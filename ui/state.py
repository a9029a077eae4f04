"""The session's state: its file, the choices made on it, the settings of every page, and widget keys that follow them.

Nothing here computes: ``ui.cache`` does, from what is here."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field, replace
from pathlib import Path

import streamlit as st

from rfm.cleaning.ledger import CleaningSettings
from rfm.cleaning.table import DEFAULT_PROFIT_MARGIN
from rfm.scoring.classic import SegmentSettings
from rfm.scoring.scores import SCORE_LETTERS

# Session keys.
DATASET = "dataset"
#: ((digest, sheets), table): the session's file as read, held by reference, one per session. Not in st.cache_data,
#: which would keep a pickled copy (109 MB for a 1M-row workbook) and unpickle another on every use.
RAW = "raw_table"
#: This session's key among the server's memory promises (rfm.reading.memory.ADMISSIONS).
READER = "reader"


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


PUBLISHED = "published"  # (run token, rfm.workspace.publish.Published): the session's run as last published
#: [hash of the file and choices]: what this session last asked to have its clusters prepared for, ahead of it
#: (ui.cache.prepare_clusters); a task for older choices, still waiting, does nothing.
PREPARED = "prepared_for"
SCORES_RESET = "scores_reset"  # (note, previous SegmentSettings) after a new number of scores reset the user's own


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


def memory_budget_mb() -> float:
    """The server's memory budget in MB: ``RFM_MEMORY_BUDGET_MB``, else three quarters of the machine's memory."""
    import os

    from rfm.errors import RFMInputError
    from rfm.reading.memory import BUDGET_VARIABLE

    text = os.environ.get(BUDGET_VARIABLE, "").strip()
    if text:
        try:
            return float(text)
        except ValueError:
            raise RFMInputError(f"{BUDGET_VARIABLE}={text!r} is not a number of megabytes.") from None
    return 0.75 * os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 1e6


def server_memory_mb() -> float:
    """What the server holds now (resident memory, MB; every session's files and caches, and the worker processes
    reading sheets)."""
    from rfm.reading.memory import process_tree_rss_mb

    return process_tree_rss_mb()


def release_freed_memory() -> None:
    """Hand the memory a big read freed back to the system. Reading a workbook frees hundreds of MB that the
    allocators keep: Arrow's memory pool (mimalloc) and glibc's, per thread (each session runs in its own thread), so
    the server's resident memory would stay at its peak; ``release_unused`` and ``malloc_trim`` return it
    (bench/RESULTS.md). ``malloc_trim`` is glibc's: elsewhere only Arrow's pool is released."""
    import ctypes
    import ctypes.util

    import pyarrow as pa

    pa.default_memory_pool().release_unused()

    name = ctypes.util.find_library("c")
    try:
        trim = ctypes.CDLL(name).malloc_trim if name else None
    except (OSError, AttributeError):
        trim = None
    if trim is not None:
        trim(0)


def server_busy(file_name: str, size_bytes: int) -> str | None:
    """Why the server cannot take this upload now (a big file over the memory budget, counting the big files other
    sessions are reading), or ``None``: then the memory the file needs is promised to this session until
    :func:`reading_done`."""
    from rfm.reading.memory import ADMISSIONS

    return ADMISSIONS.admit(_reader_key(), file_name, size_bytes, server_memory_mb(), memory_budget_mb())


def reading_done() -> None:
    """This session's file is read (or could not be): its memory is now measured, no longer promised."""
    from rfm.reading.memory import ADMISSIONS

    if READER in st.session_state:
        ADMISSIONS.release(st.session_state[READER])


def _reader_key() -> str:
    import uuid

    return st.session_state.setdefault(READER, uuid.uuid4().hex)


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
    st.session_state.pop(RAW, None)  # the previous file's rows are not held for a file no longer shown


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


def current_cluster_settings():
    from rfm.clustering.fit import ClusterSettings

    return st.session_state.setdefault(CLUSTERING, ClusterSettings())


def update_cluster_settings(settings) -> None:
    """New clustering settings: the chosen k and the names given to clusters start afresh."""
    st.session_state[CLUSTERING] = settings
    st.session_state.pop(CLUSTER_PICK, None)
    st.session_state.pop(RENAMES, None)


def set_pick(k: int, algorithm: str) -> None:
    if (k, algorithm) != st.session_state.get(CLUSTER_PICK):
        st.session_state[CLUSTER_PICK] = (k, algorithm)
        st.session_state.pop(RENAMES, None)  # names belong to one fit


def current_renames() -> tuple:
    return st.session_state.get(RENAMES, ())


def set_renames(renames: tuple) -> None:
    st.session_state[RENAMES] = renames


def set_period(from_date, to_date) -> None:
    st.session_state[PERIOD] = (current_dataset().digest, from_date, to_date)


def current_value_settings():
    from rfm.value.predict import ValueSettings

    return st.session_state.setdefault(VALUE_SETTINGS, ValueSettings(margin=current_choices().profit_margin))


def update_value_settings(**changes) -> None:
    st.session_state[VALUE_SETTINGS] = replace(current_value_settings(), **changes)


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
