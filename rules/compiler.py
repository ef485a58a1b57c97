"""Validated programs to the compiled form of :mod:`parcours.core.program`."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from types import MappingProxyType
from typing import Any

from parcours.core.bytecode import NONE
from parcours.core.catalog import Catalog, message_key
from parcours.core.program import (
    CompiledProgram,
    ConditionNode,
    DelayNode,
    Entry,
    EntryKind,
    EventRoute,
    FrequencyCap,
    GotoNode,
    MessageNode,
    Node,
    NodeKind,
    ProgramNode,
    Reentry,
    SendWindow,
    Settings,
    SplitNode,
    SwitchNode,
    UpdateKind,
    UpdateNode,
    UpdateOp,
    WaitForNode,
)

from .codegen import CodeGenerator
from .conditions import All, AnyOf, Condition, Did, Not
from .model import EntrySpec, NodeSpec, Program, SettingsSpec, Workspace

#: the event that a group entry listens to
GROUP_JOINED = "group.joined"
#: split weights and holdout are resolved to basis points
BASIS = 10_000


@dataclass
class CompiledWorkspace:
    """Programs compiled against one shared catalog, with what the workspace file sets for all."""

    catalog: Catalog = field(default_factory=Catalog)
    programs: dict[str, CompiledProgram] = field(default_factory=dict)
    caps: tuple[FrequencyCap, ...] = ()
    timezone: str = "UTC"


def compile_workspace(
    programs: Iterable[Program],
    catalog: Catalog | None = None,
    workspace: Workspace | None = None,
) -> CompiledWorkspace:
    """Compile validated programs; an existing ``catalog`` keeps the ids it has already given.

    Parameters:
        programs: validated programs.
        catalog: the workspace's name tables, when some programs were compiled before.
        workspace: ``parcours.yaml``, for its frequency caps and time zone.
    """
    compiled = CompiledWorkspace(catalog or Catalog())
    if workspace is not None:
        compiled.caps = tuple(
            FrequencyCap(c.channel, c.max, c.per) for c in workspace.frequency_caps
        )
        compiled.timezone = workspace.timezone
    for program in programs:
        compiled.programs[program.id] = compile_program(program, compiled.catalog)
    return compiled


def compile_program(program: Program, catalog: Catalog) -> CompiledProgram:
    """Compile one validated program; names it uses are interned in ``catalog``."""
    gen = CodeGenerator(catalog, program.id)
    index = {node_id: i for i, node_id in enumerate(program.nodes)}
    nodes = tuple(
        _node(spec, i, index, gen, program.id) for i, spec in enumerate(program.nodes.values())
    )
    entries = tuple(_entry(spec, i, gen) for i, spec in enumerate(program.entries))
    settings = _settings(program.settings, gen)
    return CompiledProgram(
        id=program.id,
        ident=catalog.programs.intern(program.id),
        version=program.digest,
        name=program.name,
        category=program.category,
        description=program.description,
        entries=entries,
        filter=gen.condition(program.filter),
        settings=settings,
        nodes=nodes,
        start=index[program.start],
        bytecode=gen.finish(),
        routes=MappingProxyType(_routes(program, entries, nodes, catalog)),
    )


def _entry(spec: EntrySpec, i: int, gen: CodeGenerator) -> Entry:
    catalog = gen.catalog
    if spec.kind == "on":
        assert spec.event is not None
        return Entry(
            index=i,
            kind=EntryKind.EVENT,
            event=catalog.events.intern(spec.event),
            where=gen.condition(spec.where),
        )
    if spec.kind == "group":
        assert spec.group is not None
        return Entry(
            index=i,
            kind=EntryKind.GROUP,
            event=catalog.events.intern(GROUP_JOINED),
            group=catalog.groups.intern(spec.group),
            include_existing=spec.include_existing,
        )
    if spec.kind == "segment":
        return Entry(
            index=i, kind=EntryKind.SEGMENT, segment=gen.condition(spec.segment), cron=spec.cron
        )
    if spec.kind == "date":
        assert spec.field is not None
        return Entry(
            index=i,
            kind=EntryKind.DATE,
            field=catalog.fields.intern(spec.field),
            offset=spec.offset,
            at_seconds=spec.at if spec.at is not None else NONE,
            yearly=spec.yearly,
        )
    return Entry(index=i, kind=EntryKind.API)


def _settings(spec: SettingsSpec, gen: CodeGenerator) -> Settings:
    window = None
    if spec.send_window is not None:
        days, start, end = spec.send_window
        window = SendWindow(days=days, start=start, end=end)
    return Settings(
        reentry=Reentry[spec.reentry.upper()],
        reentry_after=spec.reentry_after,
        timezone=spec.timezone,
        send_window=window,
        active_from=spec.active_from if spec.active_from is not None else NONE,
        active_until=spec.active_until if spec.active_until is not None else NONE,
        exit_on=gen.condition(since_entry(spec.exit_on)),
        goal=gen.condition(since_entry(spec.goal)),
        priority=spec.priority,
        report_to=spec.report_to,
    )


def since_entry(condition: Condition | None) -> Condition | None:
    """In ``exit_on`` and ``goal``, ``did: X`` without a window means since this enrollment
    began: a contact who ordered last year has not reached this cart's goal."""
    if isinstance(condition, Did) and condition.within is None and not condition.since_entry:
        return replace(condition, since_entry=True)
    if isinstance(condition, (All, AnyOf)):
        items = tuple(since_entry(item) for item in condition.items)
        return replace(condition, items=tuple(i for i in items if i is not None))
    if isinstance(condition, Not):
        item = since_entry(condition.item)
        return condition if item is None else replace(condition, item=item)
    return condition


