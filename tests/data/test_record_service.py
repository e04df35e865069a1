"""The session record on SQLite and PostgreSQL: lifecycle, roles, append-only, amendments, validation, integrity."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import func, select, text

from kapconsole.data.models import EntryRow
from kapconsole.domain.enums import Role, SessionState
from kapconsole.domain.errors import (
    AuthenticationFailed,
    IllegalTransition,
    NotFound,
    PermissionDenied,
    ValidationError,
)
from kapconsole.services import Services
from kapconsole.services.record import RecordService
from tests.conftest import PASSWORD, FakeClock
from tests.data.helpers import (
    BASELINE,
    PARTS_OK,
    PERSON_OK,
    dosed,
    in_checklist,
    ready_for_discharge,
)


def entry_count(services: Services) -> int:
    with services.db.read() as s:
        return s.scalar(select(func.count()).select_from(EntryRow)) or 0


def test_whole_session_lifecycle(services: Services, staff, clock: FakeClock) -> None:
    sid = ready_for_discharge(services, staff, clock)
    rec = services.records.record(staff["therapist"], sid)
    assert rec.info.state is SessionState.MONITORING
    assert rec.info.course_label == "session 1 of 6"
    assert rec.first_dose_at is not None and rec.baseline_vitals["sbp"] == 124
    result = services.discharge.assess(staff["supervisor"], sid, confirmations=PERSON_OK, score_parts=PARTS_OK)
    assert result.assessment.ready, result.assessment.failing
    head = services.records.record(staff["supervisor"], sid).info.chain_head
    services.discharge.sign(staff["supervisor"], sid, password=PASSWORD, seen_chain_head=head)
    rec = services.records.record(staff["supervisor"], sid)
    assert rec.info.state is SessionState.DISCHARGED and rec.locked and rec.signature is not None
    assert rec.signature.payload["signed_hash"] == head
    with pytest.raises(IllegalTransition, match="amendments"):
        services.records.record_observation(staff["therapist"], sid, "late note")
    vitals = rec.vitals[-1]
    services.records.amend(staff["medical"], sid, vitals.id, reason="transcription error", content={"hr": 74})
    rec = services.records.record(staff["supervisor"], sid)
    amendment = rec.amendments_of(vitals.id)[-1]
    assert rec.after_signoff(amendment)
    assert services.integrity.verify().ok


def test_dosing_blocked_until_checklist_and_baseline(services: Services, staff, clock: FakeClock) -> None:
    sid = in_checklist(services, staff, clock)
    dose = dict(drug="Ketamine", route="sublingual", dose=200, unit="mg", ordered_by=staff["supervisor"].staff_id)
    with pytest.raises(IllegalTransition, match="not confirmed"):
        services.records.record_administration(staff["medical"], sid, **dose)
    for item in services.clinic.protocol().checklist:
        services.records.confirm_checklist_item(staff["medical"], sid, item.key)
    services.records.record_vitals(staff["medical"], sid, {**BASELINE, "sbp": 150, "dbp": 95})
    with pytest.raises(IllegalTransition, match="pre-dose hold"):
        services.records.record_administration(staff["medical"], sid, **dose)
    services.records.record_vitals(staff["medical"], sid, BASELINE)
    services.records.record_administration(staff["medical"], sid, **dose)
    assert services.clinic.session(sid).state is SessionState.MONITORING


def test_supervisor_override_needs_password_and_reason(services: Services, staff, clock: FakeClock) -> None:
    sid = in_checklist(services, staff, clock)
    sup = staff["supervisor"]
    with pytest.raises(PermissionDenied):
        services.records.override_checklist(staff["medical"], sid, password=PASSWORD, reason="x")
    with pytest.raises(ValidationError, match="reason"):
        services.records.override_checklist(sup, sid, password=PASSWORD, reason=" ")
    with pytest.raises(AuthenticationFailed):
        services.records.override_checklist(sup, sid, password="wrong-one", reason="urgent")
    services.records.override_checklist(sup, sid, password=PASSWORD, reason="consent on paper, scanned later")
    rec = services.records.record(sup, sid)
    assert rec.override is not None and rec.override.payload["missing"] and rec.dosing_blockers() == []


def test_illegal_transitions_raise(services: Services, staff, clock: FakeClock) -> None:
    sid = in_checklist(services, staff, clock)
    with pytest.raises(IllegalTransition):
        services.records.start_session(staff["medical"], sid)
    with pytest.raises(IllegalTransition):
        services.records.begin_discharge(staff["medical"], sid)
    services.records.end_early(staff["medical"], sid, "client_request", "Client asked to stop")
    for call in (lambda: services.records.record_vitals(staff["medical"], sid, {"hr": 70}),
                 lambda: services.records.start_session(staff["medical"], sid),
                 lambda: services.records.end_early(staff["medical"], sid, "other", "again")):
        with pytest.raises(IllegalTransition):
            call()
    rec = services.records.record(staff["medical"], sid)
    assert rec.info.state is SessionState.ENDED_EARLY and "Client request" in rec.info.end_reason


def test_append_only_api_and_amendment_keeps_original(services: Services, staff, clock: FakeClock) -> None:
    public = [n for n in dir(RecordService) if not n.startswith("_")]
    assert not [n for n in public if n.startswith(("update", "delete", "edit", "remove"))]
    sid = dosed(services, staff, clock)
    clock.advance(minutes=5)
    obs = services.records.record_observation(staff["therapist"], sid, "Client smiling", for_integration=True)
    with services.db.read() as s:
        before = s.scalars(select(EntryRow.payload).where(EntryRow.id == obs.id)).one()
    with pytest.raises(ValidationError, match="reason"):
        services.records.amend(staff["therapist"], sid, obs.id, reason="", content={"text": "x"})
    services.records.amend(staff["therapist"], sid, obs.id, reason="wrong client words", content={"text": "Client laughing"})
    services.records.amend(staff["medical"], sid, obs.id, reason="entered in error", content=None)
    with services.db.read() as s:
        assert s.scalars(select(EntryRow.payload).where(EntryRow.id == obs.id)).one() == before
    rec = services.records.record(staff["therapist"], sid)
    assert [a.payload["reason"] for a in rec.amendments_of(obs.id)] == ["wrong client words", "entered in error"]
    assert obs.id not in {o.id for o in rec.observations}  # retracted: not current, still in the record
    assert rec.by_id[obs.id].payload["text"] == "Client smiling"
    with pytest.raises(ValidationError, match="cannot be amended"):
        services.records.amend(staff["therapist"], sid, rec.entries[0].id, reason="x", content=None)


def test_bad_input_never_leaves_a_partial_write(services: Services, staff, clock: FakeClock) -> None:
    sid = dosed(services, staff, clock)
    n = entry_count(services)
    version = services.records.version(sid)
    bad_calls = [
        lambda: services.records.record_vitals(staff["medical"], sid, {"sbp": 120, "dbp": 130}),
        lambda: services.records.record_vitals(staff["medical"], sid, {"spo2": 40}),
        lambda: services.records.record_observation(staff["therapist"], sid, "x" * 20001),
        lambda: services.records.record_side_effect(staff["medical"], sid, "nausea", "extreme"),
        lambda: services.records.record_scale(staff["medical"], sid, "suds", 11),
        lambda: services.records.record_observation(staff["therapist"], sid, "late", observed_at=clock.now.replace(year=2020)),
        lambda: services.records.resolve_side_effect(staff["medical"], sid, 999999),
        lambda: services.records.record_administration(staff["medical"], sid, drug="Ketamine", route="iv", dose=0.5,
                                                       unit="mg/kg", ordered_by=staff["supervisor"].staff_id),
    ]
    for call in bad_calls:
        with pytest.raises((ValidationError, NotFound, IllegalTransition)):
            call()
    assert entry_count(services) == n and services.records.version(sid) == version


def test_entries_are_durable_at_once_and_attributed(services: Services, staff, clock: FakeClock, database_url: str) -> None:
    sid = dosed(services, staff, clock)
    clock.advance(minutes=3)
    e = services.records.record_vitals(staff["medical"], sid, {"hr": 88, "spo2": 97}, observed_at=clock.now)
    other = Services.open(database_url)  # a second process/workstation would see the same
    try:
        rec = other.records.record(None, sid)
        got = rec.by_id[e.id]
        assert got.payload["hr"] == 88 and got.author_name == "Nina Nurse" and got.workstation == "room-1"
        assert got.entered_at == clock.now and got.observed_at == clock.now
    finally:
        other.close()


def test_alerts_and_acknowledgement(services: Services, staff, clock: FakeClock) -> None:
    sid = dosed(services, staff, clock)
    clock.advance(minutes=10)
    e = services.records.record_vitals(staff["medical"], sid, {"sbp": 190, "dbp": 104, "spo2": 90})
    rec = services.records.record(staff["medical"], sid)
    measures = sorted(a.measure for r, a in rec.unacknowledged_alerts() if r.id == e.id)
    assert measures == ["dbp", "sbp", "spo2"]  # dbp 104 is below 110 but 26 over its baseline of 78
    with pytest.raises(ValidationError):
        services.records.acknowledge_alert(staff["therapist"], sid, e.id, ["hr"])
    services.records.acknowledge_alert(staff["therapist"], sid, e.id, measures)
    assert not services.records.record(staff["medical"], sid).unacknowledged_alerts()


def test_side_effect_resolution(services: Services, staff, clock: FakeClock) -> None:
    sid = dosed(services, staff, clock)
    se = services.records.record_side_effect(staff["medical"], sid, "nausea", "moderate", intervention="ondansetron")
    assert [s.id for s in services.records.record(staff["medical"], sid).unresolved_side_effects()] == [se.id]
    clock.advance(minutes=20)
    services.records.resolve_side_effect(staff["medical"], sid, se.id, note="settled")
    with pytest.raises(ValidationError, match="already"):
        services.records.resolve_side_effect(staff["medical"], sid, se.id)
    assert not services.records.record(staff["medical"], sid).unresolved_side_effects()


def test_verify_names_a_tampered_entry(services: Services, staff, clock: FakeClock) -> None:
    sid = ready_for_discharge(services, staff, clock)
    assert services.integrity.verify().ok
    with services.db.read() as s:
        target = s.scalars(select(EntryRow).where(EntryRow.kind == "vitals").order_by(EntryRow.id.desc())).first()
        target_id, payload = target.id, target.payload
    with services.db.engine.begin() as conn:
        conn.execute(text("UPDATE entries SET payload = :p WHERE id = :i"),
                      {"p": payload.replace('"hr":76', '"hr":66'), "i": target_id})
    result = services.integrity.verify()
    assert not result.ok
    assert [p.entry_id for p in result.problems] == [target_id]
    assert services.integrity.verify(sid).problems == result.problems


def test_verify_detects_deleted_entries_and_state_edits(services: Services, staff, clock: FakeClock) -> None:
    sid = dosed(services, staff, clock)
    with services.db.engine.begin() as conn:
        conn.execute(text("UPDATE clinical_sessions SET state = 'planned' WHERE id = :i"), {"i": sid})
    messages = [p.message for p in services.integrity.verify().problems]
    assert any("state 'planned'" in m for m in messages)


def test_two_writers_keep_one_chain(services: Services, staff, clock: FakeClock, database_url: str) -> None:
    sid = dosed(services, staff, clock)
    other = Services.open(database_url, clock=clock)
    errors: list[BaseException] = []

    def chart(svc: Services, actor) -> None:
        try:
            for i in range(15):
                svc.records.record_observation(actor, sid, f"note {i} by {actor.login}")
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=chart, args=(services, staff["therapist"])),
               threading.Thread(target=chart, args=(other, staff["medical"]))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    other.close()
    assert not errors
    rec = services.records.record(staff["medical"], sid)
    assert len([o for o in rec.observations if o.payload["text"].startswith("note")]) == 30
    assert [e.seq for e in rec.entries] == list(range(1, len(rec.entries) + 1))
    assert services.integrity.verify(sid).ok


def test_accounts(services: Services, staff) -> None:
    admin = staff["administrator"]
    with pytest.raises(AuthenticationFailed):
        services.staff.add_user(None, login="x", name="X", roles=["administrator"], password=PASSWORD)
    with pytest.raises(PermissionDenied):
        services.staff.add_user(staff["supervisor"], login="x", name="X", roles=["therapist"], password=PASSWORD)
    with pytest.raises(ValidationError, match="taken"):
        services.staff.add_user(admin, login="theo", name="X", roles=["therapist"], password=PASSWORD)
    with pytest.raises(ValidationError, match="password"):
        services.staff.add_user(admin, login="short", name="X", roles=["therapist"], password="123")
    services.staff.deactivate(admin, "theo")
    with pytest.raises(AuthenticationFailed):
        services.staff.authenticate("theo", PASSWORD, "room-1")
    with pytest.raises(Exception, match="without an active administrator"):
        services.staff.deactivate(admin, "admin")
    services.staff.set_password(admin, "nina", "new-password-1")
    assert services.staff.authenticate("nina", "new-password-1", "room-1").has(Role.MEDICAL)
    with services.db.read() as s:
        digest = s.scalar(text("SELECT password_hash FROM staff WHERE login = 'nina'"))
    assert digest.startswith("$argon2id$")


def test_wrong_passwords_slow_further_tries_and_are_audited(services: Services, staff, clock: FakeClock) -> None:
    for _ in range(3):
        with pytest.raises(AuthenticationFailed, match="wrong"):
            services.staff.authenticate("nina", "nope-nope", "room-1")
    with pytest.raises(AuthenticationFailed, match="try again in"):
        services.staff.authenticate("nina", PASSWORD, "room-1")  # even the right one waits
    clock.advance(seconds=5)
    services.staff.authenticate("nina", PASSWORD, "room-1")
    events = services.audit.events(staff["supervisor"], action="sign_in_failed")
    assert len(events) >= 3 and all("nope" not in e.detail for e in events)
