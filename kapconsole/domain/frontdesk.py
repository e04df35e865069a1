"""The front desk's values and rules: client details, courses, rooms and the room calendar.

Validation lives here so the console, the command line and a CSV import refuse the same input with the same
message. Every function returns cleaned values or raises :class:`ValidationError` naming the field.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, fields, replace
from datetime import date, datetime, timedelta
from enum import StrEnum
from typing import Any

from kapconsole.domain import validation as v
from kapconsole.domain.allergies import Allergy, AllergySeverity, fold
from kapconsole.domain.errors import ValidationError

#: Adult clinic bounds, wide enough for any real person, narrow enough to catch a unit or typing slip.
WEIGHT_KG = (20.0, 400.0)
EARLIEST_BIRTH = date(1900, 1, 1)
PHONE_LIMIT = 40
MAX_ALLERGIES = 50
NOTE_TEXT = 4000
_EXTENSION = re.compile(r"\s*(?:ext\.?|x|#)\s*\d{1,6}\s*$", re.IGNORECASE)
#: How long a room is booked for one session when the protocol says nothing else: preparation and checklist,
#: dosing, the minimum observation time and discharge.
DEFAULT_SESSION_MINUTES = 180


class CoursePhase(StrEnum):
    PREPARATION = "preparation"
    MEDICINE = "medicine"
    INTEGRATION = "integration"

    @property
    def label(self) -> str:
        return {"preparation": "Preparation", "medicine": "Medicine sessions", "integration": "Integration"}[
            self.value
        ]


class CourseStatus(StrEnum):
    ACTIVE = "active"
    PAUSED = "paused"
    COMPLETED = "completed"
    WITHDRAWN = "withdrawn"

    @property
    def label(self) -> str:
        return self.value.capitalize()


def search_key(*parts: str) -> str:
    """The folded text a client is found by: case- and accent-insensitive, the same on every database."""
    return " ".join(fold(p) for p in parts if p)


def phone(field: str, value: object) -> str:
    """A telephone number, loosely: digits with spaces, '+', '-', '.', '/', '(', ')' and an extension."""
    text = v.text(field, value, limit=PHONE_LIMIT)
    if not text:
        return ""
    body = _EXTENSION.sub("", text)
    if not all(c in "0123456789+-./() " for c in body):
        raise ValidationError(field, text, "digits, spaces and + - . / ( ) only (an extension as 'x 12')")
    digits = sum(c.isdigit() for c in body)
    if not 3 <= digits <= 20:
        raise ValidationError(field, text, "between 3 and 20 digits")
    return text


def past_date(field: str, value: object, *, today: date, earliest: date = EARLIEST_BIRTH) -> date | None:
    """A date that is not in the future (and not before ``earliest``); ISO text is accepted."""
    if value is None or value == "":
        return None
    if isinstance(value, str):
        try:
            value = date.fromisoformat(value.strip())
        except ValueError:
            raise ValidationError(field, value, "a date as YYYY-MM-DD is expected") from None
    if isinstance(value, datetime):
        value = value.date()
    if not isinstance(value, date):
        raise ValidationError(field, value, "a date is expected")
    if value > today:
        raise ValidationError(field, value.isoformat(), f"cannot be in the future (today is {today.isoformat()})")
    if value < earliest:
        raise ValidationError(field, value.isoformat(), f"on or after {earliest.isoformat()}")
    return value


def allergy(value: Allergy | Mapping[str, Any]) -> Allergy:
    if isinstance(value, Mapping):
        value = Allergy(str(value.get("substance", "")), str(value.get("reaction", "") or ""),
                        v.choice("allergy severity", value.get("severity") or "unknown", AllergySeverity))
    substance = v.text("allergy substance", value.substance, limit=200, required=True)
    reaction = v.text("allergy reaction", value.reaction, limit=500)
    severity = v.choice("allergy severity", value.severity, AllergySeverity)
    return Allergy(substance, reaction, severity)


def allergy_list(values: Iterable[Allergy | Mapping[str, Any]]) -> tuple[Allergy, ...]:
    cleaned = tuple(allergy(a) for a in values)
    if len(cleaned) > MAX_ALLERGIES:
        raise ValidationError("allergies", f"{len(cleaned)} entries", f"at most {MAX_ALLERGIES}")
    seen: set[str] = set()
    for a in cleaned:
        key = fold(a.substance)
        if key in seen:
            raise ValidationError("allergy substance", a.substance, "each substance once (edit the existing entry)")
        seen.add(key)
    return cleaned


def parse_allergies(text: str) -> tuple[Allergy, ...]:
    """Allergies written on one line, as in a CSV cell: ``substance|reaction|severity; substance …``."""
    result = []
    for part in (text or "").split(";"):
        if not part.strip():
            continue
        pieces = [p.strip() for p in part.split("|")]
        if len(pieces) > 3:
            raise ValidationError("allergies", part.strip(), "substance|reaction|severity, separated by ';'")
        pieces += [""] * (3 - len(pieces))
        result.append(allergy({"substance": pieces[0], "reaction": pieces[1], "severity": pieces[2] or "unknown"}))
    return allergy_list(result)


def format_allergies(allergies: Iterable[Allergy]) -> str:
    """The one-line form :func:`parse_allergies` reads back."""
    out = []
    for a in allergies:
        bits = [a.substance, a.reaction, "" if a.severity is AllergySeverity.UNKNOWN else a.severity.value]
        while bits and not bits[-1]:
            bits.pop()
        out.append("|".join(bits))
    return "; ".join(out)


@dataclass(frozen=True)
class ClientDetails:
    """Everything the front desk records about a client: the input of add, edit and import."""

    identifier: str
    name: str
    date_of_birth: date | None = None
    sex: str = ""
    pronouns: str = ""
    weight_kg: float | None = None
    weight_on: date | None = None
    #: Free-text allergy note beside the structured list (e.g. "NKDA confirmed with GP 2026-10").
    allergies: str = ""
    allergy_list: tuple[Allergy, ...] = ()
    medications: str = ""
    screening_notes: str = ""
    emergency_contact: str = ""
    emergency_phone: str = ""
    escort_name: str = ""
    escort_phone: str = ""

    def validated(self, today: date) -> ClientDetails:
        """The same details cleaned, or :class:`ValidationError` for the first field that is refused."""
        errors = self.problems(today)
        if errors:
            raise errors[0]
        return self._clean(today)

    def problems(self, today: date) -> list[ValidationError]:
        """Every field that is refused, in form order (a form shows them all at once)."""
        errors: list[ValidationError] = []
        for name in FIELD_ORDER:
            try:
                _clean_field(self, name, today)
            except ValidationError as exc:
                errors.append(exc)
        if not errors:
            try:
                self._clean(today)
            except ValidationError as exc:
                errors.append(exc)
        return errors

    def _clean(self, today: date) -> ClientDetails:
        values = {name: _clean_field(self, name, today) for name in FIELD_ORDER}
        cleaned = replace(self, **values)
        if cleaned.weight_kg is None and cleaned.weight_on is not None:
            raise ValidationError("weighed on", cleaned.weight_on.isoformat(), "give the weight too, or no date")
        if cleaned.weight_kg is not None and cleaned.weight_on is None:
            raise ValidationError("weighed on", None, "the date the weight was measured is required")
        if cleaned.date_of_birth and cleaned.weight_on and cleaned.weight_on < cleaned.date_of_birth:
            raise ValidationError("weighed on", cleaned.weight_on.isoformat(), "cannot be before the date of birth")
        return cleaned

    def changes_from(self, other: ClientDetails) -> dict[str, tuple[Any, Any]]:
        """Field → (previous, new) for every field that differs from ``other`` (the previous details)."""
        out: dict[str, tuple[Any, Any]] = {}
        for name in FIELD_ORDER:
            old, new = getattr(other, name), getattr(self, name)
            if old != new:
                out[name] = (encode_field(name, old), encode_field(name, new))
        return out

    def to_dict(self) -> dict[str, Any]:
        return {name: encode_field(name, getattr(self, name)) for name in FIELD_ORDER}


FIELD_ORDER: tuple[str, ...] = tuple(f.name for f in fields(ClientDetails))

FIELD_LABELS: dict[str, str] = {
    "identifier": "client identifier", "name": "name", "date_of_birth": "date of birth", "sex": "sex",
    "pronouns": "pronouns", "weight_kg": "weight", "weight_on": "weighed on", "allergies": "allergy note",
    "allergy_list": "allergies", "medications": "current medications",
    "screening_notes": "conditions / screening notes", "emergency_contact": "emergency contact",
    "emergency_phone": "emergency contact phone", "escort_name": "escort / driver",
    "escort_phone": "escort / driver phone",
}


def _clean_field(d: ClientDetails, name: str, today: date) -> Any:
    label = FIELD_LABELS[name]
    value = getattr(d, name)
    if name == "identifier":
        ident = v.text(label, value, limit=64, required=True)
        if any(c.isspace() and c != " " for c in ident):
            raise ValidationError(label, ident, "one line of text")
        return ident
    if name == "name":
        return v.text(label, value, limit=v.SHORT_TEXT, required=True)
    if name in ("sex", "pronouns"):
        return v.text(label, value, limit=32)
    if name == "date_of_birth":
        return past_date(label, value, today=today)
    if name == "weight_on":
        return past_date(label, value, today=today)
    if name == "weight_kg":
        w = v.number(label, value, low=WEIGHT_KG[0], high=WEIGHT_KG[1], unit="kg", decimals=1, required=False)
        return None if w is None else float(w)
    if name == "allergy_list":
        return allergy_list(value or ())
    if name in ("allergies",):
        return v.text(label, value, limit=v.REASON_TEXT)
    if name in ("medications", "screening_notes"):
        return v.text(label, value, limit=NOTE_TEXT)
    if name in ("emergency_contact", "escort_name"):
        return v.text(label, value, limit=v.SHORT_TEXT)
    if name in ("emergency_phone", "escort_phone"):
        return phone(label, value)
    raise AssertionError(name)  # pragma: no cover - FIELD_ORDER and this function list the same fields


def encode_field(name: str, value: Any) -> Any:
    """A field's value as JSON data (dates as ISO text, allergies as objects) for the version history."""
    if value is None:
        return None
    if isinstance(value, date):
        return value.isoformat()
    if name == "allergy_list":
        return [{"substance": a.substance, "reaction": a.reaction, "severity": a.severity.value} for a in value]
    return value