def _node(spec: NodeSpec, i: int, index: dict[str, int], gen: CodeGenerator, program: str) -> Node:
    edges = {label: index[target] for label, target in spec.edges}
    base: dict[str, Any] = {
        "index": i,
        "id": spec.id,
        "kind": NodeKind[spec.type.upper()],
        "name": spec.name,
        "next": edges.get("next", NONE),
    }
    return _NODE_BUILDERS[spec.type](spec, base, edges, gen, program)


def _message_node(
    spec: NodeSpec, base: dict[str, Any], edges: dict[str, int], gen: CodeGenerator, program: str
) -> Node:
    p = dict(spec.params)
    template = p.pop("template", None) or (p.get("body") if spec.type == "webhook" else None)
    skip = bool(p.pop("skip_if_capped", False))
    return MessageNode(
        **base,
        message=gen.catalog.messages.intern(message_key(program, spec.id)),
        template=gen.catalog.templates.intern(template) if template else NONE,
        skip_if_capped=skip,
        options=MappingProxyType(p),
    )


def _delay_node(
    spec: NodeSpec, base: dict[str, Any], edges: dict[str, int], gen: CodeGenerator, program: str
) -> Node:
    p = spec.params
    field_name = p.get("until_field")
    return DelayNode(
        **base,
        for_seconds=p.get("for") or 0,
        at_seconds=p["at"] if p.get("at") is not None else NONE,
        until=p["until"] if p.get("until") is not None else NONE,
        until_field=gen.catalog.fields.intern(field_name) if field_name else NONE,
        offset=p.get("offset") or 0,
    )


def _wait_for_node(
    spec: NodeSpec, base: dict[str, Any], edges: dict[str, int], gen: CodeGenerator, program: str
) -> Node:
    return WaitForNode(
        **base,
        event=gen.catalog.events.intern(spec.params["event"]),
        where=gen.condition(spec.params.get("where")),
        timeout=spec.params["timeout"],
        then=edges.get("then", NONE),
        on_timeout=edges.get("on_timeout", NONE),
    )


def _condition_node(
    spec: NodeSpec, base: dict[str, Any], edges: dict[str, int], gen: CodeGenerator, program: str
) -> Node:
    return ConditionNode(
        **base,
        test=gen.condition(spec.params["if"]),
        then=edges.get("then", NONE),
        otherwise=edges.get("else", NONE),
    )


def _switch_node(
    spec: NodeSpec, base: dict[str, Any], edges: dict[str, int], gen: CodeGenerator, program: str
) -> Node:
    cases = tuple(
        (gen.condition(test), edges[f"case {i + 1}"]) for i, test in enumerate(spec.params["cases"])
    )
    return SwitchNode(**base, cases=cases, default=edges.get("default", NONE))


