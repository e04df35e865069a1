"""Lay out a :class:`~kapconsole.reports.data.ReportData` as the integration summary PDF."""

from __future__ import annotations

import io
from datetime import datetime

from reportlab.platypus import BaseDocTemplate, Flowable, Frame, PageTemplate

from kapconsole.reports import sections
from kapconsole.reports import styles as st
from kapconsole.reports.data import ReportData
from kapconsole.reports.pages import NumberedCanvas, PageDecorations

CREATOR = "KAP Console"
LANGUAGE = "en"


def document_title(data: ReportData) -> str:
    """The PDF's title: what a reader's window and tab show, so the client's identifier, never their name."""
    h = data.header
    return f"{data.title}: client {h.client_identifier}, {h.session_date.isoformat()}, {h.course_label}"


def pdf_date(moment: datetime) -> str:
    """``moment`` as a PDF date string (``D:YYYYMMDDHHmmSS+HH'mm'``)."""
    offset = moment.utcoffset()
    minutes = int(offset.total_seconds() // 60) if offset is not None else 0
    sign = "+" if minutes >= 0 else "-"
    hours, mins = divmod(abs(minutes), 60)
    return f"D:{moment:%Y%m%d%H%M%S}{sign}{hours:02d}'{mins:02d}'"


class SummaryDocument(BaseDocTemplate):
    """Two page templates: "page" (one frame) and "columns" (three frames, for the compact appendix)."""

    def __init__(self, target: io.BytesIO, data: ReportData) -> None:
        super().__init__(
            target, pagesize=st.PAGE, leftMargin=st.MARGIN_X, rightMargin=st.MARGIN_X, topMargin=st.MARGIN_TOP,
            bottomMargin=st.MARGIN_BOTTOM, title=document_title(data),
            author=data.header.clinic_name, subject=data.subject, creator=CREATOR,
            keywords=["integration summary", "ketamine-assisted psychotherapy",
                      *([data.anchor] if data.anchor else [])],
            lang=LANGUAGE, displayDocTitle=1, initialFontName=st.SANS, initialFontSize=9,
        )
        self._created = pdf_date(data.header.generated_at)
        decorate = PageDecorations(data)
        x, y = st.MARGIN_X, st.MARGIN_BOTTOM
        height = st.PAGE[1] - st.MARGIN_TOP - st.MARGIN_BOTTOM
        tight = {"leftPadding": 0, "rightPadding": 0, "topPadding": 0, "bottomPadding": 0}
        body = Frame(x, y, st.FRAME_WIDTH, height, id="body", **tight)
        columns = [Frame(x + i * (st.COLUMN_WIDTH + st.COLUMN_GAP), y, st.COLUMN_WIDTH, height, id=f"column{i}",
                         **tight) for i in range(3)]
        self.addPageTemplates([
            PageTemplate("page", [body], onPage=decorate),
            PageTemplate("columns", columns, onPage=decorate),
        ])

    def beforeDocument(self) -> None:  # noqa: N802 - ReportLab's name
        created = self._created
        self.canv.setDateFormatter(lambda *_parts: created)


def story(data: ReportData) -> list[Flowable]:
    return [
        *sections.first_page(data),
        *sections.checklist(data),
        *sections.administrations(data),
        *sections.medication_record(data),
        *sections.vitals(data),
        *sections.scales(data),
        *sections.side_effects(data),
        *sections.discharge(data),
        *sections.signature(data),
        *sections.timeline(data),
        *sections.appendix(data),
    ]


def render_pdf(data: ReportData, *, password: str | None = None) -> bytes:
    """The integration summary as PDF bytes; with ``password``, encrypted so that it opens only with it."""
    st.register_fonts()
    buffer = io.BytesIO()
    doc = SummaryDocument(buffer, data)
    doc.build(story(data), canvasmaker=NumberedCanvas)
    return encrypt_pdf(buffer.getvalue(), password) if password else buffer.getvalue()


def encrypt_pdf(content: bytes, password: str) -> bytes:
    """AES-256 (PDF 2.0, revision 6), which every current reader opens; printing and copying stay allowed.

    ReportLab's own encryption is RC4 (broken) or an early AES-256 revision that common readers refuse.
    """
    from pypdf import PdfReader, PdfWriter
    from pypdf.constants import UserAccessPermissions as Allow

    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(content)))
    allowed = Allow.PRINT | Allow.PRINT_TO_REPRESENTATION | Allow.EXTRACT | Allow.EXTRACT_TEXT_AND_GRAPHICS
    writer.encrypt(user_password=password, owner_password=None, algorithm="AES-256", permissions_flag=allowed)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()
