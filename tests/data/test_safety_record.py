"""Record and alarms: amendments by role, alerts raised again, schedule per measure, the clock, alert episodes."""

from __future__ import annotations

from datetime import timedelta

import pytest

from kapconsole.domain.errors import ClockBehind, PermissionDenied
from kapconsole.domain.values import Actor
from kapconsole.services import Services
from kapconsole.services.board import BoardService
from tests.conftest import FakeClock
from tests.data.helpers import BASELINE
from tests.data.test_safety_dosing import give, prepared


def dosed(services: Services, staff: dict[str, Actor], clock: FakeClock, **kw: object) -> int:
    sid = prepared(services, staff, **kw)  # type: ignore[arg-type]
    clock.advance(minutes=2)
    give(services, staff, sid)
    return sid


def test_amendments_follow_the_roles_of_what_they_amend(services: Services, staff, clock: FakeClock) -> None:
    nurse, theo = staff["medical"], staff["therapist"]
    sid = prepared(services, staff, dose=400, checklist=False)
    with pytest.raises(PermissionDenied, match="No uncontrolled hypertension"):
        services.records.confirm_checklist_item(theo, sid, "ci_cardiac")
    services.records.confirm_checklist_item(theo, sid, "identity")  # a preparation item is the therapist's
    for item in services.records.record(nurse, sid).protocol.checklist:
        services.records.confirm_checklist_item(nurse, sid, item.key)
    checklist = services.records.record(nurse, sid).checklist_confirmed["ci_cardiac"]
    clock.advance(minutes=2)
    dose = give(services, staff, sid)
    clock.advance(minutes=30)
    booster = give(services, staff, sid, dose=200)
    effect = services.records.record_side_effect(nurse, sid, "vomiting", "severe")
    reading = services.records.record_vitals(nurse, sid, {**BASELINE, "sbp": 185, "dbp": 95})
    ack = services.records.acknowledge_alert(nurse, sid, reading.id, ["sbp"], note="rechecking")
    for target, content in ((booster.id, {"dose": 20}), (booster.id, None), (effect.id, {"severity": "mild"}),
                            (ack.id, None), (reading.id, {"sbp": 130, "dbp": 80}), (dose.id, {"dose": 100}),
                            (checklist.id, {"answer": "no"})):
        with pytest.raises(PermissionDenied):
            services.records.amend(theo, sid, target, reason="correction", content=content)
    services.records.amend(nurse, sid, effect.id, reason="reassessed by nurse", content={"severity": "moderate"})
    record = services.records.record(nurse, sid)
    assert len(record.administrations) == 2 and record.administrations[1].payload["dose"] == 200


def test_an_amendment_to_a_worse_value_raises_the_alert_again(services: Services, staff, clock: FakeClock) -> None:
    nurse = staff["medical"]
    sid = dosed(services, staff, clock)
    clock.advance(minutes=15)
    reading = services.records.record_vitals(nurse, sid, {**BASELINE, "sbp": 185, "dbp": 95})
    services.records.acknowledge_alert(nurse, sid, reading.id, ["sbp"])
    assert not services.records.record(nurse, sid).unacknowledged_alerts()
    services.records.amend(nurse, sid, reading.id, reason="transcribed wrong", content={**BASELINE, "sbp": 250,
                                                                                        "dbp": 95})
    pending = services.records.record(nurse, sid).unacknowledged_alerts()
    assert [(r.id, a.measure, a.value) for r, a in pending] == [(reading.id, "sbp", 250)]
    # An amendment to a better value needs nothing more.
    services.records.acknowledge_alert(nurse, sid, reading.id, ["sbp"])
    services.records.amend(nurse, sid, reading.id, reason="re-read", content={**BASELINE, "sbp": 182, "dbp": 95})
    assert not services.records.record(nurse, sid).unacknowledged_alerts()


def test_partial_readings_do_not_reset_the_other_measures(services: Services, staff, clock: FakeClock) -> None:
    nurse = staff["medical"]
    sid = dosed(services, staff, clock)
    dosed_at = services.records.record(nurse, sid).first_dose_at
    assert dosed_at is not None
    for _ in range(10):
        clock.advance(minutes=14)
        services.records.record_vitals(nurse, sid, {"spo2": 97})
    record = services.records.record(nurse, sid)
    due = record.vitals_due_by_measure()
    assert due["sbp"] == dosed_at + timedelta(minutes=15) < clock.now
    assert due["spo2"] > clock.now
    assert record.next_vitals_due() == due["sbp"]
    row = BoardService(services.db, clock).rows(staff["supervisor"])[0]
    assert row.vitals_overdue and row.overdue_measures == ["hr", "rr", "sbp"]


