"""Validated programs and workspaces: names resolved and checked, values in compiled units.

These are what validation returns and what the compiler and ``parcours graph`` read.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path as FilePath
from typing import Any

from .conditions import Condition


@dataclass(frozen=True)
class EntrySpec:
    """One entry point; ``kind`` is ``on``, ``group``, ``segment``, ``date`` or ``api``."""

    kind: str
    event: str | None = None
    where: Condition | None = None
    group: str | None = None
    include_existing: bool = False
    segment: Condition | None = None
    cron: str | None = None  #: None for ``schedule: once``
    field: str | None = None
    offset: int = 0
    at: int | None = None
    yearly: bool = False


@dataclass(frozen=True)
class NodeSpec:
    """A node: its type, its successors by label, and its other settings in compiled units."""

    id: str
    type: str
    name: str | None
    edges: tuple[tuple[str, str], ...]  #: (label, target node id), in the order written
    params: dict[str, Any] = field(default_factory=dict)

    def successors(self) -> list[str]:
        return [target for _, target in self.edges]


@dataclass(frozen=True)
class SettingsSpec:
    reentry: str = "never"
    reentry_after: int = 0
    timezone: str = "UTC"
    send_window: tuple[int, int, int] | None = None  #: (weekday bits, start s, end s)
    active_from: int | None = None
    active_until: int | None = None
    exit_on: Condition | None = None
    goal: Condition | None = None
    priority: int = 0
    report_to: tuple[str, ...] = ()


@dataclass(frozen=True)
class Program:
    id: str
    name: str
    category: str
    description: str | None
    entries: tuple[EntrySpec, ...]
    filter: Condition | None
    settings: SettingsSpec
    nodes: dict[str, NodeSpec]
    start: str
    file: str
    digest: str  #: of the source text: the version of this program


@dataclass(frozen=True)
class FrequencyCap:
    channel: str
    max: int
    per: int


@dataclass(frozen=True)
class Workspace:
    """``parcours.yaml``: what all programs of a folder share."""

    folder: FilePath
    file: str | None = None
    timezone: str = "UTC"
    templates: FilePath | None = None
    senders: dict[str, dict[str, str]] = field(default_factory=dict)
    channels: dict[str, dict[str, Any]] = field(default_factory=dict)
    frequency_caps: tuple[FrequencyCap, ...] = ()

    def template_ids(self) -> set[str] | None:
        """Ids of the templates folder's files (their names without extension), if one is set."""
        if self.templates is None or not self.templates.is_dir():
            return None
        return {
            p.stem for p in self.templates.iterdir() if p.is_file() and not p.name.startswith(".")
        }
