"""Type stub of the compiled router (the pure twin, core/router.py, has the same interface)."""

from collections.abc import Mapping, MutableMapping
from typing import Any

from .batch import EventBatch
from .router import Scanned
from .routing import Gate

class Router:
    def __init__(
        self,
        event_ids: Mapping[str, int],
        table: Mapping[int, tuple[Gate, ...] | None],
        contacts: Mapping[str, int],
        live: Any,
        past: Any,
    ) -> None: ...
    def scan(
        self,
        batch: EventBatch,
        start: int,
        now: float,
        until: float,
        horizon: float,
        deleted: set[str],
        seen: MutableMapping[str, float],
    ) -> Scanned: ...
