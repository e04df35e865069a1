"""The session timeline: every entry (time, author, kind, content), newest first, filterable by kind.

``TimelineModel`` is a small table model over a list of plain ``TimelineRow`` values built from the record.
When the record grows the new rows are inserted (never a reset: a six-hour session keeps its scroll position
and selection); rows whose meaning changed (amended, acknowledged, resolved) are updated in place.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from PySide6.QtCore import (
    QAbstractTableModel,
    QEvent,
    QModelIndex,
    QPersistentModelIndex,
    QSortFilterProxyModel,
    Qt,
    Signal,
)
from PySide6.QtGui import QBrush, QColor, QFont, QKeySequence, QResizeEvent, QShortcut
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QHeaderView,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from kapconsole.domain.entries import AMENDABLE
from kapconsole.domain.entry_base import describe_payload
from kapconsole.domain.enums import EntryKind, ObservationCategory, Route, Scale, SessionState, SideEffectKind
from kapconsole.domain.protocol import MEASURES
from kapconsole.domain.record import SessionRecord
from kapconsole.domain.rems import describe_answers
from kapconsole.domain.values import Entry
from kapconsole.ui.widgets import theme
from kapconsole.ui.widgets.table_model import row_table
from kapconsole.ui.widgets.text import PlainLabel, tooltip_text

Index = QModelIndex | QPersistentModelIndex
ROW_ROLE = Qt.ItemDataRole.UserRole + 1
KIND_ROLE = Qt.ItemDataRole.UserRole + 2
COLUMNS = ("Time", "By", "Kind", "Entry", "Status")

#: The kind filter: label → kinds shown (None = every kind).
FILTERS: dict[str, frozenset[EntryKind] | None] = {
    "All entries": None,
    "Vitals": frozenset({EntryKind.VITALS, EntryKind.ALERT_ACK}),
    "Observations": frozenset({EntryKind.OBSERVATION}),
    "Side effects": frozenset({EntryKind.SIDE_EFFECT, EntryKind.SIDE_EFFECT_RESOLVED}),
    "Doses": frozenset({EntryKind.ADMINISTRATION}),
    "Medications": frozenset({EntryKind.RESCUE_MEDICATION}),
    "Scales": frozenset({EntryKind.SCALE}),
    "Amendments": frozenset({EntryKind.AMENDMENT}),
    "Checklist and state": frozenset(
        {EntryKind.CHECKLIST, EntryKind.OVERRIDE, EntryKind.STATE, EntryKind.DISCHARGE_ASSESSMENT,
         EntryKind.SIGNATURE, EntryKind.REMS_ANSWERS}
    ),
}


#: Short kind names keep the Kind column narrow; the full name is in the tooltip.
SHORT_KIND = {EntryKind.SIDE_EFFECT_RESOLVED: "Resolved", EntryKind.ALERT_ACK: "Alert ack.",
              EntryKind.ADMINISTRATION: "Dose", EntryKind.DISCHARGE_ASSESSMENT: "Discharge check",
              EntryKind.OVERRIDE: "Override", EntryKind.RESCUE_MEDICATION: "Medication"}


# ----- describing entries -----------------------------------------------------------------------------
def _num(value: Any) -> str:
    return f"{value:g}" if isinstance(value, int | float) else str(value)


def vitals_text(p: Mapping[str, Any]) -> str:
    parts = []
    if "sbp" in p and "dbp" in p:
        parts.append(f"BP {_num(p['sbp'])}/{_num(p['dbp'])}")
    for key, short in (("hr", "HR"), ("spo2", "SpO2"), ("rr", "RR"), ("temp", "T")):
        if key in p and p[key] is not None:
            unit = {"spo2": "%", "temp": " °C"}.get(key, "")
            parts.append(f"{short} {_num(p[key])}{unit}")
    text = " · ".join(parts) or "(no measures)"
    if p.get("source") != "device":
        return text
    device = p.get("device") or {}
    name = device.get("name") if isinstance(device, dict) else None
    edited = device.get("edited") if isinstance(device, dict) else None
    return text + (f" (monitor {name}" if name else " (monitor") + (", edited" if edited else "") + ", confirmed)"


def _label(enum_type: Any, value: Any) -> str:
    try:
        return str(enum_type(value).label)
    except ValueError:
        return str(value)


def describe(kind: EntryKind, p: Mapping[str, Any] | None, record: SessionRecord | None = None) -> str:
    """One line a person can read for an entry's content."""
    if p is None:
        return "(entered in error)"
    if kind is EntryKind.VITALS:
        return vitals_text(p)
    if kind is EntryKind.OBSERVATION:
        text = f"[{_label(ObservationCategory, p.get('category'))}] {p.get('text', '')}"
        return text + ("  ★ for integration" if p.get("for_integration") else "")
    if kind is EntryKind.SIDE_EFFECT:
        text = f"{_label(SideEffectKind, p.get('effect'))} ({p.get('severity', '')})"
        if p.get("description"):
            text += f": {p['description']}"
        return text + (f" — intervention: {p['intervention']}" if p.get("intervention") else "")
    if kind is EntryKind.SIDE_EFFECT_RESOLVED:
        target = record.by_id.get(int(p.get("side_effect", 0))) if record else None
        what = _label(SideEffectKind, target.payload.get("effect")) if target else "side effect"
        return f"Resolved: {what}" + (f" — {p['note']}" if p.get("note") else "")
    if kind is EntryKind.ADMINISTRATION:
        text = f"{p.get('drug', '')} {_num(p.get('dose', ''))} {p.get('unit', '')}, {_label(Route, p.get('route'))}"
        if p.get("lot"):
            text += f", lot {p['lot']}"
        if p.get("device"):
            text += f", device {p['device']} of {p.get('devices_planned', '?')}, device lot {p.get('device_lot', '')}"
            if p.get("early_reason"):
                text += f" (early: {p['early_reason']})"
        return text + f"; given by {p.get('given_by_name', '')}, ordered by {p.get('ordered_by_name', '')}"
    if kind is EntryKind.SCALE:
        return f"{_label(Scale, p.get('scale'))}: {_num(p.get('score', ''))}"
    if kind is EntryKind.RESCUE_MEDICATION:
        return describe_payload(kind, p, record)  # the entry's own description
    if kind is EntryKind.ALERT_ACK:
        labels = ", ".join(MEASURES.get(m, (m,))[0] for m in p.get("measures", []))
        reading = record.by_id.get(int(p.get("vitals", 0))) if record else None
        when = f" of the {local_time(reading.observed_at)} reading" if reading else ""
        return f"Alert acknowledged: {labels}{when}" + (f" — {p['note']}" if p.get("note") else "")
    if kind is EntryKind.CHECKLIST:
        return f"✓ {p.get('label', p.get('item', ''))} ({p.get('answer', '')})" + (
            f" — {p['note']}" if p.get("note") else "")
    if kind is EntryKind.STATE:
        text = f"{_label(SessionState, p.get('from'))} → {_label(SessionState, p.get('to'))}"
        return text + (f": {p['reason']}" if p.get("reason") else "")
    if kind is EntryKind.OVERRIDE:
        return f"Checklist override: {p.get('reason', '')}"
    if kind is EntryKind.SIGNATURE:
        return f"Signed: {p.get('meaning', '')}".rstrip(": ")
    if kind is EntryKind.DISCHARGE_ASSESSMENT:
        return "Discharge assessment: " + ("ready" if p.get("ready") else "not ready")
    if kind is EntryKind.CLOSING_NOTE:
        return "Closing note: " + " · ".join(str(p[k]) for k in ("state", "words", "themes", "suggestions") if p.get(k))
    if kind is EntryKind.OUTCOME_MEASURE:
        return f"{str(p.get('instrument', '')).upper().replace('PHQ9', 'PHQ-9').replace('GAD7', 'GAD-7').replace('PCL5', 'PCL-5')} " \
               f"{p.get('total', '')} ({p.get('band', '')})"
    if kind is EntryKind.REMS_ANSWERS:
        return describe_answers(p)
    return ", ".join(f"{k}: {v}" for k, v in p.items())


