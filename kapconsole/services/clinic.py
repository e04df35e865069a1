"""Clients, courses, session planning, lists, and the clinic's protocol settings."""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import asdict
from datetime import date, datetime
from typing import Any

from sqlalchemy import select

from kapconsole.data import repositories as repo
from kapconsole.data.db import Database
from kapconsole.data.models import CourseRow, SessionStaffRow, StaffRow
from kapconsole.domain import validation as v
from kapconsole.domain.enums import Route, SessionState
from kapconsole.domain.errors import NotFound, ValidationError
from kapconsole.domain.frontdesk import ClientDetails, CourseDetails
from kapconsole.domain.protocol import ProtocolSettings
from kapconsole.domain.rems import clean_answer
from kapconsole.domain.rems_form import SettingDetails
from kapconsole.domain.rules import Action
from kapconsole.domain.values import Actor, Client, Course, SessionInfo, SessionListItem
from kapconsole.services.base import Clock, ServiceBase, authorize, system_clock, valid_id
from kapconsole.services.clients import ClientService
from kapconsole.services.planning import PlanningService

PROTOCOL_KEY = "protocol"
REMS_SETTING_KEY = "rems_setting"


class ClinicService(ServiceBase):
    def __init__(self, db: Database, clock: Clock = system_clock) -> None:
        super().__init__(db, clock)
        self.clients = ClientService(db, clock)
        self.planning = PlanningService(db, clock)

    # ----- protocol settings ---------------------------------------------------------------------------
    def protocol(self) -> ProtocolSettings:
        with self.db.read() as s:
            return ProtocolSettings.from_json(repo.get_setting(s, PROTOCOL_KEY))

    def update_protocol(self, actor: Actor, settings: ProtocolSettings) -> None:
        """Administrators edit the clinic protocol; sessions already planned keep the one they started with."""
        settings.validate()
        with self.db.write() as s:
            actor = authorize(s, actor, Action.EDIT_PROTOCOL)
            repo.set_setting(s, PROTOCOL_KEY, settings.to_json(), at=self.now(), by=actor.staff_id)
            repo.add_audit(s, at=self.now(), action="protocol_updated", actor=actor)

    # ----- clients, courses and planning (the front desk's services; these keep the older signatures) ---------
    def add_client(self, actor: Actor, *, identifier: str, name: str, date_of_birth: date | None = None,
                   sex: str = "", allergies: str = "", screening_notes: str = "", **more: Any) -> Client:
        details = ClientDetails(identifier=identifier, name=name, date_of_birth=date_of_birth, sex=sex,
                                allergies=allergies, screening_notes=screening_notes, **more)
        return self.clients.add(actor, details)

    def add_course(self, actor: Actor, client_id: int, *, title: str, planned_sessions: int,
                   started_on: date | None = None, **more: Any) -> Course:
        details = CourseDetails(title=title, planned_sessions=planned_sessions, started_on=started_on, **more)
        return self.planning.add_course(actor, client_id, details)

    def find_clients(self, text: str = "", *, limit: int = 100) -> list[Client]:
        return self.clients.search(text, limit=limit)

    def client(self, client_id: int) -> Client:
        return self.clients.get(client_id)

    def courses(self, client_id: int) -> list[Course]:
        if not valid_id(client_id):
            return []
        with self.db.read() as s:
            rows = s.scalars(select(CourseRow).where(CourseRow.client_id == client_id).order_by(CourseRow.id))
            return [repo.course_value(r) for r in rows]

    # ----- sessions ------------------------------------------------------------------------------------
    def plan_session(self, actor: Actor, *, client_id: int, room: str, route: Route | str, planned_drug: str,
                     scheduled_at: datetime, planned_dose: float | None = None, planned_unit: str = "mg",
                     course_id: int | None = None, workstation: str = "", staff_ids: Iterable[int] = (),
                     dose_per_kg: float | None = None, weight_used_kg: float | None = None) -> SessionInfo:
        """Plan a session into a free room (see :meth:`PlanningService.plan_session`)."""
        return self.planning.plan_session(
            actor, client_id=client_id, room=room, route=route, planned_drug=planned_drug, scheduled_at=scheduled_at,
            planned_dose=planned_dose, planned_unit=planned_unit, course_id=course_id, workstation=workstation,
            staff_ids=staff_ids, dose_per_kg=dose_per_kg, weight_used_kg=weight_used_kg)

    def set_staff(self, actor: Actor, session_id: int, staff_ids: Iterable[int]) -> None:
        """Who is present in the room (shown on the summary)."""
        with self.db.write() as s:
            actor = authorize(s, actor, Action.START_SESSION)
            row = repo.get_session_row(s, session_id, for_update=True)
            if SessionState(row.state).is_closed:
                raise ValidationError("staff present", session_id, "a closed session's staff cannot change")
            wanted = set(staff_ids)
            for sid in wanted:
                if repo.get_by_id(s, StaffRow, sid) is None:
                    raise NotFound(f"there is no staff member {sid}")
            for link in list(row.staff):
                if link.staff_id not in wanted:
                    s.delete(link)
            for sid in wanted - {link.staff_id for link in row.staff}:
                s.add(SessionStaffRow(session_id=session_id, staff_id=sid))
            repo.add_audit(s, at=self.now(), action="staff_present_set", actor=actor, session_id=session_id,
                           detail=",".join(str(i) for i in sorted(wanted)))

    def list_sessions(self, *, client: str | None = None, states: list[SessionState] | None = None,
                      room: str | None = None, since: datetime | None = None, until: datetime | None = None,
                      limit: int = 200, offset: int = 0, newest_first: bool = True) -> list[SessionListItem]:
        client = v.search_text("client", client)
        room = v.search_text("room", room)
        since, until = v.optional_time(since, "since"), v.optional_time(until, "until")
        limit, offset = v.count("limit", limit, low=1, high=10_000), v.count("offset", offset, low=0, high=10**9)
        if states is not None:
            states = [v.choice("state", st, SessionState) for st in states]
        with self.db.read() as s:
            return repo.list_sessions(s, client=client, states=states, room=room, since=since, until=until,
                                      limit=limit, offset=offset, newest_first=bool(newest_first))

    def rooms(self) -> list[str]:
        """The names of the clinic's rooms in use."""
        return [r.name for r in self.planning.rooms()]

    def session(self, session_id: int) -> SessionInfo:
        with self.db.read() as s:
            return repo.session_value(repo.get_session_row(s, session_id))

    # ----- the esketamine REMS treatment setting -------------------------------------------------------
    def rems_setting(self) -> SettingDetails:
        """The setting's name, address, telephone and REMS certification number (for the monitoring form)."""
        with self.db.read() as s:
            text = repo.get_setting(s, REMS_SETTING_KEY)
        if not text:
            return SettingDetails()
        data = json.loads(text)
        return SettingDetails(**{k: str(data.get(k, "")) for k in ("name", "address", "phone", "certification")})

    def update_rems_setting(self, actor: Actor, *, name: str, address: str, phone: str = "",
                            certification: str) -> SettingDetails:
        """Administrators record the setting's details as the REMS knows them."""
        details = SettingDetails(
            name=v.text("setting name", name, required=True),
            address=v.text("setting address", address, limit=v.REASON_TEXT, required=True),
            phone=clean_answer("clinician_contact", phone) if v.text("telephone", phone) else "",
            certification=v.text("REMS certification number", certification, limit=64, required=True),
        )
        with self.db.write() as s:
            actor = authorize(s, actor, Action.EDIT_PROTOCOL)
            repo.set_setting(s, REMS_SETTING_KEY, json.dumps(asdict(details), ensure_ascii=False), at=self.now(),
                             by=actor.staff_id)
            repo.add_audit(s, at=self.now(), action="rems_setting_updated", actor=actor)
        return details
