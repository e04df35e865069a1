"""What the clients screen shows, as plain values, and the small Qt models over them.

A :class:`ClientFile` is gathered in the worker (client, courses, and every session with its course line) and
handed to the GUI thread whole; the models only format it.
"""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtCore import QAbstractListModel, QModelIndex, QPersistentModelIndex, Qt
from PySide6.QtGui import QFont
from PySide6.QtWidgets import QWidget

from kapconsole.domain.enums import SessionState
from kapconsole.domain.values import Actor, Client, Course, SessionInfo
from kapconsole.reports.data import CourseSessionLine
from kapconsole.services import Services
from kapconsole.ui.widgets.table_model import RowsTableModel

_Index = QModelIndex | QPersistentModelIndex
ALL_SESSIONS = -1  # course choice: every session of the client
NO_COURSE = -2  # course choice: the sessions outside a course


@dataclass(frozen=True)
class ClientSession:
    """One session of the client: its plan and state, and what its summary would show."""

    info: SessionInfo
    line: CourseSessionLine

    @property
    def id(self) -> int:
        return self.info.id

    @property
    def held(self) -> bool:
        return self.info.state is not SessionState.PLANNED

    @property
    def signed(self) -> bool:
        return bool(self.line.summary.signed_by)

    @property
    def summary_state(self) -> str:
        """``signed``, ``draft · awaiting discharge``, ``planned`` (not held): what reading the summary gives."""
        if not self.held:
            return "planned"
        return "signed" if self.signed else f"draft · {self.info.state.label.lower()}"

    @property
    def session_text(self) -> str:
        info = self.info
        if info.number_in_course is None:
            return "single"
        return f"{info.number_in_course} of {info.course_total}" if info.course_total else str(info.number_in_course)

    @property
    def date_text(self) -> str:
        return f"{self.info.scheduled_at.astimezone():%d %b %Y\n%H:%M}"

    @property
    def dose_text(self) -> str:
        doses = self.line.summary.doses
        if doses:
            return "; ".join(f"{d.dose} {d.route.lower()}" for d in doses)
        info = self.info
        planned = f", {info.planned_dose:g} {info.planned_unit} planned" if info.planned_dose is not None else ""
        return f"{info.route.label}{planned}"

    @property
    def title(self) -> str:
        """``Maya Thompson · session 3 of 6 · Sat 21 Nov 2026 · signed``: what the viewer and dialogs show."""
        mark = "signed" if self.signed else "DRAFT — not signed"
        return (f"{self.info.client.name} ({self.info.client.identifier}) · {self.info.course_label} · "
                f"{self.info.scheduled_at.astimezone():%a %d %b %Y} · {mark}")

    @property
    def short_title(self) -> str:
        """``Session 3 of 6 · 21 Nov 2026 · signed``: the viewer's heading (the client is named beside it)."""
        mark = "signed" if self.signed else "DRAFT — not signed"
        label = self.info.course_label
        return f"{label[:1].upper()}{label[1:]} · {self.info.scheduled_at.astimezone():%d %b %Y} · {mark}"

    @property
    def file_name(self) -> str:
        """A file name for the exported summary; it says when the summary is a draft."""
        info = self.info
        number = f"-session-{info.number_in_course}" if info.number_in_course else ""
        draft = "" if self.signed else "-DRAFT"
        return f"{info.client.identifier}{number}-{info.scheduled_at.astimezone():%Y-%m-%d}-summary{draft}.pdf"


@dataclass(frozen=True)
class ClientFile:
    client: Client
    courses: tuple[Course, ...]
    sessions: tuple[ClientSession, ...]  # oldest first

    def in_course(self, choice: int) -> list[ClientSession]:
        if choice == ALL_SESSIONS:
            return list(self.sessions)
        wanted = None if choice == NO_COURSE else choice
        return [s for s in self.sessions if s.info.course_id == wanted]


def load_client_file(services: Services, actor: Actor, client_id: int) -> ClientFile:
    """Runs in the worker: the client, their courses, and each session with its course-overview line."""
    clinic = services.clinic
    client = clinic.client(client_id)
    courses = tuple(clinic.courses(client_id))
    lines = services.reports.course_overview(actor, client_id)
    sessions = tuple(ClientSession(clinic.session(line.session_id), line) for line in lines)
    return ClientFile(client, courses, sessions)


class ClientListModel(QAbstractListModel):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.clients: list[Client] = []

    def set_clients(self, clients: list[Client]) -> None:
        self.beginResetModel()
        self.clients = list(clients)
        self.endResetModel()

    def rowCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008, N802
        return 0 if parent.isValid() else len(self.clients)

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole) -> object:
        if not index.isValid():
            return None
        client = self.clients[index.row()]
        if role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.AccessibleTextRole):
            return f"{client.name}  ·  {client.identifier}"
        if role == Qt.ItemDataRole.ToolTipRole and client.date_of_birth:
            return f"Born {client.date_of_birth:%d %b %Y}"
        return None


class SessionsModel(RowsTableModel):
    HEADERS = ("Date", "Session", "Summary", "Dose", "Signed by")

    rows: list[ClientSession]

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole) -> object:
        if not index.isValid():
            return None
        item = self.rows[index.row()]
        if role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.AccessibleTextRole, Qt.ItemDataRole.ToolTipRole):
            return self.text(item, index.column())
        if role == Qt.ItemDataRole.FontRole and index.column() == 2 and item.held and not item.signed:
            font = QFont()
            font.setBold(True)
            return font
        return None

    @staticmethod
    def text(item: ClientSession, column: int) -> str:
        values = (item.date_text, item.session_text, item.summary_state, item.dose_text,
                  item.line.summary.signed_by or "—")
        return values[column]
