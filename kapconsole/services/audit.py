"""The audit trail, for supervisors and administrators."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select

from kapconsole.data import repositories as repo
from kapconsole.data.models import AuditRow
from kapconsole.domain import validation as v
from kapconsole.domain.rules import Action
from kapconsole.domain.values import Actor, AuditEvent
from kapconsole.services.base import ServiceBase, authorize, valid_id


class AuditService(ServiceBase):
    def events(self, actor: Actor, *, action: str | None = None, actor_name: str | None = None,
               session_id: int | None = None, workstation: str | None = None, since: datetime | None = None,
               limit: int = 500) -> list[AuditEvent]:
        action, actor_name = v.search_text("action", action), v.search_text("person", actor_name)
        workstation = v.search_text("workstation", workstation)
        since = v.optional_time(since, "since")
        limit = v.count("limit", limit, low=1, high=100_000)
        if session_id is not None and not valid_id(session_id):
            return []
        with self.db.read() as s:
            authorize(s, actor, Action.VIEW_AUDIT)
            stmt = select(AuditRow).order_by(AuditRow.at.desc(), AuditRow.id.desc()).limit(limit)
            if action:
                stmt = stmt.where(AuditRow.action.like(f"%{action}%"))
            if actor_name:
                stmt = stmt.where(AuditRow.actor_name.like(f"%{actor_name}%"))
            if session_id is not None:
                stmt = stmt.where(AuditRow.session_id == session_id)
            if workstation:
                stmt = stmt.where(AuditRow.workstation == workstation)
            if since is not None:
                stmt = stmt.where(AuditRow.at >= since)
            return [repo.audit_value(r) for r in s.scalars(stmt)]
