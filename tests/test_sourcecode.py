"""Lint, format and type checks run as tests, so the README's one test command runs them all."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from conftest import ROOT

#: repository folder -> sub-package of the parcours distribution (as setup.py maps them)
SUBPACKAGES = ("core", "rules", "actors", "ops")


def run(*command: str, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    return subprocess.run(command, cwd=cwd, capture_output=True, text=True, check=False)


def test_ruff_lint() -> None:
    result = run(sys.executable, "-m", "ruff", "check", ".")
    assert result.returncode == 0, result.stdout + result.stderr


def test_ruff_format() -> None:
    result = run(sys.executable, "-m", "ruff", "format", "--check", ".")
    assert result.returncode == 0, result.stdout + result.stderr


def test_mypy_strict(tmp_path: Path) -> None:
    """mypy cannot follow the editable install's import hook, so it reads a tree of links
    shaped like the installed package (``parcours/core`` -> ``core``)."""
    package = tmp_path / "parcours"
    package.mkdir()
    for folder in SUBPACKAGES:
        (package / folder).symlink_to(ROOT / folder, target_is_directory=True)
    config = str(ROOT / "pyproject.toml")
    result = run(
        sys.executable, "-m", "mypy", "--config-file", config, "-p", "parcours", cwd=tmp_path
    )
    assert result.returncode == 0, result.stdout + result.stderr
