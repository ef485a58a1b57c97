"""The engine's modules compiled as they are written (setup.py's ``COMPILED_AS_WRITTEN``) against
their source run by the interpreter: on the same random programs and event streams, the same
messages at the same times, the same counts and the same durable records."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from engine_support import START
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_engine_properties import programs, streams

from parcours.core.events import Event

TESTS = Path(__file__).resolve().parent


def outcomes(cases: list[tuple[dict[str, Any], list[Event]]], pure: bool) -> dict[str, Any]:
    """engine_outcome.py's report of the cases, in a process on the compiled engine or on its
    source (chosen at import: the two cannot share a process)."""
    payload = [
        [program, [[e.contact, e.name, e.time, dict(e.properties)] for e in events]]
        for program, events in cases
    ]
    environment = {**os.environ, "PARCOURS_PUREPYTHON": "1" if pure else "0"}
    found = subprocess.run(
        [sys.executable, str(TESTS / "engine_outcome.py")],
        input=json.dumps(payload), env=environment, cwd=TESTS,
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    return dict(json.loads(found.stdout))


@settings(max_examples=3, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.tuples(programs(), streams()), min_size=12, max_size=12))
def test_the_compiled_engine_and_its_source_agree(
    cases: list[tuple[dict[str, Any], list[Event]]],
) -> None:
    program = cases[0][0]
    entering = [Event("c0", program["entry"][0]["on"], START + 60 * n, {"form": form})
                for n, form in enumerate("ab")]  # fmt: skip
    cases = [*cases, (program, entering)]  # one case sure to enroll: its first node mails
    compiled, interpreted = outcomes(cases, pure=False), outcomes(cases, pure=True)
    assert compiled["shard"].endswith(".so") and interpreted["shard"].endswith(".py")
    assert compiled["cases"][-1]["outbox"]
    assert compiled["cases"] == interpreted["cases"]
