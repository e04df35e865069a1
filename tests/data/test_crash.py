"""Nothing acknowledged is lost when the process charting a session is killed (SIGKILL) at a random moment.

A real service process charts entries and prints each entry id once the service call has returned (that is the
acknowledgement a user sees). The test kills it, then checks: every acknowledged entry is in the database, the
database is intact (SQLite ``PRAGMA integrity_check``), every hash chain verifies, and a new Services opens the
session and charts again.
"""

from __future__ import annotations

import os
import random
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from kapconsole.services import Services
from tests.conftest import PASSWORD, FakeClock, make_staff
from tests.data.helpers import BASELINE, dosed

ROOT = Path(__file__).resolve().parent.parent.parent
READY_TIMEOUT = 120
MAX_ENTRIES = 100_000  # the writer's loop is bounded even if the kill never came

WRITER = """
import sys
from kapconsole.services import Services

url, sid, password = sys.argv[1], int(sys.argv[2]), sys.argv[3]
svc = Services.open(url)
nurse = svc.staff.authenticate("nina", password, "crash-test")
print("READY", flush=True)
for i in range(int(sys.argv[4])):
    if i % 2:
        entry = svc.records.record_vitals(nurse, sid, {"sbp": 120 + i % 20, "dbp": 80, "hr": 70 + i % 15})
    else:
        entry = svc.records.record_observation(nurse, sid, f"Calm, eyes closed, music on ({i}).")
    print(entry.id, flush=True)
"""


def _writer(url: str, sid: int) -> subprocess.Popen[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    return subprocess.Popen([sys.executable, "-c", WRITER, url, str(sid), PASSWORD, str(MAX_ENTRIES)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, cwd=ROOT)


def _kill_at_random(proc: subprocess.Popen[str], rng: random.Random) -> list[int]:
    """Wait for READY, let it chart for a random while, SIGKILL it; return the acknowledged entry ids."""
    assert proc.stdout is not None
    lines: list[str] = []
    ready = threading.Event()

    def read() -> None:
        assert proc.stdout is not None
        for line in proc.stdout:
            if line == "READY\n":
                ready.set()
            else:
                lines.append(line)

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    if not ready.wait(READY_TIMEOUT):
        proc.kill()
        _, err = proc.communicate(timeout=30)
        pytest.fail(f"the writer never became ready: {err[-800:]}")
    time.sleep(rng.uniform(0.02, 0.6))
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=30)
    reader.join(timeout=30)
    assert proc.stderr is not None
    proc.stderr.close()
    # A line is an acknowledgement only when the whole id and its newline arrived before the kill.
    return [int(line) for line in lines if line.endswith("\n") and line.strip().isdigit()]


def _check_round(url: str, sid: int, acknowledged: list[int], round_no: int) -> int:
    svc = Services.open(url)
    try:
        stored = {e.id for e in svc.records.record(None, sid).entries}
        lost = [i for i in acknowledged if i not in stored]
        assert not lost, f"round {round_no}: acknowledged entries lost: {lost}"
        result = svc.integrity.verify()
        assert result.ok, f"round {round_no}: {[p.message for p in result.problems]}"
        path = svc.db.sqlite_path
        if path is not None:
            conn = sqlite3.connect(path)
            try:
                assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
            finally:
                conn.close()
        nurse = svc.staff.authenticate("nina", PASSWORD, "after-crash")
        again = svc.records.record_vitals(nurse, sid, BASELINE)
        assert again.id in {e.id for e in svc.records.record(None, sid).entries}
        return len(stored)
    finally:
        svc.close()


def _crash_rounds(services: Services, clock: FakeClock, database_url: str, rounds: int, seed: int) -> None:
    staff = make_staff(services)
    sid = dosed(services, staff, clock)
    services.close()
    rng = random.Random(seed)
    total_acknowledged = 0
    for round_no in range(1, rounds + 1):
        acknowledged = _kill_at_random(_writer(database_url, sid), rng)
        total_acknowledged += len(acknowledged)
        _check_round(database_url, sid, acknowledged, round_no)
    assert total_acknowledged > 0, "the writer was always killed before it charted anything"


def test_killed_writer_loses_nothing(services: Services, clock: FakeClock, database_url: str) -> None:
    _crash_rounds(services, clock, database_url, rounds=8, seed=20240611)


@pytest.mark.slow
def test_killed_writer_loses_nothing_many_rounds(services: Services, clock: FakeClock, database_url: str) -> None:
    _crash_rounds(services, clock, database_url, rounds=40, seed=int(time.time()))
