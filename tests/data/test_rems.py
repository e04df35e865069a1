"""Esketamine sessions under the REMS, on SQLite and on PostgreSQL: devices, answers, the signature gate, the
monitoring form and its seven-day deadline."""

from __future__ import annotations

import io
import unicodedata
import uuid
from datetime import timedelta

import pytest
from pypdf import PdfReader

from kapconsole.domain import rems
from kapconsole.domain.discharge import PERSON_CRITERIA, PERSON_SCORE_PARTS
from kapconsole.domain.enums import EntryKind, SessionState
from kapconsole.domain.errors import IllegalTransition, PermissionDenied, ValidationError
from kapconsole.domain.gates import GateBlocked
from kapconsole.domain.rems import FilingStatus, RemsIncomplete
from kapconsole.domain.values import Actor
from kapconsole.services import Services
from kapconsole.services.record import DoseInput
from tests.conftest import PASSWORD, FakeClock
from tests.data.rems_helpers import (
    PREDOSE_ANSWERS,
    chart_84mg,
    esketamine_checklist_done,
    esketamine_planned,
    form_answers,
)

CONFIRMED = {key: True for key in PERSON_CRITERIA}
FULL_SCORES = {key: 2 for key in PERSON_SCORE_PARTS}
SETTING = {"name": "Harbour Mind Clinic", "address": "12 Quay Street, Suite 4, Portland, ME 04101",
           "phone": "+1 207 555 0100", "certification": "SPR-HC-778812"}


def _sign(services: Services, staff: dict[str, Actor], sid: int) -> None:
    head = services.records.record(staff["supervisor"], sid).info.chain_head
    services.discharge.sign(staff["supervisor"], sid, password=PASSWORD, seen_chain_head=head)


def test_esketamine_sessions_are_planned_under_the_esketamine_protocol(services: Services, staff: dict[str, Actor],
                                                                        clock: FakeClock) -> None:
    sid = esketamine_planned(services, staff["medical"], clock)
    protocol = services.records.record(staff["medical"], sid).protocol
    keys = {i.key for i in protocol.checklist}
    assert "spray_instructions" in keys and "fasting" not in keys and "med_maoi" not in keys
    assert protocol.predose["sbp"].high == 140 and protocol.predose["dbp"].high == 90
    assert protocol.discharge.min_observation_minutes == 120
    assert protocol.schedule.first_phase_interval == 20  # a reading falls at 40 minutes
    with pytest.raises(ValidationError, match="56 mg or 84 mg"):
        esketamine_planned(services, staff["medical"], clock, identifier="ESK-2", dose=70)
    client = services.clinic.add_client(staff["medical"], identifier="ESK-3", name="Per Unit")
    with pytest.raises(ValidationError, match="planned in mg"):
        services.clinic.plan_session(staff["medical"], client_id=client.id, room="Room 2", route="intranasal",
                                     planned_drug="Esketamine", planned_dose=84, planned_unit="mg/kg",
                                     scheduled_at=clock.now)


