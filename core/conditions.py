"""Conditions over columns, pure Python: the twin of ``_conditions.pyx``, same interface.

A condition that does not read the triggering event (no PROP, no ``did ... where``) runs over
the typed columns of :mod:`columns` and the history arena of :mod:`history` for one contact or
for every contact at once (a segment). ``link`` turns a program's constants into the shard's
symbols first.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime
from typing import Any, NamedTuple

import numpy as np
import numpy.typing as npt

from .bytecode import NONE, WORDS, Cmp, Const, Op
from .columns import ColumnStore, Kind
from .history import History
from .program import Bytecode, HistoryQueries
from .symbols import Symbols

SUPPORTED = frozenset(
    {
        Op.RETURN, Op.FIELD, Op.IN_GROUP, Op.DID, Op.STATUS, Op.NOT, Op.JUMP_IF_FALSE_OR_POP,
        Op.JUMP_IF_TRUE_OR_POP,
    }
)  # fmt: skip
NEGATIONS = {Cmp.NE: Cmp.EQ, Cmp.NOT_IN: Cmp.IN, Cmp.NOT_CONTAINS: Cmp.CONTAINS}


def link(
    bytecode: Bytecode, symbols: Symbols
) -> tuple[npt.NDArray[np.int8], npt.NDArray[np.float64]]:
    """The program's constants with its strings renumbered as the shard's symbols."""
    kinds = np.array(bytecode.const_kind, dtype=np.int8)
    values = np.array(bytecode.const_value, dtype=np.float64)
    for i in np.flatnonzero(kinds == Const.STRING):
        values[i] = symbols.intern(bytecode.strings[int(values[i])])
    return kinds, values


def fields_read(bytecode: Bytecode) -> set[int]:
    """The catalog ids of the fields a program's conditions read."""
    rows = np.asarray(bytecode.code).reshape(-1, WORDS)
    return {int(a) for a in rows[rows[:, 0] == Op.FIELD, 1]}


def supported(code: Any, pc: int, queries: HistoryQueries | None = None) -> bool:
    """Whether the condition at ``pc`` can run here: no event property, and ``did`` only on
    history query rows (``queries``, the program's) without a ``where``."""
    while True:
        op = int(code[pc * WORDS])
        if op not in SUPPORTED:
            return False
        if op == Op.DID and (queries is None or queries.where[code[pc * WORDS + 1]] != NONE):
            return False
        if op == Op.RETURN:
            return True
        pc += 1


def reads_history(code: Any, pc: int) -> bool:
    """Whether the condition at ``pc`` reads past events or message statuses."""
    while int(code[pc * WORDS]) != Op.RETURN:
        if int(code[pc * WORDS]) in (Op.DID, Op.STATUS):
            return True
        pc += 1
    return False


class Query(NamedTuple):
    """A history query row, as ``did`` runs it here."""

    event: int
    program: int
    message: int
    window: int
    since_entry: bool
    at_least: int
    at_most: int
    sum_prop: int
    sum_cmp: int
    sum_const: int

    @classmethod
    def row(cls, queries: HistoryQueries, row: int) -> Query:
        return cls(
            int(queries.event[row]), int(queries.program[row]), int(queries.message[row]),
            int(queries.window[row]), bool(queries.since_entry[row]),
            int(queries.at_least[row]), int(queries.at_most[row]), int(queries.sum_prop[row]),
            int(queries.sum_cmp[row]), int(queries.sum_const[row]),
        )  # fmt: skip


