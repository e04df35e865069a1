"""SideEffectDialog: record a side effect with its severity and the intervention given.

The dialog stays open until the entry is saved; a refused or failed write shows inline and keeps the input.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QButtonGroup,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHBoxLayout,
    QLineEdit,
    QRadioButton,
    QVBoxLayout,
    QWidget,
)

from kapconsole.domain.enums import Severity, SideEffectKind
from kapconsole.domain.errors import DomainError
from kapconsole.ui.session.controller import SessionController
from kapconsole.ui.widgets.clinical_time import ClinicalTimeField
from kapconsole.ui.widgets.draft_key import DraftKey
from kapconsole.ui.widgets.text import PlainLabel


class SideEffectDialog(QDialog):
    saved = Signal(str)  # a one-line confirmation

    def __init__(self, controller: SessionController, kind: SideEffectKind | None = None,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("sideEffectDialog")
        self.draft = DraftKey()
        self.setWindowTitle("Record side effect")
        self.setWindowModality(Qt.WindowModality.WindowModal)
        self._controller = controller

        self.kind = QComboBox()
        self.kind.setObjectName("sideEffectKind")
        self.kind.setAccessibleName("Side effect")
        for k in SideEffectKind:
            self.kind.addItem(k.label, k.value)
        if kind is not None:
            self.kind.setCurrentIndex(self.kind.findData(kind.value))

        self.severity = QButtonGroup(self)
        sev_row = QHBoxLayout()
        for n, s in enumerate(Severity, start=1):
            radio = QRadioButton(f"&{n} {s.value.capitalize()}")
            radio.setObjectName(f"severity_{s.value}")
            radio.setAccessibleName(f"Severity {s.value}")
            radio.setToolTip(f"Alt+{n}")
            self.severity.addButton(radio, n)
            sev_row.addWidget(radio)
            radio.setProperty("value", s.value)
        self.severity.button(1).setChecked(True)

        self.intervention = QLineEdit()
        self.intervention.setObjectName("sideEffectIntervention")
        self.intervention.setAccessibleName("Intervention")
        self.intervention.setPlaceholderText("e.g. reassurance, ondansetron 4 mg SL, position change")
        self.description = QLineEdit()
        self.description.setObjectName("sideEffectDescription")
        self.description.setAccessibleName("Description")
        self.description.setPlaceholderText("required for 'Other'")

        form = QFormLayout()
        form.addRow("Side effect:", self.kind)
        form.addRow("Severity:", sev_row)
        form.addRow("Intervention:", self.intervention)
        form.addRow("Description:", self.description)
        self.when = ClinicalTimeField("sideEffectTime", label="Time noticed")
        form.addRow("Time:", self.when)

        self.error_label = PlainLabel()
        self.error_label.setObjectName("sideEffectError")
        self.error_label.setProperty("severity", "danger")
        self.error_label.setWordWrap(True)
        self.error_label.hide()
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel)
        self.save_button = self.buttons.button(QDialogButtonBox.StandardButton.Save)
        self.save_button.setObjectName("sideEffectSave")
        self.save_button.setDefault(True)
        self.buttons.accepted.connect(self._on_save)
        self.buttons.rejected.connect(self.reject)

        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.error_label)
        layout.addWidget(self.buttons)
        self.resize(520, self.sizeHint().height())
        (self.severity.button(1) if kind is not None else self.kind).setFocus()

    def set_severity(self, severity: Severity) -> None:
        for b in self.severity.buttons():
            b.setChecked(b.property("value") == severity.value)

    def _severity(self) -> str:
        checked = self.severity.checkedButton()
        return str(checked.property("value")) if checked else Severity.MILD.value

    def _on_save(self) -> None:
        sid = self._controller.session_id
        if sid is None:
            return
        kind, severity = self.kind.currentData(), self._severity()
        intervention, description = self.intervention.text(), self.description.text()
        try:
            at = self.when.moment(self._controller.state.services.records.now())
        except DomainError as exc:
            self._on_failed(exc)
            self.when.setFocus()
            return
        self.save_button.setEnabled(False)
        key = self.draft.key_for((sid, kind, severity, intervention, description, at))
        self._controller.perform(
            lambda services, actor: services.records.record_side_effect(
                actor, sid, kind, severity, intervention=intervention, description=description, observed_at=at,
                request_key=key),
            self._on_done, self._on_failed, receiver=self,
        )

    def _on_done(self, _entry: Any) -> None:
        self.draft.saved()
        self.saved.emit(f"Recorded {SideEffectKind(self.kind.currentData()).label.lower()} ({self._severity()})")
        self.accept()

    def _on_failed(self, exc: Exception) -> None:
        self.save_button.setEnabled(True)
        message = str(exc) if isinstance(exc, DomainError) else f"could not save: {exc}"
        self.error_label.setText(f"⚠ Not saved — {message}")
        self.error_label.show()
