"""User text on screen: shown as typed (never as markup), in every script, and never wider than the screen."""

from __future__ import annotations

from PySide6.QtGui import QFont, QTextLayout
from PySide6.QtWidgets import QApplication

from kapconsole.ui.widgets import theme


def _glyph_families(text: str, family: str) -> list[tuple[str, list[int]]]:
    layout = QTextLayout(text, QFont(family, 12))
    layout.beginLayout()
    layout.createLine()
    layout.endLayout()
    return [(run.rawFont().familyName(), list(run.glyphIndexes())) for run in layout.glyphRuns()]


def test_chinese_and_japanese_have_glyphs_in_the_console_font(qapp: QApplication) -> None:
    theme.apply_theme(False, qapp)
    for text in ("王小明", "さくら", "安心して", "김민준"):
        runs = _glyph_families(text, theme.UI_FAMILY)
        assert runs and all(0 not in glyphs for _family, glyphs in runs), (text, runs)
        assert any("WenQuanYi" in family for family, _g in runs), runs
    # Latin stays in the console's own type.
    assert [f for f, _g in _glyph_families("Jo Client", theme.UI_FAMILY)] == ["DejaVu Sans"]
