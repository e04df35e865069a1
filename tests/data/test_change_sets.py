"""A write returns what it appended; a console reads only the entries after the last one it holds."""

from __future__ import annotations

from datetime import timedelta

from kapconsole.domain.entries import Administration, StateChange
from kapconsole.domain.enums import EntryKind, SessionState
from kapconsole.domain.record import SessionRecord
from kapconsole.domain.values import Actor
from kapconsole.services import Services
from tests.conftest import FakeClock
from tests.data.helpers import checklist_done


def test_a_write_returns_what_it_appended(services: Services, staff: dict[str, Actor], clock: FakeClock) -> None:
    sid = checklist_done(services, staff, clock)
    clock.advance(minutes=2)
    dose = services.records.record_administration(staff["medical"], sid, drug="Ketamine", route="sublingual",
                                                  dose=200, unit="mg", lot="L1",
                                                  ordered_by=staff["supervisor"].staff_id)
    # The first dose moves the session to monitoring: the same unit of work appended the state change.
    assert [e.kind for e in dose.appended] == [EntryKind.ADMINISTRATION, EntryKind.STATE]
    stored = services.records.entries_after(None, sid, dose.seq - 1)
    assert [e.hash for e in stored] == [e.hash for e in dose.appended]
    assert stored[1].content.describe() == "Pre-session checklist → Dosing / monitoring: first dose recorded"
    clock.advance(minutes=1)
    reading = services.records.record_vitals(staff["medical"], sid, {"hr": 71})
    assert reading.appended == (reading,) and reading.seq == stored[-1].seq + 1
    assert services.records.entries_after(None, sid, reading.seq) == ()
    assert timedelta(0) <= reading.entered_at - reading.observed_at


def test_a_held_record_grows_by_the_entries_after_it(services: Services, staff: dict[str, Actor],
                                                     clock: FakeClock) -> None:
    sid = checklist_done(services, staff, clock)
    held = services.records.record(None, sid)
    before = held.last_seq
    clock.advance(minutes=2)
    services.records.record_administration(staff["medical"], sid, drug="Ketamine", route="sublingual", dose=200,
                                           unit="mg", lot="L1", ordered_by=staff["supervisor"].staff_id)
    clock.advance(minutes=20)
    reading = services.records.record_vitals(staff["medical"], sid, {"sbp": 190, "dbp": 100, "hr": 80})
    services.records.acknowledge_alert(staff["medical"], sid, reading.id, ["sbp"])
    assert held.unacknowledged_alerts() == []  # the held record knows nothing yet
    added = held.extend(services.records.entries_after(None, sid, before))
    assert [e.kind for e in added] == [EntryKind.ADMINISTRATION, EntryKind.STATE, EntryKind.VITALS,
                                       EntryKind.ALERT_ACK]
    fresh = services.records.record(None, sid)
    # Everything derived from the grown record is what a record read whole says.
    assert held.info.state is SessionState.MONITORING is fresh.info.state
    assert (held.info.chain_head, held.info.entry_count, held.info.version) == \
        (fresh.info.chain_head, fresh.info.entry_count, fresh.info.version)
    assert held.first_dose_at == fresh.first_dose_at and held.baseline_vitals == fresh.baseline_vitals
    assert [c.id for c in held.vitals] == [c.id for c in fresh.vitals]
    assert held.acknowledged == fresh.acknowledged and held.unacknowledged_alerts() == []
    assert isinstance(held.administrations[0].content, Administration)
    assert held.extend(()) == [] and held.extend(added) == []  # applying twice changes nothing
    gap = services.records.record_observation(staff["therapist"], sid, "quiet")
    services.records.record_observation(staff["therapist"], sid, "still quiet")
    later = services.records.entries_after(None, sid, gap.seq)
    try:
        held.extend(later)
    except ValueError:
        pass
    else:
        raise AssertionError("an entry missing in between must be refused")
    assert held.last_seq == fresh.last_seq
    moved = held.entries[before + 1].content
    assert isinstance(moved, StateChange) and moved.target is SessionState.MONITORING
    rebuilt = SessionRecord(fresh.info, fresh.entries)
    assert [c.id for c in rebuilt.vitals] == [c.id for c in held.vitals]
