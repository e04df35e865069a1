"""From a session record to the report-data value: every number and mark the summary shows, worked out once.

Pure functions over domain values: no database, no layout. The renderer receives the result and only lays
it out.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from datetime import date, datetime, tzinfo
from typing import Any

from kapconsole.domain.entries import ClosingNote
from kapconsole.domain.entry_base import describe_payload
from kapconsole.domain.enums import (
    EntryKind,
    ObservationCategory,
    Route,
    Scale,
    SessionState,
    Severity,
    SideEffectKind,
)
from kapconsole.domain.outcomes import Instrument
from kapconsole.domain.protocol import MEASURES
from kapconsole.domain.record import Current, SessionRecord, parse_ts
from kapconsole.domain.rescue import RescueMedication
from kapconsole.domain.values import Entry, StaffMember
from kapconsole.reports import chart_data
from kapconsole.reports import data as d

FORTY_MINUTES = 40  # Spravato REMS: BP at about 40 min after dosing, when the rise peaks.
NO_FORTY = "no reading at 40 min"


class Clock:
    """Turns stored UTC times into local :class:`~kapconsole.reports.data.Moment` values."""

    def __init__(self, first_dose: datetime | None, session_date: date, tz: tzinfo | None = None) -> None:
        self.first_dose = first_dose
        self.session_date = session_date
        self.tz = tz

    def local(self, at: datetime) -> datetime:
        return at.astimezone(self.tz)

    def __call__(self, at: datetime) -> d.Moment:
        local = self.local(at)
        since = None
        if self.first_dose is not None:
            since = round((at - self.first_dose).total_seconds() / 60)
        return d.Moment(local, since, local.date() != self.session_date)


# ----- describing entry content (for amendments) ---------------------------------------------------------------


def _route_label(value: str) -> str:
    try:
        return Route(value).label
    except ValueError:
        return value


def corrections(record: SessionRecord, entries: Iterable[Entry], clock: Clock) -> d.Corrections:
    """The amendment history of ``entries`` (one entry, or an entry and the ones that belong to it)."""
    entries = list(entries)
    notes: list[tuple[datetime, int, d.Amendment]] = []
    original = ""
    for entry in entries:
        amends = record.amendments_of(entry.id)
        if amends and not original:
            original = entry.content.describe(record)
        for i, a in enumerate(amends):
            content = a.payload.get("content")
            latest = i == len(amends) - 1
            if content is None:
                change = "marked as entered in error"
            elif latest and entry is entries[0]:
                change = ""  # the row shows the corrected content
            else:
                change = "changed to: " + describe_payload(entry.kind, content, record)
            note = d.Amendment(clock(a.entered_at), a.author_name, str(a.payload.get("reason", "")), change,
                               record.after_signoff(a), retracts=content is None and latest)
            notes.append((a.entered_at, a.seq, note))
    notes.sort(key=lambda n: (n[0], n[1]))
    return d.Corrections(original, tuple(n[2] for n in notes)) if notes else d.NO_CORRECTIONS


def _effective(record: SessionRecord, entry: Entry) -> Mapping[str, Any]:
    """The entry's content as it stands, or its original content when it was marked entered in error."""
    amends = record.amendments_of(entry.id)
    if amends and amends[-1].payload.get("content") is not None:
        return amends[-1].payload["content"]  # type: ignore[no-any-return]
    return entry.payload


def _of_kind(record: SessionRecord, kind: EntryKind) -> list[Entry]:
    return sorted((e for e in record.entries if e.kind is kind), key=lambda e: (e.observed_at, e.seq))


# ----- summary ------------------------------------------------------------------------------------------------


def _extreme(rows: list[Current], key: str, pick: Callable[..., Current]) -> Current | None:
    having = [c for c in rows if key in c.payload]
    return pick(having, key=lambda c: c.payload[key]) if having else None


def _after_dose(record: SessionRecord) -> list[Current]:
    first = record.first_dose_at
    return [c for c in record.vitals if first is None or c.at > first]


