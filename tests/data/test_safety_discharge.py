"""Discharge and ending early: the gates hold at the service layer, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from kapconsole.domain.discharge import PERSON_CRITERIA, PERSON_SCORE_PARTS
from kapconsole.domain.enums import Disposition, EntryKind, SessionState
from kapconsole.domain.errors import (
    AuthenticationFailed,
    IllegalTransition,
    PermissionDenied,
    ValidationError,
)
from kapconsole.domain.values import Actor
from kapconsole.services import Services
from kapconsole.services.board import BoardService
from tests.conftest import PASSWORD, FakeClock
from tests.data.test_safety_dosing import give, prepared

CONFIRMED = dict.fromkeys(PERSON_CRITERIA, True)
FULL = dict.fromkeys(PERSON_SCORE_PARTS, 2)
RECOVERED = {"sbp": 126, "dbp": 80, "hr": 74, "spo2": 97, "rr": 14}


def recovered(services: Services, staff: dict[str, Actor], clock: FakeClock, **kw: Any) -> int:
    """Dosed, observed for two hours, recovered, scored after the dose."""
    sid = prepared(services, staff, **kw)
    give(services, staff, sid)
    nurse = staff["medical"]
    for _ in range(5):
        clock.advance(minutes=25)
        services.records.record_vitals(nurse, sid, RECOVERED)
    services.records.record_scale(nurse, sid, "moaas", 5)
    services.records.record_scale(nurse, sid, "dissociation", 0)
    return sid


def failing(services: Services, staff: dict[str, Actor], sid: int) -> dict[str, str]:
    record = services.records.record(staff["supervisor"], sid)
    return {c.key: c.detail for c in services.discharge.preview(record, CONFIRMED, FULL).failing}


def test_respiratory_depression_fever_and_open_alerts_block_discharge(services: Services, staff,
                                                                        clock: FakeClock) -> None:
    nurse, sup = staff["medical"], staff["supervisor"]
    sid = recovered(services, staff, clock)
    assert failing(services, staff, sid) == {}
    clock.advance(minutes=1)
    reading = services.records.record_vitals(nurse, sid, {**RECOVERED, "rr": 8, "temp": 38.6})
    found = failing(services, staff, sid)
    assert set(found) == {"respiration", "alerts_acknowledged", "latest_in_range"}
    assert "latest RR 8/min" in found["respiration"]
    assert "Temperature 38.6" in found["latest_in_range"]
    result = services.discharge.assess(sup, sid, confirmations=CONFIRMED, score_parts=FULL)
    assert not result.assessment.ready
    head = services.records.record(sup, sid).info.chain_head
    with pytest.raises(IllegalTransition, match="not ready"):
        services.discharge.sign(sup, sid, password=PASSWORD, seen_chain_head=head)
    # While awaiting discharge, an acknowledgement needs a note; it clears the open alerts, not the values.
    with pytest.raises(ValidationError, match="note"):
        services.records.acknowledge_alert(nurse, sid, reading.id, ["rr", "temp"])
    services.records.acknowledge_alert(nurse, sid, reading.id, ["rr", "temp"], note="stimulated; paracetamol given")
    assert set(failing(services, staff, sid)) == {"respiration", "latest_in_range"}
    clock.advance(minutes=5)
    services.records.record_vitals(nurse, sid, {**RECOVERED, "temp": 37.4})
    assert failing(services, staff, sid) == {}


def test_scores_before_the_dose_do_not_count(services: Services, staff, clock: FakeClock) -> None:
    nurse = staff["medical"]
    sid = prepared(services, staff)
    services.records.record_scale(nurse, sid, "moaas", 5)
    services.records.record_scale(nurse, sid, "dissociation", 0)
    clock.advance(minutes=1)
    give(services, staff, sid)
    for _ in range(5):
        clock.advance(minutes=25)
        services.records.record_vitals(nurse, sid, RECOVERED)
    found = failing(services, staff, sid)
    assert found["sedation_resolved"] == "no MOAA/S recorded after the last dose"
    assert found["dissociation_resolved"] == "no dissociation score recorded after the last dose"


def test_each_measure_is_judged_on_its_own_latest_value(services: Services, staff, clock: FakeClock) -> None:
    nurse = staff["medical"]
    sid = recovered(services, staff, clock)
    clock.advance(minutes=1)
    services.records.record_vitals(nurse, sid, {"sbp": 190, "dbp": 110, "hr": 80, "spo2": 97, "rr": 14})
    clock.advance(minutes=1)
    services.records.record_vitals(nurse, sid, {"hr": 76, "spo2": 98})  # the latest row has no BP
    found = failing(services, staff, sid)
    assert "Systolic BP 190 (53%, 1 min ago)" in found["vitals_baseline"]
    # A measure too old to count needs a recheck.
    sid2 = recovered(services, staff, clock)
    clock.advance(minutes=31)
    services.records.record_vitals(nurse, sid2, {"hr": 74, "spo2": 97, "rr": 14})
    assert "Systolic BP taken 31 min ago (older than 30 min)" in failing(services, staff, sid2)["vitals_baseline"]


def test_a_booster_while_awaiting_discharge_returns_to_monitoring(services: Services, staff,
                                                                    clock: FakeClock) -> None:
    nurse, sup = staff["medical"], staff["supervisor"]
    sid = recovered(services, staff, clock, dose=400)
    services.discharge.assess(sup, sid, confirmations={**CONFIRMED, "escort_present": False}, score_parts=FULL)
    assert services.clinic.session(sid).state is SessionState.DISCHARGE
    before = services.records.record(nurse, sid).earliest_discharge_at
    clock.advance(minutes=2)
    booster = give(services, staff, sid, dose=100)
    record = services.records.record(nurse, sid)
    assert record.info.state is SessionState.MONITORING
    assert record.earliest_discharge_at == booster.observed_at + timedelta(minutes=120) > before
    assert record.entries[-1].payload["reason"].startswith("booster given while awaiting discharge")


def test_ending_early_after_a_dose_needs_a_supervisor_a_disposition_and_an_attestation(
        services: Services, staff, clock: FakeClock) -> None:
    nurse, sup = staff["medical"], staff["supervisor"]
    board = BoardService(services.db, clock)
    sid = prepared(services, staff)
    give(services, staff, sid)
    clock.advance(minutes=5)
    with pytest.raises(PermissionDenied, match="after a dose"):
        services.records.end_early(nurse, sid, "client_request", "wants to leave", disposition="home_with_escort")
    with pytest.raises(ValidationError, match="disposition"):
        services.records.end_early(sup, sid, "client_request", "wants to leave")
    services.records.end_early(sup, sid, "client_request", "wants to leave", disposition=Disposition.LEFT_AGAINST_ADVICE)
    info = services.clinic.session(sid)
    assert info.state is SessionState.ENDED_EARLY and info.needs_attestation
    assert "Left against medical advice" in info.end_reason
    rows = board.rows(sup)
    assert [(r.session_id, r.needs_attestation) for r in rows] == [(sid, True)]
    head = info.chain_head
    with pytest.raises(PermissionDenied):
        services.records.attest_end_early(nurse, sid, password=PASSWORD, seen_chain_head=head,
                                          disposition="left_against_advice")
    with pytest.raises(AuthenticationFailed):
        services.records.attest_end_early(sup, sid, password="not-it-at-all", seen_chain_head=head,
                                          disposition="left_against_advice")
    services.records.attest_end_early(sup, sid, password=PASSWORD, seen_chain_head=head,
                                      disposition="left_against_advice", note="called escort; refused to wait")
    record = services.records.record(sup, sid)
    assert record.signature is not None and record.signature.payload["disposition"] == "left_against_advice"
    assert not record.info.needs_attestation and board.rows(sup) == []
    # Before any dose, medical staff end a session alone and nothing waits for an attestation.
    other = prepared(services, staff)
    services.records.end_early(nurse, other, "no_show", "did not arrive")
    assert not services.clinic.session(other).needs_attestation


def test_an_infusion_still_running_blocks_discharge_and_its_end_is_bounded(services: Services, staff,
                                                                             clock: FakeClock) -> None:
    nurse = staff["medical"]
    sid = prepared(services, staff, route="iv", dose=0.5, unit="mg/kg")
    with pytest.raises(ValidationError, match="future"):
        give(services, staff, sid, route="iv", dose=0.5, unit="mg/kg", infusion_end=clock.now + timedelta(minutes=40))
    clock.advance(minutes=5)
    dose = give(services, staff, sid, route="iv", dose=0.5, unit="mg/kg")
    clock.advance(minutes=170)
    for _ in range(2):
        services.records.record_vitals(nurse, sid, RECOVERED)
    services.records.record_scale(nurse, sid, "moaas", 5)
    services.records.record_scale(nurse, sid, "dissociation", 0)
    assert "still running" in failing(services, staff, sid)["observation_time"]
    with pytest.raises(ValidationError, match="before the infusion started"):
        services.records.end_infusion(nurse, sid, dose.id, ended_at=dose.observed_at - timedelta(minutes=1))
    with pytest.raises(ValidationError, match="future"):
        services.records.end_infusion(nurse, sid, dose.id, ended_at=clock.now + timedelta(hours=1))
    services.records.end_infusion(nurse, sid, dose.id, ended_at=dose.observed_at + timedelta(minutes=40))
    record = services.records.record(nurse, sid)
    assert record.last_dose_at == dose.observed_at + timedelta(minutes=40) and not record.running_infusions
    assert failing(services, staff, sid) == {}


def test_bedside_checks_are_fresh_and_stamped(services: Services, staff, clock: FakeClock) -> None:
    sup = staff["supervisor"]
    sid = recovered(services, staff, clock)
    first = services.discharge.assess(sup, sid, confirmations={**CONFIRMED, "escort_present": False},
                                      score_parts=FULL)
    stamps = first.entry.payload["checked_at"]
    assert set(stamps) == {k for k in CONFIRMED if k != "escort_present"} | set(FULL)
    clock.advance(minutes=10)
    # A check made before the previous "not ready" assessment is not carried into the next one.
    with pytest.raises(ValidationError, match="fresh"):
        services.discharge.assess(sup, sid, confirmations=CONFIRMED, score_parts=FULL,
                                  checked_at={"oriented": first.entry.entered_at - timedelta(minutes=1)})
    second = services.discharge.assess(sup, sid, confirmations=CONFIRMED, score_parts=FULL,
                                       checked_at={"escort_present": clock.now - timedelta(minutes=2)})
    assert second.assessment.ready
    record = services.records.record(sup, sid)
    assessments = record.current(EntryKind.DISCHARGE_ASSESSMENT)
    assert assessments[-1].payload["checked_at"]["escort_present"] != assessments[-1].payload["checked_at"]["oriented"]
