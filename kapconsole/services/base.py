"""What every service shares: the database, the clock, and the audit trail."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from kapconsole.data.db import Database

Clock = Callable[[], datetime]


def system_clock() -> datetime:
    return datetime.now(UTC)


class ManualClock:
    """A clock moved by hand: the demo clinic replays hours of past sessions; tests and benchmarks use it too."""

    def __init__(self, start: datetime | None = None) -> None:
        self.now = start or datetime.now(UTC) - timedelta(hours=8)

    def __call__(self) -> datetime:
        return self.now

    def at(self, moment: datetime) -> datetime:
        self.now = moment
        return moment

    def advance(self, **kwargs: float) -> datetime:
        self.now += timedelta(**kwargs)
        return self.now


class ServiceBase:
    def __init__(self, db: Database, clock: Clock = system_clock) -> None:
        self.db = db
        self._clock = clock

    def now(self) -> datetime:
        return self._clock()