def test_an_84mg_session_devices_hold_recheck_and_the_signature_gate(services: Services, staff: dict[str, Actor],
                                                                     clock: FakeClock) -> None:
    nurse, doctor = staff["medical"], staff["supervisor"]
    sid = esketamine_checklist_done(services, staff, clock)
    # No REMS answers yet: the first device waits for them.
    services.records.record_vitals(nurse, sid, {"sbp": 150, "dbp": 94, "hr": 80, "spo2": 98, "rr": 14})
    with pytest.raises(IllegalTransition, match="REMS answer missing: REMS patient ID"):
        services.rems.record_device(nurse, sid, device_lot="D1", ordered_by=doctor.staff_id)
    services.rems.record_answers(nurse, sid, {**PREDOSE_ANSWERS, "no_liquids_30min": False})
    blockers = services.records.record(nurse, sid).dosing_blockers()
    assert any("pre-dose hold: Systolic BP 150" in b.message for b in blockers)
    waits = [b for b in blockers if b.key.startswith("rems.")]
    assert [(b.key, b.message, b.overridable) for b in waits] == [
        ("rems.no_liquids_30min", "REMS: the dose waits — no liquids in the last 30 minutes: no", True)]
    # 30 minutes later: the BP recheck is within the label's limits and the patient has not drunk since.
    clock.advance(minutes=30)
    services.records.record_vitals(nurse, sid, {"sbp": 134, "dbp": 84, "hr": 76, "spo2": 98, "rr": 14})
    services.rems.record_answers(nurse, sid, {"no_liquids_30min": True})
    assert services.records.record(nurse, sid).dosing_blockers() == []
    services.rems.record_device(nurse, sid, device_lot="D1", ordered_by=doctor.staff_id)
    assert services.records.record(nurse, sid).info.state is SessionState.MONITORING
    clock.advance(minutes=3)
    with pytest.raises(ValidationError, match="less than 5 minutes"):
        services.rems.record_device(nurse, sid, device_lot="D2", ordered_by=doctor.staff_id)
    assert services.rems.device_status(nurse, sid).wait(clock.now) == timedelta(minutes=2)
    services.rems.record_device(nurse, sid, device_lot="D2", ordered_by=doctor.staff_id,
                                early_reason="patient needed to leave the chair soon after")
    clock.advance(minutes=5)
    services.rems.record_device(nurse, sid, device_lot="D3", ordered_by=doctor.staff_id)
    clock.advance(minutes=5)
    with pytest.raises(ValidationError, match="3 devices and all have been given"):
        services.rems.record_device(nurse, sid, device_lot="D4", ordered_by=doctor.staff_id)
    record = services.records.record(nurse, sid)
    devices = [a.payload for a in record.administrations]
    assert [d["device"] for d in devices] == [1, 2, 3] and {d["dose"] for d in devices} == {28}
    assert "early_reason" in devices[1] and "early_reason" not in devices[2]
    first = record.first_dose_at
    assert first is not None
    for minutes, bp, moaas in ((20, (140, 88), 3), (40, (146, 90), 4), (90, (130, 82), 5), (140, (126, 80), 5)):
        clock.at(first + timedelta(minutes=minutes))
        services.records.record_vitals(nurse, sid, {"sbp": bp[0], "dbp": bp[1], "hr": 78, "spo2": 97, "rr": 14})
        services.records.record_scale(nurse, sid, "moaas", moaas)
        services.records.record_scale(nurse, sid, "dissociation", 3 if minutes < 90 else 0)
    result = services.discharge.assess(doctor, sid, confirmations=CONFIRMED, score_parts=FULL_SCORES)
    assert result.assessment.ready
    # The REMS form's questions are not answered: the signature is refused, naming each.
    with pytest.raises(RemsIncomplete) as refused:
        _sign(services, staff, sid)
    assert "Respiratory depression during monitoring" in refused.value.missing
    assert "Monitoring clinician's credentials (e.g. RN, MD)" in refused.value.missing
    assert services.records.record(doctor, sid).info.state is SessionState.DISCHARGE
    last_device = record.last_dose_at
    assert last_device is not None
    with pytest.raises(ValidationError, match="at least 120 minutes after the last device"):
        services.rems.record_answers(nurse, sid, {"ready_to_leave_at": last_device + timedelta(minutes=100)})
    answers = form_answers(last_device + timedelta(minutes=120))
    services.rems.record_answers(nurse, sid, {k: v for k, v in answers.items() if k != "clinician_contact"})
    with pytest.raises(RemsIncomplete, match="contact number"):
        _sign(services, staff, sid)
    services.rems.record_answers(nurse, sid, {"clinician_contact": "555-010-2000"})
    _sign(services, staff, sid)  # REMS answers do not make the assessment stale
    record = services.records.record(doctor, sid)
    assert record.info.state is SessionState.DISCHARGED
    form = services.rems.form(doctor, sid)
    assert form.sedation.present and form.sedation.resolved_at == first + timedelta(minutes=90)
    assert form.dissociation.present and form.dissociation.resolved_at == first + timedelta(minutes=90)
    assert form.bp_predose is not None and form.bp_predose.text == "134/84 mmHg"
    assert form.bp_40min is not None and form.bp_40min.minutes_after_first_device == 40
    assert form.bp_before_completion is not None and form.bp_before_completion.text == "126/80 mmHg"
    assert form.dose_mg == 84 and form.devices_given == 3
    assert form.missing_answers == () and form.missing_record == ()
    assert form.missing_details  # the clinic has not entered its REMS details yet
    assert services.integrity.verify(sid).problems == ()


