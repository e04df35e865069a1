"""Clients and summaries: find a client, see the course, read / open / export a session's summary, the course arc."""

from __future__ import annotations

import shutil
import stat
from collections.abc import Iterator
from pathlib import Path

import pypdf
import pytest
from PySide6.QtCore import QObject, Qt, QUrl, Slot
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import QAbstractItemView, QComboBox, QHeaderView, QLineEdit, QPushButton

from kapconsole.domain.enums import SessionState
from kapconsole.domain.errors import DatabaseUnavailable
from kapconsole.services import Services
from kapconsole.services.demo import DEMO_PASSWORD, seed_demo
from kapconsole.ui.clients.client_view import NOT_ALLOWED, ClientView
from kapconsole.ui.clients.course_overview import ROWS
from kapconsole.ui.clients.summary_export import ExportDialog
from kapconsole.ui.shell.app_state import AppState
from tests.conftest import FakeClock
from tests.ui.shell_support import (
    OFFSCREEN_SIZE_HINTS,
    WORKSTATION,
    close_window,
    isolated_settings,  # noqa: F401 (fixture)
    make_window,
    sign_in,
    visible_texts,
    wait_idle,
)

pytestmark = [pytest.mark.usefixtures("isolated_settings"), OFFSCREEN_SIZE_HINTS]
CTRL = Qt.KeyboardModifier.ControlModifier
CTRL_SHIFT = Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier
CLICK = Qt.MouseButton.LeftButton
MAYA = "KAP-1040"  # the demo client with three signed sessions of her course and one planned


