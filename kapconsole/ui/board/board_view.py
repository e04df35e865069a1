"""The supervisor's board: every active session in the clinic, refreshed within a second or two of a change.

A timer polls ``BoardService.changed_since`` on the worker thread while the board is visible; only when the
token moves are the rows fetched again. Between fetches a slower tick re-ages the rows (a reading becomes
overdue while nothing is written), without a query.
"""

from __future__ import annotations

from datetime import datetime

from PySide6.QtCore import QModelIndex, QPersistentModelIndex, Qt, QTimer, Signal
from PySide6.QtGui import QFont, QHideEvent, QKeySequence, QPainter, QPen, QShortcut, QShowEvent
from PySide6.QtWidgets import (
    QHBoxLayout,
    QHeaderView,
    QPushButton,
    QStyle,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    QVBoxLayout,
    QWidget,
)

from kapconsole.domain.board import BoardRow
from kapconsole.domain.enums import SessionState
from kapconsole.domain.errors import DatabaseUnavailable
from kapconsole.domain.monitor.values import DeviceStatus
from kapconsole.domain.protocol import MEASURES
from kapconsole.domain.rules import Action, may
from kapconsole.ui.board.rems_due import RemsDuePanel
from kapconsole.ui.discharge.discharge_view import SEVERITY_ROLE, DischargeDialog, duration_text, local_hm
from kapconsole.ui.session.controller import SessionController
from kapconsole.ui.session.device_panel import device_state_text
from kapconsole.ui.shell.app_state import AppState
from kapconsole.ui.widgets import theme
from kapconsole.ui.widgets.table_model import RowsTableModel, row_table
from kapconsole.ui.widgets.text import PlainLabel

POLL_MS = 1000
AGE_MS = 15_000
MONITOR_MS = 5000
SESSION_ID_ROLE = Qt.ItemDataRole.UserRole + 2
_Index = QModelIndex | QPersistentModelIndex




#: Short measure names for the board's narrow columns.
_SHORT = {"sbp": "BP", "hr": "HR", "spo2": "SpO2", "rr": "RR", "temp": "Temp"}


