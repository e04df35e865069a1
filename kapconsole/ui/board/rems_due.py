"""Esketamine REMS monitoring forms due and overdue, and marking one submitted.

``RemsDuePanel`` is the list (on the supervisor board, and in ``RemsDueDialog`` from Today or the menu);
``SubmitDialog`` records the date, how and the confirmation number. Everything goes through ``RemsService``,
off the GUI thread.
"""

from __future__ import annotations

from datetime import date

from PySide6.QtCore import QDate, QModelIndex, QPersistentModelIndex, Qt, Signal
from PySide6.QtGui import QFont, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDateEdit,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from kapconsole.domain.rems import METHODS, FilingItem, FilingStatus, method_label
from kapconsole.domain.rules import Action, may
from kapconsole.ui.clients.summary_export import one_line
from kapconsole.ui.session.quick_entry import set_message
from kapconsole.ui.shell.app_state import AppState
from kapconsole.ui.widgets import theme
from kapconsole.ui.widgets.table_model import RowsTableModel, row_table
from kapconsole.ui.widgets.text import PlainLabel

_Index = QModelIndex | QPersistentModelIndex


def counts_text(items: list[FilingItem]) -> str:
    """"REMS forms: 1 overdue, 2 due" (or that none is waiting)."""
    overdue = sum(1 for i in items if i.status is FilingStatus.OVERDUE)
    due = sum(1 for i in items if i.status is FilingStatus.DUE)
    if not overdue and not due:
        return "REMS forms: none waiting"
    parts = ([f"{overdue} overdue"] if overdue else []) + ([f"{due} due"] if due else [])
    return "REMS forms: " + ", ".join(parts)


class RemsDueModel(RowsTableModel):
    HEADERS = ("Status", "Due", "Treatment", "Session", "Client", "Room", "Submitted")
    rows: list[FilingItem]
    today: date | None = None

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole) -> object:
        if not index.isValid():
            return None
        item = self.rows[index.row()]
        column = index.column()
        if role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.AccessibleTextRole):
            return self.text(item, column)
        severity = {FilingStatus.OVERDUE: "danger", FilingStatus.DUE: "warning"}.get(item.status, "")
        if role in (Qt.ItemDataRole.BackgroundRole, Qt.ItemDataRole.ForegroundRole) and column == 0:
            return theme.cell_role_colour(severity, role)
        if role == Qt.ItemDataRole.FontRole and column == 0 and severity:
            font = QFont()
            font.setBold(True)
            return font
        return None

    def text(self, item: FilingItem, column: int) -> str:
        today = self.today or date.today()
        if column == 0:
            return item.describe(today) if item.submission is None else item.status.label
        if column == 1:
            return item.due_on.isoformat()
        if column == 2:
            return item.treatment_date.isoformat()
        if column == 3:
            return str(item.session_id)
        if column == 4:
            # Initials and identifier, as on the board: the screen may be seen from the corridor.
            initials = "".join(part[0] for part in item.client_name.split() if part)[:3].upper()
            return f"{initials} ({item.client_identifier})"
        if column == 5:
            return item.room
        s = item.submission
        if s is None:
            return "—"
        number = f" #{s.confirmation}" if s.confirmation else ""
        return f"{s.submitted_on.isoformat()} {method_label(s.method)}{number} · {s.by_name}"


class SubmitDialog(QDialog):
    """Mark one session's form as submitted: the date, how, the confirmation number."""

    def __init__(self, state: AppState, item: FilingItem, parent: QWidget | None = None) -> None:
        super().__init__(parent, objectName="remsSubmitDialog")
        self.state = state
        self.item = item
        self.setWindowTitle("Mark REMS form submitted")
        about = PlainLabel(f"Session {item.session_id} · {item.client_name} ({item.client_identifier}) · treatment "
                       f"{item.treatment_date.isoformat()} · due {item.due_on.isoformat()}")
        about.setTextFormat(Qt.TextFormat.PlainText)
        about.setWordWrap(True)
        today = state.services.rems.now().astimezone().date()
        self.date = QDateEdit(QDate(today.year, today.month, today.day), objectName="remsSubmitDate")
        self.date.setDisplayFormat("yyyy-MM-dd")
        self.date.setCalendarPopup(True)
        self.date.setAccessibleName("Date submitted")
        self.method = QComboBox(objectName="remsSubmitMethod")
        for m in METHODS:
            self.method.addItem(method_label(m), m)
        self.method.setAccessibleName("How it was submitted")
        self.confirmation = QLineEdit(objectName="remsSubmitConfirmation")
        self.confirmation.setMaxLength(200)
        self.confirmation.setAccessibleName("REMS confirmation number")
        form = QFormLayout()
        form.addRow("&Date submitted", self.date)
        form.addRow("&How", self.method)
        form.addRow("&Confirmation number", self.confirmation)
        self.message = PlainLabel("", objectName="remsSubmitMessage")
        self.message.setTextFormat(Qt.TextFormat.PlainText)
        self.message.setWordWrap(True)
        self.message.hide()
        self.save_button = QPushButton("Mark submitted", objectName="remsSubmitSave")
        self.save_button.setToolTip("Record the submission (Ctrl+Enter)")
        self.save_button.setShortcut("Ctrl+Return")
        theme.set_flag(self.save_button, "primary")
        buttons = QDialogButtonBox()
        buttons.addButton(QDialogButtonBox.StandardButton.Cancel)
        buttons.addButton(self.save_button, QDialogButtonBox.ButtonRole.ActionRole)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(about)
        layout.addLayout(form)
        layout.addWidget(self.message)
        layout.addWidget(buttons)
        self.save_button.clicked.connect(self._on_save)
        self.setMinimumWidth(520)
        self.confirmation.setFocus()

    def _on_save(self) -> None:
        actor = self.state.actor
        if actor is None or not self.save_button.isEnabled():
            return
        qd = self.date.date()
        when = date(qd.year(), qd.month(), qd.day())
        method, number, sid = self.method.currentData(), self.confirmation.text(), self.item.session_id
        rems = self.state.services.rems
        self.save_button.setEnabled(False)

        def failed(exc: Exception) -> None:
            self.save_button.setEnabled(True)
            set_message(self.message, one_line(exc, "Not recorded"), "danger")

        self.state.runner.submit(
            lambda: rems.mark_submitted(actor, sid, submitted_on=when, method=method, confirmation=number),
            lambda _item: self.accept(), failed)


