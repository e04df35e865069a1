"""Defects of the live session screen found by hand: refusals, stale messages, switching sessions."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QComboBox, QLabel, QLineEdit, QPushButton
from pytestqt.qtbot import QtBot

from kapconsole.domain.enums import EntryKind, SideEffectKind
from kapconsole.services import Services
from kapconsole.ui.session.session_view import SessionView
from tests.conftest import FakeClock
from tests.data.helpers import dosed
from tests.ui.live_session import Live, open_live, show_session_view
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
    return show_session_view(live, qtbot)


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


def test_every_entry_form_takes_a_clinical_time_set_back(live: Live, view: SessionView, qtbot: QtBot) -> None:
    live.clock.advance(minutes=40)
    back = live.clock.now.astimezone().replace(second=0, microsecond=0) - timedelta(minutes=20)
    typed = back.strftime("%H:%M")
    # Vitals: a time in the future is refused, named, and nothing typed is lost.
    future = (live.clock.now.astimezone() + timedelta(minutes=30)).strftime("%Y-%m-%d %H:%M")
    qtbot.keyClicks(view.vitals.when, future)
    type_vitals(qtbot, view, hr=88)
    message = child(view, QLabel, "vitalsMessage")
    qtbot.waitUntil(lambda: "cannot be in the future" in message.text(), timeout=5000)
    assert child(view, QLineEdit, "vitals_hr").text() == "88"
    view.vitals.when.clear()
    qtbot.keyClicks(view.vitals.when, typed)
    qtbot.keyClick(view.vitals.when, Qt.Key.Key_Return)
    record = wait_shown(live, qtbot, view, lambda r: len(r.vitals) == 2)
    assert record.vitals[-1].at == back and view.vitals.when.text() == ""
    # Observation.
    qtbot.keyClicks(view.observation.text, "Vomited once")
    qtbot.keyClicks(view.observation.when, typed)
    qtbot.keyClick(view.observation.text, Qt.Key.Key_Return)
    record = wait_shown(live, qtbot, view, lambda r: len(r.observations) == 1)
    assert record.observations[0].at == back
    # Scale.
    view.scales.inputs[next(iter(view.scales.inputs))].setCurrentIndex(1)
    qtbot.keyClicks(view.scales.when, typed)
    qtbot.mouseClick(view.scales.save, Qt.MouseButton.LeftButton)
    record = wait_shown(live, qtbot, view, lambda r: bool(r.current(EntryKind.SCALE)))
    assert record.current(EntryKind.SCALE)[0].at == back
    # Side effect (dialog) and its resolution.
    dialog = view.side_effects.open_dialog(SideEffectKind.NAUSEA)
    assert dialog is not None
    qtbot.keyClicks(dialog.when, typed)
    with qtbot.waitSignal(dialog.finished, timeout=10000):
        qtbot.mouseClick(dialog.save_button, Qt.MouseButton.LeftButton)
    record = wait_shown(live, qtbot, view, lambda r: len(r.side_effects) == 1)
    assert record.side_effects[0].at == back
    view.side_effects.unresolved.setCurrentRow(0)
    resolved_at = back + timedelta(minutes=2)
    qtbot.keyClicks(view.side_effects.resolved_when, resolved_at.strftime("%H:%M"))
    qtbot.keyClick(view.side_effects.resolved_when, Qt.Key.Key_Return)
    record = wait_shown(live, qtbot, view, lambda r: bool(r.resolutions))
    assert next(iter(record.resolutions.values())).at == resolved_at
    # Every one of them shows in the timeline as a late entry.
    late = [view.timeline.model.index(r, 4).data() for r in range(view.timeline.model.rowCount())]
    assert sum("late entry" in (t or "") for t in late) == 5
