"""SessionController: the GUI-thread owner of one open session's record.

Views call ``perform`` with a function of (services, actor); it runs on the worker thread, and on success
the record is reloaded and ``record_changed`` fires. A view clears its input only in its ``on_done``
callback, so nothing typed is lost when the database is unreachable. A timer polls the record's version
so changes made at another workstation (a supervisor's sign-off) show within seconds.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, QTimer, Signal

from kapconsole.domain.errors import DatabaseUnavailable, DomainError
from kapconsole.domain.record import SessionRecord
from kapconsole.domain.values import Actor
from kapconsole.services import Services
from kapconsole.ui.shell.app_state import AppState

POLL_MS = 2000


class SessionController(QObject):
    record_changed = Signal(object)  # SessionRecord
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
        sid = self.session_id
        if sid is None:
            return
        actor = self.state.actor
        self.state.runner.submit(lambda: self.state.services.records.record(actor, sid), self._on_record,
                                 self._on_failure)

    def check_integrity(self) -> None:
        """Verify the open session's record (its chain, signatures and header) off the GUI thread."""
        sid = self.session_id
        if sid is None:
            return
        services = self.state.services

        def verified(result: Any) -> None:
            if self.session_id == sid:
                self.integrity_changed.emit("; ".join(p.message for p in result.problems[:2]))

        self.state.runner.submit(lambda: services.integrity.verify(sid), verified, self._on_failure)

    # ----- writing -------------------------------------------------------------------------------------
    def perform(self, fn: Callable[[Services, Actor], Any], on_done: Callable[[Any], None] | None = None,
                on_error: Callable[[Exception], None] | None = None) -> None:
        """Run ``fn(services, actor)`` off the GUI thread as the signed-in person, then reload the record."""
        actor = self.state.actor
        if actor is None:
            self.error.emit("sign in first")
            return
        services = self.state.services

        def done(value: Any) -> None:
            self._set_connected(True, "")
            if on_done is not None:
                on_done(value)
            self.refresh()
            self.check_integrity()

        def failed(exc: Exception) -> None:
            # A caller with its own error handling (a dialog showing the message inline) does not also get
            # the window's banner; a lost database is always reported, whoever asked.
            if on_error is None or isinstance(exc, DatabaseUnavailable):
                self._on_failure(exc)
            if on_error is not None:
                on_error(exc)

        self.state.runner.submit(lambda: fn(services, actor), done, failed)

    # ----- internals -----------------------------------------------------------------------------------
    def _on_record(self, record: SessionRecord) -> None:
        if self.session_id != record.info.id:
            return
        self._set_connected(True, "")
        self.record = record
        self.record_changed.emit(record)

    def _on_failure(self, exc: Exception) -> None:
        if isinstance(exc, DatabaseUnavailable):
            self._set_connected(False, str(exc))
        elif isinstance(exc, DomainError):
            self.error.emit(str(exc))
        else:
            self.error.emit(f"unexpected error: {exc}")

    def _set_connected(self, connected: bool, message: str) -> None:
        if connected != self.connected:
            self.connected = connected
            self.connection_changed.emit(connected, message)

    def _on_poll(self) -> None:
        sid = self.session_id
        if sid is None or self._polling or self.state.runner.busy:
            return
        self._polling = True
        records = self.state.services.records

        def seen(version: int) -> None:
            self._polling = False
            self._set_connected(True, "")
            if self.record is None or version != self.record.info.version:
                self.refresh()

        def failed(exc: Exception) -> None:
            self._polling = False
            self._on_failure(exc)

        self.state.runner.submit(lambda: records.version(sid), seen, failed)
