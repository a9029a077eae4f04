"""Does a new file lie within what a saved model saw? A check run before trusting the model's labels.

:func:`check_fit` takes a model bundle (:class:`rfm.bundle.model.ModelBundle`, which records quantiles of every
feature it scores on over the customers it was fitted on) and a new RFM table (:func:`rfm.cleaning.table.rfm_table`),
and returns a :class:`FitCheck`: per-feature figures and one warning sentence per feature that is far off. It uses
:mod:`rfm.bundle.model` only; scoring (:func:`rfm.segment_run.score_run`) carries its result to the CLI and the Score page.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from rfm import schema
from rfm.bundle.model import ModelBundle, check_provides

#: The band holding the middle 98% of the model's customers: the 1% and 99% quantiles.
BAND_LEVELS = (0.01, 0.99)
#: At most this share of the model's own customers lies outside the band (less when values tie at its edges).
BAND_EXPECTED_SHARE = 0.02
#: A feature is far off when at least this share of the new customers lies below the model's smallest or
#: above its largest value. A file from the model's own population gives about 2/(n+1) for a model fitted
#: on n customers; on the demo and the real workbook, halves split at random or by date gave at most 8%
#: (recency, when the new file spans a few more days than the model's).
OUTSIDE_RANGE_SHARE = 0.15
#: ... or when at least this share lies outside the model's 1-99% band (over 12 times the 2% expected; the
#: same splits gave at most 10%, on halves of 120 customers).
OUTSIDE_BAND_SHARE = 0.25
#: ... and at least this many customers are concerned: a handful is not a population.
MIN_CUSTOMERS_OFF = 5
#: Features measured in days, named with their unit in the warnings.
_DAY_FEATURES = (schema.RECENCY, schema.TENURE)

FIGURE_COLUMNS = (
    "model_min", "model_p1", "model_median", "model_p99", "model_max",
    "file_min", "file_median", "file_max", "below_min", "below_p1", "above_p99", "above_max", "outside_band", "far_off",
)


@dataclass(frozen=True, eq=False)
class FitCheck:
    """How a file's customers compare with those a model was fitted on.

    Attributes
    ----------
    figures : DataFrame
        One row per feature the model scores on (index ``feature``): the model's ``model_min``, ``model_p1``,
        ``model_median``, ``model_p99`` and ``model_max``; the file's ``file_min``, ``file_median`` and
        ``file_max``; the shares of the file's customers ``below_min`` (the model's smallest value),
        ``below_p1`` (its 1% quantile), ``above_p99``, ``above_max`` and ``outside_band`` (below its 1% or
        above its 99% quantile); and ``far_off`` (bool).
        Empty for a model saved before it recorded its customers.
    warnings : tuple of str
        One sentence per far-off feature, then a summary sentence saying the file lies "outside the model's
        range"; empty when the file is like the model's.
    notes : tuple of str
        Why no check was made (a model saved before the check), if so.
    customers, model_customers : int
        Customers in the file, and in the file the model was fitted on (``None`` when not recorded).
    """

    figures: pd.DataFrame
    warnings: tuple[str, ...]
    notes: tuple[str, ...]
    customers: int
    model_customers: int | None

    @property
    def far_off(self) -> tuple[str, ...]:
        """The features the file is far off on."""
        if self.figures.empty:
            return ()
        return tuple(self.figures.index[self.figures["far_off"]])

    def as_json(self) -> dict:
        """The figures, warnings and notes as plain JSON values (for ``summary.json``)."""
        return {
            "customers": self.customers,
            "model_customers": self.model_customers,
            "features": {
                feature: {column: bool(value) if column == "far_off" else _rounded(value) for column, value in row.items()}
                for feature, row in self.figures.iterrows()
            },
            "warnings": list(self.warnings),
            "notes": list(self.notes),
        }


def check_fit(bundle: ModelBundle, table: pd.DataFrame) -> FitCheck:
    """Compare each feature of a new RFM table with the customers the model was fitted on.

    Two figures per feature, each against a threshold that a file from the model's own population stays
    well below:

    - the share of new customers outside the model's range (below its smallest or above its largest value):
      scores saturate there and the clusters extrapolate, so such customers are ones the model never saw;
    - the share outside the model's 1-99% band, where at most 2% of the model's own customers lay. Money
      is heavy-tailed: the demo's largest spender spends 18 times its 99th percentile, so a file of
      customers spending 100 times more than the demo's still has most of them within the model's range,
      yet almost all above its band.

    This was chosen over a population stability index over the model's quantile bins: with values tied
    across bins (half the customers order once) the model's share per bin is not the step between levels
    and is not recorded, the index of two samples of one population grows with the number of bins over the
    number of customers (so a fixed 0.1/0.25 threshold alarms on a small file), and it cannot say which way
    or how many customers are off, which is what a user acts on.

    Parameters
    ----------
    bundle : ModelBundle
    table : DataFrame
        An RFM table indexed by customer id, with ``recency_days``, ``frequency``, ``monetary`` and the
        model's clustering features.

    Returns
    -------
    FitCheck
        Figures per feature and warnings; for a bundle saved before the model recorded its customers
        (format_version 1), no figures and one note saying so.

    Raises
    ------
    RFMInputError
        When the table lacks a feature the model needs.

    Examples
    --------
    >>> from rfm.bundle import load_bundle
    >>> from rfm.cleaning.analyse import analyse_file
    >>> bundle = load_bundle(open("out/model.json", "rb").read())  # doctest: +SKIP
    >>> check = check_fit(bundle, analyse_file("wholesale.csv").customers)  # doctest: +SKIP
    >>> check.far_off, check.warnings[0]  # doctest: +SKIP
    (('monetary',), "monetary: 100% of customers (92 of 92) lie above the model's largest value (41,633.52); ...")
    """
    check_provides(bundle, table)
    distribution = bundle.distribution
    customers = len(table)
    if distribution is None:
        return _not_checked(customers)
    figures = _figure_table(distribution, table)
    model_customers = bundle.fitted_customers
    return FitCheck(figures, _warnings(figures, customers, model_customers), (), customers, model_customers)


def _not_checked(customers: int) -> FitCheck:
    """The check of a file against a model that recorded no customers (format_version 1): no figures, one note."""
    note = (
        "This model was saved before RFM Studio recorded the customers a model was fitted on, so this file "
        "cannot be compared with them: save the model again from a fit to have each file checked."
    )
    return FitCheck(pd.DataFrame(columns=list(FIGURE_COLUMNS), index=pd.Index([], name="feature")), (), (note,), customers, None)


def _figure_table(distribution: pd.DataFrame, table: pd.DataFrame) -> pd.DataFrame:
    """:attr:`FitCheck.figures`: one row per feature of the model's ``distribution``, from the file's ``table``."""
    rows = {feature: _figures(quantiles, table[feature].to_numpy(dtype="float64")) for feature, quantiles in distribution.iterrows()}
    figures = pd.DataFrame.from_dict(rows, orient="index", columns=list(FIGURE_COLUMNS))
    figures.index.name = "feature"
    figures["far_off"] = figures["far_off"].astype(bool)
    return figures


def _warnings(figures: pd.DataFrame, customers: int, model_customers: int | None) -> tuple[str, ...]:
    """:attr:`FitCheck.warnings`: one sentence per far-off feature, then the summary; none when nothing is far off."""
    warnings = [_warning(feature, row, customers) for feature, row in figures[figures["far_off"]].iterrows()]
    if warnings:
        off = list(figures.index[figures["far_off"]])
        warnings.append(
            f"This file lies outside the model's range on {len(off)} of its {len(figures)} features ({', '.join(off)}): "
            f"the model was fitted on {model_customers:,} customers unlike these, so the segments and clusters it gives "
            "them may mislead; fit a new model on a file like this one before acting on them."
        )
    return tuple(warnings)


def _figures(quantiles: pd.Series, values: np.ndarray) -> dict:
    """One feature's row of :attr:`FitCheck.figures`; missing values are not counted as outside anything."""
    low, high = float(quantiles.iloc[0]), float(quantiles.iloc[-1])
    band_low, band_high = (float(quantiles[level]) for level in BAND_LEVELS)
    count = max(len(values), 1)  # shares of an empty file are 0
    finite = values[np.isfinite(values)]
    below, above = int((finite < low).sum()), int((finite > high).sum())
    below_band, above_band = int((finite < band_low).sum()), int((finite > band_high).sum())
    outside_band = below_band + above_band
    far_off = _many(below + above, count, OUTSIDE_RANGE_SHARE) or _many(outside_band, count, OUTSIDE_BAND_SHARE)
    described = (float(finite.min()), float(np.median(finite)), float(finite.max())) if len(finite) else (np.nan,) * 3
    return {
        "model_min": low, "model_p1": band_low, "model_median": float(quantiles[0.5]), "model_p99": band_high, "model_max": high,
        "file_min": described[0], "file_median": described[1], "file_max": described[2],
        "below_min": below / count, "below_p1": below_band / count, "above_p99": above_band / count, "above_max": above / count,
        "outside_band": outside_band / count, "far_off": far_off,
    }


