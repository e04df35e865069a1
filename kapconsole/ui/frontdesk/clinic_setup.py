"""Staff and rooms, for the administrator: add a staff account (name, login, roles, password) and a room."""

from __future__ import annotations

from PySide6.QtWidgets import (
    QCheckBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLineEdit,
    QListWidget,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from kapconsole.domain.enums import Role
from kapconsole.domain.errors import DomainError
from kapconsole.domain.values import StaffMember
from kapconsole.ui.frontdesk.forms import plain, show_errors
from kapconsole.ui.shell.app_state import AppState


class ClinicSetupDialog(QDialog):
    """The clinic's staff accounts and rooms (administrators; the services check again)."""

    def __init__(self, state: AppState, parent: QWidget | None = None) -> None:
        super().__init__(parent, objectName="clinicSetup")
        self.state = state
        self.setWindowTitle("Staff and rooms")
        staff_box = QGroupBox("Staff accounts")
        self.staff_list = QListWidget(objectName="staffList")
        self.staff_list.setAccessibleName("Staff accounts")
        self.name = QLineEdit(objectName="staffName")
        self.name.setAccessibleName("Full name")
        self.login = QLineEdit(objectName="staffLogin")
        self.login.setAccessibleName("Login")
        self.password = QLineEdit(objectName="staffPassword")
        self.password.setAccessibleName("Password")
        self.password.setEchoMode(QLineEdit.EchoMode.Password)
        self.role_boxes: dict[Role, QCheckBox] = {}
        roles_row = QHBoxLayout()
        for role in Role:
            box = QCheckBox(role.label, objectName=f"role_{role.value}")
            self.role_boxes[role] = box
            roles_row.addWidget(box)
        self.add_staff_button = QPushButton("Add staff &member", objectName="staffAdd")
        form = QFormLayout()
        form.addRow("Full &name", self.name)
        form.addRow("&Login", self.login)
        form.addRow("Roles", roles_row)
        form.addRow("&Password", self.password)
        sl = QVBoxLayout(staff_box)
        sl.addWidget(self.staff_list)
        sl.addLayout(form)
        sl.addWidget(self.add_staff_button)
        rooms_box = QGroupBox("Rooms")
        self.room_list = QListWidget(objectName="roomList")
        self.room_list.setAccessibleName("Rooms")
        self.room_name = QLineEdit(objectName="roomName")
        self.room_name.setAccessibleName("Room name")
        self.room_name.setPlaceholderText("e.g. Room 1")
        self.add_room_button = QPushButton("Add &room", objectName="roomAdd")
        rl = QVBoxLayout(rooms_box)
        rl.addWidget(self.room_list)
        row = QHBoxLayout()
        row.addWidget(self.room_name, 1)
        row.addWidget(self.add_room_button)
        rl.addLayout(row)
        self.message = plain("", "setupMessage", wrap=True)
        self.message.hide()
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        columns = QHBoxLayout()
        columns.addWidget(staff_box, 3)
        columns.addWidget(rooms_box, 2)
        layout = QVBoxLayout(self)
        layout.addLayout(columns, 1)
        layout.addWidget(self.message)
        layout.addWidget(buttons)
        buttons.rejected.connect(self.reject)
        self.add_staff_button.clicked.connect(self._on_add_staff)
        self.password.returnPressed.connect(self._on_add_staff)
        self.add_room_button.clicked.connect(self._on_add_room)
        self.room_name.returnPressed.connect(self._on_add_room)
        self.resize(900, 520)
        self.refresh()

    def refresh(self) -> None:
        services = self.state.services
        self.state.runner.submit(lambda: (services.staff.list_staff(), services.clinic.rooms()), self._on_loaded)

    def _on_loaded(self, loaded: tuple[list[StaffMember], list[str]]) -> None:
        staff, rooms = loaded
        self.staff_list.clear()
        for m in staff:
            self.staff_list.addItem(f"{m.name} — {m.login} ({m.roles_label})")
        self.room_list.clear()
        self.room_list.addItems(rooms)

    def _on_add_staff(self) -> None:
        roles = [r for r, box in self.role_boxes.items() if box.isChecked()]
        actor = self.state.require_actor()
        name, login, password = self.name.text(), self.login.text(), self.password.text()
        staff = self.state.services.staff

        def done(member: StaffMember) -> None:
            for w in (self.name, self.login, self.password):
                w.clear()
            for box in self.role_boxes.values():
                box.setChecked(False)
            show_errors(self.message, [f"Added {member.name} ({member.roles_label})."], "ok")
            self.refresh()
            self.name.setFocus()

        self.state.runner.submit(lambda: staff.add_user(actor, login=login, name=name, roles=roles,
                                                        password=password), done, self._on_failed)

    def _on_add_room(self) -> None:
        actor, name = self.state.require_actor(), self.room_name.text()
        planning = self.state.services.clinic.planning

        def done(_room: object) -> None:
            self.room_name.clear()
            show_errors(self.message, [f"Room {name.strip()} added."], "ok")
            self.refresh()

        self.state.runner.submit(lambda: planning.add_room(actor, name), done, self._on_failed)

    def _on_failed(self, exc: Exception) -> None:
        show_errors(self.message, [str(exc) if isinstance(exc, DomainError) else f"not saved ({type(exc).__name__})"])
