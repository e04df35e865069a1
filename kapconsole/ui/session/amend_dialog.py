"""AmendDialog: correct an entry with a reason, pre-filled with the entry's current content.

The original entry is never changed: the service appends an amendment that points at it. The dialog stays
open until the amendment is saved, so nothing typed is lost when the database cannot be reached.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLineEdit,
    QPlainTextEdit,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from kapconsole.domain.enums import EntryKind, ObservationCategory, Scale, Severity
from kapconsole.domain.errors import DomainError
from kapconsole.domain.protocol import MEASURES
from kapconsole.ui.session.controller import SessionController
from kapconsole.ui.session.timeline import TimelineRow, local_time
from kapconsole.ui.widgets.text import PlainLabel


class AmendDialog(QDialog):
    """Amend one entry. Open with ``open()`` (window-modal, non-blocking)."""

    def __init__(self, row: TimelineRow, controller: SessionController, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("amendDialog")
        self.setWindowTitle(f"Amend {row.kind.label.lower()} of {local_time(row.at)}")
        self.setWindowModality(Qt.WindowModality.WindowModal)
        self.row = row
        self._controller = controller
        self._fields: dict[str, QWidget] = {}
        payload: Mapping[str, Any] = row.payload or {}

        original = PlainLabel(f"Original ({row.author}, {local_time(row.at)}): {row.content}")
        original.setWordWrap(True)
        original.setObjectName("amendOriginal")
        form = QFormLayout()
        self._build_fields(form, row.kind, payload)

        self.withdraw = QCheckBox("Entered in error (withdraw this entry; it stays visible, struck through)")
        self.withdraw.setObjectName("amendWithdraw")
        self.withdraw.setAccessibleName("Entered in error")
        self.withdraw.toggled.connect(self._on_withdraw_toggled)
        self.reason = QLineEdit()
        self.reason.setObjectName("amendReason")
        self.reason.setAccessibleName("Reason for the amendment (required)")
        self.reason.setPlaceholderText("Why is this corrected? (required)")
        self.reason.textChanged.connect(self._on_reason_changed)
        form.addRow(self.withdraw)
        form.addRow("Reason (required):", self.reason)

        self.error_label = PlainLabel()
        self.error_label.setObjectName("amendError")
        self.error_label.setProperty("severity", "danger")
        self.error_label.setWordWrap(True)
        self.error_label.hide()
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel)
        self.save_button = self.buttons.button(QDialogButtonBox.StandardButton.Save)
        self.save_button.setText("Save amendment")
        self.save_button.setObjectName("amendSave")
        self.save_button.setEnabled(False)
        self.buttons.accepted.connect(self._on_save)
        self.buttons.rejected.connect(self.reject)

        layout = QVBoxLayout(self)
        layout.addWidget(original)
        layout.addLayout(form)
        layout.addWidget(self.error_label)
        layout.addWidget(self.buttons)
        self.resize(560, self.sizeHint().height())

    # ----- fields by kind -------------------------------------------------------------------------------
    def _line(self, key: str, label: str, value: Any, form: QFormLayout) -> QLineEdit:
        edit = QLineEdit("" if value is None else (f"{value:g}" if isinstance(value, float) else str(value)))
        edit.setObjectName(f"amend_{key}")
        edit.setAccessibleName(label)
        form.addRow(f"{label}:", edit)
        self._fields[key] = edit
        return edit

    def _build_fields(self, form: QFormLayout, kind: EntryKind, p: Mapping[str, Any]) -> None:
        if kind is EntryKind.VITALS:
            for key, (label, unit, _d) in MEASURES.items():
                self._line(key, f"{label} ({unit})", p.get(key), form)
        elif kind is EntryKind.OBSERVATION:
            text = QPlainTextEdit(str(p.get("text", "")))
            text.setObjectName("amend_text")
            text.setAccessibleName("Observation text")
            text.setTabChangesFocus(True)
            text.setFixedHeight(90)
            form.addRow("Observation:", text)
            self._fields["text"] = text
            category = QComboBox()
            category.setAccessibleName("Category")
            for c in ObservationCategory:
                category.addItem(c.label, c.value)
            category.setCurrentIndex(max(0, category.findData(p.get("category", "general"))))
            form.addRow("Category:", category)
            self._fields["category"] = category
            integ = QCheckBox("For integration")
            integ.setAccessibleName("For integration")
            integ.setChecked(bool(p.get("for_integration")))
            form.addRow(integ)
            self._fields["for_integration"] = integ
        elif kind is EntryKind.SIDE_EFFECT:
            severity = QComboBox()
            severity.setAccessibleName("Severity")
            for s in Severity:
                severity.addItem(s.value.capitalize(), s.value)
            severity.setCurrentIndex(max(0, severity.findData(p.get("severity"))))
            form.addRow("Severity:", severity)
            self._fields["severity"] = severity
            self._line("intervention", "Intervention", p.get("intervention", ""), form)
            self._line("description", "Description", p.get("description", ""), form)
        elif kind is EntryKind.SCALE:
            scale = Scale(p.get("scale", "moaas"))
            spin = QSpinBox()
            spin.setAccessibleName(scale.label)
            spin.setRange(*scale.bounds)
            spin.setValue(int(p.get("score", scale.bounds[0])))
            form.addRow(f"{scale.label}:", spin)
            self._fields["score"] = spin
        elif kind is EntryKind.ADMINISTRATION:
            self._line("dose", f"Dose ({p.get('unit', '')})", p.get("dose"), form)
            self._line("lot", "Lot", p.get("lot", ""), form)
        else:
            self._line("note", "Note", p.get("note", ""), form)

    def content(self) -> dict[str, Any] | None:
        """The corrected content, in the shape the service expects (None = entered in error)."""
        if self.withdraw.isChecked():
            return None
        out: dict[str, Any] = {}
        for key, widget in self._fields.items():
            if isinstance(widget, QLineEdit):
                text = widget.text().strip()
                if self.row.kind is EntryKind.VITALS and not text:
                    continue
                out[key] = text
            elif isinstance(widget, QPlainTextEdit):
                out[key] = widget.toPlainText()
            elif isinstance(widget, QComboBox):
                out[key] = widget.currentData()
            elif isinstance(widget, QCheckBox):
                out[key] = widget.isChecked()
            elif isinstance(widget, QSpinBox):
                out[key] = widget.value()
        return out

    # ----- saving ---------------------------------------------------------------------------------------
    def _on_withdraw_toggled(self, on: bool) -> None:
        for widget in self._fields.values():
            widget.setEnabled(not on)

    def _on_reason_changed(self, text: str) -> None:
        self.save_button.setEnabled(bool(text.strip()))

    def _on_save(self) -> None:
        sid = self._controller.session_id
        reason = self.reason.text().strip()
        if sid is None or not reason:
            return
        content = self.content()
        entry_id = self.row.entry_id
        self.save_button.setEnabled(False)
        self.error_label.hide()
        self._controller.perform(
            lambda services, actor: services.records.amend(actor, sid, entry_id, reason=reason, content=content),
            lambda _entry: self.accept(),
            self._on_failed,
        )

    def _on_failed(self, exc: Exception) -> None:
        self.save_button.setEnabled(bool(self.reason.text().strip()))
        message = str(exc) if isinstance(exc, DomainError) else f"could not save: {exc}"
        self.error_label.setText(f"⚠ Not saved — {message}")
        self.error_label.show()
