"""The front desk screen driven from the keyboard: register a client, open a course, plan, move and cancel a
session, and see the rooms' week; user text stays plain text and long names do not widen the window."""

from __future__ import annotations

from datetime import timedelta

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QLabel

from kapconsole.domain.enums import Role, SessionState
from kapconsole.services import Services
from kapconsole.ui.frontdesk.client_dialog import ClientDialog
from kapconsole.ui.frontdesk.frontdesk_view import FrontDeskView
from kapconsole.ui.frontdesk.planning_dialogs import (
    CancelDialog,
    CourseDialog,
    PlanSessionDialog,
    RescheduleDialog,
)
from kapconsole.ui.shell.main_window import MainWindow
from tests.conftest import PASSWORD, FakeClock, make_staff
from tests.ui.shell_support import (
    OFFSCREEN_SIZE_HINTS,
    close_window,
    isolated_settings,  # noqa: F401 (fixture)
    make_window,
    sign_in,
    wait_idle,
)

pytestmark = [pytest.mark.usefixtures("isolated_settings"), OFFSCREEN_SIZE_HINTS]

HOSTILE = "<b>Zoë</b> & Ñúñez-王小明 <script>x</script> " + "Long-Surname-" * 12


def dialog_of(window: MainWindow, cls: type, qtbot):  # type: ignore[no-untyped-def]
    qtbot.waitUntil(lambda: any(d.isVisible() for d in window.findChildren(cls)), timeout=10000)
    dialog = next(d for d in window.findChildren(cls) if d.isVisible())
    # The offscreen platform does not activate a new dialog by itself (a window manager does); shortcuts
    # such as Ctrl+Return need an active window.
    dialog.activateWindow()
    qtbot.waitUntil(dialog.isActiveWindow, timeout=2000)
    return dialog


def ctrl(qtbot, widget, key) -> None:  # type: ignore[no-untyped-def]
    qtbot.keyClick(widget, key, Qt.KeyboardModifier.ControlModifier)


def activate(qtbot, window: MainWindow) -> None:  # type: ignore[no-untyped-def]
    """The offscreen platform does not hand activation back when a dialog closes (a window manager does)."""
    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow, timeout=2000)


def save(qtbot, window: MainWindow, dialog) -> None:  # type: ignore[no-untyped-def]
    with qtbot.waitSignal(dialog.finished, timeout=10000):
        ctrl(qtbot, dialog.focusWidget() or dialog, Qt.Key.Key_Return)
    wait_idle(qtbot, window)
    activate(qtbot, window)


def open_front_desk(qtbot, window: MainWindow) -> FrontDeskView:  # type: ignore[no-untyped-def]
    qtbot.keyClick(window, Qt.Key.Key_F, Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier)
    qtbot.waitUntil(lambda: isinstance(window.stack.currentWidget(), FrontDeskView), timeout=10000)
    wait_idle(qtbot, window)
    return window.stack.currentWidget()


def register_client(qtbot, window: MainWindow, desk: FrontDeskView, *, identifier: str, name: str,
                    weight: str = "70", allergy: str = "Penicillin") -> None:  # type: ignore[no-untyped-def]
    activate(qtbot, window)
    ctrl(qtbot, desk.search, Qt.Key.Key_N)
    dialog: ClientDialog = dialog_of(window, ClientDialog, qtbot)
    f = dialog.fields
    qtbot.keyClicks(f["identifier"], identifier)
    f["name"].setFocus()
    f["name"].insert(name)  # QtTest types ASCII only: non-Latin text arrives as an input method gives it
    qtbot.keyClicks(f["date_of_birth"], "1985-04-12")
    qtbot.keyClicks(f["weight_kg"], weight)
    qtbot.keyClicks(f["weight_on"], desk.state.services.clinic.now().date().isoformat())
    qtbot.keyClicks(dialog.allergy_table.substance, allergy)
    qtbot.keyClicks(dialog.allergy_table.reaction, "hives")
    qtbot.keyClick(dialog.allergy_table.reaction, Qt.Key.Key_Return)
    assert dialog.allergy_table.table.rowCount() == 1
    qtbot.keyClicks(f["escort_name"], "Marta & <i>Luis</i>")
    qtbot.keyClicks(f["escort_phone"], "+34 600 111 222")
    save(qtbot, window, dialog)


