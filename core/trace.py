"""What happened and why, per contact, and the counters that reports and metrics read."""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class Step:
    """One line of a contact's trace."""

    time: float
    program: str
    what: str  #: entered, node, branch, sent, suppressed, waiting, exited, refused ...
    node: str | None = None
    detail: str = ""

    def __str__(self) -> str:
        where = f"{self.program}.{self.node}" if self.node else self.program
        return f"{self.what} {where}" + (f": {self.detail}" if self.detail else "")


#: trace lines kept per contact (the most recent)
TRACE_KEEP = 500


class Trace:
    """Per-contact traces, kept only when enabled (journey tests, debugging a contact)."""

    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled
        self.by_contact: dict[str, list[Step]] = defaultdict(list)

    def add(self, contact: str, step: Step) -> None:
        lines = self.by_contact[contact]
        lines.append(step)
        if len(lines) > TRACE_KEEP:
            del lines[: len(lines) - TRACE_KEEP]


@dataclass
class Stats:
    """Counters of one shard. Keys are names and ids from programs, never contact ids."""

    events: Counter[str] = field(default_factory=Counter)  #: accepted, late, refused:REASON
    enrolled: Counter[str] = field(default_factory=Counter)  #: program
    refused: Counter[tuple[str, str]] = field(default_factory=Counter)  #: (program, reason)
    exited: Counter[tuple[str, str]] = field(default_factory=Counter)  #: (program, reason)
    sent: Counter[tuple[str, str]] = field(default_factory=Counter)  #: (program, channel)
    suppressed: Counter[tuple[str, str]] = field(default_factory=Counter)  #: (program, node)
    control: Counter[tuple[str, str]] = field(default_factory=Counter)  #: split holdouts
    conversions: Counter[str] = field(default_factory=Counter)  #: goal reached, by program
    #: events the router took without the engine's full path (they concerned no program)
    passed: int = 0
