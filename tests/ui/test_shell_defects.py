"""Defects found driving the console by hand: the window title, quitting with a session open, switch user."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QMessageBox

from kapconsole.services import Services
from kapconsole.ui.shell.sign_in import SignInDialog
from tests.conftest import PASSWORD, make_staff
from tests.data.helpers import dosed
from tests.ui.shell_support import (
    OFFSCREEN_SIZE_HINTS,
    WORKSTATION,
    close_window,
    isolated_settings,  # noqa: F401 (fixture)
    make_window,
    sign_in,
    wait_idle,
)

pytestmark = [pytest.mark.usefixtures("isolated_settings"), OFFSCREEN_SIZE_HINTS]


def shown_title(title: str) -> str:
    """The title a desktop shows: Qt adds the application's name unless the title already ends with it."""
    name = QApplication.applicationDisplayName()
    return title if not name or title.endswith(name) else f"{title} — {name}"


def test_window_title_names_the_console_once(qtbot, sqlite_services: Services) -> None:
    QApplication.setApplicationDisplayName("KAP Console")
    make_staff(sqlite_services)
    window = make_window(qtbot, sqlite_services)
    shown = shown_title(window.windowTitle())
    assert shown.count("KAP Console") == 1 and WORKSTATION in shown, shown
    close_window(qtbot, window)


def _session_open(qtbot, services: Services, clock, login: str = "nina"):  # type: ignore[no-untyped-def]
    staff = make_staff(services)
    sid = dosed(services, staff, clock)
    window = make_window(qtbot, services)
    sign_in(qtbot, window, login, PASSWORD)
    window.open_session(sid)
    qtbot.waitUntil(lambda: window.controller.record is not None, timeout=10000)
    wait_idle(qtbot, window)
    return window, staff, sid


def _question(window) -> QMessageBox:  # type: ignore[no-untyped-def]
    box = window.quit_question
    assert box is not None and box.isVisible()
    return box


def test_ctrl_q_on_the_lock_screen_asks_while_a_session_is_active(qtbot, sqlite_services, clock) -> None:
    window, _staff, _sid = _session_open(qtbot, sqlite_services, clock)
    window.lock()
    assert window.locked
    qtbot.keyClick(window.lock_screen, Qt.Key.Key_Q, Qt.KeyboardModifier.ControlModifier)
    box = _question(window)
    assert window.isVisible() and "A session is active in Room 1" in box.text()
    assert "Jo Client" not in box.text()  # the lock screen shows no client details
    qtbot.mouseClick(box.findChild(type(box.defaultButton()), "quitCancel"), Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: window.quit_question is None or not window.quit_question.isVisible(), timeout=5000)
    assert window.isVisible()
    qtbot.keyClick(window.lock_screen, Qt.Key.Key_Q, Qt.KeyboardModifier.ControlModifier)
    box = _question(window)
    qtbot.mouseClick(box.findChild(type(box.defaultButton()), "quitConfirm"), Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not window.isVisible(), timeout=5000)
    window.state.runner.wait(10000)


def test_never_closes_awaiting_discharge_without_a_supervisor(qtbot, sqlite_services, clock) -> None:
    window, staff, sid = _session_open(qtbot, sqlite_services, clock)
    sqlite_services.records.begin_discharge(staff["medical"], sid)
    window.controller.refresh()
    qtbot.waitUntil(lambda: window.controller.record is not None
                    and window.controller.record.info.state.value == "discharge", timeout=10000)
    window.lock()
    qtbot.keyClick(window.lock_screen, Qt.Key.Key_Q, Qt.KeyboardModifier.ControlModifier)
    box = _question(window)
    assert "awaiting discharge" in box.text() and box.findChild(type(box.defaultButton()), "quitConfirm") is None
    box.accept()
    assert window.isVisible()
    # A supervisor signed in: asked, and may quit.
    sign_in(qtbot, window, "sam", PASSWORD)
    window.request_quit()
    box = _question(window)
    assert "Quit anyway?" in box.text()
    box.reject()
    close_window(qtbot, window)


def test_switch_user_fields_keep_their_size_after_a_wrong_password(qtbot, sqlite_services, clock) -> None:
    window, _staff, _sid = _session_open(qtbot, sqlite_services, clock)
    window.switch_user()
    dialog = window.findChild(SignInDialog)
    assert dialog is not None
    qtbot.waitExposed(dialog)
    form = dialog.form
    heights = {w: w.height() for w in (form.login, form.password, form.button)}
    qtbot.keyClicks(form.login, "theo")
    qtbot.keyClicks(form.password, "wrong-password")
    qtbot.keyClick(form.password, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: form.message.isVisible(), timeout=10000)
    qtbot.wait(50)
    for w, before in heights.items():
        assert w.height() >= min(before, w.sizeHint().height()), (w.objectName(), w.height(), before)
    message = form.message
    assert message.height() >= message.heightForWidth(message.width())
    dialog.reject()
    close_window(qtbot, window)
