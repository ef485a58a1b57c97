"""Node types: which keys each takes, and how each is checked and normalised."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from .checker import Checker
from .conditions import ConditionParser
from .durations import parse_duration, parse_instant, parse_signed_duration, parse_time_of_day
from .errors import Path, one_of, suggestion
from .events import check_event
from .updates import parse_ops

#: keys of each node type besides ``type`` and ``name``
NODE_KEYS: dict[str, tuple[str, ...]] = {
    "email": ("template", "subject", "preheader", "sender", "track_links", "if_capped", "next"),
    "sms": ("template", "text", "sender", "track_links", "if_capped", "next"),
    "webhook": ("url", "method", "headers", "body", "save_response_to", "next"),
    "alert": ("to", "template", "subject", "next"),
    "update": ("ops", "next"),
    "delay": ("for", "at", "until", "until_field", "offset", "next"),
    "wait_for": ("event", "where", "timeout", "then", "on_timeout"),
    "condition": ("if", "then", "else"),
    "switch": ("cases", "default"),
    "split": ("branches", "holdout"),
    "start_program": ("program", "next"),
    "end_program": ("program", "next"),
    "goto": ("target", "max_loops"),
    "exit": (),
}
REQUIRED_KEYS: dict[str, tuple[str, ...]] = {
    "email": ("template",),
    "webhook": ("url",),
    "alert": ("to", "template"),
    "update": ("ops",),
    "wait_for": ("event", "timeout"),
    "condition": ("if",),
    "switch": ("cases",),
    "split": ("branches",),
    "start_program": ("program",),
    "end_program": ("program",),
    "goto": ("target",),
}
#: keys that name a single successor, in the order a drawing lists them
SUCCESSOR_KEYS = ("next", "then", "else", "on_timeout", "default", "target")
#: the type of a node that could not be read (its problems are reported; it stays in the graph)
UNREADABLE = "?"
#: node types that send a message (``message:`` in a condition must name one of these)
MESSAGE_TYPES = frozenset({"email", "sms", "webhook", "alert"})
HTTP_METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")


@dataclass
class References:
    """Names a program uses that are checked once everything is loaded."""

    templates: list[tuple[Path, str]] = field(default_factory=list)
    senders: list[tuple[Path, str]] = field(default_factory=list)
    programs: list[tuple[Path, str, str]] = field(default_factory=list)  #: (path, id, node type)


@dataclass
class NodeReader:
    """Reads the nodes of one program."""

    checker: Checker
    conditions: ConditionParser
    refs: References

    def read(
        self, node: dict[str, Any], node_type: str, path: Path
    ) -> tuple[list[tuple[str, str]], dict[str, Any]]:
        """Return the node's labelled edges and its normalised parameters."""
        edges: list[tuple[str, str]] = []
        params: dict[str, Any] = {}
        for key in SUCCESSOR_KEYS:
            if key in node and key in NODE_KEYS[node_type]:
                target = self.checker.reference(node[key], (*path, key), "node")
                if target is not None:
                    edges.append((key, target))
        _READERS[node_type](self, node, path, edges, params)
        return edges, params

    def template(self, node: dict[str, Any], key: str, path: Path, params: dict[str, Any]) -> None:
        if key in node:
            template = self.checker.ident(node[key], (*path, key), "template")
            if template is not None:
                self.refs.templates.append(((*path, key), template))
                params[key] = template

    def texts(
        self, node: dict[str, Any], keys: tuple[str, ...], path: Path, params: dict[str, Any]
    ) -> None:
        for key in keys:
            if key in node:
                params[key] = self.checker.string(node[key], (*path, key))


def _message(r: NodeReader, node: dict[str, Any], path: Path, params: dict[str, Any]) -> None:
    r.template(node, "template", path, params)
    if "sender" in node:
        sender = r.checker.ident(node["sender"], (*path, "sender"), "sender profile")
        if sender is not None:
            r.refs.senders.append(((*path, "sender"), sender))
            params["sender"] = sender
    if "track_links" in node:
        params["track_links"] = r.checker.boolean(node["track_links"], (*path, "track_links"))
    if "if_capped" in node:
        choice = r.checker.choice(node["if_capped"], (*path, "if_capped"), ("defer", "skip"))
        params["skip_if_capped"] = choice == "skip"


