"""A realistic demo clinic, built through the same services the console uses."""

from __future__ import annotations

import math
import random
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from kapconsole.domain.allergies import Allergy, AllergySeverity
from kapconsole.domain.enums import Disposition, EndReason, Role, Route
from kapconsole.domain.errors import DomainError
from kapconsole.domain.frontdesk import ClientDetails
from kapconsole.domain.values import Actor, Client, Course
from kapconsole.services.base import ManualClock
from kapconsole.services.container import Services

DEMO_PASSWORD = "quiet-lantern-ferry"
DEMO_MONITOR_ROOM = "Room 2"
DEMO_MONITOR_NAME = "Room 2 monitor"
DEMO_STAFF: tuple[tuple[str, str, tuple[Role, ...]], ...] = (
    ("admin", "Alex Morgan", (Role.ADMINISTRATOR,)),
    ("dr.reyes", "Dr Elena Reyes", (Role.SUPERVISOR, Role.MEDICAL)),
    ("nurse.kim", "Jordan Kim, RN", (Role.MEDICAL,)),
    ("nurse.osei", "Ama Osei, RN", (Role.MEDICAL,)),
    ("therapist.lee", "Sam Lee, LMFT", (Role.THERAPIST,)),
    ("therapist.novak", "Ida Novak, PsyD", (Role.THERAPIST,)),
    ("desk.rosa", "Rosa Díaz", (Role.FRONT_DESK,)),
)
DEMO_ROOMS = ("Room 1", "Room 2", "Room 3", "Room 4")
PERSON_OK = {"oriented": True, "walks_steadily": True, "nausea_controlled": True, "escort_present": True,
             "no_driving": True}
PARTS_OK = {"aldrete_activity": 2, "aldrete_respiration": 2, "padss_activity": 2, "padss_pain": 2}
INTEGRATION_LINES = (
    "Client: \"I kept seeing the house I grew up in, but it felt safe this time.\"",
    "Client: \"There is more room around the sadness than I thought.\"",
    "Client described a sense of floating above the music; tearful, then calm.",
    "Client: \"I don't have to carry my father's anger.\"",
    "Insight: wants to call her sister this week — bring to integration.",
)
NOTES = (
    "Resting comfortably, eye mask on, music playing.",
    "Shifted position, asked for blanket; provided.",
    "Quiet, slow breathing, no distress.",
    "Brief tearfulness, self-soothing; therapist present.",
    "Removed eye mask, oriented, sipping water.",
)


@dataclass(frozen=True)
class DemoSummary:
    logins: tuple[tuple[str, str, str], ...]  # (login, name, roles)
    password: str
    sessions: int
    signed_session_id: int


