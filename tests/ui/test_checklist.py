"""Pre-session checklist and the dose dialog, driven as staff would."""

from __future__ import annotations

from datetime import timedelta

import pytest
from PySide6.QtCore import Qt

from kapconsole.domain.enums import EntryKind, Route, SessionState
from kapconsole.services import Services
from kapconsole.ui.checklist.checklist_view import OverrideDialog, WithdrawDialog
from kapconsole.ui.session.dose_dialog import DoseDialog
from kapconsole.ui.shell.main_window import MainWindow
from tests.conftest import PASSWORD, make_staff
from tests.data.rems_helpers import PREDOSE_ANSWERS
from tests.ui.shell_support import (
    OFFSCREEN_SIZE_HINTS,
    close_window,
    confirm_all,
    isolated_settings,  # noqa: F401 (fixture)
    make_window,
    plan,
    sign_in,
    wait_idle,
)

pytestmark = [pytest.mark.usefixtures("isolated_settings"), OFFSCREEN_SIZE_HINTS]


def _started(qtbot, services: Services, clock, *, login: str = "nina", route: Route = Route.SUBLINGUAL,  # type: ignore[no-untyped-def]
             dose: float = 100):
    staff = make_staff(services)
    sid = plan(services, staff["therapist"], when=clock.now, route=route, dose=dose)
    services.records.start_session(staff["medical"], sid)
    window = make_window(qtbot, services)
    sign_in(qtbot, window, login, PASSWORD)
    qtbot.waitUntil(lambda: window.today.model.rowCount() == 1, timeout=10000)
    qtbot.keyClick(window.today.table, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: window.stack.currentWidget() is window.checklist, timeout=10000)
    qtbot.waitUntil(lambda: window.checklist._session_id == sid, timeout=10000)
    return window, staff, sid


def _enter_baseline(qtbot, window: MainWindow, sbp: str, dbp: str, spo2: str) -> None:  # type: ignore[no-untyped-def]
    view = window.checklist
    for key, value in (("sbp", sbp), ("dbp", dbp), ("hr", "72"), ("spo2", spo2)):
        qtbot.keyClicks(view.vitals[key], value)
    qtbot.keyClick(view.vitals["spo2"], Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: view.vitals["sbp"].text() == "", timeout=10000)
    wait_idle(qtbot, window)


def test_record_dose_stays_disabled_until_checklist_and_baseline_allow_it(qtbot, sqlite_services, clock) -> None:
    window, _staff, sid = _started(qtbot, sqlite_services, clock)
    view = window.checklist
    assert not view.dose_button.isEnabled()
    assert "required checklist items not confirmed (Identity confirmed" in view.blockers.text()
    assert "no baseline vitals recorded" in view.blockers.text()
    record = window.controller.record
    assert record is not None
    required = [i.key for i in record.protocol.checklist if i.required]
    optional = [i.key for i in record.protocol.checklist if not i.required]
    assert optional and "(optional)" in view._labels[optional[0]].text()
    # The record answers these two: they cannot be ticked before the reading and the intention exist.
    from_record = ("baseline_vitals", "intention")
    for key in from_record:
        assert not view._boxes[key].isEnabled() and not view._boxes[key].isChecked()
    assert "From the record: No intention recorded yet" in view._who["intention"].text()
    # Every other required item, with the keyboard: focus the box, Space.
    for key in required:
        if key in from_record:
            continue
        box = view._boxes[key]
        box.setFocus()
        qtbot.keyClick(box, Qt.Key.Key_Space)
    others = [k for k in required if k not in from_record]
    qtbot.waitUntil(lambda: all("Nina Nurse" in view._who[k].text() for k in others), timeout=20000)
    # Confirmed items stay in the tab order (unticking one before dosing withdraws it, with a reason).
    assert view._boxes["identity"].isEnabled() and view._boxes["identity"].isChecked()
    assert "2 required checklist items not confirmed (Intention recorded; Baseline vitals" in view.blockers.text()
    assert not view.dose_button.isEnabled()

    _enter_baseline(qtbot, window, "150", "95", "98")
    qtbot.waitUntil(lambda: "pre-dose hold" in view.blockers.text(), timeout=10000)
    assert "Systolic BP 150 mmHg > 140" in view.blockers.text()
    assert "Diastolic BP 95 mmHg > 90" in view.blockers.text()
    assert view.blockers.property("severity") == "danger"
    assert not view.dose_button.isEnabled()
    assert view.override_button.isEnabled()

    assert not view._boxes["baseline_vitals"].isEnabled()  # a reading on hold does not satisfy the item
    assert "pre-dose hold" in view._who["baseline_vitals"].text()

    _enter_baseline(qtbot, window, "132", "84", "97")
    qtbot.waitUntil(lambda: view._boxes["baseline_vitals"].isEnabled(), timeout=10000)
    assert "From the record: Within the pre-dose range" in view._who["baseline_vitals"].text()
    assert "BP 132/84" in view.baseline_shown.text()
    # The intention, typed and saved with its shortcut.
    view.intention.setFocus()
    qtbot.keyClicks(view.intention, "To meet my grief with kindness")
    qtbot.keyClick(view.intention, Qt.Key.Key_I, Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier)
    qtbot.waitUntil(lambda: "grief" in view.intention_shown.text(), timeout=10000)
    assert sqlite_services.records.record(None, sid).intention == "To meet my grief with kindness"
    qtbot.waitUntil(lambda: view._boxes["intention"].isEnabled(), timeout=10000)
    for key in from_record:
        view._boxes[key].setFocus()
        qtbot.keyClick(view._boxes[key], Qt.Key.Key_Space)
    qtbot.waitUntil(lambda: view.dose_button.isEnabled(), timeout=10000)
    assert view.blockers.text().startswith("Ready")
    close_window(qtbot, window)


