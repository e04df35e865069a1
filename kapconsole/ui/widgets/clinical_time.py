"""The clinical-time field of every entry form: empty means now; a typed time sets the entry back.

A plain text field, read with :func:`kapconsole.domain.clinical_time.parse_clinical_time`: a date-time spin box
"corrects" a half-typed date against its limits as each digit arrives (2026-11-30 23:59 became 2026-11-03
02:35), so what is typed is read only once, whole, when the entry is saved.
"""

from __future__ import annotations

from datetime import datetime

from PySide6.QtWidgets import QLineEdit, QWidget

from kapconsole.domain.clinical_time import FORMAT_HINT, parse_clinical_time


class ClinicalTimeField(QLineEdit):
    def __init__(self, name: str, parent: QWidget | None = None, *, label: str = "Time") -> None:
        super().__init__(parent, objectName=name)
        self._label = label
        self.setPlaceholderText("time: now")
        self.setAccessibleName(f"{label} (empty for now; type {FORMAT_HINT} to set it back)")
        self.setToolTip(f"{label}: leave empty for now, or type {FORMAT_HINT} for an entry made late "
                        "(never in the future, never before the session began)")
        self.setMaxLength(32)
        self.setClearButtonEnabled(True)
        width = self.fontMetrics().horizontalAdvance("2026-11-30 23:59") + 36
        self.setMinimumWidth(min(width, 190))

    def moment(self, now: datetime) -> datetime | None:
        """The typed moment (None: now). Raises ``ValidationError`` naming the field for unreadable text."""
        return parse_clinical_time(self.text(), now=now, field=self._label.lower())

    def set_moment(self, moment: datetime | None) -> None:
        self.setText("" if moment is None else moment.astimezone().strftime("%Y-%m-%d %H:%M"))
