"""RescueDialog: a rescue or adjunct medication given during the session (Ctrl+Shift+M).

The drug comes from the clinic's formulary (its usual dose, unit and routes filled in), or is typed for a drug
off the formulary. Who ordered it (a prescriber) and who gave it are chosen; the side effect it treats is linked.
When the service refuses because the dose passes the formulary's maximum or the client has a recorded allergy,
the dialog asks for the written reason and keeps everything typed.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHBoxLayout,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from kapconsole.domain.enums import Role
from kapconsole.domain.errors import DomainError
from kapconsole.domain.formulary import MED_UNITS, FormularyDrug, MedRoute, format_amount
from kapconsole.domain.rescue import AboveFormularyMaximum, AllergyConflict
from kapconsole.domain.rules import Action, may
from kapconsole.domain.values import Entry, StaffMember
from kapconsole.ui.session.controller import SessionController
from kapconsole.ui.shell.app_state import AppState
from kapconsole.ui.widgets.clinical_time import ClinicalTimeField
from kapconsole.ui.widgets.text import PlainLabel, shorten
from kapconsole.ui.widgets.theme import set_flag, set_severity

OTHER = "__other__"


class RescueDialog(QDialog):
    """Opened with ``open()``; records through the session controller and closes when the entry is saved."""

    saved = Signal(str)  # a one-line confirmation

    def __init__(self, state: AppState, controller: SessionController, parent: QWidget | None = None, *,
                 side_effect_id: int | None = None) -> None:
        super().__init__(parent, objectName="rescueDialog")
        self.state = state
        self.controller = controller
        self.entry: Entry | None = None
        self._busy = False
        self._needs: str = ""  # "max" or "allergy": which written reason the service asked for
        self.setWindowTitle("Rescue or adjunct medication")
        heading = PlainLabel("Rescue or adjunct medication")
        set_flag(heading, "heading")
        record = controller.record
        self.formulary: tuple[FormularyDrug, ...] = record.protocol.formulary if record else ()

        self.drug = QComboBox(objectName="rescueDrug")
        self.drug.setAccessibleName("Drug (clinic formulary)")
        for d in self.formulary:
            self.drug.addItem(d.describe(), d.key)
        self.drug.addItem("Other drug (not on the formulary)…", OTHER)
        self.other_drug = QLineEdit(objectName="rescueOtherDrug")
        self.other_drug.setAccessibleName("Drug name")
        self.other_drug.setPlaceholderText("drug name")
        self.dose = QLineEdit(objectName="rescueDose")
        self.dose.setAccessibleName("Dose")
        self.unit = QComboBox(objectName="rescueUnit")
        self.unit.setAccessibleName("Unit")
        self.unit.addItems(list(MED_UNITS))
        self.route = QComboBox(objectName="rescueRoute")
        self.route.setAccessibleName("Route")
        self.reason = QLineEdit(objectName="rescueReason")
        self.reason.setAccessibleName("Reason")
        self.reason.setPlaceholderText("why it is given (e.g. nausea after the dose, SBP 186)")
        self.side_effect = QComboBox(objectName="rescueSideEffect")
        self.side_effect.setAccessibleName("Side effect treated")
        self.side_effect.addItem("— none —", None)
        if record is not None:
            for c in reversed(record.side_effects):
                resolved = " (resolved)" if c.id in record.resolutions else ""
                text = f"{c.entry.content.describe(record)} — {c.at.astimezone():%H:%M}{resolved}"
                self.side_effect.addItem(shorten(text, 70), c.id)
        if side_effect_id is not None:
            self.side_effect.setCurrentIndex(max(0, self.side_effect.findData(side_effect_id)))
        self.ordered_by = QComboBox(objectName="rescueOrderedBy")
        self.ordered_by.setAccessibleName("Ordered by (prescriber)")
        self.given_by = QComboBox(objectName="rescueGivenBy")
        self.given_by.setAccessibleName("Given by")
        self.time = ClinicalTimeField("rescueTime", label="Time given")
        self.why_more = QLineEdit(objectName="rescueOverrideReason")
        self.why_more.setAccessibleName("Written reason to proceed")
        self.why_more_label = PlainLabel("Reason to &proceed")
        self.why_more_label.setBuddy(self.why_more)
        self.why_more.hide()
        self.why_more_label.hide()

        dose_row = QHBoxLayout()
        dose_row.addWidget(self.dose, 1)
        dose_row.addWidget(self.unit)
        dose_row.addWidget(self.route, 1)
        form = QFormLayout()
        form.addRow("&Drug", self.drug)
        form.addRow("&Name", self.other_drug)
        form.addRow("D&ose and route", dose_row)
        form.addRow("&Reason", self.reason)
        form.addRow("&Treats", self.side_effect)
        form.addRow("Ordered &by", self.ordered_by)
        form.addRow("&Given by", self.given_by)
        form.addRow("&Time", self.time)
        form.addRow(self.why_more_label, self.why_more)
        self.form = form
        self.message = PlainLabel("", objectName="rescueMessage")
        self.message.setWordWrap(True)
        self.message.hide()
        buttons = QDialogButtonBox()
        self.record_button = QPushButton("Record medication", objectName="rescueRecord")
        self.record_button.setToolTip("Record the administration (Ctrl+Enter)")
        self.record_button.setShortcut("Ctrl+Return")
        set_flag(self.record_button, "primary")
        buttons.addButton(self.record_button, QDialogButtonBox.ButtonRole.AcceptRole)
        cancel = buttons.addButton(QDialogButtonBox.StandardButton.Cancel)
        cancel.setToolTip("Close without recording (Esc)")
        buttons.rejected.connect(self.reject)
        self.record_button.clicked.connect(self.commit)
        for w in (self.dose, self.reason, self.other_drug, self.time, self.why_more):
            w.returnPressed.connect(self.commit)

        layout = QVBoxLayout(self)
        layout.addWidget(heading)
        layout.addLayout(form)
        layout.addWidget(self.message)
        layout.addWidget(buttons)
        self.setMinimumWidth(620)

        self.drug.currentIndexChanged.connect(self._on_drug_changed)
        self._on_drug_changed()
        self._load_staff()
        self.drug.setFocus()

    # ----- the form ------------------------------------------------------------------------------------
    def selected(self) -> FormularyDrug | None:
        key = self.drug.currentData()
        return next((d for d in self.formulary if d.key == key), None)

    def _on_drug_changed(self, *_args: object) -> None:
        drug = self.selected()
        other = drug is None
        self.other_drug.setVisible(other)
        label = self.form.labelForField(self.other_drug)
        if label is not None:
            label.setVisible(other)
        self.unit.setEnabled(other)
        self.route.clear()
        routes = drug.route_values if drug else tuple(MedRoute)
        for r in routes:
            self.route.addItem(r.label, r.value)
        if drug is not None:
            self.dose.setText(format_amount(drug.usual_dose))
            self.unit.setCurrentText(drug.unit)
            if not self.reason.text().strip() or self.reason.property("filled"):
                self.reason.setText(drug.indication)
                self.reason.setProperty("filled", True)
        else:
            self.dose.clear()
        self._ask_reason("")

    def _load_staff(self) -> None:
        self.state.runner.submit(self.state.services.staff.list_staff, self._on_staff, self._on_failed)

    def _on_staff(self, members: list[StaffMember]) -> None:
        me = self.state.actor.staff_id if self.state.actor else None
        active = [m for m in members if m.active]
        self.ordered_by.clear()
        self.given_by.clear()
        prescribers = [m for m in active if may(m.roles, Action.ORDER_MEDICATION)]
        self.ordered_by.addItem("— choose who ordered it —", None)
        for m in prescribers:
            self.ordered_by.addItem(m.name, m.id)
        if len(prescribers) == 1:
            self.ordered_by.setCurrentIndex(1)
        for m in active:
            if may(m.roles, Action.GIVE_MEDICATION):
                suffix = " (supervisor)" if Role.SUPERVISOR in m.roles else ""
                self.given_by.addItem(f"{m.name}{suffix}", m.id)
        self.given_by.setCurrentIndex(max(0, self.given_by.findData(me)))

    def _ask_reason(self, needs: str) -> None:
        self._needs = needs
        show = bool(needs)
        self.why_more.setVisible(show)
        self.why_more_label.setVisible(show)
        if needs == "allergy":
            self.why_more.setPlaceholderText("why it is given despite the allergy")
        elif needs == "max":
            self.why_more.setPlaceholderText("why more than the formulary's maximum is given")

    # ----- saving --------------------------------------------------------------------------------------
    def commit(self) -> None:
        if self._busy:
            return
        sid = self.controller.session_id
        if sid is None:
            return
        ordered = self.ordered_by.currentData()
        if ordered is None:
            self._show("Choose who ordered it (a prescriber).")
            self.ordered_by.setFocus()
            return
        drug = self.selected()
        try:
            at = self.time.moment(self.state.services.records.now())
        except DomainError as exc:
            self._show(str(exc))
            self.time.setFocus()
            return
        fields: dict[str, Any] = dict(
            drug=drug.key if drug else self.other_drug.text(), dose=self.dose.text(),
            unit="" if drug else self.unit.currentText(), route=self.route.currentData() or "",
            reason=self.reason.text(), ordered_by=int(ordered), given_by=self.given_by.currentData(),
            side_effect=self.side_effect.currentData(), observed_at=at,
            over_max_reason=self.why_more.text() if self._needs == "max" else "",
            allergy_override_reason=self.why_more.text() if self._needs == "allergy" else "",
        )
        self._busy = True
        self.record_button.setEnabled(False)
        self.controller.perform(lambda s, a: s.records.record_rescue_medication(a, sid, **fields),
                                self._on_saved, self._on_failed)

    def _on_saved(self, entry: Entry) -> None:
        self._busy = False
        self.entry = entry
        self.saved.emit(f"Recorded {entry.content.short} at {entry.observed_at.astimezone():%H:%M}")  # type: ignore[attr-defined]
        self.accept()

    def _on_failed(self, exc: Exception) -> None:
        self._busy = False
        self.record_button.setEnabled(True)
        if isinstance(exc, AllergyConflict | AboveFormularyMaximum):
            self._ask_reason("allergy" if isinstance(exc, AllergyConflict) else "max")
            self.why_more.setFocus()
        self._show(str(exc) if isinstance(exc, DomainError) else f"could not save: {exc}")

    def _show(self, text: str) -> None:
        self.message.setText(f"Not recorded — {text}")
        set_severity(self.message, "danger")
        self.message.show()

    def keyPressEvent(self, event: Any) -> None:  # noqa: N802 (Qt override)
        # Enter in a field records (its own handler); it must not close the dialog through the default button.
        if event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter) and not event.modifiers():
            return
        super().keyPressEvent(event)
