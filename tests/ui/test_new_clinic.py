"""A new clinic, from an empty database, entirely in the console: the first administrator, the rooms and the
staff, a client registered at the front desk, a course, a planned session, and that session run to a signed
discharge. Keys are typed as staff type them; combo boxes are set as a person picks an entry."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QComboBox, QPushButton

from kapconsole.domain.enums import Role, Scale, SessionState
from kapconsole.services import Services
from kapconsole.ui.discharge.discharge_view import DischargeDialog
from kapconsole.ui.frontdesk.clinic_setup import ClinicSetupDialog
from kapconsole.ui.frontdesk.planning_dialogs import CourseDialog, PlanSessionDialog
from kapconsole.ui.session.session_view import SessionView
from kapconsole.ui.shell.app_state import AppState
from kapconsole.ui.shell.first_run import FirstRunWizard
from tests.conftest import FakeClock
from tests.ui.shell_support import (
    OFFSCREEN_SIZE_HINTS,
    close_window,
    isolated_settings,  # noqa: F401 (fixture)
    make_window,
    sign_in,
    wait_idle,
)
from tests.ui.test_frontdesk import activate, ctrl, dialog_of, open_front_desk, register_client, save
from tests.ui.test_full_session import baseline, child, record_dose, shown, type_vitals

pytestmark = [pytest.mark.usefixtures("isolated_settings"), OFFSCREEN_SIZE_HINTS]

ADMIN_PW = "Quiet-Harbour-Lamp-17"
PEOPLE = {  # login: (name, roles, password)
    "rosa": ("Rosa Díaz", (Role.FRONT_DESK,), "Orange-Violin-Meadow"),
    "nina": ("Nina Nurse", (Role.MEDICAL,), "Copper-Kettle-Sunrise"),
    "sam": ("Dr Sam Supervisor", (Role.SUPERVISOR, Role.MEDICAL), "Silver-Fjord-Canyon"),
    "theo": ("Theo Therapist", (Role.THERAPIST,), "Maple-Lantern-Drift"),
}


def switch_to(qtbot, window, login: str) -> None:  # type: ignore[no-untyped-def]
    activate(qtbot, window)
    ctrl(qtbot, window, Qt.Key.Key_L)
    assert window.locked
    sign_in(qtbot, window, login, PEOPLE[login][2] if login in PEOPLE else ADMIN_PW)
    activate(qtbot, window)


def test_a_new_clinic_runs_its_first_session_in_the_console(qtbot, tmp_path: Path, clock: FakeClock) -> None:
    url = f"sqlite:///{tmp_path / 'new-clinic.db'}"
    services = Services.open(url, clock=clock)
    assert services.staff.list_staff(include_inactive=True) == []

    # --- first start: the administrator, then the first room ----------------------------------------------
    wizard = FirstRunWizard(AppState(services, "room-1"))
    qtbot.addWidget(wizard)
    wizard.show()
    qtbot.keyClicks(wizard.name, "Ada Admin")
    qtbot.keyClicks(wizard.login, "ada")
    qtbot.keyClicks(wizard.password, ADMIN_PW)
    qtbot.keyClicks(wizard.repeat, ADMIN_PW)
    qtbot.keyClick(wizard.repeat, Qt.Key.Key_Return)
    qtbot.waitUntil(wizard.next_step.isVisible, timeout=10000)
    with qtbot.waitSignal(wizard.accepted, timeout=10000):
        qtbot.keyClick(wizard.room, Qt.Key.Key_Return)  # "Room 1", no client yet
    wizard.state.runner.wait()
    assert services.clinic.rooms() == ["Room 1"]

    # --- the administrator adds a second room and the staff -------------------------------------------------
    window = make_window(qtbot, services)
    sign_in(qtbot, window, "ada", ADMIN_PW)
    activate(qtbot, window)
    qtbot.keyClick(window, Qt.Key.Key_S, Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.AltModifier)
    setup: ClinicSetupDialog = dialog_of(window, ClinicSetupDialog, qtbot)
    qtbot.keyClicks(setup.room_name, "Room 2")
    qtbot.keyClick(setup.room_name, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: setup.room_list.count() == 2, timeout=10000)
    for login, (name, roles, password) in PEOPLE.items():
        setup.name.setFocus()
        setup.name.insert(name)
        qtbot.keyClicks(setup.login, login)
        for role in roles:
            box = setup.role_boxes[role]
            box.setFocus()
            qtbot.keyClick(box, Qt.Key.Key_Space)
        qtbot.keyClicks(setup.password, password)
        qtbot.keyClick(setup.password, Qt.Key.Key_Return)
        qtbot.waitUntil(lambda n=name: n in setup.message.text(), timeout=10000)
    wait_idle(qtbot, window)
    assert setup.staff_list.count() == 5
    setup.reject()

    # --- the front desk registers the client, opens the course, plans the session --------------------------
    switch_to(qtbot, window, "rosa")
    desk = open_front_desk(qtbot, window)
    register_client(qtbot, window, desk, identifier="KAP-0001", name="María-José Ñúñez 王 <b>&</b>", weight="64")
    qtbot.waitUntil(lambda: desk.file is not None and desk.file.client.identifier == "KAP-0001", timeout=10000)
    qtbot.keyClick(desk.new_course_button, Qt.Key.Key_O, Qt.KeyboardModifier.AltModifier)
    course: CourseDialog = dialog_of(window, CourseDialog, qtbot)
    qtbot.keyClicks(course.title, "KAP for treatment-resistant depression")
    qtbot.keyClicks(course.indication, "TRD")
    qtbot.keyClicks(course.consent_on, clock.now.date().isoformat())
    qtbot.keyClicks(course.consent_version, "2026-03")
    course.witness.setCurrentIndex(course.witness.findText("Theo Therapist"))
    save(qtbot, window, course)
    qtbot.waitUntil(lambda: desk.file is not None and len(desk.file.courses) == 1, timeout=10000)
    start = (clock.now + timedelta(minutes=10)).astimezone()
    ctrl(qtbot, desk.clients_table, Qt.Key.Key_P)
    plan: PlanSessionDialog = dialog_of(window, PlanSessionDialog, qtbot)
    qtbot.keyClicks(plan.when, f"{start:%Y-%m-%d %H:%M}")
    qtbot.keyClicks(plan.dose, "200")
    save(qtbot, window, plan)
    qtbot.waitUntil(lambda: desk.sessions_model.rowCount() == 1, timeout=10000)
    sid = desk.sessions_model.rows[0].id

    # --- the nurse runs it from Today: checklist, baseline, dose, monitoring --------------------------------
    switch_to(qtbot, window, "nina")
    qtbot.keyClick(window, Qt.Key.Key_T, Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier)
    qtbot.waitUntil(lambda: window.today.model.rowCount() == 1, timeout=10000)
    window.today.table.setFocus()
    qtbot.keyClick(window.today.table, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: window.stack.currentWidget() is window.checklist, timeout=10000)
    shown(qtbot, window, lambda r: r.info.state is SessionState.CHECKLIST)
    checklist = window.checklist
    # Baseline vitals and the intention are answered by the record: ticked once they exist.
    from_record = ("baseline_vitals", "intention")
    required = [i.key for i in window.controller.record.protocol.checklist if i.required]
    for key in required:
        if key in from_record:
            continue
        box = checklist._boxes[key]
        box.setFocus()
        qtbot.keyClick(box, Qt.Key.Key_Space)
    checklist.intention.setFocus()
    qtbot.keyClicks(checklist.intention, "To meet the grief with kindness")
    qtbot.mouseClick(checklist.intention_button, Qt.MouseButton.LeftButton)
    shown(qtbot, window, lambda r: r.intention != "")
    baseline(qtbot, window, "124", "78")
    for key in from_record:
        if key in required:
            qtbot.waitUntil(checklist._boxes[key].isEnabled, timeout=10000)
            checklist._boxes[key].setFocus()
            qtbot.keyClick(checklist._boxes[key], Qt.Key.Key_Space)
    shown(qtbot, window, lambda r: not r.checklist_missing())
    qtbot.waitUntil(checklist.dose_button.isEnabled, timeout=10000)
    clock.advance(minutes=12)
    qtbot.keyClick(checklist.intention, Qt.Key.Key_D, Qt.KeyboardModifier.ControlModifier)
    record_dose(qtbot, window)
    qtbot.waitUntil(lambda: isinstance(window.stack.currentWidget(), SessionView), timeout=10000)
    view: SessionView = window.stack.currentWidget()
    shown(qtbot, window, lambda r: r.info.state is SessionState.MONITORING)
    for minutes in (15, 15, 15, 15, 30, 30):
        clock.advance(minutes=minutes)
        type_vitals(qtbot, view, sbp=128, dbp=80, hr=74, spo2=98, rr=14)
        count = len(window.controller.record.vitals) + 1
        shown(qtbot, window, lambda r, n=count: len(r.vitals) == n)
    clock.advance(minutes=2)
    moaas, dissociation = child(view, QComboBox, "scale_moaas"), child(view, QComboBox, "scale_dissociation")
    moaas.setCurrentIndex(moaas.findData(5))
    dissociation.setCurrentIndex(dissociation.findData(0))
    qtbot.mouseClick(child(view, QPushButton, "scaleSave"), Qt.MouseButton.LeftButton)
    shown(qtbot, window, lambda r: r.latest_scale(Scale.MOAAS) is not None
          and r.latest_scale(Scale.DISSOCIATION) is not None)

    # --- the supervisor assesses and signs the discharge -----------------------------------------------------
    clock.advance(minutes=3)
    switch_to(qtbot, window, "sam")
    assert window.stack.currentWidget() is view
    qtbot.keyClick(window, Qt.Key.Key_D, Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier)
    discharge: DischargeDialog = dialog_of(window, DischargeDialog, qtbot)
    qtbot.waitUntil(lambda: discharge.record is not None, timeout=10000)
    for check in discharge.checks.values():
        check.setFocus()
        qtbot.keyClick(check, Qt.Key.Key_Space)
    for spin in discharge.spins.values():
        spin.setFocus()
        qtbot.keyClick(spin, Qt.Key.Key_Up)
        qtbot.keyClick(spin, Qt.Key.Key_Up)
    assert discharge.summary.text() == "All criteria pass: ready for discharge.", discharge.summary.text()
    qtbot.mouseClick(discharge.assess_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(discharge.sign_button.isEnabled, timeout=10000)
    qtbot.mouseClick(discharge.sign_button, Qt.MouseButton.LeftButton)
    signature = discharge.signature_dialog
    assert signature is not None
    qtbot.keyClicks(signature.password, PEOPLE["sam"][2])
    with qtbot.waitSignal(signature.finished, timeout=10000):
        qtbot.keyClick(signature.password, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: discharge.record.info.state is SessionState.DISCHARGED, timeout=10000)
    wait_idle(qtbot, window)
    close_window(qtbot, window)
    services.close()

    # --- everything is in the database, attributed to the people who did it --------------------------------
    reopened = Services.open(url, clock=clock)
    record = reopened.records.record(None, sid)
    assert record.info.state is SessionState.DISCHARGED
    assert record.info.client.name == "María-José Ñúñez 王 <b>&</b>"
    assert record.info.course_label == "session 1 of 6" and record.info.room == "Room 1"
    assert record.signature is not None and record.signature.author_name == "Dr Sam Supervisor"
    assert {a.payload["given_by_name"] for a in record.administrations} == {"Nina Nurse"}
    client = reopened.clinic.clients.by_identifier("KAP-0001")
    assert client.allergy_list[0].substance == "Penicillin" and client.weight_kg == 64
    versions = reopened.clinic.clients.versions(reopened.staff.actor_for("rosa", "x"), client.id)
    assert [(v.version, v.by_name) for v in versions] == [(1, "Rosa Díaz")]
    (course_,) = reopened.clinic.courses(client.id)
    assert course_.consent_witness_name == "Theo Therapist"
    assert reopened.integrity.verify().ok
    reopened.close()