def local_time(moment: datetime, seconds: bool = False) -> str:
    return moment.astimezone().strftime("%H:%M:%S" if seconds else "%H:%M")


@dataclass(frozen=True)
class TimelineRow:
    """One line of the timeline: plain values only."""

    entry_id: int
    seq: int
    at: datetime
    entered_at: datetime
    author: str
    workstation: str
    kind: EntryKind
    content: str
    payload: Mapping[str, Any] | None  # the content as it stands now (after amendments), None if withdrawn
    amendment: str = ""  # "amended → …" shown beside the original
    superseded: bool = False  # the original text is struck through
    alert: str = ""  # alert messages of a flagged vitals reading
    acknowledged: bool = False
    after_signoff: bool = False
    #: How late the entry was charted after its clinical time ("" when on time): a late entry.
    late: str = ""

    @property
    def amendable(self) -> bool:
        return self.kind in AMENDABLE


def build_rows(record: SessionRecord) -> list[TimelineRow]:
    """The timeline rows of ``record``, in chain order."""
    current = {c.id: c for kind in EntryKind for c in record.current(kind)}
    rows = []
    for e in record.entries:
        content = describe(e.kind, e.payload, record)
        amendment, superseded, alert, acknowledged = "", False, "", False
        now_payload: Mapping[str, Any] | None = e.payload
        if e.kind is EntryKind.AMENDMENT:
            target = record.by_id.get(e.amends_id or 0)
            new = e.payload.get("content")
            what = f"{target.kind.label} of {local_time(target.observed_at)}" if target else "an entry"
            content = f"Amends {what} → {describe(target.kind, new, record) if target else new}"
            amendment = f"reason: {e.payload.get('reason', '')}"
        else:
            amends = record.amendments_of(e.id)
            if amends:
                last = amends[-1]
                new = last.payload.get("content")
                now_payload = new
                superseded = True
                arrow = "entered in error" if new is None else f"amended → {describe(e.kind, new, record)}"
                amendment = f"{arrow} — {last.author_name}, {local_time(last.observed_at)}; reason: " \
                            f"{last.payload.get('reason', '')}"
                if len(amends) > 1:
                    amendment += f" ({len(amends)} amendments)"
            if e.kind is EntryKind.VITALS and e.id in current:
                alerts = record.alerts_for(current[e.id])
                alert = "; ".join(a.message for a in alerts)
                done = record.acknowledged.get(e.id, set())
                acknowledged = bool(alerts) and all(a.measure in done for a in alerts)
            if e.kind is EntryKind.SIDE_EFFECT and e.id in record.resolutions:
                res = record.resolutions[e.id]
                amendment = (amendment + "; " if amendment else "") + f"resolved {local_time(res.at)}"
        rows.append(TimelineRow(
            entry_id=e.id, seq=e.seq, at=e.observed_at, entered_at=e.entered_at, author=e.author_name,
            workstation=e.workstation, kind=e.kind, content=content, payload=now_payload, amendment=amendment,
            superseded=superseded, alert=alert, acknowledged=acknowledged, after_signoff=record.after_signoff(e),
            late=_late_text(record, e),
        ))
    return rows


