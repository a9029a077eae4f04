"""Value: the order table in; predicted customer value out: BG/NBD and Gamma-Gamma fitted by maximum likelihood
(``models``), P(alive), expected purchases and CLV per customer and the holdout check (``predict``); the churn models
beside BG/NBD, MBG/NBD (``mbg_nbd``) and Pareto/NBD (``pareto_nbd``), their comparison and the churn fields per
customer (``churn``); ``predict`` also compares the three purchase models and uses the best on a holdout check, or
the one chosen. Uses: ``rfm.cleaning``.
"""

from rfm._exports import lazy_exports

__all__ = [
    "BetaGeoModel",
    "GammaGammaModel",
    "Holdout",
    "ModelComparison",
    "ModelFit",
    "ModelSelection",
    "ModifiedBetaGeoModel",
    "ParetoNBDModel",
    "PurchaseModel",
    "ValueModel",
    "ValueSettings",
    "churn_table",
    "compare_models",
    "compare_purchase_models",
    "customer_value",
    "fit_value",
    "holdout",
]

__getattr__, __dir__ = lazy_exports(
    __name__,
    {
        "BetaGeoModel": "models",
        "GammaGammaModel": "models",
        "Holdout": "predict",
        "ModelComparison": "churn",
        "ModelFit": "churn",
        "ModelSelection": "predict",
        "ModifiedBetaGeoModel": "mbg_nbd",
        "ParetoNBDModel": "pareto_nbd",
        "PurchaseModel": "models",
        "ValueModel": "predict",
        "ValueSettings": "predict",
        "churn_table": "churn",
        "compare_models": "churn",
        "compare_purchase_models": "predict",
        "customer_value": "predict",
        "fit_value": "predict",
        "holdout": "predict",
    },
)
