"""Building esketamine sessions through the services, for the REMS tests and the demo's checks."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

from kapconsole.domain.values import Actor
from kapconsole.services import Services
from kapconsole.services.planning import ScheduleConflict
from tests.conftest import FakeClock, ensure_room

PREDOSE_ANSWERS: dict[str, Any] = {
    "rems_patient_id": "RP-0042-ÅÆ",
    "phase": "induction",
    "phase_session": 3,
    "med_benzodiazepines": False,
    "med_sedative_hypnotics": False,
    "med_other_cns_depressants": False,
    "med_psychostimulants": True,
    "med_maois": False,
    "nasal_product_last_hour": False,
    "no_food_2h": True,
    "no_liquids_30min": True,
    "escort_name": "Karim Haddad (brother)",
    "escort_contact": "+1 (555) 010-7788",
    "transport": "Driven home by escort",
    "no_driving": True,
}


def form_answers(ready_at: datetime) -> dict[str, Any]:
    return {
        "respiratory_depression": False,
        "serious_adverse_event": False,
        "hospitalised": False,
        "ready_to_leave_at": ready_at,
        "clinician_name": "Nina Nurse",
        "clinician_credentials": "RN, BSN",
        "clinician_contact": "555-010-2000",
    }


def esketamine_planned(services: Services, actor: Actor, clock: FakeClock, *, identifier: str = "ESK-1",
                       name: str = "Layla Haddad", dose: int = 84) -> int:
    found = [c for c in services.clinic.find_clients(identifier) if c.identifier == identifier]
    client = found[0] if found else services.clinic.add_client(actor, identifier=identifier, name=name,
                                                                         date_of_birth=date(1988, 4, 12))

    def book(where: str) -> int:
        return services.clinic.plan_session(actor, client_id=client.id, room=ensure_room(services, where),
                                            route="intranasal", planned_drug="Esketamine", planned_dose=dose,
                                            scheduled_at=clock.now).id

    try:
        return book("Room 2")
    except ScheduleConflict as exc:  # a room holds one session at a time; tests plan several at once
        if exc.field != "room":
            raise
        return book(f"Room {identifier}")


def esketamine_checklist_done(services: Services, staff: dict[str, Actor], clock: FakeClock, **kw: Any) -> int:
    """Planned, started, the esketamine checklist confirmed; no vitals and no REMS answers yet."""
    nurse = staff["medical"]
    sid = esketamine_planned(services, nurse, clock, **kw)
    services.records.start_session(nurse, sid)
    for item in services.records.record(nurse, sid).protocol.checklist:
        if item.required:
            services.records.confirm_checklist_item(nurse, sid, item.key)
    return sid


def chart_84mg(services: Services, staff: dict[str, Actor], clock: FakeClock, **kw: Any) -> int:
    """A complete 84 mg session: BP hold and recheck, three devices 5 minutes apart, sedation and dissociation
    that resolve, BP at 40 minutes and before the end; REMS pre-dose answers given, form answers not yet."""
    nurse, doctor = staff["medical"], staff["supervisor"]
    r = services.records
    sid = esketamine_checklist_done(services, staff, clock, **kw)
    services.rems.record_answers(nurse, sid, PREDOSE_ANSWERS)
    r.record_vitals(nurse, sid, {"sbp": 150, "dbp": 94, "hr": 80, "spo2": 98, "rr": 14})
    clock.advance(minutes=10)
    r.record_vitals(nurse, sid, {"sbp": 134, "dbp": 84, "hr": 76, "spo2": 98, "rr": 14})
    clock.advance(minutes=1)
    for n in range(3):
        services.rems.record_device(nurse, sid, device_lot=f"DEV-{n + 1}", ordered_by=doctor.staff_id)
        clock.advance(minutes=5)
    first = r.record(nurse, sid).first_dose_at
    assert first is not None
    for minutes, values, moaas, diss in ((20, (142, 88), 3, 4), (40, (148, 90), 4, 2), (60, (138, 86), 5, 1),
                                         (90, (130, 82), 5, 0), (135, (126, 80), 5, 0)):
        clock.at(first + timedelta(minutes=minutes))
        r.record_vitals(nurse, sid, {"sbp": values[0], "dbp": values[1], "hr": 78, "spo2": 97, "rr": 14})
        r.record_scale(nurse, sid, "moaas", moaas)
        r.record_scale(nurse, sid, "dissociation", diss)
    return sid
