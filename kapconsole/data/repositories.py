"""Queries and the append path. Repositories return domain values and never commit: services do."""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session, lazyload

from kapconsole.data.models import (
    AuditRow,
    ClientRow,
    CourseRow,
    EntryRow,
    SessionRow,
    SettingRow,
    StaffRoleRow,
    StaffRow,
)
from kapconsole.domain.allergies import fold
from kapconsole.domain.enums import EntryKind, Role, Route, SessionState
from kapconsole.domain.errors import NotFound
from kapconsole.domain.frontdesk import CoursePhase, CourseStatus, decode_allergies
from kapconsole.domain.integrity import canonical_payload, entry_hash
from kapconsole.domain.record import SessionRecord
from kapconsole.domain.values import (
    Actor,
    AuditEvent,
    Client,
    Course,
    Entry,
    SessionInfo,
    SessionListItem,
    StaffMember,
)

# ----- conversions ------------------------------------------------------------------------------------------


def staff_value(row: StaffRow) -> StaffMember:
    return StaffMember(row.id, row.login, row.name, frozenset(Role(r.role) for r in row.roles), row.active)


def client_value(row: ClientRow) -> Client:
    return Client(
        row.id, row.identifier, row.name, row.date_of_birth, row.sex, row.allergies, row.screening_notes,
        allergy_list=decode_allergies(json.loads(row.allergy_list or "[]")), pronouns=row.pronouns or "",
        weight_kg=row.weight_kg, weight_on=row.weight_on, medications=row.medications or "",
        emergency_contact=row.emergency_contact or "", emergency_phone=row.emergency_phone or "",
        escort_name=row.escort_name or "", escort_phone=row.escort_phone or "", version=row.version or 1,
    )


def course_value(row: CourseRow) -> Course:
    witness = row.consent_witness
    return Course(
        row.id, row.client_id, row.title, row.planned_sessions, row.started_on, indication=row.indication or "",
        phase=CoursePhase(row.phase or "preparation"), status=CourseStatus(row.status or "active"),
        consent_on=row.consent_on, consent_version=row.consent_version or "",
        consent_witness_id=row.consent_witness_id, consent_witness_name=witness.name if witness else "",
    )


def session_value(row: SessionRow) -> SessionInfo:
    course = row.course
    return SessionInfo(
        id=row.id,
        client=client_value(row.client),
        course_id=row.course_id,
        course_title=course.title if course else "",
        number_in_course=row.number_in_course,
        course_total=course.planned_sessions if course else None,
        room=row.room,
        workstation=row.workstation,
        route=Route(row.route),
        planned_drug=row.planned_drug,
        planned_dose=row.planned_dose,
        planned_unit=row.planned_unit,
        scheduled_at=row.scheduled_at,
        state=SessionState(row.state),
        started_at=row.started_at,
        ended_at=row.ended_at,
        end_reason=row.end_reason,
        staff=tuple(staff_value(s.member) for s in row.staff),
        protocol_json=row.protocol_json,
        chain_head=row.chain_head,
        entry_count=row.entry_count,
        version=row.version,
        expected_end_at=row.expected_end_at,
        dose_per_kg=row.dose_per_kg,
        weight_used_kg=row.weight_used_kg,
    )


def entry_value(row: EntryRow) -> Entry:
    return Entry(
        id=row.id,
        session_id=row.session_id,
        seq=row.seq,
        kind=EntryKind(row.kind),
        observed_at=row.observed_at,
        entered_at=row.entered_at,
        author_id=row.author_id,
        author_name=row.author.name,
        workstation=row.workstation,
        amends_id=row.amends_id,
        payload=json.loads(row.payload),
        prev_hash=row.prev_hash,
        hash=row.hash,
    )


def list_item(row: SessionRow) -> SessionListItem:
    return SessionListItem(
        id=row.id,
        scheduled_at=row.scheduled_at,
        room=row.room,
        client_identifier=row.client.identifier,
        client_name=row.client.name,
        state=SessionState(row.state),
        route=Route(row.route),
        number_in_course=row.number_in_course,
        course_total=row.course.planned_sessions if row.course else None,
    )


# ----- lookups ----------------------------------------------------------------------------------------------


def get_session_row(s: Session, session_id: int, *, for_update: bool = False, lean: bool = False) -> SessionRow:
    """The session's row. ``lean``: the row alone, without joining the client and course or loading the staff.

    The append path only needs the row's own columns (state, chain head, counters, protocol); a lean row still
    loads a relationship when it is touched, with a query of its own.
    """
    stmt = select(SessionRow).where(SessionRow.id == session_id)
    if lean:
        stmt = stmt.options(lazyload("*"))
    if for_update:
        # Serialises appends to one session's chain across workstations (PostgreSQL row lock;
        # SQLite writers already hold the database write lock from BEGIN IMMEDIATE).
        stmt = stmt.with_for_update(of=SessionRow)
    row = s.scalars(stmt).unique().one_or_none()
    if row is None:
        raise NotFound(f"there is no session {session_id}")
    return row


