"""A folder's programs into the registry: all validated first, a version only for a changed
file, one workspace per service."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from conftest import EXAMPLES

from parcours.core.lifecycle import Status
from parcours.core.registries.memory import MemoryRegistry
from parcours.core.registry import Current
from parcours.ops.deploy import DeployError, deploy_paths
from parcours.rules.errors import ProgramError

PROGRAM = """program: {id}
name: Hello
category: test
entry: [{{on: form.submitted}}]
nodes:
  hello: {{type: exit}}
"""


def test_the_examples_are_recorded_once_and_activated() -> None:
    registry = MemoryRegistry()
    deployed = deploy_paths(registry, [EXAMPLES])
    assert len(deployed.versions) == 22 and set(deployed.versions.values()) == {1}
    assert deployed.timezone == "Europe/Paris" and deployed.caps[0].channel == "email"
    assert set(registry.programs().values()) == {Current(Status.ACTIVE, 1)}
    operations = len(registry.operations())
    assert deploy_paths(registry, [EXAMPLES]).versions == deployed.versions
    assert len(registry.operations()) == operations  # the same files again write nothing


def test_a_changed_file_is_a_new_version(write: Callable[[str, str], Path]) -> None:
    registry = MemoryRegistry()
    path = write("p.yaml", PROGRAM.format(id="p"))
    assert deploy_paths(registry, [path]).versions == {"p": 1}
    path.write_text(PROGRAM.format(id="p").replace("Hello", "Hello again"))
    assert deploy_paths(registry, [path]).versions == {"p": 2}


def test_one_invalid_program_records_nothing(write: Callable[[str, str], Path]) -> None:
    registry = MemoryRegistry()
    write("good.yaml", PROGRAM.format(id="good"))
    bad = write("bad.yaml", PROGRAM.format(id="bad").replace("exit", "exot"))
    with pytest.raises(ProgramError) as raised:
        deploy_paths(registry, [bad.parent])
    assert any(problem.file.endswith("bad.yaml") for problem in raised.value.problems)
    assert registry.programs() == {}


def test_programs_of_two_workspaces_are_refused(write: Callable[[str, str], Path]) -> None:
    first = write("a/p.yaml", PROGRAM.format(id="p"))
    write("a/parcours.yaml", "timezone: Europe/Paris\n")
    second = write("b/q.yaml", PROGRAM.format(id="q"))
    write("b/parcours.yaml", "timezone: America/New_York\n")
    with pytest.raises(DeployError, match=r"share one parcours\.yaml"):
        deploy_paths(MemoryRegistry(), [first, second])


def test_a_folder_without_programs_is_refused(tmp_path: Path) -> None:
    with pytest.raises(DeployError, match="no program file under"):
        deploy_paths(MemoryRegistry(), [tmp_path])


def test_a_stopped_program_refuses_the_whole_deployment(write: Callable[[str, str], Path]) -> None:
    registry = MemoryRegistry()
    write("a.yaml", PROGRAM.format(id="a"))
    stopped = write("b.yaml", PROGRAM.format(id="b"))
    deploy_paths(registry, [stopped.parent])
    registry.stop("b")
    write("a.yaml", PROGRAM.format(id="a").replace("Hello", "Changed"))
    before = registry.operations()
    with pytest.raises(DeployError, match=r"program 'b' \(.*b\.yaml\) is stopped for good"):
        deploy_paths(registry, [stopped.parent])
    assert registry.operations() == before  # not even a's new version


def test_a_paused_program_gets_its_new_version_and_stays_paused(
    write: Callable[[str, str], Path],
) -> None:
    registry = MemoryRegistry()
    path = write("p.yaml", PROGRAM.format(id="p"))
    deploy_paths(registry, [path])
    registry.pause("p")
    path.write_text(PROGRAM.format(id="p").replace("Hello", "Hello again"))
    assert deploy_paths(registry, [path]).versions == {"p": 2}
    assert registry.programs()["p"] == Current(Status.PAUSED, 2)
