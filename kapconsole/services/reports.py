"""The integration summary: gather a session's report data, render it, write it owner-only; course overview."""

from __future__ import annotations

import os
from pathlib import Path

from sqlalchemy import select

from kapconsole.data import repositories as repo
from kapconsole.data.db import Database
from kapconsole.data.models import ClientRow, SessionRow
from kapconsole.domain import validation as v
from kapconsole.domain.errors import NotFound
from kapconsole.domain.rules import Action
from kapconsole.domain.values import Actor
from kapconsole.reports import assemble
from kapconsole.reports.data import DEFAULT_CLINIC_NAME, CourseSessionLine, ReportData
from kapconsole.reports.render import render_pdf
from kapconsole.services.base import Clock, ServiceBase, authorize, system_clock

CLINIC_NAME_KEY = "clinic_name"


class ReportService(ServiceBase):
    def __init__(self, db: Database, clock: Clock = system_clock) -> None:
        super().__init__(db, clock)

    def build(self, actor: Actor | None, session_id: int) -> ReportData:
        """Everything the summary of ``session_id`` shows. ``actor`` None is for the trusted command line."""
        with self.db.read() as s:
            if actor is not None:
                authorize(s, actor, Action.EXPORT_REPORT)
            record = repo.load_record(s, session_id)
            clinic = (repo.get_setting(s, CLINIC_NAME_KEY) or "").strip() or DEFAULT_CLINIC_NAME
        return assemble.report_data(record, clinic_name=clinic, now=self.now())

    def pdf(self, actor: Actor | None, session_id: int, *, password: str | None = None) -> bytes:
        """The summary as PDF bytes (encrypted when ``password`` is given). The export is audited."""
        password = v.pdf_password(password)
        data = self.build(actor, session_id)
        content = render_pdf(data, password=password)
        self._audit(actor, session_id, "report_exported",
                    ("draft" if data.draft else "signed") + (", password protected" if password else ""))
        return content

    def write(self, actor: Actor | None, session_id: int, path: str | os.PathLike[str], *,
              password: str | None = None) -> Path:
        """Write the summary to ``path``, readable by its owner only; returns the path written."""
        target = Path(path)
        content = self.pdf(actor, session_id, password=password)
        # The file holds health information: create it owner-only from the first byte, then replace atomically.
        temp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
        fd = os.open(temp, os.O_CREAT | os.O_WRONLY | os.O_TRUNC, 0o600)
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(content)
                fh.flush()
                os.fsync(fh.fileno())
            os.chmod(temp, 0o600)
            os.replace(temp, target)
        except BaseException:
            temp.unlink(missing_ok=True)
            raise
        return target

    def course_overview(self, actor: Actor | None, client_id: int) -> list[CourseSessionLine]:
        """Per session of the client (oldest first): date, state, doses, peaks, side effects, integration items."""
        with self.db.read() as s:
            if actor is not None:
                authorize(s, actor, Action.VIEW_RECORD)
            if s.get(ClientRow, client_id) is None:
                raise NotFound(f"there is no client {client_id}")
            ids = s.scalars(select(SessionRow.id).where(SessionRow.client_id == client_id)
                            .order_by(SessionRow.scheduled_at, SessionRow.id)).all()
            records = [repo.load_record(s, sid) for sid in ids]
        return [assemble.course_line(r) for r in records]

    def _audit(self, actor: Actor | None, session_id: int, action: str, detail: str) -> None:
        with self.db.write() as s:
            repo.add_audit(s, at=self.now(), action=action, actor=actor,
                           actor_name="" if actor else "command line", session_id=session_id, detail=detail)
