"""Validation of one program document into a :class:`~parcours.rules.model.Program`."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, replace
from typing import Any

from .checker import ID_PATTERN, Checker, article
from .conditions import ConditionParser, MessageRef
from .entries import read_entries, read_settings
from .errors import suggestion
from .flow import check_flow
from .model import NodeSpec, Program
from .nodes import (
    MESSAGE_TYPES,
    NODE_KEYS,
    REQUIRED_KEYS,
    SUCCESSOR_KEYS,
    UNREADABLE,
    NodeReader,
    References,
    unknown_type_message,
)
from .source import Document

TOP_KEYS = (
    "program",
    "name",
    "category",
    "description",
    "entry",
    "filter",
    "settings",
    "start",
    "nodes",
)
REQUIRED_TOP = ("program", "name", "category", "entry", "nodes")


@dataclass
class ProgramCheck:
    """The outcome of validating one document: the program when it is sound, and what to resolve."""

    checker: Checker
    program: Program | None
    refs: References
    message_refs: list[MessageRef]


def check_program(document: Document, default_timezone: str = "UTC") -> ProgramCheck:
    """Validate a program document; references to templates and programs are left to the project."""
    checker = Checker(document)
    conditions = ConditionParser(checker)
    refs = References()
    data = checker.mapping(
        document.data, (), "a program (a mapping with program, name, entry, nodes ...)"
    )
    if data is None:
        return ProgramCheck(checker, None, refs, [])
    checker.keys(data, (), TOP_KEYS, REQUIRED_TOP, what="in a program")
    program_id = (
        checker.ident(data["program"], ("program",), "program") if "program" in data else None
    )
    name = checker.string(data["name"], ("name",)) if "name" in data else None
    category = checker.string(data["category"], ("category",)) if "category" in data else None
    description = data.get("description")
    if description is not None:
        description = checker.string(description, ("description",))
    entries = read_entries(checker, conditions, data["entry"]) if "entry" in data else []
    condition = conditions.parse(data["filter"], ("filter",)) if "filter" in data else None
    settings = read_settings(checker, conditions, data.get("settings"), default_timezone)
    nodes = _read_nodes(checker, NodeReader(checker, conditions, refs), data.get("nodes"))
    start = _start(checker, data, nodes)
    if start is not None:
        check_flow(checker, nodes, start)
    _check_local_messages(checker, conditions.message_refs, nodes)
    program = None
    if not checker.problems and program_id and name and category and start is not None:
        program = Program(
            program_id,
            name,
            category,
            description,
            tuple(entries),
            condition,
            settings,
            nodes,
            start,
            document.file,
            digest_of(document.data),
        )
    return ProgramCheck(checker, program, refs, conditions.message_refs)


def _read_nodes(checker: Checker, reader: NodeReader, value: object) -> dict[str, NodeSpec]:
    if value is None:
        return {}
    data = checker.mapping(value, ("nodes",), "a mapping of node ids to nodes")
    if data is None:
        return {}
    if not data:
        checker.error(("nodes",), "a program needs at least one node")
    nodes = {}
    for node_id, node in data.items():
        spec = _read_node(checker, reader, node_id, node)
        if spec is not None:
            nodes[node_id] = spec
    return nodes


def _read_node(
    checker: Checker, reader: NodeReader, node_id: str, value: object
) -> NodeSpec | None:
    path = ("nodes", node_id)
    checker.ident(node_id, path, "node")
    node = checker.mapping(value, path, "a node such as {type: email, template: welcome}")
    if node is None:
        return NodeSpec(node_id, UNREADABLE, None, ())
    node_type = node.get("type")
    if node_type not in NODE_KEYS:
        if "type" in node:
            checker.error((*path, "type"), unknown_type_message(node_type))
        else:
            checker.error(path, "missing required key 'type' in a node")
        return _unreadable(node_id, node)
    checker.keys(
        node,
        path,
        ("type", "name", *NODE_KEYS[node_type]),
        REQUIRED_KEYS.get(node_type, ()),
        what=f"in {article(node_type)} node",
    )
    name = checker.string(node["name"], (*path, "name")) if "name" in node else None
    edges, params = reader.read(node, node_type, path)
    return NodeSpec(node_id, node_type, name, tuple(edges), params)


def _unreadable(node_id: str, node: dict[str, Any]) -> NodeSpec:
    """A node whose type is unknown: kept with the successors it names, so that the nodes
    around it are not reported as unreachable or dangling because of it."""
    edges = [(key, node[key]) for key in SUCCESSOR_KEYS if isinstance(node.get(key), str)]
    return NodeSpec(node_id, UNREADABLE, None, tuple(edges))


def _start(checker: Checker, data: dict[str, Any], nodes: dict[str, NodeSpec]) -> str | None:
    if "start" in data:
        start = checker.ident(data["start"], ("start",), "node")
        if start is not None and start not in nodes and nodes:
            checker.error(("start",), f"no node named '{start}'{suggestion(start, nodes)}")
            return None
        return start if nodes else None
    return next(iter(nodes), None)


def _check_local_messages(
    checker: Checker, refs: list[MessageRef], nodes: dict[str, NodeSpec]
) -> None:
    """``message: ID`` without ``program:`` names a node of this program that sends something."""
    senders = [n.id for n in nodes.values() if n.type in MESSAGE_TYPES]
    for ref in refs:
        if ref.program is not None:
            continue
        node = nodes.get(ref.message)
        if node is None:
            checker.error(
                ref.path, f"no node named '{ref.message}'{suggestion(ref.message, senders)}"
            )
        elif node.type not in MESSAGE_TYPES:
            checker.error(ref.path, f"node '{ref.message}' is a {node.type} node: it sends nothing")


def digest_of(data: object) -> str:
    """A program document's version: the digest of its data (not of its text's layout)."""
    canonical = json.dumps(data, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()[:16]


def duplicate(program: Program, new_id: str, name: str | None = None) -> Program:
    """A copy of ``program`` under ``new_id``, to deploy as a new draft.

    The copy's messages are its own (a condition on ``message: welcome`` in the copy reads the
    copy's welcome); a reference that names a program explicitly keeps naming it.

    Raises:
        ValueError: ``new_id`` breaks the id rule or is the original's id.
    """
    if not ID_PATTERN.match(new_id) or new_id == program.id:
        raise ValueError(f"'{new_id}' is not a new valid program id")
    return replace(
        program,
        id=new_id,
        name=name or f"{program.name} (copy)",
        digest=digest_of({"duplicate_of": program.digest, "program": new_id}),
    )
