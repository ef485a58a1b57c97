"""A contact for condition tests, readable by names (the tree) and by catalog ids (the bytecode)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from parcours.core.bytecode import NONE
from parcours.core.catalog import Catalog, message_key
from parcours.core.evaluator import Event
from parcours.core.values import Moment, Value
from parcours.rules.interpret import PastEvent


@dataclass
class Contact:
    """Everything a condition can read, by names."""

    moment: Moment
    fields: dict[str, Value] = field(default_factory=dict)
    props: dict[str, Value] = field(default_factory=dict)
    groups: set[str] = field(default_factory=set)
    statuses: dict[tuple[str, str], int] = field(default_factory=dict)
    past: dict[str, list[PastEvent]] = field(default_factory=dict)
    entry_time: float | None = None

    def field(self, name: str) -> Value:
        return self.fields.get(name)

    def prop(self, name: str) -> Value:
        return self.props.get(name)

    def in_group(self, group: str) -> bool:
        return group in self.groups

    def status(self, program: str, message: str) -> int:
        return self.statuses.get((program, message), 0)

    def history(self, event: str) -> Sequence[PastEvent]:
        return self.past.get(event, [])


class ById:
    """The same contact seen through :class:`parcours.core.evaluator.Context`."""

    def __init__(self, contact: Contact, catalog: Catalog) -> None:
        self.contact = contact
        self.catalog = catalog
        self.moment = contact.moment
        self.entry_time = contact.entry_time

    def field(self, field: int) -> Value:
        return self.contact.field(self.catalog.fields.name(field))

    def prop(self, prop: int) -> Value:
        return self.contact.prop(self.catalog.props.name(prop))

    def in_group(self, group: int) -> bool:
        return self.contact.in_group(self.catalog.groups.name(group))

    def status(self, message: int) -> int:
        program, _, node = self.catalog.messages.name(message).partition("/")
        return self.contact.status(program, node)

    def history(self, event: int) -> Sequence[Event]:
        return [self._event(past) for past in self.contact.history(self.catalog.events.name(event))]

    def _event(self, past: PastEvent) -> Event:
        program = self.catalog.programs.get(past.program) if past.program else None
        message = None
        if past.program and past.message:
            message = self.catalog.messages.get(message_key(past.program, past.message))
        props = {self.catalog.props.intern(k): v for k, v in past.props.items()}
        return Event(
            past.time,
            NONE if program is None else program,
            NONE if message is None else message,
            props,
        )
