"""Recompute every session's hash chain and signature bindings; name what no longer matches."""

from __future__ import annotations

import json

from sqlalchemy import select

from kapconsole.data.models import EntryRow, SessionRow
from kapconsole.domain.enums import EntryKind
from kapconsole.domain.errors import NotFound
from kapconsole.domain.integrity import GENESIS, canonical_payload, entry_hash
from kapconsole.domain.values import VerifyProblem, VerifyResult
from kapconsole.services.base import ServiceBase


class IntegrityService(ServiceBase):
    def verify(self, session_id: int | None = None) -> VerifyResult:
        problems: list[VerifyProblem] = []
        sessions = entries = 0
        with self.db.read() as s:
            stmt = select(SessionRow.id, SessionRow.chain_head, SessionRow.entry_count).order_by(SessionRow.id)
            if session_id is not None:
                stmt = stmt.where(SessionRow.id == session_id)
            heads = s.execute(stmt).all()
            if session_id is not None and not heads:
                raise NotFound(f"there is no session {session_id}")
            for sid, head, count in heads:
                sessions += 1
                rows = s.scalars(select(EntryRow).where(EntryRow.session_id == sid).order_by(EntryRow.seq)).all()
                entries += len(rows)
                problems += self._check_chain(sid, head, count, rows)
        return VerifyResult(sessions, entries, tuple(problems))

    @staticmethod
    def _check_chain(sid: int, head: str, count: int, rows: list[EntryRow]) -> list[VerifyProblem]:
        problems: list[VerifyProblem] = []
        prev = GENESIS
        hashes: dict[int, str] = {}
        for expected_seq, row in enumerate(rows, start=1):
            where = f"entry {row.id} (#{row.seq}, {row.kind})"
            if row.seq != expected_seq:
                problems.append(VerifyProblem(sid, row.id, row.seq, f"{where}: sequence gap, expected #{expected_seq}"))
            try:
                payload = json.loads(row.payload)
                canonical = canonical_payload(payload)
            except (ValueError, TypeError):
                problems.append(VerifyProblem(sid, row.id, row.seq, f"{where}: payload is not valid JSON"))
                prev = row.hash
                continue
            digest = entry_hash(
                session_id=row.session_id, seq=row.seq, kind=row.kind, observed_at=row.observed_at,
                entered_at=row.entered_at, author_id=row.author_id, workstation=row.workstation,
                amends_id=row.amends_id, payload_text=row.payload, prev_hash=row.prev_hash,
            )
            if canonical != row.payload or digest != row.hash:
                problems.append(VerifyProblem(sid, row.id, row.seq, f"{where}: content does not match its hash"))
            if row.prev_hash != prev:
                problems.append(VerifyProblem(sid, row.id, row.seq, f"{where}: chain link broken"))
            if row.kind == EntryKind.SIGNATURE.value:
                signed_seq = payload.get("signed_seq")
                if hashes.get(signed_seq) != payload.get("signed_hash") and not (
                    signed_seq == 0 and payload.get("signed_hash") == GENESIS
                ):
                    problems.append(VerifyProblem(sid, row.id, row.seq,
                                                  f"{where}: the signed record no longer matches the signature"))
            hashes[row.seq] = row.hash
            prev = row.hash
        if len(rows) != count or prev != head:
            problems.append(VerifyProblem(sid, None, None,
                                          f"session {sid}: chain head does not match (entries missing or added)"))
        return problems
