"""The demo clinic's esketamine client: an induction course under the REMS with one monitoring form filed, one
due and one overdue, and the next session planned (its REMS answers start from the previous session's)."""

from __future__ import annotations

import random
from collections.abc import Callable
from datetime import date, datetime, timedelta
from typing import Any

from kapconsole.domain.enums import Route
from kapconsole.domain.values import Actor, Client, Course
from kapconsole.services.base import ManualClock
from kapconsole.services.container import Services

Who = Callable[[str, str], Actor]
PERSON_OK = {"oriented": True, "walks_steadily": True, "nausea_controlled": True, "escort_present": True,
             "no_driving": True}
PARTS_OK = {"aldrete_activity": 2, "aldrete_respiration": 2, "padss_activity": 2, "padss_pain": 2}
FIRST_ANSWERS: dict[str, Any] = {
    "rems_patient_id": "SPR-P-4471902",
    "med_benzodiazepines": False,
    "med_sedative_hypnotics": False,
    "med_other_cns_depressants": False,
    "med_psychostimulants": False,
    "med_maois": False,
}
DAY_ANSWERS: dict[str, Any] = {
    "nasal_product_last_hour": False,
    "no_food_2h": True,
    "no_liquids_30min": True,
    "escort_name": "Tomas Petrov (husband)",
    "escort_contact": "+1 207 555 0143",
    "transport": "Driven home by her husband",
    "no_driving": True,
}


def seed_esketamine(svc: Services, clock: ManualClock, rng: random.Random, now: datetime, who: Who,
                    password: str) -> int:
    """Three past induction sessions (filed 12 days ago, overdue 9 days ago, due 5 days ago) and one planned."""
    admin = svc.staff.actor_for("admin", "front-desk")
    clock.at(now - timedelta(days=20))
    svc.rems.update_setting(admin, name="KAP Console demo clinic", address="400 Harbour Road, Suite 2, Portland",
                            phone="+1 207 555 0100", certification="SPR-HCS-0019274")
    client = svc.clinic.add_client(admin, identifier="KAP-1046", name="Nadia Petrova", date_of_birth=date(1977, 8, 21),
                                   sex="F", screening_notes="Treatment-resistant depression; two antidepressant "
                                   "trials; on sertraline. Esketamine induction under the REMS.")
    course = svc.clinic.add_course(admin, client.id, title="Esketamine induction", planned_sessions=8,
                                   started_on=(now - timedelta(days=12)).date())
    sessions = []
    for days, dose, hold in ((12, 56, False), (9, 84, True), (5, 84, False)):
        start = (now - timedelta(days=days)).replace(hour=10, minute=0, second=0)
        sessions.append(_session(svc, clock, rng, client, course, start, dose, who, password, hold=hold))
    # The first form was submitted online two days after the session.
    first_day = (now - timedelta(days=12)).replace(hour=10, minute=0, second=0)
    clock.at(first_day + timedelta(days=2, hours=5))
    svc.rems.mark_submitted(who("nurse.kim", "front desk"), sessions[0], submitted_on=clock.now.astimezone().date(),
                            method="online", confirmation="REMS-88213047")
    # The fourth induction session, tomorrow morning in Room 1.
    clock.at(now - timedelta(minutes=2))
    svc.clinic.plan_session(who("nurse.kim", "Room 1"), client_id=client.id, course_id=course.id, room="Room 1",
                            route=Route.INTRANASAL, planned_drug="Esketamine", planned_dose=84,
                            scheduled_at=(now + timedelta(days=1)).replace(hour=9, minute=30, second=0),
                            workstation="room-1")
    return len(sessions) + 1


def _session(svc: Services, clock: ManualClock, rng: random.Random, client: Client, course: Course,
             start: datetime, dose: int, who: Who, password: str, *, hold: bool) -> int:
    room = "Room 1"
    nurse, sup = who("nurse.kim", room), who("dr.reyes", room)
    clock.at(start - timedelta(minutes=40))
    info = svc.clinic.plan_session(nurse, client_id=client.id, course_id=course.id, room=room,
                                   route=Route.INTRANASAL, planned_drug="Esketamine", planned_dose=dose,
                                   scheduled_at=start, workstation="room-1", staff_ids=[nurse.staff_id])
    sid = info.id
    clock.at(start - timedelta(minutes=30))
    svc.records.start_session(nurse, sid)
    for item in svc.records.record(nurse, sid).protocol.checklist:
        if item.required:
            svc.records.confirm_checklist_item(nurse, sid, item.key)
    clock.at(start - timedelta(minutes=20))
    carried = svc.rems.prefill(nurse, sid)
    answers = dict(DAY_ANSWERS)
    if carried:
        answers.update({k: p.value for k, p in carried.items()})
    else:
        answers.update(FIRST_ANSWERS)
        answers.update({"phase": "induction", "phase_session": 1})
    svc.rems.record_answers(nurse, sid, answers, confirmed_carried=[k for k, p in carried.items()
                                                                   if p.how == "carried over"])
    clock.at(start - timedelta(minutes=10))
    baseline = {"sbp": 128 + rng.randint(-4, 4), "dbp": 80 + rng.randint(-3, 3), "hr": 74, "spo2": 98, "rr": 14}
    if hold:
        # A raised first reading: the dose waits and the BP is rechecked.
        svc.records.record_vitals(nurse, sid, {**baseline, "sbp": 146, "dbp": 92})
        clock.at(start - timedelta(minutes=2))
    svc.records.record_vitals(nurse, sid, baseline)
    for n in range(dose // 28):
        clock.at(start + timedelta(minutes=5 * n))
        svc.rems.record_device(nurse, sid, device_lot=f"ESK-{240911 + n}", ordered_by=sup.staff_id)
    last = start + timedelta(minutes=5 * (dose // 28 - 1))
    for minutes, moaas, diss in ((20, 3, 5), (40, 4, 3), (60, 5, 1), (90, 5, 0), (121, 5, 0)):
        clock.at(start + timedelta(minutes=minutes) if minutes < 121 else last + timedelta(minutes=121))
        rise = {20: 14, 40: 18, 60: 10, 90: 4}.get(minutes, 0)
        svc.records.record_vitals(nurse, sid, {"sbp": baseline["sbp"] + rise + rng.randint(-2, 2),
                                               "dbp": baseline["dbp"] + rise // 2, "hr": 76 + rng.randint(-3, 3),
                                               "spo2": 97 + rng.randint(0, 1), "rr": 14})
        svc.records.record_scale(nurse, sid, "moaas", moaas)
        svc.records.record_scale(nurse, sid, "dissociation", diss)
    svc.records.record_observation(nurse, sid, "Sedation and dissociation resolved; calm, oriented, walking steadily.",
                                   category="medical")
    ready = clock.now
    svc.rems.record_answers(nurse, sid, {
        "respiratory_depression": False, "serious_adverse_event": False, "hospitalised": False,
        "ready_to_leave_at": ready, "clinician_name": "Jordan Kim", "clinician_credentials": "RN",
        "clinician_contact": "+1 207 555 0112",
    })
    clock.at(ready + timedelta(minutes=3))
    svc.discharge.assess(sup, sid, confirmations=PERSON_OK, score_parts=PARTS_OK)
    clock.at(ready + timedelta(minutes=5))
    head = svc.records.record(sup, sid).info.chain_head
    svc.discharge.sign(sup, sid, password=password, seen_chain_head=head)
    return sid
