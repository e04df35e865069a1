"""From a session record to the report-data value: every number and mark the summary shows, worked out once.

Pure functions over domain values: no database, no layout. The renderer receives the result and only lays
it out.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from datetime import date, datetime, tzinfo
from typing import Any

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
from kapconsole.domain.protocol import MEASURES
from kapconsole.domain.record import Current, SessionRecord, parse_ts
from kapconsole.domain.values import Entry
from kapconsole.reports import chart_data
from kapconsole.reports import data as d

FORTY_MINUTES = 40  # Spravato REMS: BP at about 40 min after dosing, when the rise peaks.
FORTY_WINDOW = 15  # a reading within this many minutes of +40 counts as "the ~40 min reading"


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


def side_effect_rows(record: SessionRecord, clock: Clock) -> tuple[d.SideEffect, ...]:
    resolutions: dict[int, list[Entry]] = {}
    for e in _of_kind(record, EntryKind.SIDE_EFFECT_RESOLVED):
        resolutions.setdefault(int(e.payload["side_effect"]), []).append(e)
    rows = []
    for e in _of_kind(record, EntryKind.SIDE_EFFECT):
        p = _effective(record, e)
        res = record.resolutions.get(e.id)
        rows.append(d.SideEffect(
            clock(e.observed_at), SideEffectKind(p["effect"]).label, Severity(p["severity"]).value,
            p.get("description", ""), p.get("intervention", ""), clock(res.at) if res else None,
            res.entry.author_name if res else "", str(res.payload.get("note", "")) if res else "",
            corrections(record, [e, *resolutions.get(e.id, [])], clock)))
    return tuple(rows)


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
    return d.ClinicalSummary(
        doses=tuple(r for r in dose_rows(record, clock) if not r.corrections.retracted),
        peak_bp=d.BloodPressure(peak.payload["sbp"], peak.payload["dbp"], clock(peak.at)) if peak else None,
        peak_hr=d.Value(hr.payload["hr"], clock(hr.at)) if hr else None,
        lowest_spo2=d.Value(spo2.payload["spo2"], clock(spo2.at)) if spo2 else None,
        dissociation_peak=d.Value(diss_peak.payload["score"], clock(diss_peak.at)) if diss_peak else None,
        side_effects=tuple(r for r in side_effect_rows(record, clock) if not r.corrections.retracted),
        monitoring=monitoring,
        discharged_at=clock(sig.observed_at) if sig else None,
        signed_by=str(sig.payload.get("signer_name", sig.author_name)) if sig else "",
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
    if first is not None and after:
        near = min(after, key=lambda c: abs((c.at - first).total_seconds() / 60 - FORTY_MINUTES))
        if abs((near.at - first).total_seconds() / 60 - FORTY_MINUTES) <= FORTY_WINDOW:
            mark(near, "≈40 min")
    for key, pick, label in (("sbp", max, "peak SBP"), ("dbp", max, "peak DBP"), ("hr", max, "peak HR"),
                             ("spo2", min, "lowest SpO2"), ("rr", min, "lowest RR")):
        values = {c.payload[key] for c in after if key in c.payload}
        if len(values) > 1:  # a measure that never changed has no peak worth marking
            mark(_extreme(after, key, pick), label)
    assessments = record.discharge_assessments
    if assessments:
        cut = assessments[-1].at
        seen = [c for c in vitals if c.at <= cut]
        mark(seen[-1] if seen else None, "discharge")
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
        acks.setdefault(vid, []).append(f"acknowledged by {c.entry.author_name} at {clock(c.at).clock}")
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


def signature(record: SessionRecord, clock: Clock) -> d.Signature | None:
    sig = record.signature
    if sig is None:
        return None
    p = sig.payload
    return d.Signature(str(p.get("signer_name", sig.author_name)), clock(sig.observed_at), str(p.get("meaning", "")),
                       str(p.get("signed_hash", "")), int(p.get("signed_seq", 0)))


# ----- the whole value ----------------------------------------------------------------------------------------


def session_date(record: SessionRecord, tz: tzinfo | None = None) -> date:
    info = record.info
    return (info.started_at or info.scheduled_at).astimezone(tz).date()


def clock_for(record: SessionRecord, tz: tzinfo | None = None) -> Clock:
    return Clock(record.first_dose_at, session_date(record, tz), tz)


def header(record: SessionRecord, *, clinic_name: str, now: datetime, tz: tzinfo | None = None) -> d.Header:
    info = record.info
    planned = info.planned_drug
    if info.planned_dose is not None:
        planned += f" {info.planned_dose:g} {info.planned_unit}"
    return d.Header(
        clinic_name=clinic_name, client_name=info.client.name, client_identifier=info.client.identifier,
        date_of_birth=info.client.date_of_birth, course_label=info.course_label, course_title=info.course_title,
        session_date=session_date(record, tz), room=info.room,
        staff=tuple(f"{m.name} ({m.roles_label})" for m in info.staff), route=info.route.label, planned=planned,
        state=info.state.label, end_reason=info.end_reason, generated_at=now.astimezone(tz),
        draft=record.signature is None)


def report_data(record: SessionRecord, *, clinic_name: str = d.DEFAULT_CLINIC_NAME, now: datetime,
                tz: tzinfo | None = None) -> d.ReportData:
    """Everything the integration summary shows for ``record``."""
    clock = clock_for(record, tz)
    rows = vitals_rows(record, clock)
    head = header(record, clinic_name=clinic_name, now=now, tz=tz)
    late = sum(1 for e in record.entries if e.kind is EntryKind.AMENDMENT and record.after_signoff(e))
    return d.ReportData(
        header=head, intention=record.intention, integration=integration_items(record, clock),
        summary=summarize(record, clock), checklist=checklist_rows(record, clock), override=override(record, clock),
        doses=dose_rows(record, clock), chart=chart_data.chart(record), vitals=rows, scales=scale_rows(record, clock),
        side_effects=side_effect_rows(record, clock), timeline=timeline(record, clock),
        assessments=assessments(record, clock), signature=signature(record, clock), amendments_after_signoff=late,
        subject=f"KAP session {head.session_date.isoformat()}, {head.course_label}, client {head.client_identifier}",
    )


def course_line(record: SessionRecord, tz: tzinfo | None = None) -> d.CourseSessionLine:
    info = record.info
    clock = clock_for(record, tz)
    return d.CourseSessionLine(info.id, info.scheduled_at.astimezone(tz), info.course_title, info.course_label,
                               info.state.label, summarize(record, clock), integration_items(record, clock))
