"""Charting a session: state changes, checklist, doses, vitals, side effects, observations, scores, amendments.

Every public method is one unit of work that appends to the session's hash chain and commits durably
before it returns. Nothing here updates or deletes an entry.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from functools import lru_cache
from typing import Any, NoReturn

from sqlalchemy import select
from sqlalchemy.orm import Session

from kapconsole.data import repositories as repo
from kapconsole.data.models import EntryRow, SessionRow, SessionStaffRow, StaffRow
from kapconsole.domain import checklist as checklist_rules
from kapconsole.domain import gates
from kapconsole.domain import validation as v
from kapconsole.domain.dosing import Dose, Plan, allergy_blockers, dose_blockers, require_people
from kapconsole.domain.entries import (
    AMENDABLE,
    Administration,
    AlertAcknowledgement,
    Amendment,
    ChecklistConfirmation,
    ChecklistOverride,
    ClosingNote,
    Observation,
    OutcomeMeasure,
    ScaleScore,
    SideEffect,
    SideEffectResolution,
    Signature,
    VitalsReading,
    intention_value,
)
from kapconsole.domain.entry_base import EntryContent
from kapconsole.domain.enums import Disposition, EndReason, EntryKind, Role, Route, SessionState
from kapconsole.domain.errors import (
    DomainError,
    IllegalTransition,
    NotFound,
    PermissionDenied,
    StaleRecord,
    ValidationError,
)
from kapconsole.domain.gates import Blocker, GateBlocked
from kapconsole.domain.integrity import timestamp
from kapconsole.domain.protocol import Limits, ProtocolSettings
from kapconsole.domain.record import SessionRecord
from kapconsole.domain.rescue import RescueMedication, rescue_medication
from kapconsole.domain.rules import Action, require, require_state_allows
from kapconsole.domain.values import Actor, Entry
from kapconsole.services import keys
from kapconsole.services.base import MAX_ID, Clock, ServiceBase, authorize, system_clock
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
        if not isinstance(seq, int) or isinstance(seq, bool) or not 0 <= seq <= MAX_ID:
            raise ValidationError("sequence number", seq, f"a whole number from 0 to {MAX_ID}", key="seq")
        with self.db.read() as s:
            if actor is not None:
                authorize(s, actor, Action.VIEW_RECORD)
            repo.get_session_row(s, session_id, lean=True)  # NotFound for an id that cannot exist
            return repo.load_entries(s, session_id, after_seq=seq)

    def _current_roles(self, actor: Actor) -> frozenset[Role]:
        """The caller's roles as the database holds them now (never the ones the Actor carries)."""
        with self.db.read() as s:
            return authorize(s, actor, None).roles

    # ----- the one write path --------------------------------------------------------------------------
    def _append(self, actor: Actor, session_id: int, request_key: str | None, action: Action, content: ContentFn, *,
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
            if (done := repo.entry_by_request_key(s, session_id, key, actor, None)) is not None:
                _same_kind(done, content, row)
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
            # Queued before the entry, so the entry's flush writes both rows (one round trip fewer).
            repo.add_audit(s, at=now, action=audit or f"{value.kind.value}_recorded", actor=actor,
                           session_id=session_id, detail=f"entry {row.entry_count + 1}")
            entry = append(s, row, actor, value, observed_at=at, entered_at=now, amends_id=amends_id,
                           request_key=key,
                           payload=sign(s, row, value, actor.staff_id, now) if sign is not None else None)
            return followed(entry, after(s, row, entry) if after is not None else None)

    def _transition(self, s: Session, row: SessionRow, actor: Actor, target: SessionState, *, reason: str = "",
                    reason_code: str = "", at: datetime | None = None, request_key: str | None = None,
                    disposition: str = "") -> Entry:
        return transition(s, row, actor, target, now=self.now(), at=at, reason=reason, reason_code=reason_code,
                          request_key=request_key, disposition=disposition)

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

    def end_early(self, actor: Actor, session_id: int, reason_code: EndReason | str, reason: str, *,
                  disposition: Disposition | str | None = None, request_key: str | None = None) -> Entry:
        """End the session early. After a dose it needs a medical supervisor and the client's disposition, and the
        session stays on the supervisor board until a physician attests it (:meth:`attest_end_early`)."""
        require(self._current_roles(actor), Action.END_EARLY, actor.name)
        code = v.choice("reason", reason_code, EndReason)
        text = v.text("reason", reason, limit=v.REASON_TEXT, required=True)
        where = v.choice("disposition", disposition, Disposition) if disposition is not None else None
        key = v.request_key(request_key)
        with self.db.write() as s:
            actor = authorize(s, actor, Action.END_EARLY)
            row = repo.get_session_row(s, session_id, for_update=True)
            if (done := repo.entry_by_request_key(s, session_id, key, actor, (EntryKind.STATE,))) is not None:
                return done
            require_state_allows(SessionState(row.state), Action.END_EARLY)
            dosed = s.scalar(select(EntryRow.id).where(EntryRow.session_id == session_id,
                                                       EntryRow.kind == EntryKind.ADMINISTRATION.value).limit(1))
            if dosed is not None:
                if Role.SUPERVISOR not in actor.roles:
                    raise PermissionDenied(f"{actor.name} may not end a session after a dose; it needs a "
                                           f"{Role.SUPERVISOR.label}")
                if where is None:
                    raise ValidationError("disposition", None, "after a dose, say where the client goes: "
                                          + ", ".join(d.label for d in Disposition))
            label = f"{code.label}: {text}" + (f" — {where.label}" if where else "")
            entry = self._transition(s, row, actor, SessionState.ENDED_EARLY, reason=label, reason_code=code.value,
                                     disposition=where.value if where else "", request_key=key)
            row.needs_attestation = dosed is not None
            return entry

    def attest_end_early(self, actor: Actor, session_id: int, *, password: str, seen_chain_head: str,
                         disposition: Disposition | str, note: str = "") -> Entry:
        """A physician (medical supervisor) attests a session ended early after a dose, re-authenticated."""
        require(self._current_roles(actor), Action.SIGN_DISCHARGE, actor.name)
        where = v.choice("disposition", disposition, Disposition)
        note = v.text("note", note, limit=v.REASON_TEXT)
        self.staff.reauthenticate(actor, password, "signature_reauth", session_id=session_id,
                                  action=Action.SIGN_DISCHARGE)
        with self.db.write() as s:
            actor = authorize(s, actor, Action.SIGN_DISCHARGE)
            row = repo.get_session_row(s, session_id, for_update=True)
            if SessionState(row.state) is not SessionState.ENDED_EARLY or not row.needs_attestation:
                raise IllegalTransition("only a session ended early after a dose awaits a physician's attestation")
            if row.chain_head != seen_chain_head:
                raise StaleRecord("the record changed after you reviewed it; review it again before attesting")
            now = self.now()
            signature = Signature.build(meaning=ATTESTATION_MEANING, signer=actor.staff_id, signer_name=actor.name,
                                        signed_at=now, signed_hash=row.chain_head, signed_seq=row.entry_count,
                                        end_reason=row.end_reason, disposition=where.value, note=note)
            entry = append(s, row, actor, signature, observed_at=now, entered_at=now)
            row.needs_attestation = False
            repo.add_audit(s, at=now, action="end_early_attested", actor=actor, session_id=session_id,
                           detail=where.value)
            return entry

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
            _require_item_role(actor, item.roles, item.label)
            return ChecklistConfirmation.build(item.key, item.label, answer=answer, note=note)

        return self._append(actor, session_id, request_key, Action.CONFIRM_CHECKLIST, content, observed_at=observed_at)

    def withdraw_checklist_item(self, actor: Actor, session_id: int, item_key: str, *, reason: str,
                                request_key: str | None = None) -> Entry:
        """Withdraw a checklist confirmation before dosing, with a reason (recorded; the original stays visible)."""
        require(actor.roles, Action.CONFIRM_CHECKLIST, actor.name)
        why = v.text("reason", reason, limit=v.REASON_TEXT, required=True)
        with self.db.read() as s:
            seen = SessionRecord(repo.session_value(repo.get_session_row(s, session_id)),
                                 repo.load_entries(s, session_id))
        confirmed = seen.checklist_confirmed.get(item_key)
        if confirmed is None:
            raise IllegalTransition("cannot withdraw the confirmation: this item is not confirmed")

        def check(_s: Session, _row: SessionRow, record: SessionRecord | None) -> None:
            assert record is not None
            refusal = checklist_rules.may_withdraw(record, item_key)
            if refusal is not None:
                raise IllegalTransition(f"cannot withdraw the confirmation: {refusal}")
            if record.checklist_confirmed[item_key].id != confirmed.id:
                raise StaleRecord("the item was confirmed again meanwhile; look at the checklist again")

        return self._append(actor, session_id, request_key, Action.CONFIRM_CHECKLIST,
                            lambda _p, _a: Amendment.build(EntryKind.CHECKLIST, why, None), amends_id=confirmed.id,
                            check=check, needs_record=True, audit="checklist_withdrawn")

    def record_intention(self, actor: Actor, session_id: int, text: str,
                         observed_at: datetime | None = None, *, request_key: str | None = None) -> Entry:
        value = intention_value(text)
        return self._append(actor, session_id, request_key, Action.CONFIRM_CHECKLIST, lambda _p, _a: value,
                            observed_at=observed_at)

    def override_checklist(self, actor: Actor, session_id: int, *, password: str, reason: str,
                           request_key: str | None = None) -> Entry:
        """A supervisor lets the next dose go ahead despite the gate's blockers shown now (and only those)."""
        return self.override(actor, session_id, password=password, reason=reason, request_key=request_key)

    def override(self, actor: Actor, session_id: int, *, password: str, reason: str, dose: DoseInput | None = None,
                 covers: Iterable[str] | None = None, request_key: str | None = None) -> Entry:
        """A medical supervisor overrides named blockers of the next dose, re-authenticated, with a reason.

        The override records each blocker it covers (key and values). Blockers that appear later (a new
        reading, another dose amount) are not covered and need their own override. ``dose``: the dose about to
        be given, so its own blockers (above a limit, an allergy, a route other than the plan's) can be covered.
        ``covers``: the blocker keys to cover (default: every overridable blocker shown now).
        """
        require(self._current_roles(actor), Action.OVERRIDE_CHECKLIST, actor.name)
        reason = v.text("reason", reason, limit=v.REASON_TEXT, required=True)
        self.staff.reauthenticate(actor, password, "override_reauth", session_id=session_id,
                                  action=Action.OVERRIDE_CHECKLIST)
        chosen: list[Blocker] = []
        wanted = None if covers is None else set(covers)

        def check(s: Session, row: SessionRow, record: SessionRecord | None) -> None:
            assert record is not None
            blockers = self._blockers(s, record, dose)
            pending, _done = gates.covered(blockers, (o.payload for o in record.overrides_since_last_dose()))
            overridable = [b for b in pending if b.overridable]
            if wanted is not None:
                unknown = wanted - {b.key for b in overridable}
                if unknown:
                    raise ValidationError("override", ", ".join(sorted(unknown)),
                                          "only blockers shown now that a supervisor may override")
                overridable = [b for b in overridable if b.key in wanted]
            if not overridable:
                if any(not b.confirmable for b in pending):
                    raise GateBlocked("the dose", pending)
                raise IllegalTransition("nothing a supervisor may override blocks dosing: no override is needed")
            chosen.extend(overridable)

        def content(_p: ProtocolSettings, _a: datetime) -> EntryContent:
            given = None if dose is None else {"drug": dose.drug, "route": str(dose.route), "dose": str(dose.dose),
                                                "unit": dose.unit}
            return ChecklistOverride.build(reason, [b.label for b in chosen],
                                           covers=tuple(b.to_dict() for b in chosen), dose=given)

        return self._append(actor, session_id, request_key, Action.OVERRIDE_CHECKLIST, content, check=check,
                            needs_record=True, audit="checklist_overridden", sign=signed_by(password))

    def _blockers(self, s: Session, record: SessionRecord, dose: DoseInput | None) -> list[Blocker]:
        """The gate's blockers, and the dose's own when a dose is given (overrides not applied)."""
        blockers = record.gate_blockers()
        if dose is None:
            return blockers
        info = record.info
        try:
            amount = float(dose.dose)  # type: ignore[arg-type]
        except (TypeError, ValueError):
            raise ValidationError("dose", dose.dose, "a number is expected") from None
        given = [Dose(d.payload["drug"], d.payload["route"], d.payload["dose"], d.payload["unit"])
                 for d in record.administrations]
        return blockers + dose_blockers(
            Dose(dose.drug, str(Route(str(dose.route))), amount, dose.unit),
            plan=Plan(info.planned_drug, info.route.value, info.planned_dose, info.planned_unit),
            earlier=given, weight_kg=info.client.weight_kg, rules=record.protocol.dosing,
            allergies=info.client.allergy_list)

    def check_administration(self, actor: Actor, session_id: int, *, drug: str, route: Route | str, dose: object,
                             unit: str, rescue: bool = False, confirm: Iterable[str] = ()) -> tuple[Blocker, ...]:
        """What would block this administration now (nothing is recorded). Empty: it may be given.

        ``rescue``: a rescue or adjunct medication (ondansetron, labetalol …): checked against the client's
        allergies only, not against the session's dosing plan or gate. Overrides already recorded for the next
        dose, and ``confirm`` (blocker keys the giver confirms), are applied.
        """
        require(self._current_roles(actor), Action.VIEW_RECORD, actor.name)
        with self.db.read() as s:
            record = repo.load_record(s, session_id)
            if rescue:
                blockers = allergy_blockers(record.info.client.allergy_list, v.text("drug", drug, required=True))
            else:
                blockers = self._blockers(s, record, DoseInput(drug, route, dose, unit))
            pending, _done = gates.covered(blockers, (o.payload for o in record.overrides_since_last_dose()))
        confirmed = set(confirm)
        return tuple(b for b in pending if not (b.confirmable and b.key in confirmed))

    # ----- dosing --------------------------------------------------------------------------------------
    def _gate_dose(self, s: Session, record: SessionRecord, request: DoseInput, *, ordered_by: int, given_by: int,
                   confirmed: set[str]) -> dict[int, str]:
        """The safety gate every dose passes (an esketamine device too): who orders and gives it, then the
        gate's and the dose's own blockers after the overrides recorded for it and the keys the giver confirmed.
        Returns the names of the person who ordered and who gives it, by staff id."""
        people: dict[int, StaffRow] = {}
        for field, sid in (("ordered by", ordered_by), ("given by", given_by)):
            person = repo.get_by_id(s, StaffRow, sid)
            if person is None or not person.active:
                raise ValidationError(field, sid, "an active staff member")
            people[sid] = person
        rules = record.protocol.dosing
        require_people(ordered_by_roles=frozenset(Role(r.role) for r in people[ordered_by].roles),
                       ordered_by_name=people[ordered_by].name,
                       given_by_roles=frozenset(Role(r.role) for r in people[given_by].roles),
                       given_by_name=people[given_by].name, rules=rules)
        overrides = record.overrides_since_last_dose()
        if rules.separate_override_and_giver and any(o.entry.author_id == given_by for o in overrides):
            raise PermissionDenied("the protocol requires that the supervisor who overrode this dose's "
                                   "blockers is not the person who gives it")
        pending, _done = gates.covered(self._blockers(s, record, request), (o.payload for o in overrides))
        remaining = [b for b in pending if not (b.confirmable and b.key in confirmed)]
        if remaining:
            raise GateBlocked("dosing", remaining)
        return {sid: person.name for sid, person in people.items()}

    def record_administration(self, actor: Actor, session_id: int, *, drug: str, route: Route | str,
                              dose: object, unit: str, lot: str = "", device_lot: str = "",
                              observed_at: datetime | None = None, infusion_end: datetime | None = None,
                              ordered_by: int, given_by: int | None = None, confirm: Iterable[str] = (),
                              request_key: str | None = None) -> Entry:
        """Record a dose (booster doses too). The first dose moves the session to monitoring; a booster while
        awaiting discharge moves it back to monitoring (the observation time restarts from it).

        Every dose passes the safety gate: the checklist and baseline (first dose) or the latest vitals and
        unacknowledged alerts (booster), the dose sense checks and the client's allergies. A blocker needs the
        way forward it names: ``confirm`` (blocker keys the giver confirms, e.g. the dose above the plan, which
        names the dose) or a supervisor's override recorded before (:meth:`override`). An IV infusion's end may
        be left out while it runs (:meth:`end_infusion` records it); it may not lie in the future.
        """
        require(self._current_roles(actor), Action.RECORD_DOSE, actor.name)
        given = given_by if given_by is not None else actor.staff_id
        names: dict[int, str] = {}
        confirmed = set(confirm)
        request = DoseInput(drug, route, dose, unit)

        def check(s: Session, row: SessionRow, record: SessionRecord | None) -> None:
            assert record is not None
            if record.info.route is Route.INTRANASAL:
                raise ValidationError("dose", dose, "an esketamine session records each 28 mg device on its own "
                                                    "(record device), 5 minutes apart")
            names.update(self._gate_dose(s, record, request, ordered_by=ordered_by, given_by=given,
                                         confirmed=confirmed))

        def content(p: ProtocolSettings, at: datetime) -> EntryContent:
            if infusion_end is not None:
                end = v.to_utc(infusion_end, "infusion end")
                if end > self.now() + timedelta(seconds=p.clock_skew_seconds):
                    raise ValidationError("infusion end", timestamp(end), "cannot be in the future: record the end "
                                          "when the infusion stops")
            value = Administration.build(
                drug=drug, route=str(route), dose=dose, unit=unit, lot=lot, device_lot=device_lot, started_at=at,
                ended_at=infusion_end, ordered_by=ordered_by, ordered_by_name=names[ordered_by], given_by=given,
                given_by_name=names[given])
            return replace(value, confirmed=tuple(sorted(confirmed))) if confirmed else value

        def state_follows_dose(s: Session, row: SessionRow, entry: Entry) -> Entry | None:
            state = SessionState(row.state)
            if state is SessionState.CHECKLIST:
                return self._transition(s, row, actor, SessionState.MONITORING, reason="first dose recorded",
                                        at=entry.observed_at)
            if state is SessionState.DISCHARGE:
                return self._transition(s, row, actor, SessionState.MONITORING,
                                        reason="booster given while awaiting discharge: observation restarts",
                                        at=entry.observed_at)
            return None

        return self._append(actor, session_id, request_key, Action.RECORD_DOSE, content,
                            observed_at=observed_at, check=check, needs_record=True, after=state_follows_dose)

    def end_infusion(self, actor: Actor, session_id: int, administration_id: int, *,
                     ended_at: datetime | None = None, request_key: str | None = None) -> Entry:
        """Record when a running IV infusion stopped (now by default; not before its start, not in the future)."""
        require(self._current_roles(actor), Action.RECORD_DOSE, actor.name)
        found: dict[str, Any] = {}

        def check(_s: Session, _row: SessionRow, record: SessionRecord | None) -> None:
            assert record is not None
            target = next((d for d in record.running_infusions if d.id == administration_id), None)
            if target is None:
                raise ValidationError("infusion", administration_id, "a running IV infusion of this session")
            found["dose"] = target

        def content(p: ProtocolSettings, at: datetime) -> EntryContent:
            target = found["dose"]
            if at < target.at:
                raise ValidationError("infusion end", timestamp(at), "cannot be before the infusion started")
            return Amendment.build(EntryKind.ADMINISTRATION, "infusion ended", replace(target.content, ended_at=at))

        return self._append(actor, session_id, request_key, Action.RECORD_DOSE, content,
                            observed_at=ended_at, amends_id=administration_id, check=check, needs_record=True,
                            audit="infusion_ended")

    def record_rescue_medication(self, actor: Actor, session_id: int, *, drug: str, dose: object, route: str,
                                 reason: str, ordered_by: int, unit: str = "", given_by: int | None = None,
                                 side_effect: int | None = None, over_max_reason: str = "",
                                 allergy_override_reason: str = "", observed_at: datetime | None = None,
                                 request_key: str | None = None) -> Entry:
        """Record a rescue or adjunct medication (ondansetron, labetalol, oxygen …) given during the session.

        ``ordered_by`` must be a prescriber and ``given_by`` (default: the person charting) medical staff. The
        drug is checked against the session's formulary and the client's allergies; going above the formulary
        maximum or giving a drug the client is allergic to needs its own written reason.
        """
        require(actor.roles, Action.GIVE_MEDICATION, actor.name)
        given = given_by if given_by is not None else actor.staff_id
        people: dict[int, str] = {}
        context: dict[str, Any] = {}

        def check(s: Session, _row: SessionRow, record: SessionRecord | None) -> None:
            assert record is not None
            for field, sid, action in (("ordered by", ordered_by, Action.ORDER_MEDICATION),
                                       ("given by", given, Action.GIVE_MEDICATION)):
                person = s.get(StaffRow, sid) if isinstance(sid, int) and not isinstance(sid, bool) else None
                if person is None or not person.active:
                    raise ValidationError(field, sid, "an active staff member", key=field.replace(" ", "_"))
                member = repo.staff_value(person)
                require(member.roles, action, member.name)
                people[sid] = member.name
            if side_effect is not None and side_effect not in {c.id for c in record.side_effects}:
                raise NotFound(f"there is no side effect {side_effect} in session {session_id}")
            context["given_before"] = record.rescue_values()
            context["allergies"] = record.info.client.allergy_list

        def content(protocol: ProtocolSettings, _at: datetime) -> EntryContent:
            before: list[RescueMedication] = context["given_before"]
            return rescue_medication(
                protocol, drug=drug, dose=dose, unit=unit, route=route, reason=reason, ordered_by=ordered_by,
                ordered_by_name=people[ordered_by], given_by=given, given_by_name=people[given],
                side_effect=side_effect, given_before=before, allergies=context["allergies"],
                over_max_reason=over_max_reason, allergy_override_reason=allergy_override_reason)

        return self._append(actor, session_id, request_key, Action.GIVE_MEDICATION, content, observed_at=observed_at,
                            check=check, needs_record=True, audit="rescue_medication_recorded")

    # ----- charting ------------------------------------------------------------------------------------
    def record_vitals(self, actor: Actor, session_id: int, values: Mapping[str, Any], *, source: str = "manual",
                      confirmed_by: int | None = None, observed_at: datetime | None = None,
                      device: Mapping[str, Any] | None = None,
                      after: Callable[[Session, SessionRow, Entry], Entry | None] | None = None, request_key: str | None = None) -> Entry:
        """Record a reading (any subset of SBP, DBP, HR, SpO2, RR, temperature). Alerts come from the record.

        ``device`` names the monitor of a confirmed device reading; ``after`` runs in the same unit of work.
        """
        return self._append(actor, session_id, request_key, Action.CHART,
                            lambda p, _a: VitalsReading.build(values, p, source=source, confirmed_by=confirmed_by,
                                                              device=device),
                            observed_at=observed_at, after=after)

    def record_side_effect(self, actor: Actor, session_id: int, kind: str, severity: str, *, intervention: str = "",
                           description: str = "", observed_at: datetime | None = None, request_key: str | None = None) -> Entry:
        value = SideEffect.build(kind, severity, intervention=intervention, description=description)
        return self._append(actor, session_id, request_key, Action.CHART, lambda _p, _a: value, observed_at=observed_at)

    def resolve_side_effect(self, actor: Actor, session_id: int, side_effect_id: int, *, note: str = "",
                            observed_at: datetime | None = None, request_key: str | None = None) -> Entry:
        value = SideEffectResolution.build(side_effect_id, note)

        def check(_s: Session, _row: SessionRow, record: SessionRecord | None) -> None:
            assert record is not None
            if side_effect_id not in {c.id for c in record.side_effects}:
                raise NotFound(f"there is no side effect {side_effect_id} in session {session_id}")
            if side_effect_id in record.resolutions:
                raise ValidationError("side effect", side_effect_id, "it is already marked resolved")

        return self._append(actor, session_id, request_key, Action.CHART, lambda _p, _a: value, observed_at=observed_at,
                            check=check, needs_record=True)

    def record_observation(self, actor: Actor, session_id: int, text: str, *, category: str = "general",
                           for_integration: bool = False, observed_at: datetime | None = None,
                           after: Callable[[Session, SessionRow, Entry], Entry | None] | None = None, request_key: str | None = None) -> Entry:
        value = Observation.build(category, text, for_integration=for_integration)
        return self._append(actor, session_id, request_key, Action.CHART, lambda _p, _a: value, observed_at=observed_at,
                            after=after)

    def record_scale(self, actor: Actor, session_id: int, scale: str, score: object, *, instrument: str = "",
                     observed_at: datetime | None = None, request_key: str | None = None) -> Entry:
        value = ScaleScore.build(scale, score, instrument=instrument)
        return self._append(actor, session_id, request_key, Action.CHART, lambda _p, _a: value, observed_at=observed_at)

    def acknowledge_alert(self, actor: Actor, session_id: int, vitals_entry_id: int, measures: list[str], *,
                          note: str = "", request_key: str | None = None) -> Entry:
        """A person acknowledges alert episodes (a persistent condition is one episode), naming any reading of
        each; the acknowledgement records the worst value it saw, so a worse one later raises it again.
        While the session awaits discharge an acknowledgement needs a note."""
        base = AlertAcknowledgement.build(vitals_entry_id, measures, note)
        seen: dict[str, float] = {}

        def check(_s: Session, row: SessionRow, record: SessionRecord | None) -> None:
            assert record is not None
            reading = next((c for c in record.vitals if c.id == vitals_entry_id), None)
            if reading is None:
                raise NotFound(f"there is no vitals reading {vitals_entry_id} in session {session_id}")
            episodes = {e.measure: e for e in record.alert_episodes if vitals_entry_id in e.reading_ids}
            if not set(measures) <= set(episodes):
                raise ValidationError("alert", ", ".join(sorted(set(measures) - set(episodes))),
                                      "only measures that alerted can be acknowledged")
            if SessionState(row.state) is SessionState.DISCHARGE and not base.note:
                raise ValidationError("note", None, "while the client awaits discharge, say what was done about "
                                      "the alert")
            seen.update({m: episodes[m].worst for m in measures})

        return self._append(actor, session_id, request_key, Action.CHART, lambda _p, _a: replace(base, values=dict(seen)),
                            check=check, needs_record=True, audit="alert_acknowledged")

    def record_closing_note(self, actor: Actor, session_id: int, *, state: str, words: str = "", themes: str = "",
                            suggestions: str = "", observed_at: datetime | None = None,
                            request_key: str | None = None) -> Entry:
        """The therapist's closing note at the end of the session (before sign-off; amended after it)."""
        value = ClosingNote.build(state=state, words=words, themes=themes, suggestions=suggestions)

        def check(_s: Session, _row: SessionRow, record: SessionRecord | None) -> None:
            assert record is not None
            if record.closing_note is not None:
                raise ValidationError("closing note", session_id, "already written; correct it with an amendment")

        return self._append(actor, session_id, request_key, Action.WRITE_CLOSING_NOTE, lambda _p, _a: value,
                            observed_at=observed_at, check=check, needs_record=True)

    def record_outcome_measure(self, actor: Actor, session_id: int, instrument: str, items: list[object], *,
                               observed_at: datetime | None = None, request_key: str | None = None) -> Entry:
        """PHQ-9, GAD-7 or PCL-5 answers at check-in, before the first dose."""
        value = OutcomeMeasure.build(instrument, items)

        def check(_s: Session, _row: SessionRow, record: SessionRecord | None) -> None:
            assert record is not None
            if record.first_dose_at is not None:
                raise IllegalTransition("outcome measures are recorded at check-in, before the first dose")

        return self._append(actor, session_id, request_key, Action.RECORD_OUTCOME, lambda _p, _a: value,
                            observed_at=observed_at, check=check, needs_record=True,
                            audit="outcome_measure_recorded")

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
            _require_amend_role(actor, target, record)
            original["entry"] = target

        def amendment(protocol: ProtocolSettings, at: datetime) -> EntryContent:
            target = original["entry"]
            # The correction starts from the original entry's content (what was first recorded).
            corrected = None if content is None else target.content.corrected(content, protocol, target)
            return Amendment.build(target.kind, reason, corrected)

        return self._append(actor, session_id, request_key, Action.AMEND, amendment, amends_id=entry_id,
                            check=check, needs_record=True, audit="entry_amended")




def signed_by(password: str, purpose: str = "override") -> SignFn:
    """The entry's payload signed by its author's own key (opened with ``password``) over the chain head it
    follows and the session's clinical header."""

    def sign(s: Session, row: SessionRow, value: EntryContent, author: int, now: datetime) -> dict[str, Any]:
        return keys.session_signature(s, staff_id=author, password=password, now=now, session=row,
                                      purpose=purpose, fields=value.to_payload())

    return sign


def _same_kind(done: Entry, content: ContentFn, row: SessionRow) -> None:
    """A request key used again for another kind of entry is a mistake, not a retry."""
    try:
        kind = content(session_protocol(row.protocol_json), done.observed_at).kind
    except (DomainError, KeyError, IndexError):
        return  # the content needs what only a first try computes; the session and author matched
    if kind is not done.kind:
        raise ValidationError("request key", "(not shown)", "a new key for each new entry (this one was used for "
                                                             "another)")


#: Who may amend an entry of each kind: those who may record it, and for entries that gate dosing or discharge
#: (doses, vitals, side effects and their resolution, alert acknowledgements) medical staff only.
AMEND_ROLES: dict[EntryKind, frozenset[Role]] = {
    EntryKind.ADMINISTRATION: frozenset({Role.MEDICAL, Role.SUPERVISOR}),
    EntryKind.VITALS: frozenset({Role.MEDICAL, Role.SUPERVISOR}),
    EntryKind.SIDE_EFFECT: frozenset({Role.MEDICAL, Role.SUPERVISOR}),
    EntryKind.SIDE_EFFECT_RESOLVED: frozenset({Role.MEDICAL, Role.SUPERVISOR}),
    EntryKind.ALERT_ACK: frozenset({Role.MEDICAL, Role.SUPERVISOR}),
    EntryKind.SCALE: frozenset({Role.THERAPIST, Role.MEDICAL, Role.SUPERVISOR}),
    EntryKind.OBSERVATION: frozenset({Role.THERAPIST, Role.MEDICAL, Role.SUPERVISOR}),
}

ATTESTATION_MEANING = "I attest this session, ended early after a dose, and the client's disposition"


@dataclass(frozen=True)
class DoseInput:
    """A dose as entered, before validation."""

    drug: str
    route: Route | str
    dose: object
    unit: str


def _require_item_role(actor: Actor, roles: Iterable[str], label: str) -> None:
    allowed = {Role(r) for r in roles}
    if not allowed & actor.roles:
        raise PermissionDenied(f"{actor.name} may not confirm '{label}'; the protocol gives it to: "
                               + ", ".join(sorted(r.label for r in allowed)))


def _require_amend_role(actor: Actor, target: Entry, record: SessionRecord) -> None:
    if target.kind is EntryKind.CHECKLIST:
        item = record.protocol.checklist_item(str(target.payload["item"]))
        _require_item_role(actor, item.roles if item else ("medical", "supervisor"), str(target.payload["label"]))
        return
    allowed = AMEND_ROLES.get(target.kind)
    if allowed is not None and not allowed & actor.roles:
        raise PermissionDenied(f"{actor.name} may not amend a {target.kind.label.lower()} entry; it needs one of: "
                               + ", ".join(sorted(r.label for r in allowed)))
