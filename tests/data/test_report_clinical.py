"""The integration summary as clinicians read it: page 1 answers who, what dose, how it went, how the client left,
what to take into integration and how the course's outcome measures are moving — built through the services on
a real database and read back from the PDF."""

from __future__ import annotations

import io
import re
from dataclasses import dataclass, replace
from datetime import date, timedelta

import pytest
from pypdf import PdfReader

from kapconsole.domain.allergies import Allergy, AllergySeverity
from kapconsole.domain.errors import IllegalTransition, PermissionDenied, ValidationError
from kapconsole.domain.record import SessionRecord
from kapconsole.domain.values import Actor
from kapconsole.reports import assemble, render_pdf
from kapconsole.services import Services
from tests.conftest import FakeClock

PASSWORD = "Violet-Harbour-42"
BASE = {"sbp": 136, "dbp": 84, "hr": 72, "spo2": 98, "rr": 14}
PERSON_OK = {"oriented": True, "walks_steadily": True, "nausea_controlled": True, "escort_present": True,
             "no_driving": True}
PARTS_OK = {"aldrete_activity": 2, "aldrete_respiration": 2, "padss_activity": 2, "padss_pain": 2}
PHQ9 = ([3, 3, 2, 3, 2, 3, 2, 3, 1], [2, 2, 2, 2, 2, 2, 2, 2, 1], [2, 2, 1, 2, 1, 2, 2, 2, 0])  # 22, 17, 14


@dataclass
class Team:
    sup: Actor
    nurse: Actor
    theo: Actor


def _team(svc: Services) -> Team:
    svc.staff.add_user(None, login="admin", name="Ada Admin", roles=["administrator"], password=PASSWORD)
    admin = svc.staff.authenticate("admin", PASSWORD, "desk")
    for login, name, roles in (("sup", "Dr Sam Supervisor", ["supervisor", "medical"]),
                               ("nurse", "Nia Nurse, RN", ["medical"]), ("theo", "Theo Therapist", ["therapist"])):
        svc.staff.add_user(admin, login=login, name=name, roles=roles, password=PASSWORD)
    for room in ("Room 1", "Room 2", "Room 3", "Room 4"):
        svc.clinic.planning.add_room(admin, room)
    return Team(*(svc.staff.authenticate(lg, PASSWORD, "room-1") for lg in ("sup", "nurse", "theo")))


@pytest.fixture
def team(services: Services) -> Team:
    return _team(services)


