"""The condition language: its tree, and the parser that checks a document's conditions.

One language serves entry ``filter``, event ``where``, ``condition``, ``switch``, ``exit_on`` and
``goal``. The tree keeps names (fields, events, messages); the compiler turns it into bytecode.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, TypeAlias

from parcours.core.bytecode import COMPARATORS, STATUSES, Cmp, Status
from parcours.core.values import Instant, Operand, Relative, Scalar

from .checker import Checker, type_name
from .durations import parse_duration, parse_instant, parse_signed_duration
from .errors import Path, one_of, suggestion
from .events import check_event


@dataclass(frozen=True)
class All:
    items: tuple[Condition, ...]


@dataclass(frozen=True)
class AnyOf:
    items: tuple[Condition, ...]


@dataclass(frozen=True)
class Not:
    item: Condition


@dataclass(frozen=True)
class FieldTest:
    field: str
    cmp: Cmp
    operand: Operand


@dataclass(frozen=True)
class PropTest:
    prop: str
    cmp: Cmp
    operand: Operand


@dataclass(frozen=True)
class InGroup:
    group: str


@dataclass(frozen=True)
class SumTest:
    prop: str
    cmp: Cmp
    operand: Operand


@dataclass(frozen=True)
class Did:
    """``did``/``did_not``; ``message``/``program`` narrow to one message or program."""

    event: str
    negate: bool = False
    where: Condition | None = None
    message: str | None = None
    program: str | None = None
    within: int | None = None
    since_entry: bool = False
    at_least: int = 1
    at_most: int | None = None
    sum: SumTest | None = None


@dataclass(frozen=True)
class MessageStatus:
    message: str
    statuses: tuple[Status, ...]
    negate: bool = False
    program: str | None = None


Condition: TypeAlias = All | AnyOf | Not | FieldTest | PropTest | InGroup | Did | MessageStatus

#: keys that are words of the language; any other key of a condition is a property shorthand
CONDITION_WORDS = ("all", "any", "not", "field", "prop", "in_group", "did", "did_not", "message")
_DID_KEYS = ("where", "message", "program", "within", "since", "at_least", "at_most", "sum")
_TIME_HELP = "a number or a date (an instant such as 2026-01-01T00:00:00Z, or -30d, +2h, now)"
_ORDERING = {Cmp.GT, Cmp.GTE, Cmp.LT, Cmp.LTE}


@dataclass(frozen=True)
class MessageRef:
    """A ``message:`` reference, resolved once all nodes and programs are known."""

    path: Path
    message: str
    program: str | None


class ConditionParser:
    """Parses conditions of one document, collecting problems and message references."""

    def __init__(self, checker: Checker) -> None:
        self.checker = checker
        self.message_refs: list[MessageRef] = []

    def parse(self, value: object, path: Path, event_scope: bool = False) -> Condition | None:
        """Parse a condition; ``event_scope`` is true inside ``where`` (event properties)."""
        data = self.checker.mapping(
            value, path, "a condition (a mapping such as {field: city, eq: Paris})"
        )
        if data is None:
            return None
        if not data:
            self.checker.error(path, "empty condition: say what must hold")
            return None
        head = next((w for w in CONDITION_WORDS if w in data), None)
        if head in ("all", "any"):
            return self._group(head, data, path, event_scope)
        if head == "not":
            self.checker.keys(data, path, ["not"], what="beside 'not'")
            item = self.parse(data["not"], (*path, "not"), event_scope)
            return Not(item) if item is not None else None
        if head == "field":
            return self._field(data, path)
        if head == "prop":
            return self._prop(data, path, event_scope)
        if head == "in_group":
            self.checker.keys(data, path, ["in_group"], what="beside 'in_group'")
            group = self.checker.string(data["in_group"], (*path, "in_group"), "a group name")
            return InGroup(group) if group else None
        if head in ("did", "did_not"):
            return self._did(head, data, path)
        if head == "message":
            return self._status(data, path)
        return self._shorthand(data, path, event_scope)

    def _group(self, word: str, data: dict[str, Any], path: Path, scope: bool) -> Condition | None:
        self.checker.keys(data, path, [word], what=f"beside '{word}'")
        items = self.checker.sequence(data[word], (*path, word), "a list of conditions")
        if items is None:
            return None
        if not items:
            self.checker.error((*path, word), f"'{word}' needs at least one condition")
            return None
        parsed = [self.parse(item, (*path, word, i), scope) for i, item in enumerate(items)]
        if any(p is None for p in parsed):
            return None
        children = tuple(p for p in parsed if p is not None)
        return All(children) if word == "all" else AnyOf(children)

    def _field(self, data: dict[str, Any], path: Path) -> Condition | None:
        field = self.checker.string(data["field"], (*path, "field"), "a field name")
        test = self._comparison(data, path, "field", date_words=True)
        if field is None or test is None:
            return None
        return FieldTest(field, *test)

    def _prop(self, data: dict[str, Any], path: Path, scope: bool) -> Condition | None:
        if not scope:
            self.checker.error(path, "'prop' reads the triggering event: use it inside 'where'")
            return None
        prop = self.checker.string(data["prop"], (*path, "prop"), "a property name")
        test = self._comparison(data, path, "prop")
        if prop is None or test is None:
            return None
        return PropTest(prop, *test)

    def _shorthand(self, data: dict[str, Any], path: Path, scope: bool) -> Condition | None:
        """``{form: newsletter}`` means ``{prop: form, eq: newsletter}`` (inside ``where``)."""
        key = next(iter(data))
        if len(data) > 1 or key in COMPARATORS or not scope:
            hint = suggestion(key, CONDITION_WORDS)
            self.checker.error(
                (*path, key),
                f"'{key}' is not a condition word{hint}; a condition starts with "
                f"{one_of(CONDITION_WORDS)}"
                + ("" if scope else ", or a property shorthand such as {form: x} inside 'where'"),
            )
            return None
        value = data[key]
        if isinstance(value, (dict, list)) or value is None:
            self.checker.error((*path, key), f"the shorthand {{{key}: VALUE}} needs a plain value")
            return None
        return PropTest(str(key), Cmp.EQ, value)

    def _comparison(
        self, data: dict[str, Any], path: Path, subject: str, date_words: bool = False
    ) -> tuple[Cmp, Operand] | None:
        words = list(COMPARATORS) + (["month_day"] if date_words else [])
        self.checker.keys(data, path, [subject, *words], what=f"in a '{subject}' condition")
        ops = [k for k in data if k in words]
        if len(ops) != 1:
            found = "none" if not ops else ", ".join(ops)
            self.checker.error(
                path, f"give exactly one comparison ({', '.join(words)}); found {found}"
            )
            return None
        word = ops[0]
        return self._operand(word, data[word], (*path, word))

    def _operand(self, word: str, value: object, path: Path) -> tuple[Cmp, Operand] | None:
        if word == "month_day":
            if value != "today":
                self.checker.error(path, "month_day takes only 'today' (the date's anniversary)")
                return None
            return Cmp.MONTH_DAY, None
        cmp = COMPARATORS[word]
        if cmp in (Cmp.EXISTS, Cmp.MISSING):
            flag = self.checker.boolean(value, path)
            if flag is None:
                return None
            return (cmp if flag else {Cmp.EXISTS: Cmp.MISSING, Cmp.MISSING: Cmp.EXISTS}[cmp]), None
        if cmp in (Cmp.IN, Cmp.NOT_IN):
            return self._members(cmp, value, path)
        if cmp is Cmp.BETWEEN:
            return self._between(value, path)
        if cmp in _ORDERING:
            bound = self._orderable(value, path)
            return (cmp, bound) if bound is not None else None
        if cmp in (Cmp.STARTS_WITH, Cmp.ENDS_WITH) and not isinstance(value, str):
            self.checker.error(path, f"{word} compares text, found {type_name(value)}")
            return None
        scalar = self._scalar(value, path)
        return (cmp, scalar) if scalar is not None else None

    def _scalar(self, value: object, path: Path) -> Scalar | None:
        if isinstance(value, (str, int, float, bool)):
            return value
        self.checker.error(path, f"expected text, a number or true/false, found {type_name(value)}")
        return None

    def _members(self, cmp: Cmp, value: object, path: Path) -> tuple[Cmp, Operand] | None:
        items = self.checker.sequence(value, path, "a list of values")
        if items is None:
            return None
        if not items:
            self.checker.error(path, "the list of values is empty")
            return None
        members = [self._scalar(item, (*path, i)) for i, item in enumerate(items)]
        if any(m is None for m in members):
            return None
        return cmp, tuple(m for m in members if m is not None)

    def _between(self, value: object, path: Path) -> tuple[Cmp, Operand] | None:
        if not isinstance(value, list) or len(value) != 2:
            self.checker.error(path, "between takes a list of two bounds, such as [18, 65]")
            return None
        low, high = (self._orderable(v, (*path, i)) for i, v in enumerate(value))
        if low is None or high is None:
            return None
        return Cmp.BETWEEN, (low, high)

    def _orderable(self, value: object, path: Path) -> Scalar | None:
        """A number, an instant or a relative time (``-30d``, ``now``)."""
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return value
        if value == "now":
            return Relative(0)
        if isinstance(value, str):
            for parse, wrap in ((parse_signed_duration, Relative), (parse_instant, Instant)):
                try:
                    return wrap(parse(value))
                except ValueError:
                    continue
        self.checker.error(path, f"expected {_TIME_HELP}, found '{value}'")
        return None

    def _did(self, word: str, data: dict[str, Any], path: Path) -> Condition | None:
        c = self.checker
        c.keys(data, path, [word, *_DID_KEYS], what=f"in a '{word}' condition")
        event = check_event(c, data[word], (*path, word))
        where = None
        if "where" in data:
            where = self.parse(data["where"], (*path, "where"), event_scope=True)
        program = (
            c.ident(data["program"], (*path, "program"), "program") if "program" in data else None
        )
        message = self._message_ref(data, path, program)
        within = (
            c.parse(parse_duration, data["within"], (*path, "within")) if "within" in data else None
        )
        since = data.get("since")
        if since is not None and since != "entry":
            c.error(
                (*path, "since"), "since takes only 'entry' (count from this enrollment's entry)"
            )
        if since is not None and within is not None:
            c.error(path, "use 'within' or 'since', not both")
        # "did X" means at least once; "did X at most 2 times" includes never
        default_least = 0 if "at_most" in data else 1
        at_least = c.integer(data.get("at_least", default_least), (*path, "at_least"), minimum=0)
        at_most = (
            c.integer(data["at_most"], (*path, "at_most"), minimum=0) if "at_most" in data else None
        )
        if at_least is not None and at_most is not None and at_most < at_least:
            c.error(path, f"at_most ({at_most}) is below at_least ({at_least})")
        total = self._sum(data["sum"], (*path, "sum")) if "sum" in data else None
        if event is None or at_least is None or (at_most is None and "at_most" in data):
            return None
        return Did(
            event,
            word == "did_not",
            where,
            message,
            program,
            within,
            since == "entry",
            at_least,
            at_most,
            total,
        )

    def _sum(self, value: object, path: Path) -> SumTest | None:
        data = self.checker.mapping(value, path, "a mapping such as {prop: amount, gte: 100}")
        if data is None:
            return None
        if "prop" not in data:
            self.checker.error(path, "missing required key 'prop' in 'sum'")
            return None
        prop = self.checker.string(data["prop"], (*path, "prop"), "a property name")
        test = self._comparison(data, path, "prop")
        if prop is None or test is None:
            return None
        return SumTest(prop, *test)

    def _message_ref(self, data: dict[str, Any], path: Path, program: str | None) -> str | None:
        if "message" not in data:
            return None
        message = self.checker.ident(data["message"], (*path, "message"), "node")
        if message is not None:
            self.message_refs.append(MessageRef((*path, "message"), message, program))
        return message

    def _status(self, data: dict[str, Any], path: Path) -> Condition | None:
        c = self.checker
        c.keys(
            data,
            path,
            ["message", "program", "status", "status_not"],
            what="in a message condition",
        )
        program = (
            c.ident(data["program"], (*path, "program"), "program") if "program" in data else None
        )
        message = self._message_ref(data, path, program)
        words = [w for w in ("status", "status_not") if w in data]
        if len(words) != 1:
            c.error(path, "a message condition takes one of 'status' or 'status_not'")
            return None
        names = c.strings(data[words[0]], (*path, words[0]), "a status")
        if names is None or message is None:
            return None
        statuses = [c.choice(n, (*path, words[0], i), STATUSES) for i, n in enumerate(names)]
        if any(s is None for s in statuses):
            return None
        chosen = tuple(STATUSES[s] for s in statuses if s is not None)
        return MessageStatus(message, chosen, words[0] == "status_not", program)
