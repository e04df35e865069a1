"""The console shell: first start, sign-in, switch user, lock, idle lock, night mode, Today, restart recovery."""

from __future__ import annotations

from datetime import timedelta

import pytest
from PySide6.QtCore import Qt

from kapconsole.domain.enums import EntryKind, SessionState
from kapconsole.domain.errors import DatabaseUnavailable
from kapconsole.services import Services
from kapconsole.services.demo import DEMO_PASSWORD
from kapconsole.ui.shell import settings as cfg
from kapconsole.ui.shell.app_state import AppState
from kapconsole.ui.shell.first_run import FirstRunWizard
from kapconsole.ui.shell.sign_in import SignInDialog
from kapconsole.ui.widgets import theme
from tests.conftest import PASSWORD, make_staff
from tests.ui.shell_support import (
    OFFSCREEN_SIZE_HINTS,
    WORKSTATION,
    close_window,
    isolated_settings,  # noqa: F401 (fixture)
    make_window,
    plan,
    sign_in,
    visible_texts,
    wait_idle,
)

pytestmark = [pytest.mark.usefixtures("isolated_settings"), OFFSCREEN_SIZE_HINTS]


def test_first_run_wizard_creates_the_administrator(qtbot, sqlite_services: Services) -> None:
    state = AppState(sqlite_services, WORKSTATION)
    assert not sqlite_services.staff.has_administrator()
    wizard = FirstRunWizard(state)
    qtbot.addWidget(wizard)
    wizard.show()
    qtbot.keyClicks(wizard.name, "Ada Admin")
    qtbot.keyClicks(wizard.login, "ada")
    qtbot.keyClicks(wizard.password, "longpass1")
    qtbot.keyClicks(wizard.repeat, "different")
    qtbot.mouseClick(wizard.create_button, Qt.MouseButton.LeftButton)
    assert wizard.message.isVisible() and "differ" in wizard.message.text()
    # A guessable password is refused with the reason; nothing is created.
    qtbot.keyClicks(wizard.password, "password1")
    qtbot.keyClicks(wizard.repeat, "password1")
    qtbot.mouseClick(wizard.create_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: "common password" in wizard.message.text(), timeout=10000)
    assert not sqlite_services.staff.has_administrator()
    for field in (wizard.password, wizard.repeat):
        field.clear()
        qtbot.keyClicks(field, PASSWORD)
    qtbot.mouseClick(wizard.create_button, Qt.MouseButton.LeftButton)
    # Then the first room and the first client, from the keyboard.
    qtbot.waitUntil(wizard.next_step.isVisible, timeout=10000)
    assert wizard.created is not None and wizard.created.login == "ada"
    assert wizard.room.text() == "Room 1"
    qtbot.keyClicks(wizard.client_id, "KAP-1")
    wizard.client_name.insert("Zoë <b>Ñúñez</b> & 王")  # QtTest types ASCII only; text as an input method gives it
    with qtbot.waitSignal(wizard.accepted, timeout=10000):
        qtbot.keyClick(wizard.client_name, Qt.Key.Key_Return)
    assert sqlite_services.staff.has_administrator()
    assert sqlite_services.staff.authenticate("ada", PASSWORD, WORKSTATION).name == "Ada Admin"
    assert sqlite_services.clinic.rooms() == ["Room 1"]
    assert [c.name for c in sqlite_services.clinic.find_clients("nunez")] == ["Zoë <b>Ñúñez</b> & 王"]
    state.runner.wait()


def test_first_run_offers_the_demo_clinic(qtbot, sqlite_services: Services) -> None:
    state = AppState(sqlite_services, WORKSTATION)
    wizard = FirstRunWizard(state)
    qtbot.addWidget(wizard)
    wizard.show()
    qtbot.mouseClick(wizard.demo_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: wizard.demo is not None, timeout=60000)
    assert "nurse.kim" in wizard.message.text() and DEMO_PASSWORD in wizard.message.text()
    assert wizard.isVisible() and "sign in" in wizard.demo_button.text()
    with qtbot.waitSignal(wizard.accepted, timeout=5000):
        qtbot.mouseClick(wizard.demo_button, Qt.MouseButton.LeftButton)
    assert sqlite_services.staff.authenticate("nurse.kim", DEMO_PASSWORD, WORKSTATION).name == "Jordan Kim, RN"
    assert len(sqlite_services.clinic.list_sessions()) >= 6
    state.runner.wait()


