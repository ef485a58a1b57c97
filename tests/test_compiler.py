"""The compiled form: dense ids, seconds, routes and bytecode that answer like the program says."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime

import pytest
from conftest import EXAMPLES
from contacts import ById, Contact

from parcours.core.bytecode import NONE, WORDS, Op, Status
from parcours.core.catalog import Catalog
from parcours.core.evaluator import evaluate
from parcours.core.program import (
    CompiledProgram,
    ConditionNode,
    DelayNode,
    EntryKind,
    MessageNode,
    NodeKind,
    Reentry,
    SplitNode,
    UpdateKind,
    UpdateNode,
    WaitForNode,
)
from parcours.core.values import Moment
from parcours.rules import CompiledWorkspace, compile_workspace, load_project
from parcours.rules.interpret import PastEvent

NOW = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def compiled() -> CompiledWorkspace:
    project = load_project([EXAMPLES])
    assert not project.problems
    return compile_workspace(project.programs)


def contact(**facts: object) -> Contact:
    return Contact(moment=Moment(NOW.timestamp(), NOW.date()), **facts)  # type: ignore[arg-type]


def test_welcome_coupon_nodes_are_dense_with_seconds(compiled: CompiledWorkspace) -> None:
    program = compiled.programs["welcome-coupon"]
    assert [n.index for n in program.nodes] == list(range(len(program.nodes)))
    assert program.start == 0
    welcome, wait, opened = program.nodes[0], program.node("wait"), program.node("opened")
    assert isinstance(welcome, MessageNode) and welcome.kind is NodeKind.EMAIL
    assert welcome.next == wait.index
    assert isinstance(wait, DelayNode) and wait.for_seconds == 2 * 86400
    assert isinstance(opened, ConditionNode)
    assert (opened.then, opened.otherwise) == (
        program.node("coupon_mail").index,
        program.node("coupon_sms").index,
    )
    assert compiled.catalog.templates.name(welcome.template) == "welcome"


def test_welcome_coupon_condition_reads_the_welcome_status(compiled: CompiledWorkspace) -> None:
    program = compiled.programs["welcome-coupon"]
    opened = program.node("opened")
    assert isinstance(opened, ConditionNode)
    catalog = compiled.catalog
    opener = contact(
        past={"email.opened": [PastEvent(NOW.timestamp() - 3600, "welcome-coupon", "welcome", {})]}
    )
    other_mail = contact(
        past={"email.opened": [PastEvent(NOW.timestamp() - 3600, "welcome-coupon", "coupon", {})]}
    )
    assert evaluate(program.bytecode, opened.test, ById(opener, catalog)) is True
    assert evaluate(program.bytecode, opened.test, ById(other_mail, catalog)) is False
    assert evaluate(program.bytecode, opened.test, ById(contact(), catalog)) is False


def test_entry_where_is_bytecode_over_event_properties(compiled: CompiledWorkspace) -> None:
    program = compiled.programs["welcome-coupon"]
    [entry] = program.entries
    assert entry.kind is EntryKind.EVENT
    assert compiled.catalog.events.name(entry.event) == "form.submitted"
    assert program.routes[entry.event].entries == (0,)
    code = program.bytecode.code
    assert code[entry.where * WORDS] == Op.PROP
    catalog = compiled.catalog
    newsletter = ById(contact(props={"form": "newsletter"}), catalog)
    contest = ById(contact(props={"form": "contest"}), catalog)
    assert evaluate(program.bytecode, entry.where, newsletter) is True
    assert evaluate(program.bytecode, entry.where, contest) is False


def test_routes_index_waiting_nodes_and_exit_conditions(compiled: CompiledWorkspace) -> None:
    program = compiled.programs["abandoned-cart"]
    order = compiled.catalog.events.get("order.completed")
    cart = compiled.catalog.events.get("cart.updated")
    assert order is not None and cart is not None
    wait = program.node("wait_for_order")
    assert isinstance(wait, WaitForNode) and wait.timeout == 4 * 3600
    assert program.routes[order].waiting == (wait.index,)
    assert program.routes[order].exit_on is True
    assert program.routes[cart].entries == (0,) and program.routes[cart].exit_on is False
    assert program.settings.reentry is Reentry.AFTER and program.settings.reentry_after == 3 * 86400
    assert program.settings.priority == 5
    discount = program.node("cart_discount")
    assert isinstance(discount, MessageNode) and discount.skip_if_capped is True


def test_split_weights_become_thresholds(compiled: CompiledWorkspace) -> None:
    split = compiled.programs["ab-email-vs-sms"].node("channel_test")
    assert isinstance(split, SplitNode)
    assert split.thresholds == (5000, 10000)
    assert split.holdout == 1000  # 10 % in basis points


def test_dates_windows_and_updates(compiled: CompiledWorkspace) -> None:
    birthday = compiled.programs["birthday"]
    [entry] = birthday.entries
    assert entry.kind is EntryKind.DATE and entry.yearly and entry.at_seconds == 9 * 3600
    assert compiled.catalog.fields.name(entry.field) == "birthday"
    assert birthday.settings.timezone == "contact"
    relaunch = compiled.programs["relaunch-7-days"].settings
    assert relaunch.send_window is not None
    assert (relaunch.send_window.days, relaunch.send_window.start) == (0b11111, 9 * 3600)
    tagging = compiled.programs["engagement-tagging"]
    updates = [n for n in tagging.nodes if isinstance(n, UpdateNode)]
    kinds = {op.kind for node in updates for op in node.ops}
    assert {UpdateKind.TAG, UpdateKind.UNTAG} <= kinds
    webinar = compiled.programs["webinar-countdown"]
    delays = [n for n in webinar.nodes if isinstance(n, DelayNode) and n.until_field != NONE]
    assert sorted(d.offset for d in delays) == [-86400, -3600]


def test_status_conditions_use_bit_masks(compiled: CompiledWorkspace) -> None:
    program = compiled.programs["relaunch-7-days"]
    reaction = program.node("reaction")
    catalog = compiled.catalog
    clicked = contact(statuses={("relaunch-7-days", "first_campaign"): int(Status.CLICKED)})
    silent = contact(statuses={("relaunch-7-days", "first_campaign"): int(Status.DELIVERED)})
    cases = reaction.cases  # type: ignore[attr-defined]
    answers = [
        [evaluate(program.bytecode, pc, ById(person, catalog)) for pc, _ in cases]
        for person in (clicked, silent)
    ]
    assert answers == [[True, False, False], [False, False, True]]


def test_programs_share_one_catalog_and_keep_ids() -> None:
    project = load_project([EXAMPLES / "welcome-coupon.yaml"])
    catalog = Catalog()
    first = compile_workspace(project.programs, catalog)
    event = catalog.events.get("form.submitted")
    again = compile_workspace(load_project([EXAMPLES]).programs, catalog)
    assert catalog.events.get("form.submitted") == event
    assert (
        again.programs["welcome-coupon"].routes.keys()
        == first.programs["welcome-coupon"].routes.keys()
    )
    assert again.programs["welcome-coupon"].version == first.programs["welcome-coupon"].version


def test_compiled_programs_are_immutable(compiled: CompiledWorkspace) -> None:
    program: CompiledProgram = compiled.programs["welcome-coupon"]
    with pytest.raises(ValueError):
        program.bytecode.code[0] = 0
    with pytest.raises(dataclasses.FrozenInstanceError):
        program.start = 3  # type: ignore[misc]
    with pytest.raises(TypeError):
        program.routes[99] = program.routes[next(iter(program.routes))]  # type: ignore[index]


def test_every_example_compiles_with_valid_jumps(compiled: CompiledWorkspace) -> None:
    assert len(compiled.programs) == 22
    for program in compiled.programs.values():
        code = program.bytecode.code.reshape(-1, WORDS)
        for at, (op, a, _, _) in enumerate(code):
            if op in (Op.JUMP_IF_FALSE_OR_POP, Op.JUMP_IF_TRUE_OR_POP):
                # forward, and never past the RETURN of its own condition
                assert at < a < len(code)
                assert Op.RETURN not in code[at:a, 0]
        if len(code):
            assert code[-1][0] == Op.RETURN
