"""The one stylesheet of the integration summary: fonts, colours, paragraph and table styles, text markup.

DejaVu Sans is registered once and embedded (subset) in every PDF, so any Latin, Greek, Cyrillic, Arabic or
Hebrew text staff type prints as typed. Chinese, Japanese and Korean, which DejaVu lacks, print in WenQuanYi
Micro Hei, also shipped and embedded (subset): registered the first time such a character appears.
"""

from __future__ import annotations

import re
import threading
from functools import cache
from typing import Any
from xml.sax.saxutils import escape

from reportlab.lib import colors
from reportlab.lib.enums import TA_CENTER, TA_LEFT
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.platypus import Paragraph

from kapconsole.resources_path import resource_path

# ----- page geometry ------------------------------------------------------------------------------------------
PAGE = A4
MARGIN_X = 16 * mm
MARGIN_TOP = 22 * mm
MARGIN_BOTTOM = 18 * mm
FRAME_WIDTH = PAGE[0] - 2 * MARGIN_X
COLUMN_GAP = 4 * mm
COLUMN_WIDTH = (FRAME_WIDTH - 2 * COLUMN_GAP) / 3  # the appendix's three columns

# ----- fonts --------------------------------------------------------------------------------------------------
SANS = "KapSans"
SANS_BOLD = "KapSans-Bold"
SANS_ITALIC = "KapSans-Oblique"
_CJK = "KapCJK"  # CJK ideographs, kana, Hangul
_lock = threading.Lock()
_registered = False
_cjk_registered = False


def register_fonts() -> None:
    """Register DejaVu Sans (regular, bold, oblique) as one family; safe to call from any thread, many times."""
    global _registered
    with _lock:
        if _registered:
            return
        for name, file in ((SANS, "DejaVuSans.ttf"), (SANS_BOLD, "DejaVuSans-Bold.ttf"),
                           (SANS_ITALIC, "DejaVuSans-Oblique.ttf")):
            pdfmetrics.registerFont(TTFont(name, str(resource_path("fonts", file))))
        pdfmetrics.registerFontFamily(SANS, normal=SANS, bold=SANS_BOLD, italic=SANS_ITALIC, boldItalic=SANS_BOLD)
        _registered = True


def _register_cjk() -> str:
    global _cjk_registered
    with _lock:
        if not _cjk_registered:
            path = resource_path("fonts", "wqy-microhei.ttc")
            pdfmetrics.registerFont(TTFont(_CJK, str(path), subfontIndex=0))
            _cjk_registered = True
    return _CJK


@cache
def _covered() -> frozenset[int]:
    register_fonts()
    font = pdfmetrics.getFont(SANS)
    return frozenset(font.face.charToGlyph)  # type: ignore[attr-defined]


def _fallback(code: int) -> str | None:
    hangul = 0xAC00 <= code <= 0xD7AF or 0x1100 <= code <= 0x11FF or 0x3130 <= code <= 0x318F
    han_kana = 0x2E80 <= code <= 0x9FFF or 0xF900 <= code <= 0xFAFF or 0xFF00 <= code <= 0xFFEF
    return _register_cjk() if hangul or han_kana else None