def test_sign_in_wrong_then_right(qtbot, sqlite_services: Services) -> None:
    make_staff(sqlite_services)
    window = make_window(qtbot, sqlite_services)
    assert window.locked and window.stack.currentWidget() is window.lock_screen
    form = window.lock_screen.form
    qtbot.keyClicks(form.login, "nina")
    qtbot.keyClicks(form.password, "wrong-password")
    qtbot.keyClick(form.password, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: form.message.isVisible(), timeout=10000)
    assert "wrong login or password" in form.message.text()
    assert window.locked and form.password.text() == ""
    qtbot.keyClicks(form.password, PASSWORD)
    qtbot.keyClick(form.password, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: not window.locked, timeout=10000)
    wait_idle(qtbot, window)
    assert window.state.actor is not None and window.state.actor.login == "nina"
    assert window.stack.currentWidget() is window.today
    assert "Nina Nurse" in window.status_user.text()
    assert WORKSTATION in window.status_workstation.text()
    close_window(qtbot, window)


def _open_checklist(qtbot, window, services, staff, clock) -> int:  # type: ignore[no-untyped-def]
    sid = plan(services, staff["therapist"], when=clock.now)
    sign_in(qtbot, window, "nina", PASSWORD)
    qtbot.waitUntil(lambda: window.today.model.rowCount() == 1, timeout=10000)
    window.today.table.setFocus()
    qtbot.keyClick(window.today.table, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: window.stack.currentWidget() is window.checklist, timeout=10000)
    wait_idle(qtbot, window)
    return sid


def test_switch_user_changes_who_the_next_entry_is_recorded_under(qtbot, sqlite_services, clock) -> None:
    staff = make_staff(sqlite_services)
    window = make_window(qtbot, sqlite_services)
    sid = _open_checklist(qtbot, window, sqlite_services, staff, clock)
    box = window.checklist._boxes["identity"]
    box.setFocus()
    qtbot.keyClick(box, Qt.Key.Key_Space)
    qtbot.waitUntil(lambda: "Nina Nurse" in window.checklist._who["identity"].text(), timeout=10000)

    qtbot.keyClick(window.checklist, Qt.Key.Key_U, Qt.KeyboardModifier.ControlModifier)
    dialog = window.findChild(SignInDialog)
    assert dialog is not None and dialog.isVisible()
    qtbot.keyClicks(dialog.form.login, "theo")
    qtbot.keyClicks(dialog.form.password, PASSWORD)
    with qtbot.waitSignal(window.state.actor_changed, timeout=10000):
        qtbot.keyClick(dialog.form.password, Qt.Key.Key_Return)
    assert window.stack.currentWidget() is window.checklist  # the session stayed open
    assert "Theo Therapist" in window.status_user.text()

    box = window.checklist._boxes["consent"]
    box.setFocus()
    qtbot.keyClick(box, Qt.Key.Key_Space)
    qtbot.waitUntil(lambda: "Theo Therapist" in window.checklist._who["consent"].text(), timeout=10000)
    record = sqlite_services.records.record(None, sid)
    authors = {c.payload["item"]: c.entry.author_name for c in record.current(EntryKind.CHECKLIST)}
    assert authors == {"identity": "Nina Nurse", "consent": "Theo Therapist"}
    close_window(qtbot, window)


def test_lock_hides_client_details_and_sign_in_unlocks(qtbot, sqlite_services, clock) -> None:
    staff = make_staff(sqlite_services)
    window = make_window(qtbot, sqlite_services)
    _open_checklist(qtbot, window, sqlite_services, staff, clock)
    assert any("Jane Doe" in t for t in visible_texts(window))
    qtbot.keyClick(window.checklist, Qt.Key.Key_L, Qt.KeyboardModifier.ControlModifier)
    assert window.locked and window.stack.currentWidget() is window.lock_screen
    texts = visible_texts(window)
    assert not any("Jane" in t or "Doe" in t or "KAP-1" in t or "penicillin" in t for t in texts), texts
    # Ctrl+U does nothing while locked: only the lock screen's sign-in unlocks.
    qtbot.keyClick(window.lock_screen, Qt.Key.Key_U, Qt.KeyboardModifier.ControlModifier)
    assert window.findChild(SignInDialog) is None
    sign_in(qtbot, window, "sam", PASSWORD)
    assert window.stack.currentWidget() is window.checklist
    assert window.state.actor is not None and window.state.actor.login == "sam"
    assert any("Jane Doe" in t for t in visible_texts(window))
    close_window(qtbot, window)


