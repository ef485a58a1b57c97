"""The hot path's figures: each compiled module beside its pure twin, a peer, and its target.

    python bench/hotpath.py [--json] [--timers N]

Issue 4's targets, per core on the 2-core machine: timer wheel at least 5 million inserts/s and
5 million expirations/s through the batch API, 10 million pending timers in at most 24 bytes
each, O(1) cancel (the peer is Python's heapq); the evaluator at least 5 million evaluations/s
of a 5-clause filter, a segment over 10 million contacts in under a second (peer: numpy); the
engine at least 1 million events/s on the examples' stream (peer: durable_rules); at most 64
bytes per live enrollment.
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

import memory
import mix
import numpy as np
from segments import NOW, bind, contacts, numpy_peer

from parcours.core import conditions, wheel
from parcours.core._conditions import BoundCondition as CompiledCondition
from parcours.core._wheel import TimerWheel as CompiledWheel

START = 1_796_112_000
#: issue 4's targets
TARGETS = {
    "wheel_inserts_per_second": 5_000_000,
    "wheel_expirations_per_second": 5_000_000,
    "wheel_bytes_per_timer": 24,
    "wheel_cancel_ns_10m_over_1m": 2.0,
    "evaluations_per_second": 5_000_000,
    "evaluations_per_second_unsorted": 5_000_000,
    "segment_10m_seconds": 1.0,
    "engine_mix_events_per_second": 1_000_000,
    "router_events_per_second": 1_000_000,
    "enrollment_bytes": 64,
    "enrollment_bytes_with_timer": 64,
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


def evaluator_figures() -> list[dict[str, Any]]:
    """The 5-clause filter (field ops, group, history) for a batch of a million contacts'
    events (the event path; a partition takes a batch in contact order, which keeps each
    contact's events in order) and over 10 million contacts (a segment). The twin runs on fewer
    contacts and is scaled; numpy is the peer. Unsorted, memory latency dominates: it is
    printed too."""
    store, history, catalog, raw = contacts(10_000_000)
    compiled = bind(CompiledCondition, store, history, catalog)
    pure = bind(conditions.BoundCondition, store, history, catalog)
    shuffled = np.random.default_rng(2).integers(0, 10_000_000, 1_000_000)
    slots = np.sort(shuffled)
    compiled_rate = len(slots) / timed(lambda: compiled.evaluate_slots(slots, NOW, 1, 1, False))
    unsorted = len(slots) / timed(lambda: compiled.evaluate_slots(shuffled, NOW, 1, 1, False))
    few = slots[:20_000]
    pure_rate = len(few) / timed(lambda: pure.evaluate_slots(few, NOW, 1, 1, False))
    masks: list[Any] = []
    segment = timed(lambda: masks.append(compiled.segment(10_000_000, NOW, 1, 1, False)))
    pure_segment = timed(lambda: pure.segment(50_000, NOW, 1, 1, False)) * 200
    peer_segment = timed(lambda: masks.append(numpy_peer(raw)))
    assert (masks[0] == masks[1]).all()
    return [
        _figure("evaluations_per_second", compiled_rate, "evaluations/s", pure_rate, None),
        _figure("evaluations_per_second_unsorted", unsorted, "evaluations/s", None, None),
        _figure("segment_10m_seconds", segment, "seconds", pure_segment, peer_segment, "numpy"),
    ]


def figures(count: int) -> list[dict[str, Any]]:
    compiled_in, compiled_out = wheel_rates(CompiledWheel, count)
    pure_in, pure_out = wheel_rates(wheel.TimerWheel, min(count, 1_000_000))
    peer_in, peer_out = heapq_rates(min(count, 1_000_000))
    return [
        _figure("wheel_inserts_per_second", compiled_in, "inserts/s", pure_in, peer_in),
        _figure("wheel_expirations_per_second", compiled_out, "expirations/s", pure_out, peer_out),
        _figure("wheel_bytes_per_timer", bytes_per_timer(10_000_000), "bytes", None, None),
        _figure("wheel_cancel_ns_10m_over_1m", cancel_ratio(), "ratio", None, None),
        *evaluator_figures(),
        *engine_figures(),
    ]


def engine_figures() -> list[dict[str, Any]]:
    """The engine on the examples' stream (bench/mix.py): 100,000 contacts, a million events,
    the pure twins on a tenth, durable_rules on the same events; then the bytes one live
    enrollment costs (bench/memory.py)."""
    compiled = mix.figures(100_000, 1_000_000)
    pure = mix.pure_figures(100_000, 100_000)
    peer = mix.peer_rate(mix.stream(100_000, 100_000))
    state, with_timer = memory.bytes_per_enrollment(1_000_000)
    pure_state, pure_with_timer = memory.bytes_per_enrollment(100_000, pure=True)
    engine = _figure(
        "engine_mix_events_per_second",
        compiled["mix"],
        "events/s",
        pure["mix"],
        peer,
        "durable_rules",
    )
    engine["router_share"] = round(compiled["passed_share"], 4)  # events that skipped Python
    return [
        engine,
        _figure("router_events_per_second", compiled["router"], "events/s", pure["router"], None),
        _figure("enrollment_bytes", state, "bytes", pure_state, None),
        _figure("enrollment_bytes_with_timer", with_timer, "bytes", pure_with_timer, None),
    ]  # fmt: skip


def _figure(
    metric: str,
    value: float,
    unit: str,
    pure: float | None,
    peer: float | None,
    peer_name: str = "heapq",
) -> dict[str, Any]:
    record: dict[str, Any] = {"metric": metric, "value": round(value, 2), "unit": unit}
    record["target"] = TARGETS[metric]
    record["pure_value"] = None if pure is None else round(pure, 2)
    if peer is not None:
        record["peer"] = peer_name
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
    bigger_is_better = row["unit"] not in ("bytes", "ratio", "seconds")
    ok = row["value"] >= row["target"] if bigger_is_better else row["value"] <= row["target"]
    verdict = "meets" if ok else "BELOW"
    line = f"{row['metric']:<36} {row['value']:>16,.2f} {row['unit']:<14}"
    line += f" target {row['target']:>12,} {verdict}"
    for key, name in (("pure_value", "pure"), ("peer_value", row.get("peer", ""))):
        other = row.get(key)
        if other is not None:
            ratio = row["value"] / other if bigger_is_better else other / row["value"]
            line += f"  {name} {other:,.2f} (x{ratio:.1f})"
    return line


if __name__ == "__main__":
    main()