class BoundCondition:
    """One condition bound to a column store, and to a history (``history``, with the program's
    ``queries``) when it reads one: evaluate it for a contact or for all of them."""

    def __init__(
        self,
        code: Any,
        const_kind: Any,
        const_value: Any,
        pc: int,
        store: ColumnStore,
        history: History | None = None,
        queries: HistoryQueries | None = None,
    ) -> None:
        if not supported(code, pc, queries):
            raise ValueError("this condition reads the triggering event or a did with a where")
        if history is None and reads_history(code, pc):
            raise ValueError("this condition reads history or statuses: bind it to the history")
        self._code = [int(w) for w in code]
        self._kinds = [int(k) for k in const_kind]
        self._values = [float(v) for v in const_value]
        self._pc = pc
        self._store = store
        self._history = history
        self._queries = {} if queries is None else self._bind(queries)
        self._now = 0.0
        self._entry = -math.inf
        self._today = (1, 1, False)

    def _bind(self, queries: HistoryQueries) -> dict[int, Query]:
        """The query row of each ``did`` of the condition, by instruction."""
        bound, pc = {}, self._pc
        while self._code[pc * WORDS] != Op.RETURN:
            if self._code[pc * WORDS] == Op.DID:
                bound[pc] = Query.row(queries, self._code[pc * WORDS + 1])
            pc += 1
        return bound

    def evaluate(
        self,
        slot: int,
        now: float,
        month: int,
        day: int,
        leap: bool,
        entry_time: float = -math.inf,
    ) -> bool:
        """The condition's answer for the contact in ``slot`` (``entry_time``: when its
        enrollment began, for ``since: entry``; -inf outside an enrollment)."""
        self._now, self._today, self._entry = now, (month, day, leap), entry_time
        return self._run(slot)

    def evaluate_slots(
        self, slots: Any, now: float, month: int, day: int, leap: bool
    ) -> npt.NDArray[np.bool_]:
        """The answers for the contacts in ``slots`` (the contacts of a batch of events)."""
        self._now, self._today, self._entry = now, (month, day, leap), -math.inf
        return np.array([self._run(int(slot)) for slot in slots], dtype=np.bool_)

    def segment(
        self, size: int, now: float, month: int, day: int, leap: bool
    ) -> npt.NDArray[np.bool_]:
        """The answer for every slot below ``size``, as a boolean mask."""
        self._now, self._today, self._entry = now, (month, day, leap), -math.inf
        return np.array([self._run(slot) for slot in range(size)], dtype=np.bool_)

    def _run(self, slot: int) -> bool:
        code, pc = self._code, self._pc
        stack: list[bool] = []
        while True:
            op, a, b, c = code[pc * WORDS : pc * WORDS + WORDS]
            pc += 1
            if op == Op.RETURN:
                return stack[-1]
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
            elif op == Op.IN_GROUP:
                stack.append(self._in_group(slot, a))
            elif op == Op.DID:
                stack.append(self._did(self._queries[pc - 1], slot))
            elif op == Op.STATUS:
                stack.append(bool((1 << self._status(slot, a)) & b))
            else:
                stack.append(self._compare(Cmp(b), self._cell(slot, a), c))

    def _in_group(self, slot: int, group: int) -> bool:
        groups = self._store.groups
        word, bit = divmod(group, 64)
        return word < groups.shape[1] and bool(int(groups[slot, word]) >> bit & 1)

    def _did(self, query: Query, slot: int) -> bool:
        """Count (and sum) the contact's past events that match the query, as evaluator._did."""
        assert self._history is not None  # a condition that counts events is bound to one
        cells = self._history.rows.cells
        program, message = cells["program"], cells["message"]
        sums = None if query.sum_prop == NONE else self._history.sums(query.sum_prop)
        count, total = 0, 0.0
        for row in self._window(query, slot):  # oldest first: the sum adds in the same order
            if query.program != NONE and program[row] != query.program:
                continue
            if query.message != NONE and message[row] != query.message:
                continue
            count += 1
            total += 0.0 if sums is None else float(sums[row])
        if count < query.at_least or (query.at_most != NONE and count > query.at_most):
            return False
        if sums is None:
            return True
        number = (Kind.NUMBER, total, total, -1, 0)
        return self._compare(Cmp(query.sum_cmp), number, query.sum_const)

    def _window(self, query: Query, slot: int) -> range:
        """The rows of the contact's events of the query's kind in [since, now]: a run is in
        time order, so they are a range of it, found from the newest end."""
        assert self._history is not None
        runs = self._history.runs(query.event)
        first, count = (0, 0) if runs is None else runs.span(slot)
        time, end = self._history.rows.cells["time"], first + count
        while end > first and time[end - 1] > self._now:
            end -= 1
        start, since = end, self._window_start(query)
        while start > first and time[start - 1] >= since:
            start -= 1
        return range(start, end)

    def _window_start(self, query: Query) -> float:
        if query.since_entry:
            return self._entry
        if query.window != NONE:
            return self._now - query.window
        return -math.inf

    def _status(self, slot: int, message: int) -> int:
        """The best status of ``message`` for the contact (0: never sent)."""
        assert self._history is not None  # a condition that reads statuses is bound to one
        return self._history.status(slot, message)

    def _cell(self, slot: int, field: int) -> tuple[int, float, float, int, int]:
        column = self._store.columns.get(field)
        if column is None:
            return Kind.MISSING, math.nan, math.nan, -1, 0
        return (
            int(column.kind[slot]), float(column.number[slot]), float(column.epoch[slot]),
            int(column.symbol[slot]), int(column.count[slot]),
        )  # fmt: skip

    def _compare(self, cmp: Cmp, cell: tuple[int, float, float, int, int], c: int) -> bool:
        kind = cell[0]
        if cmp is Cmp.EXISTS:
            return kind != Kind.MISSING
        if cmp is Cmp.MISSING:
            return kind == Kind.MISSING
        if cmp in NEGATIONS:
            return not self._compare(NEGATIONS[cmp], cell, c)
        if kind == Kind.MISSING:
            return False
        if cmp is Cmp.MONTH_DAY:
            return self._anniversary(cell[2])
        if kind == Kind.LIST:
            members = self._store.members
            for i in range(cell[3], cell[3] + cell[4]):
                member = (
                    members.kind[i],
                    members.number[i],
                    members.epoch[i],
                    members.symbol[i],
                    0,
                )
                if cmp is Cmp.CONTAINS:
                    if self._equal(member, c):
                        return True
                elif member[0] != Kind.MISSING and self._scalar(cmp, member, c):
                    return True
            return False
        return self._scalar(cmp, cell, c)

    def _scalar(self, cmp: Cmp, cell: tuple[int, float, float, int, int], c: int) -> bool:
        if cmp is Cmp.EQ:
            return self._equal(cell, c)
        if cmp is Cmp.IN:
            return self._kinds[c] == Const.SET and any(
                self._equal(cell, c + 1 + i) for i in range(int(self._values[c]))
            )
        if cmp in (Cmp.CONTAINS, Cmp.STARTS_WITH, Cmp.ENDS_WITH):
            if cell[0] != Kind.TEXT or self._kinds[c] != Const.STRING:
                return False
            text = self._store.symbols.text(cell[3])
            part = self._store.symbols.text(int(self._values[c]))
            if cmp is Cmp.CONTAINS:
                return part in text
            return text.startswith(part) if cmp is Cmp.STARTS_WITH else text.endswith(part)
        if cmp is Cmp.BETWEEN:
            return self._order(Cmp.GTE, cell, c) and self._order(Cmp.LTE, cell, c + 1)
        return self._order(cmp, cell, c)

    def _equal(self, cell: tuple[int, float, float, int, int], c: int) -> bool:
        kind, operand = self._kinds[c], self._values[c]
        if kind == Const.BOOL or cell[0] == Kind.BOOL:
            return cell[0] == Kind.BOOL and kind == Const.BOOL and cell[3] == int(operand)
        if kind == Const.STRING:
            return cell[0] == Kind.TEXT and cell[3] == int(operand)
        if kind in (Const.INSTANT, Const.RELATIVE):
            return self._order(Cmp.EQ, cell, c)
        return kind == Const.NUMBER and cell[0] != Kind.MISSING and cell[1] == operand

    def _order(self, cmp: Cmp, cell: tuple[int, float, float, int, int], c: int) -> bool:
        kind, right = self._kinds[c], self._values[c]
        if kind == Const.INSTANT:
            left = cell[2]
        elif kind == Const.RELATIVE:
            left, right = cell[2], self._now + right
        elif kind == Const.NUMBER:
            left = cell[1]
        else:
            return False
        if math.isnan(left):
            return False
        return {
            Cmp.EQ: left == right, Cmp.GT: left > right, Cmp.GTE: left >= right,
            Cmp.LT: left < right, Cmp.LTE: left <= right,
        }.get(cmp, False)  # fmt: skip

    def _anniversary(self, epoch: float) -> bool:
        if math.isnan(epoch):
            return False
        try:
            day = datetime.fromtimestamp(epoch, UTC).date()
        except (ValueError, OverflowError, OSError):
            return False
        month, today, leap = self._today
        if (day.month, day.day) == (2, 29) and not leap:
            return (month, today) == (2, 28)
        return (day.month, day.day) == (month, today)