def test_console_locks_after_the_configured_idle_time(qtbot, sqlite_services) -> None:
    make_staff(sqlite_services)
    cfg.write(cfg.KEY_IDLE_SECONDS, 1)
    window = make_window(qtbot, sqlite_services)
    sign_in(qtbot, window, "nina", PASSWORD)
    assert not window.locked
    qtbot.waitUntil(lambda: window.locked, timeout=5000)
    assert window.stack.currentWidget() is window.lock_screen
    assert window.lock_screen.title.text() == "Console locked"
    close_window(qtbot, window)


def test_idle_time_is_set_from_the_console_menu(qtbot, sqlite_services) -> None:
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication, QInputDialog

    make_staff(sqlite_services)
    window = make_window(qtbot, sqlite_services)
    sign_in(qtbot, window, "nina", PASSWORD)
    assert "Ctrl+Shift+L" in window.act_idle.toolTip()

    def answer() -> None:
        dialog = next(w for w in QApplication.topLevelWidgets() if isinstance(w, QInputDialog) and w.isVisible())
        assert dialog.intMaximum() == 30  # a console left open shows clinical data: at most half an hour
        dialog.setIntValue(12)
        dialog.accept()

    QTimer.singleShot(50, answer)
    window.act_idle.trigger()
    assert cfg.read_int(cfg.KEY_IDLE_SECONDS, 0) == 12 * 60
    close_window(qtbot, window)


NIGHT_KEY = (Qt.Key.Key_N, Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier)


def test_night_mode_is_remembered_per_context(qtbot, sqlite_services, clock) -> None:
    """Day by default outside the session screens, night by default on them; Ctrl+Shift+N switches the one shown."""
    staff = make_staff(sqlite_services)
    theme.apply_theme(theme.remembered_night())
    window = make_window(qtbot, sqlite_services)
    assert not theme.is_night() and not window.act_night.isChecked()  # the sign-in screen: day
    _open_checklist(qtbot, window, sqlite_services, staff, clock)
    assert theme.is_night() and window.act_night.isChecked()  # the dim room: night by default
    assert "16pt" in theme.stylesheet(True) and "session screens" in window.act_night.toolTip()
    assert "Ctrl+Shift+N" in window.act_night.toolTip()
    qtbot.keyClick(window.checklist, *NIGHT_KEY)
    assert not theme.is_night() and theme.remembered_night(theme.SESSION) is False
    qtbot.keyClick(window.checklist, Qt.Key.Key_T, Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier)
    assert window.stack.currentWidget() is window.today and not theme.is_night()
    qtbot.keyClick(window.today.table, *NIGHT_KEY)  # night everywhere else, day in the session screens
    assert theme.is_night() and theme.remembered_night(theme.ELSEWHERE)
    wait_idle(qtbot, window)
    qtbot.waitUntil(lambda: window.today.model.rowCount() == 1, timeout=10000)
    window.today.table.setFocus()
    window.today.table.selectRow(0)
    qtbot.keyClick(window.today.table, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: window.stack.currentWidget() is window.checklist, timeout=10000)
    assert not theme.is_night() and not window.act_night.isChecked()
    window.lock()  # the lock screen keeps the theme of the screen it covers: no flash in a dim room
    assert not theme.is_night()
    close_window(qtbot, window)
    # Next start: the sign-in screen follows the remembered choice for the screens outside the session.
    theme.apply_theme(theme.remembered_night())
    again = make_window(qtbot, sqlite_services)
    assert theme.is_night() and again.act_night.isChecked()
    palette = theme.chart_palette(True)
    assert {"sbp", "dbp", "hr", "spo2", "rr", "threshold", "dose", "background"} <= set(palette)
    close_window(qtbot, again)