class BoardModel(RowsTableModel):
    """A table over a list of :class:`BoardRow`. Cells that need attention carry a severity."""

    # What needs attention comes first: in night mode's large type the last columns may need scrolling.
    HEADERS = ("Room", "Client", "State", "Alerts", "Vitals taken", "Discharge", "Last vitals", "Since dose",
               "Workstation")
    ROOM, CLIENT, STATE, ALERTS, VITALS, DISCHARGE, LAST, SINCE, WORKSTATION = range(9)

    rows: list[BoardRow]

    def age(self, now: datetime) -> None:
        if not self.rows:
            return
        self.rows = [r.aged(now) for r in self.rows]
        self.dataChanged.emit(self.index(0, 0), self.index(len(self.rows) - 1, len(self.HEADERS) - 1))

    def row_of(self, session_id: int) -> int | None:
        return next((i for i, r in enumerate(self.rows) if r.session_id == session_id), None)


    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole) -> object:
        if not index.isValid():
            return None
        row = self.rows[index.row()]
        column = index.column()
        if role == Qt.ItemDataRole.DisplayRole and column == self.LAST:
            # Blood pressure on one line, the rest below: the widest column at half the width, never cut.
            return self.text(row, column).replace(" · ", "\n", 1)
        if role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.AccessibleTextRole):
            return self.text(row, column)
        if role == SESSION_ID_ROLE:
            return row.session_id
        severity = self.severity(row, column)
        if role == SEVERITY_ROLE:
            return severity
        if role in (Qt.ItemDataRole.BackgroundRole, Qt.ItemDataRole.ForegroundRole):
            return theme.cell_role_colour(severity, role)
        if role == Qt.ItemDataRole.FontRole and (severity or column == self.ROOM):
            font = QFont()
            font.setBold(True)
            return font
        if role == Qt.ItemDataRole.ToolTipRole:
            return self.tooltip(row, column)
        return None

    def text(self, row: BoardRow, column: int) -> str:
        if column == self.ROOM:
            return row.room
        if column == self.WORKSTATION:
            return row.workstation or "—"
        if column == self.CLIENT:
            return row.client_initials
        if column == self.STATE:
            return "Ended early · ATTESTATION DUE" if row.needs_attestation else row.state.label
        if column == self.SINCE:
            return duration_text(row.since_first_dose) if row.since_first_dose is not None else "no dose yet"
        if column == self.LAST:
            return row.vitals_text or "none"
        if column == self.VITALS:
            if row.vitals_age is None:
                return "none yet"
            age = duration_text(row.vitals_age)
            if row.vitals_overdue:
                due = ", ".join(_SHORT[m] for m in MEASURES if m in row.overdue_measures and m in _SHORT)
                return f"OVERDUE ({due}) · {age}" if due else f"OVERDUE · {age}"
            return f"{age} ago"
        if column == self.ALERTS:
            n = row.unacknowledged_alerts
            if not n:
                return "none"
            age = duration_text(row.alert_age) if row.alert_age is not None else ""
            text = f"{n} unacknowledged · oldest {age}"
            return f"ESCALATED · {text}" if row.escalated else text
        return self.discharge_text(row)

    @staticmethod
    def discharge_text(row: BoardRow) -> str:
        if row.needs_attestation:
            return "Physician's attestation due"
        if row.ready_to_sign:
            return f"Ready to sign · {local_hm(row.assessed_at)}"
        if row.assessment_ready is not None and not row.assessment_current:
            return "Assess again: charted since"
        if row.assessment_ready is False:
            return f"Not ready · {local_hm(row.assessed_at)}"
        if row.observation_done_at is None:
            return "—"
        if row.min_time_reached:
            return "Observation time done"
        return f"{duration_text(row.observation_done_at - row.as_of)} to go"

    def severity(self, row: BoardRow, column: int) -> str:
        if column == self.VITALS and row.vitals_overdue:
            return "warning"
        if column == self.ALERTS and row.unacknowledged_alerts:
            return "danger"
        if column in (self.STATE, self.DISCHARGE) and row.needs_attestation:
            return "warning"
        if column == self.DISCHARGE:
            if row.ready_to_sign:
                return "ok"
            if row.assessment_ready is not None and not row.assessment_current:
                return "info"
        return ""

    @staticmethod
    def tooltip(row: BoardRow, column: int) -> str | None:
        if column == BoardModel.VITALS and row.next_vitals_due is not None:
            return "; ".join(f"{m.upper()} due {local_hm(due)}" for m, due in row.measures_due) or (
                f"Next reading due {local_hm(row.next_vitals_due)}")
        if column == BoardModel.ALERTS and row.escalated:
            return (f"Unacknowledged for longer than {row.escalation_minutes} min: escalated to the supervisor; "
                    "open the session and acknowledge (Ctrl+K)")
        if column == BoardModel.DISCHARGE and row.assessed_at is not None:
            return f"Latest assessment {local_hm(row.assessed_at)} by {row.assessed_by}"
        if column == BoardModel.SINCE and row.first_dose_at is not None:
            return f"First dose {local_hm(row.first_dose_at)}"
        return None


class SeverityDelegate(QStyledItemDelegate):
    """Keeps a cell's alert colour on the selected row (the selection is drawn as a frame around it)."""

    def paint(self, painter: QPainter, option: QStyleOptionViewItem, index: _Index) -> None:
        if not index.data(SEVERITY_ROLE) or not option.state & QStyle.StateFlag.State_Selected:
            super().paint(painter, option, index)
            return
        plain = QStyleOptionViewItem(option)
        plain.state &= ~QStyle.StateFlag.State_Selected
        super().paint(painter, plain, index)
        painter.save()
        pen = QPen(option.palette.highlight().color(), 3)
        painter.setPen(pen)
        painter.drawRect(option.rect.adjusted(1, 1, -2, -2))
        painter.restore()


