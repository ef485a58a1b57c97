"""A direct interpreter of the condition tree, by names.

It reads the tree as written, with no compilation, so it is the oracle that the bytecode and its
evaluators are checked against; it also answers where no compiled program exists yet (a trace's
explanation, a condition typed in a report).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import NamedTuple, Protocol

from parcours.core.values import Moment, Value, as_number, compare

from .conditions import All, AnyOf, Condition, Did, FieldTest, InGroup, MessageStatus, Not


class PastEvent(NamedTuple):
    """An event in a contact's history, by names."""

    time: float
    program: str | None
    message: str | None  #: the node that sent it, in ``program``
    props: Mapping[str, Value]


class Facts(Protocol):
    """What a condition may read about one contact, by names."""

    @property
    def moment(self) -> Moment: ...

    @property
    def entry_time(self) -> float | None: ...

    def field(self, name: str) -> Value: ...

    def prop(self, name: str) -> Value: ...

    def in_group(self, group: str) -> bool: ...

    def status(self, program: str, message: str) -> int: ...

    def history(self, event: str) -> Sequence[PastEvent]: ...


def holds(condition: Condition, facts: Facts, program: str) -> bool:
    """Whether ``condition``, written in ``program``, holds for the contact behind ``facts``."""
    if isinstance(condition, All):
        return all(holds(item, facts, program) for item in condition.items)
    if isinstance(condition, AnyOf):
        return any(holds(item, facts, program) for item in condition.items)
    if isinstance(condition, Not):
        return not holds(condition.item, facts, program)
    if isinstance(condition, FieldTest):
        return compare(condition.cmp, facts.field(condition.field), condition.operand, facts.moment)
    if isinstance(condition, InGroup):
        return facts.in_group(condition.group)
    if isinstance(condition, MessageStatus):
        status = facts.status(condition.program or program, condition.message)
        return (status in condition.statuses) != condition.negate
    if isinstance(condition, Did):
        return _did(condition, facts, program) != condition.negate
    return compare(condition.cmp, facts.prop(condition.prop), condition.operand, facts.moment)


def _did(did: Did, facts: Facts, program: str) -> bool:
    matching = [past for past in facts.history(did.event) if _counts(did, past, facts, program)]
    if len(matching) < did.at_least or (did.at_most is not None and len(matching) > did.at_most):
        return False
    if did.sum is None:
        return True
    total = sum(as_number(past.props.get(did.sum.prop)) or 0.0 for past in matching)
    return compare(did.sum.cmp, total, did.sum.operand, facts.moment)


def _counts(did: Did, past: PastEvent, facts: Facts, program: str) -> bool:
    now = facts.moment.now
    if past.time > now:
        return False
    if did.since_entry and facts.entry_time is not None and past.time < facts.entry_time:
        return False
    if not did.since_entry and did.within is not None and past.time < now - did.within:
        return False
    if did.program is not None and past.program != did.program:
        return False
    if did.message is not None and (past.program, past.message) != (
        did.program or program,
        did.message,
    ):
        return False
    return did.where is None or holds(did.where, _Past(facts, past), program)


class _Past:
    """The facts, with the properties of one past event (for ``did ... where``)."""

    def __init__(self, facts: Facts, past: PastEvent) -> None:
        self._facts = facts
        self._past = past

    moment = property(lambda self: self._facts.moment)
    entry_time = property(lambda self: self._facts.entry_time)

    def field(self, name: str) -> Value:
        return self._facts.field(name)

    def prop(self, name: str) -> Value:
        return self._past.props.get(name)

    def in_group(self, group: str) -> bool:
        return self._facts.in_group(group)

    def status(self, program: str, message: str) -> int:
        return self._facts.status(program, message)

    def history(self, event: str) -> Sequence[PastEvent]:
        return self._facts.history(event)
