"""DeviceFeed: the bedside monitor stream of the open session, polled once a second.

Each poll asks for the readings after the last id it holds (one indexed query), never the whole record; the
offer for the vitals row and the room's device state come with it when something new arrived, and at least
every few seconds so a silent monitor shows as silent.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from PySide6.QtCore import QObject, QTimer, Signal

from kapconsole.domain.monitor.values import DeviceOffer, DeviceReading, DeviceStatus
from kapconsole.ui.shell.app_state import AppState

POLL_MS = 1000
STATUS_EVERY = 5  # polls


@dataclass(frozen=True)
class FeedUpdate:
    readings: tuple[DeviceReading, ...]
    offer: DeviceOffer | None
    offer_checked: bool  # False: the offer was not looked at in this poll (keep the previous one)
    status: DeviceStatus | None
    status_checked: bool
    now: datetime


class DeviceFeed(QObject):
    updated = Signal(object)  # FeedUpdate

    def __init__(self, state: AppState, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.state = state
        self.session_id: int | None = None
        self.room = ""
        self.last_id = 0
        self._busy = False
        self._polls = 0
        self._timer = QTimer(self)
        self._timer.setInterval(POLL_MS)
        self._timer.timeout.connect(self.poll)

    def open(self, session_id: int, room: str) -> None:
        if session_id != self.session_id:
            self.session_id = session_id
            self.room = room
            self.last_id = 0
            self._polls = 0
        self._timer.start()
        self.poll()

    def pause(self) -> None:
        """Stop polling (the screen is hidden); ``open`` of the same session goes on after the last reading."""
        self._timer.stop()

    def close(self) -> None:
        self._timer.stop()
        self.session_id = None

    def poll(self) -> None:
        sid, actor = self.session_id, self.state.actor
        if sid is None or actor is None or self._busy:
            return
        self._busy = True
        after, room = self.last_id, self.room
        with_status = self._polls % STATUS_EVERY == 0
        self._polls += 1
        monitor = self.state.services.monitor

        def work() -> FeedUpdate:
            readings = tuple(monitor.stream(actor, sid, after_id=after))
            look = bool(readings) or with_status
            offer = monitor.offer(actor, sid) if look else None
            status = None
            if with_status:
                status = next((st for st in monitor.statuses() if st.room == room), None)
            return FeedUpdate(readings, offer, look, status, with_status, monitor.now())

        def done(update: FeedUpdate) -> None:
            self._busy = False
            if self.session_id != sid:
                return
            if update.readings:
                self.last_id = max(self.last_id, update.readings[-1].id)
            self.updated.emit(update)

        def failed(_exc: Exception) -> None:
            self._busy = False  # the record's own poll reports a lost database

        self.state.runner.submit(work, done, failed)
