"""First start: create the clinic's first administrator account (nobody can sign in before that), or fill the
empty database with the demo clinic to try the console."""

from __future__ import annotations

from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from kapconsole.domain.enums import Role
from kapconsole.domain.values import StaffMember
from kapconsole.services.demo import DemoSummary
from kapconsole.ui.shell.app_state import AppState
from kapconsole.ui.widgets.text import PlainLabel
from kapconsole.ui.widgets.theme import set_flag, set_severity


class FirstRunWizard(QDialog):
    """Asks for the administrator's name, login and password; ``created`` holds the new account."""

    def __init__(self, state: AppState, parent: QWidget | None = None) -> None:
        super().__init__(parent, objectName="firstRunWizard")
        self.state = state
        self.created: StaffMember | None = None
        self.demo: DemoSummary | None = None
        self.setWindowTitle("KAP Console — first start")
        heading = PlainLabel("Welcome to KAP Console")
        set_flag(heading, "heading")
        intro = PlainLabel(
            "This database has no administrator yet. The administrator manages staff accounts and the clinic "
            "protocol; clinical staff accounts are added afterwards from the administrator's account. "
            "To try the console first, fill this empty database with the demo clinic instead.\n"
            f"Database: {state.services.database_name}"
        )
        intro.setWordWrap(True)
        self.name = QLineEdit(objectName="firstRunName")
        self.name.setAccessibleName("Administrator full name")
        self.login = QLineEdit(objectName="firstRunLogin")
        self.login.setAccessibleName("Administrator login")
        self.password = QLineEdit(objectName="firstRunPassword")
        self.password.setAccessibleName("Password")
        self.password.setEchoMode(QLineEdit.EchoMode.Password)
        self.repeat = QLineEdit(objectName="firstRunRepeat")
        self.repeat.setAccessibleName("Repeat password")
        self.repeat.setEchoMode(QLineEdit.EchoMode.Password)
        form = QFormLayout()
        form.addRow("Full &name", self.name)
        form.addRow("&Login", self.login)
        form.addRow("&Password (8+ characters, hard to guess)", self.password)
        form.addRow("&Repeat password", self.repeat)
        self.message = PlainLabel("", objectName="firstRunError")
        self.message.setWordWrap(True)
        self.message.hide()
        self.create_button = QPushButton("Create administrator", objectName="firstRunCreate")
        self.create_button.setToolTip("Create the account (Enter)")
        self.create_button.setDefault(True)
        set_flag(self.create_button, "primary")
        buttons = QDialogButtonBox()
        buttons.addButton(self.create_button, QDialogButtonBox.ButtonRole.ActionRole)
        self.demo_button = QPushButton("Try the &demo clinic", objectName="firstRunDemo")
        self.demo_button.setToolTip("Fill this empty database with a made-up demo clinic, to try the console "
                                    "(Alt+D)")
        buttons.addButton(self.demo_button, QDialogButtonBox.ButtonRole.ActionRole)
        cancel = buttons.addButton(QDialogButtonBox.StandardButton.Cancel)
        cancel.setToolTip("Quit without creating an account (Esc)")
        # After the administrator: the clinic's first room and first client (both may be skipped).
        self.next_step = QWidget(objectName="firstRunNext")
        self.room = QLineEdit("Room 1", objectName="firstRunRoom")
        self.room.setAccessibleName("First room")
        self.client_id = QLineEdit(objectName="firstRunClientId")
        self.client_id.setAccessibleName("First client's identifier")
        self.client_name = QLineEdit(objectName="firstRunClientName")
        self.client_name.setAccessibleName("First client's full name")
        next_intro = PlainLabel("The administrator account is ready. Add the clinic's first room and, if you like, "
                            "its first client (more rooms and staff: Console ▸ Staff and rooms; clients: View ▸ "
                            "Front desk).")
        next_intro.setWordWrap(True)
        next_form = QFormLayout()
        next_form.addRow("First &room", self.room)
        next_form.addRow("Client &identifier", self.client_id)
        next_form.addRow("Client full na&me", self.client_name)
        nl = QVBoxLayout(self.next_step)
        nl.setContentsMargins(0, 0, 0, 0)
        nl.addWidget(next_intro)
        nl.addLayout(next_form)
        self.next_step.hide()
        self.add_first_button = QPushButton("Add room and client", objectName="firstRunAddFirst")
        self.add_first_button.setToolTip("Add the room (and the client, if given) (Enter)")
        self.skip_button = QPushButton("S&kip", objectName="firstRunSkip")
        self.skip_button.setToolTip("Go on to sign in without adding them now (Alt+K)")
        buttons.addButton(self.add_first_button, QDialogButtonBox.ButtonRole.ActionRole)
        buttons.addButton(self.skip_button, QDialogButtonBox.ButtonRole.ActionRole)
        self.add_first_button.hide()
        self.skip_button.hide()
        self.add_first_button.clicked.connect(self._on_add_first)
        for field in (self.room, self.client_id, self.client_name):
            field.returnPressed.connect(self._on_add_first)
        self.skip_button.clicked.connect(self.accept)
        self._form_widget = QWidget()
        self._form_widget.setLayout(form)
        layout = QVBoxLayout(self)
        for w in (heading, intro):
            layout.addWidget(w)
        layout.addWidget(self._form_widget)
        layout.addWidget(self.next_step)
        layout.addWidget(self.message)
        layout.addWidget(buttons)
        self.create_button.clicked.connect(self._on_create)
        self.demo_button.clicked.connect(self._on_demo)
        buttons.rejected.connect(self.reject)
        self.setMinimumWidth(560)
        self._busy = False
        self._admin_password = ""

    def _on_create(self) -> None:
        if self._busy:
            return
        if self.password.text() != self.repeat.text():
            self._show("The two passwords differ; type them again.")
            self.password.clear()
            self.repeat.clear()
            self.password.setFocus()
            return
        name, login, password = self.name.text(), self.login.text(), self.password.text()
        staff = self.state.services.staff
        self._busy = True
        self.create_button.setEnabled(False)
        self.state.runner.submit(
            lambda: staff.add_user(None, login=login, name=name, roles=[Role.ADMINISTRATOR], password=password),
            self._on_created, self._on_failed,
        )

    def _on_demo(self) -> None:
        if self.demo is not None:  # the logins have been shown: on to the sign-in screen
            self.accept()
            return
        if self._busy:
            return
        from kapconsole.services.demo import seed_demo

        services = self.state.services
        self._busy = True
        self.create_button.setEnabled(False)
        self.demo_button.setEnabled(False)
        self._show("Creating the demo clinic…", "info")
        self.state.runner.submit(lambda: seed_demo(services), self._on_demo_ready, self._on_failed)

    def _on_demo_ready(self, summary: DemoSummary) -> None:
        self._busy = False
        self.demo = summary
        logins = "\n".join(f"   {login}  —  {name} ({roles})" for login, name, roles in summary.logins)
        self._show(f"The demo clinic is ready. Sign in as one of these, password {summary.password}:\n{logins}",
                   "ok")
        for field in (self.name, self.login, self.password, self.repeat):
            field.setEnabled(False)
        self.demo_button.setText("Continue to &sign in")
        self.demo_button.setToolTip("Close this and sign in with a demo login (Alt+S)")
        self.demo_button.setEnabled(True)
        self.demo_button.setDefault(True)
        self.demo_button.setFocus()

    def _on_created(self, member: StaffMember) -> None:
        self._busy = False
        self.created = member
        self._admin_password = self.password.text()
        self._form_widget.hide()
        self.create_button.hide()
        self.demo_button.hide()
        self.message.hide()
        self.next_step.show()
        self.add_first_button.show()
        self.add_first_button.setDefault(True)
        self.skip_button.show()
        self.room.setFocus()
        self.room.selectAll()
        self.adjustSize()

    def _on_add_first(self) -> None:
        if self._busy or self.created is None:
            return
        services, login, password = self.state.services, self.created.login, self._admin_password
        room, ident, name = self.room.text(), self.client_id.text(), self.client_name.text()
        workstation = self.state.workstation

        def work() -> None:
            from kapconsole.domain.allergies import fold
            from kapconsole.domain.frontdesk import ClientDetails

            client = ClientDetails(identifier=ident, name=name) if ident.strip() or name.strip() else None
            if client is not None:
                client.validated(services.clinic.now().date())  # refused before anything is saved
            admin = services.staff.authenticate(login, password, workstation)
            if room.strip() and fold(room) not in {fold(r) for r in services.clinic.rooms()}:
                services.clinic.planning.add_room(admin, room)
            if client is not None:
                services.clinic.clients.add(admin, client)

        self._busy = True
        self.add_first_button.setEnabled(False)
        self.state.runner.submit(work, lambda _v: self._first_added(), self._on_first_failed)

    def _first_added(self) -> None:
        self._busy = False
        self._admin_password = ""
        self.accept()

    def _on_first_failed(self, exc: Exception) -> None:
        self._busy = False
        self.add_first_button.setEnabled(True)
        self._show(str(exc))

    def _on_failed(self, exc: Exception) -> None:
        self._busy = False
        self.create_button.setEnabled(True)
        self.demo_button.setEnabled(self.demo is None)
        self._show(str(exc))

    def _show(self, text: str, severity: str = "danger") -> None:
        self.message.setText(text)
        set_severity(self.message, severity)
        self.message.show()
        self.adjustSize()  # the demo logins take several lines
