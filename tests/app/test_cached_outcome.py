"""``ui.cache.cached_outcome``: a refusal of the data (``RFMInputError``) is cached like a result, so a model the data
cannot fit is not fitted again on every rerun; other exceptions are not kept."""

import pytest

from rfm.errors import RFMInputError, TooLittleDataError
from ui.cache import cached_outcome

calls: list[int] = []


@cached_outcome(max_entries=8)
def fit(x: int, _data: bytes) -> int:
    calls.append(x)
    if x < 0:
        raise TooLittleDataError(f"Too few customers: {x}.")
    if x == 0:
        raise ZeroDivisionError("not the data's fault")
    return 2 * x


@pytest.fixture(autouse=True)
def no_calls():
    calls.clear()


def test_a_result_is_computed_once_per_key():
    assert fit(2, b"a") == 4
    assert fit(2, b"b") == 4  # _data is not part of the key, as with st.cache_data
    assert fit(3, b"a") == 6
    assert calls == [2, 3]


def test_a_refusal_is_computed_once_and_raised_again_as_it_was():
    for _ in range(3):
        with pytest.raises(TooLittleDataError, match=r"^Too few customers: -1\.$") as raised:
            fit(-1, b"")
        assert isinstance(raised.value, RFMInputError)
    assert calls == [-1]


def test_any_other_exception_is_not_kept():
    for _ in range(2):
        with pytest.raises(ZeroDivisionError):
            fit(0, b"")
    assert calls == [0, 0]
