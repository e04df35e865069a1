"""Quick entry for the live session: observation line, vitals row, scale scores, side effects.

Every input is cleared only once its write succeeded (``on_done``), so nothing typed is lost when the database
cannot be reached. Validation is the service's: its message names the field and is shown next to the row.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QApplication,
    QCheckBox,
    QComboBox,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from kapconsole.domain.entry_base import local_time
from kapconsole.domain.enums import ObservationCategory, Scale, SideEffectKind
from kapconsole.domain.errors import DomainError, ValidationError, ValidationErrors
from kapconsole.domain.monitor.values import DeviceOffer
from kapconsole.domain.protocol import MEASURES
from kapconsole.domain.record import SessionRecord
from kapconsole.services import Services
from kapconsole.ui.session.controller import SessionController
from kapconsole.ui.session.side_effect_dialog import SideEffectDialog
from kapconsole.ui.widgets.actions import Act, key_text, tip
from kapconsole.ui.widgets.clinical_time import ClinicalTimeField
from kapconsole.ui.widgets.draft_key import DraftKey
from kapconsole.ui.widgets.text import ElidedLabel, PlainLabel
from kapconsole.ui.widgets.theme import set_severity

Work = Callable[[Services, Any], Any]

#: MOAA/S levels as the reference words them (clinical reference, "Scales").
MOAAS_LEVELS = {
    5: "responds readily to name in normal tone",
    4: "lethargic response to name",
    3: "responds only to name called loudly or repeatedly",
    2: "responds only after mild prodding or shaking",
    1: "responds only to painful stimulus",
    0: "no response",
}
VITALS_KEYS = ("sbp", "dbp", "hr", "spo2", "rr", "temp")
SHORT = {"sbp": "SBP", "dbp": "DBP", "hr": "HR", "spo2": "SpO2", "rr": "RR", "temp": "Temp"}
#: Button captions short enough for three columns; the full label is the tooltip and accessible name.
EFFECT_COLUMNS = 5
EFFECT_CAPTIONS = {SideEffectKind.ANXIETY: "Anxiety", SideEffectKind.PERCEPTUAL: "Perceptual",
                   SideEffectKind.ELEVATED_BP: "High BP", SideEffectKind.RESPIRATORY_DEPRESSION: "Resp. depression",
                   SideEffectKind.OTHER: "Other…"}


def set_message(label: QLabel, text: str, severity: str) -> None:
    """Show an inline message; ``severity`` ("danger", "warning", "ok") drives the stylesheet and the icon."""
    icon = {"danger": "⚠ ", "warning": "⚠ ", "ok": "✓ "}.get(severity, "")
    label.setText(f"{icon}{text}" if text else "")
    label.setVisible(bool(text))
    set_severity(label, severity)


def shortcut(parent: QWidget, keys: str, slot: Callable[[], object]) -> QShortcut:
    """A shortcut active while the focus is inside ``parent`` (PySide's constructor ignores ``context``)."""
    sc = QShortcut(QKeySequence(keys), parent)
    sc.setContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
    sc.activated.connect(slot)
    return sc


def _number_or_text(text: str) -> Any:
    """A typed value as a number when it is one (so it compares with what the monitor offered)."""
    try:
        return float(text.replace(",", "."))
    except ValueError:
        return text


def failure_text(exc: Exception) -> str:
    return str(exc) if isinstance(exc, DomainError) else f"could not save: {exc}"


class _Entry(QGroupBox):
    """A titled quick-entry group that writes through the controller and shows its result inline."""

    def __init__(self, title: str, controller: SessionController, parent: QWidget | None = None) -> None:
        super().__init__(title, parent)
        self.controller = controller
        self.message = PlainLabel()
        self.message.setWordWrap(True)
        self.message.setMinimumWidth(120)
        self.message.hide()
        self._shown_session: int | None = None

    def watch(self, *widgets: QWidget) -> None:
        """A message is about what was last saved or refused: editing any of ``widgets`` clears it."""
        for w in widgets:
            if isinstance(w, QLineEdit):
                w.textEdited.connect(self.clear_message)
            elif isinstance(w, QComboBox):
                w.activated.connect(self.clear_message)
            elif isinstance(w, QCheckBox):
                w.clicked.connect(self.clear_message)

    def clear_message(self, *_args: object) -> None:
        set_message(self.message, "", "")

    def follow(self, record: SessionRecord) -> None:
        """A message never follows the room to another session (another client's screen)."""
        if record.info.id != self._shown_session:
            self._shown_session = record.info.id
            self.clear_message()
        self.draft = DraftKey()

    def submit(self, work: Work, on_done: Callable[[Any], None], busy: list[QWidget]) -> None:
        sid = self.controller.session_id
        if sid is None:
            return
        for w in busy:
            w.setEnabled(False)

        def done(value: Any) -> None:
            for w in busy:
                w.setEnabled(True)
            self.draft.saved()
            on_done(value)

        def failed(exc: Exception) -> None:
            for w in busy:
                w.setEnabled(True)
            self.on_failed(exc)

        self.controller.perform(lambda services, actor: work(services, actor), done, failed, receiver=self)

    def on_failed(self, exc: Exception) -> None:
        set_message(self.message, f"Not saved — {failure_text(exc)}", "danger")

    def read_time(self, field: ClinicalTimeField) -> tuple[bool, datetime | None]:
        """The clinical time typed in ``field`` (None: now); False with a message when it cannot be read."""
        try:
            return True, field.moment(self.controller.state.services.records.now())
        except DomainError as exc:
            set_message(self.message, f"Not saved — {exc}", "danger")
            field.setFocus()
            return False, None


# ----- observation ----------------------------------------------------------------------------------------
class ObservationEntry(_Entry):
    def __init__(self, controller: SessionController, parent: QWidget | None = None) -> None:
        super().__init__("Observation", controller, parent)
        self.text = QLineEdit()
        self.text.setObjectName("observationText")
        self.text.setAccessibleName("Observation text")
        self.text.setPlaceholderText(f"Type an observation, Enter saves  ({key_text(Act.OBSERVATION)})")
        self.text.setToolTip(tip(Act.OBSERVATION))
        self.text.returnPressed.connect(self.commit)
        self.category = QComboBox()
        self.category.setObjectName("observationCategory")
        self.category.setAccessibleName("Observation category")
        for c in ObservationCategory:
            self.category.addItem(c.label, c.value)
        self.integration = QCheckBox("★ For integration")
        self.integration.setObjectName("observationIntegration")
        self.integration.setAccessibleName("For integration")
        self.integration.setToolTip(tip(Act.INTEGRATION))
        self.when = ClinicalTimeField("observationTime", label="Time observed")
        self.when.setMaximumWidth(170)
        self.save = QPushButton("Save")
        self.save.setObjectName("observationSave")
        self.save.setToolTip("Save the observation (Enter)")
        self.save.clicked.connect(self.commit)
        self.message.setObjectName("observationMessage")

        self.watch(self.text, self.category, self.integration, self.when)
        self.when.returnPressed.connect(self.commit)
        # One line when there is room (under the timeline on a wide screen), else the text above its options.
        self.grid = QGridLayout()
        layout = QVBoxLayout(self)
        layout.addLayout(self.grid)
        layout.addWidget(self.message)
        self._lines = 0
        self._arrange(lines=1)

    def _arrange(self, *, lines: int) -> None:
        """One line when there is room; else two: the text above its options, or beside the time and Save."""
        if lines == self._lines:
            return
        self._lines = lines
        widgets: list[QWidget] = [self.text, self.category, self.integration, self.when, self.save]
        for w in widgets:
            self.grid.removeWidget(w)
        places = {
            1: ((0, 0, 1, 1), (0, 1, 1, 1), (0, 2, 1, 1), (0, 3, 1, 1), (0, 4, 1, 1)),
            2: ((0, 0, 1, 5), (1, 0, 1, 1), (1, 1, 1, 1), (1, 3, 1, 1), (1, 4, 1, 1)),
            # Narrow: the time and Save beside the text, the category and "For integration" under it.
            3: ((0, 0, 1, 3), (1, 0, 1, 1), (1, 1, 1, 4), (0, 3, 1, 1), (0, 4, 1, 1)),
        }[lines]
        for w, (row, col, rows, cols) in zip(widgets, places, strict=True):
            self.grid.addWidget(w, row, col, rows, cols)
        self.grid.setColumnStretch(0, 1 if lines == 1 else 0)
        self.grid.setColumnStretch(2, 0 if lines == 1 else 1)

    def resizeEvent(self, event: Any) -> None:  # noqa: N802 (Qt override)
        super().resizeEvent(event)
        options = sum(w.sizeHint().width() for w in (self.category, self.integration, self.when, self.save)) + 40
        room = self.text.fontMetrics().horizontalAdvance("Type an observation, Enter saves") + 20
        width = event.size().width()
        self._arrange(lines=1 if width >= options + room else 2 if width >= options else 3)
        # As narrow as the two-line form allows, whichever form it shows now: a window made narrower re-arranges.
        narrow = max(self.text.minimumSizeHint().width() + self.when.minimumSizeHint().width(),
                     self.category.sizeHint().width() + self.integration.sizeHint().width())
        self.setMinimumWidth(narrow + self.save.sizeHint().width() + 40)

    def commit(self) -> None:
        text = self.text.text()
        if not text.strip():
            set_message(self.message, "Type the observation first", "warning")
            return
        category = self.category.currentData()
        integ = self.integration.isChecked()
        ok, at = self.read_time(self.when)
        if not ok:
            return
        sid = self.controller.session_id
        if sid is None:
            return
        key = self.draft.key_for((sid, text, category, integ, at))
        self.submit(
            lambda s, a: s.records.record_observation(a, sid, text, category=category, for_integration=integ,
                                                      observed_at=at, request_key=key),
            self._on_saved, [self.save],
        )

    def _on_saved(self, entry: Any) -> None:
        # Clear only what was saved: the person may have typed on while the write was under way.
        if self.text.text() == entry.payload["text"] or self.text.text().strip() == entry.payload["text"]:
            self.text.clear()
        self.integration.setChecked(False)
        self.category.setCurrentIndex(0)
        self.when.clear()
        set_message(self.message, f"Saved {local_time(entry.observed_at)}", "ok")

    def toggle_integration(self) -> None:
        self.integration.toggle()


# ----- vitals -------------------------------------------------------------------------------------------
class VitalsEntry(_Entry):
    def __init__(self, controller: SessionController, parent: QWidget | None = None) -> None:
        super().__init__("Vitals", controller, parent)
        self.fields: dict[str, QLineEdit] = {}
        grid = QGridLayout()
        for col, key in enumerate(VITALS_KEYS):
            label, unit, _d = MEASURES[key]
            edit = QLineEdit()
            edit.setObjectName(f"vitals_{key}")
            edit.setAccessibleName(f"{label} ({unit})")
            edit.setToolTip(tip(Act.VITALS, f"{label} in {unit}. Tab to the next measure, Enter saves the row"))
            edit.setAlignment(Qt.AlignmentFlag.AlignCenter)
            edit.setMaxLength(6)
            edit.setMinimumWidth(44)
            edit.returnPressed.connect(self.commit)
            edit.textEdited.connect(lambda _t, e=edit: self._mark(e, False))
            edit.setPlaceholderText(unit)  # the unit shows in the empty field: the heading stays one line
            head = PlainLabel(SHORT[key])
            head.setAlignment(Qt.AlignmentFlag.AlignCenter)
            head.setBuddy(edit)
            grid.addWidget(head, 0, col)
            grid.addWidget(edit, 1, col)
            self.fields[key] = edit
        self.when = ClinicalTimeField("vitalsTime", label="Time taken")
        self.when.setMaximumWidth(150)
        self.when.returnPressed.connect(self.commit)
        self.watch(*self.fields.values(), self.when)
        self.save = QPushButton("Save vitals")
        self.save.setObjectName("vitalsSave")
        self.save.setToolTip("Save the reading (Enter in any field)")
        self.save.clicked.connect(self.commit)
        self.message.setObjectName("vitalsMessage")
        # One line (the timeline and the tooltip have it whole): the column stays short enough to fit.
        self.last = ElidedLabel("No reading yet", objectName="vitalsLast")
        # The bedside monitor: what it offers, and rejecting an offered value as an artefact (with a reason).
        self.offer: DeviceOffer | None = None
        self.filled: DeviceOffer | None = None
        self._suspect_armed = False
        self.device_line = PlainLabel()
        self.device_line.setObjectName("vitalsDevice")
        self.device_line.setTextFormat(Qt.TextFormat.PlainText)
        self.device_line.setWordWrap(True)
        self.device_line.hide()
        self.artefact_reason = QLineEdit()
        self.artefact_reason.setObjectName("artefactReason")
        self.artefact_reason.setPlaceholderText("Why it is an artefact (e.g. arm moved during the cuff cycle)")
        self.artefact_reason.setAccessibleName("Artefact reason")
        self.artefact_reason.returnPressed.connect(self.reject_artefact)
        self.artefact_button = QPushButton("Reject as artefact")
        self.artefact_button.setObjectName("artefactReject")
        self.artefact_button.setToolTip("Reject the monitor's suspect values (or all it offered) with the reason")
        self.artefact_button.clicked.connect(self.reject_artefact)
        self.artefact_row = QWidget()
        artefact = QHBoxLayout(self.artefact_row)
        artefact.setContentsMargins(0, 0, 0, 0)
        artefact.addWidget(self.artefact_reason, 1)
        artefact.addWidget(self.artefact_button)
        self.artefact_row.hide()
        layout = QVBoxLayout(self)
        layout.addLayout(grid)
        bottom = QHBoxLayout()
        bottom.addWidget(self.last, 1)
        bottom.addWidget(self.when, 0, Qt.AlignmentFlag.AlignTop)
        bottom.addWidget(self.save, 0, Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignTop)
        layout.addLayout(bottom)
        layout.addWidget(self.message)
        layout.addWidget(self.artefact_row)
        layout.addWidget(self.device_line)

    def values(self) -> dict[str, str]:
        return {k: e.text().strip() for k, e in self.fields.items() if e.text().strip()}

    def commit(self) -> None:
        values = self.values()
        if not values:
            set_message(self.message, "Enter at least one measure", "warning")
            return
        for e in self.fields.values():
            self._mark(e, False)
        ok, at = self.read_time(self.when)
        if not ok:
            return
        sid = self.controller.session_id
        if sid is None:
            return
        filled = self.filled
        if filled is not None:
            self._confirm(filled, values)
            return
        key = self.draft.key_for((sid, values, at))
        self.submit(lambda s, a: s.records.record_vitals(a, sid, values, observed_at=at, request_key=key),
                    self._on_saved, [self.save])

    def _confirm(self, filled: DeviceOffer, values: dict[str, str]) -> None:
        """Enter on a row filled from the monitor: confirm it (as edited); a suspect value needs a second Enter."""
        typed: dict[str, Any] = {k: _number_or_text(t) for k, t in values.items()}
        unchanged_suspects = {k: o.suspect for k, o in filled.values.items()
                              if o.suspect and typed.get(k) == o.value}
        if unchanged_suspects and not self._suspect_armed:
            self._suspect_armed = True
            for key in unchanged_suspects:
                self._mark(self.fields[key], True)
            why = "; ".join(f"{SHORT[k]}: {reason}" for k, reason in unchanged_suspects.items())
            set_message(self.message, f"Suspect monitor value — {why}. Check the client: Enter again confirms it "
                                      "as checked; or edit it, or reject it as an artefact.", "warning")
            return
        checked = self._suspect_armed
        sid = self.controller.session_id
        if sid is None:
            return
        self.submit(lambda s, a: s.monitor.confirm(a, sid, filled, values=typed, checked_suspect=checked),
                    self._on_saved, [self.save])

    def _on_saved(self, entry: Any) -> None:
        for key, edit in self.fields.items():
            if edit.text().strip() and key in entry.payload:
                edit.clear()
        self.when.clear()
        confirmed = " (monitor reading confirmed)" if entry.payload.get("source") == "device" else ""
        self._clear_device()
        set_message(self.message, f"Saved {local_time(entry.observed_at)}: {entry.content.describe()}{confirmed}",
                    "ok")
        self.fields["sbp"].setFocus()

    # ----- the bedside monitor ---------------------------------------------------------------------------
    def set_offer(self, offer: DeviceOffer | None) -> None:
        """The monitor's latest unconfirmed values (from the device feed); shown, never saved by themselves."""
        self.offer = offer
        if offer is None:
            self.device_line.hide()
            return
        parts = [f"{SHORT[k]} {o.value:g}" + (" ⚠" if o.suspect else "") for k, o in offer.values.items()]
        self.device_line.setText(f"Monitor ({offer.device_name or 'device'}, {local_time(offer.device_time)}, "
                                 f"unconfirmed): {' · '.join(parts)} — {key_text(Act.VITALS)} fills the row")
        self.device_line.show()

    def fill_from_device(self) -> None:
        """Ctrl+Shift+V: the row filled with the monitor's latest reading; Enter confirms it."""
        offer = self.offer
        if offer is None:
            set_message(self.message, "No monitor reading to offer: type the reading", "warning")
            self.focus()
            return
        for key, edit in self.fields.items():
            value = offer.values.get(key)
            edit.setText("" if value is None else f"{value.value:g}")
            self._mark(edit, value is not None and bool(value.suspect))
            edit.setToolTip(f"Monitor: {value.suspect}" if value is not None and value.suspect else edit.toolTip())
        self.filled = offer
        self._suspect_armed = False
        suspects = offer.suspects
        note = (" Suspect: " + "; ".join(f"{SHORT[k]} {why}" for k, why in suspects.items()) + ".") if suspects else ""
        set_message(self.message, f"From {offer.device_name or 'the monitor'} at {local_time(offer.device_time)}: "
                                  f"Enter confirms, edit to correct, or reject as an artefact.{note}",
                    "warning" if suspects else "")
        self.artefact_row.show()
        first = next((self.fields[k] for k in VITALS_KEYS if k in offer.values), self.fields["sbp"])
        first.setFocus()

    def reject_artefact(self) -> None:
        """Reject the filled row's suspect values (all of them when none is suspect) as an artefact."""
        filled = self.filled
        if filled is None:
            return
        reason = self.artefact_reason.text().strip()
        if not reason:
            set_message(self.message, "Give the reason it is an artefact", "warning")
            self.artefact_reason.setFocus()
            return
        keys = [k for k, o in filled.values.items() if o.suspect] or list(filled.values)
        ids = [filled.values[k].reading_id for k in keys]
        sid = self.controller.session_id
        if sid is None:
            return

        def done(_entry: Any) -> None:
            for key in keys:
                self.fields[key].clear()
                self._mark(self.fields[key], False)
            self.artefact_reason.clear()
            self._clear_device()
            set_message(self.message, f"Rejected as artefact: {', '.join(SHORT[k] for k in keys)}", "ok")
            self.fields["sbp"].setFocus()

        self.submit(lambda s, a: s.monitor.reject(a, sid, ids, reason), done, [self.artefact_button])

    def _clear_device(self) -> None:
        self.filled = None
        self._suspect_armed = False
        self.artefact_row.hide()

    def _field_key(self, error: ValidationError) -> str | None:
        """The measure a validation error is about: its key, or the measure its field names."""
        if error.key in self.fields:
            return error.key
        return next((k for k, (label, _u, _d) in MEASURES.items() if label == error.field and k in self.fields), None)

    def on_failed(self, exc: Exception) -> None:
        if isinstance(exc, ValidationError):
            # Every refused measure is marked at once; the keyboard goes to the first.
            errors = exc.errors if isinstance(exc, ValidationErrors) else (exc,)
            keys = [k for e in errors for k in (self._field_key(e),) if k is not None]
            for key in keys:
                self._mark(self.fields[key], True)
            if keys:
                self.fields[keys[0]].setFocus()
                self.fields[keys[0]].selectAll()
            if len(errors) > 1:
                lines = "\n".join(f"• {e}" for e in errors)
                set_message(self.message, f"Not saved — {len(errors)} measures are not accepted:\n{lines}",
                            "danger")
                return
        super().on_failed(exc)

    @staticmethod
    def _mark(edit: QLineEdit, invalid: bool) -> None:
        set_severity(edit, "danger" if invalid else "")

    def set_record(self, record: SessionRecord) -> None:
        latest = record.latest_vitals
        if latest is None:
            self.last.setText("No reading yet")
            return
        alerts = record.alerts_for(latest)
        flag = "  ⚠ ALERT" if alerts else ""
        self.last.setText(f"Last reading {local_time(latest.at)}: {latest.content.describe()}{flag}")

    def focus(self) -> None:
        self.fields["sbp"].setFocus()
        self.fields["sbp"].selectAll()


# ----- scales -------------------------------------------------------------------------------------------
class ScaleEntry(_Entry):
    SCALES = (Scale.MOAAS, Scale.DISSOCIATION, Scale.SUDS)

    def __init__(self, controller: SessionController, parent: QWidget | None = None) -> None:
        super().__init__("Scales", controller, parent)
        self.inputs: dict[Scale, QComboBox] = {}
        grid = QGridLayout()
        for row, scale in enumerate(self.SCALES):
            combo = QComboBox()
            combo.setObjectName(f"scale_{scale.value}")
            combo.setAccessibleName(scale.label)
            combo.addItem("— not rated", None)
            low, high = scale.bounds
            for score in range(high, low - 1, -1) if scale is Scale.MOAAS else range(low, high + 1):
                text = f"{score} — {MOAAS_LEVELS[score]}" if scale is Scale.MOAAS else str(score)
                combo.addItem(text, score)
            combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
            combo.setMinimumContentsLength(8)
            combo.setToolTip(tip(Act.SCALES, f"{scale.label}: Enter records; the keys go to the scales"))
            label = PlainLabel(f"{scale.label.split(' (')[0]}:")
            label.setBuddy(combo)
            latest = ElidedLabel("", min_chars=5)
            latest.setObjectName(f"scaleLatest_{scale.value}")
            grid.addWidget(label, row, 0)
            grid.addWidget(combo, row, 1)
            grid.addWidget(latest, row, 2)
            self.inputs[scale] = combo
        grid.setColumnStretch(1, 1)
        grid.setVerticalSpacing(0)
        self.latest: dict[Scale, QLabel] = {}
        for r, s in enumerate(self.SCALES):
            item = grid.itemAtPosition(r, 2)
            widget = item.widget() if item is not None else None
            assert isinstance(widget, QLabel)
            self.latest[s] = widget
        self.watch(*self.inputs.values())
        self.save = QPushButton("Record scores")
        self.save.setObjectName("scaleSave")
        self.save.setToolTip("Record the rated scales (Enter)")
        self.save.clicked.connect(self.commit)
        self.message.setObjectName("scaleMessage")
        self.save.setText("Record")
        self.when = ClinicalTimeField("scaleTime", label="Time rated")
        self.when.setMaximumWidth(150)
        self.when.returnPressed.connect(self.commit)
        self.watch(self.when)
        # Beside the scales: the panel is three lines high, and the column fits without scrolling.
        grid.addWidget(self.when, len(self.SCALES) - 2, 3)
        grid.addWidget(self.save, len(self.SCALES) - 1, 3)
        layout = QVBoxLayout(self)
        layout.addLayout(grid)
        layout.addWidget(self.message)
        for key in ("Return", "Enter"):
            shortcut(self, key, self.commit)

    def commit(self) -> None:
        scores = {s: c.currentData() for s, c in self.inputs.items() if c.currentData() is not None}
        if not scores:
            set_message(self.message, "Choose a score first", "warning")
            return
        ok, at = self.read_time(self.when)
        if not ok:
            return
        sid = self.controller.session_id
        if sid is None:
            return

        def work(services: Services, actor: Any) -> list[Any]:
            return [services.records.record_scale(actor, sid, s.value, v, observed_at=at) for s, v in scores.items()]

        self.submit(work, lambda _e: self._on_saved(scores), [self.save])

    def _on_saved(self, scores: dict[Scale, int]) -> None:
        for scale, value in scores.items():
            if self.inputs[scale].currentData() == value:
                self.inputs[scale].setCurrentIndex(0)
        self.when.clear()
        set_message(self.message, "Recorded", "ok")

    def set_record(self, record: SessionRecord) -> None:
        for scale, label in self.latest.items():
            c = record.latest_scale(scale)
            label.setText(f"last {c.payload['score']} at {local_time(c.at)}" if c else "")

    def focus(self) -> None:
        self.inputs[Scale.MOAAS].setFocus()


# ----- side effects -------------------------------------------------------------------------------------
class SideEffectPanel(_Entry):
    medication_requested = Signal(object)  # the selected side effect's entry id, or None
    def __init__(self, controller: SessionController, parent: QWidget | None = None) -> None:
        super().__init__("Side effects", controller, parent)
        self.buttons: dict[SideEffectKind, QPushButton] = {}
        grid = QGridLayout()
        for kind in SideEffectKind:
            button = QPushButton(EFFECT_CAPTIONS.get(kind, kind.label))
            button.setObjectName(f"sideEffect_{kind.value}")
            button.setAccessibleName(f"Record side effect: {kind.label}")
            button.setToolTip(tip(Act.SIDE_EFFECT, f"Record {kind.label.lower()} with severity and intervention; "
                                                   "the keys choose any side effect"))
            button.clicked.connect(lambda _c=False, k=kind: self.open_dialog(k))
            self.buttons[kind] = button
        self.button_grid = grid
        self.unresolved = QListWidget()
        self.unresolved.setObjectName("unresolvedList")
        self.unresolved.setAccessibleName("Unresolved side effects")
        self.unresolved.hide()  # shown only while something is unresolved, up to three lines
        self.unresolved.setWordWrap(True)
        self.unresolved.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.unresolved.itemSelectionChanged.connect(self._on_selection)
        self.resolve = QPushButton("Mark resolved")
        self.resolve.setObjectName("resolveButton")
        self.resolve.setToolTip(tip(Act.RESOLVE))
        self.resolve.setEnabled(False)
        self.resolve.clicked.connect(self.resolve_selected)
        self.medication = QPushButton("Medication…")
        self.medication.setObjectName("medicationButton")
        self.medication.setToolTip(tip(Act.MEDICATION))
        self.medication.clicked.connect(lambda: self.medication_requested.emit(self._selected_id()))
        self.message.setObjectName("sideEffectMessage")
        self.dialog: SideEffectDialog | None = None
        self._locked = False

        layout = QVBoxLayout(self)
        layout.addLayout(grid)
        head = QHBoxLayout()
        self.unresolved_title = ElidedLabel("Unresolved: none")
        self.unresolved_title.setObjectName("unresolvedTitle")
        # One row for what acts on the unresolved list ("Other…" and "Medication…" too when the kinds fill whole
        # rows), the list under it at the panel's full width.
        head.addWidget(self.unresolved_title, 1)
        self.resolved_when = ClinicalTimeField("resolvedTime", label="Time resolved")
        self.resolved_when.setMaximumWidth(130)
        self.resolved_when.returnPressed.connect(self.resolve_selected)
        self.watch(self.resolved_when)
        head.addWidget(self.resolved_when, 0)
        head.addWidget(self.resolve, 0)
        self.head = head
        layout.addLayout(head)
        layout.addWidget(self.unresolved)
        layout.addWidget(self.message)
        self.set_columns(EFFECT_COLUMNS)

    def set_columns(self, columns: int) -> None:
        """Buttons per row: five in the day (the panel stays short), three in night mode's large type.

        When the kinds but "Other…" fill whole rows, "Other…" and "Medication…" sit on the row of "Mark resolved";
        otherwise they end the last row of kinds (with "Medication…" beside "Mark resolved" if that row is full).
        """
        other = self.buttons[SideEffectKind.OTHER]
        kinds = [b for b in self.buttons.values() if b is not other]
        for button in (*self.buttons.values(), self.medication):
            self.head.removeWidget(button)
            self.button_grid.removeWidget(button)
        if len(kinds) % columns == 0:
            in_grid, beside = kinds, [other, self.medication]
        elif (len(kinds) + 1) % columns != 0:
            in_grid, beside = [*kinds, other, self.medication], []
        else:
            in_grid, beside = [*kinds, other], [self.medication]
        for i, button in enumerate(beside):
            self.head.insertWidget(i, button, 0)
        for i, button in enumerate(in_grid):
            self.button_grid.addWidget(button, i // columns, i % columns)

    def open_dialog(self, kind: SideEffectKind | None = None) -> SideEffectDialog | None:
        if self._locked:
            return None
        if self.dialog is not None:
            self.dialog.close()
        self.dialog = SideEffectDialog(self.controller, kind, self)
        self.dialog.saved.connect(lambda text: set_message(self.message, text, "ok"))
        self.dialog.open()
        return self.dialog

    def set_record(self, record: SessionRecord) -> None:
        selected = self._selected_id()
        self.unresolved.clear()
        items = record.unresolved_side_effects()
        for c in items:
            item = QListWidgetItem(f"{c.content.describe()} — since {local_time(c.at)}")
            item.setData(Qt.ItemDataRole.UserRole, c.id)
            self.unresolved.addItem(item)
            if c.id == selected:
                item.setSelected(True)
        if items and self.unresolved.currentRow() < 0:
            self.unresolved.setCurrentRow(0)
        self.unresolved_title.setText(f"Unresolved: {len(items)}" if items else "Unresolved: none")
        self.unresolved.setVisible(bool(items))
        self.resolved_when.setVisible(bool(items))
        if items:
            line = self.unresolved.sizeHintForRow(0)
            frame = 2 * self.unresolved.frameWidth()
            self.unresolved.setFixedHeight(min(len(items), 3) * max(line, 1) + frame + 2)
        self._on_selection()

    def set_locked(self, locked: bool) -> None:
        self._locked = locked
        for b in (*self.buttons.values(), self.medication):
            b.setEnabled(not locked)
        self._on_selection()

    def _selected_id(self) -> int | None:
        items = self.unresolved.selectedItems()
        return int(items[0].data(Qt.ItemDataRole.UserRole)) if items else None

    def _on_selection(self) -> None:
        self.resolve.setEnabled(not self._locked and self._selected_id() is not None)

    def resolve_selected(self) -> None:
        effect_id = self._selected_id()
        if effect_id is None or self._locked:
            return
        ok, at = self.read_time(self.resolved_when)
        if not ok:
            return
        sid = self.controller.session_id
        if sid is None:
            return

        had_focus = self.resolve.hasFocus() or self.resolved_when.hasFocus()

        def done(entry: Any) -> None:
            # The button and the time field go (nothing left to resolve): the keyboard stays in this panel rather
            # than landing on the next scale, unless the person has moved on to type somewhere else.
            if had_focus and not isinstance(QApplication.focusWidget(), QLineEdit):
                self.medication.setFocus()
            self.resolved_when.clear()
            set_message(self.message, f"Marked resolved {local_time(entry.observed_at)}", "ok")

        self.submit(lambda s, a: s.records.resolve_side_effect(a, sid, effect_id, observed_at=at), done,
                    [self.resolve])
