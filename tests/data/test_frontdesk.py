"""The front desk on SQLite and PostgreSQL: clients (versions, audit, search), rooms, courses, planning."""

from __future__ import annotations

import threading
from datetime import date, timedelta

import pytest

from kapconsole.domain.allergies import Allergy, AllergySeverity
from kapconsole.domain.enums import Role, SessionState
from kapconsole.domain.errors import IllegalTransition, PermissionDenied, StaleRecord, ValidationError
from kapconsole.domain.frontdesk import ClientDetails, CourseDetails, CoursePhase, CourseStatus, ImportOutcome
from kapconsole.domain.values import Actor
from kapconsole.services import Services
from kapconsole.services.planning import ScheduleConflict
from tests.conftest import PASSWORD, FakeClock

FULL = ClientDetails(
    identifier="KAP-2001", name="Ñúñez García, María José", date_of_birth=date(1984, 3, 9), sex="F",
    pronouns="she/her", weight_kg=61.5, weight_on=date(2026, 10, 1), allergies="Confirmed with GP",
    allergy_list=(Allergy("Penicillin", "Hives", AllergySeverity.SEVERE), Allergy("Latex")),
    medications="Sertraline 50 mg", screening_notes="TRD; BP controlled", emergency_contact="Luis Núñez",
    emergency_phone="+34 612 345 678", escort_name="Ana <b>Ruiz</b> & Co", escort_phone="(555) 010-2030 x 12",
)


@pytest.fixture
def desk(services: Services, staff: dict[str, Actor]) -> Actor:
    services.staff.add_user(staff["administrator"], login="rosa", name="Rosa Front", roles=[Role.FRONT_DESK],
                            password=PASSWORD)
    return services.staff.authenticate("rosa", PASSWORD, "front-desk")


def test_client_round_trip_and_first_version(services: Services, desk: Actor) -> None:
    added = services.clinic.clients.add(desk, FULL)
    got = services.clinic.client(added.id)
    assert got.details == FULL
    assert got.allergy_list[0] == Allergy("Penicillin", "Hives", AllergySeverity.SEVERE)
    assert got.version == 1
    (first,) = services.clinic.clients.versions(desk, added.id)
    assert (first.version, first.action, first.by_name) == (1, "created", "Rosa Front")
    assert first.changes["name"] == (None, FULL.name)
    assert first.changes["weight_kg"] == (None, 61.5)


def test_edit_keeps_previous_values_and_audits(services: Services, desk: Actor, staff: dict[str, Actor],
                                               clock: FakeClock) -> None:
    c = services.clinic.clients.add(desk, FULL)
    clock.advance(minutes=5)
    nurse = staff["medical"]
    new = ClientDetails(**{**FULL.__dict__, "weight_kg": 63.0, "weight_on": clock.now.date(),
                           "allergy_list": (Allergy("Penicillin", "Hives", AllergySeverity.ANAPHYLAXIS),)})
    edited = services.clinic.clients.edit(nurse, c.id, new, expected_version=1)
    assert edited.version == 2 and edited.weight_kg == 63.0
    latest = services.clinic.clients.versions(desk, c.id)[0]
    assert latest.version == 2 and latest.by_name == nurse.name and latest.at == clock.now
    assert latest.changes["weight_kg"] == (61.5, 63.0)
    old_allergies, new_allergies = latest.changes["allergy_list"]
    assert [a["substance"] for a in old_allergies] == ["Penicillin", "Latex"]
    assert new_allergies == [{"substance": "Penicillin", "reaction": "Hives", "severity": "anaphylaxis"}]
    assert set(latest.changes) == {"weight_kg", "weight_on", "allergy_list"}
    events = services.audit.events(staff["supervisor"], action="client_edited")
    assert events and "weight" in events[0].detail and "Ñúñez" not in events[0].detail
    # Saving the same details again makes no new version; an edit from an old form is refused.
    assert services.clinic.clients.edit(nurse, c.id, new).version == 2
    with pytest.raises(StaleRecord):
        services.clinic.clients.edit(desk, c.id, FULL, expected_version=1)
    assert len(services.clinic.clients.versions(desk, c.id)) == 2


@pytest.mark.parametrize("query", ["ñúñez", "NUNEZ", "núñez garcía", "garcia", "maria jose", "kap-2001", "2001"])
def test_search_ignores_case_and_accents(services: Services, desk: Actor, query: str) -> None:
    services.clinic.clients.add(desk, FULL)
    services.clinic.clients.add(desk, ClientDetails(identifier="KAP-2002", name="John Smith"))
    assert [c.identifier for c in services.clinic.find_clients(query)] == ["KAP-2001"]


