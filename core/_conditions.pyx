# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True, initializedcheck=False
"""Conditions over columns, compiled: the bytecode of core/bytecode.py run in C over the typed
columns of core/columns.py and the history arena of core/history.py, for one contact (the
event path) or every contact (segments).

It answers exactly what ``evaluator.evaluate`` answers on the values the cells were made from
and the events the arena keeps; ``conditions.py`` is its pure twin. PROP (the triggering
event's properties) and a DID whose query has a ``where`` (a condition on each past event's
properties, kept as Python objects) are not run here: ``supported`` says whether a condition
can be.
"""

from libc.math cimport INFINITY, floor, isnan
from libc.stdint cimport int8_t, int32_t, int64_t, uint8_t, uint64_t
from libc.stdlib cimport calloc, free
from libc.string cimport memcmp

import numpy as np

from parcours.core._history cimport (
    NO_ID, Did, bind_did, bind_events, bind_statuses, matching, status_of)

from .bytecode import WORDS

cdef extern from "string.h":
    void* memmem(const void* haystack, size_t haystacklen, const void* needle, size_t needlelen) nogil

#: epoch seconds of 0001-01-01 and 9999-12-31T23:59:59: dates the calendar can hold
cdef double FIRST_DAY = -62135596800.0
cdef double LAST_SECOND = 253402300799.0

SUPPORTED = frozenset({
    OP_RETURN, OP_FIELD, OP_IN_GROUP, OP_DID, OP_STATUS, OP_NOT, OP_JUMP_IF_FALSE_OR_POP,
    OP_JUMP_IF_TRUE_OR_POP,
})


def supported(code, int64_t pc, queries=None):
    """Whether the condition at ``pc`` can run here: no event property, and ``did`` only on
    history query rows (``queries``, the program's ``HistoryQueries``) without a ``where``."""
    cdef int64_t i = pc
    while True:
        op = int(code[i * WORDS])
        if op not in SUPPORTED:
            return False
        if op == OP_DID and (queries is None or int(queries.where[code[i * WORDS + 1]]) != NO_ID):
            return False
        if op == OP_RETURN:
            return True
        i += 1


def reads_history(code, int64_t pc):
    """Whether the condition at ``pc`` reads past events or message statuses."""
    cdef int64_t i = pc
    while int(code[i * WORDS]) != OP_RETURN:
        if int(code[i * WORDS]) in (OP_DID, OP_STATUS):
            return True
        i += 1
    return False


