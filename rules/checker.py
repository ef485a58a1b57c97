"""The validation toolkit: typed reads of a document that record problems instead of stopping.

Each reader returns the value when it is right and ``None`` after recording a problem, so a
validator can go on and report every error of a file at once.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from typing import Any, TypeVar

from .errors import Path, Problem, one_of, suggestion
from .source import Document

T = TypeVar("T")

#: the id rule for programs, nodes, templates and sender profiles
ID_PATTERN = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")
ID_HELP = "lowercase letters, digits, '_' and '-', starting with a letter or digit, at most 64"


def describe(value: object) -> str:
    """A value as a message shows it: ``false``, ``12``, ``'text'``, or its type for containers."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return str(value)
    if isinstance(value, str):
        return f"'{value}'"
    return type_name(value)


def article(word: str) -> str:
    """``an email``, ``a delay``."""
    return f"an {word}" if word[:1] in "aeiou" else f"a {word}"


def type_name(value: object) -> str:
    """How a value's type reads in a message."""
    if value is None:
        return "nothing (null)"
    names = {bool: "true/false", int: "a number", float: "a number", str: "text"}
    names |= {list: "a list", dict: "a mapping"}
    return names.get(type(value), type(value).__name__)


class Checker:
    """Collects the problems of one document."""

    def __init__(self, document: Document) -> None:
        self.document = document
        self.problems: list[Problem] = list(document.problems)

    def error(self, path: Path, message: str) -> None:
        self.problems.append(self.document.problem(path, message))

    def mapping(self, value: object, path: Path, what: str = "a mapping") -> dict[str, Any] | None:
        if isinstance(value, dict):
            return value
        self.error(path, f"expected {what}, found {type_name(value)}")
        return None

    def sequence(self, value: object, path: Path, what: str = "a list") -> list[Any] | None:
        if isinstance(value, list):
            return value
        self.error(path, f"expected {what}, found {type_name(value)}")
        return None

    def keys(
        self,
        mapping: dict[str, Any],
        path: Path,
        allowed: Iterable[str],
        required: Iterable[str] = (),
        what: str = "here",
    ) -> None:
        """Report keys that are not allowed and required keys that are absent."""
        allowed = list(allowed)
        for key in mapping:
            if key not in allowed:
                hint = suggestion(key, allowed) or f"; allowed: {', '.join(allowed)}"
                self.error((*path, key), f"unknown key '{key}' {what}{hint}")
        for key in required:
            if key not in mapping:
                self.error(path, f"missing required key '{key}' {what}")

    def string(self, value: object, path: Path, what: str = "text") -> str | None:
        if isinstance(value, str) and value.strip():
            return value
        self.error(
            path, f"expected {what}, found {type_name(value) if value != '' else 'empty text'}"
        )
        return None

    def boolean(self, value: object, path: Path) -> bool | None:
        if isinstance(value, bool):
            return value
        self.error(path, f"expected true or false, found {type_name(value)}")
        return None

    def integer(
        self, value: object, path: Path, minimum: int | None = None, maximum: int | None = None
    ) -> int | None:
        if not isinstance(value, int) or isinstance(value, bool):
            self.error(path, f"expected a whole number, found {type_name(value)}")
            return None
        if minimum is not None and value < minimum:
            self.error(path, f"must be at least {minimum}, found {value}")
            return None
        if maximum is not None and value > maximum:
            self.error(path, f"must be at most {maximum}, found {value}")
            return None
        return value

    def number(self, value: object, path: Path) -> float | None:
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return float(value)
        self.error(path, f"expected a number, found {type_name(value)}")
        return None

    def ident(self, value: object, path: Path, what: str) -> str | None:
        text = self.string(value, path, f"{what} id")
        if text is not None and not ID_PATTERN.match(text):
            self.error(path, f"'{text}' is not a valid {what} id: use {ID_HELP} characters")
            return None
        return text

    def reference(self, value: object, path: Path, what: str) -> str | None:
        """A reference to an id: checked like one, but kept when malformed so that the thing it
        names (reported once where it is defined) still counts as referenced."""
        self.ident(value, path, what)
        return value if isinstance(value, str) and value.strip() else None

    def choice(self, value: object, path: Path, choices: Iterable[str]) -> str | None:
        choices = list(choices)
        if isinstance(value, str) and value in choices:
            return value
        hint = suggestion(str(value), choices) if isinstance(value, str) else ""
        self.error(path, f"expected {one_of(choices)}, found '{value}'{hint}")
        return None

    def strings(self, value: object, path: Path, what: str = "text") -> list[str] | None:
        """A list of non-empty strings; a single string counts as a list of one."""
        items = [value] if isinstance(value, str) else self.sequence(value, path)
        if items is None:
            return None
        if not items:
            self.error(path, "the list is empty")
            return None
        checked = [self.string(item, (*path, i), what) for i, item in enumerate(items)]
        return None if None in checked else [c for c in checked if c is not None]

    def parse(self, parser: Callable[[object], T], value: object, path: Path) -> T | None:
        """Run one of the ``durations`` parsers, turning its ValueError into a problem."""
        try:
            return parser(value)
        except ValueError as error:
            self.error(path, str(error))
            return None
