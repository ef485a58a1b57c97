"""The corpus of broken programs: each file reports exactly the problems it announces.

A YAML file announces its problems in comments at its top, one per line, in the validator's
output format minus the file name: ``# expect: LINE: PATH: MESSAGE``. A JSON file cannot hold
comments: its expectations are in ``NAME.json.expect``, one per line. A file that announces
nothing must validate (the corpus keeps a few valid programs as targets of cross-program
references).

The whole folder is validated at once, so references between programs are checked.
"""

from __future__ import annotations

import re
import subprocess
import sys
from collections import defaultdict
from functools import cache
from pathlib import Path

import pytest
from conftest import DATA

from parcours.rules import Project, load_project
from parcours.rules.errors import dotted

BROKEN = DATA / "broken"
BROKEN_WORKSPACE = DATA / "broken-workspace"
FOLDERS = (BROKEN, BROKEN_WORKSPACE)
EXPECT = "# expect: "
#: a problem line of ``parcours validate``: ``file:line: path: message``
PROBLEM_LINE = re.compile(
    r"^(?P<file>.+?\.(?:yaml|yml|json)):(?P<line>[0-9]+): (?P<path>[^:]+): (?P<message>.+)$"
)
SUMMARY_LINE = re.compile(r"^[0-9]+ problem\(s\) in [0-9]+ file\(s\)$")


def corpus_files(folder: Path) -> list[Path]:
    """The program files of ``folder`` and its workspace file (templates are not programs)."""
    return sorted(p for p in folder.iterdir() if p.is_file() and p.suffix in (".yaml", ".json"))


def expected(path: Path) -> set[str]:
    """The problems a file announces, as ``LINE: PATH: MESSAGE``."""
    if path.suffix == ".json":
        sidecar = path.with_name(path.name + ".expect")
        lines = sidecar.read_text(encoding="utf-8").splitlines() if sidecar.exists() else []
        return {line for line in lines if line.strip()}
    lines = path.read_text(encoding="utf-8").splitlines()
    return {line.removeprefix(EXPECT) for line in lines if line.startswith(EXPECT)}


@cache
def validated(folder: Path) -> Project:
    """``folder`` validated as one project, so that its programs may name each other."""
    return load_project([folder])


def reported(folder: Path) -> dict[str, set[str]]:
    """The problems found in ``folder``, as ``LINE: PATH: MESSAGE`` by file name."""
    found: dict[str, set[str]] = defaultdict(set)
    for problem in validated(folder).problems:
        name = Path(problem.file).resolve().relative_to(folder.resolve()).as_posix()
        found[name].add(f"{problem.line}: {dotted(problem.path)}: {problem.message}")
    return dict(found)


def valid_programs(folder: Path) -> set[str]:
    """Names of the files of ``folder`` that validated."""
    return {Path(p.file).name for p in validated(folder).programs}


CASES = [
    pytest.param(folder, path, id=f"{folder.name}/{path.name}")
    for folder in FOLDERS
    for path in corpus_files(folder)
]


@pytest.mark.parametrize(("folder", "path"), CASES)
def test_file_reports_exactly_its_expected_problems(folder: Path, path: Path) -> None:
    want = expected(path)
    got = reported(folder).get(path.name, set())
    missing = sorted(want - got)
    extra = sorted(got - want)
    assert not missing and not extra, (
        f"{path.name}\n"
        + "".join(f"  expected, not reported: {line}\n" for line in missing)
        + "".join(f"  reported, not expected: {line}\n" for line in extra)
    )


@pytest.mark.parametrize("folder", FOLDERS, ids=lambda f: f.name)
def test_every_broken_file_is_reported(folder: Path) -> None:
    """No broken file passes silently; the files that announce nothing are valid programs."""
    problems = reported(folder)
    silent = [p.name for p in corpus_files(folder) if expected(p) and p.name not in problems]
    assert not silent, f"broken files reported as valid: {silent}"
    announced = {p.name for p in corpus_files(folder)}
    strays = sorted(set(problems) - announced)
    assert not strays, f"problems in files outside the corpus: {strays}"
    for path in corpus_files(folder):
        if not expected(path) and path.name != "parcours.yaml":
            assert path.name in valid_programs(folder), f"{path.name} should be a valid program"


def test_broken_folder_is_broad() -> None:
    """About thirty files, one per error class (a duplicate program id among them would show
    up as an unexpected problem in the tests above)."""
    programs = [p for p in corpus_files(BROKEN) if p.name != "parcours.yaml"]
    assert len(programs) >= 30


def run_validate(folder: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "parcours.ops.cli", "validate", str(folder)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.mark.parametrize("folder", FOLDERS, ids=lambda f: f.name)
def test_cli_reports_every_problem_as_file_line_path_message(folder: Path) -> None:
    result = run_validate(folder)
    assert result.returncode == 1, result.stderr
    assert "Traceback" not in result.stderr + result.stdout
    assert "internal error" not in result.stderr
    lines = result.stderr.splitlines()
    assert lines, "parcours validate printed no problem"
    assert SUMMARY_LINE.match(lines[-1]), lines[-1]
    problems = lines[:-1]
    malformed = [line for line in problems if not PROBLEM_LINE.match(line)]
    assert not malformed, f"lines not shaped file:line: path: message: {malformed}"
    for line in problems:
        match = PROBLEM_LINE.match(line)
        assert match is not None
        assert Path(match["file"]).resolve().parent == folder.resolve(), line
    assert len(problems) == len(validated(folder).problems)