cdef class BoundCondition:
    """One condition bound to a column store, and to a history (``history``, with the program's
    ``queries``) when it reads one: evaluate it for a contact or for all of them.

    Bind again after the store grows or history records (their arrays move); a stale binding
    reads stale rows, never outside the arrays it holds."""

    def __cinit__(self, code, const_kind, const_value, int64_t pc, store, history=None,
                  queries=None):
        self._leaves = NULL
        self._dids = NULL

    def __init__(self, code, const_kind, const_value, int64_t pc, store, history=None,
                 queries=None):
        if not supported(code, pc, queries):
            raise ValueError("this condition reads the triggering event or a did with a where")
        if history is None and reads_history(code, pc):
            raise ValueError("this condition reads history or statuses: bind it to the history")
        self._code = np.ascontiguousarray(code, dtype=np.int32)
        self._const_kind = np.ascontiguousarray(const_kind, dtype=np.int8)
        self._const_value = np.ascontiguousarray(const_value, dtype=np.float64)
        self._pc = pc
        self._steps = self._code.shape[0] // WORDS
        self._leaves = <Leaf*>calloc(max(self._steps, 1), sizeof(Leaf))
        self._dids = <Did*>calloc(max(self._steps, 1), sizeof(Did))
        if self._leaves == NULL or self._dids == NULL:
            raise MemoryError()
        keep = []
        self._bind_leaves(store, keep)
        self._bind_shared(store, keep)
        if history is not None:
            self._bind_history(history, queries, keep)
        self._keep = keep

    def __dealloc__(self):
        free(self._leaves)
        free(self._dids)

    def _bind_leaves(self, store, list keep):
        cdef int64_t i = self._pc
        cdef const uint8_t[::1] kind
        cdef const double[::1] number
        cdef const double[::1] epoch
        cdef const int32_t[::1] symbol
        cdef const int32_t[::1] count
        while self._code[i * WORDS] != OP_RETURN:
            if self._code[i * WORDS] == OP_FIELD:
                column = store.columns.get(int(self._code[i * WORDS + 1]))
                if column is not None:
                    kind, number, epoch = column.kind, column.number, column.epoch
                    symbol, count = column.symbol, column.count
                    keep.extend((column.kind, column.number, column.epoch, column.symbol, column.count))
                    self._leaves[i].kind = &kind[0]
                    self._leaves[i].number = &number[0]
                    self._leaves[i].epoch = &epoch[0]
                    self._leaves[i].symbol = &symbol[0]
                    self._leaves[i].count = &count[0]
            i += 1

    def _bind_shared(self, store, list keep):
        cdef const uint64_t[:, ::1] groups = store.groups
        cdef const int64_t[::1] offsets
        cdef const uint8_t[::1] data
        cdef const uint8_t[::1] m_kind
        cdef const double[::1] m_number
        cdef const double[::1] m_epoch
        cdef const int32_t[::1] m_symbol
        self._groups = &groups[0, 0]
        self._group_words = groups.shape[1]
        arena_offsets, arena_bytes = store.symbols.arena()
        arena_bytes = arena_bytes if len(arena_bytes) else np.zeros(1, np.uint8)
        offsets, data = arena_offsets, arena_bytes
        self._offsets, self._bytes = &offsets[0], &data[0]
        members = [a if len(a) else np.zeros(1, a.dtype) for a in store.members.arrays()]
        m_kind, m_number, m_epoch, m_symbol = members
        self._m_kind, self._m_number = &m_kind[0], &m_number[0]
        self._m_epoch, self._m_symbol = &m_epoch[0], &m_symbol[0]
        keep.extend((store.groups, arena_offsets, arena_bytes, *members))

    def _bind_history(self, history, queries, list keep):
        cdef int64_t i = self._pc
        bind_events(&self._events, history.rows.columns, keep)
        bind_statuses(&self._statuses, history.statuses, keep)
        while self._code[i * WORDS] != OP_RETURN:
            if self._code[i * WORDS] == OP_DID:
                bind_did(&self._dids[i], history, queries, self._code[i * WORDS + 1], keep)
            i += 1

    cpdef bint evaluate(self, int64_t slot, double now, int month, int day, bint leap,
                        double entry_time=-INFINITY):
        """The condition's answer for the contact in ``slot`` (``month``/``day``/``leap``: today
        where the program's contacts live, for ``month_day: today``; ``entry_time``: when its
        enrollment began, for ``since: entry``, -inf outside an enrollment)."""
        self._now, self._month, self._day, self._leap = now, month, day, leap
        self._entry = entry_time
        return self._run(slot)

    def evaluate_slots(self, slots, double now, int month, int day, bint leap):
        """The answers for the contacts in ``slots`` (the contacts of a batch of events)."""
        cdef const int64_t[::1] chosen = np.ascontiguousarray(slots, dtype=np.int64)
        result = np.empty(chosen.shape[0], dtype=np.bool_)
        cdef uint8_t[::1] mask = result.view(np.uint8)
        cdef Py_ssize_t i
        self._now, self._month, self._day, self._leap = now, month, day, leap
        self._entry = -INFINITY
        with nogil:
            for i in range(chosen.shape[0]):
                mask[i] = self._run(chosen[i])
        return result

    def segment(self, int64_t size, double now, int month, int day, bint leap):
        """The answer for every slot below ``size``, as a boolean mask."""
        result = np.empty(size, dtype=np.bool_)
        cdef uint8_t[::1] mask = result.view(np.uint8)
        cdef int64_t slot
        self._now, self._month, self._day, self._leap = now, month, day, leap
        self._entry = -INFINITY
        with nogil:
            for slot in range(size):
                mask[slot] = self._run(slot)
        return result

    cdef bint _run(self, int64_t slot) noexcept nogil:
        cdef bint stack[STACK]
        cdef int top = -1
        cdef int64_t pc = self._pc, word
        cdef int op
        cdef int32_t a, b
        cdef Cell cell
        cdef Leaf* leaf
        while True:
            word = pc * WORDS_C
            op = self._code[word]
            a = self._code[word + 1]
            b = self._code[word + 2]
            pc += 1
            if op == OP_RETURN:
                return stack[top]
            elif op == OP_JUMP_IF_FALSE_OR_POP:
                if stack[top]:
                    top -= 1
                else:
                    pc = a
            elif op == OP_JUMP_IF_TRUE_OR_POP:
                if stack[top]:
                    pc = a
                else:
                    top -= 1
            elif op == OP_NOT:
                stack[top] = not stack[top]
            elif op == OP_IN_GROUP:
                top += 1
                stack[top] = (a >> 6) < self._group_words and (
                    self._groups[slot * self._group_words + (a >> 6)] >> (a & 63)) & 1
            elif op == OP_DID:
                top += 1
                stack[top] = self._did(&self._dids[pc - 1], slot)
            elif op == OP_STATUS:
                top += 1
                stack[top] = ((1 << status_of(&self._statuses, slot, a)) & b) != 0
            else:  # OP_FIELD
                leaf = &self._leaves[pc - 1]
                if leaf.kind == NULL:
                    cell.kind = K_MISSING
                else:
                    cell.kind = leaf.kind[slot]
                    cell.number = leaf.number[slot]
                    cell.epoch = leaf.epoch[slot]
                    cell.symbol = leaf.symbol[slot]
                    cell.count = leaf.count[slot]
                top += 1
                stack[top] = self._compare(b, &cell, self._code[word + 3])

    cdef bint _did(self, Did* query, int64_t slot) noexcept nogil:
        """Count (and sum) the contact's past events that match the query, as evaluator._did."""
        cdef double total = 0.0
        cdef int64_t count = matching(
            query, &self._events, slot, self._window_start(query), self._now, &total)
        cdef Cell cell
        if count < query.at_least or (query.at_most != NO_ID and count > query.at_most):
            return False
        if query.sums == NULL:
            return True
        cell.kind, cell.number, cell.epoch, cell.symbol, cell.count = K_NUMBER, total, total, -1, 0
        return self._compare(query.sum_cmp, &cell, query.sum_const)

    cdef double _window_start(self, Did* query) noexcept nogil:
        if query.since_entry:
            return self._entry
        if query.window != NO_ID:
            return self._now - query.window
        return -INFINITY

    cdef bint _compare(self, int cmp, Cell* value, int64_t c) noexcept nogil:
        cdef int64_t i
        cdef Cell member
        if cmp == EXISTS:
            return value.kind != K_MISSING
        if cmp == MISSING:
            return value.kind == K_MISSING
        if cmp == NE:
            return not self._compare(EQ, value, c)
        if cmp == NOT_IN:
            return not self._compare(IN, value, c)
        if cmp == NOT_CONTAINS:
            return not self._compare(CONTAINS, value, c)
        if value.kind == K_MISSING:
            return False
        if cmp == MONTH_DAY:
            return self._anniversary(value.epoch)
        if value.kind == K_LIST:
            for i in range(value.symbol, value.symbol + value.count):
                member.kind = self._m_kind[i]
                member.number = self._m_number[i]
                member.epoch = self._m_epoch[i]
                member.symbol = self._m_symbol[i]
                if cmp == CONTAINS:
                    if self._equal(&member, c):
                        return True
                elif member.kind != K_MISSING and self._scalar(cmp, &member, c):
                    return True
            return False
        return self._scalar(cmp, value, c)

    cdef bint _scalar(self, int cmp, Cell* value, int64_t c) noexcept nogil:
        cdef int64_t i
        if cmp == EQ:
            return self._equal(value, c)
        if cmp == IN:
            if self._const_kind[c] != C_SET:
                return False
            for i in range(<int64_t>self._const_value[c]):
                if self._equal(value, c + 1 + i):
                    return True
            return False
        if cmp == CONTAINS or cmp == STARTS_WITH or cmp == ENDS_WITH:
            if value.kind != K_TEXT or self._const_kind[c] != C_STRING:
                return False
            return self._text(cmp, value.symbol, <int32_t>self._const_value[c])
        if cmp == BETWEEN:
            return self._order(GTE, value, c) and self._order(LTE, value, c + 1)
        return self._order(cmp, value, c)

    cdef bint _equal(self, Cell* value, int64_t c) noexcept nogil:
        cdef int kind = self._const_kind[c]
        cdef double operand = self._const_value[c]
        if kind == C_BOOL or value.kind == K_BOOL:
            return value.kind == K_BOOL and kind == C_BOOL and value.symbol == <int32_t>operand
        if kind == C_STRING:
            return value.kind == K_TEXT and value.symbol == <int32_t>operand
        if kind == C_INSTANT or kind == C_RELATIVE:
            return self._order(EQ, value, c)
        if kind == C_NUMBER:
            return value.kind != K_MISSING and value.number == operand
        return False

    cdef bint _order(self, int cmp, Cell* value, int64_t c) noexcept nogil:
        cdef int kind = self._const_kind[c]
        cdef double left, right = self._const_value[c]
        if kind == C_INSTANT:
            left = value.epoch
        elif kind == C_RELATIVE:
            left, right = value.epoch, self._now + right
        elif kind == C_NUMBER:
            left = value.number
        else:
            return False
        if isnan(left):
            return False
        if cmp == EQ:
            return left == right
        if cmp == GT:
            return left > right
        if cmp == GTE:
            return left >= right
        if cmp == LT:
            return left < right
        if cmp == LTE:
            return left <= right
        return False

    cdef bint _text(self, int cmp, int32_t value, int32_t operand) noexcept nogil:
        cdef const uint8_t* text = self._bytes + self._offsets[value]
        cdef int64_t length = self._offsets[value + 1] - self._offsets[value]
        cdef const uint8_t* part = self._bytes + self._offsets[operand]
        cdef int64_t size = self._offsets[operand + 1] - self._offsets[operand]
        if cmp == CONTAINS:
            return size == 0 or (size <= length and memmem(text, length, part, size) != NULL)
        if size > length:
            return False
        if cmp == STARTS_WITH:
            return memcmp(text, part, size) == 0
        return memcmp(text + length - size, part, size) == 0

    cdef bint _anniversary(self, double epoch) noexcept nogil:
        """Same month and day (UTC) as today; 29 February falls on 28 February in other years."""
        cdef int64_t days, era, doe, yoe, doy, mp
        cdef int month, day
        if isnan(epoch) or epoch < FIRST_DAY or epoch > LAST_SECOND:
            return False
        days = <int64_t>floor(epoch / 86400.0) + 719468  # civil from days (H. Hinnant)
        era = (days if days >= 0 else days - 146096) // 146097
        doe = days - era * 146097
        yoe = (doe - doe // 1460 + doe // 36524 - doe // 146096) // 365
        doy = doe - (365 * yoe + yoe // 4 - yoe // 100)
        mp = (5 * doy + 2) // 153
        day = <int>(doy - (153 * mp + 2) // 5 + 1)
        month = <int>(mp + 3 if mp < 10 else mp - 9)
        if month == 2 and day == 29 and not self._leap:
            return self._month == 2 and self._day == 28
        return month == self._month and day == self._day


#: the C copies of bytecode.py's numbers, so a test can hold them equal
NUMBERS = {
    "Op.RETURN": OP_RETURN, "Op.FIELD": OP_FIELD, "Op.IN_GROUP": OP_IN_GROUP, "Op.DID": OP_DID,
    "Op.STATUS": OP_STATUS, "Op.NOT": OP_NOT,
    "Op.JUMP_IF_FALSE_OR_POP": OP_JUMP_IF_FALSE_OR_POP,
    "Op.JUMP_IF_TRUE_OR_POP": OP_JUMP_IF_TRUE_OR_POP,
    "Cmp.EQ": EQ, "Cmp.NE": NE, "Cmp.IN": IN, "Cmp.NOT_IN": NOT_IN, "Cmp.CONTAINS": CONTAINS,
    "Cmp.NOT_CONTAINS": NOT_CONTAINS, "Cmp.STARTS_WITH": STARTS_WITH, "Cmp.ENDS_WITH": ENDS_WITH,
    "Cmp.GT": GT, "Cmp.GTE": GTE, "Cmp.LT": LT, "Cmp.LTE": LTE, "Cmp.BETWEEN": BETWEEN,
    "Cmp.EXISTS": EXISTS, "Cmp.MISSING": MISSING, "Cmp.MONTH_DAY": MONTH_DAY,
    "Const.NONE": C_NONE, "Const.NUMBER": C_NUMBER, "Const.STRING": C_STRING,
    "Const.BOOL": C_BOOL, "Const.INSTANT": C_INSTANT, "Const.RELATIVE": C_RELATIVE,
    "Const.SET": C_SET, "Kind.MISSING": K_MISSING, "Kind.NUMBER": K_NUMBER,
    "Kind.TEXT": K_TEXT, "Kind.BOOL": K_BOOL, "Kind.LIST": K_LIST, "WORDS": WORDS_C,
    "NONE": NO_ID,
}
