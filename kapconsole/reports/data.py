"""The report-data value: everything the integration summary shows, as plain frozen values.

The service builds it from a session record (see :mod:`kapconsole.reports.assemble`); the renderer only lays
it out. Times are already in the workstation's local time zone and carry the minutes since the first dose,
so layout code never does clock arithmetic.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

DEFAULT_CLINIC_NAME = "KAP Console clinic"
CONFIDENTIALITY = (
    "Confidential: contains protected health information. Share only with the client's care team; "
    "do not copy or forward."
)


@dataclass(frozen=True)
class Moment:
    """A clinical time in local time, with the minutes since the first dose (``None`` before any dose)."""

    at: datetime
    since_dose: int | None = None
    other_day: bool = False  # not on the session's date: show the date too

    @property
    def clock(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M}" if self.other_day else f"{self.at:%H:%M}"

    @property
    def offset(self) -> str:
        """``+40 min`` / ``−5 min``; empty when there is no dose to count from."""
        if self.since_dose is None:
            return ""
        sign = "−" if self.since_dose < 0 else "+"
        return f"{sign}{abs(self.since_dose)} min"

    @property
    def label(self) -> str:
        """``10:42 (+40 min)``."""
        return f"{self.clock} ({self.offset})" if self.offset else self.clock


@dataclass(frozen=True)
class Amendment:
    """A correction shown beside the entry it corrects."""

    moment: Moment
    author: str
    reason: str
    change: str  # what it changed the entry to; empty when that is what the row above shows
    after_signoff: bool
    retracts: bool = False  # marked the entry as entered in error


@dataclass(frozen=True)
class Corrections:
    """The amendment history of one entry: what it originally said, and each amendment in order."""

    original: str = ""
    amendments: tuple[Amendment, ...] = ()

    @property
    def amended(self) -> bool:
        return bool(self.amendments)

    @property
    def retracted(self) -> bool:
        return bool(self.amendments) and self.amendments[-1].retracts


NO_CORRECTIONS = Corrections()


@dataclass(frozen=True)
class Value:
    """One measured or scored value and when."""

    value: float
    moment: Moment

    @property
    def text(self) -> str:
        return f"{self.value:g}"


@dataclass(frozen=True)
class BloodPressure:
    sbp: float
    dbp: float
    moment: Moment

    @property
    def text(self) -> str:
        return f"{self.sbp:g}/{self.dbp:g} mmHg"


# ----- header and first page ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class StaffPresence:
    """Someone who charted, ordered, assessed or signed in this session, and when."""

    name: str
    roles: str  # "Medical supervisor, Medical staff"; empty when unknown
    did: tuple[str, ...]  # "charted", "ordered a dose", "assessed discharge", "signed" …
    first: Moment
    last: Moment


@dataclass(frozen=True)
class Header:
    clinic_name: str
    client_name: str
    client_identifier: str
    date_of_birth: date | None
    course_label: str  # "session 1 of 6"
    course_title: str
    session_date: date
    room: str
    staff: tuple[str, ...]  # "Name (roles)"
    route: str
    planned: str  # "Ketamine 200 mg"
    state: str
    end_reason: str
    generated_at: datetime
    draft: bool
    sex: str = ""
    allergies: tuple[str, ...] = ()  # structured allergies, described ("Penicillin — rash — moderate")
    allergy_note: str = ""  # the free-text allergy note beside them
    conditions: str = ""  # screening notes
    weight: str = ""  # "72 kg (2026-01-01)" when the record has one
    medications: str = ""  # current medications when the record has them
    printed_by: str = ""
    time_zone: str = ""  # "UTC+01:00 (CET)": every time in the document is in this zone
    staff_present: tuple[StaffPresence, ...] = ()


@dataclass(frozen=True)
class IntegrationItem:
    moment: Moment
    text: str
    category: str
    author: str
    amended: bool


@dataclass(frozen=True)
class Dose:
    moment: Moment
    drug: str
    route: str
    dose: str  # "200 mg"
    lot: str
    device_lot: str
    ordered_by: str
    given_by: str
    infusion_end: Moment | None
    corrections: Corrections = NO_CORRECTIONS

    @property
    def summary(self) -> str:
        return f"{self.drug} {self.dose} {self.route.lower()}"


@dataclass(frozen=True)
class SideEffect:
    moment: Moment
    effect: str
    severity: str
    description: str
    intervention: str
    resolved: Moment | None
    resolved_by: str
    resolution_note: str
    corrections: Corrections = NO_CORRECTIONS
    #: Still open when the session closed: accepted by the person who signed the discharge (or ended it).
    open_at_close: bool = False
    accepted_by: str = ""
    related: str = ""  # readings that go with it: "lowest SpO2 89%, RR 8/min while open"
    ended_early: bool = False  # the session was ended early, not discharged

    @property
    def status(self) -> str:
        if self.resolved:
            return f"resolved {self.resolved.label}"
        if self.open_at_close and self.ended_early:
            return "still open when the session was ended early" + (
                f" by {self.accepted_by}" if self.accepted_by else "")
        if self.open_at_close:
            return "still open at discharge" + (f", accepted by {self.accepted_by}" if self.accepted_by else "")
        return "not resolved yet"

    @property
    def summary(self) -> str:
        related = f"; {self.related}" if self.related else ""
        return f"{self.effect} ({self.severity}) at {self.moment.label}{related}, {self.status}"


@dataclass(frozen=True)
class Monitoring:
    """From the first dose to discharge (or to the latest entry while the session is still open)."""

    start: Moment
    end: Moment
    minutes: int
    ongoing: bool

    @property
    def duration(self) -> str:
        hours, minutes = divmod(self.minutes, 60)
        return f"{hours} h {minutes:02d} min" if hours else f"{minutes} min"


@dataclass(frozen=True)
class ScaleCourse:
    """Sedation or dissociation over the session: whether it occurred, its worst score and when it resolved."""

    name: str  # "Sedation (MOAA/S)"
    occurred: bool
    worst: str  # "MOAA/S 3"
    worst_at: Moment | None
    resolved_at: Moment | None  # the first score at the resolved level after the worst one
    latest: str  # "MOAA/S 5"
    scored: bool = True

    @property
    def text(self) -> str:
        if not self.scored:
            return "not scored"
        if not self.occurred:
            return f"none (worst {self.worst}" + (f" at {self.worst_at.label})" if self.worst_at else ")")
        when = f" at {self.worst_at.label}" if self.worst_at else ""
        resolved = (f"resolved {self.resolved_at.label}" if self.resolved_at
                    else f"not resolved (latest {self.latest})")
        return f"worst {self.worst}{when}; {resolved}"


@dataclass(frozen=True)
class VitalsLine:
    """Page 1's vitals line: the baseline, ≈40 min and discharge readings, and the alerts."""

    baseline: str
    forty: str  # "152/90 mmHg, HR 85 at 10:40 (+40 min)" or "no reading at 40 min"
    discharge: str
    alerts: int
    acknowledged: int


