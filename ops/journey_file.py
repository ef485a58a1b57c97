"""The journey-test file: programs, contacts and timed events on a virtual clock, and what
must have happened. Read into a :class:`Journey`, with every problem reported by path and line."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from parcours.rules.checker import Checker
from parcours.rules.durations import parse_duration, parse_instant
from parcours.rules.errors import Path as DocPath
from parcours.rules.errors import ProgramError
from parcours.rules.source import read_document

TOP_KEYS = (
    "programs",
    "templates",
    "workspace",
    "start",
    "contacts",
    "events",
    "run_until",
    "expect",
    "drafts",
    "name",
)
REQUIRED = ("programs", "start", "expect")
#: the keys that say what a step of ``events`` does (``event`` is the spec's; the rest extend it)
STEP_KINDS = (
    "event",
    "enroll",
    "upsert",
    "delete",
    "activate",
    "pause",
    "resume",
    "stop",
    "deploy",
)
EXPECT_KINDS = (
    "sent", "not_sent", "entered", "in_program", "exited", "in_group", "not_in_group", "field",
    "enrolled", "conversions", "control", "refused", "deleted",
)  # fmt: skip


#: the keys each kind of expectation needs besides its own
EXPECT_NEEDS = {
    "sent": ("contact",), "not_sent": ("contact",), "entered": ("program", "node"),
    "in_program": ("contact",), "exited": ("contact",), "in_group": ("contact",),
    "not_in_group": ("contact",), "field": ("contact",), "enrolled": ("program",),
    "conversions": ("program",), "control": ("program", "node"), "refused": ("contact",),
    "deleted": ("contact",),
}  # fmt: skip


@dataclass(frozen=True)
class Step:
    """One timed step: an event, or an action on a program or contact."""

    at: float
    kind: str
    contact: str | None
    value: Any  #: event name, program id, fields, or program file
    properties: dict[str, Any] = field(default_factory=dict)
    line: int = 0


@dataclass(frozen=True)
class Expectation:
    data: dict[str, Any]
    at: tuple[float, float] | None  #: an instant range, when the expectation has ``at``
    line: int

    def describe(self) -> str:
        return ", ".join(f"{k}: {v}" for k, v in self.data.items())


@dataclass
class Journey:
    file: Path
    programs: list[Path]
    workspace: Path | None
    start: float
    contacts: list[dict[str, Any]]
    steps: list[Step]
    run_until: float
    expectations: list[Expectation]
    drafts: set[str]
    name: str


def read_journey(path: Path) -> Journey:
    """Read and check a journey file.

    Raises:
        ProgramError: every problem of the file, each with its path and line.
    """
    document = read_document(path)
    checker = Checker(document)
    data = checker.mapping(
        document.data, (), "a journey test (programs, start, contacts, events, expect)"
    )
    if data is None:
        raise ProgramError(checker.problems)
    checker.keys(data, (), TOP_KEYS, REQUIRED, what="in a journey test")
    start = checker.parse(parse_instant, data.get("start"), ("start",)) if "start" in data else 0
    reader = _Reader(checker, float(start or 0), path.parent)
    journey = Journey(
        file=path,
        programs=reader.files(data.get("programs", []), ("programs",)),
        workspace=reader.file(data["workspace"], ("workspace",)) if "workspace" in data else None,
        start=float(start or 0),
        contacts=reader.contacts(data.get("contacts", [])),
        steps=reader.steps(data.get("events", [])),
        run_until=reader.moment(data.get("run_until", "0s"), ("run_until",)) or float(start or 0),
        expectations=reader.expectations(data.get("expect", [])),
        drafts=set(checker.strings(data["drafts"], ("drafts",), "a program id") or [])
        if "drafts" in data
        else set(),
        name=str(data.get("name") or path.name),
    )
    if checker.problems:
        raise ProgramError(checker.problems)
    return journey


@dataclass
class _Reader:
    checker: Checker
    start: float
    folder: Path

    def moment(self, value: object, path: DocPath) -> float | None:
        """``at``: an offset from ``start`` (``2d``) or an instant."""
        if isinstance(value, str) and "T" in value:
            instant = self.checker.parse(parse_instant, value, path)
            return None if instant is None else float(instant)
        offset = self.checker.parse(parse_duration, value, path)
        return None if offset is None else self.start + offset

    def file(self, value: object, path: DocPath) -> Path | None:
        name = self.checker.string(value, path, "a file path")
        if name is None:
            return None
        found = self.folder / name
        if not found.exists():
            self.checker.error(path, f"no file '{name}' next to this journey test")
            return None
        return found

    def files(self, value: object, path: DocPath) -> list[Path]:
        names = self.checker.strings(value, path, "a program file") or []
        found = [self.file(name, (*path, i)) for i, name in enumerate(names)]
        return [f for f in found if f is not None]

    def contacts(self, value: object) -> list[dict[str, Any]]:
        items = self.checker.sequence(value, ("contacts",), "a list of contacts") or []
        contacts = []
        for i, item in enumerate(items):
            contact = self.checker.mapping(
                item, ("contacts", i), "a contact such as {id: c1, email: a@example.com}"
            )
            if contact is not None and self.checker.string(
                contact.get("id"), ("contacts", i, "id"), "a contact id"
            ):
                contacts.append(contact)
        return contacts

    def steps(self, value: object) -> list[Step]:
        items = self.checker.sequence(value, ("events",), "a list of timed events") or []
        found = [self._step(item, ("events", i)) for i, item in enumerate(items)]
        return sorted((s for s in found if s is not None), key=lambda s: s.at)  # stable

    def _step(self, item: object, path: DocPath) -> Step | None:
        data = self.checker.mapping(
            item, path, "a step such as {at: 1h, contact: c1, event: form.submitted}"
        )
        if data is None:
            return None
        kinds = [k for k in STEP_KINDS if k in data]
        if len(kinds) != 1:
            self.checker.error(
                path,
                f"a step has one of {', '.join(STEP_KINDS)}; found {', '.join(kinds) or 'none'}",
            )
            return None
        kind = kinds[0]
        allowed = ("at", "contact", kind) + (("properties",) if kind == "event" else ())
        self.checker.keys(data, path, allowed, ("at",), what=f"in a '{kind}' step")
        at = self.moment(data.get("at"), (*path, "at")) if "at" in data else None
        contact = data.get("contact")
        if kind in ("event", "enroll", "upsert", "delete") and not isinstance(contact, str):
            self.checker.error(path, f"a '{kind}' step names its contact")
        properties = data.get("properties", {})
        if not isinstance(properties, dict):
            self.checker.error((*path, "properties"), "properties are a mapping")
        value = self._step_value(kind, data[kind], (*path, kind))
        line = self.checker.document.line(path)
        if at is None:
            return None
        return Step(
            at, kind, contact if isinstance(contact, str) else None, value, properties or {}, line
        )

    def _step_value(self, kind: str, value: object, path: DocPath) -> Any:
        """What a step acts with: a file, fields, ``true``, an event name or a program id."""
        if kind == "deploy":
            return self.file(value, path)
        if kind == "upsert":
            return self.checker.mapping(value, path, "fields such as {city: Paris}")
        if kind == "delete":
            if value is not True:
                self.checker.error(path, "write {delete: true}")
            return value
        if kind == "event":
            return self.checker.string(value, path, "an event name")
        return self.checker.ident(value, path, "program")

    def expectations(self, value: object) -> list[Expectation]:
        items = self.checker.sequence(value, ("expect",), "a list of expectations") or []
        found = []
        for i, item in enumerate(items):
            path = ("expect", i)
            data = self.checker.mapping(
                item, path, "an expectation such as {contact: c1, sent: email}"
            )
            if data is None:
                continue
            kinds = [k for k in EXPECT_KINDS if k in data]
            if len(kinds) != 1:
                self.checker.error(path, f"an expectation has one of {', '.join(EXPECT_KINDS)}")
                continue
            for needed in EXPECT_NEEDS[kinds[0]]:
                if needed not in data:
                    self.checker.error(path, f"a '{kinds[0]}' expectation names its {needed}")
            if "count" in data:
                self.checker.integer(data["count"], (*path, "count"), minimum=0)
            found.append(
                Expectation(
                    data,
                    self._range(data.get("at"), (*path, "at")),
                    self.checker.document.line(path),
                )
            )
        return found

    def _range(self, value: object, path: DocPath) -> tuple[float, float] | None:
        if value is None:
            return None
        if isinstance(value, list) and len(value) == 2:
            low, high = (self.moment(v, (*path, i)) for i, v in enumerate(value))
            return (low, high) if low is not None and high is not None else None
        moment = self.moment(value, path)
        return (moment, moment) if moment is not None else None


def journey_files(paths: list[Path]) -> list[Path]:
    """Journey files among ``paths``: files as given, and in folders (recursively) the YAML
    files that have a ``programs`` key."""
    found: list[Path] = []
    for path in paths:
        if path.is_dir():
            for candidate in sorted(path.rglob("*.y*ml")):
                text = candidate.read_text(encoding="utf-8", errors="replace")
                if "\nprograms:" in f"\n{text}":
                    found.append(candidate)
        else:
            found.append(path)
    return found
