"""User text made printable: any script, any character, in reading order, and never a failed report.

- Every character is drawn in a font that has it (DejaVu Sans, or WenQuanYi Micro Hei for CJK); a character
  neither has prints as a visible box and still copies out as itself (see :mod:`kapconsole.reports.fonts`).
- Text is composed to NFC first, so a letter typed with a combining accent prints as one accented letter.
- Arabic letters are joined (initial, medial, final, isolated forms and the lam-alef ligature) with HarfBuzz, run
  by run; nothing else is shaped, so Latin text never gets ligatures ("st" copies as "st", not "ﬆ").
- Right-to-left runs are put in visual order line by line, after the paragraph is broken into lines, by the
  Unicode bidirectional algorithm (python-bidi), so multi-word Arabic and Hebrew read right to left, mixed with
  left-to-right text.
"""

from __future__ import annotations

import logging
import re
import unicodedata
from functools import cache
from typing import Any
from xml.sax.saxutils import escape

import uharfbuzz as hb
from bidi import algorithm as bidi_algorithm
from reportlab.lib.styles import ParagraphStyle
from reportlab.pdfbase import pdfmetrics
from reportlab.platypus import Paragraph

from kapconsole.reports import fonts

log = logging.getLogger(__name__)

#: Strong right-to-left characters (Hebrew, Arabic, Syriac, Thaana, N'Ko and their presentation forms).
_RTL = re.compile("[\u0590-\u08ff\ufb1d-\ufdff\ufe70-\ufefc\U00010800-\U00010fff\U0001e800-\U0001efff]")
_ARABIC_RUN = re.compile("[\u0600-\u06ff\u0750-\u077f\u08a0-\u08ff\u200c\u200d]+")
#: Control characters other than line breaks and tabs print as a visible replacement.
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff]")


# ----- Arabic joining -----------------------------------------------------------------------------------------
@cache
def _hb_font() -> hb.Font:
    face = hb.Face(hb.Blob.from_file_path(str(pdfmetrics.getFont(fonts.SANS).face.filename)))  # type: ignore[attr-defined]
    return hb.Font(face)


@cache
def _glyph_chars() -> dict[int, int]:
    """DejaVu's glyph id → the lowest character drawn with it (a letter before its presentation forms)."""
    out: dict[int, int] = {}
    for code, gid in pdfmetrics.getFont(fonts.SANS).face.charToGlyph.items():  # type: ignore[attr-defined]
        if gid and (gid not in out or code < out[gid]):
            out[gid] = code
    return out


def _join_run(run: str) -> str:
    """One run of Arabic letters with each letter in its joined form, still in logical (typed) order."""
    buf = hb.Buffer()
    buf.add_str(run)
    buf.direction, buf.script, buf.language = "rtl", "Arab", "ar"
    hb.shape(_hb_font(), buf, {"liga": False, "dlig": False})
    clusters: dict[int, list[int]] = {}
    for info in buf.glyph_infos:
        clusters.setdefault(info.cluster, []).insert(0, info.codepoint)
    chars = _glyph_chars()
    starts = sorted(clusters)
    out = []
    for i, start in enumerate(starts):
        end = starts[i + 1] if i + 1 < len(starts) else len(run)
        mapped = [chars.get(g) for g in clusters[start]]
        if all(m is not None for m in mapped):
            out.append("".join(chr(m) for m in mapped if m is not None))
        else:  # a glyph no character stands for: print the letters as typed
            out.append(run[start:end])
    return "".join(out)


def join_arabic(text: str) -> str:
    fonts.register_fonts()
    try:
        return _ARABIC_RUN.sub(lambda m: _join_run(m.group()), text)
    except Exception:  # the summary must print: unjoined letters rather than no summary
        log.exception("joining Arabic letters failed; printed unjoined")
        return text


