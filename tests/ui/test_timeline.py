"""The timeline: newest first, incremental inserts, kind filter, amendments beside the original, alert flags."""

from __future__ import annotations

from datetime import timedelta

import pytest
from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from kapconsole.domain.enums import EntryKind
from kapconsole.services import Services
from kapconsole.ui.session.timeline import ROW_ROLE, TimelineModel, TimelineView, build_rows
from tests.conftest import PASSWORD, FakeClock
from tests.data.helpers import PARTS_OK, PERSON_OK
from tests.ui.live_session import Live, open_live


@pytest.fixture
def live(sqlite_services: Services, clock: FakeClock, qtbot: QtBot) -> Live:
    return open_live(sqlite_services, clock, qtbot)


def _record(live: Live):  # noqa: ANN202 - a SessionRecord
    return live.services.records.record(live.staff["medical"], live.session_id)


def _texts(model: object, column: int) -> list[str]:
    return [model.index(r, column).data() for r in range(model.rowCount())]  # type: ignore[attr-defined]


def test_rows_are_newest_first_with_time_author_kind_and_content(live: Live, qtbot: QtBot) -> None:
    live.clock.advance(minutes=5)
    live.services.records.record_observation(live.staff["therapist"], live.session_id, "Settling in")
    model = TimelineModel()
    model.set_record(_record(live))
    top = [model.index(0, c).data() for c in range(5)]
    assert top[1:4] == ["Theo Therapist", "Observation", "[General] Settling in"]
    assert top[0] == live.clock.now.astimezone().strftime("%H:%M")
    kinds = _texts(model, 2)
    assert kinds[1:3] == ["State", "Dose"] and kinds[-1] == "State"  # dose, then monitoring


def test_a_grown_record_inserts_rows_without_a_reset(live: Live, qtbot: QtBot) -> None:
    model = TimelineModel()
    model.set_record(_record(live))
    before = model.rowCount()
    resets: list[int] = []
    inserted: list[tuple[int, int]] = []
    model.modelReset.connect(lambda: resets.append(1))
    model.rowsInserted.connect(lambda _p, first, last: inserted.append((first, last)))
    live.clock.advance(minutes=15)
    live.services.records.record_vitals(live.staff["medical"], live.session_id, {"hr": 80})
    live.services.records.record_scale(live.staff["medical"], live.session_id, "moaas", 4)
    model.set_record(_record(live))
    assert resets == []
    assert inserted == [(0, 0), (0, 0)]
    assert model.rowCount() == before + 2
    assert _texts(model, 2)[:2] == ["Scale", "Vitals"]


def test_a_back_dated_entry_is_inserted_at_its_clinical_time(live: Live, qtbot: QtBot) -> None:
    model = TimelineModel()
    live.clock.advance(minutes=30)
    live.services.records.record_vitals(live.staff["medical"], live.session_id, {"hr": 80})
    model.set_record(_record(live))
    earlier = live.clock.now - (live.clock.now - _record(live).first_dose_at) / 2
    live.services.records.record_observation(live.staff["therapist"], live.session_id, "Late note",
                                             observed_at=earlier)
    model.set_record(_record(live))
    assert _texts(model, 2)[:2] == ["Vitals", "Observation"]


def test_filter_by_kind(live: Live, qtbot: QtBot) -> None:
    live.services.records.record_observation(live.staff["therapist"], live.session_id, "Quiet")
    view = TimelineView()
    qtbot.addWidget(view)
    view.set_record(_record(live))
    view.set_filter("Observations")
    assert view.proxy.rowCount() == 1
    assert view.proxy.index(0, 3).data() == "[General] Quiet"
    view.set_filter("Vitals")
    assert {view.proxy.index(r, 2).data() for r in range(view.proxy.rowCount())} == {"Vitals"}
    view.set_filter("All entries")
    assert view.proxy.rowCount() == view.model.rowCount()


def test_an_amendment_shows_beside_the_original(live: Live, qtbot: QtBot) -> None:
    nurse, sid = live.staff["medical"], live.session_id
    live.clock.advance(minutes=15)
    entry = live.services.records.record_vitals(nurse, sid, {"sbp": 210, "dbp": 85})
    view = TimelineView()
    qtbot.addWidget(view)
    view.set_record(_record(live))
    live.services.records.amend(nurse, sid, entry.id, reason="typed 210 for 120", content={"sbp": 120, "dbp": 85})
    view.set_record(_record(live))
    assert view.select_entry(entry.id)
    row = view.selected_row()
    assert row is not None and row.superseded
    index = view.proxy.index(view.table.currentIndex().row(), 4)
    status = index.data()
    assert "amended → BP 120/85" in status and "Nina Nurse" in status and "typed 210 for 120" in status
    assert view.proxy.index(index.row(), 3).data(Qt.ItemDataRole.FontRole).strikeOut()
    assert view.proxy.index(index.row(), 3).data() == "BP 210/85"
    assert "after sign-off" not in status
    view.set_filter("Amendments")
    assert view.proxy.rowCount() == 1 and view.proxy.index(0, 3).data().startswith("Amends Vitals")


