"""Conditions to bytecode: the code generator for :mod:`parcours.core.bytecode`."""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt

from parcours.core.bytecode import NONE, WORDS, Cmp, Const, Op, status_mask
from parcours.core.catalog import Catalog, message_key
from parcours.core.program import Bytecode, HistoryQueries
from parcours.core.values import Instant, Operand, Relative, Scalar

from .conditions import All, AnyOf, Condition, Did, FieldTest, InGroup, MessageStatus, Not, PropTest


class CodeGenerator:
    """Emits the conditions of one program into one bytecode; each condition gets its own pc."""

    def __init__(self, catalog: Catalog, program: str) -> None:
        self.catalog = catalog
        self.program = program
        self.code: list[int] = []
        self.const_kind: list[int] = []
        self.const_value: list[float] = []
        self.strings: dict[str, int] = {}
        self.history: list[dict[str, int]] = []
        self._pending: list[tuple[int, Condition]] = []

    def condition(self, condition: Condition | None) -> int:
        """Emit a whole condition ending in RETURN; return its pc (NONE for no condition)."""
        if condition is None:
            return NONE
        pc = self._body(condition)
        while self._pending:  # ``did ... where`` clauses follow as conditions of their own
            query, where = self._pending.pop(0)
            self.history[query]["where"] = self._body(where)
        return pc

    def _body(self, condition: Condition) -> int:
        pc = len(self.code) // WORDS
        self._emit_tree(condition)
        self._emit(Op.RETURN)
        return pc

    def finish(self) -> Bytecode:
        """Freeze what was emitted."""
        columns = {k: [q[k] for q in self.history] for k in _HISTORY_COLUMNS}
        history = HistoryQueries(
            **{k: _frozen(v, dtype) for k, (v, dtype) in _typed(columns).items()}
        )
        return Bytecode(
            code=_frozen(self.code, np.int32),
            const_kind=_frozen(self.const_kind, np.int8),
            const_value=_frozen(self.const_value, np.float64),
            strings=tuple(self.strings),
            history=history,
        )

    def _emit(self, op: Op, a: int = 0, b: int = 0, c: int = 0) -> int:
        self.code.extend((int(op), a, b, c))
        return len(self.code) // WORDS - 1

    def _emit_tree(self, node: Condition) -> None:
        if isinstance(node, (All, AnyOf)):
            jump = Op.JUMP_IF_FALSE_OR_POP if isinstance(node, All) else Op.JUMP_IF_TRUE_OR_POP
            jumps = []
            for i, item in enumerate(node.items):
                self._emit_tree(item)
                if i < len(node.items) - 1:
                    jumps.append(self._emit(jump))
            end = len(self.code) // WORDS
            for at in jumps:
                self.code[at * WORDS + 1] = end
        elif isinstance(node, Not):
            self._emit_tree(node.item)
            self._emit(Op.NOT)
        elif isinstance(node, FieldTest):
            field = self.catalog.fields.intern(node.field)
            self._emit(Op.FIELD, field, int(node.cmp), self._operand(node.cmp, node.operand))
        elif isinstance(node, PropTest):
            prop = self.catalog.props.intern(node.prop)
            self._emit(Op.PROP, prop, int(node.cmp), self._operand(node.cmp, node.operand))
        elif isinstance(node, InGroup):
            self._emit(Op.IN_GROUP, self.catalog.groups.intern(node.group))
        elif isinstance(node, MessageStatus):
            message = self._message(node.message, node.program)
            self._emit(Op.STATUS, message, status_mask(list(node.statuses)))
            if node.negate:
                self._emit(Op.NOT)
        else:
            self._emit(Op.DID, self._history_query(node))
            if node.negate:
                self._emit(Op.NOT)

    def _message(self, message: str, program: str | None) -> int:
        return self.catalog.messages.intern(message_key(program or self.program, message))

    def _history_query(self, did: Did) -> int:
        """Add a history query row; its ``where`` is emitted after the current condition."""
        total = did.sum
        self.history.append(
            {
                "event": self.catalog.events.intern(did.event),
                "program": self.catalog.programs.intern(did.program) if did.program else NONE,
                "message": self._message(did.message, did.program) if did.message else NONE,
                "window": did.within if did.within is not None else NONE,
                "since_entry": int(did.since_entry),
                "at_least": did.at_least,
                "at_most": did.at_most if did.at_most is not None else NONE,
                "where": NONE,
                "sum_prop": self.catalog.props.intern(total.prop) if total else NONE,
                "sum_cmp": int(total.cmp) if total else NONE,
                "sum_const": self._operand(total.cmp, total.operand) if total else NONE,
            }
        )
        index = len(self.history) - 1
        if did.where is not None:
            self._pending.append((index, did.where))
        return index

    def _operand(self, cmp: Cmp, operand: Operand) -> int:
        """Add the operand to the constant pool; return the index of its first entry."""
        index = len(self.const_kind)
        if operand is None:
            self._const(Const.NONE, 0.0)
        elif isinstance(operand, tuple) and cmp is Cmp.BETWEEN:
            for bound in operand:
                self._scalar(bound)
        elif isinstance(operand, tuple):
            self._const(Const.SET, float(len(operand)))
            for member in operand:
                self._scalar(member)
        else:
            self._scalar(operand)
        return index

    def _scalar(self, value: Scalar) -> None:
        if isinstance(value, bool):
            self._const(Const.BOOL, float(value))
        elif isinstance(value, str):
            self._const(Const.STRING, float(self.strings.setdefault(value, len(self.strings))))
        elif isinstance(value, Instant):
            self._const(Const.INSTANT, float(value.epoch))
        elif isinstance(value, Relative):
            self._const(Const.RELATIVE, float(value.seconds))
        else:
            self._const(Const.NUMBER, float(value))

    def _const(self, kind: Const, value: float) -> None:
        self.const_kind.append(int(kind))
        self.const_value.append(value)


_HISTORY_COLUMNS = (
    "event",
    "program",
    "message",
    "window",
    "since_entry",
    "at_least",
    "at_most",
    "where",
    "sum_prop",
    "sum_cmp",
    "sum_const",
)


def _typed(columns: dict[str, list[int]]) -> dict[str, tuple[list[int], type]]:
    dtypes = {"window": np.int64, "since_entry": np.bool_}
    return {k: (v, dtypes.get(k, np.int32)) for k, v in columns.items()}


def _frozen(values: list[int] | list[float], dtype: type) -> npt.NDArray[Any]:
    """An immutable array: compiled programs are shared and must not change under the engine."""
    array: npt.NDArray[Any] = np.array(values, dtype=dtype)
    array.flags.writeable = False
    return array
