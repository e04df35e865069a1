"""The session screen's bedside monitor: the live stream on the chart, the room's device state, stream alerts.

``DeviceStreamBinder`` connects a :class:`DeviceFeed` to the chart (a thin, unconfirmed stream), the vitals
row (the offer Ctrl+Shift+V fills in), the device state in the header, and a line of alerts the unconfirmed
values raise — shown at once, and saying they are unconfirmed.
"""

from __future__ import annotations

from datetime import datetime

from PySide6.QtCore import QObject, Qt
from PySide6.QtWidgets import QLabel

from kapconsole.domain.monitor.codes import DeviceMeasure
from kapconsole.domain.monitor.offer import stream_alerts
from kapconsole.domain.monitor.values import DeviceReading, DeviceStatus
from kapconsole.domain.record import SessionRecord
from kapconsole.ui.session.device_feed import DeviceFeed, FeedUpdate
from kapconsole.ui.session.quick_entry import VitalsEntry
from kapconsole.ui.session.vitals_chart import VitalsChart
from kapconsole.ui.widgets.actions import Act, key_text
from kapconsole.ui.widgets.theme import set_severity

#: Which stream measure draws which chart channel (the oximeter's pulse only when there is no ECG rate).
CHART_CHANNEL = {DeviceMeasure.SBP: "sbp", DeviceMeasure.DBP: "dbp", DeviceMeasure.HR: "hr",
                 DeviceMeasure.PULSE: "hr", DeviceMeasure.SPO2: "spo2", DeviceMeasure.RR: "rr"}


def age_text(seconds: float) -> str:
    if seconds < 90:
        return f"{seconds:.0f} s"
    if seconds < 5400:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"


def device_state_text(status: DeviceStatus | None, room: str, now: datetime) -> tuple[str, str]:
    """(text, severity) for a room's monitor: connected, last message age, clock offset."""
    if status is None:
        return f"Monitor: none registered for {room}", ""
    age = status.age_seconds(now)
    if age is None:
        return f"Monitor {status.device_name}: no message yet", "warning"
    clock = "" if status.clock_offset is None else f", clock {status.clock_offset:+.0f} s"
    if status.clock_off:
        clock += " — OFF: arrival times are used"
    if not status.connected:
        return f"Monitor {status.device_name}: NOT CONNECTED, last message {age_text(age)} ago{clock}", "warning"
    return (f"Monitor {status.device_name}: connected, last message {age_text(age)} ago{clock}",
            "warning" if status.clock_off else "")


class DeviceStreamBinder(QObject):
    def __init__(self, feed: DeviceFeed, chart: VitalsChart, vitals: VitalsEntry, state_label: QLabel,
                 alert_label: QLabel, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.feed = feed
        self.chart = chart
        self.vitals = vitals
        self.state_label = state_label
        self.alert_label = alert_label
        self.record: SessionRecord | None = None
        self.status: DeviceStatus | None = None
        self._has_ecg = False
        for label in (state_label, alert_label):
            label.setTextFormat(Qt.TextFormat.PlainText)
            label.setWordWrap(True)
        alert_label.hide()
        feed.updated.connect(self._on_update)

    def set_record(self, record: SessionRecord) -> None:
        first = self.record is None or self.record.info.id != record.info.id
        self.record = record
        if first:
            self.chart.clear_stream()
            self.vitals.set_offer(None)
            self._has_ecg = False
            self.status = None
            self.state_label.setText("")
        self.feed.open(record.info.id, record.info.room)
        self._render_alerts()

    def tick(self, now: datetime) -> None:
        if self.record is not None and self.status is not None:
            text, severity = device_state_text(self.status, self.record.info.room, now)
            self.state_label.setText(text)
            set_severity(self.state_label, severity)

    def _on_update(self, update: FeedUpdate) -> None:
        for reading in update.readings:
            self._plot(reading)
        if update.offer_checked:
            self.vitals.set_offer(update.offer)
            self._render_alerts()
        if update.status_checked and self.record is not None:
            self.status = update.status
            text, severity = device_state_text(update.status, self.record.info.room, update.now)
            self.state_label.setText(text)
            set_severity(self.state_label, severity)

    def _plot(self, reading: DeviceReading) -> None:
        if not reading.usable or reading.measure is None:
            return
        channel = CHART_CHANNEL.get(reading.measure)
        if channel is None:
            return
        if reading.measure is DeviceMeasure.HR:
            self._has_ecg = True
        elif reading.measure is DeviceMeasure.PULSE and self._has_ecg:
            return
        assert reading.value is not None
        self.chart.append_stream(reading.device_time, {channel: reading.value})

    def _render_alerts(self) -> None:
        record, offer = self.record, self.vitals.offer
        if record is None or offer is None or record.locked:
            self.alert_label.hide()
            return
        baseline = record.baseline_vitals if record.first_dose_at is not None else None
        alerts = stream_alerts(offer, baseline, record.protocol)
        if not alerts:
            self.alert_label.hide()
            return
        self.alert_label.setText("⚠ Monitor, UNCONFIRMED: " + "; ".join(a.message for a in alerts)
                                 + f" — check the client, then confirm ({key_text(Act.VITALS)}, Enter) or reject as artefact")
        set_severity(self.alert_label, "danger")
        self.alert_label.show()
