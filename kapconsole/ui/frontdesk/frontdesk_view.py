"""The front desk: find or register a client, open a course, plan, move or cancel sessions, and see the rooms'
week. Every service call runs in the worker; dialogs stay open with what was refused."""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtCore import QModelIndex, Qt, QTimer
from PySide6.QtWidgets import (
    QHBoxLayout,
    QHeaderView,
    QLineEdit,
    QPushButton,
    QSplitter,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from kapconsole.domain.enums import SessionState
from kapconsole.domain.frontdesk import CourseStatus
from kapconsole.domain.values import Client, Course, SessionListItem
from kapconsole.ui.frontdesk.client_dialog import ClientDialog
from kapconsole.ui.frontdesk.forms import ElidedLabel, plain, show_errors
from kapconsole.ui.frontdesk.planning_dialogs import (
    CancelDialog,
    CourseDialog,
    PlanSessionDialog,
    RescheduleDialog,
)
from kapconsole.ui.frontdesk.week_view import WeekView
from kapconsole.ui.session.quick_entry import shortcut
from kapconsole.ui.shell.app_state import AppState
from kapconsole.ui.widgets.table_model import RowsTableModel, row_table

DEBOUNCE_MS = 250


class ClientsModel(RowsTableModel):
    HEADERS = ("Identifier", "Name", "Date of birth", "Allergies")

    def data(self, index: QModelIndex, role: int = Qt.ItemDataRole.DisplayRole) -> object:  # type: ignore[override]
        if not index.isValid() or role not in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.ToolTipRole):
            return None
        c: Client = self.rows[index.row()]
        return (c.identifier, c.name, c.date_of_birth.isoformat() if c.date_of_birth else "",
                "; ".join(a.describe() for a in c.allergy_list) or c.allergies)[index.column()]


class ClientSessionsModel(RowsTableModel):
    HEADERS = ("When", "Room", "Session", "State")

    def data(self, index: QModelIndex, role: int = Qt.ItemDataRole.DisplayRole) -> object:  # type: ignore[override]
        if not index.isValid() or role not in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.ToolTipRole):
            return None
        s: SessionListItem = self.rows[index.row()]
        number = f"{s.number_in_course} of {s.course_total}" if s.number_in_course else "single"
        return (f"{s.scheduled_at.astimezone():%Y-%m-%d %H:%M}", s.room, number, s.state.label)[index.column()]


@dataclass(frozen=True)
class ClientFile:
    client: Client
    courses: list[Course]
    sessions: list[SessionListItem]
    rooms: list[str]
    staff: list[tuple[int, str]]  # who may witness a consent


