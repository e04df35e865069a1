"""ClosingNoteDialog: the therapist's note at the end of the session, printed on page 1 of the summary."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QPlainTextEdit,
    QVBoxLayout,
    QWidget,
)

from kapconsole.domain.errors import DomainError
from kapconsole.ui.session.controller import SessionController
from kapconsole.ui.widgets.text import PlainLabel

#: (field, label, accessible name): the parts of the note, in the order the summary prints them.
FIELDS = (
    ("state", "Client's state at departure (required):", "Client's state at departure"),
    ("words", "In the client's words:", "The client's words at departure"),
    ("themes", "Themes:", "Themes of the session"),
    ("suggestions", "Suggestions for integration:", "Suggestions for integration"),
)


class ClosingNoteDialog(QDialog):
    def __init__(self, controller: SessionController, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("closingNoteDialog")
        self.setWindowTitle("Therapist's closing note")
        self.setWindowModality(Qt.WindowModality.WindowModal)
        self._controller = controller
        intro = PlainLabel("Printed on page 1 of the integration summary, after the intention and the items flagged "
                       "for integration.")
        intro.setTextFormat(Qt.TextFormat.PlainText)
        intro.setWordWrap(True)
        form = QFormLayout()
        self.fields: dict[str, QPlainTextEdit] = {}
        for key, label, accessible in FIELDS:
            edit = QPlainTextEdit()
            edit.setObjectName(f"closingNote_{key}")
            edit.setAccessibleName(accessible)
            edit.setTabChangesFocus(True)
            edit.setFixedHeight(64)
            edit.textChanged.connect(self._on_text_changed)
            self.fields[key] = edit
            form.addRow(label, edit)
        self.error_label = PlainLabel()
        self.error_label.setObjectName("closingNoteError")
        self.error_label.setTextFormat(Qt.TextFormat.PlainText)
        self.error_label.setProperty("severity", "danger")
        self.error_label.setWordWrap(True)
        self.error_label.hide()
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel)
        self.save_button = self.buttons.button(QDialogButtonBox.StandardButton.Save)
        self.save_button.setObjectName("closingNoteSave")
        self.save_button.setEnabled(False)
        self.buttons.accepted.connect(self._on_save)
        self.buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addLayout(form)
        layout.addWidget(self.error_label)
        layout.addWidget(self.buttons)
        self.resize(560, self.sizeHint().height())

    def values(self) -> dict[str, str]:
        return {key: edit.toPlainText().strip() for key, edit in self.fields.items()}

    def _on_text_changed(self) -> None:
        self.save_button.setEnabled(bool(self.values()["state"]))
        self.error_label.hide()

    def _on_save(self) -> None:
        sid = self._controller.session_id
        values = self.values()
        if sid is None or not values["state"]:
            return
        self.save_button.setEnabled(False)
        self._controller.perform(
            lambda services, actor: services.records.record_closing_note(
                actor, sid, state=values["state"], words=values["words"], themes=values["themes"],
                suggestions=values["suggestions"]),
            self._on_done, self._on_failed, receiver=self)

    def _on_done(self, _entry: Any) -> None:
        self.accept()

    def _on_failed(self, exc: Exception) -> None:
        self._on_text_changed()
        message = str(exc) if isinstance(exc, DomainError) else f"could not save: {exc}"
        self.error_label.setText(f"⚠ Not saved — {message}")
        self.error_label.show()
