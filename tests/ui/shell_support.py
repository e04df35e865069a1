"""Helpers shared by the console shell tests: a main window on a real SQLite file, signing in, planning."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest
from PySide6.QtCore import QAbstractListModel, QModelIndex, Qt
from PySide6.QtWidgets import (
    QAbstractButton,
    QAbstractItemView,
    QApplication,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QWidget,
)

from kapconsole.domain.enums import Route
from kapconsole.domain.values import Actor
from kapconsole.services import Services
from kapconsole.ui.shell.app_state import AppState
from kapconsole.ui.shell.main_window import MainWindow
from kapconsole.ui.widgets import theme
from tests.conftest import ensure_room

WORKSTATION = "room-1"
#: The offscreen platform cannot pass a top-level window's minimum size on and says so; real platforms can.
OFFSCREEN_SIZE_HINTS = pytest.mark.qt_log_ignore("does not support propagateSizeHints")


@pytest.fixture
def isolated_settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """Each test gets its own settings file, and the day theme back afterwards."""
    path = tmp_path / "settings.ini"
    monkeypatch.setenv("KAPCONSOLE_SETTINGS_SCOPE", "tests")
    monkeypatch.setenv("KAPCONSOLE_SETTINGS_FILE", str(path))
    yield path
    if QApplication.instance() is not None:
        theme.apply_theme(False)


def make_window(qtbot, services: Services, workstation: str = WORKSTATION) -> MainWindow:  # type: ignore[no-untyped-def]
    state = AppState(services, workstation)
    window = MainWindow(state)
    window._test_state = state  # keep the QObject alive as long as the window
    qtbot.addWidget(window)
    window.show()
    qtbot.waitExposed(window)
    return window


def close_window(qtbot, window: MainWindow) -> None:  # type: ignore[no-untyped-def]
    window.close()
    window.state.runner.wait(10000)
    qtbot.wait(20)


def wait_idle(qtbot, window: MainWindow, timeout: int = 10000) -> None:  # type: ignore[no-untyped-def]
    qtbot.waitUntil(lambda: not window.state.runner.busy, timeout=timeout)


def sign_in(qtbot, window: MainWindow, login: str, password: str) -> None:  # type: ignore[no-untyped-def]
    form = window.lock_screen.form
    form.login.clear()
    qtbot.keyClicks(form.login, login)
    qtbot.keyClicks(form.password, password)
    qtbot.keyClick(form.password, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: not window.locked, timeout=10000)
    wait_idle(qtbot, window)


def plan(services: Services, actor: Actor, *, when: datetime, room: str = "Room 1", name: str = "Jane Doe",
         identifier: str = "KAP-1", route: Route = Route.SUBLINGUAL, dose: float = 100) -> int:
    client = services.clinic.add_client(actor, identifier=identifier, name=name, allergies="penicillin",
                                        weight_kg=70, weight_on=services.clinic.now().date())
    course = services.clinic.add_course(actor, client.id, title="KAP course", planned_sessions=6)
    info = services.clinic.plan_session(actor, client_id=client.id, room=ensure_room(services, room), route=route,
                                        planned_drug="Esketamine" if route is Route.INTRANASAL else "Ketamine",
                                        planned_dose=dose, planned_unit="mg",
                                        scheduled_at=when, course_id=course.id)
    return info.id


def confirm_all(services: Services, actor: Actor, session_id: int) -> None:
    record = services.records.record(actor, session_id)
    for item in record.protocol.checklist:
        if item.required:
            services.records.confirm_checklist_item(actor, session_id, item.key)


def visible_texts(root: QWidget) -> list[str]:
    """Every piece of text a person could read on screen right now (labels, buttons, fields, tables)."""
    texts = [root.windowTitle()]
    for w in root.findChildren(QWidget):
        if not w.isVisible():
            continue
        if isinstance(w, QLabel | QAbstractButton | QLineEdit):
            texts.append(w.text())
        elif isinstance(w, QPlainTextEdit):
            texts.append(w.toPlainText())
        elif isinstance(w, QAbstractItemView) and w.model() is not None:
            model = w.model()
            root_index = QModelIndex()
            columns = 1 if isinstance(model, QAbstractListModel) else model.columnCount(root_index)
            for r in range(model.rowCount(root_index)):
                for c in range(columns):
                    texts.append(str(model.data(model.index(r, c)) or ""))
        texts.append(w.toolTip())
    return texts