def dose_rows(record: SessionRecord, clock: Clock) -> tuple[d.Dose, ...]:
    rows = []
    for e in _of_kind(record, EntryKind.ADMINISTRATION):
        p = _effective(record, e)
        end = clock(parse_ts(p["ended_at"])) if p.get("ended_at") else None
        rows.append(d.Dose(clock(e.observed_at), p["drug"], _route_label(p["route"]), f"{p['dose']:g} {p['unit']}",
                           p.get("lot", ""), p.get("device_lot", ""), p.get("ordered_by_name", ""),
                           p.get("given_by_name", ""), end, corrections(record, [e], clock)))
    return tuple(rows)


def medication_rows(record: SessionRecord, clock: Clock) -> tuple[d.MedicationRow, ...]:
    """The medication record: rescue and adjunct medications as they stand (amendments applied)."""
    rows = []
    for e in _of_kind(record, EntryKind.RESCUE_MEDICATION):
        p = _effective(record, e)
        med = RescueMedication.from_payload(p)
        why = [med.reason]
        target = record.by_id.get(med.side_effect) if med.side_effect else None
        if target is not None:
            why.append(f"for {SideEffectKind(target.payload['effect']).label.lower()} at {clock(target.observed_at).label}")
        if med.over_max_reason:
            why.append(f"above the formulary maximum: {med.over_max_reason}")
        if med.allergy_override_reason:
            why.append(f"despite allergy ({'; '.join(med.allergies_overridden)}): {med.allergy_override_reason}")
        rows.append(d.MedicationRow(clock(e.observed_at), med.short, "; ".join(w for w in why if w),
                                    med.ordered_by_name, med.given_by_name, corrections(record, [e], clock)))
    return tuple(rows)


def _closer(record: SessionRecord) -> tuple[bool, str]:
    """Whether the session is closed, and who closed it (signed the discharge or ended it early)."""
    sig = record.signature
    if sig is not None:
        return True, str(sig.payload.get("signer_name", sig.author_name))
    if record.info.state.is_closed:
        ends = [e for e in record.entries if e.kind is EntryKind.STATE and e.payload.get("to") == record.info.state.value]
        return True, ends[-1].author_name if ends else ""
    return False, ""


def _readings_while(record: SessionRecord, start: datetime, end: datetime | None) -> str:
    """The lowest SpO2 and RR from ``start`` (less 5 min) to ``end``: what goes with a respiratory event."""
    lo = start.timestamp() - 300
    rows = [c for c in record.vitals if c.at.timestamp() >= lo and (end is None or c.at <= end)]
    parts = []
    for key, label, unit in (("spo2", "SpO2", "%"), ("rr", "RR", "/min")):
        values = [c.payload[key] for c in rows if key in c.payload]
        if values:
            parts.append(f"{label} {min(values):g}{unit}")
    return ("lowest " + ", ".join(parts) + " while open") if parts else "no SpO2 or RR reading while open"


def side_effect_rows(record: SessionRecord, clock: Clock) -> tuple[d.SideEffect, ...]:
    resolutions: dict[int, list[Entry]] = {}
    for e in _of_kind(record, EntryKind.SIDE_EFFECT_RESOLVED):
        resolutions.setdefault(int(e.payload["side_effect"]), []).append(e)
    closed, closer = _closer(record)
    rows = []
    for e in _of_kind(record, EntryKind.SIDE_EFFECT):
        p = _effective(record, e)
        res = record.resolutions.get(e.id)
        related = ""
        if p["effect"] == SideEffectKind.RESPIRATORY_DEPRESSION.value:
            related = _readings_while(record, e.observed_at, res.at if res else None)
        rows.append(d.SideEffect(
            clock(e.observed_at), SideEffectKind(p["effect"]).label, Severity(p["severity"]).value,
            p.get("description", ""), p.get("intervention", ""), clock(res.at) if res else None,
            res.entry.author_name if res else "", str(res.payload.get("note", "")) if res else "",
            corrections(record, [e, *resolutions.get(e.id, [])], clock),
            open_at_close=closed and res is None, accepted_by=closer if res is None else "", related=related,
            ended_early=record.info.state is SessionState.ENDED_EARLY))
    return tuple(rows)