class FrontDeskView(QWidget):
    """The "Front desk" screen."""

    def __init__(self, state: AppState, parent: QWidget | None = None) -> None:
        super().__init__(parent, objectName="frontDesk")
        self.state = state
        self.file: ClientFile | None = None
        self.search = QLineEdit(objectName="frontDeskSearch")
        self.search.setPlaceholderText("Find a client by name or identifier (accents and case do not matter)")
        self.search.setAccessibleName("Find a client")
        self.search.setClearButtonEnabled(True)
        self.new_button = QPushButton("&New client", objectName="newClient")
        self.new_button.setToolTip("Register a new client (Ctrl+N)")
        self.edit_button = QPushButton("&Edit client", objectName="editClient")
        self.edit_button.setToolTip("Change the selected client's details (F2)")
        self.clients_model = ClientsModel(self)
        self.clients_table = row_table("frontDeskClients", "Clients", self.clients_model)
        self.clients_table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        self.clients_table.setTextElideMode(Qt.TextElideMode.ElideRight)
        self.clients_table.setWordWrap(False)

        self.detail = ElidedLabel("", "frontDeskClient")
        self.detail_allergies = ElidedLabel("", "frontDeskAllergies")
        self.detail_weight = ElidedLabel("", "frontDeskWeight")
        self.detail_escort = ElidedLabel("", "frontDeskEscort")
        self.courses_label = ElidedLabel("", "frontDeskCourses")
        self.new_course_button = QPushButton("New c&ourse", objectName="newCourse")
        self.edit_course_button = QPushButton("Edit co&urse", objectName="editCourse")
        self.plan_button = QPushButton("&Plan session", objectName="planSession")
        self.plan_button.setToolTip("Plan a session for the selected client (Ctrl+P)")
        self.sessions_model = ClientSessionsModel(self)
        self.sessions_table = row_table("frontDeskSessions", "The client's sessions", self.sessions_model)
        self.sessions_table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        self.move_button = QPushButton("&Move session", objectName="moveSession")
        self.cancel_button = QPushButton("Cance&l session", objectName="cancelSession")
        self.message = plain("", "frontDeskMessage", wrap=True)
        self.message.hide()

        left = QWidget()
        ll = QVBoxLayout(left)
        ll.setContentsMargins(0, 0, 0, 0)
        top = QHBoxLayout()
        top.addWidget(self.search, 1)
        top.addWidget(self.new_button)
        top.addWidget(self.edit_button)
        ll.addLayout(top)
        ll.addWidget(self.clients_table, 1)
        right = QWidget()
        rl = QVBoxLayout(right)
        rl.setContentsMargins(0, 0, 0, 0)
        rl.addWidget(self.detail)
        for w in (self.detail_allergies, self.detail_weight, self.detail_escort):
            rl.addWidget(w)
        rl.addWidget(self.courses_label)
        course_row = QHBoxLayout()
        for b in (self.new_course_button, self.edit_course_button, self.plan_button):
            course_row.addWidget(b)
        rl.addLayout(course_row)
        rl.addWidget(self.sessions_table, 1)
        session_row = QHBoxLayout()
        session_row.addWidget(self.move_button)
        session_row.addWidget(self.cancel_button)
        rl.addLayout(session_row)
        split = QSplitter()
        split.addWidget(left)
        split.addWidget(right)
        split.setStretchFactor(0, 3)
        split.setStretchFactor(1, 2)
        split.setChildrenCollapsible(False)
        clients_page = QWidget()
        cl = QVBoxLayout(clients_page)
        cl.addWidget(split, 1)
        self.week = WeekView(state)
        self.tabs = QTabWidget(objectName="frontDeskTabs")
        self.tabs.addTab(clients_page, "Clients")
        self.tabs.addTab(self.week, "Rooms this &week")
        layout = QVBoxLayout(self)
        layout.addWidget(self.tabs, 1)
        layout.addWidget(self.message)

        self._debounce = QTimer(self, singleShot=True, interval=DEBOUNCE_MS)
        self._debounce.timeout.connect(self.reload_clients)
        self.search.textChanged.connect(lambda _t: self._debounce.start())
        self.search.returnPressed.connect(self._on_search_enter)
        self.new_button.clicked.connect(self.new_client)
        self.edit_button.clicked.connect(self.edit_client)
        self.new_course_button.clicked.connect(lambda: self.course_dialog(None))
        self.edit_course_button.clicked.connect(self._edit_latest_course)
        self.plan_button.clicked.connect(self.plan_session)
        self.move_button.clicked.connect(self.move_session)
        self.cancel_button.clicked.connect(self.cancel_session)
        self.clients_table.selectionModel().currentRowChanged.connect(self._on_client_selected)
        self.clients_table.activated.connect(lambda _i: self.edit_client())
        self.tabs.currentChanged.connect(self._on_tab)
        shortcut(self, "Ctrl+N", self.new_client)
        shortcut(self, "F2", self.edit_client)
        shortcut(self, "Ctrl+P", self.plan_session)
        self._select_identifier: str | None = None
        self._sync_buttons()

    # ----- loading -------------------------------------------------------------------------------------
    def activate(self) -> None:
        self.reload_clients()
        if self.tabs.currentWidget() is self.week:
            self.week.show_week()
        self.search.setFocus()

    def reload_clients(self) -> None:
        text = self.search.text()
        clients = self.state.services.clinic.clients
        self.state.runner.submit(lambda: clients.search(text, limit=500), self._on_clients, self._on_failed)

    def _on_clients(self, rows: list[Client]) -> None:
        current = self.file.client.identifier if self.file else None
        wanted = self._select_identifier or current
        self._select_identifier = None
        self.clients_model.set_rows(rows)
        for i, c in enumerate(rows):
            if c.identifier == wanted:
                self.clients_table.selectRow(i)
                return
        if len(rows) == 1:  # the search found one client: show them
            self.clients_table.selectRow(0)
        else:
            self._show_file(None)

    def _on_search_enter(self) -> None:
        self._debounce.stop()
        self.reload_clients()
        if self.clients_model.rowCount():
            self.clients_table.setFocus()
            if not self.clients_table.currentIndex().isValid():
                self.clients_table.selectRow(0)

    def _on_client_selected(self, current: QModelIndex, _previous: QModelIndex) -> None:
        if not current.isValid():
            self._show_file(None)
            return
        self.load_file(self.clients_model.rows[current.row()].id)

    def load_file(self, client_id: int) -> None:
        clinic = self.state.services.clinic

        def work() -> ClientFile:
            client = clinic.client(client_id)
            sessions = [s for s in clinic.list_sessions(client=client.identifier, limit=500)
                        if s.client_identifier == client.identifier]
            staff = [(m.id, m.name) for m in self.state.services.staff.list_staff()]
            return ClientFile(client, clinic.courses(client_id), sessions, clinic.rooms(), staff)

        self.state.runner.submit(work, self._show_file, self._on_failed)

    def _show_file(self, file: ClientFile | None) -> None:
        self.file = file
        if file is None:
            self.detail.set_full_text("No client selected")
            for w in (self.detail_allergies, self.detail_weight, self.detail_escort):
                w.set_full_text("")
            self.courses_label.set_full_text("")
            self.sessions_model.set_rows([])
            self._sync_buttons()
            return
        c = file.client
        born = f", born {c.date_of_birth.isoformat()}" if c.date_of_birth else ""
        self.detail.set_full_text(f"{c.name} — {c.identifier}{born}")
        allergies = "; ".join(a.describe() for a in c.allergy_list) or c.allergies or "none recorded"
        weight = f"{c.weight_kg:g} kg on {c.weight_on.isoformat()}" if c.weight_kg and c.weight_on else "not recorded"
        escort = f"{c.escort_name} {c.escort_phone}".strip() or "none recorded"
        self.detail_allergies.set_full_text(f"Allergies: {allergies}")
        self.detail_weight.set_full_text(f"Weight: {weight}")
        self.detail_escort.set_full_text(f"Escort / driver: {escort}")
        if file.courses:
            self.courses_label.set_full_text("Courses: " + "; ".join(
                f"{co.title} ({co.status.label.lower()}, {co.planned_sessions} sessions)" for co in file.courses))
        else:
            self.courses_label.set_full_text("No course yet: open one with New course")
        self.sessions_model.set_rows(sorted(file.sessions, key=lambda s: s.scheduled_at))
        self._sync_buttons()

    def _on_tab(self, _index: int) -> None:
        if self.tabs.currentWidget() is self.week:
            self.week.show_week()

    def _sync_buttons(self) -> None:
        has = self.file is not None
        for b in (self.edit_button, self.new_course_button, self.plan_button):
            b.setEnabled(has)
        self.edit_course_button.setEnabled(has and bool(self.file and self.file.courses))
        self.move_button.setEnabled(has and bool(self.file and self.file.sessions))
        self.cancel_button.setEnabled(has and bool(self.file and self.file.sessions))

    def _on_failed(self, exc: Exception) -> None:
        show_errors(self.message, [str(exc)])

    # ----- actions -------------------------------------------------------------------------------------
    def _after(self, identifier: str | None = None) -> None:
        show_errors(self.message, [])
        if identifier:
            self._select_identifier = identifier
            if self.file is None or self.file.client.identifier != identifier:
                # A client just registered is shown even if the search typed before would not find them.
                self.search.blockSignals(True)
                self.search.setText(identifier)
                self.search.blockSignals(False)
        self.reload_clients()
        if self.file is not None:
            self.load_file(self.file.client.id)
        if self.tabs.currentWidget() is self.week:
            self.week.show_week()

    def _open(self, dialog) -> None:  # type: ignore[no-untyped-def]
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.open()

    def new_client(self) -> None:
        dialog = ClientDialog(self.state, None, self)
        dialog.saved.connect(lambda c: self._after(c.identifier))
        self._open(dialog)

    def edit_client(self) -> None:
        if self.file is None:
            return
        dialog = ClientDialog(self.state, self.file.client, self)
        dialog.saved.connect(lambda c: self._after(c.identifier))
        self._open(dialog)

    def course_dialog(self, course: Course | None) -> None:
        if self.file is None:
            return
        dialog = CourseDialog(self.state, self.file.client, course, self.file.staff, self)
        dialog.saved.connect(lambda _c: self._after())
        self._open(dialog)

    def _edit_latest_course(self) -> None:
        if self.file and self.file.courses:
            self.course_dialog(self.file.courses[-1])

    def plan_session(self) -> None:
        if self.file is None:
            return
        courses = [c for c in self.file.courses if c.status is CourseStatus.ACTIVE]
        dialog = PlanSessionDialog(self.state, self.file.client, courses, self.file.rooms, self)
        dialog.saved.connect(lambda _i: self._after())
        self._open(dialog)

    def _selected_session(self) -> SessionListItem | None:
        index = self.sessions_table.currentIndex()
        rows = self.sessions_model.rows
        if index.isValid():
            return rows[index.row()]
        planned = [s for s in rows if s.state is SessionState.PLANNED]
        return planned[0] if len(planned) == 1 else None

    def move_session(self) -> None:
        item = self._selected_session()
        if item is None:
            show_errors(self.message, ["Select the session to move."], "warning")
            return
        assert self.file is not None
        dialog = RescheduleDialog(self.state, item, self.file.rooms, self)
        dialog.saved.connect(lambda _i: self._after())
        self._open(dialog)

    def cancel_session(self) -> None:
        item = self._selected_session()
        if item is None:
            show_errors(self.message, ["Select the session to cancel."], "warning")
            return
        dialog = CancelDialog(self.state, item, self)
        dialog.saved.connect(lambda _i: self._after())
        self._open(dialog)
