"""Discharge assessment and sign-off, and the supervisor's board, on SQLite and on PostgreSQL."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import event, text

from kapconsole.domain.discharge import PERSON_CRITERIA, PERSON_SCORE_PARTS, SIGNATURE_MEANING
from kapconsole.domain.enums import EntryKind, SessionState
from kapconsole.domain.errors import (
    AuthenticationFailed,
    IllegalTransition,
    PermissionDenied,
    StaleRecord,
)
from kapconsole.domain.integrity import canonical_payload, entry_hash
from kapconsole.domain.values import Actor
from kapconsole.services import Services
from kapconsole.services.board import BoardService
from tests.conftest import PASSWORD, FakeClock, ensure_room
from tests.data.helpers import BASELINE

CONFIRMED = {key: True for key in PERSON_CRITERIA}
FULL_SCORES = {key: 2 for key in PERSON_SCORE_PARTS}


def dosed_session(services: Services, staff: dict[str, Actor], *, identifier: str = "C-001",
                  name: str = "Maria Lopez Garcia", room: str = "Room 1", workstation: str = "room-1") -> int:
    """A session through the checklist and the first dose: monitoring."""
    nurse, doctor = staff["medical"], staff["supervisor"]
    client = services.clinic.add_client(nurse, identifier=identifier, name=name, weight_kg=70,
                                        weight_on=services.clinic.now().date())
    info = services.clinic.plan_session(nurse, client_id=client.id, room=ensure_room(services, room), route="im",
                                        planned_drug="ketamine",
                                        scheduled_at=services.clinic.now(), planned_dose=50, workstation=workstation)
    services.records.start_session(nurse, info.id)
    services.records.record_vitals(nurse, info.id, BASELINE)
    for item in services.records.record(nurse, info.id).protocol.checklist:
        if item.required:
            services.records.confirm_checklist_item(nurse, info.id, item.key)
    services.records.record_administration(nurse, info.id, drug="ketamine", route="im", dose=50, unit="mg",
                                           ordered_by=doctor.staff_id)
    return info.id


def recover(services: Services, staff: dict[str, Actor], clock: FakeClock, sid: int, *,
            vitals: dict[str, Any] | None = None, minutes: int = 125) -> None:
    """The observation time passes and the client recovers (or not, with other ``vitals``)."""
    nurse = staff["medical"]
    clock.advance(minutes=minutes)
    services.records.record_vitals(nurse, sid, vitals or {"sbp": 128, "dbp": 80, "hr": 76, "spo2": 97, "rr": 14})
    services.records.record_scale(nurse, sid, "moaas", 5)
    services.records.record_scale(nurse, sid, "dissociation", 0)


def ready_session(services: Services, staff: dict[str, Actor], clock: FakeClock, **kwargs: Any) -> int:
    sid = dosed_session(services, staff, **kwargs)
    recover(services, staff, clock, sid)
    return sid


def by_key(assessment: Any) -> dict[str, Any]:
    return {c.key: c for c in assessment.criteria}


# ----- criteria from the data -------------------------------------------------------------------------------


def test_criteria_fail_from_the_record_right_after_the_dose(services: Services, staff: dict[str, Actor],
                                                            clock: FakeClock) -> None:
    sid = dosed_session(services, staff)
    clock.advance(minutes=30)
    record = services.records.record(staff["supervisor"], sid)
    result = services.discharge.preview(record, {}, {})
    crit = by_key(result)
    assert not result.ready
    assert not crit["observation_time"].passed
    assert "30 min since last dose (minimum 120)" in crit["observation_time"].detail
    assert "91 min to go" in crit["observation_time"].detail
    assert "no Systolic BP after the last dose" in crit["vitals_baseline"].detail
    assert crit["sedation_resolved"].detail == "no MOAA/S recorded after the last dose"
    assert crit["dissociation_resolved"].detail == "no dissociation score recorded after the last dose"
    for key in PERSON_CRITERIA:
        assert (crit[key].passed, crit[key].detail, crit[key].source) == (False, "not confirmed", "person")


def test_criteria_pass_once_recovered_and_confirmed(services: Services, staff: dict[str, Actor],
                                                    clock: FakeClock) -> None:
    sid = ready_session(services, staff, clock)
    record = services.records.record(staff["supervisor"], sid)
    result = services.discharge.preview(record, CONFIRMED, FULL_SCORES)
    assert result.ready, [(c.key, c.detail) for c in result.failing]
    assert result.chain_head == record.info.chain_head
    assert sum(result.scores["aldrete"].values()) == 10
    assert sum(result.scores["padss"].values()) == 10
    # Without the bedside confirmations the record alone is not enough.
    partial = services.discharge.preview(record, {**CONFIRMED, "escort_present": False}, FULL_SCORES)
    assert [c.key for c in partial.failing] == ["escort_present"]


@pytest.mark.parametrize(("vitals", "failing", "detail"), [
    ({"sbp": 160, "dbp": 80, "hr": 76, "spo2": 97}, "vitals_baseline", "Systolic BP 160 (29%, 0 min ago)"),
    ({"sbp": 128, "dbp": 80, "hr": 76, "spo2": 93}, "spo2", "latest SpO2 93%"),
])
def test_a_criterion_fails_from_the_readings(services: Services, staff: dict[str, Actor], clock: FakeClock,
                                             vitals: dict[str, Any], failing: str, detail: str) -> None:
    sid = dosed_session(services, staff)
    recover(services, staff, clock, sid, vitals=vitals)
    result = services.discharge.preview(services.records.record(staff["medical"], sid), CONFIRMED, FULL_SCORES)
    crit = by_key(result)
    assert not crit[failing].passed
    assert detail in crit[failing].detail
    assert not result.ready


def test_unresolved_moderate_nausea_overrules_the_confirmation(services: Services, staff: dict[str, Actor],
                                                               clock: FakeClock) -> None:
    sid = ready_session(services, staff, clock)
    nurse = staff["medical"]
    effect = services.records.record_side_effect(nurse, sid, "nausea", "moderate", intervention="ondansetron 4 mg")
    crit = by_key(services.discharge.preview(services.records.record(nurse, sid), CONFIRMED, FULL_SCORES))
    assert not crit["nausea_controlled"].passed
    assert crit["nausea_controlled"].detail == "unresolved moderate nausea"
    services.records.resolve_side_effect(nurse, sid, effect.id, note="settled")
    result = services.discharge.preview(services.records.record(nurse, sid), CONFIRMED, FULL_SCORES)
    assert result.ready


# ----- assessments ------------------------------------------------------------------------------------------


def test_each_assessment_is_kept(services: Services, staff: dict[str, Actor], clock: FakeClock) -> None:
    sid = dosed_session(services, staff)
    nurse = staff["medical"]
    clock.advance(minutes=60)
    first = services.discharge.assess(nurse, sid, confirmations={"oriented": True}, score_parts={})
    assert not first.assessment.ready
    assert services.clinic.session(sid).state is SessionState.DISCHARGE
    recover(services, staff, clock, sid)
    second = services.discharge.assess(nurse, sid, confirmations=CONFIRMED, score_parts=FULL_SCORES)
    assert second.assessment.ready

    record = services.records.record(nurse, sid)
    kept = record.discharge_assessments
    assert [c.id for c in kept] == [first.entry.id, second.entry.id]
    assert kept[0].payload["ready"] is False
    assert kept[0].payload["confirmations"]["oriented"] is True
    assert kept[0].payload["confirmations"]["escort_present"] is False
    assert kept[1].payload["ready"] is True
    assert kept[1].payload["score_parts"] == FULL_SCORES
    # Only the first assessment moved the session; one state entry, not two.
    moves = [e for e in record.entries if e.kind is EntryKind.STATE and e.payload["to"] == "discharge"]
    assert len(moves) == 1
    audit = services.audit.events(staff["supervisor"], action="discharge_assessed", session_id=sid)
    assert [e.detail for e in reversed(audit)][0].endswith("criteria failing")
    assert audit[0].detail == "ready"


def test_a_therapist_cannot_record_an_assessment(services: Services, staff: dict[str, Actor],
                                                 clock: FakeClock) -> None:
    sid = ready_session(services, staff, clock)
    with pytest.raises(PermissionDenied, match="may not assess discharge"):
        services.discharge.assess(staff["therapist"], sid, confirmations=CONFIRMED, score_parts=FULL_SCORES)


# ----- signing ----------------------------------------------------------------------------------------------


def assessed(services: Services, staff: dict[str, Actor], clock: FakeClock, **kwargs: Any) -> tuple[int, str]:
    """A ready session with a passing assessment; returns (session id, the chain head a supervisor sees)."""
    sid = ready_session(services, staff, clock, **kwargs)
    services.discharge.assess(staff["medical"], sid, confirmations=CONFIRMED, score_parts=FULL_SCORES)
    return sid, services.records.record(staff["supervisor"], sid).info.chain_head


def test_only_a_supervisor_signs(services: Services, staff: dict[str, Actor], clock: FakeClock) -> None:
    sid, head = assessed(services, staff, clock)
    for role in ("medical", "therapist", "administrator"):
        with pytest.raises(PermissionDenied, match="may not sign discharge"):
            services.discharge.sign(staff[role], sid, password=PASSWORD, seen_chain_head=head)
    assert services.clinic.session(sid).state is SessionState.DISCHARGE


def test_wrong_password_is_refused_counted_and_throttled(services: Services, staff: dict[str, Actor],
                                                         clock: FakeClock) -> None:
    sid, head = assessed(services, staff, clock)
    boss = staff["supervisor"]
    for _ in range(3):
        with pytest.raises(AuthenticationFailed, match="^wrong password$"):
            services.discharge.sign(boss, sid, password="not-my-password", seen_chain_head=head)
    with pytest.raises(AuthenticationFailed, match="too many wrong passwords at this workstation; try again in"):
        services.discharge.sign(boss, sid, password=PASSWORD, seen_chain_head=head)
    failures = services.audit.events(boss, action="signature_reauth_failed")
    assert len(failures) == 3 and failures[0].workstation == "room-1"
    assert services.audit.events(boss, action="signature_reauth_throttled")
    assert services.clinic.session(sid).state is SessionState.DISCHARGE
    clock.advance(seconds=5)
    services.discharge.sign(boss, sid, password=PASSWORD, seen_chain_head=head)
    assert services.clinic.session(sid).state is SessionState.DISCHARGED


def test_sign_refused_without_a_ready_assessment(services: Services, staff: dict[str, Actor],
                                                 clock: FakeClock) -> None:
    sid = ready_session(services, staff, clock)
    boss = staff["supervisor"]
    services.records.begin_discharge(boss, sid)
    head = services.clinic.session(sid).chain_head
    with pytest.raises(IllegalTransition, match="no discharge assessment has been recorded"):
        services.discharge.sign(boss, sid, password=PASSWORD, seen_chain_head=head)
    services.discharge.assess(boss, sid, confirmations={**CONFIRMED, "escort_present": False},
                              score_parts=FULL_SCORES)
    head = services.clinic.session(sid).chain_head
    with pytest.raises(IllegalTransition, match="not ready for discharge: Escort present"):
        services.discharge.sign(boss, sid, password=PASSWORD, seen_chain_head=head)


def test_sign_refused_while_still_monitoring(services: Services, staff: dict[str, Actor],
                                             clock: FakeClock) -> None:
    sid = ready_session(services, staff, clock)
    head = services.clinic.session(sid).chain_head
    with pytest.raises(IllegalTransition, match="does not allow: sign discharge"):
        services.discharge.sign(staff["supervisor"], sid, password=PASSWORD, seen_chain_head=head)


def test_sign_refused_when_the_record_changed_after_it_was_shown(services: Services, staff: dict[str, Actor],
                                                                 clock: FakeClock) -> None:
    sid, seen = assessed(services, staff, clock)
    services.records.record_vitals(staff["medical"], sid, {"sbp": 126, "dbp": 80, "hr": 74, "spo2": 97})
    with pytest.raises(StaleRecord, match="review it again"):
        services.discharge.sign(staff["supervisor"], sid, password=PASSWORD, seen_chain_head=seen)
    # Reviewing again is not enough: the reading came after the assessment, so it must be assessed again.
    current = services.clinic.session(sid).chain_head
    with pytest.raises(StaleRecord, match="assess again"):
        services.discharge.sign(staff["supervisor"], sid, password=PASSWORD, seen_chain_head=current)
    services.discharge.assess(staff["medical"], sid, confirmations=CONFIRMED, score_parts=FULL_SCORES)
    current = services.clinic.session(sid).chain_head
    services.discharge.sign(staff["supervisor"], sid, password=PASSWORD, seen_chain_head=current)
    assert services.clinic.session(sid).state is SessionState.DISCHARGED


def test_signed_record_is_locked_and_amendments_are_marked(services: Services, staff: dict[str, Actor],
                                                           clock: FakeClock) -> None:
    sid, seen = assessed(services, staff, clock)
    boss, nurse = staff["supervisor"], staff["medical"]
    signature = services.discharge.sign(boss, sid, password=PASSWORD, seen_chain_head=seen)
    assert signature.payload["signed_hash"] == seen
    assert signature.payload["meaning"] == SIGNATURE_MEANING
    assert signature.payload["signer_name"] == "Dr Sam Supervisor"
    info = services.clinic.session(sid)
    assert info.state is SessionState.DISCHARGED and info.ended_at == clock.now

    with pytest.raises(IllegalTransition, match="locked; corrections must be made as amendments"):
        services.records.record_vitals(nurse, sid, BASELINE)
    with pytest.raises(IllegalTransition):
        services.records.record_observation(nurse, sid, "one more note")
    with pytest.raises(IllegalTransition):
        services.discharge.assess(nurse, sid, confirmations=CONFIRMED, score_parts=FULL_SCORES)
    with pytest.raises(IllegalTransition):
        services.discharge.sign(boss, sid, password=PASSWORD, seen_chain_head=info.chain_head)

    record = services.records.record(nurse, sid)
    reading = record.vitals[-1]
    amendment = services.records.amend(nurse, sid, reading.id, reason="typed HR wrong",
                                       content={**{k: v for k, v in reading.payload.items()
                                                   if k not in ("source", "confirmed_by")}, "hr": 78})
    record = services.records.record(nurse, sid)
    assert record.after_signoff(amendment)
    assert not record.after_signoff(record.by_id[reading.id])
    assert record.vitals[-1].payload["hr"] == 78 and record.vitals[-1].amended
    assert services.integrity.verify(sid).ok


def _signed_session(services: Services, staff: dict[str, Actor], clock: FakeClock) -> tuple[int, int]:
    sid, seen = assessed(services, staff, clock)
    services.discharge.sign(staff["supervisor"], sid, password=PASSWORD, seen_chain_head=seen)
    reading = services.records.record(staff["medical"], sid).vitals[-1]
    return sid, reading.id


def test_integrity_detects_a_raw_sql_change_to_a_signed_entry(services: Services, staff: dict[str, Actor],
                                                              clock: FakeClock) -> None:
    sid, entry_id = _signed_session(services, staff, clock)
    assert services.integrity.verify().ok
    with services.db.engine.begin() as conn:
        payload = json.loads(conn.execute(text("SELECT payload FROM entries WHERE id = :i"), {"i": entry_id}).scalar_one())
        payload["spo2"] = 99
        conn.execute(text("UPDATE entries SET payload = :p WHERE id = :i"),
                     {"p": canonical_payload(payload), "i": entry_id})
    result = services.integrity.verify()
    assert not result.ok
    problems = {p.entry_id: p.message for p in result.problems}
    assert "content does not match its hash" in problems.pop(entry_id)
    # The signature was over the record as it was: it names the change too, and nothing else is flagged.
    assert [(p.session_id, p.message.split(": ", 1)[1]) for p in result.problems if p.entry_id in problems] == [
        (sid, "the signed record no longer matches the signature")]


def test_integrity_detects_a_rehashed_change_through_the_signature(services: Services, staff: dict[str, Actor],
                                                                   clock: FakeClock) -> None:
    """Someone who also recomputes the entry's hash still breaks the chain and the signature."""
    sid, entry_id = _signed_session(services, staff, clock)
    with services.db.engine.begin() as conn:
        row = conn.execute(text("SELECT * FROM entries WHERE id = :i"), {"i": entry_id}).mappings().one()
        payload = json.loads(row["payload"])
        payload["sbp"] = 118
        new_text = canonical_payload(payload)
        observed, entered = row["observed_at"], row["entered_at"]
        from datetime import UTC, datetime

        def aware(value: Any) -> datetime:
            value = datetime.fromisoformat(value) if isinstance(value, str) else value
            return value.replace(tzinfo=UTC)

        digest = entry_hash(session_id=row["session_id"], seq=row["seq"], kind=row["kind"],
                            observed_at=aware(observed), entered_at=aware(entered), author_id=row["author_id"],
                            workstation=row["workstation"], amends_id=row["amends_id"], payload_text=new_text,
                            prev_hash=row["prev_hash"])
        conn.execute(text("UPDATE entries SET payload = :p, hash = :h WHERE id = :i"),
                     {"p": new_text, "h": digest, "i": entry_id})
    messages = [p.message for p in services.integrity.verify(sid).problems]
    assert any("chain link broken" in m for m in messages)
    assert any("the signed record no longer matches the signature" in m for m in messages)
    assert not any(f"entry {entry_id} " in m and "content" in m for m in messages)