def _scale_course(record: SessionRecord, clock: Clock, scale: Scale) -> d.ScaleCourse | None:
    """Sedation (MOAA/S, lower is deeper) or dissociation (0–10, higher is stronger) after the first dose."""
    first = record.first_dose_at
    scores = sorted((c for c in record.current(EntryKind.SCALE) if c.payload["scale"] == scale.value
                     and (first is None or c.at >= first)), key=lambda c: (c.at, c.entry.seq))
    rules = record.protocol.discharge
    label = Scale(scale).label
    if scale is Scale.MOAAS:
        name, worse, ok = "Sedation (MOAA/S)", min, (lambda v: v >= rules.required_moaas)
    else:
        name, worse, ok = "Dissociation (0–10)", max, (lambda v: v <= rules.max_dissociation)
    short = label.replace(" (0–10)", "")
    if not scores:
        return d.ScaleCourse(name, False, "", None, None, "", scored=False)
    worst = worse(scores, key=lambda c: c.payload["score"])
    occurred = not ok(worst.payload["score"])
    # Resolved: the first score at the resolved level after the worst, counted only after the last dose.
    last_dose = record.last_dose_at
    resolved = next((c for c in scores if c.at > worst.at and ok(c.payload["score"])
                     and (last_dose is None or c.at >= last_dose)), None)
    still = scores[-1]
    if resolved is not None and not ok(still.payload["score"]):
        resolved = None  # it came back
    unit = "/10" if scale is Scale.DISSOCIATION else ""
    return d.ScaleCourse(name, occurred, f"{short} {worst.payload['score']:g}{unit}", clock(worst.at),
                         clock(resolved.at) if resolved and occurred else None,
                         f"{short} {still.payload['score']:g}{unit}")


def _reading_text(c: Current, clock: Clock) -> str:
    p = c.payload
    parts = []
    if "sbp" in p and "dbp" in p:
        parts.append(f"{p['sbp']:g}/{p['dbp']:g} mmHg")
    for key, prefix, unit in (("hr", "HR ", ""), ("spo2", "SpO2 ", "%"), ("rr", "RR ", "")):
        if key in p:
            parts.append(f"{prefix}{p[key]:g}{unit}")
    return ", ".join(parts) + f" at {clock(c.at).label}"


def forty_minute_reading(record: SessionRecord) -> Current | None:
    """The blood pressure reading nearest +40 min within the protocol's window after the first dose."""
    first = record.first_dose_at
    if first is None:
        return None
    low, high = record.protocol.bp_check_window

    def minutes(c: Current) -> float:
        return (c.at - first).total_seconds() / 60

    inside = [c for c in record.vitals if low <= minutes(c) <= high and "sbp" in c.payload]
    return min(inside, key=lambda c: (abs(minutes(c) - FORTY_MINUTES), c.at)) if inside else None


def _discharge_reading(record: SessionRecord) -> Current | None:
    assessments = record.discharge_assessments
    first = record.first_dose_at
    if assessments:
        seen = [c for c in record.vitals if c.at <= assessments[-1].at and (first is None or c.at > first)]
        return seen[-1] if seen else None
    return None


