"""Input validation. Each failure names the field, the value and what is allowed."""

from __future__ import annotations

import math
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from kapconsole.domain.errors import ValidationError, ValidationErrors
from kapconsole.domain.protocol import MEASURES, ProtocolSettings

SHORT_TEXT = 200
#: A summary PDF leaves the clinic's systems: its password must be worth having.
MIN_PDF_PASSWORD = 8
REASON_TEXT = 2000
LONG_TEXT = 20000


def to_utc(moment: datetime, field: str = "time") -> datetime:
    """Return ``moment`` as an aware UTC datetime; a naive value is taken as the workstation's local time."""
    try:
        if moment.tzinfo is None:
            moment = moment.astimezone()
        return moment.astimezone(UTC)
    except (OverflowError, ValueError, OSError):
        # The far edges of the datetime range cannot be expressed in UTC (or in local time).
        raise ValidationError(field, str(moment), "a date between the years 1 and 9999 is expected") from None


def text(field: str, value: object, *, limit: int = SHORT_TEXT, required: bool = False) -> str:
    """Validate free text: a string, within ``limit`` characters, storable in every database."""
    if value is None:
        value = ""
    if not isinstance(value, str):
        raise ValidationError(field, value, "text is expected")
    cleaned = value.strip()
    if required and not cleaned:
        raise ValidationError(field, value, "it is required")
    if len(cleaned) > limit:
        raise ValidationError(field, f"{len(cleaned)} characters", f"at most {limit} characters are allowed")
    if "\x00" in cleaned:
        raise ValidationError(field, "text with a NUL character", "NUL characters cannot be stored")
    try:
        cleaned.encode("utf-8")
    except UnicodeEncodeError:
        raise ValidationError(field, "text with an unpaired surrogate", "valid Unicode text is expected") from None
    return cleaned


def optional_time(value: object, field: str) -> datetime | None:
    """A filter time: None, or a datetime (a naive one is taken as local time) as aware UTC."""
    if value is None:
        return None
    if not isinstance(value, datetime):
        raise ValidationError(field, str(value)[:40], "a date and time is expected")
    return to_utc(value, field)


def search_text(field: str, value: object) -> str | None:
    """A search or filter text: None or text of at most 200 characters, storable and comparable everywhere."""
    if value is None:
        return None
    return text(field, value, limit=SHORT_TEXT) or None


def count(field: str, value: object, *, low: int, high: int) -> int:
    """A whole number inside [low, high] (limits and offsets of lists)."""
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise ValidationError(field, value if isinstance(value, int) and abs(value) < 10**15 else "(out of range)",
                              f"a whole number {low}–{high}")
    return value


def request_key(value: object) -> str | None:
    """A client's request key: None, or a UUID (returned in its canonical lower-case form)."""
    if value is None:
        return None
    if not isinstance(value, str) or len(value) > 64:
        raise ValidationError("request key", "(not shown)", "a UUID made when the form was opened")
    try:
        return str(uuid.UUID(value))
    except ValueError:
        raise ValidationError("request key", "(not shown)", "a UUID made when the form was opened") from None


def number(field: str, value: object, *, low: float | None, high: float | None, unit: str = "",
           decimals: int = 0, required: bool = True, key: str | None = None) -> float | int | None:
    """Validate a number inside [low, high]; returns an int when ``decimals`` is 0. ``key`` names the input."""
    if value is None or (isinstance(value, str) and not value.strip()):
        if required:
            raise ValidationError(field, None, "a number is required", key=key)
        return None
    if isinstance(value, bool):
        raise ValidationError(field, value, "a number is expected", key=key)
    # Errors show the number as the person typed it ("400", not "400.0").
    shown: object = value
    if isinstance(value, str):
        typed = value.strip()
        try:
            value = float(typed.replace(",", "."))
        except ValueError:
            raise ValidationError(field, value, "a number is expected", key=key) from None
        shown = _as_typed(typed, value)
    if isinstance(value, int) and abs(value) > 10**15:
        raise ValidationError(field, "a very large number", f"allowed range {_range_text(low, high, unit)}",
                              key=key)
    if not isinstance(value, int | float) or not math.isfinite(value):
        raise ValidationError(field, shown, "a finite number is expected", key=key)
    rng = _range_text(low, high, unit)
    if (low is not None and value < low) or (high is not None and value > high):
        raise ValidationError(field, shown, f"allowed range {rng}", key=key)
    if decimals == 0:
        if float(value) != int(value):
            raise ValidationError(field, shown, "a whole number is expected", key=key)
        return int(value)
    return round(float(value), decimals)


