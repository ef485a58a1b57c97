"""``parcours up``, ``status`` and ``demo`` as a user runs them: real processes, a real local
Ray and an embedded Valkey (each command starts its own)."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import redis
from conftest import EXAMPLES

from parcours.actors.ingest import ingest
from parcours.core.stores.embedded import EmbeddedValkey
from parcours.core.stores.redis import RedisStore

PARCOURS = [sys.executable, "-m", "parcours.ops.cli"]
#: the longest a real server may take to show what the test waits for
PATIENCE = 60.0


def parcours(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*PARCOURS, *args], capture_output=True, text=True, timeout=300)


def wait_for(what: str, check: Callable[[], bool]) -> None:
    """Poll a real server until ``check()`` (bounded: :data:`PATIENCE`)."""
    deadline = time.monotonic() + PATIENCE
    while not check():
        assert time.monotonic() < deadline, f"gave up waiting for {what}"
        time.sleep(0.2)


def sign_up(store: RedisStore, contact: str) -> None:
    """A contact identified, then the newsletter form (welcome-coupon's entry)."""
    raws = [
        {"type": "identify", "userId": contact, "traits": {"email": f"{contact}@example.org"}},
        {"contact": contact, "event": "form.submitted", "properties": {"form": "newsletter"}},
    ]
    assert ingest(store, 4, raws, time.time()).appended == 2


def test_up_runs_the_programs_and_status_reads_its_figures(tmp_path: Path) -> None:
    """A welcome mail, status and programs read from another process, a pause (nobody
    enters) and a resume, then Ctrl-C (SIGTERM) stops it cleanly."""
    data = tmp_path / "data"
    up = subprocess.Popen(
        [*PARCOURS, "up", str(EXAMPLES), "--data", str(data), "--actors", "1",
         "--partitions", "4", "--for", "60"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        socket = EmbeddedValkey(data).socket
        wait_for("the embedded Valkey", socket.exists)
        client = redis.Redis(unix_socket_path=str(socket))
        wait_for("the first status", lambda: client.exists("pc:status") == 1)
        store, mails = RedisStore(client), data / "outbox" / "email.jsonl"

        def taken() -> int:
            return int(client.hget("pc:status", "events") or 0)

        sign_up(store, "c1")
        wait_for("the welcome mail", mails.exists)
        wait_for("its result in the status", lambda: taken() >= 3)  # identify, form, sent
        status = parcours("status", "--data", str(data))
        assert status.returncode == 0, status.stderr
        assert status.stdout.startswith("parcours running")
        assert "enrollments" in status.stdout and "sent" in status.stdout
        assert "welcome-coupon" in parcours("programs", "--data", str(data)).stdout
        paused = parcours("pause", "welcome-coupon", "--data", str(data))
        assert paused.stdout == "welcome-coupon: paused\n", paused.stderr
        before = taken()
        sign_up(store, "c2")  # while paused: nobody enters
        wait_for("c2's events taken", lambda: taken() >= before + 2)
        assert parcours("resume", "welcome-coupon", "--data", str(data)).returncode == 0
        sign_up(store, "c3")
        wait_for("c3's welcome mail", lambda: len(mails.read_text().splitlines()) == 2)
    finally:
        up.terminate()
        out, err = up.communicate(timeout=120)
    assert up.returncode == 0, err
    assert "events/s" in out and out.rstrip().endswith("parcours up: stopped")
    sent = [json.loads(line) for line in mails.read_text().splitlines()]
    assert [(m["contact"], m["program"], m["message"]) for m in sent] == [
        ("c1", "welcome-coupon", "welcome"),
        ("c3", "welcome-coupon", "welcome"),
    ]
    gone = parcours("status", "--data", str(data))
    assert gone.returncode == 1 and "nothing runs on" in gone.stderr


def test_status_without_an_instance_says_so(tmp_path: Path) -> None:
    result = parcours("status", "--data", str(tmp_path))
    assert result.returncode == 1
    assert f"nothing runs on {tmp_path}" in result.stderr


def test_demo_ends_with_per_program_per_node_counts(tmp_path: Path) -> None:
    result = parcours("demo", "--contacts", "300", "--days", "2", "--actors", "1",
                      "--partitions", "4", "--data", str(tmp_path))  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "100% day 2/2" in result.stderr  # the progress bar
    lines = result.stdout.splitlines()
    programs = {line for line in lines if line and not line.startswith((" ", "parcours"))}
    assert {"welcome-coupon", "lead-enrichment", "engagement-tagging"} <= programs
    enriched = next(line for line in lines if line.strip().startswith("enrich "))
    assert int(enriched.split()[-1].replace(",", "")) == 300  # every contact is enriched
    assert (tmp_path / "outbox" / "webhook.jsonl").exists()


def test_up_on_a_folder_without_programs_says_so(tmp_path: Path) -> None:
    empty = tmp_path / "programs"
    empty.mkdir()
    result = parcours("up", str(empty), "--data", str(tmp_path / "data"), "--for", "1")
    assert result.returncode == 1
    assert result.stderr.strip() == f"parcours up: no program file under {empty}"
