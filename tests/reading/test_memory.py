"""The memory a file needs, and when a server refuses it: small files always pass; a big one passes while the server
has room under its budget, and is refused with the figures otherwise."""

from __future__ import annotations

import doctest

import pytest

from rfm.reading import memory
from rfm.reading.memory import BIG_UPLOAD_MB, busy_message, memory_needed_mb


def test_doctests() -> None:
    assert doctest.testmod(memory, optionflags=doctest.NORMALIZE_WHITESPACE).failed == 0


@pytest.mark.parametrize(("name", "per_byte"), [("a.XLSX", 25), ("a.ods", 25), ("a.csv", 6), ("a.parquet", 4), ("a.dat", 25)])
def test_the_need_follows_the_format(name, per_byte):
    assert memory_needed_mb(name, 2_000_000) == pytest.approx(2 * per_byte)


def test_the_budget_decides_only_for_big_files():
    big = int(BIG_UPLOAD_MB / 25 * 1e6) + 1  # a workbook just big enough to count
    assert busy_message("small.xlsx", big - 1_000, used_mb=10**6, budget_mb=1) is None
    assert busy_message("big.xlsx", big, used_mb=0, budget_mb=BIG_UPLOAD_MB + 1) is None  # room for it
    refusal = busy_message("big.xlsx", big, used_mb=50, budget_mb=BIG_UPLOAD_MB + 1)
    assert refusal is not None and refusal.startswith("The server is busy: it holds 50 MB for other analyses, and big.xlsx needs about 100 MB")
    assert "\n" not in refusal and refusal.endswith("python -m rfm inspect FILE.")
