"""Building sessions through the services, for the data tests."""

from __future__ import annotations

from kapconsole.domain.values import Actor
from kapconsole.services import Services
from kapconsole.services.planning import ScheduleConflict
from tests.conftest import FakeClock, ensure_room

BASELINE = {"sbp": 124, "dbp": 78, "hr": 72, "spo2": 98, "rr": 14}
PERSON_OK = {"oriented": True, "walks_steadily": True, "nausea_controlled": True, "escort_present": True,
             "no_driving": True}
PARTS_OK = {"aldrete_activity": 2, "aldrete_respiration": 2, "padss_activity": 2, "padss_pain": 2}


def planned(services: Services, actor: Actor, clock: FakeClock, *, identifier: str = "KAP-1", route: str = "sublingual",
            course_sessions: int | None = 6, room: str | None = None) -> int:
    """A planned session of the client ``identifier``, now; in ``room``, else in Room 1, or a room of the
    client's own when Room 1 is taken (a room holds one session at a time; tests plan several at once)."""
    found = [c for c in services.clinic.find_clients(identifier) if c.identifier == identifier]
    client = found[0] if found else services.clinic.add_client(
        actor, identifier=identifier, name="Jo Client", weight_kg=70, weight_on=services.clinic.now().date())
    course = None
    if course_sessions:
        courses = services.clinic.courses(client.id)
        course = courses[0] if courses else services.clinic.add_course(actor, client.id, title="KAP course",
                                                                       planned_sessions=course_sessions)
    def book(where: str) -> int:
        return services.clinic.plan_session(
            actor, client_id=client.id, course_id=course.id if course else None, room=ensure_room(services, where),
            route=route, planned_drug="Ketamine", planned_dose=200, scheduled_at=clock.now).id

    if room is not None:
        return book(room)
    try:
        return book("Room 1")
    except ScheduleConflict as exc:
        if exc.field != "room":
            raise
        return book(f"Room {identifier}")


def in_checklist(services: Services, staff: dict[str, Actor], clock: FakeClock, **kw: object) -> int:
    sid = planned(services, staff["therapist"], clock, **kw)  # type: ignore[arg-type]
    services.records.start_session(staff["medical"], sid)
    return sid


def checklist_done(services: Services, staff: dict[str, Actor], clock: FakeClock, **kw: object) -> int:
    sid = in_checklist(services, staff, clock, **kw)
    for item in services.clinic.protocol().checklist:
        services.records.confirm_checklist_item(staff["medical"], sid, item.key)
    services.records.record_vitals(staff["medical"], sid, BASELINE)
    return sid


def dosed(services: Services, staff: dict[str, Actor], clock: FakeClock, **kw: object) -> int:
    sid = checklist_done(services, staff, clock, **kw)
    clock.advance(minutes=2)
    services.records.record_administration(staff["medical"], sid, drug="Ketamine", route="sublingual", dose=200,
                                           unit="mg", lot="L1", ordered_by=staff["supervisor"].staff_id)
    return sid


def ready_for_discharge(services: Services, staff: dict[str, Actor], clock: FakeClock, **kw: object) -> int:
    sid = dosed(services, staff, clock, **kw)
    for minutes in (15, 30, 45, 60, 90, 120):
        clock.advance(minutes=15 if minutes <= 60 else 30)
        services.records.record_vitals(staff["medical"], sid, {**BASELINE, "hr": 76})
    services.records.record_scale(staff["medical"], sid, "moaas", 5)
    services.records.record_scale(staff["therapist"], sid, "dissociation", 0)
    clock.advance(minutes=2)
    return sid
