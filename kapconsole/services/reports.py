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
from kapconsole.domain.rules import Action, require
from kapconsole.domain.values import Actor
from kapconsole.reports import assemble
from kapconsole.reports.data import DEFAULT_CLINIC_NAME, CourseSessionLine, ReportData
from kapconsole.reports.render import render_pdf
from kapconsole.services.base import Clock, ServiceBase, system_clock

CLINIC_NAME_KEY = "clinic_name"


class ReportService(ServiceBase):
    def __init__(self, db: Database, clock: Clock = system_clock) -> None:
        super().__init__(db, clock)

    def build(self, actor: Actor | None, session_id: int) -> ReportData:
        """Everything the summary of ``session_id`` shows. ``actor`` None is for the trusted command line."""
        if actor is not None:
            require(actor.roles, Action.EXPORT_REPORT, actor.name)
        with self.db.read() as s:
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
        if target.is_dir():
            # A folder: the summary goes inside it under a name of its own.
            target = target / f"kap-session-{session_id}-summary.pdf"
        content = self.pdf(actor, session_id, password=password)
        # The file holds health information: create it owner-only from the first byte, then replace atomically.
        temp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
        try:
            fd = os.open(temp, os.O_CREAT | os.O_WRONLY | os.O_TRUNC, 0o600)
        except OSError as exc:
            # Name the file the person asked for, not the temporary one beside it.
            raise OSError(exc.errno, exc.strerror, str(target)) from None
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(content)
                fh.flush()
                os.fsync(fh.fileno())
            os.chmod(temp, 0o600)
            os.replace(temp, target)
        except OSError as exc:
            temp.unlink(missing_ok=True)
            raise OSError(exc.errno, exc.strerror, str(target)) from None
        except BaseException:
            temp.unlink(missing_ok=True)
            raise
        return target

    def course_overview(self, actor: Actor | None, client_id: int) -> list[CourseSessionLine]:
        """Per session of the client (oldest first): date, state, doses, peaks, side effects, integration items."""
        if actor is not None:
            require(actor.roles, Action.VIEW_RECORD, actor.name)
        with self.db.read() as s:
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
