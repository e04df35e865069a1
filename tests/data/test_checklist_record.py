"""Checklist items the record answers, and withdrawing a confirmation before dosing."""

from __future__ import annotations

import pytest

from kapconsole.domain.checklist import Evidence, evidence
from kapconsole.domain.enums import EntryKind
from kapconsole.domain.errors import IllegalTransition, PermissionDenied, ValidationError
from kapconsole.services import Services
from tests.conftest import FakeClock
from tests.data.helpers import BASELINE, checklist_done, in_checklist


def test_baseline_and_intention_are_satisfied_by_the_record(services: Services, staff, clock: FakeClock) -> None:
    sid = in_checklist(services, staff, clock)
    rec = services.records.record(staff["medical"], sid)
    assert evidence(rec, "identity") is None  # a person confirms it
    assert evidence(rec, "intention") == Evidence(False, "No intention recorded yet")
    assert not evidence(rec, "baseline_vitals").satisfied  # type: ignore[union-attr]
    services.records.record_vitals(staff["medical"], sid, {**BASELINE, "sbp": 150, "dbp": 95})
    services.records.record_intention(staff["therapist"], sid, "<b>calm</b> & 安心")
    rec = services.records.record(staff["medical"], sid)
    held = evidence(rec, "baseline_vitals")
    assert held is not None and not held.satisfied and "pre-dose hold" in held.text
    assert evidence(rec, "intention").text == "Recorded: <b>calm</b> & 安心"  # type: ignore[union-attr]
    services.records.record_vitals(staff["medical"], sid, BASELINE)
    ok = evidence(services.records.record(staff["medical"], sid), "baseline_vitals")
    assert ok is not None and ok.satisfied


def test_a_tick_is_withdrawn_with_a_reason_before_dosing(services: Services, staff, clock: FakeClock) -> None:
    sid = in_checklist(services, staff, clock)
    r = services.records
    with pytest.raises(IllegalTransition, match="not confirmed"):
        r.withdraw_checklist_item(staff["therapist"], sid, "escort", reason="no escort")
    tick = r.confirm_checklist_item(staff["therapist"], sid, "escort")
    with pytest.raises(ValidationError, match="reason"):
        r.withdraw_checklist_item(staff["therapist"], sid, "escort", reason=" ")
    with pytest.raises(PermissionDenied):
        r.withdraw_checklist_item(staff["administrator"], sid, "escort", reason="x")
    gone = r.withdraw_checklist_item(staff["therapist"], sid, "escort", reason="escort cancelled by phone")
    rec = r.record(staff["medical"], sid)
    assert gone.kind is EntryKind.AMENDMENT and gone.amends_id == tick.id
    assert "escort" not in rec.checklist_confirmed and rec.by_id[tick.id].payload["item"] == "escort"
    assert rec.amendments_of(tick.id)[-1].payload["reason"] == "escort cancelled by phone"
    assert any("Escort" in b if isinstance(b, str) else "Escort" in str(b) for b in rec.dosing_blockers())
    r.confirm_checklist_item(staff["therapist"], sid, "escort")  # ticked again later: a new entry
    assert "escort" in r.record(staff["medical"], sid).checklist_confirmed


def test_no_withdrawal_after_the_dose(services: Services, staff, clock: FakeClock) -> None:
    sid = checklist_done(services, staff, clock)
    services.records.record_administration(staff["medical"], sid, drug="Ketamine", route="sublingual", dose=200,
                                           unit="mg", ordered_by=staff["supervisor"].staff_id)
    with pytest.raises(IllegalTransition):
        services.records.withdraw_checklist_item(staff["medical"], sid, "escort", reason="x")