def test_front_desk_from_the_keyboard(qtbot, sqlite_services: Services, clock: FakeClock) -> None:
    staff = make_staff(sqlite_services)
    sqlite_services.staff.add_user(staff["administrator"], login="rosa", name="Rosa Desk", roles=[Role.FRONT_DESK],
                                   password=PASSWORD)
    window = make_window(qtbot, sqlite_services)
    sign_in(qtbot, window, "rosa", PASSWORD)
    assert not window.act_board.isEnabled() and not window.act_clients.isEnabled()
    desk = open_front_desk(qtbot, window)

    # --- every refused field at once, nothing saved ---------------------------------------------------------
    ctrl(qtbot, desk.search, Qt.Key.Key_N)
    dialog: ClientDialog = dialog_of(window, ClientDialog, qtbot)
    qtbot.keyClicks(dialog.fields["date_of_birth"], "2999-01-01")
    qtbot.keyClicks(dialog.fields["weight_kg"], "5")
    qtbot.keyClicks(dialog.fields["escort_phone"], "call me")
    ctrl(qtbot, dialog.fields["escort_phone"], Qt.Key.Key_Return)
    qtbot.waitUntil(dialog.message.isVisible, timeout=5000)  # a button's shortcut clicks it after a moment
    message = dialog.message.text()
    for field in ("client identifier", "name", "date of birth", "weight", "escort / driver phone"):
        assert field in message, message
    assert dialog.message.textFormat() == Qt.TextFormat.PlainText
    dialog.reject()

    # --- register, search without accents, course, plan ----------------------------------------------------
    register_client(qtbot, window, desk, identifier="KAP-501", name=HOSTILE)
    desk.search.clear()
    qtbot.keyClicks(desk.search, "nunez")
    qtbot.keyClick(desk.search, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: desk.file is not None and desk.file.client.identifier == "KAP-501", timeout=10000)
    assert desk.detail.full_text().startswith(HOSTILE) and desk.detail.textFormat() == Qt.TextFormat.PlainText
    assert "Penicillin — hives" in desk.detail_allergies.full_text()
    for label in desk.findChildren(QLabel):
        if "<b>" in label.text():
            assert label.textFormat() == Qt.TextFormat.PlainText, label.objectName()

    qtbot.keyClick(desk.new_course_button, Qt.Key.Key_O, Qt.KeyboardModifier.AltModifier)
    course: CourseDialog = dialog_of(window, CourseDialog, qtbot)
    qtbot.keyClicks(course.title, "KAP for PTSD")
    course.sessions.setValue(3)
    qtbot.keyClicks(course.consent_on, clock.now.date().isoformat())
    qtbot.keyClicks(course.consent_version, "v2")
    course.witness.setCurrentIndex(course.witness.findText("Nina Nurse"))
    save(qtbot, window, course)
    qtbot.waitUntil(lambda: desk.file is not None and len(desk.file.courses) == 1, timeout=10000)

    when = (clock.now + timedelta(days=2)).astimezone().replace(hour=9, minute=30, second=0, microsecond=0)
    ctrl(qtbot, desk.clients_table, Qt.Key.Key_P)
    plan: PlanSessionDialog = dialog_of(window, PlanSessionDialog, qtbot)
    assert plan.weight.text() == "70"
    qtbot.keyClicks(plan.when, f"{when:%Y-%m-%d %H:%M}")
    plan.room.setCurrentText("Room 2")
    plan.route.setCurrentIndex(plan.route.findData("im"))
    qtbot.keyClicks(plan.per_kg, "0.5")
    save(qtbot, window, plan)
    qtbot.waitUntil(lambda: desk.sessions_model.rowCount() == 1, timeout=10000)
    (planned,) = desk.sessions_model.rows
    info = sqlite_services.clinic.session(planned.id)
    assert (info.room, info.planned_dose, info.weight_used_kg, info.course_label) == ("Room 2", 35.0, 70.0,
                                                                                      "session 1 of 3")

    # --- the week of the rooms ------------------------------------------------------------------------------
    desk.tabs.setCurrentWidget(desk.week)
    day = (when.date() - desk.week.monday).days
    if day >= 7:
        qtbot.mouseClick(desk.week.next_button, Qt.MouseButton.LeftButton)
        day -= 7
    qtbot.waitUntil(lambda: "09:30–12:30 planned" in desk.week.cell_text("Room 2", day), timeout=10000)
    assert HOSTILE.strip() in desk.week.cell_text("Room 2", day)
    desk.tabs.setCurrentIndex(0)

    # --- a second client cannot take the room; move, then cancel -------------------------------------------
    register_client(qtbot, window, desk, identifier="KAP-502", name="Bo Two", allergy="Latex")
    qtbot.waitUntil(lambda: desk.file is not None and desk.file.client.identifier == "KAP-502", timeout=10000)
    ctrl(qtbot, desk.clients_table, Qt.Key.Key_P)
    plan = dialog_of(window, PlanSessionDialog, qtbot)
    qtbot.keyClicks(plan.when, f"{when + timedelta(hours=1):%Y-%m-%d %H:%M}")
    plan.room.setCurrentText("Room 2")
    plan.course.setCurrentIndex(plan.course.count() - 1)  # a single session
    ctrl(qtbot, plan.when, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: plan.message.isVisible(), timeout=10000)
    assert "Room 2" in plan.message.text() and f"session {planned.id}" in plan.message.text()
    plan.reject()
    activate(qtbot, window)

    desk.search.clear()
    qtbot.keyClicks(desk.search, "kap-501")
    qtbot.keyClick(desk.search, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: desk.file is not None and desk.file.client.identifier == "KAP-501", timeout=10000)
    qtbot.keyClick(desk.move_button, Qt.Key.Key_M, Qt.KeyboardModifier.AltModifier)
    move: RescheduleDialog = dialog_of(window, RescheduleDialog, qtbot)
    move.when.selectAll()
    qtbot.keyClicks(move.when, f"{when + timedelta(days=1):%Y-%m-%d %H:%M}")
    qtbot.keyClicks(move.reason, "client asked")
    save(qtbot, window, move)
    qtbot.waitUntil(lambda: sqlite_services.clinic.session(planned.id).scheduled_at
                    == (when + timedelta(days=1)).astimezone(), timeout=10000)
    qtbot.waitUntil(lambda: desk.file is not None and desk.file.sessions[0].scheduled_at
                    == (when + timedelta(days=1)).astimezone(), timeout=10000)
    qtbot.keyClick(desk.cancel_button, Qt.Key.Key_L, Qt.KeyboardModifier.AltModifier)
    cancel: CancelDialog = dialog_of(window, CancelDialog, qtbot)
    qtbot.keyClicks(cancel.reason, "no escort")
    save(qtbot, window, cancel)
    qtbot.waitUntil(lambda: desk.sessions_model.rowCount() == 1
                    and desk.sessions_model.rows[0].state is SessionState.CANCELLED, timeout=10000)

    # --- a long, mixed-script name does not widen the window -----------------------------------------------
    QApplication.processEvents()
    assert window.minimumSizeHint().width() <= 1366 / 1.5 + 1, window.minimumSizeHint()
    close_window(qtbot, window)
