"""Run service calls off the GUI thread and hand results back to it.

The GUI thread never waits on a disk or a network: every call that can goes through a ``TaskRunner``.
Calls run one at a time, in order, on one worker thread (entries keep the order they were typed in);
results and errors come back through a queued signal to the runner, which lives in the GUI thread.
"""

from __future__ import annotations

import itertools
import logging
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, QRunnable, QThreadPool, Signal, Slot

log = logging.getLogger(__name__)


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


class TaskRunner(QObject):
    """Submit callables; ``on_done(value)`` or ``on_error(exc)`` runs later in the GUI thread."""

    idle_changed = Signal(bool)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._pool = QThreadPool(self)
        self._pool.setMaxThreadCount(1)
        self._relay = _Relay()
        self._relay.finished.connect(self._deliver)
        self._pending: dict[int, tuple[Callable[[Any], None] | None, Callable[[Exception], None] | None]] = {}
        self._ids = itertools.count(1)

    def submit(self, fn: Callable[[], Any], on_done: Callable[[Any], None] | None = None,
               on_error: Callable[[Exception], None] | None = None) -> int:
        task_id = next(self._ids)
        was_idle = not self._pending
        self._pending[task_id] = (on_done, on_error)
        self._pool.start(_Task(task_id, fn, self._relay))
        if was_idle:
            self.idle_changed.emit(False)
        return task_id

    @property
    def busy(self) -> bool:
        return bool(self._pending)

    @Slot(int, bool, object)
    def _deliver(self, task_id: int, ok: bool, value: object) -> None:
        on_done, on_error = self._pending.pop(task_id, (None, None))
        try:
            if ok and on_done is not None:
                on_done(value)
            elif not ok:
                if on_error is not None:
                    on_error(value)  # type: ignore[arg-type]
                else:
                    # The type only: an exception's text can carry what was typed (client data).
                    log.error("background task failed: %s", type(value).__name__)
        finally:
            if not self._pending:
                self.idle_changed.emit(True)

    def wait(self, msecs: int = 30000) -> bool:
        """Block until every submitted task ran (shutdown and tests only; deliveries still need the event loop)."""
        return self._pool.waitForDone(msecs)
