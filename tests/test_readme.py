"""The README's two set-up commands are the ones that work, and CI runs the second as it is."""

from __future__ import annotations

import re

from conftest import ROOT


def setup_commands() -> list[str]:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    block = re.search(r"```sh\n(.*?)```", readme, re.S)
    assert block is not None, "the README starts with a sh block of set-up commands"
    return [line for line in block.group(1).splitlines() if line.strip()]


def test_the_readme_has_exactly_two_setup_commands() -> None:
    first, second = setup_commands()
    assert "parcours demo" in first
    assert "pytest" in second


def test_ci_runs_the_readme_test_command() -> None:
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8").splitlines()
    assert setup_commands()[1] in ci
