"""The operations of an ``update`` node."""

from __future__ import annotations

from typing import Any

from .checker import Checker, describe
from .errors import Path, suggestion

#: operation -> what its value is
UPDATE_OPS = {
    "add_to_group": "group",
    "move_to_group": "group",
    "remove_from_group": "group",
    "set": "fields",
    "append": "fields",
    "increment": "numbers",
    "tag": "tags",
    "untag": "tags",
    "do_not_mail": "flag",
    "delete_contact": "flag",
}


def parse_ops(checker: Checker, value: object, path: Path) -> list[tuple[str, Any]]:
    """Return ``(operation, value)`` pairs; each op is a one-key mapping such as ``{tag: vip}``."""
    items = checker.sequence(
        value, path, "a list of operations such as [{add_to_group: customers}]"
    )
    if items is None:
        return []
    if not items:
        checker.error(path, "an update needs at least one operation")
    ops = []
    for i, item in enumerate(items):
        op = _parse_op(checker, item, (*path, i))
        if op is not None:
            ops.append(op)
    return ops


def _parse_op(checker: Checker, item: object, path: Path) -> tuple[str, Any] | None:
    data = checker.mapping(item, path, "an operation such as {add_to_group: customers}")
    if data is None:
        return None
    if len(data) != 1:
        checker.error(
            path, f"an operation has exactly one key, found {len(data)}: {', '.join(data)}"
        )
        return None
    name, value = next(iter(data.items()))
    where = (*path, name)
    if name not in UPDATE_OPS:
        hint = suggestion(name, UPDATE_OPS) or f"; operations are {', '.join(UPDATE_OPS)}"
        checker.error(where, f"unknown operation '{name}'{hint}")
        return None
    kind = UPDATE_OPS[name]
    if kind == "group":
        group = checker.string(value, where, "a group name")
        return (name, group) if group else None
    if kind == "tags":
        tags = checker.strings(value, where, "a tag")
        return (name, tuple(tags)) if tags else None
    if kind == "flag":
        if value is not True:
            checker.error(where, f"'{name}' takes the value true, found {describe(value)}")
            return None
        return name, True
    return _parse_fields(checker, name, value, where, numbers=kind == "numbers")


def _parse_fields(
    checker: Checker, name: str, value: object, path: Path, numbers: bool
) -> tuple[str, Any] | None:
    fields = checker.mapping(value, path, f"a mapping of fields, such as {{{name}: {{score: 10}}}}")
    if not fields:
        if fields == {}:
            checker.error(path, f"'{name}' names no field")
        return None
    for field, field_value in fields.items():
        if numbers:
            if checker.number(field_value, (*path, field)) is None:
                return None
        elif isinstance(field_value, dict):
            checker.error((*path, field), "a field value is text, a number, true/false or a list")
            return None
    return name, dict(fields)
