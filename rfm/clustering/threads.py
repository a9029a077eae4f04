"""One thread for BLAS and OpenMP while clustering, without listing the process's libraries on every call.

``threadpoolctl.threadpool_limits(1)`` walks every shared library the process has loaded each time it is entered:
in the app's server (pyarrow, DuckDB, SciPy...) a few to twenty milliseconds, and a first visit to the Clusters
page entered it nine times. :func:`limit_threads` sets the same limits from one controller made once.
"""

from __future__ import annotations

from contextlib import AbstractContextManager
from functools import lru_cache
from typing import Any


@lru_cache(maxsize=1)
def _controller() -> Any:
    import sklearn.cluster  # noqa: F401  (loads scikit-learn's OpenMP runtime: it must be listed to be limited)
    from threadpoolctl import ThreadpoolController

    return ThreadpoolController()


def limit_threads(limits: int = 1) -> AbstractContextManager[Any]:
    """A context manager limiting BLAS and OpenMP to ``limits`` threads, as ``threadpool_limits(limits)`` does.

    One thread by default: two fight each other on a busy 2-core machine (see :mod:`rfm.clustering.sweep`).

    Examples
    --------
    >>> with limit_threads(1):
    ...     pass
    """
    return _controller().limit(limits=limits)
