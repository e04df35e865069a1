"""The device table, the stream a console polls, the offer a nurse confirms or rejects, and the digests.

Every method that changes something re-reads the person's roles from the database in its own unit of work.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from kapconsole.data import monitor_repo
from kapconsole.data import repositories as repo
from kapconsole.data.models import (
    MonitorDeviceRow,
    MonitorDigestRow,
    MonitorMessageRow,
    MonitorReadingRow,
    MonitorReviewRow,
    SessionRow,
)
from kapconsole.domain import validation as v
from kapconsole.domain.enums import SessionState
from kapconsole.domain.errors import IllegalTransition, NotFound, ValidationError
from kapconsole.domain.integrity import timestamp
from kapconsole.domain.monitor.codes import DeviceMeasure
from kapconsole.domain.monitor.digest import GENESIS, digest, reading_line
from kapconsole.domain.monitor.offer import build_offer
from kapconsole.domain.monitor.values import (
    Device,
    DeviceOffer,
    DeviceReading,
    DeviceStatus,
    IdentityKind,
    device_zone,
)
from kapconsole.domain.rules import Action
from kapconsole.domain.values import Actor, Entry, VerifyProblem
from kapconsole.services.base import MAX_ID, Clock, ServiceBase, authorize, system_clock, valid_id
from kapconsole.services.record import RecordService

#: A device counts as connected while its last message is younger than this.
CONNECTED_WINDOW = timedelta(seconds=30)
#: Readings are sealed into a digest only once this old: a slower transaction may still commit a lower id.
SETTLE = timedelta(seconds=10)


@dataclass(frozen=True)
class UnassignedMessage:
    id: int
    received_at: datetime
    sender: str
    device_name: str
    room: str
    readings: int
    reason: str


@dataclass(frozen=True)
class StreamVerifyResult:
    digests: int
    readings: int
    undigested: int
    problems: tuple[VerifyProblem, ...]

    @property
    def ok(self) -> bool:
        return not self.problems


class MonitorService(ServiceBase):
    def __init__(self, db: Any, records: RecordService, clock: Clock = system_clock) -> None:
        super().__init__(db, clock)
        self.records = records

    # ----- the device table ---------------------------------------------------------------------------
    def _require(self, s: Session, actor: Actor, action: Action) -> None:
        authorize(s, actor, action)

    def add_device(self, actor: Actor, *, name: str, room: str, identity_kind: IdentityKind | str, identity: str,
                   timezone: str = "", clock_offset_threshold: int = 60) -> Device:
        """Register a monitor or gateway and bind it to a room (administrators)."""
        clean_name = v.text("device name", name, limit=100, required=True)
        clean_room = v.text("room", room, limit=64, required=True)
        kind = v.choice("identity kind", identity_kind, IdentityKind)
        clean_identity = v.text("identity", identity, limit=200, required=True)
        zone = v.text("time zone", timezone, limit=64)
        device_zone(zone)
        threshold = v.number("clock offset threshold", clock_offset_threshold, low=1, high=86400, unit="s")
        with self.db.write() as s:
            self._require(s, actor, Action.MANAGE_DEVICES)
            if s.scalar(select(MonitorDeviceRow.id).where(MonitorDeviceRow.name == clean_name)) is not None:
                raise ValidationError("device name", clean_name, "a name no other device has")
            for other in monitor_repo.devices(s):
                if other.identity_kind is kind and other.identity.casefold() == clean_identity.casefold():
                    raise ValidationError("identity", clean_identity, f"an identity no other device has "
                                                                      f"({other.name} in {other.room} has it)")
            row = MonitorDeviceRow(name=clean_name, room=clean_room, identity_kind=kind.value,
                                   identity=clean_identity, timezone=zone, clock_offset_threshold=int(threshold or 60),
                                   active=True, created_at=self.now(), created_by=actor.staff_id, last_peer="")
            s.add(row)
            s.flush()
            repo.add_audit(s, at=self.now(), action="device_added", actor=actor,
                           detail=f"{clean_name} → {clean_room} by {kind.value}")
            return monitor_repo.device_value(row)

    def remove_device(self, actor: Actor, name: str) -> None:
        """Unbind a device: it stops feeding its room; what it sent stays (a device never fed is deleted)."""
        name = v.text("device name", name, limit=100, required=True)
        with self.db.write() as s:
            self._require(s, actor, Action.MANAGE_DEVICES)
            row = s.scalar(select(MonitorDeviceRow).where(MonitorDeviceRow.name == name))
            if row is None:
                raise NotFound(f"there is no device named {name!r}")
            used = s.scalar(select(MonitorMessageRow.id).where(MonitorMessageRow.device_id == row.id).limit(1))
            if used is None:
                s.delete(row)
            else:
                row.active = False
                row.name = f"{row.name} (removed {self.now():%Y-%m-%d %H:%M}, #{row.id})"[:100]
            repo.add_audit(s, at=self.now(), action="device_removed", actor=actor, detail=name[:200])

    def devices(self, *, include_inactive: bool = False) -> list[Device]:
        with self.db.read() as s:
            return monitor_repo.devices(s, include_inactive=include_inactive)

    def statuses(self) -> list[DeviceStatus]:
        """Each active device's connection state, for the board and the session header."""
        now = self.now()
        return [DeviceStatus(d.room, d.id, d.name, d.last_message_at, d.last_clock_offset, d.clock_off,
                             d.last_message_at is not None and now - d.last_message_at <= CONNECTED_WINDOW)
                for d in self.devices()]

    def unassigned(self, actor: Actor, *, limit: int = 200) -> list[UnassignedMessage]:
        """Messages that reached no session, newest first (no message content: it may name a client)."""
        limit = v.count("limit", limit, low=1, high=100_000)
        with self.db.read() as s:
            self._require(s, actor, Action.VIEW_UNASSIGNED)
            rows = s.execute(
                select(MonitorMessageRow.id, MonitorMessageRow.received_at, MonitorMessageRow.sender,
                       MonitorDeviceRow.name, MonitorMessageRow.room, MonitorMessageRow.readings,
                       MonitorMessageRow.problems)
                .outerjoin(MonitorDeviceRow, MonitorDeviceRow.id == MonitorMessageRow.device_id)
                .where(MonitorMessageRow.session_id.is_(None))
                .order_by(MonitorMessageRow.id.desc()).limit(limit)).all()
        return [UnassignedMessage(i, at, sender, dev or "", room, n, reason) for i, at, sender, dev, room, n, reason
                in rows]

    # ----- the stream -----------------------------------------------------------------------------------
    def stream(self, actor: Actor | None, session_id: int, *, after_id: int = 0,
               limit: int = 20000) -> list[DeviceReading]:
        """The session's device readings newer than ``after_id``, oldest first: one indexed query, cheap to poll."""
        limit = v.count("limit", limit, low=1, high=1_000_000)
        after_id = v.count("after", after_id, low=0, high=MAX_ID)
        if not valid_id(session_id):
            return []
        with self.db.read() as s:
            if actor is not None:
                authorize(s, actor, Action.VIEW_RECORD)
            rows = s.execute(
                select(MonitorReadingRow, MonitorDeviceRow.name)
                .outerjoin(MonitorDeviceRow, MonitorDeviceRow.id == MonitorReadingRow.device_id)
                .where(MonitorReadingRow.session_id == session_id, MonitorReadingRow.id > after_id)
                .order_by(MonitorReadingRow.id).limit(limit)).all()
        return [monitor_repo.reading_value(r, name or "") for r, name in rows]

    def offer(self, actor: Actor, session_id: int) -> DeviceOffer | None:
        """The latest unreviewed device values for the session's vitals row (Ctrl+Shift+V)."""
        with self.db.read() as s:
            authorize(s, actor, Action.VIEW_RECORD)
            return self._offer(s, session_id) if valid_id(session_id) else None

    def _offer(self, s: Session, session_id: int) -> DeviceOffer | None:
        latest: dict[DeviceMeasure, DeviceReading] = {}
        for measure in DeviceMeasure:
            if measure.vitals_key is None:
                continue
            found = s.execute(
                select(MonitorReadingRow, MonitorDeviceRow.name)
                .outerjoin(MonitorDeviceRow, MonitorDeviceRow.id == MonitorReadingRow.device_id)
                .where(MonitorReadingRow.session_id == session_id, MonitorReadingRow.measure == measure.value,
                       MonitorReadingRow.value.is_not(None), MonitorReadingRow.problem == "")
                .order_by(MonitorReadingRow.id.desc()).limit(1)).first()
            if found is not None:
                latest[measure] = monitor_repo.reading_value(found[0], found[1] or "")
        if not latest:
            return None
        reviewed = s.scalars(select(MonitorReviewRow.reading_id).where(
            MonitorReviewRow.reading_id.in_([r.id for r in latest.values()])))
        return build_offer(session_id, latest, self.now(), reviewed)

    # ----- confirm or reject ----------------------------------------------------------------------------
    def _readings_for_review(self, s: Session, actor: Actor, session_id: int,
                             reading_ids: tuple[int, ...] | list[int]) -> list[MonitorReadingRow]:
        self._require(s, actor, Action.CHART)
        if not reading_ids:
            raise ValidationError("device reading", None, "name the readings to review")
        if not valid_id(session_id) or not all(valid_id(r) for r in reading_ids):
            raise NotFound("those device readings are not in this session")
        rows = list(s.scalars(select(MonitorReadingRow).where(MonitorReadingRow.id.in_(list(reading_ids)))))
        if len(rows) != len(set(reading_ids)) or any(r.session_id != session_id for r in rows):
            raise NotFound(f"those device readings are not in session {session_id}")
        done = list(s.scalars(select(MonitorReviewRow.reading_id).where(
            MonitorReviewRow.reading_id.in_(list(reading_ids)))))
        if done:
            raise IllegalTransition("a reading was already confirmed or rejected: take the latest offer")
        return rows

    def confirm(self, actor: Actor, session_id: int, offer: DeviceOffer, *,
                values: Mapping[str, Any] | None = None, checked_suspect: bool = False) -> Entry:
        """The nurse confirms the offered device values (``values``: as edited) into a vitals entry.

        A suspect value the nurse did not change is refused unless ``checked_suspect`` says they checked it.
        """
        offered = {k: o.value for k, o in offer.values.items()}
        final = dict(offered if values is None else values)
        edited = sorted(k for k in final if final.get(k) != offered.get(k))
        suspect = {k: o.suspect for k, o in offer.values.items() if o.suspect and k in final and k not in edited}
        if suspect and not checked_suspect:
            raise ValidationError("device reading", "; ".join(f"{k}: {why}" for k, why in suspect.items()),
                                  "a suspect value is confirmed only after checking it: confirm it as checked, "
                                  "edit it, or reject it as an artefact")
        used = tuple(o.reading_id for k, o in offer.values.items() if k in final)
        if not used:
            raise ValidationError("device reading", None, "confirm at least one offered value")
        device: dict[str, Any] = {}
        observed: dict[str, datetime] = {}

        def gather() -> None:
            with self.db.read() as s:
                rows = self._readings_for_review(s, actor, session_id, used)
                dev = s.get(MonitorDeviceRow, rows[0].device_id) if rows[0].device_id else None
                newest = max(rows, key=lambda r: r.device_time)
                off = dev is not None and dev.last_clock_offset is not None and \
                    abs(dev.last_clock_offset) > dev.clock_offset_threshold
                # A device clock beyond its threshold is not trusted for the clinical time: when it arrived is.
                moment = newest.received_at if off else newest.device_time
                observed["at"] = min(moment, self.now())
                device.update({
                    "id": dev.id if dev else None, "name": dev.name if dev else offer.device_name,
                    "device_time": timestamp(newest.device_time), "received_at": timestamp(newest.received_at),
                    "readings": sorted(used), "edited": edited,
                    "suspect_checked": dict(sorted(suspect.items())),
                })

        gather()

        def mark(s: Session, _row: SessionRow, entry: Entry) -> None:
            # Same unit of work as the entry: a confirmed reading is never offered again, nor half-confirmed.
            self._readings_for_review(s, actor, session_id, used)
            for rid in used:
                s.add(MonitorReviewRow(reading_id=rid, session_id=session_id, decision="confirmed", reason="",
                                       actor_id=actor.staff_id, at=self.now(), entry_id=entry.id))

        return self.records.record_vitals(actor, session_id, final, source="device", confirmed_by=actor.staff_id,
                                          observed_at=observed["at"], device=device, after=mark)

    def reject(self, actor: Actor, session_id: int, reading_ids: tuple[int, ...] | list[int], reason: str) -> Entry:
        """Reject device readings as an artefact, with the reason: recorded in the session's record."""
        why = v.text("reason", reason, limit=v.REASON_TEXT, required=True)
        described: list[str] = []
        at: dict[str, datetime] = {}
        with self.db.read() as s:
            rows = self._readings_for_review(s, actor, session_id, list(reading_ids))
            state = s.scalar(select(SessionRow.state).where(SessionRow.id == session_id))
            if state is None or SessionState(state).is_closed:
                raise IllegalTransition("the session is closed: device readings can no longer be reviewed")
            for r in sorted(rows, key=lambda r: r.id):
                label = DeviceMeasure(r.measure).label if r.measure else r.code
                described.append(f"{label} {r.value_text} {r.unit}".strip())
            at["at"] = min(min(r.received_at for r in rows), self.now())
        text = f"Monitor reading rejected as artefact: {', '.join(described)}. Reason: {why}"

        def mark(s: Session, _row: SessionRow, entry: Entry) -> None:
            self._readings_for_review(s, actor, session_id, list(reading_ids))
            for rid in reading_ids:
                s.add(MonitorReviewRow(reading_id=rid, session_id=session_id, decision="rejected", reason=why,
                                       actor_id=actor.staff_id, at=self.now(), entry_id=entry.id))

        return self.records.record_observation(actor, session_id, text[:v.LONG_TEXT], category="medical",
                                               after=mark)

    # ----- the chained digest ---------------------------------------------------------------------------
    def seal(self) -> int:
        """Digest the readings stored since the last digest (older than a few seconds); returns how many."""
        cutoff = self.now() - SETTLE
        with self.db.write() as s:
            last = s.scalars(select(MonitorDigestRow).order_by(MonitorDigestRow.id.desc()).limit(1)).first()
            after = last.last_reading_id if last else 0
            rows = list(s.scalars(select(MonitorReadingRow).where(
                MonitorReadingRow.id > after, MonitorReadingRow.received_at <= cutoff).order_by(MonitorReadingRow.id)
                .limit(50000)))
            if not rows:
                return 0
            prev = last.hash if last else GENESIS
            value, count = digest(prev, (_line(r) for r in rows))
            s.add(MonitorDigestRow(first_reading_id=rows[0].id, last_reading_id=rows[-1].id, count=count,
                                   prev_hash=prev, hash=value, created_at=self.now()))
            return count

    def verify(self) -> StreamVerifyResult:
        """Recompute every digest over the readings it covers; name each that no longer matches."""
        problems: list[VerifyProblem] = []
        checked = 0
        with self.db.read() as s:
            digests = list(s.scalars(select(MonitorDigestRow).order_by(MonitorDigestRow.id)))
            prev = GENESIS
            covered_to = 0
            for d in digests:
                rows = list(s.scalars(select(MonitorReadingRow).where(
                    MonitorReadingRow.id > covered_to, MonitorReadingRow.id <= d.last_reading_id)
                    .order_by(MonitorReadingRow.id)))
                value, count = digest(prev, (_line(r) for r in rows))
                checked += count
                where = f"device stream digest {d.id} (readings {d.first_reading_id}–{d.last_reading_id})"
                if d.prev_hash != prev:
                    problems.append(VerifyProblem(0, None, None, f"{where}: chain link broken"))
                if count != d.count:
                    problems.append(VerifyProblem(0, None, None, f"{where}: {d.count} readings sealed, "
                                                                 f"{count} found (readings missing or added)"))
                elif value != d.hash:
                    problems.append(VerifyProblem(0, None, None, f"{where}: readings no longer match the digest"))
                prev = d.hash
                covered_to = d.last_reading_id
            undigested = s.scalar(select(func.count()).select_from(MonitorReadingRow).where(
                MonitorReadingRow.id > covered_to)) or 0
        return StreamVerifyResult(len(digests), checked, int(undigested), tuple(problems))


def _line(r: MonitorReadingRow) -> str:
    return reading_line(id=r.id, message_id=r.message_id, session_id=r.session_id, source_key=r.source_key,
                        code=r.code, code_system=r.code_system, value_text=r.value_text, unit=r.unit,
                        status=r.status, flags=r.flags, device_time=r.device_time, received_at=r.received_at)
