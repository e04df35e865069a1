"""From the latest device readings to the vitals row a nurse is offered, and the alerts the stream raises."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta
from typing import Any

from kapconsole.domain import alerts as alert_rules
from kapconsole.domain.monitor.codes import DeviceMeasure
from kapconsole.domain.monitor.values import DeviceOffer, DeviceReading, OfferedValue, StreamAlert
from kapconsole.domain.protocol import ProtocolSettings

#: How old a value may be and still be offered: the cuff measures every few minutes, numerics every second.
FRESH = {
    DeviceMeasure.SBP: timedelta(minutes=15), DeviceMeasure.DBP: timedelta(minutes=15),
    DeviceMeasure.TEMP: timedelta(minutes=30),
}
FRESH_NUMERIC = timedelta(minutes=2)
#: Which device measures fill each vitals field, best first (ECG heart rate before the oximeter's pulse).
SOURCES: dict[str, tuple[DeviceMeasure, ...]] = {
    "sbp": (DeviceMeasure.SBP,), "dbp": (DeviceMeasure.DBP,), "hr": (DeviceMeasure.HR, DeviceMeasure.PULSE),
    "spo2": (DeviceMeasure.SPO2,), "rr": (DeviceMeasure.RR,), "temp": (DeviceMeasure.TEMP,),
}


def build_offer(session_id: int, latest: Mapping[DeviceMeasure, DeviceReading], now: datetime,
                reviewed: Iterable[int] = ()) -> DeviceOffer | None:
    """The vitals row filled from ``latest`` (the newest usable reading per measure); None if nothing is fresh.

    A reading already confirmed or rejected is not offered again; blood pressure is offered only as a pair
    from the same cuff cycle.
    """
    done = set(reviewed)
    values: dict[str, OfferedValue] = {}
    for key, measures in SOURCES.items():
        for measure in measures:
            reading = latest.get(measure)
            if reading is None or reading.value is None or reading.id in done:
                continue
            if now - reading.received_at > FRESH.get(measure, FRESH_NUMERIC):
                continue
            values[key] = OfferedValue(key, reading.value, reading.id, reading.device_time, measure, reading.suspect)
            break
    sbp, dbp = values.get("sbp"), values.get("dbp")
    if (sbp is None) != (dbp is None) or (sbp and dbp and abs((sbp.device_time - dbp.device_time).total_seconds()) > 60):
        values.pop("sbp", None)
        values.pop("dbp", None)
    if not values:
        return None
    newest = max(values.values(), key=lambda v: v.device_time)
    first = next(iter(latest.values()))
    return DeviceOffer(session_id, first.device_id, first.device_name, newest.device_time, values)


def stream_alerts(offer: DeviceOffer | None, baseline: Mapping[str, Any] | None,
                  protocol: ProtocolSettings) -> list[StreamAlert]:
    """Alerts the unconfirmed device values raise, by the session's own alert rules."""
    if offer is None:
        return []
    reading = {k: v.value for k, v in offer.values.items()}
    ids = {k: v.reading_id for k, v in offer.values.items()}
    return [StreamAlert(a.measure, a.value, a.message, ids[a.measure])
            for a in alert_rules.session_alerts(reading, baseline, protocol)]
