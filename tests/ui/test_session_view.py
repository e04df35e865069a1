"""The live session screen, driven as a user would: vitals, alerts, side effects, observations, amendments."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QCheckBox, QComboBox, QLabel, QLineEdit, QListWidget, QPushButton
from pytestqt.qtbot import QtBot

from kapconsole.domain.enums import Disposition, EndReason, EntryKind, Severity, SideEffectKind
from kapconsole.domain.errors import DatabaseUnavailable
from kapconsole.domain.record import SessionRecord
from kapconsole.services import Services
from kapconsole.ui.session.amend_dialog import AmendDialog
from kapconsole.ui.session.end_early_dialog import EndEarlyDialog
from kapconsole.ui.session.session_view import SessionView
from kapconsole.ui.session.side_effect_dialog import SideEffectDialog
from tests.conftest import PASSWORD, FakeClock
from tests.ui.live_session import Live, open_live, show_session_view

# The offscreen platform warns that it cannot propagate size hints when a window is shown.
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


def child(view: SessionView, cls: type, name: str):  # noqa: ANN201 - the widget found
    found = view.findChild(cls, name)
    assert found is not None, name
    return found


def stored(live: Live) -> SessionRecord:
    return live.services.records.record(live.staff["medical"], live.session_id)


def wait_shown(live: Live, qtbot: QtBot, view: SessionView, predicate) -> SessionRecord:  # noqa: ANN001
    """Wait until the view shows a record that satisfies ``predicate``."""
    qtbot.waitUntil(lambda: view.record is not None and bool(predicate(view.record)), timeout=10000)
    assert view.record is not None
    return view.record


def type_vitals(qtbot: QtBot, view: SessionView, **values: object) -> None:
    for key, value in values.items():
        field = child(view, QLineEdit, f"vitals_{key}")
        field.setFocus()
        field.clear()
        qtbot.keyClicks(field, str(value))
    qtbot.keyClick(child(view, QLineEdit, f"vitals_{next(iter(values))}"), Qt.Key.Key_Return)


# ----- header -------------------------------------------------------------------------------------------
def test_header_shows_client_course_and_clocks(live: Live, view: SessionView, qtbot: QtBot) -> None:
    assert child(view, QLabel, "clientName").text().startswith("Jo Client")
    assert child(view, QLabel, "courseLabel").text() == "Session 1 of 6"
    assert child(view, QLabel, "sinceDoseLabel").text() == "Since first dose\n0:00:00"
    assert child(view, QLabel, "vitalsDueLabel").text() == "Next vitals due in\n15:00"
    assert child(view, QLabel, "dischargeLabel").text() == "Earliest discharge in\n2:00:00"

    live.clock.advance(minutes=20)  # the clocks move on the timer, without a database read
    due = child(view, QLabel, "vitalsDueLabel")
    qtbot.waitUntil(lambda: "OVERDUE" in due.text(), timeout=3000)
    assert due.text() == "⚠ Vitals OVERDUE\nby 05:00"
    assert due.property("severity") == "warning"
    assert child(view, QLabel, "sinceDoseLabel").text() == "Since first dose\n0:20:00"
    assert child(view, QLabel, "dischargeLabel").text() == "Earliest discharge in\n1:40:00"

    live.clock.advance(minutes=101)
    qtbot.waitUntil(lambda: "met" in child(view, QLabel, "dischargeLabel").text(), timeout=3000)


def test_booster_and_discharge_buttons_ask_the_main_window(view: SessionView, qtbot: QtBot) -> None:
    with qtbot.waitSignal(view.dose_requested, timeout=2000):
        qtbot.mouseClick(child(view, QPushButton, "boosterButton"), Qt.MouseButton.LeftButton)
    with qtbot.waitSignal(view.discharge_requested, timeout=2000):
        qtbot.mouseClick(child(view, QPushButton, "dischargeButton"), Qt.MouseButton.LeftButton)
    assert "Ctrl+D" in child(view, QPushButton, "boosterButton").toolTip()


# ----- vitals -------------------------------------------------------------------------------------------
def test_typed_vitals_are_saved_on_enter_and_the_row_clears(live: Live, view: SessionView, qtbot: QtBot) -> None:
    type_vitals(qtbot, view, sbp=132, dbp=84, hr=76, spo2=97, rr=14, temp="36.8")
    record = wait_shown(live, qtbot, view, lambda r: len(r.vitals) == 2)
    saved = {k: record.vitals[-1].payload[k] for k in ("sbp", "dbp", "hr", "spo2", "rr", "temp")}
    assert saved == {"sbp": 132, "dbp": 84, "hr": 76, "spo2": 97, "rr": 14, "temp": 36.8}
    assert record.vitals[-1].entry.author_name == "Nina Nurse"
    assert all(child(view, QLineEdit, f"vitals_{k}").text() == "" for k in ("sbp", "dbp", "hr", "temp"))
    assert child(view, QLabel, "vitalsMessage").text().startswith("✓ Saved")
    assert not view.alert_banner.isVisible()
    assert view.timeline.model.index(0, 3).data().startswith("BP 132/84")
    assert view.chart.charted("sbp")[1].tolist()[-1] == 132


def test_an_implausible_value_is_refused_inline_and_kept(live: Live, view: SessionView, qtbot: QtBot) -> None:
    type_vitals(qtbot, view, sbp=400, dbp=80)
    message = child(view, QLabel, "vitalsMessage")
    qtbot.waitUntil(lambda: message.isVisible() and "Not saved" in message.text(), timeout=5000)
    assert "Systolic BP" in message.text() and "40–300" in message.text()
    sbp = child(view, QLineEdit, "vitals_sbp")
    assert sbp.text() == "400" and sbp.property("severity") == "danger"
    assert len(stored(live).vitals) == 1  # the baseline only


def test_nothing_typed_is_lost_when_the_database_is_unreachable(live: Live, view: SessionView, qtbot: QtBot,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    def unreachable(*_a: object, **_k: object) -> None:
        raise DatabaseUnavailable("the database cannot be reached")

    monkeypatch.setattr(live.services.records, "record_vitals", unreachable)
    type_vitals(qtbot, view, sbp=130, dbp=80, hr=70)
    qtbot.waitUntil(view.connection_banner.isVisible, timeout=5000)
    assert [child(view, QLineEdit, f"vitals_{k}").text() for k in ("sbp", "dbp", "hr")] == ["130", "80", "70"]
    monkeypatch.undo()
    qtbot.mouseClick(child(view, QPushButton, "vitalsSave"), Qt.MouseButton.LeftButton)
    wait_shown(live, qtbot, view, lambda r: len(r.vitals) == 2)
    qtbot.waitUntil(lambda: not view.connection_banner.isVisible(), timeout=5000)


def test_a_value_beyond_an_alert_line_is_saved_flagged_and_acknowledged(live: Live, view: SessionView,
                                                                         qtbot: QtBot) -> None:
    live.clock.advance(minutes=15)
    type_vitals(qtbot, view, sbp=190, dbp=95, hr=80)
    record = wait_shown(live, qtbot, view, lambda r: len(r.vitals) == 2)
    reading = record.vitals[-1]
    assert [a.measure for a in record.alerts_for(reading)] == ["sbp"]
    assert view.alert_banner.isVisible()
    assert "Systolic BP 190 mmHg ≥ 180" in child(view, QLabel, "alertText").text()
    assert view.timeline.model.index(0, 2).data() == "Vitals ⚠"
    assert [(round(p.pos().x()), p.pos().y()) for p in view.chart.alert_markers.points()] == [(15, 190.0)]
    assert "Ctrl+K" in child(view, QPushButton, "acknowledgeButton").toolTip()

    qtbot.keyClick(child(view, QLineEdit, "observationText"), Qt.Key.Key_K, Qt.KeyboardModifier.ControlModifier)
    record = wait_shown(live, qtbot, view, lambda r: not r.unacknowledged_alerts())
    ack = record.current(EntryKind.ALERT_ACK)[-1]
    assert ack.payload["vitals"] == reading.id and list(ack.payload["measures"]) == ["sbp"]
    assert ack.entry.author_name == "Nina Nurse" and ack.entry.observed_at == live.clock.now
    assert not view.alert_banner.isVisible()


def test_vitals_shortcut_focuses_the_row(view: SessionView, qtbot: QtBot) -> None:
    observation = child(view, QLineEdit, "observationText")
    observation.setFocus()
    qtbot.keyClick(observation, Qt.Key.Key_V, Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier)
    qtbot.waitUntil(lambda: QApplication.focusWidget() is child(view, QLineEdit, "vitals_sbp"), timeout=2000)
    qtbot.keyClick(QApplication.focusWidget(), Qt.Key.Key_O, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(lambda: QApplication.focusWidget() is observation, timeout=2000)


# ----- side effects -------------------------------------------------------------------------------------
def test_side_effect_with_severity_and_intervention_then_resolved(live: Live, view: SessionView,
                                                                  qtbot: QtBot) -> None:
    qtbot.mouseClick(child(view, QPushButton, "sideEffect_nausea"), Qt.MouseButton.LeftButton)
    dialog = view.findChild(SideEffectDialog)
    assert dialog is not None and dialog.kind.currentData() == SideEffectKind.NAUSEA.value
    dialog.set_severity(Severity.MODERATE)
    qtbot.keyClicks(dialog.intervention, "ondansetron 4 mg ODT")
    qtbot.mouseClick(dialog.save_button, Qt.MouseButton.LeftButton)
    record = wait_shown(live, qtbot, view, lambda r: len(r.side_effects) == 1)
    effect = record.side_effects[0]
    assert dict(effect.payload) == {"effect": "nausea", "severity": "moderate",
                                    "intervention": "ondansetron 4 mg ODT", "description": ""}
    qtbot.waitUntil(lambda: not dialog.isVisible(), timeout=3000)
    unresolved = child(view, QListWidget, "unresolvedList")
    assert unresolved.count() == 1 and unresolved.item(0).text().startswith("Nausea (moderate)")

    unresolved.setCurrentRow(0)
    qtbot.mouseClick(child(view, QPushButton, "resolveButton"), Qt.MouseButton.LeftButton)
    record = wait_shown(live, qtbot, view, lambda r: not r.unresolved_side_effects())
    assert effect.id in record.resolutions
    assert unresolved.count() == 0
    assert [line.value() for line in view.chart.side_effect_lines] == [0]


def test_other_side_effect_needs_a_description(live: Live, view: SessionView, qtbot: QtBot) -> None:
    qtbot.keyClick(child(view, QLineEdit, "observationText"), Qt.Key.Key_E, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(lambda: view.findChild(SideEffectDialog) is not None, timeout=2000)
    dialog = view.findChild(SideEffectDialog)
    dialog.kind.setCurrentIndex(dialog.kind.findData("other"))
    qtbot.mouseClick(dialog.save_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(dialog.error_label.isVisible, timeout=5000)
    assert "description" in dialog.error_label.text()
    assert dialog.isVisible() and not stored(live).side_effects


# ----- observations and scales --------------------------------------------------------------------------
def test_observation_for_integration(live: Live, view: SessionView, qtbot: QtBot) -> None:
    text = child(view, QLineEdit, "observationText")
    child(view, QComboBox, "observationCategory").setCurrentIndex(1)  # client statement
    qtbot.keyClicks(text, "I can see my grandmother's garden")
    toggle = child(view, QCheckBox, "observationIntegration")
    qtbot.keyClick(text, Qt.Key.Key_I, Qt.KeyboardModifier.ControlModifier)
    assert toggle.isChecked()
    qtbot.keyClick(text, Qt.Key.Key_Return)
    record = wait_shown(live, qtbot, view, lambda r: bool(r.integration_items))
    item = record.integration_items[-1]
    assert item.payload["text"] == "I can see my grandmother's garden"
    assert item.payload["category"] == "client_statement"
    assert text.text() == "" and not toggle.isChecked()
    assert "★ for integration" in view.timeline.model.index(0, 3).data()


def test_scale_scores(live: Live, view: SessionView, qtbot: QtBot) -> None:
    moaas = child(view, QComboBox, "scale_moaas")
    moaas.setCurrentIndex(moaas.findData(4))
    suds = child(view, QComboBox, "scale_suds")
    suds.setCurrentIndex(suds.findData(3))
    qtbot.mouseClick(child(view, QPushButton, "scaleSave"), Qt.MouseButton.LeftButton)
    record = wait_shown(live, qtbot, view, lambda r: len(r.current(EntryKind.SCALE)) == 2)
    from kapconsole.domain.enums import Scale

    assert record.latest_scale(Scale.MOAAS).payload["score"] == 4
    assert record.latest_scale(Scale.SUDS).payload["score"] == 3
    assert moaas.currentData() is None
    assert child(view, QLabel, "scaleLatest_moaas").text().startswith("last 4")


# ----- amendments and locking ---------------------------------------------------------------------------
def test_amendment_with_a_reason_shows_beside_the_original(live: Live, view: SessionView, qtbot: QtBot) -> None:
    type_vitals(qtbot, view, sbp=210, dbp=80)
    record = wait_shown(live, qtbot, view, lambda r: len(r.vitals) == 2)
    reading = record.vitals[-1]
    assert view.timeline.select_entry(reading.id)
    qtbot.mouseClick(view.timeline.amend_button, Qt.MouseButton.LeftButton)
    dialog = view.findChild(AmendDialog)
    assert dialog is not None
    sbp = dialog.findChild(QLineEdit, "amend_sbp")
    assert sbp.text() == "210"
    assert not dialog.save_button.isEnabled()  # a reason is required
    sbp.setText("120")
    qtbot.keyClicks(dialog.reason, "typed 210 for 120")
    qtbot.mouseClick(dialog.save_button, Qt.MouseButton.LeftButton)
    record = wait_shown(live, qtbot, view, lambda r: bool(r.amendments_of(reading.id)))
    assert record.vitals[-1].payload["sbp"] == 120
    row = next(r for r in range(view.timeline.model.rowCount())
               if view.timeline.model.row_at(r).entry_id == reading.id)
    status = view.timeline.model.index(row, 4).data()
    assert status.startswith("amended → BP 120/80") and "typed 210 for 120" in status
    assert view.timeline.model.index(row, 3).data(Qt.ItemDataRole.FontRole).strikeOut()
    assert not record.unacknowledged_alerts() and not view.alert_banner.isVisible()


def test_end_early_locks_quick_entry_but_amendments_remain(live: Live, view: SessionView, qtbot: QtBot) -> None:
    live.services.records.record_observation(live.staff["medical"], live.session_id, "Client asks to stop")
    # After a dose, a medical supervisor ends the session and names the disposition.
    live.state.set_actor(live.staff["supervisor"])
    dialog = view.open_end_early()
    assert isinstance(dialog, EndEarlyDialog)
    assert not dialog.ok_button.isEnabled() and dialog.disposition.isVisibleTo(dialog)
    dialog.set_reason(EndReason.CLIENT_REQUEST, "Client asked to stop; stable, escort present")
    dialog.disposition.setCurrentIndex(dialog.disposition.findData(Disposition.HOME_WITH_ESCORT.value))
    qtbot.mouseClick(dialog.ok_button, Qt.MouseButton.LeftButton)
    record = wait_shown(live, qtbot, view, lambda r: r.locked)
    assert "Client request" in record.info.end_reason and "Home with escort" in record.info.end_reason
    assert view.locked_banner.isVisible()
    assert "locked — corrections are amendments" in view.locked_banner.text()
    assert "attestation is due" in view.locked_banner.text() and view.attest_button.isVisible()
    attestation = view.open_attestation()
    assert attestation is not None
    qtbot.keyClicks(attestation.password, PASSWORD)
    qtbot.mouseClick(attestation.sign_button, Qt.MouseButton.LeftButton)
    record = wait_shown(live, qtbot, view, lambda r: not r.info.needs_attestation)
    assert record.signature is not None and record.signature.payload["disposition"] == "home_with_escort"
    assert not view.attest_button.isVisible()
    assert not child(view, QLineEdit, "vitals_sbp").isEnabled()
    assert not child(view, QPushButton, "sideEffect_nausea").isEnabled()
    assert not view.booster_button.isEnabled() and not view.end_early_button.isEnabled()
    note = record.observations[-1]
    assert view.timeline.select_entry(note.id)
    assert view.timeline.amend_button.isEnabled()


def test_every_input_has_an_accessible_name(view: SessionView) -> None:
    inputs = [w for cls in (QLineEdit, QComboBox, QCheckBox) for w in view.findChildren(cls)]
    missing = [w.objectName() for w in inputs if not w.accessibleName() and w.isVisibleTo(view)]
    assert missing == []
    for name in ("observationText", "vitals_sbp"):
        assert "Ctrl+" in child(view, QLineEdit, name).toolTip()
    for w in view.findChildren(QPushButton):
        if w.isVisibleTo(view) and w.objectName() not in ("",):
            assert w.toolTip(), w.objectName()


def test_night_mode(view: SessionView) -> None:
    view.set_night(True)
    assert view.chart.plot_widget.backgroundBrush().color().lightness() < 60
    view.set_night(False)
    assert view.chart.plot_widget.backgroundBrush().color().lightness() > 200
