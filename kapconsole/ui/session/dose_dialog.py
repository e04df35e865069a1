"""Record a dose (the first dose, or a booster): drug, route, amount, lot, time, who ordered and who gave it."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHBoxLayout,
    QLineEdit,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from kapconsole.domain import esketamine
from kapconsole.domain.entries import DOSE_UNITS
from kapconsole.domain.enums import Role, Route
from kapconsole.domain.errors import ValidationError
from kapconsole.domain.gates import GateBlocked
from kapconsole.domain.values import Entry, StaffMember
from kapconsole.services import Services
from kapconsole.services.record import DoseInput
from kapconsole.ui.session.controller import SessionController
from kapconsole.ui.shell.app_state import AppState
from kapconsole.ui.widgets.blockers import BlockerList
from kapconsole.ui.widgets.clinical_time import ClinicalTimeField
from kapconsole.ui.widgets.draft_key import DraftKey
from kapconsole.ui.widgets.text import PlainLabel
from kapconsole.ui.widgets.theme import set_flag, set_severity

DRUGS = ("Ketamine", "Esketamine")
PRESCRIBER_ROLES = frozenset({Role.MEDICAL, Role.SUPERVISOR})
DEFAULT_INFUSION_MINUTES = 40


class DoseDialog(QDialog):
    """Opened with ``open()``; records through the session controller and closes when the entry is saved."""

    def __init__(self, state: AppState, controller: SessionController, parent: QWidget | None = None) -> None:
        super().__init__(parent, objectName="doseDialog")
        self.state = state
        self.controller = controller
        self.draft = DraftKey()
        self.saved: Entry | None = None
        record = controller.record
        booster = bool(record and record.administrations)
        self.setWindowTitle("Record booster dose" if booster else "Record dose")
        heading = PlainLabel("Booster dose" if booster else "First dose")
        set_flag(heading, "heading")

        self.drug = QComboBox(objectName="doseDrug")
        self.drug.setEditable(True)
        self.drug.addItems(DRUGS)
        self.drug.setAccessibleName("Drug")
        self.route = QComboBox(objectName="doseRoute")
        self.route.setAccessibleName("Route")
        for r in Route:
            self.route.addItem(r.label, r.value)
        self.amount = QLineEdit(objectName="doseAmount")
        self.amount.setAccessibleName("Dose amount")
        self.amount.setPlaceholderText("e.g. 100")
        self.unit = QComboBox(objectName="doseUnit")
        self.unit.setAccessibleName("Dose unit")
        self.unit.addItems(DOSE_UNITS)
        dose_row = QHBoxLayout()
        dose_row.addWidget(self.amount, 1)
        dose_row.addWidget(self.unit)
        self.lot = QLineEdit(objectName="doseLot")
        self.lot.setAccessibleName("Lot number")
        self.device_lot = QLineEdit(objectName="doseDeviceLot")
        self.device_lot.setAccessibleName("Nasal device lot number")
        self.device_lot_label = PlainLabel("De&vice lot")
        self.device_lot_label.setBuddy(self.device_lot)

        now = state.services.records.now()
        self.given_now = QCheckBox("Given &now", objectName="doseNow")
        self.given_now.setChecked(True)
        self.given_now.setAccessibleName("Given now")
        self.given_now.setToolTip("Untick to enter an earlier time (Alt+N)")
        self.time = ClinicalTimeField("doseTime", label="Time given")
        self.time.set_moment(now)
        self.time.setEnabled(False)
        self.time.textChanged.connect(self._update_summary)
        time_row = QHBoxLayout()
        time_row.addWidget(self.given_now)
        time_row.addWidget(self.time, 1)
        self.minutes = QSpinBox(objectName="doseInfusionMinutes")
        self.minutes.setRange(1, 600)
        self.minutes.setValue(DEFAULT_INFUSION_MINUTES)
        self.minutes.setSuffix(" min")
        self.minutes.setAccessibleName("Infusion duration in minutes")
        self.end_label = PlainLabel("", objectName="doseInfusionEnd")
        end_row = QHBoxLayout()
        end_row.addWidget(self.minutes)
        end_row.addWidget(self.end_label, 1)
        self.minutes_label = PlainLabel("Infusion &duration")
        self.minutes_label.setBuddy(self.minutes)
        self.end_widget = QWidget()
        self.end_widget.setLayout(end_row)
        end_row.setContentsMargins(0, 0, 0, 0)

        self.early_reason = QLineEdit(objectName="doseEarlyReason")
        self.early_reason.setAccessibleName("Reason for giving this device before the 5-minute rest")
        self.early_reason_label = PlainLabel("&Early: why")
        self.early_reason_label.setBuddy(self.early_reason)
        self.device_status = PlainLabel("", objectName="doseDeviceStatus")
        self.device_status.setWordWrap(True)

        self.ordered_by = QComboBox(objectName="doseOrderedBy")
        self.ordered_by.setAccessibleName("Ordered by")
        self.given_by = QComboBox(objectName="doseGivenBy")
        self.given_by.setAccessibleName("Given by")

        form = QFormLayout()
        form.addRow("&Drug", self.drug)
        form.addRow("&Route", self.route)
        dose_label = PlainLabel("D&ose")
        dose_label.setBuddy(self.amount)
        form.addRow(dose_label, dose_row)
        self.lot_label = PlainLabel("&Lot")
        self.lot_label.setBuddy(self.lot)
        form.addRow(self.lot_label, self.lot)
        form.addRow(self.device_lot_label, self.device_lot)
        time_label = PlainLabel("&Time")
        time_label.setBuddy(self.given_now)
        form.addRow(time_label, time_row)
        form.addRow(self.minutes_label, self.end_widget)
        form.addRow(self.early_reason_label, self.early_reason)
        form.addRow("Ordered &by", self.ordered_by)
        form.addRow("&Given by", self.given_by)

        self.summary = PlainLabel("", objectName="doseSummary")
        self.summary.setWordWrap(True)
        set_severity(self.summary, "info")
        self.summary.setAccessibleName("Dose about to be recorded")
        set_flag(self.summary, "strong")
        self.message = PlainLabel("", objectName="doseError")
        self.message.setWordWrap(True)
        self.message.hide()
        # What the safety gate refused, with each way forward; confirmable items become tick boxes.
        self.blocker_list = BlockerList(self)
        self.override_button = QPushButton("Supervisor &override…", objectName="doseOverride")
        self.override_button.setToolTip("A medical supervisor overrides the blockers listed, re-authenticated")
        self.override_button.hide()
        self.override_button.clicked.connect(self._on_override)
        self.record_button = QPushButton("Record dose", objectName="doseRecord")
        self.record_button.setToolTip("Save this dose in the record (Ctrl+Enter)")
        self.record_button.setShortcut("Ctrl+Return")
        set_flag(self.record_button, "primary")
        buttons = QDialogButtonBox()
        cancel = buttons.addButton(QDialogButtonBox.StandardButton.Cancel)
        cancel.setToolTip("Close without recording (Esc)")
        buttons.addButton(self.record_button, QDialogButtonBox.ButtonRole.ActionRole)
        layout = QVBoxLayout(self)
        layout.addWidget(heading)
        layout.addWidget(self.device_status)
        layout.addLayout(form)
        layout.addWidget(self.summary)
        layout.addWidget(self.blocker_list)
        layout.addWidget(self.override_button)
        layout.addWidget(self.message)
        layout.addWidget(buttons)
        buttons.rejected.connect(self.reject)
        self.record_button.clicked.connect(self._on_record)

        for signal in (self.drug.currentTextChanged, self.amount.textChanged, self.unit.currentTextChanged,
                       self.ordered_by.currentIndexChanged, self.given_by.currentIndexChanged,
                       self.minutes.valueChanged):
            signal.connect(self._update_summary)
        self.route.currentIndexChanged.connect(self._on_route_changed)
        self.given_now.toggled.connect(self._on_now_toggled)
        self._staff: list[StaffMember] = []
        self._busy = False
        self.heading = heading
        self.esketamine = bool(record and record.info.route is Route.INTRANASAL)
        self._apply_plan()
        self._on_route_changed()
        self._apply_esketamine()
        self.setMinimumWidth(620)
        self._load_staff()

    # ----- defaults ------------------------------------------------------------------------------------
    def _apply_plan(self) -> None:
        record = self.controller.record
        if record is None:
            return
        info = record.info
        if info.planned_drug:
            self.drug.setCurrentText(info.planned_drug.capitalize() if info.planned_drug.islower() else info.planned_drug)
        self.route.setCurrentIndex(max(0, self.route.findData(info.route.value)))
        if info.planned_dose is not None:
            self.amount.setText(f"{info.planned_dose:g}")
        if info.planned_unit in DOSE_UNITS:
            self.unit.setCurrentText(info.planned_unit)
        if record.administrations:
            last = record.administrations[-1].payload
            self.lot.setText(str(last.get("lot", "")))
            self.device_lot.setText(str(last.get("device_lot", "")))

    def _apply_esketamine(self) -> None:
        """An esketamine session records one 28 mg device at a time, 5 minutes apart (the label)."""
        record = self.controller.record
        self.device_status.setVisible(self.esketamine)
        self.early_reason.setVisible(False)
        self.early_reason_label.setVisible(False)
        if not self.esketamine or record is None:
            return
        status = esketamine.device_status(record)
        number = status.given + 1
        title = f"Esketamine device {number} of {status.planned}"
        self.setWindowTitle(f"Record {title.lower()}")
        self.heading.setText(title if not status.complete else "All devices given")
        self.drug.setCurrentText(esketamine.device_drug(record.info.planned_drug))
        self.amount.setText(str(esketamine.RULES.device_mg))
        self.unit.setCurrentText("mg")
        for w in (self.drug, self.route, self.amount, self.unit):
            w.setEnabled(False)
        self.lot.setVisible(False)
        self.lot_label.setVisible(False)
        self.record_button.setText("Record device")
        self.record_button.setShortcut("Ctrl+Return")  # setText drops the shortcut
        wait = status.wait(self.state.services.records.now())
        early = wait.total_seconds() > 0 and status.next_allowed_at is not None
        if status.complete:
            text = f"All {status.planned} devices of this session are recorded."
        elif status.next_allowed_at is None:
            text = f"{status.planned} devices of {esketamine.RULES.device_mg} mg planned; 5 minutes between devices."
        elif early:
            assert status.next_allowed_at is not None
            text = (f"⚠ The 5-minute rest ends at {status.next_allowed_at.astimezone():%H:%M:%S} "
                    f"({int(wait.total_seconds() // 60)}:{int(wait.total_seconds() % 60):02d} to go): "
                    "giving it now needs a reason.")
        else:
            text = "The 5-minute rest since the previous device has passed."
        self.device_status.setText(text)
        set_severity(self.device_status, "warning" if early or status.complete else "info")
        # Shown from the second device on: the time may also be set back by hand.
        self.early_reason.setVisible(status.given >= 1 and not status.complete)
        self.early_reason_label.setVisible(status.given >= 1 and not status.complete)
        self.record_button.setEnabled(not status.complete)

    def _load_staff(self) -> None:
        staff = self.state.services.staff
        self.state.runner.submit(staff.list_staff, self._on_staff, self._on_failed)

    def _on_staff(self, members: list[StaffMember]) -> None:
        record = self.controller.record
        dosing = record.protocol.dosing if record is not None else None
        prescribers = {Role(r) for r in dosing.prescriber_roles} if dosing else {Role.SUPERVISOR}
        givers = {Role(r) for r in dosing.giver_roles} if dosing else set(PRESCRIBER_ROLES)
        active = [m for m in members if m.active]
        self._staff = [m for m in active if m.roles & (prescribers | givers)]
        me = self.state.actor.staff_id if self.state.actor else None
        self.ordered_by.blockSignals(True)
        self.given_by.blockSignals(True)
        self.ordered_by.clear()
        self.given_by.clear()
        self.ordered_by.addItem("— choose who ordered it —", None)
        for m in self._staff:
            label = f"{m.name} (supervisor)" if Role.SUPERVISOR in m.roles else m.name
            # Only the protocol's prescribers may order; only medical staff may give.
            if m.roles & prescribers:
                self.ordered_by.addItem(label, m.id)
            if m.roles & givers:
                self.given_by.addItem(label, m.id)
        supervisors = [m for m in self._staff if Role.SUPERVISOR in m.roles]
        if len(supervisors) == 1:
            self.ordered_by.setCurrentIndex(self.ordered_by.findData(supervisors[0].id))
        self.given_by.setCurrentIndex(max(0, self.given_by.findData(me)))
        self.ordered_by.blockSignals(False)
        self.given_by.blockSignals(False)
        self._update_summary()

    # ----- live form -----------------------------------------------------------------------------------
    @property
    def route_value(self) -> Route:
        return Route(self.route.currentData())

    def _on_route_changed(self, *_args: object) -> None:
        route = self.route_value
        nasal, iv = route is Route.INTRANASAL, route is Route.IV
        self.device_lot.setVisible(nasal)
        self.device_lot_label.setVisible(nasal)
        self.end_widget.setVisible(iv)
        self.minutes_label.setVisible(iv)
        if nasal and self.drug.currentText() == "Ketamine":
            self.drug.setCurrentText("Esketamine")
        self._update_summary()

    def _on_now_toggled(self, now: bool) -> None:
        self.time.setEnabled(not now)
        if not now:
            self.time.set_moment(self.state.services.records.now())
            self.time.setFocus()
            self.time.selectAll()
        self._update_summary()

    def start_time(self) -> datetime | None:
        """The time the dose was given (or the infusion started); None means now.

        Raises ``ValidationError`` for a time that cannot be read.
        """
        if self.given_now.isChecked():
            return None
        return self.time.moment(self.state.services.records.now())

    def _update_summary(self, *_args: object) -> None:
        try:
            start = self.start_time()
        except ValidationError:
            start = None
        route = self.route_value
        when = "now" if start is None else f"at {start.astimezone().strftime('%Y-%m-%d %H:%M')}"
        amount = self.amount.text().strip() or "?"
        parts = [f"{self.drug.currentText().strip() or '?'} {amount} {self.unit.currentText()}", route.label]
        if route is Route.IV:
            begin = start or self.state.services.records.now().astimezone()
            end = begin + timedelta(minutes=self.minutes.value())
            if end <= self.state.services.records.now():
                self.end_label.setText(f"ended at {end.strftime('%H:%M')}")
                parts.append(f"infusion {self.minutes.value()} min, ended {end.strftime('%H:%M')}")
            else:
                self.end_label.setText(f"planned end {end.strftime('%H:%M')}; record the end when it stops")
                parts.append(f"infusion running, planned {self.minutes.value()} min")
        given = self.given_by.currentText().split(" (")[0] or "?"
        ordered = self.ordered_by.currentText().split(" (")[0] if self.ordered_by.currentData() else "?"
        self.summary.setText(" · ".join(parts) + f"\nGiven {when} by {given}; ordered by {ordered}")

    # ----- saving --------------------------------------------------------------------------------------
    def _on_record(self) -> None:
        if self._busy:
            return
        session_id = self.controller.session_id
        if session_id is None:
            return
        ordered, given = self.ordered_by.currentData(), self.given_by.currentData()
        if ordered is None:
            self._show("Choose who ordered this dose.")
            self.ordered_by.setFocus()
            return
        route = self.route_value
        try:
            start = self.start_time()
        except ValidationError as exc:
            self._show(str(exc))
            self.time.setFocus()
            return
        end = None
        if route is Route.IV and start is not None:
            # An infusion already over is recorded with its end; one still running gets its end when it stops.
            finished = start + timedelta(minutes=self.minutes.value())
            end = finished if finished <= self.state.services.records.now() else None
        fields: dict[str, Any] = dict(
            drug=self.drug.currentText().strip(), route=route.value, dose=self.amount.text().strip(),
            unit=self.unit.currentText(), lot=self.lot.text().strip(),
            device_lot=self.device_lot.text().strip() if route is Route.INTRANASAL else "",
            observed_at=start, infusion_end=end, ordered_by=int(ordered),
            given_by=int(given) if given is not None else None, confirm=self.blocker_list.confirmed_keys,
        )

        reason = self.early_reason.text().strip()
        key = self.draft.key_for((session_id, sorted(fields.items()), reason))

        def record(services: Services, actor: Any) -> Entry:
            if self.esketamine:
                return services.rems.record_device(actor, session_id, device_lot=fields["device_lot"],
                                                   ordered_by=fields["ordered_by"], given_by=fields["given_by"],
                                                   observed_at=start, early_reason=reason,
                                                   confirm=fields["confirm"], request_key=key)
            return services.records.record_administration(actor, session_id, **fields, request_key=key)

        self._busy = True
        self.record_button.setEnabled(False)
        self.controller.perform(record, self._on_saved, self._on_failed)

    def _on_saved(self, entry: Entry) -> None:
        self.draft.saved()
        self._busy = False
        self.saved = entry
        self.accept()

    def _on_failed(self, exc: Exception) -> None:
        self._busy = False
        self.record_button.setEnabled(True)
        if isinstance(exc, GateBlocked):
            self.message.hide()
            self.blocker_list.show_blockers("This dose cannot be recorded yet:", exc.blockers)
            self.override_button.setVisible(bool(self.blocker_list.overridable))
            return
        self._show(str(exc))

    def dose_input(self) -> DoseInput:
        return DoseInput(self.drug.currentText().strip(), self.route_value.value, self.amount.text().strip(),
                         self.unit.currentText())

    def _on_override(self) -> None:
        from kapconsole.ui.checklist.checklist_view import OverrideDialog

        dialog = OverrideDialog(self.state, self.controller, self, dose=self.dose_input(),
                                blockers=self.blocker_list.overridable)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.accepted.connect(self._on_overridden)
        dialog.open()

    def _on_overridden(self) -> None:
        self.override_button.hide()
        self.blocker_list.show_blockers("Override recorded: record the dose.",
                                        [b for b in self.blocker_list.blockers if b.confirmable])

    def _show(self, text: str) -> None:
        self.message.setText(text)
        set_severity(self.message, "danger")
        self.message.show()

    def keyPressEvent(self, event: Any) -> None:  # noqa: N802 (Qt override)
        # Enter in a field must not record a dose by accident: only the button (or Ctrl+Enter) records.
        if event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter) and not event.modifiers():
            self.focusNextChild()
            return
        super().keyPressEvent(event)
