"""The reference evaluator: runs condition bytecode in pure Python.

This is the twin that a compiled evaluator must agree with. It reads a contact through the
:class:`Context` protocol, by catalog ids, so it knows nothing of the program language.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import NamedTuple, Protocol

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


def evaluate(bytecode: Bytecode, pc: int, context: Context) -> bool:
    """Run the condition that starts at instruction ``pc``; NONE (no condition) holds."""
    if pc == NONE:
        return True
    code = bytecode.code
    stack: list[bool] = []
    while True:
        word = pc * WORDS
        op, a, b, c = (int(x) for x in code[word : word + WORDS])
        pc += 1
        if op == Op.RETURN:
            return stack.pop()
        if op == Op.JUMP_IF_FALSE_OR_POP:
            if not stack[-1]:
                pc = a
            else:
                stack.pop()
        elif op == Op.JUMP_IF_TRUE_OR_POP:
            if stack[-1]:
                pc = a
            else:
                stack.pop()
        elif op == Op.NOT:
            stack.append(not stack.pop())
        else:
            stack.append(_leaf(bytecode, op, a, b, c, context))


def _leaf(bytecode: Bytecode, op: int, a: int, b: int, c: int, context: Context) -> bool:
    if op == Op.FIELD:
        return compare(Cmp(b), context.field(a), operand(bytecode, c, Cmp(b)), context.moment)
    if op == Op.PROP:
        return compare(Cmp(b), context.prop(a), operand(bytecode, c, Cmp(b)), context.moment)
    if op == Op.IN_GROUP:
        return context.in_group(a)
    if op == Op.STATUS:
        return bool((1 << context.status(a)) & b)
    if op == Op.DID:
        return _did(bytecode, a, context)
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


def _did(bytecode: Bytecode, query: int, context: Context) -> bool:
    """Count (and sum) the past events that match history query ``query``."""
    h = bytecode.history
    since = _window_start(int(h.window[query]), bool(h.since_entry[query]), context)
    program, message, where = int(h.program[query]), int(h.message[query]), int(h.where[query])
    count, total = 0, 0.0
    for past in context.history(int(h.event[query])):
        if past.time < since or past.time > context.moment.now:
            continue
        if (program != NONE and past.program != program) or (
            message != NONE and past.message != message
        ):
            continue
        if where != NONE and not evaluate(bytecode, where, _PastEvent(context, past)):
            continue
        count += 1
        if h.sum_prop[query] != NONE:
            total += as_number(past.props.get(int(h.sum_prop[query]))) or 0.0
    at_most = int(h.at_most[query])
    if count < int(h.at_least[query]) or (at_most != NONE and count > at_most):
        return False
    if h.sum_prop[query] == NONE:
        return True
    cmp = Cmp(int(h.sum_cmp[query]))
    return compare(cmp, total, operand(bytecode, int(h.sum_const[query]), cmp), context.moment)


def _window_start(window: int, since_entry: bool, context: Context) -> float:
    if since_entry:
        return context.entry_time if context.entry_time is not None else float("-inf")
    if window != NONE:
        return context.moment.now - window
    return float("-inf")
