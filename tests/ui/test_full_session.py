"""A whole session driven through the console as staff would, then every entry found in a reopened database."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QLineEdit, QListWidget, QPlainTextEdit, QPushButton, QWidget

from kapconsole.domain.enums import EntryKind, SessionState, Severity
from kapconsole.domain.gates import BlockerKind
from kapconsole.services import Services
from kapconsole.ui.session.amend_dialog import AmendDialog
from kapconsole.ui.session.dose_dialog import DoseDialog
from kapconsole.ui.session.session_view import SessionView
from kapconsole.ui.session.side_effect_dialog import SideEffectDialog
from kapconsole.ui.shell.main_window import MainWindow
from kapconsole.ui.shell.sign_in import SignInDialog
from tests.conftest import PASSWORD, FakeClock, make_staff
from tests.ui.shell_support import (
    OFFSCREEN_SIZE_HINTS,
    close_window,
    isolated_settings,  # noqa: F401 (fixture)
    make_window,
    plan,
    sign_in,
    visible_texts,
    wait_idle,
)

pytestmark = [pytest.mark.usefixtures("isolated_settings"), OFFSCREEN_SIZE_HINTS]


def child(root: QWidget, cls: type, name: str):  # noqa: ANN201 - the widget found
    found = root.findChild(cls, name)
    assert found is not None, name
    return found


def shown(qtbot, window: MainWindow, predicate) -> None:  # type: ignore[no-untyped-def]
    """Wait until the open record satisfies ``predicate`` (the screen is built from that record)."""
    qtbot.waitUntil(lambda: window.controller.record is not None and bool(predicate(window.controller.record)),
                    timeout=10000)
    wait_idle(qtbot, window)
    # The offscreen platform does not hand activation back to the window when a dialog closes (a window
    # manager does); screen shortcuts need an active window.
    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow, timeout=2000)


def baseline(qtbot, window: MainWindow, sbp: str, dbp: str) -> None:  # type: ignore[no-untyped-def]
    view = window.checklist
    for key, value in (("sbp", sbp), ("dbp", dbp), ("hr", "74"), ("spo2", "98"), ("rr", "14")):
        qtbot.keyClicks(view.vitals[key], value)
    qtbot.keyClick(view.vitals["rr"], Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: view.vitals["sbp"].text() == "", timeout=10000)
    wait_idle(qtbot, window)


def type_vitals(qtbot, view: SessionView, **values: object) -> None:  # type: ignore[no-untyped-def]
    for key, value in values.items():
        field = child(view, QLineEdit, f"vitals_{key}")
        field.clear()
        qtbot.keyClicks(field, str(value))
    qtbot.keyClick(child(view, QLineEdit, f"vitals_{next(iter(values))}"), Qt.Key.Key_Return)


def record_dose(qtbot, window: MainWindow, amount: str | None = None) -> None:  # type: ignore[no-untyped-def]
    dialog = window.findChild(DoseDialog)
    assert dialog is not None and dialog.isVisible()
    qtbot.waitUntil(lambda: dialog.ordered_by.currentData() is not None, timeout=10000)
    if amount is not None:
        dialog.amount.clear()
        qtbot.keyClicks(dialog.amount, amount)
    if dialog.lot.text() != "K-2291":  # a booster starts with the lot of the previous dose
        qtbot.keyClicks(dialog.lot, "K-2291")
    with qtbot.waitSignal(dialog.finished, timeout=10000):
        qtbot.keyClick(dialog.amount, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)


def test_a_whole_session_at_the_console(qtbot, tmp_path: Path, clock: FakeClock) -> None:
    url = f"sqlite:///{tmp_path / 'clinic.db'}"
    services = Services.open(url, clock=clock)
    staff = make_staff(services)
    sid = plan(services, staff["therapist"], when=clock.now + timedelta(minutes=10), name="Mara Quinn",
               identifier="KAP-7001")
    window = make_window(qtbot, services)

    # --- sign in and start the planned session from Today --------------------------------------------------
    sign_in(qtbot, window, "nina", PASSWORD)
    qtbot.waitUntil(lambda: window.today.model.rowCount() == 1, timeout=10000)
    qtbot.keyClick(window.today.table, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: window.stack.currentWidget() is window.checklist, timeout=10000)
    shown(qtbot, window, lambda r: r.info.state is SessionState.CHECKLIST)
    checklist = window.checklist

    # --- checklist: every required item with Space, the intention -------------------------------------------
    # Baseline vitals and the intention are answered by the record: ticked once they exist (below).
    from_record = ("baseline_vitals", "intention")
    required = [i.key for i in window.controller.record.protocol.checklist if i.required]
    for key in required:
        if key in from_record:
            assert not checklist._boxes[key].isEnabled()
            continue
        box = checklist._boxes[key]
        box.setFocus()
        qtbot.keyClick(box, Qt.Key.Key_Space)
    shown(qtbot, window, lambda r: set(r.checklist_missing()) <= {"Intention recorded",
                                                                  "Baseline vitals taken and within the pre-dose range"})
    checklist.intention.setFocus()
    qtbot.keyClicks(checklist.intention, "To let go of the need to be perfect")
    qtbot.mouseClick(checklist.intention_button, Qt.MouseButton.LeftButton)
    shown(qtbot, window, lambda r: r.intention != "")

    # --- blocked, then allowed -------------------------------------------------------------------------------
    baseline(qtbot, window, "150", "95")
    shown(qtbot, window, lambda r: any(b.kind is BlockerKind.PREDOSE_HOLD for b in r.dosing_blockers()))
    assert not checklist.dose_button.isEnabled()
    qtbot.keyClick(checklist.intention, Qt.Key.Key_D, Qt.KeyboardModifier.ControlModifier)
    assert window.findChild(DoseDialog) is None  # Ctrl+D does nothing while dosing is blocked
    clock.advance(minutes=5)
    baseline(qtbot, window, "134", "86")
    for key in from_record:
        qtbot.waitUntil(checklist._boxes[key].isEnabled, timeout=10000)
        checklist._boxes[key].setFocus()
        qtbot.keyClick(checklist._boxes[key], Qt.Key.Key_Space)
    qtbot.waitUntil(checklist.dose_button.isEnabled, timeout=10000)
    clock.advance(minutes=2)
    qtbot.keyClick(checklist.intention, Qt.Key.Key_D, Qt.KeyboardModifier.ControlModifier)
    record_dose(qtbot, window)
    qtbot.waitUntil(lambda: isinstance(window.stack.currentWidget(), SessionView), timeout=10000)
    view: SessionView = window.stack.currentWidget()
    shown(qtbot, window, lambda r: r.info.state is SessionState.MONITORING)
    qtbot.waitUntil(lambda: view.record is not None and view.record.info.state is SessionState.MONITORING)
    assert view.isAncestorOf(window.focusWidget())  # the keyboard followed the screen change

    # --- vitals: one refused, one saved and flagged, the alert acknowledged ----------------------------------
    clock.advance(minutes=15)
    type_vitals(qtbot, view, sbp=400, dbp=80)
    message = child(view, QLabel, "vitalsMessage")
    qtbot.waitUntil(lambda: message.isVisible() and "Not saved" in message.text(), timeout=10000)
    assert child(view, QLineEdit, "vitals_sbp").text() == "400"
    type_vitals(qtbot, view, sbp=186, dbp=96, hr=88, spo2=97)
    shown(qtbot, window, lambda r: len(r.vitals) == 3)
    qtbot.waitUntil(view.alert_banner.isVisible, timeout=10000)
    assert "Systolic BP 186 mmHg ≥ 180" in child(view, QLabel, "alertText").text()
    qtbot.keyClick(child(view, QLineEdit, "vitals_sbp"), Qt.Key.Key_K, Qt.KeyboardModifier.ControlModifier)
    shown(qtbot, window, lambda r: not r.unacknowledged_alerts())

    # --- a side effect and its resolution --------------------------------------------------------------------
    clock.advance(minutes=3)
    qtbot.mouseClick(child(view, QPushButton, "sideEffect_nausea"), Qt.MouseButton.LeftButton)
    effect_dialog = view.findChild(SideEffectDialog)
    assert effect_dialog is not None
    effect_dialog.set_severity(Severity.MODERATE)
    qtbot.keyClicks(effect_dialog.intervention, "ondansetron 4 mg ODT")
    qtbot.mouseClick(effect_dialog.save_button, Qt.MouseButton.LeftButton)
    shown(qtbot, window, lambda r: len(r.side_effects) == 1)
    clock.advance(minutes=10)
    unresolved = child(view, QListWidget, "unresolvedList")
    qtbot.waitUntil(lambda: unresolved.count() == 1, timeout=10000)
    unresolved.setCurrentRow(0)
    qtbot.mouseClick(child(view, QPushButton, "resolveButton"), Qt.MouseButton.LeftButton)
    shown(qtbot, window, lambda r: not r.unresolved_side_effects())

    # --- an observation, then an amendment of it -------------------------------------------------------------
    text = child(view, QLineEdit, "observationText")
    qtbot.keyClick(view, Qt.Key.Key_O, Qt.KeyboardModifier.ControlModifier)  # Ctrl+O: to the observation line
    assert text.hasFocus()
    qtbot.keyClicks(text, "Resting, eyes closed, breathing slow")
    qtbot.keyClick(text, Qt.Key.Key_Return)
    shown(qtbot, window, lambda r: any("breathing slow" in o.payload["text"] for o in r.observations))
    note = next(o for o in window.controller.record.observations if "breathing slow" in o.payload["text"])
    qtbot.waitUntil(lambda: view.timeline.select_entry(note.id), timeout=10000)
    qtbot.mouseClick(view.timeline.amend_button, Qt.MouseButton.LeftButton)
    amend = view.findChild(AmendDialog)
    assert amend is not None
    corrected = amend.findChild(QPlainTextEdit, "amend_text")
    corrected.setPlainText("Resting, eyes closed, breathing slow and even")
    qtbot.keyClicks(amend.reason, "incomplete note")
    qtbot.mouseClick(amend.save_button, Qt.MouseButton.LeftButton)
    shown(qtbot, window, lambda r: bool(r.amendments_of(note.id)))

    # --- switch user: the therapist's note carries the therapist's name --------------------------------------
    qtbot.keyClick(text, Qt.Key.Key_U, Qt.KeyboardModifier.ControlModifier)
    switch = window.findChild(SignInDialog)
    assert switch is not None
    qtbot.keyClicks(switch.form.login, "theo")
    qtbot.keyClicks(switch.form.password, PASSWORD)
    with qtbot.waitSignal(window.state.actor_changed, timeout=10000):
        qtbot.keyClick(switch.form.password, Qt.Key.Key_Return)
    assert window.stack.currentWidget() is view
    qtbot.keyClicks(text, "Client: \"I am not the storm\"")
    qtbot.keyClick(text, Qt.Key.Key_Return)
    shown(qtbot, window, lambda r: any("storm" in o.payload["text"] for o in r.observations))

    # --- lock: nothing about the client is on screen; the nurse unlocks and gives a booster ------------------
    qtbot.keyClick(text, Qt.Key.Key_L, Qt.KeyboardModifier.ControlModifier)
    assert window.locked
    texts = visible_texts(window)
    assert not any("Mara" in t or "Quinn" in t or "KAP-7001" in t or "storm" in t for t in texts), texts
    sign_in(qtbot, window, "nina", PASSWORD)
    assert window.stack.currentWidget() is view
    clock.advance(minutes=20)
    # The latest BP (186/96) is above the pre-dose hold: the booster is refused, with the way forward shown.
    qtbot.mouseClick(child(view, QPushButton, "boosterButton"), Qt.MouseButton.LeftButton)
    dialog = window.findChild(DoseDialog)
    assert dialog is not None
    qtbot.waitUntil(lambda: dialog.ordered_by.currentData() is not None, timeout=10000)
    dialog.amount.clear()
    qtbot.keyClicks(dialog.amount, "50")
    qtbot.keyClick(dialog.amount, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(dialog.blocker_list.isVisible, timeout=10000)
    assert "pre-dose hold: Systolic BP 186" in dialog.blocker_list.lines.text()
    assert "take a new reading" in dialog.blocker_list.lines.text()
    with qtbot.waitSignal(dialog.finished, timeout=10000):
        dialog.reject()
    type_vitals(qtbot, view, sbp=132, dbp=84, hr=80, spo2=98)
    shown(qtbot, window, lambda r: len(r.vitals) == 4)
    clock.advance(minutes=1)
    qtbot.mouseClick(child(view, QPushButton, "boosterButton"), Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: len(window.findChildren(DoseDialog)) == 1 and window.findChild(DoseDialog).isVisible(),
                    timeout=10000)
    record_dose(qtbot, window, amount="50")
    shown(qtbot, window, lambda r: len(r.administrations) == 2)
    close_window(qtbot, window)
    services.close()

    # --- a new process on the same database finds every entry ------------------------------------------------
    reopened = Services.open(url, clock=clock)
    record = reopened.records.record(None, sid)
    assert record.info.state is SessionState.MONITORING
    confirmed = record.checklist_confirmed
    assert set(required) <= set(confirmed)
    assert {c.entry.author_name for c in confirmed.values()} == {"Nina Nurse"}
    assert record.intention == "To let go of the need to be perfect"
    assert [(v.payload.get("sbp"), v.payload.get("dbp")) for v in record.vitals] == [(150, 95), (134, 86), (186, 96), (132, 84)]
    assert [a.payload["dose"] for a in record.administrations] == [100, 50]
    assert all(a.payload["lot"] == "K-2291" and a.payload["given_by_name"] == "Nina Nurse"
               for a in record.administrations)
    assert record.current(EntryKind.ALERT_ACK)[0].payload["measures"] == ["sbp"]
    (effect,) = record.side_effects
    assert effect.payload["severity"] == "moderate" and effect.id in record.resolutions
    amended = next(o for o in record.observations if o.id == note.id)
    assert amended.amended and amended.payload["text"].endswith("slow and even")
    assert record.amendments_of(note.id)[0].payload["reason"] == "incomplete note"
    storm = next(o for o in record.observations if "storm" in o.payload["text"])
    assert storm.entry.author_name == "Theo Therapist"
    assert reopened.integrity.verify(sid).ok
    reopened.close()
