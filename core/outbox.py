"""What the engine asks senders to send: one entry per message, keyed for idempotency."""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import NamedTuple, Protocol


class OutboxEntry(NamedTuple):
    """A message to send.

    ``key`` is ``partition:enrollment-node-visit``: the same step of the same enrollment always
    yields the same key, and no two partitions share one, so a sender that sees a key twice (a
    replay after a crash) sends once.
    """

    key: str
    channel: str  #: email, sms, webhook or alert
    contact: str
    program: str
    node: str
    time: float
    template: str | None = None
    options: Mapping[str, object] = MappingProxyType({})


class Outbox(Protocol):
    def append(self, entry: OutboxEntry) -> None: ...


class ListOutbox:
    """An outbox in memory (tests, journey tests, simulations)."""

    def __init__(self) -> None:
        self.entries: list[OutboxEntry] = []

    def append(self, entry: OutboxEntry) -> None:
        self.entries.append(entry)
