"""Composition root: database → services → application state → main window."""

from __future__ import annotations

import socket
import sys

from kapconsole.domain.errors import DomainError


def run_gui(database_url: str | None = None, *, workstation: str | None = None) -> int:
    """Open the database, show the console, and run until it is closed. Returns the exit code."""
    from PySide6.QtWidgets import QApplication, QDialog, QMessageBox

    from kapconsole.services import Services
    from kapconsole.ui import theme
    from kapconsole.ui.app_state import AppState
    from kapconsole.ui.first_run import FirstRunWizard
    from kapconsole.ui.main_window import MainWindow

    app = QApplication.instance() or QApplication(sys.argv)
    app.setOrganizationName("KAPConsole")
    app.setApplicationName("kapconsole")
    app.setApplicationDisplayName("KAP Console")
    theme.apply_theme(theme.remembered_night(), app)  # type: ignore[arg-type]
    try:
        services = Services.open(database_url)
        needs_admin = not services.staff.has_administrator()
    except (DomainError, OSError) as exc:  # an unreachable server, a folder that cannot be created
        QMessageBox.critical(None, "KAP Console", f"The database cannot be opened:\n{exc}")
        return 1
    state = AppState(services, workstation or socket.gethostname())
    try:
        if needs_admin:
            wizard = FirstRunWizard(state)
            if wizard.exec() != QDialog.DialogCode.Accepted:
                return 0
        window = MainWindow(state)
        window.show()
        return int(app.exec())
    finally:
        state.runner.wait(10000)
        services.close()
