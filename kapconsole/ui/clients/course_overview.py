"""The arc of a client's course: one column per session (oldest left), one row per measure."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import (
    QAbstractTableModel,
    QEvent,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    QPointF,
    QRectF,
    Qt,
)
from PySide6.QtGui import QFont, QPainter, QPalette, QPen
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHeaderView,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from kapconsole.reports.data import CourseSessionLine, Moment
from kapconsole.ui.widgets.text import PlainLabel
from kapconsole.ui.widgets.theme import set_flag

_Index = QModelIndex | QPersistentModelIndex
NONE = "—"


def _at(text: str, moment: Moment) -> str:
    return f"{text} at {moment.offset}" if moment.offset else f"{text} at {moment.clock}"


def _date(line: CourseSessionLine) -> str:
    return f"{line.scheduled_at:%d %b %Y}"


def _session(line: CourseSessionLine) -> str:
    return line.course_label[:1].upper() + line.course_label[1:]


def _signed(line: CourseSessionLine) -> str:
    signed_by = line.summary.signed_by
    return f"Signed by {signed_by}" if signed_by else f"DRAFT — not signed ({line.state})"


def _dose(line: CourseSessionLine) -> str:
    doses = line.summary.doses
    if not doses:
        return "no dose recorded"
    return "\n".join(f"{d.drug} {d.dose} {d.route.lower()}" + (f"  at {d.moment.clock}" if len(doses) > 1 else "")
                     for d in doses)


def _peak_bp(line: CourseSessionLine) -> str:
    bp = line.summary.peak_bp
    return _at(bp.text, bp.moment) if bp else NONE


def _spo2(line: CourseSessionLine) -> str:
    value = line.summary.lowest_spo2
    return _at(f"{value.text} %", value.moment) if value else NONE


def _dissociation(line: CourseSessionLine) -> str:
    value = line.summary.dissociation_peak
    return _at(f"{value.text}/10", value.moment) if value else "not scored"


def _side_effects(line: CourseSessionLine) -> str:
    effects = line.summary.side_effects
    if not effects:
        return "none recorded"
    return "\n".join(f"{e.effect} ({e.severity})" + ("" if e.resolved else ", not resolved") for e in effects)


def _outcomes(line: CourseSessionLine) -> str:
    return "\n".join(f"{name} {total} ({band})" for name, total, band in line.outcomes) or "not recorded"


def _integration(line: CourseSessionLine) -> str:
    return "\n\n".join(f"• {item.text}" for item in line.integration) or "none marked"


#: (row heading, how to show a session); the date and number are in the column header
ROWS: tuple[tuple[str, Callable[[CourseSessionLine], str]], ...] = (
    ("Summary", _signed),
    ("Outcome measures", _outcomes),
    ("Dose and route", _dose),
    ("Peak BP", _peak_bp),
    ("Lowest SpO₂", _spo2),
    ("Dissociation peak", _dissociation),
    ("Side effects", _side_effects),
    ("For integration", _integration),
)


class CourseOverviewModel(QAbstractTableModel):
    """Columns are sessions (oldest first), rows are the measures in :data:`ROWS`."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.lines: list[CourseSessionLine] = []

    def set_lines(self, lines: list[CourseSessionLine]) -> None:
        self.beginResetModel()
        self.lines = sorted(lines, key=lambda line: (line.scheduled_at, line.session_id))
        self.endResetModel()

    def rowCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008, N802
        return 0 if parent.isValid() else len(ROWS)

    def columnCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008, N802
        return 0 if parent.isValid() else len(self.lines)

    def headerData(self, section: int, orientation: Qt.Orientation,  # noqa: N802
                   role: int = Qt.ItemDataRole.DisplayRole) -> object:
        if role not in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.AccessibleTextRole):
            return None
        if orientation == Qt.Orientation.Vertical:
            return ROWS[section][0]
        line = self.lines[section]
        return f"{_session(line)}\n{_date(line)}"

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole) -> object:
        if not index.isValid():
            return None
        heading, show = ROWS[index.row()]
        line = self.lines[index.column()]
        if role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.ToolTipRole):
            return show(line)
        if role == Qt.ItemDataRole.AccessibleTextRole:
            return f"{_session(line)}, {heading}: {show(line)}"
        if role == Qt.ItemDataRole.FontRole and heading == "Summary" and not line.summary.signed_by:
            font = QFont()
            font.setBold(True)
            return font
        if role == Qt.ItemDataRole.TextAlignmentRole:
            return int(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop)
        return None


#: Outcome instruments in the trend chart: (name, highest total, pen style, marker); told apart without colour.
TRENDS = (("PHQ-9", 27, Qt.PenStyle.SolidLine, "dot"), ("GAD-7", 21, Qt.PenStyle.DashLine, "square"),
          ("PCL-5", 80, Qt.PenStyle.DotLine, "cross"))