# ----- the supervisor's board -------------------------------------------------------------------------------


@pytest.fixture
def board(services: Services, clock: FakeClock) -> BoardService:
    return BoardService(services.db, clock)


def test_board_lists_every_active_session_with_its_state(services: Services, staff: dict[str, Actor],
                                                         clock: FakeClock, board: BoardService) -> None:
    nurse = staff["medical"]
    planned_client = services.clinic.add_client(nurse, identifier="C-000", name="Paula Planned")
    services.clinic.plan_session(nurse, client_id=planned_client.id, room=ensure_room(services, "Room 9"), route="im",
                                 planned_drug="ketamine", scheduled_at=clock.now)
    ready, _ = assessed(services, staff, clock, identifier="C-001", name="Maria Lopez Garcia")
    other = dosed_session(services, staff, identifier="C-002", name="john smith", room="Room 2",
                          workstation="room-2")
    clock.advance(minutes=20)
    services.records.record_vitals(nurse, other, {"sbp": 185, "dbp": 95, "hr": 88, "spo2": 96})
    clock.advance(minutes=16)

    rows = board.rows(staff["therapist"])
    # The alert unacknowledged for 16 min (beyond the protocol's 10) escalates: that room comes first.
    assert [(r.session_id, r.room, r.workstation, r.client_initials) for r in rows] == [
        (other, "Room 2", "room-2", "JS"), (ready, "Room 1", "room-1", "MLG")]
    second, first = rows
    assert second.escalated and second.alert_age is not None and second.alert_age.total_seconds() == 16 * 60
    assert not first.escalated
    assert first.state is SessionState.DISCHARGE
    assert first.assessment_ready is True and first.assessment_current and first.ready_to_sign
    assert first.min_time_reached and first.assessed_by == "Nina Nurse"
    assert first.unacknowledged_alerts == 0
    assert first.version == services.clinic.session(ready).version

    assert second.state is SessionState.MONITORING
    assert second.since_first_dose is not None and second.since_first_dose.total_seconds() == 36 * 60
    assert second.vitals_age is not None and second.vitals_age.total_seconds() == 16 * 60
    assert second.vitals_overdue  # due 15 min after the last reading during the first hour
    assert second.unacknowledged_alerts == 1
    assert second.vitals_text == "BP 185/95 · HR 88 · SpO2 96%"
    assert second.assessment_ready is None and not second.min_time_reached and not second.ready_to_sign
    # Ageing a row moves its clocks without a query.
    assert not second.aged(clock.now.replace(year=clock.now.year - 1)).vitals_overdue

    services.records.acknowledge_alert(nurse, other, services.records.record(nurse, other).vitals[-1].id, ["sbp"])
    assert board.rows(staff["supervisor"])[1].unacknowledged_alerts == 0
    services.discharge.sign(staff["supervisor"], ready, password=PASSWORD,
                            seen_chain_head=services.clinic.session(ready).chain_head)
    assert [r.session_id for r in board.rows(staff["supervisor"])] == [other]


