"""Rescue and adjunct medications from the live session: formulary, linked side effect, timeline and chart."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest
from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from kapconsole.domain.enums import EntryKind
from kapconsole.services import Services
from kapconsole.ui.session.rescue_dialog import RescueDialog
from kapconsole.ui.session.session_view import SessionView
from tests.conftest import FakeClock
from tests.ui.live_session import Live, open_live, show_session_view
from tests.ui.test_session_view import stored, wait_shown

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


def _open(qtbot: QtBot, view: SessionView) -> RescueDialog:
    qtbot.keyClick(view.side_effects.unresolved, Qt.Key.Key_M,
                   Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier)
    dialog = view.findChild(RescueDialog)
    assert dialog is not None and dialog.isVisible()
    qtbot.waitUntil(lambda: dialog.ordered_by.count() > 1, timeout=10000)
    return dialog


def test_ondansetron_for_the_selected_nausea_from_the_keyboard(live: Live, view: SessionView, qtbot: QtBot) -> None:
    live.clock.advance(minutes=20)
    nausea = live.services.records.record_side_effect(live.staff["medical"], live.session_id, "nausea", "moderate")
    live.controller.refresh()
    wait_shown(live, qtbot, view, lambda r: len(r.side_effects) == 1)
    view.side_effects.unresolved.setFocus()
    view.side_effects.unresolved.setCurrentRow(0)
    dialog = _open(qtbot, view)
    # The formulary's first drug, its usual dose and unit, its indication as the reason; the nausea linked.
    assert dialog.selected().key == "ondansetron"  # type: ignore[union-attr]
    assert dialog.dose.text() == "4" and dialog.unit.currentText() == "mg"
    assert [dialog.route.itemData(i) for i in range(dialog.route.count())] == ["odt", "iv", "po"]
    assert dialog.reason.text() == "Nausea or vomiting"
    assert dialog.side_effect.currentData() == nausea.id
    assert dialog.ordered_by.currentText() == "Dr Sam Supervisor"  # the only prescriber
    assert dialog.given_by.currentText() == "Nina Nurse"
    with qtbot.waitSignal(dialog.finished, timeout=10000):
        qtbot.keyClick(dialog.dose, Qt.Key.Key_Return)
    record = wait_shown(live, qtbot, view, lambda r: len(r.rescue_medications) == 1)
    (med,) = record.rescue_values()
    assert (med.drug, med.dose, med.route.value, med.side_effect) == ("Ondansetron", 4.0, "odt", nausea.id)
    assert view.timeline.model.index(0, 2).data() == "Medication"
    assert "Ondansetron 4 mg ODT" in view.timeline.model.index(0, 3).data()
    assert [round(line.value()) for line in view.chart.medication_lines] == [20]
    assert any("℞ Ondansetron 4 mg ODT" in label.toPlainText() for label in view.chart.marker_labels)
    assert "Recorded Ondansetron 4 mg ODT" in view.side_effects.message.text()


def test_above_the_maximum_asks_for_the_reason_and_keeps_the_form(live: Live, view: SessionView,
                                                                   qtbot: QtBot) -> None:
    boss = live.staff["supervisor"].staff_id
    for _ in range(2):
        live.services.records.record_rescue_medication(live.staff["medical"], live.session_id, drug="ondansetron",
                                                       dose=4, route="odt", reason="nausea", ordered_by=boss)
    live.controller.refresh()
    wait_shown(live, qtbot, view, lambda r: len(r.rescue_medications) == 2)
    dialog = _open(qtbot, view)
    qtbot.keyClick(dialog.reason, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: dialog.message.isVisible(), timeout=10000)
    assert "at most 8 mg in one session" in dialog.message.text() and dialog.why_more.isVisible()
    assert dialog.dose.text() == "4" and dialog.isVisible()
    qtbot.keyClicks(dialog.why_more, "persistent vomiting; Dr S by phone")
    with qtbot.waitSignal(dialog.finished, timeout=10000):
        qtbot.keyClick(dialog.why_more, Qt.Key.Key_Return)
    record = wait_shown(live, qtbot, view, lambda r: len(r.rescue_medications) == 3)
    assert record.rescue_values()[-1].over_max_reason == "persistent vomiting; Dr S by phone"
    assert [e.kind for e in stored(live).entries].count(EntryKind.RESCUE_MEDICATION) == 3


def test_a_drug_off_the_formulary_back_timed(live: Live, view: SessionView, qtbot: QtBot) -> None:
    live.clock.advance(minutes=30)
    dialog = _open(qtbot, view)
    dialog.drug.setCurrentIndex(dialog.drug.findData("__other__"))
    assert dialog.other_drug.isVisible() and dialog.unit.isEnabled()
    qtbot.keyClicks(dialog.other_drug, "Diphenhydramine")
    qtbot.keyClicks(dialog.dose, "25")
    dialog.route.setCurrentIndex(dialog.route.findData("iv"))
    qtbot.keyClicks(dialog.reason, "itching")
    earlier = live.clock.now.astimezone().replace(second=0, microsecond=0) - timedelta(minutes=10)
    qtbot.keyClicks(dialog.time, earlier.strftime("%H:%M"))
    with qtbot.waitSignal(dialog.finished, timeout=10000):
        qtbot.mouseClick(dialog.record_button, Qt.MouseButton.LeftButton)
    record = wait_shown(live, qtbot, view, lambda r: len(r.rescue_medications) == 1)
    assert record.rescue_medications[0].at == earlier
    assert record.rescue_values()[0].formulary_key == "" and record.rescue_values()[0].unit == "mg"
