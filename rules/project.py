"""Loading a set of program files with their workspaces, and the checks that span files."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path as FilePath

from .checker import Checker
from .errors import Path, Problem, ProgramError, suggestion
from .model import Program, Workspace
from .nodes import MESSAGE_TYPES
from .program import ProgramCheck, check_program
from .source import read_document
from .workspace import WORKSPACE_FILE, find_workspace, read_workspace

#: file endings read as programs
PROGRAM_SUFFIXES = (".yaml", ".yml", ".json")


@dataclass
class Project:
    """Programs that validated, every problem found, and the files that are not programs."""

    programs: list[Program] = field(default_factory=list)
    workspaces: dict[FilePath, Workspace] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)  #: journey tests and other non-programs

    def workspace_of(self, program: Program) -> Workspace:
        folder = FilePath(program.file).resolve().parent
        found = find_workspace(folder)
        return self.workspaces[found.parent if found else folder]


def program_files(paths: Iterable[FilePath]) -> tuple[list[FilePath], list[Problem]]:
    """Program files under ``paths`` (folders are walked, skipping templates and hidden folders)."""
    files: list[FilePath] = []
    problems: list[Problem] = []
    for path in paths:
        if path.is_dir():
            files.extend(_walk(path))
        elif path.is_file():
            files.append(path)
        else:
            problems.append(Problem(str(path), 1, (), "no such file or folder"))
    return files, problems


def _walk(folder: FilePath) -> list[FilePath]:
    workspace, _ = read_workspace(find_workspace(folder.resolve()), folder.resolve())
    skip = {workspace.templates.resolve()} if workspace.templates else set()
    found = []
    for path in sorted(folder.iterdir()):
        if path.name.startswith(".") or path.resolve() in skip:
            continue
        if path.is_dir():
            found.extend(_walk(path))
        elif path.suffix.lower() in PROGRAM_SUFFIXES and path.name != WORKSPACE_FILE:
            found.append(path)
    return found


def load_project(paths: Sequence[FilePath | str]) -> Project:
    """Validate every program under ``paths``; programs validated together may name each other."""
    project = Project()
    files, project.problems = program_files(FilePath(p) for p in paths)
    checks: list[tuple[ProgramCheck, Workspace]] = []
    for path in files:
        workspace = _workspace(project, path)
        check = _check_file(project, path, workspace)
        if check is not None:
            checks.append((check, workspace))
    _check_across(project, checks)
    return project


def load_valid_project(paths: Sequence[FilePath | str]) -> Project:
    """Like :func:`load_project`, raising :class:`ProgramError` when anything is wrong."""
    project = load_project(paths)
    if project.problems:
        raise ProgramError(project.problems)
    return project


def _workspace(project: Project, path: FilePath) -> Workspace:
    found = find_workspace(path.resolve().parent)
    folder = found.parent if found else path.resolve().parent
    if folder not in project.workspaces:
        workspace, problems = read_workspace(found, folder)
        project.workspaces[folder] = workspace
        project.problems.extend(problems)
    return project.workspaces[folder]


def _check_file(project: Project, path: FilePath, workspace: Workspace) -> ProgramCheck | None:
    try:
        document = read_document(path)
    except ProgramError as error:
        project.problems.extend(error.problems)
        return None
    if (
        isinstance(document.data, dict)
        and "program" not in document.data
        and "programs" in document.data
    ):
        project.skipped.append(str(path))  # a journey test, run by `parcours test`
        return None
    return check_program(document, workspace.timezone)


def _check_across(project: Project, checks: list[tuple[ProgramCheck, Workspace]]) -> None:
    """References between files: templates, senders, programs, other programs' messages.

    Program ids are unique, and programs name each other, within one workspace."""
    by_workspace: dict[FilePath, list[tuple[ProgramCheck, Workspace]]] = {}
    for check, workspace in checks:
        by_workspace.setdefault(workspace.folder, []).append((check, workspace))
    known = {folder: _programs_by_id(group) for folder, group in by_workspace.items()}
    for check, workspace in checks:
        checker = check.checker
        _check_templates(checker, check, workspace)
        _check_senders(checker, check, workspace)
        if len(by_workspace[workspace.folder]) > 1:
            _check_program_refs(checker, check, known[workspace.folder])
        project.problems.extend(checker.problems)
        if check.program is not None and not checker.problems:
            project.programs.append(check.program)


def _programs_by_id(checks: list[tuple[ProgramCheck, Workspace]]) -> dict[str, Program | None]:
    known: dict[str, Program | None] = {}
    for check, _ in checks:
        program_id = (
            check.checker.document.data.get("program")
            if isinstance(check.checker.document.data, dict)
            else None
        )
        if not isinstance(program_id, str):
            continue
        if program_id in known:
            check.checker.error(
                ("program",), f"another file already defines program '{program_id}'"
            )
        known[program_id] = check.program
    return known


def _check_templates(checker: Checker, check: ProgramCheck, workspace: Workspace) -> None:
    templates = workspace.template_ids()
    if templates is None or workspace.templates is None:
        return
    for path, template in check.refs.templates:
        if template not in templates:
            hint = suggestion(template, templates)
            folder = workspace.templates.name
            checker.error(path, f"no template '{template}' in the folder {folder}/{hint}")


def _check_senders(checker: Checker, check: ProgramCheck, workspace: Workspace) -> None:
    for path, sender in check.refs.senders:
        if sender not in workspace.senders:
            hint = suggestion(sender, workspace.senders)
            if not workspace.senders:
                hint = " (parcours.yaml defines no sender profiles)"
            checker.error(path, f"no sender profile '{sender}'{hint}")


def _check_program_refs(
    checker: Checker, check: ProgramCheck, known: dict[str, Program | None]
) -> None:
    """start_program / end_program targets, and messages of other programs."""
    for path, program_id, node_type in check.refs.programs:
        target = _known_program(checker, path, program_id, known)
        if node_type == "start_program" and target and not _has_api_entry(target):
            checker.error(
                path,
                f"program '{program_id}' has no {{api: true}} entry, "
                "so start_program cannot enroll anyone in it",
            )
    for ref in check.message_refs:
        target = _known_program(checker, ref.path, ref.program, known) if ref.program else None
        if target is None:
            continue
        node = target.nodes.get(ref.message)
        senders = [n.id for n in target.nodes.values() if n.type in MESSAGE_TYPES]
        if node is None:
            hint = suggestion(ref.message, senders)
            checker.error(ref.path, f"program '{target.id}' has no node '{ref.message}'{hint}")
        elif node.type not in MESSAGE_TYPES:
            checker.error(
                ref.path,
                f"node '{ref.message}' of program '{target.id}' is a {node.type} node: "
                "it sends nothing",
            )


def _known_program(
    checker: Checker, path: Path, program_id: str, known: dict[str, Program | None]
) -> Program | None:
    """The program named ``program_id``; a problem if no file validated with this one defines it."""
    if program_id not in known:
        hint = suggestion(program_id, known)
        checker.error(path, f"no program '{program_id}' among those validated{hint}")
        return None
    return known[program_id]


def _has_api_entry(program: Program) -> bool:
    return any(entry.kind == "api" for entry in program.entries)