def vitals_line(record: SessionRecord, clock: Clock) -> d.VitalsLine | None:
    if not record.vitals:
        return None
    first = record.first_dose_at
    before = [c for c in record.vitals if first is None or c.at <= first]
    forty = forty_minute_reading(record)
    leaving = _discharge_reading(record)
    total = acknowledged = 0
    for reading in record.vitals:
        done = record.acknowledged.get(reading.id, set())
        for alert in record.alerts_for(reading):
            total += 1
            acknowledged += alert.measure in done
    low, high = record.protocol.bp_check_window
    return d.VitalsLine(
        baseline=_reading_text(before[-1], clock) if before and first is not None else "no reading before the dose",
        forty=(_reading_text(forty, clock) if forty else f"{NO_FORTY} (none between +{low} and +{high} min)")
        if first is not None else "no dose",
        discharge=_reading_text(leaving, clock) if leaving else "no discharge assessment",
        alerts=total, acknowledged=acknowledged)


def _rescue(record: SessionRecord, clock: Clock, effects: tuple[d.SideEffect, ...]) -> tuple[str, ...]:
    """Rescue and adjunct medications (administrations of another drug than the first) and interventions."""
    doses = record.administrations
    main = doses[0].payload["drug"].casefold() if doses else None
    out = [f"{c.payload['drug']} {c.payload['dose']:g} {c.payload['unit']} {_route_label(c.payload['route']).lower()}"
           f" at {clock(c.at).label}" for c in doses[1:] if c.payload["drug"].casefold() != main]
    out += [f"{e.intervention} ({e.effect.lower()}, {e.moment.label})" for e in effects if e.intervention]
    return tuple(out)


def _events(record: SessionRecord, clock: Clock, effects: tuple[d.SideEffect, ...]) -> tuple[str, ...]:
    """Adverse events and transfers: an early end and every severe side effect."""
    out = []
    info = record.info
    if info.state is SessionState.ENDED_EARLY:
        out.append(f"Session ended early: {info.end_reason}" if info.end_reason else "Session ended early")
    out += [f"Severe {e.effect.lower()} at {e.moment.label}" + (f": {e.intervention}" if e.intervention else "")
            for e in effects if e.severity == Severity.SEVERE.value]
    return tuple(out)


def summarize(record: SessionRecord, clock: Clock) -> d.ClinicalSummary:
    after = _after_dose(record)
    peak = _extreme(after, "sbp", max)
    hr = _extreme(after, "hr", max)
    spo2 = _extreme(after, "spo2", min)
    diss = [c for c in record.current(EntryKind.SCALE) if c.payload["scale"] == Scale.DISSOCIATION.value]
    diss_peak = max(diss, key=lambda c: c.payload["score"]) if diss else None
    sig = record.signature
    monitoring = None
    first = record.first_dose_at
    if first is not None:
        info = record.info
        if sig is not None:
            end, ongoing = sig.observed_at, False
        elif info.state.is_closed and info.ended_at is not None:
            end, ongoing = info.ended_at, False
        else:
            end, ongoing = max(e.observed_at for e in record.entries), True
        minutes = max(0, round((end - first).total_seconds() / 60))
        monitoring = d.Monitoring(clock(first), clock(end), minutes, ongoing)
    effects = tuple(r for r in side_effect_rows(record, clock) if not r.corrections.retracted)
    rr = _extreme(after, "rr", min)
    return d.ClinicalSummary(
        doses=tuple(r for r in dose_rows(record, clock) if not r.corrections.retracted),
        peak_bp=d.BloodPressure(peak.payload["sbp"], peak.payload["dbp"], clock(peak.at)) if peak else None,
        peak_hr=d.Value(hr.payload["hr"], clock(hr.at)) if hr else None,
        lowest_spo2=d.Value(spo2.payload["spo2"], clock(spo2.at)) if spo2 else None,
        dissociation_peak=d.Value(diss_peak.payload["score"], clock(diss_peak.at)) if diss_peak else None,
        side_effects=effects,
        monitoring=monitoring,
        discharged_at=clock(sig.observed_at) if sig else None,
        signed_by=str(sig.payload.get("signer_name", sig.author_name)) if sig else "",
        events=_events(record, clock, effects),
        sedation=_scale_course(record, clock, Scale.MOAAS),
        dissociation=_scale_course(record, clock, Scale.DISSOCIATION),
        vitals=vitals_line(record, clock),
        rescue=_rescue(record, clock, effects),
        lowest_rr=d.Value(rr.payload["rr"], clock(rr.at)) if rr else None,
    )