def test_search_is_literal_and_finds_other_scripts(services: Services, desk: Actor) -> None:
    services.clinic.clients.add(desk, ClientDetails(identifier="C-1", name="王小明"))
    services.clinic.clients.add(desk, ClientDetails(identifier="C-2", name="Zoë 100% O'Brien_x"))
    assert [c.identifier for c in services.clinic.find_clients("小明")] == ["C-1"]
    assert [c.identifier for c in services.clinic.find_clients("100%")] == ["C-2"]
    assert services.clinic.find_clients("%") == services.clinic.find_clients("100%")
    assert [c.identifier for c in services.clinic.find_clients("zoe")] == ["C-2"]
    assert services.clinic.find_clients("_y") == []
    # `kapconsole sessions --client` uses the same folded search.
    assert services.clinic.list_sessions(client="ZOË") == []


def test_validation_names_every_refused_field(services: Services, desk: Actor, clock: FakeClock) -> None:
    today = clock.now.date()
    bad = ClientDetails(identifier="", name="", date_of_birth=today + timedelta(days=1), weight_kg=5,
                        weight_on=today, emergency_phone="call my sister", escort_phone="12",
                        medications="x" * 5000)
    fields = [e.field for e in bad.problems(today)]
    assert fields == ["client identifier", "name", "date of birth", "weight", "current medications",
                      "emergency contact phone", "escort / driver phone"]
    with pytest.raises(ValidationError, match="client identifier"):
        services.clinic.clients.add(desk, bad)
    with pytest.raises(ValidationError, match="weighed on"):
        services.clinic.clients.add(desk, ClientDetails(identifier="A", name="A", weight_kg=70))
    with pytest.raises(ValidationError, match="each substance once"):
        services.clinic.clients.add(desk, ClientDetails(identifier="A", name="A", allergy_list=(
            Allergy("Latex"), Allergy("LATEX", "rash"))))
    services.clinic.clients.add(desk, ClientDetails(identifier="A", name="A"))
    with pytest.raises(ValidationError, match="already in use"):
        services.clinic.clients.add(desk, ClientDetails(identifier="a", name="Other"))


def test_who_may_register_clients_and_keep_rooms(services: Services, staff: dict[str, Actor], desk: Actor) -> None:
    services.clinic.clients.add(desk, ClientDetails(identifier="D-1", name="Desk Made"))
    services.clinic.clients.add(staff["medical"], ClientDetails(identifier="D-2", name="Nurse Made"))
    with pytest.raises(PermissionDenied):
        services.clinic.planning.add_room(desk, "Room 9")
    services.clinic.planning.add_room(staff["administrator"], "Room 9")
    sid = services.clinic.plan_session(desk, client_id=services.clinic.clients.by_identifier("D-1").id,
                                       room="room 9", route="im", planned_drug="Ketamine",
                                       scheduled_at=services.clinic.now() + timedelta(days=1)).id
    with pytest.raises(PermissionDenied):
        services.records.record(desk, sid)  # the front desk plans sessions; it does not read records


def test_rooms_are_the_clinics_own(services: Services, staff: dict[str, Actor], desk: Actor) -> None:
    admin = staff["administrator"]
    with pytest.raises(ValidationError, match="already a room"):
        services.clinic.planning.add_room(admin, "ROOM 1")
    client = services.clinic.clients.add(desk, ClientDetails(identifier="R-1", name="Rae"))
    when = services.clinic.now() + timedelta(days=1)
    with pytest.raises(ValidationError, match="one of the clinic's rooms: Room 1, Room 2"):
        services.clinic.plan_session(desk, client_id=client.id, room="Broom cupboard", route="im",
                                     planned_drug="Ketamine", scheduled_at=when)
    sid = services.clinic.plan_session(desk, client_id=client.id, room="Room 4", route="im",
                                       planned_drug="Ketamine", scheduled_at=when).id
    with pytest.raises(ValidationError, match="planned session"):
        services.clinic.planning.deactivate_room(admin, "Room 4")
    services.clinic.planning.cancel(desk, sid, "Client unwell")
    services.clinic.planning.deactivate_room(admin, "Room 4")
    assert "Room 4" not in services.clinic.rooms()
    assert services.clinic.planning.add_room(admin, "room 4").name == "Room 4"  # back in use


def _two_clients(services: Services, desk: Actor) -> tuple[int, int]:
    a = services.clinic.clients.add(desk, ClientDetails(identifier="A-1", name="Ada One")).id
    b = services.clinic.clients.add(desk, ClientDetails(identifier="B-1", name="Bo Two")).id
    return a, b