class BoardView(QWidget):
    """Every active session. ``open_session(id)`` asks the shell to open one; discharge is signed from here."""

    open_session = Signal(int)

    def __init__(self, state: AppState, parent: QWidget | None = None) -> None:
        super().__init__(parent, objectName="boardView")
        self.state = state
        self.service = state.services.board
        self.discharge_dialog: DischargeDialog | None = None
        # One controller for the discharge dialog, reused: the board outlives every dialog it opens.
        self._controller = SessionController(state, self)
        self._token: str | None = None
        self._polling = False
        self._loading = False
        self._updated_at: str | None = None

        heading = PlainLabel("Supervisor board: all rooms")
        theme.set_flag(heading, "heading")
        self.status = PlainLabel("", objectName="boardStatus")
        theme.set_flag(self.status, "muted")
        self.model = BoardModel(self)
        self.table = row_table("boardTable", "Active sessions in every room", self.model)
        self.table.setAlternatingRowColors(False)  # the cells' severity colours are the only background
        self.table.setItemDelegate(SeverityDelegate(self.table))
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setStretchLastSection(True)
        # The last vitals take two lines (see BoardModel.data), so every column fits in night type.
        self.table.verticalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.empty = PlainLabel("", objectName="boardEmpty")
        theme.set_flag(self.empty, "muted")
        self.open_button = QPushButton("&Open record", objectName="boardOpen")
        self.open_button.setToolTip("Open the selected session's record (Enter)")
        self.discharge_button = QPushButton("&Discharge and sign…", objectName="boardDischarge")
        self.discharge_button.setToolTip("Review the discharge criteria of the selected session and sign (Ctrl+D)")
        theme.set_flag(self.discharge_button, "primary")
        hint = PlainLabel("↑ ↓ choose · Enter open · Ctrl+D discharge · F5 refresh", objectName="boardHint")
        theme.set_flag(hint, "muted")

        top = QHBoxLayout()
        top.addWidget(heading)
        top.addStretch(1)
        top.addWidget(self.status)
        bottom = QHBoxLayout()
        bottom.addWidget(hint)
        bottom.addStretch(1)
        bottom.addWidget(self.open_button)
        bottom.addWidget(self.discharge_button)
        # Esketamine REMS monitoring forms due and overdue, under the rooms.
        self.rems = RemsDuePanel(state)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.table, 3)
        layout.addWidget(self.empty)
        # Each room's bedside monitor: connected, last message age, clock offset (polled every few seconds).
        self.monitors = PlainLabel("", objectName="boardMonitors")
        self.monitors.setTextFormat(Qt.TextFormat.PlainText)
        self.monitors.setWordWrap(True)
        self.monitors.hide()
        layout.addWidget(self.monitors)
        layout.addLayout(bottom)
        layout.addWidget(self.rems, 1)

        self.table.activated.connect(lambda _i: self._on_open_clicked())
        self.table.selectionModel().currentRowChanged.connect(lambda _c, _p: self._update_buttons())
        self.open_button.clicked.connect(self._on_open_clicked)
        self.discharge_button.clicked.connect(self._on_discharge_clicked)
        keys = ((QKeySequence(Qt.Key.Key_F5), self.refresh), (QKeySequence("Ctrl+D"), self._on_discharge_clicked))
        for key, slot in keys:
            shortcut = QShortcut(key, self)
            shortcut.setContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
            shortcut.activated.connect(slot)
        self._poll = QTimer(self)
        self._poll.setInterval(POLL_MS)
        self._poll.timeout.connect(self._on_poll)
        self._age = QTimer(self)
        self._age.setInterval(AGE_MS)
        self._age.timeout.connect(lambda: self.model.age(self.service.now()))
        self._monitor_poll = QTimer(self)
        self._monitor_poll.setInterval(MONITOR_MS)
        self._monitor_poll.timeout.connect(self._on_monitor_poll)
        self._monitor_polling = False
        state.actor_changed.connect(self._on_actor_changed)
        self._update_buttons()

    # ----- visibility: poll only while shown ------------------------------------------------------------
    def showEvent(self, event: QShowEvent) -> None:  # noqa: N802 (Qt override)
        super().showEvent(event)
        self.refresh()
        self.rems.refresh()
        self._poll.start()
        self._age.start()
        self._monitor_poll.start()
        self._on_monitor_poll()

    def hideEvent(self, event: QHideEvent) -> None:  # noqa: N802 (Qt override)
        super().hideEvent(event)
        self._poll.stop()
        self._age.stop()
        self._monitor_poll.stop()

    def _on_monitor_poll(self) -> None:
        if self._monitor_polling:
            return
        self._monitor_polling = True
        monitor = self.state.services.monitor

        def done(result: tuple[list[DeviceStatus], datetime]) -> None:
            self._monitor_polling = False
            statuses, now = result
            lines = []
            worst = ""
            for status in statuses:
                text, severity = device_state_text(status, status.room, now)
                lines.append(f"{status.room}: {text}")
                worst = worst or severity
            self.monitors.setText("\n".join(lines))
            self.monitors.setVisible(bool(lines))
            theme.set_severity(self.monitors, worst)

        def failed(_exc: Exception) -> None:
            self._monitor_polling = False  # the board's own poll reports a lost database

        self.state.runner.submit(lambda: (monitor.statuses(), monitor.now()), done, failed)

    # ----- loading -------------------------------------------------------------------------------------
    def _on_actor_changed(self, _actor: object) -> None:
        self.refresh()
        self._update_buttons()

    @property
    def selected(self) -> BoardRow | None:
        index = self.table.currentIndex()
        return self.model.rows[index.row()] if index.isValid() and index.row() < len(self.model.rows) else None

    def refresh(self) -> None:
        """Fetch the rows now (F5); the poll fetches them by itself when something changed."""
        self._token = None
        if self.isVisible() and not self._poll.isActive():
            self._poll.start()
            self._age.start()
        self._on_poll()

    def _on_poll(self) -> None:
        actor = self.state.actor
        if actor is None or not may(actor.roles, Action.VIEW_RECORD):
            self._poll.stop()
            self.model.set_rows([])
            self.empty.setText("The board needs a signed-in clinician.")
            self.empty.show()
            self._update_buttons()
            return
        if self._polling or self._loading:
            return
        self._polling = True
        service, token = self.service, self._token
        self.state.runner.submit(lambda: service.changed_since(token), self._on_token, self._on_failed)

    def _on_token(self, result: tuple[bool, str]) -> None:
        self._polling = False
        changed, token = result
        if not changed or self._loading:
            self._show_status(None)
            return
        actor = self.state.actor
        if actor is None:
            return
        self._loading = True
        service = self.service
        self.state.runner.submit(lambda: (token, service.rows(actor)), self._on_rows, self._on_failed)

    def _on_rows(self, result: tuple[str, list[BoardRow]]) -> None:
        self._loading = False
        token, rows = result
        self._token = token
        keep = self.selected.session_id if self.selected else None
        self.model.set_rows(rows)
        row = self.model.row_of(keep) if keep is not None else None
        if row is None and rows:
            row = 0
        if row is not None:
            self.table.selectRow(row)
        self.rems.refresh()  # a session signed or dosed changes what is due
        self.empty.setText("" if rows else "No active session in any room.")
        self.empty.setVisible(not rows)
        self._show_status(None)
        self._update_buttons()

    def _on_failed(self, exc: Exception) -> None:
        self._polling = self._loading = False
        if isinstance(exc, DatabaseUnavailable):
            self._show_status(f"Database unreachable — showing the board as of {self._updated_at or 'never'}")
        else:
            self._show_status(str(exc))

    def _show_status(self, problem: str | None) -> None:
        if problem is None:
            self._updated_at = self.service.now().astimezone().strftime("%H:%M:%S")
            n = len(self.model.rows)
            self.status.setText(f"{n} active session{'s' if n != 1 else ''} · checked {self._updated_at}")
            theme.set_severity(self.status, "")
        else:
            self.status.setText(problem)
            theme.set_severity(self.status, "danger")

    # ----- actions -------------------------------------------------------------------------------------
    def _update_buttons(self) -> None:
        row = self.selected
        actor = self.state.actor
        self.open_button.setEnabled(row is not None)
        self.discharge_button.setEnabled(
            row is not None and row.state in (SessionState.MONITORING, SessionState.DISCHARGE)
            and actor is not None and may(actor.roles, Action.ASSESS_DISCHARGE))

    def _on_open_clicked(self) -> None:
        row = self.selected
        if row is not None:
            self.open_session.emit(row.session_id)

    def _on_discharge_clicked(self) -> None:
        row = self.selected
        if row is None or not self.discharge_button.isEnabled() or self.discharge_dialog is not None:
            return
        dialog = DischargeDialog(self.state, self._controller, self)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.finished.connect(self._on_discharge_closed)
        self.discharge_dialog = dialog
        self._controller.open(row.session_id)
        dialog.open()

    def _on_discharge_closed(self, _result: int) -> None:
        self._controller.close()
        self.discharge_dialog = None
        self.refresh()
