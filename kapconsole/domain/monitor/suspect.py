"""When a device value is suspect: outside the plausible range, a jump no body makes, or a poor signal.

A suspect value is still shown (it may be real) but it is marked, and it is never confirmed into the record
without the person saying they checked it.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from kapconsole.domain.monitor.codes import DeviceMeasure
from kapconsole.domain.monitor.values import SUSPECT_FLAGS
from kapconsole.domain.protocol import Limits

#: The largest change per minute a real patient's value makes between two readings of the same measure;
#: a bigger step is an artefact until a person says otherwise (movement, a kinked line, a loose probe).
MAX_RATE_PER_MINUTE: dict[DeviceMeasure, float] = {
    DeviceMeasure.SBP: 40.0,
    DeviceMeasure.DBP: 30.0,
    DeviceMeasure.MAP: 30.0,
    DeviceMeasure.HR: 40.0,
    DeviceMeasure.PULSE: 40.0,
    DeviceMeasure.SPO2: 8.0,
    DeviceMeasure.RR: 15.0,
    DeviceMeasure.TEMP: 0.5,
    DeviceMeasure.ETCO2: 15.0,
}
#: Steps are judged over at least this long: two one-second numerics may differ by a few units legitimately.
MIN_WINDOW_MINUTES = 0.5
#: Plausible ranges for the stream-only measures (the charted ones come from the session's protocol).
STREAM_PLAUSIBLE: dict[DeviceMeasure, Limits] = {
    DeviceMeasure.MAP: Limits(30, 250),
    DeviceMeasure.ETCO2: Limits(0, 100),
    DeviceMeasure.PULSE: Limits(20, 250),
}


def flag_reason(flags: tuple[str, ...]) -> str:
    bad = [f for f in flags if f.strip().casefold() in SUSPECT_FLAGS]
    return f"signal flagged {', '.join(bad)}" if bad else ""


def range_reason(measure: DeviceMeasure, value: float, plausible: Mapping[str, Limits]) -> str:
    key = measure.vitals_key if measure is not DeviceMeasure.PULSE else None
    lim = plausible.get(key) if key else STREAM_PLAUSIBLE.get(measure)
    if lim is None:
        return ""
    if (lim.low is not None and value < lim.low) or (lim.high is not None and value > lim.high):
        low = "" if lim.low is None else f"{lim.low:g}"
        high = "" if lim.high is None else f"{lim.high:g}"
        return f"{measure.label} {value:g} {measure.unit} outside the plausible range {low}–{high}"
    return ""


def jump_reason(measure: DeviceMeasure, value: float, at: datetime, previous: tuple[float, datetime] | None) -> str:
    """Why ``value`` at ``at`` is an implausible step from the previous value of the same measure."""
    if previous is None:
        return ""
    before, then = previous
    minutes = max(MIN_WINDOW_MINUTES, abs((at - then).total_seconds()) / 60.0)
    limit = MAX_RATE_PER_MINUTE[measure] * minutes
    step = value - before
    if abs(step) > limit:
        return f"{measure.label} jumped {step:+g} {measure.unit} in {_span(at, then)}"
    return ""


def _span(a: datetime, b: datetime) -> str:
    seconds = abs((a - b).total_seconds())
    return f"{seconds:.0f} s" if seconds < 120 else f"{seconds / 60:.0f} min"


def suspect_reason(measure: DeviceMeasure, value: float, at: datetime, flags: tuple[str, ...],
                   plausible: Mapping[str, Limits], previous: tuple[float, datetime] | None) -> str:
    """All reasons a value is suspect, joined; empty when it is not."""
    reasons = [r for r in (flag_reason(flags), range_reason(measure, value, plausible),
                           jump_reason(measure, value, at, previous)) if r]
    return "; ".join(reasons)
