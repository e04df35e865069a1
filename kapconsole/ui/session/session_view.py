"""SessionView: the live session screen the room works in for hours.

Header with the clocks, the alert banner, quick entry, the vitals chart and the timeline. The view renders
from ``SessionController.record_changed``; a one-second timer updates the clocks from the services' clock
without touching the database. Alerts are visual only (colour, banner, icon): the client is in session.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

from PySide6.QtCore import QEvent, QObject, Qt, QTimer, Signal
from PySide6.QtGui import QHideEvent, QKeyEvent, QKeySequence, QShowEvent
from PySide6.QtWidgets import (
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QScrollArea,
    QSizePolicy,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from kapconsole.domain import esketamine
from kapconsole.domain.enums import Disposition, EntryKind, Route, SessionState
from kapconsole.domain.record import SessionRecord
from kapconsole.domain.rules import Action, may
from kapconsole.domain.values import Actor, Entry
from kapconsole.services import Services
from kapconsole.services.record import ATTESTATION_MEANING
from kapconsole.ui.discharge.signature_dialog import SignatureDialog
from kapconsole.ui.session.amend_dialog import AmendDialog
from kapconsole.ui.session.closing_note_dialog import ClosingNoteDialog
from kapconsole.ui.session.controller import RecordChange, SessionController
from kapconsole.ui.session.device_feed import DeviceFeed
from kapconsole.ui.session.device_panel import DeviceStreamBinder
from kapconsole.ui.session.end_early_dialog import EndEarlyDialog
from kapconsole.ui.session.quick_entry import (
    ObservationEntry,
    ScaleEntry,
    SideEffectPanel,
    VitalsEntry,
    set_message,
)
from kapconsole.ui.session.rescue_dialog import RescueDialog
from kapconsole.ui.session.timeline import TimelineRow, TimelineView, local_time
from kapconsole.ui.session.vitals_chart import VitalsChart
from kapconsole.ui.shell.app_state import AppState
from kapconsole.ui.widgets import theme
from kapconsole.ui.widgets.actions import Act, key_text, keys, shortcut, tip
from kapconsole.ui.widgets.text import ElidedLabel, PlainLabel
from kapconsole.ui.widgets.theme import set_flag, set_severity

#: Kinds of entry that change which alerts are pending, and the side-effect list.
_ALERTING = frozenset({EntryKind.VITALS, EntryKind.ALERT_ACK, EntryKind.ADMINISTRATION, EntryKind.STATE})
_SIDE_EFFECTS = frozenset({EntryKind.SIDE_EFFECT, EntryKind.SIDE_EFFECT_RESOLVED, EntryKind.STATE})

READ_ONLY_TEXT = "Read-only — opened from the supervisor board. Nothing can be entered or amended here."
LOCKED_TEXT = "Signed and locked — corrections are amendments (select an entry in the timeline, then Amend)"
ENDED_TEXT = "Ended early and locked — corrections are amendments (select an entry in the timeline, then Amend)"


#: This screen's own emphasis. Colours of alerts come from the theme's severity properties; the banner text
#: colours are repeated here because a QSS colour does not reach the labels inside a frame.
_COLORS = {
    False: {"alert_bg": "#c62828", "alert_fg": "#ffffff", "lock_bg": "#37474f", "lock_fg": "#ffffff",
            "muted": "#4a5560", "big": 20, "clock": 14, "banner": 14,
            "info_bg": "#dbe8fb", "info_fg": "#0b2a55", "info_edge": "#1d5fbf"},
    True: {"alert_bg": "#8c1c13", "alert_fg": "#fff1e6", "lock_bg": "#2a2f38", "lock_fg": "#d8dde6",
           "muted": "#a3998a", "big": 21, "clock": 15, "banner": 16,
           "info_bg": "#2a2f38", "info_fg": "#d8dde6", "info_edge": "#6f86a8"},
}


def session_stylesheet(night: bool) -> str:
    c = _COLORS[night]
    return f"""
    QLabel#clientName {{ font-size: {c['big']}pt; font-weight: bold; }}
    QLabel#courseLabel, QLabel#stateLabel {{ color: {c['muted']}; }}
    QLabel[role="clock"] {{ font-size: {c['clock']}pt; font-weight: bold; padding: 2px 10px; border-radius: 4px; }}
    QFrame#alertBanner {{ background: {c['alert_bg']}; border-radius: 4px; }}
    QFrame#alertBanner[severity="warning"] {{ background: {c['lock_bg']}; }}
    QFrame#alertBanner QLabel {{ color: {c['alert_fg']}; background: transparent; font-size: {c['banner']}pt; }}
    QLabel#alertTitle {{ font-weight: bold; }}
    QPushButton#acknowledgeButton {{ font-weight: bold; padding: 8px 18px; }}
    QLabel#lockedBanner {{ background: {c['lock_bg']}; color: {c['lock_fg']}; }}
    QFrame#readOnlyBanner {{ background: {c['info_bg']}; border: 2px solid {c['info_edge']}; border-radius: 4px; }}
    QFrame#readOnlyBanner QLabel {{ color: {c['info_fg']}; background: transparent; font-size: {c['banner']}pt;
        font-weight: bold; }}
    """


def clock_text(delta: timedelta, hours: bool = True) -> str:
    total = max(0, int(delta.total_seconds()))
    h, rest = divmod(total, 3600)
    m, s = divmod(rest, 60)
    if hours or h:
        return f"{h}:{m:02d}:{s:02d}"
    return f"{m:02d}:{s:02d}"


class _ShortcutsWin(QObject):
    """Lets the view's shortcuts win over a focused input's own key bindings (Ctrl+E, Ctrl+K, Ctrl+D on X11)."""

    def __init__(self, sequences: list[QKeySequence], parent: QObject) -> None:
        super().__init__(parent)
        self._keys = {seq.toString() for seq in sequences}

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        # Filtered but not accepted: the shortcut map then takes the key.
        return (event.type() == QEvent.Type.ShortcutOverride and isinstance(event, QKeyEvent)
                and QKeySequence(event.keyCombination()).toString() in self._keys)


def _tighten(panel: QWidget) -> None:
    """Closer rows inside a quick-entry panel (the type keeps its size): the column then fits a short screen."""
    layout = panel.layout()
    if layout is None:
        return
    layout.setContentsMargins(8, 4, 8, 4)
    layout.setSpacing(4)
    for i in range(layout.count()):
        item = layout.itemAt(i)
        inner = item.layout() if item is not None else None
        if isinstance(inner, QGridLayout):
            if inner.verticalSpacing() != 0:  # a grid set to no spacing keeps it
                inner.setVerticalSpacing(4)
        elif inner is not None:
            inner.setSpacing(4)


class SessionView(QWidget):
    dose_requested = Signal()
    discharge_requested = Signal()
    back_requested = Signal()  # read-only mode: "Back to board" (Esc)

    def __init__(self, state: AppState, controller: SessionController, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("sessionView")
        self.state = state
        self.controller = controller
        self.record: SessionRecord | None = None
        self._night = False
        self._read_only = False
        self._ack_session: int | None = None

        self._build_header()
        self._build_banners()
        self.chart = VitalsChart()
        self.timeline = TimelineView()
        self.timeline.amend_requested.connect(self._on_amend_requested)
        self.vitals = VitalsEntry(controller)
        self.observation = ObservationEntry(controller)
        self.scales = ScaleEntry(controller)
        self.side_effects = SideEffectPanel(controller)
        self.side_effects.medication_requested.connect(self.open_medication)
        # The bedside monitor: a stream polled after the last reading held, never a record reload.
        self.device_alert = self._label("deviceAlert")
        self.device_feed = DeviceFeed(state, self)
        self.device = DeviceStreamBinder(self.device_feed, self.chart, self.vitals, self.device_state_label,
                                         self.device_alert, self)

        entry = QWidget()
        entry.setObjectName("quickEntry")
        col = QVBoxLayout(entry)
        col.setContentsMargins(0, 0, 4, 0)
        col.setSpacing(0)
        # The observation line is wide text: it sits under the timeline, leaving this column to the vitals,
        # side effects and scales, which then fit without scrolling on a 1280×800 or 1600×1000 screen.
        for w in (self.vitals, self.side_effects, self.scales):
            col.addWidget(w)
        for panel in (self.vitals, self.side_effects, self.scales, self.observation):
            _tighten(panel)
        col.addStretch(1)
        end_row = QHBoxLayout()
        end_row.addWidget(self.closing_note_button)
        end_row.addStretch(1)
        col.addLayout(end_row)
        self.quick_entry = entry
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        scroll.setWidget(entry)
        self.entry_scroll = scroll

        lower = QWidget()
        lower_layout = QVBoxLayout(lower)
        lower_layout.setContentsMargins(0, 0, 0, 0)
        lower_layout.addWidget(self.timeline, 1)
        lower_layout.addWidget(self.observation)
        left = QSplitter(Qt.Orientation.Vertical)
        left.addWidget(self.chart)
        left.addWidget(lower)
        left.setStretchFactor(0, 3)
        left.setStretchFactor(1, 5)
        left.setSizes([330, 550])
        self.chart.setMinimumHeight(150)
        main = QSplitter(Qt.Orientation.Horizontal)
        main.addWidget(left)
        main.addWidget(scroll)
        main.setStretchFactor(0, 1)
        main.setStretchFactor(1, 0)
        self.splitter = main

        layout = QVBoxLayout(self)
        layout.setContentsMargins(8, 8, 8, 8)
        layout.addWidget(self.read_only_banner)
        layout.addWidget(self.header)
        layout.addWidget(self.alert_banner)
        layout.addWidget(self.device_alert)
        layout.addWidget(self.locked_banner)
        layout.addWidget(self.connection_banner)
        layout.addWidget(main, 1)

        self._install_shortcuts()
        self.setStyleSheet(session_stylesheet(False))
        controller.changed.connect(self._on_changed)
        controller.connection_changed.connect(self._on_connection_changed)
        controller.integrity_changed.connect(self._on_integrity)
        self._clock = QTimer(self)
        self._clock.setInterval(1000)
        self._clock.timeout.connect(self._on_tick)
        self._clock.start()
        if controller.record is not None:
            self._on_record_changed(controller.record)
        else:
            self._render_header()

    # ----- building ------------------------------------------------------------------------------------
    def _label(self, name: str, text: str = "") -> QLabel:
        label = PlainLabel(text)
        label.setObjectName(name)
        return label

    def _button(self, name: str, text: str, tip: str, slot: object) -> QPushButton:
        button = QPushButton(text)
        button.setObjectName(name)
        button.setToolTip(tip)
        button.clicked.connect(slot)
        return button

    def _build_header(self) -> None:
        self.header = QFrame()
        self.header.setObjectName("sessionHeader")
        # The client's name elides: a long name never widens the window (the tooltip has it whole).
        self.client_label = ElidedLabel("—", objectName="clientName")
        self.course_label = self._label("courseLabel")
        self.state_label = self._label("stateLabel")
        self.since_dose_label = self._label("sinceDoseLabel")
        self.vitals_due_label = self._label("vitalsDueLabel")
        self.discharge_label = self._label("dischargeLabel")
        self.device_label = self._label("deviceTimerLabel")
        self.device_label.setAccessibleName("Esketamine device timer")
        self.device_label.hide()
        self.rems_button = self._button("remsButton", "REMS…",
                                        "Esketamine REMS answers and the Patient Monitoring Form (Ctrl+Alt+R)",
                                        self.open_rems)
        self.rems_button.hide()
        self.device_state_label = ElidedLabel("", objectName="deviceState")  # one line: it elides
        self.integrity_label = self._label("integrityState")
        self.integrity_label.setTextFormat(Qt.TextFormat.PlainText)
        self.integrity_label.setWordWrap(True)
        self.booster_button = self._button("boosterButton", "Booster…", tip(Act.DOSE, "Record a booster dose"),
                                           self.dose_requested.emit)
        self.discharge_button = self._button("dischargeButton", "Discharge…", tip(Act.DISCHARGE),
                                             self.discharge_requested.emit)
        self.end_early_button = self._button("endEarlyButton", "End early…", tip(Act.END_EARLY),
                                             self.open_end_early)
        self.closing_note_button = self._button(
            "closingNoteButton", "Closing note…",
            "The therapist's note at departure: state, words, themes, suggestions for integration",
            self.open_closing_note)
        self.end_infusion_button = self._button("endInfusionButton", "End infusion",
                                                "Record that the running IV infusion stopped now",
                                                self.end_infusion)
        self.end_infusion_button.hide()
        self.attest_button = self._button("attestButton", "Attest…",
                                          "A physician attests this session ended early after a dose (password)",
                                          self.open_attestation)
        self.attest_button.hide()
        # Two lines: the name beside the clocks and buttons, then the course, state, monitor and the record's
        # verification on one line under them (the live screen keeps its height for the chart and timeline).
        top = QHBoxLayout()
        # The name takes the room the clocks leave, down to its shortest form (the tooltip has it whole).
        self.client_label.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        top.addWidget(self.client_label, 1)
        sub = QHBoxLayout()
        sub.setSpacing(4)
        sub.addWidget(self.course_label)
        sub.addWidget(self.state_label)
        sub.addSpacing(16)
        sub.addWidget(self.device_state_label, 1)
        sub.addSpacing(16)
        sub.addWidget(self.integrity_label, 0)
        # The clocks may wrap: with night mode's large type the header must still fit a 1280-wide screen (the line
        # under them has the header's whole width, and the monitor's state elides in it).
        for label in (self.since_dose_label, self.vitals_due_label, self.discharge_label):
            label.setWordWrap(True)
        lines = QVBoxLayout(self.header)
        lines.setContentsMargins(10, 4, 10, 4)
        lines.setSpacing(2)
        lines.addLayout(top)
        lines.addLayout(sub)
        row = top
        for clock in (self.since_dose_label, self.device_label, self.vitals_due_label, self.discharge_label):
            clock.setProperty("role", "clock")
            row.addWidget(clock, 0)  # as wide as its text; the client's name takes (and elides in) the rest
        # Ending early is rare and final: set apart from the everyday buttons.
        row.addWidget(self.end_early_button)
        row.addSpacing(16)
        for b in (self.rems_button, self.end_infusion_button, self.booster_button, self.discharge_button,
                  self.attest_button):
            row.addWidget(b)

    def _build_banners(self) -> None:
        self.alert_banner = QFrame()
        self.alert_banner.setObjectName("alertBanner")
        self.alert_banner.setProperty("severity", "danger")
        self.alert_title = self._label("alertTitle", "⚠ ALERT")
        self.alert_text = self._label("alertText")
        self.alert_text.setWordWrap(True)
        self.ack_button = self._button("acknowledgeButton", f"Acknowledge ({key_text(Act.ACKNOWLEDGE)})",
                                       tip(Act.ACKNOWLEDGE), self.acknowledge_alerts)
        self.ack_button.setAccessibleName("Acknowledge alerts")
        self.ack_note = QLineEdit(objectName="ackNote")
        self.ack_note.setAccessibleName("Note with the acknowledgement")
        self.ack_note.setPlaceholderText("Note (what was done; required while awaiting discharge)")
        self.ack_note.returnPressed.connect(self.acknowledge_alerts)
        box = QHBoxLayout(self.alert_banner)
        box.setContentsMargins(12, 8, 12, 8)
        text = QVBoxLayout()
        text.addWidget(self.alert_title)
        text.addWidget(self.alert_text)
        box.addLayout(text, 1)
        box.addWidget(self.ack_note)
        box.addWidget(self.ack_button)
        self.alert_banner.hide()
        self.ack_message = self._label("ackMessage")
        text.addWidget(self.ack_message)
        self.ack_message.hide()

        self.locked_banner = self._label("lockedBanner", LOCKED_TEXT)
        self.locked_banner.setWordWrap(True)
        set_flag(self.locked_banner, "banner")
        self.locked_banner.hide()
        self.connection_banner = self._label("connectionBanner")
        self.connection_banner.setWordWrap(True)
        set_flag(self.connection_banner, "banner")
        set_severity(self.connection_banner, "danger")
        self.connection_banner.hide()

        self.read_only_banner = QFrame()
        self.read_only_banner.setObjectName("readOnlyBanner")
        self.read_only_label = self._label("readOnlyText", READ_ONLY_TEXT)
        self.read_only_label.setWordWrap(True)
        self.back_button = self._button("backToBoardButton", f"Back to board ({key_text(Act.BACK)})",
                                        tip(Act.BACK), self.back_requested.emit)
        row = QHBoxLayout(self.read_only_banner)
        row.setContentsMargins(12, 6, 12, 6)
        row.addWidget(self.read_only_label, 1)
        row.addWidget(self.back_button)
        self.read_only_banner.hide()

    def _install_shortcuts(self) -> None:
        actions: dict[Act, Callable[[], object]] = {
            Act.OBSERVATION: self.focus_observation,
            Act.INTEGRATION: self.observation.toggle_integration,
            Act.VITALS: self.vitals.fill_from_device,
            Act.SIDE_EFFECT: lambda: self.side_effects.open_dialog(),
            Act.RESOLVE: self.side_effects.resolve_selected,
            Act.MEDICATION: lambda: self.open_medication(self.side_effects._selected_id()),
            Act.SCALES: self.scales.focus,
            Act.ACKNOWLEDGE: self.acknowledge_alerts,
            Act.DOSE: self._on_dose_key,
            Act.DISCHARGE: self._on_discharge_key,
            Act.END_EARLY: self.open_end_early,
            Act.TIMELINE: self.timeline.table.setFocus,
            Act.REMS: self.open_rems,
        }
        sequences = []
        for act, slot in actions.items():
            sequences.append(QKeySequence(keys(act)))
            shortcut(self, act, slot)
        # Not in the filter: Esc keeps its meaning in an input everywhere but in read-only mode.
        shortcut(self, Act.BACK, self._on_back_key)
        self._shortcut_filter = _ShortcutsWin(sequences, self)
        for w in self.findChildren(QWidget):
            w.installEventFilter(self._shortcut_filter)

    def _on_back_key(self) -> None:
        if self._read_only:
            self.back_requested.emit()

    def _on_dose_key(self) -> None:
        if self.booster_button.isEnabled():
            self.dose_requested.emit()

    def _on_discharge_key(self) -> None:
        if self.discharge_button.isEnabled():
            self.discharge_requested.emit()

    # ----- public API ----------------------------------------------------------------------------------
    @property
    def read_only(self) -> bool:
        return self._read_only

    def set_read_only(self, on: bool) -> None:
        """Show the record without quick entry, amendments or acknowledgements (opened from the board).

        The header, chart and timeline stay; the discharge dialog (Ctrl+Shift+D) stays available, so a
        supervisor can assess and sign from here.
        """
        self._read_only = on
        self.read_only_banner.setVisible(on)
        self.timeline.amend_button.setVisible(not on)
        if self.record is not None:
            self._on_record_changed(self.record)
        else:
            self.entry_scroll.setVisible(not on)

    def set_night(self, night: bool) -> None:
        changed = night != self._night or not self.styleSheet()
        self._night = night
        if self.property("themedSubtree"):  # the main window's screen: the theme and this screen's own rules
            theme.style_subtree(self, night, session_stylesheet(night))
        elif changed:
            self.setStyleSheet(session_stylesheet(night))
        if not changed:
            return
        self.chart.set_night(night)
        self.timeline.set_night(night)
        self.side_effects.set_columns(3 if night else 5)
        if self.isVisible():
            self._fit_entry_column()
            # Again once the new type has reached every input (the column is then as wide as they need).
            QTimer.singleShot(0, self._fit_entry_column)

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        self._fit_entry_column()
        if self.record is not None:
            self.device_feed.open(self.record.info.id, self.record.info.room)

    def hideEvent(self, event: QHideEvent) -> None:  # noqa: N802 (Qt override)
        super().hideEvent(event)
        self.device_feed.pause()

    def _fit_entry_column(self) -> None:
        """Give the quick-entry column the width its inputs need (type is larger at night)."""
        self.quick_entry.ensurePolished()
        self.client_label.ensurePolished()
        self.client_label.setMinimumWidth(self.client_label.minimumSizeHint().width())
        need = self.quick_entry.minimumSizeHint().width() + self.entry_scroll.verticalScrollBar().sizeHint().width() + 6
        total = sum(self.splitter.sizes()) or self.width()
        self.entry_scroll.setMinimumWidth(need)
        self.splitter.setSizes([max(200, total - need), need])

    def focus_observation(self) -> None:
        if self.entry_scroll.isHidden():  # locked or read-only: the keyboard goes to the timeline
            self.timeline.table.setFocus()
        else:
            self.observation.text.setFocus()

    def open_medication(self, side_effect_id: int | None = None) -> RescueDialog | None:
        """The rescue-medication dialog (Ctrl+Shift+M), linked to ``side_effect_id`` when one is chosen."""
        record = self.record
        if record is None or record.locked or self._read_only or not self.entry_scroll.isVisible():
            return None
        dialog = RescueDialog(self.state, self.controller, self, side_effect_id=side_effect_id)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.saved.connect(lambda text: set_message(self.side_effects.message, text, "ok"))
        dialog.open()
        return dialog

    def open_closing_note(self) -> ClosingNoteDialog | None:
        if not self.closing_note_button.isEnabled():
            return None
        dialog = ClosingNoteDialog(self.controller, self)
        dialog.open()
        return dialog

    def open_end_early(self) -> EndEarlyDialog | None:
        if not self.end_early_button.isEnabled():
            return None
        dialog = EndEarlyDialog(self.controller, self)
        dialog.open()
        return dialog

    def end_infusion(self) -> None:
        record = self.record
        if record is None or not record.running_infusions or self._read_only:
            return
        sid, dose_id = record.info.id, record.running_infusions[0].id
        self.end_infusion_button.setEnabled(False)

        def done(_entry: object) -> None:
            self.end_infusion_button.setEnabled(True)

        def failed(exc: Exception) -> None:
            self.end_infusion_button.setEnabled(True)
            set_message(self.ack_message, f"Infusion end not recorded — {exc}", "danger")

        self.controller.perform(lambda services, actor: services.records.end_infusion(actor, sid, dose_id),
                                done, failed)

    def open_attestation(self) -> SignatureDialog | None:
        record, actor = self.record, self.state.actor
        if record is None or actor is None or not record.info.needs_attestation:
            return None
        info = record.info
        disposition = next((e.payload.get("disposition", "") for e in reversed(record.entries)
                            if e.kind is EntryKind.STATE and e.payload.get("to") == SessionState.ENDED_EARLY.value), "")
        where = Disposition(disposition).label if disposition else "not recorded"
        what = (f"Session {info.id}, {info.client.name} ({info.client.identifier}), ended early: {info.end_reason}. "
                f"Disposition: {where}. Entries #1–#{info.entry_count}.")
        now = self._now().astimezone()
        dialog = SignatureDialog(actor.name, now.strftime("%Y-%m-%d %H:%M"), what, self,
                                 meaning_text=ATTESTATION_MEANING, title="Attest the session ended early")
        head = info.chain_head

        def attest(password: str) -> None:
            def done(_entry: object) -> None:
                dialog.accept()

            self.controller.perform(
                lambda services, a: services.records.attest_end_early(
                    a, info.id, password=password, seen_chain_head=head,
                    disposition=disposition or Disposition.TRANSFERRED.value),
                done, lambda exc: dialog.show_message(str(exc)))

        dialog.sign_requested.connect(attest)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.open()
        return dialog

    def open_rems(self) -> QWidget | None:
        """The esketamine REMS answers and monitoring form (an intranasal session only)."""
        if self.record is None or self.record.info.route is not Route.INTRANASAL or self._read_only:
            return None
        from kapconsole.ui.checklist.rems_dialog import RemsDialog

        dialog = RemsDialog(self.state, self.controller, self)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.open()
        return dialog

    def acknowledge_alerts(self) -> None:
        record = self.record
        if record is None or record.locked or self._read_only or not self.ack_button.isEnabled():
            return
        groups: dict[int, list[str]] = {}
        for reading, alert in record.unacknowledged_alerts():
            groups.setdefault(reading.id, []).append(alert.measure)
        if not groups:
            return
        sid = record.info.id
        note = self.ack_note.text()
        if record.info.state is SessionState.DISCHARGE and not note.strip():
            set_message(self.ack_message, "While the client awaits discharge, say what was done about the alert "
                        "in the note, then acknowledge.", "warning")
            self.ack_note.setFocus()
            return
        self.ack_button.setEnabled(False)

        def work(services: Services, actor: Actor) -> list[Entry]:
            return [services.records.acknowledge_alert(actor, sid, rid, measures, note=note)
                    for rid, measures in groups.items()]

        def done(entries: list[Entry]) -> None:
            self.ack_button.setEnabled(True)
            self.ack_note.clear()
            actor = self.state.actor
            who = actor.name if actor else ""
            set_message(self.ack_message, f"Acknowledged by {who} at {local_time(self._now())}", "ok")

        def failed(exc: Exception) -> None:
            self.ack_button.setEnabled(True)
            set_message(self.ack_message, f"Not recorded — {exc}", "danger")

        self.controller.perform(work, done, failed, receiver=self)

    # ----- rendering -----------------------------------------------------------------------------------
    def _now(self) -> datetime:
        return self.state.services.records.now()

    def _on_changed(self, change: RecordChange) -> None:
        """Update what the change touches: rows and points are appended, the rest re-derived from the record."""
        if change.replaced or self.record is not change.record:
            self._on_record_changed(change.record)
            return
        record = change.record
        kinds = change.kinds()
        # The header's buttons follow more than the state (a running infusion, the closing note, an attestation).
        self._render_state(record)
        if change.state_changed:
            self.device.set_record(record)
        amended = EntryKind.AMENDMENT in kinds
        if kinds & _ALERTING or amended:
            self._render_alerts(record)
        if EntryKind.VITALS in kinds or amended:
            self.vitals.set_record(record)
        if EntryKind.SCALE in kinds or amended:
            self.scales.set_record(record)
        if kinds & _SIDE_EFFECTS or amended:
            self.side_effects.set_record(record)
        self.chart.apply(record, change.appended)
        self.timeline.apply(record, change.appended)
        self._render_header()

    def _on_record_changed(self, record: SessionRecord) -> None:
        self._render_state(record)
        self._render_alerts(record)
        self.vitals.set_record(record)
        self.scales.set_record(record)
        self.side_effects.set_record(record)
        self.chart.set_record(record)
        self.timeline.set_record(record)
        self.device.set_record(record)
        self._render_header()

    def _render_state(self, record: SessionRecord) -> None:
        self.record = record
        info = record.info
        self.client_label.setText(f"{info.client.name}  ({info.client.identifier})")
        self.course_label.setText(info.course_label.capitalize())
        self.state_label.setText(f" · {info.state.label}")
        locked = record.locked
        editable = not locked and not self._read_only
        self.quick_entry.setEnabled(editable)
        # A locked or read-only record takes no new entries: its screen space goes to the chart and timeline.
        self.entry_scroll.setVisible(editable)
        ended_text = ENDED_TEXT
        if info.needs_attestation:
            ended_text = ("Ended early after a dose — a physician's attestation is due (Attest…). " + ENDED_TEXT)
        self.locked_banner.setText(ended_text if info.state is SessionState.ENDED_EARLY else LOCKED_TEXT)
        actor = self.state.actor
        self.attest_button.setVisible(info.needs_attestation and actor is not None
                                      and may(actor.roles, Action.SIGN_DISCHARGE))
        self.end_infusion_button.setVisible(editable and bool(record.running_infusions))
        self.locked_banner.setVisible(locked and not self._read_only)
        live = editable and info.state in (SessionState.MONITORING, SessionState.DISCHARGE)
        nasal = info.route is Route.INTRANASAL
        if nasal:
            devices = esketamine.device_status(record)
            self.booster_button.setText("Next device…")
            self.booster_button.setToolTip("Record the next esketamine device, 5 minutes after the previous one "
                                           "(Ctrl+D)")
            live = live and not devices.complete
        else:
            self.booster_button.setText("Booster…")
            self.booster_button.setToolTip("Record a booster dose (Ctrl+D)")
        self.booster_button.setEnabled(live)
        self.booster_button.setVisible(not self._read_only)
        self.rems_button.setVisible(nasal and not self._read_only)
        self.discharge_button.setEnabled(info.state in (SessionState.MONITORING, SessionState.DISCHARGE))
        self.end_early_button.setEnabled(editable)
        for panel in (self.vitals, self.observation, self.scales, self.side_effects):
            panel.follow(record)
        if self._ack_session != info.id:
            self._ack_session = info.id
            self.ack_message.hide()
        writes_note = actor is not None and may(actor.roles, Action.WRITE_CLOSING_NOTE)
        self.closing_note_button.setVisible(writes_note)
        self.closing_note_button.setEnabled(editable and writes_note and record.closing_note is None
                                            and info.state in (SessionState.MONITORING, SessionState.DISCHARGE))
        self.closing_note_button.setToolTip(
            "Written: correct it from the timeline (Amend)" if record.closing_note is not None else
            "The therapist's note at departure: state, words, themes, suggestions for integration")

    def _render_alerts(self, record: SessionRecord) -> None:
        pending = record.unacknowledged_alerts()
        if not pending:
            self.alert_banner.hide()
            return
        # One line per alert episode: a persistent condition is one alert, with its worst value and duration.
        now = self._now()
        episodes = record.unacknowledged_episodes()
        lines = []
        for episode in episodes[-6:]:
            span = "" if episode.readings == 1 else (
                f" · {episode.readings} readings over {clock_text(episode.duration(now), hours=False)}")
            lines.append(f"since {local_time(episode.started_at)}  worst: {episode.worst_message}{span}"
                         + ("" if episode.ended_at is None else " (back in range)"))
        if len(episodes) > 6:
            lines.insert(0, f"… and {len(episodes) - 6} earlier")
        readings = len({reading.id for reading, _ in pending})
        if record.locked:  # history, not a call to act: no red, no button
            self.alert_title.setText(f"{len(pending)} alerts were not acknowledged before the record was locked")
        else:
            # Read-only: still red (it is live), but acknowledging is for the room: no button here.
            self.alert_title.setText(f"⚠ ALERT — {len(pending)} not acknowledged"
                                     + (f" ({readings} readings)" if readings > 1 else "")
                                     + (" in the room" if self._read_only else ""))
        set_severity(self.alert_banner, "warning" if record.locked else "danger")
        self.alert_text.setText("\n".join(lines))
        can_ack = not record.locked and not self._read_only
        self.ack_note.setVisible(can_ack)
        self.ack_button.setVisible(can_ack)
        self.ack_button.setEnabled(can_ack)
        self.ack_message.hide()
        self.alert_banner.show()

    def _on_integrity(self, problem: str) -> None:
        """The record's verification, in the header: quiet when it holds, unmissable when it does not."""
        set_severity(self.integrity_label, "danger" if problem else "")
        self.integrity_label.setText(f"⚠ INTEGRITY FAILURE — {problem}" if problem else "✓ Record verified")

    def _on_tick(self) -> None:
        self._render_header()
        self.device.tick(self._now())

    def _render_header(self) -> None:
        record = self.record
        if record is None:
            for label in (self.since_dose_label, self.vitals_due_label, self.discharge_label):
                label.setText("")
            return
        closed = record.info.state.is_closed
        now = record.info.ended_at if closed and record.info.ended_at else self._now()
        self.chart.set_now(now)
        first = record.first_dose_at
        self.since_dose_label.setText(
            "No dose yet" if first is None else f"Since first dose\n{clock_text(now - first)}")
        due = record.next_vitals_due()
        if due is None:
            set_severity(self.vitals_due_label, "")
            self.vitals_due_label.setText("" if closed else "Vitals: baseline before dosing")
        elif now > due:
            set_severity(self.vitals_due_label, "warning")
            self.vitals_due_label.setText(f"⚠ Vitals OVERDUE\nby {clock_text(now - due, hours=False)}")
        else:
            set_severity(self.vitals_due_label, "")
            self.vitals_due_label.setText(f"Next vitals due in\n{clock_text(due - now, hours=False)}")
        self._render_device_timer(record, now, closed)
        allowed_at = record.earliest_discharge_at
        if allowed_at is None or closed:
            self.discharge_label.setText("")
        else:
            minutes = record.protocol.discharge.min_observation_minutes
            left = allowed_at - now
            if left.total_seconds() > 0:
                self.discharge_label.setText(f"Earliest discharge in\n{clock_text(left)}")
            else:
                self.discharge_label.setText(f"Minimum observation\nmet ({minutes} min)")

    def _render_device_timer(self, record: SessionRecord, now: datetime, closed: bool) -> None:
        """Esketamine: the 5-minute rest between devices, counted down, until every device is given."""
        if record.info.route is not Route.INTRANASAL or closed:
            self.device_label.hide()
            return
        status = esketamine.device_status(record)
        if status.given == 0 or status.complete:
            self.device_label.setVisible(status.given > 0)
            self.device_label.setText(f"Devices\n{status.given} of {status.planned} given")
            set_severity(self.device_label, "")
            return
        wait = status.wait(now)
        number = status.given + 1
        if wait.total_seconds() > 0:
            self.device_label.setText(f"Device {number} of {status.planned} in\n{clock_text(wait, hours=False)}")
            set_severity(self.device_label, "")
        else:
            self.device_label.setText(f"Device {number} of {status.planned}\nmay be given now (Ctrl+D)")
            set_severity(self.device_label, "ok")
        self.device_label.show()

    def _on_connection_changed(self, connected: bool, message: str) -> None:
        text = "" if connected else (f"⚠ NOT SAVED — the database cannot be written ({message}). What you typed "
                                     f"stays in the fields: save it again when this banner is gone.")
        self.connection_banner.setText(text)
        self.connection_banner.setVisible(not connected)

    def _on_amend_requested(self, row: TimelineRow) -> None:
        if self._read_only:
            return
        dialog = AmendDialog(row, self.controller, self)
        dialog.open()
