"""What a comparison means: one definition shared by every evaluator.

Contact fields and event properties arrive as JSON-like values (strings, numbers, booleans,
lists of strings). A condition's operand is typed by the program: a number, a string, a boolean,
an :class:`Instant`, a :class:`Relative` time, or a tuple of those. The rules below are the
documented behaviour for values of the wrong type: the comparison is false (and its negations
``ne``, ``not_in``, ``not_contains`` true), never an error.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, tzinfo
from typing import TypeAlias

from .bytecode import Cmp


@dataclass(frozen=True, slots=True)
class Instant:
    """An absolute moment, in epoch seconds (not a tuple: a tuple operand is a set of values)."""

    epoch: float


@dataclass(frozen=True, slots=True)
class Relative:
    """A moment relative to now (``-30d`` is ``Relative(-2592000)``; ``now`` is ``Relative(0)``)."""

    seconds: float


Scalar: TypeAlias = float | int | str | bool | Instant | Relative
Operand: TypeAlias = Scalar | tuple[Scalar, ...] | None
Value: TypeAlias = object


class Moment:
    """The evaluation instant: epoch seconds, and today's date where the contact lives.

    The date is worked out only when a condition asks for it (``month_day: today``).
    """

    __slots__ = ("_today", "now", "tz")

    def __init__(self, now: float, today: date | None = None, tz: tzinfo = UTC) -> None:
        self.now = now
        self.tz = tz
        self._today = today

    @property
    def today(self) -> date:
        if self._today is None:
            self._today = datetime.fromtimestamp(self.now, self.tz).date()
        return self._today


#: comparators that hold when their positive twin fails (a missing value included)
NEGATIONS = {Cmp.NE: Cmp.EQ, Cmp.NOT_IN: Cmp.IN, Cmp.NOT_CONTAINS: Cmp.CONTAINS}


def is_missing(value: Value) -> bool:
    """A value is missing when absent, ``null``, an empty string or an empty list."""
    return value is None or value == "" or value == []


def compare(cmp: Cmp, value: Value, operand: Operand, moment: Moment) -> bool:
    """Return whether ``value`` (a contact field or event property) satisfies ``cmp operand``."""
    if cmp is Cmp.EQ and type(value) is str and type(operand) is str and value:
        # the commonest test of all, {form: newsletter}, without detours; "" is missing, and
        # takes the rule below as it does in the compiled columns
        return value == operand
    if cmp is Cmp.EXISTS:
        return not is_missing(value)
    if cmp is Cmp.MISSING:
        return is_missing(value)
    if cmp in NEGATIONS:
        return not compare(NEGATIONS[cmp], value, operand, moment)
    if is_missing(value):
        return False
    if cmp is Cmp.MONTH_DAY:
        return _is_anniversary(as_epoch(value), moment.today)
    if isinstance(value, list):
        return _compare_list(cmp, value, operand, moment)
    return _compare_scalar(cmp, value, operand, moment)


def _compare_list(cmp: Cmp, values: list[object], operand: Operand, moment: Moment) -> bool:
    """A list field (tags, interests) matches when a member does; ``contains`` is membership."""
    if cmp is Cmp.CONTAINS:
        return any(_equal(member, operand, moment) for member in values)
    return any(_compare_scalar(cmp, member, operand, moment) for member in values)


def _compare_scalar(cmp: Cmp, value: Value, operand: Operand, moment: Moment) -> bool:
    if cmp is Cmp.EQ:
        return _equal(value, operand, moment)
    if cmp is Cmp.IN:
        return isinstance(operand, tuple) and any(_equal(value, o, moment) for o in operand)
    if cmp in (Cmp.CONTAINS, Cmp.STARTS_WITH, Cmp.ENDS_WITH):
        return _compare_text(cmp, value, operand)
    if cmp is Cmp.BETWEEN:
        if not isinstance(operand, tuple) or len(operand) != 2:
            return False
        low, high = operand
        return _order(Cmp.GTE, value, low, moment) and _order(Cmp.LTE, value, high, moment)
    return _order(cmp, value, operand, moment)


def _compare_text(cmp: Cmp, value: Value, operand: Operand) -> bool:
    if not isinstance(value, str) or not isinstance(operand, str):
        return False
    if cmp is Cmp.CONTAINS:
        return operand in value
    if cmp is Cmp.STARTS_WITH:
        return value.startswith(operand)
    return value.endswith(operand)


def _equal(value: Value, operand: Operand, moment: Moment) -> bool:
    if isinstance(operand, bool) or isinstance(value, bool):
        return isinstance(value, bool) and value is operand
    if isinstance(operand, str):
        return isinstance(value, str) and value == operand
    if isinstance(operand, (Instant, Relative)):
        return _order(Cmp.EQ, value, operand, moment)
    if isinstance(operand, (int, float)):
        number = as_number(value)
        return number is not None and number == operand
    return False


_ORDER = {
    Cmp.EQ: lambda x, y: x == y,
    Cmp.GT: lambda x, y: x > y,
    Cmp.GTE: lambda x, y: x >= y,
    Cmp.LT: lambda x, y: x < y,
    Cmp.LTE: lambda x, y: x <= y,
}


def _order(cmp: Cmp, value: Value, operand: Operand, moment: Moment) -> bool:
    """Order numbers as numbers and dates as instants; anything else does not compare."""
    if cmp not in _ORDER:
        return False
    if isinstance(operand, Instant):
        left, right = as_epoch(value), operand.epoch
    elif isinstance(operand, Relative):
        left, right = as_epoch(value), moment.now + operand.seconds
    elif isinstance(operand, (int, float)) and not isinstance(operand, bool):
        left, right = as_number(value), float(operand)
    else:
        return False
    return left is not None and bool(_ORDER[cmp](left, right))


def as_number(value: Value) -> float | None:
    """A number, or a string holding one (CSV imports); booleans are not numbers."""
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            return None
    return None


def as_epoch(value: Value) -> float | None:
    """Epoch seconds of a date value: a number of seconds, or an ISO 8601 date or date-time."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    if isinstance(value, str):
        return parse_iso(value)
    return None


def parse_iso(text: str) -> float | None:
    """Parse ``2026-12-01``, ``2026-12-01T08:00:00Z`` or with an offset; naive times are UTC."""
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.timestamp()


def _is_anniversary(epoch: float | None, today: date) -> bool:
    """Same month and day; a 29 February date falls on 28 February in other years."""
    if epoch is None:
        return False
    try:
        day = datetime.fromtimestamp(epoch, UTC).date()
    except (ValueError, OverflowError, OSError):
        return False
    if (day.month, day.day) == (2, 29) and not _is_leap(today.year):
        return (today.month, today.day) == (2, 28)
    return (day.month, day.day) == (today.month, today.day)


def _is_leap(year: int) -> bool:
    return year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)