def test_the_schedule_restarts_from_the_last_dose(services: Services, staff, clock: FakeClock) -> None:
    nurse = staff["medical"]
    sid = dosed(services, staff, clock, dose=400)
    full = {**BASELINE}
    clock.advance(minutes=90)
    services.records.record_vitals(nurse, sid, full)
    assert services.records.record(nurse, sid).next_vitals_due() == clock.now + timedelta(minutes=30)
    clock.advance(minutes=10)
    give(services, staff, sid, dose=200)  # booster at +100
    assert services.records.record(nurse, sid).next_vitals_due() == clock.now + timedelta(minutes=15)
    # A 40-minute infusion: 5-minute checks during it, then 15-minute checks for an hour from its end.
    iv = prepared(services, staff, route="iv", dose=0.5, unit="mg/kg")
    clock.advance(minutes=2)
    start = clock.now
    dose = give(services, staff, iv, route="iv", dose=0.5, unit="mg/kg")
    clock.advance(minutes=40)
    services.records.end_infusion(nurse, iv, dose.id)
    clock.advance(minutes=30)
    services.records.record_vitals(nurse, iv, full)  # +70: 30 min after the infusion ended
    assert services.records.record(nurse, iv).next_vitals_due() == start + timedelta(minutes=85)


def test_a_clock_going_backwards_is_refused(services: Services, staff, clock: FakeClock) -> None:
    nurse = staff["medical"]
    sid = dosed(services, staff, clock)
    dose_at = services.records.record(nurse, sid).first_dose_at
    assert dose_at is not None
    clock.now = clock.now - timedelta(minutes=10)  # the workstation's clock steps back
    with pytest.raises(ClockBehind, match="behind the session's latest entry"):
        services.records.record_vitals(nurse, sid, {**BASELINE, "sbp": 170})
    record = services.records.record(nurse, sid)
    assert all(e.entered_at <= record.entries[-1].entered_at for e in record.entries)
    clock.now = clock.now + timedelta(minutes=11)
    services.records.record_vitals(nurse, sid, {**BASELINE, "sbp": 170})
    assert [a.measure for _r, a in services.records.record(nurse, sid).unacknowledged_alerts()] == ["sbp"]


def test_temperature_keeps_its_typed_precision(services: Services, staff, clock: FakeClock) -> None:
    nurse = staff["medical"]
    sid = dosed(services, staff, clock)
    clock.advance(minutes=5)
    reading = services.records.record_vitals(nurse, sid, {"temp": 38.05})
    assert reading.payload["temp"] == 38.05
    assert [a.measure for _r, a in services.records.record(nurse, sid).unacknowledged_alerts()] == ["temp"]


def test_a_persistent_alert_is_one_episode_acknowledged_once_and_escalates(services: Services, staff,
                                                                             clock: FakeClock) -> None:
    nurse, sup = staff["medical"], staff["supervisor"]
    board = BoardService(services.db, clock)
    sid = dosed(services, staff, clock)
    ids = []
    for sbp in (182, 190, 186, 195, 188, 184):
        clock.advance(minutes=5)
        ids.append(services.records.record_vitals(nurse, sid, {**BASELINE, "sbp": sbp, "dbp": 95}).id)
    record = services.records.record(nurse, sid)
    (episode,) = record.alert_episodes
    assert (episode.measure, episode.worst, episode.readings, episode.ended_at) == ("sbp", 195, 6, None)
    assert episode.duration(clock.now) == timedelta(minutes=25)
    row = board.rows(sup)[0]
    assert row.unacknowledged_alerts == 1 and row.escalated and row.alert_age == timedelta(minutes=25)
    services.records.acknowledge_alert(nurse, sid, ids[2], ["sbp"], note="physician aware; labetalol considered")
    record = services.records.record(nurse, sid)
    assert record.alert_episodes[0].acknowledged and record.alert_episodes[0].ack_note.startswith("physician")
    assert board.rows(sup)[0].unacknowledged_alerts == 0 and not board.rows(sup)[0].escalated
    clock.advance(minutes=5)
    services.records.record_vitals(nurse, sid, {**BASELINE, "sbp": 130, "dbp": 85})  # the episode ends
    clock.advance(minutes=5)
    services.records.record_vitals(nurse, sid, {**BASELINE, "sbp": 183, "dbp": 95})  # a new one begins
    episodes = services.records.record(nurse, sid).alert_episodes
    assert [(e.worst, e.acknowledged) for e in episodes] == [(195, True), (183, False)]
    assert episodes[0].ended_at is not None
