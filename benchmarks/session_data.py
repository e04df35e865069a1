"""A six-hour monitored session charted through the services: vitals every minute and 500 observations."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from benchmarks.common import dosed_session, make_staff, temp_root
from kapconsole.services.base import ManualClock

MINUTES = 360
OBSERVATIONS = 500
NOTES = (
    "Resting comfortably, eye mask on, music playing.",
    "Client: \"I kept seeing the house I grew up in, but it felt safe this time.\" <b>not markup</b> & more",
    "Shifted position, asked for a blanket; provided.",
    "Brief tearfulness, self-soothing; therapist present and attuned.",
    "Removed eye mask, oriented, sipping water, talking about the music and about her sister.",
)


def build() -> tuple[Path, int]:
    """The SQLite file and the session id (cached for the run)."""
    path = temp_root() / "six-hours.db"
    marker = path.with_suffix(".session")
    if marker.exists():
        return path, int(marker.read_text())
    from kapconsole.services import Services

    clock = ManualClock(datetime.now(UTC) - timedelta(minutes=MINUTES + 30))
    services = Services.open(f"sqlite:///{path}", clock=clock)
    try:
        staff = make_staff(services)
        sid = dosed_session(services, staff, clock, name="Maria Example")
        nurse, therapist = staff["medical"], staff["therapist"]
        written = 0
        for minute in range(1, MINUTES + 1):
            clock.advance(minutes=1)
            services.records.record_vitals(nurse, sid, {"sbp": 120 + minute % 23, "dbp": 76 + minute % 11,
                                                        "hr": 70 + minute % 17, "spo2": 95 + minute % 4,
                                                        "rr": 12 + minute % 5})
            due = OBSERVATIONS * minute // MINUTES - written
            for k in range(due):
                services.records.record_observation(therapist, sid, f"{NOTES[(written + k) % len(NOTES)]} (#{written + k})",
                                                    for_integration=(written + k) % 25 == 0)
            written += due
    finally:
        services.close()
    marker.write_text(str(sid))
    return path, sid
