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


def test_uploads_arriving_together_are_counted_against_the_budget():
    """Ten big uploads checked at the same moment, before any has grown: only those the budget holds are admitted."""
    import threading

    from rfm.reading.memory import Admissions

    admissions, answers = Admissions(), {}
    start = threading.Barrier(10)
    needed = memory_needed_mb("w.xlsx", 40_000_000)  # 1,000 MB each

    def upload(user: int) -> None:
        start.wait()
        answers[user] = admissions.admit(f"user{user}", f"w{user}.xlsx", 40_000_000, used_mb=400, budget_mb=3_500)

    threads = [threading.Thread(target=upload, args=(user,)) for user in range(10)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    admitted = [user for user, message in answers.items() if message is None]
    assert len(admitted) == 3 and admissions.promised_mb() == 3 * needed  # 400 + 3 x 1,000 <= 3,500 < 400 + 4 x 1,000
    refusal = next(message for message in answers.values() if message)
    assert "is reading 3 more big files that need about 3,000 MB" in refusal
    for user in admitted:
        admissions.release(f"user{user}")
    assert admissions.promised_mb() == 0
    assert admissions.admit("late", "w.xlsx", 40_000_000, used_mb=400, budget_mb=3_500) is None


def test_a_promise_is_replaced_by_the_same_session_and_expires():
    from rfm.reading.memory import Admissions

    admissions = Admissions(expire_s=0.0)
    assert admissions.admit("ana", "a.xlsx", 40_000_000, used_mb=0, budget_mb=1_500) is None
    assert admissions.admit("bob", "b.xlsx", 40_000_000, used_mb=0, budget_mb=1_500) is None  # ana's has expired
    admissions = Admissions()
    assert admissions.admit("ana", "a.xlsx", 40_000_000, used_mb=0, budget_mb=1_500) is None
    assert admissions.admit("ana", "b.xlsx", 40_000_000, used_mb=0, budget_mb=1_500) is None  # her next file replaces it
    assert admissions.promised_mb() == memory_needed_mb("b.xlsx", 40_000_000)
    assert admissions.admit("bob", "small.csv", 1_000, used_mb=0, budget_mb=1_500) is None  # small files: no promise
    assert admissions.promised_mb() == memory_needed_mb("b.xlsx", 40_000_000)


def test_the_server_memory_counts_its_worker_processes():
    import os
    import subprocess
    import sys

    from rfm.reading.memory import descendants, process_tree_rss_mb

    alone = process_tree_rss_mb()
    child = subprocess.Popen([sys.executable, "-c", "import time; x = bytearray(50_000_000); time.sleep(30)"])
    try:
        import time

        for _ in range(100):  # until the child has its 50 MB
            if process_tree_rss_mb() > alone + 40:
                break
            time.sleep(0.1)
        assert child.pid in descendants(os.getpid())
        assert process_tree_rss_mb() > alone + 40
    finally:
        child.kill()
        child.wait()
