"""The summary's fonts: registered once, embedded (subset) in every PDF, and never a character lost.

DejaVu Sans (regular, bold, oblique) prints Latin, Greek, Cyrillic, Arabic, Hebrew and many symbols.
Chinese, Japanese and Korean, which DejaVu lacks, print in WenQuanYi Micro Hei, also shipped and embedded:
registered the first time such a character appears. A character neither font has (Devanagari, most emoji)
prints as the font's visible "missing glyph" box and still copies out of the PDF as the character typed.
"""

from __future__ import annotations

import threading
from functools import cache

from reportlab.pdfbase import pdfmetrics, ttfonts
from reportlab.pdfbase.ttfonts import TTFont

from kapconsole.resources_path import resource_path

SANS = "KapSans"
SANS_BOLD = "KapSans-Bold"
SANS_ITALIC = "KapSans-Oblique"
CJK = "KapCJK"  # CJK ideographs, kana, Hangul
#: Every face user text may be drawn in with DejaVu (bold labels, italic notes).
SANS_FACES = (SANS, SANS_BOLD, SANS_ITALIC)

_lock = threading.RLock()
_registered = False
_cjk_registered = False


def _to_unicode_cmap(fontname: str, subset: list[int]) -> str:
    """ReportLab's ToUnicode CMap, with characters beyond the BMP written as UTF-16 surrogate pairs.

    ReportLab writes ``<%04X>`` of the code point, which for U+1F600 gives five hex digits: a reader takes the
    first four and copies 😀 as "ὠ". The PDF specification wants UTF-16BE.
    """
    def utf16(code: int) -> str:
        return chr(code).encode("utf-16-be", "surrogatepass").hex().upper()

    cmap = [
        "/CIDInit /ProcSet findresource begin", "12 dict begin", "begincmap", "/CIDSystemInfo",
        f"<< /Registry ({fontname})", f"/Ordering ({fontname})", "/Supplement 0", ">> def",
        f"/CMapName /{fontname} def", "/CMapType 2 def", "1 begincodespacerange", f"<00> <{len(subset) - 1:02X}>",
        "endcodespacerange", f"{len(subset)} beginbfchar",
        *(f"<{i:02X}> <{utf16(v)}>" for i, v in enumerate(subset)),
        "endbfchar", "endcmap", "CMapName currentdict /CMap defineresource pop", "end", "end",
    ]
    return "\n".join(cmap)


def register_fonts() -> None:
    """Register DejaVu Sans (regular, bold, oblique) as one family; safe to call from any thread, many times."""
    global _registered
    with _lock:
        if _registered:
            return
        ttfonts.makeToUnicodeCMap = _to_unicode_cmap  # see _to_unicode_cmap
        for name, file in ((SANS, "DejaVuSans.ttf"), (SANS_BOLD, "DejaVuSans-Bold.ttf"),
                           (SANS_ITALIC, "DejaVuSans-Oblique.ttf")):
            pdfmetrics.registerFont(TTFont(name, str(resource_path("fonts", file))))
        pdfmetrics.registerFontFamily(SANS, normal=SANS, bold=SANS_BOLD, italic=SANS_ITALIC, boldItalic=SANS_BOLD)
        _registered = True


def register_cjk() -> str:
    global _cjk_registered
    with _lock:
        if not _cjk_registered:
            path = resource_path("fonts", "wqy-microhei.ttc")
            pdfmetrics.registerFont(TTFont(CJK, str(path), subfontIndex=0))
            _cjk_registered = True
    return CJK


@cache
def _own_glyphs(name: str) -> frozenset[int]:
    """The characters ``name`` has a real glyph for (read before any placeholder is added)."""
    register_fonts()
    return frozenset(pdfmetrics.getFont(name).face.charToGlyph)  # type: ignore[attr-defined]


@cache
def sans_covers() -> frozenset[int]:
    """Characters every DejaVu face draws."""
    faces = [_own_glyphs(n) for n in SANS_FACES]
    return faces[0].intersection(*faces[1:])


def sans_regular_covers() -> frozenset[int]:
    return _own_glyphs(SANS)


def cjk_range(code: int) -> bool:
    hangul = 0xAC00 <= code <= 0xD7AF or 0x1100 <= code <= 0x11FF or 0x3130 <= code <= 0x318F
    han_kana = 0x2E80 <= code <= 0x9FFF or 0xF900 <= code <= 0xFAFF or 0xFF00 <= code <= 0xFFEF
    return hangul or han_kana or 0x20000 <= code <= 0x3FFFF


@cache
def cjk_covers() -> frozenset[int]:
    return frozenset(pdfmetrics.getFont(register_cjk()).face.charToGlyph)  # type: ignore[attr-defined]


def font_for(code: int) -> str | None:
    """``None`` for DejaVu (the style's own face), else the name of the font that has the character."""
    if code in sans_regular_covers():
        return None
    if cjk_range(code) and code in cjk_covers():
        return CJK
    return None


_boxed: set[tuple[str, int]] = set()


def ensure_drawable(text: str, faces: tuple[str, ...] = SANS_FACES) -> None:
    """Let every character of ``text`` be drawn by each face in ``faces``: the ones a face lacks are mapped to its
    "missing glyph" box, so they print visibly and copy out of the PDF as themselves (ReportLab would otherwise
    draw nothing and copy nothing)."""
    register_fonts()
    todo = [(name, code) for code in {ord(c) for c in text if ord(c) > 0x7E}
            for name in faces if code not in _own_glyphs(name) and (name, code) not in _boxed]
    if not todo:
        return
    with _lock:
        for name, code in todo:
            if (name, code) in _boxed:
                continue
            face = pdfmetrics.getFont(name).face  # type: ignore[attr-defined]
            if code not in face.charToGlyph:
                face.charToGlyph[code] = 0
                face.charWidths[code] = face.defaultWidth or 600
            _boxed.add((name, code))
