"""The main window: one stack of screens, the banners, the menus and the status bar.

Screens: the lock screen (also the first sign-in), Today, the pre-session checklist, the live session, and
(for supervisors and administrators) the supervisor board and the audit trail. One SessionController holds
the open session; the screen follows the session's state.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QCloseEvent, QKeySequence
from PySide6.QtWidgets import (
    QDialog,
    QMainWindow,
    QMessageBox,
    QStackedWidget,
    QToolBar,
    QVBoxLayout,
    QWidget,
)

from kapconsole.domain.enums import Role, SessionState
from kapconsole.domain.errors import DatabaseUnavailable, DomainError
from kapconsole.domain.record import SessionRecord
from kapconsole.domain.rules import Action, may
from kapconsole.domain.values import Actor, SessionInfo
from kapconsole.ui.checklist.checklist_view import ChecklistView
from kapconsole.ui.session.controller import SessionController
from kapconsole.ui.shell import settings as cfg
from kapconsole.ui.shell.app_state import AppState
from kapconsole.ui.shell.lock import IdleWatcher, LockScreen, ask_idle_minutes
from kapconsole.ui.shell.sign_in import SignInDialog
from kapconsole.ui.today.today_view import TodayView
from kapconsole.ui.widgets import theme
from kapconsole.ui.widgets.banner import Banner
from kapconsole.ui.widgets.text import PlainLabel

if TYPE_CHECKING:  # built on first use: see MainWindow.session_view, .board and .audit
    from kapconsole.ui.board.audit_view import AuditView
    from kapconsole.ui.board.board_view import BoardView
    from kapconsole.ui.clients.client_view import ClientView
    from kapconsole.ui.frontdesk.frontdesk_view import FrontDeskView
    from kapconsole.ui.session.session_view import SessionView

# Nothing is queued: what failed stays typed in its form, and the person saves it again.
OFFLINE_TEXT = "NOT SAVED — the database cannot be written; what you typed stays in its form"


class MainWindow(QMainWindow):
    def __init__(self, state: AppState, parent: QWidget | None = None) -> None:
        super().__init__(parent, objectName="mainWindow")
        self.state = state
        self.controller = SessionController(state, self)
        # The platform adds the application's name after the title unless the title already ends with it.
        self.setWindowTitle(f"{state.workstation} — KAP Console")
        self._quit_confirmed = False
        self.quit_question: QMessageBox | None = None
        self._locked = True
        self._page_before_lock: QWidget | None = None
        self._hidden_dialogs: list[QDialog] = []
        self._signed_in_once = False
        self._read_only = False  # the session view shows a record opened from the supervisor board
        self._night_shown: bool | None = None

        self.error_banner = Banner("errorBanner", "warning", dismissable=True)
        self.offline_banner = Banner("offlineBanner", "danger", dismissable=False)
        self.stack = QStackedWidget(objectName="screens")
        self.lock_screen = LockScreen(state)
        self.today = TodayView(state)
        self.checklist = ChecklistView(state, self.controller)
        # The live session screen (its chart needs pyqtgraph), the board and the audit trail are built the
        # first time they are shown, so the first window (the sign-in screen) comes up quickly.
        self._session_view: SessionView | None = None
        self._board: BoardView | None = None
        self._audit: AuditView | None = None
        self._clients: ClientView | None = None
        self._frontdesk: FrontDeskView | None = None
        for page in (self.lock_screen, self.today, self.checklist):
            self.stack.addWidget(page)
        central = QWidget()
        layout = QVBoxLayout(central)
        layout.setContentsMargins(6, 6, 6, 6)
        layout.addWidget(self.offline_banner)
        layout.addWidget(self.error_banner)
        layout.addWidget(self.stack, 1)
        self.setCentralWidget(central)

        self.status_user = PlainLabel("", objectName="statusUser")
        self.status_workstation = PlainLabel(f"Workstation: {state.workstation}", objectName="statusWorkstation")
        name = state.services.database_name
        # A long file path must not push "Signed in: …" (whom entries are recorded under) out of sight.
        short = name if len(name) <= 40 else f"{name[:12]}…{name[-27:]}"
        self.status_database = PlainLabel(f"Database: {short}", objectName="statusDatabase")
        self.status_database.setToolTip(f"Database: {name}")
        bar = self.statusBar()
        bar.addWidget(self.status_user, 1)
        bar.addPermanentWidget(self.status_workstation)
        bar.addPermanentWidget(self.status_database)

        self._make_actions()
        self.idle = IdleWatcher(self)
        self.idle.idle.connect(self._on_idle)

        self.lock_screen.unlocked.connect(self._on_unlocked)
        self.today.open_session.connect(self.open_session)
        self.today.rems_button.clicked.connect(self.show_rems_forms)
        self.today.failed.connect(self.show_error)
        self.today.loaded.connect(self._on_today_loaded)
        self.checklist.dose_requested.connect(self.open_dose_dialog)
        self.controller.record_changed.connect(self._on_record_changed)
        # A new record means the last action went through: an older refusal no longer applies.
        self.controller.record_changed.connect(lambda _r: self.error_banner.hide())
        self.controller.error.connect(self.error_banner.show_message)
        self.controller.connection_changed.connect(self._on_connection_changed)
        state.actor_changed.connect(self._on_actor_changed)
        self._offline_message = ""
        self.stack.currentChanged.connect(self._on_page_changed)
        self._show_lock(locked=False)
        self._sync_theme()
        self.resize(1280, 860)

    # ----- screens built on first use ------------------------------------------------------------------
    @property
    def session_view(self) -> SessionView:
        """The live session screen, built the first time a session is shown."""
        if self._session_view is None:
            from kapconsole.ui.session.session_view import SessionView

            view = SessionView(self.state, self.controller)  # shows the open record, if any, at once
            view.set_night(theme.is_night() if self._night_shown is None else self._night_shown)
            if self._read_only:
                view.set_read_only(True)
            view.dose_requested.connect(self.open_dose_dialog)
            view.discharge_requested.connect(self.open_discharge_dialog)
            view.back_requested.connect(self.back_to_board)
            # Keep the order the view had when it was built up front: it takes a new record before this
            # window switches screens and moves the keyboard focus into it.
            self.controller.record_changed.disconnect(self._on_record_changed)
            self.controller.record_changed.connect(self._on_record_changed)
            self.stack.addWidget(view)
            self._session_view = view
        return self._session_view

    @property
    def board(self) -> BoardView:
        """The supervisor board, built the first time it is shown."""
        if self._board is None:
            from kapconsole.ui.board.board_view import BoardView

            self._board = BoardView(self.state)
            self._board.open_session.connect(self.open_session_read_only)
            self.stack.addWidget(self._board)
        return self._board

    @property
    def audit(self) -> AuditView:
        """The audit trail, built the first time it is shown."""
        if self._audit is None:
            from kapconsole.ui.board.audit_view import AuditView

            self._audit = AuditView(self.state)
            self.stack.addWidget(self._audit)
        return self._audit

    @property
    def clients(self) -> ClientView:
        """Clients and summaries, built the first time it is shown."""
        if self._clients is None:
            from kapconsole.ui.clients.client_view import ClientView

            self._clients = ClientView(self.state)
            self.stack.addWidget(self._clients)
        return self._clients

    @property
    def frontdesk(self) -> FrontDeskView:
        """The front desk, built the first time it is shown."""
        if self._frontdesk is None:
            from kapconsole.ui.frontdesk.frontdesk_view import FrontDeskView

            self._frontdesk = FrontDeskView(self.state)
            self.stack.addWidget(self._frontdesk)
        return self._frontdesk

    # ----- menus and shortcuts -------------------------------------------------------------------------
    def _action(self, name: str, text: str, shortcut: str | None, slot: object, *, checkable: bool = False) -> QAction:
        action = QAction(text, self, objectName=name)
        if shortcut:
            action.setShortcut(QKeySequence(shortcut))
            action.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
        plain = text.replace("&", "").rstrip("…")
        action.setToolTip(f"{plain} ({QKeySequence(shortcut).toString(QKeySequence.SequenceFormat.NativeText)})"
                          if shortcut else plain)
        action.setCheckable(checkable)
        (action.toggled if checkable else action.triggered).connect(slot)
        self.addAction(action)
        return action

    def _make_actions(self) -> None:
        a = self._action
        self.act_today = a("actionToday", "&Today", "Ctrl+Shift+T", self.show_today)
        self.act_switch = a("actionSwitchUser", "&Switch user…", "Ctrl+U", self.switch_user)
        self.act_lock = a("actionLock", "&Lock console", "Ctrl+L", self.lock)
        self.act_idle = a("actionIdleLock", "Lock after &idle time…", "Ctrl+Shift+L", self.set_idle_time)
        self.act_quit = a("actionQuit", "&Quit", "Ctrl+Q", self.request_quit)
        self.act_night = a("actionNight", "&Night mode", "Ctrl+Shift+N", self.set_night, checkable=True)
        self.act_board = a("actionBoard", "Supervisor &board", "Ctrl+B", self.show_board)
        self.act_audit = a("actionAudit", "&Audit trail", "Ctrl+Alt+A", self.show_audit)
        self.act_clients = a("actionClients", "&Clients and summaries", "Ctrl+Shift+C", self.show_clients)
        self.act_frontdesk = a("actionFrontDesk", "&Front desk", "Ctrl+Shift+F", self.show_frontdesk)
        self.act_setup = a("actionClinicSetup", "&Staff and rooms…", "Ctrl+Alt+S", self.show_clinic_setup)
        self.act_rems = a("actionRemsForms", "&REMS forms due…", "Ctrl+Alt+F", self.show_rems_forms)
        menu = self.menuBar()
        console = menu.addMenu("&Console")
        console.setToolTipsVisible(True)
        for act in (self.act_today, self.act_switch, self.act_lock, self.act_idle):
            console.addAction(act)
        console.addSeparator()
        console.addAction(self.act_setup)
        console.addSeparator()
        console.addAction(self.act_quit)
        view = menu.addMenu("&View")
        view.setToolTipsVisible(True)
        view.addAction(self.act_night)
        view.addSeparator()
        view.addAction(self.act_frontdesk)
        view.addAction(self.act_clients)
        view.addAction(self.act_board)
        view.addAction(self.act_audit)
        view.addAction(self.act_rems)
        tools = QToolBar("Main", objectName="mainToolBar")
        tools.setMovable(False)
        for act in (self.act_today, self.act_switch, self.act_lock, self.act_night, self.act_frontdesk,
                    self.act_clients, self.act_board):
            tools.addAction(act)
        self.addToolBar(tools)
        self.act_night.blockSignals(True)
        self.act_night.setChecked(theme.is_night())
        self.act_night.blockSignals(False)

    def _update_actions(self) -> None:
        actor = self.state.actor
        roles = actor.roles if actor and not self._locked else frozenset()
        signed = actor is not None and not self._locked
        self.act_today.setEnabled(signed)
        self.act_switch.setEnabled(signed)
        self.act_lock.setEnabled(signed)
        self.act_idle.setEnabled(signed)
        # The board is the supervisors' (clinical records and the audit trail); the audit trail is also the
        # administrators'. The services check again.
        self.act_board.setEnabled(signed and may(roles, Action.VIEW_AUDIT) and may(roles, Action.VIEW_RECORD))
        self.act_audit.setEnabled(signed and may(roles, Action.VIEW_AUDIT))
        self.act_rems.setEnabled(signed and may(roles, Action.VIEW_RECORD))
        self.act_clients.setEnabled(signed and may(roles, Action.VIEW_RECORD))
        self.act_frontdesk.setEnabled(signed and (may(roles, Action.MANAGE_CLIENTS) or may(roles, Action.PLAN_SESSION)))
        self.act_setup.setEnabled(signed and (may(roles, Action.ADMINISTER_USERS) or may(roles, Action.MANAGE_ROOMS)))

    # ----- signing in, switching, locking --------------------------------------------------------------
    @property
    def locked(self) -> bool:
        return self._locked

    def _show_lock(self, *, locked: bool) -> None:
        self._locked = True
        self.lock_screen.prepare(locked=locked)
        self.stack.setCurrentWidget(self.lock_screen)
        self.today.deactivate()
        self._update_actions()
        self._update_status()
        self.lock_screen.form.focus_first()

    def lock(self) -> None:
        """Cover the window (no client details) until someone signs in. Half-typed dialogs are kept hidden."""
        if self._locked:
            return
        self._page_before_lock = self.stack.currentWidget()
        for dialog in self.findChildren(QDialog):
            if dialog.isVisible():
                if isinstance(dialog, SignInDialog):
                    dialog.reject()
                else:
                    dialog.hide()
                    self._hidden_dialogs.append(dialog)
        self.error_banner.hide()
        self._show_lock(locked=True)

    def set_idle_time(self) -> None:
        """How long this workstation waits without input before it locks (remembered per workstation)."""
        if ask_idle_minutes(self):
            self.idle.reload()

    def _on_idle(self) -> None:
        if not self._locked and self.state.actor is not None:
            self.lock()
        else:
            self.idle.start()

    def _on_unlocked(self, actor: Actor) -> None:
        self._locked = False
        self.state.set_actor(actor)
        self.idle.reload()
        if not self._signed_in_once:
            self._signed_in_once = True
            self._restore_session()
            return
        page = self._page_before_lock or self.today
        self._page_before_lock = None
        self.stack.setCurrentWidget(page)
        if page is self.today:
            self.today.activate()
        else:
            self._focus_page(page)
            if self.controller.record is not None:
                self._on_record_changed(self.controller.record)
        for dialog in self._hidden_dialogs:
            dialog.show()
        self._hidden_dialogs.clear()
        self._update_actions()

    def switch_user(self) -> None:
        if self._locked:
            return
        dialog = SignInDialog(self.state, self)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.finished.connect(lambda _r: self.activateWindow())
        dialog.open()

    def _on_actor_changed(self, _actor: Actor | None) -> None:
        self._update_status()
        self._update_actions()

    def _update_status(self) -> None:
        actor = self.state.actor
        if self._locked:
            self.status_user.setText("Locked" if self._signed_in_once else "Nobody signed in")
        elif actor is not None:
            roles = ", ".join(r.label for r in sorted(actor.roles))
            self.status_user.setText(f"Signed in: {actor.name} ({roles})")
        else:
            self.status_user.setText("Nobody signed in")

    # ----- screens -------------------------------------------------------------------------------------
    def show_today(self) -> None:
        if self._locked:
            return
        self._set_read_only(False)
        self.controller.close()
        cfg.remove(cfg.open_session_key(self.state.workstation))
        self.stack.setCurrentWidget(self.today)
        self.today.activate()

    def show_board(self) -> None:
        if self._locked or not self.act_board.isEnabled():
            return
        if self._read_only:
            self._set_read_only(False)
            self.controller.close()
        self.today.deactivate()
        self.stack.setCurrentWidget(self.board)

    def show_audit(self) -> None:
        if self._locked or not self.act_audit.isEnabled():
            return
        self.today.deactivate()
        self.stack.setCurrentWidget(self.audit)

    def show_rems_forms(self) -> None:
        """Esketamine REMS monitoring forms due and overdue, and marking one submitted (Ctrl+Alt+F)."""
        if self._locked or not self.act_rems.isEnabled():
            return
        from kapconsole.ui.board.rems_due import RemsDueDialog

        dialog = RemsDueDialog(self.state, self)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.finished.connect(lambda _r: self.today.refresh())
        dialog.open()

    def show_clients(self) -> None:
        """Clients and summaries: a client's course, session by session (therapists, medical, supervisors)."""
        if self._locked or not self.act_clients.isEnabled():
            return
        self.today.deactivate()
        self.stack.setCurrentWidget(self.clients)
        self.clients.activate()

    def show_frontdesk(self) -> None:
        """The front desk: clients, courses, planning sessions, the rooms' week."""
        if self._locked or not self.act_frontdesk.isEnabled():
            return
        self.today.deactivate()
        self.stack.setCurrentWidget(self.frontdesk)
        self.frontdesk.activate()

    def show_clinic_setup(self) -> None:
        """Staff accounts and rooms (administrators)."""
        if self._locked or not self.act_setup.isEnabled():
            return
        from kapconsole.ui.frontdesk.clinic_setup import ClinicSetupDialog

        dialog = ClinicSetupDialog(self.state, self)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.open()

    def open_session(self, session_id: int) -> None:
        """Open a session; the screen follows its state once the record has loaded."""
        cfg.write(cfg.open_session_key(self.state.workstation), session_id)
        self._set_read_only(False)
        self.today.deactivate()
        self.controller.open(session_id)

    def open_session_read_only(self, session_id: int) -> None:
        """Open a session from the supervisor board: header, chart and timeline, nothing to enter or amend.

        Not remembered for restart recovery (the room's workstation owns the session). Discharge stays
        available (Ctrl+Shift+D); Esc or "Back to board" returns to the board.
        """
        if self._locked:
            return
        self._set_read_only(True)
        self.today.deactivate()
        self.controller.open(session_id)

    def back_to_board(self) -> None:
        if self._read_only:
            self.show_board()

    def _set_read_only(self, on: bool) -> None:
        if self._read_only != on:
            self._read_only = on
            if self._session_view is not None:  # a view built later starts in this mode
                self._session_view.set_read_only(on)

    def _restore_session(self) -> None:
        """After a restart: reopen the session that was open at this workstation, if it is still active."""
        key = cfg.open_session_key(self.state.workstation)
        remembered = cfg.read_int(key, 0)
        actor = self.state.actor
        if not remembered or actor is None or not may(actor.roles, Action.VIEW_RECORD):
            self.show_today()
            return
        clinic = self.state.services.clinic

        def found(info: SessionInfo) -> None:
            if info.state.is_active:
                self.open_session(info.id)
            else:
                self.show_today()

        def failed(exc: Exception) -> None:
            self.show_today()
            if not isinstance(exc, DomainError) or isinstance(exc, DatabaseUnavailable):
                self.show_error(exc)

        self.state.runner.submit(lambda: clinic.session(remembered), found, failed)

    def _on_record_changed(self, record: SessionRecord) -> None:
        if self._locked:
            self._page_before_lock = self._page_for(record)
            return
        page = self._page_for(record)
        if page is self.today:
            return
        if self.stack.currentWidget() is not page:
            self.stack.setCurrentWidget(page)
            if page is self.checklist:
                self.checklist.show_record(record)
            self._focus_page(page)
        if record.info.state.is_closed and not self._read_only:
            cfg.remove(cfg.open_session_key(self.state.workstation))

    def _focus_page(self, page: QWidget) -> None:
        """Put the keyboard in the new screen, so its shortcuts work without a click first."""
        if page is self.checklist:
            self.checklist.focus_first_open_item()
        elif page is self._session_view:
            self.session_view.focus_observation()
        else:
            page.setFocus()

    def _page_for(self, record: SessionRecord) -> QWidget:
        if self._read_only:
            return self.session_view
        state = record.info.state
        if state is SessionState.PLANNED:
            return self.today
        if state is SessionState.CHECKLIST:
            return self.checklist
        return self.session_view

    def open_dose_dialog(self) -> None:
        if self._locked or self.controller.record is None:
            return
        from kapconsole.ui.session.dose_dialog import DoseDialog

        dialog = DoseDialog(self.state, self.controller, self)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.finished.connect(lambda _r: self.activateWindow())
        dialog.open()

    def open_discharge_dialog(self) -> None:
        if self._locked or self.controller.record is None:
            return
        from kapconsole.ui.discharge.discharge_view import DischargeDialog

        dialog = DischargeDialog(self.state, self.controller, self)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.open()

    # ----- theme and messages --------------------------------------------------------------------------
    def set_night(self, night: bool) -> None:
        """Night or day for the context on screen (Ctrl+Shift+N); remembered for that context only."""
        theme.remember_night(night, self._theme_context())
        self._sync_theme()

    def _theme_context(self) -> str:
        """The session screens (a dim room) or everything else; the lock screen keeps the screen it covers."""
        page = self.stack.currentWidget()
        if page is self.lock_screen and self._page_before_lock is not None:
            page = self._page_before_lock
        if page is self.checklist or (page is self._session_view and not self._read_only):
            return theme.SESSION
        return theme.ELSEWHERE

    def _sync_theme(self) -> None:
        context = self._theme_context()
        night = theme.remembered_night(context)
        if theme.is_night() != night:
            theme.apply_theme(night)
        if self._night_shown != night:
            if self._session_view is not None:  # a view built later takes it then
                self._session_view.set_night(night)
            self._night_shown = night
        if self.act_night.isChecked() != night:
            self.act_night.blockSignals(True)
            self.act_night.setChecked(night)
            self.act_night.blockSignals(False)
        where = "the session screens" if context == theme.SESSION else "these screens (all but the session)"
        self.act_night.setToolTip(f"Night mode for {where}, remembered separately (Ctrl+Shift+N)")

    def show_error(self, exc: object) -> None:
        if isinstance(exc, DatabaseUnavailable):
            self._on_connection_changed(False, str(exc))
        else:
            self.error_banner.show_message(str(exc))

    def _on_connection_changed(self, connected: bool, message: str) -> None:
        detail = f" ({message})" if message else ""
        self._offline_message = "" if connected else (
            f"{OFFLINE_TEXT}{detail}.\nSave it again once this banner is gone.")
        self._sync_offline_banner()

    def _sync_offline_banner(self) -> None:
        # The live session screen shows its own connection banner in place; one red strip is enough.
        own = self.stack.currentWidget() is self._session_view
        if self._offline_message and not own:
            self.offline_banner.show_message(self._offline_message)
        else:
            self.offline_banner.hide()

    def _on_today_loaded(self) -> None:
        if self.controller.session_id is None:
            self._on_connection_changed(True, "")

    def _on_page_changed(self, _index: int) -> None:
        page = self.stack.currentWidget()
        if self._read_only and page is not self._session_view and page is not self.lock_screen:
            self._set_read_only(False)  # left for another screen (the audit trail): the board's record closes
            self.controller.close()
        self.error_banner.hide()
        self._sync_offline_banner()
        self._sync_theme()

    # ----- quitting ------------------------------------------------------------------------------------
    def quit_refusal(self) -> str | None:
        """Why the console may not close now (a session awaiting discharge needs a supervisor); else None."""
        record = self.controller.record
        if record is None or self._read_only or record.info.state is not SessionState.DISCHARGE:
            return None
        actor = self.state.actor
        if actor is not None and not self._locked and actor.has(Role.SUPERVISOR):
            return None
        return (f"The session in {record.info.room} is awaiting discharge. A medical supervisor signs in here "
                "(Ctrl+U, or on the lock screen) before the console is closed.")

    def _active_session_text(self) -> str | None:
        record = self.controller.record
        if record is None or self._read_only or not record.info.state.is_active:
            return None
        return f"A session is active in {record.info.room} ({record.info.state.label.lower()})."

    def request_quit(self) -> None:
        """Quit (Ctrl+Q): at once with no active session; asked when one is active; refused awaiting discharge."""
        if self.quit_question is not None and self.quit_question.isVisible():
            return
        refusal = self.quit_refusal()
        active = self._active_session_text()
        if refusal is None and active is None:
            self._quit_confirmed = True
            self.close()
            return
        box = QMessageBox(self)
        box.setObjectName("quitQuestion")
        box.setTextFormat(Qt.TextFormat.PlainText)
        box.setWindowTitle("Quit KAP Console")
        if refusal is not None:
            box.setIcon(QMessageBox.Icon.Warning)
            box.setText(f"The console stays open.\n\n{refusal}")
            box.setStandardButtons(QMessageBox.StandardButton.Ok)
        else:
            box.setIcon(QMessageBox.Icon.Question)
            box.setText(f"{active}\n\nQuit anyway? The session stays active and this workstation opens it "
                        "again at the next start.")
            quit_button = box.addButton("Quit", QMessageBox.ButtonRole.DestructiveRole)
            quit_button.setObjectName("quitConfirm")
            keep = box.addButton("Keep the console open", QMessageBox.ButtonRole.RejectRole)
            keep.setObjectName("quitCancel")
            box.setDefaultButton(keep)
            box.setEscapeButton(keep)

            def answered(_result: int) -> None:
                if box.clickedButton() is quit_button:
                    self._quit_confirmed = True
                    self.close()

            box.finished.connect(answered)
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        box.destroyed.connect(lambda _o=None: setattr(self, "quit_question", None))
        self.quit_question = box
        box.open()

    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802 (Qt override)
        # Closing the window from the desktop goes through the same question as Ctrl+Q.
        if event.spontaneous() and not self._quit_confirmed and (
                self.quit_refusal() is not None or self._active_session_text() is not None):
            event.ignore()
            self.request_quit()
            return
        self.idle.detach()
        self.controller.close()
        self.today.deactivate()
        self.state.runner.wait(10000)
        super().closeEvent(event)
