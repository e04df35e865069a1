"""Clients and summaries: the therapist's view of a client's course, session by session.

Find a client by name or identifier; see their courses and sessions (date, "N of M", state, route and dose,
who signed); read a session's integration summary here, in the system's PDF viewer, or export it; and see the
course side by side (one column per session) in the course overview. Every service call runs in the worker.
"""

from __future__ import annotations

from PySide6.QtCore import QModelIndex, Qt, QTimer
from PySide6.QtGui import QShowEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QHBoxLayout,
    QHeaderView,
    QLineEdit,
    QListView,
    QPushButton,
    QSplitter,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from kapconsole.domain.enums import SessionState
from kapconsole.domain.rules import Action, may
from kapconsole.domain.values import Actor, Client
from kapconsole.ui.clients.client_models import (
    ALL_SESSIONS,
    NO_COURSE,
    ClientFile,
    ClientListModel,
    ClientSession,
    SessionsModel,
    load_client_file,
)
from kapconsole.ui.clients.course_overview import CourseOverview
from kapconsole.ui.clients.pdf_viewer import (
    BusyRow,
    SummaryViewer,
    key_text,
    open_externally,
    write_private_copy,
)
from kapconsole.ui.clients.summary_export import ExportDialog, one_line
from kapconsole.ui.session.quick_entry import set_message, shortcut
from kapconsole.ui.shell.app_state import AppState
from kapconsole.ui.shell.tasks import Lane
from kapconsole.ui.widgets.table_model import row_table
from kapconsole.ui.widgets.text import PlainLabel
from kapconsole.ui.widgets.theme import set_flag

DEBOUNCE_MS = 300
NOT_ALLOWED = "Clients and summaries are for therapists, medical staff and supervisors."


