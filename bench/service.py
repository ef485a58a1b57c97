"""The engine as a Ray service, end to end with persistence (issue 6's figures).

An embedded Valkey (append-only file on) and a local Ray on this machine; the event-driven
example programs (bench/mix.py's); contacts imported first; events of the shop's stream
(ops/workload.py) ingested in batches of 1,000 and taken by N partition actors over P
partitions (8 by default, ``--partitions``). No sender actors: the figures end at the outbox.

- peak: a backlog of events ingested first, then drained by N = 1, 2 and 4 actors (each run its
  own events, on the same store): events/s of the drain, and of ingest + drain;
- sustained: events ingested by a producer process while the service steps (both at once, as
  a live service beside its ingest API runs), events/s from the first ingest to the last
  event taken; three runs, one after the other in time, their median the figure (the 2-core
  machine's speed varies by a tenth from minute to minute), the lowest and highest beside it;
- latency at half the peak: events stamped with the wall clock at ingest, the service stepping
  on the wall clock; latency is the outbox entry's commit time (its stream id, the server's
  clock) minus the time the message was decided for (the event's, for a message an event sends
  at once; the due time, for one a timer sends).

Each run also times a fixed piece of work (hashlib's BLAKE2b of short ids), before the first
figure and after the last: this VM's speed moves by up to a third within an hour, and every
figure with it, so the probe says which speed a run had.

Prints each figure beside its target; ``--json`` prints one JSON object per line.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import multiprocessing
import tempfile
import time
import timeit
from pathlib import Path
from typing import Any

import mix
import numpy as np

from parcours.actors.ingest import ingest
from parcours.actors.partitions import ServiceConfig
from parcours.actors.service import Service, start_ray
from parcours.core.events import Event
from parcours.core.registries.redis import RedisRegistry
from parcours.core.stores.embedded import EmbeddedValkey, connect
from parcours.core.stores.redis import RedisStore
from parcours.ops import workload
from parcours.ops.deploy import deploy_paths, settings_of
from parcours.rules import compile_workspace, load_project
from parcours.rules.project import load_valid_project
from parcours.rules.registry import CompiledVersions

#: P: every round touches each partition with input, at a cost of its own (a read, a commit);
#: on 2 cores 8 partitions give both the best throughput and the lowest latency (32 measured
#: beside it in bench/RESULTS.md)
PARTITIONS = 8
SPAN = 2 * 86400.0  #: the time a throughput run's events cover
INGEST_BATCH = 1_000
SUSTAINED_RUNS = 3
#: between the throughput runs and the latency run (on the wall clock): the earlier runs'
#: timers (delays of hours and days) fall due before it, and its first step fires them, rather
#: than in a burst during it that its own events would wait behind
QUIET = 7 * 86400.0
TARGETS = {"events_per_s": 250_000, "latency_p50_ms": 10, "latency_p99_ms": 50}


def event_driven_files() -> list[Path]:
    """The example programs events drive (mix.triggered): the clocked ones would enroll every
    contact at activation, which bench/durable.py's mass figure measures."""
    project = load_project([mix.EXAMPLES])
    ids = {p.id for p in mix.triggered(compile_workspace(project.programs).programs.values())}
    return [Path(p.file) for p in project.programs if p.id in ids]


def new_service(
    folder: Path, contacts: int, actors: int, start: float, partitions: int
) -> tuple[Service, EmbeddedValkey]:
    """A store with ``contacts`` contacts and the event-driven programs, and N actors on it."""
    server = EmbeddedValkey(folder)
    client = server.start()
    files = event_driven_files()
    timezone, caps = settings_of(load_valid_project(files), files)
    config = ServiceConfig(f"unix://{server.socket}", str(folder), partitions,
                           timezone=timezone, caps=caps)  # fmt: skip
    service = Service(config, actors, CompiledVersions, channels=())
    service.import_contacts(workload.contacts(contacts), start)  # before: no welcome mail
    deploy_paths(RedisRegistry(client), files)
    return service, server


def ingest_all(service: Service, events: list[Event]) -> None:
    for first in range(0, len(events), INGEST_BATCH):
        service.ingest(events[first : first + INGEST_BATCH], events[-1].time)


