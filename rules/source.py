"""Reading YAML and JSON documents while remembering the line of every value."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path as FilePath
from typing import Any

import yaml

from .errors import Path, Problem, ProgramError


@dataclass
class Document:
    """A parsed file: its data, the line (1-based) where each path starts, and the problems
    found while reading that did not stop it (a key given twice keeps its first value)."""

    file: str
    data: Any
    lines: dict[Path, int] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)

    def line(self, path: Path) -> int:
        """The line of ``path``, or of its nearest ancestor that has one."""
        for end in range(len(path), -1, -1):
            found = self.lines.get(path[:end])
            if found is not None:
                return found
        return 1

    def problem(self, path: Path, message: str) -> Problem:
        return Problem(self.file, self.line(path), path, message)


def read_document(path: FilePath, display: str | None = None) -> Document:
    """Parse ``path`` as JSON (``.json``) or YAML.

    Raises:
        ProgramError: the file cannot be read or does not parse; the problem names line and column.
    """
    name = display or str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        reason = getattr(error, "strerror", None) or str(error)
        raise ProgramError([Problem(name, 1, (), f"cannot read the file: {reason}")]) from None
    if path.suffix.lower() == ".json":
        return parse_json(text, name)
    return parse_yaml(text, name)


def parse_json(text: str, name: str) -> Document:
    try:
        data = json.loads(text, object_pairs_hook=_first_wins)
    except json.JSONDecodeError as error:
        raise ProgramError([_json_problem(error, text, name)]) from None
    try:  # JSON is YAML: its reading gives lines, and keys given twice that json.loads hides
        document = parse_yaml(text, name)
        return Document(name, data, document.lines, document.problems)
    except ProgramError:
        return Document(name, data)


def _first_wins(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """A key given twice keeps its first value, as in YAML (and is reported by the YAML pass)."""
    result: dict[str, Any] = {}
    for key, value in pairs:
        result.setdefault(key, value)
    return result


def _json_problem(error: json.JSONDecodeError, text: str, name: str) -> Problem:
    """Where JSON breaks; a trailing comma is named as such, at the comma."""
    before = text[: error.pos].rstrip()
    if before.endswith(",") and text[error.pos : error.pos + 1] in ("}", "]"):
        comma = len(before) - 1
        line = text.count("\n", 0, comma) + 1
        column = comma - (text.rfind("\n", 0, comma) + 1) + 1
        where = f"line {line}, column {column}"
        closing = text[error.pos]
        return Problem(name, line, (), f"broken JSON at {where}: trailing comma before '{closing}'")
    message = f"broken JSON at line {error.lineno}, column {error.colno}: {error.msg}"
    return Problem(name, error.lineno, (), message)


def parse_yaml(text: str, name: str) -> Document:
    loader = _LineLoader(text)
    try:
        node = loader.get_single_node()
        lines: dict[Path, int] = {}
        problems: list[Problem] = []
        data = _build(loader, node, (), lines, problems, name) if node is not None else None
    except yaml.MarkedYAMLError as error:
        raise ProgramError([_yaml_problem(error, name)]) from None
    except yaml.YAMLError as error:
        raise ProgramError([Problem(name, 1, (), f"broken YAML: {error}")]) from None
    finally:
        loader.dispose()
    return Document(name, data, lines, problems)


class _LineLoader(yaml.SafeLoader):
    """The safe loader, with YAML 1.2's plain scalars; values are built by :func:`_build`.

    YAML 1.1 reads ``on``/``no`` as booleans, ``09:00`` as 540 and ``0600`` as octal: each is a
    trap in a marketer's file (``country: NO``, ``at: 09:00``, phone numbers), so only
    ``true``/``false``, decimal integers and plain floats are typed; dates stay strings.
    """


_RETYPED = {"tag:yaml.org,2002:" + t for t in ("bool", "int", "float", "timestamp")}
_LineLoader.yaml_implicit_resolvers = {
    first: [(tag, pattern) for tag, pattern in resolvers if tag not in _RETYPED]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_LineLoader.add_implicit_resolver(
    "tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF")
)
_LineLoader.add_implicit_resolver(
    "tag:yaml.org,2002:int", re.compile(r"^[-+]?(?:0|[1-9][0-9]*)$"), list("-+0123456789")
)
_LineLoader.add_implicit_resolver(
    "tag:yaml.org,2002:float",
    re.compile(r"^[-+]?(?:[0-9]+\.[0-9]*|\.[0-9]+|[0-9]+(?=[eE]))(?:[eE][-+]?[0-9]+)?$"),
    list("-+.0123456789"),
)


def _yaml_problem(error: yaml.MarkedYAMLError, name: str) -> Problem:
    """Where YAML breaks. An unclosed bracket is reported where it opens, not where the
    parser noticed (often the next line, which is sound)."""
    context = error.context or ""
    opening = error.context_mark
    if context.startswith("while parsing a flow") and opening is not None:
        bracket = opening.buffer[opening.pointer] if opening.buffer else "["
        line, column = opening.line + 1, opening.column + 1
        what = f"the '{bracket}' opened here is never closed"
    else:
        mark = error.problem_mark or opening
        line, column = (mark.line + 1, mark.column + 1) if mark else (1, 1)
        what = error.problem or context or "cannot be parsed"
    return Problem(name, line, (), f"broken YAML at line {line}, column {column}: {what}")


def _build(
    loader: _LineLoader,
    node: yaml.Node,
    path: Path,
    lines: dict[Path, int],
    problems: list[Problem],
    name: str,
) -> Any:
    lines.setdefault(path, node.start_mark.line + 1)
    if isinstance(node, yaml.MappingNode):
        loader.flatten_mapping(node)  # honour YAML merge keys (<<: *defaults)
        return _build_mapping(loader, node, path, lines, problems, name)
    if isinstance(node, yaml.SequenceNode):
        return [
            _build(loader, item, (*path, index), lines, problems, name)
            for index, item in enumerate(node.value)
        ]
    return loader.construct_object(node, deep=True)


def _build_mapping(
    loader: _LineLoader,
    node: yaml.MappingNode,
    path: Path,
    lines: dict[Path, int],
    problems: list[Problem],
    name: str,
) -> dict[Any, Any]:
    result: dict[Any, Any] = {}
    for key_node, value_node in node.value:
        if not isinstance(key_node, yaml.ScalarNode):
            line = key_node.start_mark.line + 1
            problems.append(Problem(name, line, path, "a key must be a plain word"))
            continue
        key = key_node.value  # keys are names: 'on' stays 'on', '1' stays '1'
        child = (*path, key)
        if key in result:
            line = key_node.start_mark.line + 1
            problems.append(Problem(name, line, child, f"'{key}' is given twice"))
            continue
        lines[child] = key_node.start_mark.line + 1
        result[key] = _build(loader, value_node, child, lines, problems, name)
    return result