class ClientView(QWidget):
    """The "Clients and summaries" screen."""

    def __init__(self, state: AppState, parent: QWidget | None = None) -> None:
        super().__init__(parent, objectName="clientView")
        self.state = state
        self.file: ClientFile | None = None
        self._searching = False
        self._search_again = False
        self._loaded_once = False
        self._split = False
        self._client_token = 0
        self._pending_client: int | None = None
        self._summary_token = 0
        self._build()
        self._connect()
        state.actor_changed.connect(self._on_actor_changed)

    # ----- layout ----------------------------------------------------------------------------------------
    def _build(self) -> None:
        heading = PlainLabel("Clients and summaries")
        set_flag(heading, "heading")
        self.search = QLineEdit(objectName="clientSearch")
        self.search.setAccessibleName("Find a client by name or identifier")
        self.search.setPlaceholderText("Name or identifier")
        self.search.setToolTip(f"Find a client by name or identifier ({key_text('Ctrl+F')}); "
                               "↓ goes to the list")
        self.search.setClearButtonEnabled(True)
        search_label = PlainLabel("&Find")
        search_label.setBuddy(self.search)
        self.refresh_button = QPushButton("Refresh", objectName="clientRefresh")
        self.refresh_button.setToolTip(f"Reload clients and sessions ({key_text('F5')})")
        top = QHBoxLayout()
        top.addWidget(heading)
        top.addSpacing(24)
        top.addWidget(search_label)
        top.addWidget(self.search, 1)
        top.addWidget(self.refresh_button)

        self.client_model = ClientListModel(self)
        self.client_list = QListView(objectName="clientList")
        self.client_list.setAccessibleName("Clients")
        self.client_list.setModel(self.client_model)
        self.client_list.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.client_list.setAlternatingRowColors(True)
        self.client_empty = PlainLabel("", objectName="clientEmpty")
        self.client_empty.setWordWrap(True)
        set_flag(self.client_empty, "muted")
        self.client_empty.hide()

        self.details = PlainLabel("", objectName="clientDetails")
        self.details.setWordWrap(True)
        set_flag(self.details, "strong")
        self.course = QComboBox(objectName="clientCourse")
        self.course.setAccessibleName("Course")
        self.course.setToolTip(f"Which of the client's courses to show ({key_text('Alt+O')})")
        course_label = PlainLabel("C&ourse")
        course_label.setBuddy(self.course)
        course_row = QHBoxLayout()
        course_row.addWidget(course_label)
        course_row.addWidget(self.course, 1)

        self.session_model = SessionsModel(self)
        self.sessions = row_table("clientSessions", "Sessions of the course, oldest first", self.session_model)
        self.sessions.setWordWrap(True)
        self.sessions.verticalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header = self.sessions.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        # Date ("07 Nov 2026" over the time) and number fit their text; the rest share the width and wrap rather than push "signed by" out
        # of sight on a narrow pane or in the night theme's large type.
        for column in (0, 1):
            header.setSectionResizeMode(column, QHeaderView.ResizeMode.ResizeToContents)
        self.sessions.setTextElideMode(Qt.TextElideMode.ElideNone)

        self.open_button = self._button("summaryOpen", "Open summary", "Read the summary here", "Ctrl+O",
                                        self.open_summary)
        set_flag(self.open_button, "primary")
        self.external_button = self._button("summaryExternal", "PDF viewer", "Open the summary in the PDF viewer",
                                            "Ctrl+Shift+O", self.open_external)
        self.export_button = self._button("summaryExport", "Export…", "Export the summary to a PDF file",
                                          "Ctrl+S", self.export_summary)
        buttons = QHBoxLayout()
        buttons.addWidget(self.open_button)
        buttons.addWidget(self.external_button)
        buttons.addWidget(self.export_button)
        buttons.addStretch(1)
        self.busy = BusyRow("summaryBusy")
        self.message = PlainLabel("", objectName="clientMessage")
        self.message.setWordWrap(True)
        self.message.hide()
        hint = PlainLabel(f"{key_text('Ctrl+F')} find · ↑ ↓ choose · Enter open · {key_text('Ctrl+1')} summary · "
                      f"{key_text('Ctrl+2')} course overview", objectName="clientHint")
        hint.setWordWrap(True)
        set_flag(hint, "muted")

        left = QWidget(objectName="clientLeft")
        left_layout = QVBoxLayout(left)
        left_layout.setContentsMargins(0, 0, 6, 0)
        left_layout.addWidget(self.client_list, 1)  # the sessions get most of the height: 1 to 4
        left_layout.addWidget(self.client_empty)
        left_layout.addWidget(self.details)
        left_layout.addLayout(course_row)
        left_layout.addWidget(self.sessions, 4)
        left_layout.addLayout(buttons)
        left_layout.addWidget(self.busy)
        left_layout.addWidget(self.message)
        left_layout.addWidget(hint)

        self.viewer = SummaryViewer()
        self.overview = CourseOverview()
        self.tabs = QTabWidget(objectName="clientTabs")
        self.tabs.addTab(self.viewer, "Summary")
        self.tabs.addTab(self.overview, "Course overview")
        self.tabs.setTabToolTip(0, f"The selected session's integration summary ({key_text('Ctrl+1')})")
        self.tabs.setTabToolTip(1, f"The course side by side, one column per session ({key_text('Ctrl+2')})")
        self.splitter = QSplitter(Qt.Orientation.Horizontal, objectName="clientSplitter")
        self.splitter.addWidget(left)
        self.splitter.addWidget(self.tabs)
        self.splitter.setStretchFactor(0, 9)
        self.splitter.setStretchFactor(1, 11)
        self.splitter.setChildrenCollapsible(False)

        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.splitter, 1)

    def _button(self, name: str, text: str, tip: str, keys: str, slot: object) -> QPushButton:
        button = QPushButton(text, objectName=name)
        button.setToolTip(f"{tip} ({key_text(keys)})")
        button.setAccessibleName(tip)
        button.clicked.connect(slot)
        button.setEnabled(False)
        shortcut(self, keys, slot)  # type: ignore[arg-type]
        return button

    def _connect(self) -> None:
        self._debounce = QTimer(self)
        self._debounce.setSingleShot(True)
        self._debounce.setInterval(DEBOUNCE_MS)
        self._debounce.timeout.connect(self.refresh)
        self.search.textChanged.connect(lambda _t: self._debounce.start())
        self.search.returnPressed.connect(self._on_search_entered)
        self.refresh_button.clicked.connect(self.refresh)
        self.client_list.selectionModel().currentChanged.connect(self._on_client_changed)
        self.client_list.activated.connect(lambda _i: self.sessions.setFocus())
        self.course.activated.connect(lambda _i: self._show_course())
        self.sessions.selectionModel().currentRowChanged.connect(lambda *_a: self._update_buttons())
        self.sessions.activated.connect(lambda _i: self.open_summary())
        shortcut(self, "Ctrl+F", self.focus_search)
        shortcut(self, "F5", self.refresh)
        shortcut(self, "Ctrl+1", lambda: self.tabs.setCurrentWidget(self.viewer))
        shortcut(self, "Ctrl+2", lambda: self.tabs.setCurrentWidget(self.overview))
        # ↓ from the search field goes to the list, as in a browser's address bar.
        down = shortcut(self.search, "Down", self.client_list.setFocus)
        down.setContext(Qt.ShortcutContext.WidgetShortcut)

    # ----- public API ------------------------------------------------------------------------------------
    @property
    def allowed(self) -> bool:
        actor = self.state.actor
        return actor is not None and may(actor.roles, Action.VIEW_RECORD)

    def activate(self) -> None:
        """Called when the screen is shown: load the client list the first time, and put the cursor in Find."""
        if not self._loaded_once:
            self.refresh()
        self.focus_search()

    def focus_search(self) -> None:
        self.search.setFocus(Qt.FocusReason.ShortcutFocusReason)
        self.search.selectAll()

    def refresh(self) -> None:
        """Search again with the text in Find (and reload the selected client)."""
        self._debounce.stop()
        if not self.allowed:
            self.reset(NOT_ALLOWED)
            return
        if self._searching:
            self._search_again = True
            return
        self._searching = True
        self._loaded_once = True
        text = self.search.text().strip()
        clinic = self.state.services.clinic
        self.state.runner.submit(lambda: clinic.find_clients(text), self._on_found, self._on_search_failed)

    def reset(self, text: str = "") -> None:
        """Forget every client detail on screen (another role signed in)."""
        self._client_token += 1
        self._pending_client = None
        self._summary_token += 1
        self._loaded_once = False
        self.file = None
        self.client_model.set_clients([])
        self._show_file(None)
        self.busy.stop()
        set_message(self.message, text, "warning" if text else "")

    def current_client(self) -> Client | None:
        index = self.client_list.currentIndex()
        return self.client_model.clients[index.row()] if index.isValid() else None

    def current_session(self) -> ClientSession | None:
        index = self.sessions.currentIndex()
        if not index.isValid() or index.row() >= len(self.session_model.rows):
            return None
        return self.session_model.rows[index.row()]

    # ----- clients -----------------------------------------------------------------------------------------
    def _on_search_entered(self) -> None:
        self.refresh()
        self.client_list.setFocus()

    def _on_found(self, clients: list[Client]) -> None:
        self._searching = False
        if self._search_again:
            self._search_again = False
            self.refresh()
            return
        if not self.allowed:
            return
        keep = self.current_client()
        self.client_list.selectionModel().blockSignals(True)
        self.client_model.set_clients(clients)
        self.client_list.selectionModel().blockSignals(False)
        text = self.search.text().strip()
        self.client_empty.setText("" if clients else (f"No client matches “{text}”." if text else "No clients yet."))
        self.client_empty.setVisible(not clients)
        row = next((r for r, c in enumerate(clients) if keep is not None and c.id == keep.id), -1)
        if row < 0 and len(clients) == 1:
            row = 0
        if row >= 0:
            self.client_list.setCurrentIndex(self.client_model.index(row))
            self._load_client(clients[row].id)  # a reload shows what changed since (once: see _load_client)
        else:
            self._show_file(None)

    def _on_search_failed(self, exc: Exception) -> None:
        self._searching = False
        self._search_again = False
        set_message(self.message, one_line(exc, "Could not search the clients"), "danger")

    def _on_client_changed(self, current: QModelIndex, _previous: QModelIndex) -> None:
        if current.isValid():
            self._load_client(self.client_model.clients[current.row()].id)
        else:
            self._show_file(None)

    def _load_client(self, client_id: int) -> None:
        actor = self.state.actor
        if actor is None or not self.allowed or client_id == self._pending_client:
            return
        self._pending_client = client_id
        self._client_token += 1
        token = self._client_token
        services = self.state.services
        self.message.hide()
        self.state.runner.submit(lambda: load_client_file(services, actor, client_id),
                                 lambda file: self._on_client_loaded(token, file),
                                 lambda exc: self._on_client_failed(token, exc), receiver=self)

    def _on_client_loaded(self, token: int, file: ClientFile) -> None:
        if token == self._client_token:
            self._pending_client = None
        if token == self._client_token and self.allowed:
            self._show_file(file)

    def _on_client_failed(self, token: int, exc: Exception) -> None:
        if token == self._client_token:
            self._pending_client = None
            set_message(self.message, one_line(exc, "Could not load the client's sessions"), "danger")

    def _show_file(self, file: ClientFile | None) -> None:
        same_client = file is not None and self.file is not None and self.file.client.id == file.client.id
        chosen_course = self.course.currentData() if same_client else None
        session = self.current_session() if same_client else None
        chosen_session = session.id if session is not None else None
        self.file = file
        self.course.clear()
        if file is None:
            self.details.setText("")
            self.session_model.set_rows([])
            self.overview.show_course("", [], planned=0)
            self.viewer.clear()
            self._update_buttons()
            return
        if not same_client:
            self.viewer.clear()
        client = file.client
        born = f" · born {client.date_of_birth:%d %b %Y}" if client.date_of_birth else ""
        allergies = client.allergies.strip() or "none recorded"
        self.details.setText(f"{client.name} · {client.identifier}{born} · allergies: {allergies}")
        for course in file.courses:
            held = sum(1 for s in file.in_course(course.id) if s.held)
            self.course.addItem(f"{course.title} — {held} of {course.planned_sessions} held", course.id)
        if file.in_course(NO_COURSE):
            self.course.addItem("Sessions outside a course", NO_COURSE)
        if self.course.count() > 1:
            self.course.addItem("All sessions", ALL_SESSIONS)
        if self.course.count() == 0:
            self.course.addItem("No sessions yet", ALL_SESSIONS)
        latest = next((s for s in reversed(file.sessions) if s.held), None)
        wanted = chosen_course if chosen_course is not None else (
            (latest.info.course_id or NO_COURSE) if latest else self.course.itemData(0))
        index = self.course.findData(wanted)
        self.course.setCurrentIndex(max(index, 0))
        self._show_course(chosen_session)

    def _show_course(self, session_id: int | None = None) -> None:
        file = self.file
        if file is None:
            return
        choice = self.course.currentData()
        sessions = file.in_course(choice if isinstance(choice, int) else ALL_SESSIONS)
        self.session_model.set_rows(sessions)
        held = [s for s in sessions if s.held]
        row = next((r for r, s in enumerate(sessions) if s.id == session_id), -1)
        if row < 0 and held:
            row = sessions.index(held[-1])  # the latest session held: the one most often wanted
        if row >= 0:
            self.sessions.selectRow(row)
        title = self.course.currentText().split(" — ")[0] if sessions else ""
        self.overview.show_course(title, [s.line for s in held], planned=len(sessions) - len(held))
        self._update_buttons()

    # ----- summaries ---------------------------------------------------------------------------------------
    def _summary_allowed(self) -> tuple[ClientSession | None, Actor | None]:
        item, actor = self.current_session(), self.state.actor
        if item is None or actor is None or not item.held or not may(actor.roles, Action.EXPORT_REPORT):
            return None, None
        return item, actor

    def _update_buttons(self) -> None:
        item = self.current_session()
        ok = self._summary_allowed()[0] is not None
        for button in (self.open_button, self.external_button, self.export_button):
            button.setEnabled(ok)
        if item is not None and item.info.state is SessionState.PLANNED:
            set_message(self.message, "This session has not been held yet: there is no summary.", "")
        elif self.message.property("severity") == "":
            self.message.hide()

    def open_summary(self) -> None:
        """Prepare the selected session's summary in the worker and show it in the Summary tab."""
        item, actor = self._summary_allowed()
        if item is None or actor is None:
            return
        self._summary_token += 1
        token = self._summary_token
        self.tabs.setCurrentWidget(self.viewer)
        self.viewer.show_busy(item.short_title)  # the progress shows there, where the summary will appear
        self.busy.stop()
        self.message.hide()
        reports = self.state.services.reports
        sid = item.id
        self.state.runner.submit(lambda: reports.pdf(actor, sid),
                                 lambda content: self._on_summary_ready(token, item, content),
                                 lambda exc: self._on_summary_failed(token, exc), receiver=self, lane=Lane.REPORTS)

    def _on_summary_ready(self, token: int, item: ClientSession, content: bytes) -> None:
        if token != self._summary_token:
            return
        self.busy.stop()
        self.viewer.show_pdf(content, item.short_title)

    def _on_summary_failed(self, token: int, exc: Exception) -> None:
        if token != self._summary_token:
            return
        self.busy.stop()
        text = one_line(exc, "Could not prepare the summary")
        self.viewer.show_error(text)
        set_message(self.message, text, "danger")

    def open_external(self) -> None:
        """Write the summary to a private temporary file (0600) and hand it to the desktop's PDF viewer."""
        item, actor = self._summary_allowed()
        if item is None or actor is None:
            return
        self._summary_token += 1
        token = self._summary_token
        self.busy.start(f"Preparing summary of {item.info.course_label} for the PDF viewer…")
        self.message.hide()
        reports = self.state.services.reports
        sid, name = item.id, item.file_name.removesuffix(".pdf")
        self.state.runner.submit(lambda: write_private_copy(reports.pdf(actor, sid), name),
                                 lambda path: self._on_external_ready(token, path),
                                 lambda exc: self._on_summary_failed(token, exc), receiver=self, lane=Lane.REPORTS)

    def _on_external_ready(self, token: int, path: object) -> None:
        if token != self._summary_token:
            return
        self.busy.stop()
        if not open_externally(path):  # type: ignore[arg-type]
            set_message(self.message, "No PDF viewer is set up on this workstation: use Export instead.", "warning")

    def export_summary(self) -> None:
        item, actor = self._summary_allowed()
        if item is None or actor is None:
            return
        dialog = ExportDialog(self.state, item.id, item.file_name, item.title, self)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.exported.connect(self._on_exported)
        dialog.finished.connect(self._on_dialog_finished)
        dialog.open()

    def _on_dialog_finished(self, _result: int) -> None:
        self.window().activateWindow()  # the screen's shortcuts need their window active again
        self.sessions.setFocus()

    def _on_exported(self, path: str, protected: bool) -> None:
        set_message(self.message, f"Saved {path}" + (" (password protected)" if protected else ""), "ok")

    # ----- events ----------------------------------------------------------------------------------------
    def _on_actor_changed(self, actor: Actor | None) -> None:
        if actor is None or not may(actor.roles, Action.VIEW_RECORD):
            self.reset(NOT_ALLOWED if actor is not None else "")
        else:
            self._update_buttons()

    def showEvent(self, event: QShowEvent) -> None:  # noqa: N802 (Qt override)
        super().showEvent(event)
        if not self._split:
            self._split = True
            width = max(self.splitter.width(), 1)
            self.splitter.setSizes([width * 9 // 20, width - width * 9 // 20])
        if not self._loaded_once:
            self.refresh()
