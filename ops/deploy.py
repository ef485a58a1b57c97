"""The programs of files and folders into the registry: validated together first (a program
with a problem deploys nothing), then each file's text recorded as a version."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from parcours.core.lifecycle import Status
from parcours.core.program import FrequencyCap
from parcours.core.registry import Registry
from parcours.rules import Project, compile_workspace
from parcours.rules.project import load_valid_project, program_files


class DeployError(ValueError):
    """Programs that cannot be deployed as they are (see :func:`deploy_paths`)."""


@dataclass(frozen=True)
class Deployed:
    """What a deployment recorded, and the workspace settings the service runs them with."""

    versions: dict[str, int]  #: program id -> the version now current
    timezone: str
    caps: tuple[FrequencyCap, ...]


def deploy_paths(registry: Registry, paths: Sequence[Path], activate: bool = True) -> Deployed:
    """Validate the programs under ``paths`` and record each (a version only when its text
    changed), activating the ones that are drafts with ``activate`` (active and paused ones
    keep their status). All or nothing: a problem anywhere records nothing.

    Raises:
        ProgramError: a program does not validate.
        DeployError: no program, programs of workspaces that differ (:func:`settings_of`), a
            program that is stopped (a stopped program takes no new version), or a file that
            changed while it was validated.
    """
    files, _ = program_files(paths)
    texts = {path.resolve(): path.read_text(encoding="utf-8") for path in files}
    project = load_valid_project(paths)
    timezone, caps = settings_of(project, paths)
    current = registry.programs()
    for program in project.programs:
        path = Path(program.file).resolve()
        if path.read_text(encoding="utf-8") != texts.get(path):
            raise DeployError(f"{program.file} changed while it was validated; deploy again")
        if program.id in current and current[program.id].status is Status.STOPPED:
            raise DeployError(f"program '{program.id}' ({program.file}) is stopped for good")
    versions = {}
    for program in project.programs:
        path = Path(program.file).resolve()
        draft = program.id not in current or current[program.id].status is Status.DRAFT
        versions[program.id] = registry.deploy(
            program.id, texts[path], path.name, activate and draft
        )
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
