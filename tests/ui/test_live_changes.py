"""The open record applies what changed: rows inserted and points appended, never a rebuild; a dialog closed
while its save runs is not called back; another workstation's entries arrive as the entries after the last
one held."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
import shiboken6
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication

from kapconsole.domain.enums import EntryKind, Scale
from kapconsole.services import Services
from kapconsole.ui.session.controller import RecordChange, SessionController
from kapconsole.ui.session.dose_dialog import DoseDialog
from kapconsole.ui.session.session_view import SessionView
from kapconsole.ui.shell.app_state import AppState
from kapconsole.ui.shell.main_window import MainWindow
from kapconsole.ui.shell.tasks import Lane
from tests.conftest import PASSWORD, FakeClock, make_staff
from tests.data.helpers import dosed
from tests.ui.shell_support import (
    OFFSCREEN_SIZE_HINTS,
    close_window,
    isolated_settings,  # noqa: F401 (fixture)
    make_window,
    sign_in,
    wait_idle,
)

pytestmark = [pytest.mark.usefixtures("isolated_settings"), OFFSCREEN_SIZE_HINTS]

READINGS = 150
TYPED = "Maria Example said: «I feel the floor moving»"  # client data, as a person would type it
NOTES = 180


def _long_session(services: Services, clock: FakeClock) -> int:
    """A session of several hours: a reading a minute, observations between them (non-Latin text too)."""
    staff = make_staff(services)
    sid = dosed(services, staff, clock)
    nurse, theo = staff["medical"], staff["therapist"]
    for minute in range(READINGS):
        clock.advance(minutes=1)
        services.records.record_vitals(nurse, sid, {"sbp": 120 + minute % 9, "dbp": 78 + minute % 5,
                                                    "hr": 70 + minute % 11, "spo2": 97, "rr": 14})
        if minute % 5 != 4:
            services.records.record_observation(theo, sid, f"Ruhig, Musik läuft — 平静 ({minute})")
    return sid


def _open(qtbot, window: MainWindow, sid: int) -> SessionView:  # type: ignore[no-untyped-def]
    window.open_session(sid)
    qtbot.waitUntil(lambda: isinstance(window.stack.currentWidget(), SessionView), timeout=20000)
    view = window.stack.currentWidget()
    assert isinstance(view, SessionView)
    record = window.controller.record
    assert record is not None
    qtbot.waitUntil(lambda: view.timeline.model.rowCount() == len(record.entries), timeout=20000)
    wait_idle(qtbot, window)
    return view


def test_charting_through_a_long_session_appends_rows_and_points(qtbot, tmp_path: Path, clock: FakeClock) -> None:
    services = Services.open(f"sqlite:///{tmp_path / 'clinic.db'}", clock=clock)
    sid = _long_session(services, clock)
    window = make_window(qtbot, services)
    sign_in(qtbot, window, "nina", PASSWORD)
    view = _open(qtbot, window, sid)
    record = window.controller.record
    assert record is not None and len(record.vitals) == READINGS + 1

    model = view.timeline.model
    inserted: list[tuple[int, int]] = []
    resets: list[int] = []
    changes: list[RecordChange] = []
    model.rowsInserted.connect(lambda _p, first, last: inserted.append((first, last)))
    model.modelReset.connect(lambda: resets.append(1))
    window.controller.changed.connect(changes.append)

    for i in range(4):
        clock.advance(minutes=1)
        rows, points = model.rowCount(), len(view.chart.charted("hr")[0])
        for key, value in {"sbp": 131 + i, "dbp": 84, "hr": 77 + i, "spo2": 96, "rr": 15}.items():
            view.vitals.fields[key].setText(str(value))
        qtbot.keyClick(view.vitals.fields["rr"], Qt.Key.Key_Return)
        qtbot.waitUntil(lambda r=rows: model.rowCount() == r + 1, timeout=10000)
        wait_idle(qtbot, window)
        assert model.index(0, 3).data().startswith(f"BP {131 + i}/84 · HR {77 + i}")
        x, y = view.chart.charted("hr")
        assert len(x) == points + 1 and y[-1] == 77 + i  # appended to the chart
        qtbot.waitUntil(lambda p=points: len(view.chart.symbols["hr"].data) == p + 1, timeout=2000)  # next frame
    clock.advance(minutes=1)
    qtbot.keyClicks(view.observation.text, "Eyes open, asks for water")
    qtbot.keyClick(view.observation.text, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(lambda: model.rowCount() == rows + 2, timeout=10000)

    assert resets == []
    assert inserted == [(0, 0)] * 5  # one row each, at the top (newest first)
    assert window.controller.record is record  # applied to the open record, never read again whole
    assert changes and not any(c.replaced for c in changes)
    assert [e.kind for c in changes for e in c.appended] == [EntryKind.VITALS] * 4 + [EntryKind.OBSERVATION]
    assert len(record.entries) == len(services.records.record(None, sid).entries)
    close_window(qtbot, window)
    services.close()


def test_closing_the_dose_dialog_while_it_saves(qtbot, tmp_path: Path, clock: FakeClock) -> None:
    services = Services.open(f"sqlite:///{tmp_path / 'clinic.db'}", clock=clock)
    staff = make_staff(services)
    sid = dosed(services, staff, clock)
    clock.advance(minutes=30)
    window = make_window(qtbot, services)
    sign_in(qtbot, window, "nina", PASSWORD)
    _open(qtbot, window, sid)
    window.open_dose_dialog()
    dialog = window.findChild(DoseDialog)
    assert dialog is not None
    qtbot.waitUntil(lambda: dialog.ordered_by.currentData() is not None, timeout=10000)
    dialog.amount.setText("50")
    dialog.lot.setText("K-2291")

    # The save waits behind other work on the entries' worker: the nurse presses Esc meanwhile.
    gate = threading.Event()
    window.state.runner.submit(lambda: gate.wait(10), lane=Lane.ENTRIES)
    qtbot.mouseClick(dialog.record_button, Qt.MouseButton.LeftButton)
    assert not dialog.record_button.isEnabled(), dialog.message.text()  # saving
    gone: list[int] = []
    dialog.destroyed.connect(lambda: gone.append(1))
    qtbot.keyClick(dialog, Qt.Key.Key_Escape)
    qtbot.waitUntil(lambda: bool(gone) and not shiboken6.isValid(dialog), timeout=10000)
    gate.set()

    # The dose was saved: the record shows it at once, and nothing touched the closed dialog.
    qtbot.waitUntil(lambda: len(window.controller.record.administrations) == 2, timeout=10000)
    wait_idle(qtbot, window)
    assert len(services.records.record(None, sid).administrations) == 2
    assert window.session_view.timeline.model.index(0, 2).data() == "Dose"
    close_window(qtbot, window)
    services.close()


def test_another_workstations_entries_arrive_as_a_delta(qtbot, database_url: str, clock: FakeClock) -> None:
    room = Services.open(database_url, clock=clock)
    staff = make_staff(room)
    sid = dosed(room, staff, clock)
    state = AppState(room, "room-1")
    state.set_actor(staff["medical"])
    controller = SessionController(state)
    changes: list[RecordChange] = []
    controller.changed.connect(changes.append)
    controller.open(sid)
    qtbot.waitUntil(lambda: controller.record is not None, timeout=10000)
    record = controller.record
    held = record.last_seq
    assert [c.replaced for c in changes] == [True]

    # The therapist's tablet: its own engine, as another process would have.
    tablet = Services.open(database_url, clock=clock)
    theo = tablet.staff.authenticate("theo", PASSWORD, "tablet-2")
    clock.advance(minutes=3)
    first = tablet.records.record_observation(theo, sid, "Client smiles: «c'est doux» — 温かい")
    second = tablet.records.record_scale(theo, sid, "dissociation", 5)
    assert [e.seq for e in tablet.records.entries_after(theo, sid, held)] == [held + 1, held + 2]
    tablet.close()

    qtbot.waitUntil(lambda: record.last_seq == held + 2, timeout=10000)  # the next poll
    assert controller.record is record  # grown in place, not read again
    assert [c.replaced for c in changes] == [True, False]
    assert [e.id for e in changes[-1].appended] == [first.id, second.id]
    assert record.observations[-1].payload["text"] == "Client smiles: «c'est doux» — 温かい"
    assert record.latest_scale(Scale.DISSOCIATION) is not None
    assert record.info.entry_count == held + 2 and record.info.chain_head == second.hash
    # Nothing new: the poll applies nothing.
    qtbot.wait(2500)
    assert len(changes) == 2
    controller.close()
    state.runner.wait()
    QApplication.processEvents()
    room.close()



def test_an_unexpected_error_is_logged_without_client_data(tmp_path: Path) -> None:
    import logging

    from kapconsole import logfile
    from kapconsole.ui.shell.tasks import log_unexpected

    def save(typed: str) -> None:
        raise ValueError(f"could not store {typed!r}")  # what was typed travels in the message

    path = logfile.setup(tmp_path)
    try:
        save(TYPED)
    except ValueError as exc:
        log_unexpected("saving failed", exc)
    for handler in logging.getLogger(logfile.LOGGER).handlers:
        handler.flush()
    text = path.read_text(encoding="utf-8")
    assert "saving failed: ValueError (message withheld)" in text
    assert "test_live_changes.py" in text and "in save" in text  # the traceback, for the developer
    assert "Maria" not in text and "floor" not in text
