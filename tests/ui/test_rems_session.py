"""An 84 mg esketamine session charted from the keyboard: REMS answers, the BP hold and recheck, three devices
with the 5-minute timer, the monitoring form's answers, the signature gate and the form PDF."""

from __future__ import annotations

import io
from datetime import date, timedelta
from pathlib import Path

import pytest
from pypdf import PdfReader
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QComboBox, QLineEdit, QSpinBox, QWidget

from kapconsole.domain.enums import SessionState
from kapconsole.domain.rems import RemsIncomplete
from kapconsole.services import Services
from kapconsole.ui.checklist.rems_dialog import RemsDialog
from kapconsole.ui.session.dose_dialog import DoseDialog
from kapconsole.ui.shell.main_window import MainWindow
from tests.conftest import PASSWORD, FakeClock, make_staff
from tests.data.test_rems import CONFIRMED, FULL_SCORES, SETTING
from tests.ui.shell_support import (
    OFFSCREEN_SIZE_HINTS,
    close_window,
    confirm_all,
    isolated_settings,  # noqa: F401 (fixture)
    make_window,
    sign_in,
    wait_idle,
)
from tests.ui.test_full_session import baseline, shown

pytestmark = [pytest.mark.usefixtures("isolated_settings"), OFFSCREEN_SIZE_HINTS]

PREDOSE_KEYS = {
    "rems_patient_id": "RP-77-NANDU", "phase": "I", "phase_session": "2", "med_benzodiazepines": "N",
    "med_sedative_hypnotics": "N", "med_other_cns_depressants": "N", "med_psychostimulants": "Y", "med_maois": "N",
    "nasal_product_last_hour": "N", "no_food_2h": "Y", "no_liquids_30min": "Y", "escort_name": "Ana Maria Lopez",
    "escort_contact": "+34 600 123 456", "transport": "Taxi with her sister", "no_driving": "Y",
}
FORM_KEYS = {"respiratory_depression": "N", "serious_adverse_event": "N", "hospitalised": "N",
             "clinician_credentials": "RN", "clinician_contact": "555 010 2000"}


def type_answers(qtbot, dialog: RemsDialog, keys: dict[str, str]) -> None:  # type: ignore[no-untyped-def]
    """Type each answer as a person would: letters pick a yes/no or phase, digits a number, text in a field."""
    for key, typed in keys.items():
        widget: QWidget = dialog.fields[key].widget
        widget.setFocus()
        if isinstance(widget, QSpinBox):
            qtbot.keyClick(widget, Qt.Key.Key_A, Qt.KeyboardModifier.ControlModifier)
        elif isinstance(widget, QLineEdit):
            widget.clear()
        qtbot.keyClicks(widget, typed)
        if isinstance(widget, QComboBox):
            assert widget.currentText().startswith({"Y": "Yes", "N": "No", "I": "Induction"}[typed]), key


def open_rems(qtbot, window: MainWindow, where: QWidget) -> RemsDialog:  # type: ignore[no-untyped-def]
    where.setFocus()
    qtbot.keyClick(where, Qt.Key.Key_R, Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.AltModifier)
    qtbot.waitUntil(lambda: window.findChild(RemsDialog) is not None, timeout=5000)
    dialog = window.findChild(RemsDialog)
    assert dialog is not None
    qtbot.waitUntil(lambda: dialog.save_button.isEnabled(), timeout=10000)
    return dialog


