"""Queries and the append path. Repositories return domain values and never commit: services do."""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session, lazyload

from kapconsole.data.models import (
    AuditRow,
    ChainHeadRow,
    ClientRow,
    ClinicEventRow,
    CourseRow,
    EntryRow,
    SessionRow,
    SettingRow,
    SignInFailureRow,
    StaffRoleRow,
    StaffRow,
)
from kapconsole.domain.allergies import fold
from kapconsole.domain.enums import EntryKind, Role, Route, SessionState
from kapconsole.domain.errors import ClockBehind, NotFound, ValidationError
from kapconsole.domain.frontdesk import CoursePhase, CourseStatus, decode_allergies
from kapconsole.domain.integrity import (
    GENESIS,
    canonical_payload,
    entry_hash,
    link_hash,
    session_header,
    timestamp,
)
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
        needs_attestation=bool(row.needs_attestation),
        expected_end_at=row.expected_end_at,
        dose_per_kg=row.dose_per_kg,
        weight_used_kg=row.weight_used_kg,
    )


def header_of(row: SessionRow) -> dict[str, Any]:
    """The session's clinical header from its rows as they read now (compared with the one recorded)."""
    client = row.client
    return session_header(
        session_id=row.id, client_identifier=client.identifier, client_name=client.name,
        date_of_birth=client.date_of_birth.isoformat() if client.date_of_birth else None, sex=client.sex or "",
        allergies=client.allergies or "", course_id=row.course_id, number_in_course=row.number_in_course,
        room=row.room, route=row.route, planned_drug=row.planned_drug, planned_dose=row.planned_dose,
        planned_unit=row.planned_unit, scheduled_at=row.scheduled_at, protocol_json=row.protocol_json,
        created_by=row.created_by)


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
    if not isinstance(session_id, int) or isinstance(session_id, bool) or not 0 < session_id < 2**31:
        raise NotFound(f"there is no session {session_id}")
    stmt = select(SessionRow).where(SessionRow.id == session_id)
    if lean:
        stmt = stmt.options(lazyload("*"))
    if for_update:
        # Serialises appends to one session's chain across workstations (PostgreSQL row lock;
        # SQLite writers already hold the database write lock from BEGIN IMMEDIATE). FOR NO KEY UPDATE, not
        # FOR UPDATE: a unit of work that holds the clinic chain's lock and writes a row referring to this
        # session (an audit event) takes a KEY SHARE lock on it, which FOR UPDATE would block: a deadlock.
        stmt = stmt.with_for_update(of=SessionRow, key_share=True)
    row = s.scalars(stmt).unique().one_or_none()
    if row is None:
        raise NotFound(f"there is no session {session_id}")
    return row


def staff_standing(s: Session, staff_id: int) -> tuple[str, str, bool, frozenset[Role]] | None:
    """(login, name, active, roles) of one staff member as the database has them now, in one query."""
    rows = s.execute(
        select(StaffRow.login, StaffRow.name, StaffRow.active, StaffRoleRow.role)
        .outerjoin(StaffRoleRow, StaffRoleRow.staff_id == StaffRow.id)
        .where(StaffRow.id == staff_id)
    ).all()
    if not rows:
        return None
    login, name, active, _role = rows[0]
    return login, name, bool(active), frozenset(Role(r[3]) for r in rows if r[3] is not None)


def sign_in_counter(s: Session, login: str, workstation: str) -> SignInFailureRow:
    """The failed-sign-in counter of one login at one workstation, created if new and locked (row lock)."""
    table = SignInFailureRow
    values = {"login": login[:64], "workstation": workstation[:128], "failures": 0}
    if s.get_bind().dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as pg_insert

        s.execute(pg_insert(table).values(**values).on_conflict_do_nothing())
    else:
        from sqlalchemy.dialects.sqlite import insert as sqlite_insert

        s.execute(sqlite_insert(table).values(**values).on_conflict_do_nothing())
    return s.scalars(select(SignInFailureRow).where(SignInFailureRow.login == values["login"],
                                                    SignInFailureRow.workstation == values["workstation"])
                     .with_for_update().execution_options(populate_existing=True)).one()


def get_by_id(s: Session, model: type[Any], row_id: object) -> Any:
    """The row of ``model`` with id ``row_id``; None for an unknown id or one no database could hold."""
    if not isinstance(row_id, int) or isinstance(row_id, bool) or not 0 < row_id < 2**31:
        return None
    return s.get(model, row_id)


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


def entry_by_request_key(s: Session, session_id: int, key: str | None, actor: Actor,
                         kinds: tuple[EntryKind, ...] | None) -> Entry | None:
    """The entry an earlier try of this request made, if its commit landed (None when there is none).

    A key is the client's: used again by another person, for another session or another kind of entry it is
    a mistake, not a retry.
    """
    if key is None:
        return None
    row = s.scalars(select(EntryRow).where(EntryRow.request_key == key)).one_or_none()
    if row is None:
        return None
    if row.session_id != session_id or row.author_id != actor.staff_id or (
            kinds is not None and EntryKind(row.kind) not in kinds):
        raise ValidationError("request key", key, "a new key for each new entry (this one was used for another)")
    return entry_value(row)


