"""Rows of the device stream as domain values, and the queries the monitor services share."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from kapconsole.data.models import MonitorDeviceRow, MonitorReadingRow
from kapconsole.domain.enums import SessionState
from kapconsole.domain.monitor.codes import DeviceMeasure
from kapconsole.domain.monitor.values import Device, DeviceReading, IdentityKind

ACTIVE_STATES = tuple(s.value for s in SessionState if s.is_active)


def device_value(row: MonitorDeviceRow) -> Device:
    return Device(
        id=row.id, name=row.name, room=row.room, identity_kind=IdentityKind(row.identity_kind),
        identity=row.identity, timezone=row.timezone, clock_offset_threshold=row.clock_offset_threshold,
        active=row.active, last_message_at=row.last_message_at, last_clock_offset=row.last_clock_offset,
        last_peer=row.last_peer,
    )


def reading_value(row: MonitorReadingRow, device_name: str = "") -> DeviceReading:
    return DeviceReading(
        id=row.id, message_id=row.message_id, device_id=row.device_id, device_name=device_name,
        session_id=row.session_id, room=row.room, measure=DeviceMeasure(row.measure) if row.measure else None,
        code=row.code, code_system=row.code_system, value=row.value, value_text=row.value_text, unit=row.unit,
        status=row.status, flags=tuple(f for f in row.flags.split("~") if f), device_time=row.device_time,
        received_at=row.received_at, problem=row.problem, suspect=row.suspect,
    )


def devices(s: Session, *, include_inactive: bool = False) -> list[Device]:
    stmt = select(MonitorDeviceRow).order_by(MonitorDeviceRow.room, MonitorDeviceRow.name)
    if not include_inactive:
        stmt = stmt.where(MonitorDeviceRow.active.is_(True))
    return [device_value(r) for r in s.scalars(stmt)]