def drain(service: Service, now: float) -> int:
    taken = 0
    while service.waiting():
        taken += service.step(now).events
    return taken


def peak(service: Service, contacts: int, count: int, start: float) -> dict[str, float]:
    """A backlog of two days of events from ``start`` ingested, then drained."""
    events = workload.stream(contacts, count, start, SPAN, seed=int(start))
    began = time.perf_counter()
    ingest_all(service, events)
    ingested = time.perf_counter()
    taken = drain(service, events[-1].time)
    done = time.perf_counter()
    assert taken == count, (taken, count)
    return {"drain": count / (done - ingested), "ingest_and_drain": count / (done - began)}


def sustained(service: Service, contacts: int, count: int, start: float) -> float:
    """A producer process ingests (as an ingest API would, beside the service) while the
    service steps: events/s from the producer's first batch to the last event taken. The
    service's clock is the time of the last event ingested, as a live service's is the wall
    clock: timers fall due among the events, not all at the first round."""
    producer, go, clock = producer_of(service, contacts, count, start, rate=None)
    began = time.perf_counter()
    go.set()
    taken = 0
    while producer.is_alive() or service.waiting():
        # rounds, not slices: a slice would run on after the last event, idle, for its length
        taken += service.step(clock.value).events
    producer.join()
    assert producer.exitcode == 0 and taken == count, (producer.exitcode, taken, count)
    return count / (time.perf_counter() - began)


def latency(service: Service, contacts: int, rate: float, seconds: float) -> list[float]:
    """Events at ``rate`` per second for ``seconds`` from a producer process, stamped with the
    wall clock; the service steps on the wall clock. Returns each new outbox entry's latency
    in seconds."""
    service.step(time.time())  # the earlier runs' timers due by now fire before the clock runs
    before = outbox_ids(service)
    producer, go, _ = producer_of(service, contacts, int(rate * seconds), 0.0, rate)
    began = time.time()
    go.set()
    while producer.is_alive() or service.waiting():
        service.run_for(0.2)  # as `parcours up` runs: actors step on their own in a slice
    producer.join()
    assert producer.exitcode == 0, producer.exitcode
    # timers of the earlier runs that fell due in the meantime are backlog, not latency
    return [
        committed - decided
        for entry, committed, decided in outbox_latencies(service)
        if entry not in before and decided >= began
    ]


def producer_of(
    service: Service, contacts: int, count: int, start: float, rate: float | None
) -> tuple[Any, Any, Any]:
    """A producer process (started, its events made), the signal that starts it, and the
    time of the last event it ingested (a shared value)."""
    spawn = multiprocessing.get_context("spawn")  # not a fork of a process that runs Ray
    ready, go, clock = spawn.Event(), spawn.Event(), spawn.Value("d", start)
    config = service.config
    job = (config.redis_url, config.partitions, contacts, count, start, rate, ready, go, clock)
    producer = spawn.Process(target=produce, args=job)
    producer.start()
    ready.wait()
    return producer, go, clock


def produce(
    redis_url: str,
    partitions: int,
    contacts: int,
    count: int,
    start: float,
    rate: float | None,
    ready: Any,
    go: Any,
    clock: Any,
) -> None:
    """Make the events, say so, and on the signal ingest them into the store ``redis_url``
    names: in batches as fast as it can (``rate`` None; ``clock`` gets each batch's last time),
    or at ``rate`` per second, each stamped with the wall clock as it goes in."""
    store = RedisStore(connect(redis_url))
    events = workload.stream(contacts, count, start, SPAN, seed=int(start))
    ready.set()
    go.wait()
    if rate is None:
        for first in range(0, len(events), INGEST_BATCH):
            batch = events[first : first + INGEST_BATCH]
            ingest(store, partitions, batch, events[-1].time)
            clock.value = batch[-1].time
        return
    began, sent = time.time(), 0
    while sent < len(events):
        due = min(len(events), int((time.time() - began) * rate))  # what should be in by now
        now = time.time()
        batch = [Event(e.contact, e.name, now, e.properties) for e in events[sent:due]]
        if batch:
            ingest(store, partitions, batch, now)
        sent = max(sent, due)
        time.sleep(0.002)