def _session(svc: Services, clock: FakeClock, team: Team, *, phq9: list[int] | None = None, course_id: int | None = None,
             client_id: int | None = None, vitals_at: tuple[int, ...] = (15, 30, 36, 45, 60, 90, 120),
             sign: bool = True, respiratory: bool = False) -> tuple[int, int, int]:
    """A sublingual session charted by a nurse (assigned with the therapist); the supervisor, who is not
    assigned, orders the dose and signs. Returns (session, client, course)."""
    if client_id is None:
        client = svc.clinic.add_client(team.sup, identifier="C-7", name="Robin Client", sex="F",
                                       allergies="Latex (rash)", screening_notes="TRD; controlled hypertension")
        client_id = client.id
        course_id = svc.clinic.add_course(team.sup, client_id, title="KAP course", planned_sessions=6).id
    assert course_id is not None
    sid = svc.clinic.plan_session(team.theo, client_id=client_id, course_id=course_id, room="Room 1",
                                  route="sublingual", planned_drug="Ketamine", planned_dose=200,
                                  scheduled_at=clock.now, staff_ids=[team.nurse.staff_id, team.theo.staff_id]).id
    r = svc.records
    r.start_session(team.nurse, sid)
    for item in svc.clinic.protocol().checklist:
        r.confirm_checklist_item(team.nurse, sid, item.key)
    if phq9 is not None:
        r.record_outcome_measure(team.theo, sid, "phq9", phq9)
        r.record_outcome_measure(team.theo, sid, "gad7", [2, 2, 1, 1, 1, 1, 1])
    r.record_intention(team.theo, sid, "To rest in what is.")
    r.record_vitals(team.nurse, sid, BASE)
    clock.advance(minutes=5)
    r.record_administration(team.nurse, sid, drug="Ketamine", route="sublingual", dose=200, unit="mg", lot="L1",
                            ordered_by=team.sup.staff_id)
    dosed = clock.now
    for minute in vitals_at:
        clock.now = dosed + timedelta(minutes=minute)
        values = {**BASE, "sbp": 150 if minute < 60 else 138, "hr": 80}
        if minute == 45:
            values = {**values, "sbp": 190}  # an alert, acknowledged
        if minute == 60:
            values = {**values, "hr": 140}  # an alert, not acknowledged
        if respiratory and minute == 30:
            values = {**values, "spo2": 89, "rr": 8}
        entry = r.record_vitals(team.nurse, sid, values)
        if minute == 45:
            r.acknowledge_alert(team.nurse, sid, entry.id, ["sbp"], note="Rechecked, settling")
        if minute == 30:
            r.record_scale(team.nurse, sid, "moaas", 3)
            r.record_scale(team.theo, sid, "dissociation", 7)
            if respiratory:
                r.record_side_effect(team.nurse, sid, "respiratory_depression", "moderate",
                                     intervention="Oxygen 2 L/min by nasal cannula; jaw thrust")
            r.record_side_effect(team.nurse, sid, "headache", "mild")
        if minute == 90:
            r.record_scale(team.nurse, sid, "moaas", 5)
            r.record_scale(team.theo, sid, "dissociation", 1)
    clock.advance(minutes=2)
    r.record_observation(team.theo, sid, "Said the river felt kind.", category="client_statement",
                         for_integration=True)
    r.record_closing_note(team.theo, sid, state="Calm, oriented, walking steadily",
                          words="\"I can carry this lightly.\"", themes="Water; kindness; the father's voice",
                          suggestions="Return to the river image; journaling on kindness")
    clock.advance(minutes=2)
    if sign:  # discharge needs every alert acknowledged; an unsigned session keeps the HR alert open
        pending: dict[int, list[str]] = {}
        for reading, alert in r.record(team.nurse, sid).unacknowledged_alerts():
            pending.setdefault(reading.id, []).append(alert.measure)
        for reading_id, measures in pending.items():
            r.acknowledge_alert(team.nurse, sid, reading_id, measures, note="Settled at the next reading")
    svc.discharge.assess(team.sup, sid, confirmations=PERSON_OK, score_parts=PARTS_OK)
    if sign:
        clock.advance(minutes=1)
        head = svc.records.record(team.sup, sid).info.chain_head
        svc.discharge.sign(team.sup, sid, password=PASSWORD, seen_chain_head=head)
    return sid, client_id, course_id


def _pages(pdf: bytes) -> list[str]:
    return [" ".join((p.extract_text() or "").split()) for p in PdfReader(io.BytesIO(pdf)).pages]


def test_page_one_answers_how_the_session_went(services: Services, clock: FakeClock, team: Team) -> None:
    sid, client_id, course_id = None, None, None
    for items in PHQ9:
        sid, client_id, course_id = _session(services, clock, team, phq9=items, client_id=client_id,
                                             course_id=course_id)
        clock.advance(days=7)
    assert sid is not None
    pages = _pages(services.reports.pdf(team.theo, sid))
    first = pages[0]
    # Who, and the facts a clinician checks first.
    for fact in ("Robin Client", "C-7", "Sex", "Latex (rash)", "TRD; controlled hypertension", "Weight"):
        assert fact in first, fact
    # Staff present: the supervisor ordered the dose and signed without being assigned to the session.
    staff = first[first.index("Staff present"):]
    assert re.search(r"Dr Sam Supervisor \(Medical staff, Medical supervisor\) \d\d:\d\d–\d\d:\d\d", staff)
    assert "Nia Nurse, RN (Medical staff)" in staff and "Theo Therapist (Therapist)" in staff
    # Order: intention, for integration, the therapist's closing note, then the clinical summary.
    order = [first.index(t) for t in ("Intention", "For integration", "Therapist's closing note", "Clinical summary")]
    assert order == sorted(order)
    for words in ("Calm, oriented, walking steadily", "I can carry this lightly.", "Return to the river image"):
        assert words in first
    summary = first[first.index("Clinical summary"):]
    assert summary.split("• ")[1].startswith("Adverse events / transfers: none recorded")
    # Vitals line: baseline, the reading nearest +40 min in the 35–50 window (+36, not +45), discharge, alerts.
    assert re.search(r"baseline 136/84 mmHg.*≈40 min 150/84 mmHg, HR 80, SpO2 98%, RR 14 at \d\d:\d\d \(\+36 min\)",
                     summary)
    assert "2 alerts (2 acknowledged, 0 not)" in summary
    assert re.search(r"Sedation \(MOAA/S\): worst MOAA/S 3 at \d\d:\d\d \(\+30 min\); resolved \d\d:\d\d \(\+90 min\)",
                     summary)
    assert re.search(r"Dissociation \(0–10\): worst Dissociation 7/10 at .*\(\+30 min\); resolved .*\(\+90 min\)",
                     summary)
    assert "Headache (mild)" in summary
    assert "PHQ-9 22 → 14 over 3 sessions (now moderate)" in summary
    assert "GAD-7 9 → 9 over 3 sessions (now mild)" in summary
    # The signature shows the signer's credentials; one statement says which time zone the times are in.
    text = " ".join(pages)
    assert re.search(r"Credentials Medical staff, Medical supervisor", text)
    assert text.count("All times in this document are local time") == 1


