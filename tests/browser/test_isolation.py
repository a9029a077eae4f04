"""Sessions are isolated: two users on one server each see only their own file, metrics and downloads.

The browser test runs two Playwright contexts (two users, two Streamlit sessions) against one ``streamlit run``
server and interleaves their steps (upload A, upload B, check A, check B, download A, download B), so a cache
keyed on the wrong thing or a module-level global would show as one user seeing the other's customers. The two
files are generated here with disjoint customer ids, so the test needs no shared data.

The static test reads the app's source: no ``st.cache_resource`` (one object shared by every session), and no
mutable module-level state in the modules that live for the whole server process.

Environment: as tests/test_browser.py (``RFM_REQUIRE_BROWSER=1`` fails instead of skipping, ``RFM_CHROMIUM``).
"""

from __future__ import annotations

import ast
import contextlib
import re
from pathlib import Path

import pytest

from devkit.browser import assert_no_exception, caption, live, metric_value, settled
from devkit.data import customer_ids, transactions_csv
from tests.browser.conftest import launched_chromium, served_app

pytestmark = pytest.mark.browser

REPO = Path(__file__).resolve().parents[2]
WAIT_MS = 45_000  # two sessions share two cores: each expectation may wait longer than in the one-user journey


# --- generated files ----------------------------------------------------------------------------


# --- static check: nothing shared between sessions ------------------------------------------------

UI_FILES = sorted((REPO / "ui").glob("*.py"))
APP_FILES = [REPO / "streamlit_app.py", *UI_FILES, *sorted((REPO / "pages").glob("*.py"))]
LIBRARY_FILES = sorted((REPO / "rfm").rglob("*.py"))

#: Calls whose result is immutable (or a lock-free constant) and may be bound at module level of the ui package.
IMMUTABLE_CALLS = {"TypeVar", "frozenset", "tuple", "re.compile", "Path"}
#: The one process-wide object the ui package may hold, by (file, name): ui.preload's count of the script runs under
#: way, the time the last ended and a lock, so that work ahead of the users waits for a quiet server. A count and a
#: time: no session's data.
PROCESS_WIDE = {("preload.py", "_ACTIVITY")}


def _is_constant(node: ast.expr, frozen_classes: set[str]) -> bool:
    """An expression that cannot hold per-user state: literals, tuples/frozensets of constants, frozen dataclasses."""
    if isinstance(node, ast.Constant):
        return True
    if isinstance(node, ast.Tuple):
        return all(_is_constant(element, frozen_classes) for element in node.elts)
    if isinstance(node, (ast.Name, ast.Attribute)):  # another module's constant (an upper-case name) or a class
        name = node.id if isinstance(node, ast.Name) else node.attr
        return name.isupper() or name in frozen_classes
    if isinstance(node, ast.BinOp):
        return _is_constant(node.left, frozen_classes) and _is_constant(node.right, frozen_classes)
    if isinstance(node, ast.Call):
        callee = ast.unparse(node.func)
        return (callee in IMMUTABLE_CALLS or callee in frozen_classes) and all(
            _is_constant(argument, frozen_classes) for argument in node.args
        )
    return False


def _frozen_dataclasses(tree: ast.Module) -> set[str]:
    names = set()
    for node in tree.body:
        if isinstance(node, ast.ClassDef):
            for decorator in node.decorator_list:
                if isinstance(decorator, ast.Call) and any(
                    keyword.arg == "frozen" and getattr(keyword.value, "value", False) for keyword in decorator.keywords
                ):
                    names.add(node.name)
    return names


def test_no_cache_resource_in_app_or_library() -> None:
    """``st.cache_resource`` hands every session the same object: one user's mutation would reach all of them."""
    offenders = [
        f"{path.relative_to(REPO)}:{number}"
        for path in APP_FILES + LIBRARY_FILES
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1)
        if "cache_resource" in line or "experimental_singleton" in line
    ]
    assert offenders == []