@dataclass(frozen=True)
class ClinicalSummary:
    doses: tuple[Dose, ...]
    peak_bp: BloodPressure | None
    peak_hr: Value | None
    lowest_spo2: Value | None
    dissociation_peak: Value | None
    side_effects: tuple[SideEffect, ...]
    monitoring: Monitoring | None
    discharged_at: Moment | None
    signed_by: str
    #: Adverse events and transfers: the first thing page 1 says.
    events: tuple[str, ...] = ()
    sedation: ScaleCourse | None = None
    dissociation: ScaleCourse | None = None
    vitals: VitalsLine | None = None
    rescue: tuple[str, ...] = ()  # rescue medications and interventions, with their time
    lowest_rr: Value | None = None


@dataclass(frozen=True)
class ClosingNote:
    """The therapist's note at the end of the session."""

    moment: Moment
    author: str
    state: str
    words: str
    themes: str
    suggestions: str
    amended: bool = False


@dataclass(frozen=True)
class OutcomeTrend:
    """One outcome measure across the course, up to this session."""

    instrument: str  # "PHQ-9"
    totals: tuple[tuple[date, int], ...]  # (session date, total), oldest first
    band: str  # of the latest total
    here: int | None  # this session's total; None when not recorded at this session
    flag: str = ""  # e.g. the PHQ-9 item-9 flag of this session

    @property
    def text(self) -> str:
        values = [t for _d, t in self.totals]
        if len(values) == 1:
            return f"{self.instrument} {values[0]} ({self.band}), first measurement"
        return (f"{self.instrument} {values[0]} → {values[-1]} over {len(values)} sessions "
                f"(now {self.band})")


# ----- the full record ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ChecklistRow:
    group: str
    label: str
    required: bool
    answer: str  # "confirmed", "yes", "no", "not applicable", "not confirmed"
    note: str
    by: str
    moment: Moment | None
    corrections: Corrections = NO_CORRECTIONS


@dataclass(frozen=True)
class Override:
    moment: Moment
    by: str
    reason: str
    missing: tuple[str, ...]


@dataclass(frozen=True)
class VitalsRow:
    moment: Moment
    values: dict[str, float]  # measure key → value, only the measures taken
    alerts: frozenset[str]  # measures beyond an alert line
    alert_messages: tuple[str, ...]
    acknowledged: str  # "acknowledged by … at …" or empty
    marks: tuple[str, ...]  # "baseline", "≈40 min", "peak SBP", "lowest SpO2", "discharge", …
    by: str
    source: str
    corrections: Corrections = NO_CORRECTIONS

    @property
    def key(self) -> bool:
        """Shown in the key-readings table: marked, alerting or amended."""
        return bool(self.marks or self.alerts or self.corrections.amended)

    @property
    def bp(self) -> str:
        if "sbp" in self.values and "dbp" in self.values:
            return f"{self.values['sbp']:g}/{self.values['dbp']:g}"
        return ""

    def text(self, key: str) -> str:
        return f"{self.values[key]:g}" if key in self.values else ""


