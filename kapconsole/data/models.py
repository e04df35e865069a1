"""SQLAlchemy 2.x typed ORM models. Schema changes go through Alembic revisions in ``migrations/``."""

from __future__ import annotations

from datetime import UTC, date, datetime

from sqlalchemy import (
    Boolean,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship
from sqlalchemy.types import TypeDecorator

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator[datetime]):
    """Stores naive UTC on every backend, hands back aware UTC datetimes."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetimes are not stored; pass an aware UTC datetime")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        return None if value is None else value.replace(tzinfo=UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


class StaffRow(Base):
    __tablename__ = "staff"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    login: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    password_hash: Mapped[str] = mapped_column(String(255))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    failed_attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_failed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)

    roles: Mapped[list[StaffRoleRow]] = relationship(cascade="all, delete-orphan", lazy="selectin")


class SignInFailureRow(Base):
    """Consecutive failed sign-ins of one login at one workstation (row-locked while a try is checked)."""

    __tablename__ = "sign_in_failures"

    login: Mapped[str] = mapped_column(String(64), primary_key=True)
    workstation: Mapped[str] = mapped_column(String(128), primary_key=True)
    failures: Mapped[int] = mapped_column(Integer, default=0)
    last_failed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class StaffRoleRow(Base):
    __tablename__ = "staff_roles"

    staff_id: Mapped[int] = mapped_column(ForeignKey("staff.id"), primary_key=True)
    role: Mapped[str] = mapped_column(String(32), primary_key=True)


class ClientRow(Base):
    __tablename__ = "clients"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    identifier: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200), index=True)
    date_of_birth: Mapped[date | None] = mapped_column(Date)
    sex: Mapped[str] = mapped_column(String(32), default="")
    allergies: Mapped[str] = mapped_column(Text, default="")
    screening_notes: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    pronouns: Mapped[str] = mapped_column(String(32), default="")
    weight_kg: Mapped[float | None] = mapped_column(Float)
    weight_on: Mapped[date | None] = mapped_column(Date)
    #: Structured allergies as JSON: [{"substance", "reaction", "severity"}, …].
    allergy_list: Mapped[str] = mapped_column(Text, default="[]")
    medications: Mapped[str] = mapped_column(Text, default="")
    emergency_contact: Mapped[str] = mapped_column(String(200), default="")
    emergency_phone: Mapped[str] = mapped_column(String(40), default="")
    escort_name: Mapped[str] = mapped_column(String(200), default="")
    escort_phone: Mapped[str] = mapped_column(String(40), default="")
    #: Name and identifier folded (case and accents removed) in Python, so search is the same on every database.
    search_key: Mapped[str] = mapped_column(String(600), default="", index=True)
    version: Mapped[int] = mapped_column(Integer, default=1)
    updated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class ClientVersionRow(Base):
    """One change of a client's details; ``changes`` keeps each field's previous and new value (JSON)."""

    __tablename__ = "client_versions"
    __table_args__ = (UniqueConstraint("client_id", "version", name="uq_client_versions_client_version"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    client_id: Mapped[int] = mapped_column(ForeignKey("clients.id"))
    version: Mapped[int] = mapped_column(Integer)
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    actor_name: Mapped[str] = mapped_column(String(200), default="")
    workstation: Mapped[str] = mapped_column(String(128), default="")
    action: Mapped[str] = mapped_column(String(32))
    changes: Mapped[str] = mapped_column(Text)


class RoomRow(Base):
    """A room of the clinic, kept by the administrator; sessions are planned into active rooms."""

    __tablename__ = "rooms"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class CourseRow(Base):
    __tablename__ = "courses"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    client_id: Mapped[int] = mapped_column(ForeignKey("clients.id"), index=True)
    title: Mapped[str] = mapped_column(String(200))
    planned_sessions: Mapped[int] = mapped_column(Integer)
    started_on: Mapped[date | None] = mapped_column(Date)
    indication: Mapped[str] = mapped_column(Text, default="")
    phase: Mapped[str] = mapped_column(String(32), default="preparation")
    status: Mapped[str] = mapped_column(String(32), default="active")
    consent_on: Mapped[date | None] = mapped_column(Date)
    consent_version: Mapped[str] = mapped_column(String(64), default="")
    #: A staff id. Not a database foreign key: adding one would rebuild the courses table on SQLite while the
    #: sessions point at it; the planning service checks the witness is an active staff member.
    consent_witness_id: Mapped[int | None] = mapped_column(Integer)

    consent_witness: Mapped[StaffRow | None] = relationship(
        primaryjoin="foreign(CourseRow.consent_witness_id) == StaffRow.id", lazy="joined", viewonly=True)


class SessionRow(Base):
    __tablename__ = "clinical_sessions"
    __table_args__ = (
        Index("ix_sessions_scheduled", "scheduled_at"),
        Index("ix_sessions_room_scheduled", "room", "scheduled_at"),
        Index("ix_sessions_state", "state"),
        Index("ix_sessions_client", "client_id", "scheduled_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    client_id: Mapped[int] = mapped_column(ForeignKey("clients.id"))
    course_id: Mapped[int | None] = mapped_column(ForeignKey("courses.id"))
    number_in_course: Mapped[int | None] = mapped_column(Integer)
    room: Mapped[str] = mapped_column(String(64))
    workstation: Mapped[str] = mapped_column(String(128), default="")
    route: Mapped[str] = mapped_column(String(32))
    planned_drug: Mapped[str] = mapped_column(String(200))
    planned_dose: Mapped[float | None] = mapped_column(Float)
    planned_unit: Mapped[str] = mapped_column(String(16), default="mg")
    scheduled_at: Mapped[datetime] = mapped_column(UTCDateTime)
    state: Mapped[str] = mapped_column(String(32))
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    end_reason: Mapped[str] = mapped_column(Text, default="")
    protocol_json: Mapped[str] = mapped_column(Text)
    chain_head: Mapped[str] = mapped_column(String(64))
    entry_count: Mapped[int] = mapped_column(Integer, default=0)
    # Bumped by every append: lets a client tell cheaply whether the record changed since it looked.
    version: Mapped[int] = mapped_column(Integer, default=0)
    # The entry time of the latest entry: a workstation clock behind it is refused (it would stamp out of order).
    last_entered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Ended early after a dose and not yet attested by a physician: the session stays on the supervisor board.
    needs_attestation: Mapped[bool] = mapped_column(Boolean, default=False, server_default="0")
    created_by: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    #: Planned start + the protocol's session time: the room is booked until then.
    expected_end_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    dose_per_kg: Mapped[float | None] = mapped_column(Float)
    weight_used_kg: Mapped[float | None] = mapped_column(Float)
    # The clinical header as planned (canonical JSON) and the chain's genesis, its hash. Sessions made before
    # the header was hashed keep the all-zero genesis; their header was recorded when the database was upgraded.
    header_json: Mapped[str | None] = mapped_column(Text)
    genesis: Mapped[str] = mapped_column(String(64), default="0" * 64, server_default="0" * 64)

    client: Mapped[ClientRow] = relationship(lazy="joined")
    course: Mapped[CourseRow | None] = relationship(lazy="joined")
    staff: Mapped[list[SessionStaffRow]] = relationship(lazy="selectin", order_by="SessionStaffRow.staff_id")


class SessionStaffRow(Base):
    __tablename__ = "session_staff"

    session_id: Mapped[int] = mapped_column(ForeignKey("clinical_sessions.id"), primary_key=True)
    staff_id: Mapped[int] = mapped_column(ForeignKey("staff.id"), primary_key=True)

    member: Mapped[StaffRow] = relationship(lazy="joined")


class EntryRow(Base):
    """One append-only entry. Never updated, never deleted: corrections are new rows with ``amends_id``."""

    __tablename__ = "entries"
    __table_args__ = (
        UniqueConstraint("session_id", "seq", name="uq_entries_session_seq"),
        Index("ix_entries_session_kind", "session_id", "kind"),
        Index("ix_entries_request_key", "request_key", unique=True),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("clinical_sessions.id"))
    seq: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(32))
    observed_at: Mapped[datetime] = mapped_column(UTCDateTime)
    entered_at: Mapped[datetime] = mapped_column(UTCDateTime)
    author_id: Mapped[int] = mapped_column(ForeignKey("staff.id"))
    workstation: Mapped[str] = mapped_column(String(128))
    amends_id: Mapped[int | None] = mapped_column(ForeignKey("entries.id"))
    # The canonical JSON text exactly as hashed: stored as text so the bytes never change.
    payload: Mapped[str] = mapped_column(Text)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))
    # The client-generated key (a UUID) of the request that made this entry: a retry with the same key after
    # an ambiguous commit finds the entry instead of appending a duplicate. Null on entries made before it.
    request_key: Mapped[str | None] = mapped_column(String(36))

    author: Mapped[StaffRow] = relationship(lazy="joined")


class AuditRow(Base):
    __tablename__ = "audit_events"
    __table_args__ = (
        Index("ix_audit_at", "at"),
        Index("ix_audit_session", "session_id"),
        Index("ix_audit_workstation", "workstation", "at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    actor_name: Mapped[str] = mapped_column(String(200), default="")
    workstation: Mapped[str] = mapped_column(String(128), default="")
    action: Mapped[str] = mapped_column(String(64))
    session_id: Mapped[int | None] = mapped_column(ForeignKey("clinical_sessions.id"))
    detail: Mapped[str] = mapped_column(Text, default="")
    # The audit trail is a hash chain too (null on rows written before it was).
    prev_hash: Mapped[str | None] = mapped_column(String(64))
    hash: Mapped[str | None] = mapped_column(String(64))


class ChainHeadRow(Base):
    """The heads of the clinic-wide chains. Its one row is locked by every write that extends them."""

    __tablename__ = "chain_heads"

    name: Mapped[str] = mapped_column(String(16), primary_key=True)
    clinic_head: Mapped[str] = mapped_column(String(64))
    clinic_count: Mapped[int] = mapped_column(Integer)
    audit_head: Mapped[str] = mapped_column(String(64))
    audit_count: Mapped[int] = mapped_column(Integer)


class ClinicEventRow(Base):
    """The clinic-wide chain: every session's creation, state changes and signatures.

    No foreign key to the session on purpose: a deleted session must leave its events behind to be missed.
    """

    __tablename__ = "clinic_chain"

    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    kind: Mapped[str] = mapped_column(String(32))
    session_id: Mapped[int | None] = mapped_column(Integer, index=True)
    detail: Mapped[str] = mapped_column(Text)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))


class SigningKeyRow(Base):
    """A member of staff's Ed25519 key: the public half, the private half wrapped by their password, and the
    signed registration that ties it to them."""

    __tablename__ = "signing_keys"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    staff_id: Mapped[int] = mapped_column(ForeignKey("staff.id"), index=True)
    public_key: Mapped[str] = mapped_column(String(64), unique=True)
    wrapped_private: Mapped[str] = mapped_column(Text)
    valid_from: Mapped[datetime] = mapped_column(UTCDateTime)
    valid_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    registration: Mapped[str] = mapped_column(Text)


class SettingRow(Base):
    __tablename__ = "clinic_settings"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(Text)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_by: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))


class RemsFilingRow(Base):
    """An esketamine session's REMS Patient Monitoring Form marked as submitted (one per session)."""

    __tablename__ = "rems_filings"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("clinical_sessions.id"), unique=True)
    submitted_on: Mapped[date] = mapped_column(Date)
    method: Mapped[str] = mapped_column(String(32))
    confirmation: Mapped[str] = mapped_column(String(200), default="")
    note: Mapped[str] = mapped_column(Text, default="")
    recorded_by: Mapped[int] = mapped_column(ForeignKey("staff.id"))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime)

    recorder: Mapped[StaffRow] = relationship(lazy="joined")
