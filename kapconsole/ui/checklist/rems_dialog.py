"""The esketamine REMS answers of a session, and its Patient Monitoring Form.

One field per REMS question, in the form's sections. Answers already in the record show who gave them and
when; answers carried over from the client's previous session are filled in and marked "carried over" until a
person ticks "still true" (or changes them). Saving records only what is new, through the session controller.
What is still missing before the first device and before the discharge signature is listed at the bottom, and
the form can be written as a PDF from here.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

from PySide6.QtCore import QDateTime, Qt
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDateTimeEdit,
    QDialog,
    QDialogButtonBox,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QScrollArea,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from kapconsole.domain.rems import QUESTIONS, Answer, Kind, Phase, Prefill, Question, Stage
from kapconsole.domain.rems_form import RemsForm
from kapconsole.ui.clients.summary_export import default_folder, one_line
from kapconsole.ui.session.controller import SessionController
from kapconsole.ui.session.quick_entry import set_message
from kapconsole.ui.shell.app_state import AppState
from kapconsole.ui.widgets.text import PlainLabel
from kapconsole.ui.widgets.theme import set_flag, set_severity

STAGE_TITLES = {Stage.PREDOSE: "Before the first device", Stage.FORM: "Before the discharge is signed"}



def to_qdatetime(moment: datetime) -> QDateTime:
    return QDateTime.fromSecsSinceEpoch(int(moment.timestamp()))


def from_qdatetime(value: QDateTime) -> datetime:
    return datetime.fromtimestamp(value.toSecsSinceEpoch()).astimezone()

class _Field:
    """One question's input: reads back the typed value, or None when nothing is given."""

    def __init__(self, q: Question) -> None:
        self.q = q
        self.set_box: QCheckBox | None = None
        if q.kind in (Kind.YESNO, Kind.PHASE):
            combo = QComboBox(objectName=f"rems_{q.key}")
            combo.addItem("—", None)
            if q.kind is Kind.YESNO:
                combo.addItem("Yes", True)
                combo.addItem("No", False)
            else:
                for phase in Phase:
                    combo.addItem(phase.label, phase.value)
            self.widget: QWidget = combo
        elif q.kind is Kind.NUMBER:
            spin = QSpinBox(objectName=f"rems_{q.key}")
            spin.setRange(0, 520)
            spin.setSpecialValueText("—")
            self.widget = spin
        elif q.kind is Kind.TIME:
            edit = QDateTimeEdit(objectName=f"rems_{q.key}")
            edit.setDisplayFormat("yyyy-MM-dd HH:mm")
            edit.setEnabled(False)
            self.set_box = QCheckBox("Set", objectName=f"remsSet_{q.key}")
            self.set_box.setToolTip("Tick to give this time")
            self.set_box.toggled.connect(edit.setEnabled)
            self.widget = edit
        else:
            line = QLineEdit(objectName=f"rems_{q.key}")
            line.setMaxLength(200)
            self.widget = line
        self.widget.setAccessibleName(q.label)

    def value(self) -> Any:
        w = self.widget
        if isinstance(w, QComboBox):
            return w.currentData()
        if isinstance(w, QSpinBox):
            return w.value() or None
        if isinstance(w, QDateTimeEdit):
            return from_qdatetime(w.dateTime()) if self.set_box is not None and self.set_box.isChecked() else None
        assert isinstance(w, QLineEdit)
        return w.text().strip() or None

    def set_value(self, value: Any) -> None:
        w = self.widget
        if isinstance(w, QComboBox):
            w.setCurrentIndex(max(0, w.findData(value)))
        elif isinstance(w, QSpinBox):
            w.setValue(int(value or 0))
        elif isinstance(w, QDateTimeEdit):
            moment = value if isinstance(value, datetime) else datetime.fromisoformat(str(value).replace("Z", "+00:00"))
            w.setDateTime(to_qdatetime(moment))
            if self.set_box is not None:
                self.set_box.setChecked(True)
        elif isinstance(w, QLineEdit):
            w.setText(str(value))


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, datetime) or isinstance(b, datetime):
        def norm(x: Any) -> Any:
            return x if isinstance(x, datetime) else datetime.fromisoformat(str(x).replace("Z", "+00:00"))
        return abs((norm(a) - norm(b)).total_seconds()) < 60
    return bool(a == b)