def test_a_room_holds_one_session_at_a_time(services: Services, desk: Actor, clock: FakeClock) -> None:
    a, b = _two_clients(services, desk)
    ten = (clock.now + timedelta(days=1)).replace(hour=10, minute=0, second=0, microsecond=0)
    plan = services.clinic.planning.plan_session
    first = plan(desk, client_id=a, room="Room 1", route="im", planned_drug="Ketamine", scheduled_at=ten)
    assert first.expected_end_at == ten + timedelta(minutes=180)  # the protocol's session time
    with pytest.raises(ScheduleConflict, match="Room 1") as hit:
        plan(desk, client_id=b, room="Room 1", route="im", planned_drug="Ketamine",
             scheduled_at=ten + timedelta(minutes=179))
    assert hit.value.session_id == first.id
    with pytest.raises(ScheduleConflict, match="Room 1"):
        plan(desk, client_id=b, room="Room 1", route="im", planned_drug="Ketamine",
             scheduled_at=ten - timedelta(minutes=60))
    # Back to back is fine; the same client in another room at the same time is not.
    second = plan(desk, client_id=b, room="Room 1", route="im", planned_drug="Ketamine",
                  scheduled_at=ten + timedelta(minutes=180))
    with pytest.raises(ScheduleConflict, match="already has session"):
        plan(desk, client_id=a, room="Room 2", route="im", planned_drug="Ketamine",
             scheduled_at=ten + timedelta(minutes=30))
    # Rescheduling checks too, and a session does not collide with its own old slot.
    with pytest.raises(ScheduleConflict):
        services.clinic.planning.reschedule(desk, second.id, scheduled_at=ten + timedelta(minutes=60),
                                            reason="earlier")
    moved = services.clinic.planning.reschedule(desk, first.id, scheduled_at=ten - timedelta(minutes=30),
                                                reason="client asked for earlier")
    assert moved.scheduled_at == ten - timedelta(minutes=30) and moved.room == "Room 1"
    audit = services.audit.events(services.staff.actor_for("admin", "x"), action="session_rescheduled")
    assert "client asked for earlier" in audit[0].detail


def test_cancel_frees_the_room_and_is_recorded(services: Services, desk: Actor, staff: dict[str, Actor],
                                               clock: FakeClock) -> None:
    a, b = _two_clients(services, desk)
    when = clock.now + timedelta(hours=2)
    plan = services.clinic.planning.plan_session
    sid = plan(desk, client_id=a, room="Room 1", route="im", planned_drug="Ketamine", scheduled_at=when).id
    with pytest.raises(ValidationError, match="reason"):
        services.clinic.planning.cancel(desk, sid, "  ")
    info = services.clinic.planning.cancel(desk, sid, "Escort unavailable")
    assert info.state is SessionState.CANCELLED and info.end_reason == "Escort unavailable"
    assert services.integrity.verify(sid).ok
    record = services.records.record(staff["medical"], sid)
    assert record.entries[-1].payload["to"] == "cancelled"
    with pytest.raises(IllegalTransition):
        services.records.start_session(staff["medical"], sid)
    with pytest.raises(ValidationError, match="only a planned session"):
        services.clinic.planning.cancel(desk, sid, "again")
    # The room is free again, the Today list of planned sessions and the calendar leave it out.
    plan(desk, client_id=b, room="Room 1", route="im", planned_drug="Ketamine", scheduled_at=when)
    assert sid not in [i.id for i in services.clinic.list_sessions(states=[SessionState.PLANNED])]
    week = services.clinic.planning.calendar(when - timedelta(days=1), when + timedelta(days=1))
    assert [s.client_identifier for s in week] == ["B-1"]
    all_ = services.clinic.planning.calendar(when - timedelta(days=1), when + timedelta(days=1),
                                             include_cancelled=True)
    assert {s.client_identifier: s.cancelled for s in all_} == {"A-1": True, "B-1": False}


def test_only_planned_sessions_move(services: Services, desk: Actor, staff: dict[str, Actor],
                                    clock: FakeClock) -> None:
    a, _ = _two_clients(services, desk)
    sid = services.clinic.planning.plan_session(desk, client_id=a, room="Room 1", route="im",
                                                planned_drug="Ketamine", scheduled_at=clock.now).id
    services.records.start_session(staff["medical"], sid)
    with pytest.raises(ValidationError, match="only a planned session can be moved"):
        services.clinic.planning.reschedule(desk, sid, scheduled_at=clock.now + timedelta(days=1), reason="x")
    with pytest.raises(ValidationError, match="ended early instead"):
        services.clinic.planning.cancel(desk, sid, "x")


