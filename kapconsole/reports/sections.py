"""The summary's sections as lists of flowables. Layout only: every value comes ready from the report data."""

from __future__ import annotations

from collections.abc import Sequence

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
from kapconsole.reports.flowables import VitalsChart, value_grid
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
            self.out.append(_table(self.rows, self.widths, self.extra))
        self._start()

    def flowables(self) -> list[Flowable]:
        self._close()
        return self.out


# ----- first page ---------------------------------------------------------------------------------------------


def first_page(data: ReportData) -> list[Flowable]:
    h = data.header
    out: list[Flowable] = [
        _p(u(h.client_name), S.title),
        _p(f"{u(data.title)} · {u(h.course_label)}" + (f" · {u(h.course_title)}" if h.course_title else ""),
           S.subtitle),
    ]
    if h.draft:
        out.append(_p(f"DRAFT — not signed ({u(h.state)}); this summary may still change.", S.banner))
    staff = "; ".join(h.staff) or "not recorded"
    out.append(value_grid([
        ("Client", u(h.client_name)),
        ("Identifier", u(h.client_identifier)),
        ("Date of birth", h.date_of_birth.isoformat() if h.date_of_birth else "not recorded"),
        ("Session", u(h.course_label)),
        ("Date", h.session_date.isoformat()),
        ("Room", u(h.room)),
        ("Route", u(h.route)),
        ("Planned", u(h.planned)),
    ], W))
    out.append(_p(f"{_muted('Staff present:')} {u(staff)}", S.body))
    out.append(Spacer(1, 4))
    out.append(_p("Intention", S.h1))
    out.append(_p(u(data.intention), S.callout) if data.intention else _p(_muted("No intention recorded."), S.body))
    out.append(_p("For integration", S.h1))
    if not data.integration:
        out.append(_p(_muted("Nothing was flagged for integration."), S.body))
    for n, item in enumerate(data.integration, start=1):
        tag = f' <font color="#{_AMEND}">(amended)</font>' if item.amended else ""
        out.append(st.para(f"<b>{u(item.moment.label)}</b> {_muted(u(item.category))}{tag}<br/>{u(item.text)}",
                             S.item, bulletText=f"{n}."))
    out.append(_p("Clinical summary", S.h1))
    out += [st.para(line, S.item, bulletText="•") for line in summary_lines(data)]
    return out


def summary_lines(data: ReportData) -> list[str]:
    s, h = data.summary, data.header
    doses = "; ".join(f"{u(d.summary)} at {_when(d.moment)}" for d in s.doses) or "none recorded"
    lines = [f"<b>Doses:</b> {doses}"]

    def at(label: str, text: str | None, m: Moment | None) -> None:
        lines.append(f"<b>{label}:</b> " + (f"{text} at {_when(m)}" if text else "not measured after the dose"))

    at("Peak blood pressure", s.peak_bp.text if s.peak_bp else None, s.peak_bp.moment if s.peak_bp else None)
    at("Peak heart rate", f"{s.peak_hr.text} /min" if s.peak_hr else None, s.peak_hr.moment if s.peak_hr else None)
    at("Lowest SpO2", f"{s.lowest_spo2.text}%" if s.lowest_spo2 else None,
       s.lowest_spo2.moment if s.lowest_spo2 else None)
    peak = s.dissociation_peak
    lines.append("<b>Dissociation peak:</b> " + (f"{peak.text}/10 at {_when(peak.moment)}" if peak else "not scored"))
    effects = "; ".join(u(e.summary) for e in s.side_effects) or "none recorded"
    lines.append(f"<b>Side effects:</b> {effects}")
    if s.monitoring:
        m = s.monitoring
        until = "so far" if m.ongoing else f"until {u(m.end.clock)}"
        lines.append(f"<b>Monitoring:</b> {m.duration} (from the first dose at {u(m.start.clock)} {until})")
    else:
        lines.append("<b>Monitoring:</b> no dose recorded")
    if s.discharged_at:
        lines.append(f"<b>Discharge:</b> {_when(s.discharged_at)}, signed by {u(s.signed_by)}")
    else:
        lines.append(f'<b>Discharge:</b> <font color="#{_ALERT}">not signed</font> ({u(h.state)})')
    if h.end_reason:
        lines.append(f"<b>Ended early:</b> {u(h.end_reason)}")
    return lines


# ----- the full record ----------------------------------------------------------------------------------------