def test_answers_are_validated_and_a_later_answer_replaces_an_earlier(services: Services, staff: dict[str, Actor],
                                                                      clock: FakeClock) -> None:
    nurse = staff["medical"]
    sid = esketamine_checklist_done(services, staff, clock)
    for bad, match in (({"med_maois": "no"}, "yes or no"), ({"escort_contact": "call me"}, "telephone"),
                       ({"phase": "induction", "phase_session": 9}, "at most 8 sessions"),
                       ({"unknown_question": True}, "a question of the REMS form"), ({}, "at least one"),
                       ({"rems_patient_id": "   "}, "required")):
        with pytest.raises(ValidationError, match=match):
            services.rems.record_answers(nurse, sid, bad)
    services.rems.record_answers(nurse, sid, {"rems_patient_id": "RP-1", "med_maois": True})
    services.rems.record_answers(nurse, sid, {"med_maois": False})
    answers = services.rems.answers(nurse, sid)
    assert answers["med_maois"].value is False and answers["rems_patient_id"].value == "RP-1"
    entries = [e for e in services.records.record(nurse, sid).entries if e.kind is EntryKind.REMS_ANSWERS]
    assert len(entries) == 2 and entries[0].payload["answers"] == {"rems_patient_id": "RP-1", "med_maois": True}
    assert rems.describe_answers(entries[0].payload) == ("REMS — REMS patient ID (patient enrolled in the REMS): "
                                                         "RP-1; Taking MAOIs: yes")
    # A ketamine session has no REMS answers.
    from tests.data.helpers import in_checklist

    ketamine = in_checklist(services, staff, clock, identifier="KET-1")
    with pytest.raises(ValidationError, match="esketamine"):
        services.rems.record_answers(nurse, ketamine, {"rems_patient_id": "RP-1"})


def test_the_next_session_starts_from_the_previous_answers_until_confirmed(services: Services,
                                                                           staff: dict[str, Actor],
                                                                           clock: FakeClock) -> None:
    nurse = staff["medical"]
    first = esketamine_checklist_done(services, staff, clock, identifier="ESK-9")
    services.rems.record_answers(nurse, first, {**PREDOSE_ANSWERS, "phase_session": 8})
    clock.advance(days=3)
    second = esketamine_checklist_done(services, staff, clock, identifier="ESK-9")
    filled = services.rems.prefill(nurse, second)
    assert filled["rems_patient_id"].value == PREDOSE_ANSWERS["rems_patient_id"]
    assert filled["rems_patient_id"].how == "carried over" and filled["rems_patient_id"].from_session == first
    assert filled["med_psychostimulants"].value is True
    assert (filled["phase"].value, filled["phase_session"].value) == ("maintenance_weekly", 1)
    assert "escort_name" not in filled and "no_food_2h" not in filled  # asked afresh each session
    # Carried-over values are not answers until confirmed: dosing still waits.
    blockers = services.records.record(nurse, second).dosing_blockers()
    missing = next(b for b in blockers if b.key == "rems.rems_patient_id")
    assert not missing.overridable  # answered, never overridden
    services.rems.record_answers(nurse, second, {"rems_patient_id": filled["rems_patient_id"].value},
                                 confirmed_carried=["rems_patient_id"])
    assert "rems_patient_id" not in services.rems.prefill(nurse, second)
    entry = [e for e in services.records.record(nurse, second).entries if e.kind is EntryKind.REMS_ANSWERS][-1]
    assert entry.payload["confirmed_carried"] == ["rems_patient_id"]