def test_courses_consent_status_and_count(services: Services, desk: Actor, staff: dict[str, Actor],
                                          clock: FakeClock) -> None:
    a, _ = _two_clients(services, desk)
    planning = services.clinic.planning
    with pytest.raises(ValidationError, match="consent witness"):
        planning.add_course(desk, a, CourseDetails("KAP", 2, consent_on=clock.now.date()))
    witness = staff["therapist"].staff_id
    course = planning.add_course(desk, a, CourseDetails(
        "KAP for TRD", 2, indication="Treatment-resistant depression", phase=CoursePhase.MEDICINE,
        consent_on=clock.now.date(), consent_version="v3.1", consent_witness_id=witness))
    assert (course.consent_witness_name, course.consent_version, course.phase) == ("Theo Therapist", "v3.1",
                                                                                   CoursePhase.MEDICINE)
    when = clock.now + timedelta(days=1)
    for i in range(2):
        info = planning.plan_session(desk, client_id=a, course_id=course.id, room="Room 1", route="im",
                                     planned_drug="Ketamine", scheduled_at=when + timedelta(days=7 * i))
        assert info.course_label == f"session {i + 1} of 2"
    with pytest.raises(ValidationError, match="all 2 planned sessions"):
        planning.plan_session(desk, client_id=a, course_id=course.id, room="Room 1", route="im",
                              planned_drug="Ketamine", scheduled_at=when + timedelta(days=30))
    with pytest.raises(ValidationError, match="at least the 2"):
        planning.edit_course(desk, course.id, CourseDetails("KAP for TRD", 1))
    paused = planning.edit_course(desk, course.id, CourseDetails(
        "KAP for TRD", 3, status=CourseStatus.PAUSED, consent_on=clock.now.date(), consent_version="v3.1",
        consent_witness_id=witness))
    assert paused.status is CourseStatus.PAUSED and paused.planned_sessions == 3
    with pytest.raises(ValidationError, match="paused"):
        planning.plan_session(desk, client_id=a, course_id=course.id, room="Room 1", route="im",
                              planned_drug="Ketamine", scheduled_at=when + timedelta(days=30))
    detail = services.audit.events(staff["supervisor"], action="course_edited")[0].detail
    assert "status: active → paused" in detail and "planned_sessions: 2 → 3" in detail


def test_dose_per_kg_uses_the_recorded_weight(services: Services, desk: Actor, clock: FakeClock) -> None:
    heavy = services.clinic.clients.add(desk, ClientDetails(identifier="W-1", name="Wes", weight_kg=82.0,
                                                            weight_on=clock.now.date()))
    light = services.clinic.clients.add(desk, ClientDetails(identifier="W-2", name="Lia"))
    plan = services.clinic.planning.plan_session
    info = plan(desk, client_id=heavy.id, room="Room 1", route="im", planned_drug="Ketamine",
                scheduled_at=clock.now, dose_per_kg=0.5)
    assert (info.planned_dose, info.planned_unit, info.dose_per_kg, info.weight_used_kg) == (41.0, "mg", 0.5, 82.0)
    with pytest.raises(ValidationError, match="weight"):
        plan(desk, client_id=light.id, room="Room 2", route="im", planned_drug="Ketamine", scheduled_at=clock.now,
             dose_per_kg=0.5)
    info = plan(desk, client_id=light.id, room="Room 2", route="im", planned_drug="Ketamine",
                scheduled_at=clock.now, dose_per_kg=0.75, weight_used_kg=60)
    assert info.planned_dose == 45.0 and info.weight_used_kg == 60


CSV = (
    "identifier,name,dob,weight_kg,weight_on,allergies,escort_phone\n"
    "KAP-2001,\"Ñúñez García, María José\",1984-03-09,61.5,2026-10-01,Penicillin|Hives|severe; Latex,"
    "(555) 010-2030 x 12\n"
    "NEW-1,Wei Chen 陈伟,1990-01-01,,,,\n"
    "NEW-2,Bad Date,2990-01-01,,,,\n"
    "NEW-1,Duplicate,,,,,\n"
    ",No Identifier,,,,,\n"
)