def _split_node(
    spec: NodeSpec, base: dict[str, Any], edges: dict[str, int], gen: CodeGenerator, program: str
) -> Node:
    """Weights become cumulative thresholds in basis points of the contacts not held out."""
    weights = spec.params["weights"]
    total = sum(weights)
    thresholds, running = [], 0.0
    for weight in weights:
        running += weight
        thresholds.append(round(BASIS * running / total))
    targets = tuple(edges[f"branch {i + 1}"] for i in range(len(weights)))
    holdout = round((spec.params.get("holdout") or 0) * BASIS / 100)
    return SplitNode(**base, thresholds=tuple(thresholds), targets=targets, holdout=holdout)


def _update_node(
    spec: NodeSpec, base: dict[str, Any], edges: dict[str, int], gen: CodeGenerator, program: str
) -> Node:
    ops: list[UpdateOp] = []
    for name, value in spec.params["ops"]:
        kind = UpdateKind[name.upper()]
        if kind in (
            UpdateKind.ADD_TO_GROUP,
            UpdateKind.MOVE_TO_GROUP,
            UpdateKind.REMOVE_FROM_GROUP,
        ):
            ops.append(UpdateOp(kind, gen.catalog.groups.intern(value)))
        elif kind in (UpdateKind.SET, UpdateKind.APPEND, UpdateKind.INCREMENT):
            ops.extend(UpdateOp(kind, gen.catalog.fields.intern(f), v) for f, v in value.items())
        elif kind in (UpdateKind.TAG, UpdateKind.UNTAG):
            ops.extend(UpdateOp(kind, NONE, tag) for tag in value)
        else:
            ops.append(UpdateOp(kind))
    return UpdateNode(**base, ops=tuple(ops))


def _program_node(
    spec: NodeSpec, base: dict[str, Any], edges: dict[str, int], gen: CodeGenerator, program: str
) -> Node:
    target = spec.params["program"]
    return ProgramNode(
        **base, program=gen.catalog.programs.intern(program if target == "self" else target)
    )


def _goto_node(
    spec: NodeSpec, base: dict[str, Any], edges: dict[str, int], gen: CodeGenerator, program: str
) -> Node:
    max_loops = spec.params.get("max_loops")
    return GotoNode(
        **base, target=edges["target"], max_loops=max_loops if max_loops is not None else NONE
    )


def _exit_node(
    spec: NodeSpec, base: dict[str, Any], edges: dict[str, int], gen: CodeGenerator, program: str
) -> Node:
    return Node(**base)


_NODE_BUILDERS = {
    "email": _message_node,
    "sms": _message_node,
    "webhook": _message_node,
    "alert": _message_node,
    "delay": _delay_node,
    "wait_for": _wait_for_node,
    "condition": _condition_node,
    "switch": _switch_node,
    "split": _split_node,
    "update": _update_node,
    "start_program": _program_node,
    "end_program": _program_node,
    "goto": _goto_node,
    "exit": _exit_node,
}


def _routes(
    program: Program, entries: tuple[Entry, ...], nodes: tuple[Node, ...], catalog: Catalog
) -> dict[int, EventRoute]:
    """Index each event id to the entries, waiting nodes and exit condition it can affect."""
    by_entry: dict[int, list[int]] = defaultdict(list)
    by_wait: dict[int, list[int]] = defaultdict(list)
    for entry in entries:
        if entry.event != NONE:
            by_entry[entry.event].append(entry.index)
    for node in nodes:
        if isinstance(node, WaitForNode):
            by_wait[node.event].append(node.index)
    exits = {catalog.events.intern(e) for e in _events_in(program.settings.exit_on)}
    goals = {catalog.events.intern(e) for e in _events_in(program.settings.goal)}
    keys = set(by_entry) | set(by_wait) | exits | goals
    return {
        event: EventRoute(
            tuple(by_entry[event]), tuple(by_wait[event]), event in exits, event in goals
        )
        for event in sorted(keys)
    }


def _events_in(condition: Condition | None) -> list[str]:
    """The events whose arrival can change a condition's answer."""
    if condition is None:
        return []
    if isinstance(condition, (All, AnyOf)):
        return [e for item in condition.items for e in _events_in(item)]
    if isinstance(condition, Not):
        return _events_in(condition.item)
    if isinstance(condition, Did):
        return [condition.event]
    return []
