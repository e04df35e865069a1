"""Day and night themes, alert styling, and the chart palette.

Alert styling is done with *dynamic properties* that both stylesheets understand, so a widget looks right in
either theme without knowing which one is on. Set them with :func:`set_severity` / :func:`set_flag` (they
re-polish the widget; a bare ``setProperty`` after the widget is shown does not restyle it):

``severity``   on any widget: ``"danger"`` (red: out-of-range value, alert, database unreachable),
               ``"warning"`` (amber: due, pending, blocked), ``"ok"`` (green: confirmed, allowed),
               ``"info"`` (neutral highlight), ``""`` (normal).
``alert``      ``"true"`` is the same as ``severity="danger"`` (for code that only knows "this alerts").
``heading``    ``"true"``: large bold screen or section title.
``muted``      ``"true"``: secondary text (times, who confirmed).
``primary``    ``"true"`` on a QPushButton: the one main action of a screen.
``banner``     ``"true"`` on a QFrame/QLabel: a full-width message strip (combine with ``severity``).
``bigvalue``   ``"true"`` on a QLabel: a large number (latest vitals).
``strong``     ``"true"``: bold text (a QSS font wins over ``setFont``, so use this instead of a bold font).

Night mode is a dim, low-glare dark theme with large type (16 pt base; day 12 pt). It is remembered per
*context*: :data:`SESSION` (the live session and checklist screens, used in the dim treatment room; night by
default) and :data:`ELSEWHERE` (every other screen; day by default). Ctrl+Shift+N switches the context on
screen at any time, and the theme follows when the user moves between screens. There are no sounds anywhere.

Table cells cannot take dynamic properties: models colour them with :func:`cell_colours` (the same colours as
the stylesheets' ``severity`` rules) and :func:`text_colour`, so no view keeps its own copy of the palette.
"""

from __future__ import annotations

from functools import lru_cache

from PySide6.QtCore import QObject, Qt
from PySide6.QtGui import QColor, QFont, QFontDatabase, QPalette
from PySide6.QtWidgets import QApplication, QWidget

from kapconsole.resources_path import resource_path
from kapconsole.ui.shell import settings as cfg

DAY_POINT_SIZE = 12
NIGHT_POINT_SIZE = 16
#: The live session and checklist screens (a dim room): night unless the user chose day there.
SESSION = "session"
#: Every other screen (Today, board, audit, sign-in): day unless the user chose night there.
ELSEWHERE = "elsewhere"
_NIGHT_KEYS = {SESSION: cfg.KEY_NIGHT_SESSION, ELSEWHERE: cfg.KEY_NIGHT}
_NIGHT_DEFAULTS = {SESSION: True, ELSEWHERE: False}
_fonts_loaded = False
#: The console's type; the CJK font shipped with it stands in for the characters DejaVu Sans lacks
#: (Chinese, Japanese, Korean names and notes would otherwise show as empty boxes).
UI_FAMILY = "DejaVu Sans"
CJK_FONT = "wqy-microhei.ttc"


def _load_fonts() -> None:
    global _fonts_loaded
    if _fonts_loaded:
        return
    _fonts_loaded = True
    for name in ("DejaVuSans.ttf", "DejaVuSans-Bold.ttf", "DejaVuSans-Oblique.ttf"):
        path = resource_path("fonts", name)
        if path.exists():
            QFontDatabase.addApplicationFont(str(path))
    register_cjk_fallback()


def register_cjk_fallback() -> list[str]:
    """Register the shipped CJK font and make it the fallback of the console's type; returns its families."""
    path = resource_path("fonts", CJK_FONT)
    font_id = QFontDatabase.addApplicationFont(str(path)) if path.exists() else -1
    families = [f for f in QFontDatabase.applicationFontFamilies(font_id) if "Mono" not in f] if font_id >= 0 else []
    if families:
        default = QApplication.font().family() if QApplication.instance() is not None else UI_FAMILY
        for family in {UI_FAMILY, default, "Sans Serif"}:
            known = QFont.substitutes(family)
            QFont.insertSubstitutions(family, [f for f in families if f not in known])
    return families


@lru_cache(maxsize=2)
def stylesheet(night: bool) -> str:
    """The theme's QSS, with ``@STYLES@`` replaced by the folder its images are in."""
    text = resource_path("styles", "night.qss" if night else "day.qss").read_text(encoding="utf-8")
    return text.replace("@STYLES@", resource_path("styles").as_posix())


def apply_theme(night: bool, app: QApplication | None = None) -> None:
    """Apply the day or night stylesheet to the whole application (dialogs included)."""
    app = app or QApplication.instance()  # type: ignore[assignment]
    if app is None:
        return
    _load_fonts()
    # Fusion draws every widget from the palette, so the dark palette reaches check boxes, scroll bars and
    # headers too; the stylesheet adds type sizes and the alert properties.
    app.setStyle("Fusion")
    app.setPalette(palette(night))
    app.setStyleSheet(stylesheet(night))
    app.setProperty("night", night)