def test_csv_import_dry_run_then_real(services: Services, desk: Actor) -> None:
    services.clinic.clients.add(desk, FULL)
    changed = CSV.replace("61.5", "64")
    dry = services.clinic.clients.import_csv(desk, changed, dry_run=True)
    assert [(r.line, r.identifier, r.outcome) for r in dry.rows] == [
        (2, "KAP-2001", ImportOutcome.CHANGED), (3, "NEW-1", ImportOutcome.ADDED),
        (4, "NEW-2", ImportOutcome.ERROR), (5, "NEW-1", ImportOutcome.ERROR), (6, "", ImportOutcome.ERROR)]
    assert dry.rows[0].detail == "weight" and "future" in dry.rows[2].detail and "line 3" in dry.rows[3].detail
    assert not dry.applied and services.clinic.find_clients("chen") == []
    assert services.clinic.clients.by_identifier("KAP-2001").weight_kg == 61.5
    real = services.clinic.clients.import_csv(desk, changed, dry_run=False)
    assert [r.outcome for r in real.rows] == [r.outcome for r in dry.rows]
    assert services.clinic.clients.by_identifier("KAP-2001").weight_kg == 64
    assert services.clinic.clients.by_identifier("KAP-2001").emergency_contact == "Luis Núñez"  # column absent
    assert services.clinic.find_clients("陈伟")[0].identifier == "NEW-1"
    assert services.clinic.clients.versions(desk, services.clinic.clients.by_identifier("NEW-1").id)[0].action \
        == "imported"
    again = services.clinic.clients.import_csv(desk, changed, dry_run=True)
    assert [r.outcome for r in again.rows][:2] == [ImportOutcome.UNCHANGED, ImportOutcome.UNCHANGED]


def test_csv_import_refuses_unknown_columns(services: Services, desk: Actor) -> None:
    with pytest.raises(ValidationError, match="columns are"):
        services.clinic.clients.import_csv(desk, "identifier,name,shoe_size\nA,B,44\n", dry_run=True)
    with pytest.raises(ValidationError, match="'name' is required"):
        services.clinic.clients.import_csv(desk, "identifier\nA\n", dry_run=True)


def test_two_desks_booking_one_room_at_once(database_url: str, clock: FakeClock) -> None:
    """Two workstations plan into the same room at the same moment: exactly one booking is kept."""
    from tests.conftest import make_staff

    first = Services.open(database_url, clock=clock)
    second = Services.open(database_url, clock=clock)
    try:
        staff = make_staff(first)
        ids = [first.clinic.clients.add(staff["medical"], ClientDetails(identifier=f"T-{i}", name=f"T {i}")).id
               for i in range(2)]
        when = clock.now + timedelta(days=1)
        outcomes: list[str] = []
        barrier = threading.Barrier(2)

        def book(svc: Services, client_id: int) -> None:
            barrier.wait()
            try:
                svc.clinic.planning.plan_session(staff["medical"], client_id=client_id, room="Room 3", route="im",
                                                 planned_drug="Ketamine", scheduled_at=when)
                outcomes.append("booked")
            except ScheduleConflict:
                outcomes.append("conflict")

        threads = [threading.Thread(target=book, args=(svc, cid)) for svc, cid in zip((first, second), ids,
                                                                                         strict=True)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
        assert sorted(outcomes) == ["booked", "conflict"]
        assert len(first.clinic.list_sessions(room="Room 3")) == 1
    finally:
        first.close()
        second.close()


def test_front_desk_changes_keep_verify_clean(services: Services, desk: Actor, staff: dict[str, Actor],
                                              clock: FakeClock) -> None:
    """A client's details corrected, a planned session moved: the record still verifies; an edit behind the
    application's back is still caught."""
    client = services.clinic.clients.add(desk, FULL)
    planning = services.clinic.planning
    started = planning.plan_session(desk, client_id=client.id, room="Room 1", route="im", planned_drug="Ketamine",
                                    scheduled_at=clock.now).id
    services.records.start_session(staff["medical"], started)
    later = planning.plan_session(desk, client_id=client.id, room="Room 2", route="im", planned_drug="Ketamine",
                                  scheduled_at=clock.now + timedelta(days=7)).id
    planning.reschedule(desk, later, scheduled_at=clock.now + timedelta(days=8), room="Room 3", reason="moved")
    clock.advance(minutes=1)
    fixed = ClientDetails(**{**FULL.__dict__, "name": "Núñez García, María José", "allergies": "GP letter on file"})
    services.clinic.clients.edit(desk, client.id, fixed)
    result = services.integrity.verify()
    assert result.ok, [p.message for p in result.problems]
    assert services.clinic.session(later).room == "Room 3"
    # A name written straight into the database is not in the client's history: verify names it.
    with services.db.write() as s:
        from kapconsole.data.models import ClientRow

        s.get(ClientRow, client.id).name = "Someone Else"
    problems = services.integrity.verify().problems
    assert any("client name" in p.message and p.session_id == started for p in problems), problems
