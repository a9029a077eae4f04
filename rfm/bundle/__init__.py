"""The saved model (``model.json``).

In: a fitted segmentation and clustering (``build``: :func:`build_bundle`), or the bytes of a saved file (``model``:
:func:`load_bundle`), checked against the format first (``validate``). Out: a :class:`ModelBundle`, which labels new
customers as the fit did (``model``: :meth:`ModelBundle.score`); a check that a file lies within what the model saw
(``drift``: :func:`check_fit`); and the what-if panel's answers (``whatif``: :func:`predict`, :func:`moves_up`).

Modules depend one way: ``validate`` <- ``model`` <- ``build``, ``drift``, ``whatif``.
Uses: ``rfm.scoring`` and ``rfm.clustering``.
"""

from rfm._exports import lazy_exports

__all__ = ["FitCheck", "ModelBundle", "build_bundle", "check_fit", "load_bundle", "moves_up", "predict"]

__getattr__, __dir__ = lazy_exports(
    __name__,
    {
        "ModelBundle": "model",
        "load_bundle": "model",
        "build_bundle": "build",
        "FitCheck": "drift",
        "check_fit": "drift",
        "predict": "whatif",
        "moves_up": "whatif",
    },
)
