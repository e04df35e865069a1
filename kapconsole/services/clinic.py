"""Clients, courses, session planning, lists, and the clinic's protocol settings."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime

from sqlalchemy import func, or_, select

from kapconsole.data import repositories as repo
from kapconsole.data.models import ClientRow, CourseRow, SessionRow, SessionStaffRow, StaffRow
from kapconsole.domain import validation as v
from kapconsole.domain.enums import Route, SessionState
from kapconsole.domain.errors import NotFound, ValidationError
from kapconsole.domain.integrity import GENESIS, canonical_payload, header_hash
from kapconsole.domain.protocol import ProtocolSettings
from kapconsole.domain.rules import Action
from kapconsole.domain.values import Actor, Client, Course, SessionInfo, SessionListItem
from kapconsole.services.base import ServiceBase, authorize, valid_id

PROTOCOL_KEY = "protocol"


class ClinicService(ServiceBase):
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

    # ----- clients and courses -------------------------------------------------------------------------
    def add_client(self, actor: Actor, *, identifier: str, name: str, date_of_birth: date | None = None,
                   sex: str = "", allergies: str = "", screening_notes: str = "") -> Client:
        ident = v.text("client identifier", identifier, limit=64, required=True)
        if date_of_birth is not None and not (date(1900, 1, 1) <= date_of_birth <= self.now().date()):
            raise ValidationError("date of birth", date_of_birth.isoformat(), "between 1900-01-01 and today")
        with self.db.write() as s:
            actor = authorize(s, actor, Action.MANAGE_CLIENTS)
            if s.scalar(select(ClientRow.id).where(ClientRow.identifier == ident)) is not None:
                raise ValidationError("client identifier", ident, "this identifier is already in use")
            row = ClientRow(
                identifier=ident, name=v.text("client name", name, required=True), date_of_birth=date_of_birth,
                sex=v.text("sex", sex, limit=32), allergies=v.text("allergies", allergies, limit=v.REASON_TEXT),
                screening_notes=v.text("screening notes", screening_notes, limit=v.LONG_TEXT), created_at=self.now(),
            )
            s.add(row)
            s.flush()
            repo.add_audit(s, at=self.now(), action="client_added", actor=actor, detail=f"client {row.id}")
            return repo.client_value(row)

    def add_course(self, actor: Actor, client_id: int, *, title: str, planned_sessions: int,
                   started_on: date | None = None) -> Course:
        count = v.number("planned sessions", planned_sessions, low=1, high=50)
        with self.db.write() as s:
            actor = authorize(s, actor, Action.PLAN_SESSION)
            if repo.get_by_id(s, ClientRow, client_id) is None:
                raise NotFound(f"there is no client {client_id}")
            row = CourseRow(client_id=client_id, title=v.text("course title", title, required=True),
                            planned_sessions=int(count or 1), started_on=started_on)
            s.add(row)
            s.flush()
            repo.add_audit(s, at=self.now(), action="course_added", actor=actor, detail=f"course {row.id}")
            return repo.course_value(row)

    def find_clients(self, text: str = "", *, limit: int = 100) -> list[Client]:
        text = v.search_text("search", text) or ""
        limit = v.count("limit", limit, low=1, high=10_000)
        with self.db.read() as s:
            stmt = select(ClientRow).order_by(ClientRow.name).limit(limit)
            if text:
                pat = f"%{text.lower()}%"
                stmt = stmt.where(or_(func.lower(ClientRow.name).like(pat), func.lower(ClientRow.identifier).like(pat)))
            return [repo.client_value(r) for r in s.scalars(stmt)]

    def client(self, client_id: int) -> Client:
        with self.db.read() as s:
            row = repo.get_by_id(s, ClientRow, client_id)
            if row is None:
                raise NotFound(f"there is no client {client_id}")
            return repo.client_value(row)

    def courses(self, client_id: int) -> list[Course]:
        if not valid_id(client_id):
            return []
        with self.db.read() as s:
            rows = s.scalars(select(CourseRow).where(CourseRow.client_id == client_id).order_by(CourseRow.id))
            return [repo.course_value(r) for r in rows]

    # ----- sessions ------------------------------------------------------------------------------------
    def plan_session(self, actor: Actor, *, client_id: int, room: str, route: Route | str, planned_drug: str,
                     scheduled_at: datetime, planned_dose: float | None = None, planned_unit: str = "mg",
                     course_id: int | None = None, workstation: str = "", staff_ids: Iterable[int] = ()) -> SessionInfo:
        """Plan a session; it takes a copy of the clinic protocol in force now."""
        route_value = v.choice("route", route, Route)
        room = v.text("room", room, limit=64, required=True)
        dose = v.number("planned dose", planned_dose, low=0, high=1000, decimals=3, required=False)
        when = v.to_utc(scheduled_at, "scheduled at")
        with self.db.write() as s:
            actor = authorize(s, actor, Action.PLAN_SESSION)
            if repo.get_by_id(s, ClientRow, client_id) is None:
                raise NotFound(f"there is no client {client_id}")
            number = None
            if course_id is not None:
                course = repo.get_by_id(s, CourseRow, course_id)
                if course is None or course.client_id != client_id:
                    raise ValidationError("course", course_id, "a course of this client")
                number = (s.scalar(select(func.count()).select_from(SessionRow).where(SessionRow.course_id == course_id))
                          or 0) + 1
            protocol = ProtocolSettings.from_json(repo.get_setting(s, PROTOCOL_KEY))
            row = SessionRow(
                client_id=client_id, course_id=course_id, number_in_course=number, room=room,
                workstation=v.text("workstation", workstation, limit=128), route=route_value.value,
                planned_drug=v.text("planned drug", planned_drug, required=True), planned_dose=dose,
                planned_unit=v.text("unit", planned_unit, limit=16, required=True), scheduled_at=when,
                state=SessionState.PLANNED.value, protocol_json=protocol.to_json(), chain_head=GENESIS,
                entry_count=0, version=0, created_by=actor.staff_id, created_at=self.now(), end_reason="",
            )
            s.add(row)
            s.flush()
            for sid in sorted(set(staff_ids)):
                if repo.get_by_id(s, StaffRow, sid) is None:
                    raise NotFound(f"there is no staff member {sid}")
                s.add(SessionStaffRow(session_id=row.id, staff_id=sid))
            s.flush()
            s.refresh(row)
            # The clinical header as planned starts the chain: its hash is the genesis every entry builds on.
            row.header_json = canonical_payload(repo.header_of(row))
            row.genesis = row.chain_head = header_hash(row.header_json)
            repo.clinic_event(s, at=self.now(), kind="planned", session_id=row.id, detail={"header": row.genesis})
            repo.add_audit(s, at=self.now(), action="session_planned", actor=actor, session_id=row.id)
            return repo.session_value(row)

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
        with self.db.read() as s:
            return list(s.scalars(select(SessionRow.room).distinct().order_by(SessionRow.room)))

    def session(self, session_id: int) -> SessionInfo:
        with self.db.read() as s:
            return repo.session_value(repo.get_session_row(s, session_id))