def test_today_lists_the_sessions_of_the_chosen_room_and_remembers_it(qtbot, sqlite_services, clock) -> None:
    staff = make_staff(sqlite_services)
    plan(sqlite_services, staff["therapist"], when=clock.now, room="Room 1", name="Ann One", identifier="A-1")
    plan(sqlite_services, staff["therapist"], when=clock.now + timedelta(minutes=30), room="Room 2",
         name="Bob Two", identifier="B-2")
    plan(sqlite_services, staff["therapist"], when=clock.now - timedelta(days=3), room="Room 1",
         name="Old Planned", identifier="C-3")
    window = make_window(qtbot, sqlite_services)
    sign_in(qtbot, window, "nina", PASSWORD)
    qtbot.waitUntil(lambda: window.today.model.rowCount() == 2, timeout=10000)
    names = {i.client_name for i in window.today.model.rows}
    assert names == {"Ann One", "Bob Two"}  # a session planned for another day is not today's
    window.today.room.setFocus()
    index = window.today.room.findText("Room 2")
    window.today.room.setCurrentIndex(index)
    window.today.room.activated.emit(index)
    qtbot.waitUntil(lambda: [i.client_name for i in window.today.model.rows] == ["Bob Two"], timeout=10000)
    assert cfg.settings().value(cfg.KEY_ROOM) == "Room 2"
    # Keyboard: arrows and Enter start the planned session.
    window.today.table.setFocus()
    qtbot.keyClick(window.today.table, Qt.Key.Key_Down)
    assert "Start session — Bob Two" in window.today.open_button.text()
    qtbot.keyClick(window.today.table, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: window.stack.currentWidget() is window.checklist, timeout=10000)
    close_window(qtbot, window)
    again = make_window(qtbot, sqlite_services)
    sign_in(qtbot, again, "theo", PASSWORD)
    # The open session is reopened after a restart (restart recovery) …
    qtbot.waitUntil(lambda: again.stack.currentWidget() is again.checklist, timeout=10000)
    assert again.controller.record is not None and again.controller.record.info.client.name == "Bob Two"
    # … and back on Today the remembered room is still chosen; the started session shows as active.
    qtbot.keyClick(again.checklist, Qt.Key.Key_T,
                   Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier)
    qtbot.waitUntil(lambda: again.today.model.rowCount() == 1, timeout=10000)
    assert again.today.room.currentText() == "Room 2"
    assert again.today.model.rows[0].state is SessionState.CHECKLIST
    assert "Resume session" in again.today.open_button.text()
    close_window(qtbot, again)


def test_restart_reopens_the_session_open_at_this_workstation(qtbot, tmp_path, clock) -> None:
    url = f"sqlite:///{tmp_path / 'restart.db'}"
    services = Services.open(url, clock=clock)
    staff = make_staff(services)
    window = make_window(qtbot, services)
    sid = _open_checklist(qtbot, window, services, staff, clock)
    box = window.checklist._boxes["identity"]
    box.setFocus()
    qtbot.keyClick(box, Qt.Key.Key_Space)
    qtbot.waitUntil(lambda: "Nina Nurse" in window.checklist._who["identity"].text(), timeout=10000)
    # A crash: the window goes away without returning to Today, the process's services are dropped.
    window.close()
    window.state.runner.wait()
    services.close()
    reopened = Services.open(url, clock=clock)
    again = make_window(qtbot, reopened)
    sign_in(qtbot, again, "nina", PASSWORD)
    qtbot.waitUntil(lambda: again.stack.currentWidget() is again.checklist, timeout=10000)
    assert again.controller.session_id == sid
    qtbot.waitUntil(lambda: "Nina Nurse" in again.checklist._who["identity"].text(), timeout=10000)
    close_window(qtbot, again)
    reopened.close()


def test_database_unreachable_shows_red_banner_and_keeps_input(qtbot, sqlite_services, clock, monkeypatch) -> None:
    staff = make_staff(sqlite_services)
    window = make_window(qtbot, sqlite_services)
    _open_checklist(qtbot, window, sqlite_services, staff, clock)
    real = sqlite_services.records.record_vitals

    def unreachable(*_a, **_k):  # type: ignore[no-untyped-def]
        raise DatabaseUnavailable("the database server cannot be reached; nothing was saved")

    monkeypatch.setattr(sqlite_services.records, "record_vitals", unreachable)
    view = window.checklist
    qtbot.keyClicks(view.vitals["sbp"], "128")
    qtbot.keyClicks(view.vitals["dbp"], "82")
    qtbot.mouseClick(view.vitals_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: window.offline_banner.isVisible(), timeout=10000)
    assert "NOT SAVED — the database cannot be written; what you typed stays in its form" in window.offline_banner.text
    assert view.vitals["sbp"].text() == "128" and view.vitals["dbp"].text() == "82"
    monkeypatch.setattr(sqlite_services.records, "record_vitals", real)
    qtbot.mouseClick(view.vitals_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not window.offline_banner.isVisible(), timeout=10000)
    qtbot.waitUntil(lambda: "BP 128/82" in view.baseline_shown.text(), timeout=10000)
    assert view.vitals["sbp"].text() == ""
    close_window(qtbot, window)


