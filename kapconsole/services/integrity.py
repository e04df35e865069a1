"""Recompute every session's hash chain and signature bindings; name what no longer matches."""

from __future__ import annotations

import contextlib
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
            stmt = select(SessionRow.id, SessionRow.chain_head, SessionRow.entry_count, SessionRow.state).order_by(
                SessionRow.id)
            if session_id is not None:
                stmt = stmt.where(SessionRow.id == session_id)
            heads = s.execute(stmt).all()
            if session_id is not None and not heads:
                raise NotFound(f"there is no session {session_id}")
            for sid, head, count, state in heads:
                sessions += 1
                rows = s.scalars(select(EntryRow).where(EntryRow.session_id == sid).order_by(EntryRow.seq)).all()
                entries += len(rows)
                problems += self._check_chain(sid, head, count, list(rows))
                problems += self._check_state(sid, state, list(rows))
        return VerifyResult(sessions, entries, tuple(problems))

    @staticmethod
    def _check_chain(sid: int, head: str, count: int, rows: list[EntryRow]) -> list[VerifyProblem]:
        problems: list[VerifyProblem] = []
        prev = GENESIS
        # The chain as it should be, recomputed from the genesis: a signature is checked against it, so a
        # change anywhere before the signed point breaks the signature even if stored hashes were rewritten.
        true_prev = GENESIS
        true_chain: dict[int, str] = {0: GENESIS}
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
            fields = dict(session_id=row.session_id, seq=row.seq, kind=row.kind, observed_at=row.observed_at,
                          entered_at=row.entered_at, author_id=row.author_id, workstation=row.workstation,
                          amends_id=row.amends_id, payload_text=row.payload)
            digest = entry_hash(**fields, prev_hash=row.prev_hash)  # type: ignore[arg-type]
            true_prev = entry_hash(**fields, prev_hash=true_prev)  # type: ignore[arg-type]
            true_chain[row.seq] = true_prev
            if canonical != row.payload or digest != row.hash:
                problems.append(VerifyProblem(sid, row.id, row.seq, f"{where}: content does not match its hash"))
            if row.prev_hash != prev:
                problems.append(VerifyProblem(sid, row.id, row.seq, f"{where}: chain link broken"))
            signed_seq = payload.get("signed_seq", -1) if row.kind == EntryKind.SIGNATURE.value else None
            if signed_seq is not None and true_chain.get(signed_seq) != payload.get("signed_hash"):
                problems.append(VerifyProblem(sid, row.id, row.seq,
                                              f"{where}: the signed record no longer matches the signature"))
            prev = row.hash
        if len(rows) != count or prev != head:
            problems.append(VerifyProblem(sid, None, None,
                                          "chain head does not match (entries missing or added)"))
        return problems

    @staticmethod
    def _check_state(sid: int, state: str, rows: list[EntryRow]) -> list[VerifyProblem]:
        """The session's state must be the one its last recorded transition moved it to."""
        expected = "planned"
        for row in rows:
            if row.kind == EntryKind.STATE.value:
                with contextlib.suppress(ValueError):
                    expected = json.loads(row.payload).get("to", expected)
        if state != expected:
            return [VerifyProblem(sid, None, None, f"state '{state}' does not match the record "
                                                   f"('{expected}')")]
        return []