def seed_demo(services: Services, *, now: datetime | None = None, seed: int = 7) -> DemoSummary:
    """Create staff of every role, several rooms with sessions in every state, and a course in progress."""
    if services.clinic.find_clients(limit=1) or services.staff.list_staff(include_inactive=True):
        raise DomainError("the database already holds a clinic; the demo needs an empty database")
    real_now = (now or datetime.now(UTC)).replace(microsecond=0)
    clock = ManualClock(real_now - timedelta(days=30))
    svc = Services(services.db, clock)
    rng = random.Random(seed)

    admin_login, admin_name, admin_roles = DEMO_STAFF[0]
    svc.staff.add_user(None, login=admin_login, name=admin_name, roles=admin_roles, password=DEMO_PASSWORD)
    admin = svc.staff.authenticate(admin_login, DEMO_PASSWORD, "front-desk")
    for login, name, roles in DEMO_STAFF[1:]:
        svc.staff.add_user(admin, login=login, name=name, roles=roles, password=DEMO_PASSWORD)

    for room in DEMO_ROOMS:
        svc.clinic.planning.add_room(admin, room)
    desk = svc.staff.actor_for("desk.rosa", "front-desk")

    def who(login: str, room: str) -> Actor:
        return svc.staff.actor_for(login, room.lower().replace(" ", "-"))

    sup_desk = who("dr.reyes", "supervisor desk")
    clients = [
        svc.clinic.clients.add(desk, ClientDetails(
            identifier=f"KAP-{1040 + i}", name=name, date_of_birth=dob, sex=sex, pronouns=pronouns,
            weight_kg=weight, weight_on=(real_now - timedelta(days=31)).date(), allergies=note,
            allergy_list=allergies, medications=meds, screening_notes=notes, emergency_contact=contact,
            emergency_phone=f"+1 555 0{140 + i}", escort_name=contact, escort_phone=f"+1 555 0{140 + i}"))
        for i, (name, dob, sex, pronouns, weight, note, allergies, meds, notes, contact) in enumerate((
            ("Maya Thompson", date(1986, 4, 12), "F", "she/her", 64.0, "Penicillin",
             (Allergy("Penicillin", "Rash", AllergySeverity.MODERATE),), "Sertraline 100 mg daily",
             "TRD; 3 SSRIs tried. No contraindication.", "Tom Thompson"),
            ("Daniel Okafor", date(1979, 9, 3), "M", "he/him", 88.5, "", (), "Amlodipine 5 mg daily",
             "PTSD; controlled hypertension on amlodipine.", "Ngozi Okafor"),
            ("Priya Raman", date(1992, 1, 27), "F", "she/her", 57.2, "Latex",
             (Allergy("Latex", "Contact urticaria", AllergySeverity.MILD),), "Bupropion 150 mg daily",
             "MDD with anxious distress.", "Arjun Raman"),
            ("Lucas Fischer", date(1968, 11, 5), "M", "he/him", 79.0, "", (), "",
             "TRD; lamotrigine tapered off per psychiatrist.", "Eva Fischer"),
            ("Grace Liu", date(1990, 6, 18), "F", "they/them", 61.4, "", (), "Naltrexone 50 mg daily",
             "Alcohol use disorder in sustained remission.", "Wei Liu"),
            ("Omar Haddad", date(1983, 2, 9), "M", "he/him", 92.3, "Sulfa drugs",
             (Allergy("Sulfonamides", "Hives", AllergySeverity.SEVERE),), "Prazosin 2 mg at night",
             "Chronic PTSD.", "Leila Haddad"),
        ))
    ]
    courses = {c.id: svc.clinic.add_course(desk, c.id, title="KAP course", planned_sessions=6,
                                           started_on=(real_now - timedelta(days=30)).date()) for c in clients}
    maya = clients[0]
    signed_id = 0
    count = 0
    # Maya: three sessions of her course, a week apart; the third (this morning) is the ~3 h signed session.
    for n, (weeks_ago, hours) in enumerate(((14, 2.5), (7, 2.6))):
        start = real_now - timedelta(days=weeks_ago, hours=2)
        _full_session(svc, clock, rng, maya, courses[maya.id], "Room 1", start, hours, who, sup_desk,
                      outcomes=MAYA_OUTCOMES[n])
        count += 1
    start = real_now - timedelta(hours=5)
    signed_id = _full_session(svc, clock, rng, maya, courses[maya.id], "Room 1", start, 3.0, who, sup_desk,
                              side_effects=True, outcomes=MAYA_OUTCOMES[2])
    count += 1
    # Yesterday: a session ended early after an adverse event.
    _ended_early(svc, clock, rng, clients[5], courses[clients[5].id], "Room 3", real_now - timedelta(days=1, hours=3),
                 who)
    count += 1
    # Today, live: one session per state across the rooms.
    count += _live_sessions(svc, clock, rng, clients, courses, real_now, who)
    # An esketamine client in induction under the REMS: forms filed, due and overdue.
    from kapconsole.services.demo_rems import seed_esketamine

    count += seed_esketamine(svc, clock, rng, real_now, who, DEMO_PASSWORD)
    clock.at(real_now)
    # The bedside monitors: Room 2's feeds its session once 'kapconsole demo --live-monitor' runs it.
    from kapconsole.services.monitor.simulate import bed_id, equipment_id

    svc.monitor.add_device(admin, name=DEMO_MONITOR_NAME, room=DEMO_MONITOR_ROOM, identity_kind="equipment",
                           identity=equipment_id(DEMO_MONITOR_ROOM))
    svc.monitor.add_device(admin, name="Room 4 gateway", room="Room 4", identity_kind="bed", identity=bed_id("Room 4"))
    return DemoSummary(
        logins=tuple((lg, nm, ", ".join(r.label for r in rl)) for lg, nm, rl in DEMO_STAFF),
        password=DEMO_PASSWORD, sessions=count, signed_session_id=signed_id,
    )


