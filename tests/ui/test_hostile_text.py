"""A client whose name mixes scripts and markup, and markup typed into every free-text field.

Every screen must show the text exactly as typed (plain text, never as HTML; an ``&`` never a keyboard
mnemonic) and must not grow wider than a 1280-pixel screen because of it.
"""

from __future__ import annotations

import re
from datetime import date

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QInputMethodEvent
from PySide6.QtGui import Qt as GuiQt
from PySide6.QtWidgets import QAbstractButton, QApplication, QLabel, QWidget

from kapconsole.domain.enums import SessionState
from kapconsole.ui.shell.main_window import MainWindow
from tests.conftest import PASSWORD, make_staff
from tests.data.helpers import BASELINE
from tests.ui.shell_support import (
    OFFSCREEN_SIZE_HINTS,
    close_window,
    isolated_settings,  # noqa: F401 (fixture)
    make_window,
    sign_in,
    visible_texts,
    wait_idle,
)

pytestmark = [pytest.mark.usefixtures("isolated_settings"), OFFSCREEN_SIZE_HINTS]

MARKUP = "<b>bold</b> & <script>x</script>"
NAME = f"Zoë {MARKUP} 王小明さくら " + "Wolfeschlegelsteinhausenbergerdorff" * 3
INTENTION = f"Intention {MARKUP} 安心"
OBSERVATION = f"Observation {MARKUP} 静か"
LOT = "L&1<i>"


def type_text(qtbot, widget: QWidget, text: str) -> None:  # type: ignore[no-untyped-def]
    """Type ``text``: ASCII key by key; other scripts as an input method commits them (as Chinese is typed)."""
    for run in re.findall(r"[\x20-\x7e]+|[^\x20-\x7e]+", text):
        if run.isascii():
            qtbot.keyClicks(widget, run)
        else:
            event = QInputMethodEvent()
            event.setCommitString(run)
            QApplication.sendEvent(widget, event)


def _check_screen(window: MainWindow, where: str, *expected: str) -> None:
    """Every label shows plain text; what was typed is on screen as typed; the window fits 1280 px."""
    for label in window.findChildren(QLabel):
        if label.isVisible() and label.textFormat() != Qt.TextFormat.PlainText:
            assert not GuiQt.mightBeRichText(label.text()), (where, label.objectName(), label.text())
    for button in window.findChildren(QAbstractButton):
        if button.isVisible() and "&" in MARKUP and MARKUP.replace("&", "&&") in button.text():
            continue
        assert MARKUP not in button.text(), (where, "an & on a button must be doubled", button.text())
    texts = visible_texts(window)
    for text in expected:
        assert any(text in t for t in texts), (where, text)
    width = window.minimumSizeHint().width()
    assert width <= 1280, (where, width, _widest(window))


def _widest(window: QWidget) -> list[tuple[int, str]]:
    found = [(w.minimumSizeHint().width(), f"{type(w).__name__} {w.objectName()}")
             for w in window.findChildren(QWidget) if w.isVisible()]
    return sorted(found, reverse=True)[:6]


def test_markup_and_mixed_scripts_read_back_as_typed_on_every_screen(qtbot, sqlite_services, clock) -> None:
    services = sqlite_services
    staff = make_staff(services)
    client = services.clinic.add_client(staff["therapist"], identifier="KAP-9&<i>", name=NAME,
                                        date_of_birth=date(1984, 3, 2), allergies=f"Latex {MARKUP}")
    course = services.clinic.add_course(staff["therapist"], client.id, title=f"Course {MARKUP}", planned_sessions=6)
    sid = services.clinic.plan_session(staff["therapist"], client_id=client.id, course_id=course.id, room="Room 1",
                                       route="sublingual", planned_drug="Ketamine", planned_dose=200,
                                       scheduled_at=clock.now).id
    window = make_window(qtbot, services)
    window.resize(1280, 800)
    sign_in(qtbot, window, "nina", PASSWORD)
    qtbot.waitUntil(lambda: window.today.model.rowCount() == 1, timeout=10000)
    _check_screen(window, "today", NAME)
    assert "&&" in window.today.open_button.text()

    window.today.table.setFocus()
    qtbot.keyClick(window.today.table, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: window.stack.currentWidget() is window.checklist, timeout=10000)
    view = window.checklist
    qtbot.waitUntil(lambda: view._session_id == sid, timeout=10000)
    view.intention.setFocus()
    type_text(qtbot, view.intention, INTENTION)
    qtbot.keyClick(view.intention, Qt.Key.Key_I, Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier)
    qtbot.waitUntil(lambda: INTENTION in view.intention_shown.text(), timeout=10000)
    wait_idle(qtbot, window)
    _check_screen(window, "checklist", NAME, INTENTION, f"Course {MARKUP}", f"Latex {MARKUP}")

    for item in services.records.record(None, sid).protocol.checklist:
        if item.required:
            services.records.confirm_checklist_item(staff["medical"], sid, item.key)
    services.records.record_vitals(staff["medical"], sid, BASELINE)
    services.records.record_administration(staff["medical"], sid, drug="Ketamine", route="sublingual", dose=200,
                                           unit="mg", lot=LOT, ordered_by=staff["supervisor"].staff_id)
    window.controller.refresh()
    qtbot.waitUntil(lambda: window.stack.currentWidget() is window._session_view, timeout=10000)
    session = window.session_view
    session.observation.text.setFocus()
    type_text(qtbot, session.observation.text, OBSERVATION)
    qtbot.keyClick(session.observation.text, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: any(OBSERVATION in t for t in visible_texts(window)), timeout=10000)
    _check_screen(window, "session", NAME, OBSERVATION, LOT)
    assert session.client_label.text().startswith(NAME)

    # The supervisor's screens.
    sign_in_as = window.switch_user
    sign_in_as()
    dialog = window.findChild(QWidget, "signInDialog")
    qtbot.keyClicks(dialog.form.login, "sam")  # type: ignore[attr-defined]
    qtbot.keyClicks(dialog.form.password, PASSWORD)  # type: ignore[attr-defined]
    with qtbot.waitSignal(window.state.actor_changed, timeout=10000):
        qtbot.keyClick(dialog.form.password, Qt.Key.Key_Return)  # type: ignore[attr-defined]
    window.open_discharge_dialog()
    discharge = window.findChild(QWidget, "dischargeDialog")
    assert discharge is not None
    qtbot.waitUntil(lambda: discharge.record is not None, timeout=10000)  # type: ignore[attr-defined]
    assert discharge.client.text() == f"{NAME} · born 1984-03-02 · KAP-9&<i>"  # type: ignore[attr-defined]
    assert discharge.client.textFormat() == Qt.TextFormat.PlainText  # type: ignore[attr-defined]
    assert discharge.minimumSizeHint().width() <= 1280
    discharge.reject()  # type: ignore[attr-defined]
    window.show_board()
    qtbot.waitUntil(lambda: window.board.model.rowCount() == 1, timeout=10000)
    _check_screen(window, "board")  # the board shows initials only
    window.show_clients()
    clients = window.clients
    qtbot.waitUntil(lambda: clients.client_model.rowCount() >= 1, timeout=10000)
    clients.client_list.setCurrentIndex(clients.client_model.index(0, 0))
    qtbot.waitUntil(lambda: NAME in clients.details.text(), timeout=10000)
    _check_screen(window, "clients", NAME, f"Latex {MARKUP}")
    assert services.records.record(None, sid).info.state is SessionState.MONITORING
    QApplication.processEvents()
    close_window(qtbot, window)
