"""The supervisor's board (every room at a glance, refreshed from other workstations) and the audit trail view."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import Qt

from kapconsole.domain.enums import SessionState
from kapconsole.domain.values import Actor
from kapconsole.services import Services
from kapconsole.ui.board.audit_view import AuditView
from kapconsole.ui.board.board_view import POLL_MS, BoardModel, BoardView
from kapconsole.ui.discharge.discharge_view import SEVERITY_ROLE, DischargeDialog
from kapconsole.ui.session.amend_dialog import AmendDialog
from kapconsole.ui.shell import settings as cfg
from kapconsole.ui.shell.app_state import AppState
from tests.conftest import PASSWORD, FakeClock, make_staff
from tests.data.helpers import BASELINE, PARTS_OK, PERSON_OK, ready_for_discharge
from tests.data.test_discharge import dosed_session
from tests.ui.shell_support import (
    OFFSCREEN_SIZE_HINTS,
    close_window,
    isolated_settings,  # noqa: F401 (fixture)
    make_window,
    sign_in,
    wait_idle,
)

pytestmark = OFFSCREEN_SIZE_HINTS
CLICK = Qt.MouseButton.LeftButton


@pytest.fixture
def staff(sqlite_services: Services) -> dict[str, Actor]:
    return make_staff(sqlite_services)


@pytest.fixture
def state(sqlite_services: Services, staff: dict[str, Actor]) -> Iterator[AppState]:
    app_state = AppState(sqlite_services, "supervisor-desk")
    app_state.set_actor(staff["supervisor"])
    yield app_state
    app_state.runner.wait(10000)


@pytest.fixture
def other_workstation(tmp_path: Path, clock: FakeClock) -> Iterator[Services]:
    """A second console on the same database file (another process in real life)."""
    services = Services.open(f"sqlite:///{tmp_path / 'kapconsole.db'}", clock=clock)
    yield services
    services.close()


def make_board(qtbot, state: AppState) -> BoardView:  # type: ignore[no-untyped-def]
    board = BoardView(state)
    qtbot.addWidget(board)
    board.resize(1400, 500)
    board.show()
    qtbot.waitExposed(board)
    return board


def cell(board: BoardView, session_id: int, column: int, role: int = Qt.ItemDataRole.DisplayRole) -> object:
    row = board.model.row_of(session_id)
    assert row is not None, f"session {session_id} is not on the board"
    return board.model.index(row, column).data(role)


def two_rooms(services: Services, staff: dict[str, Actor], clock: FakeClock) -> tuple[int, int]:
    """Room 1 ready to sign; Room 2 dosed later, with a high reading and the next one overdue."""
    ready = ready_for_discharge(services, staff, clock, identifier="KAP-1")
    services.discharge.assess(staff["medical"], ready, confirmations=PERSON_OK, score_parts=PARTS_OK)
    other = dosed_session(services, staff, identifier="KAP-2", name="Robin Mae Stone", room="Room 2",
                          workstation="room-2")
    clock.advance(minutes=10)
    services.records.record_vitals(staff["medical"], other, {**BASELINE, "sbp": 184})
    clock.advance(minutes=17)
    return ready, other


def test_board_shows_every_room_and_what_needs_attention(qtbot, sqlite_services: Services,
                                                         staff: dict[str, Actor], clock: FakeClock,
                                                         state: AppState) -> None:
    ready, other = two_rooms(sqlite_services, staff, clock)
    board = make_board(qtbot, state)
    qtbot.waitUntil(lambda: board.model.rowCount() == 2, timeout=10000)
    assert [cell(board, s, BoardModel.ROOM) for s in (ready, other)] == ["Room 1", "Room 2"]
    assert cell(board, ready, BoardModel.CLIENT) == "JC"  # initials only, never the name
    assert cell(board, ready, BoardModel.STATE) == SessionState.DISCHARGE.label
    assert str(cell(board, ready, BoardModel.DISCHARGE)).startswith("Ready to sign · ")
    assert cell(board, ready, BoardModel.DISCHARGE, SEVERITY_ROLE) == "ok"

    assert cell(board, other, BoardModel.CLIENT) == "RMS"
    assert cell(board, other, BoardModel.WORKSTATION) == "room-2"
    assert cell(board, other, BoardModel.SINCE) == "27 min"
    assert cell(board, other, BoardModel.LAST) == "BP 184/78\nHR 72 · SpO2 98%"  # two lines, to fit
    assert cell(board, other, BoardModel.LAST, Qt.ItemDataRole.AccessibleTextRole) == "BP 184/78 · HR 72 · SpO2 98%"
    assert cell(board, other, BoardModel.VITALS) == "OVERDUE (BP, HR, SpO2, RR) · 17 min"
    assert cell(board, other, BoardModel.VITALS, SEVERITY_ROLE) == "warning"
    assert cell(board, other, BoardModel.ALERTS) == "ESCALATED · 1 unacknowledged · oldest 17 min"
    assert cell(board, other, BoardModel.ALERTS, SEVERITY_ROLE) == "danger"
    assert cell(board, other, BoardModel.ALERTS, Qt.ItemDataRole.BackgroundRole) is not None
    assert cell(board, other, BoardModel.DISCHARGE) == "1 h 33 min to go"
    assert cell(board, ready, BoardModel.ALERTS, SEVERITY_ROLE) == ""
    assert board.status.text().startswith("2 active sessions · checked ")


def test_board_refreshes_after_a_change_at_another_workstation(qtbot, sqlite_services: Services,
                                                               staff: dict[str, Actor], clock: FakeClock,
                                                               state: AppState,
                                                               other_workstation: Services) -> None:
    ready, other = two_rooms(sqlite_services, staff, clock)
    board = make_board(qtbot, state)
    qtbot.waitUntil(lambda: board.model.rowCount() == 2, timeout=10000)

    nurse = other_workstation.staff.authenticate("nina", PASSWORD, "room-2")
    reading = other_workstation.records.record(nurse, other).vitals[-1]
    written = time.monotonic()
    other_workstation.records.acknowledge_alert(nurse, other, reading.id, ["sbp"])
    qtbot.waitUntil(lambda: cell(board, other, BoardModel.ALERTS) == "none", timeout=5000)
    latency = time.monotonic() - written
    other_workstation.records.record_vitals(nurse, other, BASELINE)
    qtbot.waitUntil(lambda: cell(board, other, BoardModel.VITALS) == "0 min ago", timeout=5000)
    print(f"board refresh latency: {latency * 1000:.0f} ms (poll every {POLL_MS} ms)")
    assert latency < POLL_MS / 1000 + 1.5

    # A session opening at another workstation appears; a signed one leaves the board.
    third = dosed_session(other_workstation, {**staff, "medical": nurse}, identifier="KAP-3", room="Room 3")
    qtbot.waitUntil(lambda: board.model.row_of(third) is not None, timeout=5000)
    boss = other_workstation.staff.authenticate("sam", PASSWORD, "supervisor-2")
    other_workstation.discharge.sign(boss, ready, password=PASSWORD,
                                     seen_chain_head=other_workstation.clinic.session(ready).chain_head)
    qtbot.waitUntil(lambda: board.model.row_of(ready) is None, timeout=5000)
    qtbot.waitUntil(lambda: not state.runner.busy, timeout=5000)


def test_open_a_session_from_the_board(qtbot, sqlite_services: Services, staff: dict[str, Actor],
                                       clock: FakeClock, state: AppState) -> None:
    ready, other = two_rooms(sqlite_services, staff, clock)
    board = make_board(qtbot, state)
    qtbot.waitUntil(lambda: board.model.rowCount() == 2, timeout=10000)
    board.table.setFocus()
    qtbot.keyClick(board.table, Qt.Key.Key_Down)
    # The room whose alert waits beyond the protocol's escalation time is at the top.
    with qtbot.waitSignal(board.open_session, timeout=2000) as opened:
        qtbot.mouseClick(board.open_button, CLICK)
    assert opened.args == [ready]
    with qtbot.waitSignal(board.open_session, timeout=2000) as opened:
        qtbot.keyClick(board.table, Qt.Key.Key_Up)
        qtbot.keyClick(board.table, Qt.Key.Key_Return)
    assert opened.args == [other]


@pytest.mark.usefixtures("isolated_settings")
def test_a_session_opened_from_the_board_is_read_only(qtbot, sqlite_services: Services, staff: dict[str, Actor],
                                                      clock: FakeClock) -> None:
    _ready, other = two_rooms(sqlite_services, staff, clock)
    window = make_window(qtbot, sqlite_services, workstation="supervisor-desk")
    sign_in(qtbot, window, "sam", PASSWORD)
    qtbot.keyClick(window.today.table, Qt.Key.Key_B, Qt.KeyboardModifier.ControlModifier)
    board, view = window.board, window.session_view
    qtbot.waitUntil(lambda: board.model.rowCount() == 2, timeout=10000)
    board.table.setFocus()
    board.table.selectRow(board.model.row_of(other))
    qtbot.keyClick(board.table, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: window.stack.currentWidget() is view and view.record is not None, timeout=10000)
    assert view.read_only and view.record.info.id == other
    assert view.read_only_banner.isVisible()
    assert view.read_only_label.text().startswith("Read-only — opened from the supervisor board")
    assert view.back_button.isVisible() and "Esc" in view.back_button.text()
    # Header, chart and timeline; no quick entry, no amending, no acknowledging, no booster.
    assert view.header.isVisible() and view.chart.isVisible() and view.timeline.isVisible()
    assert not view.entry_scroll.isVisible() and not view.quick_entry.isEnabled()
    assert not view.timeline.amend_button.isVisible() and not view.booster_button.isVisible()
    assert view.alert_banner.isVisible() and not view.ack_button.isVisible()
    assert view.timeline.table.hasFocus()
    view.timeline.table.selectRow(0)
    ctrl_shift = Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier
    qtbot.keyClick(view.timeline.table, Qt.Key.Key_A, ctrl_shift)
    assert view.findChild(AmendDialog) is None
    # The supervisor can still assess and sign from here.
    qtbot.keyClick(view.timeline.table, Qt.Key.Key_D, ctrl_shift)
    dialog = window.findChild(DischargeDialog)
    assert dialog is not None and dialog.isVisible()
    qtbot.waitUntil(lambda: dialog.record is not None and dialog.record.info.id == other, timeout=10000)
    assert dialog.assess_button.isEnabled()
    dialog.reject()
    # Esc goes back to the board and closes the record; nothing is remembered for restart recovery.
    qtbot.keyClick(view.timeline.table, Qt.Key.Key_Escape)
    assert window.stack.currentWidget() is board
    assert not view.read_only and window.controller.session_id is None
    assert cfg.read_int(cfg.open_session_key("supervisor-desk"), 0) == 0
    wait_idle(qtbot, window)
    close_window(qtbot, window)


def test_sign_a_discharge_from_the_board(qtbot, sqlite_services: Services, staff: dict[str, Actor],
                                         clock: FakeClock, state: AppState) -> None:
    ready, _other = two_rooms(sqlite_services, staff, clock)
    board = make_board(qtbot, state)
    qtbot.waitUntil(lambda: board.model.rowCount() == 2, timeout=10000)
    board.table.selectRow(board.model.row_of(ready))
    qtbot.mouseClick(board.discharge_button, CLICK)
    dialog = board.discharge_dialog
    assert dialog is not None
    qtbot.waitUntil(lambda: dialog.record is not None and dialog.sign_button.isEnabled(), timeout=10000)
    assert dialog.heading.text() == "Discharge — Room 1"
    assert dialog.client.text() == "Jo Client · born not recorded · KAP-1"  # in full, not initials
    qtbot.mouseClick(dialog.sign_button, CLICK)
    signature = dialog.signature_dialog
    assert signature is not None
    qtbot.keyClicks(signature.password, PASSWORD)
    with qtbot.waitSignal(signature.finished, timeout=10000):
        qtbot.keyClick(signature.password, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: dialog.record.info.state is SessionState.DISCHARGED, timeout=10000)
    qtbot.mouseClick(dialog.close_button, CLICK)
    qtbot.waitUntil(lambda: board.model.row_of(ready) is None, timeout=5000)
    assert board.discharge_dialog is None
    qtbot.waitUntil(lambda: not state.runner.busy, timeout=5000)


def test_board_is_for_clinicians(qtbot, sqlite_services: Services, staff: dict[str, Actor], clock: FakeClock,
                                 state: AppState) -> None:
    two_rooms(sqlite_services, staff, clock)
    state.set_actor(staff["administrator"])
    board = make_board(qtbot, state)
    qtbot.wait(POLL_MS + 200)
    assert board.model.rowCount() == 0
    assert board.empty.text() == "The board needs a signed-in clinician."
    state.set_actor(staff["supervisor"])
    qtbot.waitUntil(lambda: board.model.rowCount() == 2, timeout=5000)
    qtbot.waitUntil(lambda: not state.runner.busy, timeout=5000)


def test_audit_trail_filters(qtbot, sqlite_services: Services, staff: dict[str, Actor], clock: FakeClock,
                             state: AppState) -> None:
    ready, _other = two_rooms(sqlite_services, staff, clock)
    boss = sqlite_services.staff.authenticate("sam", PASSWORD, "supervisor-desk")
    with pytest.raises(Exception, match="wrong password"):
        sqlite_services.discharge.sign(boss, ready, password="nope-nope", seen_chain_head="")
    view = AuditView(state)
    qtbot.addWidget(view)
    view.resize(1200, 500)
    view.show()
    qtbot.waitUntil(lambda: view.model.rowCount() > 10, timeout=5000)
    qtbot.keyClicks(view.action, "signature reauth")
    qtbot.waitUntil(lambda: view.model.rowCount() == 1, timeout=5000)
    model = view.model
    assert [model.index(0, c).data() for c in range(1, 6)] == [
        "Dr Sam Supervisor", "supervisor-desk", "signature reauth failed", str(ready), "wrong password (1 in a row at this workstation)"]
    view.action.clear()
    qtbot.keyClicks(view.session, str(ready))
    qtbot.waitUntil(lambda: view.model.rowCount() > 0 and all(
        model.index(r, 4).data() == str(ready) for r in range(model.rowCount())), timeout=5000)
    view.session.clear()
    view.workstation.setCurrentText("supervisor-desk")
    qtbot.waitUntil(lambda: view.model.rowCount() > 0 and all(
        model.index(r, 2).data() == "supervisor-desk" for r in range(model.rowCount())), timeout=5000)
    view.workstation.setCurrentText("")
    qtbot.keyClicks(view.person, "Nina")
    qtbot.waitUntil(lambda: view.model.rowCount() > 0 and all(
        model.index(r, 1).data() == "Nina Nurse" for r in range(model.rowCount())), timeout=5000)
    # Therapists do not see the audit trail.
    state.set_actor(staff["therapist"])
    qtbot.waitUntil(lambda: view.model.rowCount() == 0, timeout=5000)
    assert view.status.text() == "The audit trail is for medical supervisors and administrators."
    qtbot.waitUntil(lambda: not state.runner.busy, timeout=5000)
