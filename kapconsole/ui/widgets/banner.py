"""A one-line, non-modal message strip (errors that need no dialog, a lost database)."""

from __future__ import annotations

from PySide6.QtWidgets import QFrame, QHBoxLayout, QPushButton, QWidget

from kapconsole.ui.widgets import theme
from kapconsole.ui.widgets.text import PlainLabel


class Banner(QFrame):
    """A one-line, non-modal message strip across the top of the current screen."""

    def __init__(self, name: str, severity: str, *, dismissable: bool, parent: QWidget | None = None) -> None:
        super().__init__(parent, objectName=name)
        self.label = PlainLabel("", objectName=f"{name}Text")
        self.label.setWordWrap(True)
        self.label.setAccessibleName("Message")
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.label, 1)
        if dismissable:
            close = QPushButton("Dismiss", objectName=f"{name}Dismiss")
            close.setToolTip("Hide this message")
            close.clicked.connect(self.hide)
            layout.addWidget(close)
        theme.set_flag(self, "banner")
        theme.set_severity(self, severity)
        theme.set_severity(self.label, severity)
        theme.set_flag(self.label, "banner")
        self.hide()

    def show_message(self, text: str) -> None:
        self.label.setText(text)
        self.show()

    @property
    def text(self) -> str:
        return self.label.text() if self.isVisible() else ""
