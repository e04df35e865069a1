"""Building a live session for the session-screen tests: services → AppState → SessionController."""

from __future__ import annotations

from dataclasses import dataclass

from pytestqt.qtbot import QtBot

from kapconsole.domain.record import SessionRecord
from kapconsole.domain.values import Actor
from kapconsole.services import Services
from kapconsole.ui.session.controller import SessionController
from kapconsole.ui.session.session_view import SessionView
from kapconsole.ui.shell.app_state import AppState
from tests.conftest import FakeClock, make_staff
from tests.data.helpers import BASELINE, dosed

__all__ = ["BASELINE", "Live", "open_live", "populate_hours", "wait_for_record"]


@dataclass
class Live:
    services: Services
    clock: FakeClock
    staff: dict[str, Actor]
    state: AppState
    controller: SessionController
    session_id: int


def open_live(services: Services, clock: FakeClock, qtbot: QtBot, *, signed_in: str = "medical") -> Live:
    """A session in monitoring (checklist confirmed, baseline vitals, one sublingual dose), opened in a controller."""
    staff = make_staff(services)
    sid = dosed(services, staff, clock)
    state = AppState(services, "room-1")
    state.set_actor(staff[signed_in])
    controller = SessionController(state)
    live = Live(services, clock, staff, state, controller, sid)
    return live


def wait_for_record(live: Live, qtbot: QtBot, predicate: object = None, timeout: int = 10000) -> SessionRecord:
    """Wait until the controller holds a record (satisfying ``predicate`` when given)."""

    def ready() -> bool:
        rec = live.controller.record
        return rec is not None and (predicate is None or bool(predicate(rec)))  # type: ignore[operator]

    qtbot.waitUntil(ready, timeout=timeout)
    assert live.controller.record is not None
    return live.controller.record


def populate_hours(live: Live, hours: float = 3.0) -> None:
    """A few hours of charting: vitals every 15 then 30 minutes, an alert, side effects, observations, scales."""
    s, clock, sid = live.services, live.clock, live.session_id
    nurse, theo = live.staff["medical"], live.staff["therapist"]
    minutes = 0
    step = 0
    while minutes < hours * 60:
        interval = 15 if minutes < 60 else 30
        clock.advance(minutes=interval)
        minutes += interval
        step += 1
        rise = 28 if 30 <= minutes <= 90 else 10
        values = {"sbp": BASELINE["sbp"] + rise + (step % 3) * 2, "dbp": BASELINE["dbp"] + rise // 2,
                  "hr": 74 + step % 5, "spo2": 97 - step % 2, "rr": 14 + step % 3}
        if minutes == 45:
            values.update(sbp=186, dbp=104)
        s.records.record_vitals(nurse, sid, values)
        if minutes == 30:
            s.records.record_side_effect(nurse, sid, "nausea", "moderate", intervention="ondansetron 4 mg ODT")
            s.records.record_observation(theo, sid, "Client describes feeling 'held by the music'",
                                         category="client_statement", for_integration=True)
            s.records.record_scale(nurse, sid, "moaas", 4)
            s.records.record_scale(theo, sid, "dissociation", 6)
        if minutes == 60:
            s.records.record_side_effect(nurse, sid, "dissociation", "mild", intervention="reassurance")
            s.records.record_observation(theo, sid, "Breathing slow and even; hands relaxed", category="behaviour")
        if minutes == 90:
            effect = s.records.record(nurse, sid).side_effects[0]
            s.records.resolve_side_effect(nurse, sid, effect.id, note="settled")
            s.records.record_scale(nurse, sid, "moaas", 5)


def show_session_view(live: Live, qtbot: QtBot) -> SessionView:
    """The session screen over ``live``, shown at 1500×950 with the session open and its record drawn."""
    widget = SessionView(live.state, live.controller)
    qtbot.addWidget(widget)
    widget.resize(1500, 950)
    widget.show()
    qtbot.waitExposed(widget)
    widget.activateWindow()
    live.controller.open(live.session_id)
    wait_for_record(live, qtbot)
    qtbot.waitUntil(lambda: widget.record is not None)
    return widget
