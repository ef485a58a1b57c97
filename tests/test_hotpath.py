"""The one import point chooses the compiled modules, or the twins when told to."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

PROBE = "from parcours.core import hotpath; print(hotpath.TimerWheel.__module__, hotpath.PURE)"


def probe(**environment: str) -> str:
    env = {k: v for k, v in os.environ.items() if k != "PARCOURS_PUREPYTHON"} | environment
    result = subprocess.run(
        [sys.executable, "-c", PROBE], capture_output=True, text=True, env=env, check=True
    )
    return result.stdout.strip()


@pytest.mark.parametrize(
    ("setting", "expected"),
    [({}, "parcours.core._wheel False"), ({"PARCOURS_PUREPYTHON": "1"}, "parcours.core.wheel True"),
     ({"PARCOURS_PUREPYTHON": "0"}, "parcours.core._wheel False")],
)  # fmt: skip
def test_the_environment_chooses_the_twin(setting: dict[str, str], expected: str) -> None:
    assert probe(**setting) == expected
