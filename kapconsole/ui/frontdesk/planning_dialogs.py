"""Courses and session bookings: add or edit a course, plan a session, move it, or cancel it with a reason."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from typing import Any

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLineEdit,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from kapconsole.domain.enums import Route
from kapconsole.domain.errors import DomainError, ValidationError
from kapconsole.domain.frontdesk import CourseDetails, CoursePhase, CourseStatus
from kapconsole.domain.values import Client, Course, SessionListItem
from kapconsole.ui.frontdesk.forms import ElidedLabel, plain, show_errors
from kapconsole.ui.shell.app_state import AppState
from kapconsole.ui.widgets.theme import set_flag

WHEN_HINT = "YYYY-MM-DD HH:MM"


def parse_when(text: str, field: str = "date and time") -> datetime:
    """A local date and time as typed ("2026-12-01 09:30"); the domain turns it into UTC."""
    try:
        moment = datetime.strptime(" ".join(text.split()), "%Y-%m-%d %H:%M")
    except ValueError:
        raise ValidationError(field, text, f"a date and time as {WHEN_HINT}") from None
    return moment.astimezone()


def parse_day(text: str, field: str) -> date | None:
    if not text.strip():
        return None
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        raise ValidationError(field, text, "a date as YYYY-MM-DD") from None


class _ServiceDialog(QDialog):
    """A form whose Save runs one service call in the worker; refusals stay on screen, the form stays open."""

    saved = Signal(object)  # what the service call returned

    def __init__(self, state: AppState, title: str, name: str, save_text: str, parent: QWidget | None) -> None:
        super().__init__(parent, objectName=name)
        self.state = state
        self.setWindowTitle(title)
        self._busy = False
        self.form = QFormLayout()
        self.message = plain("", f"{name}Message", wrap=True)
        self.message.hide()
        self.save_button = QPushButton(save_text, objectName=f"{name}Save")
        self.save_button.setToolTip(f"{save_text.replace('&', '')} (Ctrl+Return)")
        self.save_button.setShortcut("Ctrl+Return")
        set_flag(self.save_button, "primary")
        buttons = QDialogButtonBox()
        buttons.addButton(self.save_button, QDialogButtonBox.ButtonRole.ActionRole)
        buttons.addButton(QDialogButtonBox.StandardButton.Cancel).setToolTip("Close without saving (Esc)")
        layout = QVBoxLayout(self)
        layout.addLayout(self.form)
        layout.addWidget(self.message)
        layout.addWidget(buttons)
        self.save_button.clicked.connect(self._on_save)
        buttons.rejected.connect(self.reject)
        self.setMinimumWidth(520)

    def call(self) -> Callable[[], Any]:
        """The service call to make, built from the form (raise ValidationError for what is wrong)."""
        raise NotImplementedError

    def _on_save(self) -> None:
        if self._busy:
            return
        try:
            fn = self.call()
        except DomainError as exc:
            show_errors(self.message, [str(exc)])
            return
        self._busy = True
        self.save_button.setEnabled(False)
        self.state.runner.submit(fn, self._on_done, self._on_failed)

    def _on_done(self, value: object) -> None:
        self._busy = False
        self.save_button.setEnabled(True)
        self.saved.emit(value)
        self.accept()

    def _on_failed(self, exc: Exception) -> None:
        self._busy = False
        self.save_button.setEnabled(True)
        show_errors(self.message, [str(exc) if isinstance(exc, DomainError) else
                                   f"could not save ({type(exc).__name__})"])


class CourseDialog(_ServiceDialog):
    def __init__(self, state: AppState, client: Client, course: Course | None = None,
                 witnesses: list[tuple[int, str]] | None = None, parent: QWidget | None = None) -> None:
        super().__init__(state, "Edit course" if course else "New course", "courseDialog", "Save course", parent)
        self.client, self.course = client, course
        who = ElidedLabel(f"{client.name} — {client.identifier}", "courseClient")
        self.title = QLineEdit(objectName="courseTitle")
        self.title.setAccessibleName("Course title")
        self.indication = QLineEdit(objectName="courseIndication")
        self.indication.setAccessibleName("Indication")
        self.sessions = QSpinBox(objectName="courseSessions")
        self.sessions.setRange(1, 50)
        self.sessions.setValue(6)
        self.sessions.setAccessibleName("Planned number of sessions")
        self.phase = QComboBox(objectName="coursePhase")
        for p in CoursePhase:
            self.phase.addItem(p.label, p)
        self.status = QComboBox(objectName="courseStatus")
        for st in CourseStatus:
            self.status.addItem(st.label, st)
        self.consent_on = QLineEdit(objectName="courseConsentDate")
        self.consent_on.setPlaceholderText("YYYY-MM-DD (empty: no consent on file yet)")
        self.consent_version = QLineEdit(objectName="courseConsentVersion")
        self.witness = QComboBox(objectName="courseWitness")
        self.witness.addItem("—", None)
        for sid, name in witnesses or []:
            self.witness.addItem(name, sid)
        self.form.addRow("Client", who)
        self.form.addRow("&Title", self.title)
        self.form.addRow("&Indication", self.indication)
        self.form.addRow("Planned &sessions", self.sessions)
        self.form.addRow("&Phase", self.phase)
        self.form.addRow("Stat&us", self.status)
        self.form.addRow("&Consent date", self.consent_on)
        self.form.addRow("Consent form &version", self.consent_version)
        self.form.addRow("&Witnessed by", self.witness)
        if course is not None:
            self.title.setText(course.title)
            self.indication.setText(course.indication)
            self.sessions.setValue(course.planned_sessions)
            self.phase.setCurrentIndex(list(CoursePhase).index(course.phase))
            self.status.setCurrentIndex(list(CourseStatus).index(course.status))
            self.consent_on.setText(course.consent_on.isoformat() if course.consent_on else "")
            self.consent_version.setText(course.consent_version)
            index = self.witness.findData(course.consent_witness_id)
            self.witness.setCurrentIndex(max(index, 0))
        self.title.setFocus()

    def call(self) -> Callable[[], Any]:
        details = CourseDetails(
            title=self.title.text(), planned_sessions=self.sessions.value(), indication=self.indication.text(),
            phase=self.phase.currentData(), status=self.status.currentData(),
            started_on=self.course.started_on if self.course else None,
            consent_on=parse_day(self.consent_on.text(), "consent date"),
            consent_version=self.consent_version.text(), consent_witness_id=self.witness.currentData(),
        )
        details.validated(self.state.services.clinic.now().date())
        actor = self.state.require_actor()
        planning = self.state.services.clinic.planning
        if self.course is None:
            cid = self.client.id
            return lambda: planning.add_course(actor, cid, details)
        course_id = self.course.id
        return lambda: planning.edit_course(actor, course_id, details)


class PlanSessionDialog(_ServiceDialog):
    """Plan a session of a client's course: when, where, route, drug, dose (or mg/kg with the weight)."""

    def __init__(self, state: AppState, client: Client, courses: list[Course], rooms: list[str],
                 parent: QWidget | None = None) -> None:
        super().__init__(state, "Plan a session", "planDialog", "Plan session", parent)
        self.client = client
        who = ElidedLabel(f"{client.name} — {client.identifier}", "planClient")
        self.course = QComboBox(objectName="planCourse")
        for c in courses:
            self.course.addItem(f"{c.title} ({c.status.label.lower()}, {c.planned_sessions} sessions)", c.id)
        self.course.addItem("Single session (no course)", None)
        self.when = QLineEdit(objectName="planWhen")
        self.when.setPlaceholderText(WHEN_HINT)
        self.when.setAccessibleName("Date and time")
        self.room = QComboBox(objectName="planRoom")
        self.room.addItems(rooms)
        self.route = QComboBox(objectName="planRoute")
        for r in Route:
            self.route.addItem(r.label, r)
        self.drug = QLineEdit("Ketamine", objectName="planDrug")
        self.dose = QLineEdit(objectName="planDose")
        self.dose.setPlaceholderText("mg (or leave empty and give mg/kg)")
        self.per_kg = QLineEdit(objectName="planPerKg")
        self.per_kg.setPlaceholderText("mg/kg")
        weight = f"{client.weight_kg:g}" if client.weight_kg else ""
        self.weight = QLineEdit(weight, objectName="planWeight")
        self.weight.setPlaceholderText("kg (the client's recorded weight)")
        self.form.addRow("Client", who)
        self.form.addRow("C&ourse", self.course)
        self.form.addRow("&Date and time", self.when)
        self.form.addRow("&Room", self.room)
        self.form.addRow("Ro&ute", self.route)
        self.form.addRow("Dru&g", self.drug)
        self.form.addRow("Planned dose (m&g)", self.dose)
        self.form.addRow("or dose per &kg", self.per_kg)
        self.form.addRow("Weight used (kg)", self.weight)
        self.when.setFocus()

    def call(self) -> Callable[[], Any]:
        when = parse_when(self.when.text())
        per_kg = self.per_kg.text().strip() or None
        kwargs: dict[str, Any] = dict(
            client_id=self.client.id, room=self.room.currentText(), route=self.route.currentData(),
            planned_drug=self.drug.text(), scheduled_at=when, course_id=self.course.currentData(),
            planned_dose=None if per_kg else (self.dose.text().strip() or None),
            dose_per_kg=per_kg, weight_used_kg=(self.weight.text().strip() or None) if per_kg else None,
        )
        actor = self.state.require_actor()
        planning = self.state.services.clinic.planning
        return lambda: planning.plan_session(actor, **kwargs)


