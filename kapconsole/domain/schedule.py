"""When the next vitals reading is due, from the protocol's monitoring schedule.

Each required measure is due on its own (a SpO2-only reading does not reset the BP clock), and the schedule
restarts from the last dose: after a booster, or after an IV infusion ends, the first-phase interval applies
again for the first-phase minutes.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta

from kapconsole.domain.protocol import VitalsSchedule

#: A dose as the schedule sees it: (start, end) — end is the start for a bolus, None while an infusion runs.
DoseSpan = tuple[datetime, datetime | None]


def interval_at(moment: datetime, *, doses: Sequence[DoseSpan], infusions: Sequence[DoseSpan],
                schedule: VitalsSchedule) -> timedelta:
    """The charting interval in force at ``moment``."""
    for start, end in infusions:
        if start <= moment and (end is None or moment < end):
            return timedelta(minutes=schedule.iv_infusion_interval)
    ends = [end if end is not None else start for start, end in doses if (end or start) <= moment]
    anchor = max(ends) if ends else None
    if anchor is not None and moment < anchor + timedelta(minutes=schedule.first_phase_minutes):
        return timedelta(minutes=schedule.first_phase_interval)
    if anchor is None:
        return timedelta(minutes=schedule.first_phase_interval)
    return timedelta(minutes=schedule.later_interval)


def due_by_measure(*, doses: Sequence[DoseSpan], infusions: Sequence[DoseSpan],
                   last_taken: Mapping[str, datetime | None], schedule: VitalsSchedule) -> dict[str, datetime]:
    """For each required measure, when it is next due; empty before the first dose."""
    if not doses:
        return {}
    first = min(start for start, _ in doses)
    result = {}
    for measure in schedule.required_measures:
        last = last_taken.get(measure)
        anchor = first if last is None or last < first else last
        due = anchor + interval_at(anchor, doses=doses, infusions=infusions, schedule=schedule)
        # A dose (or an infusion's end) after the last reading restarts the schedule from it.
        for start, end in doses:
            for moment in (start, end):
                if moment is not None and anchor < moment < due:
                    due = min(due, moment + interval_at(moment, doses=doses, infusions=infusions,
                                                        schedule=schedule))
        result[measure] = due
    return result


def next_due(*, doses: Sequence[DoseSpan], infusions: Sequence[DoseSpan], last_taken: Mapping[str, datetime | None],
             schedule: VitalsSchedule) -> datetime | None:
    """The time the next reading is due (the earliest measure); ``None`` before dosing."""
    dues = due_by_measure(doses=doses, infusions=infusions, last_taken=last_taken, schedule=schedule)
    return min(dues.values()) if dues else None
