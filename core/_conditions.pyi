"""Type stub of the compiled column evaluator (core/conditions.py is its pure twin)."""

from typing import Any

import numpy as np
import numpy.typing as npt

from .columns import ColumnStore
from .history import History
from .program import HistoryQueries

SUPPORTED: frozenset[int]
NUMBERS: dict[str, int]

def supported(code: Any, pc: int, queries: HistoryQueries | None = None) -> bool: ...
def reads_history(code: Any, pc: int) -> bool: ...

class BoundCondition:
    def __init__(
        self,
        code: Any,
        const_kind: Any,
        const_value: Any,
        pc: int,
        store: ColumnStore,
        history: History | None = None,
        queries: HistoryQueries | None = None,
    ) -> None: ...
    def evaluate(
        self, slot: int, now: float, month: int, day: int, leap: bool, entry_time: float = ...
    ) -> bool: ...
    def evaluate_slots(
        self, slots: Any, now: float, month: int, day: int, leap: bool
    ) -> npt.NDArray[np.bool_]: ...
    def segment(
        self, size: int, now: float, month: int, day: int, leap: bool
    ) -> npt.NDArray[np.bool_]: ...
