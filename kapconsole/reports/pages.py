"""Page furniture: header, footer, DRAFT watermark, and a canvas that prints "page X of Y"."""

from __future__ import annotations

from typing import Any

from reportlab.pdfgen.canvas import Canvas

from kapconsole.reports import styles as st
from kapconsole.reports.data import CONFIDENTIALITY, ReportData
from kapconsole.reports.text import outline


class NumberedCanvas(Canvas):
    """Holds every page back until the end, then stamps "page X of Y" on each (the total is known then), fills
    in page references and adds the outline (bookmarks) at the pages they point to."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._pages: list[dict[str, Any]] = []
        self._marks: list[tuple[int, str, str, int, float]] = []  # (page index, key, title, level, top)
        self._later: list[tuple[int, str, str, float, float, str, float, Any]] = []
        self.footer = ""

    def showPage(self) -> None:  # noqa: N802 - ReportLab's name
        self._pages.append(dict(self.__dict__))
        self._startPage()

    def mark(self, key: str, title: str, level: int) -> None:
        """A bookmark (and page-reference target) on the page being laid out."""
        self._marks.append((len(self._pages), key, title, level, self.absolutePosition(0, 0)[1]))

    def later(self, key: str, text: str, x: float, y: float, font: str, size: float, colour: Any) -> None:
        """Draw ``text`` at (x, y) of this page once the page of bookmark ``key`` is known."""
        self._later.append((len(self._pages), key, text, x, y, font, size, colour))

    def save(self) -> None:
        total = len(self._pages)
        pages = {key: index + 1 for index, key, *_rest in self._marks}
        for number, state in enumerate(self._pages, start=1):
            self.__dict__.update(state)
            self._page_number(number, total)
            for index, key, text, x, y, font, size, colour in self._later:
                if index == number - 1:
                    self.saveState()
                    self.setFont(font, size)
                    self.setFillColor(colour)
                    self.drawString(x, y, text.replace("{page}", str(pages.get(key, "?"))))
                    self.restoreState()
            for index, key, title, level, top in self._marks:
                if index == number - 1:
                    self.bookmarkHorizontalAbsolute(key, top + 14)
                    self.addOutlineEntry(title, key, level)
            super().showPage()
        if self._marks:
            self.showOutline()
        super().save()

    def _page_number(self, number: int, total: int) -> None:
        self.saveState()
        self.setFont(st.SANS, st.FOOTER_SIZE)
        self.setFillColor(st.INK)
        self.drawRightString(st.PAGE[0] - st.MARGIN_X, st.MARGIN_BOTTOM - 24, f"page {number} of {total}")
        self.restoreState()


class PageDecorations:
    """Draws what every page carries; used as a page template's ``onPage``.

    Every page names the client (name, date of birth, identifier) so a loose page is never anonymous, and says
    who printed the summary and when.
    """

    def __init__(self, data: ReportData) -> None:
        h = data.header
        self.left = st.plain(f"{h.clinic_name} · {data.title} · {h.session_date.isoformat()}")
        born = f"born {h.date_of_birth.isoformat()}" if h.date_of_birth else "date of birth not recorded"
        self.right = st.plain(f"{h.client_name} · {born} · {h.client_identifier}")
        printed = f"{h.generated_at:%Y-%m-%d %H:%M}"
        self.printed = st.plain(f"Printed by {h.printed_by} at {printed}" if h.printed_by else f"Printed at {printed}")
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
        canv.setFillColor(st.INK)
        canv.setFont(st.SANS, st.FOOTER_SIZE)
        right = width - st.MARGIN_X
        if self.draft:
            canv.setFont(st.SANS_BOLD, 9)
            canv.setFillColor(st.ALERT)
            canv.drawRightString(right, top, "DRAFT")
            right -= canv.stringWidth("DRAFT", st.SANS_BOLD, 9) + 8
            canv.setFont(st.SANS, st.FOOTER_SIZE)
            canv.setFillColor(st.INK)
        # Identifiers are user text: clip them to the room the header has rather than run into each other.
        room = right - st.MARGIN_X
        right_text = _fit(canv, self.right, room * 0.58)
        canv.drawRightString(right, top, right_text)
        left_room = room - canv.stringWidth(right_text, st.SANS, st.FOOTER_SIZE) - 12
        canv.drawString(st.MARGIN_X, top, _fit(canv, self.left, left_room))
        bottom = st.MARGIN_BOTTOM - 24
        canv.line(st.MARGIN_X, bottom + 20, width - st.MARGIN_X, bottom + 20)
        canv.drawString(st.MARGIN_X, bottom + 10, _fit(canv, self.printed, width - 2 * st.MARGIN_X - 70))
        canv.drawString(st.MARGIN_X, bottom, _fit(canv, CONFIDENTIALITY, width - 2 * st.MARGIN_X - 70))
        canv.restoreState()

    @staticmethod
    def _watermark(canv: Canvas, width: float, height: float) -> None:
        """A pale diagonal DRAFT drawn as glyph outlines, not text: copying text out of the page never picks it
        up, and words under it extract whole."""
        canv.saveState()
        canv.setFillColor(st.WATERMARK)
        canv.translate(width / 2, height / 2)
        canv.rotate(50)
        path = canv.beginPath()
        wide = outline(path, "DRAFT", st.SANS_BOLD, 110)
        canv.translate(-wide / 2, -40)
        canv.drawPath(path, stroke=0, fill=1)
        canv.restoreState()


def _fit(canv: Canvas, text: str, room: float, size: float = st.FOOTER_SIZE) -> str:
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
