"""Esketamine sessions under the REMS: devices, the REMS answers, the monitoring form and its filing deadline.

Devices and REMS answers are entries in the session's hash chain (through the record service's one write
path); a form marked as submitted is a row of its own (``rems_filings``), audited, since it is paperwork
about the session rather than part of the clinical record.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from dataclasses import replace
from datetime import date, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from kapconsole.data import repositories as repo
from kapconsole.data.models import EntryRow, RemsFilingRow, SessionRow
from kapconsole.domain import esketamine, rems, rems_form
from kapconsole.domain import validation as v
from kapconsole.domain.entries import Administration
from kapconsole.domain.entry_base import EntryContent
from kapconsole.domain.enums import EntryKind, Route, SessionState
from kapconsole.domain.errors import NotFound, ValidationError
from kapconsole.domain.protocol import ProtocolSettings
from kapconsole.domain.record import SessionRecord
from kapconsole.domain.rules import Action
from kapconsole.domain.values import Actor, Entry
from kapconsole.services.base import Clock, ServiceBase, authorize, system_clock
from kapconsole.services.clinic import ClinicService
from kapconsole.services.record import DoseInput, RecordService


def _require_esketamine(record: SessionRecord) -> None:
    if record.info.route is not Route.INTRANASAL:
        raise ValidationError("session", record.info.id, "an esketamine (intranasal) session")


class RemsService(ServiceBase):
    def __init__(self, db: Any, records: RecordService, clinic: ClinicService, clock: Clock = system_clock) -> None:
        super().__init__(db, clock)
        self.records = records
        self.clinic = clinic

    # ----- the treatment setting (clinic settings) -----------------------------------------------------
    def setting(self) -> rems_form.SettingDetails:
        return self.clinic.rems_setting()

    def update_setting(self, actor: Actor, *, name: str, address: str, phone: str = "",
                       certification: str) -> rems_form.SettingDetails:
        return self.clinic.update_rems_setting(actor, name=name, address=address, phone=phone,
                                               certification=certification)

    # ----- devices -------------------------------------------------------------------------------------
    def device_status(self, actor: Actor | None, session_id: int) -> esketamine.DeviceStatus:
        record = self.records.record(actor, session_id)
        _require_esketamine(record)
        return esketamine.device_status(record)

    def record_device(self, actor: Actor, session_id: int, *, device_lot: str, ordered_by: int,
                      given_by: int | None = None, observed_at: datetime | None = None,
                      early_reason: str = "", confirm: Iterable[str] = (), request_key: str | None = None,
                      lot: str = "") -> Entry:
        """One 28 mg device. Every device passes the same safety gate as any dose (the checklist, the pre-dose
        holds and the REMS answers before the first; the latest vitals and unacknowledged alerts before the
        next; the route's dose limits, allergies, who orders and gives it; overrides and ``confirm`` as for
        :meth:`RecordService.record_administration`). The first moves the session to monitoring; each later one
        waits 5 minutes after the previous, or needs a reason. The device is recorded under the session's
        planned drug name when it names esketamine ("Spravato"), else "Esketamine"; ``lot`` is the carton's lot."""
        reason = v.text("reason", early_reason, limit=v.REASON_TEXT)
        device = v.text("device lot", device_lot, required=True)
        confirmed = {v.text("confirm", k) for k in confirm}
        carton = v.text("lot", lot)
        names: dict[int, str] = {}
        status: dict[str, esketamine.DeviceStatus] = {}
        giver: dict[str, int] = {}
        drug: dict[str, str] = {}

        def check(s: Session, _row: SessionRow, record: SessionRecord | None) -> None:
            assert record is not None
            _require_esketamine(record)
            status["now"] = current = esketamine.device_status(record)
            if current.complete:
                raise ValidationError("device", current.given + 1,
                                      f"this session's dose is {current.planned} devices and all have been given")
            giver["id"] = given_by if given_by is not None else actor.staff_id
            drug["name"] = esketamine.device_drug(record.info.planned_drug)
            request = DoseInput(drug["name"], Route.INTRANASAL.value, esketamine.RULES.device_mg, "mg")
            names.update(self.records._gate_dose(s, record, request, ordered_by=ordered_by, given_by=giver["id"],
                                                 confirmed=confirmed))

        def content(_p: ProtocolSettings, at: datetime) -> EntryContent:
            current = status["now"]
            esketamine.check_device(current, at, reason)
            early = reason if current.next_allowed_at is not None and at < current.next_allowed_at else ""
            given = giver["id"]
            base = Administration.build(drug=drug["name"], route=Route.INTRANASAL.value,
                                        dose=esketamine.RULES.device_mg, unit="mg", lot=carton, device_lot=device,
                                        started_at=at, ordered_by=ordered_by, ordered_by_name=names[ordered_by],
                                        given_by=given, given_by_name=names[given])
            return replace(base, confirmed=tuple(sorted(confirmed)), device=current.given + 1,
                           devices_planned=current.planned, early_reason=early)

        def state_follows_device(s: Session, row: SessionRow, entry: Entry) -> Entry | None:
            state = SessionState(row.state)
            if state is SessionState.CHECKLIST:
                return self.records._transition(s, row, actor, SessionState.MONITORING, reason="first device given",
                                                at=entry.observed_at)
            if state is SessionState.DISCHARGE:
                return self.records._transition(s, row, actor, SessionState.MONITORING,
                                                reason="device given while awaiting discharge: observation restarts",
                                                at=entry.observed_at)
            return None

        return self.records._append(actor, session_id, request_key, Action.RECORD_DOSE, content,
                                    observed_at=observed_at, check=check, needs_record=True,
                                    after=state_follows_device, audit="esketamine_device_recorded")

    # ----- REMS answers --------------------------------------------------------------------------------
    def answers(self, actor: Actor | None, session_id: int) -> dict[str, rems.Answer]:
        record = self.records.record(actor, session_id)
        _require_esketamine(record)
        return rems.answers_of(record)

    def record_answers(self, actor: Actor, session_id: int, answers: Mapping[str, object], *,
                       confirmed_carried: list[str] | tuple[str, ...] = (),
                       request_key: str | None = None) -> Entry:
        """Record REMS answers (any subset of the questions); a later answer to a question replaces the earlier.

        ``confirmed_carried`` names the answers that were carried over from the previous session and that the
        person confirmed as still true.
        """
        start: dict[str, datetime | None] = {}
        # A session ended early after a device still needs its form: its answers may be completed after it
        # closed, with the rights of a correction (kept, attributed and shown as entered after closing).
        closed = self.clinic.session(session_id).state.is_closed

        def check(_s: Session, row: SessionRow, record: SessionRecord | None) -> None:
            assert record is not None
            _require_esketamine(record)
            start["at"] = row.started_at
            ready = answers.get("ready_to_leave_at")
            earliest = record.earliest_discharge_at
            # Times are given to the minute: the minute the monitoring time ends counts.
            if (isinstance(ready, datetime) and earliest is not None
                    and v.to_utc(ready) < earliest.replace(second=0, microsecond=0)):
                minutes = record.protocol.discharge.min_observation_minutes
                raise ValidationError("ready to leave at", ready.isoformat(timespec="minutes"),
                                      f"at least {minutes} minutes after the last device "
                                      f"({earliest.astimezone():%H:%M})")

        def content(_p: ProtocolSettings, _at: datetime) -> EntryContent:
            return rems.RemsAnswers.build(answers, confirmed_carried, session_start=start.get("at"), now=self.now())

        return self.records._append(actor, session_id, request_key, Action.AMEND if closed else Action.CHART,
                                    content, check=check, needs_record=True, audit="rems_answers_recorded")

    def prefill(self, actor: Actor | None, session_id: int) -> dict[str, rems.Prefill]:
        """Starting values from the client's previous esketamine session with REMS answers, for the questions
        this session has not answered yet (each shown as carried over until a person confirms it)."""
        with self.db.read() as s:
            if actor is not None:
                authorize(s, actor, Action.VIEW_RECORD)
            row = repo.get_session_row(s, session_id)
            current = SessionRecord(repo.session_value(row), repo.load_entries(s, session_id))
            _require_esketamine(current)
            answered = rems.answers_of(current)
            earlier = s.execute(
                select(SessionRow.id, SessionRow.scheduled_at)
                .where(SessionRow.client_id == row.client_id, SessionRow.route == Route.INTRANASAL.value,
                       SessionRow.id != session_id, SessionRow.scheduled_at <= row.scheduled_at)
                .where(select(EntryRow.id).where(EntryRow.session_id == SessionRow.id,
                                                 EntryRow.kind == EntryKind.REMS_ANSWERS.value).exists())
                .order_by(SessionRow.scheduled_at.desc(), SessionRow.id.desc()).limit(1)
            ).first()
            if earlier is None:
                return {}
            previous = repo.load_record(s, earlier.id)
        filled = rems.prefill_from(rems.answers_of(previous), earlier.id, earlier.scheduled_at.astimezone().date())
        return {k: p for k, p in filled.items() if k not in answered}

    # ----- the monitoring form -------------------------------------------------------------------------
    def form(self, actor: Actor | None, session_id: int) -> rems_form.RemsForm:
        record = self.records.record(actor, session_id)
        _require_esketamine(record)
        return rems_form.build(record, self.setting())

    def form_pdf(self, actor: Actor | None, session_id: int) -> bytes:
        from kapconsole.reports.rems_form import render_form

        if actor is not None:
            with self.db.read() as s:
                authorize(s, actor, Action.EXPORT_REPORT)
        form = self.form(actor, session_id)
        content = render_form(form, now=self.now())
        with self.db.write() as s:
            if actor is not None:
                actor = authorize(s, actor, Action.EXPORT_REPORT)
            repo.add_audit(s, at=self.now(), action="rems_form_exported", actor=actor,
                           actor_name="" if actor else "command line", session_id=session_id,
                           detail="complete" if form.complete else f"{len(form.signature_blockers)} missing")
        return content

    def write_form(self, actor: Actor | None, session_id: int, path: str | os.PathLike[str]) -> Path:
        """Write the form to ``path``, owner-only from the first byte, replaced atomically."""
        target = Path(path)
        content = self.form_pdf(actor, session_id)
        temp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
        fd = os.open(temp, os.O_CREAT | os.O_WRONLY | os.O_TRUNC, 0o600)
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(content)
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(temp, target)
        except BaseException:
            temp.unlink(missing_ok=True)
            raise
        return target

    # ----- filing: the seven-day deadline --------------------------------------------------------------
    def filings(self, actor: Actor | None = None, *, include_filed: bool = False,
                today: date | None = None) -> list[rems.FilingItem]:
        """Every esketamine treatment session (a device given) with its form's due date, oldest due first."""
        if today is not None and (not isinstance(today, date) or isinstance(today, datetime)):
            raise ValidationError("today", str(today)[:40], "a date")
        day = today or self.now().astimezone().date()
        with self.db.read() as s:
            if actor is not None:
                authorize(s, actor, Action.VIEW_RECORD)
            # Only esketamine sessions (and, unless asked, only those not filed): the entries scanned for the
            # first device are those sessions' administrations, found through the (session, kind) index.
            stmt = (select(SessionRow, RemsFilingRow)
                    .outerjoin(RemsFilingRow, RemsFilingRow.session_id == SessionRow.id)
                    .where(SessionRow.route == Route.INTRANASAL.value))
            if not include_filed:
                stmt = stmt.where(RemsFilingRow.id.is_(None))
            sessions = s.execute(stmt).unique().all()
            ids = [row.id for row, _filing in sessions]
            first: dict[int, datetime] = {}
            if ids:
                first = dict(s.execute(
                    select(EntryRow.session_id, func.min(EntryRow.observed_at))
                    .where(EntryRow.session_id.in_(ids), EntryRow.kind == EntryKind.ADMINISTRATION.value)
                    .group_by(EntryRow.session_id)).tuples().all())
            items = [self._item(row, first[row.id], filing, day) for row, filing in sessions if row.id in first]
        return sorted(items, key=lambda i: (i.due_on, i.session_id))

    def _item(self, row: SessionRow, first_at: datetime, filing: RemsFilingRow | None,
              today: date) -> rems.FilingItem:
        # The first device's clinical time, back as an aware UTC datetime from either database.
        at = first_at if isinstance(first_at, datetime) else datetime.fromisoformat(str(first_at))
        if at.tzinfo is None:
            from datetime import UTC

            at = at.replace(tzinfo=UTC)
        treated = at.astimezone().date()
        due = rems.due_on(treated)
        submission = None
        if filing is not None:
            submission = rems.Submission(filing.submitted_on, filing.method, filing.confirmation,
                                         filing.recorder.name, filing.recorded_at, filing.note)
        return rems.FilingItem(row.id, row.client.identifier, row.client.name, row.room, treated, due,
                               rems.filing_status(due, today, submission is not None), submission)

    def filing(self, actor: Actor | None, session_id: int) -> rems.FilingItem:
        found = [i for i in self.filings(actor, include_filed=True) if i.session_id == session_id]
        if not found:
            raise NotFound(f"session {session_id} is not an esketamine treatment session (no device given)")
        return found[0]

    def mark_submitted(self, actor: Actor, session_id: int, *, submitted_on: date, method: str,
                       confirmation: str = "", note: str = "") -> rems.FilingItem:
        """Record that the session's monitoring form was submitted to the REMS (date, how, confirmation)."""
        with self.db.read() as s:
            actor = authorize(s, actor, Action.FILE_REMS_FORM)
        how = rems.submission_method(method)
        number = v.text("confirmation number", confirmation, limit=200)
        text = v.text("note", note, limit=v.REASON_TEXT)
        item = self.filing(actor, session_id)
        today = self.now().astimezone().date()
        if not isinstance(submitted_on, date) or isinstance(submitted_on, datetime):
            raise ValidationError("date submitted", submitted_on, "a date")
        if submitted_on < item.treatment_date or submitted_on > today:
            raise ValidationError("date submitted", submitted_on.isoformat(),
                                  f"between the treatment date ({item.treatment_date.isoformat()}) and today")
        form = self.form(actor, session_id)
        if not form.complete:
            missing = [*form.missing_answers, *form.missing_record, *form.missing_details]
            raise rems.RemsIncomplete(missing)
        with self.db.write() as s:
            actor = authorize(s, actor, Action.FILE_REMS_FORM)
            if s.scalar(select(RemsFilingRow.id).where(RemsFilingRow.session_id == session_id)) is not None:
                raise ValidationError("REMS form", session_id, "it is already marked as submitted")
            s.add(RemsFilingRow(session_id=session_id, submitted_on=submitted_on, method=how, confirmation=number,
                                note=text, recorded_by=actor.staff_id, recorded_at=self.now()))
            repo.add_audit(s, at=self.now(), action="rems_form_submitted", actor=actor, session_id=session_id,
                           detail=f"{submitted_on.isoformat()} {how}" + (f" #{number}" if number else ""))
        return self.filing(actor, session_id)