class _Typed(str):
    """A number as typed: shown without quotes in a message."""

    def __repr__(self) -> str:
        return str(self)


def _as_typed(typed: str, value: float) -> object:
    if not math.isfinite(value):
        return typed
    return _Typed(typed)


def _range_text(low: float | None, high: float | None, unit: str) -> str:
    u = f" {unit}" if unit else ""
    if low is not None and high is not None:
        return f"{_fmt(low)}–{_fmt(high)}{u}"
    if low is not None:
        return f"at least {_fmt(low)}{u}"
    if high is not None:
        return f"at most {_fmt(high)}{u}"
    return "any number"


def _fmt(v: float) -> str:
    return str(int(v)) if float(v).is_integer() else str(v)


def vitals(values: dict[str, Any], protocol: ProtocolSettings) -> dict[str, float | int]:
    """Validate a vitals reading: any subset of the measures, each plausible, diastolic below systolic."""
    unknown = set(values) - set(MEASURES)
    if unknown:
        raise ValidationError("vitals", ", ".join(sorted(unknown)), f"measures are {', '.join(MEASURES)}",
                              key="vitals")
    clean: dict[str, float | int] = {}
    errors: list[ValidationError] = []
    for key, (label, unit, decimals) in MEASURES.items():
        lim = protocol.plausible[key]
        try:
            v = number(label, values.get(key), low=lim.low, high=lim.high, unit=unit, decimals=decimals,
                       required=False, key=key)
        except ValidationError as exc:
            errors.append(exc)
            continue
        if v is not None:
            clean[key] = v
    if len(errors) == 1:
        raise errors[0]
    if errors:
        raise ValidationErrors(errors)
    if not clean:
        raise ValidationError("vitals", None, "enter at least one measure")
    if ("sbp" in clean) != ("dbp" in clean):
        missing = "dbp" if "sbp" in clean else "sbp"
        raise ValidationError(MEASURES[missing][0], None, "blood pressure needs both systolic and diastolic",
                              key=missing)
    if "sbp" in clean and clean["dbp"] >= clean["sbp"]:
        raise ValidationError(MEASURES["dbp"][0], clean["dbp"], f"must be below systolic ({clean['sbp']} mmHg)",
                              key="dbp")
    return clean


def observed_at(value: datetime | None, *, now: datetime, session_start: datetime | None,
                skew_seconds: int) -> datetime:
    """Clinical time: defaults to now; may be set back, but not into the future nor before the session began."""
    if value is None:
        return now
    if not isinstance(value, datetime):
        raise ValidationError("observed at", value, "a date and time is expected")
    moment = to_utc(value, "observed at")
    if moment > now + timedelta(seconds=skew_seconds):
        raise ValidationError("observed at", _local(moment), f"cannot be in the future (now {_local(now)})")
    if session_start is not None and moment < session_start:
        raise ValidationError(
            "observed at", _local(moment), f"cannot be before the session began ({_local(session_start)})"
        )
    return moment


def _local(moment: datetime) -> str:
    return moment.astimezone().strftime("%Y-%m-%d %H:%M")


def choice(field: str, value: object, enum_type: Any) -> Any:
    """Validate that ``value`` is one of an enumeration's values."""
    try:
        return enum_type(value)
    except ValueError:
        allowed = ", ".join(str(m.value) for m in enum_type)
        raise ValidationError(field, value, f"allowed: {allowed}") from None


def pdf_password(value: str | None) -> str | None:
    """An export password: none at all, or at least :data:`MIN_PDF_PASSWORD` characters."""
    if value is None or value == "":
        return None
    if len(value) < MIN_PDF_PASSWORD:
        raise ValidationError("PDF password", "(hidden)", f"at least {MIN_PDF_PASSWORD} characters")
    return text("PDF password", value, limit=256)


def now_utc() -> datetime:
    return datetime.now(UTC)
