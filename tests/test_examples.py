"""The examples: every scenario of the product documents, and every construct of the language."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from conftest import EXAMPLES

from parcours.core.bytecode import COMPARATORS
from parcours.rules import Program, load_project
from parcours.rules.conditions import (
    All,
    AnyOf,
    Condition,
    Did,
    FieldTest,
    InGroup,
    MessageStatus,
    Not,
    PropTest,
)
from parcours.rules.nodes import NODE_KEYS
from parcours.rules.updates import UPDATE_OPS

SCENARIOS = {
    "welcome-coupon", "relaunch-7-days", "list-campaign", "birthday", "purchase-anniversary",
    "drip-day-1-7-14", "abandoned-cart", "webinar-countdown", "lost-opportunity-nurture",
    "newsletter-welcome", "customer-onboarding", "satisfaction-survey", "re-permission",
    "pricing-page-alert", "engagement-tagging", "nps-branches", "hot-lead-assignment",
    "lead-enrichment", "purchase-confirmation", "monthly-winback", "seasonal-offer",
    "ab-email-vs-sms",
}  # fmt: skip


@pytest.fixture(scope="module")
def programs() -> list[Program]:
    project = load_project([EXAMPLES])
    assert project.problems == []
    return project.programs


def conditions(program: Program) -> Iterator[Condition]:
    roots: list[Any] = [program.filter, program.settings.exit_on, program.settings.goal]
    roots += [e.where for e in program.entries] + [e.segment for e in program.entries]
    for node in program.nodes.values():
        roots += [node.params.get("if"), node.params.get("where"), *node.params.get("cases", [])]
    for root in roots:
        if root is not None:
            yield from walk(root)


def walk(condition: Condition) -> Iterator[Condition]:
    yield condition
    if isinstance(condition, (All, AnyOf)):
        for item in condition.items:
            yield from walk(item)
    elif isinstance(condition, Not):
        yield from walk(condition.item)
    elif isinstance(condition, Did) and condition.where is not None:
        yield from walk(condition.where)


def test_every_scenario_has_its_program(programs: list[Program]) -> None:
    assert {p.id for p in programs} == SCENARIOS


def test_every_node_type_and_update_is_used(programs: list[Program]) -> None:
    nodes = [n for p in programs for n in p.nodes.values()]
    assert {n.type for n in nodes} == set(NODE_KEYS)
    ops = {name for n in nodes for name, _ in n.params.get("ops", [])}
    assert ops == set(UPDATE_OPS)
    delays = [n.params for n in nodes if n.type == "delay"]
    forms = {
        tuple(sorted(k for k in d if k in ("for", "at", "until", "until_field"))) for d in delays
    }
    assert {("for",), ("at",), ("at", "for"), ("until",), ("until_field",)} <= forms


def test_every_entry_kind_and_setting_is_used(programs: list[Program]) -> None:
    entries = [e for p in programs for e in p.entries]
    assert {e.kind for e in entries} == {"on", "group", "segment", "date", "api"}
    assert any(e.cron for e in entries) and any(e.kind == "segment" and not e.cron for e in entries)
    assert any(e.include_existing for e in entries) and any(e.yearly for e in entries)
    settings = [p.settings for p in programs]
    assert {s.reentry for s in settings} == {"never", "always", "after"}
    assert any(s.timezone == "contact" for s in settings)
    for name in ("send_window", "active_from", "active_until", "exit_on", "goal", "report_to"):
        assert any(getattr(s, name) for s in settings), name
    assert any(s.priority for s in settings)


def test_every_condition_form_is_used(programs: list[Program]) -> None:
    found = [c for p in programs for c in conditions(p)]
    kinds = {type(c) for c in found}
    assert kinds == {All, AnyOf, Not, FieldTest, PropTest, InGroup, Did, MessageStatus}
    comparators = {c.cmp for c in found if isinstance(c, (FieldTest, PropTest))}
    assert comparators == set(COMPARATORS.values())
    dids = [c for c in found if isinstance(c, Did)]
    assert any(d.negate for d in dids) and any(d.since_entry for d in dids)
    assert any(d.sum for d in dids) and any(d.at_most is not None for d in dids)
    assert any(d.within for d in dids) and any(d.message for d in dids)
    statuses = [c for c in found if isinstance(c, MessageStatus)]
    assert any(s.negate for s in statuses) and any(not s.negate for s in statuses)