def _many(count: int, customers: int, share: float) -> bool:
    """Whether ``count`` of ``customers`` is enough to call a feature far off: ``share`` of them, and a few."""
    return count >= MIN_CUSTOMERS_OFF and count / customers >= share


def _warning(feature: str, row: pd.Series, customers: int) -> str:
    """The sentence for one far-off feature: the customers outside the model's range when they are many
    (with those outside its 1-99% band when these are many and more), else those outside the band."""
    below, above = round(row["below_min"] * customers), round(row["above_max"] * customers)
    below_band, above_band = round(row["below_p1"] * customers), round(row["above_p99"] * customers)
    outside, banded = below + above, below_band + above_band
    if _many(outside, customers, OUTSIDE_RANGE_SHARE):
        tails = _many(banded, customers, OUTSIDE_BAND_SHARE) and banded > outside
        also = f", and {banded / customers:.0%} ({banded:,}) lie {_out_of_band(feature, row, below_band, above_band, 'its')}" if tails else ""
        return (
            f"{feature}: {outside / customers:.0%} of customers ({outside:,} of {customers:,}) lie "
            f"{_out_of_range(feature, row, below, above)}{also}; the model never saw customers like them, so their "
            "segments may not mean what they meant."
        )
    beyond = f", and {outside:,} even {_out_of_range(feature, row, below, above)}" if outside else ""
    where = _out_of_band(feature, row, below_band, above_band, "the model's")
    return (
        f"{feature}: {banded / customers:.0%} of customers ({banded:,} of {customers:,}) lie {where}{beyond}; the model saw few "
        "customers like them, so their segments may not mean what they meant."
    )


