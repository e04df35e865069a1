"""An in-console PDF viewer for integration summaries, and opening a summary in the system's own viewer.

Qt's PDF module is imported the first time a summary is shown, not at start-up: most sessions at a
workstation never open a summary, and the module is large.
"""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QBuffer, QByteArray, QEvent, QIODevice, QObject, Qt, QUrl, Signal
from PySide6.QtGui import QColor, QDesktopServices, QKeySequence, QPainter, QPaintEvent, QPalette
from PySide6.QtWidgets import (
    QHBoxLayout,
    QProgressBar,
    QPushButton,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from kapconsole.ui.session.quick_entry import set_message, shortcut
from kapconsole.ui.widgets.text import PlainLabel
from kapconsole.ui.widgets.theme import set_flag

if TYPE_CHECKING:
    from PySide6.QtPdf import QPdfDocument
    from PySide6.QtPdfWidgets import QPdfView

ZOOM_STEP = 1.25
ZOOM_LIMITS = (0.25, 5.0)
NIGHT_DIM = QColor(0, 0, 0, 120)  # over white paper at night: about half as bright, colours keep their hue


def key_text(keys: str) -> str:
    """``Ctrl+S`` as this platform writes it (``⌘S`` on macOS), for tooltips."""
    return QKeySequence(keys).toString(QKeySequence.SequenceFormat.NativeText)


class BusyRow(QWidget):
    """An indeterminate progress bar with a line saying what is being prepared; hidden when idle."""

    def __init__(self, name: str, parent: QWidget | None = None) -> None:
        super().__init__(parent, objectName=name)
        self.bar = QProgressBar(objectName=f"{name}Bar")
        self.bar.setRange(0, 0)
        self.bar.setTextVisible(False)
        self.bar.setMaximumWidth(160)
        self.bar.setAccessibleName("Working")
        self.label = PlainLabel("", objectName=f"{name}Text")
        set_flag(self.label, "muted")
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.bar)
        layout.addWidget(self.label, 1)
        self.hide()

    def start(self, text: str) -> None:
        self.label.setText(text)
        self.show()

    def stop(self) -> None:
        self.hide()


class _Dimmer(QWidget):
    """A see-through dark veil over the pages at night, so a white page does not light up a dim room."""

    def __init__(self, viewport: QWidget) -> None:
        super().__init__(viewport, objectName="summaryDimmer")
        self.setAttribute(Qt.WidgetAttribute.WA_TransparentForMouseEvents)
        self.setAttribute(Qt.WidgetAttribute.WA_NoSystemBackground)
        self.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        viewport.installEventFilter(self)
        self.setGeometry(viewport.rect())

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 (Qt override)
        if event.type() == QEvent.Type.Resize and isinstance(watched, QWidget):
            self.setGeometry(watched.rect())
            self.raise_()
        return False

    def paintEvent(self, _event: QPaintEvent) -> None:  # noqa: N802 (Qt override)
        QPainter(self).fillRect(self.rect(), NIGHT_DIM)


