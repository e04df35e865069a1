"""Page furniture: header, footer, DRAFT watermark, and a canvas that prints "page X of Y"."""

from __future__ import annotations

from typing import Any

from reportlab.pdfgen.canvas import Canvas

from kapconsole.reports import styles as st
from kapconsole.reports.data import CONFIDENTIALITY, ReportData


class NumberedCanvas(Canvas):
    """Holds every page back until the end, then stamps "page X of Y" on each (the total is known then)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._pages: list[dict[str, Any]] = []

    def showPage(self) -> None:  # noqa: N802 - ReportLab's name
        self._pages.append(dict(self.__dict__))
        self._startPage()

    def save(self) -> None:
        total = len(self._pages)
        for number, state in enumerate(self._pages, start=1):
            self.__dict__.update(state)
            self._page_number(number, total)
            super().showPage()
        super().save()

    def _page_number(self, number: int, total: int) -> None:
        self.saveState()
        self.setFont(st.SANS, 7.5)
        self.setFillColor(st.MUTED)
        self.drawRightString(st.PAGE[0] - st.MARGIN_X, st.MARGIN_BOTTOM - 24, f"page {number} of {total}")
        self.restoreState()


class PageDecorations:
    """Draws what every page carries; used as a page template's ``onPage``."""

    def __init__(self, data: ReportData) -> None:
        h = data.header
        self.left = f"{h.clinic_name} · {data.title}"
        self.right = f"Client {h.client_identifier} · session {h.session_date.isoformat()}"
        self.draft = data.draft
        self.integrity_failure = data.integrity_failure

    def __call__(self, canv: Canvas, _doc: object) -> None:
        width, height = st.PAGE
        canv.saveState()
        if self.integrity_failure:
            # Unmissable on every page: the record failed verification.
            canv.setFillColor(st.ALERT)
            canv.rect(st.MARGIN_X, height - st.MARGIN_TOP + 16, width - 2 * st.MARGIN_X, 14, stroke=0, fill=1)
            canv.setFillColor(st.FILL)
            canv.setFont(st.SANS_BOLD, 8.5)
            canv.drawString(st.MARGIN_X + 4, height - st.MARGIN_TOP + 20,
                            _fit(canv, "INTEGRITY FAILURE — " + self.integrity_failure, width - 2 * st.MARGIN_X - 8,
                                 8.5))
            canv.setFillColor(st.MUTED)
        if self.draft:
            self._watermark(canv, width, height)
        top = height - st.MARGIN_TOP + 9
        canv.setStrokeColor(st.RULE)
        canv.setLineWidth(0.6)
        canv.line(st.MARGIN_X, top - 4, width - st.MARGIN_X, top - 4)
        canv.setFillColor(st.MUTED)
        canv.setFont(st.SANS, 7.5)
        right = width - st.MARGIN_X
        if self.draft:
            canv.setFont(st.SANS_BOLD, 9)
            canv.setFillColor(st.ALERT)
            canv.drawRightString(right, top, "DRAFT")
            right -= canv.stringWidth("DRAFT", st.SANS_BOLD, 9) + 8
            canv.setFont(st.SANS, 7.5)
            canv.setFillColor(st.MUTED)
        # Identifiers are user text: clip them to the room the header has rather than run into each other.
        room = (right - st.MARGIN_X) / 2 - 6
        canv.drawRightString(right, top, _fit(canv, self.right, room))
        canv.drawString(st.MARGIN_X, top, _fit(canv, self.left, room))
        bottom = st.MARGIN_BOTTOM - 24
        canv.line(st.MARGIN_X, bottom + 10, width - st.MARGIN_X, bottom + 10)
        canv.setFont(st.SANS, 6.5)
        canv.drawString(st.MARGIN_X, bottom, _fit(canv, CONFIDENTIALITY, width - 2 * st.MARGIN_X - 60, 6.5))
        canv.restoreState()

    @staticmethod
    def _watermark(canv: Canvas, width: float, height: float) -> None:
        canv.saveState()
        canv.setFillColor(st.WATERMARK)
        canv.setFont(st.SANS_BOLD, 110)
        canv.translate(width / 2, height / 2)
        canv.rotate(50)
        canv.drawCentredString(0, -40, "DRAFT")
        canv.restoreState()


def _fit(canv: Canvas, text: str, room: float, size: float = 7.5) -> str:
    """``text``, shortened with an ellipsis until it fits ``room`` points."""
    if canv.stringWidth(text, st.SANS, size) <= room:
        return text
    low, high = 0, len(text)
    while low < high:
        mid = (low + high + 1) // 2
        if canv.stringWidth(text[:mid] + "…", st.SANS, size) <= room:
            low = mid
        else:
            high = mid - 1
    return text[:low] + "…"