def _late_text(record: SessionRecord, entry: Entry) -> str:
    delay = record.late_by(entry)
    if delay is None:
        return ""
    minutes = int(delay.total_seconds() // 60)
    span = f"{minutes} min" if minutes < 120 else f"{minutes // 60} h {minutes % 60:02d} min"
    return f"late entry: charted {local_time(entry.entered_at)} ({span} later)"


# ----- the model ----------------------------------------------------------------------------------------
def _order_key(row: TimelineRow) -> tuple[datetime, int]:
    return (row.at, row.seq)


class TimelineModel(QAbstractTableModel):
    """Rows newest first (clinical time, then entry order)."""

    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        self._rows: list[TimelineRow] = []
        self._night = False

    # ----- updating -------------------------------------------------------------------------------------
    def set_record(self, record: SessionRecord) -> None:
        self.set_rows(build_rows(record))

    def set_rows(self, rows: Iterable[TimelineRow]) -> None:
        fresh = {r.entry_id: r for r in rows}
        if any(r.entry_id not in fresh for r in self._rows):  # a different session: start over
            self.beginResetModel()
            self._rows = sorted(fresh.values(), key=_order_key, reverse=True)
            self.endResetModel()
            return
        for i, old in enumerate(self._rows):
            new = fresh[old.entry_id]
            if new != old:
                self._rows[i] = new
                self.dataChanged.emit(self.index(i, 0), self.index(i, len(COLUMNS) - 1))
        known = {r.entry_id for r in self._rows}
        for row in sorted((r for r in fresh.values() if r.entry_id not in known), key=_order_key):
            pos = self._insert_position(row)
            self.beginInsertRows(QModelIndex(), pos, pos)
            self._rows.insert(pos, row)
            self.endInsertRows()

    def _insert_position(self, row: TimelineRow) -> int:
        key = _order_key(row)
        lo, hi = 0, len(self._rows)
        while lo < hi:  # rows are in descending order
            mid = (lo + hi) // 2
            if _order_key(self._rows[mid]) > key:
                lo = mid + 1
            else:
                hi = mid
        return lo

    def set_night(self, night: bool) -> None:
        self._night = night
        if self._rows:
            self.dataChanged.emit(self.index(0, 0), self.index(len(self._rows) - 1, len(COLUMNS) - 1))

    def row_at(self, row: int) -> TimelineRow:
        return self._rows[row]

    # ----- Qt ----------------------------------------------------------------------------------------------
    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008 - Qt's signature
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008 - Qt's signature
        return 0 if parent.isValid() else len(COLUMNS)

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return COLUMNS[section]
        return None

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        row = self._rows[index.row()]
        col = index.column()
        if role == ROW_ROLE:
            return row
        if role == KIND_ROLE:
            return row.kind.value
        if role == Qt.ItemDataRole.DisplayRole:
            return self._display(row, col)
        if role == Qt.ItemDataRole.ToolTipRole:
            return self._tooltip(row, col)
        if role == Qt.ItemDataRole.FontRole and ((col == 3 and row.superseded) or (col == 2 and row.alert)):
            font = QFont()
            font.setStrikeOut(col == 3)
            font.setBold(col == 2)
            return font
        if role == Qt.ItemDataRole.BackgroundRole and row.alert and not row.acknowledged:
            return QBrush(QColor(theme.cell_colours("danger-tint", self._night)[0]))  # type: ignore[index]
        if role == Qt.ItemDataRole.ForegroundRole:
            if row.alert and not row.acknowledged:
                return QBrush(QColor(theme.cell_colours("danger-tint", self._night)[1]))  # type: ignore[index]
            if row.alert and col in (2, 3):
                return QBrush(QColor(theme.text_colour("danger", self._night)))
            if (col == 4 and row.after_signoff) or (col in (0, 4) and row.late):
                return QBrush(QColor(theme.text_colour("warning", self._night)))
        return None

    def _display(self, row: TimelineRow, col: int) -> str:
        if col == 0:
            return local_time(row.at) + (" ◷" if row.late else "")
        if col == 1:
            return row.author
        if col == 2:
            # The row is already red: a short marker leaves the width to the entry itself.
            return SHORT_KIND.get(row.kind, row.kind.label) + (" ⚠" if row.alert else "")
        if col == 3:
            return row.content
        status = row.amendment
        if row.alert:
            status = (status + "; " if status else "") + ("acknowledged" if row.acknowledged
                                                          else "NOT acknowledged")
        if row.late:
            status = (status + "; " if status else "") + row.late
        if row.after_signoff:
            status = (status + " " if status else "") + "[after sign-off]"
        return status

    @staticmethod
    def _tooltip(row: TimelineRow, col: int) -> str:
        lines = [row.kind.label, f"Observed {row.at.astimezone():%Y-%m-%d %H:%M:%S}",
                 f"Entered {row.entered_at.astimezone():%Y-%m-%d %H:%M:%S} by {row.author} at {row.workstation}"]
        if row.late:
            lines.append(row.late.capitalize())
        if row.alert:
            lines.append(f"ALERT: {row.alert}")
        if row.amendment:
            lines.append(row.amendment)
        if col == 3:
            lines.insert(0, row.content)
        return tooltip_text("\n".join(lines))  # user text: shown as typed, never as markup


class KindFilterProxy(QSortFilterProxyModel):
    """Shows only the rows of the chosen kinds."""

    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        self._kinds: frozenset[EntryKind] | None = None

    def set_kinds(self, kinds: frozenset[EntryKind] | None) -> None:
        self.beginFilterChange()
        self._kinds = kinds
        self.endFilterChange(QSortFilterProxyModel.Direction.Rows)

    def filterAcceptsRow(self, source_row: int, source_parent: Index) -> bool:
        if self._kinds is None:
            return True
        model = self.sourceModel()
        assert isinstance(model, TimelineModel)
        return model.row_at(source_row).kind in self._kinds


# ----- the view -----------------------------------------------------------------------------------------
class TimelineView(QWidget):
    """The filter, the table, and the Amend button. ``amend_requested(TimelineRow)`` opens the dialog."""

    amend_requested = Signal(object)  # TimelineRow

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.model = TimelineModel(self)
        self.proxy = KindFilterProxy(self)
        self.proxy.setSourceModel(self.model)

        self.filter_combo = QComboBox()
        self.filter_combo.setObjectName("timelineFilter")
        self.filter_combo.setAccessibleName("Show entries of kind")
        self.filter_combo.addItems(list(FILTERS))
        self.filter_combo.currentTextChanged.connect(self._on_filter_changed)
        self.amend_button = QPushButton("Amend entry…")
        self.amend_button.setObjectName("amendButton")
        self.amend_button.setToolTip("Correct the selected entry; a reason is required (Ctrl+Shift+A)")
        self.amend_button.setEnabled(False)
        self.amend_button.clicked.connect(self._on_amend_clicked)
        amend_key = QShortcut(QKeySequence("Ctrl+Shift+A"), self)
        amend_key.setContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        amend_key.activated.connect(self._on_amend_clicked)

        self.table = row_table("timelineTable", "Session timeline, newest first", self.proxy)
        self.table.setWordWrap(False)
        header = self.table.horizontalHeader()
        # The entry itself gets the width: time fits its text, the other columns take a fixed share that
        # the user can drag (names and long states are elided; the tooltip has them whole).
        self.table.setTextElideMode(Qt.TextElideMode.ElideRight)
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.ResizeToContents)
        for col in (1, 2, 4):
            header.setSectionResizeMode(col, QHeaderView.ResizeMode.Interactive)
        header.setSectionResizeMode(3, QHeaderView.ResizeMode.Stretch)
        self._size_columns()
        self.table.selectionModel().selectionChanged.connect(self._on_selection_changed)
        self.table.doubleClicked.connect(lambda _i: self._on_amend_clicked())

        title = PlainLabel("Timeline")
        title.setObjectName("sectionTitle")
        top = QHBoxLayout()
        top.addWidget(title)
        top.addStretch(1)
        show = PlainLabel("Show:")
        show.setBuddy(self.filter_combo)
        top.addWidget(show)
        top.addWidget(self.filter_combo)
        top.addWidget(self.amend_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(top)
        layout.addWidget(self.table)


    def _size_columns(self) -> None:
        """Who, kind and status get what a typical value needs, but never more than a share of the width, so
        the entry keeps most of it on a narrow screen in night mode's large type (the tooltip has it all)."""
        metrics = self.table.fontMetrics()
        width = max(self.table.viewport().width(), 400)
        header = self.table.horizontalHeader()
        for col, sample, share in ((1, "Jordan Kim, RN", 0.18), (2, "Observation ⚠", 0.15),
                                   (4, "NOT acknowledged", 0.16)):
            header.resizeSection(col, min(metrics.horizontalAdvance(sample) + 32, int(width * share)))

    def changeEvent(self, event: QEvent) -> None:  # noqa: N802 (Qt override)
        super().changeEvent(event)
        if event.type() in (QEvent.Type.FontChange, QEvent.Type.StyleChange):
            self._size_columns()

    def resizeEvent(self, event: QResizeEvent) -> None:  # noqa: N802 (Qt override)
        super().resizeEvent(event)
        self._size_columns()
    def set_record(self, record: SessionRecord) -> None:
        self.model.set_record(record)
        self._on_selection_changed()

    def set_night(self, night: bool) -> None:
        self.model.set_night(night)

    def set_filter(self, label: str) -> None:
        self.filter_combo.setCurrentText(label)

    def selected_row(self) -> TimelineRow | None:
        rows = self.table.selectionModel().selectedRows()
        if not rows:
            return None
        value = rows[0].data(ROW_ROLE)
        return value if isinstance(value, TimelineRow) else None

    def select_entry(self, entry_id: int) -> bool:
        for r in range(self.proxy.rowCount()):
            index = self.proxy.index(r, 0)
            if index.data(ROW_ROLE).entry_id == entry_id:
                self.table.selectRow(r)
                self.table.scrollTo(index)
                return True
        return False

    def _on_filter_changed(self, label: str) -> None:
        self.proxy.set_kinds(FILTERS.get(label))

    def _on_selection_changed(self, *_args: object) -> None:
        row = self.selected_row()
        self.amend_button.setEnabled(row is not None and row.amendable)

    def _on_amend_clicked(self) -> None:
        row = self.selected_row()
        if row is not None and row.amendable:
            self.amend_requested.emit(row)
