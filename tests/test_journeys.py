"""Journey tests: every example program's story, and the life cycle (draft, pause, stop, new
version, bad input), each run on the virtual clock with every expectation checked."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from conftest import DATA, EXAMPLES, ROOT

from parcours.ops.journey import report, run_journey
from parcours.ops.journey_file import journey_files, read_journey
from parcours.rules import load_project

JOURNEYS = journey_files([EXAMPLES / "journeys", DATA / "journeys"])


def parcours(*args: str) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "parcours.ops.cli", *args]
    return subprocess.run(command, capture_output=True, text=True, check=False)


def test_the_journey_folders_are_found() -> None:
    assert len([p for p in JOURNEYS if p.parent == EXAMPLES / "journeys"]) >= 22
    assert len([p for p in JOURNEYS if p.parent == DATA / "journeys"]) >= 5


@pytest.mark.parametrize("path", JOURNEYS, ids=lambda p: str(p.relative_to(ROOT)))
def test_journey(path: Path) -> None:
    result = run_journey(read_journey(path))
    assert result.outcomes, f"{path}: no expectation"
    if not result.passed:
        pytest.fail("\n".join(report(result)), pytrace=False)


def test_every_example_program_has_its_journey() -> None:
    project = load_project([EXAMPLES])
    assert project.problems == []
    assert len(project.programs) == 22
    for program in project.programs:
        path = EXAMPLES / "journeys" / f"{program.id}.yaml"
        assert path.is_file(), f"no journey test {path} for {program.file}"
        listed = {p.resolve() for p in read_journey(path).programs}
        assert Path(program.file).resolve() in listed, f"{path} does not list {program.file}"


def test_a_failing_journey_says_what_was_expected_and_what_happened(tmp_path: Path) -> None:
    path = tmp_path / "late-coupon.yaml"
    path.write_text(
        f"programs: [{EXAMPLES / 'welcome-coupon.yaml'}]\n"
        "start: 2026-12-01T08:00:00Z\n"
        "contacts:\n"
        "  - {id: c1, email: a@example.com, phone: '+33600000001'}\n"
        "events:\n"
        "  - {at: 0m, contact: c1, event: form.submitted, properties: {form: newsletter}}\n"
        "run_until: 3d\n"
        "expect:\n"
        "  - {contact: c1, sent: email, message: welcome, at: 0m}\n"
        "  - {contact: c1, sent: email, message: coupon_mail, at: 1d}\n",
        encoding="utf-8",
    )
    result = parcours("test", str(path))
    assert result.returncode == 1, result.stdout + result.stderr
    out = result.stdout
    assert f"FAIL {path}: 1 of 2 expectations failed" in out
    assert "line 10: expected {contact: c1, sent: email, message: coupon_mail, at: 1d}" in out
    assert "happened: email welcome-coupon.welcome at 0m" in out
    assert "sms welcome-coupon.coupon_sms at 2d" in out
    assert "trace of c1:" in out
    assert "sent welcome-coupon.welcome: email" in out
    assert "journeys: 0 passed, 1 failed" in out
    assert "Traceback" not in result.stderr


def test_a_malformed_journey_is_reported_by_file_line_and_path(tmp_path: Path) -> None:
    path = tmp_path / "malformed.yaml"
    path.write_text(
        f"programs: [{EXAMPLES / 'welcome-coupon.yaml'}]\n"
        "contacts:\n"
        "  - {id: c1, email: a@example.com}\n"
        "run_until: 1d\n"
        "expected:\n"
        "  - {contact: c1, sent: email}\n"
        "expect:\n"
        "  - {contact: c1, sent: email, message: welcome}\n",
        encoding="utf-8",
    )
    result = parcours("test", str(path))
    assert result.returncode == 1, result.stdout + result.stderr
    lines = result.stderr.splitlines()
    assert (
        f"{path}:5: expected: unknown key 'expected' in a journey test (did you mean 'expect'?)"
        in lines
    )
    assert f"{path}:1: (top): missing required key 'start' in a journey test" in lines
    assert "Traceback" not in result.stderr
    assert "PASS" not in result.stdout