class SummaryViewer(QWidget):
    """Shows one summary PDF from bytes, with zoom and a page count; or a placeholder, progress or an error."""

    loaded = Signal(int)  # pages

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent, objectName="summaryViewer")
        self._document: QPdfDocument | None = None
        self._view: QPdfView | None = None
        self._buffer: QBuffer | None = None
        self._bytes = QByteArray()
        self._dimmer: _Dimmer | None = None
        self._loaded = False

        self.title = PlainLabel("", objectName="summaryTitle")
        self.title.setWordWrap(True)
        set_flag(self.title, "strong")
        self.page_label = PlainLabel("", objectName="summaryPage")
        set_flag(self.page_label, "muted")
        self.fit_button = self._button("summaryFit", "Fit width", "Fit the page to the width", "Ctrl+0",
                                       self.fit_width)
        self.zoom_out_button = self._button("summaryZoomOut", "−", "Zoom out", "Ctrl+-", self.zoom_out)
        self.zoom_in_button = self._button("summaryZoomIn", "+", "Zoom in", "Ctrl++", self.zoom_in)
        shortcut(self, "Ctrl+=", self.zoom_in)  # the same key as "+" without Shift
        top = QHBoxLayout()
        top.addWidget(self.title, 1)
        top.addWidget(self.page_label)
        for button in (self.zoom_out_button, self.zoom_in_button, self.fit_button):
            top.addWidget(button)

        self.busy = BusyRow("summaryViewerBusy")
        self.message = PlainLabel("", objectName="summaryViewerMessage")
        self.message.setWordWrap(True)
        self.message.hide()
        self.placeholder = PlainLabel("", objectName="summaryPlaceholder")
        self.placeholder.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.placeholder.setWordWrap(True)
        set_flag(self.placeholder, "muted")
        self.pages = QStackedWidget(objectName="summaryPages")
        self.pages.addWidget(self.placeholder)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(top)
        layout.addWidget(self.busy)
        layout.addWidget(self.message)
        layout.addWidget(self.pages, 1)
        self.clear()

    def _button(self, name: str, text: str, tip: str, keys: str, slot: object) -> QPushButton:
        button = QPushButton(text, objectName=name)
        button.setToolTip(f"{tip} ({key_text(keys)})")
        button.setAccessibleName(tip)
        button.clicked.connect(slot)
        shortcut(self, keys, slot)  # type: ignore[arg-type]
        return button

    # ----- what is shown ---------------------------------------------------------------------------------
    @property
    def document(self) -> QPdfDocument | None:
        """The summary on screen, or None (after :meth:`clear` the view keeps an emptied document object)."""
        return self._document if self._loaded else None

    @property
    def view(self) -> QPdfView | None:
        return self._view

    @property
    def page_count(self) -> int:
        return self._document.pageCount() if self._document is not None and self._loaded else 0

    def clear(self, text: str = "Choose a session, then Open summary to read it here.") -> None:
        self._unload()
        self.title.setText("")
        self.busy.stop()
        self.message.hide()
        self.placeholder.setText(text)
        self.pages.setCurrentWidget(self.placeholder)
        self._update_controls()

    def show_busy(self, title: str, text: str = "Preparing summary…") -> None:
        self._unload()
        self.title.setText(title)
        self.message.hide()
        self.busy.start(text)
        self.placeholder.setText("")
        self.pages.setCurrentWidget(self.placeholder)
        self._update_controls()

    def show_error(self, text: str) -> None:
        self.busy.stop()
        set_message(self.message, text, "danger")
        self.placeholder.setText("")
        self._update_controls()

    def show_pdf(self, content: bytes, title: str) -> None:
        """Load ``content`` (a PDF) and show it fitted to the width, first page at the top."""
        from PySide6.QtPdf import QPdfDocument

        self.busy.stop()
        self.message.hide()
        self.title.setText(title)
        view = self._ensure_view()
        document = QPdfDocument(self)
        self._bytes = QByteArray(content)
        buffer = QBuffer(self._bytes, self)
        buffer.open(QIODevice.OpenModeFlag.ReadOnly)
        document.load(buffer)  # QPdfDocument reads from the buffer as long as it is open: keep both.
        old_document, old_buffer = self._document, self._buffer
        self._document, self._buffer = document, buffer
        self._loaded = True
        view.setDocument(document)
        view.setZoomMode(view.ZoomMode.FitToWidth)
        self._dispose(old_document, old_buffer)
        self.pages.setCurrentWidget(view)
        if document.status() == QPdfDocument.Status.Ready:
            self._on_status(document.status())
        else:
            document.statusChanged.connect(self._on_status)

    def _ensure_view(self) -> QPdfView:
        if self._view is None:
            from PySide6.QtPdfWidgets import QPdfView

            view = QPdfView(self, objectName="summaryPdfView")
            view.setAccessibleName("Integration summary")
            view.setPageMode(QPdfView.PageMode.MultiPage)
            view.setPageSpacing(12)
            view.pageNavigator().currentPageChanged.connect(lambda _p: self._update_page())
            self.pages.addWidget(view)
            self._view = view
            self._dimmer = _Dimmer(view.viewport())
            self._update_dim()
        return self._view

    def _update_dim(self) -> None:
        """Dim the pages when the theme is dark (judged from the palette, so it follows a theme switch)."""
        if self._dimmer is not None:
            self._dimmer.setVisible(self.palette().color(QPalette.ColorRole.Window).lightness() < 100)

    def changeEvent(self, event: QEvent) -> None:  # noqa: N802 (Qt override)
        super().changeEvent(event)
        if event.type() in (QEvent.Type.PaletteChange, QEvent.Type.ApplicationPaletteChange):
            self._update_dim()

    def _on_status(self, status: object) -> None:
        from PySide6.QtPdf import QPdfDocument

        document = self._document
        if document is None or not self._loaded or self.sender() not in (None, document):
            return
        if status == QPdfDocument.Status.Ready:
            self._update_controls()
            self.loaded.emit(document.pageCount())
        elif status == QPdfDocument.Status.Error:
            self.show_error("The summary could not be displayed; open it in the PDF viewer instead.")

    def _unload(self) -> None:
        """Forget the PDF's content. The emptied document object stays set on the view until the next one
        replaces it (QPdfView warns when it is given no document at all)."""
        self._loaded = False
        if self._document is not None:
            self._document.close()
        if self._buffer is not None:
            self._buffer.close()
        self._bytes = QByteArray()

    @staticmethod
    def _dispose(document: QPdfDocument | None, buffer: QBuffer | None) -> None:
        if document is not None:
            document.close()
            document.deleteLater()
        if buffer is not None:
            buffer.close()
            buffer.deleteLater()

    # ----- zoom and pages --------------------------------------------------------------------------------
    def fit_width(self) -> None:
        if self._view is not None and self.page_count:
            self._view.setZoomMode(self._view.ZoomMode.FitToWidth)

    def zoom_in(self) -> None:
        self._zoom(ZOOM_STEP)

    def zoom_out(self) -> None:
        self._zoom(1 / ZOOM_STEP)

    def _zoom(self, factor: float) -> None:
        view = self._view
        if view is None or self._document is None or not self.page_count:
            return
        current = view.zoomFactor()
        if view.zoomMode() != view.ZoomMode.Custom:
            # In fit-to-width mode zoomFactor() is not the scale on screen: work it out from the page width.
            width = self._document.pagePointSize(0).width() * self.logicalDpiX() / 72
            if width > 0:
                current = max(view.viewport().width() - 2 * 6, 1) / width
        view.setZoomMode(view.ZoomMode.Custom)
        view.setZoomFactor(min(max(current * factor, ZOOM_LIMITS[0]), ZOOM_LIMITS[1]))

    def _update_page(self) -> None:
        count = self.page_count
        if self._view is None or not count:
            self.page_label.setText("")
            return
        page = self._view.pageNavigator().currentPage() + 1
        self.page_label.setText(f"Page {page} of {count}")

    def _update_controls(self) -> None:
        ready = self._document is not None and self.page_count > 0
        for button in (self.fit_button, self.zoom_in_button, self.zoom_out_button):
            button.setEnabled(ready)
        self._update_page()


# ----- the system viewer ---------------------------------------------------------------------------------
_private_dir: Path | None = None


def _temp_dir() -> Path:
    """A folder only this user can enter, removed when the console exits."""
    global _private_dir
    if _private_dir is None or not _private_dir.is_dir():
        _private_dir = Path(tempfile.mkdtemp(prefix="kapconsole-"))  # created 0700
        atexit.register(shutil.rmtree, _private_dir, True)
    return _private_dir


def write_private_copy(content: bytes, name: str) -> Path:
    """Write ``content`` to a new file readable by its owner only (0600) in a private temporary folder."""
    safe = "".join(ch if ch.isalnum() or ch in "-_." else "-" for ch in name).strip("-.") or "summary"
    path = Path(tempfile.mkstemp(prefix=f"{safe}-", suffix=".pdf", dir=_temp_dir())[1])
    fd = os.open(path, os.O_WRONLY | os.O_TRUNC)
    with os.fdopen(fd, "wb") as fh:
        fh.write(content)
    os.chmod(path, 0o600)
    return path


def open_externally(path: Path) -> bool:
    """Hand ``path`` to the desktop's PDF viewer; False when there is none."""
    return QDesktopServices.openUrl(QUrl.fromLocalFile(str(path)))