def _email(
    r: NodeReader, node: dict[str, Any], path: Path, edges: list[Any], params: dict[str, Any]
) -> None:
    _message(r, node, path, params)
    r.texts(node, ("subject", "preheader"), path, params)


def _sms(
    r: NodeReader, node: dict[str, Any], path: Path, edges: list[Any], params: dict[str, Any]
) -> None:
    if ("template" in node) == ("text" in node):
        r.checker.error(path, "an sms node takes either 'template' or 'text'")
    _message(r, node, path, params)
    r.texts(node, ("text",), path, params)


def _webhook(
    r: NodeReader, node: dict[str, Any], path: Path, edges: list[Any], params: dict[str, Any]
) -> None:
    url = r.checker.string(node["url"], (*path, "url"), "a URL") if "url" in node else None
    if url is not None and not url.startswith(("http://", "https://", "{{")):
        r.checker.error(
            (*path, "url"), f"'{url}' is not a URL: it must start with http:// or https://"
        )
    params["url"] = url
    method = str(node.get("method", "POST")).upper()
    params["method"] = r.checker.choice(method, (*path, "method"), HTTP_METHODS)
    if "headers" in node:
        headers = r.checker.mapping(
            node["headers"], (*path, "headers"), "a mapping of header names to text"
        )
        if headers is not None:
            params["headers"] = {
                k: r.checker.string(v, (*path, "headers", k)) for k, v in headers.items()
            }
    r.template(node, "body", path, params)
    if "save_response_to" in node:
        params["save_response_to"] = r.checker.string(
            node["save_response_to"], (*path, "save_response_to"), "a field name"
        )


def _alert(
    r: NodeReader, node: dict[str, Any], path: Path, edges: list[Any], params: dict[str, Any]
) -> None:
    r.template(node, "template", path, params)
    r.texts(node, ("subject",), path, params)
    if "to" in node:
        addresses = r.checker.strings(node["to"], (*path, "to"), "an email address")
        for i, address in enumerate(addresses or []):
            if "@" not in address:
                r.checker.error((*path, "to", i), f"'{address}' is not an email address")
        params["to"] = tuple(addresses or ())


def _update(
    r: NodeReader, node: dict[str, Any], path: Path, edges: list[Any], params: dict[str, Any]
) -> None:
    if "ops" in node:
        params["ops"] = parse_ops(r.checker, node["ops"], (*path, "ops"))


def _delay(
    r: NodeReader, node: dict[str, Any], path: Path, edges: list[Any], params: dict[str, Any]
) -> None:
    c = r.checker
    forms = [k for k in ("until", "until_field") if k in node]
    relative = [k for k in ("for", "at") if k in node]
    if len(forms) + bool(relative) != 1:
        c.error(
            path, "a delay takes 'for' and/or 'at', or 'until', or 'until_field' (with 'offset')"
        )
    if "offset" in node and "until_field" not in node:
        c.error((*path, "offset"), "'offset' goes with 'until_field'")
    readers: dict[str, Callable[[object], object]] = {
        "for": parse_duration,
        "at": parse_time_of_day,
        "until": parse_instant,
        "offset": parse_signed_duration,
    }
    for key, parse in readers.items():
        if key in node:
            params[key] = c.parse(parse, node[key], (*path, key))
    if "until_field" in node:
        params["until_field"] = c.string(
            node["until_field"], (*path, "until_field"), "a field name"
        )


def _wait_for(
    r: NodeReader, node: dict[str, Any], path: Path, edges: list[Any], params: dict[str, Any]
) -> None:
    if "event" in node:
        params["event"] = check_event(r.checker, node["event"], (*path, "event"))
    if "where" in node:
        params["where"] = r.conditions.parse(node["where"], (*path, "where"), event_scope=True)
    if "timeout" in node:
        params["timeout"] = r.checker.parse(parse_duration, node["timeout"], (*path, "timeout"))


