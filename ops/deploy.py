"""The programs of files and folders into the registry: validated together first (a program
with a problem deploys nothing), then each file's text recorded as a version."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from parcours.core.program import FrequencyCap
from parcours.core.registry import Registry
from parcours.rules import Project, compile_workspace
from parcours.rules.project import load_valid_project


class DeployError(ValueError):
    """Programs a service cannot run together (none, or of different workspaces)."""


@dataclass(frozen=True)
class Deployed:
    """What a deployment recorded, and the workspace settings the service runs them with."""

    versions: dict[str, int]  #: program id -> the version now current
    timezone: str
    caps: tuple[FrequencyCap, ...]


def deploy_paths(registry: Registry, paths: Sequence[Path], activate: bool = True) -> Deployed:
    """Validate the programs under ``paths`` and record each (a version only when its text
    changed), activating drafts with ``activate``.

    Raises:
        ProgramError: a program does not validate; nothing is recorded.
        DeployError: no program, or programs of workspaces that differ (:func:`settings_of`).
        LifecycleError: a program is stopped, or paused while ``activate`` asks to activate.
    """
    project = load_valid_project(paths)
    timezone, caps = settings_of(project, paths)
    versions = {}
    for program in project.programs:
        path = Path(program.file)
        text = path.read_text(encoding="utf-8")
        versions[program.id] = registry.deploy(program.id, text, path.name, activate)
    return Deployed(versions, timezone, caps)


def settings_of(project: Project, paths: Sequence[Path]) -> tuple[str, tuple[FrequencyCap, ...]]:
    """The time zone and frequency caps the project's programs share.

    Raises:
        DeployError: no program, or programs of workspaces (``parcours.yaml``) with different
            time zones or caps: a service runs one workspace.
    """
    if not project.programs:
        raise DeployError(f"no program file under {', '.join(map(str, paths))}")
    settings = {}
    for program in project.programs:  # an empty workspace: only its settings, compiled
        shared = compile_workspace([], workspace=project.workspace_of(program))
        settings[(shared.timezone, shared.caps)] = program.file
    if len(settings) > 1:
        files = ", ".join(settings.values())
        raise DeployError(f"programs of one service share one parcours.yaml; these differ: {files}")
    return next(iter(settings))
