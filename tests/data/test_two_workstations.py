"""Two workstations, two real processes, one PostgreSQL database: the room charts while the supervisor signs.

The room charts vitals in a loop; the supervisor, at another desk, assesses, looks at the record and signs.
Nothing the room was told was saved may be missing, and a signature must cover exactly the record the
supervisor looked at: otherwise signing is refused with StaleRecord.
"""

from __future__ import annotations

import json
import random
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from kapconsole.domain.discharge import PERSON_CRITERIA, PERSON_SCORE_PARTS
from kapconsole.domain.enums import EntryKind, SessionState
from kapconsole.domain.errors import IllegalTransition, StaleRecord
from kapconsole.services import Services
from tests.conftest import PASSWORD, FakeClock, make_staff
from tests.data.helpers import BASELINE, ready_for_discharge

pytestmark = pytest.mark.postgres

ROOT = Path(__file__).resolve().parents[2]
CHART_ROUNDS = 40
SIGN_ROUNDS = 60


# ----- what each workstation runs, in its own process ----------------------------------------------------


def _wait_for(start_at: float) -> None:
    while time.time() < start_at:
        time.sleep(0.002)


def chart_in_the_room(url: str, session_id: int, start_at: float) -> dict[str, Any]:
    """Chart vitals until the rounds are done or the record is locked by the sign-off."""
    services = Services.open(url, upgrade=False)
    nurse = services.staff.authenticate("nina", PASSWORD, "room-1")
    acknowledged: list[int] = []
    locked_after = None
    rng = random.Random(session_id)
    _wait_for(start_at)
    try:
        for i in range(CHART_ROUNDS):
            try:
                entry = services.records.record_vitals(nurse, session_id, {**BASELINE, "hr": 70 + i % 10})
            except IllegalTransition:
                locked_after = len(acknowledged)
                break
            acknowledged.append(entry.id)  # the service returned: the room was told it is saved
            time.sleep(rng.uniform(0, 0.03))
    finally:
        services.close()
    return {"acknowledged": acknowledged, "locked_after": locked_after}


def sign_at_the_desk(url: str, session_id: int, start_at: float) -> dict[str, Any]:
    """Assess, look at the record, sign what was seen; on StaleRecord look again."""
    services = Services.open(url, upgrade=False)
    boss = services.staff.authenticate("sam", PASSWORD, "supervisor-desk")
    confirmations = {key: True for key in PERSON_CRITERIA}
    parts = {key: 2 for key in PERSON_SCORE_PARTS}
    attempts: list[dict[str, Any]] = []
    rng = random.Random(session_id + 1)
    _wait_for(start_at)
    try:
        for _ in range(SIGN_ROUNDS):
            services.discharge.assess(boss, session_id, confirmations=confirmations, score_parts=parts)
            shown = services.records.record(boss, session_id)  # what the supervisor's screen shows
            time.sleep(rng.uniform(0, 0.02))  # reading it
            attempt: dict[str, Any] = {"seen_head": shown.info.chain_head, "seen_count": shown.info.entry_count,
                                       "seen_hashes": [e.hash for e in shown.entries]}
            try:
                signature = services.discharge.sign(boss, session_id, password=PASSWORD,
                                                    seen_chain_head=shown.info.chain_head)
            except StaleRecord as exc:
                attempt["result"] = f"stale: {exc}"
                attempts.append(attempt)
                continue
            attempt["result"] = "signed"
            attempt["signature"] = dict(signature.payload)
            attempts.append(attempt)
            break
    finally:
        services.close()
    return {"attempts": attempts}


_CHILD = """
import json, sys
from tests.data import test_two_workstations as t
fn = getattr(t, sys.argv[1])
print(json.dumps(fn(sys.argv[2], int(sys.argv[3]), float(sys.argv[4]))))
"""


def _spawn(fn: str, url: str, session_id: int, start_at: float) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, "-c", _CHILD, fn, url, str(session_id), str(start_at)], cwd=ROOT,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _result(proc: subprocess.Popen[str]) -> dict[str, Any]:
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 0, err
    return json.loads(out.strip().splitlines()[-1])


# ----- the test ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_room_charts_while_the_supervisor_signs(database_url: str) -> None:
    # The session was dosed three hours ago (a fake clock in the past); the two workstations run on real time.
    clock = FakeClock(datetime.now(UTC) - timedelta(hours=3))
    services = Services.open(database_url, clock=clock)
    try:
        staff = make_staff(services, workstation="room-1")
        sid = ready_for_discharge(services, staff, clock)
        before = services.records.record(None, sid)

        start_at = time.time() + 2.0  # both processes start their loops together, after their imports
        room = _spawn("chart_in_the_room", database_url, sid, start_at)
        desk = _spawn("sign_at_the_desk", database_url, sid, start_at)
        charted, signing = _result(room), _result(desk)

        record = services.records.record(None, sid)
        assert services.integrity.verify(sid).ok

        # No entry lost: every write the room was told was saved is in the record, and nothing else was added.
        acknowledged = charted["acknowledged"]
        new_vitals = [c.id for c in record.vitals if c.id not in {v.id for v in before.vitals}]
        assert sorted(new_vitals) == sorted(acknowledged)
        assert len(acknowledged) == len(set(acknowledged)) > 0

        # Exactly one signature, and it covers exactly the record the supervisor looked at.
        attempts = signing["attempts"]
        signed = [a for a in attempts if a["result"] == "signed"]
        assert len(signed) == 1, attempts
        shown = signed[0]
        signature = record.signature
        assert signature is not None and signature.payload == shown["signature"]
        assert signature.payload["signed_hash"] == shown["seen_head"]
        assert signature.payload["signed_seq"] == shown["seen_count"] == signature.seq - 1
        assert [e.hash for e in record.entries[:signature.seq - 1]] == shown["seen_hashes"]
        # What was signed ends with the assessment the supervisor saw (and its state move): nothing charted after.
        signed_part = record.entries[:signature.seq - 1]
        last_assessment = max(e.seq for e in signed_part if e.kind is EntryKind.DISCHARGE_ASSESSMENT)
        assert all(e.kind is EntryKind.STATE for e in signed_part if e.seq > last_assessment)
        # Every refusal was a stale record, never a silent sign-off of something else.
        assert all(a["result"].startswith("stale: ") for a in attempts[:-1])
        # Charting after the sign-off was refused (the record is locked), not lost.
        after = [e for e in record.entries if e.seq > signature.seq and e.kind is EntryKind.VITALS]
        assert after == []
        if charted["locked_after"] is not None:
            assert charted["locked_after"] == len(acknowledged)
        assert record.info.state is SessionState.DISCHARGED
        print(f"room: {len(acknowledged)} readings charted; desk: {len(attempts) - 1} stale refusals, then signed")
    finally:
        services.close()
