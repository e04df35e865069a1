"""The discharge dialog: the criteria and why, recording assessments, and every way a signature is refused."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import Qt

from kapconsole.domain.enums import SessionState
from kapconsole.domain.values import Actor
from kapconsole.services import Services
from kapconsole.ui.discharge.discharge_view import SEVERITY_ROLE, DischargeDialog
from kapconsole.ui.session.controller import SessionController
from kapconsole.ui.shell.app_state import AppState
from tests.conftest import PASSWORD, FakeClock, make_staff
from tests.data.helpers import PARTS_OK, PERSON_OK, dosed, ready_for_discharge
from tests.ui.shell_support import OFFSCREEN_SIZE_HINTS

pytestmark = OFFSCREEN_SIZE_HINTS
CLICK = Qt.MouseButton.LeftButton


@pytest.fixture
def staff(sqlite_services: Services) -> dict[str, Actor]:
    return make_staff(sqlite_services)


@pytest.fixture
def state(sqlite_services: Services) -> Iterator[AppState]:
    app_state = AppState(sqlite_services, "supervisor-desk")
    yield app_state
    app_state.runner.wait(10000)


def open_dialog(qtbot, state: AppState, actor: Actor, sid: int) -> DischargeDialog:  # type: ignore[no-untyped-def]
    state.set_actor(actor)
    controller = SessionController(state)
    dialog = DischargeDialog(state, controller)
    dialog._test_controller = controller  # kept alive with the dialog
    qtbot.addWidget(dialog)
    controller.open(sid)
    dialog.show()
    qtbot.waitUntil(lambda: dialog.record is not None, timeout=10000)
    return dialog


def criteria_rows(dialog: DischargeDialog) -> dict[str, tuple[str, str, str]]:
    """What the criteria table shows: label → (result, why, severity of the result cell)."""
    model = dialog.table.model()
    rows = {}
    for r in range(model.rowCount()):
        result, label, why = (model.index(r, c).data() for c in range(3))
        rows[label] = (result, why, model.index(r, 0).data(SEVERITY_ROLE))
    return rows


def toggle(qtbot, check) -> None:  # type: ignore[no-untyped-def]
    """Tick or untick with the keyboard, as at the bedside."""
    check.setFocus()
    qtbot.keyClick(check, Qt.Key.Key_Space)


def wait_idle(qtbot, state: AppState) -> None:  # type: ignore[no-untyped-def]
    qtbot.waitUntil(lambda: not state.runner.busy, timeout=10000)


def test_criteria_show_why_they_fail_and_pass(qtbot, sqlite_services: Services, staff: dict[str, Actor],
                                              clock: FakeClock, state: AppState) -> None:
    sid = dosed(sqlite_services, staff, clock)
    clock.advance(minutes=45)
    dialog = open_dialog(qtbot, state, staff["medical"], sid)
    rows = criteria_rows(dialog)
    assert rows["Minimum observation time since last dose"][0] == "✘ Fail"
    assert "45 min since last dose (minimum 120); 76 min to go" in rows["Minimum observation time since last dose"][1]
    assert rows["Escort present"] == ("✘ Fail", "not confirmed", "danger")
    assert dialog.summary.text().startswith(f"{len(rows) - sum(r[0] == '✔ Pass' for r in rows.values())} of")
    assert dialog.summary.property("severity") == "warning"
    # Failing criteria come first, so the reasons are in view without scrolling.
    model = dialog.table.model()
    results = [model.index(r, 0).data() for r in range(model.rowCount())]
    assert results == sorted(results, key=lambda t: t.startswith("✔"))
    assert not dialog.sign_button.isEnabled()
    state.set_actor(staff["supervisor"])
    assert dialog.sign_hint.text().startswith("Signing needs a recorded assessment (the session is dosing")
    wait_idle(qtbot, state)


def test_record_a_ready_assessment_from_the_form(qtbot, sqlite_services: Services, staff: dict[str, Actor],
                                                 clock: FakeClock, state: AppState) -> None:
    sid = ready_for_discharge(sqlite_services, staff, clock)
    dialog = open_dialog(qtbot, state, staff["medical"], sid)
    assert dialog.latest.text() == "No assessment recorded yet."
    for key in PERSON_OK:
        toggle(qtbot, dialog.checks[key])
    assert criteria_rows(dialog)["Escort present"] == ("✔ Pass", "confirmed", "ok")
    for key, value in PARTS_OK.items():
        dialog.spins[key].setFocus()
        for _ in range(value):
            qtbot.keyClick(dialog.spins[key], Qt.Key.Key_Up)
    assert dialog.summary.text() == "All criteria pass: ready for discharge."
    assert "Modified Aldrete: 10/10" in dialog.totals.text() and "PADSS: 10/10" in dialog.totals.text()

    qtbot.mouseClick(dialog.assess_button, CLICK)
    qtbot.waitUntil(lambda: "ready for discharge." in dialog.latest.text(), timeout=10000)
    assert "by Nina Nurse" in dialog.latest.text()
    assert dialog.message.text() == "Assessment recorded: ready for discharge."
    record = sqlite_services.records.record(None, sid)
    assert record.info.state is SessionState.DISCHARGE
    assert record.discharge_assessments[-1].payload["confirmations"] == PERSON_OK
    # Nurses assess; only a supervisor signs, and the dialog says so.
    assert not dialog.sign_button.isEnabled()
    assert dialog.sign_hint.text() == "Only a medical supervisor may sign the discharge."
    # A second assessment is kept beside the first.
    toggle(qtbot, dialog.checks["escort_present"])
    qtbot.mouseClick(dialog.assess_button, CLICK)
    qtbot.waitUntil(lambda: "not ready: Escort present" in dialog.latest.text(), timeout=10000)
    assert len(sqlite_services.records.record(None, sid).discharge_assessments) == 2


def assessed(services: Services, staff: dict[str, Actor], clock: FakeClock, *, ready: bool = True) -> int:
    sid = ready_for_discharge(services, staff, clock)
    services.discharge.assess(staff["medical"], sid, confirmations={**PERSON_OK, "escort_present": ready},
                              score_parts=PARTS_OK)
    return sid


def start_signing(qtbot, dialog: DischargeDialog):  # type: ignore[no-untyped-def]
    assert dialog.sign_button.isEnabled(), dialog.sign_hint.text()
    qtbot.mouseClick(dialog.sign_button, CLICK)
    signature = dialog.signature_dialog
    assert signature is not None and signature.isVisible()
    return signature


def test_supervisor_signs_what_the_dialog_shows(qtbot, sqlite_services: Services, staff: dict[str, Actor],
                                                clock: FakeClock, state: AppState) -> None:
    sid = assessed(sqlite_services, staff, clock)
    dialog = open_dialog(qtbot, state, staff["supervisor"], sid)
    # The bedside confirmations recorded by the nurse are shown to the supervisor at another desk.
    assert all(check.isChecked() for check in dialog.checks.values())
    assert dialog.latest.property("severity") == "ok"
    shown_head = dialog.record.info.chain_head

    signature = start_signing(qtbot, dialog)
    texts = [w.text() for w in signature.findChildren(type(dialog.latest))]
    assert "Dr Sam Supervisor" in texts
    assert "“I reviewed this session record and approve the client's discharge”" in texts
    assert any(f"entries #1–#{dialog.record.info.entry_count}" in t for t in texts)

    qtbot.keyClicks(signature.password, "wrong-password")
    qtbot.mouseClick(signature.sign_button, CLICK)
    qtbot.waitUntil(lambda: signature.message.isVisible(), timeout=10000)
    assert signature.message.text() == "Wrong password."
    assert signature.isVisible() and signature.password.text() == ""

    qtbot.keyClicks(signature.password, PASSWORD)
    with qtbot.waitSignal(signature.finished, timeout=10000):
        qtbot.keyClick(signature.password, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: dialog.record.info.state is SessionState.DISCHARGED, timeout=10000)
    assert dialog.message.text().startswith("Discharge signed by Dr Sam Supervisor at ")
    assert dialog.latest.text().startswith("Discharged: signed by Dr Sam Supervisor")
    assert not dialog.sign_button.isEnabled() and not dialog.assess_button.isEnabled()
    assert not dialog.checks["oriented"].isEnabled()
    signed = sqlite_services.records.record(None, sid).signature
    assert signed is not None and signed.payload["signed_hash"] == shown_head
    wait_idle(qtbot, state)


def test_wrong_passwords_are_throttled(qtbot, sqlite_services: Services, staff: dict[str, Actor],
                                       clock: FakeClock, state: AppState) -> None:
    sid = assessed(sqlite_services, staff, clock)
    dialog = open_dialog(qtbot, state, staff["supervisor"], sid)
    signature = start_signing(qtbot, dialog)
    for attempt in range(4):
        qtbot.keyClicks(signature.password, "wrong-password")
        qtbot.mouseClick(signature.sign_button, CLICK)
        qtbot.waitUntil(lambda: signature.sign_button.isEnabled(), timeout=10000)
        expected = "Wrong password." if attempt < 3 else "Too many wrong passwords at this workstation; try again in"
        assert signature.message.text().startswith(expected)
    assert sqlite_services.clinic.session(sid).state is SessionState.DISCHARGE
    signature.reject()
    wait_idle(qtbot, state)


def test_sign_disabled_while_the_latest_assessment_fails(qtbot, sqlite_services: Services, staff: dict[str, Actor],
                                                         clock: FakeClock, state: AppState) -> None:
    sid = assessed(sqlite_services, staff, clock, ready=False)
    dialog = open_dialog(qtbot, state, staff["supervisor"], sid)
    assert not dialog.sign_button.isEnabled()
    assert dialog.sign_hint.text() == "The latest assessment is not ready: Escort present"
    assert dialog.latest.property("severity") == "warning"
    # A "not ready" assessment is not carried over: every bedside check starts fresh.
    assert not any(check.isChecked() for check in dialog.checks.values())
    assert all(spin.value() == 0 for spin in dialog.spins.values())
    # The supervisor can reassess here (they are medical staff too) and then sign.
    for check in dialog.checks.values():
        toggle(qtbot, check)
    for spin in dialog.spins.values():
        spin.setValue(2)
    qtbot.mouseClick(dialog.assess_button, CLICK)
    qtbot.waitUntil(dialog.sign_button.isEnabled, timeout=10000)
    wait_idle(qtbot, state)


def test_a_therapist_sees_why_nothing_can_be_signed(qtbot, sqlite_services: Services, staff: dict[str, Actor],
                                                    clock: FakeClock, state: AppState) -> None:
    sid = assessed(sqlite_services, staff, clock)
    dialog = open_dialog(qtbot, state, staff["therapist"], sid)
    assert not dialog.assess_button.isEnabled() and not dialog.sign_button.isEnabled()
    assert dialog.sign_hint.text() == "Only a medical supervisor may sign the discharge."
    assert criteria_rows(dialog)  # the criteria are still shown, read-only in effect


def test_record_changed_underneath_refuses_and_reloads(qtbot, tmp_path: Path, sqlite_services: Services,
                                                       staff: dict[str, Actor], clock: FakeClock,
                                                       state: AppState) -> None:
    sid = assessed(sqlite_services, staff, clock)
    dialog = open_dialog(qtbot, state, staff["supervisor"], sid)
    signature = start_signing(qtbot, dialog)

    # While the supervisor types the password, the room charts a reading from its own workstation.
    room = Services.open(f"sqlite:///{tmp_path / 'kapconsole.db'}", clock=clock)
    try:
        nurse = room.staff.authenticate("nina", PASSWORD, "room-1")
        room.records.record_vitals(nurse, sid, {"sbp": 150, "dbp": 92, "hr": 96, "spo2": 95})
    finally:
        room.close()

    qtbot.keyClicks(signature.password, PASSWORD)
    with qtbot.waitSignal(signature.finished, timeout=10000):
        qtbot.mouseClick(signature.sign_button, CLICK)
    assert dialog.message.text() == ("Not signed: the record changed after you reviewed it; "
                                     "review it again before signing.")
    assert dialog.message.property("severity") == "danger"
    # The dialog reloads the record: the new reading is shown, and the assessment must be recorded again.
    qtbot.waitUntil(lambda: dialog.record.info.entry_count == sqlite_services.clinic.session(sid).entry_count,
                    timeout=10000)
    assert "Entries were added after the latest assessment" in dialog.sign_hint.text()
    assert not dialog.sign_button.isEnabled()
    assert "Heart rate 96 (33%" in criteria_rows(dialog)["BP and HR each within 20% of baseline"][1]
    assert sqlite_services.clinic.session(sid).state is SessionState.DISCHARGE
    wait_idle(qtbot, state)


def test_a_change_at_another_workstation_is_announced(qtbot, tmp_path: Path, sqlite_services: Services,
                                                      staff: dict[str, Actor], clock: FakeClock,
                                                      state: AppState) -> None:
    sid = assessed(sqlite_services, staff, clock)
    dialog = open_dialog(qtbot, state, staff["supervisor"], sid)
    assert dialog.sign_button.isEnabled()
    sqlite_services.records.record_observation(staff["therapist"], sid, "client sitting up, chatting")
    # The controller's poll notices within a few seconds; the dialog says what changed and blocks signing.
    qtbot.waitUntil(lambda: "changed at another workstation" in dialog.message.text(), timeout=6000)
    assert "(observation)" in dialog.message.text()
    assert not dialog.sign_button.isEnabled()
    wait_idle(qtbot, state)
