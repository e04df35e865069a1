"""Small pieces the front desk's forms share: plain-text labels, eliding labels, messages listing every error."""

from __future__ import annotations

from collections.abc import Iterable

from PySide6.QtCore import Qt
from PySide6.QtGui import QResizeEvent
from PySide6.QtWidgets import QLabel, QSizePolicy, QWidget

from kapconsole.ui.widgets.text import PlainLabel
from kapconsole.ui.widgets.theme import set_severity


def plain(text: str = "", name: str = "", *, wrap: bool = False, parent: QWidget | None = None) -> QLabel:
    """A label that shows its text as typed: never rich text, never a mnemonic."""
    label = PlainLabel("", parent, objectName=name) if name else PlainLabel("", parent)
    label.setTextFormat(Qt.TextFormat.PlainText)
    label.setWordWrap(wrap)
    label.setText(text)
    return label


class ElidedLabel(QLabel):
    """One line of user text that shortens itself with "…" instead of widening the window; the whole text is
    in the tooltip and the accessible description."""

    def __init__(self, text: str = "", name: str = "", parent: QWidget | None = None) -> None:
        super().__init__(parent, objectName=name or None)
        self.setTextFormat(Qt.TextFormat.PlainText)
        self.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.setMinimumWidth(40)
        self._full = ""
        self.set_full_text(text)

    def set_full_text(self, text: str) -> None:
        self._full = text
        self.setToolTip(text)
        self.setAccessibleDescription(text)
        self._elide()

    def full_text(self) -> str:
        return self._full

    def resizeEvent(self, event: QResizeEvent) -> None:  # noqa: N802 (Qt override)
        super().resizeEvent(event)
        self._elide()

    def _elide(self) -> None:
        width = max(self.width(), 40)
        self.setText(self.fontMetrics().elidedText(self._full.replace("\n", " "), Qt.TextElideMode.ElideRight,
                                                   width))


def show_errors(label: QLabel, messages: Iterable[str], severity: str = "danger") -> None:
    """Every refused field at once, one a line ("Not saved — …" first)."""
    lines = list(messages)
    if not lines:
        label.clear()
        label.hide()
        return
    head = "Not saved — " if severity == "danger" else ""
    label.setTextFormat(Qt.TextFormat.PlainText)
    label.setText(head + "\n".join(lines))
    set_severity(label, severity)
    label.show()


def button_text(text: str) -> str:
    """User text on a button: '&' shown as itself, not taken as a mnemonic."""
    return text.replace("&", "&&")