class RemsDuePanel(QWidget):
    """Forms not yet submitted (oldest due first); "Show submitted" adds the filed ones."""

    loaded = Signal(list)  # list[FilingItem] not yet submitted

    def __init__(self, state: AppState, parent: QWidget | None = None) -> None:
        super().__init__(parent, objectName="remsDuePanel")
        self.state = state
        self.heading = PlainLabel("REMS monitoring forms", objectName="remsDueHeading")
        theme.set_flag(self.heading, "strong")
        self.show_filed = QCheckBox("Show &submitted", objectName="remsShowFiled")
        self.model = RemsDueModel(self)
        self.table = row_table("remsDueTable", "REMS monitoring forms due and overdue", self.model)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.table.horizontalHeader().setStretchLastSection(True)
        self.empty = PlainLabel("", objectName="remsDueEmpty")
        theme.set_flag(self.empty, "muted")
        self.submit_button = QPushButton("&Mark submitted…", objectName="remsMarkSubmitted")
        self.submit_button.setToolTip("Record that the selected form was submitted to the REMS (Ctrl+Shift+M)")
        top = QHBoxLayout()
        top.addWidget(self.heading)
        top.addStretch(1)
        top.addWidget(self.show_filed)
        top.addWidget(self.submit_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(top)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.empty)
        self.show_filed.toggled.connect(lambda _on: self.refresh())
        self.submit_button.clicked.connect(self.open_submit)
        self.table.selectionModel().currentRowChanged.connect(lambda _c, _p: self._update_button())
        shortcut = QShortcut(QKeySequence("Ctrl+Shift+M"), self)
        shortcut.setContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        shortcut.activated.connect(self.open_submit)
        self._loading = False
        self._update_button()

    @property
    def selected(self) -> FilingItem | None:
        index = self.table.currentIndex()
        return self.model.rows[index.row()] if index.isValid() and index.row() < len(self.model.rows) else None

    def refresh(self) -> None:
        actor = self.state.actor
        if actor is None or not may(actor.roles, Action.VIEW_RECORD) or self._loading:
            return
        rems, include = self.state.services.rems, self.show_filed.isChecked()
        self._loading = True

        def load() -> tuple[date, list[FilingItem]]:
            today = rems.now().astimezone().date()
            return today, rems.filings(actor, include_filed=include, today=today)

        self.state.runner.submit(load, self._on_loaded, self._on_failed)

    def _on_loaded(self, result: tuple[date, list[FilingItem]]) -> None:
        self._loading = False
        today, items = result
        keep = self.selected.session_id if self.selected else None
        self.model.today = today
        self.model.set_rows(items)
        waiting = [i for i in items if i.submission is None]
        self.heading.setText(counts_text(waiting))
        theme.set_severity(self.heading, "danger" if any(i.status is FilingStatus.OVERDUE for i in waiting)
                           else "warning" if waiting else "")
        self.empty.setText("" if items else "No esketamine monitoring form is waiting to be submitted.")
        self.empty.setVisible(not items)
        row = next((n for n, i in enumerate(items) if i.session_id == keep), 0 if items else None)
        if row is not None:
            self.table.selectRow(row)
        self._update_button()
        self.loaded.emit(waiting)

    def _on_failed(self, exc: Exception) -> None:
        self._loading = False
        self.empty.setText(one_line(exc, "REMS forms could not be loaded"))
        self.empty.show()

    def _update_button(self) -> None:
        item, actor = self.selected, self.state.actor
        self.submit_button.setEnabled(item is not None and item.submission is None and actor is not None
                                      and may(actor.roles, Action.FILE_REMS_FORM))

    def open_submit(self) -> SubmitDialog | None:
        item = self.selected
        if item is None or not self.submit_button.isEnabled():
            return None
        dialog = SubmitDialog(self.state, item, self)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.accepted.connect(self.refresh)
        dialog.open()
        return dialog


class RemsDueDialog(QDialog):
    """The REMS forms list on its own (from Today and the menu)."""

    def __init__(self, state: AppState, parent: QWidget | None = None) -> None:
        super().__init__(parent, objectName="remsDueDialog")
        self.setWindowTitle("REMS monitoring forms")
        self.panel = RemsDuePanel(state, self)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.panel, 1)
        layout.addWidget(buttons)
        self.setMinimumSize(860, 420)
        self.panel.refresh()
        self.panel.table.setFocus()