class RescheduleDialog(_ServiceDialog):
    def __init__(self, state: AppState, item: SessionListItem, rooms: list[str], parent: QWidget | None = None) -> None:
        super().__init__(state, "Move a session", "rescheduleDialog", "Move session", parent)
        self.item = item
        what = ElidedLabel(f"{item.client_name} — {item.room} {item.scheduled_at.astimezone():%Y-%m-%d %H:%M}",
                           "rescheduleWhat")
        self.when = QLineEdit(item.scheduled_at.astimezone().strftime("%Y-%m-%d %H:%M"), objectName="rescheduleWhen")
        self.room = QComboBox(objectName="rescheduleRoom")
        self.room.addItems(rooms)
        self.room.setCurrentText(item.room)
        self.reason = QLineEdit(objectName="rescheduleReason")
        self.reason.setAccessibleName("Reason")
        self.form.addRow("Session", what)
        self.form.addRow("New &date and time", self.when)
        self.form.addRow("&Room", self.room)
        self.form.addRow("R&eason", self.reason)
        self.when.setFocus()
        self.when.selectAll()

    def call(self) -> Callable[[], Any]:
        when = parse_when(self.when.text())
        actor, sid, room, reason = self.state.require_actor(), self.item.id, self.room.currentText(), self.reason.text()
        planning = self.state.services.clinic.planning
        return lambda: planning.reschedule(actor, sid, scheduled_at=when, room=room, reason=reason)


class CancelDialog(_ServiceDialog):
    def __init__(self, state: AppState, item: SessionListItem, parent: QWidget | None = None) -> None:
        super().__init__(state, "Cancel a session", "cancelDialog", "Cancel session", parent)
        self.item = item
        what = ElidedLabel(f"{item.client_name} — {item.room} {item.scheduled_at.astimezone():%Y-%m-%d %H:%M}",
                           "cancelWhat")
        self.reason = QLineEdit(objectName="cancelReason")
        self.reason.setAccessibleName("Reason for cancelling")
        self.form.addRow("Session", what)
        self.form.addRow("&Reason", self.reason)
        self.reason.setFocus()

    def call(self) -> Callable[[], Any]:
        actor, sid, reason = self.state.require_actor(), self.item.id, self.reason.text()
        planning = self.state.services.clinic.planning
        return lambda: planning.cancel(actor, sid, reason)