def get_staff_row(s: Session, login: str) -> StaffRow | None:
    return s.scalars(select(StaffRow).where(StaffRow.login == login)).one_or_none()


def load_entries(s: Session, session_id: int, *, after_seq: int = 0) -> tuple[Entry, ...]:
    rows = s.scalars(
        select(EntryRow).where(EntryRow.session_id == session_id, EntryRow.seq > after_seq).order_by(EntryRow.seq)
    ).all()
    return tuple(entry_value(r) for r in rows)


def load_record(s: Session, session_id: int) -> SessionRecord:
    row = get_session_row(s, session_id)
    return SessionRecord(session_value(row), load_entries(s, session_id))


def list_sessions(s: Session, *, client: str | None = None, states: list[SessionState] | None = None,
                  room: str | None = None, since: datetime | None = None, until: datetime | None = None,
                  limit: int = 200, offset: int = 0, newest_first: bool = True) -> list[SessionListItem]:
    stmt = select(SessionRow).join(SessionRow.client)
    if client:
        stmt = stmt.where(
            (func.lower(ClientRow.identifier) == client.lower())
            | ClientRow.search_key.contains(fold(client), autoescape=True)
        )
    if states:
        stmt = stmt.where(SessionRow.state.in_([st.value for st in states]))
    if room:
        stmt = stmt.where(SessionRow.room == room)
    if since is not None:
        stmt = stmt.where(SessionRow.scheduled_at >= since)
    if until is not None:
        stmt = stmt.where(SessionRow.scheduled_at < until)
    order = SessionRow.scheduled_at.desc() if newest_first else SessionRow.scheduled_at
    stmt = stmt.order_by(order, SessionRow.id).limit(limit).offset(offset)
    return [list_item(r) for r in s.scalars(stmt).unique()]


# ----- the append path --------------------------------------------------------------------------------------


def append_entry(s: Session, session: SessionRow, *, kind: EntryKind, observed_at: datetime,
                 entered_at: datetime, actor: Actor, payload: Mapping[str, Any],
                 amends_id: int | None = None) -> Entry:
    """Append one entry to the session's hash chain. The caller's unit of work commits it."""
    text = canonical_payload(payload)
    seq = session.entry_count + 1
    digest = entry_hash(
        session_id=session.id, seq=seq, kind=kind.value, observed_at=observed_at, entered_at=entered_at,
        author_id=actor.staff_id, workstation=actor.workstation, amends_id=amends_id, payload_text=text,
        prev_hash=session.chain_head,
    )
    row = EntryRow(
        session_id=session.id, seq=seq, kind=kind.value, observed_at=observed_at, entered_at=entered_at,
        author_id=actor.staff_id, workstation=actor.workstation, amends_id=amends_id, payload=text,
        prev_hash=session.chain_head, hash=digest,
    )
    s.add(row)
    session.entry_count = seq
    session.chain_head = digest
    session.version += 1
    s.flush()
    return Entry(row.id, session.id, seq, kind, observed_at, entered_at, actor.staff_id, actor.name,
                 actor.workstation, amends_id, json.loads(text), row.prev_hash, digest)


def add_audit(s: Session, *, at: datetime, action: str, actor: Actor | None = None, actor_id: int | None = None,
              actor_name: str = "", workstation: str = "", session_id: int | None = None, detail: str = "") -> None:
    s.add(AuditRow(
        at=at, action=action, actor_id=actor.staff_id if actor else actor_id,
        actor_name=actor.name if actor else actor_name, workstation=actor.workstation if actor else workstation,
        session_id=session_id, detail=detail,
    ))


def audit_value(row: AuditRow) -> AuditEvent:
    return AuditEvent(row.id, row.at, row.actor_id, row.actor_name, row.workstation, row.action, row.session_id,
                      row.detail)


def get_setting(s: Session, key: str) -> str | None:
    row = s.get(SettingRow, key)
    return row.value if row else None


def set_setting(s: Session, key: str, value: str, *, at: datetime, by: int | None) -> None:
    row = s.get(SettingRow, key)
    if row is None:
        s.add(SettingRow(key=key, value=value, updated_at=at, updated_by=by))
    else:
        row.value, row.updated_at, row.updated_by = value, at, by


def set_roles(row: StaffRow, roles: frozenset[Role]) -> None:
    current = {r.role for r in row.roles}
    wanted = {r.value for r in roles}
    row.roles[:] = [r for r in row.roles if r.role in wanted]
    row.roles.extend(StaffRoleRow(role=r) for r in sorted(wanted - current))
