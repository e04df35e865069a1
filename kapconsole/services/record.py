"""Charting a session: state changes, checklist, doses, vitals, side effects, observations, scores, amendments.

Every public method is one unit of work that appends to the session's hash chain and commits durably
before it returns. Nothing here updates or deletes an entry.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import replace
from datetime import datetime
from functools import lru_cache
from typing import Any, NoReturn

from sqlalchemy.orm import Session

from kapconsole.data import repositories as repo
from kapconsole.data.models import SessionRow, SessionStaffRow, StaffRow
from kapconsole.domain import validation as v
from kapconsole.domain.entries import (
    AMENDABLE,
    Administration,
    AlertAcknowledgement,
    Amendment,
    ChecklistConfirmation,
    ChecklistOverride,
    Observation,
    ScaleScore,
    SideEffect,
    SideEffectResolution,
    VitalsReading,
    intention_value,
)
from kapconsole.domain.entry_base import EntryContent
from kapconsole.domain.enums import EndReason, EntryKind, Route, SessionState
from kapconsole.domain.errors import IllegalTransition, NotFound, ValidationError
from kapconsole.domain.protocol import Limits, ProtocolSettings
from kapconsole.domain.record import SessionRecord
from kapconsole.domain.rules import Action, require_state_allows
from kapconsole.domain.values import Actor, Entry
from kapconsole.services import keys
from kapconsole.services.base import Clock, ServiceBase, authorize, system_clock
from kapconsole.services.staff import StaffService
from kapconsole.services.writes import append, followed, transition

ContentFn = Callable[[ProtocolSettings, datetime], EntryContent]
SignFn = Callable[[Session, SessionRow, EntryContent, int, datetime], dict[str, Any]]


def _read_only(*_args: object, **_kwargs: object) -> NoReturn:
    raise TypeError("a session's protocol settings are read-only")


class _FrozenLimits(dict[str, Limits]):
    """A limits table that refuses changes: one parsed protocol is shared by every append that uses it."""

    __setitem__ = __delitem__ = __ior__ = _read_only  # type: ignore[assignment]
    clear = pop = popitem = setdefault = update = _read_only  # type: ignore[assignment]


@lru_cache(maxsize=32)
def session_protocol(text: str) -> ProtocolSettings:
    """A session's protocol settings from its stored JSON, parsed once per distinct text.

    The settings are frozen and their limit tables refuse changes, so sharing the parsed value is safe.
    """
    protocol = ProtocolSettings.from_json(text)
    return replace(protocol, plausible=_FrozenLimits(protocol.plausible), alerts=_FrozenLimits(protocol.alerts),
                   predose=_FrozenLimits(protocol.predose))


class RecordService(ServiceBase):
    def __init__(self, db: Any, staff: StaffService, clock: Clock = system_clock) -> None:
        super().__init__(db, clock)
        self.staff = staff

    # ----- reading -------------------------------------------------------------------------------------
    def record(self, actor: Actor | None, session_id: int) -> SessionRecord:
        """The whole record. ``actor`` None is for trusted headless jobs (verify, report from the CLI)."""
        with self.db.read() as s:
            if actor is not None:
                authorize(s, actor, Action.VIEW_RECORD)
            return repo.load_record(s, session_id)

    def version(self, session_id: int) -> int:
        """The record's change counter: cheap to poll for changes made at another workstation."""
        with self.db.read() as s:
            return repo.get_session_row(s, session_id).version

    def entries_after(self, actor: Actor | None, session_id: int, seq: int) -> tuple[Entry, ...]:
        """The session's entries after sequence number ``seq``, in chain order (one query).

        A console holding a record up to ``seq`` applies these instead of reading the whole record again;
        every change to a session (its state too) is an entry, so nothing else can have changed.
        """
        if not isinstance(session_id, int) or isinstance(session_id, bool) or not 0 < session_id < 2**31:
            raise NotFound(f"there is no session {session_id}")
        if not isinstance(seq, int) or isinstance(seq, bool) or not 0 <= seq < 2**31:
            raise ValidationError("sequence number", seq, "a whole number from 0", key="seq")
        with self.db.read() as s:
            if actor is not None:
                authorize(s, actor, Action.VIEW_RECORD)
            return repo.load_entries(s, session_id, after_seq=seq)

    # ----- the one write path --------------------------------------------------------------------------
    def _append(self, actor: Actor, session_id: int, request_key: str | None, action: Action, kind: EntryKind,
                content: ContentFn, *,
                observed_at: datetime | None = None, amends_id: int | None = None,
                check: Callable[[Session, SessionRow, SessionRecord | None], None] | None = None,
                needs_record: bool = False, audit: str = "",
                after: Callable[[Session, SessionRow, Entry], Entry | None] | None = None,
                sign: SignFn | None = None) -> Entry:
        key = v.request_key(request_key)
        with self.db.write() as s:
            actor = authorize(s, actor, action)
            # Most appends need only the session's own row; the whole record needs its client, course and staff.
            row = repo.get_session_row(s, session_id, for_update=True, lean=not needs_record)
            if (done := repo.entry_by_request_key(s, session_id, key, actor, (kind,))) is not None:
                return done  # a retry of a request whose commit landed: the entry it made, not a duplicate
            require_state_allows(SessionState(row.state), action)
            now = self.now()
            protocol = session_protocol(row.protocol_json)
            at = v.observed_at(observed_at, now=now, session_start=row.started_at,
                               skew_seconds=protocol.clock_skew_seconds)
            record = SessionRecord(repo.session_value(row), repo.load_entries(s, session_id)) if needs_record else None
            if check is not None:
                check(s, row, record)
            value = content(protocol, at)
            if value.kind is not kind:
                raise TypeError(f"a {kind.value} write built a {value.kind.value} entry")
            # Queued before the entry, so the entry's flush writes both rows (one round trip fewer).
            repo.add_audit(s, at=now, action=audit or f"{value.kind.value}_recorded", actor=actor,
                           session_id=session_id, detail=f"entry {row.entry_count + 1}")
            entry = append(s, row, actor, value, observed_at=at, entered_at=now, amends_id=amends_id,
                           request_key=key,
                           payload=sign(s, row, value, actor.staff_id, now) if sign is not None else None)
            return followed(entry, after(s, row, entry) if after is not None else None)

    def _transition(self, s: Session, row: SessionRow, actor: Actor, target: SessionState, *, reason: str = "",
                    reason_code: str = "", at: datetime | None = None, request_key: str | None = None) -> Entry:
        return transition(s, row, actor, target, now=self.now(), at=at, reason=reason, reason_code=reason_code,
                          request_key=request_key)

    # ----- state ---------------------------------------------------------------------------------------
    def start_session(self, actor: Actor, session_id: int, *, request_key: str | None = None) -> Entry:
        """Planned → pre-session checklist. The person starting it is added to the staff present."""
        key = v.request_key(request_key)
        with self.db.write() as s:
            actor = authorize(s, actor, Action.START_SESSION)
            row = repo.get_session_row(s, session_id, for_update=True)
            if (done := repo.entry_by_request_key(s, session_id, key, actor, (EntryKind.STATE,))) is not None:
                return done
            entry = self._transition(s, row, actor, SessionState.CHECKLIST, request_key=key)
            if actor.staff_id not in {link.staff_id for link in row.staff}:
                s.add(SessionStaffRow(session_id=session_id, staff_id=actor.staff_id))
            return entry

    def end_early(self, actor: Actor, session_id: int, reason_code: EndReason | str, reason: str, *, request_key: str | None = None) -> Entry:
        code = v.choice("reason", reason_code, EndReason)
        text = v.text("reason", reason, limit=v.REASON_TEXT, required=True)
        key = v.request_key(request_key)
        with self.db.write() as s:
            actor = authorize(s, actor, Action.END_EARLY)
            row = repo.get_session_row(s, session_id, for_update=True)
            if (done := repo.entry_by_request_key(s, session_id, key, actor, (EntryKind.STATE,))) is not None:
                return done
            require_state_allows(SessionState(row.state), Action.END_EARLY)
            return self._transition(s, row, actor, SessionState.ENDED_EARLY, reason=f"{code.label}: {text}",
                                    reason_code=code.value, request_key=key)

    def begin_discharge(self, actor: Actor, session_id: int, *, request_key: str | None = None) -> Entry:
        """Monitoring → discharge assessment."""
        key = v.request_key(request_key)
        with self.db.write() as s:
            actor = authorize(s, actor, Action.ASSESS_DISCHARGE)
            row = repo.get_session_row(s, session_id, for_update=True)
            if (done := repo.entry_by_request_key(s, session_id, key, actor, (EntryKind.STATE,))) is not None:
                return done
            return self._transition(s, row, actor, SessionState.DISCHARGE, request_key=key)

    def resume_monitoring(self, actor: Actor, session_id: int, reason: str, *, request_key: str | None = None) -> Entry:
        """Discharge assessment → back to monitoring (the client is not ready after all)."""
        text = v.text("reason", reason, limit=v.REASON_TEXT, required=True)
        key = v.request_key(request_key)
        with self.db.write() as s:
            actor = authorize(s, actor, Action.ASSESS_DISCHARGE)
            row = repo.get_session_row(s, session_id, for_update=True)
            if (done := repo.entry_by_request_key(s, session_id, key, actor, (EntryKind.STATE,))) is not None:
                return done
            return self._transition(s, row, actor, SessionState.MONITORING, reason=text, request_key=key)

    # ----- checklist -----------------------------------------------------------------------------------
    def confirm_checklist_item(self, actor: Actor, session_id: int, item_key: str, *, answer: str = "confirmed",
                               note: str = "", observed_at: datetime | None = None, request_key: str | None = None) -> Entry:
        def content(protocol: ProtocolSettings, _at: datetime) -> EntryContent:
            item = protocol.checklist_item(item_key)
            if item is None:
                raise ValidationError("checklist item", item_key, "an item of this session's protocol", key="item")
            return ChecklistConfirmation.build(item.key, item.label, answer=answer, note=note)

        return self._append(actor, session_id, request_key, Action.CONFIRM_CHECKLIST, EntryKind.CHECKLIST, content, observed_at=observed_at)

    def record_intention(self, actor: Actor, session_id: int, text: str,
                         observed_at: datetime | None = None, *, request_key: str | None = None) -> Entry:
        value = intention_value(text)
        return self._append(actor, session_id, request_key, Action.CONFIRM_CHECKLIST, EntryKind.OBSERVATION, lambda _p, _a: value,
                            observed_at=observed_at)

    def override_checklist(self, actor: Actor, session_id: int, *, password: str, reason: str, request_key: str | None = None) -> Entry:
        """A supervisor lets dosing go ahead despite the gate, after re-entering their password."""
        reason = v.text("reason", reason, limit=v.REASON_TEXT, required=True)
        self.staff.reauthenticate(actor, password, "override_reauth", session_id=session_id,
                                  action=Action.OVERRIDE_CHECKLIST)
        missing: list[str] = []

        def check(_s: Session, _row: SessionRow, record: SessionRecord | None) -> None:
            assert record is not None
            missing.extend(b.message for b in record.dosing_blockers())
            if not missing:
                raise IllegalTransition("nothing blocks dosing: no override is needed")

        return self._append(actor, session_id, request_key, Action.OVERRIDE_CHECKLIST, EntryKind.OVERRIDE,
                            lambda _p, _a: ChecklistOverride.build(reason, missing), check=check, needs_record=True,
                            audit="checklist_overridden", sign=signed_by(password))

    # ----- dosing --------------------------------------------------------------------------------------
    def record_administration(self, actor: Actor, session_id: int, *, drug: str, route: Route | str,
                              dose: object, unit: str, lot: str = "", device_lot: str = "",
                              observed_at: datetime | None = None, infusion_end: datetime | None = None,
                              ordered_by: int, given_by: int | None = None, request_key: str | None = None) -> Entry:
        """Record a dose (booster doses too). The first dose moves the session to monitoring."""
        given = given_by if given_by is not None else actor.staff_id
        names: dict[int, str] = {}

        def check(s: Session, row: SessionRow, record: SessionRecord | None) -> None:
            assert record is not None
            blockers = record.dosing_blockers()
            if blockers:
                raise IllegalTransition("dosing is blocked: " + "; ".join(b.message for b in blockers))
            for field, sid in (("ordered by", ordered_by), ("given by", given)):
                person = repo.get_by_id(s, StaffRow, sid)
                if person is None or not person.active:
                    raise ValidationError(field, sid, "an active staff member", key=field.replace(" ", "_"))
                names[sid] = person.name

        def content(_p: ProtocolSettings, at: datetime) -> EntryContent:
            return Administration.build(drug=drug, route=str(route), dose=dose, unit=unit, lot=lot,
                                        device_lot=device_lot, started_at=at, ended_at=infusion_end,
                                        ordered_by=ordered_by, ordered_by_name=names[ordered_by], given_by=given,
                                        given_by_name=names[given])

        def first_dose_starts_monitoring(s: Session, row: SessionRow, entry: Entry) -> Entry | None:
            if SessionState(row.state) is SessionState.CHECKLIST:
                return self._transition(s, row, actor, SessionState.MONITORING, reason="first dose recorded",
                                        at=entry.observed_at)
            return None

        return self._append(actor, session_id, request_key, Action.RECORD_DOSE, EntryKind.ADMINISTRATION, content,
                            observed_at=observed_at, check=check, needs_record=True, after=first_dose_starts_monitoring)

    # ----- charting ------------------------------------------------------------------------------------
    def record_vitals(self, actor: Actor, session_id: int, values: Mapping[str, Any], *, source: str = "manual",
                      confirmed_by: int | None = None, observed_at: datetime | None = None,
                      device: Mapping[str, Any] | None = None,
                      after: Callable[[Session, SessionRow, Entry], Entry | None] | None = None, request_key: str | None = None) -> Entry:
        """Record a reading (any subset of SBP, DBP, HR, SpO2, RR, temperature). Alerts come from the record.

        ``device`` names the monitor of a confirmed device reading; ``after`` runs in the same unit of work.
        """
        return self._append(actor, session_id, request_key, Action.CHART, EntryKind.VITALS,
                            lambda p, _a: VitalsReading.build(values, p, source=source, confirmed_by=confirmed_by,
                                                              device=device),
                            observed_at=observed_at, after=after)

    def record_side_effect(self, actor: Actor, session_id: int, kind: str, severity: str, *, intervention: str = "",
                           description: str = "", observed_at: datetime | None = None, request_key: str | None = None) -> Entry:
        value = SideEffect.build(kind, severity, intervention=intervention, description=description)
        return self._append(actor, session_id, request_key, Action.CHART, EntryKind.SIDE_EFFECT, lambda _p, _a: value, observed_at=observed_at)

    def resolve_side_effect(self, actor: Actor, session_id: int, side_effect_id: int, *, note: str = "",
                            observed_at: datetime | None = None, request_key: str | None = None) -> Entry:
        value = SideEffectResolution.build(side_effect_id, note)

        def check(_s: Session, _row: SessionRow, record: SessionRecord | None) -> None:
            assert record is not None
            if side_effect_id not in {c.id for c in record.side_effects}:
                raise NotFound(f"there is no side effect {side_effect_id} in session {session_id}")
            if side_effect_id in record.resolutions:
                raise ValidationError("side effect", side_effect_id, "it is already marked resolved")

        return self._append(actor, session_id, request_key, Action.CHART, EntryKind.SIDE_EFFECT_RESOLVED, lambda _p, _a: value, observed_at=observed_at,
                            check=check, needs_record=True)

    def record_observation(self, actor: Actor, session_id: int, text: str, *, category: str = "general",
                           for_integration: bool = False, observed_at: datetime | None = None,
                           after: Callable[[Session, SessionRow, Entry], Entry | None] | None = None, request_key: str | None = None) -> Entry:
        value = Observation.build(category, text, for_integration=for_integration)
        return self._append(actor, session_id, request_key, Action.CHART, EntryKind.OBSERVATION, lambda _p, _a: value, observed_at=observed_at,
                            after=after)

    def record_scale(self, actor: Actor, session_id: int, scale: str, score: object, *, instrument: str = "",
                     observed_at: datetime | None = None, request_key: str | None = None) -> Entry:
        value = ScaleScore.build(scale, score, instrument=instrument)
        return self._append(actor, session_id, request_key, Action.CHART, EntryKind.SCALE, lambda _p, _a: value, observed_at=observed_at)

    def acknowledge_alert(self, actor: Actor, session_id: int, vitals_entry_id: int, measures: list[str], *,
                          note: str = "", request_key: str | None = None) -> Entry:
        """A person acknowledges the alerts of one reading; recorded with who and when."""
        value = AlertAcknowledgement.build(vitals_entry_id, measures, note)

        def check(_s: Session, _row: SessionRow, record: SessionRecord | None) -> None:
            assert record is not None
            reading = next((c for c in record.vitals if c.id == vitals_entry_id), None)
            if reading is None:
                raise NotFound(f"there is no vitals reading {vitals_entry_id} in session {session_id}")
            alerting = {a.measure for a in record.alerts_for(reading)}
            if not set(measures) <= alerting:
                raise ValidationError("alert", ", ".join(sorted(set(measures) - alerting)),
                                      "only measures that alerted can be acknowledged", key="measures")

        return self._append(actor, session_id, request_key, Action.CHART, EntryKind.ALERT_ACK, lambda _p, _a: value, check=check, needs_record=True,
                            audit="alert_acknowledged")

    # ----- amendments ----------------------------------------------------------------------------------
    def amend(self, actor: Actor, session_id: int, entry_id: int, *, reason: str,
              content: Mapping[str, Any] | None, request_key: str | None = None) -> Entry:
        """Correct an entry: a new row pointing at it, with a reason. ``content`` None means entered in error.

        ``content`` is the corrected entry in the same shape as the original kind's input (for vitals a mapping
        of measures; for an observation ``{"text", "category", "for_integration"}``; …).
        """
        original: dict[str, Entry] = {}

        def check(s: Session, row: SessionRow, record: SessionRecord | None) -> None:
            assert record is not None
            target = record.by_id.get(entry_id)
            if target is None:
                raise NotFound(f"there is no entry {entry_id} in session {session_id}")
            if target.kind not in AMENDABLE:
                raise ValidationError("entry", f"{target.kind.label} {entry_id}", "this kind of entry cannot be amended")
            original["entry"] = target

        def amendment(protocol: ProtocolSettings, at: datetime) -> EntryContent:
            target = original["entry"]
            # The correction starts from the original entry's content (what was first recorded).
            corrected = None if content is None else target.content.corrected(content, protocol, target)
            return Amendment.build(target.kind, reason, corrected)

        return self._append(actor, session_id, request_key, Action.AMEND, EntryKind.AMENDMENT, amendment, amends_id=entry_id,
                            check=check, needs_record=True, audit="entry_amended")




def signed_by(password: str, purpose: str = "override") -> SignFn:
    """The entry's payload signed by its author's own key (opened with ``password``) over the chain head it
    follows and the session's clinical header."""

    def sign(s: Session, row: SessionRow, value: EntryContent, author: int, now: datetime) -> dict[str, Any]:
        return keys.session_signature(s, staff_id=author, password=password, now=now, session=row,
                                      purpose=purpose, fields=value.to_payload())

    return sign