@dataclass(frozen=True)
class ChartSeries:
    key: str
    label: str
    points: tuple[tuple[float, float], ...]  # (minutes since first dose, value)


@dataclass(frozen=True)
class Threshold:
    label: str
    value: float
    measure: str = ""  # the measure the line belongs to (its colour), "" for none


@dataclass(frozen=True)
class ChartPanel:
    title: str
    y_min: float
    y_max: float
    y_step: float
    series: tuple[ChartSeries, ...]
    thresholds: tuple[Threshold, ...]


@dataclass(frozen=True)
class DoseMark:
    minute: float
    label: str
    until: float | None = None  # an infusion's end


@dataclass(frozen=True)
class ChartEvent:
    """A mark on the chart's event row: "dose", "rescue", "side effect", "scale" or "discharge"."""

    minute: float
    kind: str
    label: str  # short: "D1", "Rx", "SE", "S", "DC"


@dataclass(frozen=True)
class Chart:
    x_min: float
    x_max: float
    x_ticks: tuple[float, ...]
    panels: tuple[ChartPanel, ...]
    doses: tuple[DoseMark, ...]
    x_label: str = "minutes since first dose"
    events: tuple[ChartEvent, ...] = ()


@dataclass(frozen=True)
class ScaleRow:
    moment: Moment
    scale: str
    score: str
    instrument: str
    by: str
    corrections: Corrections = NO_CORRECTIONS


@dataclass(frozen=True)
class TimelineItem:
    moment: Moment
    kind: str  # "observation" or "event"
    category: str
    author: str
    text: str
    for_integration: bool
    corrections: Corrections = NO_CORRECTIONS


@dataclass(frozen=True)
class Criterion:
    label: str
    passed: bool
    detail: str
    source: str


@dataclass(frozen=True)
class Score:
    name: str  # "Modified Aldrete"
    total: int
    parts: tuple[tuple[str, int], ...]


@dataclass(frozen=True)
class Assessment:
    moment: Moment
    by: str
    ready: bool
    criteria: tuple[Criterion, ...]
    scores: tuple[Score, ...]


@dataclass(frozen=True)
class Signature:
    name: str
    moment: Moment
    meaning: str
    record_hash: str
    entries_signed: int
    credentials: str = ""  # the signer's roles, as the staff directory holds them


@dataclass(frozen=True)
class ReportData:
    """Everything the integration summary PDF shows."""

    header: Header
    intention: str
    integration: tuple[IntegrationItem, ...]
    summary: ClinicalSummary
    checklist: tuple[ChecklistRow, ...]
    override: Override | None
    doses: tuple[Dose, ...]
    chart: Chart | None
    vitals: tuple[VitalsRow, ...]
    scales: tuple[ScaleRow, ...]
    side_effects: tuple[SideEffect, ...]
    timeline: tuple[TimelineItem, ...]
    assessments: tuple[Assessment, ...]
    signature: Signature | None
    amendments_after_signoff: int = 0
    title: str = "Integration summary"
    subject: str = field(default="")
    closing_note: ClosingNote | None = None
    outcomes: tuple[OutcomeTrend, ...] = ()
    safety_flags: tuple[str, ...] = ()
    #: What verification found wrong with the record ("" when it verified): printed as a banner on every page,
    #: and the signature block is left out.
    integrity_failure: str = ""
    #: The signed chain head, as one line of text (also in the PDF's keywords): checked by ``verify --against``.
    anchor: str = ""
    #: The fingerprint of the clinic root key the signatures lead back to.
    root_fingerprint: str = ""
    #: Rescue and adjunct medications given (the medication record).
    medications: tuple[MedicationRow, ...] = ()

    @property
    def draft(self) -> bool:
        return self.header.draft


@dataclass(frozen=True)
class MedicationRow:
    """A rescue or adjunct medication in the summary's medication record."""

    moment: Moment
    medication: str  # "Ondansetron 4 mg ODT"
    reason: str  # why, the side effect it treated, and any written reason to proceed
    ordered_by: str
    given_by: str
    corrections: Corrections = NO_CORRECTIONS


@dataclass(frozen=True)
class CourseSessionLine:
    """One session of a client's course, for the therapist's course overview."""

    session_id: int
    scheduled_at: datetime
    course_title: str
    course_label: str
    state: str
    summary: ClinicalSummary
    integration: tuple[IntegrationItem, ...]
    outcomes: tuple[tuple[str, int, str], ...] = ()  # (instrument, total, band) recorded at this session

    @property
    def dose_text(self) -> str:
        return "; ".join(d.summary for d in self.summary.doses) or "no dose"
