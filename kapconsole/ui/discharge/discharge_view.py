"""Discharge: every criterion with why it passes or fails, the recorded assessments, and the supervisor's signature.

The criteria are previewed live from the record the dialog shows plus the bedside confirmations and ratings
typed here (nothing is stored until "Record assessment"). Signing asks for the supervisor's password again,
shows the meaning of the signature (:mod:`kapconsole.ui.discharge.signature_dialog`), and sends the chain head of the
record on screen: if anything was added since, the service refuses and the dialog reloads for another review.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from PySide6.QtCore import QModelIndex, QPersistentModelIndex, QSize, Qt, QTimer
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QDialog,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QPushButton,
    QScrollArea,
    QSpinBox,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from kapconsole.domain import discharge, rems_form
from kapconsole.domain.enums import Route, SessionState
from kapconsole.domain.errors import AuthenticationFailed, DatabaseUnavailable, StaleRecord
from kapconsole.domain.record import LatestAssessment, SessionRecord, latest_assessment
from kapconsole.domain.rules import Action, may
from kapconsole.services import Services
from kapconsole.ui.discharge.signature_dialog import SignatureDialog
from kapconsole.ui.session.controller import SessionController
from kapconsole.ui.shell.app_state import AppState
from kapconsole.ui.widgets import theme
from kapconsole.ui.widgets.table_model import RowsTableModel
from kapconsole.ui.widgets.text import ElidedLabel, PlainLabel, client_identity

PREVIEW_MS = 15_000
SEVERITY_ROLE = Qt.ItemDataRole.UserRole + 1
_Index = QModelIndex | QPersistentModelIndex

def local_hm(moment: Any) -> str:
    return moment.astimezone().strftime("%H:%M")


def duration_text(delta: timedelta) -> str:
    minutes = max(0, int(delta.total_seconds() // 60))
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} min" if hours else f"{minutes} min"


class CriteriaModel(RowsTableModel):
    """The criteria of one assessment, failing ones first."""

    HEADERS = ("Result", "Criterion", "Why")

    rows: list[discharge.Criterion]

    def set_assessment(self, assessment: discharge.Assessment | None) -> None:
        items = list(assessment.criteria) if assessment else []
        self.set_rows([c for c in items if not c.passed] + [c for c in items if c.passed])


    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole) -> object:
        if not index.isValid():
            return None
        c = self.rows[index.row()]
        severity = "ok" if c.passed else "danger"
        if role == SEVERITY_ROLE:
            return severity
        if role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.AccessibleTextRole):
            return (("✔ Pass" if c.passed else "✘ Fail"), c.label, c.detail)[index.column()]
        if index.column() == 0:
            return theme.cell_role_colour(severity, role)
        return None


class WrapDelegate(QStyledItemDelegate):
    """Measures wrapped text at the column's real width less the stylesheet's item padding (Qt does not)."""

    PADDING = 22  # both sides: the stylesheets' item padding (6–8 px) and the cell margins

    def __init__(self, table: QTableView) -> None:
        super().__init__(table)
        self._table = table

    def sizeHint(self, option: QStyleOptionViewItem, index: _Index) -> QSize:  # noqa: N802 (Qt override)
        hint = super().sizeHint(option, index)
        if index.column() == 0:  # "✔ Pass" / "✘ Fail": sized to its contents, never wrapped
            return QSize(hint.width(), 0)
        width = max(40, self._table.columnWidth(index.column()) - self.PADDING)
        text = str(index.data() or "")
        needed = option.fontMetrics.boundingRect(0, 0, width, 10_000, Qt.TextFlag.TextWordWrap, text)
        return QSize(hint.width(), needed.height() + self.PADDING)


class DischargeDialog(QDialog):
    """Discharge assessment and sign-off for the controller's open session. Open it with ``open()``."""

    def __init__(self, state: AppState, controller: SessionController, parent: QWidget | None = None) -> None:
        super().__init__(parent, objectName="dischargeDialog")
        self.state = state
        self.controller = controller
        self.record: SessionRecord | None = None  # the record on screen: what a signature covers
        self.assessment: discharge.Assessment | None = None  # the live preview
        self.signature_dialog: SignatureDialog | None = None
        self._filled = False
        #: When each bedside item was checked in this dialog (sent with the assessment).
        self.checked_at: dict[str, datetime] = {}
        self._own_change = False
        self.setWindowTitle("Discharge")
        self._build()
        self._timer = QTimer(self)
        self._timer.setInterval(PREVIEW_MS)
        self._timer.timeout.connect(self._update_preview)  # the observation time runs on without a write
        self._timer.start()
        controller.record_changed.connect(self._on_record_changed)
        controller.connection_changed.connect(self._on_connection_changed)
        state.actor_changed.connect(self._on_actor_changed)  # a bound slot: disconnected when the dialog goes
        if controller.record is not None:
            self._on_record_changed(controller.record)
        else:
            self.summary.setText("Loading the record…")
            self._update_buttons()

    # ----- layout --------------------------------------------------------------------------------------
    def _build(self) -> None:
        self.heading = PlainLabel("Discharge", objectName="dischargeHeading")
        theme.set_flag(self.heading, "heading")
        self.client = ElidedLabel("", objectName="dischargeClient")
        theme.set_flag(self.client, "strong")
        self.context = PlainLabel("", objectName="dischargeContext")
        theme.set_flag(self.context, "muted")
        self.summary = PlainLabel("", objectName="dischargeSummary")
        self.summary.setWordWrap(True)
        theme.set_flag(self.summary, "banner")
        self.model = CriteriaModel(self)
        self.table = QTableView(objectName="dischargeCriteria")
        self.table.setAccessibleName("Discharge criteria")
        self.table.setModel(self.model)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.NoSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.table.verticalHeader().hide()
        self.table.setWordWrap(True)
        self.table.setTextElideMode(Qt.TextElideMode.ElideNone)
        self.table.setItemDelegate(WrapDelegate(self.table))
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.ResizeToContents)
        # Wrapped reasons need their rows re-measured whenever the columns change width.
        header.sectionResized.connect(lambda *_a: self.table.resizeRowsToContents())
        self.model.modelReset.connect(self.table.resizeRowsToContents)

        self.checks: dict[str, QCheckBox] = {}
        bedside = QGroupBox("At the bedside: confirmed by a person")
        box = QVBoxLayout(bedside)
        for key, label in discharge.PERSON_CRITERIA.items():
            check = QCheckBox(label, objectName=f"confirm_{key}")
            check.toggled.connect(self._update_preview)
            check.toggled.connect(lambda on, k=key: self._stamp(k, on))
            self.checks[key] = check
            box.addWidget(check)
        self.spins: dict[str, QSpinBox] = {}
        self.rating_labels: dict[str, PlainLabel] = {}
        rated = QGroupBox("Rated by a person (0–2)")
        # One row per rating (a box layout gives a wrapped label the height its text needs at its width).
        rows = QVBoxLayout(rated)
        for key, (score, label) in discharge.PERSON_SCORE_PARTS.items():
            spin = QSpinBox(objectName=f"score_{key}")
            spin.setRange(0, 2)
            spin.setAccessibleName(label)
            spin.valueChanged.connect(self._update_preview)
            spin.valueChanged.connect(lambda _v, k=key: self._stamp(k, True))
            self.spins[key] = spin
            text = PlainLabel(f"{'Aldrete' if score == 'aldrete' else 'PADSS'} · {label}",
                              objectName=f"scoreLabel_{key}")
            text.setWordWrap(True)
            text.setBuddy(spin)
            self.rating_labels[key] = text
            row = QHBoxLayout()
            row.addWidget(text, 1)
            row.addWidget(spin, 0, Qt.AlignmentFlag.AlignTop)
            rows.addLayout(row)
        self.totals = PlainLabel("", objectName="dischargeTotals")
        self.totals.setWordWrap(True)
        rows.addWidget(self.totals)
        inputs_host = QWidget()
        inputs = QVBoxLayout(inputs_host)
        inputs.setContentsMargins(0, 0, 0, 0)
        inputs.addWidget(bedside)
        inputs.addWidget(rated)
        inputs.addStretch(1)
        # On a small screen or in night mode's large type the inputs scroll; they are never clipped.
        self.inputs_scroll = QScrollArea(objectName="dischargeInputs")
        self.inputs_scroll.setWidgetResizable(True)
        self.inputs_scroll.setFrameShape(QScrollArea.Shape.NoFrame)
        self.inputs_scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.inputs_scroll.setWidget(inputs_host)
        middle = QHBoxLayout()
        middle.addWidget(self.table, 3)
        middle.addWidget(self.inputs_scroll, 2)

        self.latest = PlainLabel("", objectName="dischargeLatest")
        self.latest.setWordWrap(True)
        self.message = PlainLabel("", objectName="dischargeMessage")
        self.message.setWordWrap(True)
        self.message.hide()
        self.assess_button = QPushButton("&Record assessment", objectName="dischargeAssess")
        self.assess_button.setToolTip("Store this assessment in the record (each one is kept)")
        self.sign_button = QPushButton("&Sign discharge…", objectName="dischargeSign")
        self.sign_button.setToolTip("Sign with your password: a medical supervisor, after a ready assessment")
        theme.set_flag(self.sign_button, "primary")
        self.close_button = QPushButton("Close", objectName="dischargeClose")
        for button in (self.assess_button, self.sign_button, self.close_button):
            button.setAutoDefault(False)  # Enter in a check box must not close, record or sign
        self.sign_hint = PlainLabel("", objectName="dischargeSignHint")
        self.sign_hint.setWordWrap(True)
        theme.set_flag(self.sign_hint, "muted")
        buttons = QHBoxLayout()
        buttons.addWidget(self.sign_hint, 1)
        buttons.addWidget(self.close_button)
        buttons.addWidget(self.assess_button)
        buttons.addWidget(self.sign_button)

        layout = QVBoxLayout(self)
        layout.addWidget(self.heading)
        layout.addWidget(self.client)
        layout.addWidget(self.context)
        layout.addWidget(self.summary)
        layout.addLayout(middle, 1)
        layout.addWidget(self.latest)
        layout.addWidget(self.message)
        layout.addLayout(buttons)
        self.resize(1280, 860)

        self.assess_button.clicked.connect(self._on_assess_clicked)
        self.sign_button.clicked.connect(self._on_sign_clicked)
        self.close_button.clicked.connect(self.reject)

    # ----- what the person typed -----------------------------------------------------------------------
    @property
    def confirmations(self) -> dict[str, bool]:
        return {key: check.isChecked() for key, check in self.checks.items()}

    @property
    def score_parts(self) -> dict[str, int]:
        return {key: spin.value() for key, spin in self.spins.items()}

    def _stamp(self, key: str, on: bool) -> None:
        if on:
            self.checked_at[key] = self.state.services.discharge.now()
        else:
            self.checked_at.pop(key, None)

    def _fill_from(self, payload: Mapping[str, Any]) -> None:
        for key, check in self.checks.items():
            check.blockSignals(True)
            check.setChecked(bool(payload.get("confirmations", {}).get(key, False)))
            check.blockSignals(False)
        for key, spin in self.spins.items():
            spin.blockSignals(True)
            spin.setValue(int(payload.get("score_parts", {}).get(key, 0)))
            spin.blockSignals(False)

    # ----- the record ----------------------------------------------------------------------------------
    def _on_record_changed(self, record: SessionRecord) -> None:
        shown, own = self.record, self._own_change
        self._own_change = False
        if shown is not None and shown.info.chain_head == record.info.chain_head:
            return
        self.record = record
        latest = latest_assessment(record)
        if not self._filled and latest is not None and latest.ready and latest.current:
            # A supervisor reviewing a ready assessment at another desk sees what the bedside confirmed and rated.
            # A "not ready" assessment is never carried over: the bedside checks are made again, fresh.
            self._fill_from(latest.entry.payload)
        self._filled = True
        if shown is not None and not own:
            added = record.entries[shown.info.entry_count:]
            what = ", ".join(sorted({e.kind.label.lower() for e in added})) or "the session state"
            self.show_message(f"The record changed at another workstation ({what}): review it again.", "warning")
        info = record.info
        self.heading.setText(f"Discharge — {info.room}")
        self.client.setText(client_identity(info.client))
        dose = record.last_dose_at
        since = f" · last dose {local_hm(dose)}" if dose else " · no dose recorded"
        self.context.setText(f"{info.course_label.capitalize()} · {info.state.label}{since} · "
                             f"{info.entry_count} entries in the record (session id {info.id})")
        for widget in (*self.checks.values(), *self.spins.values()):
            widget.setEnabled(not record.locked)
        self._render_latest(record, latest)
        self._update_preview()

    def _render_latest(self, record: SessionRecord, latest: LatestAssessment | None) -> None:
        signature = record.signature
        if signature is not None:
            p = signature.payload
            self.latest.setText(f"Discharged: signed by {p['signer_name']} at {local_hm(signature.observed_at)} — "
                                f"“{p['meaning']}”")
            theme.set_severity(self.latest, "ok")
        elif latest is None:
            self.latest.setText("No assessment recorded yet.")
            theme.set_severity(self.latest, "")
        else:
            who = f"Latest recorded assessment: {local_hm(latest.entry.at)} by {latest.entry.entry.author_name}"
            if not latest.current:
                self.latest.setText(f"{who} — entries were added since: record a new assessment before signing.")
                theme.set_severity(self.latest, "warning")
            elif latest.ready:
                self.latest.setText(f"{who} — ready for discharge.")
                theme.set_severity(self.latest, "ok")
            else:
                self.latest.setText(f"{who} — not ready: {'; '.join(latest.failing)}.{_checked_text(latest)}")
                theme.set_severity(self.latest, "warning")

    def _update_preview(self) -> None:
        record = self.record
        if record is None:
            return
        if record.locked:
            self.assessment = None
            # The criteria as last assessed (those the signature relied on) stay on screen.
            latest = latest_assessment(record)
            shown = None
            when = ""
            if latest is not None:
                payload = latest.entry.payload
                shown = discharge.Assessment(tuple(discharge.Criterion(**c) for c in payload["criteria"]),
                                             payload.get("scores", {}), bool(payload["ready"]),
                                             str(payload.get("chain_head", "")))
                when = (f" The criteria as assessed at {local_hm(latest.entry.at)} by "
                        f"{latest.entry.entry.author_name}.")
            self.model.set_assessment(shown)
            self.summary.setText(f"The session is {record.info.state.label.lower()}: the record is locked.{when}")
            theme.set_severity(self.summary, "info")
            self.totals.setText("")
            self._update_buttons()
            return
        self.assessment = self.state.services.discharge.preview(record, self.confirmations, self.score_parts)
        self.model.set_assessment(self.assessment)
        failing = self.assessment.failing
        if not failing:
            self.summary.setText("All criteria pass: ready for discharge.")
            theme.set_severity(self.summary, "ok")
        else:
            self.summary.setText(f"{len(failing)} of {len(self.assessment.criteria)} criteria failing: "
                                 + "; ".join(c.label for c in failing[:3]) + ("; …" if len(failing) > 3 else ""))
            theme.set_severity(self.summary, "warning")
        self.totals.setText("   ".join(
            f"{'Modified Aldrete' if name == 'aldrete' else 'PADSS'}: {sum(parts.values())}/10"
            for name, parts in self.assessment.scores.items()))
        self._update_buttons()

    def _update_buttons(self) -> None:
        actor = self.state.actor
        roles = actor.roles if actor else frozenset()
        record = self.record
        state = record.info.state if record else None
        busy = self.signature_dialog is not None
        self.assess_button.setEnabled(
            not busy and state in (SessionState.MONITORING, SessionState.DISCHARGE)
            and may(roles, Action.ASSESS_DISCHARGE))
        why = self._why_not_sign(record)
        self.sign_button.setEnabled(why == "" and not busy)
        self.sign_hint.setText(why or "The signature will cover the record exactly as shown here.")

    def _why_not_sign(self, record: SessionRecord | None) -> str:
        actor = self.state.actor
        if record is None:
            return "Loading the record…"
        if record.info.state is SessionState.DISCHARGED:
            return "The discharge is signed."
        if actor is None or not may(actor.roles, Action.SIGN_DISCHARGE):
            return "Only a medical supervisor may sign the discharge."
        if record.info.state is not SessionState.DISCHARGE:
            return f"Signing needs a recorded assessment (the session is {record.info.state.label.lower()})."
        latest = latest_assessment(record)
        if latest is None:
            return "Record an assessment first; signing needs a ready one."
        if not latest.ready:
            return "The latest assessment is not ready: " + "; ".join(latest.failing)
        if not latest.current:
            return "Entries were added after the latest assessment: record a new one."
        if record.info.route is Route.INTRANASAL:
            # The esketamine REMS: the same rule the discharge service applies when signing.
            missing = rems_form.build(record, rems_form.SettingDetails()).signature_blockers
            if missing:
                return ("REMS answers needed before signing (REMS…, Ctrl+Alt+R on the session screen): "
                        + "; ".join(missing))
        return ""

    def show_message(self, text: str, severity: str = "danger") -> None:
        self.message.setText(text)
        theme.set_severity(self.message, severity)
        self.message.setVisible(bool(text))

    # ----- actions -------------------------------------------------------------------------------------
    def _on_assess_clicked(self) -> None:
        record = self.record
        if record is None or not self.assess_button.isEnabled():
            return
        sid = record.info.id
        confirmations, parts = self.confirmations, self.score_parts
        given = set(k for k, v in confirmations.items() if v) | set(parts)
        stamps = {k: at for k, at in self.checked_at.items() if k in given}
        self.assess_button.setEnabled(False)
        self._own_change = True

        def work(services: Services, actor: Any) -> Any:
            return services.discharge.assess(actor, sid, confirmations=confirmations, score_parts=parts,
                                             checked_at=stamps)

        def done(result: Any) -> None:
            ready = result.assessment.ready
            if not ready:
                # The next assessment starts from fresh bedside checks.
                self._fill_from({})
                self.checked_at.clear()
                self._update_preview()
            self.show_message("Assessment recorded: ready for discharge." if ready else
                              f"Assessment recorded: not ready ({len(result.assessment.failing)} failing).",
                              "ok" if ready else "warning")

        self.controller.perform(work, done, self._on_action_failed)

    def _on_sign_clicked(self) -> None:
        record = self.record
        actor = self.state.actor
        if record is None or actor is None or not self.sign_button.isEnabled():
            return
        info = record.info
        what = (f"You sign the record of session {info.id} as shown: entries #1–#{info.entry_count} "
                f"(record hash {info.chain_head[:12]}…), in {info.room}.")
        now = self.state.services.discharge.now().astimezone()
        dialog = SignatureDialog(actor.name, now.strftime("%Y-%m-%d %H:%M"), what, self,
                                 client=client_identity(info.client))
        dialog.sign_requested.connect(lambda password: self._sign(info.id, info.chain_head, password))
        dialog.finished.connect(self._on_signature_closed)
        self.signature_dialog = dialog
        self._update_buttons()
        dialog.open()
        dialog.password.setFocus()

    def _sign(self, session_id: int, seen_head: str, password: str) -> None:
        self._own_change = True

        def work(services: Services, actor: Any) -> Any:
            return services.discharge.sign(actor, session_id, password=password, seen_chain_head=seen_head)

        def done(entry: Any) -> None:
            self.show_message(f"Discharge signed by {entry.payload['signer_name']} at {local_hm(entry.observed_at)}.",
                              "ok")
            if self.signature_dialog is not None:
                self.signature_dialog.accept()

        self.controller.perform(work, done, self._on_sign_failed)

    def _on_sign_failed(self, exc: Exception) -> None:
        self._own_change = False
        dialog = self.signature_dialog
        if isinstance(exc, AuthenticationFailed) and dialog is not None:
            dialog.show_message(str(exc)[:1].upper() + str(exc)[1:] + ".")
            return
        if dialog is not None:
            dialog.reject()
        if isinstance(exc, StaleRecord):
            self.show_message(f"Not signed: {exc}.")
            self._own_change = True  # the reload that follows is explained by this message
            self.controller.refresh()
            return
        self._on_action_failed(exc)

    def _on_action_failed(self, exc: Exception) -> None:
        self._own_change = False
        prefix = "Not saved" if isinstance(exc, DatabaseUnavailable) else "Refused"
        self.show_message(f"{prefix}: {exc}.")
        self._update_buttons()

    def _on_actor_changed(self, _actor: object) -> None:
        self._update_buttons()

    def _on_signature_closed(self, _result: int) -> None:
        self.signature_dialog = None
        self._update_buttons()

    def _on_connection_changed(self, connected: bool, message: str) -> None:
        if not connected:
            self.show_message(f"Database unreachable: {message}. Nothing was signed or recorded.")
        elif self.message.text().startswith("Database unreachable"):
            self.show_message("")

    def done(self, result: int) -> None:  # noqa: D401 (Qt override)
        self._timer.stop()
        if self.signature_dialog is not None:
            self.signature_dialog.reject()
        super().done(result)


def _checked_text(latest: LatestAssessment) -> str:
    """When each bedside item of an assessment was checked, e.g. " Bedside checks: oriented 14:02, …"."""
    stamps = latest.entry.payload.get("checked_at", {})
    if not stamps:
        return ""
    parts = [f"{key.replace('_', ' ')} {local_hm(datetime.fromisoformat(at.replace('Z', '+00:00')))}"
             for key, at in sorted(stamps.items())]
    return " Bedside checks: " + ", ".join(parts) + "."
