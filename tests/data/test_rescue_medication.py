"""Rescue and adjunct medications through the record service, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import timedelta

import pytest

from kapconsole.domain.enums import Disposition, EntryKind, SessionState
from kapconsole.domain.errors import IllegalTransition, NotFound, PermissionDenied, ValidationError
from kapconsole.domain.rescue import AboveFormularyMaximum
from kapconsole.services import Services
from tests.conftest import FakeClock
from tests.data.helpers import dosed, in_checklist


def test_rescue_medication_is_an_administration_linked_to_its_side_effect(services: Services, staff,
                                                                          clock: FakeClock) -> None:
    sid = dosed(services, staff, clock)
    clock.advance(minutes=20)
    nausea = services.records.record_side_effect(staff["medical"], sid, "nausea", "moderate")
    clock.advance(minutes=3)
    given = services.records.record_rescue_medication(
        staff["medical"], sid, drug="Ondansetron", dose="4", route="odt", reason="nausea after dose",
        ordered_by=staff["supervisor"].staff_id, side_effect=nausea.id, observed_at=clock.now - timedelta(minutes=1))
    rec = services.records.record(staff["therapist"], sid)
    assert given.kind is EntryKind.RESCUE_MEDICATION and given.observed_at == clock.now - timedelta(minutes=1)
    (med,) = rec.rescue_values()
    assert (med.drug, med.dose, med.unit, med.route.value) == ("Ondansetron", 4.0, "mg", "odt")
    assert (med.ordered_by_name, med.given_by_name) == ("Dr Sam Supervisor", "Nina Nurse")
    assert [c.id for c in rec.treatments_of(nausea.id)] == [given.id]
    assert rec.administrations and len(rec.administrations) == 1  # not a ketamine dose
    assert services.integrity.verify(sid).ok


def test_premedication_before_the_dose_does_not_start_monitoring(services: Services, staff, clock: FakeClock) -> None:
    sid = in_checklist(services, staff, clock)
    services.records.record_rescue_medication(staff["supervisor"], sid, drug="ondansetron", dose=4, route="odt",
                                              reason="prophylaxis, history of nausea",
                                              ordered_by=staff["supervisor"].staff_id)
    assert services.clinic.session(sid).state is SessionState.CHECKLIST
    assert services.records.record(staff["medical"], sid).dosing_blockers()  # the gate is not opened by it


def test_who_may_order_and_give(services: Services, staff, clock: FakeClock) -> None:
    sid = dosed(services, staff, clock)
    base = dict(drug="labetalol", dose=10, route="iv", reason="SBP 186")
    with pytest.raises(PermissionDenied, match="order medication"):
        services.records.record_rescue_medication(staff["medical"], sid, ordered_by=staff["medical"].staff_id, **base)
    with pytest.raises(PermissionDenied, match="give medication"):
        services.records.record_rescue_medication(staff["therapist"], sid, ordered_by=staff["supervisor"].staff_id,
                                                  **base)
    with pytest.raises(PermissionDenied, match="give medication"):
        services.records.record_rescue_medication(staff["medical"], sid, ordered_by=staff["supervisor"].staff_id,
                                                  given_by=staff["therapist"].staff_id, **base)
    with pytest.raises(ValidationError, match="ordered by"):
        services.records.record_rescue_medication(staff["medical"], sid, ordered_by=999999, **base)
    with pytest.raises(NotFound, match="side effect"):
        services.records.record_rescue_medication(staff["medical"], sid, ordered_by=staff["supervisor"].staff_id,
                                                  side_effect=999999, **base)


def test_session_maximum_counts_earlier_doses_and_reason_is_kept(services: Services, staff,
                                                                 clock: FakeClock) -> None:
    sid = dosed(services, staff, clock)
    order = dict(drug="midazolam", route="iv", reason="emergence agitation", ordered_by=staff["supervisor"].staff_id)
    services.records.record_rescue_medication(staff["medical"], sid, dose=2, **order)
    clock.advance(minutes=5)
    services.records.record_rescue_medication(staff["medical"], sid, dose=2, **order)
    with pytest.raises(AboveFormularyMaximum, match="4 mg already given"):
        services.records.record_rescue_medication(staff["medical"], sid, dose=2, **order)
    e = services.records.record_rescue_medication(staff["medical"], sid, dose=2, over_max_reason="still agitated",
                                                  **order)
    assert e.payload["over_max_reason"] == "still agitated"


def test_closed_session_refuses_and_amendment_corrects(services: Services, staff, clock: FakeClock) -> None:
    sid = dosed(services, staff, clock)
    e = services.records.record_rescue_medication(staff["medical"], sid, drug="oxygen", dose=2,
                                                  route="nasal_cannula", reason="SpO2 91",
                                                  ordered_by=staff["supervisor"].staff_id)
    services.records.amend(staff["medical"], sid, e.id, reason="flow was 3", content={"dose": 3})
    assert services.records.record(staff["medical"], sid).rescue_values()[0].dose == 3
    with pytest.raises(ValidationError, match="route"):
        services.records.amend(staff["medical"], sid, e.id, reason="x", content={"route": "iv"})
    services.records.end_early(staff["supervisor"], sid, "client_request", "asked to go",
                               disposition=list(Disposition)[0])
    with pytest.raises(IllegalTransition, match="amendments"):
        services.records.record_rescue_medication(staff["medical"], sid, drug="oxygen", dose=2,
                                                  route="nasal_cannula", reason="x",
                                                  ordered_by=staff["supervisor"].staff_id)


def test_back_timing_every_entry_kind(services: Services, staff, clock: FakeClock) -> None:
    """Every charting method takes a clinical time: back in time yes, future or before the start no."""
    sid = dosed(services, staff, clock)
    started = services.clinic.session(sid).started_at
    assert started is not None
    clock.advance(minutes=40)
    r, m = services.records, staff["medical"]
    effect = r.record_side_effect(m, sid, "nausea", "mild", observed_at=clock.now - timedelta(minutes=30))
    calls = {
        "vitals": lambda at: r.record_vitals(m, sid, {"hr": 80}, observed_at=at),
        "observation": lambda at: r.record_observation(m, sid, "calm", observed_at=at),
        "side effect": lambda at: r.record_side_effect(m, sid, "headache", "mild", observed_at=at),
        "scale": lambda at: r.record_scale(m, sid, "moaas", 5, observed_at=at),
        "rescue": lambda at: r.record_rescue_medication(m, sid, drug="oxygen", dose=2, route="nasal_cannula",
                                                        reason="r", ordered_by=staff["supervisor"].staff_id,
                                                        observed_at=at),
        "resolution": lambda at: r.resolve_side_effect(m, sid, effect.id, observed_at=at),
    }
    for name, call in calls.items():
        for bad in (clock.now + timedelta(minutes=10), started - timedelta(minutes=1)):
            with pytest.raises(ValidationError, match="observed at"):
                call(bad)
        back = clock.now - timedelta(minutes=25)
        entry = call(back)
        assert entry.observed_at == back and entry.entered_at == clock.now, name
    rec = services.records.record(m, sid)
    late = [e for e in rec.entries if rec.late_by(e)]
    assert len(late) == len(calls) + 1  # every back-timed entry above (and the side effect) shows as late
    assert all(rec.late_by(e) is None for e in rec.entries if e.observed_at == e.entered_at)