def markup(text: str) -> str:
    """User text made safe for a Paragraph: escaped, line breaks kept, CJK runs in a font that has them."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    if text.isascii():
        return escape(text).replace("\n", "<br/>")
    covered = _covered()
    out: list[str] = []
    run: list[str] = []
    run_font: str | None = None

    def flush() -> None:
        if run:
            chunk = escape("".join(run)).replace("\n", "<br/>")
            out.append(f'<font name="{run_font}">{chunk}</font>' if run_font else chunk)
            run.clear()

    for ch in text:
        code = ord(ch)
        font = None if code in covered or code < 0x2E80 else _fallback(code)
        if font != run_font:
            flush()
            run_font = font
        run.append(ch)
    flush()
    return "".join(out)


# ----- colours ------------------------------------------------------------------------------------------------
INK = colors.HexColor("#1E2328")
MUTED = colors.HexColor("#5C6670")
ACCENT = colors.HexColor("#1F5F7A")
ALERT = colors.HexColor("#B3261E")
GOOD = colors.HexColor("#0F7B6C")
AMEND = colors.HexColor("#8A5A00")
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
                               "splitLongWords": 1, "alignment": TA_LEFT}
    base.update(kw)
    return ParagraphStyle(name, **base)  # type: ignore[arg-type]


class Styles:
    """Every paragraph style the summary uses, by name."""

    body = _style("body")
    small = _style("small", fontSize=7.5, leading=9.5)
    tiny = _style("tiny", fontSize=6.5, leading=8)
    cell = _style("cell", fontSize=7.5, leading=9.2)
    cell_head = _style("cell_head", fontName=SANS_BOLD, fontSize=7.5, leading=9.2, textColor=ACCENT)
    title = _style("title", fontName=SANS_BOLD, fontSize=18, leading=22, textColor=ACCENT, spaceAfter=2)
    subtitle = _style("subtitle", fontSize=10, leading=13, textColor=MUTED, spaceAfter=6)
    h1 = _style("h1", fontName=SANS_BOLD, fontSize=13, leading=16, textColor=ACCENT, spaceBefore=12, spaceAfter=5,
                keepWithNext=1)
    h2 = _style("h2", fontName=SANS_BOLD, fontSize=10, leading=13, textColor=INK, spaceBefore=8, spaceAfter=3,
                keepWithNext=1)
    label = _style("label", fontSize=7, leading=9, textColor=MUTED)
    value = _style("value", fontName=SANS_BOLD, fontSize=9.5, leading=12)
    callout = _style("callout", fontSize=10, leading=13.5, backColor=FILL, borderPadding=(6, 8, 6, 8),
                     leftIndent=8, rightIndent=8, spaceBefore=4, spaceAfter=10)
    item = _style("item", leftIndent=14, bulletIndent=0, spaceAfter=3)
    # An amendment note under the row it corrects, and the observation timeline.
    cell_note = _style("cell_note", fontSize=7.5, leading=9.5, leftIndent=10, textColor=AMEND, spaceBefore=1,
                       spaceAfter=2.5)
    timeline = _style("timeline", leftIndent=12, firstLineIndent=-12, spaceAfter=5)
    timeline_note = _style("timeline_note", fontSize=7.5, leading=9.5, leftIndent=12, textColor=AMEND,
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
        ("FONTSIZE", (0, 0), (-1, -1), 6.5 if compact else 7.5),
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ("TOPPADDING", (0, 0), (-1, -1), pad),
        ("BOTTOMPADDING", (0, 0), (-1, -1), pad),
        ("LEFTPADDING", (0, 0), (-1, -1), 2 if compact else 3),
        ("RIGHTPADDING", (0, 0), (-1, -1), 2 if compact else 3),
        ("LINEBELOW", (0, 1), (-1, -1), 0.25, RULE),
    ]


# ----- scripts that need shaping ------------------------------------------------------------------------------
# Hebrew, Arabic, Syriac, Thaana, N'Ko and the Indic and South-East Asian scripts: their letters join or
# reorder, and right-to-left text must be laid out as it is read. HarfBuzz does that, at a cost, so only the
# paragraphs that hold such text are shaped.
_COMPLEX = re.compile("[\u0590-\u08ff\u0900-\u0dff\u0e00-\u0eff\u1000-\u109f\ufb1d-\ufdff\ufe70-\ufeff]")
_shaped: dict[str, ParagraphStyle] = {}


def para(text: str, style: ParagraphStyle, **kw: Any) -> Paragraph:
    """A Paragraph of already escaped ``text``; shaped when the text holds a script that needs it."""
    if _COMPLEX.search(text):
        shaped = _shaped.get(style.name)
        if shaped is None:
            shaped = _shaped[style.name] = ParagraphStyle(f"{style.name}-shaped", parent=style, shaping=1)
        style = shaped
    return Paragraph(text, style, **kw)
