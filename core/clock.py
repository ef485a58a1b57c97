"""Where the engine's time comes from: injected, so tests can live months in milliseconds."""

from __future__ import annotations

import time
from typing import Protocol


class Clock(Protocol):
    def now(self) -> float:
        """Epoch seconds."""


class SystemClock:
    """The wall clock, for a running service."""

    def now(self) -> float:
        return time.time()


class VirtualClock:
    """A clock that moves only when told to (journey tests, simulations, replays)."""

    def __init__(self, start: float) -> None:
        self._now = start

    def now(self) -> float:
        return self._now

    def set(self, moment: float) -> None:
        """Move to ``moment``; time never goes back."""
        if moment < self._now:
            raise ValueError(f"the clock cannot go back from {self._now} to {moment}")
        self._now = moment

    def advance(self, seconds: float) -> None:
        self.set(self._now + seconds)
