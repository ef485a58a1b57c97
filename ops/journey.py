"""Running journey tests: programs, contacts and events on a virtual clock, then the checks."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from parcours.core.clock import VirtualClock
from parcours.core.events import Event
from parcours.core.lifecycle import LifecycleError
from parcours.core.outbox import ListOutbox, OutboxEntry
from parcours.core.shard import Shard
from parcours.rules import compile_workspace
from parcours.rules.errors import Problem, ProgramError
from parcours.rules.project import load_valid_project
from parcours.rules.workspace import find_workspace, read_workspace

from .journey_file import Expectation, Journey, Step


@dataclass
class Outcome:
    expectation: Expectation
    passed: bool
    happened: str = ""


@dataclass
class JourneyResult:
    journey: Journey
    outcomes: list[Outcome] = field(default_factory=list)
    shard: Shard | None = None

    @property
    def passed(self) -> bool:
        return all(o.passed for o in self.outcomes)


def run_journey(journey: Journey) -> JourneyResult:
    """Run one journey test and check each expectation.

    Raises:
        ProgramError: a program of the journey does not validate.
    """
    project = load_valid_project(journey.programs)
    for later in _deployed_later(journey):  # a new version has the same id: checked on its own
        load_valid_project([later])
    workspace_file = journey.workspace or find_workspace(journey.programs[0].resolve().parent)
    workspace, problems = read_workspace(workspace_file, journey.file.parent)
    if problems:
        raise ProgramError(problems)
    first = [
        p
        for p in project.programs
        if Path(p.file).resolve() in {f.resolve() for f in journey.programs}
    ]
    compiled = compile_workspace(first, workspace=workspace)
    clock = VirtualClock(journey.start)
    shard = Shard(
        compiled.catalog,
        clock,
        ListOutbox(),
        caps=compiled.caps,
        timezone=compiled.timezone,
        trace=True,
    )
    for contact in journey.contacts:
        shard.upsert_contact(str(contact["id"]), {k: v for k, v in contact.items() if k != "id"})
    for program in compiled.programs.values():
        shard.deploy(program, activate=program.id not in journey.drafts)
    for step in journey.steps:
        clock.set(max(clock.now(), step.at))
        shard.tick()
        _apply(shard, step, journey, compiled.catalog)
    clock.set(max(clock.now(), journey.run_until))
    shard.tick()
    result = JourneyResult(journey, shard=shard)
    for expectation in journey.expectations:
        passed, happened = check(shard, expectation, journey.start)
        result.outcomes.append(Outcome(expectation, passed, happened))
    return result


def _deployed_later(journey: Journey) -> list[Path]:
    return [s.value for s in journey.steps if s.kind == "deploy" and isinstance(s.value, Path)]


def _apply(shard: Shard, step: Step, journey: Journey, catalog: Any) -> None:
    if step.kind == "event":
        assert step.contact is not None
        shard.ingest([Event(step.contact, str(step.value), step.at, step.properties)])
    elif step.kind == "enroll":
        assert step.contact is not None
        shard.enroll(step.contact, str(step.value))
    elif step.kind == "upsert":
        assert step.contact is not None
        shard.upsert_contact(step.contact, dict(step.value or {}))
    elif step.kind == "delete":
        assert step.contact is not None
        shard.delete_contact(step.contact)
    elif step.kind == "deploy":
        project = load_valid_project([step.value])
        compiled = compile_workspace(project.programs, catalog)
        for program in compiled.programs.values():
            shard.deploy(program)
    else:  # activate, pause, resume, stop
        try:
            getattr(shard, step.kind)(str(step.value))
        except LifecycleError as error:
            problem = Problem(str(journey.file), step.line, ("events",), str(error))
            raise ProgramError([problem]) from None


# -- expectations ---------------------------------------------------------------------------


def check(shard: Shard, expectation: Expectation, start: float) -> tuple[bool, str]:
    """Whether the expectation holds, and what happened instead when it does not."""
    kind = next(k for k in _CHECKS if k in expectation.data)
    return _CHECKS[kind](shard, expectation, start)


def _messages(shard: Shard, data: dict[str, Any], channel: object) -> list[OutboxEntry]:
    entries = shard.outbox.entries  # type: ignore[attr-defined]
    return [
        e for e in entries
        if e.contact == data.get("contact") and (channel in (None, "any") or e.channel == channel)
        and ("message" not in data or e.node == data["message"])
        and ("program" not in data or e.program == data["program"])
    ]  # fmt: skip


def _sent(shard: Shard, x: Expectation, start: float) -> tuple[bool, str]:
    found = _messages(shard, x.data, x.data["sent"])
    timed = [e for e in found if x.at is None or x.at[0] <= e.time <= x.at[1]]
    ok = len(timed) == x.data["count"] if "count" in x.data else bool(timed)
    return ok, _list_messages(_messages(shard, {"contact": x.data.get("contact")}, None), start)


def _not_sent(shard: Shard, x: Expectation, start: float) -> tuple[bool, str]:
    found = _messages(shard, x.data, x.data["not_sent"])
    return not found, _list_messages(found, start)


def _entered(shard: Shard, x: Expectation, start: float) -> tuple[bool, str]:
    count = shard.node_counts()[(str(x.data.get("program")), str(x.data.get("node")))]
    return count == x.data["entered"], f"{count} entered"


def _counter(
    name: str, key: Callable[[dict[str, Any]], Any]
) -> Callable[[Shard, Expectation, float], tuple[bool, str]]:
    def checker(shard: Shard, x: Expectation, start: float) -> tuple[bool, str]:
        count = getattr(shard.stats, name)[key(x.data)]
        return count == x.data[name], f"{count}"

    return checker


def _enrollment(shard: Shard, data: dict[str, Any], program: str) -> tuple[bool, bool]:
    """(live now, has left at least once) for a contact and program."""
    slot = shard.contacts.slot(str(data.get("contact")))
    state = shard.by_id.get(program)
    if slot is None or state is None:
        return False, False
    live = shard.enrollments.of(slot, state.index) is not None
    return live, shard.enrollments.past.get(slot, state.index) is not None


def _in_program(shard: Shard, x: Expectation, start: float) -> tuple[bool, str]:
    live, left = _enrollment(shard, x.data, str(x.data["in_program"]))
    return live, "left the program" if left else "never enrolled" if not live else "enrolled"


def _exited(shard: Shard, x: Expectation, start: float) -> tuple[bool, str]:
    live, left = _enrollment(shard, x.data, str(x.data["exited"]))
    return left and not live, "still enrolled" if live else "left" if left else "never enrolled"


def _snapshot(shard: Shard, data: dict[str, Any]) -> dict[str, Any] | None:
    slot = shard.contacts.slot(str(data.get("contact")))
    return None if slot is None else shard.contacts.snapshot(slot)


def _in_group(shard: Shard, x: Expectation, start: float) -> tuple[bool, str]:
    snapshot = _snapshot(shard, x.data)
    groups = snapshot["groups"] if snapshot else []
    wanted = x.data.get("in_group", x.data.get("not_in_group"))
    return (wanted in groups) == ("in_group" in x.data), f"groups {groups}"


def _field(shard: Shard, x: Expectation, start: float) -> tuple[bool, str]:
    snapshot = _snapshot(shard, x.data)
    value = None if snapshot is None else snapshot.get(str(x.data["field"]))
    return value == x.data.get("eq"), f"{x.data['field']} is {value!r}"


def _deleted(shard: Shard, x: Expectation, start: float) -> tuple[bool, str]:
    gone = shard.contacts.slot(str(x.data.get("contact"))) is None
    return gone == bool(x.data["deleted"]), "deleted" if gone else "exists"


def _refused(shard: Shard, x: Expectation, start: float) -> tuple[bool, str]:
    lines = [
        s for s in shard.trace.by_contact.get(str(x.data.get("contact")), [])
        if s.what == "refused" and s.program == x.data["refused"]
    ]  # fmt: skip
    reason = x.data.get("reason")
    ok = any(reason is None or s.detail.startswith(str(reason)) for s in lines)
    return ok, "; ".join(s.detail for s in lines) or "never refused"


_CHECKS: dict[str, Callable[[Shard, Expectation, float], tuple[bool, str]]] = {
    "sent": _sent,
    "not_sent": _not_sent,
    "entered": _entered,
    "in_program": _in_program,
    "exited": _exited,
    "in_group": _in_group,
    "not_in_group": _in_group,
    "field": _field,
    "deleted": _deleted,
    "refused": _refused,
    "enrolled": _counter("enrolled", lambda d: d["program"]),
    "conversions": _counter("conversions", lambda d: d["program"]),
    "control": _counter("control", lambda d: (d["program"], d.get("node"))),
}


def _list_messages(entries: list[OutboxEntry], start: float) -> str:
    if not entries:
        return "no message"
    return "; ".join(
        f"{e.channel} {e.program}.{e.node} at {offset(e.time, start)}" for e in entries
    )


def offset(moment: float, start: float) -> str:
    """``2d1h (2026-12-03T09:00:00Z)``: a moment as the journey's offsets and as an instant."""
    seconds = round(moment - start)
    text = ""
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60), ("s", 1)):
        count, seconds = divmod(seconds, size)
        if count:
            text += f"{count}{unit}"
    instant = datetime.fromtimestamp(moment, UTC).isoformat().replace("+00:00", "Z")
    return f"{text or '0m'} ({instant})"


def report(result: JourneyResult) -> list[str]:
    """Lines for the terminal: a verdict, then each failure with what happened and the trace."""
    journey = result.journey
    failed = [o for o in result.outcomes if not o.passed]
    if not failed:
        return [f"PASS {journey.file} ({len(result.outcomes)} expectations)"]
    lines = [f"FAIL {journey.file}: {len(failed)} of {len(result.outcomes)} expectations failed"]
    for outcome in failed:
        x = outcome.expectation
        lines.append(f"  line {x.line}: expected {{{x.describe()}}}")
        lines.append(f"    happened: {outcome.happened}")
        contact = x.data.get("contact")
        if contact is not None and result.shard is not None:
            lines.append(f"    trace of {contact}:")
            for step in result.shard.trace.by_contact.get(str(contact), []):
                lines.append(f"      {offset(step.time, journey.start)} {step}")
    return lines
