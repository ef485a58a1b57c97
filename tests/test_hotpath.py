"""The one import point chooses the compiled modules, or the twins when told to."""

from __future__ import annotations

import os
import subprocess
import sys
from importlib.machinery import EXTENSION_SUFFIXES
from pathlib import Path

import pytest

from parcours.core._sources import SourceFirst

PROBE = (
    "from parcours.core import hotpath, shard; "
    "print(hotpath.TimerWheel.__module__, hotpath.PURE, shard.__file__.rpartition('.')[2])"
)  # shard.py is compiled as written (setup.py): its build, or its source when pure


def probe(**environment: str) -> str:
    env = {k: v for k, v in os.environ.items() if k != "PARCOURS_PUREPYTHON"} | environment
    result = subprocess.run(
        [sys.executable, "-c", PROBE], capture_output=True, text=True, env=env, check=True
    )
    return result.stdout.strip()


@pytest.mark.parametrize(
    ("setting", "expected"),
    [({}, "parcours.core._wheel False so"),
     ({"PARCOURS_PUREPYTHON": "1"}, "parcours.core.wheel True py"),
     ({"PARCOURS_PUREPYTHON": "0"}, "parcours.core._wheel False so")],
)  # fmt: skip
def test_the_environment_chooses_the_twin(setting: dict[str, str], expected: str) -> None:
    assert probe(**setting) == expected


def test_a_compiled_module_runs_from_its_source_when_the_source_is_newer(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("PARCOURS_PUREPYTHON", raising=False)
    (tmp_path / "setup.py").touch()  # a checkout: the package's folder beside setup.py
    package = tmp_path / "core"
    package.mkdir()
    source, build = package / "engine.py", package / f"engine{EXTENSION_SUFFIXES[0]}"
    source.write_text("VALUE = 1\n")
    build.write_bytes(b"a compiled build")
    finder, name = SourceFirst(), "parcours.core.engine"
    os.utime(source, (1_000, 1_000))
    os.utime(build, (2_000, 2_000))
    assert finder.find_spec(name, [str(package)]) is None  # the usual finders: the build
    os.utime(source, (3_000, 3_000))  # edited after the build
    with pytest.warns(RuntimeWarning, match="changed after it was compiled"):
        spec = finder.find_spec(name, [str(package)])
    assert spec is not None and spec.origin == str(source)
    (tmp_path / "setup.py").unlink()  # an installed package: its files' times mean nothing
    assert finder.find_spec(name, [str(package)]) is None
    os.utime(source, (1_000, 1_000))
    monkeypatch.setenv("PARCOURS_PUREPYTHON", "1")
    spec = finder.find_spec(name, [str(package)])
    assert spec is not None and spec.origin == str(source)
    assert finder.find_spec("elsewhere.engine", [str(package)]) is None
