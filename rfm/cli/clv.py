"""``rfm clv FILE --out DIR``: predicted customer value (BG/NBD and Gamma-Gamma) per customer, and a holdout check."""

from __future__ import annotations

import argparse
import json
import math

from rfm.cli.options import EXIT_OK, add_file_options, analysed_file, cleaning_settings, say, warn, write_files
from rfm.errors import RFMInputError

HELP = "predictive customer lifetime value (BG/NBD and Gamma-Gamma): per customer, and a holdout check"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_file_options(parser)
    parser.add_argument("--horizon-days", type=int, default=90, metavar="N", help="expected purchases over the next N days (default 90)")
    parser.add_argument("--months", type=int, default=12, metavar="N", help="CLV over the next N months (default 12)")
    parser.add_argument("--discount-rate", type=float, default=0.10, metavar="R", help="yearly discount rate of future revenue (default 0.10)")
    parser.add_argument(
        "--margin", type=float, default=1.0, metavar="M", help="share of revenue that is profit, applied to the CLV (default 1: CLV as revenue)"
    )
    parser.add_argument(
        "--holdout-days", type=int, default=None, metavar="N",
        help="fit on all but the last N days and compare predicted with actual purchases in them (default: a third of the period)",
    )
    parser.add_argument("--out", required=True, metavar="DIR", help="folder to write clv.csv, holdout.csv, parameters.json")


def run(args: argparse.Namespace) -> int:
    from rfm import schema
    from rfm.outputs.files import csv_bytes, table_csv_bytes
    from rfm.value.predict import ValueSettings, customer_value, fit_value, holdout

    settings = ValueSettings(args.horizon_days, args.months, args.discount_rate, args.margin)  # checked before the read
    analysis = analysed_file(args, cleaning_settings(args), with_orders=True)
    day = analysis.report.analysis_date
    model = fit_value(analysis.orders, day)
    for text in model.warnings:
        warn(text)
    values = customer_value(model, settings)
    table = analysis.customers[[schema.RECENCY, schema.FREQUENCY, schema.MONETARY, schema.TENURE]].join(values)
    files = {"clv.csv": csv_bytes(table)}
    try:
        check = holdout(analysis.orders, day, args.holdout_days)
    except RFMInputError as error:
        check = None
        warn(f"no holdout check: {error}")
    if check is not None:
        files["holdout.csv"] = table_csv_bytes(check.table.round(6), index=False)
    files["parameters.json"] = json.dumps(_parameters(analysis, model, settings, check), indent=2, ensure_ascii=False).encode("utf-8")
    write_files(args.out, files)
    total = values[schema.PREDICTED_CLV].sum(min_count=1)
    worth = "" if math.isnan(total) else f", predicted CLV {total:,.2f} over {settings.months} months"
    expected = values[schema.EXPECTED_PURCHASES].sum()
    say(f"wrote {len(files)} files to {args.out}: {len(values):,} customers, {expected:,.0f} purchases expected in {settings.horizon_days} days{worth}")
    return EXIT_OK


def _parameters(analysis, model, settings, check) -> dict:
    """``parameters.json``: both models' parameters, the settings and the holdout figures."""
    return {
        "file": analysis.read_info.file_name,
        "observation_end": analysis.report.analysis_date.isoformat(),
        "time_unit": "day",
        "settings": {
            "horizon_days": settings.horizon_days, "months": settings.months,
            "annual_discount_rate": settings.annual_discount_rate, "margin": settings.margin,
        },
        "bgnbd": {name: round(float(v), 6) for name, v in model.bgnbd.params_.items()},
        "gamma_gamma": None if model.gamma_gamma is None else {name: round(float(v), 6) for name, v in model.gamma_gamma.params_.items()},
        "warnings": list(model.warnings),
        "holdout": None if check is None else {
            "calibration_end": check.calibration_end.isoformat(),
            "actual_purchases": check.actual_total,
            "predicted_purchases": round(check.predicted_total, 2),
            "mean_absolute_error_per_customer": round(check.error, 4),
        },
    }
