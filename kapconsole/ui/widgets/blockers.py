"""What blocks an action, as the services say it: each blocker's reason and its way forward.

The services refuse with structured blockers (``GateBlocked.blockers``); this widget lays them out one a line,
in plain text, and offers a tick box for each blocker the person may confirm themselves (e.g. a dose above the
plan, named with its amount). Overrides and acknowledgements are offered by the screen that shows it.
"""

from __future__ import annotations

from collections.abc import Iterable

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QCheckBox, QVBoxLayout, QWidget

from kapconsole.domain.gates import Blocker
from kapconsole.ui.widgets.text import PlainLabel
from kapconsole.ui.widgets.theme import set_severity


def blocker_line(blocker: Blocker) -> str:
    return f"• {blocker.label} — {blocker.way_forward}"


class BlockerList(QWidget):
    """A list of blockers; ``confirmed_keys`` are the confirmable ones the person ticked."""

    changed = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent, objectName="blockerList")
        self.heading = PlainLabel("", objectName="blockerHeading")
        self.heading.setTextFormat(Qt.TextFormat.PlainText)
        self.heading.setWordWrap(True)
        self.lines = PlainLabel("", objectName="blockerLines")
        self.lines.setTextFormat(Qt.TextFormat.PlainText)
        self.lines.setWordWrap(True)
        self.lines.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self._layout = QVBoxLayout(self)
        self._layout.setContentsMargins(0, 0, 0, 0)
        self._layout.addWidget(self.heading)
        self._layout.addWidget(self.lines)
        self.boxes: dict[str, QCheckBox] = {}
        self.blockers: tuple[Blocker, ...] = ()
        self.hide()

    def show_blockers(self, heading: str, blockers: Iterable[Blocker]) -> None:
        kept = {k for k, box in self.boxes.items() if box.isChecked()}
        for box in self.boxes.values():
            self._layout.removeWidget(box)
            box.deleteLater()
        self.boxes = {}
        self.blockers = tuple(blockers)
        self.heading.setText(heading)
        self.lines.setText("\n".join(blocker_line(b) for b in self.blockers if not b.confirmable))
        self.lines.setVisible(any(not b.confirmable for b in self.blockers))
        for b in self.blockers:
            if b.confirmable:
                # "&" would become a keyboard mnemonic on a check box: doubled, it shows as itself.
                box = QCheckBox(f"I confirm: {b.label}".replace("&", "&&"), objectName=f"confirm:{b.key}")
                box.setAccessibleName(f"Confirm {b.label}")
                box.setChecked(b.key in kept)
                box.toggled.connect(self.changed)
                self._layout.addWidget(box)
                self.boxes[b.key] = box
        set_severity(self.heading, "danger" if any(not b.confirmable for b in self.blockers) else "warning")
        self.setVisible(bool(self.blockers))

    def clear(self) -> None:
        self.show_blockers("", ())

    @property
    def confirmed_keys(self) -> list[str]:
        return sorted(k for k, box in self.boxes.items() if box.isChecked())

    @property
    def overridable(self) -> list[Blocker]:
        return [b for b in self.blockers if b.overridable and not b.confirmable]
