"""The ``parcours`` command: help a newcomer can follow, exit codes, and no tracebacks."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from conftest import EXAMPLES

from parcours.ops import cli


def parcours(*args: str) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "parcours.ops.cli", *args]
    return subprocess.run(command, capture_output=True, text=True, check=False)


def test_help_lists_the_commands_with_an_example() -> None:
    result = parcours("--help")
    assert result.returncode == 0
    for word in ("validate", "graph", "parcours validate examples/"):
        assert word in result.stdout


def test_no_command_prints_help_and_fails() -> None:
    result = parcours()
    assert result.returncode == 2
    assert "validate" in result.stdout


def test_validate_examples_prints_ok_for_every_program() -> None:
    result = parcours("validate", str(EXAMPLES))
    assert result.returncode == 0, result.stderr
    ok = [line for line in result.stdout.splitlines() if line.startswith("ok ")]
    files = [p for p in EXAMPLES.iterdir() if p.suffix in (".yaml", ".json")]
    assert len(ok) == len(files) - 1 == 22  # every file but parcours.yaml
    assert "ok welcome-coupon (" in result.stdout


def test_validate_reports_every_problem_with_file_and_line(
    write: Callable[[str, str], Path],
) -> None:
    path = write(
        "bad.yaml",
        "program: bad\nname: Bad\ncategory: test\nentry: [{on: form.submitted}]\n"
        "nodes:\n  welcome: {type: emial, template: w}\n  wait: {type: delay, for: 2 days}\n",
    )
    result = parcours("validate", str(path))
    assert result.returncode == 1
    lines = result.stderr.splitlines()
    assert (
        f"{path}:6: nodes.welcome.type: unknown node type 'emial' (did you mean 'email'?)"
        in lines[0]
    )
    assert lines[1] == (
        f"{path}:7: nodes.wait.for: '2 days' is not a duration such as 30s, 5m, 2h, 3d, 4w or 1d12h"
    )
    assert lines[-1] == "2 problem(s) in 1 file(s)"
    assert "Traceback" not in result.stderr


def test_validate_a_missing_path() -> None:
    result = parcours("validate", "no/such/place.yaml")
    assert result.returncode == 1
    assert result.stderr.startswith("no/such/place.yaml:1: (top): no such file or folder")


def test_graph_of_a_broken_program_fails_cleanly(write: Callable[[str, str], Path]) -> None:
    path = write("bad.yaml", "program: [\n")
    result = parcours("graph", str(path))
    assert result.returncode == 1
    assert result.stderr.startswith(f"{path}:2: (top): broken YAML at line 2")
    assert "Traceback" not in result.stderr


def test_an_internal_error_is_one_clear_line(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def explode(paths: object) -> None:
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(cli, "load_project", explode)
    assert cli.main(["validate", "x.yaml"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("parcours: internal error: RuntimeError: disk on fire")
    assert "Traceback" not in err


def test_simulate_prints_per_node_counts() -> None:
    result = parcours(
        "simulate", str(EXAMPLES / "welcome-coupon.yaml"), "--contacts", "300", "--days", "6"
    )
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    enrolled = int(lines[1].split()[1].rstrip(","))
    counts = {line.split()[0]: int(line.split()[-1]) for line in lines if line.split()[:1] in (
        ["welcome"], ["wait"], ["opened"], ["coupon_mail"], ["coupon_sms"])}  # fmt: skip
    assert enrolled > 0 and counts["welcome"] == counts["wait"] == enrolled
    assert counts["opened"] == counts["coupon_mail"] + counts["coupon_sms"] > 0
    again = parcours(
        "simulate", str(EXAMPLES / "welcome-coupon.yaml"), "--contacts", "300", "--days", "6"
    )
    assert again.stdout.splitlines()[1:] == lines[1:]  # the same seed gives the same run
