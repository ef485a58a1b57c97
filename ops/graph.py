"""Drawings of a program's flow: Mermaid flowcharts and Graphviz DOT."""

from __future__ import annotations

from parcours.rules.durations import UNITS
from parcours.rules.model import EntrySpec, NodeSpec, Program

#: edge labels not drawn (the plain successor)
QUIET_LABELS = {"next"}


def format_duration(seconds: int) -> str:
    """129600 -> ``1d12h``; the inverse of the language's duration syntax."""
    if seconds == 0:
        return "0s"
    sign, seconds = ("-", -seconds) if seconds < 0 else ("", seconds)
    parts = []
    for unit, size in UNITS.items():
        if unit == "w":
            continue
        count, seconds = divmod(seconds, size)
        if count:
            parts.append(f"{count}{unit}")
    return sign + "".join(parts)


def _clock(seconds: int) -> str:
    return f"{seconds // 3600:02d}:{seconds % 3600 // 60:02d}"


def entry_label(entry: EntrySpec) -> str:
    if entry.kind == "on":
        return f"on {entry.event}" + (" (where ...)" if entry.where else "")
    if entry.kind == "group":
        return f"joins group {entry.group}" + (
            " (and members at start)" if entry.include_existing else ""
        )
    if entry.kind == "segment":
        return "segment, once" if entry.cron is None else f"segment, cron {entry.cron}"
    if entry.kind == "date":
        text = f"date {entry.field}"
        if entry.offset:
            text += f" {'+' if entry.offset > 0 else ''}{format_duration(entry.offset)}"
        if entry.at is not None:
            text += f" at {_clock(entry.at)}"
        return text + (", yearly" if entry.yearly else "")
    return "api / start_program"


def node_label(node: NodeSpec) -> str:
    """First line the node id (or name), second what it does."""
    p = node.params
    details = {
        "email": f"email {p.get('template', '')}",
        "sms": f"sms {p.get('template') or 'text'}",
        "webhook": f"webhook {p.get('method', '')} {p.get('url', '')}",
        "alert": f"alert {p.get('template', '')}",
        "update": "update: " + ", ".join(op for op, _ in p.get("ops", [])),
        "delay": _delay_text(p),
        "condition": "condition?",
        "switch": "switch",
        "wait_for": f"wait for {p.get('event')} ({format_duration(p.get('timeout') or 0)})",
        "split": "split" + (f" (holdout {p['holdout']:g}%)" if p.get("holdout") else ""),
        "start_program": f"start {p.get('program')}",
        "end_program": f"end {p.get('program')}",
        "goto": "goto" + (f" (max {p['max_loops']})" if p.get("max_loops") else ""),
        "exit": "exit",
    }
    title = node.name or node.id
    return f"{title}\n{details[node.type]}"


def _delay_text(p: dict[str, object]) -> str:
    parts = []
    if p.get("for"):
        parts.append(format_duration(int(p["for"])))  # type: ignore[call-overload]
    if p.get("at") is not None:
        parts.append(f"then at {_clock(int(p['at']))}")  # type: ignore[call-overload]
    if p.get("until") is not None:
        parts.append("until a set instant")
    if p.get("until_field"):
        offset = int(p.get("offset") or 0)  # type: ignore[call-overload]
        parts.append(
            f"until {p['until_field']}" + (f" {format_duration(offset)}" if offset else "")
        )
    return "delay " + " ".join(parts)


def edges(program: Program) -> list[tuple[str, str, str]]:
    """Every arrow as (source, label, target); entries are ``entry N``, a holdout is ``holdout``."""
    found = [(f"entry {i}", "", program.start) for i in range(len(program.entries))]
    for node in program.nodes.values():
        weights = node.params.get("weights") or []
        for label, target in node.edges:
            if label.startswith("branch "):
                label = f"{weights[int(label.split()[1]) - 1]:g}%"
            found.append((node.id, "" if label in QUIET_LABELS else label, target))
        if node.type == "split" and node.params.get("holdout"):
            found.append((node.id, f"holdout {node.params['holdout']:g}%", f"{node.id} control"))
    return found


def mermaid(program: Program) -> str:
    ids = _ids(program)
    lines = ["flowchart TD", f"    %% {program.id}: {program.name}"]
    for i, entry in enumerate(program.entries):
        lines.append(f'    {ids[f"entry {i}"]}(["{_mermaid_text(entry_label(entry))}"])')
    for node in program.nodes.values():
        shape = ('{"', '"}') if node.type in ("condition", "switch", "split") else ('["', '"]')
        lines.append(f"    {ids[node.id]}{shape[0]}{_mermaid_text(node_label(node))}{shape[1]}")
    for source, label, target in edges(program):
        if target not in ids:
            lines.append(f'    {ids.setdefault(target, _safe(target))}(("control"))')
        arrow = f' -- "{_mermaid_text(label)}" --> ' if label else " --> "
        lines.append(f"    {ids[source]}{arrow}{ids[target]}")
    return "\n".join(lines) + "\n"


def dot(program: Program) -> str:
    lines = [f'digraph "{program.id}" {{', "    rankdir=TB;", "    node [shape=box];"]
    for i, entry in enumerate(program.entries):
        lines.append(f'    "entry {i}" [shape=oval, label="{_dot_text(entry_label(entry))}"];')
    for node in program.nodes.values():
        shape = "diamond" if node.type in ("condition", "switch", "split") else "box"
        lines.append(f'    "{node.id}" [shape={shape}, label="{_dot_text(node_label(node))}"];')
    for source, label, target in edges(program):
        if target.endswith(" control"):
            lines.append(f'    "{target}" [shape=circle, label="control"];')
        attributes = f' [label="{_dot_text(label)}"]' if label else ""
        lines.append(f'    "{source}" -> "{target}"{attributes};')
    return "\n".join([*lines, "}"]) + "\n"


def _ids(program: Program) -> dict[str, str]:
    """Mermaid-safe ids: prefixed (``end`` is a Mermaid keyword) and without ``-``."""
    ids = {f"entry {i}": f"entry_{i}" for i in range(len(program.entries))}
    ids.update({node_id: _safe(node_id) for node_id in program.nodes})
    return ids


def _safe(name: str) -> str:
    return "n_" + name.replace("-", "_h_").replace(" ", "_")


def _mermaid_text(text: str) -> str:
    return text.replace('"', "#quot;").replace("\n", "<br/>")


def _dot_text(text: str) -> str:
    return text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