def outbox_ids(service: Service) -> set[str]:
    return {entry for entry, _, _ in outbox_latencies(service)}


def outbox_latencies(service: Service) -> list[tuple[str, float, float]]:
    """(entry, when it was committed, when it was decided for) of every outbox entry."""
    store, found = service.store, []
    for partition in range(service.config.partitions):
        for channel in ("email", "sms", "webhook", "alert"):
            for entry_id, entry in store.read_outbox(partition, channel, 10**9):
                committed = int(entry_id.split("-")[0]) / 1000
                found.append((f"{partition}:{channel}:{entry_id}", committed, entry.time))
    return found


def machine_probe() -> float:
    """Nanoseconds per hashlib BLAKE2b of a short id, the best of five passes (lower: a faster
    machine at that moment)."""
    ids = [f"c{i:07d}".encode() for i in range(20_000)]
    passes = timeit.repeat(
        lambda: [hashlib.blake2b(i, digest_size=8).digest() for i in ids], number=1, repeat=5
    )
    return min(passes) / len(ids) * 1e9


def measure(args: argparse.Namespace) -> dict[str, float]:
    """Every figure, on one store; the runs' events follow each other in time and end before
    the wall clock, on which the latency run plays."""
    start_ray(2)
    figures: dict[str, float] = {"machine_probe_before_ns": machine_probe()}
    folder = Path(tempfile.mkdtemp(prefix="parcours-service-"))
    # warm-up, 3 peaks, the sustained runs, a week, then the wall clock: the latency run
    base = time.time() - (5 + SUSTAINED_RUNS) * SPAN - QUIET
    service, server = new_service(folder, args.contacts, 1, base, args.partitions)
    try:
        peak(service, args.contacts, args.events // 10, base)  # warm-up: compiles, loads
        best = 0.0
        for run, actors in enumerate((1, 2, 4)):
            service.scale(actors)
            found = peak(service, args.contacts, args.events, base + (run + 1) * SPAN)
            figures[f"peak_drain_n{actors}"] = found["drain"]
            figures[f"peak_ingest_and_drain_n{actors}"] = found["ingest_and_drain"]
            best = max(best, found["ingest_and_drain"])
        service.scale(2)
        rates = [
            sustained(service, args.contacts, args.events, base + (4 + run) * SPAN)
            for run in range(SUSTAINED_RUNS)
        ]
        figures["events_per_s"] = float(np.median(rates))
        figures["events_per_s_lowest"], figures["events_per_s_highest"] = min(rates), max(rates)
        lates = np.array(latency(service, args.contacts, best / 2, args.seconds)) * 1000
        figures["latency_rate"] = best / 2
        figures["latency_p50_ms"] = float(np.percentile(lates, 50))
        figures["latency_p99_ms"] = float(np.percentile(lates, 99))
        figures["latency_messages"] = float(len(lates))
        figures["machine_probe_after_ns"] = machine_probe()
    finally:
        service.stop()
        server.stop()
    return figures


UNITS = {
    "latency_rate": "events/s",
    "latency_messages": "messages",
    "machine_probe_before_ns": "ns",
    "machine_probe_after_ns": "ns",
}


def report(figures: dict[str, float], as_json: bool) -> None:
    for metric, value in figures.items():
        unit = UNITS.get(metric, "ms" if metric.endswith("_ms") else "events/s")
        target = TARGETS.get(metric)
        if as_json:
            print(json.dumps({"metric": metric, "value": value, "unit": unit, "target": target,
                              "pure_value": None}))  # fmt: skip
        else:
            beside = "" if target is None else f"   target {target:,}"
            print(f"{metric:>28}: {value:>12,.1f} {unit}{beside}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--contacts", type=int, default=100_000)
    parser.add_argument("--events", type=int, default=300_000, help="per throughput run")
    parser.add_argument("--seconds", type=float, default=10.0, help="of the latency run")
    parser.add_argument("--partitions", type=int, default=PARTITIONS)
    parser.add_argument("--json", action="store_true", help="one JSON object per line")
    args = parser.parse_args()
    report(measure(args), args.json)


if __name__ == "__main__":
    main()
