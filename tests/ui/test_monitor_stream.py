"""The bedside monitor on the session screen: the stream on the chart, confirming from the keyboard, artefacts."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QLineEdit
from pytestqt.qtbot import QtBot

from kapconsole.domain.enums import EntryKind
from kapconsole.services import Services
from kapconsole.services.monitor.ingest import MonitorIngest
from kapconsole.services.monitor.simulate import MessageFactory, Style, equipment_id
from kapconsole.ui.session.session_view import SessionView
from tests.conftest import FakeClock
from tests.ui.live_session import Live, open_live, show_session_view, wait_for_record

pytestmark = pytest.mark.qt_log_ignore("propagateSizeHints")


@pytest.fixture
def live(sqlite_services: Services, clock: FakeClock, qtbot: QtBot) -> Iterator[Live]:
    live = open_live(sqlite_services, clock, qtbot)
    sqlite_services.monitor.add_device(live.staff["administrator"], name="Bed 1 monitor", room="Room 1",
                                       identity_kind="equipment", identity=equipment_id("Room 1"))
    yield live
    live.controller.close()
    live.state.runner.wait()


@pytest.fixture
def view(live: Live, qtbot: QtBot) -> SessionView:
    return show_session_view(live, qtbot)


def send(live: Live, seconds: int, *, spo2: float = 97, spo2_flag: str = "", sbp: float | None = None) -> None:
    """``seconds`` of one-second numerics from the room's monitor, ending at the clock's now."""
    ingest = MonitorIngest(live.services.db, live.clock)
    factory = MessageFactory("Room 1", Style.MDC, prefix=f"T{live.clock.now.timestamp():.0f}")
    start = live.clock.now - timedelta(seconds=seconds - 1)
    for i in range(seconds):
        values = {"hr": 74 + i % 3, "spo2": 97, "rr": 14}
        flags = {}
        if i == seconds - 1:
            values["spo2"] = spo2
            if spo2_flag:
                flags["spo2"] = spo2_flag
            if sbp is not None:
                values.update(sbp=sbp, dbp=82)
        for message in factory.messages(start + timedelta(seconds=i), values, flags):
            result, _ = ingest.ingest(message, "test")
            assert result.ack_code == "AA" and result.session_id == live.session_id


def test_stream_is_charted_and_a_reading_is_confirmed_from_the_keyboard(live: Live, view: SessionView,
                                                                        qtbot: QtBot) -> None:
    live.clock.advance(minutes=10)
    send(live, 30, sbp=134)
    # The stream reaches the chart by polling after the last reading held: 30 heart rates, a thin unconfirmed line.
    qtbot.waitUntil(lambda: len(view.chart.stream("hr")[0]) == 30, timeout=10000)
    view.chart.flush()
    assert len(view.chart.stream("spo2")[0]) == 30
    pen, charted_pen = view.chart.stream_curves["hr"].opts["pen"], view.chart.curves["hr"].opts["pen"]
    assert pen.widthF() < charted_pen.widthF() and view.chart.stream_curves["hr"].opts["symbol"] is None
    assert len(view.chart.charted("hr")[0]) == 1  # only the baseline is in the record
    device_state = view.findChild(QLabel, "deviceState")
    qtbot.waitUntil(lambda: "Bed 1 monitor: connected" in device_state.text(), timeout=10000)
    qtbot.waitUntil(lambda: view.vitals.offer is not None, timeout=10000)

    sbp = view.findChild(QLineEdit, "vitals_sbp")
    sbp.setFocus()
    qtbot.keyClick(sbp, Qt.Key.Key_V, Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier)
    assert (sbp.text(), view.findChild(QLineEdit, "vitals_dbp").text(),
            view.findChild(QLineEdit, "vitals_spo2").text()) == ("134", "82", "97")
    qtbot.keyClick(view.focusWidget(), Qt.Key.Key_Return)
    record = wait_for_record(live, qtbot, lambda r: r.latest_vitals.payload.get("source") == "device")
    reading = record.latest_vitals
    assert reading.entry.author_name == "Nina Nurse"
    assert reading.payload["confirmed_by"] == live.staff["medical"].staff_id
    qtbot.waitUntil(lambda: view.timeline.model.index(0, 3).data().startswith("BP 134/82"), timeout=10000)
    assert view.timeline.model.index(0, 3).data().endswith("(monitor Bed 1 monitor, confirmed)")
    assert "Nina Nurse" in " ".join(str(view.timeline.model.index(0, c).data()) for c in range(5))
    assert sbp.text() == ""
    qtbot.waitUntil(lambda: len(view.chart.charted("sbp")[0]) == 2, timeout=10000)


def test_suspect_value_needs_a_second_enter_and_an_artefact_is_rejected_with_a_reason(
        live: Live, view: SessionView, qtbot: QtBot) -> None:
    live.clock.advance(minutes=10)
    send(live, 10, spo2=81, spo2_flag="questionable")
    alert = view.findChild(QLabel, "deviceAlert")
    qtbot.waitUntil(lambda: alert.isVisible() and "UNCONFIRMED" in alert.text(), timeout=10000)
    assert "SpO2 81" in alert.text()
    spo2 = view.findChild(QLineEdit, "vitals_spo2")
    spo2.setFocus()
    qtbot.keyClick(spo2, Qt.Key.Key_V, Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier)
    assert spo2.text() == "81"
    message = view.findChild(QLabel, "vitalsMessage")
    assert "Suspect" in message.text() and "questionable" in message.text()
    entries = len(live.controller.record.entries)  # type: ignore[union-attr]
    qtbot.keyClick(view.findChild(QLineEdit, "vitals_hr"), Qt.Key.Key_Return)
    assert "Enter again confirms it as checked" in message.text()
    qtbot.wait(300)
    assert len(live.services.records.record(None, live.session_id).entries) == entries  # nothing saved silently

    reason = view.findChild(QLineEdit, "artefactReason")
    assert reason.isVisible()
    reason.setFocus()
    qtbot.keyClicks(reason, "probe off the finger")
    reason.insert(" — client moved (Ärztin informiert)")  # QTest types ASCII only
    qtbot.keyClick(reason, Qt.Key.Key_Return)
    record = wait_for_record(live, qtbot, lambda r: r.entries[-1].kind is EntryKind.OBSERVATION)
    text = record.entries[-1].payload["text"]
    assert "rejected as artefact: SpO2 81" in text and "probe off the finger — client moved (Ärztin informiert)" in text
    assert record.entries[-1].author_name == "Nina Nurse"
    assert spo2.text() == ""
    # The rest of the row is still offered; the rejected SpO2 is not.
    qtbot.waitUntil(lambda: view.vitals.offer is not None and "spo2" not in view.vitals.offer.values, timeout=10000)


def test_board_shows_each_rooms_monitor_state(live: Live, qtbot: QtBot) -> None:
    from kapconsole.ui.board.board_view import BoardView

    live.services.monitor.add_device(live.staff["administrator"], name="Room 2 monitor", room="Room 2",
                                     identity_kind="bed", identity="KAP^Room 2^1")
    send(live, 3)
    board = BoardView(live.state)
    qtbot.addWidget(board)
    board.show()
    qtbot.waitExposed(board)
    label = board.findChild(QLabel, "boardMonitors")
    qtbot.waitUntil(lambda: "Room 1: Monitor Bed 1 monitor: connected" in label.text(), timeout=10000)
    assert "Room 2: Monitor Room 2 monitor: no message yet" in label.text()
    live.clock.advance(minutes=3)
    qtbot.waitUntil(lambda: "NOT CONNECTED, last message 3 min ago" in label.text(), timeout=10000)
    board.hide()