class RemsDialog(QDialog):
    """Opened with ``open()``; loads the answers, the carried-over values and the form in the background."""

    def __init__(self, state: AppState, controller: SessionController, parent: QWidget | None = None) -> None:
        super().__init__(parent, objectName="remsDialog")
        self.state = state
        self.controller = controller
        self.session_id = controller.session_id
        self.setWindowTitle("REMS answers and monitoring form")
        heading = PlainLabel("Esketamine REMS: answers and Patient Monitoring Form")
        set_flag(heading, "heading")
        self.fields: dict[str, _Field] = {}
        self.status: dict[str, QLabel] = {}
        self.confirm: dict[str, QCheckBox] = {}
        self.answers: dict[str, Answer] = {}
        self.carried: dict[str, Prefill] = {}
        self.form: RemsForm | None = None

        host = QWidget()
        column = QVBoxLayout(host)
        for stage in Stage:
            group = QGroupBox(STAGE_TITLES[stage], objectName=f"remsStage_{stage.value}")
            grid = QGridLayout(group)
            row = 0
            section = ""
            for q in (q for q in QUESTIONS if q.stage is stage):
                if q.section != section:
                    section = q.section
                    title = PlainLabel(section)
                    set_flag(title, "strong")
                    grid.addWidget(title, row, 0, 1, 4)
                    row += 1
                field = _Field(q)
                label = PlainLabel(q.label)
                label.setWordWrap(True)
                label.setTextFormat(Qt.TextFormat.PlainText)
                label.setBuddy(field.widget)
                status = PlainLabel("", objectName=f"remsStatus_{q.key}")
                status.setTextFormat(Qt.TextFormat.PlainText)
                set_flag(status, "muted")
                confirm = QCheckBox("Still true", objectName=f"remsConfirm_{q.key}")
                confirm.setToolTip("Tick when this carried-over answer is still true today")
                confirm.hide()
                inputs = QHBoxLayout()
                if field.set_box is not None:
                    inputs.addWidget(field.set_box)
                inputs.addWidget(field.widget, 1)
                grid.addWidget(label, row, 0)
                grid.addLayout(inputs, row, 1)
                grid.addWidget(confirm, row, 2)
                grid.addWidget(status, row, 3)
                grid.setColumnStretch(0, 3)
                grid.setColumnStretch(1, 3)
                grid.setColumnStretch(3, 2)
                self.fields[q.key] = field
                self.status[q.key] = status
                self.confirm[q.key] = confirm
                row += 1
            column.addWidget(group)
        column.addStretch(1)
        scroll = QScrollArea(objectName="remsScroll")
        scroll.setWidgetResizable(True)
        scroll.setWidget(host)

        self.hint = PlainLabel("", objectName="remsHint")
        self.hint.setWordWrap(True)
        self.hint.setTextFormat(Qt.TextFormat.PlainText)
        self.missing = PlainLabel("Loading…", objectName="remsMissing")
        self.missing.setWordWrap(True)
        self.missing.setTextFormat(Qt.TextFormat.PlainText)
        self.message = PlainLabel("", objectName="remsMessage")
        self.message.setWordWrap(True)
        self.message.setTextFormat(Qt.TextFormat.PlainText)
        self.message.hide()

        sid = self.session_id or 0
        self.pdf_path = QLineEdit(str(default_folder() / f"rems-monitoring-form-session-{sid}.pdf"),
                                  objectName="remsPdfPath")
        self.pdf_path.setAccessibleName("File for the monitoring form PDF")
        self.pdf_button = QPushButton("Save form &PDF", objectName="remsPdfSave")
        self.pdf_button.setToolTip("Write the Patient Monitoring Form, filled from the record, to this file (Alt+P)")
        pdf_row = QHBoxLayout()
        pdf_label = PlainLabel("Form PDF &file")
        pdf_label.setBuddy(self.pdf_path)
        pdf_row.addWidget(pdf_label)
        pdf_row.addWidget(self.pdf_path, 1)
        pdf_row.addWidget(self.pdf_button)

        self.save_button = QPushButton("Save answers", objectName="remsSave")
        self.save_button.setToolTip("Record the new and confirmed answers (Ctrl+Enter)")
        self.save_button.setShortcut("Ctrl+Return")
        set_flag(self.save_button, "primary")
        buttons = QDialogButtonBox()
        close = buttons.addButton(QDialogButtonBox.StandardButton.Close)
        close.setToolTip("Close (Esc); answers not saved are lost")
        buttons.addButton(self.save_button, QDialogButtonBox.ButtonRole.ActionRole)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(heading)
        layout.addWidget(scroll, 1)
        layout.addWidget(self.hint)
        layout.addWidget(self.missing)
        layout.addLayout(pdf_row)
        layout.addWidget(self.message)
        layout.addWidget(buttons)
        self.save_button.clicked.connect(self._on_save)
        self.pdf_button.clicked.connect(self._on_pdf)
        self.setMinimumSize(900, 640)
        self._busy = False
        self._load()

    # ----- loading -------------------------------------------------------------------------------------
    def _load(self) -> None:
        sid, actor = self.session_id, self.state.actor
        if sid is None or actor is None:
            return
        rems = self.state.services.rems

        def load() -> tuple[dict[str, Answer], dict[str, Prefill], RemsForm]:
            return rems.answers(actor, sid), rems.prefill(actor, sid), rems.form(actor, sid)

        self.save_button.setEnabled(False)
        self.state.runner.submit(load, self._on_loaded, self._on_failed)

    def _on_loaded(self, loaded: tuple[dict[str, Answer], dict[str, Prefill], RemsForm]) -> None:
        self.answers, self.carried, self.form = loaded
        for key, field in self.fields.items():
            confirm = self.confirm[key]
            if key in self.answers:
                a = self.answers[key]
                field.set_value(a.value)
                self.status[key].setText(f"{a.by}, {a.at.astimezone():%d %b %H:%M}")
                set_severity(self.status[key], "")
                confirm.hide()
            elif key in self.carried:
                p = self.carried[key]
                field.set_value(p.value)
                self.status[key].setText(f"{p.how} from session {p.from_session} ({p.from_date:%d %b})")
                set_severity(self.status[key], "warning")
                confirm.setVisible(p.how == "carried over")
            else:
                self.status[key].setText("")
                confirm.hide()
        form = self.form
        actor = self.state.actor
        if "clinician_name" not in self.answers and "clinician_name" not in self.carried and actor is not None:
            self.fields["clinician_name"].set_value(actor.name.split(",")[0])
            self.status["clinician_name"].setText("you (not saved yet)")
        now = self.state.services.rems.now()
        for field in self.fields.values():
            if field.set_box is not None and not field.set_box.isChecked():
                field.widget.setProperty("dateTime", to_qdatetime(now))  # a start for the person to adjust
        ready = self.fields["ready_to_leave_at"]
        if "ready_to_leave_at" not in self.answers and form.earliest_ready_at is not None:
            ready.set_value(form.earliest_ready_at)
            self.status["ready_to_leave_at"].setText("earliest from the record — confirm or change")
        hints = []
        if form.earliest_ready_at is not None:
            hints.append(f"Earliest the patient could leave, from the record: {form.earliest_ready_at.astimezone():%H:%M}.")
        if form.respiratory_hint:
            hints.append("Readings beyond the respiratory alert lines after dosing: " + ", ".join(form.respiratory_hint))
        self.hint.setText(" ".join(hints))
        self.hint.setVisible(bool(hints))
        self._show_missing(form)
        self.save_button.setEnabled(True)

    def _show_missing(self, form: RemsForm) -> None:
        lines = []
        predose = {q.label for q in QUESTIONS if q.stage is Stage.PREDOSE}
        if form.devices_given == 0:
            # Before the first device only the pre-dose questions matter; the form's questions come later.
            waiting = [label for label in form.missing_answers if label in predose]
            if waiting:
                lines.append(f"Before the first device ({len(waiting)}): " + "; ".join(waiting))
        elif form.missing_answers:
            lines.append(f"Answers missing ({len(form.missing_answers)}): " + "; ".join(form.missing_answers))
        if form.missing_record:
            lines.append("From the record: " + "; ".join(form.missing_record))
        if form.missing_details:
            lines.append("Details missing: " + "; ".join(form.missing_details))
        if lines:
            self.missing.setText("The form is not complete.\n" + "\n".join(lines))
            set_severity(self.missing, "warning")
        else:
            self.missing.setText("The form is complete.")
            set_severity(self.missing, "ok")

    # ----- saving --------------------------------------------------------------------------------------
    def pending_answers(self) -> tuple[dict[str, Any], list[str]]:
        """What saving would record: new or changed answers, and carried-over answers confirmed as still true."""
        answers: dict[str, Any] = {}
        confirmed: list[str] = []
        for key, field in self.fields.items():
            value = field.value()
            if value is None:
                continue
            if key in self.answers and _same(self.answers[key].value, value):
                continue
            carried = self.carried.get(key)
            if carried is not None and _same(carried.value, value):
                if carried.how == "carried over" and not self.confirm[key].isChecked():
                    continue  # carried over, not confirmed: not an answer yet
                if carried.how == "carried over":
                    confirmed.append(key)
            answers[key] = value
        return answers, confirmed

    def _on_save(self) -> None:
        sid = self.session_id
        if self._busy or sid is None:
            return
        answers, confirmed = self.pending_answers()
        if not answers:
            set_message(self.message, "Nothing new to save: answer a question, or tick \"Still true\" beside a "
                                      "carried-over answer.", "warning")
            return
        self._busy = True
        self.save_button.setEnabled(False)

        def save(services: Any, actor: Any) -> Any:
            return services.rems.record_answers(actor, sid, answers, confirmed_carried=confirmed)

        def done(_entry: Any) -> None:
            self._busy = False
            set_message(self.message, f"Saved {len(answers)} answer{'s' if len(answers) != 1 else ''}.", "ok")
            self._load()

        self.controller.perform(save, done, self._on_failed)

    def _on_pdf(self) -> None:
        sid, actor = self.session_id, self.state.actor
        path = Path(self.pdf_path.text().strip()).expanduser()
        if sid is None or actor is None or not self.pdf_path.text().strip():
            set_message(self.message, "Give the file to write the form to.", "warning")
            return
        rems = self.state.services.rems
        self.pdf_button.setEnabled(False)

        def written(target: Path) -> None:
            self.pdf_button.setEnabled(True)
            set_message(self.message, f"Form written to {target}", "ok")

        def failed(exc: Exception) -> None:
            self.pdf_button.setEnabled(True)
            set_message(self.message, one_line(exc, "The form could not be written"), "danger")

        self.state.runner.submit(lambda: rems.write_form(actor, sid, path), written, failed)

    def _on_failed(self, exc: Exception) -> None:
        self._busy = False
        self.save_button.setEnabled(True)
        set_message(self.message, one_line(exc, "Not saved"), "danger")

    def keyPressEvent(self, event: Any) -> None:  # noqa: N802 (Qt override)
        # Enter moves to the next field; only the button (or Ctrl+Enter) saves.
        if event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter) and not event.modifiers():
            self.focusNextChild()
            return
        super().keyPressEvent(event)
