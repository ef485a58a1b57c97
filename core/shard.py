"""The shard state machine: contacts, enrollments and timers of one partition, driven by
events and a clock, with no I/O.

The same code runs in-process (journey tests, small installs) and inside a partition actor.
Everything it decides goes to an outbox; everything it knows is in its tables.
"""

from __future__ import annotations

import math
from collections import Counter, OrderedDict, deque
from collections.abc import Iterable, Mapping
from typing import Any

from . import contact_changes, entering, steps, versions
from .batch import EventBatch, parse_batch
from .catalog import Catalog
from .clock import Clock
from .conditions import fields_read
from .contacts import Contacts
from .enrollments import Enrollments, Wait
from .events import FUTURE_TOLERANCE, IDENTIFY, LATE_LIMIT, Event, Refused
from .feedback import apply_feedback
from .history import History
from .hotpath import Router, TimerWheel
from .lifecycle import DeployReport, LifecycleError, ProgramState, Status
from .outbox import ListOutbox, Outbox
from .program import CompiledProgram, FrequencyCap
from .routing import Keep, gates, keep_guards, worth_keeping
from .schedule import zone
from .timers import TimerQueue
from .trace import Stats, Step, Trace

#: internal events (group joins from updates, contact.created ...) one outside event may cause
CASCADE_LIMIT = 1000
#: how long a messageId is remembered for deduplication
DEDUP_SECONDS = 24 * 3600


