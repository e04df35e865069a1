"""Frozen values handed between layers. Repositories return these, never ORM rows."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from functools import cached_property
from typing import TYPE_CHECKING, Any

from kapconsole.domain.allergies import Allergy
from kapconsole.domain.enums import EntryKind, Role, Route, SessionState
from kapconsole.domain.frontdesk import ClientDetails, CoursePhase, CourseStatus

if TYPE_CHECKING:
    from kapconsole.domain.entry_base import EntryContent


@dataclass(frozen=True)
class Actor:
    """The person signed in at a workstation; every service call that changes something takes one."""

    staff_id: int
    login: str
    name: str
    roles: frozenset[Role]
    workstation: str

    def has(self, role: Role) -> bool:
        return role in self.roles


@dataclass(frozen=True)
class StaffMember:
    id: int
    login: str
    name: str
    roles: frozenset[Role]
    active: bool

    @property
    def roles_label(self) -> str:
        return ", ".join(r.label for r in sorted(self.roles))


@dataclass(frozen=True)
class Client:
    id: int
    identifier: str
    name: str
    date_of_birth: date | None
    sex: str
    allergies: str
    screening_notes: str
    #: Structured allergies (substance, reaction, severity); ``allergies`` is the free-text note beside them.
    allergy_list: tuple[Allergy, ...] = ()
    pronouns: str = ""
    weight_kg: float | None = None
    weight_on: date | None = None
    medications: str = ""
    emergency_contact: str = ""
    emergency_phone: str = ""
    escort_name: str = ""
    escort_phone: str = ""
    #: Bumped by every edit; an edit names the version it was made from (two desks editing at once).
    version: int = 1

    @property
    def initials(self) -> str:
        return "".join(p[0] for p in self.name.split() if p)[:3].upper()

    @property
    def details(self) -> ClientDetails:
        """The editable details, as an edit form starts from them."""
        return ClientDetails(
            identifier=self.identifier, name=self.name, date_of_birth=self.date_of_birth, sex=self.sex,
            pronouns=self.pronouns, weight_kg=self.weight_kg, weight_on=self.weight_on, allergies=self.allergies,
            allergy_list=self.allergy_list, medications=self.medications, screening_notes=self.screening_notes,
            emergency_contact=self.emergency_contact, emergency_phone=self.emergency_phone,
            escort_name=self.escort_name, escort_phone=self.escort_phone,
        )


@dataclass(frozen=True)
class Course:
    id: int
    client_id: int
    title: str
    planned_sessions: int
    started_on: date | None
    indication: str = ""
    phase: CoursePhase = CoursePhase.PREPARATION
    status: CourseStatus = CourseStatus.ACTIVE
    consent_on: date | None = None
    consent_version: str = ""
    consent_witness_id: int | None = None
    consent_witness_name: str = ""


@dataclass(frozen=True)
class SessionInfo:
    id: int
    client: Client
    course_id: int | None
    course_title: str
    number_in_course: int | None
    course_total: int | None
    room: str
    workstation: str
    route: Route
    planned_drug: str
    planned_dose: float | None
    planned_unit: str
    scheduled_at: datetime
    state: SessionState
    started_at: datetime | None
    ended_at: datetime | None
    end_reason: str
    staff: tuple[StaffMember, ...]
    protocol_json: str
    chain_head: str
    entry_count: int
    version: int
    #: Ended early after a dose and not yet attested by a physician (stays on the supervisor board).
    needs_attestation: bool = False
    #: When the room is expected to be free again (planned start + the protocol's session time).
    expected_end_at: datetime | None = None
    #: A dose planned per kilogram, and the weight (kg) it was worked out with.
    dose_per_kg: float | None = None
    weight_used_kg: float | None = None

    @property
    def course_label(self) -> str:
        if self.number_in_course is None:
            return "single session"
        total = f" of {self.course_total}" if self.course_total else ""
        return f"session {self.number_in_course}{total}"


@dataclass(frozen=True)
class Entry:
    """One append-only entry of a session record."""

    id: int
    session_id: int
    seq: int
    kind: EntryKind
    observed_at: datetime
    entered_at: datetime
    author_id: int
    author_name: str
    workstation: str
    amends_id: int | None
    payload: Mapping[str, Any]
    prev_hash: str
    hash: str
    #: Entries the same unit of work appended after this one (the state change a first dose or a signature
    #: causes); empty for an entry read back from the database.
    followed_by: tuple[Entry, ...] = field(default=(), compare=False, repr=False)

    @cached_property
    def content(self) -> EntryContent:
        """The typed value of the payload (see :mod:`kapconsole.domain.entries`)."""
        from kapconsole.domain.entries import decode

        return decode(self.kind, self.payload)

    @property
    def appended(self) -> tuple[Entry, ...]:
        """This entry and the ones appended with it, in chain order."""
        return (replace_followed(self), *self.followed_by) if self.followed_by else (self,)


@dataclass(frozen=True)
class AuditEvent:
    id: int
    at: datetime
    actor_id: int | None
    actor_name: str
    workstation: str
    action: str
    session_id: int | None
    detail: str


@dataclass(frozen=True)
class SessionListItem:
    """One line of a session list (Today screen, `kapconsole sessions`, supervisor board)."""

    id: int
    scheduled_at: datetime
    room: str
    client_identifier: str
    client_name: str
    state: SessionState
    route: Route
    number_in_course: int | None
    course_total: int | None


@dataclass(frozen=True)
class VerifyProblem:
    session_id: int
    entry_id: int | None
    seq: int | None
    message: str


@dataclass(frozen=True)
class VerifyResult:
    sessions_checked: int
    entries_checked: int
    problems: tuple[VerifyProblem, ...] = field(default_factory=tuple)

    @property
    def ok(self) -> bool:
        return not self.problems


def replace_followed(entry: Entry) -> Entry:
    """``entry`` without the entries appended with it (the value as read back from the database)."""
    if not entry.followed_by:
        return entry
    return Entry(entry.id, entry.session_id, entry.seq, entry.kind, entry.observed_at, entry.entered_at,
                 entry.author_id, entry.author_name, entry.workstation, entry.amends_id, entry.payload,
                 entry.prev_hash, entry.hash)
