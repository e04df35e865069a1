"""What every service shares: the database, the clock, and the audit trail."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

from kapconsole.data.db import Database

Clock = Callable[[], datetime]


def system_clock() -> datetime:
    return datetime.now(UTC)


class ServiceBase:
    def __init__(self, db: Database, clock: Clock = system_clock) -> None:
        self.db = db
        self._clock = clock

    def now(self) -> datetime:
        return self._clock()