class Shard:
    """One partition's engine.

    Parameters:
        catalog: the workspace's name tables, shared with the compiler.
        clock: where ``now`` comes from.
        outbox: where messages go (a list in memory by default).
        caps: the workspace's frequency caps.
        timezone: the workspace's time zone (contacts without one, programs without one).
        trace: keep a per-contact trace of every step and why.
        partition: the partition this shard owns (outbox keys are unique across partitions).
    """

    def __init__(
        self,
        catalog: Catalog,
        clock: Clock,
        outbox: Outbox | None = None,
        *,
        caps: Iterable[FrequencyCap] = (),
        timezone: str = "UTC",
        trace: bool = False,
        partition: int = 0,
    ) -> None:
        self.catalog = catalog
        #: which partition of the contacts this shard owns; part of every enrollment's id
        self.partition = partition
        self.clock = clock
        self.outbox = outbox if outbox is not None else ListOutbox()
        self.caps = tuple(caps)
        #: channel -> the longest window of its caps (how far back sends are remembered)
        self.cap_window = {
            c.channel: max(x.per for x in self.caps if x.channel == c.channel) for c in self.caps
        }
        self.timezone = zone(timezone)
        #: since the last durable commit: contact slots whose record changed (each table that
        #: a record reads marks what it changes), ids deleted, ids upserted back
        self.touched, self.erased, self.lifted = set[int](), set[str](), set[str]()
        self.contacts = Contacts(catalog, touched=self.touched)
        self.history = History(catalog, self.touched)
        self.enrollments = Enrollments(self.touched)
        #: enrollment slots waiting for a moment (whole seconds: due times are rounded up)
        self.timers = TimerWheel(math.floor(clock.now()))
        self.agenda: TimerQueue[tuple[Any, ...]] = TimerQueue()
        self.programs: list[ProgramState] = []
        self.by_id: dict[str, ProgramState] = {}
        self.sends: dict[tuple[int, str], list[float]] = {}
        self.trace = Trace(trace)
        self.stats = Stats()
        self.now = clock.now()
        self.deleted: set[str] = set()
        self._seen: OrderedDict[str, float] = OrderedDict()
        self._pending: deque[Event] = deque()
        self._routes: dict[int, list[ProgramState]] = {}
        self._event_ids = catalog.events.index  # the live table: programs deployed later add to it
        #: events some deployed program reads back from history (did, wait_for after a pause),
        #: with what they must carry to be worth keeping
        self._keep: dict[int, Keep] = {}
        self._router = self._new_router()

    # -- programs ---------------------------------------------------------------------------

    def deploy(self, program: CompiledProgram, activate: bool = False) -> DeployReport:
        """Add a program, or replace the version of one already here.

        Enrollments of the previous version stay on the nodes whose ids still exist; those on
        removed nodes leave (reported in the returned :class:`DeployReport`).
        """
        self.contacts.watch(fields_read(program.bytecode))
        state = self.by_id.get(program.id)
        if state is None:
            state = ProgramState(len(self.programs), program)
            self.programs.append(state)
            self.by_id[program.id] = state
            report = DeployReport(program.id, program.version, 0, {})
        else:
            report = versions.replace(self, state, program)
        if activate and state.status is not Status.ACTIVE:
            self.activate(program.id)
        self.reroute()
        self._drain()
        return report

    def plan(self, program: CompiledProgram) -> DeployReport:
        """What :meth:`deploy` would do to the current version's enrollments, changing nothing."""
        return versions.plan(self, program)

    def activate(self, program_id: str) -> None:
        """Make a draft active: from now (or from its active_from) contacts enter and progress."""
        state = self._program(program_id)
        state.move(Status.ACTIVE)
        self.reroute()
        entering.schedule_activation(self, state)
        self._drain()

    def pause(self, program_id: str) -> None:
        """Nothing enters or progresses; steps that fall due wait for :meth:`resume`."""
        state = self._program(program_id)
        state.move(Status.PAUSED)
        state.paused_at = self.now
        self.reroute()

    def resume(self, program_id: str) -> None:
        """Run what fell due during the pause, then carry on."""
        state = self._program(program_id)
        state.move(Status.ACTIVE)
        self.reroute()
        steps.resume(self, state)
        state.paused_at = None
        if not state.started and state.live_at(self.now):  # active_from passed during the pause
            entering.start_entries(self, state)
        self._drain()

    def stop(self, program_id: str) -> None:
        """End the program: every live enrollment leaves, nobody enters again."""
        state = self._program(program_id)
        state.move(Status.STOPPED)
        for slot in self.enrollments.slots_of(state.index):
            steps.leave(self, state, slot, "program stopped")
        self.reroute()
        self._drain()

    def _program(self, program_id: str) -> ProgramState:
        state = self.by_id.get(program_id)
        if state is None:
            raise LifecycleError(f"no program '{program_id}' is deployed")
        return state

    def reroute(self) -> None:
        """Rebuild the event -> active programs index: by priority, then deployment order."""
        routes: dict[int, list[ProgramState]] = {}
        ranked = sorted(self.programs, key=lambda s: -s.compiled.settings.priority)  # stable
        for state in ranked:
            if state.status is Status.ACTIVE:
                for event in state.compiled.routes:
                    routes.setdefault(event, []).append(state)
        self._routes = routes
        self._keep = keep_guards(self.programs, self.catalog)
        self._router = self._new_router()

    def listens(self, event: int) -> bool:
        """Whether an active program reacts to the event id, or history keeps it."""
        return event in self._routes or event in self._keep

    def _new_router(self) -> Router:
        """The compiled pass over the events that concern no program (see routing.py)."""
        table = gates(self._routes, self._keep, self.catalog)
        live, past = self.enrollments.live, self.enrollments.past
        return Router(self._event_ids, table, self.contacts.slot_of, live, past)

    # -- contacts ---------------------------------------------------------------------------

    def upsert_contact(self, contact: str, fields: Mapping[str, Any]) -> None:
        """Create or update a contact (an explicit upsert also lifts a deletion)."""
        if contact in self.deleted:  # the store lifts its suppression at the next commit
            self.deleted.discard(contact)
            self.erased.discard(contact)
            self.lifted.add(contact)
        contact_changes.upsert(self, contact, fields)
        self._drain()

    def delete_contact(self, contact: str) -> None:
        """Forget a contact: its enrollments, timers, history; later events for it are refused."""
        contact_changes.erase(self, contact)

    def enroll(self, contact: str, program_id: str) -> bool:
        """The API entry: enroll a contact (created if new) in a program with ``{api: true}``.
        A deleted contact is refused (counted as ``refused:deleted_contact``)."""
        if contact in self.deleted:
            self.stats.events["refused:deleted_contact"] += 1
            return False
        slot, created = self.contacts.ensure(contact)
        self.touched.add(slot)
        if created:
            self._pending.append(Event(contact, "contact.created", self.now))
            self._drain()
        enrolled = entering.enroll_by_api(self, slot, self._program(program_id))
        self._drain()
        return enrolled

    # -- events and time --------------------------------------------------------------------

    def ingest(self, events: EventBatch | Iterable[Event | Mapping[str, Any]]) -> None:
        """Take events in order; each runs whatever falls due before it. Bad events are refused
        and counted (``stats.events['refused:REASON']``), never raised. Events given as
        mappings are read first (:func:`batch.parse_batch`): one without a timestamp happened
        at the clock's now."""
        horizon = self.clock.now() + FUTURE_TOLERANCE  # the clock stands still meanwhile
        if isinstance(events, EventBatch):
            batch = events
        else:
            batch, refused = parse_batch(events, self.clock.now())
            for _, refusal in refused:
                self.stats.events[f"refused:{refusal.reason}"] += 1
        self._forget_old_message_ids()  # once a batch: the router only adds to them
        index, count = 0, len(batch)
        while index < count:
            index = self._pass_inert(batch, index, horizon)
            if index < count:
                self._ingest_one(batch.event(index), horizon)
                index += 1

    def _pass_inert(self, batch: EventBatch, start: int, horizon: float) -> int:
        """Let the router take the events that concern no program; return where it stopped."""
        moment, low = self.timers.next_moment(), self.agenda.low  # the agenda's low may be inf
        until = low if moment is None or low < moment else moment
        scanned = self._router.scan(
            batch, start, self.now, until, horizon, self.deleted, self._seen
        )
        if scanned.stop > start:
            self.now = scanned.now
            # no zero counts: the compiled hot path and its twins may take an event by
            # different paths (same outcome), and a zero count would tell them apart
            if scanned.accepted:
                self.stats.events["accepted"] += scanned.accepted
            if scanned.late:
                self.stats.events["late"] += scanned.late
            self.stats.passed += scanned.accepted + scanned.late
        return scanned.stop

    def _ingest_one(self, event: Event, horizon: float) -> None:
        try:
            if event.time > horizon:
                raise Refused("future", "the event is stamped over an hour ahead of the clock")
            self._accept(event)
        except Refused as refusal:
            self.stats.events[f"refused:{refusal.reason}"] += 1

    def tick(self) -> None:
        """Run everything due up to the clock's now."""
        self.run_until(self.clock.now())

    def next_moment(self) -> float | None:
        """When the next timer or agenda item falls due (None: nothing is scheduled)."""
        return _earliest(self.timers.next_moment(), self.agenda.next_due())

    def run_until(self, until: float) -> None:
        """Fire timers and agenda items due up to ``until``, in time order."""
        while True:
            due = self.next_moment()
            if due is None or due > until:
                break
            self.now = max(self.now, due)
            for key in self.agenda.pop_due(due):
                entering.on_agenda(self, key)
            slots = self.timers.advance(math.floor(due)).tolist()
            slots.sort(key=self._priority)  # a capped moment goes to the highest priority first
            for slot in slots:
                self._on_timer(slot)
            self._drain()
        self.now = max(self.now, until)
        self._drain()

    def _priority(self, slot: int) -> int:
        return -self.programs[self.enrollments.program(slot)].compiled.settings.priority

    def _on_timer(self, slot: int) -> None:
        enrollments = self.enrollments
        if not enrollments.is_live(slot) or enrollments.wait[slot] not in (Wait.TIMER, Wait.EVENT):
            return  # ended, or reused by another enrollment earlier in this batch
        if self.timers.due(slot) is not None:
            return  # reused or rescheduled earlier in this batch: its own timer will fire
        state = self.programs[enrollments.program(slot)]
        self.touched.add(enrollments.contact(slot))
        if state.status is Status.PAUSED:
            enrollments.changed(slot)
            enrollments.wait[slot] = Wait.PARKED
            state.parked.append((slot, enrollments.ident(slot), self.now))
            return
        steps.on_timer(self, state, slot)

    def _accept(self, event: Event) -> None:
        if event.contact in self.deleted:
            raise Refused("deleted_contact", "the contact was deleted")
        if event.message_id is not None:
            self._deduplicate(event.message_id, event.time)
        if event.time > self.now:
            moment = self.timers.next_moment()
            if (moment is not None and moment <= event.time) or self.agenda.low <= event.time:
                self.run_until(event.time)  # something may fall due first
            else:
                self.now = event.time
        late = event.time < self.now - LATE_LIMIT
        self.stats.events["late" if late else "accepted"] += 1
        if event.name == IDENTIFY:  # a deleted contact was refused above: no accidental return
            contact_changes.upsert(self, event.contact, event.properties)
            self._drain()
            return
        slot, created = self.contacts.ensure(event.contact)
        if created and event.name != "contact.created":  # first sight creates the contact
            self._apply(Event(event.contact, "contact.created", self.now), slot, late=False)
        self._apply(event, slot, late)
        if self._pending:
            self._drain()

    def _deduplicate(self, message_id: str, time: float) -> None:
        self._forget_old_message_ids()
        if message_id in self._seen:
            raise Refused("duplicate", f"messageId {message_id} was already taken")
        self._seen[message_id] = max(time, self.now)

    def _forget_old_message_ids(self) -> None:
        while self._seen and next(iter(self._seen.values())) < self.now - DEDUP_SECONDS:
            self._seen.popitem(last=False)

    def _apply(self, event: Event, slot: int, late: bool) -> None:
        """What one event does: contact effects, history, then each program that routes it
        (what changes the contact's record marks it: an event that changes nothing, such as one
        whose entry condition fails, leaves the record as it is)."""
        program, message = apply_feedback(self, slot, event)
        event_id = self._event_ids.get(event.name)
        if event_id is None:
            return
        keep = self._keep
        if event_id in keep and worth_keeping(keep[event_id], event.properties):
            self.history.record(slot, event_id, event.time, program, message, event.properties)
        if late:
            return
        for state in self._routes.get(event_id, ()):
            entering.on_event(self, state, state.compiled.routes[event_id], slot, event)

    def _drain(self) -> None:
        """Process the internal events that steps raised (group joins, contact changes)."""
        handled = 0
        while self._pending:
            event = self._pending.popleft()
            handled += 1
            if handled > CASCADE_LIMIT:
                self.stats.events["refused:cascade"] += len(self._pending) + 1
                self._pending.clear()
                return
            slot = self.contacts.slot(event.contact)
            if slot is not None:
                self._apply(event, slot, late=False)

    def raise_event(self, contact: str, name: str, properties: Mapping[str, Any]) -> None:
        """An event caused by a step (``group.joined`` after ``add_to_group`` ...)."""
        self._pending.append(Event(contact, name, self.now, properties))

    def record(
        self, contact: int, program: str, what: str, node: str | None = None, detail: str = ""
    ) -> None:
        """Add a line to the trace of the contact in slot ``contact`` (when tracing)."""
        if self.trace.enabled:
            self.trace.add(
                self.contacts.ids[contact] or "?", Step(self.now, program, what, node, detail)
            )

    def node_counts(self) -> Counter[tuple[str, str]]:
        """How many times each (program, node) was entered, program-wide."""
        counts: Counter[tuple[str, str]] = Counter()
        for state in self.programs:
            for node, count in zip(state.compiled.nodes, state.entered, strict=True):
                if count:
                    counts[(state.id, node.id)] = count
        return counts


def _earliest(*moments: float | None) -> float | None:
    present = [m for m in moments if m is not None]
    return min(present) if present else None
