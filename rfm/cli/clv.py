"""``rfm clv FILE --out DIR``: predicted customer value and churn per customer (a purchase model, by default the best of
BG/NBD, MBG/NBD and Pareto/NBD on a holdout check, and Gamma-Gamma), the models compared, and a holdout check."""

from __future__ import annotations

import argparse
import json
import math

from rfm.cli.options import EXIT_OK, add_file_options, analysed_file, cleaning_settings, say, warn, write_files
from rfm.errors import RFMInputError

HELP = "predictive customer lifetime value and churn (BG/NBD, MBG/NBD or Pareto/NBD, and Gamma-Gamma): per customer, and a holdout check"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from rfm.schema import PURCHASE_MODEL_CHOICES

    add_file_options(parser)
    parser.add_argument(
        "--model", choices=list(PURCHASE_MODEL_CHOICES), default="auto",
        help="purchase model: auto (default: the smallest holdout error, or the lowest BIC when the history is too short "
        "for a holdout), bgnbd, mbgnbd or pareto_nbd",
    )
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
    parser.add_argument("--out", required=True, metavar="DIR", help="folder to write clv.csv, models.csv (auto), holdout.csv, parameters.json")


def run(args: argparse.Namespace) -> int:
    from rfm import schema
    from rfm.outputs.files import csv_bytes, table_csv_bytes
    from rfm.value.predict import ValueSettings, compare_purchase_models, customer_value, fit_value, holdout

    settings = ValueSettings(args.horizon_days, args.months, args.discount_rate, args.margin, args.model)  # checked before the read
    analysis = analysed_file(args, cleaning_settings(args), with_orders=True)
    day = analysis.report.analysis_date
    # Only "auto" compares the three models (on the same holdout as the check below); a named one is fitted alone.
    selection = compare_purchase_models(analysis.orders, day, args.holdout_days) if args.model == "auto" else None
    model = fit_value(analysis.orders, day, args.model, selection=selection)
    say(f"purchase model: {model.why()}")
    for text in model.warnings + (selection.warnings if selection is not None else ()):
        warn(text)
    values = customer_value(model, settings)
    table = analysis.customers[[schema.RECENCY, schema.FREQUENCY, schema.MONETARY, schema.TENURE]].join(values)
    files = {"clv.csv": csv_bytes(table)}
    if selection is not None:
        files["models.csv"] = table_csv_bytes(selection.table().round(6), index=False)
    try:
        check = holdout(analysis.orders, day, args.holdout_days, model.purchase_model)
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
    """``parameters.json``: the purchase model (which, why, its parameters), Gamma-Gamma's, the settings and the
    holdout figures."""
    return {
        "file": analysis.read_info.file_name,
        "observation_end": analysis.report.analysis_date.isoformat(),
        "time_unit": "day",
        "settings": {
            "horizon_days": settings.horizon_days, "months": settings.months,
            "annual_discount_rate": settings.annual_discount_rate, "margin": settings.margin,
        },
        "purchase_model": {
            "model": model.purchase_model, "name": model.purchase_model_name, "decided_by": model.decided_by,
            "why": model.why(), "parameters": {name: round(float(v), 6) for name, v in model.purchases.params_.items()},
        },
        "gamma_gamma": None if model.gamma_gamma is None else {name: round(float(v), 6) for name, v in model.gamma_gamma.params_.items()},
        "warnings": list(model.warnings),
        "holdout": None if check is None else {
            "model": check.purchase_model,
            "calibration_end": check.calibration_end.isoformat(),
            "actual_purchases": check.actual_total,
            "predicted_purchases": round(check.predicted_total, 2),
            "mean_absolute_error_per_customer": round(check.error, 4),
        },
    }
