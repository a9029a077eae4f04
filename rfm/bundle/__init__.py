"""The saved model (``model.json``): a fitted segmentation and clustering in, a validated bundle out; a bundle and
new customers in, their labels out (``model``), a check that a file lies within what the model saw (``drift``), and
the what-if panel's answers (``whatif``). Uses: ``rfm.scoring`` and ``rfm.clustering``.
"""

from rfm._exports import lazy_exports

__all__ = ["FitCheck", "ModelBundle", "build_bundle", "check_fit", "load_bundle", "moves_up", "predict"]

__getattr__, __dir__ = lazy_exports(
    __name__,
    {
        "ModelBundle": "model",
        "build_bundle": "model",
        "load_bundle": "model",
        "FitCheck": "drift",
        "check_fit": "drift",
        "predict": "whatif",
        "moves_up": "whatif",
    },
)