def integration_items(record: SessionRecord, clock: Clock) -> tuple[d.IntegrationItem, ...]:
    return tuple(
        d.IntegrationItem(clock(c.at), str(c.payload["text"]), ObservationCategory(c.payload["category"]).label,
                          c.entry.author_name, c.amended)
        for c in record.integration_items if c.payload.get("topic") != "intention"
    )


# ----- vitals -------------------------------------------------------------------------------------------------


def _marks(record: SessionRecord) -> dict[int, list[str]]:
    """Which readings the key-readings table marks, and why."""
    marks: dict[int, list[str]] = {}
    first = record.first_dose_at
    vitals = record.vitals
    if not vitals:
        return marks

    def mark(c: Current | None, label: str) -> None:
        if c is not None:
            marks.setdefault(c.id, []).append(label)

    before = [c for c in vitals if first is not None and c.at <= first]
    mark(before[-1] if before else None, "baseline")
    after = _after_dose(record)
    mark(forty_minute_reading(record), "≈40 min")
    for key, pick, label in (("sbp", max, "peak SBP"), ("dbp", max, "peak DBP"), ("hr", max, "peak HR"),
                             ("spo2", min, "lowest SpO2"), ("rr", min, "lowest RR")):
        values = {c.payload[key] for c in after if key in c.payload}
        if len(values) > 1:  # a measure that never changed has no peak worth marking
            mark(_extreme(after, key, pick), label)
    if record.discharge_assessments:
        mark(_discharge_reading(record), "discharge")
    elif first is not None and after:
        mark(after[-1], "latest")
    return marks


def vitals_rows(record: SessionRecord, clock: Clock) -> tuple[d.VitalsRow, ...]:
    marks = _marks(record)
    current = {c.id: c for c in record.vitals}
    acks: dict[int, list[str]] = {}
    ack_entries: dict[int, list[Entry]] = {}
    for c in record.current(EntryKind.ALERT_ACK):
        vid = int(c.payload["vitals"])
        note = str(c.payload.get("note", ""))
        acks.setdefault(vid, []).append(f"acknowledged by {c.entry.author_name} at {clock(c.at).clock}"
                                        + (f": {note}" if note else ""))
    for e in _of_kind(record, EntryKind.ALERT_ACK):
        ack_entries.setdefault(int(e.payload["vitals"]), []).append(e)
    rows = []
    for e in _of_kind(record, EntryKind.VITALS):
        now = current.get(e.id)
        values = {k: v for k, v in _effective(record, e).items() if k in MEASURES and v is not None}
        alerts = record.alerts_for(now) if now is not None else []
        rows.append(d.VitalsRow(
            moment=clock(e.observed_at), values=values, alerts=frozenset(a.measure for a in alerts),
            alert_messages=tuple(a.message for a in alerts), acknowledged="; ".join(acks.get(e.id, [])),
            marks=tuple(marks.get(e.id, [])), by=e.author_name, source=str(e.payload.get("source", "manual")),
            corrections=corrections(record, [e, *ack_entries.get(e.id, [])], clock)))
    return tuple(rows)


# ----- the rest of the record ---------------------------------------------------------------------------------


def checklist_rows(record: SessionRecord, clock: Clock) -> tuple[d.ChecklistRow, ...]:
    by_item: dict[str, list[Entry]] = {}
    for e in _of_kind(record, EntryKind.CHECKLIST):
        by_item.setdefault(str(e.payload["item"]), []).append(e)
    done = record.checklist_confirmed
    rows = []
    for item in record.protocol.checklist:
        c = done.get(item.key)
        answer = str(c.payload["answer"]).replace("_", " ") if c else "not confirmed"
        rows.append(d.ChecklistRow(
            item.group, item.label, item.required, answer, str(c.payload.get("note", "")) if c else "",
            c.entry.author_name if c else "", clock(c.at) if c else None,
            corrections(record, by_item.get(item.key, []), clock)))
    return tuple(rows)


