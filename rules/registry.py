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
from .program import check_program, digest_of
from .source import parse_json, parse_yaml


def _digest(version: Version) -> str | None:
    """The digest a compiled program of this version carries; None for a text that does not
    parse (it cannot be the version a shard ran)."""
    parse = parse_json if version.format == "json" else parse_yaml
    try:
        return digest_of(parse(version.text, version.file).data)
    except ProgramError:
        return None


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


class CompiledVersions:
    """The registry's versions compiled in one catalog, each once (core's
    :class:`~parcours.core.registry.VersionSource`): what a partition deploys
    when it follows the operations log (by number, :meth:`number`) and what it rebuilds its
    programs from after a restart (by the digest its record keeps, :meth:`digest`).

    Parameters:
        registry: where the versions are.
        catalog: the shard's name tables (one per process: records keep names, not ids).
        default_timezone: the workspace's time zone.
    """

    def __init__(self, registry: Registry, catalog: Catalog, default_timezone: str = "UTC") -> None:
        self.registry = registry
        self.catalog = catalog
        self.default_timezone = default_timezone
        self._compiled: dict[tuple[str, int], CompiledProgram] = {}

    def number(self, program_id: str, version: int) -> CompiledProgram:
        """Version ``version`` (1, 2, ...) of the program.

        Raises:
            ProgramError: the version does not validate.
            RegistryError: the registry has no such version, or it does not read.
        """
        key = (program_id, version)
        if key not in self._compiled:
            self._compiled[key] = compile_version(
                self.registry, program_id, version, self.catalog, self.default_timezone
            )
        return self._compiled[key]

    def digest(self, program_id: str, digest: str) -> CompiledProgram:
        """The version of the program whose source has this digest (a shard record's version).

        Raises:
            KeyError: no version of the program has it.
        """
        for recorded in reversed(self.registry.versions(program_id)):
            if _digest(recorded) == digest:  # only that version is compiled
                return self.number(program_id, recorded.number)
        raise KeyError((program_id, digest))