FORM_FIELDS = [
    "Patient name", "Layla Haddad", "Date of birth", "REMS patient ID", "RP-0042-ÅÆ", "Setting name",
    "Harbour Mind Clinic", "Address", "12 Quay Street", "REMS certification number", "SPR-HC-778812",
    "Treatment date", "Treatment phase", "Induction (twice a week, weeks 1–4)", "Session number in phase",
    "Dose", "84 mg", "Number of devices", "3 of 3 planned", "Time of first administration", "Device times",
    "Taking benzodiazepines", "Taking non-benzodiazepine sedative-hypnotics", "Taking other CNS depressants",
    "Taking psychostimulants", "Taking MAOIs", "Nasal corticosteroid or decongestant used in the last hour",
    "No food in the last 2 hours", "No liquids in the last 30 minutes", "Escort", "Karim Haddad (brother)",
    "+1 (555) 010-7788", "Pre-dose", "134/84 mmHg", "About 40 minutes after dosing", "148/90 mmHg",
    "Before completion of monitoring", "126/80 mmHg", "Sedation present", "Sedation resolved at",
    "Dissociation present", "Dissociation resolved at", "Respiratory depression present",
    "Respiratory depression resolved at", "Serious adverse event", "Which serious adverse event",
    "Hospitalisation", "Patient would have been ready to leave at", "confirmed by Nina Nurse",
    "Total monitoring time", "Monitoring healthcare provider", "Credentials", "RN, BSN", "Contact number",
    "555-010-2000", "Discharge signed", "Dr Sam Supervisor",
]


def _text(pdf: bytes) -> str:
    reader = PdfReader(io.BytesIO(pdf))
    text = "\n".join(page.extract_text() or "" for page in reader.pages)
    return unicodedata.normalize("NFKC", " ".join(text.split()))


def test_the_form_pdf_carries_every_field_and_the_filing_deadline(services: Services, staff: dict[str, Actor],
                                                                   clock: FakeClock, tmp_path) -> None:
    nurse, doctor, admin = staff["medical"], staff["supervisor"], staff["administrator"]
    sid = chart_84mg(services, staff, clock)
    record = services.records.record(nurse, sid)
    assert record.last_dose_at is not None
    treated = record.first_dose_at.astimezone().date()  # type: ignore[union-attr]
    # The filing item exists from the first device: due 7 days after the treatment date.
    (item,) = services.rems.filings(doctor)
    assert (item.session_id, item.due_on, item.status) == (sid, treated + timedelta(days=7), FilingStatus.DUE)
    incomplete = _text(services.rems.form_pdf(doctor, sid))
    assert "INCOMPLETE" in incomplete and "not answered" in incomplete
    services.rems.update_setting(admin, **SETTING)
    services.rems.record_answers(nurse, sid, form_answers(record.last_dose_at + timedelta(minutes=125)))
    services.discharge.assess(doctor, sid, confirmations=CONFIRMED, score_parts=FULL_SCORES)
    _sign(services, staff, sid)
    path = services.rems.write_form(doctor, sid, tmp_path / "form.pdf")
    assert path.stat().st_mode & 0o777 == 0o600
    text = _text(path.read_bytes())
    absent = [f for f in FORM_FIELDS if unicodedata.normalize("NFKC", f) not in text]
    assert not absent, absent
    assert "INCOMPLETE" not in text and "not answered" not in text
    assert "2 h" in text  # total monitoring time in hours and minutes
    # Marking it submitted: validated, audited, then no longer due.
    with pytest.raises(ValidationError, match="allowed: online, fax, phone"):
        services.rems.mark_submitted(nurse, sid, submitted_on=clock.now.astimezone().date(), method="pigeon")
    with pytest.raises(ValidationError, match="between the treatment date"):
        services.rems.mark_submitted(nurse, sid, submitted_on=treated + timedelta(days=30), method="online")
    filed = services.rems.mark_submitted(nurse, sid, submitted_on=clock.now.astimezone().date(), method="online",
                                         confirmation="CONF-5521")
    assert filed.status is FilingStatus.FILED and filed.submission is not None
    assert filed.submission.confirmation == "CONF-5521" and filed.submission.by_name == "Nina Nurse"
    assert services.rems.filings(doctor) == []
    with pytest.raises(ValidationError, match="already marked"):
        services.rems.mark_submitted(nurse, sid, submitted_on=clock.now.astimezone().date(), method="fax")
    events = [e for e in services.audit.events(doctor) if e.action == "rems_form_submitted"]
    assert len(events) == 1 and "CONF-5521" in events[0].detail and events[0].session_id == sid


