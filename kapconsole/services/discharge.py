"""Discharge assessment and the supervisor's re-authenticated electronic signature."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from kapconsole.data import repositories as repo
from kapconsole.domain import discharge as rules
from kapconsole.domain import rems_form
from kapconsole.domain import validation as v
from kapconsole.domain.entries import Signature
from kapconsole.domain.enums import EntryKind, Route, SessionState
from kapconsole.domain.errors import IllegalTransition, StaleRecord, ValidationError
from kapconsole.domain.integrity import timestamp
from kapconsole.domain.record import SessionRecord, latest_assessment
from kapconsole.domain.rems import RemsIncomplete
from kapconsole.domain.rems_form import SettingDetails
from kapconsole.domain.rules import Action, require_state_allows
from kapconsole.domain.values import Actor, Entry
from kapconsole.services import keys
from kapconsole.services.base import Clock, ServiceBase, authorize, system_clock
from kapconsole.services.staff import StaffService
from kapconsole.services.writes import append, followed, transition


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
               score_parts: Mapping[str, int], checked_at: Mapping[str, datetime] | None = None,
               request_key: str | None = None) -> AssessmentResult:
        """Record one discharge assessment; each is kept. Moves a monitoring session to awaiting discharge.

        Bedside checks are fresh: each confirmation and rating is stamped with when it was checked (now, or
        ``checked_at[key]``), which must lie after the last dose and after the previous assessment — nothing is
        carried over from an earlier assessment.
        """
        key = v.request_key(request_key)
        with self.db.write() as s:
            actor = authorize(s, actor, Action.ASSESS_DISCHARGE)
            row = repo.get_session_row(s, session_id, for_update=True)
            done = repo.entry_by_request_key(s, session_id, key, actor, (EntryKind.DISCHARGE_ASSESSMENT,))
            if done is not None:
                record = SessionRecord(repo.session_value(row), repo.load_entries(s, session_id))
                return AssessmentResult(done, rules.assess(record, now=done.entered_at, confirmations=confirmations,
                                                           score_parts=score_parts))
            state = SessionState(row.state)
            require_state_allows(state, Action.ASSESS_DISCHARGE)
            now = self.now()
            record = SessionRecord(repo.session_value(row), repo.load_entries(s, session_id))
            assessment = rules.assess(record, now=now, confirmations=confirmations, score_parts=score_parts)
            stamps = _checked_at(record, now, confirmations, score_parts, checked_at or {})
            content = assessment.entry(
                confirmations={k: bool(confirmations.get(k, False)) for k in rules.PERSON_CRITERIA},
                score_parts=dict(score_parts), checked_at=stamps)
            entry = append(s, row, actor, content, observed_at=now, entered_at=now, request_key=key)
            moved = None
            if state is SessionState.MONITORING:
                moved = transition(s, row, actor, SessionState.DISCHARGE, now=now, reason="discharge assessment")
            repo.add_audit(s, at=now, action="discharge_assessed", actor=actor, session_id=session_id,
                           detail="ready" if assessment.ready else _failing_text(len(assessment.failing)))
            return AssessmentResult(followed(entry, moved), assessment)

    def sign(self, actor: Actor, session_id: int, *, password: str, seen_chain_head: str,
             meaning: str = rules.SIGNATURE_MEANING, request_key: str | None = None) -> Entry:
        """Sign the discharge. The signature covers exactly the record the supervisor saw.

        ``seen_chain_head`` is the chain head of the record shown to the supervisor; when anything was added
        since, signing is refused and the supervisor must review again.
        """
        meaning = v.text("meaning", meaning, limit=v.REASON_TEXT, required=True)
        key = v.request_key(request_key)
        self.staff.reauthenticate(actor, password, "signature_reauth", session_id=session_id,
                                  action=Action.SIGN_DISCHARGE)
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
            if record.info.route is Route.INTRANASAL:
                # The esketamine REMS: no signature while a monitoring-form answer is missing.
                blockers = rems_form.build(record, SettingDetails()).signature_blockers
                if blockers:
                    raise RemsIncomplete(blockers)
            now = self.now()
            signed_head = row.chain_head
            signature = Signature.build(meaning=meaning, signer=actor.staff_id, signer_name=actor.name, signed_at=now,
                                        signed_hash=row.chain_head, signed_seq=row.entry_count)
            # A digital signature by the supervisor's own key (opened with the password just typed) over the
            # record's head and clinical header: recomputing hashes after an edit cannot redo it.
            payload = keys.session_signature(s, staff_id=actor.staff_id, password=password, now=now, session=row,
                                             purpose="discharge", fields=signature.to_payload())
            entry = append(s, row, actor, signature, observed_at=now, entered_at=now, request_key=key,
                           payload=payload)
            closed = transition(s, row, actor, SessionState.DISCHARGED, now=now, reason="discharge signed")
            repo.add_audit(s, at=now, action="discharge_signed", actor=actor, session_id=session_id,
                           detail=f"signed hash {signed_head[:16]}…")
            return followed(entry, closed)


def _checked_at(record: SessionRecord, now: datetime, confirmations: Mapping[str, bool],
                score_parts: Mapping[str, int], given: Mapping[str, datetime]) -> dict[str, str]:
    """When each bedside item was checked; refuses a check from before the last dose or the previous assessment."""
    keys = [k for k, value in confirmations.items() if value] + list(score_parts)
    unknown = set(given) - set(keys)
    if unknown:
        raise ValidationError("checked at", ", ".join(sorted(unknown)), "only items confirmed or rated now")
    previous = latest_assessment(record)
    floor = max([t for t in (record.last_dose_at, previous.entry.entry.entered_at if previous else None) if t],
                default=None)
    stamps = {}
    for key in keys:
        at = v.to_utc(given[key], "checked at") if key in given else now
        if at > now:
            raise ValidationError("checked at", timestamp(at), "cannot be in the future")
        if floor is not None and at < floor:
            raise ValidationError("checked at", timestamp(at), "a bedside check must be fresh: after the last dose "
                                  "and after the previous assessment")
        stamps[key] = timestamp(at)
    return stamps


def _failing_text(count: int) -> str:
    return f"{count} criterion failing" if count == 1 else f"{count} criteria failing"
