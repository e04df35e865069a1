"""Storing what a monitor sends: one message = one unit of work, committed before the sender hears AA.

Each message is placed by the device table: a registered device's room, and that room's one session under
way. A message from an unregistered device, or for a room with no session (or, ambiguously, two) is stored
all the same with no session: unassigned, never charted into anyone's record. A message already stored
(same sender and MSH-10) is acknowledged again and not stored twice; a reading already stored (same source,
code, device time and status) is skipped.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Any

import hl7
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from kapconsole.data import monitor_repo
from kapconsole.data.models import MonitorDeviceRow, MonitorMessageRow, MonitorReadingRow, SessionRow
from kapconsole.domain.errors import DatabaseUnavailable
from kapconsole.domain.monitor.codes import DeviceMeasure
from kapconsole.domain.monitor.suspect import jump_reason, range_reason
from kapconsole.domain.monitor.values import (
    Device,
    IngestResult,
    ParsedMessage,
    device_zone,
    match_device,
    parse_hl7_time,
)
from kapconsole.domain.protocol import Limits, ProtocolSettings
from kapconsole.services.base import ServiceBase
from kapconsole.services.monitor.hl7_parse import (
    MessageRejected,
    build_ack,
    control_id_of,
    decode,
    in_zone,
    observation_time,
    parse_message,
    parse_oru,
)
from kapconsole.services.record import session_protocol

log = logging.getLogger(__name__)
DEFAULT_PLAUSIBLE: dict[str, Limits] = dict(ProtocolSettings().plausible)


class MonitorIngest(ServiceBase):
    """The listener's write path. Trusted headless job: no signed-in person, no role."""

    def __init__(self, db: Any, clock: Any) -> None:
        super().__init__(db, clock)
        # The previous usable value per (source, measure), so a jump is judged without a query per numeric.
        self._previous: dict[tuple[str, str], tuple[float, datetime]] = {}

    def ingest(self, raw: bytes, peer: str = "") -> tuple[IngestResult, bytes]:
        """Parse, place and store one message; returns what happened and the ACK to send."""
        received_at = self.now()
        try:
            text = decode(raw)
            message = parse_message(text)
        except MessageRejected as rejected:
            return IngestResult("AR", rejected.reason, ""), build_ack(None, "AR", rejected.reason)
        control_id = control_id_of(message)
        try:
            parsed = parse_oru(message, UTC)
        except MessageRejected as rejected:
            return (IngestResult(rejected.ack_code, rejected.reason, control_id),
                    build_ack(message, rejected.ack_code, rejected.reason))
        for attempt in (1, 2):
            try:
                result = self._store(message, parsed, text, peer, received_at)
                return result, build_ack(message, "AA", "duplicate: already stored" if result.duplicate else "")
            except IntegrityError:
                # Another listener stored the same message or reading between our check and our insert:
                # the retry sees it and skips it.
                if attempt == 2:
                    log.exception("message %s from %s could not be stored", control_id[:40], peer)
                    reason = "conflicting duplicate; not stored, send again"
                    return IngestResult("AE", reason, control_id), build_ack(message, "AE", reason)
            except DatabaseUnavailable as exc:
                reason = f"not stored: {exc}; send again"
                return IngestResult("AE", reason, control_id), build_ack(message, "AE", reason)
            except Exception:
                log.exception("message %s from %s could not be stored", control_id[:40], peer)
                reason = "not stored: internal error in the receiver; send again"
                return IngestResult("AE", reason, control_id), build_ack(message, "AE", reason)
        raise AssertionError("unreachable")

    def _store(self, message: hl7.Message, first: ParsedMessage, text: str, peer: str,
               received_at: datetime) -> IngestResult:
        with self.db.write() as s:
            # Read for every message: a device removed or moved to another room must stop feeding at once.
            device = match_device(monitor_repo.devices(s), first)
            zone = device_zone(device.timezone) if device else device_zone("")
            parsed = in_zone(first, zone)
            source_key = _c(self._source_key(device, parsed), 250)
            duplicate = s.scalar(select(MonitorMessageRow.id).where(
                MonitorMessageRow.source_key == source_key, MonitorMessageRow.control_id == _c(parsed.control_id, 200)))
            if duplicate is not None:
                return IngestResult("AA", "duplicate", parsed.control_id, duplicate=True,
                                    device_name=device.name if device else "", message_id=duplicate)
            session_id, placement, protocol_json = self._place(s, device)
            plausible = session_protocol(protocol_json).plausible if protocol_json else DEFAULT_PLAUSIBLE
            sent = parse_hl7_time(parsed.message_time_text, zone) if parsed.message_time_text else None
            times = [observation_time(o, parsed, zone, received_at)[0] for o in parsed.observations]
            reference = sent or (max(times) if times else None)
            offset = (reference - received_at).total_seconds() if reference is not None else None
            msg = MonitorMessageRow(
                received_at=received_at, source_key=source_key, control_id=_c(parsed.control_id, 200),
                device_id=device.id if device else None, session_id=session_id,
                room=device.room if device else "", sender=_c(parsed.sender, 250), peer=_c(peer, 128), readings=0,
                problems=placement, raw=text.replace("\x00", "\\000\\"),
            )
            s.add(msg)
            s.flush()
            existing = self._existing(s, source_key, times)
            rows: list[MonitorReadingRow] = []
            updates: dict[tuple[str, str], tuple[float, datetime]] = {}
            for obs, when in zip(parsed.observations, times, strict=True):
                key = (_c(obs.code, 100), _c(obs.code_system, 32), when, _c(obs.status, 4))
                if key in existing:
                    continue
                existing.add(key)
                suspect = obs.suspect
                if obs.usable and obs.measure is not None and obs.value is not None:
                    cache_key = (source_key, obs.measure.value)
                    previous = updates.get(cache_key) or self._previous_value(s, source_key, obs.measure)
                    extra = [r for r in (range_reason(obs.measure, obs.value, plausible),
                                         jump_reason(obs.measure, obs.value, when, previous)) if r]
                    suspect = "; ".join([suspect, *extra] if suspect else extra)
                    if previous is None or when >= previous[1]:
                        updates[cache_key] = (obs.value, when)
                rows.append(MonitorReadingRow(
                    message_id=msg.id, device_id=msg.device_id, session_id=session_id, room=msg.room,
                    source_key=source_key, measure=obs.measure.value if obs.measure else None,
                    code=key[0], code_system=key[1], value=obs.value, value_text=_c(obs.value_text, 200),
                    unit=_c(obs.unit, 64), status=key[3], flags=_c("~".join(obs.flags), 200), device_time=when,
                    received_at=received_at, problem=_c(obs.problem, 2000), suspect=_c(suspect, 2000),
                ))
            s.add_all(rows)
            msg.readings = len(rows)
            if device is not None:
                s.execute(update(MonitorDeviceRow).where(MonitorDeviceRow.id == device.id).values(
                    last_message_at=received_at, last_clock_offset=offset, last_peer=_c(peer, 128)))
        # Committed: only now is the cache moved on (a rolled-back message must not count as "previous").
        self._previous.update(updates)
        return IngestResult("AA", placement, parsed.control_id, stored_readings=len(rows),
                            device_name=device.name if device else "", session_id=session_id,
                            clock_offset=offset, message_id=msg.id,
                            problems=tuple(dict.fromkeys(r.problem for r in rows if r.problem)),
                            unusable_readings=sum(1 for r in rows if r.problem))

    @staticmethod
    def _source_key(device: Device | None, parsed: ParsedMessage) -> str:
        if device is not None:
            return f"device:{device.id}"
        # Unregistered: everything that identifies the sender, so its duplicates are still recognised.
        return f"sender:{parsed.sender}|{','.join(parsed.equipment_ids)}|{parsed.bed}"[:250]

    @staticmethod
    def _place(s: Any, device: Device | None) -> tuple[int | None, str, str]:
        """(session, why unassigned, the session's protocol): read for every message, never cached."""
        if device is None:
            return None, "unassigned: no registered device matches this sender", ""
        sessions = s.execute(select(SessionRow.id, SessionRow.protocol_json).where(
            SessionRow.room == device.room, SessionRow.state.in_(monitor_repo.ACTIVE_STATES)).limit(3)).all()
        if not sessions:
            return None, f"unassigned: no session under way in {device.room}", ""
        if len(sessions) > 1:
            return None, f"unassigned: more than one session under way in {device.room}", ""
        return sessions[0][0], "", sessions[0][1]

    @staticmethod
    def _existing(s: Any, source_key: str, times: list[datetime]) -> set[tuple[str, str, datetime, str]]:
        if not times:
            return set()
        stmt = select(MonitorReadingRow.code, MonitorReadingRow.code_system, MonitorReadingRow.device_time,
                      MonitorReadingRow.status).where(MonitorReadingRow.source_key == source_key,
                                                      MonitorReadingRow.device_time.in_(set(times)))
        return {(c, cs, t, st) for c, cs, t, st in s.execute(stmt)}

    def _previous_value(self, s: Any, source_key: str, measure: DeviceMeasure) -> tuple[float, datetime] | None:
        cached = self._previous.get((source_key, measure.value))
        if cached is not None:
            return cached
        row = s.execute(
            select(MonitorReadingRow.value, MonitorReadingRow.device_time)
            .where(MonitorReadingRow.source_key == source_key, MonitorReadingRow.measure == measure.value,
                   MonitorReadingRow.value.is_not(None))
            .order_by(MonitorReadingRow.id.desc()).limit(1)).first()
        return (float(row[0]), row[1]) if row is not None else None



def _c(text: str, limit: int) -> str:
    """Text as a database stores it: no NUL characters, within the column's length."""
    return text.replace("\x00", "")[:limit]
