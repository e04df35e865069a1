"""Values of bedside monitor capture: what a message said, what was stored, what a nurse is offered."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone, tzinfo
from enum import StrEnum
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from kapconsole.domain.errors import ValidationError
from kapconsole.domain.monitor.codes import DeviceMeasure


class IdentityKind(StrEnum):
    """How the device table recognises a device in a message."""

    EQUIPMENT = "equipment"  # OBX-18 equipment instance identifier (e.g. an EUI-64)
    BED = "bed"  # PV1-3 assigned patient location, as sent (e.g. "KAP^ROOM 2^1")
    SENDER = "sender"  # MSH-3 sending application, optionally "^" MSH-4 sending facility

    @property
    def label(self) -> str:
        return {"equipment": "Equipment id (OBX-18)", "bed": "Bed (PV1-3)",
                "sender": "Sending application (MSH-3/4)"}[self.value]


#: OBX-11 result statuses whose value may be shown and offered (HL7 table 0085).
USABLE_STATUSES = frozenset({"F", "C", "R", "P", "S", "A"})
#: OBX-11 statuses that say there is no valid value (kept, never charted).
STATUS_TEXT = {
    "F": "final", "C": "corrected", "R": "not verified", "P": "preliminary", "S": "partial", "A": "amended",
    "X": "result cannot be obtained", "D": "deleted", "W": "posted in error", "I": "pending", "N": "not asked",
    "U": "status changed to final without a new value", "O": "order detail only",
}
#: IEEE 11073 measurement-status words some monitors put in OBX-8 (IHE PCD-01): the value is not trustworthy.
UNUSABLE_FLAGS = frozenset({"invalid", "not-available", "test-data", "demo-data", "msmt-state-al-inhibited-invalid"})
#: ... or only questionable (a poor signal, a calibration): shown, but suspect.
SUSPECT_FLAGS = frozenset({"questionable", "calibration-ongoing", "early-indication", "msmt-ongoing",
                           "poor-signal", "poor signal"})


class TimeSource(StrEnum):
    OBX14 = "OBX-14"
    OBR7 = "OBR-7"
    MSH7 = "MSH-7"
    RECEIVED = "received"


_DTM = re.compile(r"^(\d{4})(\d{2})?(\d{2})?(\d{2})?(\d{2})?(\d{2})?(?:\.(\d{1,4}))?([+-]\d{4})?$")


def device_zone(name: str) -> tzinfo:
    """The zone a device's local times are in: an IANA name; empty means this machine's local zone."""
    name = (name or "").strip()
    if not name:
        local = datetime.now().astimezone().tzinfo
        return local if local is not None else UTC
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValidationError("time zone", name, "an IANA time zone name such as Europe/Berlin, or empty "
                                                 "for this machine's zone") from None


def parse_hl7_time(text: str, zone: tzinfo) -> datetime | None:
    """An HL7 DTM (``YYYYMMDDHHMM[SS[.S…]][+/-ZZZZ]``) as aware UTC; ``None`` when empty, invalid or too coarse.

    A time without a zone offset is the device's local time in ``zone``. Precision coarser than a minute
    cannot place a numeric on a session chart, so it is treated as absent.
    """
    m = _DTM.match(text.strip())
    if m is None or m.group(5) is None:
        return None
    year, month, day, hour, minute = (int(m.group(i)) for i in range(1, 6))
    second = int(m.group(6) or 0)
    frac = m.group(7) or ""
    micro = int(frac.ljust(6, "0")[:6]) if frac else 0
    try:
        if m.group(8):
            sign = 1 if m.group(8)[0] == "+" else -1
            hh, mm = int(m.group(8)[1:3]), int(m.group(8)[3:5])
            if hh > 14 or mm > 59:
                return None
            tz: tzinfo = timezone(sign * timedelta(hours=hh, minutes=mm))
        else:
            tz = zone
        return datetime(year, month, day, hour, minute, second, micro, tzinfo=tz).astimezone(UTC)
    except (ValueError, OverflowError):
        return None


@dataclass(frozen=True)
class ParsedObservation:
    """One OBX as received and as understood. Unknown codes and units are kept, with the reason."""

    set_id: str
    code: str
    code_system: str
    code_text: str
    measure: DeviceMeasure | None
    value_text: str  # OBX-5 exactly as sent
    value: float | None  # in the console's unit for ``measure``; None when empty, invalid or not convertible
    unit: str  # OBX-6.1 as sent
    status: str  # OBX-11
    flags: tuple[str, ...]  # OBX-8, each repetition
    equipment_id: str  # OBX-18.1
    device_time: datetime | None  # OBX-14 (None: the message's time applies)
    time_text: str = ""  # OBX-14 as sent
    problem: str = ""  # why the value cannot be used ("" when it can)
    suspect: str = ""  # why the value is questionable even though it can be shown

    @property
    def usable(self) -> bool:
        return self.measure is not None and self.value is not None and not self.problem


@dataclass(frozen=True)
class ParsedMessage:
    """An ORU^R01 message: who sent it, when, and its observations."""

    control_id: str  # MSH-10
    message_type: str  # MSH-9, e.g. "ORU^R01^ORU_R01"
    sending_application: str  # MSH-3.1
    sending_facility: str  # MSH-4.1
    message_time_text: str  # MSH-7
    observation_time_text: str  # OBR-7 of the first OBR (may be empty)
    bed: str  # PV1-3 as sent
    observations: tuple[ParsedObservation, ...]
    version: str = ""
    problems: tuple[str, ...] = ()

    @property
    def sender(self) -> str:
        return f"{self.sending_application}^{self.sending_facility}" if self.sending_facility else \
            self.sending_application

    @property
    def equipment_ids(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(o.equipment_id for o in self.observations if o.equipment_id))


@dataclass(frozen=True)
class Device:
    """A monitor or gateway an administrator registered, and the room it is bound to."""

    id: int
    name: str
    room: str
    identity_kind: IdentityKind
    identity: str
    timezone: str = ""
    clock_offset_threshold: int = 60  # seconds
    active: bool = True
    last_message_at: datetime | None = None
    last_clock_offset: float | None = None  # seconds the device clock is ahead (+) or behind (−)
    last_peer: str = ""

    def matches(self, message: ParsedMessage) -> bool:
        wanted = self.identity.strip().casefold()
        if not self.active or not wanted:
            return False
        if self.identity_kind is IdentityKind.EQUIPMENT:
            return wanted in {e.casefold() for e in message.equipment_ids}
        if self.identity_kind is IdentityKind.BED:
            return message.bed.strip().casefold() == wanted
        return wanted in (message.sending_application.casefold(), message.sender.casefold())

    @property
    def clock_off(self) -> bool:
        return self.last_clock_offset is not None and abs(self.last_clock_offset) > self.clock_offset_threshold


def match_device(devices: list[Device] | tuple[Device, ...], message: ParsedMessage) -> Device | None:
    """The registered device a message comes from: equipment id first, then bed, then sender."""
    for kind in (IdentityKind.EQUIPMENT, IdentityKind.BED, IdentityKind.SENDER):
        found = [d for d in devices if d.identity_kind is kind and d.matches(message)]
        if len(found) == 1:
            return found[0]
        if len(found) > 1:
            # Two registrations claim the same identity: charting to either could be the wrong client.
            return None
    return None


@dataclass(frozen=True)
class DeviceReading:
    """One stored numeric from the stream."""

    id: int
    message_id: int
    device_id: int | None
    device_name: str
    session_id: int | None
    room: str
    measure: DeviceMeasure | None
    code: str
    code_system: str
    value: float | None
    value_text: str
    unit: str
    status: str
    flags: tuple[str, ...]
    device_time: datetime
    received_at: datetime
    problem: str
    suspect: str

    @property
    def usable(self) -> bool:
        return self.measure is not None and self.value is not None and not self.problem

    @property
    def assigned(self) -> bool:
        return self.session_id is not None


@dataclass(frozen=True)
class IngestResult:
    """What the listener answers a sender."""

    ack_code: str  # AA, AE or AR
    reason: str
    control_id: str
    duplicate: bool = False
    stored_readings: int = 0
    device_name: str = ""
    session_id: int | None = None
    clock_offset: float | None = None
    message_id: int | None = None
    #: Why stored readings cannot be shown (unknown code or unit, status, empty value …), each reason once.
    problems: tuple[str, ...] = ()
    unusable_readings: int = 0


@dataclass(frozen=True)
class OfferedValue:
    measure: str  # the vitals key (sbp, dbp, hr, spo2, rr, temp)
    value: float
    reading_id: int
    device_time: datetime
    source_measure: DeviceMeasure
    suspect: str = ""


@dataclass(frozen=True)
class DeviceOffer:
    """The latest device values for a session's vitals row: what Ctrl+Shift+V fills in."""

    session_id: int
    device_id: int | None
    device_name: str
    device_time: datetime
    values: dict[str, OfferedValue] = field(default_factory=dict)

    @property
    def suspects(self) -> dict[str, str]:
        return {k: v.suspect for k, v in self.values.items() if v.suspect}

    @property
    def reading_ids(self) -> tuple[int, ...]:
        return tuple(v.reading_id for v in self.values.values())


@dataclass(frozen=True)
class DeviceStatus:
    """A room's device connection state as the console shows it."""

    room: str
    device_id: int
    device_name: str
    last_message_at: datetime | None
    clock_offset: float | None
    clock_off: bool
    connected: bool  # a message within the last connection window

    def age_seconds(self, now: datetime) -> float | None:
        return None if self.last_message_at is None else max(0.0, (now - self.last_message_at).total_seconds())


@dataclass(frozen=True)
class StreamAlert:
    """An alert raised by a not yet confirmed device value."""

    measure: str
    value: float
    message: str
    reading_id: int

    @property
    def text(self) -> str:
        return f"{self.message} (device, unconfirmed)"
