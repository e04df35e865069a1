"""The one write path: append a typed entry to a session's chain, and the one state transition.

Every service that writes an entry goes through :func:`append` (the payload is exactly what the entry class
builds) and every change of a session's state through :func:`transition` (with its audit event).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from kapconsole.data import repositories as repo
from kapconsole.data.models import SessionRow
from kapconsole.domain.entries import StateChange
from kapconsole.domain.entry_base import EntryContent
from kapconsole.domain.enums import SessionState
from kapconsole.domain.rules import require_transition
from kapconsole.domain.values import Actor, Entry


def append(s: Session, row: SessionRow, actor: Actor, content: EntryContent, *, observed_at: datetime,
           entered_at: datetime, amends_id: int | None = None, request_key: str | None = None,
           payload: Mapping[str, Any] | None = None) -> Entry:
    """Append ``content`` as the session's next entry; the caller's unit of work commits it.

    ``request_key``: the client's key of the request (retries find the entry by it). ``payload``: the content's
    payload with a digital signature added (see ``services.keys.session_signature``).
    """
    return repo.append_entry(s, row, kind=content.kind, observed_at=observed_at, entered_at=entered_at, actor=actor,
                             payload=payload if payload is not None else content.to_payload(), amends_id=amends_id,
                             request_key=request_key)


def transition(s: Session, row: SessionRow, actor: Actor, target: SessionState, *, now: datetime,
               at: datetime | None = None, reason: str = "", reason_code: str = "",
               request_key: str | None = None, disposition: str = "") -> Entry:
    """Move the session to ``target``: the state entry, the session row, and the audit event."""
    current = SessionState(row.state)
    require_transition(current, target)
    entry = append(s, row, actor, StateChange.build(current.value, target.value, reason, reason_code, disposition),
                   observed_at=at or now, entered_at=now, request_key=request_key)
    row.state = target.value
    if target is SessionState.CHECKLIST:
        row.started_at = at or now
    if target.is_closed:
        row.ended_at = at or now
        row.end_reason = reason
    repo.add_audit(s, at=now, action=f"state_{target.value}", actor=actor, session_id=row.id,
                   detail=reason[:200])
    return entry


def followed(entry: Entry, *more: Entry | None) -> Entry:
    """``entry`` carrying the entries its unit of work appended after it (what a view applies)."""
    rest = tuple(e for e in more if e is not None)
    return replace(entry, followed_by=rest) if rest else entry
