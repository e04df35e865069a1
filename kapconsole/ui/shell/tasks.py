"""Run service calls off the GUI thread and hand results back to it, to receivers that are still alive.

The GUI thread never waits on a disk or a network: every call that can goes through a ``TaskRunner``.
Calls of one lane run one at a time, in order, on that lane's worker thread (entries keep the order they were
typed in); reports have a lane of their own, so saving an entry never waits behind a PDF render. Results and
errors come back through a queued signal to the runner, which lives in the GUI thread, and are handed to the
callbacks only while their receiver (the dialog or view that asked) still exists: a dialog closed while its
save runs is simply not called back.
"""

from __future__ import annotations

import itertools
import logging
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

import shiboken6
from PySide6.QtCore import QObject, QRunnable, QThreadPool, Signal, Slot

from kapconsole.logfile import without_message

log = logging.getLogger(__name__)


class Lane(StrEnum):
    ENTRIES = "entries"  # reads and writes of the record: one at a time, in order
    REPORTS = "reports"  # PDF renders and exports: may take seconds


def log_unexpected(what: str, exc: BaseException) -> None:
    """Log an unexpected error with its traceback but without its message (it can carry what was typed)."""
    log.error("%s: %s", what, without_message(type(exc), exc.__traceback__))


def alive(receiver: QObject | None) -> bool:
    """Whether ``receiver`` still exists on the Qt side (None means there is no receiver to check)."""
    return receiver is None or shiboken6.isValid(receiver)


def receiver_of(callback: Callable[..., Any] | None) -> QObject | None:
    """The QObject a bound-method callback belongs to (None for a plain function or closure)."""
    owner = getattr(callback, "__self__", None)
    return owner if isinstance(owner, QObject) else None


class _Relay(QObject):
    finished = Signal(int, bool, object)


class _Task(QRunnable):
    def __init__(self, task_id: int, fn: Callable[[], Any], relay: _Relay) -> None:
        super().__init__()
        self.setAutoDelete(True)
        self._id = task_id
        self._fn = fn
        self._relay = relay

    def run(self) -> None:
        try:
            value = self._fn()
        except Exception as exc:  # handed to the GUI thread, which decides what the user sees
            self._relay.finished.emit(self._id, False, exc)
        else:
            self._relay.finished.emit(self._id, True, value)


@dataclass
class _Pending:
    on_done: Callable[[Any], None] | None
    on_error: Callable[[Exception], None] | None
    receiver: QObject | None
    lane: Lane


class TaskRunner(QObject):
    """Submit callables; ``on_done(value)`` or ``on_error(exc)`` runs later in the GUI thread."""

    idle_changed = Signal(bool)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._pools: dict[Lane, QThreadPool] = {}
        for lane in Lane:
            pool = QThreadPool(self)
            pool.setMaxThreadCount(1)
            pool.setExpiryTimeout(-1)  # keep the worker thread: starting one again costs each save a few ms
            self._pools[lane] = pool
        self._relay = _Relay()
        self._relay.finished.connect(self._deliver)
        self._pending: dict[int, _Pending] = {}
        self._ids = itertools.count(1)

    def submit(self, fn: Callable[[], Any], on_done: Callable[[Any], None] | None = None,
               on_error: Callable[[Exception], None] | None = None, *, receiver: QObject | None = None,
               lane: Lane = Lane.ENTRIES) -> int:
        """Run ``fn`` on ``lane``'s worker; the callbacks run only while ``receiver`` exists.

        ``receiver`` defaults to the object a bound-method ``on_done`` belongs to.
        """
        task_id = next(self._ids)
        was_idle = not self._pending
        self._pending[task_id] = _Pending(on_done, on_error, receiver or receiver_of(on_done), lane)
        self._pools[lane].start(_Task(task_id, fn, self._relay))
        if was_idle:
            self.idle_changed.emit(False)
        return task_id

    @property
    def busy(self) -> bool:
        return bool(self._pending)

    def lane_busy(self, lane: Lane) -> bool:
        return any(p.lane is lane for p in self._pending.values())

    @Slot(int, bool, object)
    def _deliver(self, task_id: int, ok: bool, value: object) -> None:
        pending = self._pending.pop(task_id, None)
        try:
            if pending is None:
                return
            if not alive(pending.receiver):
                if not ok and isinstance(value, Exception):
                    log_unexpected("background task failed after its window closed", value)
                return
            if ok and pending.on_done is not None:
                pending.on_done(value)
            elif not ok:
                assert isinstance(value, Exception)
                if pending.on_error is not None:
                    pending.on_error(value)
                else:
                    log_unexpected("background task failed", value)
        finally:
            if not self._pending:
                self.idle_changed.emit(True)

    def wait(self, msecs: int = 30000) -> bool:
        """Block until every submitted task ran (shutdown and tests only; deliveries still need the event loop)."""
        return all(pool.waitForDone(msecs) for pool in self._pools.values())
