"""The therapist's closing note on the session screen; outcome measures and the item-9 flag on the checklist."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from kapconsole.services import Services
from kapconsole.ui.checklist.outcome_dialog import OutcomeDialog
from kapconsole.ui.session.closing_note_dialog import ClosingNoteDialog
from kapconsole.ui.session.session_view import SessionView
from tests.conftest import FakeClock
from tests.ui.live_session import Live, open_live, wait_for_record
from tests.ui.shell_support import OFFSCREEN_SIZE_HINTS, isolated_settings  # noqa: F401 (fixture)

pytestmark = [pytest.mark.usefixtures("isolated_settings"), OFFSCREEN_SIZE_HINTS]


def _view(live: Live, qtbot: QtBot) -> SessionView:
    widget = SessionView(live.state, live.controller)
    qtbot.addWidget(widget)
    widget.resize(1500, 950)
    widget.show()
    qtbot.waitExposed(widget)
    live.controller.open(live.session_id)
    wait_for_record(live, qtbot)
    qtbot.waitUntil(lambda: widget.record is not None)
    return widget


@pytest.fixture
def therapist_live(sqlite_services: Services, clock: FakeClock, qtbot: QtBot) -> Iterator[Live]:
    live = open_live(sqlite_services, clock, qtbot, signed_in="therapist")
    yield live
    live.controller.close()
    live.state.runner.wait()


@pytest.fixture
def nurse_live(sqlite_services: Services, clock: FakeClock, qtbot: QtBot) -> Iterator[Live]:
    live = open_live(sqlite_services, clock, qtbot, signed_in="medical")
    yield live
    live.controller.close()
    live.state.runner.wait()


def test_the_therapist_writes_the_closing_note(therapist_live: Live, qtbot: QtBot) -> None:
    live = therapist_live
    view = _view(live, qtbot)
    assert view.closing_note_button.isVisible() and view.closing_note_button.isEnabled()
    dialog = view.open_closing_note()
    assert isinstance(dialog, ClosingNoteDialog)
    assert not dialog.save_button.isEnabled()  # the client's state at departure is required
    qtbot.keyClicks(dialog.fields["state"], "Calm & oriented <b>not bold</b>")
    qtbot.keyClicks(dialog.fields["words"], "\"Lighter.\"")
    qtbot.keyClicks(dialog.fields["suggestions"], "Body scan")
    assert dialog.save_button.isEnabled()
    qtbot.mouseClick(dialog.save_button, Qt.MouseButton.LeftButton)
    record = wait_for_record(live, qtbot, lambda r: r.closing_note is not None)
    note = record.closing_note
    assert note is not None and note.entry.author_name == "Theo Therapist"
    assert note.payload["state"] == "Calm & oriented <b>not bold</b>" and note.payload["themes"] == ""
    qtbot.waitUntil(lambda: not view.closing_note_button.isEnabled())  # one note; corrections are amendments


def test_medical_staff_have_no_closing_note_button(nurse_live: Live, qtbot: QtBot) -> None:
    view = _view(nurse_live, qtbot)
    assert not view.closing_note_button.isVisible()
    assert view.open_closing_note() is None


def test_outcome_measure_at_check_in_shows_the_item_nine_flag(qtbot: QtBot, sqlite_services: Services,
                                                              clock: FakeClock) -> None:
    from tests.ui.test_checklist import _started

    window, _staff, sid = _started(qtbot, sqlite_services, clock)
    view = window.checklist
    assert not view.safety.isVisible()
    view.outcome_button.click()
    dialog = view.findChild(OutcomeDialog)
    assert isinstance(dialog, OutcomeDialog)
    assert [dialog.instrument.itemText(i) for i in range(dialog.instrument.count())] == ["PHQ-9", "GAD-7", "PCL-5"]
    for box, value in zip(dialog.items, (3, 3, 2, 3, 2, 3, 2, 3, 1), strict=True):
        box.setValue(value)
    assert dialog.total.text() == "Total 22 of 27: severe"
    assert dialog.flag.isVisible()
    qtbot.mouseClick(dialog.save_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: view.safety.isVisible(), timeout=10000)
    assert "PHQ-9 item 9 answered 1" in view.safety.text()
    assert view.outcomes_shown.text() == "PHQ-9 22 (severe)"
    record = sqlite_services.records.record(None, sid)
    assert record.outcome_scores["phq9"].items[8] == 1
