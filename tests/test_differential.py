"""The bytecode and its reference evaluator agree with the condition tree, on random cases."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from contacts import ById, Contact
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from parcours.core.catalog import Catalog
from parcours.core.evaluator import evaluate
from parcours.core.values import Moment
from parcours.rules.checker import Checker
from parcours.rules.codegen import CodeGenerator
from parcours.rules.conditions import ConditionParser
from parcours.rules.interpret import PastEvent, holds
from parcours.rules.source import Document

PROGRAM = "p"
NOW = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)
FIELDS = ["city", "age", "score", "signup_at", "tags", "vip"]
PROPS = ["form", "amount", "url"]
GROUPS = ["newsletter", "customers"]
EVENTS = ["order.completed", "email.opened"]
MESSAGES = ["welcome", "coupon"]
PROGRAMS = [PROGRAM, "other"]
WORDS = ["Paris", "Lyon", "newsletter", "vip", "/pricing", ""]
STATUS_NAMES = ["sent", "delivered", "opened", "clicked", "bounced", "blocked", "error"]

words = st.sampled_from(WORDS)
numbers = st.one_of(st.integers(-5, 100), st.floats(-5, 100, allow_nan=False))
instants = st.integers(-400, 400).map(
    lambda d: (NOW + timedelta(days=d)).isoformat().replace("+00:00", "Z")
)
relatives = st.sampled_from(["now", "-30d", "-1d12h", "+2h", "-365d", "7d"])
orderables = st.one_of(numbers, instants, relatives)
scalars = st.one_of(words, numbers, st.booleans())


def comparison() -> st.SearchStrategy[dict[str, Any]]:
    return st.one_of(
        st.fixed_dictionaries({"eq": scalars}),
        st.fixed_dictionaries({"ne": scalars}),
        st.fixed_dictionaries({"in": st.lists(scalars, min_size=1, max_size=3)}),
        st.fixed_dictionaries({"not_in": st.lists(scalars, min_size=1, max_size=3)}),
        st.fixed_dictionaries({"contains": words}),
        st.fixed_dictionaries({"not_contains": words}),
        st.fixed_dictionaries({"starts_with": words}),
        st.fixed_dictionaries({"ends_with": words}),
        st.sampled_from(["gt", "gte", "lt", "lte"]).flatmap(
            lambda op: st.fixed_dictionaries({op: orderables})
        ),
        st.fixed_dictionaries({"between": st.lists(orderables, min_size=2, max_size=2)}),
        st.fixed_dictionaries({"exists": st.booleans()}),
        st.fixed_dictionaries({"missing": st.booleans()}),
    )


def field_test() -> st.SearchStrategy[dict[str, Any]]:
    plain = st.tuples(st.sampled_from(FIELDS), comparison()).map(lambda t: {"field": t[0], **t[1]})
    anniversary = st.sampled_from(FIELDS).map(lambda f: {"field": f, "month_day": "today"})
    return st.one_of(plain, anniversary)


def prop_test() -> st.SearchStrategy[dict[str, Any]]:
    full = st.tuples(st.sampled_from(PROPS), comparison()).map(lambda t: {"prop": t[0], **t[1]})
    shorthand = st.tuples(st.sampled_from(PROPS), words).map(lambda t: {t[0]: t[1]})
    return st.one_of(full, shorthand)


def did_test(where: st.SearchStrategy[dict[str, Any]]) -> st.SearchStrategy[dict[str, Any]]:
    optional = {
        "where": where,
        "message": st.sampled_from(MESSAGES),
        "program": st.sampled_from(PROGRAMS),
        "within": st.sampled_from(["1d", "30d", "180d"]),
        "since": st.just("entry"),
        "at_least": st.integers(0, 3),
        "at_most": st.integers(3, 5),
        "sum": st.tuples(st.sampled_from(["gte", "lt"]), numbers).map(
            lambda t: {"prop": "amount", t[0]: t[1]}
        ),
    }
    head = st.tuples(st.sampled_from(["did", "did_not"]), st.sampled_from(EVENTS))
    return st.tuples(head, st.fixed_dictionaries({}, optional=optional)).map(_did_clause)


def _did_clause(parts: tuple[tuple[str, str], dict[str, Any]]) -> dict[str, Any]:
    (word, event), extra = parts
    if "since" in extra:
        extra.pop("within", None)  # the language takes one of the two
    return {word: event, **extra}


def status_test() -> st.SearchStrategy[dict[str, Any]]:
    statuses = st.lists(st.sampled_from(STATUS_NAMES), min_size=1, max_size=3)
    return st.tuples(
        st.sampled_from(MESSAGES), st.sampled_from(["status", "status_not"]), statuses
    ).map(lambda t: {"message": t[0], t[1]: t[2]})


def condition(leaves: st.SearchStrategy[dict[str, Any]]) -> st.SearchStrategy[dict[str, Any]]:
    """Trees of all/any/not over ``leaves``, a few levels deep."""
    return st.recursive(
        leaves,
        lambda inner: st.one_of(
            st.lists(inner, min_size=1, max_size=3).map(lambda items: {"all": items}),
            st.lists(inner, min_size=1, max_size=3).map(lambda items: {"any": items}),
            inner.map(lambda item: {"not": item}),
        ),
        max_leaves=6,
    )


event_conditions = condition(prop_test())
contact_conditions = condition(
    st.one_of(
        field_test(),
        st.sampled_from(GROUPS).map(lambda g: {"in_group": g}),
        did_test(event_conditions),
        status_test(),
    )
)
where_conditions = condition(st.one_of(prop_test(), field_test()))

field_values = st.one_of(
    st.none(), words, numbers, st.booleans(), instants, st.lists(words, max_size=3)
)
past_events = st.builds(
    PastEvent,
    time=st.integers(-200, 2).map(lambda d: (NOW + timedelta(days=d, hours=1)).timestamp()),
    program=st.sampled_from([*PROGRAMS, None]),
    message=st.sampled_from([*MESSAGES, None]),
    props=st.fixed_dictionaries({}, optional={p: field_values for p in PROPS}),
)
contacts = st.builds(
    Contact,
    moment=st.just(Moment(NOW.timestamp(), NOW.date())),
    fields=st.fixed_dictionaries({}, optional={f: field_values for f in FIELDS}),
    props=st.fixed_dictionaries({}, optional={p: field_values for p in PROPS}),
    groups=st.sets(st.sampled_from(GROUPS)),
    statuses=st.dictionaries(
        st.tuples(st.sampled_from(PROGRAMS), st.sampled_from(MESSAGES)), st.integers(0, 8)
    ),
    past=st.dictionaries(st.sampled_from(EVENTS), st.lists(past_events, max_size=6)),
    entry_time=st.one_of(
        st.none(), st.integers(-60, 0).map(lambda d: (NOW + timedelta(days=d)).timestamp())
    ),
)


def parse(data: dict[str, Any], event_scope: bool) -> Any:
    checker = Checker(Document("random.yaml", data))
    parsed = ConditionParser(checker).parse(data, ("if",), event_scope=event_scope)
    assert not checker.problems, checker.problems
    return parsed


def agree(data: dict[str, Any], people: list[Contact], event_scope: bool = False) -> None:
    tree = parse(data, event_scope)
    catalog = Catalog()
    generator = CodeGenerator(catalog, PROGRAM)
    pc = generator.condition(tree)
    bytecode = generator.finish()
    for contact in people:
        expected = holds(tree, contact, PROGRAM)
        assert evaluate(bytecode, pc, ById(contact, catalog)) is expected, (data, contact)


CASES = settings(max_examples=1000, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@CASES
@given(contact_conditions, st.lists(contacts, min_size=4, max_size=4))
def test_contact_conditions_agree(data: dict[str, Any], people: list[Contact]) -> None:
    agree(data, people)


@CASES
@given(where_conditions, st.lists(contacts, min_size=4, max_size=4))
def test_event_conditions_agree(data: dict[str, Any], people: list[Contact]) -> None:
    agree(data, people, event_scope=True)


def test_random_cases_reach_both_answers() -> None:
    """The generators are not degenerate: conditions come out true and false alike."""
    answers: set[bool] = set()

    @settings(max_examples=200, deadline=None, derandomize=True)
    @given(contact_conditions, contacts)
    def collect(data: dict[str, Any], contact: Contact) -> None:
        answers.add(holds(parse(data, False), contact, PROGRAM))

    collect()
    assert answers == {True, False}