def _vitals(rng: random.Random, minutes: float, base: Mapping[str, float], peak: float) -> dict[str, float]:
    """A ketamine-like response: BP and HR rise to a peak near 40 min and settle over about two hours."""
    effect = peak * (minutes / 40) if minutes < 40 else peak * math.exp(-(minutes - 40) / 55)
    effect = max(effect, 0.0)
    return {
        "sbp": round(base["sbp"] + 28 * effect + rng.uniform(-3, 3)),
        "dbp": round(base["dbp"] + 13 * effect + rng.uniform(-2, 2)),
        "hr": round(base["hr"] + 14 * effect + rng.uniform(-3, 3)),
        "spo2": min(100, round(98 - 2 * effect * rng.random() + rng.uniform(-0.4, 0.6))),
        "rr": round(base["rr"] + rng.uniform(-2, 2)),
    }


#: PHQ-9 and GAD-7 answers at check-in for Maya's three sessions: improving over the course.
MAYA_OUTCOMES = (
    {"phq9": [3, 3, 2, 3, 2, 3, 2, 3, 1], "gad7": [3, 2, 3, 2, 2, 2, 2]},
    {"phq9": [2, 2, 2, 2, 2, 2, 2, 2, 1], "gad7": [2, 2, 2, 2, 1, 2, 1]},
    {"phq9": [2, 2, 1, 2, 1, 2, 2, 2, 0], "gad7": [2, 1, 2, 1, 1, 1, 1]},
)
CLOSING_NOTE = (
    "Calm and oriented, walking steadily; tired, smiling when her partner arrived.",
    "\"I want to remember that the house felt safe.\"",
    "Childhood home as a safe place; grief for her mother held in the chest; room around sadness.",
    "Revisit the image of the house; body scan around the chest; the call to her sister.",
)


def _prepare(svc: Services, clock: ManualClock, client: Client, course: Course, room: str, start: datetime,
             who, *, route: Route = Route.SUBLINGUAL, baseline: dict[str, float] | None = None,
             outcomes: Mapping[str, list[int]] | None = None) -> tuple[int, Actor, Actor]:
    clock.at(start - timedelta(minutes=30))
    therapist, nurse = who("therapist.lee", room), who("nurse.kim", room)
    info = svc.clinic.plan_session(therapist, client_id=client.id, course_id=course.id, room=room, route=route,
                                   planned_drug="Ketamine", planned_dose=200 if route is Route.SUBLINGUAL else 0.5,
                                   planned_unit="mg" if route is Route.SUBLINGUAL else "mg/kg",
                                   scheduled_at=start, workstation=room.lower().replace(" ", "-"),
                                   staff_ids=[therapist.staff_id, nurse.staff_id])
    clock.at(start - timedelta(minutes=25))
    svc.records.start_session(nurse, info.id)
    for i, item in enumerate(svc.records.record(nurse, info.id).protocol.checklist):
        clock.at(start - timedelta(minutes=24) + timedelta(seconds=20 * i))
        svc.records.confirm_checklist_item(therapist if item.group == "Preparation" else nurse, info.id, item.key)
    for i, (instrument, items) in enumerate((outcomes or {}).items()):
        clock.at(start - timedelta(minutes=14) + timedelta(minutes=i))
        svc.records.record_outcome_measure(therapist, info.id, instrument, list(items))
    clock.at(start - timedelta(minutes=10))
    svc.records.record_intention(therapist, info.id, "To meet the grief about my mother with more kindness, "
                                 "and to notice where I hold it in my body.")
    base = baseline or {"sbp": 124, "dbp": 78, "hr": 72, "spo2": 98, "rr": 14}
    svc.records.record_vitals(nurse, info.id, base)
    return info.id, therapist, nurse


