"""Showing text that people typed: always as plain text, never as markup, and never wider than the screen.

A ``QLabel`` guesses rich text when its text contains ``<``, so a client called ``<b>Jo</b>`` would show in
bold and ``<script>`` would vanish; a button turns ``&`` into a keyboard mnemonic. Every label in the console
is a :class:`PlainLabel`; text from users on a button goes through :func:`button_text`; a tooltip through
:func:`tooltip_text`. Text that comes from users elides (:class:`ElidedLabel`): it never sets a minimum size.
"""

from __future__ import annotations

from PySide6.QtCore import QSize, Qt
from PySide6.QtGui import QPainter, QPaintEvent
from PySide6.QtGui import Qt as GuiQt
from PySide6.QtWidgets import QLabel, QWidget

from kapconsole.domain.values import Client


class PlainLabel(QLabel):
    """A label that shows its text exactly as given (``Qt.PlainText``)."""

    def __init__(self, text: str = "", parent: QWidget | None = None, **kwargs: object) -> None:
        super().__init__(text, parent, **kwargs)
        self.setTextFormat(Qt.TextFormat.PlainText)


class ElidedLabel(PlainLabel):
    """A one-line plain label that elides (…) when narrow; its full text is in ``text()`` and the tooltip.

    Its minimum width is a few characters, whatever the text: a long name never widens the window.
    """

    def __init__(self, text: str = "", parent: QWidget | None = None, *, min_chars: int = 8,
                 **kwargs: object) -> None:
        super().__init__(text, parent, **kwargs)
        self._min_chars = min_chars
        self.setWordWrap(False)
        self._sync_tooltip()

    def setText(self, text: str) -> None:  # noqa: N802 (Qt override)
        super().setText(text)
        self._sync_tooltip()

    def _sync_tooltip(self) -> None:
        self.setToolTip(tooltip_text(self.text()) if self.is_elided() else "")

    def is_elided(self) -> bool:
        width = self.contentsRect().width()
        return width > 0 and self.fontMetrics().horizontalAdvance(self.text()) > width

    def shown_text(self) -> str:
        """The text as painted (elided to the label's width)."""
        return self.fontMetrics().elidedText(self.text(), Qt.TextElideMode.ElideRight,
                                             max(1, self.contentsRect().width()))

    def minimumSizeHint(self) -> QSize:  # noqa: N802 (Qt override)
        hint = super().minimumSizeHint()
        narrow = self.fontMetrics().horizontalAdvance("M" * self._min_chars)
        return QSize(min(hint.width(), narrow), hint.height())

    def sizeHint(self) -> QSize:  # noqa: N802 (Qt override)
        hint = super().sizeHint()
        return QSize(max(hint.width(), self.minimumSizeHint().width()), hint.height())

    def resizeEvent(self, event: object) -> None:  # noqa: N802 (Qt override)
        super().resizeEvent(event)  # type: ignore[arg-type]
        self._sync_tooltip()

    def paintEvent(self, event: QPaintEvent) -> None:  # noqa: N802 (Qt override)
        painter = QPainter(self)
        rect = self.contentsRect()
        self.style().drawItemText(painter, rect, int(self.alignment()), self.palette(), self.isEnabled(),
                                  self.shown_text(), self.foregroundRole())


def shorten(text: str, limit: int = 40) -> str:
    """``text`` cut to ``limit`` characters with an ellipsis: for user text inside a button's caption."""
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def button_text(text: str) -> str:
    """``text`` for a button or check box: an ``&`` is shown, not taken as a keyboard mnemonic."""
    return text.replace("&", "&&")


def tooltip_text(text: str) -> str:
    """``text`` for a tooltip, shown as typed (a tooltip also guesses rich text)."""
    if not text:
        return ""
    return GuiQt.convertFromPlainText(text, GuiQt.WhiteSpaceMode.WhiteSpaceNormal)


def client_identity(client: Client) -> str:
    """Name, date of birth and identifier: how a dialog that signs or discharges names the client."""
    born = client.date_of_birth.isoformat() if client.date_of_birth else "not recorded"
    return f"{client.name} · born {born} · {client.identifier}"
