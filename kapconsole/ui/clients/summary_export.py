"""Export a session's integration summary to a PDF file, optionally password protected."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QStandardPaths, Qt, Signal
from PySide6.QtGui import QShowEvent
from PySide6.QtWidgets import (
    QDialog,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from kapconsole.domain.errors import DomainError
from kapconsole.domain.validation import MIN_PDF_PASSWORD
from kapconsole.ui.clients.pdf_viewer import BusyRow, key_text
from kapconsole.ui.session.quick_entry import set_message
from kapconsole.ui.shell.app_state import AppState
from kapconsole.ui.shell.tasks import Lane
from kapconsole.ui.widgets.text import PlainLabel
from kapconsole.ui.widgets.theme import set_flag

MIN_PASSWORD = MIN_PDF_PASSWORD  # the reports service refuses shorter ones; said here before the round trip


def one_line(exc: Exception, what: str) -> str:
    """An error as one line a person can act on (the first line of a domain error, else what failed and why)."""
    if isinstance(exc, DomainError):
        text = str(exc)
    elif isinstance(exc, OSError):
        text = f"{what}: {exc.strerror or type(exc).__name__}" + (f" ({exc.filename})" if exc.filename else "")
    else:
        text = f"{what}: {exc}" if str(exc) else f"{what} ({type(exc).__name__})"
    return text.strip().splitlines()[0] if text.strip() else what


def default_folder() -> Path:
    folder = QStandardPaths.writableLocation(QStandardPaths.StandardLocation.DocumentsLocation)
    return Path(folder) if folder else Path.home()


class ExportDialog(QDialog):
    """Choose a file and an optional password; the summary is written in the background, then the dialog closes.

    ``exported(path, protected)`` is emitted once the file is written.
    """

    exported = Signal(str, bool)

    def __init__(self, state: AppState, session_id: int, file_name: str, title: str,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent, objectName="exportDialog")
        self.state = state
        self.session_id = session_id
        self._writing = False
        self.setWindowTitle("Export integration summary")
        heading = PlainLabel("Export integration summary")
        set_flag(heading, "heading")
        about = PlainLabel(title, objectName="exportAbout")
        about.setWordWrap(True)
        note = PlainLabel("The file holds health information: it is readable by you only. With a password, the PDF "
                      "is encrypted; give the password to the recipient by another way (phone, in person).")
        note.setWordWrap(True)
        set_flag(note, "muted")

        self.path = QLineEdit(str(default_folder() / file_name), objectName="exportPath")
        self.path.setAccessibleName("File to write")
        self.path.setToolTip("Where the PDF is written")
        self.browse = QPushButton("Choose…", objectName="exportBrowse")
        self.browse.setToolTip(f"Choose the folder and file name ({key_text('Alt+C')})")
        self.browse.setShortcut("Alt+C")
        self.browse.setAccessibleName("Choose the file")
        path_row = QHBoxLayout()
        path_row.addWidget(self.path, 1)
        path_row.addWidget(self.browse)
        self.password = QLineEdit(objectName="exportPassword")
        self.password.setEchoMode(QLineEdit.EchoMode.Password)
        self.password.setAccessibleName("Password, optional")
        self.password.setPlaceholderText(f"optional, at least {MIN_PASSWORD} characters")
        self.password.setToolTip("Leave empty for a PDF without password")
        self.repeat = QLineEdit(objectName="exportRepeat")
        self.repeat.setEchoMode(QLineEdit.EchoMode.Password)
        self.repeat.setAccessibleName("Repeat the password")
        form = QFormLayout()
        for text, field, row in (("&File", self.path, path_row), ("&Password", self.password, self.password),
                                 ("R&epeat", self.repeat, self.repeat)):
            label = PlainLabel(text)
            label.setBuddy(field)
            form.addRow(label, row)

        self.message = PlainLabel("", objectName="exportMessage")
        self.message.setWordWrap(True)
        self.message.hide()
        self.busy = BusyRow("exportBusy")
        self.cancel_button = QPushButton("Cancel", objectName="exportCancel")
        self.cancel_button.setToolTip(f"Close without writing a file ({key_text('Esc')})")
        self.export_button = QPushButton("Export", objectName="exportConfirm")
        self.export_button.setToolTip(f"Write the PDF ({key_text('Ctrl+Return')})")
        self.export_button.setShortcut("Ctrl+Return")
        self.export_button.setDefault(True)
        set_flag(self.export_button, "primary")
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        buttons.addWidget(self.cancel_button)
        buttons.addWidget(self.export_button)

        layout = QVBoxLayout(self)
        layout.addWidget(heading)
        layout.addWidget(about)
        layout.addLayout(form)
        layout.addWidget(note)
        layout.addWidget(self.message)
        layout.addWidget(self.busy)
        layout.addLayout(buttons)
        self.setMinimumWidth(760)

        self.browse.clicked.connect(self._on_browse)
        self.cancel_button.clicked.connect(self.reject)
        self.export_button.clicked.connect(self._on_export)
        self.password.setFocus(Qt.FocusReason.OtherFocusReason)

    def showEvent(self, event: QShowEvent) -> None:  # noqa: N802 (Qt override)
        super().showEvent(event)
        self.activateWindow()  # its Ctrl+Enter works at once, without a click into the dialog first

    def _on_browse(self) -> None:
        chosen, _filter = QFileDialog.getSaveFileName(self, "Export integration summary", self.path.text(),
                                                      "PDF files (*.pdf)")
        if chosen:
            self.path.setText(chosen)

    def target(self) -> Path | None:
        text = self.path.text().strip()
        if not text:
            return None
        path = Path(text).expanduser()
        return path if path.suffix.lower() == ".pdf" else path.with_name(path.name + ".pdf")

    def _on_export(self) -> None:
        if self._writing:
            return
        target = self.target()
        password = self.password.text()
        if target is None:
            set_message(self.message, "Choose where to write the file.", "warning")
            self.path.setFocus()
            return
        if not target.parent.is_dir():
            set_message(self.message, f"The folder {target.parent} does not exist.", "warning")
            self.path.setFocus()
            return
        if password and len(password) < MIN_PASSWORD:
            set_message(self.message, f"The password needs at least {MIN_PASSWORD} characters.", "warning")
            self.password.setFocus()
            return
        if password != self.repeat.text():
            set_message(self.message, "The two passwords differ: type the password again.", "warning")
            self.repeat.clear()
            self.repeat.setFocus()
            return
        actor = self.state.require_actor()
        reports = self.state.services.reports
        sid = self.session_id
        self._set_writing(True)
        self.state.runner.submit(lambda: reports.write(actor, sid, target, password=password or None),
                                 lambda path: self._on_written(path, bool(password)), self._on_failed,
                                 receiver=self, lane=Lane.REPORTS)

    def _set_writing(self, writing: bool) -> None:
        self._writing = writing
        for widget in (self.export_button, self.browse, self.path, self.password, self.repeat):
            widget.setEnabled(not writing)
        if writing:
            self.message.hide()
            self.busy.start("Preparing summary…")
        else:
            self.busy.stop()

    def _on_written(self, path: Path, protected: bool) -> None:
        self._set_writing(False)
        self.exported.emit(str(path), protected)
        self.accept()

    def _on_failed(self, exc: Exception) -> None:
        self._set_writing(False)
        set_message(self.message, one_line(exc, "Could not write the summary"), "danger")

    def reject(self) -> None:
        if not self._writing:  # the file is being written: let it finish and report
            super().reject()
