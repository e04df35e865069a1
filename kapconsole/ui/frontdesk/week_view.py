"""The rooms' week: one row a room, one column a day; each cell lists who is booked there, when."""

from __future__ import annotations

from collections import defaultdict
from datetime import date, timedelta

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QHeaderView,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from kapconsole.domain.frontdesk import CalendarSlot, week_start
from kapconsole.ui.frontdesk.forms import plain
from kapconsole.ui.shell.app_state import AppState


def slot_line(slot: CalendarSlot) -> str:
    start, end = slot.start.astimezone(), slot.end.astimezone()
    return f"{start:%H:%M}–{end:%H:%M} {slot.state_label.lower()}\n{slot.client_name}"


class WeekView(QWidget):
    """Who is in which room, when, for a week (Monday to Sunday, local time)."""

    def __init__(self, state: AppState, parent: QWidget | None = None) -> None:
        super().__init__(parent, objectName="weekView")
        self.state = state
        self.monday = week_start(state.services.clinic.now().astimezone().date())
        self.title = plain("", "weekTitle")
        self.prev_button = QPushButton("◀ &Previous week", objectName="weekPrevious")
        self.this_button = QPushButton("T&his week", objectName="weekThis")
        self.next_button = QPushButton("Ne&xt week ▶", objectName="weekNext")
        self.table = QTableWidget(0, 7, objectName="weekTable")
        self.table.setAccessibleName("Rooms this week")
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        # A day's bookings one under the other; a long name wraps in its cell rather than widening the table.
        self.table.setWordWrap(True)
        self.table.setTextElideMode(Qt.TextElideMode.ElideRight)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        self.table.verticalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        top = QHBoxLayout()
        top.addWidget(self.title, 1)
        for b in (self.prev_button, self.this_button, self.next_button):
            top.addWidget(b)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.table, 1)
        self.prev_button.clicked.connect(lambda: self.show_week(self.monday - timedelta(days=7)))
        self.next_button.clicked.connect(lambda: self.show_week(self.monday + timedelta(days=7)))
        self.this_button.clicked.connect(
            lambda: self.show_week(week_start(state.services.clinic.now().astimezone().date())))
        self.slots: list[CalendarSlot] = []

    def show_week(self, monday: date | None = None) -> None:
        if monday is not None:
            self.monday = monday
        clinic = self.state.services.clinic
        first = self.monday
        self.title.setText(f"Week of {first:%d %b %Y} – {first + timedelta(days=6):%d %b %Y}")
        self.state.runner.submit(lambda: (clinic.rooms(), clinic.planning.week(first)), self._on_loaded)

    def _on_loaded(self, loaded: tuple[list[str], list[CalendarSlot]]) -> None:
        rooms, slots = loaded
        self.slots = slots
        rooms = list(rooms) + sorted({s.room for s in slots} - set(rooms))  # a room taken out of use still shows
        cells: dict[tuple[str, int], list[CalendarSlot]] = defaultdict(list)
        for slot in slots:
            day = (slot.start.astimezone().date() - self.monday).days
            if 0 <= day < 7:
                cells[(slot.room, day)].append(slot)
        self.table.clear()
        self.table.setRowCount(len(rooms))
        self.table.setColumnCount(7)
        self.table.setHorizontalHeaderLabels([f"{self.monday + timedelta(days=d):%a %d %b}" for d in range(7)])
        self.table.setVerticalHeaderLabels(rooms)
        for r, room in enumerate(rooms):
            for d in range(7):
                booked = sorted(cells.get((room, d), []), key=lambda s: s.start)
                text = "\n".join(slot_line(s) for s in booked)
                item = QTableWidgetItem(text)
                item.setToolTip(text)
                self.table.setItem(r, d, item)
        self.table.resizeRowsToContents()

    def cell_text(self, room: str, day: int) -> str:
        for r in range(self.table.rowCount()):
            header = self.table.verticalHeaderItem(r)
            if header is not None and header.text() == room:
                item = self.table.item(r, day)
                return item.text() if item else ""
        return ""
