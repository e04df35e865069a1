"""Courses, rooms and the room calendar: planning, rescheduling and cancelling sessions without collisions."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict
from datetime import date, datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from kapconsole.data import repositories as repo
from kapconsole.data.models import ClientRow, CourseRow, RoomRow, SessionRow, SessionStaffRow, StaffRow
from kapconsole.domain import validation as v
from kapconsole.domain.allergies import fold
from kapconsole.domain.enums import Route, SessionState
from kapconsole.domain.errors import NotFound, ValidationError
from kapconsole.domain.esketamine import check_plan
from kapconsole.domain.frontdesk import (
    CalendarSlot,
    CourseDetails,
    CourseStatus,
    Room,
    overlaps,
    room_name,
)
from kapconsole.domain.integrity import GENESIS, canonical_payload, header_hash
from kapconsole.domain.protocol import ProtocolSettings
from kapconsole.domain.rules import Action
from kapconsole.domain.values import Actor, Course, SessionInfo
from kapconsole.services.base import ServiceBase, authorize
from kapconsole.services.writes import transition

PROTOCOL_KEY = "protocol"
#: No session is booked for longer than the protocol allows (12 h): the window searched for collisions.
LONGEST_BOOKING = timedelta(hours=12)


class ScheduleConflict(ValidationError):
    """The room, or the client, is already booked at that time; names the session in the way."""

    def __init__(self, field: str, value: object, allowed: str, session_id: int) -> None:
        super().__init__(field, value, allowed)
        self.session_id = session_id


def _local(moment: datetime) -> str:
    return moment.astimezone().strftime("%Y-%m-%d %H:%M")


def _occupied_until(row: SessionRow) -> datetime:
    """When a session frees its room: when it ended, else its expected end."""
    if SessionState(row.state).is_closed and row.ended_at is not None:
        return row.ended_at
    return row.expected_end_at or row.scheduled_at + timedelta(minutes=ProtocolSettings().session_minutes)


class PlanningService(ServiceBase):

    # ----- rooms ---------------------------------------------------------------------------------------
    def rooms(self, *, include_inactive: bool = False) -> list[Room]:
        with self.db.read() as s:
            stmt = select(RoomRow).order_by(RoomRow.name)
            if not include_inactive:
                stmt = stmt.where(RoomRow.active.is_(True))
            return [Room(r.id, r.name, r.active) for r in s.scalars(stmt)]

    def add_room(self, actor: Actor, name: str) -> Room:
        clean = room_name(name)
        with self.db.write() as s:
            actor = authorize(s, actor, Action.MANAGE_ROOMS)
            for other in s.scalars(select(RoomRow)):
                if fold(other.name) == fold(clean):
                    if other.active:
                        raise ValidationError("room", clean, f"there is already a room '{other.name}'")
                    other.active = True  # a room taken out of use comes back under its old name
                    repo.add_audit(s, at=self.now(), action="room_reactivated", actor=actor, detail=other.name)
                    return Room(other.id, other.name, True)
            row = RoomRow(name=clean, active=True, created_at=self.now())
            s.add(row)
            s.flush()
            repo.add_audit(s, at=self.now(), action="room_added", actor=actor, detail=clean)
            return Room(row.id, row.name, row.active)

    def deactivate_room(self, actor: Actor, name: str) -> None:
        """Take a room out of use; its past sessions keep its name. Planned sessions must move first."""
        with self.db.write() as s:
            actor = authorize(s, actor, Action.MANAGE_ROOMS)
            row = self._room(s, name)
            waiting = s.scalar(select(func.count()).select_from(SessionRow).where(
                SessionRow.room == row.name, SessionRow.state == SessionState.PLANNED.value))
            if waiting:
                raise ValidationError("room", row.name, f"{waiting} planned session(s) are still booked in it; "
                                      "reschedule or cancel them first")
            row.active = False
            repo.add_audit(s, at=self.now(), action="room_deactivated", actor=actor, detail=row.name)

    @staticmethod
    def _room(s: Session, name: str, *, for_update: bool = False) -> RoomRow:
        clean = room_name(name)
        stmt = select(RoomRow).where(RoomRow.active.is_(True))
        if for_update:
            stmt = stmt.with_for_update()
        rows = list(s.scalars(stmt))
        for row in rows:
            if row.name == clean or fold(row.name) == fold(clean):
                return row
        known = ", ".join(r.name for r in rows) or "none yet (an administrator adds them)"
        raise ValidationError("room", clean, f"one of the clinic's rooms: {known}")

    # ----- courses -------------------------------------------------------------------------------------
    def add_course(self, actor: Actor, client_id: int, details: CourseDetails) -> Course:
        clean = details.validated(self.now().date())
        with self.db.write() as s:
            actor = authorize(s, actor, Action.PLAN_SESSION)
            if repo.get_by_id(s, ClientRow, client_id) is None:
                raise NotFound(f"there is no client {client_id}")
            self._check_witness(s, clean)
            row = CourseRow(client_id=client_id, title=clean.title, planned_sessions=clean.planned_sessions,
                            started_on=clean.started_on)
            self._apply_course(row, clean)
            s.add(row)
            s.flush()
            repo.add_audit(s, at=self.now(), action="course_added", actor=actor, detail=f"course {row.id}")
            s.refresh(row)
            return repo.course_value(row)

    def edit_course(self, actor: Actor, course_id: int, details: CourseDetails) -> Course:
        clean = details.validated(self.now().date())
        with self.db.write() as s:
            actor = authorize(s, actor, Action.PLAN_SESSION)
            row = s.scalars(select(CourseRow).where(CourseRow.id == course_id)
                            .with_for_update(of=CourseRow)).unique().one_or_none()
            if row is None:
                raise NotFound(f"there is no course {course_id}")
            self._check_witness(s, clean)
            used = self._sessions_in_course(s, course_id)
            if clean.planned_sessions < used:
                raise ValidationError("planned sessions", clean.planned_sessions,
                                      f"at least the {used} session(s) already planned or held")
            before = asdict(repo.course_value(row))
            self._apply_course(row, clean)
            s.flush()
            s.refresh(row)
            after = asdict(repo.course_value(row))
            changed = [k for k in after if after[k] != before[k] and k != "consent_witness_name"]
            if changed:
                detail = "; ".join(f"{k}: {before[k]} → {after[k]}" for k in changed)
                repo.add_audit(s, at=self.now(), action="course_edited", actor=actor,
                               detail=f"course {row.id}: {detail}"[:2000])
            return repo.course_value(row)

    @staticmethod
    def _apply_course(row: CourseRow, clean: CourseDetails) -> None:
        row.title, row.planned_sessions, row.started_on = clean.title, clean.planned_sessions, clean.started_on
        row.indication, row.phase, row.status = clean.indication, clean.phase.value, clean.status.value
        row.consent_on, row.consent_version = clean.consent_on, clean.consent_version
        row.consent_witness_id = clean.consent_witness_id

    @staticmethod
    def _check_witness(s: Session, clean: CourseDetails) -> None:
        if clean.consent_witness_id is not None:
            witness = s.get(StaffRow, clean.consent_witness_id)
            if witness is None or not witness.active:
                raise ValidationError("consent witness", clean.consent_witness_id, "an active staff member")

    @staticmethod
    def _sessions_in_course(s: Session, course_id: int) -> int:
        return s.scalar(select(func.count()).select_from(SessionRow).where(
            SessionRow.course_id == course_id, SessionRow.state != SessionState.CANCELLED.value)) or 0

    def course(self, course_id: int) -> Course:
        with self.db.read() as s:
            row = s.get(CourseRow, course_id)
            if row is None:
                raise NotFound(f"there is no course {course_id}")
            return repo.course_value(row)

    # ----- sessions ------------------------------------------------------------------------------------
    def plan_session(self, actor: Actor, *, client_id: int, room: str, route: Route | str, planned_drug: str,
                     scheduled_at: datetime, planned_dose: float | None = None, planned_unit: str = "mg",
                     course_id: int | None = None, workstation: str = "", staff_ids: Iterable[int] = (),
                     dose_per_kg: float | None = None, weight_used_kg: float | None = None) -> SessionInfo:
        """Plan a session into a free room; it takes a copy of the clinic protocol in force now.

        ``dose_per_kg``: the planned dose is worked out from it and the weight used (``weight_used_kg``, else
        the client's recorded weight); both are kept with the session.
        """
        route_value = v.choice("route", route, Route)
        when = v.to_utc(scheduled_at, "scheduled at")
        unit = v.text("unit", planned_unit, limit=16, required=True)
        per_kg = v.number("dose per kg", dose_per_kg, low=0.01, high=10, unit="mg/kg", decimals=3, required=False)
        dose = v.number("planned dose", planned_dose, low=0, high=1000, decimals=3, required=False)
        with self.db.write() as s:
            actor = authorize(s, actor, Action.PLAN_SESSION)
            client = repo.get_by_id(s, ClientRow, client_id)
            if client is None:
                raise NotFound(f"there is no client {client_id}")
            weight = v.number("weight used", weight_used_kg, low=20, high=400, unit="kg", decimals=1,
                              required=False)
            if per_kg is not None:
                weight = weight if weight is not None else client.weight_kg
                if weight is None:
                    raise ValidationError("weight used", None, "a dose per kg needs the client's weight: record "
                                          "it with the client, or give the weight used")
                dose, unit = round(float(per_kg) * float(weight), 1), "mg"
            elif unit == "mg/kg" and weight is None:
                weight = client.weight_kg
            number = None
            if course_id is not None:
                number = self._check_course(s, course_id, client_id)
            protocol = ProtocolSettings.from_json(repo.get_setting(s, PROTOCOL_KEY)).for_route(route_value.value)
            if route_value is Route.INTRANASAL:
                check_plan(dose, unit)  # esketamine: 56 or 84 mg, two or three devices
            end = when + timedelta(minutes=protocol.session_minutes)
            room_row = self._room(s, room, for_update=True)
            self._check_free(s, room_row.name, client_id, when, end, own_id=None)
            row = SessionRow(
                client_id=client_id, course_id=course_id, number_in_course=number, room=room_row.name,
                workstation=v.text("workstation", workstation, limit=128), route=route_value.value,
                planned_drug=v.text("planned drug", planned_drug, required=True), planned_dose=dose,
                planned_unit=unit, scheduled_at=when, expected_end_at=end, dose_per_kg=per_kg,
                weight_used_kg=weight, state=SessionState.PLANNED.value, protocol_json=protocol.to_json(),
                chain_head=GENESIS, entry_count=0, version=0, created_by=actor.staff_id, created_at=self.now(),
                end_reason="",
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
            repo.add_audit(s, at=self.now(), action="session_planned", actor=actor, session_id=row.id,
                           detail=f"{row.room} {_local(when)}")
            return repo.session_value(row)

    def _check_course(self, s: Session, course_id: int, client_id: int) -> int:
        course = s.get(CourseRow, course_id)
        if course is None or course.client_id != client_id:
            raise ValidationError("course", course_id, "a course of this client")
        status = CourseStatus(course.status or "active")
        if status is not CourseStatus.ACTIVE:
            raise ValidationError("course", course.title, f"the course is {status.label.lower()}; sessions are "
                                  "planned in an active course (edit the course to resume it)")
        used = self._sessions_in_course(s, course_id)
        if used >= course.planned_sessions:
            raise ValidationError("course", course.title, f"all {course.planned_sessions} planned sessions are "
                                  "booked; edit the course to plan more")
        return used + 1

    def _check_free(self, s: Session, room: str, client_id: int, start: datetime, end: datetime, *,
                    own_id: int | None) -> None:
        """Refuse a booking that overlaps another session in the room, or another session of the client."""
        near = (select(SessionRow).where(
            SessionRow.state != SessionState.CANCELLED.value,
            SessionRow.scheduled_at < end, SessionRow.scheduled_at > start - LONGEST_BOOKING,
            (SessionRow.room == room) | (SessionRow.client_id == client_id),
        ).order_by(SessionRow.scheduled_at))
        for other in s.scalars(near).unique():
            if other.id == own_id:
                continue
            until = _occupied_until(other)
            if not overlaps(start, end, other.scheduled_at, until):
                continue
            span = f"{_local(other.scheduled_at)}–{other_end(until)}"
            if other.room == room:
                raise ScheduleConflict("room", room, f"it is booked {span} for session {other.id} "
                                       f"({other.client.name}); choose another time or room", other.id)
            raise ScheduleConflict("scheduled at", _local(start), f"the client already has session {other.id} "
                                   f"in {other.room} {span}", other.id)

    def reschedule(self, actor: Actor, session_id: int, *, scheduled_at: datetime, room: str | None = None,
                   reason: str) -> SessionInfo:
        """Move a planned session to another time and/or room; the previous booking is kept in the audit trail."""
        text = v.text("reason", reason, limit=v.REASON_TEXT, required=True)
        when = v.to_utc(scheduled_at, "scheduled at")
        with self.db.write() as s:
            actor = authorize(s, actor, Action.PLAN_SESSION)
            row = repo.get_session_row(s, session_id, for_update=True)
            if SessionState(row.state) is not SessionState.PLANNED:
                raise ValidationError("session", session_id, f"only a planned session can be moved; this one is "
                                      f"{SessionState(row.state).label.lower()}")
            minutes = ProtocolSettings.from_json(row.protocol_json).session_minutes
            end = when + timedelta(minutes=minutes)
            room_row = self._room(s, room or row.room, for_update=True)
            self._check_free(s, room_row.name, row.client_id, when, end, own_id=row.id)
            before = f"{row.room} {_local(row.scheduled_at)}"
            row.room, row.scheduled_at, row.expected_end_at = room_row.name, when, end
            row.version += 1
            s.flush()
            replan(s, row, self.now())
            repo.add_audit(s, at=self.now(), action="session_rescheduled", actor=actor, session_id=row.id,
                           detail=f"{before} → {row.room} {_local(when)}; reason: {text}"[:2000])
            s.flush()
            return repo.session_value(row)

    def cancel(self, actor: Actor, session_id: int, reason: str) -> SessionInfo:
        """Call off a planned session, with the reason; it frees the room and stays listed as cancelled."""
        text = v.text("reason", reason, limit=v.REASON_TEXT, required=True)
        with self.db.write() as s:
            actor = authorize(s, actor, Action.PLAN_SESSION)
            row = repo.get_session_row(s, session_id, for_update=True)
            current = SessionState(row.state)
            if current is not SessionState.PLANNED:
                raise ValidationError("session", session_id, f"only a planned session can be cancelled; this one "
                                      f"is {current.label.lower()} (a session under way is ended early instead)")
            transition(s, row, actor, SessionState.CANCELLED, now=self.now(), reason=text)
            s.flush()
            return repo.session_value(row)

    def calendar(self, since: datetime, until: datetime, *, include_cancelled: bool = False) -> list[CalendarSlot]:
        """Every session booked between ``since`` and ``until``: who is in which room, when."""
        start, end = v.to_utc(since, "from"), v.to_utc(until, "until")
        with self.db.read() as s:
            stmt = (select(SessionRow).where(SessionRow.scheduled_at < end,
                                             SessionRow.scheduled_at > start - LONGEST_BOOKING)
                    .order_by(SessionRow.room, SessionRow.scheduled_at))
            if not include_cancelled:
                stmt = stmt.where(SessionRow.state != SessionState.CANCELLED.value)
            slots = []
            for row in s.scalars(stmt).unique():
                until_ = _occupied_until(row)
                if until_ <= start:
                    continue
                state = SessionState(row.state)
                slots.append(CalendarSlot(row.id, row.room, row.scheduled_at, until_, row.client.name,
                                          row.client.identifier, state.label, state is SessionState.CANCELLED))
            return slots

    def week(self, monday: date) -> list[CalendarSlot]:
        """The week from ``monday`` 00:00 local time, seven days."""
        since = datetime.combine(monday, datetime.min.time()).astimezone()
        return self.calendar(since, since + timedelta(days=7))


def replan(s: Session, row: SessionRow, now: datetime) -> None:
    """Record the header of a planned session that has not begun (nothing charted yet) after its booking or
    its client's details changed: a new genesis, announced in the clinic chain as "replanned"."""
    if SessionState(row.state) is not SessionState.PLANNED or row.entry_count:
        return
    row.header_json = canonical_payload(repo.header_of(row))
    row.genesis = row.chain_head = header_hash(row.header_json)
    repo.clinic_event(s, at=now, kind="replanned", session_id=row.id, detail={"header": row.genesis})


def other_end(until: datetime) -> str:
    return until.astimezone().strftime("%H:%M")
