"""The hot path's figures: each compiled module beside its pure twin, a peer, and its target.

    python bench/hotpath.py [--json] [--timers N]

Issue 4's targets, per core on the 2-core machine: timer wheel at least 5 million inserts/s and
5 million expirations/s through the batch API, 10 million pending timers in at most 24 bytes
each, O(1) cancel. The peer is Python's heapq (push and pop of (due, handle) pairs).
"""

from __future__ import annotations

import argparse
import gc
import heapq
import json
import platform
import time
import tracemalloc
from collections.abc import Callable
from typing import Any

import numpy as np

from parcours.core import wheel
from parcours.core._wheel import TimerWheel as CompiledWheel

START = 1_796_112_000
#: issue 4's targets
TARGETS = {
    "wheel_inserts_per_second": 5_000_000,
    "wheel_expirations_per_second": 5_000_000,
    "wheel_bytes_per_timer": 24,
    "wheel_cancel_ns_10m_over_1m": 2.0,
}


def timed(work: Callable[[], Any]) -> float:
    gc.collect()
    began = time.perf_counter()
    work()
    return time.perf_counter() - began


def workload(count: int, seed: int = 3) -> tuple[np.ndarray, np.ndarray]:  # type: ignore[type-arg]
    """Handles 0..count-1 due over the next 30 days (delays from seconds to weeks), as
    enrollments spread over a month of programs wait."""
    rng = np.random.default_rng(seed)
    handles = rng.permutation(count).astype(np.int64)
    dues = START + rng.integers(1, 30 * 86400, count, dtype=np.int64)
    return handles, dues


def wheel_rates(make: Any, count: int) -> tuple[float, float]:
    """Inserts/s and expirations/s for one batch of ``count`` timers."""
    handles, dues = workload(count)
    timers = make(START)
    insert = timed(lambda: timers.schedule(handles, dues))
    expired: list[Any] = []
    expire = timed(lambda: expired.append(timers.advance(START + 31 * 86400)))
    assert len(expired[0]) == count
    return count / insert, count / expire


def heapq_rates(count: int) -> tuple[float, float]:
    handles, dues = workload(count)
    pairs = list(zip(dues.tolist(), handles.tolist(), strict=True))
    heap: list[tuple[int, int]] = []

    def insert() -> None:
        push = heapq.heappush
        for pair in pairs:
            push(heap, pair)

    def expire() -> None:
        pop = heapq.heappop
        while heap:
            pop(heap)

    return count / timed(insert), count / timed(expire)


def bytes_per_timer(count: int) -> float:
    """Memory the compiled wheel allocates per pending timer (tracemalloc sees PyMem)."""
    handles, dues = workload(count)
    tracemalloc.start()
    timers = CompiledWheel(START)
    timers.schedule(handles, dues)
    size, _ = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert len(timers) == count
    return size / count


def cancel_ratio() -> float:
    """Time per cancel in a wheel of 10 million over a wheel of 1 million: flat (about 1) when
    cancel is O(1); both are far beyond the caches, so memory latency weighs the same."""
    seconds = []
    for size in (1_000_000, 10_000_000):
        handles, dues = workload(size)
        timers = CompiledWheel(START)
        timers.schedule(handles, dues)
        victims = handles[:100_000].tolist()
        seconds.append(timed(lambda t=timers, v=victims: [t.cancel(h) for h in v]))
    return seconds[1] / seconds[0]


def figures(count: int) -> list[dict[str, Any]]:
    compiled_in, compiled_out = wheel_rates(CompiledWheel, count)
    pure_in, pure_out = wheel_rates(wheel.TimerWheel, min(count, 1_000_000))
    peer_in, peer_out = heapq_rates(min(count, 1_000_000))
    return [
        _figure("wheel_inserts_per_second", compiled_in, "inserts/s", pure_in, peer_in),
        _figure("wheel_expirations_per_second", compiled_out, "expirations/s", pure_out, peer_out),
        _figure("wheel_bytes_per_timer", bytes_per_timer(10_000_000), "bytes", None, None),
        _figure("wheel_cancel_ns_10m_over_1m", cancel_ratio(), "ratio", None, None),
    ]


def _figure(
    metric: str, value: float, unit: str, pure: float | None, peer: float | None
) -> dict[str, Any]:
    record: dict[str, Any] = {"metric": metric, "value": round(value, 2), "unit": unit}
    record["target"] = TARGETS[metric]
    record["pure_value"] = None if pure is None else round(pure, 2)
    if peer is not None:
        record["peer"] = "heapq"
        record["peer_value"] = round(peer, 2)
    return record


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--json", action="store_true", help="one JSON object per line")
    parser.add_argument("--timers", type=int, default=5_000_000, help="timers per batch")
    args = parser.parse_args()
    rows = figures(args.timers)
    if args.json:
        for row in rows:
            print(json.dumps(row))
        return
    print(f"machine: {platform.machine()}, Python {platform.python_version()}, one core")
    for row in rows:
        print(_line(row))


def _line(row: dict[str, Any]) -> str:
    """One figure beside its target, its pure twin and its peer."""
    bigger_is_better = row["unit"] not in ("bytes", "ratio")
    ok = row["value"] >= row["target"] if bigger_is_better else row["value"] <= row["target"]
    verdict = "meets" if ok else "BELOW"
    line = f"{row['metric']:<36} {row['value']:>16,.2f} {row['unit']:<14}"
    line += f" target {row['target']:>12,} {verdict}"
    if row.get("pure_value") is not None:
        line += f"  pure {row['pure_value']:,.0f} (x{row['value'] / row['pure_value']:.0f})"
    if row.get("peer_value") is not None:
        line += f"  heapq {row['peer_value']:,.0f} (x{row['value'] / row['peer_value']:.1f})"
    return line


if __name__ == "__main__":
    main()
