"""limit_threads: the limits of ``threadpoolctl.threadpool_limits``, from one controller made once."""

import sklearn.cluster  # noqa: F401  (loads the BLAS and OpenMP libraries a fit uses, as before any fit)
from threadpoolctl import threadpool_info, threadpool_limits

from rfm.clustering.threads import limit_threads


def _threads() -> dict[str, int]:
    return {info["filepath"]: info["num_threads"] for info in threadpool_info()}


def test_limits_every_library_like_threadpool_limits_and_restores_them():
    before = _threads()
    with threadpool_limits(1):
        expected = _threads()
    with limit_threads(1):
        assert _threads() == expected
        assert set(expected.values()) == {1} and len(expected) >= 2  # BLAS and OpenMP at least
    assert _threads() == before


def test_nests_and_restores_the_outer_limit():
    with limit_threads(1):
        with limit_threads(2):
            pass
        assert set(_threads().values()) == {1}
