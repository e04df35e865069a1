"""The one stylesheet of the integration summary: fonts, colours, paragraph and table styles.

Fonts and how user text becomes printable live in :mod:`kapconsole.reports.fonts` and
:mod:`kapconsole.reports.text`; their names are re-exported here for the layout code.
"""

from __future__ import annotations

from reportlab.lib import colors
from reportlab.lib.enums import TA_CENTER, TA_LEFT
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm

from kapconsole.reports import fonts, text

# ----- page geometry ------------------------------------------------------------------------------------------
PAGE = A4
MARGIN_X = 16 * mm
MARGIN_TOP = 22 * mm
MARGIN_BOTTOM = 18 * mm
FRAME_WIDTH = PAGE[0] - 2 * MARGIN_X
COLUMN_GAP = 4 * mm
COLUMN_WIDTH = (FRAME_WIDTH - 2 * COLUMN_GAP) / 3  # the appendix's three columns

# ----- fonts (see kapconsole.reports.fonts) ---------------------------------------------------------------
SANS, SANS_BOLD, SANS_ITALIC = fonts.SANS, fonts.SANS_BOLD, fonts.SANS_ITALIC
register_fonts = fonts.register_fonts
markup = text.markup
para = text.para
plain = text.plain


#: The smallest text: page header and footer. Table text is 8.5 pt (see table_commands).
FOOTER_SIZE = 7.5
TABLE_SIZE = 8.5

# ----- colours ------------------------------------------------------------------------------------------------
INK = colors.HexColor("#1E2328")
MUTED = colors.HexColor("#434B53")  # dark enough to survive a fax
ACCENT = colors.HexColor("#1F5F7A")
ALERT = colors.HexColor("#B3261E")
GOOD = colors.HexColor("#0F7B6C")
AMEND = colors.HexColor("#6B4600")
RULE = colors.HexColor("#C9D1D8")
FILL = colors.HexColor("#EEF3F6")
KEY_FILL = colors.HexColor("#FFF6DA")
WATERMARK = colors.Color(0.82, 0.82, 0.82, alpha=0.45)
SERIES = {
    "sbp": colors.HexColor("#B3261E"),
    "dbp": colors.HexColor("#E07B00"),
    "hr": colors.HexColor("#1F5FBF"),
    "spo2": GOOD,
    "rr": colors.HexColor("#7B3FA0"),
}
DOSE = colors.HexColor("#4A4A4A")


# ----- paragraph styles ---------------------------------------------------------------------------------------
def _style(name: str, **kw: object) -> ParagraphStyle:
    base: dict[str, object] = {"fontName": SANS, "fontSize": 9, "leading": 11.5, "textColor": INK,
                               "splitLongWords": 1, "alignment": TA_LEFT, "bulletFontName": SANS}
    base.update(kw)
    return ParagraphStyle(name, **base)  # type: ignore[arg-type]


class Styles:
    """Every paragraph style the summary uses, by name."""

    body = _style("body")
    small = _style("small", fontSize=8, leading=10)
    tiny = _style("tiny", fontSize=7.5, leading=9)
    zone = _style("zone", fontSize=8, leading=10, spaceAfter=6)
    cell = _style("cell", fontSize=8.5, leading=10.4)
    cell_head = _style("cell_head", fontName=SANS_BOLD, fontSize=8.5, leading=10.4, textColor=ACCENT)
    title = _style("title", fontName=SANS_BOLD, fontSize=18, leading=22, textColor=ACCENT, spaceAfter=2)
    subtitle = _style("subtitle", fontSize=10, leading=13, textColor=MUTED, spaceAfter=6)
    h1 = _style("h1", fontName=SANS_BOLD, fontSize=13, leading=16, textColor=ACCENT, spaceBefore=12, spaceAfter=5,
                keepWithNext=1)
    h2 = _style("h2", fontName=SANS_BOLD, fontSize=10, leading=13, textColor=INK, spaceBefore=8, spaceAfter=3,
                keepWithNext=1)
    # Headings over tables: not kept with the whole table (that would push a long table to the next page and
    # leave the page empty); a conditional page break before them keeps them off the foot of a page instead.
    h1_table = _style("h1_table", fontName=SANS_BOLD, fontSize=13, leading=16, textColor=ACCENT, spaceBefore=12,
                      spaceAfter=5)
    h2_table = _style("h2_table", fontName=SANS_BOLD, fontSize=10, leading=13, textColor=INK, spaceBefore=8,
                      spaceAfter=3)
    label = _style("label", fontSize=7.5, leading=9, textColor=MUTED)
    value = _style("value", fontName=SANS_BOLD, fontSize=9.5, leading=12)
    callout = _style("callout", fontSize=10, leading=13.5, backColor=FILL, borderPadding=(6, 8, 6, 8),
                     leftIndent=8, rightIndent=8, spaceBefore=4, spaceAfter=10)
    item = _style("item", leftIndent=14, bulletIndent=0, spaceAfter=2, bulletFontName=SANS)
    # An amendment note under the row it corrects, and the observation timeline.
    cell_note = _style("cell_note", fontSize=8.5, leading=10.4, leftIndent=10, textColor=AMEND, spaceBefore=1,
                       spaceAfter=2.5)
    timeline = _style("timeline", leftIndent=12, firstLineIndent=-12, spaceAfter=5)
    timeline_note = _style("timeline_note", fontSize=8.5, leading=10.4, leftIndent=12, textColor=AMEND,
                           spaceAfter=2.5)
    banner = _style("banner", fontName=SANS_BOLD, fontSize=9, leading=12, textColor=ALERT, alignment=TA_CENTER,
                    borderColor=ALERT, borderWidth=0.8, borderPadding=4, spaceBefore=2, spaceAfter=8)
    hash = _style("hash", fontSize=7.5, leading=9.5, textColor=INK)


# ----- table styles -------------------------------------------------------------------------------------------
def table_commands(*, compact: bool = False) -> list[tuple[object, ...]]:
    """The look of every table: one heading row, hairlines between rows."""
    pad = 0.6 if compact else 2.5
    return [
        ("LINEBELOW", (0, 0), (-1, 0), 0.8, ACCENT),
        ("FONTNAME", (0, 0), (-1, -1), SANS),
        ("FONTSIZE", (0, 0), (-1, -1), TABLE_SIZE),
        ("LEADING", (0, 0), (-1, -1), TABLE_SIZE + 1.5),
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ("TOPPADDING", (0, 0), (-1, -1), pad),
        ("BOTTOMPADDING", (0, 0), (-1, -1), pad),
        ("LEFTPADDING", (0, 0), (-1, -1), 2 if compact else 3),
        ("RIGHTPADDING", (0, 0), (-1, -1), 2 if compact else 3),
        ("LINEBELOW", (0, 1), (-1, -1), 0.25, RULE),
    ]