def test_forms_not_filed_become_overdue_after_seven_days(services: Services, staff: dict[str, Actor],
                                                         clock: FakeClock) -> None:
    sid = chart_84mg(services, staff, clock)
    treated = services.records.record(None, sid).first_dose_at.astimezone().date()  # type: ignore[union-attr]
    (item,) = services.rems.filings(today=treated + timedelta(days=7))
    assert item.status is FilingStatus.DUE and item.describe(treated + timedelta(days=7)) == "due today"
    (item,) = services.rems.filings(today=treated + timedelta(days=9))
    assert item.status is FilingStatus.OVERDUE and item.describe(treated + timedelta(days=9)) == "overdue by 2 days"
    # An incomplete form cannot be marked submitted.
    with pytest.raises(RemsIncomplete):
        services.rems.mark_submitted(staff["medical"], sid, submitted_on=treated, method="fax")
    # A session without a device has nothing to file.
    undosed = esketamine_checklist_done(services, staff, clock, identifier="ESK-3")
    assert [i.session_id for i in services.rems.filings()] == [sid]
    assert undosed not in {i.session_id for i in services.rems.filings(include_filed=True)}


def test_phase_progression() -> None:
    assert rems.next_in_phase("induction", 3) == ("induction", 4)
    assert rems.next_in_phase("induction", 8) == ("maintenance_weekly", 1)
    assert rems.next_in_phase("maintenance_weekly", 4) == ("maintenance", 1)
    assert rems.next_in_phase("maintenance", 30) == ("maintenance", 31)


def test_a_session_ended_early_after_a_device_still_gets_its_form(services: Services, staff: dict[str, Actor],
                                                                  clock: FakeClock) -> None:
    nurse, doctor = staff["medical"], staff["supervisor"]
    services.rems.update_setting(staff["administrator"], **SETTING)
    sid = esketamine_checklist_done(services, staff, clock, identifier="ESK-EE")
    services.rems.record_answers(nurse, sid, PREDOSE_ANSWERS)
    services.records.record_vitals(nurse, sid, {"sbp": 128, "dbp": 80, "hr": 74, "spo2": 98, "rr": 14})
    services.rems.record_device(nurse, sid, device_lot="D1", ordered_by=doctor.staff_id)
    clock.advance(minutes=40)
    services.records.record_vitals(nurse, sid, {"sbp": 182, "dbp": 104, "hr": 96, "spo2": 97, "rr": 16})
    services.records.record_scale(nurse, sid, "moaas", 4)
    services.records.record_scale(nurse, sid, "dissociation", 3)
    clock.advance(minutes=80)
    services.records.record_vitals(nurse, sid, {"sbp": 132, "dbp": 84, "hr": 80, "spo2": 98, "rr": 14})
    services.records.record_scale(nurse, sid, "moaas", 5)
    services.records.record_scale(nurse, sid, "dissociation", 0)
    clock.advance(minutes=5)
    services.records.end_early(doctor, sid, "adverse_event", "Hypertensive response; second device not given",
                               disposition="home_with_escort")
    (item,) = services.rems.filings(doctor)
    assert item.session_id == sid
    answers = {**form_answers(clock.now), "serious_adverse_event": True,
               "serious_adverse_event_detail": "Blood pressure 182/104 at 40 minutes"}
    services.rems.record_answers(nurse, sid, answers)  # after the session closed
    form = services.rems.form(doctor, sid)
    assert form.dose_mg == 28 and form.devices_given == 1 and form.devices_planned == 3
    assert form.complete, (form.missing_answers, form.missing_record, form.missing_details)
    services.rems.mark_submitted(nurse, sid, submitted_on=clock.now.astimezone().date(), method="fax")
    assert services.rems.filings(doctor) == []
    assert services.integrity.verify(sid).problems == ()