class OutcomeTrendChart(QWidget):
    """A small chart of the course's outcome measures, session by session (share of each scale's maximum)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent, objectName="outcomeTrendChart")
        self.setMinimumHeight(110)
        self.setAccessibleName("Outcome measures across the course")
        self.series: dict[str, list[tuple[int, int]]] = {}  # name → (session index, total)
        self.sessions = 0

    def set_lines(self, lines: list[CourseSessionLine]) -> None:
        ordered = sorted(lines, key=lambda line: (line.scheduled_at, line.session_id))
        self.sessions = len(ordered)
        self.series = {}
        for i, line in enumerate(ordered):
            for name, total, _band in line.outcomes:
                self.series.setdefault(name, []).append((i, total))
        described = "; ".join(f"{name} " + " → ".join(str(t) for _i, t in points)
                              for name, points in self.series.items())
        self.setAccessibleDescription(described or "no outcome measures recorded")
        self.setToolTip(described)
        self.setVisible(bool(self.series))
        self.update()

    def paintEvent(self, _event: QEvent) -> None:  # noqa: N802 (Qt override)
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        ink = self.palette().color(QPalette.ColorRole.WindowText)
        left, top, right, bottom = 8, 18, self.width() - 8, self.height() - 8
        painter.setPen(QPen(ink, 1))
        painter.drawLine(left, bottom, right, bottom)
        steps = max(1, self.sessions - 1)
        x_legend = left
        for name, highest, style, marker in TRENDS:
            points = self.series.get(name)
            if not points:
                continue
            pen = QPen(ink, 1.6, style)
            painter.setPen(pen)
            xy = [QPointF(left + (right - left) * i / steps, bottom - (bottom - top) * total / highest)
                  for i, total in points]
            for a, b in zip(xy, xy[1:], strict=False):
                painter.drawLine(a, b)
            painter.setPen(QPen(ink, 1.2))
            for p in xy:
                if marker == "dot":
                    painter.setBrush(ink)
                    painter.drawEllipse(p, 3, 3)
                elif marker == "square":
                    painter.setBrush(Qt.BrushStyle.NoBrush)
                    painter.drawRect(QRectF(p.x() - 3, p.y() - 3, 6, 6))
                else:
                    painter.drawLine(QPointF(p.x() - 3, p.y() - 3), QPointF(p.x() + 3, p.y() + 3))
                    painter.drawLine(QPointF(p.x() - 3, p.y() + 3), QPointF(p.x() + 3, p.y() - 3))
            label = f"{name} " + " → ".join(str(t) for _i, t in points)
            painter.setPen(QPen(ink, 1, style))
            painter.drawLine(x_legend, 8, x_legend + 18, 8)
            painter.drawText(x_legend + 22, 12, label)
            x_legend += 30 + painter.fontMetrics().horizontalAdvance(label)
        painter.end()


class CourseOverview(QWidget):
    """A heading and the side-by-side table; filled with :meth:`show_course`."""

    MIN_CHARACTERS = 16  # a column narrower than this many characters wraps the integration items too often

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent, objectName="courseOverview")
        self.heading = PlainLabel("", objectName="courseOverviewHeading")
        self.heading.setWordWrap(True)
        set_flag(self.heading, "strong")
        self.model = CourseOverviewModel(self)
        self.table = QTableView(objectName="courseOverviewTable")
        self.table.setAccessibleName("Course overview: one column per session, oldest first")
        self.table.setModel(self.model)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setWordWrap(True)
        self.table.setVerticalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
        self.table.setHorizontalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
        self.table.setTextElideMode(Qt.TextElideMode.ElideNone)
        self.table.viewport().installEventFilter(self)
        self.table.horizontalHeader().setDefaultAlignment(Qt.AlignmentFlag.AlignLeft)
        self.table.verticalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.table.verticalHeader().setDefaultAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop)
        self.empty = PlainLabel("", objectName="courseOverviewEmpty")
        self.empty.setWordWrap(True)
        set_flag(self.empty, "muted")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self.trend = OutcomeTrendChart(self)
        layout.addWidget(self.heading)
        layout.addWidget(self.trend)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.empty)
        self.show_course("", [], planned=0)

    def show_course(self, title: str, lines: list[CourseSessionLine], *, planned: int) -> None:
        """``lines``: the sessions held so far (any order); ``planned``: how many more are planned."""
        self.model.set_lines(lines)
        self.trend.set_lines(lines)
        held = len(lines)
        more = f", {planned} more planned" if planned else ""
        signed = sum(1 for line in lines if line.summary.signed_by)
        self.heading.setText(f"{title} — {held} session{'s' if held != 1 else ''} held, {signed} signed{more}"
                             if title else "")
        self.empty.setText("" if lines else ("No session of this course has been held yet." if title
                                             else "Choose a client to see the arc of the course."))
        self.empty.setVisible(not lines)
        self.table.setVisible(bool(lines))
        self._fit_columns()

    def _fit_columns(self) -> None:
        """Share the width among the sessions; scroll sideways only when a long course would squeeze them."""
        count = self.model.columnCount()
        header = self.table.horizontalHeader()
        room = self.table.viewport().width()
        least = self.table.fontMetrics().averageCharWidth() * self.MIN_CHARACTERS
        fits = count > 0 and room // count >= least
        header.setSectionResizeMode(QHeaderView.ResizeMode.Stretch if fits else QHeaderView.ResizeMode.Fixed)
        if not fits:
            header.setDefaultSectionSize(least)
            for column in range(count):
                header.resizeSection(column, least)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 (Qt override)
        if watched is self.table.viewport() and event.type() == QEvent.Type.Resize:
            self._fit_columns()
        return False