def append_entry(s: Session, session: SessionRow, *, kind: EntryKind, observed_at: datetime,
                 entered_at: datetime, actor: Actor, payload: Mapping[str, Any],
                 amends_id: int | None = None, request_key: str | None = None) -> Entry:
    """Append one entry to the session's hash chain. The caller's unit of work commits it.

    ``request_key`` is the client's key for the request (a fresh one is made when the caller has none).
    References to other entries are also written by sequence number, inside the hashed payload: swapping
    row ids behind the application's back cannot re-point an amendment or a resolution unnoticed.

    Refuses (:class:`ClockBehind`) an entry time before the session's latest entry: a workstation clock that
    went backwards would stamp entries out of order (a reading before the dose it follows).
    """
    last = session.last_entered_at
    if last is not None and entered_at < last:
        raise ClockBehind(clock=entered_at, latest=last)
    session.last_entered_at = entered_at
    payload = with_sequence_references(s, session.id, payload, amends_id)
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
        prev_hash=session.chain_head, hash=digest, request_key=request_key or str(uuid.uuid4()),
    )
    s.add(row)
    session.entry_count = seq
    session.chain_head = digest
    session.version += 1
    if kind is EntryKind.STATE:
        clinic_event(s, at=entered_at, kind="state", session_id=session.id,
                     detail={"seq": seq, "entry_hash": digest, "to": payload.get("to")})
    elif kind is EntryKind.SIGNATURE:
        clinic_event(s, at=entered_at, kind="signature", session_id=session.id,
                     detail={"seq": seq, "entry_hash": digest, "signed_hash": payload.get("signed_hash"),
                             "signer": actor.staff_id})
    s.flush()
    return Entry(row.id, session.id, seq, kind, observed_at, entered_at, actor.staff_id, actor.name,
                 actor.workstation, amends_id, json.loads(text), row.prev_hash, digest)


#: Payload fields that name another entry of the session by row id, and the field holding its sequence number.
REFERENCE_FIELDS = {"side_effect": "side_effect_seq", "vitals": "vitals_seq"}


def _seq_of(s: Session, session_id: int, entry_id: object) -> int | None:
    if not isinstance(entry_id, int) or isinstance(entry_id, bool) or not 0 < entry_id < 2**31:
        return None
    return s.scalar(select(EntryRow.seq).where(EntryRow.id == entry_id, EntryRow.session_id == session_id))


def with_sequence_references(s: Session, session_id: int, payload: Mapping[str, Any],
                             amends_id: int | None) -> Mapping[str, Any]:
    extra: dict[str, Any] = {}
    if amends_id is not None:
        extra["amends_seq"] = _seq_of(s, session_id, amends_id)
    for field, seq_field in REFERENCE_FIELDS.items():
        if field in payload and seq_field not in payload:
            extra[seq_field] = _seq_of(s, session_id, payload[field])
    return {**payload, **extra} if extra else payload


CHAIN_ROW = "clinic"


def chain_heads(s: Session) -> ChainHeadRow:
    """The clinic-wide chains' heads, locked for the rest of the unit of work (one lock, so no lock order)."""
    cached = s.info.get("kap_chain_heads")
    if isinstance(cached, ChainHeadRow):
        return cached
    row = s.scalars(select(ChainHeadRow).where(ChainHeadRow.name == CHAIN_ROW).with_for_update()).one_or_none()
    if row is None:
        row = ChainHeadRow(name=CHAIN_ROW, clinic_head=GENESIS, clinic_count=0, audit_head=GENESIS, audit_count=0)
        s.add(row)
        s.flush()
    s.info["kap_chain_heads"] = row
    return row


def clinic_event_fields(seq: int, at: datetime, kind: str, session_id: int | None,
                        detail: Mapping[str, Any]) -> dict[str, Any]:
    return {"seq": seq, "at": timestamp(at), "kind": kind, "session": session_id, "detail": dict(detail)}


def clinic_event(s: Session, *, at: datetime, kind: str, session_id: int | None, detail: Mapping[str, Any]) -> str:
    """Append to the clinic-wide chain (session created, state changed, signed); returns the new head."""
    heads = chain_heads(s)
    seq = heads.clinic_count + 1
    digest = link_hash(heads.clinic_head, clinic_event_fields(seq, at, kind, session_id, detail))
    s.add(ClinicEventRow(seq=seq, at=at, kind=kind, session_id=session_id, detail=canonical_payload(detail),
                         prev_hash=heads.clinic_head, hash=digest))
    heads.clinic_head, heads.clinic_count = digest, seq
    return digest


def audit_fields(n: int, at: datetime, actor_id: int | None, actor_name: str, workstation: str, action: str,
                 session_id: int | None, detail: str) -> dict[str, Any]:
    return {"n": n, "at": timestamp(at), "actor": actor_id, "actor_name": actor_name, "workstation": workstation,
            "action": action, "session": session_id, "detail": detail}


def add_audit(s: Session, *, at: datetime, action: str, actor: Actor | None = None, actor_id: int | None = None,
              actor_name: str = "", workstation: str = "", session_id: int | None = None, detail: str = "") -> None:
    who = actor.staff_id if actor else actor_id
    name = actor.name if actor else actor_name
    where = actor.workstation if actor else workstation
    heads = chain_heads(s)
    n = heads.audit_count + 1
    digest = link_hash(heads.audit_head, audit_fields(n, at, who, name, where, action, session_id, detail))
    s.add(AuditRow(
        at=at, action=action, actor_id=who, actor_name=name, workstation=where, session_id=session_id,
        detail=detail, prev_hash=heads.audit_head, hash=digest,
    ))
    heads.audit_head, heads.audit_count = digest, n


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
