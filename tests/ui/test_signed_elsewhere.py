"""A supervisor signs at another workstation; the room's console shows the record locked within seconds."""

from __future__ import annotations

from pathlib import Path

from kapconsole.services import Services
from kapconsole.ui.session.controller import SessionController
from kapconsole.ui.session.session_view import LOCKED_TEXT, SessionView
from kapconsole.ui.shell.app_state import AppState
from tests.conftest import PASSWORD, make_staff
from tests.data.helpers import PARTS_OK, PERSON_OK, ready_for_discharge
from tests.ui.shell_support import OFFSCREEN_SIZE_HINTS

pytestmark = [OFFSCREEN_SIZE_HINTS]


def test_room_console_locks_when_the_supervisor_signs_elsewhere(qtbot, tmp_path: Path, clock) -> None:
    url = f"sqlite:///{tmp_path / 'clinic.db'}"
    room = Services.open(url, clock=clock)
    staff = make_staff(room)
    sid = ready_for_discharge(room, staff, clock)
    state = AppState(room, "room-1")
    state.set_actor(staff["medical"])
    controller = SessionController(state)
    view = SessionView(state, controller)
    qtbot.addWidget(view)
    view.show()
    controller.open(sid)
    qtbot.waitUntil(lambda: view.record is not None and view.record.info.id == sid, timeout=10000)
    assert view.locked_banner.isHidden() and view.vitals.isEnabled()

    # The supervisor's desk: its own process would hold its own engine; a second Services does the same here.
    desk = Services.open(url, clock=clock)
    boss = desk.staff.authenticate("sam", PASSWORD, "supervisor-desk")
    desk.discharge.assess(boss, sid, confirmations=PERSON_OK, score_parts=PARTS_OK)
    head = desk.records.record(boss, sid).info.chain_head
    desk.discharge.sign(boss, sid, password=PASSWORD, seen_chain_head=head)
    desk.close()

    # No click in the room: the controller's poll notices the new version and the view locks.
    qtbot.waitUntil(lambda: view.record is not None and view.record.locked, timeout=10000)
    assert not view.locked_banner.isHidden() and view.locked_banner.text() == LOCKED_TEXT
    assert not view.vitals.isVisibleTo(view) or not view.vitals.isEnabled()
    controller.close()
    state.runner.wait()
    room.close()
