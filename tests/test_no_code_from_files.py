"""Nothing in the project can run code that comes from a file: no pickle, joblib, marshal or shelve,
no eval or exec. Model bundles are JSON validated against a schema (tests/test_model.py)."""

from __future__ import annotations

import io
import tokenize
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
FORBIDDEN = {
    "pickle", "cPickle", "dill", "joblib", "marshal", "shelve", "read_pickle", "to_pickle", "allow_pickle",
    "eval", "exec", "__import__",
}


def _python_files() -> list[Path]:
    skip = {".venv", ".git", "node_modules", "__pycache__"}
    return sorted(p for p in ROOT.rglob("*.py") if not skip & set(p.relative_to(ROOT).parts))


def _names(path: Path) -> list[tuple[int, str]]:
    """Names used in code (comments and strings, e.g. this module's docstring, do not count)."""
    tokens = tokenize.generate_tokens(io.StringIO(path.read_text(encoding="utf-8")).readline)
    return [(token.start[0], token.string) for token in tokens if token.type == tokenize.NAME]


def test_no_file_can_run_code():
    files = _python_files()
    assert len(files) > 50 and ROOT / "rfm" / "bundle" / "model.py" in files
    found = [
        f"{path.relative_to(ROOT)}:{line}: {name}"
        for path in files
        if path.name != Path(__file__).name
        for line, name in _names(path)
        if name in FORBIDDEN
    ]
    assert not found, "code that could run what a file holds:\n" + "\n".join(found)


def test_the_check_finds_what_it_looks_for(tmp_path):
    sample = tmp_path / "sample.py"
    sample.write_text('import pickle\n# eval in a comment\nx = "exec in a string"\nvalue = eval(x)\n')
    assert [name for _, name in _names(sample) if name in FORBIDDEN] == ["pickle", "eval"]
