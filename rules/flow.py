"""Checks of a program's node graph: dangling references, unreachable nodes, endless loops."""

from __future__ import annotations

from .checker import Checker
from .errors import suggestion
from .model import NodeSpec
from .nodes import UNREADABLE

#: node types where a contact waits, so a loop through them is paced by time
WAITING_TYPES = frozenset({"delay", "wait_for"})


def check_flow(checker: Checker, nodes: dict[str, NodeSpec], start: str) -> None:
    """Report dangling targets; then, if the graph is whole, unreachable nodes and endless loops
    (judging them over a broken graph would report the same mistake again in other words)."""
    whole = _check_targets(checker, nodes)
    if not whole or start not in nodes or any(n.type == UNREADABLE for n in nodes.values()):
        return
    reached = reachable(nodes, start)
    for node_id in nodes:
        if node_id not in reached:
            checker.error(
                ("nodes", node_id),
                f"node '{node_id}' is unreachable: no path from '{start}' leads here",
            )
    for cycle in _unpaced_cycles(nodes):
        loop = " -> ".join([*cycle, cycle[0]])
        checker.error(
            ("nodes", cycle[0]),
            f"the loop {loop} has no delay or wait_for and no goto with max_loops: "
            "a contact would loop forever",
        )


def _check_targets(checker: Checker, nodes: dict[str, NodeSpec]) -> bool:
    """Report targets that name no node; return whether every target exists."""
    whole = True
    for node in nodes.values():
        for label, target in node.edges:
            if target not in nodes:
                path = _edge_path(node, label)
                checker.error(path, f"no node named '{target}'{suggestion(target, nodes)}")
                whole = False
    return whole


def _edge_path(node: NodeSpec, label: str) -> tuple[str | int, ...]:
    """Where an edge is written: ``case 2`` is at ``cases.1.next``."""
    word, _, number = label.partition(" ")
    if word in ("case", "branch"):
        lists = {"case": "cases", "branch": "branches"}
        return ("nodes", node.id, lists[word], int(number) - 1, "next")
    return ("nodes", node.id, label)


def reachable(nodes: dict[str, NodeSpec], start: str) -> set[str]:
    seen = {start}
    todo = [start]
    while todo:
        for target in nodes[todo.pop()].successors():
            if target in nodes and target not in seen:
                seen.add(target)
                todo.append(target)
    return seen


def _unpaced_cycles(nodes: dict[str, NodeSpec]) -> list[list[str]]:
    """Cycles through nodes that neither wait nor bound their loops (one per component)."""
    paced = {n.id for n in nodes.values() if n.type in WAITING_TYPES or _bounded_goto(n)}
    graph = {
        n.id: [t for t in n.successors() if t in nodes and t not in paced]
        for n in nodes.values()
        if n.id not in paced
    }
    return [c for c in _components(graph) if len(c) > 1 or c[0] in graph[c[0]]]


def _bounded_goto(node: NodeSpec) -> bool:
    return node.type == "goto" and node.params.get("max_loops") is not None


def _components(graph: dict[str, list[str]]) -> list[list[str]]:
    """Tarjan's strongly connected components, iteratively, each in the graph's order."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    for root in graph:
        if root in index:
            continue
        work = [(root, 0)]
        while work:
            node, i = work.pop()
            if i == 0:
                index[node] = low[node] = len(index)
                stack.append(node)
                on_stack.add(node)
            successors = graph[node]
            if i < len(successors):
                work.append((node, i + 1))
                target = successors[i]
                if target not in index:
                    work.append((target, 0))
                elif target in on_stack:
                    low[node] = min(low[node], index[target])
                continue
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                found.append(sorted(component, key=list(graph).index))
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
    return found
