"""Add or edit a client: every detail the front desk keeps, allergies as a small table, all errors at once."""

from __future__ import annotations

from datetime import date

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QScrollArea,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from kapconsole.domain.allergies import Allergy, AllergySeverity
from kapconsole.domain.errors import DomainError
from kapconsole.domain.frontdesk import ClientDetails
from kapconsole.domain.values import Client
from kapconsole.ui.frontdesk.forms import plain, show_errors
from kapconsole.ui.shell.app_state import AppState
from kapconsole.ui.widgets.text import PlainLabel
from kapconsole.ui.widgets.theme import set_flag

DATE_HINT = "YYYY-MM-DD"


def _text(widget: QLineEdit | QPlainTextEdit) -> str:
    return widget.toPlainText() if isinstance(widget, QPlainTextEdit) else widget.text()


class AllergyTable(QWidget):
    """The structured allergies: a row to type one (substance, reaction, severity; Enter adds it) and the list."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.substance = QLineEdit(objectName="allergySubstance")
        self.substance.setPlaceholderText("substance, e.g. penicillin")
        self.substance.setAccessibleName("Allergy substance")
        self.reaction = QLineEdit(objectName="allergyReaction")
        self.reaction.setPlaceholderText("reaction, e.g. hives")
        self.reaction.setAccessibleName("Allergy reaction")
        self.severity = QComboBox(objectName="allergySeverity")
        self.severity.setAccessibleName("Allergy severity")
        for sev in AllergySeverity:
            self.severity.addItem(sev.label, sev)
        self.severity.setCurrentIndex(list(AllergySeverity).index(AllergySeverity.UNKNOWN))
        self.add_button = QPushButton("Add allergy", objectName="allergyAdd")
        self.add_button.setToolTip("Add this allergy to the list (Enter in the substance or reaction field)")
        self.remove_button = QPushButton("Remove selected", objectName="allergyRemove")
        self.table = QTableWidget(0, 3, objectName="allergyTable")
        self.table.setHorizontalHeaderLabels(["Substance", "Reaction", "Severity"])
        self.table.setAccessibleName("Allergies")
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.verticalHeader().hide()
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        self.table.setMaximumHeight(110)
        row = QHBoxLayout()
        row.addWidget(self.substance, 2)
        row.addWidget(self.reaction, 2)
        row.addWidget(self.severity, 1)
        row.addWidget(self.add_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(row)
        layout.addWidget(self.table)
        layout.addWidget(self.remove_button, 0, Qt.AlignmentFlag.AlignRight)
        self.add_button.clicked.connect(self._on_add)
        self.substance.returnPressed.connect(self._on_add)
        self.reaction.returnPressed.connect(self._on_add)
        self.remove_button.clicked.connect(self._on_remove)
        self._items: list[Allergy] = []

    def allergies(self) -> tuple[Allergy, ...]:
        return tuple(self._items)

    def set_allergies(self, items: tuple[Allergy, ...]) -> None:
        self._items = list(items)
        self._refresh()

    def _on_add(self) -> None:
        substance = self.substance.text().strip()
        if not substance:
            self.substance.setFocus()
            return
        self._items.append(Allergy(substance, self.reaction.text().strip(), AllergySeverity(self.severity.currentData())))
        self.substance.clear()
        self.reaction.clear()
        self.severity.setCurrentIndex(list(AllergySeverity).index(AllergySeverity.UNKNOWN))
        self._refresh()
        self.substance.setFocus()

    def _on_remove(self) -> None:
        row = self.table.currentRow()
        if 0 <= row < len(self._items):
            del self._items[row]
            self._refresh()

    def _refresh(self) -> None:
        self.table.setRowCount(len(self._items))
        for r, a in enumerate(self._items):
            for c, text in enumerate((a.substance, a.reaction, a.severity.label)):
                item = QTableWidgetItem(text)
                item.setToolTip(text)
                self.table.setItem(r, c, item)


class ClientDialog(QDialog):
    """New client (``client`` None) or edit one. Emits ``saved(Client)``; stays open showing what was refused."""

    saved = Signal(object)

    def __init__(self, state: AppState, client: Client | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent, objectName="clientDialog")
        self.state = state
        self.client = client
        self.setWindowTitle("Edit client" if client else "New client")
        self._busy = False
        f: dict[str, QLineEdit | QPlainTextEdit] = {}

        def line(name: str, accessible: str, hint: str = "") -> QLineEdit:
            w = QLineEdit(objectName=f"client_{name}")
            w.setAccessibleName(accessible)
            if hint:
                w.setPlaceholderText(hint)
            f[name] = w
            return w

        def box(name: str, accessible: str) -> QPlainTextEdit:
            w = QPlainTextEdit(objectName=f"client_{name}")
            w.setAccessibleName(accessible)
            w.setTabChangesFocus(True)
            w.setFixedHeight(54)
            f[name] = w
            return w

        self.fields = f
        who = QGroupBox("Client")
        grid = QGridLayout(who)
        pairs = [
            ("&Identifier", line("identifier", "Client identifier", "the clinic's number for the client")),
            ("Full &name", line("name", "Full name")),
            ("Date of &birth", line("date_of_birth", "Date of birth", DATE_HINT)),
            ("&Sex", line("sex", "Sex")),
            ("&Pronouns", line("pronouns", "Pronouns", "e.g. she/her")),
            ("&Weight (kg)", line("weight_kg", "Weight in kilograms")),
            ("Weighed &on", line("weight_on", "Date weighed", DATE_HINT)),
        ]
        for i, (label, widget) in enumerate(pairs):
            lab = PlainLabel(label)
            lab.setBuddy(widget)
            grid.addWidget(lab, i // 2, (i % 2) * 2)
            grid.addWidget(widget, i // 2, (i % 2) * 2 + 1)
        self.allergy_table = AllergyTable()
        allergies = QGroupBox("Allergies")
        al = QVBoxLayout(allergies)
        al.addWidget(self.allergy_table)
        note_form = QFormLayout()
        note_form.addRow("Allergy &note", line("allergies", "Allergy note", "e.g. no known drug allergies"))
        al.addLayout(note_form)
        clinical = QGroupBox("Medications and screening")
        cf = QFormLayout(clinical)
        cf.addRow("Current &medications", box("medications", "Current medications"))
        cf.addRow("&Conditions / screening", box("screening_notes", "Conditions and screening notes"))
        contacts = QGroupBox("Contacts")
        cg = QGridLayout(contacts)
        for i, (label, widget) in enumerate([
            ("&Emergency contact", line("emergency_contact", "Emergency contact")),
            ("Phone", line("emergency_phone", "Emergency contact phone")),
            ("Escort / &driver", line("escort_name", "Escort or driver")),
            ("Phone", line("escort_phone", "Escort phone")),
        ]):
            lab = PlainLabel(label)
            lab.setBuddy(widget)
            cg.addWidget(lab, i // 2, (i % 2) * 2)
            cg.addWidget(widget, i // 2, (i % 2) * 2 + 1)

        self.message = plain("", "clientMessage", wrap=True)
        self.message.hide()
        self.save_button = QPushButton("Save client", objectName="clientSave")
        self.save_button.setToolTip("Save (Ctrl+Return)")
        self.save_button.setShortcut("Ctrl+Return")
        set_flag(self.save_button, "primary")
        buttons = QDialogButtonBox()
        buttons.addButton(self.save_button, QDialogButtonBox.ButtonRole.ActionRole)
        cancel = buttons.addButton(QDialogButtonBox.StandardButton.Cancel)
        cancel.setToolTip("Close without saving (Esc)")
        body = QWidget()
        bl = QVBoxLayout(body)
        for w in (who, allergies, clinical, contacts):
            bl.addWidget(w)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setWidget(body)
        scroll.setFrameShape(QScrollArea.Shape.NoFrame)
        layout = QVBoxLayout(self)
        layout.addWidget(scroll, 1)
        layout.addWidget(self.message)
        layout.addWidget(buttons)
        self.save_button.clicked.connect(self._on_save)
        buttons.rejected.connect(self.reject)
        if client is not None:
            self._fill(client)
        self.resize(820, 620)
        f["identifier"].setFocus()

    def _fill(self, c: Client) -> None:
        d = c.details
        for name, widget in self.fields.items():
            value = getattr(d, name)
            if isinstance(value, date):
                value = value.isoformat()
            elif isinstance(value, float):
                value = f"{value:g}"
            text = "" if value is None else str(value)
            if isinstance(widget, QPlainTextEdit):
                widget.setPlainText(text)
            else:
                widget.setText(text)
        self.allergy_table.set_allergies(c.allergy_list)

    def details(self) -> ClientDetails:
        """What the form holds; dates and the weight as typed (the domain reads and checks them)."""
        values = {name: _text(w) for name, w in self.fields.items()}
        for name in ("date_of_birth", "weight_on", "weight_kg"):
            values[name] = values[name].strip() or None  # type: ignore[assignment]
        return ClientDetails(allergy_list=self.allergy_table.allergies(), **values)  # type: ignore[arg-type]

    def _on_save(self) -> None:
        if self._busy:
            return
        if self.allergy_table.substance.text().strip():
            self.allergy_table._on_add()  # a typed allergy not yet added is part of what is saved
        details = self.details()
        today = self.state.services.clinic.now().date()
        problems = details.problems(today)
        if problems:
            show_errors(self.message, [str(p) for p in problems])
            return
        actor = self.state.require_actor()
        clients = self.state.services.clinic.clients
        self._busy = True
        self.save_button.setEnabled(False)
        if self.client is None:
            self.state.runner.submit(lambda: clients.add(actor, details), self._on_saved, self._on_failed)
        else:
            cid, version = self.client.id, self.client.version
            self.state.runner.submit(lambda: clients.edit(actor, cid, details, expected_version=version),
                                     self._on_saved, self._on_failed)

    def _on_saved(self, client: Client) -> None:
        self._busy = False
        self.save_button.setEnabled(True)
        show_errors(self.message, [])
        self.client = client
        self.saved.emit(client)
        self.accept()

    def _on_failed(self, exc: Exception) -> None:
        self._busy = False
        self.save_button.setEnabled(True)
        text = str(exc) if isinstance(exc, DomainError) else f"could not save ({type(exc).__name__})"
        show_errors(self.message, [text])
