"""The program registry in memory (tests, simulations, one-off runs)."""

from __future__ import annotations

import threading
from collections.abc import Callable

from ..clock import Clock
from ..registry import Change, Current, Operation, Registry, RegistryError, State, Version


class MemoryRegistry(Registry):
    """Programs, versions and the log in dicts and lists; a lock makes each call atomic, so
    threads may share one."""

    def __init__(self, clock: Clock | None = None) -> None:
        super().__init__(clock)
        self._lock = threading.Lock()
        self._current: dict[str, Current] = {}  # in the order of the first deployments
        self._versions: dict[str, list[Version]] = {}
        self._log: list[Operation] = []

    def programs(self) -> dict[str, Current]:
        with self._lock:
            return dict(self._current)

    def versions(self, program_id: str) -> list[Version]:
        with self._lock:
            return list(self._versions.get(program_id, ()))

    def source(self, program_id: str, version: int) -> Version:
        with self._lock:
            recorded = self._versions.get(program_id, [])
            if not 1 <= version <= len(recorded):
                raise RegistryError(f"program '{program_id}' has no version {version}")
            return recorded[version - 1]

    def operations(self, after: int = 0, limit: int | None = None) -> list[Operation]:
        with self._lock:
            # seq n sits at index n - 1: the log has no gaps and is never trimmed
            start = max(after, 0)
            return self._log[start : None if limit is None else start + limit]

    def last_seq(self) -> int:
        with self._lock:
            return len(self._log)

    def _transact(self, program_id: str, decide: Callable[[State], Change]) -> Change:
        with self._lock:
            current = self._current.get(program_id)
            recorded = self._versions.get(program_id)
            state = State(len(self._log), current, recorded[-1] if recorded else None)
            change = decide(state)
            if change.operations:
                self._current[program_id] = change.current
                if change.version is not None:
                    self._versions.setdefault(program_id, []).append(change.version)
                self._log.extend(change.operations)
            return change