def set_shown(night: bool) -> None:
    """Make ``night`` the theme on screen: the application's palette (what :func:`is_night` answers).

    Only the palette is the application's: widgets under a style sheet take their colours from it (a palette
    set on a screen does not reach them), and changing it restyles nothing.
    """
    app = QApplication.instance()
    if not isinstance(app, QApplication) or (app.property("night") is not None and is_night() == night):
        return
    app.setPalette(palette(night))
    app.setProperty("night", night)


def style_subtree(widget: QWidget, night: bool, extra: str = "") -> bool:
    """Give ``widget`` and its children the day or night style sheet (the colours come from the palette of
    :func:`set_shown`).

    Only that subtree is restyled (``QApplication.setStyleSheet`` would restyle every widget of the
    application), and nothing at all when it already has this look. ``extra`` is QSS of the widget's own,
    added after the theme's. Returns whether anything changed.
    """
    key = f"{'night' if night else 'day'}:{hash(extra)}"
    if widget.property("themeKey") == key:
        return False
    _load_fonts()
    widget.setStyleSheet(stylesheet(night) + extra)
    widget.setProperty("themeKey", key)
    widget.setProperty("night", night)
    return True


def style_windows(main: QWidget) -> None:
    """Style every shown window but ``main`` (dialogs, message boxes) with the theme on screen."""
    night = is_night()
    for widget in QApplication.topLevelWidgets():
        if widget is not main and widget.isVisible():
            style_subtree(widget, night)


def scope_to_windows(main: QWidget) -> None:
    """Move the theme from the application to its windows: clear the application's style sheet (once, before
    the main window has many widgets); the main window styles its screens one by one, and every other window
    is styled when it takes the focus (:func:`style_windows`)."""
    app = QApplication.instance()
    if not isinstance(app, QApplication):
        return
    _load_fonts()
    if app.style().name().lower() != "fusion":
        app.setStyle("Fusion")
    if app.styleSheet():
        app.setStyleSheet("")
    styler = _WindowStyler(main)
    app.focusWindowChanged.connect(styler.on_focus_window_changed)


class _WindowStyler(QObject):
    """Belongs to the main window, so the connection ends with it."""

    def __init__(self, main: QWidget) -> None:
        super().__init__(main)
        self._main = main

    def on_focus_window_changed(self, _window: object) -> None:
        style_windows(self._main)


def palette(night: bool) -> QPalette:
    pal = QPalette()
    colours = _NIGHT if night else _DAY
    role = QPalette.ColorRole
    for name, colour in colours.items():
        pal.setColor(getattr(role, name), QColor(colour))
    disabled = "#948a7a" if night else "#6b7079"
    for name in ("WindowText", "Text", "ButtonText"):
        pal.setColor(QPalette.ColorGroup.Disabled, getattr(role, name), QColor(disabled))
    return pal


_DAY = {
    "Window": "#f3f4f6", "WindowText": "#111418", "Base": "#ffffff", "AlternateBase": "#f6f7f9",
    "Text": "#111418", "Button": "#e8eaee", "ButtonText": "#111418", "Highlight": "#1d5fbf",
    "HighlightedText": "#ffffff", "ToolTipBase": "#ffffe8", "ToolTipText": "#111418", "PlaceholderText": "#6b7280",
    "Link": "#1d5fbf", "BrightText": "#ffffff", "Mid": "#c4c8cf", "Dark": "#9aa0a8", "Light": "#ffffff",
}
_NIGHT = {
    "Window": "#141312", "WindowText": "#d6ccba", "Base": "#1c1a18", "AlternateBase": "#211f1c",
    "Text": "#e0d6c4", "Button": "#2a2724", "ButtonText": "#e0d6c4", "Highlight": "#5a4a2c",
    "HighlightedText": "#f3e8d2", "ToolTipBase": "#2a2724", "ToolTipText": "#e0d6c4", "PlaceholderText": "#8a8070",
    "Link": "#d9b45a", "BrightText": "#ffffff", "Mid": "#3a3631", "Dark": "#0c0b0a", "Light": "#3d3934",
}


def is_night() -> bool:
    app = QApplication.instance()
    return bool(app.property("night")) if app is not None else False


def remembered_night(context: str = ELSEWHERE) -> bool:
    """The remembered choice for ``context`` (:data:`SESSION` or :data:`ELSEWHERE`), or its default."""
    return cfg.read_bool(_NIGHT_KEYS[context], _NIGHT_DEFAULTS[context])


