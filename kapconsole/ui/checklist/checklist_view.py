"""Pre-session checklist: confirm each item, take baseline vitals, record the intention, then dose.

The view only lays out what the record says: which items are confirmed (by whom, when) and what still
blocks dosing (``record.dosing_blockers()``). Every confirmation and entry goes through the controller.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QCheckBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

from kapconsole.domain import checklist as record_items
from kapconsole.domain.enums import Role, Route, SessionState
from kapconsole.domain.gates import Blocker
from kapconsole.domain.protocol import MEASURES, ChecklistItem
from kapconsole.domain.record import SessionRecord
from kapconsole.domain.rules import Action, may
from kapconsole.domain.values import Actor
from kapconsole.services import Services
from kapconsole.services.record import DoseInput
from kapconsole.ui.checklist.outcome_dialog import OutcomeDialog
from kapconsole.ui.session.controller import SessionController
from kapconsole.ui.shell.app_state import AppState
from kapconsole.ui.widgets.text import ElidedLabel, PlainLabel
from kapconsole.ui.widgets.theme import set_flag, set_severity

BASELINE_MEASURES = ("sbp", "dbp", "hr", "spo2", "rr", "temp")
SHORT = {"sbp": "Systolic", "dbp": "Diastolic", "hr": "Heart rate", "spo2": "SpO2", "rr": "Resp. rate",
         "temp": "Temp."}


def hhmm(moment: Any) -> str:
    return moment.astimezone().strftime("%H:%M")


def summarise_blockers(blockers: list[Blocker], *, names: int = 2) -> list[str]:
    """One line per kind of blocker, with its way forward: unconfirmed checklist items and unanswered REMS
    questions are counted, not listed one by one."""
    prefixes = {"not confirmed: ": ("required checklist {noun} not confirmed", "item", "confirm each, or a "
                                    "supervisor's override"),
                "REMS answer missing: ": ("REMS {noun} not answered", "question", "answer each (REMS answers…, "
                                          "Ctrl+Alt+R)")}
    lines = []
    for prefix, (text, noun, way) in prefixes.items():
        missing = [b.label[len(prefix):] for b in blockers if b.label.startswith(prefix)]
        if missing:
            shown = "; ".join(missing[:names]) + (f"; and {len(missing) - names} more" if len(missing) > names else "")
            plural = noun if len(missing) == 1 else noun + "s"
            lines.append(f"{len(missing)} {text.format(noun=plural)} ({shown}) — {way}")
    return lines + [f"{b.label} — {b.way_forward}" for b in blockers if not b.label.startswith(tuple(prefixes))]


class _ItemLabel(PlainLabel):
    """The wrapping text of a checklist item; clicking it ticks the box like clicking the box would."""

    def __init__(self, text: str, box: QCheckBox, parent: QWidget | None = None) -> None:
        super().__init__(text, parent)
        self.box = box
        self.setWordWrap(True)
        self.setBuddy(box)

    def mousePressEvent(self, event: Any) -> None:  # noqa: N802 (Qt override)
        if self.box.isEnabled() and not self.box.isChecked():
            self.box.setFocus()
            self.box.click()
        super().mousePressEvent(event)


def vitals_text(values: Any) -> str:
    parts = []
    if values.get("sbp") is not None and values.get("dbp") is not None:
        parts.append(f"BP {values['sbp']:g}/{values['dbp']:g}")
    for key, label in (("hr", "HR"), ("spo2", "SpO2"), ("rr", "RR"), ("temp", "T")):
        if values.get(key) is not None:
            unit = MEASURES[key][1]
            parts.append(f"{label} {values[key]:g}{'' if unit.startswith('/') else ' '}{unit}")
    return " · ".join(parts)


class ChecklistView(QWidget):
    """Shown while the session is in the pre-session checklist. ``dose_requested`` asks for the dose dialog."""

    dose_requested = Signal()

    def __init__(self, state: AppState, controller: SessionController, parent: QWidget | None = None) -> None:
        super().__init__(parent, objectName="checklistView")
        self.state = state
        self.controller = controller
        self._session_id: int | None = None
        self._boxes: dict[str, QCheckBox] = {}
        self._who: dict[str, QLabel] = {}
        self._labels: dict[str, QLabel] = {}
        self._pending: set[str] = set()

        self.heading = ElidedLabel("Pre-session checklist", objectName="checklistHeading")
        set_flag(self.heading, "heading")
        self.details = PlainLabel("", objectName="checklistDetails")
        self.details.setWordWrap(True)
        self.allergies = PlainLabel("", objectName="checklistAllergies")
        self.allergies.setWordWrap(True)
        set_severity(self.allergies, "warning")
        # Before dosing, in red: a PHQ-9 item-9 answer above 0 asks a clinician to assess suicide risk.
        self.safety = PlainLabel("", objectName="checklistSafetyFlags")
        self.safety.setTextFormat(Qt.TextFormat.PlainText)
        self.safety.setWordWrap(True)
        set_severity(self.safety, "danger")
        self.safety.hide()

        # Left: the checklist items, grouped.
        self.items_host = QWidget()
        self.items_layout = QVBoxLayout(self.items_host)
        scroll = QScrollArea(objectName="checklistScroll")
        scroll.setWidgetResizable(True)
        scroll.setWidget(self.items_host)

        # Right: baseline vitals, intention, dosing gate.
        self.vitals: dict[str, QLineEdit] = {}
        grid = QGridLayout()
        for n, key in enumerate(BASELINE_MEASURES):
            label, unit, _ = MEASURES[key]
            edit = QLineEdit(objectName=f"baseline_{key}")
            edit.setAccessibleName(f"Baseline {label} ({unit})")
            edit.setPlaceholderText(unit)
            edit.setMaximumWidth(140)
            caption = PlainLabel(f"{SHORT[key]}")
            caption.setBuddy(edit)
            grid.addWidget(caption, n // 2, (n % 2) * 2)
            grid.addWidget(edit, n // 2, (n % 2) * 2 + 1)
            edit.returnPressed.connect(self._on_record_vitals)
            self.vitals[key] = edit
        self.vitals_button = QPushButton("Record baseline vitals", objectName="baselineRecord")
        self.vitals_button.setToolTip("Save these readings as baseline vitals (Enter in any field)")
        self.baseline_shown = PlainLabel("No baseline vitals yet.", objectName="baselineShown")
        self.baseline_shown.setWordWrap(True)
        vitals_box = QGroupBox("Baseline vitals")
        vbox = QVBoxLayout(vitals_box)
        vbox.addLayout(grid)
        vbox.addWidget(self.vitals_button)
        vbox.addWidget(self.baseline_shown)

        self.intention = QPlainTextEdit(objectName="intentionText")
        self.intention.setAccessibleName("Client's intention")
        self.intention.setPlaceholderText("The client's intention for this session, in their words")
        self.intention.setTabChangesFocus(True)
        self.intention.setMaximumHeight(110)
        self.intention_button = QPushButton("Save intention", objectName="intentionSave")
        self.intention_button.setToolTip("Save the intention in the record (Ctrl+Shift+I)")
        self.intention_shown = PlainLabel("", objectName="intentionShown")
        self.intention_shown.setWordWrap(True)
        set_flag(self.intention_shown, "muted")
        intention_box = QGroupBox("Client's intention")
        ibox = QVBoxLayout(intention_box)
        ibox.addWidget(self.intention)
        ibox.addWidget(self.intention_button)
        ibox.addWidget(self.intention_shown)

        self.blockers = PlainLabel("", objectName="doseBlockers")
        self.blockers.setWordWrap(True)
        self.blockers.setAccessibleName("What blocks dosing")
        self.dose_button = QPushButton("Record dose…", objectName="recordDose")
        self.dose_button.setToolTip("Record the first dose (Ctrl+D); enabled when nothing blocks dosing")
        set_flag(self.dose_button, "primary")
        self.override_button = QPushButton("Supervisor override…", objectName="overrideButton")
        self.override_button.setToolTip("A supervisor lets dosing go ahead despite the checklist (Ctrl+Shift+O)")
        gate_box = QGroupBox("Before dosing")
        gbox = QVBoxLayout(gate_box)
        gbox.addWidget(self.blockers)
        self.rems_button = QPushButton("REMS answers…", objectName="remsAnswers")
        self.rems_button.setToolTip("Esketamine REMS: enrolment, phase, medications, fasting, escort (Ctrl+Alt+R)")
        self.rems_button.hide()
        buttons = QHBoxLayout()
        buttons.addWidget(self.rems_button)
        buttons.addWidget(self.override_button)
        buttons.addStretch(1)
        buttons.addWidget(self.dose_button)
        gbox.addLayout(buttons)

        # Vitals and intention scroll when the screen is small (night mode's large type); the dosing gate
        # stays pinned below them so "Record dose" is always in view.
        inputs = QWidget()
        inputs_layout = QVBoxLayout(inputs)
        inputs_layout.setContentsMargins(0, 0, 0, 0)
        self.outcomes_shown = PlainLabel("No outcome measure recorded at this check-in.", objectName="outcomesShown")
        self.outcomes_shown.setTextFormat(Qt.TextFormat.PlainText)
        self.outcomes_shown.setWordWrap(True)
        self.outcome_button = QPushButton("Record outcome measure…", objectName="outcomeRecord")
        self.outcome_button.setToolTip("PHQ-9, GAD-7 or PCL-5 answers, before dosing")
        self.outcome_button.clicked.connect(self._on_outcome_clicked)
        outcome_box = QGroupBox("Outcome measures (PHQ-9, GAD-7, PCL-5)")
        obox = QVBoxLayout(outcome_box)
        obox.addWidget(self.outcomes_shown)
        obox.addWidget(self.outcome_button)
        inputs_layout.addWidget(vitals_box)
        inputs_layout.addWidget(intention_box)
        inputs_layout.addWidget(outcome_box)
        inputs_layout.addStretch(1)
        inputs_scroll = QScrollArea(objectName="checklistInputsScroll")
        inputs_scroll.setWidgetResizable(True)
        inputs_scroll.setFrameShape(QScrollArea.Shape.NoFrame)
        inputs_scroll.setWidget(inputs)
        right = QVBoxLayout()
        right.addWidget(inputs_scroll, 1)
        right.addWidget(gate_box)
        body = QHBoxLayout()
        body.addWidget(scroll, 3)
        body.addLayout(right, 2)
        layout = QVBoxLayout(self)
        layout.addWidget(self.heading)
        layout.addWidget(self.details)
        layout.addWidget(self.allergies)
        layout.addWidget(self.safety)
        layout.addLayout(body, 1)

        self.vitals_button.clicked.connect(self._on_record_vitals)
        self.intention_button.clicked.connect(self._on_save_intention)
        self.dose_button.clicked.connect(self._on_dose_clicked)
        self.override_button.clicked.connect(self._on_override_clicked)
        self.rems_button.clicked.connect(self.open_rems)
        for key, slot in (("Ctrl+D", self._on_dose_clicked), ("Ctrl+Shift+O", self._on_override_clicked),
                          ("Ctrl+Alt+R", self.open_rems),
                          ("Ctrl+Shift+I", self._on_save_intention)):
            shortcut = QShortcut(QKeySequence(key), self)
            shortcut.setContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
            shortcut.activated.connect(slot)
        controller.record_changed.connect(self._on_record_changed)
        state.actor_changed.connect(lambda _a: self._update_permissions())
        self.dose_button.setEnabled(False)
        self.override_button.setEnabled(False)

    # ----- showing the record --------------------------------------------------------------------------
    def _on_record_changed(self, record: SessionRecord) -> None:
        if record.info.id != self._session_id:
            self._build(record)
        self._show(record)

    def show_record(self, record: SessionRecord) -> None:
        """Show ``record`` now (the main window calls this when it switches to this screen)."""
        self._on_record_changed(record)

    def focus_first_open_item(self) -> None:
        """Keyboard focus on the first item still to confirm (or the baseline vitals when all are done)."""
        box = next((b for b in self._boxes.values() if b.isEnabled() and not b.isChecked()), None)
        (box or self.vitals["sbp"]).setFocus()

    def _build(self, record: SessionRecord) -> None:
        self._session_id = record.info.id
        self._pending.clear()
        while self.items_layout.count():
            child = self.items_layout.takeAt(0)
            if child.widget() is not None:
                child.widget().deleteLater()
        self._boxes.clear()
        self._who.clear()
        self._labels.clear()
        for v in self.vitals.values():
            v.clear()
        self.intention.clear()
        groups: dict[str, list[ChecklistItem]] = {}
        for item in record.protocol.checklist:
            groups.setdefault(item.group, []).append(item)
        for group, items in groups.items():
            box = QGroupBox(group)
            gl = QVBoxLayout(box)
            for item in items:
                text = item.label if item.required else f"{item.label}  (optional)"
                check = QCheckBox(objectName=f"check_{item.key}")
                check.setAccessibleName(text)
                check.setToolTip(
                    "Space: confirm this item once the record shows it (recorded with your name and the time)"
                    if item.key in record_items.RECORD_ITEMS else
                    "Space: confirm this item (recorded with your name and the time); "
                    "Space again before dosing withdraws it, with a reason")
                label = _ItemLabel(text, check)
                label.setObjectName(f"checkLabel_{item.key}")
                who = PlainLabel("", objectName=f"checkWho_{item.key}")
                set_flag(who, "muted")
                who.hide()
                texts = QVBoxLayout()
                texts.setSpacing(0)
                texts.addWidget(label)
                texts.addWidget(who)
                row = QHBoxLayout()
                row.addWidget(check, 0, Qt.AlignmentFlag.AlignTop)
                row.addLayout(texts, 1)
                gl.addLayout(row)
                check.toggled.connect(lambda on, key=item.key: self._on_item_toggled(key, on))
                self._boxes[item.key] = check
                self._who[item.key] = who
                self._labels[item.key] = label
            self.items_layout.addWidget(box)
        self.items_layout.addStretch(1)

    def _show(self, record: SessionRecord) -> None:
        info = record.info
        client = info.client
        self.heading.setText(f"Pre-session checklist — {client.name}")
        planned = f"{info.planned_drug} {info.planned_dose:g} {info.planned_unit}" if info.planned_dose else info.planned_drug
        self.details.setText(f"{client.identifier} · {info.course_title or 'no course'}, {info.course_label} · "
                             f"{info.room} · planned: {planned}, {info.route.label} · {info.state.label}")
        self.allergies.setText(f"Allergies: {client.allergies}" if client.allergies else "")
        self.allergies.setVisible(bool(client.allergies))
        self.safety.setText("\n".join(f"⚠ {flag}" for flag in record.safety_flags))
        self.safety.setVisible(bool(record.safety_flags))
        scores = record.outcome_scores
        self.outcomes_shown.setText("; ".join(s.text for s in scores.values()) if scores
                                    else "No outcome measure recorded at this check-in.")
        self.outcome_button.setEnabled(record.first_dose_at is None and not record.locked)
        confirmed = record.checklist_confirmed
        for key, check in self._boxes.items():
            done = confirmed.get(key)
            evidence = record_items.evidence(record, key)
            check.blockSignals(True)
            check.setChecked(done is not None or key in self._pending)
            check.blockSignals(False)
            shown = f"From the record: {evidence.text}" if evidence is not None else ""
            if done is not None:
                self._pending.discard(key)
                answer = done.payload.get("answer", "confirmed")
                by = f"✓ {answer.replace('_', ' ')} by {done.entry.author_name} at {hhmm(done.at)}"
                self._set_who(key, f"{by}\n{shown}" if shown else by)
            elif key in self._pending:
                self._set_who(key, "saving…")
            else:
                self._set_who(key, shown)
            set_flag(self._labels[key], "muted", done is not None)
        baseline = record.baseline_vitals
        if baseline:
            last = record.vitals[-1] if record.vitals else None
            when = f" — {hhmm(last.at)} by {last.entry.author_name}" if last else ""
            self.baseline_shown.setText(f"Baseline: {vitals_text(baseline)}{when}")
        else:
            self.baseline_shown.setText("No baseline vitals yet.")
        self.intention_shown.setText(f"Recorded: “{record.intention}”" if record.intention else "No intention recorded yet.")
        self.rems_button.setVisible(record.info.route is Route.INTRANASAL)
        blockers = record.dosing_blockers()
        overrides = record.overrides_since_last_dose()
        if overrides and not blockers and not record.administrations:
            ov = overrides[-1]
            covered = "; ".join(str(c.get("label", "")) for c in ov.payload.get("covers", ()))
            self.blockers.setText(f"Supervisor override by {ov.entry.author_name} at {hhmm(ov.at)}: "
                                  f"{ov.payload.get('reason', '')}\nCovers: {covered}\nDosing may go ahead.")
            set_severity(self.blockers, "warning")
        elif blockers:
            lines = "\n".join(f"• {b}" for b in summarise_blockers(blockers))
            note = ""
            if overrides:
                note = ("\nA supervisor's override was recorded; it covers only the blockers it named, "
                        "not these.")
            self.blockers.setText(f"Dosing is blocked:\n{lines}{note}")
            set_severity(self.blockers, "danger" if any(b.key.startswith(("predose", "alert")) or "answered" in b.label
                                                        for b in blockers) else "warning")
        else:
            self.blockers.setText("Ready: every required item is confirmed and the baseline is within range.")
            set_severity(self.blockers, "ok")
        self._update_permissions()

    def _set_who(self, key: str, text: str) -> None:
        self._who[key].setText(text)
        self._who[key].setVisible(bool(text))

    def _update_permissions(self) -> None:
        record = self.controller.record
        actor = self.state.actor
        roles = actor.roles if actor else frozenset()
        blocked = record is None or bool(record.dosing_blockers())
        self.dose_button.setEnabled(not blocked and may(roles, Action.RECORD_DOSE))
        self.dose_button.setToolTip(
            "Record the first dose (Ctrl+D)" if may(roles, Action.RECORD_DOSE)
            else "Only medical staff and supervisors record doses (Ctrl+D)")
        self.override_button.setEnabled(record is not None and any(b.overridable for b in record.dosing_blockers()))
        can_chart = may(roles, Action.CONFIRM_CHECKLIST)
        open_checklist = (record is not None and record.info.state is SessionState.CHECKLIST
                          and not record.administrations)
        for key, check in self._boxes.items():
            if record is None:
                continue
            evidence = record_items.evidence(record, key)
            # An item the record answers is ticked only once the record shows it (not before it exists).
            available = evidence is None or evidence.satisfied or key in record.checklist_confirmed
            item = record.protocol.checklist_item(key)
            # Therapists confirm only the items the protocol gives their role.
            mine = item is not None and bool({r.value for r in roles} & set(item.roles))
            # Confirmed items stay in the tab order: unticking one (before dosing) withdraws it, with a reason.
            check.setEnabled(can_chart and open_checklist and available and mine)
            if not mine and item is not None:
                check.setToolTip("The protocol gives this item to: " + ", ".join(item.roles))
        self.vitals_button.setEnabled(can_chart)
        self.intention_button.setEnabled(can_chart)

    # ----- entering ------------------------------------------------------------------------------------
    def _on_item_toggled(self, key: str, on: bool) -> None:
        sid = self._session_id
        if sid is None:
            return
        record = self.controller.record
        if not on:
            if key in self._pending or record is None or key not in record.checklist_confirmed:
                self._set_checked(key, key in self._pending)
                return
            self._ask_withdraw(key)
            return
        if key in self._pending:
            return
        # The box keeps the keyboard focus while it saves: Tab then goes to the next item, none is skipped.
        self._pending.add(key)
        self._set_who(key, "saving…")

        def failed(_exc: Exception) -> None:
            self._pending.discard(key)
            if key in self._boxes:
                self._set_checked(key, False)
                self._set_who(key, "not saved — tick again")

        self.controller.perform(lambda s, a: s.records.confirm_checklist_item(a, sid, key), None, failed)

    def _set_checked(self, key: str, on: bool) -> None:
        box = self._boxes[key]
        box.blockSignals(True)
        box.setChecked(on)
        box.blockSignals(False)

    def _ask_withdraw(self, key: str) -> None:
        """Untick a confirmed item: ask why; the withdrawal is recorded, the confirmation stays visible."""
        self._set_checked(key, True)  # ticked until the withdrawal is saved
        label = self._labels[key].text()
        dialog = WithdrawDialog(label, self)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        sid = self._session_id

        def withdraw(reason: str) -> None:
            def failed(exc: Exception) -> None:
                dialog.show_error(str(exc))

            self.controller.perform(
                lambda s, a: s.records.withdraw_checklist_item(a, sid, key, reason=reason),
                lambda _e: dialog.accept(), failed)

        dialog.submitted.connect(withdraw)
        dialog.finished.connect(lambda _r: self._boxes[key].setFocus() if key in self._boxes else None)
        dialog.open()

    def _on_record_vitals(self) -> None:
        sid = self._session_id
        values = {k: e.text().strip() for k, e in self.vitals.items() if e.text().strip()}
        if sid is None or not values:
            if not values:
                self.controller.error.emit("Baseline vitals: enter at least one measure")
            return

        def record(services: Services, actor: Any) -> Any:
            return services.records.record_vitals(actor, sid, values)

        def done(_entry: Any) -> None:
            for e in self.vitals.values():
                e.clear()
            self.vitals["sbp"].setFocus()

        self.controller.perform(record, done)

    def _on_save_intention(self) -> None:
        sid = self._session_id
        text = self.intention.toPlainText()
        if sid is None or not self.intention_button.isEnabled():
            return
        self.controller.perform(lambda s, a: s.records.record_intention(a, sid, text),
                                lambda _e: self.intention.clear())

    def _on_dose_clicked(self) -> None:
        if self.dose_button.isEnabled():
            self.dose_requested.emit()

    def open_rems(self) -> QDialog | None:
        """The esketamine REMS answers (an intranasal session only)."""
        record = self.controller.record
        if record is None or record.info.route is not Route.INTRANASAL:
            return None
        from kapconsole.ui.checklist.rems_dialog import RemsDialog

        dialog = RemsDialog(self.state, self.controller, self)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.open()
        return dialog

    def _on_outcome_clicked(self) -> None:
        if self.controller.session_id is None or not self.outcome_button.isEnabled():
            return
        OutcomeDialog(self.controller, self).open()

    def _on_override_clicked(self) -> None:
        if not self.override_button.isEnabled():
            return
        dialog = OverrideDialog(self.state, self.controller, self)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.open()


class WithdrawDialog(QDialog):
    """Why a checklist confirmation is withdrawn before dosing (recorded with the name and the time)."""

    submitted = Signal(str)

    def __init__(self, item_label: str, parent: QWidget | None = None) -> None:
        super().__init__(parent, objectName="withdrawDialog")
        self.setWindowTitle("Withdraw a checklist confirmation")
        what = PlainLabel(f"Withdraw the confirmation of: {item_label}", objectName="withdrawItem")
        what.setWordWrap(True)
        self.reason = QLineEdit(objectName="withdrawReason")
        self.reason.setAccessibleName("Reason for withdrawing")
        self.reason.setPlaceholderText("Why it no longer holds (e.g. the escort cancelled)")
        self.message = PlainLabel("", objectName="withdrawError")
        self.message.setWordWrap(True)
        self.message.hide()
        form = QFormLayout()
        form.addRow("&Reason", self.reason)
        buttons = QDialogButtonBox()
        self.ok = buttons.addButton("Withdraw", QDialogButtonBox.ButtonRole.AcceptRole)
        self.ok.setObjectName("withdrawConfirm")
        buttons.addButton(QDialogButtonBox.StandardButton.Cancel).setToolTip("Keep the confirmation (Esc)")
        buttons.rejected.connect(self.reject)
        self.ok.clicked.connect(self._on_ok)
        self.reason.returnPressed.connect(self._on_ok)
        layout = QVBoxLayout(self)
        layout.addWidget(what)
        layout.addLayout(form)
        layout.addWidget(self.message)
        layout.addWidget(buttons)
        self.setMinimumWidth(480)
        self._sent = False
        self.reason.setFocus()

    def _on_ok(self) -> None:
        if self._sent:  # Enter reaches both the field and the default button
            return
        if not self.reason.text().strip():
            self.show_error("Give the reason for withdrawing the confirmation.")
            return
        self._sent = True
        self.submitted.emit(self.reason.text())

    def show_error(self, text: str) -> None:
        self._sent = False
        self.message.setText(text)
        set_severity(self.message, "danger")
        self.message.show()


class OverrideDialog(QDialog):
    """A supervisor lets dosing go ahead despite the gate: a reason and the supervisor's own password.

    When the person signed in is not a supervisor, a supervisor types their login here; they are signed in
    for this one entry only (the console stays signed in as before).
    """

    def __init__(self, state: AppState, controller: SessionController, parent: QWidget | None = None, *,
                 dose: DoseInput | None = None, blockers: list[Blocker] | None = None) -> None:
        super().__init__(parent, objectName="overrideDialog")
        self.state = state
        self.controller = controller
        self.dose = dose
        self.setWindowTitle("Supervisor override")
        heading = PlainLabel("Supervisor override of this dose's blockers" if dose else
                         "Supervisor override of the checklist")
        set_flag(heading, "heading")
        record = controller.record
        if blockers is None:
            blockers = record.dosing_blockers() if record else []
        shown = [b for b in blockers if b.overridable]
        overridden = PlainLabel("Overriding (only these; a new blocker needs its own override):\n"
                            + "\n".join(f"• {b}" for b in summarise_blockers(shown, names=4)),
                            objectName="overrideBlockers")
        overridden.setTextFormat(Qt.TextFormat.PlainText)
        overridden.setWordWrap(True)
        set_severity(overridden, "warning")
        actor = state.actor
        is_supervisor = actor is not None and actor.has(Role.SUPERVISOR)
        who = PlainLabel(
            f"Signed in as {actor.name}: confirm with your own password." if is_supervisor and actor
            else "A medical supervisor signs this override with their own login and password; the console "
                 "stays signed in as before.")
        who.setWordWrap(True)
        self.reason = QPlainTextEdit(objectName="overrideReason")
        self.reason.setAccessibleName("Reason for the override")
        self.reason.setTabChangesFocus(True)
        self.reason.setMaximumHeight(110)
        self.login = QLineEdit(actor.login if is_supervisor and actor else "", objectName="overrideLogin")
        self.login.setAccessibleName("Supervisor login")
        self.password = QLineEdit(objectName="overridePassword")
        self.password.setAccessibleName("Supervisor password")
        self.password.setEchoMode(QLineEdit.EchoMode.Password)
        form = QFormLayout()
        form.addRow("&Reason", self.reason)
        form.addRow("Supervisor &login", self.login)
        form.addRow("&Password", self.password)
        self.message = PlainLabel("", objectName="overrideError")
        self.message.setWordWrap(True)
        self.message.hide()
        self.confirm = QPushButton("Override and allow dosing", objectName="overrideConfirm")
        self.confirm.setToolTip("Record the override (Ctrl+Enter)")
        self.confirm.setShortcut("Ctrl+Return")
        set_flag(self.confirm, "primary")
        buttons = QDialogButtonBox()
        cancel = buttons.addButton(QDialogButtonBox.StandardButton.Cancel)
        cancel.setToolTip("Close without overriding (Esc)")
        buttons.addButton(self.confirm, QDialogButtonBox.ButtonRole.ActionRole)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        for w in (heading, overridden, who):
            layout.addWidget(w)
        layout.addLayout(form)
        layout.addWidget(self.message)
        layout.addWidget(buttons)
        self.confirm.clicked.connect(self._on_confirm)
        self.password.returnPressed.connect(self._on_confirm)
        self.setMinimumWidth(600)
        self._busy = False
        self.reason.setFocus()

    def _on_confirm(self) -> None:
        sid = self.controller.session_id
        if self._busy or sid is None:
            return
        reason, login, password = self.reason.toPlainText(), self.login.text().strip(), self.password.text()
        if not reason.strip():
            self._show("Give the reason for the override.")
            self.reason.setFocus()
            return
        workstation = self.state.workstation
        dose = self.dose

        def override(services: Services, actor: Actor) -> Any:
            signer = actor
            if login.lower() != actor.login or not actor.has(Role.SUPERVISOR):
                signer = services.staff.authenticate(login, password, workstation)
            return services.records.override(signer, sid, password=password, reason=reason, dose=dose)

        self._busy = True
        self.confirm.setEnabled(False)
        self.controller.perform(override, lambda _e: self.accept(), self._on_failed)

    def _on_failed(self, exc: Exception) -> None:
        self._busy = False
        self.confirm.setEnabled(True)
        self.password.clear()
        self.password.setFocus()
        self._show(str(exc))

    def _show(self, text: str) -> None:
        self.message.setText(text)
        set_severity(self.message, "danger")
        self.message.show()