def test_board_marks_an_assessment_that_is_no_longer_current(services: Services, staff: dict[str, Actor],
                                                             clock: FakeClock, board: BoardService) -> None:
    sid, _ = assessed(services, staff, clock)
    services.records.record_observation(staff["therapist"], sid, "client resting")
    row = board.rows(staff["supervisor"])[0]
    assert row.assessment_ready is True and not row.assessment_current and not row.ready_to_sign


def test_board_needs_the_right_to_view_records(services: Services, staff: dict[str, Actor],
                                               board: BoardService) -> None:
    with pytest.raises(PermissionDenied):
        board.rows(staff["administrator"])


@pytest.fixture
def statements(services: Services) -> Iterator[list[str]]:
    seen: list[str] = []

    def count(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if statement.lstrip().upper().startswith("SELECT"):
            seen.append(statement)

    event.listen(services.db.engine, "before_cursor_execute", count)
    yield seen
    event.remove(services.db.engine, "before_cursor_execute", count)


def test_board_costs_three_queries_whatever_the_number_of_rooms(services: Services, staff: dict[str, Actor],
                                                              clock: FakeClock, board: BoardService,
                                                              statements: list[str]) -> None:
    for n in range(4):
        dosed_session(services, staff, identifier=f"C-{n}", name=f"Client {n}", room=f"Room {n}")
    statements.clear()
    rows = board.rows(staff["supervisor"])
    assert len(rows) == 4
    # The viewer's roles from the database, the active sessions, their entries.
    assert len(statements) == 3, statements
    assert "staff_roles" in statements[0]
    statements.clear()
    board.changed_since(None)
    assert len(statements) == 1


def test_board_change_token_follows_other_workstations(services: Services, staff: dict[str, Actor],
                                                       clock: FakeClock, board: BoardService,
                                                       database_url: str) -> None:
    sid = dosed_session(services, staff)
    changed, token = board.changed_since(None)
    assert changed
    assert board.changed_since(token) == (False, token)

    elsewhere = Services.open(database_url, clock=clock)  # another workstation on the same database
    try:
        nurse = elsewhere.staff.authenticate("nina", PASSWORD, "room-1")
        elsewhere.records.record_vitals(nurse, sid, BASELINE)
        changed, token2 = board.changed_since(token)
        assert changed and token2 != token
        assert board.changed_since(token2) == (False, token2)
        # A session opening or closing changes the set, even though no active version moved.
        other = dosed_session(elsewhere, {**staff, "medical": nurse}, identifier="C-9", name="New Client",
                              room="Room 2", workstation="room-2")
        changed, token3 = board.changed_since(token2)
        assert changed
        elsewhere.records.end_early(staff["supervisor"], other, "client_request", "client asked to stop",
                                    disposition="home_with_escort")
        changed, _ = board.changed_since(token3)
        assert changed
    finally:
        elsewhere.close()