def override(record: SessionRecord, clock: Clock) -> d.Override | None:
    o = record.override
    if o is None:
        return None
    return d.Override(clock(o.at), o.entry.author_name, str(o.payload["reason"]),
                      tuple(str(m) for m in o.payload.get("missing", ())))


def scale_rows(record: SessionRecord, clock: Clock) -> tuple[d.ScaleRow, ...]:
    rows = []
    for e in _of_kind(record, EntryKind.SCALE):
        p = _effective(record, e)
        rows.append(d.ScaleRow(clock(e.observed_at), Scale(p["scale"]).label, f"{p['score']:g}",
                               str(p.get("instrument", "")), e.author_name, corrections(record, [e], clock)))
    return tuple(rows)


def _state_text(payload: Mapping[str, Any]) -> str:
    try:
        text = SessionState(payload["to"]).label
    except (KeyError, ValueError):
        text = str(payload.get("to", ""))
    reason = str(payload.get("reason", ""))
    return f"{text}: {reason}" if reason else text


def timeline(record: SessionRecord, clock: Clock) -> tuple[d.TimelineItem, ...]:
    items = []
    for e in record.entries:
        if e.kind is EntryKind.OBSERVATION:
            p = _effective(record, e)
            items.append((e.observed_at, e.seq, d.TimelineItem(
                clock(e.observed_at), "observation", ObservationCategory(p["category"]).label
                if p.get("topic") != "intention" else "Intention", e.author_name, str(p["text"]),
                bool(p.get("for_integration")), corrections(record, [e], clock))))
        elif e.kind is EntryKind.STATE:
            items.append((e.observed_at, e.seq, d.TimelineItem(
                clock(e.observed_at), "event", "Session", e.author_name, _state_text(e.payload), False)))
    items.sort(key=lambda i: (i[0], i[1]))
    return tuple(i[2] for i in items)


_SCORE_NAMES = {"aldrete": "Modified Aldrete", "padss": "PADSS"}


def assessments(record: SessionRecord, clock: Clock) -> tuple[d.Assessment, ...]:
    out = []
    for c in record.discharge_assessments:
        p = c.payload
        crit = tuple(d.Criterion(str(k["label"]), bool(k["passed"]), str(k.get("detail", "")),
                                 str(k.get("source", ""))) for k in p.get("criteria", ()))
        scores = tuple(
            d.Score(_SCORE_NAMES.get(name, name), sum(int(v) for v in parts.values()),
                    tuple((k.replace("_", " "), int(v)) for k, v in parts.items()))
            for name, parts in p.get("scores", {}).items())
        out.append(d.Assessment(clock(c.at), c.entry.author_name, bool(p.get("ready")), crit, scores))
    return tuple(out)


def signature(record: SessionRecord, clock: Clock, directory: Mapping[int, StaffMember] | None = None
              ) -> d.Signature | None:
    sig = record.signature
    if sig is None:
        return None
    p = sig.payload
    member = (directory or {}).get(sig.author_id) or _staff_of(record).get(sig.author_id)
    return d.Signature(str(p.get("signer_name", sig.author_name)), clock(sig.observed_at), str(p.get("meaning", "")),
                       str(p.get("signed_hash", "")), int(p.get("signed_seq", 0)),
                       credentials=member.roles_label if member else "")


def _staff_of(record: SessionRecord) -> dict[int, StaffMember]:
    return {m.id: m for m in record.info.staff}


_DID = {
    EntryKind.ADMINISTRATION: "gave a dose", EntryKind.DISCHARGE_ASSESSMENT: "assessed discharge",
    EntryKind.SIGNATURE: "signed the discharge", EntryKind.OVERRIDE: "overrode the checklist",
    EntryKind.AMENDMENT: "amended", EntryKind.CHECKLIST: "checklist", EntryKind.CLOSING_NOTE: "closing note",
    EntryKind.OUTCOME_MEASURE: "outcome measures",
}


