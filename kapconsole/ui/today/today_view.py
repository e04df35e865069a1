"""Today: the sessions planned today and those still active, for the room chosen at this workstation."""

from __future__ import annotations

from datetime import datetime, timedelta

from PySide6.QtCore import QModelIndex, QPersistentModelIndex, Qt, QTimer, Signal
from PySide6.QtGui import QFont, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QHeaderView,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from kapconsole.domain.enums import SessionState
from kapconsole.domain.rems import FilingItem, FilingStatus
from kapconsole.domain.rules import Action, may
from kapconsole.domain.values import SessionListItem
from kapconsole.ui.board.rems_due import counts_text
from kapconsole.ui.shell import settings as cfg
from kapconsole.ui.shell.app_state import AppState
from kapconsole.ui.widgets.table_model import RowsTableModel, row_table
from kapconsole.ui.widgets.text import PlainLabel, button_text, shorten, tooltip_text
from kapconsole.ui.widgets.theme import set_flag, set_severity

ALL_ROOMS = "All rooms"
REFRESH_MS = 30_000
_ACTIVE = [SessionState.CHECKLIST, SessionState.MONITORING, SessionState.DISCHARGE]
_Index = QModelIndex | QPersistentModelIndex


def local_time(moment: datetime, today: datetime | None = None) -> str:
    """``HH:MM``, with the day in front when ``moment`` is not on ``today``'s date (a session past midnight)."""
    local = moment.astimezone()
    if today is not None and local.date() != today.astimezone().date():
        return local.strftime("%a %d %b %H:%M")
    return local.strftime("%H:%M")


class TodayModel(RowsTableModel):
    """A table over a list of :class:`SessionListItem`."""

    HEADERS = ("Time", "Client", "Session", "Route", "Room", "Status")

    rows: list[SessionListItem]
    today: datetime | None = None

    def set_items(self, items: list[SessionListItem], today: datetime | None = None) -> None:
        self.today = today
        self.set_rows(items)


    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole) -> object:
        if not index.isValid():
            return None
        item = self.rows[index.row()]
        if role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.AccessibleTextRole):
            return self._text(item, index.column(), self.today)
        if role == Qt.ItemDataRole.FontRole and item.state.is_active:
            font = QFont()
            font.setBold(True)
            return font
        return None

    @staticmethod
    def _text(item: SessionListItem, column: int, today: datetime | None) -> str:
        if column == 0:
            return local_time(item.scheduled_at, today)
        if column == 1:
            return f"{item.client_name} ({item.client_identifier})"
        if column == 2:
            if item.number_in_course is None:
                return "single"
            return f"{item.number_in_course} of {item.course_total}" if item.course_total else str(item.number_in_course)
        if column == 3:
            return item.route.label
        if column == 4:
            return item.room
        return ("● " if item.state.is_active else "") + item.state.label


