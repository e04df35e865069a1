"""Defects of the live session screen found by hand: refusals, stale messages, switching sessions."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QComboBox, QLabel, QLineEdit, QPushButton
from pytestqt.qtbot import QtBot

from kapconsole.services import Services
from kapconsole.ui.session.session_view import SessionView
from tests.conftest import FakeClock
from tests.data.helpers import dosed
from tests.ui.live_session import Live, open_live, wait_for_record
from tests.ui.test_session_view import child, type_vitals, wait_shown

pytestmark = pytest.mark.qt_log_ignore("propagateSizeHints")


@pytest.fixture
def live(sqlite_services: Services, clock: FakeClock, qtbot: QtBot) -> Iterator[Live]:
    live = open_live(sqlite_services, clock, qtbot)
    yield live
    live.controller.close()
    live.state.runner.wait()


@pytest.fixture
def view(live: Live, qtbot: QtBot) -> SessionView:
    widget = SessionView(live.state, live.controller)
    qtbot.addWidget(widget)
    widget.resize(1500, 950)
    widget.show()
    qtbot.waitExposed(widget)
    live.controller.open(live.session_id)
    wait_for_record(live, qtbot)
    qtbot.waitUntil(lambda: widget.record is not None)
    return widget


def test_every_refused_measure_is_shown_at_once_as_typed(live: Live, view: SessionView, qtbot: QtBot) -> None:
    type_vitals(qtbot, view, sbp=400, dbp=80, hr=12, spo2="abc")
    message = child(view, QLabel, "vitalsMessage")
    qtbot.waitUntil(lambda: message.isVisible() and "Not saved" in message.text(), timeout=5000)
    text = message.text()
    assert "3 measures are not accepted" in text
    assert "Systolic BP: 400 is not accepted" in text and "400.0" not in text
    assert "Heart rate: 12 is not accepted" in text and "SpO2: 'abc' is not accepted" in text
    marked = {k for k in ("sbp", "dbp", "hr", "spo2") if child(view, QLineEdit, f"vitals_{k}").property("severity")
              == "danger"}
    assert marked == {"sbp", "hr", "spo2"}


def test_a_refusal_goes_when_the_fields_are_edited_or_cleared(live: Live, view: SessionView, qtbot: QtBot) -> None:
    type_vitals(qtbot, view, sbp=400, dbp=80)
    message = child(view, QLabel, "vitalsMessage")
    qtbot.waitUntil(lambda: "Not saved" in message.text(), timeout=5000)
    sbp = child(view, QLineEdit, "vitals_sbp")
    sbp.setFocus()
    sbp.selectAll()
    qtbot.keyClick(sbp, Qt.Key.Key_Delete)
    assert not message.isVisible() and message.text() == ""
    # An observation refused, then typed again: the old refusal does not stay under the new text.
    obs = child(view, QLineEdit, "observationText")
    obs_message = child(view, QLabel, "observationMessage")
    qtbot.mouseClick(child(view, QPushButton, "observationSave"), Qt.MouseButton.LeftButton)
    assert "Type the observation first" in obs_message.text()
    qtbot.keyClicks(obs, "Calm")
    assert obs_message.text() == ""


def test_recorded_from_one_client_never_shows_on_another(live: Live, view: SessionView, qtbot: QtBot) -> None:
    moaas = child(view, QComboBox, "scale_moaas")
    moaas.setFocus()
    moaas.setCurrentIndex(1)
    qtbot.mouseClick(child(view, QPushButton, "scaleSave"), Qt.MouseButton.LeftButton)
    message = child(view, QLabel, "scaleMessage")
    qtbot.waitUntil(lambda: "Recorded" in message.text(), timeout=5000)
    type_vitals(qtbot, view, sbp=400, dbp=80)
    vitals_message = child(view, QLabel, "vitalsMessage")
    qtbot.waitUntil(lambda: "Not saved" in vitals_message.text(), timeout=5000)
    other = dosed(live.services, live.staff, live.clock, identifier="KAP-2")
    live.controller.open(other)
    wait_shown(live, qtbot, view, lambda r: r.info.id == other)
    assert message.text() == "" and not message.isVisible()
    assert vitals_message.text() == "" and not vitals_message.isVisible()
