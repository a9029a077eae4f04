"""Value: the order table in; predicted customer value out: BG/NBD and Gamma-Gamma fitted by maximum likelihood
(``models``), P(alive), expected purchases and CLV per customer and the holdout check (``predict``). Uses: ``rfm.cleaning``.
"""

from rfm._exports import lazy_exports

__all__ = [
    "BetaGeoModel",
    "GammaGammaModel",
    "Holdout",
    "ValueModel",
    "ValueSettings",
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
        "ValueModel": "predict",
        "ValueSettings": "predict",
        "customer_value": "predict",
        "fit_value": "predict",
        "holdout": "predict",
    },
)
