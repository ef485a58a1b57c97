"""A new version of a deployed program: what it would do to live enrollments, and doing it.

Enrollments stay on the nodes whose ids the new version still has (goto counts follow them);
those on removed nodes leave. Node counters carry over by node id.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from . import entering, steps
from .lifecycle import DeployReport, ProgramState, node_mapping
from .program import CompiledProgram

if TYPE_CHECKING:
    from .shard import Shard


def plan(shard: Shard, program: CompiledProgram) -> DeployReport:
    """What deploying ``program`` would do to the current version's enrollments."""
    state = shard.by_id.get(program.id)
    if state is None:
        return DeployReport(program.id, program.version, 0, {})
    mapping = node_mapping(state.compiled, program)
    kept, removed = 0, dict[str, int]()
    for slot in shard.enrollments.slots_of(state.index):
        node = shard.enrollments.node[slot]
        if node in mapping:
            kept += 1
        else:
            node_id = state.compiled.nodes[node].id
            removed[node_id] = removed.get(node_id, 0) + 1
    return DeployReport(program.id, program.version, kept, removed)


def replace(shard: Shard, state: ProgramState, program: CompiledProgram) -> DeployReport:
    """Put ``program`` in the place of ``state``'s version; return what it did."""
    report = plan(shard, program)
    mapping = node_mapping(state.compiled, program)
    enrollments = shard.enrollments
    loops = enrollments.loops
    for slot in enrollments.slots_of(state.index):
        shard.touched.add(enrollments.contact(slot))
        node = enrollments.node[slot]
        if node in mapping:
            enrollments.changed(slot)
            enrollments.node[slot] = mapping[node]
            if slot in loops:  # goto counts follow their node to its new index
                loops[slot] = {mapping[n]: c for n, c in loops[slot].items() if n in mapping}
        else:
            steps.leave(shard, state, slot, "node removed by a new version")
    status, parked = state.status, state.parked
    fresh = ProgramState(state.index, program, status, started=state.started, parked=parked)
    fresh.versions = [*state.versions, program.version]
    for old, new in mapping.items():
        fresh.entered[new] = state.entered[old]
    shard.programs[state.index] = fresh
    shard.by_id[program.id] = fresh
    entering.reschedule(shard, fresh)
    return report