def staff_present(record: SessionRecord, clock: Clock, directory: Mapping[int, StaffMember] | None = None
                  ) -> tuple[d.StaffPresence, ...]:
    """Everyone who charted, ordered, assessed or signed, with their roles and first and last entry times."""
    known = {**_staff_of(record), **(directory or {})}
    seen: dict[int | str, tuple[str, list[str], datetime, datetime]] = {}

    def note(key: int | str, name: str, what: str, at: datetime) -> None:
        if key not in seen:
            seen[key] = (name, [], at, at)
        entry = seen[key]
        if what not in entry[1]:
            entry[1].append(what)
        seen[key] = (entry[0], entry[1], min(entry[2], at), max(entry[3], at))

    for e in record.entries:
        note(e.author_id, e.author_name, _DID.get(e.kind, "charted"), e.observed_at)
        if e.kind is EntryKind.ADMINISTRATION and e.payload.get("ordered_by") is not None:
            note(int(e.payload["ordered_by"]), str(e.payload.get("ordered_by_name", "")), "ordered a dose",
                 e.observed_at)
    out = []
    for key, (name, did, first, last) in sorted(seen.items(), key=lambda kv: kv[1][2]):
        member = known.get(key) if isinstance(key, int) else None
        out.append(d.StaffPresence(member.name if member else name, member.roles_label if member else "",
                                   tuple(did), clock(first), clock(last)))
    # Staff assigned to the session who made no entry are present too.
    charted = set(seen)
    out += [d.StaffPresence(m.name, m.roles_label, (), clock(record.info.started_at or record.info.scheduled_at),
                            clock(record.info.started_at or record.info.scheduled_at))
            for m in record.info.staff if m.id not in charted]
    return tuple(out)


def closing_note(record: SessionRecord, clock: Clock) -> d.ClosingNote | None:
    c = record.closing_note
    if c is None:
        return None
    note = c.content
    assert isinstance(note, ClosingNote)
    return d.ClosingNote(clock(c.at), c.entry.author_name, note.state, note.words, note.themes, note.suggestions,
                         c.amended)


def outcome_trends(record: SessionRecord, course: Iterable[SessionRecord] = (), tz: tzinfo | None = None
                   ) -> tuple[d.OutcomeTrend, ...]:
    """Each outcome measure across the course's sessions up to and including ``record``, oldest first."""
    sessions = sorted({r.info.id: r for r in (*course, record)}.values(),
                      key=lambda r: (r.info.started_at or r.info.scheduled_at, r.info.id))
    cut = record.info.started_at or record.info.scheduled_at
    sessions = [r for r in sessions if (r.info.started_at or r.info.scheduled_at) <= cut or r.info.id == record.info.id]
    here = record.outcome_scores
    out = []
    for instrument in Instrument:
        totals = tuple((session_date(r, tz), r.outcome_scores[instrument.value].total) for r in sessions
                       if instrument.value in r.outcome_scores)
        if not totals:
            continue
        mine = here.get(instrument.value)
        flag = ""
        if mine is not None and mine.needs_risk_assessment:
            flag = f"item 9 answered {mine.self_harm_answer} (thoughts of self-harm)"
        out.append(d.OutcomeTrend(instrument.label, totals, instrument.band(totals[-1][1]),
                                  mine.total if mine else None, flag))
    return tuple(out)