# ----- markup -------------------------------------------------------------------------------------------------
def prepare(text: str) -> str:
    """The characters to print for ``text``: composed, controls replaced, Arabic joined (logical order)."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    if text.isascii():
        return _CONTROL.sub("\ufffd", text)
    text = _CONTROL.sub("\ufffd", unicodedata.normalize("NFC", text))
    return join_arabic(text) if _ARABIC_RUN.search(text) else text


def markup(text: str) -> str:
    """User text made safe for a Paragraph: escaped, line breaks kept, each run in a font that has it."""
    text = prepare(text)
    if text.isascii():
        return escape(text).replace("\n", "<br/>")
    out: list[str] = []
    run: list[str] = []
    run_font: str | None = None

    def flush() -> None:
        if run:
            chunk = escape("".join(run)).replace("\n", "<br/>")
            out.append(f'<font name="{run_font}">{chunk}</font>' if run_font else chunk)
            run.clear()

    for ch in text:
        font = None if ch.isascii() else fonts.font_for(ord(ch))
        if font != run_font:
            flush()
            run_font = font
        run.append(ch)
    flush()
    fonts.ensure_drawable("".join(c for c in text if not c.isascii() and fonts.font_for(ord(c)) is None))
    return "".join(out)


def plain(text: str) -> str:
    """``text`` for a canvas string in DejaVu: prepared, and every character drawable (a box when missing)."""
    text = prepare(text).replace("\n", " ")
    if not text.isascii():
        fonts.ensure_drawable(text)
        if _RTL.search(text):
            text = "".join(ch for _i, ch in visual_order(text))
    return text


# ----- bidirectional text -------------------------------------------------------------------------------------
def visual_order(text: str, base_level: int | None = None) -> list[tuple[int, str]]:
    """(index in ``text``, character to draw) in visual order, by the Unicode bidirectional algorithm.

    Mirrored characters ("(" in a right-to-left run) come back mirrored; invisible formatting characters drop out.
    """
    ba: Any = bidi_algorithm
    storage = ba.get_empty_storage()
    level = ba.get_base_level(text) if base_level is None else base_level
    storage["base_level"] = level
    storage["base_dir"] = ("L", "R")[level]
    ba.get_embedding_levels(text, storage)
    for i, ch in enumerate(storage["chars"]):
        ch["index"] = i
        if not ch["type"]:  # unassigned code points have no class; Unicode says treat them as left-to-right
            ch["type"] = ch["orig"] = "L"
    try:
        ba.explicit_embed_and_overrides(storage)
        ba.resolve_weak_types(storage)
        ba.resolve_neutral_types(storage, False)
        ba.resolve_implicit_levels(storage, False)
        ba.reorder_resolved_levels(storage, False)
        ba.apply_mirroring(storage, False)
    except Exception:  # the summary must print: keep the typed order rather than fail
        log.exception("bidirectional reordering failed; text kept in logical order")
        return list(enumerate(text))
    return [(ch["index"], ch["ch"]) for ch in storage["chars"]]


def _visual_frag_line(line: Any, base: int) -> Any:
    words = line.words
    if any(hasattr(f, "cbDefn") for f in words):
        return line
    owners: list[int] = []
    text = []
    for n, f in enumerate(words):
        owners += [n] * len(f.text)
        text.append(f.text)
    joined = "".join(text)
    if not _RTL.search(joined):
        return line
    new: list[Any] = []
    current, chunk = -1, list[str]()
    for index, ch in visual_order(joined, base):
        owner = owners[index]
        if owner != current and chunk:
            new.append(words[current].clone(text="".join(chunk)))
            chunk = []
        current = owner
        chunk.append(ch)
    if chunk:
        new.append(words[current].clone(text="".join(chunk)))
    return line.clone(words=new)


class BidiParagraph(Paragraph):
    """A paragraph whose lines are put in visual order (right-to-left runs reversed) just before drawing.

    Lines are broken in logical order (as typed), so a long right-to-left note starts on the first line.
    """

    def visual(self) -> Any:
        """The broken lines (after ``wrap``) in visual order, as ReportLab's line structure."""
        logical: Any = getattr(self, "blPara")  # noqa: B009 - set by ReportLab's wrap
        text = "".join(getattr(f, "text", "") for f in self.frags)
        base = bidi_algorithm.get_base_level(text)
        lines = []
        for line in logical.lines:
            if logical.kind == 0 and isinstance(line, tuple):
                extra, words = line
                joined = " ".join(words)
                if _RTL.search(joined):
                    words = "".join(ch for _i, ch in visual_order(joined, base)).split(" ")
                lines.append((extra, words))
            elif logical.kind == 1:
                lines.append(_visual_frag_line(line, base))
            else:
                lines.append(line)
        return logical.clone(lines=lines)

    def visual_lines(self) -> list[str]:
        """Each line's text as drawn, left to right."""
        out = []
        for line in self.visual().lines:
            if isinstance(line, tuple):
                out.append(" ".join(line[1]))
            else:
                out.append("".join(getattr(f, "text", "") for f in line.words))
        return out

    def drawPara(self, debug: int = 0) -> Any:  # noqa: N802 - ReportLab's name
        logical: Any = getattr(self, "blPara")  # noqa: B009 - set by ReportLab's wrap
        self.blPara = self.visual()
        try:
            return super().drawPara(debug)
        finally:
            self.blPara = logical