def _dose(svc: Services, clock: ManualClock, sid: int, nurse: Actor, at: datetime, dose: float = 200,
          route: Route = Route.SUBLINGUAL) -> None:
    clock.at(at)
    ordered = svc.staff.actor_for("dr.reyes", "supervisor-desk")
    svc.records.record_administration(
        nurse, sid, drug="Ketamine", route=route, dose=dose, unit="mg" if route is Route.SUBLINGUAL else "mg/kg",
        lot="KT-24-0917", ordered_by=ordered.staff_id,
        infusion_end=at + timedelta(minutes=40) if route is Route.IV else None)


def _chart(svc: Services, clock: ManualClock, rng: random.Random, sid: int, therapist: Actor, nurse: Actor,
           dosed: datetime, until_minutes: float, *, every: int = 5, side_effects: bool = False) -> None:
    base = {"sbp": 124, "dbp": 78, "hr": 72, "rr": 14}
    nausea_id = None
    notes = iter(NOTES * 10)
    lines = iter(INTEGRATION_LINES)
    minute = every
    while minute <= until_minutes:
        clock.at(dosed + timedelta(minutes=minute))
        svc.records.record_vitals(nurse, sid, _vitals(rng, minute, base, 1.0))
        if minute % 30 == 0:
            svc.records.record_scale(nurse, sid, "moaas", 3 if minute <= 60 else 4 if minute <= 100 else 5)
            svc.records.record_scale(therapist, sid, "dissociation",
                                     max(0, 7 - int(minute // 20)) if minute > 20 else 4)
            svc.records.record_observation(therapist, sid, next(notes), category="behaviour")
        if minute % 35 == 0:
            line = next(lines, None)
            if line:
                svc.records.record_observation(therapist, sid, line, category="client_statement",
                                               for_integration=True)
        if side_effects and minute == 25:
            nausea_id = svc.records.record_side_effect(nurse, sid, "nausea", "moderate",
                                                       intervention="Ondansetron 4 mg ODT").id
        if side_effects and minute == 55 and nausea_id is not None:
            svc.records.resolve_side_effect(nurse, sid, nausea_id, note="Settled after ondansetron")
        minute += every if minute < 60 else 2 * every
    if until_minutes >= 110:  # recovered: sedation and dissociation resolved before discharge
        clock.at(dosed + timedelta(minutes=until_minutes, seconds=30))
        svc.records.record_scale(nurse, sid, "moaas", 5)
        svc.records.record_scale(therapist, sid, "dissociation", 0)


def _full_session(svc: Services, clock: ManualClock, rng: random.Random, client: Client, course: Course, room: str,
                  start: datetime, hours: float, who, sup: Actor, *, side_effects: bool = False,
                  outcomes: Mapping[str, list[int]] | None = None) -> int:
    sid, therapist, nurse = _prepare(svc, clock, client, course, room, start, who, outcomes=outcomes)
    _dose(svc, clock, sid, nurse, start)
    _chart(svc, clock, rng, sid, therapist, nurse, start, hours * 60 - 15, side_effects=side_effects)
    if side_effects:
        notes = svc.records.record(nurse, sid).observations
        target = next(o for o in notes if o.payload.get("category") == "behaviour")
        clock.at(clock.now + timedelta(minutes=1))
        svc.records.amend(therapist, sid, target.id, reason="Wrong detail recorded",
                          content={"text": target.payload["text"] + " (blanket and extra pillow)"})
    clock.at(start + timedelta(hours=hours, minutes=-10))
    state, words, themes, suggestions = CLOSING_NOTE
    svc.records.record_closing_note(therapist, sid, state=state, words=words, themes=themes, suggestions=suggestions)
    clock.at(start + timedelta(hours=hours, minutes=-8))
    svc.discharge.assess(sup, sid, confirmations=PERSON_OK, score_parts=PARTS_OK)
    clock.at(start + timedelta(hours=hours, minutes=-6))
    head = svc.records.record(sup, sid).info.chain_head
    svc.discharge.sign(sup, sid, password=DEMO_PASSWORD, seen_chain_head=head)
    return sid


def _ended_early(svc: Services, clock: ManualClock, rng: random.Random, client: Client, course: Course, room: str,
                 start: datetime, who) -> None:
    sid, therapist, nurse = _prepare(svc, clock, client, course, room, start, who)
    _dose(svc, clock, sid, nurse, start)
    for minute in (10, 20, 30):
        clock.at(start + timedelta(minutes=minute))
        svc.records.record_vitals(nurse, sid, _vitals(rng, minute, {"sbp": 138, "dbp": 88, "hr": 80, "rr": 15}, 2.2))
    clock.at(start + timedelta(minutes=31))
    svc.records.record_side_effect(nurse, sid, "elevated_bp", "severe", intervention="Physician at bedside; "
                                   "labetalol 10 mg IV per standing order")
    svc.records.record_side_effect(therapist, sid, "anxiety", "moderate", intervention="Grounding, eye mask off")
    clock.at(start + timedelta(minutes=45))
    doctor = who("dr.reyes", room)
    for reading, alert in svc.records.record(doctor, sid).unacknowledged_alerts():
        svc.records.acknowledge_alert(doctor, sid, reading.id, [alert.measure], note="Physician at bedside")
    svc.records.end_early(doctor, sid, EndReason.ADVERSE_EVENT, "Hypertensive response; transferred for review",
                          disposition=Disposition.TRANSFERRED)
    clock.at(start + timedelta(minutes=70))
    svc.records.attest_end_early(doctor, sid, password=DEMO_PASSWORD,
                                 seen_chain_head=svc.records.record(doctor, sid).info.chain_head,
                                 disposition=Disposition.TRANSFERRED, note="Handed over to the emergency team")


def _live_sessions(svc: Services, clock: ManualClock, rng: random.Random, clients: list[Client],
                   courses: dict[int, Course], now: datetime, who) -> int:
    # Room 2: monitoring, dosed 50 minutes ago.
    c = clients[1]
    start = now - timedelta(minutes=50)
    sid, therapist, nurse = _prepare(svc, clock, c, courses[c.id], "Room 2", start, who,
                                     baseline={"sbp": 132, "dbp": 84, "hr": 76, "spo2": 97, "rr": 15})
    _dose(svc, clock, sid, nurse, start)
    _chart(svc, clock, rng, sid, therapist, nurse, start, 45, every=5)
    # Room 4: awaiting discharge, dosed 2 h 10 min ago, assessed once (not yet ready: escort not arrived).
    c = clients[2]
    start = now - timedelta(hours=2, minutes=10)
    sid, therapist, nurse = _prepare(svc, clock, c, courses[c.id], "Room 4", start, who)
    _dose(svc, clock, sid, nurse, start)
    _chart(svc, clock, rng, sid, therapist, nurse, start, 125, every=10)
    clock.at(now - timedelta(minutes=3))
    svc.discharge.assess(who("nurse.kim", "Room 4"), sid, confirmations={**PERSON_OK, "escort_present": False},
                         score_parts=PARTS_OK)
    # Room 3: pre-session checklist under way.
    c = clients[3]
    clock.at(now - timedelta(minutes=12))
    therapist, nurse = who("therapist.novak", "Room 3"), who("nurse.osei", "Room 3")
    info = svc.clinic.plan_session(therapist, client_id=c.id, course_id=courses[c.id].id, room="Room 3",
                                   route=Route.IM, planned_drug="Ketamine", planned_dose=0.75, planned_unit="mg/kg",
                                   scheduled_at=now + timedelta(minutes=10), workstation="room-3",
                                   staff_ids=[therapist.staff_id, nurse.staff_id])
    svc.records.start_session(nurse, info.id)
    svc.records.record_outcome_measure(therapist, info.id, "phq9", [2, 2, 1, 2, 1, 2, 1, 1, 1])
    for item in svc.records.record(nurse, info.id).protocol.checklist[:6]:
        svc.records.confirm_checklist_item(nurse, info.id, item.key)
    # Planned for later today in Rooms 1 and 2, and next week for Maya.
    for client, room, offset in ((clients[4], "Room 1", timedelta(hours=2)), (clients[1], "Room 2", timedelta(hours=4)),
                                 (clients[0], "Room 1", timedelta(days=7))):
        clock.at(now - timedelta(minutes=1))
        svc.clinic.plan_session(who("therapist.lee", room), client_id=client.id, course_id=courses[client.id].id,
                                room=room, route=Route.SUBLINGUAL, planned_drug="Ketamine", planned_dose=200,
                                scheduled_at=now + offset, workstation=room.lower().replace(" ", "-"))
    return 6