def test_the_form_shows_the_bp_hold_and_recheck(services: Services, staff: dict[str, Actor], clock: FakeClock) -> None:
    sid = chart_84mg(services, staff, clock)
    form = services.rems.form(staff["supervisor"], sid)
    assert [r.text for r in form.bp_held] == ["150/94 mmHg"]
    assert form.bp_predose is not None and form.bp_predose.text == "134/84 mmHg"
    text = _text(services.rems.form_pdf(staff["supervisor"], sid))
    assert "Dose held for a pre-dose reading above 140/90 and rechecked: 150/94 mmHg at" in text


def test_each_device_passes_the_same_safety_gate_as_any_dose(services: Services, staff: dict[str, Actor],
                                                            clock: FakeClock) -> None:
    nurse, doctor = staff["medical"], staff["supervisor"]
    sid = esketamine_checklist_done(services, staff, clock, identifier="ESK-GATE")
    services.records.record_vitals(nurse, sid, {"sbp": 128, "dbp": 80, "hr": 74, "spo2": 98, "rr": 14})
    services.rems.record_answers(nurse, sid, {**PREDOSE_ANSWERS, "no_food_2h": False})
    # A waiting answer is the gate's blocker: a supervisor may override exactly it, re-authenticated.
    with pytest.raises(GateBlocked) as err:
        services.rems.record_device(nurse, sid, device_lot="D1", ordered_by=doctor.staff_id)
    assert [b.key for b in err.value.blockers] == ["rems.no_food_2h"]
    services.records.override(doctor, sid, password=PASSWORD, reason="a few crackers 90 minutes ago",
                              dose=DoseInput("Esketamine", "intranasal", 28, "mg"))
    # Only a prescriber orders a device; the same request key saves it once.
    with pytest.raises(PermissionDenied):
        services.rems.record_device(nurse, sid, device_lot="D1", ordered_by=nurse.staff_id)
    key = str(uuid.uuid4())
    first = services.rems.record_device(nurse, sid, device_lot="D1", ordered_by=doctor.staff_id, request_key=key)
    again = services.rems.record_device(nurse, sid, device_lot="D1", ordered_by=doctor.staff_id, request_key=key)
    assert again.id == first.id and len(services.records.record(nurse, sid).administrations) == 1
    # An alert between devices holds the next one until someone acknowledges it, as before any booster.
    clock.advance(minutes=6)
    low = services.records.record_vitals(nurse, sid, {"sbp": 130, "dbp": 82, "hr": 78, "spo2": 86, "rr": 14})
    with pytest.raises(GateBlocked) as err:
        services.rems.record_device(nurse, sid, device_lot="D2", ordered_by=doctor.staff_id)
    assert any(b.key.startswith("alert.") for b in err.value.blockers)
    services.records.acknowledge_alert(nurse, sid, low.id, ["spo2"], note="repositioned; reading again")
    services.records.record_vitals(nurse, sid, {"sbp": 130, "dbp": 82, "hr": 78, "spo2": 97, "rr": 14})
    second = services.rems.record_device(nurse, sid, device_lot="D2", ordered_by=doctor.staff_id)
    assert second.payload["device"] == 2
    # The third device of an 84 mg session is within the route's limit (84 mg a session).
    clock.advance(minutes=5)
    third = services.rems.record_device(nurse, sid, device_lot="D3", ordered_by=doctor.staff_id)
    assert third.payload["device"] == 3
    with pytest.raises(ValidationError, match="all have been given"):
        services.rems.record_device(nurse, sid, device_lot="D4", ordered_by=doctor.staff_id)
    assert services.integrity.verify(sid).problems == ()
