"""The integration summary PDF of a six-hour session (vitals every minute, 500 observations).

Ours: ``services.reports.pdf(None, session_id)`` — reading the record, assembling the report data and laying it
out. Baseline: a bare ReportLab document with the same tables and paragraphs (every reading as a table row of
paragraphs, the compact every-reading table, 500 observation paragraphs).
"""

from __future__ import annotations

import io
from xml.sax.saxutils import escape

from benchmarks import session_data
from benchmarks.common import Result, describe, interleaved, not_measured

REPEATS = 5
TARGET = 1.5


def bare_pdf(readings: list[dict[str, object]], notes: list[tuple[str, str]]) -> bytes:
    from reportlab.lib import colors
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.styles import getSampleStyleSheet
    from reportlab.platypus import PageBreak, Paragraph, SimpleDocTemplate, Table, TableStyle

    styles = getSampleStyleSheet()
    cell = styles["BodyText"]
    out = io.BytesIO()
    doc = SimpleDocTemplate(out, pagesize=A4)
    grid = TableStyle([("GRID", (0, 0), (-1, -1), 0.25, colors.grey), ("VALIGN", (0, 0), (-1, -1), "TOP")])
    head = ["Time", "BP", "HR", "SpO2", "RR", "Temp", "Marks and alerts", "By"]
    rows: list[list[object]] = [[Paragraph(h, cell) for h in head]]
    compact: list[list[object]] = [["Time", "+min", "BP", "HR", "SpO2", "RR"]]
    for i, r in enumerate(readings):
        bp = f"{r.get('sbp', '')}/{r.get('dbp', '')}"
        rows.append([Paragraph(escape(str(x)), cell) for x in (r["at"], bp, r.get("hr", ""), r.get("spo2", ""),
                                                                 r.get("rr", ""), "", "", "Bench Nurse")])
        compact.append([str(r["at"]), str(i), bp, str(r.get("hr", "")), str(r.get("spo2", "")), str(r.get("rr", ""))])
    story: list[object] = [Paragraph("Integration summary", styles["Title"]), Paragraph("Vital signs", styles["h1"]),
                           Table(rows, repeatRows=1, style=grid)]
    story.append(Paragraph("Observation timeline", styles["h1"]))
    for at, text in notes:
        story.append(Paragraph(f"<b>{escape(at)}</b><br/>{escape(text)}", cell))
    story += [PageBreak(), Paragraph("Appendix: every reading", styles["h2"]), Table(compact, repeatRows=1, style=grid)]
    doc.build(story)
    return out.getvalue()


def run() -> list[Result]:
    name = "summary PDF, six-hour session (360 readings, 500 observations)"
    try:
        from kapconsole.services.reports import ReportService  # noqa: F401
    except ImportError as exc:
        return [not_measured(name, f"report not built ({exc})", target=f"≤ {TARGET:g}×")]
    from kapconsole.domain.enums import EntryKind
    from kapconsole.services import Services

    path, sid = session_data.build()
    services = Services.open(f"sqlite:///{path}")
    try:
        record = services.records.record(None, sid)
        readings = [{**e.payload, "at": e.observed_at.strftime("%H:%M")} for e in record.entries
                    if e.kind is EntryKind.VITALS]
        notes = [(e.observed_at.strftime("%H:%M"), str(e.payload.get("text", ""))) for e in record.entries
                 if e.kind is EntryKind.OBSERVATION]
        size = len(services.reports.pdf(None, sid))
        bare_pdf(readings, notes)
        ours, base = interleaved(lambda: services.reports.pdf(None, sid), lambda: bare_pdf(readings, notes), REPEATS)
    finally:
        services.close()
    ratio = ours.median / base.median
    return [Result(name, describe(ours), f"bare ReportLab: {describe(base)}", ratio, f"≤ {TARGET:g}×",
                   ratio <= TARGET, [f"{len(readings)} readings, {len(notes)} observations, PDF {size // 1024} KiB; "
                                     "ours includes reading the record from the database"])]