def _condition(
    r: NodeReader, node: dict[str, Any], path: Path, edges: list[Any], params: dict[str, Any]
) -> None:
    if "if" in node:
        params["if"] = r.conditions.parse(node["if"], (*path, "if"))


def _switch(
    r: NodeReader, node: dict[str, Any], path: Path, edges: list[Any], params: dict[str, Any]
) -> None:
    cases = (
        r.checker.sequence(node["cases"], (*path, "cases"), "a list of {if, next}")
        if "cases" in node
        else None
    )
    tests = []
    for i, case in enumerate(cases or []):
        where = (*path, "cases", i)
        data = r.checker.mapping(case, where, "a case such as {if: CONDITION, next: NODE}")
        if data is None:
            continue
        r.checker.keys(data, where, ("if", "next"), ("if", "next"), what="in a case")
        tests.append(r.conditions.parse(data["if"], (*where, "if")) if "if" in data else None)
        target = (
            r.checker.reference(data["next"], (*where, "next"), "node") if "next" in data else None
        )
        if target is not None:
            edges.insert(i, (f"case {i + 1}", target))
    if cases == []:
        r.checker.error((*path, "cases"), "a switch needs at least one case")
    params["cases"] = tests


def _split(
    r: NodeReader, node: dict[str, Any], path: Path, edges: list[Any], params: dict[str, Any]
) -> None:
    c = r.checker
    branches = (
        c.sequence(node["branches"], (*path, "branches"), "a list of {weight, next}")
        if "branches" in node
        else None
    )
    weights = []
    for i, branch in enumerate(branches or []):
        where = (*path, "branches", i)
        data = c.mapping(branch, where, "a branch such as {weight: 50, next: NODE}")
        if data is None:
            continue
        c.keys(data, where, ("weight", "next", "name"), ("weight", "next"), what="in a branch")
        weight = c.number(data["weight"], (*where, "weight")) if "weight" in data else None
        if weight is not None and weight <= 0:
            c.error((*where, "weight"), f"a split weight must be positive, found {data['weight']}")
        weights.append(weight)
        target = c.reference(data["next"], (*where, "next"), "node") if "next" in data else None
        if target is not None:
            edges.append((f"branch {i + 1}", target))
    if branches is not None and len(branches) < 1:
        c.error((*path, "branches"), "a split needs at least one branch")
    params["weights"] = weights
    if "holdout" in node:
        holdout = c.number(node["holdout"], (*path, "holdout"))
        if holdout is not None and not 0 <= holdout < 100:
            c.error(
                (*path, "holdout"), f"holdout is a percentage from 0 to 99, found {node['holdout']}"
            )
        params["holdout"] = holdout


def _program(
    r: NodeReader, node: dict[str, Any], path: Path, edges: list[Any], params: dict[str, Any]
) -> None:
    if "program" in node:
        program = r.checker.ident(node["program"], (*path, "program"), "program")
        if program is not None:
            params["program"] = program
            if program != "self":
                r.refs.programs.append(((*path, "program"), program, str(node.get("type"))))


def _goto(
    r: NodeReader, node: dict[str, Any], path: Path, edges: list[Any], params: dict[str, Any]
) -> None:
    if "max_loops" in node:
        params["max_loops"] = r.checker.integer(node["max_loops"], (*path, "max_loops"), minimum=1)


def _nothing(
    r: NodeReader, node: dict[str, Any], path: Path, edges: list[Any], params: dict[str, Any]
) -> None:
    """exit: nothing to read."""


_READERS = {
    "email": _email,
    "sms": _sms,
    "webhook": _webhook,
    "alert": _alert,
    "update": _update,
    "delay": _delay,
    "wait_for": _wait_for,
    "condition": _condition,
    "switch": _switch,
    "split": _split,
    "start_program": _program,
    "end_program": _program,
    "goto": _goto,
    "exit": _nothing,
}


def unknown_type_message(node_type: object) -> str:
    hint = suggestion(str(node_type), NODE_KEYS)
    return f"unknown node type '{node_type}'{hint}; node types are {one_of(NODE_KEYS)}"
