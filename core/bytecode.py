"""The condition instruction set: a small stack machine over typed operands.

A condition compiles to a run of instructions in a flat ``int32`` array, four words each:
``[opcode, a, b, c]``. Leaf instructions push a boolean; jumps give ``all``/``any`` their
short-circuit; ``RETURN`` pops the answer. Operands live in a constant pool of two parallel
arrays (``kind: int8``, ``value: float64``) so that a compiled evaluator never touches a Python
object: strings are indices into the program's string table, instants are epoch seconds.
"""

from __future__ import annotations

from enum import IntEnum

#: words per instruction: opcode and three arguments
WORDS = 4
#: "no such id" in any integer slot (no message, no window, no where-clause ...)
NONE = -1


class Op(IntEnum):
    """Opcodes. Arguments are named in each comment as ``a``, ``b``, ``c``."""

    RETURN = 0  #: pop the answer and stop
    FIELD = 1  #: push compare(contact field a, comparator b, constant c)
    PROP = 2  #: push compare(event property a, comparator b, constant c)
    IN_GROUP = 3  #: push whether the contact is in group a
    DID = 4  #: push the outcome of history query a
    STATUS = 5  #: push whether message a's best status is in bit mask b
    NOT = 6  #: negate the top of the stack
    JUMP_IF_FALSE_OR_POP = 7  #: if top is false jump to instruction a, else pop it
    JUMP_IF_TRUE_OR_POP = 8  #: if top is true jump to instruction a, else pop it


class Cmp(IntEnum):
    """Comparators of ``{field: F, OP: V}`` and ``{prop: P, OP: V}``, named as in the spec."""

    EQ = 0
    NE = 1
    IN = 2
    NOT_IN = 3
    CONTAINS = 4
    NOT_CONTAINS = 5
    STARTS_WITH = 6
    ENDS_WITH = 7
    GT = 8
    GTE = 9
    LT = 10
    LTE = 11
    BETWEEN = 12  #: constants c and c + 1 are the inclusive bounds
    EXISTS = 13
    MISSING = 14
    MONTH_DAY = 15  #: ``month_day: today``: the date field's anniversary is today


#: comparator name in the program language -> comparator
COMPARATORS = {c.name.lower(): c for c in Cmp if c is not Cmp.MONTH_DAY}


class Const(IntEnum):
    """Kinds of constant-pool entries; ``value`` holds the payload."""

    NONE = 0  #: no operand (exists, missing, month_day)
    NUMBER = 1  #: value is the number
    STRING = 2  #: value is an index into the program's string table
    BOOL = 3  #: value is 0 or 1
    INSTANT = 4  #: value is epoch seconds
    RELATIVE = 5  #: value is seconds from now (``-30d``, ``now``)
    SET = 6  #: value is the count n; the next n entries are the members


class Status(IntEnum):
    """The best status a message reached for a contact (0: never sent)."""

    NONE = 0
    SENT = 1
    DELIVERED = 2
    OPENED = 3
    CLICKED = 4
    BOUNCED = 5
    BLOCKED = 6
    ERROR = 7
    UNSUBSCRIBED = 8


#: status name in the program language -> status
STATUSES = {s.name.lower(): s for s in Status if s is not Status.NONE}


def status_mask(statuses: list[Status]) -> int:
    """Return the bit mask that ``STATUS`` tests for these statuses."""
    mask = 0
    for status in statuses:
        mask |= 1 << int(status)
    return mask