def test_a_refused_entry_shows_one_line_in_the_error_banner(qtbot, sqlite_services, clock) -> None:
    staff = make_staff(sqlite_services)
    window = make_window(qtbot, sqlite_services)
    _open_checklist(qtbot, window, sqlite_services, staff, clock)
    view = window.checklist
    qtbot.keyClicks(view.vitals["sbp"], "400")
    qtbot.keyClicks(view.vitals["dbp"], "80")
    qtbot.keyClick(view.vitals["dbp"], Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: window.error_banner.isVisible(), timeout=10000)
    assert "Systolic BP" in window.error_banner.text and "40–300" in window.error_banner.text
    assert view.vitals["sbp"].text() == "400"  # kept for correction
    assert not window.offline_banner.isVisible()
    close_window(qtbot, window)


def test_supervisor_board_and_audit_trail_follow_the_roles(qtbot, sqlite_services, clock) -> None:
    staff = make_staff(sqlite_services)
    sid = plan(sqlite_services, staff["therapist"], when=clock.now)
    sqlite_services.records.start_session(staff["medical"], sid)
    window = make_window(qtbot, sqlite_services)
    sign_in(qtbot, window, "nina", PASSWORD)
    assert not window.act_board.isEnabled() and not window.act_audit.isEnabled()
    assert "Ctrl+B" in window.act_board.toolTip() and "Ctrl+Alt+A" in window.act_audit.toolTip()
    qtbot.keyClick(window.today.table, Qt.Key.Key_B, Qt.KeyboardModifier.ControlModifier)
    assert window.stack.currentWidget() is window.today
    qtbot.keyClick(window.today.table, Qt.Key.Key_L, Qt.KeyboardModifier.ControlModifier)
    sign_in(qtbot, window, "sam", PASSWORD)
    assert window.act_board.isEnabled() and window.act_audit.isEnabled()
    qtbot.keyClick(window.today.table, Qt.Key.Key_B, Qt.KeyboardModifier.ControlModifier)
    assert window.stack.currentWidget() is window.board
    qtbot.waitUntil(lambda: window.board.model.rowCount() == 1, timeout=10000)
    window.board.table.setFocus()
    window.board.table.selectRow(0)
    qtbot.keyClick(window.board.table, Qt.Key.Key_Return)
    # From the board a record opens read-only, whatever its state (here: the checklist is under way).
    qtbot.waitUntil(lambda: window.stack.currentWidget() is window.session_view, timeout=10000)
    assert window.controller.session_id == sid and window.session_view.read_only
    qtbot.keyClick(window.session_view, Qt.Key.Key_A,
                   Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.AltModifier)
    assert window.stack.currentWidget() is window.audit
    assert not window.session_view.read_only and window.controller.session_id is None
    wait_idle(qtbot, window)
    close_window(qtbot, window)


def test_locking_hides_an_open_dialog_and_unlocking_brings_it_back(qtbot, sqlite_services, clock) -> None:
    staff = make_staff(sqlite_services)
    window = make_window(qtbot, sqlite_services)
    _open_checklist(qtbot, window, sqlite_services, staff, clock)
    qtbot.keyClick(window.checklist, Qt.Key.Key_O,
                   Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier)
    from kapconsole.ui.checklist.checklist_view import OverrideDialog

    dialog = window.checklist.findChild(OverrideDialog)
    assert dialog is not None and dialog.isVisible()
    qtbot.keyClicks(dialog.reason, "half-typed reason")
    window.lock()
    assert not dialog.isVisible()
    assert not any("Jane" in t for t in visible_texts(window))
    sign_in(qtbot, window, "nina", PASSWORD)
    assert dialog.isVisible() and dialog.reason.toPlainText() == "half-typed reason"
    dialog.reject()
    close_window(qtbot, window)