def _out_of_range(feature: str, row: pd.Series, below: int, above: int) -> str:
    """Where ``below`` + ``above`` customers lie relative to the model's smallest and largest values."""
    if below == 0:
        return f"above the model's largest value ({_value(feature, row['model_max'])})"
    if above == 0:
        return f"below the model's smallest value ({_value(feature, row['model_min'])})"
    return (
        f"outside the model's range ({_value(feature, row['model_min'])} to {_value(feature, row['model_max'])}), "
        f"{below:,} below and {above:,} above"
    )


def _out_of_band(feature: str, row: pd.Series, below: int, above: int, owner: str) -> str:
    """Where ``below`` + ``above`` customers lie relative to the model's 1% and 99% quantiles, and how many of
    the model's own customers lay there."""
    low, high = _value(feature, row["model_p1"]), _value(feature, row["model_p99"])
    if below == 0:
        return f"above {owner} 99th percentile ({high}), where at most {1 - BAND_LEVELS[1]:.0%} of its own customers lay"
    if above == 0:
        return f"below {owner} 1st percentile ({low}), where at most {BAND_LEVELS[0]:.0%} of its own customers lay"
    return (
        f"outside the range of {owner} middle 98% ({low} to {high}), {below:,} below and {above:,} above, where at most "
        f"{BAND_EXPECTED_SHARE:.0%} of its own customers lay"
    )


def _value(feature: str, value: float) -> str:
    """A figure as a user reads it: whole numbers without decimals, others with two, days with their unit."""
    text = f"{value:,.0f}" if float(value).is_integer() else f"{value:,.2f}"
    return f"{text} days" if feature in _DAY_FEATURES else text


def _rounded(value) -> float | None:
    value = float(value)
    return round(value, 6) if np.isfinite(value) else None
