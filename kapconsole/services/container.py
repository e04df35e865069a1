"""The composition of services over one database: what the GUI, the CLI and tests construct."""

from __future__ import annotations

from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING

from kapconsole.data import migrate
from kapconsole.data.db import Database, resolve_url
from kapconsole.services.audit import AuditService
from kapconsole.services.base import Clock, system_clock
from kapconsole.services.board import BoardService
from kapconsole.services.clinic import ClinicService
from kapconsole.services.discharge import DischargeService
from kapconsole.services.integrity import IntegrityService
from kapconsole.services.monitor.service import MonitorService
from kapconsole.services.record import RecordService
from kapconsole.services.rems import RemsService
from kapconsole.services.staff import StaffService

if TYPE_CHECKING:
    from kapconsole.services.reports import ReportService


class Services:
    def __init__(self, db: Database, clock: Clock = system_clock) -> None:
        self.db = db
        self._clock = clock
        self.staff = StaffService(db, clock)
        self.clinic = ClinicService(db, clock)
        self.records = RecordService(db, self.staff, clock)
        self.discharge = DischargeService(db, self.staff, clock)
        self.integrity = IntegrityService(db, clock)
        self.audit = AuditService(db, clock)
        self.board = BoardService(db, clock)
        self.rems = RemsService(db, self.records, self.clinic, clock)
        self.monitor = MonitorService(db, self.records, clock)

    @cached_property
    def reports(self) -> ReportService:
        # Imported on first use: ReportLab is only needed when a summary is written.
        from kapconsole.services.reports import ReportService

        return ReportService(self.db, self._clock)

    @classmethod
    def open(cls, url: str | None = None, *, upgrade: bool = True, clock: Clock = system_clock) -> Services:
        """Open the database (``--database``, the environment, or the SQLite default) and bring it to head."""
        db = Database(resolve_url(url))
        if upgrade:
            try:
                migrate.upgrade(db)
            except BaseException:
                db.remove_if_created_empty()
                raise
        return cls(db, clock)

    def upgrade(self) -> Path | None:
        return migrate.upgrade(self.db)

    @property
    def database_name(self) -> str:
        return self.db.display_name

    def close(self) -> None:
        self.db.dispose()