@pytest.mark.parametrize("path", UI_FILES, ids=lambda path: path.name)
def test_ui_modules_hold_no_mutable_state(path: Path) -> None:
    """The ui package is imported once per server process and shared by every session: its module-level names must
    be constants (strings, tuples, frozen dataclasses), never a dict, list or set a session could fill."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    frozen = _frozen_dataclasses(tree)
    mutable = []
    for node in tree.body:
        if isinstance(node, (ast.Assign, ast.AnnAssign)) and node.value is not None:
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            if [ast.unparse(target) for target in targets] == ["__all__"]:
                continue  # the public names: read, never written
            if [(path.name, ast.unparse(target)) for target in targets] in ([entry] for entry in PROCESS_WIDE):
                continue
            if not _is_constant(node.value, frozen):
                mutable.append(f"{path.name}:{node.lineno} {', '.join(map(ast.unparse, targets))} = {ast.unparse(node.value)[:60]}")
    assert mutable == []
    # and no function rebinds a module global
    globals_used = [f"{path.name}:{n.lineno} global {', '.join(n.names)}" for n in ast.walk(tree) if isinstance(n, ast.Global)]
    assert globals_used == []


def test_pages_do_not_write_shared_state() -> None:
    """Page scripts run afresh in their own namespace on every rerun, so their top-level names are per run. What
    would leak between sessions is a page writing into a module that outlives the run (``ui.X = ...``,
    ``st.X = ...``, ``rfm....``) or using ``global``; the only mutable module-level containers a page may bind
    are the per-run ones listed here."""
    per_run_containers = {
        ("data.py", "FILE_TYPES"), ("data.py", "mapping_rows"), ("clusters.py", "labels"),
        ("trends.py", "LEAVE_OPTIONS"), ("trends.py", "notes"),
    }
    problems = []
    for path in APP_FILES:
        if path in UI_FILES:
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, (ast.Global, ast.Nonlocal)):
                problems.append(f"{path.name}:{node.lineno} {type(node).__name__.lower()} {', '.join(node.names)}")
            targets = node.targets if isinstance(node, ast.Assign) else [node.target] if isinstance(node, (ast.AnnAssign, ast.AugAssign)) else []
            for target in targets:
                root = target
                while isinstance(root, (ast.Attribute, ast.Subscript)):
                    root = root.value
                if target is not root and isinstance(root, ast.Name) and root.id in {"ui", "st", "rfm", "schema"}:
                    if ast.unparse(target).startswith("st.session_state"):
                        continue  # per-session by design
                    problems.append(f"{path.name}:{node.lineno} writes {ast.unparse(target)}")
        for node in tree.body:
            if isinstance(node, ast.Assign) and isinstance(node.value, (ast.List, ast.Dict, ast.Set, ast.ListComp, ast.DictComp, ast.SetComp)):
                for target in node.targets:
                    if (path.name, ast.unparse(target)) not in per_run_containers:
                        problems.append(f"{path.name}:{node.lineno} module-level container {ast.unparse(target)}")
    assert problems == []


# --- the browser test: two users at once ----------------------------------------------------------


@pytest.fixture(scope="module")
def browser():
    yield from launched_chromium()


@pytest.fixture(scope="module")
def app_url(browser, tmp_path_factory: pytest.TempPathFactory):
    """One ``streamlit run`` server for both users (its own process group, killed at the end)."""
    yield from served_app(tmp_path_factory)


def _open_export(page) -> None:
    from playwright.sync_api import expect

    page.get_by_test_id("stSidebarNavLink").filter(has_text="Export").click()
    expect(page.get_by_role("heading", name="Export", exact=True)).to_be_visible(timeout=WAIT_MS)


def _check_export(page, name: str, expected: dict[str, int]) -> None:
    """The Export page describes this user's file and its segment buttons add up to this user's customers."""
    from playwright.sync_api import expect

    expect(caption(page, f"customers of {name}")).to_have_text(
        re.compile(rf"^{expected['customers']:,} customers of {re.escape(name)}, "), timeout=WAIT_MS
    )
    everyone = live(page, ".st-key-export_all_csv").get_by_role("button")
    expect(everyone).to_contain_text(f"Every customer ({expected['customers']:,}, one CSV)", timeout=WAIT_MS)
    buttons = live(page, '[class*="st-key-export_csv_"]').get_by_role("button")
    expect(buttons.first).to_have_text(re.compile(r".+ \(\d[\d,]*\)$"), timeout=WAIT_MS)
    settled(page, WAIT_MS)  # every segment's button drawn, not only the first (CI once read two of three)
    sizes = [
        int(re.search(r"\((\d[\d,]*)\)$", button.get_by_test_id("stMarkdownContainer").inner_text().strip()).group(1).replace(",", ""))
        for button in buttons.all()
    ]
    assert sum(sizes) == expected["customers"], f"{name}: segment sizes {sizes} do not add up to {expected['customers']}"
    assert_no_exception(page)


def test_two_users_uploading_at_once_see_only_their_own_data(browser, app_url: str, tmp_path: Path) -> None:
    from playwright.sync_api import expect

    users = {
        "a": (tmp_path / "shop_a.csv", 10_001, 60, 1),
        "b": (tmp_path / "shop_b.csv", 20_001, 85, 2),
    }
    files, expected, own_ids, pages, contexts = {}, {}, {}, {}, []
    for user, (path, first_id, customers, seed) in users.items():
        files[user] = path
        expected[user] = transactions_csv(path, first_id, customers, seed)
        own_ids[user] = {str(first_id + index) for index in range(customers)}
    assert expected["a"]["rows"] != expected["b"]["rows"]
    try:
        for user in users:
            context = browser.new_context(viewport={"width": 1400, "height": 2000})
            contexts.append(context)
            pages[user] = context.new_page()
            pages[user].set_default_timeout(WAIT_MS)
            pages[user].goto(app_url)
        for page in pages.values():
            expect(page.get_by_role("heading", name="Demo data: demo_online_retail.xlsx")).to_be_visible(timeout=WAIT_MS)

        # Upload A, then B straight away: both files are being read at the same time.
        for user, page in pages.items():
            page.locator('[data-testid="stFileUploader"] input[type="file"]').set_input_files(files[user])

        # Check A, then B: heading and metrics are each user's own.
        for user, page in pages.items():
            other = "b" if user == "a" else "a"
            expect(page.get_by_role("heading", name=files[user].name)).to_be_visible(timeout=WAIT_MS)
            expect(page.get_by_role("heading", name=files[other].name)).to_have_count(0)
            expect(metric_value(page, "Rows read")).to_have_text(f"{expected[user]['rows']:,}", timeout=WAIT_MS)
            expect(metric_value(page, "Rows kept")).to_have_text(f"{expected[user]['rows']:,}", timeout=WAIT_MS)
            expect(metric_value(page, "Customers")).to_have_text(f"{expected[user]['customers']:,}", timeout=WAIT_MS)
            assert_no_exception(page)

        # Both open Export (their sweeps and fits run at the same time), then each checks its own page.
        for page in pages.values():
            page.get_by_test_id("stSidebarNavLink").filter(has_text="Export").click()
        for user, page in pages.items():
            expect(page.get_by_role("heading", name="Export", exact=True)).to_be_visible(timeout=WAIT_MS)
            _check_export(page, files[user].name, expected[user])

        # Download A, then B: every customer in one CSV, and only this user's ids in it.
        for user, page in pages.items():
            with page.expect_download() as download:
                live(page, ".st-key-export_all_csv").get_by_role("button").click()
            path = tmp_path / f"{user}-{download.value.suggested_filename}"
            download.value.save_as(path)
            ids = customer_ids(path)
            assert ids == own_ids[user], (
                f"user {user}: {len(ids - own_ids[user])} foreign ids (e.g. {sorted(ids - own_ids[user])[:3]}), "
                f"{len(own_ids[user] - ids)} own ids missing"
            )
            first_list = live(page, ".st-key-export_csv_0").get_by_role("button")
            with page.expect_download() as download:
                first_list.click()
            path = tmp_path / f"{user}-{download.value.suggested_filename}"
            download.value.save_as(path)
            ids = customer_ids(path)
            assert ids and ids <= own_ids[user], f"user {user}: the first segment's list holds another user's ids"
            assert_no_exception(page)

        # Back on the Data page, each session still holds its own file (nothing was swapped meanwhile).
        for page in pages.values():
            page.get_by_test_id("stSidebarNavLink").filter(has_text="Data").click()
        for user, page in pages.items():
            expect(page.get_by_role("heading", name=files[user].name)).to_be_visible(timeout=WAIT_MS)
            expect(metric_value(page, "Customers")).to_have_text(f"{expected[user]['customers']:,}", timeout=WAIT_MS)
    finally:
        for user, page in pages.items():
            with contextlib.suppress(Exception):  # never hide the test's own error behind a screenshot error
                page.screenshot(path=tmp_path / f"last-{user}.png")
        for context in contexts:
            context.close()
