"""When the next vitals reading is due, from the protocol's monitoring schedule."""

from __future__ import annotations

from datetime import datetime, timedelta

from kapconsole.domain.protocol import VitalsSchedule


def interval_at(moment: datetime, *, first_dose_at: datetime, infusion_ends: list[tuple[datetime, datetime]],
                schedule: VitalsSchedule) -> timedelta:
    """The charting interval in force at ``moment``."""
    for start, end in infusion_ends:
        if start <= moment < end:
            return timedelta(minutes=schedule.iv_infusion_interval)
    if moment < first_dose_at + timedelta(minutes=schedule.first_phase_minutes):
        return timedelta(minutes=schedule.first_phase_interval)
    return timedelta(minutes=schedule.later_interval)


def next_due(*, first_dose_at: datetime | None, last_vitals_at: datetime | None,
             infusions: list[tuple[datetime, datetime]], schedule: VitalsSchedule) -> datetime | None:
    """The time the next reading is due; ``None`` before dosing (baseline is part of the checklist)."""
    if first_dose_at is None:
        return None
    anchor = first_dose_at if last_vitals_at is None or last_vitals_at < first_dose_at else last_vitals_at
    due = anchor + interval_at(anchor, first_dose_at=first_dose_at, infusion_ends=infusions, schedule=schedule)
    # An infusion that starts before the due time tightens the interval from its start.
    for start, _end in infusions:
        if anchor < start < due:
            due = min(due, start + timedelta(minutes=schedule.iv_infusion_interval))
    return due