def test_withdrawn_entry_and_amendment_after_sign_off(live: Live, qtbot: QtBot) -> None:
    s, sid, nurse, boss = live.services, live.session_id, live.staff["medical"], live.staff["supervisor"]
    live.clock.advance(minutes=20)
    note = s.records.record_observation(live.staff["therapist"], sid, "Wrong client's note")
    for _ in range(5):
        live.clock.advance(minutes=30)
        s.records.record_vitals(nurse, sid, {"sbp": 125, "dbp": 78, "hr": 72, "spo2": 98, "rr": 14})
    s.records.record_scale(nurse, sid, "moaas", 5)
    s.records.record_scale(nurse, sid, "dissociation", 0)
    s.discharge.assess(nurse, sid, confirmations=PERSON_OK, score_parts=PARTS_OK)
    s.discharge.sign(boss, sid, password=PASSWORD, seen_chain_head=_record(live).info.chain_head)
    s.records.amend(nurse, sid, note.id, reason="wrong client", content=None)
    rows = {r.entry_id: r for r in build_rows(_record(live))}
    assert rows[note.id].payload is None
    assert rows[note.id].amendment.startswith("entered in error")
    amendment = next(r for r in rows.values() if r.kind is EntryKind.AMENDMENT)
    assert amendment.after_signoff
    model = TimelineModel()
    model.set_record(_record(live))
    assert "[after sign-off]" in model.index(0, 4).data()


def test_flagged_vitals_show_an_alert_until_acknowledged(live: Live, qtbot: QtBot) -> None:
    nurse, sid = live.staff["medical"], live.session_id
    live.clock.advance(minutes=15)
    entry = live.services.records.record_vitals(nurse, sid, {"sbp": 190, "dbp": 100})
    model = TimelineModel()
    model.set_record(_record(live))
    assert model.index(0, 2).data() == "Vitals ⚠"
    assert model.index(0, 0).data(Qt.ItemDataRole.BackgroundRole) is not None
    assert "NOT acknowledged" in model.index(0, 4).data()
    live.services.records.acknowledge_alert(nurse, sid, entry.id, ["sbp"])
    model.set_record(_record(live))
    flagged = next(r for r in range(model.rowCount()) if model.index(r, 0).data(ROW_ROLE).entry_id == entry.id)
    assert model.index(flagged, 4).data().startswith("acknowledged")
    assert model.index(flagged, 0).data(Qt.ItemDataRole.BackgroundRole) is None


def test_the_move_to_discharged_is_not_after_sign_off(live: Live, qtbot: QtBot) -> None:
    s, sid, nurse, boss = live.services, live.session_id, live.staff["medical"], live.staff["supervisor"]
    for _ in range(5):
        live.clock.advance(minutes=30)
        s.records.record_vitals(nurse, sid, {"sbp": 125, "dbp": 78, "hr": 72, "spo2": 98, "rr": 14})
    s.records.record_scale(nurse, sid, "moaas", 5)
    s.records.record_scale(nurse, sid, "dissociation", 0)
    s.discharge.assess(nurse, sid, confirmations=PERSON_OK, score_parts=PARTS_OK)
    s.discharge.sign(boss, sid, password=PASSWORD, seen_chain_head=_record(live).info.chain_head)
    rows = build_rows(_record(live))
    discharged = [r for r in rows if r.kind is EntryKind.STATE and "→ Discharged" in r.content]
    assert len(discharged) == 1 and not discharged[0].after_signoff
    model = TimelineModel()
    model.set_record(_record(live))
    statuses = [model.index(r, 4).data() for r in range(model.rowCount())]
    assert not any("[after sign-off]" in t for t in statuses)


def test_late_entries_are_shown_as_such(live: Live, qtbot: QtBot) -> None:
    s, sid, nurse = live.services, live.session_id, live.staff["medical"]
    live.clock.advance(minutes=40)
    on_time = s.records.record_vitals(nurse, sid, {"hr": 80})
    late = s.records.record_observation(nurse, sid, "Vomited once, cleaned up",
                                        observed_at=live.clock.now - timedelta(minutes=25))
    model = TimelineModel()
    model.set_record(_record(live))
    by_id = {model.index(r, 0).data(ROW_ROLE).entry_id: r for r in range(model.rowCount())}
    status = model.index(by_id[late.id], 4).data()
    assert status.startswith("late entry: charted") and "(25 min later)" in status
    assert model.index(by_id[late.id], 0).data().endswith("◷")
    assert "Late entry" in model.index(by_id[late.id], 3).data(Qt.ItemDataRole.ToolTipRole)
    assert "late" not in (model.index(by_id[on_time.id], 4).data() or "")


def test_rescue_medication_rows_name_drug_dose_route_and_what_it_treats(live: Live, qtbot: QtBot) -> None:
    s, sid, nurse = live.services, live.session_id, live.staff["medical"]
    live.clock.advance(minutes=20)
    nausea = s.records.record_side_effect(nurse, sid, "nausea", "moderate")
    s.records.record_rescue_medication(nurse, sid, drug="ondansetron", dose="4", route="odt", reason="nausea",
                                       ordered_by=live.staff["supervisor"].staff_id, side_effect=nausea.id)
    model = TimelineModel()
    model.set_record(_record(live))
    assert model.index(0, 2).data() == "Medication"
    text = model.index(0, 3).data()
    assert text.startswith("Ondansetron 4 mg ODT — nausea (for nausea of ") and "ordered by Dr Sam Supervisor" in text
    view = TimelineView()
    qtbot.addWidget(view)
    view.set_record(_record(live))
    view.set_filter("Medications")
    assert view.proxy.rowCount() == 1


def test_tooltips_show_user_text_as_typed(live: Live, qtbot: QtBot) -> None:
    from PySide6.QtGui import QTextDocument

    live.services.records.record_observation(live.staff["therapist"], live.session_id, "<b>bold</b> & <i>x</i>")
    model = TimelineModel()
    model.set_record(_record(live))
    tip = model.index(0, 3).data(Qt.ItemDataRole.ToolTipRole)
    doc = QTextDocument()
    doc.setHtml(tip)  # what a tooltip shows
    assert "<b>bold</b> & <i>x</i>" in doc.toPlainText()
