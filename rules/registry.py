"""The programs of a registry (:mod:`parcours.core.registry`), validated and compiled.

The registry keeps each version's text; this reads it as the program files would be read, so
compiling from the registry gives what compiling the files gives.
"""

from __future__ import annotations

from parcours.core.catalog import Catalog
from parcours.core.program import CompiledProgram
from parcours.core.registry import Registry, Version

from .compiler import CompiledWorkspace, compile_program, compile_workspace
from .errors import ProgramError
from .model import Program, Workspace
from .program import check_program
from .source import parse_json, parse_yaml


def program_of(version: Version, default_timezone: str = "UTC") -> Program:
    """A recorded version, validated on its own (references to templates and other programs
    are checked when the files are validated together, before they are deployed).

    Raises:
        ProgramError: the text does not parse, is not a valid program, or defines another
            program than the one it is recorded under; every problem's file names the program
            and version (``welcome.yaml (welcome version 2)``).
    """
    name = f"{version.file} ({version.program} version {version.number})"
    parse = parse_json if version.format == "json" else parse_yaml
    check = check_program(parse(version.text, name), default_timezone)
    program, checker = check.program, check.checker
    if program is not None and program.id != version.program:
        checker.error(("program",), f"the registry holds this file as '{version.program}'")
    if program is None or checker.problems:
        raise ProgramError(checker.problems)
    return program


def compiled(
    registry: Registry, catalog: Catalog | None = None, workspace: Workspace | None = None
) -> CompiledWorkspace:
    """Every program's current version, compiled against one catalog in the order the programs
    were first deployed (stopped ones too: a partition rebuilt from its record needs them).

    Parameters:
        registry: where the programs are.
        catalog: the workspace's name tables, when some programs were compiled before.
        workspace: ``parcours.yaml``, for its time zone and frequency caps.

    Raises:
        ProgramError: a version does not validate (see :func:`program_of`).
        RegistryError: a version's stored data does not read.
    """
    timezone = workspace.timezone if workspace is not None else "UTC"
    programs = [
        program_of(registry.source(program_id, current.version), timezone)
        for program_id, current in registry.programs().items()
    ]
    return compile_workspace(programs, catalog, workspace)


def compile_version(
    registry: Registry,
    program_id: str,
    version: int,
    catalog: Catalog,
    default_timezone: str = "UTC",
) -> CompiledProgram:
    """One version of a program compiled in ``catalog``: what a partition that follows the
    operations log deploys for a ``deploy`` operation.

    Raises:
        ProgramError: the version does not validate (see :func:`program_of`).
        RegistryError: the registry has no such version, or it does not read.
    """
    return compile_program(
        program_of(registry.source(program_id, version), default_timezone), catalog
    )