def test_no_reading_in_the_window_says_so(services: Services, clock: FakeClock, team: Team) -> None:
    sid, _c, _k = _session(services, clock, team, vitals_at=(15, 30, 55, 90, 120))
    data = services.reports.build(team.sup, sid)
    assert data.summary.vitals is not None
    assert data.summary.vitals.forty.startswith("no reading at 40 min")
    assert not any("≈40 min" in r.marks for r in data.vitals)  # +30 and +55 are outside 35–50


def test_open_side_effect_at_discharge_is_shown_with_who_accepted_it(services: Services, clock: FakeClock,
                                                                     team: Team) -> None:
    sid, _c, _k = _session(services, clock, team)
    data = services.reports.build(team.sup, sid)
    headache = next(e for e in data.side_effects if e.effect == "Headache")
    assert headache.open_at_close and headache.accepted_by == "Dr Sam Supervisor"
    assert headache.status == "still open at discharge, accepted by Dr Sam Supervisor"
    # Expected therapeutic dissociation is tracked by its scale, not listed as a side effect.
    assert [e.effect for e in data.side_effects] == ["Headache"]
    assert data.summary.dissociation is not None and data.summary.dissociation.occurred


def test_respiratory_depression_is_its_own_kind_with_its_readings(services: Services, clock: FakeClock,
                                                                  team: Team) -> None:
    sid, _c, _k = _session(services, clock, team, respiratory=True)
    text = " ".join(_pages(services.reports.pdf(team.sup, sid)))
    assert re.search(r"Respiratory depression \(moderate\) at \d\d:\d\d \(\+30 min\); lowest SpO2 89%, RR 8/min "
                     r"while open, still open at discharge", text)
    assert "Oxygen 2 L/min by nasal cannula" in text


def test_adverse_event_is_the_first_line(services: Services, clock: FakeClock, team: Team) -> None:
    client = services.clinic.add_client(team.sup, identifier="C-8", name="Ash Early")
    sid = services.clinic.plan_session(team.sup, client_id=client.id, room="Room 2", route="sublingual",
                                       planned_drug="Ketamine", scheduled_at=clock.now).id
    r = services.records
    r.start_session(team.nurse, sid)
    for item in services.clinic.protocol().checklist:
        r.confirm_checklist_item(team.nurse, sid, item.key)
    r.record_vitals(team.nurse, sid, BASE)
    r.record_administration(team.nurse, sid, drug="Ketamine", route="sublingual", dose=200, unit="mg",
                            ordered_by=team.sup.staff_id)
    clock.advance(minutes=20)
    r.record_side_effect(team.nurse, sid, "elevated_bp", "severe", intervention="Labetalol 10 mg IV")
    r.end_early(team.sup, sid, "adverse_event", "Hypertensive response; transferred to the emergency department",
                disposition="transferred")
    first = _pages(services.reports.pdf(team.sup, sid))[0]
    summary = first[first.index("Clinical summary"):]
    line = summary.split("• ")[1]
    assert line.startswith("Adverse events / transfers: Session ended early: Adverse event: Hypertensive response; "
                           "transferred to the emergency department")
    assert "Transferred; Severe elevated blood pressure at" in line
    assert re.search(r"Rescue medications / interventions: Labetalol 10 mg IV \(elevated blood pressure, \d\d:\d\d",
                     summary)
    assert "Elevated blood pressure (severe) at" in summary
    assert "still open when the session was ended early by Dr Sam Supervisor" in summary