def checklist(data: ReportData) -> list[Flowable]:
    out: list[Flowable] = [PageBreak(), _p("Full record", S.title), _p("Pre-session checklist", S.h1)]
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
    out: list[Flowable] = [_p("Administrations", S.h1)]
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
    out: list[Flowable] = [_p("Vital signs", S.h1)]
    if data.chart is not None:
        out.append(VitalsChart(data.chart, W))
        out.append(Spacer(1, 6))
    if not data.vitals:
        return out + [_p(_muted("No vital signs recorded."), S.body)]
    compact = len(data.vitals) >= COMPACT_FROM
    shown = [r for r in data.vitals if r.key] if compact else list(data.vitals)
    title = f"Key readings ({len(shown)} of {len(data.vitals)})" if compact else f"All readings ({len(shown)})"
    out.append(_p(title, S.h2))
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
    out: list[Flowable] = [_p("Scale scores", S.h1)]
    if not data.scales:
        return out + [_p(_muted("No scale scores recorded."), S.body)]
    rows = RowsWithNotes(("Time", "Scale", "Score", "Instrument", "By"),
                         [W * 0.18, W * 0.22, W * 0.10, W * 0.30, W * 0.20])
    for r in data.scales:
        rows.add([_when(r.moment), _struck(u(r.scale), r.corrections), f"<b>{u(r.score)}</b>", u(r.instrument),
                  u(r.by)], r.corrections)
    return out + rows.flowables()


def side_effects(data: ReportData) -> list[Flowable]:
    out: list[Flowable] = [_p("Side effects", S.h1)]
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
            resolved = f'<font color="#{_ALERT}">not resolved</font>'
        rows.add([_when(e.moment), _struck(effect, e.corrections), u(e.severity), u(e.intervention), resolved],
                 e.corrections)
    return out + rows.flowables()


def timeline(data: ReportData) -> list[Flowable]:
    """Observations flow as paragraphs, not table rows, so a long note can run across pages."""
    out: list[Flowable] = [CondPageBreak(80), _p("Observation timeline", S.h1)]
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
    out: list[Flowable] = [_p("Discharge assessment", S.h1)]
    if not data.assessments:
        return out + [_p(_muted("No discharge assessment recorded."), S.body)]
    for a in data.assessments:
        verdict = (f'<font color="#{_GOOD}"><b>ready for discharge</b></font>' if a.ready
                   else f'<font color="#{_ALERT}"><b>not ready</b></font>')
        out.append(_p(f"Assessment at {_when(a.moment)} by {u(a.by)}: {verdict}", S.h2))
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
    sig = data.signature
    if data.integrity_failure:
        return [heading, _p(f'<font color="#{_ALERT}"><b>INTEGRITY FAILURE.</b></font> The record failed '
                            f"verification ({u(data.integrity_failure)}); no signature is shown.", S.body)]
    if sig is None:
        return [heading, _p(f'<font color="#{_ALERT}"><b>Not signed.</b></font> This summary is a DRAFT: the session '
                         f"is {u(data.header.state.lower())} and its record may still change.", S.body)]
    rows = [
        [_p("Printed name", S.label), _p(f"<b>{u(sig.name)}</b>", S.body)],
        [_p("Signed at", S.label), _p(f"{sig.moment.at:%Y-%m-%d %H:%M:%S %Z}".strip(), S.body)],
        [_p("Meaning", S.label), _p(u(sig.meaning), S.body)],
        [_p("Signed record", S.label), _p(f"{sig.entries_signed} entries, SHA-256 chain head<br/>"
                                          f"{u(sig.record_hash)}", S.hash)],
    ]
    table = Table(rows, colWidths=[W * 0.2, W * 0.8], hAlign="LEFT")
    table.setStyle(TableStyle([("BOX", (0, 0), (-1, -1), 0.8, st.ACCENT), ("VALIGN", (0, 0), (-1, -1), "TOP"),
                               ("BACKGROUND", (0, 0), (0, -1), st.FILL), ("TOPPADDING", (0, 0), (-1, -1), 4),
                               ("BOTTOMPADDING", (0, 0), (-1, -1), 4)]))
    # The heading never stands alone at the foot of a page: it goes with the signature block.
    out: list[Flowable] = [KeepTogether([heading, table]), Spacer(1, 4)]
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
        _p("Appendix: every vital-sign reading", S.h2),
        _p(_muted("Highlighted: key readings. Red: beyond an alert line. * amended (see Key readings); grey: "
                  "entered in error. Units as in Vital signs."), S.tiny),
        _table(rows, widths, extra, compact=True),
    ]
