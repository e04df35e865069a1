"""EndEarlyDialog: end a session before discharge, with a coded reason and a written one."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QPlainTextEdit,
    QVBoxLayout,
    QWidget,
)

from kapconsole.domain.enums import Disposition, EndReason
from kapconsole.domain.errors import DomainError
from kapconsole.ui.session.controller import SessionController
from kapconsole.ui.widgets.text import PlainLabel


class EndEarlyDialog(QDialog):
    def __init__(self, controller: SessionController, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("endEarlyDialog")
        self.setWindowTitle("End session early")
        self.setWindowModality(Qt.WindowModality.WindowModal)
        self._controller = controller

        warning = PlainLabel("Ending the session early locks the record. Later corrections are amendments.")
        warning.setTextFormat(Qt.TextFormat.PlainText)
        warning.setWordWrap(True)
        warning.setProperty("severity", "warning")
        self.code = QComboBox()
        self.code.setObjectName("endReasonCode")
        self.code.setAccessibleName("Reason for ending early")
        for r in EndReason:
            self.code.addItem(r.label, r.value)
        self.reason = QPlainTextEdit()
        self.reason.setObjectName("endReasonText")
        self.reason.setAccessibleName("What happened (required)")
        self.reason.setTabChangesFocus(True)
        self.reason.setFixedHeight(90)
        self.reason.textChanged.connect(self._on_text_changed)
        record = controller.record
        self.dosed = bool(record and record.administrations)
        # After a dose: a medical supervisor ends it, says where the client goes, and a physician attests it.
        self.disposition = QComboBox()
        self.disposition.setObjectName("endDisposition")
        self.disposition.setAccessibleName("Where the client goes")
        for d in Disposition:
            self.disposition.addItem(d.label, d.value)
        form = QFormLayout()
        form.addRow("Reason:", self.code)
        form.addRow("What happened (required):", self.reason)
        if self.dosed:
            form.addRow("Disposition:", self.disposition)
            note = PlainLabel("A dose was given: a medical supervisor ends the session, and it stays on the supervisor "
                          "board until a physician attests it.")
            note.setTextFormat(Qt.TextFormat.PlainText)
            note.setWordWrap(True)
            form.addRow(note)
        else:
            self.disposition.hide()

        self.error_label = PlainLabel()
        self.error_label.setObjectName("endEarlyError")
        self.error_label.setProperty("severity", "danger")
        self.error_label.setWordWrap(True)
        self.error_label.hide()
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        self.ok_button = self.buttons.button(QDialogButtonBox.StandardButton.Ok)
        self.ok_button.setText("End session")
        self.ok_button.setObjectName("endEarlyConfirm")
        self.ok_button.setEnabled(False)
        self.buttons.accepted.connect(self._on_confirm)
        self.buttons.rejected.connect(self.reject)
        self.buttons.button(QDialogButtonBox.StandardButton.Cancel).setDefault(True)

        layout = QVBoxLayout(self)
        layout.addWidget(warning)
        layout.addLayout(form)
        layout.addWidget(self.error_label)
        layout.addWidget(self.buttons)
        self.resize(520, self.sizeHint().height())

    def set_reason(self, code: EndReason, text: str) -> None:
        self.code.setCurrentIndex(self.code.findData(code.value))
        self.reason.setPlainText(text)

    def _on_text_changed(self) -> None:
        self.ok_button.setEnabled(bool(self.reason.toPlainText().strip()))

    def _on_confirm(self) -> None:
        sid = self._controller.session_id
        text = self.reason.toPlainText().strip()
        if sid is None or not text:
            return
        code = self.code.currentData()
        disposition = self.disposition.currentData() if self.dosed else None
        self.ok_button.setEnabled(False)
        self._controller.perform(lambda services, actor: services.records.end_early(actor, sid, code, text,
                                                                                    disposition=disposition),
                                 self._on_done, self._on_failed, receiver=self)

    def _on_done(self, _entry: Any) -> None:
        self.accept()

    def _on_failed(self, exc: Exception) -> None:
        self._on_text_changed()
        message = str(exc) if isinstance(exc, DomainError) else f"could not save: {exc}"
        self.error_label.setText(f"⚠ Not ended — {message}")
        self.error_label.show()
