"""The audit trail for supervisors and administrators: who did what, when, and from which workstation."""

from __future__ import annotations

from PySide6.QtCore import QModelIndex, QPersistentModelIndex, Qt, QTimer
from PySide6.QtGui import QKeySequence, QShortcut, QShowEvent
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QHeaderView,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from kapconsole.domain.errors import DatabaseUnavailable
from kapconsole.domain.rules import Action, may
from kapconsole.domain.values import AuditEvent
from kapconsole.ui.shell.app_state import AppState
from kapconsole.ui.widgets import theme
from kapconsole.ui.widgets.table_model import RowsTableModel, row_table
from kapconsole.ui.widgets.text import PlainLabel

LIMIT = 500
DEBOUNCE_MS = 350
ANY = "Any workstation"
_Index = QModelIndex | QPersistentModelIndex


class AuditModel(RowsTableModel):
    HEADERS = ("When", "Person", "Workstation", "Action", "Session", "Detail")



    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole) -> object:
        if not index.isValid() or role not in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.AccessibleTextRole,
                                               Qt.ItemDataRole.ToolTipRole):
            return None
        e = self.rows[index.row()]
        values = (e.at.astimezone().strftime("%Y-%m-%d %H:%M:%S"), e.actor_name or "—", e.workstation or "—",
                  e.action.replace("_", " "), "" if e.session_id is None else str(e.session_id), e.detail)
        return values[index.column()]


class AuditView(QWidget):
    """Filter by action, person, session and workstation; newest first, at most 500 lines."""

    def __init__(self, state: AppState, parent: QWidget | None = None) -> None:
        super().__init__(parent, objectName="auditView")
        self.state = state
        self._loading = False
        self._again = False

        heading = PlainLabel("Audit trail")
        theme.set_flag(heading, "heading")
        self.action = QLineEdit(objectName="auditAction")
        self.action.setPlaceholderText("e.g. signed")
        self.person = QLineEdit(objectName="auditPerson")
        self.person.setPlaceholderText("name")
        self.session = QLineEdit(objectName="auditSession")
        self.session.setPlaceholderText("number")
        self.session.setMaxLength(10)
        self.workstation = QComboBox(objectName="auditWorkstation")
        self.workstation.setEditable(True)
        self.workstation.addItem(ANY)
        self.workstation.setMinimumContentsLength(14)
        self.refresh_button = QPushButton("Refresh", objectName="auditRefresh")
        self.refresh_button.setToolTip("Reload the audit trail (F5)")
        filters = QHBoxLayout()
        for text, widget in (("&Action", self.action), ("&Person", self.person), ("S&ession", self.session),
                             ("&Workstation", self.workstation)):
            label = PlainLabel(text)
            label.setBuddy(widget)
            widget.setAccessibleName(text.replace("&", ""))
            filters.addWidget(label)
            filters.addWidget(widget, 1)
        filters.addWidget(self.refresh_button)

        self.model = AuditModel(self)
        self.table = row_table("auditTable", "Audit events, newest first", self.model)
        self.table.setWordWrap(False)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(len(AuditModel.HEADERS) - 1, QHeaderView.ResizeMode.Stretch)
        self.status = PlainLabel("", objectName="auditStatus")
        theme.set_flag(self.status, "muted")

        layout = QVBoxLayout(self)
        layout.addWidget(heading)
        layout.addLayout(filters)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.status)

        self._debounce = QTimer(self)
        self._debounce.setSingleShot(True)
        self._debounce.setInterval(DEBOUNCE_MS)
        self._debounce.timeout.connect(self.refresh)
        for edit in (self.action, self.person, self.session):
            edit.textChanged.connect(lambda _t: self._debounce.start())
        self.workstation.currentTextChanged.connect(lambda _t: self._debounce.start())
        self.refresh_button.clicked.connect(self.refresh)
        shortcut = QShortcut(QKeySequence(Qt.Key.Key_F5), self)
        shortcut.setContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        shortcut.activated.connect(self.refresh)
        state.actor_changed.connect(self._on_actor_changed)

    def _on_actor_changed(self, _actor: object) -> None:
        if self.isVisible():
            self.refresh()

    def showEvent(self, event: QShowEvent) -> None:  # noqa: N802 (Qt override)
        super().showEvent(event)
        self.refresh()

    def refresh(self) -> None:
        actor = self.state.actor
        if actor is None or not may(actor.roles, Action.VIEW_AUDIT):
            self.model.set_rows([])
            self._set_status("The audit trail is for medical supervisors and administrators.", "warning")
            return
        session_text = self.session.text().strip()
        if session_text and not session_text.isdigit():
            self._set_status(f"Session: {session_text!r} is not a session number.", "warning")
            return
        if self._loading:
            self._again = True  # the filters changed while loading: load once more when this one is back
            return
        self._loading = True
        workstation = self.workstation.currentText().strip()
        audit = self.state.services.audit
        action = self.action.text().strip().replace(" ", "_") or None
        actor_name = self.person.text().strip() or None
        session_id = int(session_text) if session_text else None
        station = None if workstation in ("", ANY) else workstation
        self.state.runner.submit(
            lambda: audit.events(actor, action=action, actor_name=actor_name, session_id=session_id,
                                 workstation=station, limit=LIMIT),
            self._on_loaded, self._on_failed)

    def _on_loaded(self, events: list[AuditEvent]) -> None:
        self._loading = False
        self.model.set_rows(events)
        known = {self.workstation.itemText(i) for i in range(self.workstation.count())}
        self.workstation.blockSignals(True)
        for name in sorted({e.workstation for e in events if e.workstation} - known):
            self.workstation.addItem(name)
        self.workstation.blockSignals(False)
        more = " (the newest 500: narrow the filters to see older ones)" if len(events) >= LIMIT else ""
        self._set_status(f"{len(events)} event{'s' if len(events) != 1 else ''}{more}", "")
        if self._again:
            self._again = False
            self.refresh()

    def _on_failed(self, exc: Exception) -> None:
        self._loading = False
        prefix = "Database unreachable" if isinstance(exc, DatabaseUnavailable) else "Could not load"
        self._set_status(f"{prefix}: {exc}", "danger")

    def _set_status(self, text: str, severity: str) -> None:
        self.status.setText(text)
        theme.set_severity(self.status, severity)
        theme.set_flag(self.status, "muted", not severity)
