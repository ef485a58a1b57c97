"""One contact as conditions see it, and the explanation of a condition's answer for traces."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from .bytecode import Op, Status
from .evaluator import Decoded, Event, leaf
from .values import Moment, Value

if TYPE_CHECKING:
    from .shard import Shard


class ContactView:
    """Implements :class:`parcours.core.evaluator.Context` over a shard's state."""

    __slots__ = ("entry_time", "moment", "props", "shard", "slot")

    def __init__(
        self,
        shard: Shard,
        slot: int,
        moment: Moment,
        props: Mapping[str, Any] | None = None,
        entry_time: float | None = None,
    ) -> None:
        self.shard = shard
        self.slot = slot
        self.moment = moment
        self.props = props or {}
        self.entry_time = entry_time

    def field(self, field: int) -> Value:
        return self.shard.contacts.value(self.slot, field)

    def prop(self, prop: int) -> Value:
        return self.props.get(self.shard.catalog.props.name(prop))

    def in_group(self, group: int) -> bool:
        return group in self.shard.contacts.groups[self.slot]

    def status(self, message: int) -> int:
        return self.shard.history.status(self.slot, message)

    def history(self, event: int) -> Sequence[Event]:
        return self.shard.history.of(self.slot, event)


def explain(decoded: Decoded, pc: int, view: ContactView, names: Any) -> str:
    """Each clause of the condition at ``pc`` with its own answer, e.g.
    ``city eq 'Paris': false; in_group vip: true``: what a trace shows to say why."""
    parts: list[str] = []
    while True:
        step = decoded.steps[pc]
        if step.op == Op.RETURN:
            return "; ".join(parts)
        if step.op in (Op.FIELD, Op.PROP, Op.IN_GROUP, Op.STATUS, Op.DID):
            answer = leaf(decoded, step, view)
            parts.append(f"{describe(step, decoded, names)}: {'true' if answer else 'false'}")
        pc += 1


def describe(step: Any, decoded: Decoded, names: Any) -> str:
    """A clause in words, with the catalog's names."""
    if step.op in (Op.FIELD, Op.PROP):
        subject = (
            names.fields.name(step.a)
            if step.op == Op.FIELD
            else f"event {names.props.name(step.a)}"
        )
        operand = "" if step.operand is None else f" {step.operand!r}"
        return f"{subject} {step.b.name.lower()}{operand}"
    if step.op == Op.IN_GROUP:
        return f"in_group {names.groups.name(step.a)}"
    if step.op == Op.STATUS:
        wanted = [s.name.lower() for s in Status if step.b >> s & 1]
        return f"message {names.messages.name(step.a)} status in {wanted}"
    query = decoded.queries[step.a]
    return f"did {names.events.name(query.event)} (at least {query.at_least})"