def test_supervisor_override_wrong_then_right_password(qtbot, sqlite_services, clock) -> None:
    window, _staff, sid = _started(qtbot, sqlite_services, clock)
    view = window.checklist
    assert view.override_button.isEnabled() and not view.dose_button.isEnabled()
    qtbot.keyClick(view, Qt.Key.Key_O, Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier)
    dialog = view.findChild(OverrideDialog)
    assert dialog is not None and dialog.isVisible()
    assert dialog.login.text() == ""  # Nina is not a supervisor: a supervisor signs with their own login
    qtbot.keyClicks(dialog.reason, "Anxious client; BP cuff re-check done by prescriber")
    qtbot.keyClicks(dialog.login, "sam")
    qtbot.keyClicks(dialog.password, "not-the-password")
    qtbot.mouseClick(dialog.confirm, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: dialog.message.isVisible(), timeout=10000)
    assert "wrong" in dialog.message.text()
    assert not view.dose_button.isEnabled()
    qtbot.keyClicks(dialog.password, PASSWORD)
    with qtbot.waitSignal(dialog.finished, timeout=10000):
        qtbot.keyClick(dialog.password, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: view.dose_button.isEnabled(), timeout=10000)
    assert "Supervisor override by Dr Sam Supervisor" in view.blockers.text()
    assert window.state.actor is not None and window.state.actor.login == "nina"  # still Nina at the console
    record = sqlite_services.records.record(None, sid)
    assert record.override is not None and record.override.entry.author_name == "Dr Sam Supervisor"
    assert "no baseline vitals recorded" in record.override.payload["missing"]
    close_window(qtbot, window)


def test_dose_dialog_records_a_running_iv_infusion(qtbot, sqlite_services, clock) -> None:
    staff = make_staff(sqlite_services)
    sid = plan(sqlite_services, staff["therapist"], when=clock.now, route=Route.IV, dose=35)
    sqlite_services.records.start_session(staff["medical"], sid)
    confirm_all(sqlite_services, staff["medical"], sid)
    sqlite_services.records.record_vitals(staff["medical"], sid, {"sbp": 125, "dbp": 80, "hr": 70, "spo2": 98})
    clock.advance(minutes=5)
    window = make_window(qtbot, sqlite_services)
    sign_in(qtbot, window, "nina", PASSWORD)
    qtbot.waitUntil(lambda: window.stack.currentWidget() is window.checklist or window.today.model.rowCount() == 1,
                    timeout=10000)
    qtbot.keyClick(window.today.table, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: window.checklist.dose_button.isEnabled(), timeout=10000)
    qtbot.keyClick(window.checklist, Qt.Key.Key_D, Qt.KeyboardModifier.ControlModifier)
    dialog = window.findChild(DoseDialog)
    assert dialog is not None and dialog.isVisible()
    qtbot.waitUntil(lambda: dialog.ordered_by.count() > 1, timeout=10000)
    assert dialog.route.currentData() == Route.IV.value and dialog.amount.text() == "35"
    assert dialog.end_widget.isVisible() and not dialog.device_lot.isVisible()
    assert dialog.given_by.currentText().startswith("Nina Nurse")
    assert dialog.ordered_by.currentText().startswith("Dr Sam Supervisor")  # the only supervisor
    # Started 3 minutes ago (the session began 5 minutes ago), runs 45 minutes.
    qtbot.mouseClick(dialog.given_now, Qt.MouseButton.LeftButton)
    assert dialog.time.isEnabled()
    start = (clock.now - timedelta(minutes=3)).replace(second=0, microsecond=0)
    # Typed whole, as on the walk-through (a date-time spin box "corrected" it digit by digit).
    dialog.time.selectAll()
    qtbot.keyClicks(dialog.time, start.astimezone().strftime("%Y-%m-%d %H:%M"))
    assert f"Given at {start.astimezone():%Y-%m-%d %H:%M}" in dialog.summary.text()
    dialog.minutes.setValue(45)
    qtbot.keyClicks(dialog.lot, "LOT-77")
    assert "infusion running, planned 45 min" in dialog.summary.text()
    with qtbot.waitSignal(dialog.finished, timeout=10000):
        qtbot.mouseClick(dialog.record_button, Qt.MouseButton.LeftButton)
    wait_idle(qtbot, window)
    record = sqlite_services.records.record(None, sid)
    (dose,) = record.administrations
    assert dose.payload["route"] == "iv" and dose.payload["dose"] == 35 and dose.payload["lot"] == "LOT-77"
    assert dose.at == start
    # Still running: its end is recorded when it stops (never a planned end in the future).
    assert record.infusions == [] and [d.id for d in record.running_infusions] == [dose.id]
    assert dose.payload["given_by_name"] == "Nina Nurse" and dose.payload["ordered_by_name"] == "Dr Sam Supervisor"
    assert record.info.state is SessionState.MONITORING
    assert [e.kind for e in record.entries].count(EntryKind.ADMINISTRATION) == 1
    # The console follows the session into monitoring.
    qtbot.waitUntil(lambda: window.stack.currentWidget() is not window.checklist, timeout=10000)
    close_window(qtbot, window)