# ----- bedside monitor capture ------------------------------------------------------------------------------


class MonitorDeviceRow(Base):
    """A bedside monitor or gateway, recognised by one identity and bound to a room."""

    __tablename__ = "monitor_devices"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    room: Mapped[str] = mapped_column(String(64), index=True)
    identity_kind: Mapped[str] = mapped_column(String(16))
    identity: Mapped[str] = mapped_column(String(200))
    timezone: Mapped[str] = mapped_column(String(64), default="")
    clock_offset_threshold: Mapped[int] = mapped_column(Integer, default=60)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    last_message_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_clock_offset: Mapped[float | None] = mapped_column(Float)
    last_peer: Mapped[str] = mapped_column(String(128), default="")


class MonitorMessageRow(Base):
    """One received message exactly as it came (the raw text is kept: nothing a device sent is lost)."""

    __tablename__ = "monitor_messages"
    __table_args__ = (
        UniqueConstraint("source_key", "control_id", name="uq_monitor_messages_source_control"),
        Index("ix_monitor_messages_unassigned", "session_id", "id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime)
    source_key: Mapped[str] = mapped_column(String(250))
    control_id: Mapped[str] = mapped_column(String(200))
    device_id: Mapped[int | None] = mapped_column(ForeignKey("monitor_devices.id"))
    session_id: Mapped[int | None] = mapped_column(ForeignKey("clinical_sessions.id"))
    room: Mapped[str] = mapped_column(String(64), default="")
    sender: Mapped[str] = mapped_column(String(250), default="")
    peer: Mapped[str] = mapped_column(String(128), default="")
    readings: Mapped[int] = mapped_column(Integer, default=0)
    problems: Mapped[str] = mapped_column(Text, default="")
    raw: Mapped[str] = mapped_column(Text)


class MonitorReadingRow(Base):
    """One numeric of the device stream: append-only, high volume, never edited."""

    __tablename__ = "monitor_readings"
    __table_args__ = (
        UniqueConstraint("source_key", "code", "code_system", "device_time", "status",
                         name="uq_monitor_readings_dedupe"),
        Index("ix_monitor_readings_session", "session_id", "id"),
        Index("ix_monitor_readings_session_measure", "session_id", "measure", "id"),
        Index("ix_monitor_readings_source_measure", "source_key", "measure", "id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    message_id: Mapped[int] = mapped_column(ForeignKey("monitor_messages.id"))
    device_id: Mapped[int | None] = mapped_column(ForeignKey("monitor_devices.id"))
    session_id: Mapped[int | None] = mapped_column(ForeignKey("clinical_sessions.id"))
    room: Mapped[str] = mapped_column(String(64), default="")
    source_key: Mapped[str] = mapped_column(String(250))
    measure: Mapped[str | None] = mapped_column(String(16))
    code: Mapped[str] = mapped_column(String(100))
    code_system: Mapped[str] = mapped_column(String(32))
    value: Mapped[float | None] = mapped_column(Float)
    value_text: Mapped[str] = mapped_column(String(200))
    unit: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(4))
    flags: Mapped[str] = mapped_column(String(200), default="")
    device_time: Mapped[datetime] = mapped_column(UTCDateTime)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime)
    problem: Mapped[str] = mapped_column(Text, default="")
    suspect: Mapped[str] = mapped_column(Text, default="")


class MonitorDigestRow(Base):
    """A chained SHA-256 digest over a run of stored readings: ``verify`` recomputes every one."""

    __tablename__ = "monitor_digests"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    first_reading_id: Mapped[int] = mapped_column(Integer)
    last_reading_id: Mapped[int] = mapped_column(Integer)
    count: Mapped[int] = mapped_column(Integer)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class MonitorReviewRow(Base):
    """A person's decision on a device reading: confirmed into the record, or rejected as an artefact."""

    __tablename__ = "monitor_reviews"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    reading_id: Mapped[int] = mapped_column(ForeignKey("monitor_readings.id"), unique=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("clinical_sessions.id"), index=True)
    decision: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str] = mapped_column(Text, default="")
    actor_id: Mapped[int] = mapped_column(ForeignKey("staff.id"))
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    entry_id: Mapped[int | None] = mapped_column(ForeignKey("entries.id"))