def save(qtbot, window: MainWindow, dialog: RemsDialog) -> None:  # type: ignore[no-untyped-def]
    qtbot.keyClick(dialog.save_button, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(lambda: dialog.message.isVisible() and dialog.save_button.isEnabled(), timeout=10000)
    assert "Saved" in dialog.message.text(), dialog.message.text()
    qtbot.waitUntil(lambda: dialog.save_button.isEnabled(), timeout=10000)
    wait_idle(qtbot, window)


def give_device(qtbot, window: MainWindow, lot: str, reason: str = "") -> DoseDialog:  # type: ignore[no-untyped-def]
    window.activateWindow()
    qtbot.keyClick(window.stack.currentWidget(), Qt.Key.Key_D, Qt.KeyboardModifier.ControlModifier)
    def visible() -> DoseDialog | None:
        return next((d for d in window.findChildren(DoseDialog) if d.isVisible()), None)

    qtbot.waitUntil(lambda: visible() is not None, timeout=5000)
    dialog = visible()
    assert dialog is not None
    qtbot.waitUntil(lambda: dialog.ordered_by.currentData() is not None, timeout=10000)
    assert dialog.amount.text() == "28" and not dialog.amount.isEnabled()
    dialog.device_lot.clear()  # it starts with the previous device's lot
    qtbot.keyClicks(dialog.device_lot, lot)
    if reason:
        qtbot.keyClicks(dialog.early_reason, reason)
    return dialog


def test_an_84mg_esketamine_session_from_the_keyboard(qtbot, sqlite_services: Services, clock: FakeClock,
                                                      tmp_path: Path) -> None:
    services = sqlite_services
    staff = make_staff(services)
    nurse = staff["medical"]
    services.rems.update_setting(staff["administrator"], **SETTING)
    client = services.clinic.add_client(nurse, identifier="ESK-77", name="Lucía Fernández",
                                        date_of_birth=date(1991, 3, 14))
    sid = services.clinic.plan_session(nurse, client_id=client.id, room="Room 1", route="intranasal",
                                       planned_drug="Esketamine", planned_dose=84, scheduled_at=clock.now).id
    services.records.start_session(nurse, sid)
    confirm_all(services, nurse, sid)
    window = make_window(qtbot, services)
    sign_in(qtbot, window, "nina", PASSWORD)
    qtbot.waitUntil(lambda: window.today.model.rowCount() == 1, timeout=10000)
    qtbot.keyClick(window.today.table, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: window.stack.currentWidget() is window.checklist, timeout=10000)
    view = window.checklist
    shown(qtbot, window, lambda r: r.info.id == sid)
    assert view.rems_button.isVisible()
    assert "REMS questions not answered" in view.blockers.text()

    # REMS answers, typed.
    dialog = open_rems(qtbot, window, view.vitals["sbp"])
    type_answers(qtbot, dialog, PREDOSE_KEYS)
    save(qtbot, window, dialog)
    # Every pre-dose answer is given; the form's own questions are asked after dosing.
    assert "Before the first device" not in dialog.missing.text()
    assert "no esketamine device recorded" in dialog.missing.text()
    dialog.reject()
    shown(qtbot, window, lambda r: "rems_answers" in {e.kind.value for e in r.entries})
    assert "REMS questions not answered" not in view.blockers.text()

    # The BP hold, then the recheck.
    baseline(qtbot, window, "152", "95")
    shown(qtbot, window, lambda r: r.baseline_vitals is not None)
    assert "pre-dose hold: Systolic BP 152" in view.blockers.text() and not view.dose_button.isEnabled()
    clock.advance(minutes=10)
    baseline(qtbot, window, "134", "84")
    shown(qtbot, window, lambda r: not r.dosing_blockers())
    qtbot.waitUntil(view.dose_button.isEnabled, timeout=5000)

    # Device 1: the session moves to monitoring; the timer counts the 5-minute rest.
    dialog = give_device(qtbot, window, "DEV-A1")
    assert dialog.windowTitle() == "Record esketamine device 1 of 3"
    with qtbot.waitSignal(dialog.finished, timeout=10000):
        qtbot.keyClick(dialog.device_lot, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(lambda: window.stack.currentWidget() is window.session_view, timeout=10000)
    session = window.session_view
    shown(qtbot, window, lambda r: r.info.state is SessionState.MONITORING)
    qtbot.waitUntil(lambda: session.device_label.text() == "Device 2 of 3 in\n05:00", timeout=3000)
    clock.advance(minutes=3)
    qtbot.waitUntil(lambda: session.device_label.text() == "Device 2 of 3 in\n02:00", timeout=3000)
    # Too early and no reason: refused, and the dialog keeps what was typed.
    dialog = give_device(qtbot, window, "DEV-A2")
    assert "needs a reason" in dialog.device_status.text()
    qtbot.keyClick(dialog.device_lot, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(lambda: dialog.message.isVisible(), timeout=10000)
    assert "needs a reason" in dialog.message.text() and dialog.device_lot.text() == "DEV-A2"
    qtbot.keyClick(dialog, Qt.Key.Key_Escape)
    qtbot.waitUntil(lambda: not dialog.isVisible(), timeout=5000)
    clock.advance(minutes=2)
    qtbot.waitUntil(lambda: "may be given now" in session.device_label.text(), timeout=3000)
    for lot in ("DEV-A2", "DEV-A3"):
        window.activateWindow()
        dialog = give_device(qtbot, window, lot)
        with qtbot.waitSignal(dialog.finished, timeout=10000):
            qtbot.keyClick(dialog.device_lot, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
        dialog.deleteLater()
        shown(qtbot, window, lambda r, lot=lot: r.administrations[-1].payload["device_lot"] == lot)
        clock.advance(minutes=5)
    qtbot.waitUntil(lambda: session.device_label.text() == "Devices\n3 of 3 given", timeout=3000)
    assert not session.booster_button.isEnabled()

    # Monitoring: BP at about 40 minutes, sedation that resolves, BP before the end.
    record = services.records.record(nurse, sid)
    first = record.first_dose_at
    assert first is not None and [a.payload["device"] for a in record.administrations] == [1, 2, 3]
    for minutes, bp, moaas in ((20, (140, 88), 3), (40, (146, 90), 4), (90, (130, 82), 5), (135, (126, 80), 5)):
        clock.at(first + timedelta(minutes=minutes))
        services.records.record_vitals(nurse, sid, {"sbp": bp[0], "dbp": bp[1], "hr": 78, "spo2": 97, "rr": 14})
        services.records.record_scale(nurse, sid, "moaas", moaas)
        services.records.record_scale(nurse, sid, "dissociation", 2 if minutes < 90 else 0)
    services.discharge.assess(staff["supervisor"], sid, confirmations=CONFIRMED, score_parts=FULL_SCORES)
    window.controller.refresh()
    shown(qtbot, window, lambda r: r.info.state is SessionState.DISCHARGE)
    head = services.records.record(nurse, sid).info.chain_head
    with pytest.raises(RemsIncomplete):
        services.discharge.sign(staff["supervisor"], sid, password=PASSWORD, seen_chain_head=head)

    # The discharge dialog says why it cannot be signed yet.
    from kapconsole.ui.discharge.discharge_view import DischargeDialog

    window.state.set_actor(staff["supervisor"])  # the supervisor steps in to sign
    discharge = DischargeDialog(window.state, window.controller, window)
    discharge.open()
    qtbot.waitUntil(lambda: "REMS answers needed before signing" in discharge.sign_hint.text(), timeout=5000)
    assert not discharge.sign_button.isEnabled()
    assert "Respiratory depression during monitoring" in discharge.sign_hint.text()
    discharge.reject()
    window.state.set_actor(staff["medical"])

    # The monitoring form's answers, typed on the session screen's REMS dialog.
    dialog = open_rems(qtbot, window, session.timeline.table)
    assert "Respiratory depression during monitoring" in dialog.missing.text()
    assert dialog.fields["ready_to_leave_at"].value() is not None  # the earliest time the record allows
    assert dialog.fields["clinician_name"].value() == "Nina Nurse"
    type_answers(qtbot, dialog, FORM_KEYS)
    save(qtbot, window, dialog)
    qtbot.waitUntil(lambda: dialog.missing.text() == "The form is complete.", timeout=10000)
    target = tmp_path / "form.pdf"
    dialog.pdf_path.clear()
    qtbot.keyClicks(dialog.pdf_path, str(target))
    qtbot.keyClick(dialog.pdf_button, Qt.Key.Key_Space)
    qtbot.waitUntil(lambda: target.exists() and "Form written" in dialog.message.text(), timeout=10000)
    text = " ".join(" ".join(p.extract_text() or "" for p in PdfReader(io.BytesIO(target.read_bytes())).pages).split())
    assert "Lucía Fernández" in text and "RP-77-NANDU" in text and "3 of 3 planned" in text
    dialog.reject()
    head = services.records.record(nurse, sid).info.chain_head
    services.discharge.sign(staff["supervisor"], sid, password=PASSWORD, seen_chain_head=head)
    assert services.records.record(nurse, sid).info.state is SessionState.DISCHARGED
    close_window(qtbot, window)