def decode_allergies(data: Any) -> tuple[Allergy, ...]:
    if not data:
        return ()
    return tuple(Allergy(d["substance"], d.get("reaction", ""), AllergySeverity(d.get("severity", "unknown")))
                 for d in data)


@dataclass(frozen=True)
class CourseDetails:
    """A course of treatment: the input of add and edit."""

    title: str
    planned_sessions: int
    indication: str = ""
    phase: CoursePhase = CoursePhase.PREPARATION
    status: CourseStatus = CourseStatus.ACTIVE
    started_on: date | None = None
    consent_on: date | None = None
    consent_version: str = ""
    #: The staff member who witnessed the consent (an id of the staff table).
    consent_witness_id: int | None = None

    def validated(self, today: date) -> CourseDetails:
        count = v.number("planned sessions", self.planned_sessions, low=1, high=50)
        consent_on = past_date("consent date", self.consent_on, today=today, earliest=date(2000, 1, 1))
        version = v.text("consent form version", self.consent_version, limit=64)
        if consent_on is None and (version or self.consent_witness_id is not None):
            raise ValidationError("consent date", None, "the date consent was given is required with its version "
                                  "or witness")
        if consent_on is not None and self.consent_witness_id is None:
            raise ValidationError("consent witness", None, "name the staff member who witnessed the consent")
        started = self.started_on
        if isinstance(started, str):
            started = past_date("course start", started, today=today + timedelta(days=366), earliest=date(2000, 1, 1))
        return replace(
            self,
            title=v.text("course title", self.title, required=True),
            planned_sessions=int(count or 1),
            indication=v.text("indication", self.indication, limit=v.REASON_TEXT),
            phase=v.choice("phase", self.phase, CoursePhase),
            status=v.choice("status", self.status, CourseStatus),
            started_on=started,
            consent_on=consent_on,
            consent_version=version,
        )


