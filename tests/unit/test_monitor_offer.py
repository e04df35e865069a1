"""When a device value is suspect, what the vitals row is offered, and the alerts the stream raises."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from kapconsole.domain.monitor.codes import DeviceMeasure
from kapconsole.domain.monitor.offer import build_offer, stream_alerts
from kapconsole.domain.monitor.suspect import jump_reason, range_reason, suspect_reason
from kapconsole.domain.monitor.values import DeviceReading
from kapconsole.domain.protocol import ProtocolSettings

NOW = datetime(2026, 11, 29, 10, 0, tzinfo=UTC)
PLAUSIBLE = ProtocolSettings().plausible


def reading(rid: int, measure: DeviceMeasure, value: float, *, ago: float = 1, suspect: str = "") -> DeviceReading:
    at = NOW - timedelta(seconds=ago)
    return DeviceReading(rid, 1, 7, "Bed 1", 3, "Room 1", measure, "x", "MDC", value, f"{value:g}", "u", "F", (),
                         at, at, "", suspect)


def test_jumps_are_judged_per_minute_with_a_floor() -> None:
    assert jump_reason(DeviceMeasure.HR, 80, NOW, (74, NOW - timedelta(seconds=1))) == ""
    assert "jumped +45" in jump_reason(DeviceMeasure.HR, 120, NOW, (75, NOW - timedelta(seconds=1)))
    # Over ten minutes a rise of 45 /min is physiology, not an artefact.
    assert jump_reason(DeviceMeasure.HR, 120, NOW, (75, NOW - timedelta(minutes=10))) == ""
    assert "jumped -16" in jump_reason(DeviceMeasure.SPO2, 81, NOW, (97, NOW - timedelta(seconds=2)))
    assert jump_reason(DeviceMeasure.SPO2, 81, NOW, None) == ""


def test_range_and_flags() -> None:
    assert "outside the plausible range 40–300" in range_reason(DeviceMeasure.SBP, 320, PLAUSIBLE)
    assert range_reason(DeviceMeasure.SBP, 140, PLAUSIBLE) == ""
    assert "outside" in range_reason(DeviceMeasure.ETCO2, 140, PLAUSIBLE)
    both = suspect_reason(DeviceMeasure.SPO2, 40, NOW, ("questionable",), PLAUSIBLE, (97, NOW))
    assert both.startswith("signal flagged questionable; SpO2 40 % outside") and "jumped" in both


def test_offer_prefers_ecg_rate_pairs_blood_pressure_and_skips_stale_or_reviewed() -> None:
    latest = {
        DeviceMeasure.SBP: reading(1, DeviceMeasure.SBP, 138, ago=200),
        DeviceMeasure.DBP: reading(2, DeviceMeasure.DBP, 86, ago=200),
        DeviceMeasure.HR: reading(3, DeviceMeasure.HR, 80),
        DeviceMeasure.PULSE: reading(4, DeviceMeasure.PULSE, 79),
        DeviceMeasure.SPO2: reading(5, DeviceMeasure.SPO2, 97, ago=400),  # a numeric 6 minutes old: stale
        DeviceMeasure.TEMP: reading(6, DeviceMeasure.TEMP, 36.9, ago=600),
    }
    offer = build_offer(3, latest, NOW)
    assert offer is not None
    assert {k: (v.value, v.reading_id) for k, v in offer.values.items()} == {
        "sbp": (138, 1), "dbp": (86, 2), "hr": (80, 3), "temp": (36.9, 6)}
    assert offer.device_time == NOW - timedelta(seconds=1)
    # The ECG rate was already confirmed: the oximeter's pulse is offered instead; a lone systolic is not.
    offer = build_offer(3, latest, NOW, reviewed=[3, 2])
    assert offer is not None and offer.values["hr"].source_measure is DeviceMeasure.PULSE
    assert "sbp" not in offer.values and "dbp" not in offer.values
    assert build_offer(3, {DeviceMeasure.SPO2: latest[DeviceMeasure.SPO2]}, NOW) is None


def test_stream_alerts_say_unconfirmed() -> None:
    protocol = ProtocolSettings()
    offer = build_offer(3, {DeviceMeasure.SBP: reading(1, DeviceMeasure.SBP, 184),
                            DeviceMeasure.DBP: reading(2, DeviceMeasure.DBP, 96),
                            DeviceMeasure.SPO2: reading(3, DeviceMeasure.SPO2, 88, suspect="signal flagged x")}, NOW)
    alerts = stream_alerts(offer, {"sbp": 120, "dbp": 80}, protocol)
    assert [a.measure for a in alerts] == ["sbp", "spo2"]
    assert all(a.text.endswith("(device, unconfirmed)") for a in alerts)
    assert stream_alerts(None, None, protocol) == []
