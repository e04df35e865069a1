"""Who is signed in at this workstation, and the services they act through."""

from __future__ import annotations

from PySide6.QtCore import QObject, Signal

from kapconsole.domain.values import Actor
from kapconsole.services import Services
from kapconsole.ui.shell.tasks import TaskRunner


class AppState(QObject):
    """Shared by every view: the services, the task runner, the workstation name and the signed-in person."""

    actor_changed = Signal(object)  # Actor | None

    def __init__(self, services: Services, workstation: str, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.services = services
        self.workstation = workstation
        self.runner = TaskRunner(self)
        self._actor: Actor | None = None

    @property
    def actor(self) -> Actor | None:
        return self._actor

    def require_actor(self) -> Actor:
        if self._actor is None:
            raise RuntimeError("nobody is signed in")
        return self._actor

    def set_actor(self, actor: Actor | None) -> None:
        self._actor = actor
        self.actor_changed.emit(actor)