def test_closing_note_is_the_therapists_and_amendable(services: Services, clock: FakeClock, team: Team) -> None:
    sid, _c, _k = _session(services, clock, team, sign=False)
    with pytest.raises(ValidationError, match="already written"):
        services.records.record_closing_note(team.theo, sid, state="again")
    client = services.clinic.add_client(team.sup, identifier="C-9", name="Other")
    other = services.clinic.plan_session(team.sup, client_id=client.id, room="Room 3", route="sublingual",
                                         planned_drug="Ketamine", scheduled_at=clock.now).id
    services.records.start_session(team.nurse, other)
    with pytest.raises(PermissionDenied):
        services.records.record_closing_note(team.nurse, other, state="Calm")
    with pytest.raises(IllegalTransition):  # the session has not reached monitoring
        services.records.record_closing_note(team.theo, other, state="Calm")
    with pytest.raises(ValidationError):
        services.records.record_closing_note(team.theo, other, state="   ")
    note = services.records.record(team.theo, sid).closing_note
    assert note is not None
    services.records.amend(team.theo, sid, note.id, reason="Her exact words",
                           content={"words": "\"I can carry this, lightly.\""})
    data = services.reports.build(team.theo, sid)
    assert data.summary.vitals is not None
    assert (data.summary.vitals.alerts, data.summary.vitals.acknowledged) == (2, 1)  # the HR alert is still open
    assert data.closing_note is not None and data.closing_note.amended
    assert data.closing_note.words == "\"I can carry this, lightly.\"" and data.closing_note.state.startswith("Calm")


def test_outcome_measures_before_dosing_only_and_item_nine_is_flagged(services: Services, clock: FakeClock,
                                                                      team: Team) -> None:
    client = services.clinic.add_client(team.sup, identifier="C-10", name="Flag Client")
    sid = services.clinic.plan_session(team.sup, client_id=client.id, room="Room 4", route="sublingual",
                                       planned_drug="Ketamine", scheduled_at=clock.now).id
    r = services.records
    r.start_session(team.nurse, sid)
    with pytest.raises(ValidationError, match="item 3"):
        r.record_outcome_measure(team.nurse, sid, "phq9", [0, 0, 4, 0, 0, 0, 0, 0, 0])
    with pytest.raises(ValidationError, match="all 9 items"):
        r.record_outcome_measure(team.nurse, sid, "phq9", [0, 0, 0])
    r.record_outcome_measure(team.nurse, sid, "phq9", [1, 1, 1, 1, 1, 1, 1, 1, 2])
    record = r.record(team.nurse, sid)
    assert record.safety_flags and "item 9 answered 2" in record.safety_flags[0]
    pages = _pages(services.reports.pdf(team.nurse, sid))
    assert "PHQ-9 item 9 answered 2" in pages[0]
    assert "PHQ-9 10 (moderate), first measurement — item 9 answered 2 (thoughts of self-harm)" in pages[0]
    for item in services.clinic.protocol().checklist:
        r.confirm_checklist_item(team.nurse, sid, item.key)
    r.record_vitals(team.nurse, sid, BASE)
    r.record_administration(team.nurse, sid, drug="Ketamine", route="sublingual", dose=200, unit="mg",
                            ordered_by=team.sup.staff_id)
    with pytest.raises(IllegalTransition, match="does not allow: record outcome"):
        r.record_outcome_measure(team.nurse, sid, "gad7", [0] * 7)


def test_structured_allergies_and_optional_facts_print_in_the_header(services: Services, clock: FakeClock,
                                                                     team: Team) -> None:
    sid, _c, _k = _session(services, clock, team, sign=False)
    record = services.records.record(team.sup, sid)
    client = replace(record.info.client, allergy_list=(
        Allergy("Penicillin", "hives", AllergySeverity.MODERATE), Allergy("Midazolam", "", AllergySeverity.UNKNOWN)),
        weight_kg=72.5, weight_on=date(2026, 11, 1), medications="Sertraline 100 mg daily")
    record = SessionRecord(replace(record.info, client=client), record.entries)
    data = assemble.report_data(record, now=clock.now, printed_by="Theo Therapist")
    assert data.header.allergies == ("Penicillin — hives — moderate", "Midazolam")
    first = _pages(render_pdf(data))[0]
    assert "Allergies: Penicillin — hives — moderate; Midazolam; Latex (rash)" in first
    assert "Printed by Theo Therapist" in first
    assert "72.5 kg (2026-11-01)" in first and "Current medications: Sertraline 100 mg daily" in first
