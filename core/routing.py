"""Gates: what an event must carry, and what its contact must have, for a program to react.

Most events of a real stream concern no program: a page view that is not the pricing page,
a screen, a search. The router (``router.py``, compiled in ``_router.pyx``) lets those pass
without running the engine's Python: for each event id it holds the gates of the programs the
event is routed to, and an event whose every gate is shut changes nothing but the clock.

Gates are necessary conditions, never sufficient ones: a gate that cannot be sure lets the
event through to the full path, which decides.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any, NamedTuple

from .bytecode import NONE, Cmp, Op
from .evaluator import Decoded
from .events import IDENTIFY
from .feedback import GROUP_EVENTS, STATUS_OF
from .lifecycle import Status
from .program import EntryKind, WaitForNode

if TYPE_CHECKING:
    from .catalog import Catalog
    from .lifecycle import ProgramState

#: (property name, texts one of which it must equal, texts one of which it must start with),
#: all of which must hold
Guard = tuple[tuple[str, tuple[str, ...], tuple[str, ...]], ...]
#: events the engine reads before any program (statuses, suppressions, group membership,
#: contacts' fields): never inert
FEEDBACK = frozenset(STATUS_OF) | GROUP_EVENTS | {IDENTIFY}
#: guards one of which an event must pass for history to keep it; None: keep every one
Keep = tuple[Guard, ...] | None
INF = float("inf")
#: comparators a guard can carry: equality, membership, prefix
TEXT_TESTS = frozenset({Cmp.EQ, Cmp.IN, Cmp.STARTS_WITH})
#: instructions that make a condition more than a conjunction of its clauses
NOT_CONJUNCTION = frozenset({Op.NOT, Op.JUMP_IF_TRUE_OR_POP})


class Gate(NamedTuple):
    """One program an event is routed to, and what could make it react."""

    program: int
    active_from: float  #: the program reacts from then ...
    active_until: float  #: ... until then
    live: bool  #: a live enrollment may react (a waiting node, exit_on)
    last: bool  #: the last enrollment, live or ended, may convert (goal)
    #: one per entry the event triggers: its guard, or None when anything may pass it
    entries: tuple[Guard | None, ...]


def gates(
    routes: Mapping[int, list[ProgramState]], keep: Mapping[int, Keep], catalog: Catalog
) -> dict[int, tuple[Gate, ...] | None]:
    """Event id -> the gates of the active programs it is routed to, and of history when some
    program reads it back; None for an event the full path must always see."""
    table: dict[int, tuple[Gate, ...] | None] = {}
    for event in set(routes) | set(keep):
        routed = tuple(_gate(state, event, catalog) for state in routes.get(event, ()))
        if event not in keep:
            table[event] = routed
        elif (readers := keep[event]) is not None:  # kept when a reader's guard may pass
            table[event] = (*routed, Gate(NONE, -INF, INF, False, False, tuple(readers)))
        else:
            table[event] = None
    return table


def keep_guards(programs: Iterable[ProgramState], catalog: Catalog) -> dict[int, Keep]:
    """Event id -> the guards of the conditions that read it back from history (``did``
    clauses, and ``wait_for`` nodes after a pause): an event that passes none of them can
    never be counted, so history need not keep it. None: every such event is kept."""
    keep: dict[int, Keep] = {}
    for state in programs:
        queries = state.compiled.bytecode.history
        readers = [(int(e), int(w)) for e, w in zip(queries.event, queries.where, strict=True)]
        for node in state.compiled.nodes:
            if isinstance(node, WaitForNode):
                readers.append((node.event, node.where))
        for event, where in readers:
            found = guard(state.decoded, where, catalog)
            if found is None or (event in keep and keep[event] is None):
                keep[event] = None
            else:
                keep[event] = (*(keep.get(event) or ()), found)
    return keep


def worth_keeping(guards: Keep, props: Mapping[str, Any]) -> bool:
    """Whether history should keep an event that some program reads back."""
    return guards is None or any(passes(g, props) for g in guards)


def passes(guard: Guard, props: Mapping[str, Any]) -> bool:
    """Whether the properties may satisfy the guard (a list property may: one member might)."""
    for name, exact, prefixes in guard:
        value = props.get(name)
        if isinstance(value, list):
            continue
        if not isinstance(value, str) or not (value in exact or value.startswith(prefixes)):
            return False
    return True


def _gate(state: ProgramState, event: int, catalog: Catalog) -> Gate:
    compiled = state.compiled
    route = compiled.routes[event]
    settings = compiled.settings
    entries: list[Guard | None] = []
    for index in route.entries:
        entry = compiled.entries[index]
        if entry.kind is EntryKind.GROUP:
            entries.append((("group", (catalog.groups.name(entry.group),), ()),))
        else:
            entries.append(guard(state.decoded, entry.where, catalog))
    assert state.status is Status.ACTIVE
    return Gate(
        program=state.index,
        active_from=-INF if settings.active_from == NONE else settings.active_from,
        active_until=INF if settings.active_until == NONE else settings.active_until,
        live=bool(route.waiting) or route.exit_on,
        last=route.goal,
        entries=tuple(entries),
    )


def guard(decoded: Decoded, pc: int, catalog: Catalog) -> Guard | None:
    """What the event's properties must hold for the condition at ``pc`` to: the text
    equalities and prefixes of a condition that is a conjunction; None when it sets none."""
    if pc == NONE:
        return None
    terms = []
    steps = decoded.steps
    while steps[pc].op != Op.RETURN:
        op, prop, cmp, operand = steps[pc]
        if op in NOT_CONJUNCTION:
            return None
        name = catalog.props.name(prop) if op == Op.PROP else ""
        if op == Op.PROP and cmp in TEXT_TESTS and "." not in name:
            values = operand if isinstance(operand, tuple) else (operand,)
            if all(isinstance(v, str) for v in values):
                texts = tuple(str(v) for v in values)
                terms.append((name, (), texts) if cmp is Cmp.STARTS_WITH else (name, texts, ()))
        pc += 1
    return tuple(terms) or None
