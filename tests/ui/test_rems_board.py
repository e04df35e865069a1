"""REMS monitoring forms due and overdue on the supervisor board and the Today screen; marking one submitted."""

from __future__ import annotations

from datetime import timedelta

import pytest
from PySide6.QtCore import Qt

from kapconsole.domain.rems import FilingStatus
from kapconsole.services import Services
from kapconsole.ui.board.rems_due import RemsDueDialog, SubmitDialog
from tests.conftest import PASSWORD, FakeClock, make_staff
from tests.data.rems_helpers import chart_84mg, form_answers
from tests.data.test_rems import CONFIRMED, FULL_SCORES, SETTING
from tests.ui.shell_support import (
    OFFSCREEN_SIZE_HINTS,
    close_window,
    isolated_settings,  # noqa: F401 (fixture)
    make_window,
    sign_in,
    wait_idle,
)

pytestmark = [pytest.mark.usefixtures("isolated_settings"), OFFSCREEN_SIZE_HINTS]


def test_the_board_and_today_show_the_forms_due_and_one_is_marked_submitted(qtbot, sqlite_services: Services,
                                                                          clock: FakeClock) -> None:
    services = sqlite_services
    staff = make_staff(services)
    services.rems.update_setting(staff["administrator"], **SETTING)
    overdue = chart_84mg(services, staff, clock, identifier="ESK-OLD", name="Tomasz Nowak")
    record = services.records.record(None, overdue)
    assert record.last_dose_at is not None
    services.rems.record_answers(staff["medical"], overdue, form_answers(record.last_dose_at + timedelta(minutes=125)))
    services.discharge.assess(staff["supervisor"], overdue, confirmations=CONFIRMED, score_parts=FULL_SCORES)
    head = services.records.record(None, overdue).info.chain_head
    services.discharge.sign(staff["supervisor"], overdue, password=PASSWORD, seen_chain_head=head)
    clock.advance(days=9)
    due = chart_84mg(services, staff, clock, identifier="ESK-NEW", name="Aiko Tanaka")

    window = make_window(qtbot, services, workstation="supervisor-desk")
    sign_in(qtbot, window, "sam", PASSWORD)
    today = window.today
    qtbot.waitUntil(lambda: today.rems_label.isVisible(), timeout=10000)
    assert today.rems_label.text() == "REMS forms: 1 overdue, 1 due"

    qtbot.keyClick(window.today.table, Qt.Key.Key_B, Qt.KeyboardModifier.ControlModifier)
    panel = window.board.rems
    qtbot.waitUntil(lambda: panel.model.rowCount() == 2, timeout=10000)
    assert panel.heading.text() == "REMS forms: 1 overdue, 1 due"
    rows = [(panel.model.index(r, 3).data(), panel.model.index(r, 0).data()) for r in range(2)]
    assert rows == [(str(overdue), "overdue by 2 days"), (str(due), "due in 7 days")]
    assert panel.model.index(0, 4).data() == "TN (ESK-OLD)"  # initials, as on the board

    # Mark the overdue one submitted, from the keyboard.
    panel.table.setFocus()
    panel.table.selectRow(0)
    qtbot.keyClick(panel.table, Qt.Key.Key_M, Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier)
    qtbot.waitUntil(lambda: window.findChild(SubmitDialog) is not None, timeout=5000)
    dialog = window.findChild(SubmitDialog)
    assert dialog is not None
    dialog.activateWindow()
    qtbot.waitUntil(dialog.isActiveWindow, timeout=5000)
    qtbot.keyClicks(dialog.confirmation, "CONF-99812")
    with qtbot.waitSignal(dialog.accepted, timeout=10000):
        qtbot.keyClick(dialog.confirmation, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(lambda: panel.model.rowCount() == 1, timeout=10000)
    assert panel.heading.text() == "REMS forms: 1 due"
    (filed,) = [i for i in services.rems.filings(include_filed=True) if i.status is FilingStatus.FILED]
    assert filed.session_id == overdue and filed.submission is not None
    assert filed.submission.confirmation == "CONF-99812" and filed.submission.by_name == "Dr Sam Supervisor"
    # The other form is not complete: marking it submitted is refused, with what is missing.
    panel.table.selectRow(0)
    dialog = panel.open_submit()
    assert dialog is not None
    dialog.activateWindow()
    qtbot.waitUntil(dialog.isActiveWindow, timeout=5000)
    qtbot.keyClick(dialog.confirmation, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(lambda: dialog.message.isVisible(), timeout=10000)
    assert "REMS answers are not complete" in dialog.message.text()
    dialog.reject()
    # The list from the menu shows the submitted one too, on request.
    window.activateWindow()
    window.show_rems_forms()
    listing = window.findChild(RemsDueDialog)
    assert listing is not None
    qtbot.waitUntil(lambda: listing.panel.model.rowCount() == 1, timeout=10000)
    listing.panel.show_filed.setChecked(True)
    qtbot.waitUntil(lambda: listing.panel.model.rowCount() == 2, timeout=10000)
    assert "CONF-99812" in listing.panel.model.index(0, 6).data()
    listing.reject()
    wait_idle(qtbot, window)
    close_window(qtbot, window)
