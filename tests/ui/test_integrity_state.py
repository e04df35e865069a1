"""The session screen shows whether the record verifies: quietly when it does, an INTEGRITY FAILURE when not."""

from __future__ import annotations

import pytest
from PySide6.QtWidgets import QLabel
from pytestqt.qtbot import QtBot
from sqlalchemy import text

from kapconsole.ui.session.session_view import SessionView
from tests.ui.live_session import Live
from tests.ui.test_session_view import child, live, view

__all__ = ["live", "view"]  # the fixtures, shared with the session-screen tests

pytestmark = pytest.mark.qt_log_ignore("propagateSizeHints")


def test_a_sound_record_is_shown_verified(view: SessionView, qtbot: QtBot) -> None:
    label = child(view, QLabel, "integrityState")
    qtbot.waitUntil(lambda: label.text() == "✓ Record verified", timeout=10000)


def test_an_edited_record_shows_an_integrity_failure(live: Live, view: SessionView, qtbot: QtBot) -> None:
    label = child(view, QLabel, "integrityState")
    qtbot.waitUntil(lambda: label.text() == "✓ Record verified", timeout=10000)
    with live.services.db.engine.begin() as conn:
        conn.execute(text("UPDATE clinical_sessions SET room = 'Room 99' WHERE id = :s"), {"s": live.session_id})
    live.controller.check_integrity()
    qtbot.waitUntil(lambda: label.text().startswith("⚠ INTEGRITY FAILURE"), timeout=10000)
    assert "room" in label.text() and label.property("severity") == "danger"
