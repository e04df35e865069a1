"""Composition root: database → services → application state → main window.

:func:`start` does everything ``kapconsole`` does before its event loop runs (the start-up benchmark calls it
too, so the figure measures exactly this); :func:`run_gui` then runs the loop until the window is closed.
"""

from __future__ import annotations

import socket
import sys
from dataclasses import dataclass
from typing import TYPE_CHECKING

from kapconsole.domain.errors import DomainError

if TYPE_CHECKING:
    from PySide6.QtWidgets import QApplication

    from kapconsole.services import Services
    from kapconsole.ui.shell.app_state import AppState
    from kapconsole.ui.shell.main_window import MainWindow


@dataclass
class Console:
    """What :func:`start` built: the application, the services, the shared state and the shown window."""

    app: QApplication
    services: Services
    state: AppState
    window: MainWindow

    def close(self) -> None:
        """Wait for background work, then release the database."""
        self.state.runner.wait(10000)
        self.services.close()


def start(database_url: str | None = None, *, workstation: str | None = None,
          first_run: bool = True) -> Console | int:
    """Open the database, build the main window and show it (the first sign-in screen).

    On an empty database the first-run wizard comes first (a modal dialog) unless ``first_run`` is False,
    when that is refused. Returns an exit code instead when the database cannot be opened or the wizard is
    cancelled.
    """
    from PySide6.QtWidgets import QApplication, QDialog, QMessageBox

    from kapconsole import logfile
    from kapconsole.services import Services
    from kapconsole.ui.shell.app_state import AppState
    from kapconsole.ui.shell.main_window import MainWindow
    from kapconsole.ui.widgets import theme

    logfile.setup()
    app = QApplication.instance() or QApplication(sys.argv)
    assert isinstance(app, QApplication)
    app.setOrganizationName("KAPConsole")
    app.setApplicationName("kapconsole")
    app.setApplicationDisplayName("KAP Console")
    theme.apply_theme(theme.remembered_night(), app)
    try:
        services = Services.open(database_url)
        needs_admin = not services.staff.has_administrator()
    except (DomainError, OSError) as exc:  # an unreachable server, a folder that cannot be created
        QMessageBox.critical(None, "KAP Console", f"The database cannot be opened:\n{exc}")
        return 1
    state = AppState(services, workstation or socket.gethostname())
    console: Console | None = None
    try:
        if needs_admin:
            if not first_run:
                print(f"kapconsole: {services.database_name} has no administrator yet", file=sys.stderr)
                return 1
            from kapconsole.ui.shell.first_run import FirstRunWizard

            wizard = FirstRunWizard(state)
            if wizard.exec() != QDialog.DialogCode.Accepted:
                return 0
        window = MainWindow(state)
        window.show()
        console = Console(app, services, state, window)
        return console
    finally:
        if console is None:
            state.runner.wait(10000)
            services.close()


def run_gui(database_url: str | None = None, *, workstation: str | None = None) -> int:
    """Open the database, show the console, and run until it is closed. Returns the exit code."""
    console = start(database_url, workstation=workstation)
    if isinstance(console, int):
        return console
    try:
        return int(console.app.exec())
    finally:
        console.close()
