"""The esketamine REMS Patient Monitoring Form as a PDF, laid out in the form's sections.

A frozen :class:`~kapconsole.domain.rems_form.RemsForm` in, PDF bytes out; fonts, colours and table look come
from the summary's stylesheet (``reports.styles``). A field the record and the answers cannot fill prints as
"not answered" in red, and an incomplete form says so at the top with the list of what is missing.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from datetime import datetime

from reportlab.lib.units import mm
from reportlab.platypus import BaseDocTemplate, Flowable, Frame, PageTemplate, Spacer, Table, TableStyle
from reportlab.platypus.flowables import KeepTogether

from kapconsole.domain.rems import BY_KEY
from kapconsole.domain.rems_form import BpReading, Episode, RemsForm
from kapconsole.reports import styles as st
from kapconsole.reports.pages import NumberedCanvas
from kapconsole.reports.render import CREATOR, pdf_date

TITLE = "SPRAVATO® REMS Patient Monitoring Form"
NOT_ANSWERED = "not answered"
_MEDS = ("med_benzodiazepines", "med_sedative_hypnotics", "med_other_cns_depressants", "med_psychostimulants",
         "med_maois")
_DAY = ("nasal_product_last_hour", "no_food_2h", "no_liquids_30min", "no_driving")


def _when(moment: datetime | None) -> str | None:
    return None if moment is None else moment.astimezone().strftime("%Y-%m-%d %H:%M")


def _clock(moment: datetime | None) -> str | None:
    return None if moment is None else moment.astimezone().strftime("%H:%M")


def _yes_no(value: object) -> str | None:
    return None if value is None else "Yes" if value else "No"


def _value(text: object) -> Flowable:
    if text is None or text == "":
        return st.para(f'<font color="{st.ALERT.hexval()}">{NOT_ANSWERED}</font>', st.Styles.body)
    return st.para(st.markup(str(text)), st.Styles.value)


def _label(text: str) -> Flowable:
    return st.para(st.markup(text), st.Styles.label)


def _fields(rows: Sequence[tuple[str, object]], *, columns: int = 2, label_mm: float | None = None) -> Table:
    """Label/value pairs, ``columns`` pairs to a line."""
    cells: list[list[Flowable | str]] = []
    line: list[Flowable | str] = []
    for label, value in rows:
        line += [_label(label), _value(value)]
        if len(line) == 2 * columns:
            cells.append(line)
            line = []
    if line:
        cells.append(line + [""] * (2 * columns - len(line)))
    label_w = (label_mm or (34 if columns == 2 else 58)) * mm
    value_w = (st.FRAME_WIDTH - columns * label_w) / columns
    table = Table(cells, colWidths=[label_w, value_w] * columns)
    table.setStyle(TableStyle([
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ("TOPPADDING", (0, 0), (-1, -1), 2.5),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 2.5),
        ("LEFTPADDING", (0, 0), (-1, -1), 3),
        ("LINEBELOW", (0, 0), (-1, -1), 0.25, st.RULE),
    ]))
    return table


def _section(number: int, title: str, body: Sequence[Flowable]) -> Flowable:
    return KeepTogether([st.para(f"{number}. {st.markup(title)}", st.Styles.h2), *body])


def _bp_table(form: RemsForm) -> Table:
    head = ["Reading", "Blood pressure", "Time", "Minutes after first device"]
    rows: list[list[Flowable | str]] = [[st.para(h, st.Styles.cell_head) for h in head]]
    readings: list[tuple[str, BpReading | None]] = [("Pre-dose", form.bp_predose),
                                                   ("About 40 minutes after dosing", form.bp_40min),
                                                   ("Before completion of monitoring", form.bp_before_completion)]
    for name, reading in readings:
        if reading is None:
            rows.append([st.para(name, st.Styles.cell), _value(None), "", ""])
        else:
            after = reading.minutes_after_first_device
            minutes = "before dosing" if after is None or after < 0 else str(after)
            rows.append([st.para(name, st.Styles.cell), _value(reading.text), _value(_when(reading.at)),
                         st.para(minutes, st.Styles.cell)])
    table = Table(rows, colWidths=[58 * mm, 38 * mm, 38 * mm, st.FRAME_WIDTH - 134 * mm])
    table.setStyle(TableStyle(st.table_commands()))
    return table


def _episode_rows(name: str, ep: Episode) -> list[tuple[str, object]]:
    present = _yes_no(ep.present) if ep.known else None
    if ep.present:
        resolved: object = _when(ep.resolved_at) or "not resolved"
    else:
        resolved = "not applicable" if ep.known else None
    return [(f"{name} present", present), (f"{name} resolved at", resolved)]


def _duration(form: RemsForm) -> str | None:
    total = form.total_monitoring
    if total is None:
        return None
    minutes = int(total.total_seconds() // 60)
    return (f"{minutes // 60} h {minutes % 60:02d} min (first device {_clock(form.first_administration_at)} to "
            f"{_clock(form.monitoring_end_at)})")


def story(form: RemsForm, now: datetime) -> list[Flowable]:
    a = form.answers
    flow: list[Flowable] = [
        st.para(st.markup(TITLE), st.Styles.title),
        st.para(st.markup(f"Treatment session {form.session_id} · filled from the session record on "
                          f"{_when(now)}"), st.Styles.subtitle),
    ]
    missing = [*form.missing_answers, *form.missing_record, *form.missing_details]
    if missing:
        flow.append(st.para(st.markup("INCOMPLETE — still missing: " + "; ".join(missing)), st.Styles.banner))

    flow.append(_section(1, "Patient information", [_fields([
        ("Patient name", form.patient_name),
        ("Date of birth", form.date_of_birth.isoformat() if form.date_of_birth else None),
        ("Clinic patient identifier", form.patient_identifier),
        ("REMS patient ID", form.rems_patient_id),
    ])]))
    s = form.setting
    flow.append(_section(2, "Healthcare setting", [_fields([
        ("Setting name", s.name), ("REMS certification number", s.certification),
        ("Address", s.address), ("Telephone", s.phone or "—"),
    ])]))
    devices = f"{form.devices_given} of {form.devices_planned} planned (28 mg each)"
    times = ", ".join(f"{i} at {_clock(t)}" for i, t in enumerate(form.device_times, start=1))
    treatment: list[tuple[str, object]] = [
        ("Treatment date", form.treatment_date.isoformat() if form.treatment_date else None),
        ("Treatment phase", form.phase_label or None),
        ("Session number in phase", form.phase_session),
        ("Dose", f"{form.dose_mg} mg" if form.dose_mg else None),
        ("Number of devices", devices if form.devices_given else None),
        ("Time of first administration", _when(form.first_administration_at)),
        ("Device times", times or None),
    ]
    if form.early_device_reasons:
        treatment.append(("Device given early", "; ".join(form.early_device_reasons)))
    flow.append(_section(3, "Treatment session", [_fields(treatment)]))
    flow.append(_section(4, "Concomitant medications and pre-dose checks", [
        _fields([(BY_KEY[k].label, _yes_no(a.get(k))) for k in (*_MEDS, *_DAY)], label_mm=62),
        _fields([("Escort", a.get("escort_name")), ("Escort's contact number", a.get("escort_contact")),
                 ("Transport home", a.get("transport"))]),
    ]))
    bp: list[Flowable] = [_bp_table(form)]
    if form.bp_held:
        held = ", ".join(f"{r.text} at {_clock(r.at)}" for r in form.bp_held)
        bp.append(st.para(st.markup(f"Dose held for a pre-dose reading above 140/90 and rechecked: {held}."),
                          st.Styles.small))
    flow.append(_section(5, "Blood pressure", bp))
    during: list[tuple[str, object]] = [
        *_episode_rows("Sedation", form.sedation),
        *_episode_rows("Dissociation", form.dissociation),
        ("Respiratory depression present", _yes_no(form.respiratory_depression)),
        ("Respiratory depression resolved at",
         (_when(form.respiratory_depression_resolved_at) if form.respiratory_depression
          else "not applicable" if form.respiratory_depression is not None else None)),
        ("Serious adverse event", _yes_no(form.serious_adverse_event)),
        ("Which serious adverse event", form.serious_adverse_event_detail if form.serious_adverse_event
         else "not applicable" if form.serious_adverse_event is not None else None),
        ("Hospitalisation", _yes_no(form.hospitalised)),
        ("Hospitalisation: where and why", form.hospitalisation_detail if form.hospitalised
         else "not applicable" if form.hospitalised is not None else None),
    ]
    body: list[Flowable] = [_fields(during)]
    if form.respiratory_hint:
        body.append(st.para(st.markup("Record: readings beyond the respiratory alert lines after dosing — "
                                      + ", ".join(form.respiratory_hint)), st.Styles.small))
    flow.append(_section(6, "During monitoring", body))
    ready = _when(form.ready_to_leave_at)
    if ready and form.ready_confirmed_by:
        ready += f" (confirmed by {form.ready_confirmed_by})"
    flow.append(_section(7, "End of monitoring", [_fields([
        ("Earliest from the record (2 h after the last device, effects resolved)",
         _when(form.earliest_ready_at) or "not yet"),
        ("Patient would have been ready to leave at", ready),
        ("Total monitoring time", _duration(form)),
        ("Discharge signed", f"{form.signed_by}, {_when(form.signed_at)}" if form.signed_at else "not signed yet"),
    ], columns=1)]))
    flow.append(_section(8, "Monitoring healthcare provider", [_fields([
        ("Name", form.clinician_name), ("Credentials", form.clinician_credentials),
        ("Contact number", form.clinician_contact),
    ])]))
    flow.append(Spacer(1, 6))
    flow.append(st.para(st.markup("Submit to the SPRAVATO REMS within 7 days of the treatment session. "
                                  "Record the submission in KAP Console (date, how, confirmation number)."),
                        st.Styles.small))
    return flow


class _Footer:
    def __init__(self, form: RemsForm) -> None:
        self.text = f"{TITLE} · session {form.session_id} · patient {form.patient_identifier}"

    def __call__(self, canv: object, _doc: object) -> None:
        from reportlab.pdfgen.canvas import Canvas

        assert isinstance(canv, Canvas)
        canv.saveState()
        canv.setFont(st.SANS, 7.5)
        canv.setFillColor(st.MUTED)
        canv.drawString(st.MARGIN_X, st.MARGIN_BOTTOM - 24, self.text)
        canv.restoreState()


def render_form(form: RemsForm, *, now: datetime) -> bytes:
    """The monitoring form as PDF bytes."""
    st.register_fonts()
    buffer = io.BytesIO()
    doc = BaseDocTemplate(buffer, pagesize=st.PAGE, leftMargin=st.MARGIN_X, rightMargin=st.MARGIN_X,
                          topMargin=14 * mm, bottomMargin=st.MARGIN_BOTTOM,
                          title=f"{TITLE}: session {form.session_id}", author=form.setting.name or CREATOR,
                          creator=CREATOR, subject="Patient Monitoring Form")
    frame = Frame(st.MARGIN_X, st.MARGIN_BOTTOM, st.FRAME_WIDTH, st.PAGE[1] - 14 * mm - st.MARGIN_BOTTOM, id="body",
                  leftPadding=0, rightPadding=0, topPadding=0, bottomPadding=0)
    doc.addPageTemplates([PageTemplate("page", [frame], onPage=_Footer(form))])
    created = pdf_date(now.astimezone())
    doc.beforeDocument = lambda: doc.canv.setDateFormatter(lambda *_parts: created)  # type: ignore[method-assign]
    doc.build(story(form, now), canvasmaker=NumberedCanvas)
    return buffer.getvalue()