def _time_zone(moment: datetime) -> str:
    offset = moment.utcoffset()
    minutes = int(offset.total_seconds() // 60) if offset is not None else 0
    sign = "+" if minutes >= 0 else "−"
    hours, mins = divmod(abs(minutes), 60)
    name = moment.tzname() or ""
    label = f"UTC{sign}{hours:02d}:{mins:02d}"
    return f"{label} ({name})" if name and name not in (label, "UTC") else label


# ----- the whole value ----------------------------------------------------------------------------------------


def session_date(record: SessionRecord, tz: tzinfo | None = None) -> date:
    info = record.info
    return (info.started_at or info.scheduled_at).astimezone(tz).date()


def clock_for(record: SessionRecord, tz: tzinfo | None = None) -> Clock:
    return Clock(record.first_dose_at, session_date(record, tz), tz)


def header(record: SessionRecord, *, clinic_name: str, now: datetime, tz: tzinfo | None = None,
           printed_by: str = "", directory: Mapping[int, StaffMember] | None = None) -> d.Header:
    info = record.info
    client = info.client
    planned = info.planned_drug
    if info.planned_dose is not None:
        planned += f" {info.planned_dose:g} {info.planned_unit}"
    weight, weighed, medications = client.weight_kg, client.weight_on, client.medications
    generated = now.astimezone(tz)
    return d.Header(
        clinic_name=clinic_name, client_name=info.client.name, client_identifier=info.client.identifier,
        date_of_birth=info.client.date_of_birth, course_label=info.course_label, course_title=info.course_title,
        session_date=session_date(record, tz), room=info.room,
        staff=tuple(f"{m.name} ({m.roles_label})" for m in info.staff), route=info.route.label, planned=planned,
        state=info.state.label, end_reason=info.end_reason, generated_at=generated,
        draft=record.signature is None, sex=client.sex, allergies=tuple(a.describe() for a in client.allergy_list),
        allergy_note=client.allergies, conditions=client.screening_notes,
        weight=(f"{weight:g} kg" + (f" ({weighed.isoformat()})" if weighed else "")) if weight else "",
        medications=str(medications), printed_by=printed_by, time_zone=_time_zone(generated),
        staff_present=staff_present(record, clock_for(record, tz), directory))


def report_data(record: SessionRecord, *, clinic_name: str = d.DEFAULT_CLINIC_NAME, now: datetime,
                tz: tzinfo | None = None, printed_by: str = "", directory: Mapping[int, StaffMember] | None = None,
                course: Iterable[SessionRecord] = ()) -> d.ReportData:
    """Everything the integration summary shows for ``record``.

    ``directory`` gives every staff member's roles (for people who charted without being assigned to the
    session); ``course`` holds the other sessions of the client's course, for the outcome-measure trends.
    """
    clock = clock_for(record, tz)
    rows = vitals_rows(record, clock)
    head = header(record, clinic_name=clinic_name, now=now, tz=tz, printed_by=printed_by, directory=directory)
    late = sum(1 for e in record.entries if e.kind is EntryKind.AMENDMENT and record.after_signoff(e))
    return d.ReportData(
        header=head, intention=record.intention, integration=integration_items(record, clock),
        summary=summarize(record, clock), checklist=checklist_rows(record, clock), override=override(record, clock),
        doses=dose_rows(record, clock), chart=chart_data.chart(record), vitals=rows, scales=scale_rows(record, clock),
        side_effects=side_effect_rows(record, clock), timeline=timeline(record, clock),
        assessments=assessments(record, clock), signature=signature(record, clock, directory),
        amendments_after_signoff=late,
        subject=f"KAP session {head.session_date.isoformat()}, {head.course_label}, client {head.client_identifier}",
        medications=medication_rows(record, clock),
        closing_note=closing_note(record, clock), outcomes=outcome_trends(record, course, tz),
        safety_flags=tuple(record.safety_flags),
    )


def course_line(record: SessionRecord, tz: tzinfo | None = None) -> d.CourseSessionLine:
    info = record.info
    clock = clock_for(record, tz)
    outcomes = tuple((s.instrument.label, s.total, s.band) for s in record.outcome_scores.values())
    return d.CourseSessionLine(info.id, info.scheduled_at.astimezone(tz), info.course_title, info.course_label,
                               info.state.label, summarize(record, clock), integration_items(record, clock), outcomes)
