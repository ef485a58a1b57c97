"""The reference evaluator: runs condition bytecode in pure Python.

This is the twin that a compiled evaluator must agree with. It reads a contact through the
:class:`Context` protocol, by catalog ids, so it knows nothing of the program language.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, NamedTuple, Protocol

from .bytecode import NONE, WORDS, Cmp, Const, Op
from .program import Bytecode
from .values import Instant, Moment, Operand, Relative, Scalar, Value, as_number, compare


class Event(NamedTuple):
    """A past event in a contact's history, as conditions see it."""

    time: float
    program: int  #: catalog program id, or NONE
    message: int  #: catalog message id, or NONE
    props: Mapping[int, Value]  #: catalog prop id -> value


class Context(Protocol):
    """What a condition may read about one contact, at one moment."""

    @property
    def moment(self) -> Moment: ...

    @property
    def entry_time(self) -> float | None:
        """When the current enrollment began; None outside an enrollment."""

    def field(self, field: int) -> Value: ...

    def prop(self, prop: int) -> Value:
        """A property of the triggering event (None when there is no event)."""

    def in_group(self, group: int) -> bool: ...

    def status(self, message: int) -> int:
        """The best :class:`~parcours.core.bytecode.Status` the message reached, 0 if never sent."""

    def history(self, event: int) -> Sequence[Event]: ...


class _PastEvent:
    """A context whose event properties are those of one past event (for ``did ... where``)."""

    def __init__(self, outer: Context, past: Event) -> None:
        self._outer = outer
        self._props = past.props

    moment = property(lambda self: self._outer.moment)
    entry_time = property(lambda self: self._outer.entry_time)

    def field(self, field: int) -> Value:
        return self._outer.field(field)

    def prop(self, prop: int) -> Value:
        return self._props.get(prop)

    def in_group(self, group: int) -> bool:
        return self._outer.in_group(group)

    def status(self, message: int) -> int:
        return self._outer.status(message)

    def history(self, event: int) -> Sequence[Event]:
        return self._outer.history(event)


class Step(NamedTuple):
    """One instruction with its operand decoded (what the pure-Python evaluator runs)."""

    op: int
    a: int
    b: Any  #: the comparator (a Cmp) for FIELD and PROP, an integer argument otherwise
    operand: Operand


class Query(NamedTuple):
    """One history query row, decoded."""

    event: int
    program: int
    message: int
    window: int
    since_entry: bool
    at_least: int
    at_most: int
    where: int
    sum_prop: int
    sum_cmp: Cmp | None
    sum_operand: Operand


def decode(bytecode: Bytecode) -> tuple[tuple[Step, ...], tuple[Query, ...]]:
    """Read the arrays back into Python tuples once, so evaluation does not touch numpy."""
    steps = []
    for op, a, b, c in bytecode.code.reshape(-1, WORDS).tolist():
        leaf = op in (Op.FIELD, Op.PROP)
        steps.append(
            Step(op, a, Cmp(b) if leaf else b, operand(bytecode, c, Cmp(b)) if leaf else None)
        )
    h = bytecode.history
    queries = []
    for i in range(len(h.event)):
        has_sum = int(h.sum_prop[i]) != NONE
        cmp = Cmp(int(h.sum_cmp[i])) if has_sum else None
        queries.append(
            Query(
                int(h.event[i]), int(h.program[i]), int(h.message[i]), int(h.window[i]),
                bool(h.since_entry[i]), int(h.at_least[i]), int(h.at_most[i]), int(h.where[i]),
                int(h.sum_prop[i]), cmp,
                operand(bytecode, int(h.sum_const[i]), cmp) if cmp is not None else None,
            )
        )  # fmt: skip
    return tuple(steps), tuple(queries)


class Decoded:
    """A program's bytecode decoded for this evaluator; build it once per program."""

    __slots__ = ("queries", "steps")

    def __init__(self, bytecode: Bytecode) -> None:
        self.steps, self.queries = decode(bytecode)


def evaluate(code: Bytecode | Decoded, pc: int, context: Context) -> bool:
    """Run the condition that starts at instruction ``pc``; NONE (no condition) holds."""
    if pc == NONE:
        return True
    decoded = code if isinstance(code, Decoded) else Decoded(code)
    steps = decoded.steps
    stack: list[bool] = []
    while True:
        op, a, _, _ = steps[pc]
        pc += 1
        if op == Op.RETURN:
            return stack.pop()
        if op == Op.JUMP_IF_FALSE_OR_POP:
            if stack[-1]:
                stack.pop()
            else:
                pc = a
        elif op == Op.JUMP_IF_TRUE_OR_POP:
            if stack[-1]:
                pc = a
            else:
                stack.pop()
        elif op == Op.NOT:
            stack.append(not stack.pop())
        else:
            stack.append(leaf(decoded, steps[pc - 1], context))


def leaf(decoded: Decoded, step: Step, context: Context) -> bool:
    """The answer of one clause (any instruction that pushes)."""
    op, a, b, value = step
    if op == Op.FIELD:
        return compare(b, context.field(a), value, context.moment)
    if op == Op.PROP:
        return compare(b, context.prop(a), value, context.moment)
    if op == Op.IN_GROUP:
        return context.in_group(a)
    if op == Op.STATUS:
        return bool((1 << context.status(a)) & b)
    if op == Op.DID:
        return _did(decoded, decoded.queries[a], context)
    raise ValueError(f"unknown opcode {op}")


def operand(bytecode: Bytecode, index: int, cmp: Cmp) -> Operand:
    """Decode constant ``index`` back to the operand the program wrote."""
    if cmp is Cmp.BETWEEN:
        return (_scalar(bytecode, index), _scalar(bytecode, index + 1))
    if bytecode.const_kind[index] == Const.SET:
        count = int(bytecode.const_value[index])
        return tuple(_scalar(bytecode, index + 1 + i) for i in range(count))
    if bytecode.const_kind[index] == Const.NONE:
        return None
    return _scalar(bytecode, index)


def _scalar(bytecode: Bytecode, index: int) -> Scalar:
    kind = int(bytecode.const_kind[index])
    value = float(bytecode.const_value[index])
    if kind == Const.STRING:
        return bytecode.strings[int(value)]
    if kind == Const.BOOL:
        return value != 0
    if kind == Const.INSTANT:
        return Instant(value)
    if kind == Const.RELATIVE:
        return Relative(value)
    if kind == Const.NUMBER:
        return value
    raise ValueError(f"constant {index} of kind {kind} is not a scalar")


def _did(decoded: Decoded, query: Query, context: Context) -> bool:
    """Count (and sum) the past events that match a history query."""
    now = context.moment.now
    since = _window_start(query.window, query.since_entry, context)
    count, total = 0, 0.0
    for past in context.history(query.event):
        if past.time < since or past.time > now:
            continue
        if query.program != NONE and past.program != query.program:
            continue
        if query.message != NONE and past.message != query.message:
            continue
        if query.where != NONE and not evaluate(decoded, query.where, _PastEvent(context, past)):
            continue
        count += 1
        if query.sum_cmp is not None:
            total += as_number(past.props.get(query.sum_prop)) or 0.0
    if count < query.at_least or (query.at_most != NONE and count > query.at_most):
        return False
    if query.sum_cmp is None:
        return True
    return compare(query.sum_cmp, total, query.sum_operand, context.moment)


def _window_start(window: int, since_entry: bool, context: Context) -> float:
    if since_entry:
        return context.entry_time if context.entry_time is not None else float("-inf")
    if window != NONE:
        return context.moment.now - window
    return float("-inf")
