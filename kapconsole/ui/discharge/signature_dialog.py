"""The electronic-signature step of a discharge: who signs, when, what the signature means, and the password.

The dialog only collects the password and shows refusals; :class:`~kapconsole.ui.discharge.discharge_view.DischargeDialog`
sends the signature and closes it.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QDialog,
    QFormLayout,
    QHBoxLayout,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from kapconsole.domain import discharge
from kapconsole.ui.widgets import theme
from kapconsole.ui.widgets.text import PlainLabel


class SignatureDialog(QDialog):
    """The signature step: printed name, date-time, meaning, what is signed, and the password again."""

    sign_requested = Signal(str)

    def __init__(self, name: str, when: str, what: str, parent: QWidget | None = None, *,
                 meaning_text: str = discharge.SIGNATURE_MEANING, title: str = "Sign the discharge",
                 client: str = "") -> None:
        super().__init__(parent, objectName="signatureDialog")
        self.setWindowTitle(title)
        heading = PlainLabel("Electronic signature")
        theme.set_flag(heading, "heading")
        meaning = PlainLabel(f"“{meaning_text}”", objectName="signatureMeaning")
        meaning.setTextFormat(Qt.TextFormat.PlainText)
        meaning.setWordWrap(True)
        theme.set_flag(meaning, "strong")  # a QSS font would win over setFont
        scope = PlainLabel(what, objectName="signatureScope")
        scope.setTextFormat(Qt.TextFormat.PlainText)
        scope.setWordWrap(True)
        theme.set_flag(scope, "muted")
        self.password = QLineEdit(objectName="signaturePassword")
        self.password.setEchoMode(QLineEdit.EchoMode.Password)
        self.password.setAccessibleName("Your password")
        self.message = PlainLabel("", objectName="signatureMessage")
        self.message.setWordWrap(True)
        self.message.hide()
        self.sign_button = QPushButton("&Sign", objectName="signatureSign")
        self.sign_button.setDefault(True)
        theme.set_flag(self.sign_button, "primary")
        cancel = QPushButton("Cancel", objectName="signatureCancel")

        form = QFormLayout()
        # Who is discharged: name, date of birth and identifier (never initials alone).
        client_label = PlainLabel(client, objectName="signatureClient")
        client_label.setWordWrap(True)
        theme.set_flag(client_label, "strong")
        form.addRow("Client", client_label)
        form.addRow("Printed name", PlainLabel(name, objectName="signatureName"))
        form.addRow("Date and time", PlainLabel(when, objectName="signatureWhen"))
        meaning_label = PlainLabel("Meaning of this signature:")
        password_row = QFormLayout()
        password_row.addRow("&Password", self.password)
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        buttons.addWidget(cancel)
        buttons.addWidget(self.sign_button)
        layout = QVBoxLayout(self)
        layout.addWidget(heading)
        layout.addLayout(form)
        layout.addWidget(meaning_label)
        layout.addWidget(meaning)
        layout.addWidget(scope)
        layout.addLayout(password_row)
        layout.addWidget(self.message)
        layout.addLayout(buttons)
        self.setMinimumWidth(680)

        cancel.clicked.connect(self.reject)
        self.sign_button.clicked.connect(self._on_sign_clicked)
        self.password.returnPressed.connect(self._on_sign_clicked)

    def _on_sign_clicked(self) -> None:
        if not self.sign_button.isEnabled():
            return
        if not self.password.text():
            self.show_message("Enter your password to sign.")
            return
        self.sign_button.setEnabled(False)
        self.sign_button.setText("Signing…")
        self.sign_requested.emit(self.password.text())

    def show_message(self, text: str) -> None:
        """A refusal the supervisor can correct here (wrong password, throttled): the dialog stays open."""
        self.message.setText(text)
        theme.set_severity(self.message, "danger")
        self.message.show()
        self.password.clear()
        self.password.setFocus()
        self.sign_button.setEnabled(True)
        self.sign_button.setText("&Sign")
