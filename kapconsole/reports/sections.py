"""The summary's sections as lists of flowables. Layout only: every value comes ready from the report data."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from reportlab.platypus import (
    CondPageBreak,
    Flowable,
    KeepTogether,
    NextPageTemplate,
    PageBreak,
    Paragraph,
    Spacer,
    Table,
    TableStyle,
)

from kapconsole.reports import styles as st
from kapconsole.reports.data import Amendment, Corrections, Moment, ReportData, VitalsRow
from kapconsole.reports.flowables import Bookmark, PageRef, VitalsChart, value_grid
from kapconsole.reports.styles import Styles as S
from kapconsole.reports.styles import markup as u

W = st.FRAME_WIDTH
COMPACT_FROM = 41  # more readings than this: key readings here, every reading in a compact appendix
_ALERT = st.ALERT.hexval()[2:]
_MUTED = st.MUTED.hexval()[2:]
_AMEND = st.AMEND.hexval()[2:]
_ACCENT = st.ACCENT.hexval()[2:]
_GOOD = st.GOOD.hexval()[2:]


def _p(text: str, style: object = S.cell) -> Paragraph:
    return st.para(text, style)  # type: ignore[arg-type]


def _muted(text: str) -> str:
    return f'<font color="#{_MUTED}">{text}</font>'


def _when(m: Moment | None) -> str:
    return u(m.label) if m else ""


def amendment_text(a: Amendment) -> str:
    late = f' <font color="#{_ALERT}"><b>after sign-off</b></font>' if a.after_signoff else ""
    change = f" — {u(a.change)}" if a.change else ""
    return f"<b>Amended</b> {u(a.moment.label)} by {u(a.author)}{late}. Reason: {u(a.reason)}{change}"


def correction_lines(c: Corrections) -> list[str]:
    lines = [f"<b>Originally recorded:</b> {u(c.original)}"] if c.original else []
    return lines + [amendment_text(a) for a in c.amendments]


def _struck(text: str, c: Corrections) -> str:
    if c.retracted:
        return f'<strike>{text}</strike> <font color="#{_ALERT}">(entered in error)</font>'
    return text + (f' <font color="#{_AMEND}">(amended)</font>' if c.amended else "")


def _table(rows: list[list[object]], widths: Sequence[float], extra: list[tuple[object, ...]] | None = None,
           *, compact: bool = False) -> Table:
    """A table with one heading row (repeated at page tops); a tall row may split across pages."""
    table = Table(rows, colWidths=list(widths), repeatRows=1, splitInRow=1, hAlign="LEFT")
    table.setStyle(TableStyle(st.table_commands(compact=compact) + (extra or [])))
    return table


BODY_HEIGHT = st.PAGE[1] - st.MARGIN_TOP - st.MARGIN_BOTTOM


def _shift(commands: list[tuple[Any, ...]], by: int) -> list[tuple[Any, ...]]:
    """Table style commands with their row indices moved by ``by`` (those that fall before row 0 dropped)."""
    out: list[tuple[Any, ...]] = []
    for name, (c0, r0), (c1, r1), *rest in commands:
        n0 = r0 + by if r0 >= 0 else r0
        n1 = r1 + by if r1 >= 0 else r1
        if (r0 >= 0 > n0) or (r1 >= 0 > n1):
            continue
        out.append((name, (c0, n0), (c1, n1), *rest))
    return out


class RowsAfterNote(Flowable):
    """The rest of a table after an amendment note: its column headings only where it starts a page.

    Right under a note, half-way down a page, the rows simply go on; when they run onto (or start) a new page,
    the headings come first there, as a table's headings repeat at page tops.
    """

    def __init__(self, head: list[object], rows: list[list[object]], widths: Sequence[float],
                 extra: list[tuple[object, ...]]) -> None:
        super().__init__()
        self.head, self.rows, self.widths, self.extra = head, rows, list(widths), extra
        self._table: Table | None = None

    def _make(self, with_head: bool, split_in_row: int = 1) -> Table:
        if with_head:
            return _table([self.head, *self.rows], self.widths, _shift(self.extra, 1))
        table = Table(self.rows, colWidths=self.widths, splitInRow=split_in_row, hAlign="LEFT")
        commands = [c for c in st.table_commands() if not (c[0] == "LINEBELOW" and c[1] == (0, 0))]
        table.setStyle(TableStyle([*commands, ("LINEABOVE", (0, 0), (-1, 0), 0.25, st.RULE), *self.extra]))
        return table

    @staticmethod
    def _at_top(available_height: float) -> bool:
        return available_height >= BODY_HEIGHT - 1

    def wrap(self, available_width: float, available_height: float) -> tuple[float, float]:
        self._table = self._make(self._at_top(available_height))
        width, height = self._table.wrap(available_width, available_height)
        self.width, self.height = width, height
        return width, height

    def split(self, available_width: float, available_height: float) -> list[Flowable]:
        if self._at_top(available_height):
            return self._make(True).split(available_width, available_height)
        # Split between rows, so that the rest starts with its headings on the next page (a row that does not
        # fit moves there whole; at a page top a row taller than the page may still split inside).
        table = self._make(False, split_in_row=0)
        table.wrap(available_width, available_height)
        parts = table.split(available_width, available_height)
        if len(parts) != 2:
            return parts
        done = len(parts[0]._cellvalues)  # type: ignore[attr-defined]
        if done + len(parts[1]._cellvalues) != len(self.rows):  # type: ignore[attr-defined]
            return parts  # a tall row was split inside: keep ReportLab's parts
        return [parts[0], RowsAfterNote(self.head, self.rows[done:], self.widths, _shift(self.extra, -done))]

    def draw(self) -> None:
        assert self._table is not None
        self._table.drawOn(self.canv, 0, 0)


class RowsWithNotes:
    """A table whose amended rows are followed, right underneath, by their amendment notes.

    A note may be long (a reason is up to 2,000 characters), so it is a paragraph between two parts of the table
    rather than a spanning row: a paragraph splits cleanly across pages, a spanning table cell does not. Each
    part starts with (and repeats at page tops) the column headings.
    """

    def __init__(self, head: Sequence[str], widths: Sequence[float]) -> None:
        self.widths = list(widths)
        self.head = list(head)
        self.out: list[Flowable] = []
        self._start()

    def _start(self) -> None:
        self.rows: list[list[object]] = [[_p(t, S.cell_head) for t in self.head]]
        self.extra: list[tuple[object, ...]] = []
        self.parts = getattr(self, "parts", 0)

    def group(self, text: str) -> None:
        self.rows.append([_p(text, S.cell)] + [""] * (len(self.widths) - 1))
        at = len(self.rows) - 1
        self.extra += [("SPAN", (0, at), (-1, at)), ("BACKGROUND", (0, at), (-1, at), st.FILL)]

    def add(self, cells: Sequence[str], corrections: Corrections, *, fill: object = None) -> None:
        self.rows.append([_p(c) for c in cells])
        if fill is not None:
            self.extra.append(("BACKGROUND", (0, len(self.rows) - 1), (-1, len(self.rows) - 1), fill))
        lines = correction_lines(corrections)
        if lines:
            self._close()
            self.out += [_p(line, S.cell_note) for line in lines]

    def _close(self) -> None:
        if len(self.rows) > 1:
            if self.parts == 0:
                self.out.append(_table(self.rows, self.widths, self.extra))
            else:  # after an amendment note: no headings half-way down a page
                self.out.append(RowsAfterNote(self.rows[0], self.rows[1:], self.widths, _shift(self.extra, -1)))
            self.parts += 1
        self._start()

    def flowables(self) -> list[Flowable]:
        self._close()
        return self.out


# ----- first page ---------------------------------------------------------------------------------------------
#: Page 1 lists at most this many flagged items and side effects; the rest are counted with a page reference.
FIRST_PAGE_ITEMS = 6
FIRST_PAGE_EFFECTS = 4
TIMELINE_ANCHOR = "timeline"
SIDE_EFFECTS_ANCHOR = "side-effects"


def _red(text: str) -> str:
    return f'<font color="#{_ALERT}"><b>{text}</b></font>'


def client_block(data: ReportData) -> list[Flowable]:
    """Who: identity, the session, and the facts a clinician checks before reading on."""
    h = data.header
    pairs = [
        ("Client", u(h.client_name)),
        ("Identifier", u(h.client_identifier)),
        ("Date of birth", h.date_of_birth.isoformat() if h.date_of_birth else "not recorded"),
        ("Sex", u(h.sex) if h.sex else "not recorded"),
        ("Session", u(h.course_label)),
        ("Date", h.session_date.isoformat()),
        ("Room", u(h.room)),
        ("Route", u(h.route)),
        ("Planned", u(h.planned)),
        ("Weight", u(h.weight) if h.weight else _muted("not recorded")),
    ]
    out: list[Flowable] = [value_grid(pairs, W, columns=5)]
    allergies = [u(a) for a in h.allergies]
    if h.allergy_note:
        allergies.append(u(h.allergy_note))
    lines = [f"{_muted('Allergies:')} " + (_red("; ".join(allergies)) if allergies else "none recorded")]
    if h.medications:
        lines.append(f"{_muted('Current medications:')} {u(h.medications)}")
    lines.append(f"{_muted('Conditions / screening:')} " + (u(h.conditions) if h.conditions else "none recorded"))
    out += [_p(line, S.body) for line in lines]
    out.append(_p(f"{_muted('Staff present:')} {staff_text(data)}", S.body))
    return out


def staff_text(data: ReportData) -> str:
    h = data.header
    if not h.staff_present:
        return u("; ".join(h.staff)) or "not recorded"
    parts = []
    for m in h.staff_present:
        roles = f" ({u(m.roles)})" if m.roles else ""
        span = (f" {u(m.first.clock)}–{u(m.last.clock)}" if m.first.at != m.last.at else f" {u(m.first.clock)}")
        parts.append(f"<b>{u(m.name)}</b>{roles}{span}")
    return "; ".join(parts)


def first_page(data: ReportData) -> list[Flowable]:
    h = data.header
    out: list[Flowable] = [
        Bookmark("Summary", "summary"),
        _p(u(h.client_name), S.title),
        _p(f"{u(data.title)} · {u(h.course_label)}" + (f" · {u(h.course_title)}" if h.course_title else ""),
           S.subtitle),
        _p(_muted(f"All times in this document are local time, {u(h.time_zone)}; “+min” counts from the first "
                  "dose."), S.zone),
    ]
    if h.draft:
        out.append(_p(f"DRAFT — not signed ({u(h.state)}); this summary may still change.", S.banner))
    out += [_p(u(flag), S.banner) for flag in data.safety_flags]
    out += client_block(data)
    out.append(Spacer(1, 2))
    out.append(_p("Intention", S.h1))
    out.append(_p(u(data.intention), S.callout) if data.intention else _p(_muted("No intention recorded."), S.body))
    out.append(_p("For integration", S.h1))
    if not data.integration:
        out.append(_p(_muted("Nothing was flagged for integration."), S.body))
    for n, item in enumerate(data.integration[:FIRST_PAGE_ITEMS], start=1):
        tag = f' <font color="#{_AMEND}">(amended)</font>' if item.amended else ""
        out.append(st.para(f"<b>{u(item.moment.label)}</b> {_muted(u(item.category))}{tag} {u(item.text)}",
                           S.item, bulletText=f"{n}."))
    more = len(data.integration) - FIRST_PAGE_ITEMS
    if more > 0:
        out.append(PageRef(f"… and {more} more flagged item{'s' if more != 1 else ''} (★), see the observation "
                           "timeline on page {page}.", TIMELINE_ANCHOR, S.item))
    out += closing(data)
    out.append(_p("Clinical summary", S.h1))
    out += [st.para(line, S.item, bulletText="•") for line in summary_lines(data)]
    if len(data.summary.side_effects) > FIRST_PAGE_EFFECTS:
        n = len(data.summary.side_effects) - FIRST_PAGE_EFFECTS
        out.append(PageRef(f"… and {n} more side effect{'s' if n != 1 else ''}, see page {{page}}.",
                           SIDE_EFFECTS_ANCHOR, S.item))
    return out


def closing(data: ReportData) -> list[Flowable]:
    """The therapist's closing note: the client's state and words at departure, themes, suggestions."""
    note = data.closing_note
    if note is None:
        return []
    tag = f' <font color="#{_AMEND}">(amended)</font>' if note.amended else ""
    out: list[Flowable] = [_p(f"Therapist's closing note{tag}", S.h1)]
    parts = [("At departure", note.state), ("In the client's words", note.words), ("Themes", note.themes),
             ("For integration", note.suggestions)]
    text = "<br/>".join(f"<b>{label}:</b> {u(value)}" for label, value in parts if value)
    out.append(_p(f"{text}<br/>{_muted(u(note.author) + ', ' + u(note.moment.label))}", S.body))
    return out


def summary_lines(data: ReportData) -> list[str]:
    s, h = data.summary, data.header
    events = "; ".join(u(e) for e in s.events)
    lines = ["<b>Adverse events / transfers:</b> " + (_red(events) if events else "none recorded")]
    doses = "; ".join(f"{u(d.summary)} at {_when(d.moment)}" for d in s.doses) or "none recorded"
    lines.append(f"<b>Doses:</b> {doses}")
    if s.vitals:
        v = s.vitals
        alerts = "no alerts" if not v.alerts else (
            f"{v.alerts} alert{'s' if v.alerts != 1 else ''} ({v.acknowledged} acknowledged, "
            + (_red(f"{v.alerts - v.acknowledged} not") if v.alerts - v.acknowledged else "0 not") + ")")
        lines.append(f"<b>Vitals:</b> baseline {u(v.baseline)} · <b>≈40 min</b> {u(v.forty)} · "
                     f"discharge {u(v.discharge)} · {alerts}")
    else:
        lines.append("<b>Vitals:</b> none recorded")
    peaks = []
    if s.peak_bp:
        peaks.append(f"BP {s.peak_bp.text} at {_when(s.peak_bp.moment)}")
    if s.peak_hr:
        peaks.append(f"HR {s.peak_hr.text} at {_when(s.peak_hr.moment)}")
    if s.lowest_spo2:
        peaks.append(f"lowest SpO2 {s.lowest_spo2.text}% at {_when(s.lowest_spo2.moment)}")
    if s.lowest_rr:
        peaks.append(f"lowest RR {s.lowest_rr.text} at {_when(s.lowest_rr.moment)}")
    lines.append("<b>Peaks:</b> " + ("; ".join(peaks) if peaks else "not measured after the dose"))
    for course in (s.sedation, s.dissociation):
        if course is not None:
            lines.append(f"<b>{u(course.name)}:</b> {u(course.text)}")
    effects = "; ".join(u(e.summary) for e in s.side_effects[:FIRST_PAGE_EFFECTS]) or "none recorded"
    lines.append(f"<b>Side effects:</b> {effects}")
    lines.append("<b>Rescue medications / interventions:</b> " + ("; ".join(u(r) for r in s.rescue) or "none"))
    if s.monitoring:
        m = s.monitoring
        until = "so far" if m.ongoing else f"until {u(m.end.clock)}"
        lines.append(f"<b>Monitoring:</b> {m.duration} (from the first dose at {u(m.start.clock)} {until})")
    else:
        lines.append("<b>Monitoring:</b> no dose recorded")
    if s.discharged_at:
        lines.append(f"<b>Discharge:</b> {_when(s.discharged_at)}, signed by {u(s.signed_by)}")
    else:
        lines.append(f"<b>Discharge:</b> {_red('not signed')} ({u(h.state)})")
    if data.outcomes:
        trends = "; ".join(u(t.text) + (" — " + _red(u(t.flag)) if t.flag else "") for t in data.outcomes)
        lines.append(f"<b>Outcome measures:</b> {trends}")
    else:
        lines.append(f"<b>Outcome measures:</b> {_muted('none recorded in this course')}")
    return lines


def _section(title: str, key: str, room: float = 120) -> list[Flowable]:
    """A section heading over a table: kept off the foot of a page (at least ``room`` points must follow it),
    bookmarked in the outline."""
    return [CondPageBreak(room), Bookmark(title, key, 1), _p(title, S.h1_table)]


# ----- the full record ----------------------------------------------------------------------------------------


def checklist(data: ReportData) -> list[Flowable]:
    out: list[Flowable] = [PageBreak(), Bookmark("Full record", "record"), _p("Full record", S.title),
                           *_section("Pre-session checklist", "checklist")]
    rows = RowsWithNotes(("Item", "Answer", "Confirmed by", "When"), [W * 0.48, W * 0.14, W * 0.22, W * 0.16])
    group = None
    for r in data.checklist:
        if r.group != group:
            group = r.group
            rows.group(f"<b>{u(group)}</b>")
        label = u(r.label) + ("" if r.required else _muted(" (optional)"))
        if r.note:
            label += f"<br/>{_muted('Note: ' + u(r.note))}"
        answer = u(r.answer)
        if r.answer in ("not confirmed", "no"):
            answer = f'<font color="#{_ALERT}"><b>{answer}</b></font>'
        rows.add([_struck(label, r.corrections), answer, u(r.by), _when(r.moment)], r.corrections)
    out += rows.flowables()
    if data.override:
        o = data.override
        missing = "; ".join(u(m) for m in o.missing) or "nothing listed"
        out.append(_p("Supervisor override", S.h2))
        out.append(_p(f"<b>{u(o.by)}</b> overrode the dosing gate at {_when(o.moment)}. "
                      f"<b>Reason:</b> {u(o.reason)}<br/>{_muted('Blocking at the time: ' + missing)}", S.body))
    return out


def administrations(data: ReportData) -> list[Flowable]:
    out: list[Flowable] = [*_section("Administrations", "doses")]
    if not data.doses:
        return out + [_p(_muted("No dose recorded."), S.body)]
    rows = RowsWithNotes(("Time", "Drug", "Route", "Dose", "Lot", "Ordered by", "Given by"),
                         [W * 0.17, W * 0.15, W * 0.16, W * 0.10, W * 0.14, W * 0.14, W * 0.14])
    for d in data.doses:
        when = _when(d.moment) + (f"<br/>{_muted('until ' + u(d.infusion_end.label))}" if d.infusion_end else "")
        lot = u(d.lot) + (f"<br/>{_muted('device ' + u(d.device_lot))}" if d.device_lot else "")
        rows.add([when, _struck(u(d.drug), d.corrections), u(d.route), f"<b>{u(d.dose)}</b>", lot, u(d.ordered_by),
                  u(d.given_by)], d.corrections)
    return out + rows.flowables()


def medication_record(data: ReportData) -> list[Flowable]:
    """Rescue and adjunct medications: what, when, why, ordered and given by whom (left out when none)."""
    if not data.medications:
        return []
    rows = RowsWithNotes(("Time", "Medication", "Why", "Ordered by", "Given by"),
                         [W * 0.17, W * 0.23, W * 0.32, W * 0.14, W * 0.14])
    for m in data.medications:
        rows.add([_when(m.moment), _struck(f"<b>{u(m.medication)}</b>", m.corrections), u(m.reason),
                  u(m.ordered_by), u(m.given_by)], m.corrections)
    return [_p("Medication record", S.h1), *rows.flowables()]


def _vitals_notes(r: VitalsRow) -> str:
    parts = []
    if r.marks:
        parts.append(f'<font color="#{_ACCENT}"><b>{u(", ".join(r.marks))}</b></font>')
    parts += [f'<font color="#{_ALERT}">{u(m)}</font>' for m in r.alert_messages]
    if r.acknowledged:
        parts.append(_muted(u(r.acknowledged)))
    if r.source != "manual":
        parts.append(_muted(f"{u(r.source)} reading"))
    return "<br/>".join(parts)


def _value(r: VitalsRow, key: str) -> str:
    text = r.bp if key == "bp" else r.text(key)
    alert = key in r.alerts or (key == "bp" and bool({"sbp", "dbp"} & r.alerts))
    return f'<font color="#{_ALERT}"><b>{text}</b></font>' if alert and text else text


def vitals(data: ReportData) -> list[Flowable]:
    chart = VitalsChart(data.chart, W) if data.chart is not None else None
    out: list[Flowable] = [*_section("Vital signs", "vitals", chart.height + 40 if chart else 120)]
    if chart is not None:
        out += [chart, Spacer(1, 6)]
    if not data.vitals:
        return out + [_p(_muted("No vital signs recorded."), S.body)]
    compact = len(data.vitals) >= COMPACT_FROM
    shown = [r for r in data.vitals if r.key] if compact else list(data.vitals)
    title = f"Key readings ({len(shown)} of {len(data.vitals)})" if compact else f"All readings ({len(shown)})"
    out += [CondPageBreak(90), _p(title, S.h2_table)]
    if compact:
        out.append(_p(_muted("Baseline, the reading nearest 40 min after the dose, peaks, alerts, amended readings "
                             "and the discharge reading. Every reading is listed in the appendix."), S.small))
    rows = RowsWithNotes(("Time", "BP", "HR", "SpO2", "RR", "Temp", "Marks and alerts", "By"),
                         [W * 0.15, W * 0.09, W * 0.06, W * 0.07, W * 0.06, W * 0.07, W * 0.31, W * 0.19])
    for r in shown:
        cells = [_struck(_when(r.moment), r.corrections)] + [_value(r, k) for k in ("bp", "hr", "spo2", "rr", "temp")]
        rows.add(cells + [_vitals_notes(r), u(r.by)], r.corrections, fill=st.KEY_FILL if r.marks else None)
    out += rows.flowables()
    out.append(_p(_muted("Units: BP mmHg, HR /min, SpO2 %, RR /min, temperature °C. Values in red crossed an alert "
                         "line."), S.small))
    return out


def scales(data: ReportData) -> list[Flowable]:
    out: list[Flowable] = [*_section("Scale scores", "scales")]
    if not data.scales:
        return out + [_p(_muted("No scale scores recorded."), S.body)]
    rows = RowsWithNotes(("Time", "Scale", "Score", "Instrument", "By"),
                         [W * 0.18, W * 0.22, W * 0.10, W * 0.30, W * 0.20])
    for r in data.scales:
        rows.add([_when(r.moment), _struck(u(r.scale), r.corrections), f"<b>{u(r.score)}</b>", u(r.instrument),
                  u(r.by)], r.corrections)
    return out + rows.flowables()


def side_effects(data: ReportData) -> list[Flowable]:
    out: list[Flowable] = [*_section("Side effects", SIDE_EFFECTS_ANCHOR)]
    if not data.side_effects:
        return out + [_p(_muted("No side effects recorded."), S.body)]
    rows = RowsWithNotes(("Onset", "Side effect", "Severity", "Intervention", "Resolved"),
                         [W * 0.16, W * 0.26, W * 0.10, W * 0.24, W * 0.24])
    for e in data.side_effects:
        effect = f"<b>{u(e.effect)}</b>" + (f"<br/>{u(e.description)}" if e.description else "")
        if e.resolved:
            resolved = f"{_when(e.resolved)}<br/>{_muted('by ' + u(e.resolved_by))}"
            resolved += f"<br/>{u(e.resolution_note)}" if e.resolution_note else ""
        else:
            resolved = f'<font color="#{_ALERT}">{u(e.status)}</font>'
        rows.add([_when(e.moment), _struck(effect, e.corrections), u(e.severity), u(e.intervention), resolved],
                 e.corrections)
    return out + rows.flowables()


def timeline(data: ReportData) -> list[Flowable]:
    """Observations flow as paragraphs, not table rows, so a long note can run across pages."""
    out: list[Flowable] = [CondPageBreak(80), Bookmark("Observation timeline", TIMELINE_ANCHOR, 1),
                           _p("Observation timeline", S.h1)]
    if not data.timeline:
        return out + [_p(_muted("Nothing recorded."), S.body)]
    for t in data.timeline:
        if t.kind == "event":
            out.append(_p(_muted(f"<b>{u(t.moment.label)}</b> · {u(t.text)} · {u(t.author)}"), S.small))
            continue
        flag = f' <font color="#{_ACCENT}"><b>★ for integration</b></font>' if t.for_integration else ""
        # One paragraph per observation: its heading line can never be left alone at the foot of a page.
        head = f'<font size="7.5"><b>{u(t.moment.label)}</b> · {_muted(u(t.category) + " · " + u(t.author))}</font>'
        out.append(_p(f"{head}{flag}<br/>{_struck(u(t.text), t.corrections)}", S.timeline))
        out += [_p(line, S.timeline_note) for line in correction_lines(t.corrections)]
    return out


def discharge(data: ReportData) -> list[Flowable]:
    out: list[Flowable] = [*_section("Discharge assessment", "discharge")]
    if not data.assessments:
        return out + [_p(_muted("No discharge assessment recorded."), S.body)]
    for n, a in enumerate(data.assessments):
        verdict = (f'<font color="#{_GOOD}"><b>ready for discharge</b></font>' if a.ready
                   else f'<font color="#{_ALERT}"><b>not ready</b></font>')
        out += [CondPageBreak(90)] if n else []
        out.append(_p(f"Assessment at {_when(a.moment)} by {u(a.by)}: {verdict}", S.h2_table))
        rows: list[list[object]] = [[_p(t, S.cell_head) for t in ("Criterion", "Result", "Detail", "From")]]
        for c in a.criteria:
            result = "passed" if c.passed else f'<font color="#{_ALERT}"><b>not met</b></font>'
            rows.append([_p(u(c.label)), _p(result), _p(u(c.detail)), _p(u(c.source))])
        out.append(_table(rows, [W * 0.42, W * 0.12, W * 0.34, W * 0.12]))
        if a.scores:
            score_rows: list[list[object]] = [[_p(t, S.cell_head) for t in ("Score", "Total", "Parts")]]
            for s in a.scores:
                parts = ", ".join(f"{u(name)} {value}" for name, value in s.parts)
                score_rows.append([_p(u(s.name)), _p(f"<b>{s.total}/10</b>"), _p(parts)])
            out.append(Spacer(1, 4))
            out.append(_table(score_rows, [W * 0.25, W * 0.12, W * 0.63]))
    return out


def signature(data: ReportData) -> list[Flowable]:
    heading = _p("Signature", S.h1)
    mark = Bookmark("Signature", "signature", 1)
    sig = data.signature
    if data.integrity_failure:
        return [mark, heading, _p(f'<font color="#{_ALERT}"><b>INTEGRITY FAILURE.</b></font> The record failed '
                            f"verification ({u(data.integrity_failure)}); no signature is shown.", S.body)]
    if sig is None:
        return [mark, heading, _p(f'<font color="#{_ALERT}"><b>Not signed.</b></font> This summary is a DRAFT: the session '
                         f"is {u(data.header.state.lower())} and its record may still change.", S.body)]
    rows = [
        [_p("Printed name", S.label), _p(f"<b>{u(sig.name)}</b>", S.body)],
        [_p("Credentials", S.label), _p(u(sig.credentials) or _muted("not recorded"), S.body)],
        [_p("Signed at", S.label), _p(f"{sig.moment.at:%Y-%m-%d %H:%M:%S %Z}".strip(), S.body)],
        [_p("Meaning", S.label), _p(u(sig.meaning), S.body)],
        [_p("Signed record", S.label), _p(f"{sig.entries_signed} entries, SHA-256 chain head<br/>"
                                          f"{u(sig.record_hash)}", S.hash)],
    ]
    table = Table(rows, colWidths=[W * 0.2, W * 0.8], hAlign="LEFT")
    table.setStyle(TableStyle([("BOX", (0, 0), (-1, -1), 0.8, st.ACCENT), ("VALIGN", (0, 0), (-1, -1), "TOP"),
                               ("FONTNAME", (0, 0), (-1, -1), st.SANS),
                               ("BACKGROUND", (0, 0), (0, -1), st.FILL), ("TOPPADDING", (0, 0), (-1, -1), 4),
                               ("BOTTOMPADDING", (0, 0), (-1, -1), 4)]))
    # The heading never stands alone at the foot of a page: it goes with the signature block.
    out: list[Flowable] = [mark, KeepTogether([heading, table]), Spacer(1, 4)]
    if data.anchor:
        out.append(_p(u(f"{data.anchor} · clinic key {data.root_fingerprint or 'not recorded'}"), S.hash))
    if data.amendments_after_signoff:
        n = data.amendments_after_signoff
        out.append(_p(f'<font color="#{_ALERT}">{n} amendment{"s" if n != 1 else ""} made after sign-off</font>, '
                      "marked \"after sign-off\" beside the entries they correct; the signature covers the record "
                      "as it stood when signed.", S.small))
    return out


def appendix(data: ReportData) -> list[Flowable]:
    """Every reading, compact, in three columns (the "columns" page template)."""
    if len(data.vitals) < COMPACT_FROM:
        return []
    rows: list[list[object]] = [["Time", "+min", "BP", "HR", "SpO2", "RR"]]
    extra: list[tuple[object, ...]] = [("FONTNAME", (0, 0), (-1, 0), st.SANS_BOLD),
                                       ("TEXTCOLOR", (0, 0), (-1, 0), st.ACCENT)]
    for i, r in enumerate(data.vitals, start=1):
        c = r.corrections
        rows.append([r.moment.clock + ("*" if c.amended else ""), r.moment.offset.replace(" min", ""), r.bp,
                     r.text("hr"), r.text("spo2"), r.text("rr")])
        for col, keys in ((2, {"sbp", "dbp"}), (3, {"hr"}), (4, {"spo2"}), (5, {"rr"})):
            if keys & r.alerts:
                extra += [("TEXTCOLOR", (col, i), (col, i), st.ALERT), ("FONTNAME", (col, i), (col, i), st.SANS_BOLD)]
        if r.marks:
            extra.append(("BACKGROUND", (0, i), (-1, i), st.KEY_FILL))
        if c.retracted:
            extra.append(("TEXTCOLOR", (0, i), (-1, i), st.MUTED))
    widths = [st.COLUMN_WIDTH * f for f in (0.20, 0.15, 0.24, 0.13, 0.15, 0.13)]
    return [
        NextPageTemplate("columns"), PageBreak(),
        Bookmark("Appendix: every vital-sign reading", "appendix"),
        _p("Appendix: every vital-sign reading", S.h2),
        _p(_muted("Highlighted: key readings. Red: beyond an alert line. * amended (see Key readings); grey: "
                  "entered in error. Units as in Vital signs."), S.tiny),
        _table(rows, widths, extra, compact=True),
    ]
