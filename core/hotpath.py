"""The one import point of the hot path: compiled modules, or their pure-Python twins.

Everything else in parcours imports the timer wheel, the condition evaluator, the pair
indexes, the event router and the contact hash from here. ``PARCOURS_PUREPYTHON=1`` forces the
twins (as ``MSGPACK_PUREPYTHON`` does for msgpack); otherwise the compiled modules must be built
(``pip install -e .`` builds them in place), and their absence is an error rather than a
silent slowdown.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ._sources import pure_wanted

#: true when the pure-Python twins run instead of the compiled modules
PURE = pure_wanted()

if TYPE_CHECKING or PURE:  # the twins share one interface; type checkers read the pure one
    from .conditions import BoundCondition
    from .hashing import contact_hash, partition_shares
    from .pairs import LiveIndex, PastIndex
    from .router import Router
    from .wheel import TimerWheel
else:
    try:
        from ._conditions import BoundCondition
        from ._hashing import contact_hash, partition_shares
        from ._pairs import LiveIndex, PastIndex
        from ._router import Router
        from ._wheel import TimerWheel
    except ImportError as error:  # pragma: no cover - a broken install
        raise ImportError(
            "parcours' compiled hot path is not built: run 'pip install -e .' "
            "(or set PARCOURS_PUREPYTHON=1 to run the pure-Python twins)"
        ) from error

__all__ = [
    "PURE", "BoundCondition", "LiveIndex", "PastIndex", "Router", "TimerWheel", "contact_hash",
    "partition_shares",
]  # fmt: skip