class TodayView(QWidget):
    """Lists sessions; starting or resuming one emits ``open_session(id)``. Errors go to ``failed``."""

    open_session = Signal(int)
    failed = Signal(object)  # Exception
    loaded = Signal()

    def __init__(self, state: AppState, parent: QWidget | None = None) -> None:
        super().__init__(parent, objectName="todayView")
        self.state = state
        self.heading = PlainLabel("Today")
        set_flag(self.heading, "heading")
        self.room = QComboBox(objectName="todayRoom")
        self.room.setAccessibleName("Room")
        self.room.setToolTip("The room this console is in; remembered at this workstation (Alt+R)")
        self.room.setMinimumContentsLength(14)
        room_label = PlainLabel("&Room")
        room_label.setBuddy(self.room)
        self.refresh_button = QPushButton("Refresh", objectName="todayRefresh")
        self.refresh_button.setToolTip("Reload the list (F5)")
        self.model = TodayModel(self)
        self.table = row_table("todayTable", "Sessions today", self.model)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        self.empty = PlainLabel("", objectName="todayEmpty")
        set_flag(self.empty, "muted")
        self.open_button = QPushButton("Select a session", objectName="todayOpen")
        self.open_button.setToolTip("Start the selected planned session, or resume an active one (Enter)")
        self.open_button.setAccessibleName("Start or resume the selected session")
        set_flag(self.open_button, "primary")
        self.open_button.setEnabled(False)
        self.hint = PlainLabel("↑ ↓ choose a session · Enter start or resume · F5 refresh", objectName="todayHint")
        set_flag(self.hint, "muted")

        top = QHBoxLayout()
        top.addWidget(self.heading)
        top.addStretch(1)
        top.addWidget(room_label)
        top.addWidget(self.room)
        top.addWidget(self.refresh_button)
        # Esketamine REMS monitoring forms waiting to be submitted (shown when there are any).
        self.rems_label = PlainLabel("", objectName="todayRems")
        self.rems_label.setTextFormat(Qt.TextFormat.PlainText)
        self.rems_button = QPushButton("REMS forms…", objectName="todayRemsButton")
        self.rems_button.setToolTip("REMS monitoring forms due and overdue; mark one submitted (Ctrl+Alt+F)")
        self.rems_label.hide()
        self.rems_button.hide()
        # On a row of its own: beside the hint and the open button it would widen the screen in night type.
        rems_row = QHBoxLayout()
        rems_row.addWidget(self.rems_label)
        rems_row.addWidget(self.rems_button)
        rems_row.addStretch(1)
        self.rems_label.setWordWrap(True)
        bottom = QHBoxLayout()
        bottom.addWidget(self.hint)
        bottom.addStretch(1)
        bottom.addWidget(self.open_button)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.empty)
        layout.addLayout(rems_row)
        layout.addLayout(bottom)

        self.table.activated.connect(self._on_activated)
        self.table.selectionModel().currentRowChanged.connect(self._on_current_changed)
        self.open_button.clicked.connect(self._on_open_clicked)
        self.refresh_button.clicked.connect(self.refresh)
        self.room.activated.connect(self._on_room_chosen)
        refresh_key = QShortcut(QKeySequence(Qt.Key.Key_F5), self)
        refresh_key.setContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        refresh_key.activated.connect(self.refresh)
        self._timer = QTimer(self)
        self._timer.setInterval(REFRESH_MS)
        self._timer.timeout.connect(self._on_timer)
        self._loading = False
        self._starting = False
        self._rooms: list[str] = []
        state.actor_changed.connect(lambda _a: self._update_button())

    # ----- loading -------------------------------------------------------------------------------------
    @property
    def selected_room(self) -> str | None:
        text = self.room.currentText()
        return None if not text or text == ALL_ROOMS else text

    def activate(self) -> None:
        """Called when the screen is shown: reload and keep reloading while it is visible."""
        self.refresh()
        self._timer.start()
        self.table.setFocus()

    def deactivate(self) -> None:
        self._timer.stop()

    def refresh(self) -> None:
        if self._loading:
            return
        self._loading = True
        clinic = self.state.services.clinic
        remembered = cfg.settings().value(cfg.KEY_ROOM, "")
        room = self.selected_room if self._rooms else (str(remembered) or None)

        def load() -> tuple[list[str], list[SessionListItem], str | None, datetime]:
            now = clinic.now().astimezone()
            start = now.replace(hour=0, minute=0, second=0, microsecond=0)
            rooms = clinic.rooms()
            chosen = room if room in rooms else None
            planned = clinic.list_sessions(states=[SessionState.PLANNED], room=chosen, since=start,
                                           until=start + timedelta(days=1), newest_first=False)
            active = clinic.list_sessions(states=_ACTIVE, room=chosen, newest_first=False)
            items = sorted({i.id: i for i in active + planned}.values(), key=lambda i: (i.scheduled_at, i.id))
            return rooms, items, chosen, now

        self.state.runner.submit(load, self._on_loaded, self._on_load_failed)
        self._load_rems()

    def _load_rems(self) -> None:
        actor = self.state.actor
        if actor is None or not may(actor.roles, Action.VIEW_RECORD):
            self.rems_label.hide()
            self.rems_button.hide()
            return
        rems = self.state.services.rems
        self.state.runner.submit(lambda: rems.filings(actor), self._on_rems, lambda _exc: None)

    def _on_rems(self, items: list[FilingItem]) -> None:
        overdue = any(i.status is FilingStatus.OVERDUE for i in items)
        self.rems_label.setText(counts_text(items))
        set_severity(self.rems_label, "danger" if overdue else "warning")
        self.rems_label.setVisible(bool(items))
        self.rems_button.setVisible(bool(items))

    def _on_loaded(self, result: tuple[list[str], list[SessionListItem], str | None, datetime]) -> None:
        self._loading = False
        rooms, items, chosen, now = result
        if rooms != self._rooms:
            self._rooms = rooms
            self.room.blockSignals(True)
            self.room.clear()
            self.room.addItems([ALL_ROOMS, *rooms])
            self.room.blockSignals(False)
        self.room.setCurrentText(chosen or ALL_ROOMS)
        keep = self.current_item().id if self.current_item() else None
        self.model.set_items(items, now)
        where = f"in {chosen}" if chosen else "in any room"
        self.heading.setText(f"Today — {chosen}" if chosen else "Today — all rooms")
        self.empty.setText("" if items else f"No session is planned for today or active {where}.")
        self.empty.setVisible(not items)
        row = next((r for r, i in enumerate(items) if i.id == keep), 0)
        if items:
            self.table.selectRow(row)
        self._update_button()
        self.loaded.emit()

    def _on_load_failed(self, exc: Exception) -> None:
        self._loading = False
        self.failed.emit(exc)

    # ----- choosing ------------------------------------------------------------------------------------
    def current_item(self) -> SessionListItem | None:
        index = self.table.currentIndex()
        if not index.isValid() or index.row() >= len(self.model.rows):
            return None
        return self.model.rows[index.row()]

    def _update_button(self) -> None:
        item = self.current_item()
        actor = self.state.actor
        if item is None:
            self.open_button.setText("Select a session")
            self.open_button.setEnabled(False)
            return
        # The client's name as typed (an "&" is not a shortcut), cut short: a long name never widens the window.
        who = f"{shorten(item.client_name)}, {local_time(item.scheduled_at, self.model.today)}"
        if item.state is SessionState.PLANNED:
            self.open_button.setText(button_text(f"Start session — {who}"))
            allowed = actor is not None and may(actor.roles, Action.START_SESSION)
        else:
            self.open_button.setText(button_text(f"Resume session — {who}"))
            allowed = actor is not None and may(actor.roles, Action.VIEW_RECORD)
        self.open_button.setEnabled(allowed and not self._starting)
        tip = ("Start the selected planned session, or resume an active one (Enter)" if allowed
               else "Your role does not open clinical records")
        self.open_button.setToolTip(tooltip_text(f"{item.client_name}\n{tip}"))

    def _on_current_changed(self, *_args: object) -> None:
        self._update_button()

    def _on_room_chosen(self, _index: int) -> None:
        cfg.write(cfg.KEY_ROOM, self.selected_room or "")
        self.refresh()

    def _on_activated(self, _index: QModelIndex) -> None:
        self._on_open_clicked()

    def _on_open_clicked(self) -> None:
        item = self.current_item()
        if item is None or not self.open_button.isEnabled():
            return
        if item.state is not SessionState.PLANNED:
            self.open_session.emit(item.id)
            return
        actor = self.state.require_actor()
        records = self.state.services.records
        self._starting = True
        self._update_button()
        sid = item.id
        self.state.runner.submit(lambda: records.start_session(actor, sid), lambda _e: self._on_started(sid),
                                 self._on_start_failed)

    def _on_started(self, session_id: int) -> None:
        self._starting = False
        self._update_button()
        self.open_session.emit(session_id)

    def _on_start_failed(self, exc: Exception) -> None:
        self._starting = False
        self._update_button()
        self.failed.emit(exc)
        self.refresh()

    def _on_timer(self) -> None:
        if self.isVisible() and not self.state.runner.busy:
            self.refresh()
