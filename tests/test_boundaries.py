"""House rules that keep the library a plain Python library."""

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
LIBRARY = sorted((ROOT / "rfm").rglob("*.py"))


def _imported_modules(path: Path) -> set[str]:
    modules = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            modules |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            modules.add(node.module.split(".")[0])
    return modules


def test_library_never_imports_streamlit():
    assert LIBRARY, "rfm/ has no modules"
    offenders = [path.name for path in LIBRARY if "streamlit" in _imported_modules(path)]
    assert offenders == []


def _calls(path: Path) -> set[str]:
    """Dotted names of everything the module calls, e.g. ``pickle.loads``, ``eval``."""
    names = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Call):
            func = node.func
            if isinstance(func, ast.Name):
                names.add(func.id)
            elif isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name):
                names.add(f"{func.value.id}.{func.attr}")
    return names


def test_nothing_unpickles_or_evaluates_user_data():
    forbidden = {"eval", "exec", "pickle.load", "pickle.loads", "joblib.load"}
    sources = LIBRARY + sorted((ROOT / "pages").glob("*.py")) + sorted((ROOT / "ui").glob("*.py")) + [ROOT / "streamlit_app.py", ROOT / "app.py"]
    offenders = {path.name: sorted(_calls(path) & forbidden) for path in sources if _calls(path) & forbidden}
    assert offenders == {}


APP_SCRIPTS = sorted([ROOT / "app.py", ROOT / "streamlit_app.py", *(ROOT / "pages").glob("*.py"), *ROOT.glob("ui*.py"), *(ROOT / "ui").rglob("*.py")])


def test_icons_are_material_icons_not_emoji():
    """Emoji draw as empty boxes where no emoji font is installed; Material icons ship with Streamlit's own font."""
    offenders = []
    for path in APP_SCRIPTS:
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            keyword = isinstance(node, ast.keyword) and node.arg in ("icon", "page_icon") and isinstance(node.value, ast.Constant)
            if keyword and not str(node.value.value).startswith(":material/"):
                offenders.append(f"{path.name}:{node.value.lineno} {node.value.value!r}")
    assert offenders == []


def _unannotated(path: Path) -> list[str]:
    """Public functions and methods of ``path`` with an argument or the return left untyped."""
    missing = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and not node.name.startswith("_"):
            arguments = node.args.posonlyargs + node.args.args + node.args.kwonlyargs
            untyped = [a.arg for a in arguments if a.annotation is None and a.arg not in ("self", "cls")]
            untyped += [f"*{a.arg}" for a in (node.args.vararg, node.args.kwarg) if a is not None and a.annotation is None]
            if untyped or node.returns is None:
                missing.append(f"{path.relative_to(ROOT)}:{node.lineno} {node.name}({', '.join(untyped)})" + ("" if node.returns else " -> ?"))
    return missing


def test_every_public_function_of_the_library_is_typed():
    """The public API is typed (mypy checks it in make check): every argument and every return of a public function."""
    assert [line for path in LIBRARY for line in _unannotated(path)] == []


MAX_FUNCTION_LINES = 60


def test_no_function_of_the_library_is_longer_than_60_lines():
    """From ``def`` to its last line, docstring included: a longer function is split into named steps."""
    long = [
        f"{path.relative_to(ROOT)}:{node.lineno} {node.name} ({node.end_lineno - node.lineno + 1} lines)"
        for path in LIBRARY
        for node in ast.walk(ast.parse(path.read_text(), str(path)))
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.end_lineno - node.lineno + 1 > MAX_FUNCTION_LINES
    ]
    assert long == []


def _comments_and_docstrings(path: Path) -> list[tuple[int, str]]:
    source = path.read_text()
    texts = [(number, line.split("#", 1)[1]) for number, line in enumerate(source.splitlines(), 1) if "#" in line]
    for node in ast.walk(ast.parse(source, str(path))):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)) and ast.get_docstring(node):
            first = node.body[0].lineno
            texts += [(first + offset, line) for offset, line in enumerate(ast.get_docstring(node).splitlines())]
    return texts


def test_timings_are_measured_in_bench_not_quoted_in_the_code():
    """Figures such as "about 1.5 s" or "300 ms" go stale; they belong in bench/RESULTS.md, with how they were measured."""
    import re

    timing = re.compile(r"\b\d+(\.\d+)?\s?(ms|s|sec|seconds|minutes)\b(?!-)")
    quoted = [
        f"{path.relative_to(ROOT)}:{number} {text.strip()}"
        for path in LIBRARY
        for number, text in _comments_and_docstrings(path)
        if timing.search(text)
    ]
    assert quoted == []