@pytest.fixture(scope="module")
def demo_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo clinic, seeded once for this module (it takes seconds); each test works on a copy."""
    path = tmp_path_factory.mktemp("demo") / "kapconsole.db"
    services = Services.open(f"sqlite:///{path}")
    try:
        seed_demo(services)
    finally:
        services.close()
    return path


@pytest.fixture
def demo(demo_file: Path, tmp_path: Path) -> Iterator[Services]:
    copy = tmp_path / "kapconsole.db"
    shutil.copy(demo_file, copy)
    services = Services.open(f"sqlite:///{copy}", clock=FakeClock())
    yield services
    services.close()


def open_clients(qtbot, demo: Services, login: str = "therapist.lee"):  # type: ignore[no-untyped-def]
    window = make_window(qtbot, demo)
    sign_in(qtbot, window, login, DEMO_PASSWORD)
    qtbot.keyClick(window.today.table, Qt.Key.Key_C, CTRL_SHIFT)
    assert window.stack.currentWidget() is window.clients
    view = window.clients
    wait_idle(qtbot, window)
    return window, view


def find_client(qtbot, view: ClientView, text: str) -> None:  # type: ignore[no-untyped-def]
    view.search.clear()
    qtbot.keyClicks(view.search, text)
    qtbot.waitUntil(lambda: view.file is not None and view.file.client.identifier == text, timeout=10000)
    qtbot.waitUntil(lambda: not view.state.runner.busy, timeout=10000)


def select_row(qtbot, view: ClientView, label: str) -> None:  # type: ignore[no-untyped-def]
    """Select the session whose "Session" column reads ``label`` (e.g. "2 of 6")."""
    rows = [s.session_text for s in view.session_model.rows]
    view.sessions.setFocus()
    view.sessions.selectRow(rows.index(label))
    assert view.current_session() is not None and view.current_session().session_text == label


def session_column(view: ClientView, column: int) -> list[str]:
    model = view.session_model
    return [str(model.data(model.index(r, column))) for r in range(model.rowCount())]


def test_search_lists_the_course_and_reads_a_summary_in_the_console(qtbot, demo: Services) -> None:
    window, view = open_clients(qtbot, demo)
    assert view.search.hasFocus()
    find_client(qtbot, view, MAYA)
    assert view.client_model.rowCount() == 1
    assert "Maya Thompson" in view.details.text() and MAYA in view.details.text()
    assert "KAP course" in view.course.currentText()
    assert session_column(view, 1) == ["1 of 6", "2 of 6", "3 of 6", "4 of 6"]
    assert session_column(view, 2) == ["signed", "signed", "signed", "planned"]
    assert session_column(view, 4)[:3] == ["Dr Elena Reyes"] * 3
    assert all("200 mg" in text for text in session_column(view, 3))
    # The latest session held is chosen; a planned one has no summary to open.
    assert view.current_session().session_text == "3 of 6"
    select_row(qtbot, view, "4 of 6")
    assert not view.open_button.isEnabled() and not view.export_button.isEnabled()
    assert "not been held" in view.message.text()
    select_row(qtbot, view, "2 of 6")
    assert view.open_button.isEnabled()

    qtbot.keyClick(view.sessions, Qt.Key.Key_O, CTRL)
    assert view.viewer.busy.isVisible() and "Preparing summary" in view.viewer.busy.label.text()
    qtbot.waitUntil(lambda: view.viewer.page_count > 0, timeout=15000)
    from PySide6.QtPdf import QPdfDocument

    document = view.viewer.document
    assert document is not None and document.status() == QPdfDocument.Status.Ready
    assert document.pageCount() > 0
    assert not view.busy.isVisible() and not view.viewer.busy.isVisible()
    assert view.tabs.currentWidget() is view.viewer
    assert "Session 2 of 6" in view.viewer.title.text() and "signed" in view.viewer.title.text()
    assert "Maya Thompson" in document.getAllText(0).text()
    assert "DRAFT" not in document.getAllText(0).text()
    assert f"of {document.pageCount()}" in view.viewer.page_label.text()
    # Enter on another session opens that one.
    select_row(qtbot, view, "1 of 6")
    qtbot.keyClick(view.sessions, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: "Session 1 of 6" in view.viewer.title.text() and view.viewer.page_count > 0,
                    timeout=15000)
    close_window(qtbot, window)


def test_an_unsigned_session_is_a_draft(qtbot, demo: Services) -> None:
    live = demo.clinic.list_sessions(states=[SessionState.MONITORING])[0]
    window, view = open_clients(qtbot, demo, "nurse.kim")
    find_client(qtbot, view, live.client_identifier)
    row = next(r for r, s in enumerate(view.session_model.rows) if s.id == live.id)
    assert session_column(view, 2)[row] == "draft · dosing / monitoring"
    assert session_column(view, 4)[row] == "—"
    view.sessions.selectRow(row)
    qtbot.mouseClick(view.open_button, CLICK)
    qtbot.waitUntil(lambda: view.viewer.page_count > 0, timeout=15000)
    assert "DRAFT" in view.viewer.title.text()
    assert "DRAFT" in view.viewer.document.getAllText(0).text()
    close_window(qtbot, window)


def test_export_writes_a_private_pdf_with_or_without_password(qtbot, demo: Services, tmp_path: Path) -> None:
    window, view = open_clients(qtbot, demo)
    find_client(qtbot, view, MAYA)

    def export(name: str, password: str = "", repeat: str | None = None) -> ExportDialog:
        qtbot.keyClick(view.sessions, Qt.Key.Key_S, CTRL)
        dialog = view.findChild(ExportDialog)
        assert dialog is not None and dialog.isVisible()
        qtbot.waitUntil(dialog.isActiveWindow, timeout=5000)
        assert MAYA in dialog.path.text() and dialog.path.text().endswith(".pdf")
        dialog.path.clear()
        qtbot.keyClicks(dialog.path, str(tmp_path / name))
        qtbot.keyClicks(dialog.password, password)
        qtbot.keyClicks(dialog.repeat, password if repeat is None else repeat)
        qtbot.mouseClick(dialog.export_button, CLICK)
        return dialog

    export("plain")  # ".pdf" is added
    qtbot.waitUntil(lambda: "Saved" in view.message.text(), timeout=15000)
    qtbot.waitUntil(lambda: view.findChild(ExportDialog) is None, timeout=5000)  # closed (and gone) once written
    plain = tmp_path / "plain.pdf"
    assert plain.read_bytes().startswith(b"%PDF")
    assert stat.S_IMODE(plain.stat().st_mode) == 0o600
    assert not pypdf.PdfReader(plain).is_encrypted
    assert "Saved" in view.message.text() and "password" not in view.message.text()

    dialog = export("locked.pdf", "integration-2024", repeat="integration-2025")
    assert dialog.isVisible() and "differ" in dialog.message.text()
    qtbot.keyClicks(dialog.repeat, "integration-2024")
    qtbot.keyClick(dialog.repeat, Qt.Key.Key_Return, CTRL)
    qtbot.waitUntil(lambda: "password protected" in view.message.text(), timeout=15000)
    reader = pypdf.PdfReader(tmp_path / "locked.pdf")
    assert reader.is_encrypted and reader.decrypt("integration-2024")
    assert "Maya Thompson" in reader.pages[0].extract_text()
    close_window(qtbot, window)


class _Catcher(QObject):
    def __init__(self) -> None:
        super().__init__()
        self.urls: list[QUrl] = []

    @Slot(QUrl)
    def open(self, url: QUrl) -> None:
        self.urls.append(url)


def test_the_system_viewer_gets_an_owner_only_temporary_copy(qtbot, demo: Services) -> None:
    catcher = _Catcher()
    QDesktopServices.setUrlHandler("file", catcher, "open")
    try:
        window, view = open_clients(qtbot, demo)
        find_client(qtbot, view, MAYA)
        qtbot.keyClick(view.sessions, Qt.Key.Key_O, CTRL_SHIFT)
        assert view.busy.isVisible()
        qtbot.waitUntil(lambda: bool(catcher.urls), timeout=15000)
        path = Path(catcher.urls[0].toLocalFile())
        assert path.read_bytes().startswith(b"%PDF") and MAYA in path.name
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
        assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
        assert not view.busy.isVisible()
        close_window(qtbot, window)
    finally:
        QDesktopServices.unsetUrlHandler("file")


def test_course_overview_shows_the_arc_side_by_side(qtbot, demo: Services) -> None:
    window, view = open_clients(qtbot, demo)
    find_client(qtbot, view, MAYA)
    qtbot.keyClick(view.sessions, Qt.Key.Key_2, CTRL)
    assert view.tabs.currentWidget() is view.overview
    model = view.overview.model
    assert model.columnCount() == 3  # the three sessions held; the planned one is counted in the heading
    assert "3 sessions held, 3 signed, 1 more planned" in view.overview.heading.text()
    client = demo.clinic.find_clients(MAYA)[0]
    actor = demo.staff.actor_for("therapist.lee", WORKSTATION)
    lines = [line for line in demo.reports.course_overview(actor, client.id) if line.summary.doses]
    rows = {heading: r for r, (heading, _show) in enumerate(ROWS)}
    for column, line in enumerate(lines):  # oldest left
        header = str(model.headerData(column, Qt.Orientation.Horizontal))
        assert line.course_label.capitalize() in header

        def cell(heading: str, column: int = column) -> str:
            return str(model.data(model.index(rows[heading], column)))

        bp, spo2 = line.summary.peak_bp, line.summary.lowest_spo2
        assert bp is not None and spo2 is not None
        assert f"{bp.sbp:g}/{bp.dbp:g} mmHg" in cell("Peak BP") and bp.moment.offset in cell("Peak BP")
        assert f"{spo2.value:g} %" in cell("Lowest SpO₂")
        assert "/10" in cell("Dissociation peak")
        assert "Ketamine 200 mg" in cell("Dose and route")
        assert "Signed by Dr Elena Reyes" in cell("Summary")
        assert line.integration and all(item.text in cell("For integration") for item in line.integration)
    assert "Nausea (moderate)" in str(model.data(model.index(rows["Side effects"], 2)))
    assert "none recorded" in str(model.data(model.index(rows["Side effects"], 0)))
    # Outcome measures per session, and their trend across the course in a small chart.
    assert str(model.data(model.index(rows["Outcome measures"], 0))) == "PHQ-9 22 (severe)\nGAD-7 16 (severe)"
    assert str(model.data(model.index(rows["Outcome measures"], 2))) == "PHQ-9 14 (moderate)\nGAD-7 9 (mild)"
    trend = view.overview.trend
    assert trend.isVisible()
    assert trend.series == {"PHQ-9": [(0, 22), (1, 17), (2, 14)], "GAD-7": [(0, 16), (1, 12), (2, 9)]}
    assert trend.accessibleDescription() == "PHQ-9 22 → 17 → 14; GAD-7 16 → 12 → 9"
    image = trend.grab().toImage()
    dark = sum(1 for x in range(0, image.width(), 2) for y in range(0, image.height(), 2)
               if image.pixelColor(x, y).lightness() < 110)
    assert dark > 40  # lines and markers were drawn
    close_window(qtbot, window)


def test_an_administrator_cannot_open_client_records(qtbot, demo: Services) -> None:
    window = make_window(qtbot, demo)
    sign_in(qtbot, window, "admin", DEMO_PASSWORD)
    assert not window.act_clients.isEnabled()
    qtbot.keyClick(window.today.table, Qt.Key.Key_C, CTRL_SHIFT)
    window.show_clients()
    assert window.stack.currentWidget() is not window._clients or window._clients is None
    assert not any("Maya Thompson" in text for text in visible_texts(window))
    close_window(qtbot, window)


def test_switching_to_a_role_without_records_clears_the_screen(qtbot, demo: Services) -> None:
    state = AppState(demo, WORKSTATION)
    state.set_actor(demo.staff.actor_for("therapist.lee", WORKSTATION))
    view = ClientView(state)
    qtbot.addWidget(view)
    view.show()
    find_client(qtbot, view, MAYA)
    qtbot.mouseClick(view.open_button, CLICK)
    qtbot.waitUntil(lambda: view.viewer.page_count > 0, timeout=15000)
    state.set_actor(demo.staff.actor_for("admin", WORKSTATION))
    assert view.client_model.rowCount() == 0 and view.session_model.rowCount() == 0
    assert view.viewer.document is None and view.overview.model.columnCount() == 0
    assert view.details.text() == "" and NOT_ALLOWED in view.message.text()
    assert not any("Maya" in text for text in visible_texts(view))
    view.refresh()  # nothing is fetched for a role that may not see records
    assert not state.runner.busy and view.client_model.rowCount() == 0
    state.runner.wait()


def test_every_input_is_named_and_every_button_shows_its_shortcut(qtbot, demo: Services) -> None:
    window, view = open_clients(qtbot, demo)
    find_client(qtbot, view, MAYA)
    qtbot.mouseClick(view.open_button, CLICK)
    qtbot.waitUntil(lambda: view.viewer.page_count > 0, timeout=15000)
    inputs = [w for w in view.findChildren(QLineEdit) + view.findChildren(QComboBox)
              + view.findChildren(QAbstractItemView) if w.isVisibleTo(view) and not isinstance(w, QHeaderView)]
    inputs += [view.overview.table, view.viewer.view]
    assert len(inputs) >= 6 and all(w.accessibleName() for w in inputs), [w.objectName() for w in inputs]
    buttons = [b for b in view.findChildren(QPushButton) if b.isVisibleTo(view)]
    assert len(buttons) >= 7
    assert all(b.toolTip().endswith(")") and "(" in b.toolTip() for b in buttons), [b.toolTip() for b in buttons]
    assert "Ctrl+Shift+C" in window.act_clients.toolTip()
    # Ctrl+F from anywhere on the screen goes back to Find.
    qtbot.keyClick(view.sessions, Qt.Key.Key_F, CTRL)
    assert view.search.hasFocus()
    close_window(qtbot, window)


def test_a_failure_shows_one_line_and_stops_the_progress(qtbot, demo: Services,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    window, view = open_clients(qtbot, demo)
    find_client(qtbot, view, MAYA)

    def broken(*_args: object, **_kwargs: object) -> bytes:
        raise DatabaseUnavailable("the database server did not answer\nconnection refused (port 5432)")

    monkeypatch.setattr(demo.reports, "pdf", broken)
    qtbot.keyClick(view.sessions, Qt.Key.Key_O, CTRL)
    qtbot.waitUntil(lambda: view.viewer.message.isVisible(), timeout=10000)
    assert "did not answer" in view.viewer.message.text() and "\n" not in view.viewer.message.text()
    assert "did not answer" in view.message.text() and "\n" not in view.message.text()
    assert not view.viewer.busy.isVisible() and view.viewer.document is None
    assert view.open_button.isEnabled()  # try again once the database is back
    close_window(qtbot, window)