def room_name(value: object) -> str:
    name = v.text("room", value, limit=64, required=True)
    if any(not c.isprintable() for c in name):
        raise ValidationError("room", name, "printable characters on one line")
    return name


def overlaps(start: datetime, end: datetime, other_start: datetime, other_end: datetime) -> bool:
    """Half-open intervals: a session ending at 12:00 and one starting at 12:00 do not collide."""
    return start < other_end and other_start < end


def week_start(day: date) -> date:
    """The Monday of ``day``'s week."""
    return day - timedelta(days=day.weekday())


@dataclass(frozen=True)
class Room:
    id: int
    name: str
    active: bool


@dataclass(frozen=True)
class ClientVersion:
    """One change of a client's details: who, when, and each field's previous and new value."""

    client_id: int
    version: int
    at: datetime
    by_name: str
    workstation: str
    action: str  # "created", "edited", "imported"
    changes: Mapping[str, tuple[Any, Any]]


@dataclass(frozen=True)
class CalendarSlot:
    """One session in the room calendar: who is where, when (planned and expected end)."""

    session_id: int
    room: str
    start: datetime
    end: datetime
    client_name: str
    client_identifier: str
    state_label: str
    cancelled: bool


class ImportOutcome(StrEnum):
    ADDED = "added"
    CHANGED = "changed"
    UNCHANGED = "unchanged"
    ERROR = "error"


@dataclass(frozen=True)
class ImportRow:
    line: int
    identifier: str
    outcome: ImportOutcome
    detail: str  # the fields that change, or the error


@dataclass(frozen=True)
class ImportReport:
    rows: tuple[ImportRow, ...]
    applied: bool

    def count(self, outcome: ImportOutcome) -> int:
        return sum(1 for r in self.rows if r.outcome is outcome)
