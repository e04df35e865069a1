"""ORU^R01 observation messages → typed observations, with python-hl7 doing the HL7 grammar.

A message the console cannot take at all raises :class:`MessageRejected` with the acknowledgement code to send
(AR: never send this again as it is; AE: an error on this side). Everything else is parsed observation by
observation: an OBX with an unknown code, an unknown unit, an empty or non-numeric value or a status that
says "no value" is kept with the reason, never dropped and never guessed.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import replace
from datetime import datetime, tzinfo
from typing import Any

import hl7
from hl7.exceptions import ParseException

from kapconsole.domain.monitor.codes import DeviceMeasure, convert, measure_for
from kapconsole.domain.monitor.values import (
    STATUS_TEXT,
    SUSPECT_FLAGS,
    UNUSABLE_FLAGS,
    USABLE_STATUSES,
    ParsedMessage,
    ParsedObservation,
    TimeSource,
    parse_hl7_time,
)

#: HL7 MSH-18 character set names → Python codecs. Without MSH-18, UTF-8 is tried, then ISO 8859-1.
CHARSETS = {"": None, "ASCII": "ascii", "8859/1": "latin-1", "8859/15": "iso8859-15", "UNICODE UTF-8": "utf-8",
            "UTF-8": "utf-8", "8859/2": "iso8859-2", "8859/5": "iso8859-5", "8859/7": "iso8859-7"}
#: Numeric value types an OBX may carry a vital sign in (NM; some gateways send ST or SN).
NUMERIC_TYPES = frozenset({"NM", "ST", "SN", ""})


class MessageRejected(Exception):
    """The message cannot be taken: ``ack_code`` is what to answer (AR, or AE), ``reason`` says why."""

    def __init__(self, ack_code: str, reason: str, control_id: str = "") -> None:
        super().__init__(reason)
        self.ack_code = ack_code
        self.reason = reason
        self.control_id = control_id


def decode(raw: bytes) -> str:
    """The message text in the character set MSH-18 names (HL7's default when absent: UTF-8, else 8859/1)."""
    provisional = raw.decode("latin-1")
    charset = ""
    try:
        # Only the header is needed for its character set: parse the MSH segment alone.
        header = _segments(provisional).split("\r", 1)[0]
        charset = _get(hl7.parse(header).segment("MSH"), 18).strip().upper()
    except (ParseException, KeyError, IndexError, ValueError):
        charset = ""
    codec = CHARSETS.get(charset, "unknown")
    if codec == "unknown":
        raise MessageRejected("AR", f"character set {charset!r} (MSH-18) is not supported")
    if codec is None:
        try:
            return raw.decode("utf-8")
        except UnicodeDecodeError:
            return provisional
    try:
        return raw.decode(codec)
    except UnicodeDecodeError:
        raise MessageRejected("AR", f"the message is not valid {charset} text (MSH-18)") from None


def _segments(text: str) -> str:
    # Segments end with CR; some senders use CR LF or LF. Normalised before the parser sees the text.
    return text.replace("\r\n", "\r").replace("\n", "\r").strip("\r\x00 \t")


def _get(segment: Any, field: int, component: int = 1, repeat: int = 1, sub: int = 1) -> str:
    try:
        value = segment.extract_field(1, field, repeat, component, sub)
    except (IndexError, KeyError, AttributeError):
        return ""
    return str(value) if value is not None else ""


def _repeats(segment: Any, field: int) -> Iterator[str]:
    """Each repetition's first component of a field (OBX-8 abnormal flags repeat)."""
    for r in range(1, 32):
        try:
            if field >= len(segment):
                return
            container = segment(field)
            count = len(container) if isinstance(container, hl7.Field) and container and \
                isinstance(container[0], hl7.Repetition) else 1
        except (IndexError, KeyError, TypeError):
            return
        if r > count:
            return
        value = _get(segment, field, 1, r)
        if value:
            yield value


def parse_message(raw: str) -> hl7.Message:
    """The text parsed by python-hl7 (``MessageRejected`` AR when it is not an HL7 v2 message)."""
    text = _segments(raw)
    if not text.startswith("MSH") or len(text) < 9:
        raise MessageRejected("AR", "not an HL7 v2 message: it must begin with an MSH segment")
    try:
        return hl7.parse(text)
    except (ParseException, IndexError, ValueError) as exc:
        raise MessageRejected("AR", f"not a valid HL7 v2 message ({exc})") from None


def control_id_of(message: hl7.Message) -> str:
    return _get(message.segment("MSH"), 10).strip()


def parse_oru(message: hl7.Message, zone: tzinfo) -> ParsedMessage:
    """An ORU^R01 as observations; ``zone`` is the device's zone for times sent without an offset."""
    msh = message.segment("MSH")
    control_id = _get(msh, 10).strip()
    msg_type = "^".join(p for p in (_get(msh, 9, 1), _get(msh, 9, 2), _get(msh, 9, 3)) if p)
    if not control_id:
        raise MessageRejected("AR", "MSH-10 (message control id) is empty")
    if _get(msh, 9, 1).upper() != "ORU" or _get(msh, 9, 2).upper() not in ("R01", "R30", "R31", "R32", ""):
        raise MessageRejected("AR", f"message type {msg_type or '(empty)'} is not an ORU^R01 observation result",
                              control_id)
    segs = [seg for seg in message if str(seg[0]).strip()]
    names = [str(seg[0]).strip().upper() for seg in segs]
    if "OBX" not in names:
        raise MessageRejected("AR", "the message has no OBX observation segment", control_id)
    obr7 = ""
    bed = ""
    for seg, name in zip(segs, names, strict=True):
        if name == "PV1" and not bed:
            bed = "^".join(_get(seg, 3, c) for c in range(1, 4)).rstrip("^")
        if name == "OBR" and not obr7:
            obr7 = _get(seg, 7)
    msh7 = _get(msh, 7)
    # Times without their own OBX-14 fall back to the enclosing OBR-7 (of the OBR they follow), then MSH-7.
    observations: list[ParsedObservation] = []
    current_obr7 = ""
    for seg, name in zip(segs, names, strict=True):
        if name == "OBR":
            current_obr7 = _get(seg, 7)
        elif name == "OBX":
            observations.append(_observation(seg, zone, current_obr7 or msh7))
    return ParsedMessage(
        control_id=control_id,
        message_type=msg_type,
        sending_application=_get(msh, 3).strip(),
        sending_facility=_get(msh, 4).strip(),
        message_time_text=msh7,
        observation_time_text=obr7,
        bed=bed,
        observations=tuple(observations),
        version=_get(msh, 12).strip(),
    )


def _observation(seg: Any, zone: tzinfo, fallback_time: str) -> ParsedObservation:
    code, text, system = _get(seg, 3, 1).strip(), _get(seg, 3, 2).strip(), _get(seg, 3, 3).strip()
    measure = measure_for(code, system, text)
    value_type = _get(seg, 2).strip().upper()
    value_text = _get(seg, 5).strip()
    if value_type == "SN":
        value_text = "^".join(_get(seg, 5, c).strip() for c in (1, 2, 3, 4)).rstrip("^")
    unit = _get(seg, 6, 1).strip()
    status = _get(seg, 11).strip().upper()
    flags = tuple(f.strip() for f in _repeats(seg, 8) if f.strip())
    equipment = _get(seg, 18, 1).strip()
    obx14 = _get(seg, 14).strip()
    device_time = parse_hl7_time(obx14, zone) if obx14 else None
    problem = ""
    value: float | None = None
    if measure is None:
        shown = f"{code}^{text}^{system}".strip("^")
        problem = f"unknown observation code {shown or '(empty)'}"
    elif not status:
        problem = "no result status (OBX-11)"
    elif status not in USABLE_STATUSES:
        problem = f"result status {status} ({STATUS_TEXT.get(status, 'unknown status')})"
    elif value_type not in NUMERIC_TYPES:
        problem = f"value type {value_type} is not numeric"
    elif not value_text:
        problem = "no value"
    else:
        number = _number(value_text, value_type)
        if number is None:
            problem = f"value {value_text[:40]!r} is not a number"
        else:
            value, problem = convert(measure, number, unit)
    unusable = [f for f in flags if f.casefold() in UNUSABLE_FLAGS]
    if not problem and unusable:
        problem = f"device marked the value {', '.join(unusable)}"
    if obx14 and device_time is None and not problem:
        problem = f"observation time {obx14[:30]!r} (OBX-14) is not a valid HL7 time"
    suspect_flags = [f for f in flags if f.casefold() in SUSPECT_FLAGS]
    return ParsedObservation(
        set_id=_get(seg, 1).strip(),
        code=code, code_system=system, code_text=text, measure=measure, value_text=value_text,
        value=value if not problem else None, unit=unit, status=status, flags=flags, equipment_id=equipment,
        device_time=device_time, time_text=obx14, problem=problem,
        suspect=f"signal flagged {', '.join(suspect_flags)}" if suspect_flags else "",
    )


def in_zone(message: ParsedMessage, zone: tzinfo) -> ParsedMessage:
    """The same message with its OBX-14 times read in ``zone`` (the device's), without parsing again."""
    changed = []
    for obs in message.observations:
        if obs.time_text and obs.device_time is not None:
            obs = replace(obs, device_time=parse_hl7_time(obs.time_text, zone))
        changed.append(obs)
    return replace(message, observations=tuple(changed))


def _number(text: str, value_type: str) -> float | None:
    candidate = text
    if value_type == "SN":
        # Structured numeric: comparator ^ number; a comparator (<, >) means the value is not exact.
        parts = text.split("^")
        if len(parts) >= 2 and parts[0].strip() not in ("", "="):
            return None
        candidate = parts[1] if len(parts) >= 2 else parts[0]
    try:
        number = float(candidate.strip())
    except ValueError:
        return None
    return number if math.isfinite(number) else None


def observation_time(obs: ParsedObservation, message: ParsedMessage, zone: tzinfo,
                     received_at: datetime) -> tuple[datetime, TimeSource]:
    """The device's time for an observation: OBX-14, else OBR-7, else MSH-7, else when it was received."""
    if obs.device_time is not None:
        return obs.device_time, TimeSource.OBX14
    obr = parse_hl7_time(message.observation_time_text, zone) if message.observation_time_text else None
    if obr is not None:
        return obr, TimeSource.OBR7
    msh = parse_hl7_time(message.message_time_text, zone) if message.message_time_text else None
    if msh is not None:
        return msh, TimeSource.MSH7
    return received_at, TimeSource.RECEIVED


def measures_in(message: ParsedMessage) -> set[DeviceMeasure]:
    return {o.measure for o in message.observations if o.usable and o.measure is not None}


_MINIMAL_HEADER = "MSH|^~\\&|||||||ORU^R01||P|2.5"


def build_ack(message: hl7.Message | None, ack_code: str, reason: str = "", control_id: str = "") -> bytes:
    """The ACK for ``message`` (MSA-1 ``ack_code``, MSA-2 its control id, MSA-3 the reason), as block bytes."""
    source = message
    if source is not None:
        try:
            ack = source.create_ack(ack_code, application="KAPCONSOLE", facility="")
        except (IndexError, KeyError, TypeError):
            source = None  # a header too short to copy from: answer from a complete one
    if source is None:
        source = hl7.parse(_MINIMAL_HEADER)
        if message is not None:
            msh, src = source.segment("MSH"), message.segment("MSH")
            for field in (3, 4, 5, 6):
                value = _get(src, field)
                if value:
                    msh.assign_field(source.escape(value), field)
            control_id = control_id or _get(src, 10)
        ack = source.create_ack(ack_code, application="KAPCONSOLE", facility="")
    msa = ack.segment("MSA")
    if control_id and not str(msa(2)):
        msa.assign_field(source.escape(control_id[:199]), 2)
    if reason:
        msa.assign_field(source.escape(reason[:200]), 3)
    return str(ack).encode("utf-8")
