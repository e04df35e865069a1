"""AmendDialog: correct an entry with a reason, pre-filled with the entry's current content.

The original entry is never changed: the service appends an amendment that points at it. The dialog stays
open until the amendment is saved, so nothing typed is lost when the database cannot be reached.
"""

from __future__ import annotations

from collections.abc import Callable
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

from kapconsole.domain.entries import Administration, Observation, ScaleScore, SideEffect, VitalsReading
from kapconsole.domain.entry_base import EntryContent
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
        content = row.content_value

        original = PlainLabel(f"Original ({row.author}, {local_time(row.at)}): {row.content}")
        original.setWordWrap(True)
        original.setObjectName("amendOriginal")
        form = QFormLayout()
        self._build_fields(form, row.kind, content)

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
    def line(self, key: str, label: str, value: Any, form: QFormLayout) -> QLineEdit:
        edit = QLineEdit("" if value is None else (f"{value:g}" if isinstance(value, float) else str(value)))
        edit.setObjectName(f"amend_{key}")
        edit.setAccessibleName(label)
        form.addRow(f"{label}:", edit)
        self._fields[key] = edit
        return edit

    def add_field(self, key: str, widget: QWidget) -> None:
        """A field whose value goes into the corrected content under ``key``."""
        self._fields[key] = widget

    def _build_fields(self, form: QFormLayout, kind: EntryKind, content: EntryContent | None) -> None:
        build = AMEND_FORMS.get(kind, _note_form)
        build(self, form, content)

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
            self._on_failed, receiver=self
        )

    def _on_failed(self, exc: Exception) -> None:
        self.save_button.setEnabled(bool(self.reason.text().strip()))
        message = str(exc) if isinstance(exc, DomainError) else f"could not save: {exc}"
        self.error_label.setText(f"⚠ Not saved — {message}")
        self.error_label.show()


# ----- the form of each kind of entry ------------------------------------------------------------------
FormBuilder = Callable[[AmendDialog, QFormLayout, Any], None]

#: The fields offered to correct each kind of entry; a kind not listed gets a note field.
AMEND_FORMS: dict[EntryKind, FormBuilder] = {}


def amend_form(kind: EntryKind) -> Callable[[FormBuilder], FormBuilder]:
    def register(fn: FormBuilder) -> FormBuilder:
        AMEND_FORMS[kind] = fn
        return fn
    return register


def _note_form(dialog: AmendDialog, form: QFormLayout, content: Any) -> None:
    dialog.line("note", "Note", getattr(content, "note", ""), form)


@amend_form(EntryKind.VITALS)
def _vitals_form(dialog: AmendDialog, form: QFormLayout, content: VitalsReading | None) -> None:
    for key, (label, unit, _d) in MEASURES.items():
        dialog.line(key, f"{label} ({unit})", getattr(content, key, None), form)


@amend_form(EntryKind.OBSERVATION)
def _observation_form(dialog: AmendDialog, form: QFormLayout, content: Observation | None) -> None:
    text = QPlainTextEdit(content.text if content else "")
    text.setObjectName("amend_text")
    text.setAccessibleName("Observation text")
    text.setTabChangesFocus(True)
    text.setFixedHeight(90)
    form.addRow("Observation:", text)
    dialog.add_field("text", text)
    category = QComboBox()
    category.setAccessibleName("Category")
    for c in ObservationCategory:
        category.addItem(c.label, c.value)
    category.setCurrentIndex(max(0, category.findData(content.category if content else "general")))
    form.addRow("Category:", category)
    dialog.add_field("category", category)
    integ = QCheckBox("For integration")
    integ.setAccessibleName("For integration")
    integ.setChecked(bool(content and content.for_integration))
    form.addRow(integ)
    dialog.add_field("for_integration", integ)


@amend_form(EntryKind.SIDE_EFFECT)
def _side_effect_form(dialog: AmendDialog, form: QFormLayout, content: SideEffect | None) -> None:
    severity = QComboBox()
    severity.setAccessibleName("Severity")
    for s in Severity:
        severity.addItem(s.value.capitalize(), s.value)
    severity.setCurrentIndex(max(0, severity.findData(content.severity if content else None)))
    form.addRow("Severity:", severity)
    dialog.add_field("severity", severity)
    dialog.line("intervention", "Intervention", content.intervention if content else "", form)
    dialog.line("description", "Description", content.description if content else "", form)


@amend_form(EntryKind.SCALE)
def _scale_form(dialog: AmendDialog, form: QFormLayout, content: ScaleScore | None) -> None:
    scale = Scale(content.scale if content else "moaas")
    spin = QSpinBox()
    spin.setAccessibleName(scale.label)
    spin.setRange(*scale.bounds)
    spin.setValue(int(content.score) if content else scale.bounds[0])
    form.addRow(f"{scale.label}:", spin)
    dialog.add_field("score", spin)


@amend_form(EntryKind.ADMINISTRATION)
def _administration_form(dialog: AmendDialog, form: QFormLayout, content: Administration | None) -> None:
    dialog.line("dose", f"Dose ({content.unit if content else ''})", content.dose if content else None, form)
    dialog.line("lot", "Lot", content.lot if content else "", form)
