"""OutcomeDialog: PHQ-9, GAD-7 or PCL-5 answers at check-in, entered by staff before dosing."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from kapconsole.domain.errors import DomainError
from kapconsole.domain.outcomes import Instrument, score
from kapconsole.ui.session.controller import SessionController
from kapconsole.ui.widgets.text import PlainLabel


class OutcomeDialog(QDialog):
    def __init__(self, controller: SessionController, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("outcomeDialog")
        self.setWindowTitle("Outcome measure at check-in")
        self.setWindowModality(Qt.WindowModality.WindowModal)
        self._controller = controller
        self.instrument = QComboBox(objectName="outcomeInstrument")
        self.instrument.setAccessibleName("Instrument")
        for i in Instrument:
            self.instrument.addItem(i.label, i.value)
        self.instrument.currentIndexChanged.connect(self._on_instrument)
        self.form = QFormLayout()
        self.items: list[QSpinBox] = []
        self.total = PlainLabel("", objectName="outcomeTotal")
        self.total.setTextFormat(Qt.TextFormat.PlainText)
        self.flag = PlainLabel("", objectName="outcomeFlag")
        self.flag.setTextFormat(Qt.TextFormat.PlainText)
        self.flag.setWordWrap(True)
        self.flag.setProperty("severity", "danger")
        self.error_label = PlainLabel("", objectName="outcomeError")
        self.error_label.setTextFormat(Qt.TextFormat.PlainText)
        self.error_label.setWordWrap(True)
        self.error_label.setProperty("severity", "danger")
        self.error_label.hide()
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel)
        self.save_button = self.buttons.button(QDialogButtonBox.StandardButton.Save)
        self.save_button.setObjectName("outcomeSave")
        self.buttons.accepted.connect(self._on_save)
        self.buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        top = QFormLayout()
        top.addRow("Instrument:", self.instrument)
        layout.addLayout(top)
        layout.addLayout(self.form)
        layout.addWidget(self.total)
        layout.addWidget(self.flag)
        layout.addWidget(self.error_label)
        layout.addWidget(self.buttons)
        self._on_instrument()

    def current(self) -> Instrument:
        return Instrument(self.instrument.currentData())

    def answers(self) -> list[int]:
        return [box.value() for box in self.items]

    def _on_instrument(self) -> None:
        while self.form.rowCount():
            self.form.removeRow(0)
        which = self.current()
        self.items = []
        for n in range(1, which.items + 1):
            box = QSpinBox(objectName=f"outcomeItem{n}")
            box.setRange(0, which.item_max)
            box.setAccessibleName(f"{which.label} item {n}")
            box.valueChanged.connect(self._on_changed)
            self.items.append(box)
            self.form.addRow(f"Item {n}:", box)
        self._on_changed()

    def _on_changed(self) -> None:
        scored = score(self.current(), self.answers())
        self.total.setText(f"Total {scored.total} of {self.current().maximum}: {scored.band}")
        self.flag.setText("⚠ Item 9 above 0: thoughts of self-harm reported. A clinician assesses suicide risk "
                          "before dosing." if scored.needs_risk_assessment else "")
        self.flag.setVisible(scored.needs_risk_assessment)
        self.error_label.hide()

    def _on_save(self) -> None:
        sid = self._controller.session_id
        if sid is None:
            return
        instrument, answers = self.current().value, list(self.answers())
        self.save_button.setEnabled(False)
        self._controller.perform(
            lambda services, actor: services.records.record_outcome_measure(actor, sid, instrument, answers),
            self._on_done, self._on_failed, receiver=self)

    def _on_done(self, _entry: Any) -> None:
        self.accept()

    def _on_failed(self, exc: Exception) -> None:
        self.save_button.setEnabled(True)
        message = str(exc) if isinstance(exc, DomainError) else f"could not save: {exc}"
        self.error_label.setText(f"⚠ Not saved — {message}")
        self.error_label.show()