def para(text: str, style: ParagraphStyle, **kw: Any) -> Paragraph:
    """A Paragraph of already escaped ``text``; laid out bidirectionally when it holds right-to-left text."""
    if _RTL.search(text):
        return BidiParagraph(text, style, **kw)
    return Paragraph(text, style, **kw)


# ----- text as outlines ---------------------------------------------------------------------------------------
class _PathPen:
    """A HarfBuzz drawing pen that appends glyph outlines to a ReportLab path, scaled and offset."""

    def __init__(self, path: Any, scale: float, dx: float) -> None:
        self.path, self.scale, self.dx = path, scale, dx
        self.last = (0.0, 0.0)

    def _xy(self, x: float, y: float) -> tuple[float, float]:
        return self.dx + x * self.scale, y * self.scale

    def moveTo(self, p: tuple[float, float]) -> None:  # noqa: N802 - the pen protocol's names
        self.path.moveTo(*self._xy(*p))
        self.last = p

    def lineTo(self, p: tuple[float, float]) -> None:  # noqa: N802
        self.path.lineTo(*self._xy(*p))
        self.last = p

    def curveTo(self, a: tuple[float, float], b: tuple[float, float], c: tuple[float, float]) -> None:  # noqa: N802
        self.path.curveTo(*self._xy(*a), *self._xy(*b), *self._xy(*c))
        self.last = c

    def qCurveTo(self, a: tuple[float, float], b: tuple[float, float]) -> None:  # noqa: N802
        (x0, y0), (x1, y1), (x2, y2) = self.last, a, b
        c1 = (x0 + 2 / 3 * (x1 - x0), y0 + 2 / 3 * (y1 - y0))
        c2 = (x2 + 2 / 3 * (x1 - x2), y2 + 2 / 3 * (y1 - y2))
        self.curveTo(c1, c2, b)

    def closePath(self) -> None:  # noqa: N802
        self.path.close()


def outline(path: Any, text: str, font_name: str, size: float) -> float:
    """Add ``text``'s glyph outlines (font ``font_name``, ``size`` points) to ``path`` from x = 0; returns the
    width. Drawn as shapes, the text is seen on the page but is not in the text layer (a watermark)."""
    ttf = pdfmetrics.getFont(font_name)
    face = hb.Face(hb.Blob.from_file_path(str(ttf.face.filename)))  # type: ignore[attr-defined]
    font = hb.Font(face)
    scale = size / face.upem
    buf = hb.Buffer()
    buf.add_str(text)
    buf.guess_segment_properties()
    hb.shape(font, buf, {"liga": False})
    x = 0.0
    for info, pos in zip(buf.glyph_infos, buf.glyph_positions, strict=True):
        font.draw_glyph_with_pen(info.codepoint, _PathPen(path, scale, x + pos.x_offset * scale))
        x += pos.x_advance * scale
    return x
