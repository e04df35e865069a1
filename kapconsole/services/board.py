"""The supervisor's board: every active session in the clinic, across workstations.

Two queries per refresh whatever the number of rooms (the active sessions, then the entries of only those
sessions), and a cheaper one to poll for changes: the (id, version) pairs of the active sessions. Every
append bumps its session's version and every state change that opens or closes a session changes the set,
so the token changes exactly when the board would.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict

from sqlalchemy import or_, select
from sqlalchemy.orm import defaultload, noload

from kapconsole.data import repositories as repo
from kapconsole.data.models import EntryRow, SessionRow, StaffRow
from kapconsole.domain.board import BoardRow, board_row
from kapconsole.domain.enums import SessionState
from kapconsole.domain.record import SessionRecord
from kapconsole.domain.rules import Action
from kapconsole.domain.values import Actor, Entry
from kapconsole.services.base import ServiceBase, authorize

__all__ = ["ACTIVE_STATES", "BoardRow", "BoardService"]

ACTIVE_STATES = tuple(s.value for s in SessionState if s.is_active)
#: Active sessions, and sessions ended early after a dose until a physician attests them.
_ON_BOARD = or_(SessionRow.state.in_(ACTIVE_STATES), SessionRow.needs_attestation.is_(True))


class BoardService(ServiceBase):
    def rows(self, actor: Actor) -> list[BoardRow]:
        """Every active session (checklist, monitoring, awaiting discharge), by room."""
        with self.db.read() as s:
            authorize(s, actor, Action.VIEW_RECORD)
            # Staff lists and authors' roles are not shown on the board: loading them would cost more queries.
            sessions = s.scalars(
                select(SessionRow).options(noload(SessionRow.staff))
                .where(_ON_BOARD).order_by(SessionRow.room, SessionRow.id)
            ).unique().all()
            if not sessions:
                return []
            by_session: dict[int, list[Entry]] = defaultdict(list)
            entries = s.scalars(
                select(EntryRow).options(defaultload(EntryRow.author).noload(StaffRow.roles))
                .where(EntryRow.session_id.in_([r.id for r in sessions]))
                .order_by(EntryRow.session_id, EntryRow.seq)
            )
            for row in entries:
                by_session[row.session_id].append(repo.entry_value(row))
            records = [SessionRecord(repo.session_value(r), tuple(by_session[r.id])) for r in sessions]
        now = self.now()
        rows = [board_row(record, now) for record in records]
        # Escalated alerts first, the longest-waiting at the top; then by room.
        return sorted(rows, key=lambda r: (r.escalated_since is None, r.escalated_since or now))

    def changed_since(self, token: str | None) -> tuple[bool, str]:
        """Whether any active session changed (or one opened or closed) since ``token``; and the new token.

        Pass ``None`` the first time. Cheap enough to call every second from each board.
        """
        with self.db.read() as s:
            pairs = s.execute(
                select(SessionRow.id, SessionRow.version)
                .where(_ON_BOARD).order_by(SessionRow.id)
            ).all()
        text = ";".join(f"{sid}:{version}" for sid, version in pairs)
        new = hashlib.blake2b(text.encode("ascii"), digest_size=12).hexdigest()
        return new != token, new