def test_dose_dialog_keeps_input_and_shows_why_a_dose_is_refused(qtbot, sqlite_services, clock) -> None:
    window, staff, sid = _started(qtbot, sqlite_services, clock, route=Route.INTRANASAL, dose=56)
    confirm_all(sqlite_services, staff["medical"], sid)
    sqlite_services.rems.record_answers(staff["medical"], sid, PREDOSE_ANSWERS)
    sqlite_services.records.record_vitals(staff["medical"], sid, {"sbp": 120, "dbp": 78, "spo2": 99})
    window.controller.refresh()
    qtbot.waitUntil(lambda: window.checklist.dose_button.isEnabled(), timeout=10000)
    qtbot.mouseClick(window.checklist.dose_button, Qt.MouseButton.LeftButton)
    dialog = window.findChild(DoseDialog)
    assert dialog is not None
    qtbot.waitUntil(lambda: dialog.ordered_by.count() > 1, timeout=10000)
    # An esketamine session records one 28 mg device at a time.
    assert dialog.device_lot.isVisible() and dialog.drug.currentText() == "Esketamine"
    assert dialog.amount.text() == "28" and not dialog.amount.isEnabled()
    assert dialog.windowTitle() == "Record esketamine device 1 of 2"
    qtbot.mouseClick(dialog.record_button, Qt.MouseButton.LeftButton)  # no device lot
    qtbot.waitUntil(lambda: dialog.message.isVisible(), timeout=10000)
    assert "device lot" in dialog.message.text()
    assert dialog.isVisible() and dialog.amount.text() == "28"
    qtbot.keyClicks(dialog.device_lot, "DEV-1")
    with qtbot.waitSignal(dialog.finished, timeout=10000):
        qtbot.mouseClick(dialog.record_button, Qt.MouseButton.LeftButton)
    record = sqlite_services.records.record(None, sid)
    assert record.administrations[0].payload["device_lot"] == "DEV-1"
    assert record.administrations[0].payload["device"] == 1
    close_window(qtbot, window)


def test_keyboard_goes_through_every_item_and_a_tick_is_withdrawn_with_a_reason(qtbot, sqlite_services,
                                                                               clock) -> None:
    window, _staff, sid = _started(qtbot, sqlite_services, clock)
    view = window.checklist
    keys = [k for k, b in view._boxes.items() if b.isEnabled()]
    view._boxes[keys[0]].setFocus()
    # Space ticks the focused item, Tab goes to the next one: every enabled item in order, none skipped.
    for n, key in enumerate(keys):
        qtbot.waitUntil(lambda key=key: view._boxes[key].hasFocus(), timeout=5000)
        qtbot.keyClick(view._boxes[key], Qt.Key.Key_Space)
        if n < len(keys) - 1:
            qtbot.keyClick(view._boxes[key], Qt.Key.Key_Tab)
    qtbot.waitUntil(lambda: all("Nina Nurse" in view._who[k].text() for k in keys), timeout=20000)
    assert len(sqlite_services.records.record(None, sid).checklist_confirmed) == len(keys)
    # Withdraw "escort" before dosing: Space on a ticked item asks for the reason.
    escort = view._boxes["escort"]
    escort.setFocus()
    qtbot.keyClick(escort, Qt.Key.Key_Space)
    dialog = view.findChild(WithdrawDialog)
    assert dialog is not None and dialog.isVisible() and escort.isChecked()
    qtbot.keyClick(dialog.reason, Qt.Key.Key_Return)
    assert "Give the reason" in dialog.message.text()
    qtbot.keyClicks(dialog.reason, "Escort cancelled & <b>no</b> taxi")
    with qtbot.waitSignal(dialog.finished, timeout=10000):
        qtbot.keyClick(dialog.reason, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: not view._boxes["escort"].isChecked(), timeout=10000)
    record = sqlite_services.records.record(None, sid)
    assert "escort" not in record.checklist_confirmed
    withdrawn = [e for e in record.entries if e.kind is EntryKind.AMENDMENT]
    assert [e.payload["reason"] for e in withdrawn] == ["Escort cancelled & <b>no</b> taxi"]
    assert view._boxes["escort"].isEnabled()
    close_window(qtbot, window)
