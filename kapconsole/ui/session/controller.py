"""SessionController: the GUI-thread owner of one open session's record.

Views call ``perform`` with a function of (services, actor); it runs on the worker thread. What the write
appended comes back with its result and is applied to the open record at once (``SessionRecord.extend``);
``changed`` then tells the views what changed (entries appended, the state changed, or the whole session
replaced), so each updates only that. A view clears its input only in its ``on_done`` callback, so nothing
typed is lost when the database is unreachable; a view or dialog that closed meanwhile is not called back.

Another workstation's entries arrive through one poll: the entries after the last sequence number held
(one query). The whole record is read only when a session is opened and to recover from an error.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import QObject, QTimer, Signal

from kapconsole.domain.enums import EntryKind
from kapconsole.domain.errors import DatabaseUnavailable, DomainError
from kapconsole.domain.record import SessionRecord
from kapconsole.domain.values import Actor, Entry
from kapconsole.services import Services
from kapconsole.ui.shell.app_state import AppState
from kapconsole.ui.shell.tasks import Lane, alive, log_unexpected

POLL_MS = 2000
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class RecordChange:
    """What changed in the open record: entries appended to it, or the whole session replaced (opened)."""

    record: SessionRecord
    appended: tuple[Entry, ...] = ()
    replaced: bool = False

    @property
    def state_changed(self) -> bool:
        return self.replaced or any(e.kind is EntryKind.STATE for e in self.appended)

    def kinds(self) -> set[EntryKind]:
        return {e.kind for e in self.appended}


def appended_entries(value: Any) -> tuple[Entry, ...] | None:
    """The entries a write returned (an entry and those appended with it), or None when it returned none."""
    if isinstance(value, Entry):
        return value.appended
    entry = getattr(value, "entry", None)  # a result that carries the entry it recorded (an assessment)
    if isinstance(entry, Entry):
        return entry.appended
    if isinstance(value, list | tuple) and value and all(isinstance(v, Entry) for v in value):
        return tuple(e for v in value for e in v.appended)
    return None


class SessionController(QObject):
    record_changed = Signal(object)  # SessionRecord, after every change
    changed = Signal(object)  # RecordChange
    error = Signal(str)  # one line for the user
    connection_changed = Signal(bool, str)  # (connected, message)
    integrity_changed = Signal(str)  # "" when the record verifies, else what is wrong

    def __init__(self, state: AppState, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.state = state
        self.session_id: int | None = None
        self.record: SessionRecord | None = None
        self.connected = True
        self._poll = QTimer(self)
        self._poll.setInterval(POLL_MS)
        self._poll.timeout.connect(self._on_poll)
        self._polling = False

    # ----- opening and refreshing ----------------------------------------------------------------------
    def open(self, session_id: int) -> None:
        self.session_id = session_id
        self.record = None
        self.refresh()
        self.check_integrity()
        self._poll.start()

    def close(self) -> None:
        self._poll.stop()
        self.session_id = None
        self.record = None

    def refresh(self) -> None:
        """Read the whole record again (opening, and recovering from an error)."""
        sid = self.session_id
        if sid is None:
            return
        actor = self.state.actor
        records = self.state.services.records
        self.state.runner.submit(lambda: records.record(actor, sid), self._on_record, self._on_failure,
                                 receiver=self)

    def fetch_changes(self) -> None:
        """Read the entries after the last one held and apply them (one query)."""
        sid, record = self.session_id, self.record
        if sid is None or record is None:
            self.refresh()
            return
        actor = self.state.actor
        records = self.state.services.records
        seq = record.last_seq
        self.state.runner.submit(lambda: (sid, records.entries_after(actor, sid, seq)), self._on_entries,
                                 self._on_failure, receiver=self)

    def check_integrity(self) -> None:
        """Verify the open session's record (its chain, signatures and header) off the GUI thread."""
        sid = self.session_id
        if sid is None:
            return
        services = self.state.services

        def verified(result: Any) -> None:
            if self.session_id == sid:
                self.integrity_changed.emit("; ".join(p.message for p in result.problems[:2]))

        self.state.runner.submit(lambda: services.integrity.verify(sid), verified, self._on_failure, receiver=self)

    # ----- writing -------------------------------------------------------------------------------------
    def perform(self, fn: Callable[[Services, Actor], Any], on_done: Callable[[Any], None] | None = None,
                on_error: Callable[[Exception], None] | None = None, *, receiver: QObject | None = None) -> None:
        """Run ``fn(services, actor)`` off the GUI thread as the signed-in person, then apply what it appended.

        ``on_done`` / ``on_error`` run only while ``receiver`` (the dialog or view asking) still exists; what
        was saved is shown in any case.
        """
        actor = self.state.actor
        if actor is None:
            self.error.emit("sign in first")
            return
        services = self.state.services
        sid = self.session_id

        def done(value: Any) -> None:
            self._set_connected(True, "")
            if sid is not None and sid == self.session_id:
                entries = appended_entries(value)
                if entries is None or not self.apply(entries):
                    self.fetch_changes()
            if on_done is not None and alive(receiver):
                on_done(value)
            self.check_integrity()

        def failed(exc: Exception) -> None:
            # A caller with its own error handling (a dialog showing the message inline) does not also get
            # the window's banner; a lost database is always reported, whoever asked.
            mine = on_error is not None and alive(receiver)
            if not mine or isinstance(exc, DatabaseUnavailable):
                self._on_failure(exc)
            elif not isinstance(exc, DomainError):
                log_unexpected("saving failed", exc)
            if mine and on_error is not None:
                on_error(exc)

        self.state.runner.submit(lambda: fn(services, actor), done, failed, receiver=self, lane=Lane.ENTRIES)

    def apply(self, entries: Iterable[Entry]) -> bool:
        """Apply entries appended to the open record; False when they do not follow what it holds."""
        record = self.record
        if record is None:
            return False
        entries = [e for e in entries if e.session_id == record.info.id]
        try:
            added = record.extend(entries)
        except ValueError:
            return False
        if added:
            self._emit(RecordChange(record, tuple(added)))
        return True

    # ----- internals -----------------------------------------------------------------------------------
    def _emit(self, change: RecordChange) -> None:
        self.changed.emit(change)
        self.record_changed.emit(change.record)

    def _on_record(self, record: SessionRecord) -> None:
        if self.session_id != record.info.id:
            return
        self._set_connected(True, "")
        self.record = record
        self._emit(RecordChange(record, replaced=True))

    def _on_entries(self, result: tuple[int, tuple[Entry, ...]]) -> None:
        sid, entries = result
        self._set_connected(True, "")
        if sid != self.session_id or not entries:
            return
        if not self.apply(entries):
            self.refresh()  # something is missing in between: read the record again

    def _on_failure(self, exc: Exception) -> None:
        if isinstance(exc, DatabaseUnavailable):
            self._set_connected(False, str(exc))
        elif isinstance(exc, DomainError):
            self.error.emit(str(exc))
        else:
            log_unexpected("unexpected error", exc)
            self.error.emit(f"unexpected error ({type(exc).__name__}); the details are in the log file")

    def _set_connected(self, connected: bool, message: str) -> None:
        if connected != self.connected:
            self.connected = connected
            self.connection_changed.emit(connected, message)

    def _on_poll(self) -> None:
        sid = self.session_id
        if sid is None or self._polling or self.state.runner.lane_busy(Lane.ENTRIES):
            return
        record = self.record
        if record is None:
            return
        self._polling = True
        actor = self.state.actor
        records = self.state.services.records
        seq = record.last_seq

        def seen(result: tuple[int, tuple[Entry, ...]]) -> None:
            self._polling = False
            self._on_entries(result)

        def failed(exc: Exception) -> None:
            self._polling = False
            self._on_failure(exc)

        self.state.runner.submit(lambda: (sid, records.entries_after(actor, sid, seq)), seen, failed, receiver=self)
