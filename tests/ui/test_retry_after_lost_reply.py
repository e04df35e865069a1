"""A save whose commit landed but whose answer was lost: saving again what was typed adds nothing twice."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QLineEdit, QPushButton
from pytestqt.qtbot import QtBot
from sqlalchemy import event
from sqlalchemy.exc import OperationalError

from kapconsole.ui.session.session_view import SessionView
from tests.ui.live_session import Live
from tests.ui.test_session_view import child, live, stored, view, wait_shown

__all__ = ["live", "view"]  # the fixtures, shared with the session-screen tests

pytestmark = pytest.mark.qt_log_ignore("propagateSizeHints")


def _lose_next_reply(live: Live) -> list[bool]:
    lost: list[bool] = []

    def lose(_session: object) -> None:
        if not lost:
            lost.append(True)
            raise OperationalError("COMMIT", {}, Exception("server closed the connection unexpectedly"))

    event.listen(live.services.db._writes, "after_commit", lose)
    return lost


def test_observation_saved_again_after_a_lost_reply_is_one_entry(live: Live, view: SessionView,
                                                                 qtbot: QtBot) -> None:
    before = len(stored(live).observations)
    lost = _lose_next_reply(live)
    text = child(view, QLineEdit, "observationText")
    qtbot.keyClicks(text, "Hands relaxed, slow breathing")
    qtbot.keyClick(text, Qt.Key.Key_Return)
    message = child(view, QLabel, "observationMessage")
    qtbot.waitUntil(lambda: "Not saved" in message.text(), timeout=10000)
    assert lost and text.text() == "Hands relaxed, slow breathing"  # kept, as the person was told
    assert len(stored(live).observations) == before + 1  # yet the commit had landed
    qtbot.mouseClick(child(view, QPushButton, "observationSave"), Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: "Saved" in message.text() and "Not" not in message.text(), timeout=10000)
    assert len(stored(live).observations) == before + 1
    assert text.text() == ""
    # The next observation is a new request.
    qtbot.keyClicks(text, "Eyes open, smiling")
    qtbot.keyClick(text, Qt.Key.Key_Return)
    wait_shown(live, qtbot, view, lambda r: len(r.observations) == before + 2)


def test_vitals_changed_after_a_lost_reply_are_a_new_reading(live: Live, view: SessionView, qtbot: QtBot) -> None:
    before = len(stored(live).vitals)
    _lose_next_reply(live)
    sbp = child(view, QLineEdit, "vitals_sbp")
    qtbot.keyClicks(child(view, QLineEdit, "vitals_dbp"), "80")
    qtbot.keyClicks(sbp, "131")
    qtbot.keyClick(sbp, Qt.Key.Key_Return)
    message = child(view, QLabel, "vitalsMessage")
    qtbot.waitUntil(lambda: "Not saved" in message.text(), timeout=10000)
    assert "cannot be reached" in message.text()
    sbp.clear()
    qtbot.keyClicks(sbp, "133")  # corrected before saving again: a different request
    qtbot.keyClick(sbp, Qt.Key.Key_Return)
    wait_shown(live, qtbot, view, lambda r: len(r.vitals) == before + 2)
    assert [v.payload["sbp"] for v in stored(live).vitals[-2:]] == [131, 133]