def remember_night(night: bool, context: str = ELSEWHERE) -> None:
    cfg.write(_NIGHT_KEYS[context], night)


def repolish(widget: QWidget) -> None:
    style = widget.style()
    style.unpolish(widget)
    style.polish(widget)
    widget.update()


def set_severity(widget: QWidget, severity: str) -> None:
    """Style ``widget`` as ``danger``, ``warning``, ``ok``, ``info`` or normal (``""``)."""
    if widget.property("severity") != severity:
        widget.setProperty("severity", severity)
        repolish(widget)


def set_flag(widget: QWidget, name: str, on: bool = True) -> None:
    """Set a boolean styling property (``heading``, ``muted``, ``primary``, ``banner``, ``bigvalue``, ``strong``, ``alert``)."""
    value = "true" if on else "false"
    if widget.property(name) != value:
        widget.setProperty(name, value)
        repolish(widget)


#: (background, text) of a table cell of each severity: the stylesheets' ``severity`` colours, plus
#: ``danger-tint`` (a whole row about an unacknowledged alert: tinted, not a solid red block).
_CELLS = {
    False: {"danger": ("#c62828", "#ffffff"), "warning": ("#ffcc4d", "#1a1300"), "ok": ("#d7f0d9", "#0d3b12"),
            "info": ("#dbe8fb", "#0b2a55"), "danger-tint": ("#fbe0e0", "#8e0f0f")},
    True: {"danger": ("#8c1c13", "#fff1e6"), "warning": ("#6e4d00", "#ffe6a6"), "ok": ("#1f3b26", "#cfe8cf"),
           "info": ("#2a2f38", "#d8dde6"), "danger-tint": ("#4a1a17", "#ffb4a8")},
}
#: Coloured text on the ordinary background (no cell colour): alert text, "after sign-off" notes.
_TEXT = {
    False: {"danger": "#9b1111", "warning": "#7a4d00", "ok": "#1b5e20", "info": "#0b2a55"},
    True: {"danger": "#ff9e8e", "warning": "#e6b866", "ok": "#9fd4a0", "info": "#b9c6da"},
}


def cell_colours(severity: str, night: bool | None = None) -> tuple[str, str] | None:
    """``(background, text)`` of a table cell of ``severity`` (``None`` for normal); ``night`` defaults to
    the theme on screen."""
    return _CELLS[is_night() if night is None else night].get(severity)


def text_colour(severity: str, night: bool | None = None) -> str | None:
    """Text of ``severity`` on the ordinary background (``None`` for normal)."""
    return _TEXT[is_night() if night is None else night].get(severity)


def cell_role_colour(severity: str, role: int, night: bool | None = None) -> QColor | None:
    """What a model's ``data()`` returns for ``BackgroundRole`` / ``ForegroundRole`` of a ``severity`` cell."""
    pair = cell_colours(severity, night)
    if pair is None:
        return None
    if role == Qt.ItemDataRole.BackgroundRole:
        return QColor(pair[0])
    if role == Qt.ItemDataRole.ForegroundRole:
        return QColor(pair[1])
    return None


def chart_palette(night: bool) -> dict[str, str]:
    """Colours for the vitals chart, as ``#rrggbb`` strings.

    Keys: ``background``, ``foreground`` (axes, text), ``grid``, ``sbp``, ``dbp``, ``hr``, ``spo2``, ``rr``,
    ``temp``, ``threshold`` (alert lines), ``predose`` (pre-dose hold lines), ``dose`` (dose marks),
    ``infusion`` (IV infusion band), ``alert`` (an alerting point), ``now`` (the current-time line).
    Night colours are dim and warm (little blue light) but keep the series apart.
    """
    if night:
        return {
            "background": "#121110",
            "foreground": "#c9bfae",
            "grid": "#2b2825",
            "sbp": "#e0806a",
            "dbp": "#b8705e",
            "hr": "#d9b45a",
            "spo2": "#7fb3a0",
            "rr": "#a79ac4",
            "temp": "#b7a37a",
            "threshold": "#a8433a",
            "predose": "#8a6a2a",
            "dose": "#e8d9b0",
            "infusion": "#3a3222",
            "alert": "#ff5a48",
            "now": "#6d655a",
        }
    return {
        "background": "#ffffff",
        "foreground": "#1f2328",
        "grid": "#e3e6ea",
        "sbp": "#c62828",
        "dbp": "#8e2424",
        "hr": "#1565c0",
        "spo2": "#2e7d32",
        "rr": "#6a1b9a",
        "temp": "#795548",
        "threshold": "#d32f2f",
        "predose": "#ef8f00",
        "dose": "#37474f",
        "infusion": "#fff3cd",
        "alert": "#d50000",
        "now": "#90a4ae",
    }
