"""Device table, ingest (placement, duplicates, unassigned), the stream, confirm/reject, digests: both databases."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import text

from kapconsole.domain.enums import EntryKind
from kapconsole.domain.errors import IllegalTransition, PermissionDenied, ValidationError
from kapconsole.domain.monitor.codes import DeviceMeasure
from kapconsole.domain.monitor.offer import stream_alerts
from kapconsole.domain.values import Actor
from kapconsole.services import Services
from kapconsole.services.monitor.ingest import MonitorIngest
from tests.conftest import FakeClock
from tests.data.helpers import dosed


def hl7_time(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y%m%d%H%M%S+0000")


def oru(control_id: str, at: datetime, *, sbp: int | None = None, dbp: int | None = None, hr: int = 72,
        spo2: int = 98, spo2_flag: str = "", equipment: str = "EQ-ROOM1", sender: str = "MON") -> bytes:
    """An IHE PCD-01 style message as a monitor would send it."""
    t = hl7_time(at)
    lines = [f"MSH|^~\\&|{sender}|KAP|KAPCONSOLE||{t}||ORU^R01^ORU_R01|{control_id}|P|2.6",
             "PID|||KAP-1", f"OBR|1|||182777000^monitoring of patient^SCT|||{t}"]
    obx = [("147842^MDC_ECG_HEART_RATE^MDC", hr, "264864^MDC_DIM_BEAT_PER_MIN^MDC", ""),
           ("150456^MDC_PULS_OXIM_SAT_O2^MDC", spo2, "262688^MDC_DIM_PERCENT^MDC", spo2_flag)]
    if sbp is not None and dbp is not None:
        obx += [("150021^MDC_PRESS_BLD_NONINV_SYS^MDC", sbp, "266016^MDC_DIM_MMHG^MDC", ""),
                ("150022^MDC_PRESS_BLD_NONINV_DIA^MDC", dbp, "266016^MDC_DIM_MMHG^MDC", "")]
    for i, (code, value, unit, flag) in enumerate(obx, start=1):
        lines.append(f"OBX|{i}|NM|{code}|1.1.{i}|{value}|{unit}||{flag}|||F|||{t}||||{equipment}^EUI-64")
    return "\r".join(lines).encode()


@pytest.fixture
def room(services: Services, staff: dict[str, Actor], clock: FakeClock) -> int:
    services.monitor.add_device(staff["administrator"], name="Bed 1 monitor", room="Room 1",
                                identity_kind="equipment", identity="EQ-ROOM1", clock_offset_threshold=30)
    return dosed(services, staff, clock)


def test_device_table_is_for_administrators(services: Services, staff: dict[str, Actor]) -> None:
    with pytest.raises(PermissionDenied):
        services.monitor.add_device(staff["medical"], name="X", room="Room 1", identity_kind="bed", identity="B")
    admin = staff["administrator"]
    services.monitor.add_device(admin, name="Gateway", room="Room 3", identity_kind="sender", identity="GW^KAP",
                                timezone="Europe/Berlin")
    with pytest.raises(ValidationError, match="no other device"):
        services.monitor.add_device(admin, name="Gateway 2", room="Room 4", identity_kind="sender",
                                    identity="gw^kap")
    with pytest.raises(ValidationError, match="time zone"):
        services.monitor.add_device(admin, name="Y", room="Room 4", identity_kind="bed", identity="B",
                                    timezone="Mars/Olympus")
    assert [d.name for d in services.monitor.devices()] == ["Gateway"]
    services.monitor.remove_device(admin, "Gateway")
    assert services.monitor.devices() == []


def test_ingest_places_stream_on_the_rooms_session_and_skips_duplicates(
        services: Services, staff: dict[str, Actor], clock: FakeClock, room: int) -> None:
    ingest = MonitorIngest(services.db, clock)
    result, ack = ingest.ingest(oru("M1", clock.now, sbp=131, dbp=84), "127.0.0.1:5000")
    assert result.ack_code == "AA" and result.session_id == room and result.stored_readings == 4
    assert b"MSA|AA|M1" in ack
    again, ack2 = ingest.ingest(oru("M1", clock.now, sbp=131, dbp=84), "127.0.0.1:5000")
    assert again.duplicate and again.stored_readings == 0 and b"MSA|AA|M1" in ack2
    # Same readings re-sent under a new control id: the message is kept, the readings are not stored twice.
    content_dup, _ = ingest.ingest(oru("M1-resent", clock.now, sbp=131, dbp=84))
    assert content_dup.ack_code == "AA" and content_dup.stored_readings == 0
    stream = services.monitor.stream(staff["medical"], room)
    assert sorted((r.measure, r.value) for r in stream) == [
        (DeviceMeasure.DBP, 84), (DeviceMeasure.HR, 72), (DeviceMeasure.SBP, 131), (DeviceMeasure.SPO2, 98)]
    assert services.monitor.stream(staff["medical"], room, after_id=max(r.id for r in stream)) == []
    (status,) = services.monitor.statuses()
    assert status.connected and status.room == "Room 1" and abs(status.clock_offset or 0) < 1


def test_unbound_device_and_room_without_session_are_unassigned(
        services: Services, staff: dict[str, Actor], clock: FakeClock, room: int) -> None:
    ingest = MonitorIngest(services.db, clock)
    stranger, _ = ingest.ingest(oru("S1", clock.now, equipment="UNKNOWN-EQ", sender="OTHER"))
    assert stranger.ack_code == "AA" and stranger.session_id is None and "no registered device" in stranger.reason
    services.monitor.add_device(staff["administrator"], name="Room 2 monitor", room="Room 2",
                                identity_kind="equipment", identity="EQ-ROOM2")
    empty_room, _ = ingest.ingest(oru("S2", clock.now, equipment="EQ-ROOM2"))
    assert empty_room.session_id is None and "no session under way in Room 2" in empty_room.reason
    listed = services.monitor.unassigned(staff["supervisor"])
    assert [u.id for u in listed] == [empty_room.message_id, stranger.message_id]
    assert listed[0].device_name == "Room 2 monitor" and listed[1].device_name == ""
    with pytest.raises(PermissionDenied):
        services.monitor.unassigned(staff["medical"])
    # Nothing of either reached the session in Room 1.
    assert all(r.message_id not in (stranger.message_id, empty_room.message_id)
               for r in services.monitor.stream(staff["medical"], room))


def test_confirmed_reading_becomes_a_device_vitals_entry(
        services: Services, staff: dict[str, Actor], clock: FakeClock, room: int) -> None:
    ingest = MonitorIngest(services.db, clock)
    clock.advance(minutes=20)
    ingest.ingest(oru("C1", clock.now - timedelta(seconds=3), sbp=138, dbp=86, hr=80))
    nurse = staff["medical"]
    offer = services.monitor.offer(nurse, room)
    assert offer is not None and {k: v.value for k, v in offer.values.items()} == {
        "sbp": 138, "dbp": 86, "hr": 80, "spo2": 98}
    assert offer.device_name == "Bed 1 monitor"
    before = services.records.record(nurse, room).next_vitals_due()
    entry = services.monitor.confirm(nurse, room, offer)
    assert entry.kind is EntryKind.VITALS and entry.payload["source"] == "device"
    assert entry.payload["confirmed_by"] == nurse.staff_id and entry.author_id == nurse.staff_id
    assert entry.payload["device"]["name"] == "Bed 1 monitor"
    assert entry.observed_at == (clock.now - timedelta(seconds=3)).replace(microsecond=0)
    record = services.records.record(nurse, room)
    assert record.latest_vitals is not None and record.latest_vitals.id == entry.id
    # The reminder is satisfied for each measure the reading holds; RR (not in it) stays due on its own.
    dues = record.vitals_due_by_measure()
    assert before is not None and all(dues[m] > before for m in ("sbp", "hr", "spo2")) and dues["rr"] == before
    assert services.monitor.offer(nurse, room) is None  # confirmed readings are not offered again
    with pytest.raises(IllegalTransition):
        services.monitor.confirm(nurse, room, offer)


def test_suspect_value_is_never_confirmed_silently_and_artefacts_are_rejected_with_a_reason(
        services: Services, staff: dict[str, Actor], clock: FakeClock, room: int) -> None:
    ingest = MonitorIngest(services.db, clock)
    nurse = staff["medical"]
    ingest.ingest(oru("J1", clock.now, hr=74, spo2=97))
    clock.advance(seconds=2)
    ingest.ingest(oru("J2", clock.now, hr=74, spo2=81, spo2_flag="questionable"))
    offer = services.monitor.offer(nurse, room)
    assert offer is not None
    assert "questionable" in offer.values["spo2"].suspect and "jumped -16" in offer.values["spo2"].suspect
    with pytest.raises(ValidationError, match="suspect"):
        services.monitor.confirm(nurse, room, offer)
    alerts = stream_alerts(offer, None, services.records.record(nurse, room).protocol)
    assert [a.measure for a in alerts] == ["spo2"] and alerts[0].text.endswith("(device, unconfirmed)")
    entry = services.monitor.reject(nurse, room, [offer.values["spo2"].reading_id], "probe slipped off finger")
    assert entry.kind is EntryKind.OBSERVATION
    assert "rejected as artefact: SpO2 81 262688" in entry.payload["text"]
    assert "probe slipped off finger" in entry.payload["text"]
    offer2 = services.monitor.offer(nurse, room)
    assert offer2 is not None and "spo2" not in offer2.values and offer2.values["hr"].value == 74
    with pytest.raises(ValidationError, match="reason"):
        services.monitor.reject(nurse, room, [offer2.values["hr"].reading_id], "  ")
    # Edited value: the suspect check applies to what the device said, not to what the nurse typed.
    clock.advance(seconds=2)
    ingest.ingest(oru("J3", clock.now, hr=74, spo2=80, spo2_flag="questionable"))
    offer3 = services.monitor.offer(nurse, room)
    assert offer3 is not None
    entry = services.monitor.confirm(nurse, room, offer3, values={"hr": 74, "spo2": 96})
    assert entry.payload["spo2"] == 96 and entry.payload["device"]["edited"] == ["spo2"]


def test_digests_chain_the_stream_and_verify_finds_tampering(
        services: Services, staff: dict[str, Actor], clock: FakeClock, room: int) -> None:
    ingest = MonitorIngest(services.db, clock)
    for i in range(5):
        ingest.ingest(oru(f"D{i}", clock.now, hr=70 + i))
        clock.advance(seconds=1)
    assert services.monitor.seal() == 0  # too fresh: a slower transaction could still commit a lower id
    clock.advance(seconds=30)
    assert services.monitor.seal() == 10
    ingest.ingest(oru("D9", clock.now, hr=77))
    clock.advance(seconds=30)
    assert services.monitor.seal() == 2
    result = services.monitor.verify()
    assert result.ok and result.digests == 2 and result.readings == 12 and result.undigested == 0
    with services.db.write() as s:
        s.execute(text("UPDATE monitor_readings SET value_text = '99' WHERE id = "
                       "(SELECT min(id) FROM monitor_readings)"))
    tampered = services.monitor.verify()
    assert not tampered.ok and "no longer match" in tampered.problems[0].message
    with services.db.write() as s:
        s.execute(text("DELETE FROM monitor_readings WHERE id = (SELECT max(id) FROM monitor_readings)"))
    assert any("missing or added" in p.message for p in services.monitor.verify().problems)


def test_rejected_and_failed_messages_get_reasons(services: Services, clock: FakeClock,
                                                  staff: dict[str, Actor]) -> None:
    ingest = MonitorIngest(services.db, clock)
    result, ack = ingest.ingest(b"\x00\x01 not hl7 at all")
    assert result.ack_code == "AR" and b"MSA|AR||not an HL7 v2 message" in ack
    result, ack = ingest.ingest(b"MSH|^~\\&|MON|KAP|||20261129||ADT^A01|Q1|P|2.5\rPID|||1")
    assert result.ack_code == "AR" and b"MSA|AR|Q1|" in ack
    hostile = "MSH|^~\\&|MÖN\x00|Клиника|||20261129101500||ORU^R01|Ü1|P|2.6\rOBX|1|NM|9279-1^^LN||1\x002|/min|||||F"
    result, _ = ingest.ingest(hostile.encode("utf-8"))
    assert result.ack_code == "AA" and result.stored_readings == 1


def test_unknown_codes_and_units_are_kept_and_reported(services: Services, staff: dict[str, Actor],
                                                        clock: FakeClock, room: int) -> None:
    message = ("MSH|^~\\&|MON|KAP|||20261129101500+0000||ORU^R01|U1|P|2.6\r"
               "OBX|1|NM|188736^MDC_MASS_BODY_ACTUAL^MDC||70|kg|||||F|||||||EQ-ROOM1^EUI-64\r"
               "OBX|2|NM|150456^MDC_PULS_OXIM_SAT_O2^MDC||0.97|ratio|||||F|||||||EQ-ROOM1^EUI-64\r"
               "OBX|3|NM|147842^MDC_ECG_HEART_RATE^MDC||71|/min|||||F|||||||EQ-ROOM1^EUI-64")
    result, _ = MonitorIngest(services.db, clock).ingest(message.encode())
    assert result.ack_code == "AA" and result.stored_readings == 3 and result.unusable_readings == 2
    assert result.problems == ("unknown observation code 188736^MDC_MASS_BODY_ACTUAL^MDC",
                               "unknown unit 'ratio' for SpO2")
    stream = services.monitor.stream(staff["medical"], room)
    kept = {r.code: (r.value, r.value_text, r.unit, r.problem != "") for r in stream}
    assert kept == {"188736": (None, "70", "kg", True), "150456": (None, "0.97", "ratio", True),
                    "147842": (71, "71", "/min", False)}
