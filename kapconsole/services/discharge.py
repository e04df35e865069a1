"""Discharge assessment and the supervisor's re-authenticated electronic signature."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from kapconsole.data import repositories as repo
from kapconsole.domain import discharge as rules
from kapconsole.domain import entries as build
from kapconsole.domain import validation as v
from kapconsole.domain.enums import EntryKind, SessionState
from kapconsole.domain.errors import IllegalTransition, StaleRecord
from kapconsole.domain.record import SessionRecord, latest_assessment
from kapconsole.domain.rules import Action, require_state_allows
from kapconsole.domain.values import Actor, Entry
from kapconsole.services import keys
from kapconsole.services.base import Clock, ServiceBase, authorize, system_clock
from kapconsole.services.staff import StaffService


@dataclass(frozen=True)
class AssessmentResult:
    entry: Entry
    assessment: rules.Assessment


class DischargeService(ServiceBase):
    def __init__(self, db: Any, staff: StaffService, clock: Clock = system_clock) -> None:
        super().__init__(db, clock)
        self.staff = staff

    def preview(self, record: SessionRecord, confirmations: Mapping[str, bool],
                score_parts: Mapping[str, int]) -> rules.Assessment:
        """Evaluate the criteria without recording anything (for a live form)."""
        return rules.assess(record, now=self.now(), confirmations=confirmations, score_parts=score_parts)

    def assess(self, actor: Actor, session_id: int, *, confirmations: Mapping[str, bool],
               score_parts: Mapping[str, int], request_key: str | None = None) -> AssessmentResult:
        """Record one discharge assessment; each is kept. Moves a monitoring session to awaiting discharge."""
        key = v.request_key(request_key)
        with self.db.write() as s:
            actor = authorize(s, actor, Action.ASSESS_DISCHARGE)
            row = repo.get_session_row(s, session_id, for_update=True)
            done = repo.entry_by_request_key(s, session_id, key, actor, (EntryKind.DISCHARGE_ASSESSMENT,))
            if done is not None:
                p = done.payload
                return AssessmentResult(done, rules.Assessment(
                    tuple(rules.Criterion(**c) for c in p["criteria"]), p["scores"], p["ready"], p["chain_head"]))
            state = SessionState(row.state)
            require_state_allows(state, Action.ASSESS_DISCHARGE)
            now = self.now()
            record = SessionRecord(repo.session_value(row), repo.load_entries(s, session_id))
            assessment = rules.assess(record, now=now, confirmations=confirmations, score_parts=score_parts)
            payload = assessment.to_payload()
            payload["confirmations"] = {k: bool(confirmations.get(k, False)) for k in rules.PERSON_CRITERIA}
            payload["score_parts"] = dict(score_parts)
            entry = repo.append_entry(s, row, kind=EntryKind.DISCHARGE_ASSESSMENT, observed_at=now, entered_at=now,
                                      actor=actor, payload=payload, request_key=key)
            if state is SessionState.MONITORING:
                repo.append_entry(s, row, kind=EntryKind.STATE, observed_at=now, entered_at=now, actor=actor,
                                  payload=build.state_change(state.value, SessionState.DISCHARGE.value,
                                                             "discharge assessment"))
                row.state = SessionState.DISCHARGE.value
            repo.add_audit(s, at=now, action="discharge_assessed", actor=actor, session_id=session_id,
                           detail="ready" if assessment.ready else _failing_text(len(assessment.failing)))
            return AssessmentResult(entry, assessment)

    def sign(self, actor: Actor, session_id: int, *, password: str, seen_chain_head: str,
             meaning: str = rules.SIGNATURE_MEANING, request_key: str | None = None) -> Entry:
        """Sign the discharge. The signature covers exactly the record the supervisor saw.

        ``seen_chain_head`` is the chain head of the record shown to the supervisor; when anything was added
        since, signing is refused and the supervisor must review again.
        """
        meaning = v.text("meaning", meaning, limit=v.REASON_TEXT, required=True)
        self.staff.reauthenticate(actor, password, "signature_reauth", session_id=session_id,
                                  action=Action.SIGN_DISCHARGE)
        key = v.request_key(request_key)
        with self.db.write() as s:
            actor = authorize(s, actor, Action.SIGN_DISCHARGE)
            row = repo.get_session_row(s, session_id, for_update=True)
            if (done := repo.entry_by_request_key(s, session_id, key, actor, (EntryKind.SIGNATURE,))) is not None:
                return done
            state = SessionState(row.state)
            require_state_allows(state, Action.SIGN_DISCHARGE)
            if row.chain_head != seen_chain_head:
                raise StaleRecord("the record changed after you reviewed it; review it again before signing")
            record = SessionRecord(repo.session_value(row), repo.load_entries(s, session_id))
            latest = latest_assessment(record)
            if latest is None:
                raise IllegalTransition("no discharge assessment has been recorded")
            if not latest.ready:
                raise IllegalTransition("the latest assessment is not ready for discharge: " + "; ".join(latest.failing))
            if not latest.current:
                # The assessment no longer describes the record: something was charted after it.
                raise StaleRecord("entries were added after the latest assessment; assess again before signing")
            now = self.now()
            signed_head = row.chain_head
            # A digital signature by the supervisor's own key (opened with the password just typed) over the
            # record's head and clinical header: recomputing hashes after an edit cannot redo it.
            payload = keys.session_signature(s, staff_id=actor.staff_id, password=password, now=now, session=row,
                                             purpose="discharge", fields={"meaning": meaning})
            entry = repo.append_entry(s, row, kind=EntryKind.SIGNATURE, observed_at=now, entered_at=now,
                                      actor=actor, payload=payload, request_key=key)
            repo.append_entry(s, row, kind=EntryKind.STATE, observed_at=now, entered_at=now, actor=actor,
                              payload=build.state_change(state.value, SessionState.DISCHARGED.value, "discharge signed"))
            row.state = SessionState.DISCHARGED.value
            row.ended_at = now
            repo.add_audit(s, at=now, action="discharge_signed", actor=actor, session_id=session_id,
                           detail=f"signed hash {signed_head[:16]}…")
            return entry


def _failing_text(count: int) -> str:
    return f"{count} criterion failing" if count == 1 else f"{count} criteria failing"
