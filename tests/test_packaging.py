"""The package installs: `pip install .` into a fresh virtual environment gives a working `rfm` command.

The install is offline: the new environment (made without pip) sees this environment's site-packages through a
``.pth`` file, so the dependencies, pip and setuptools are the ones already here, and pip builds with
``--no-deps --no-build-isolation --no-index``. The source is a copy of what
git tracks, so the test installs what a clean clone would, and leaves no ``build/`` or ``*.egg-info`` in the tree.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sysconfig
import tomllib
import venv
from pathlib import Path

import pytest

import rfm
from rfm.demo import DEMO_PATH

ROOT = Path(__file__).resolve().parents[1]
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())


def _requirements(name: str) -> set[str]:
    """The requirement lines of ``requirements*.txt``, without comments, includes and spaces."""
    lines = (line.split("#")[0].strip() for line in (ROOT / name).read_text().splitlines())
    return {line.replace(" ", "") for line in lines if line and not line.startswith("-r")}


def test_one_version_source():
    assert PYPROJECT["project"]["dynamic"] == ["version"]
    assert PYPROJECT["tool"]["setuptools"]["dynamic"]["version"] == {"attr": "rfm.__version__"}
    assert re.fullmatch(r"\d+\.\d+\.\d+", rfm.__version__)


def test_dependencies_match_the_requirement_files():
    """`make` installs requirements*.txt and pip the pyproject ranges: the same sets, so they cannot drift apart."""
    project = PYPROJECT["project"]
    extras = project["optional-dependencies"]
    assert set(project["dependencies"]) | set(extras["app"]) == _requirements("requirements.txt")
    assert set(extras["spark"]) == _requirements("requirements-spark.txt")
    assert set(extras["test"]) - set(extras["app"]) == _requirements("requirements-test.txt")
    assert not any(dep.startswith("streamlit") for dep in project["dependencies"]), "the library must not need the app"


def test_console_script_points_at_the_cli():
    from rfm.cli import main

    assert PYPROJECT["project"]["scripts"] == {"rfm": "rfm.cli:main"}
    assert callable(main)


def _tracked_copy(target: Path) -> Path:
    """What a clean clone holds that the build reads: pyproject, README and the files of ``rfm/`` git tracks, or
    would track (new files not ignored count, so that the test sees the change before it is committed)."""
    try:
        listed = subprocess.run(
            ["git", "ls-files", "--cached", "--others", "--exclude-standard", "pyproject.toml", "README.md", "rfm"],
            cwd=ROOT, capture_output=True, text=True, check=True,
        ).stdout.split()
    except (OSError, subprocess.CalledProcessError):  # not a git checkout: the same files from the tree
        listed = ["pyproject.toml", "README.md", *(str(p.relative_to(ROOT)) for p in (ROOT / "rfm").rglob("*.py"))]
    for name in listed:
        (target / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / name, target / name)
    return target


@pytest.mark.slow
def test_pip_install_gives_a_working_rfm_command(tmp_path):
    source = _tracked_copy(tmp_path / "clone")
    env_dir = tmp_path / "venv"
    venv.create(env_dir, with_pip=False)
    python = env_dir / "bin" / "python"
    site = subprocess.run(
        [python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"], capture_output=True, text=True, check=True
    ).stdout.strip()
    Path(site, "deps_from_test_env.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")

    install = subprocess.run(
        [python, "-m", "pip", "install", "--quiet", "--no-deps", "--no-build-isolation", "--no-index", str(source)],
        capture_output=True, text=True, cwd=tmp_path, check=False,
    )
    assert install.returncode == 0, install.stdout + install.stderr
    rfm_command = env_dir / "bin" / "rfm"
    assert rfm_command.is_file()

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([str(rfm_command), *args], capture_output=True, text=True, cwd=tmp_path, timeout=300, check=False)

    shown = run("--help")
    assert shown.returncode == 0, shown.stderr
    assert shown.stdout.startswith("usage: rfm ")
    for command in ("inspect", "table", "segment", "score", "migrate", "clv", "cohorts", "backtest", "sql", "demo"):
        assert command in shown.stdout

    located = subprocess.run(
        [python, "-c", "import rfm; print(rfm.__file__, rfm.__version__)"], capture_output=True, text=True, cwd=tmp_path, check=False
    )
    where, version = located.stdout.split()
    assert Path(where).is_relative_to(env_dir), "the installed copy runs, not the checkout"
    assert version == rfm.__version__

    out = tmp_path / "segments"
    segmented = run("segment", str(DEMO_PATH), "--k", "auto", "--out", str(out))
    assert segmented.returncode == 0, segmented.stderr
    assert "2,999 customers in" in segmented.stderr  # the summary line goes to stderr, like every message
    assert {"customers.csv", "model.json", "summary.json", "segments.xlsx"} <= {p.name for p in out.iterdir()}
