"""The console fits a 1280-wide screen, in night mode's large type too."""

from __future__ import annotations

import pytest

from kapconsole.ui.session.session_view import SessionView
from kapconsole.ui.widgets import theme
from tests.ui.live_session import open_live, populate_hours, wait_for_record
from tests.ui.shell_support import OFFSCREEN_SIZE_HINTS

pytestmark = [OFFSCREEN_SIZE_HINTS]


@pytest.mark.parametrize("night", [False, True], ids=["day", "night"])
def test_live_session_fits_1280_wide(qtbot, sqlite_services, clock, night: bool) -> None:
    theme.apply_theme(night)
    try:
        live = open_live(sqlite_services, clock, qtbot)
        populate_hours(live, 2)
        view = SessionView(live.state, live.controller)
        view.set_night(night)
        qtbot.addWidget(view)
        view.show()
        live.controller.open(live.session_id)
        wait_for_record(live, qtbot)
        qtbot.waitUntil(lambda: view.record is not None, timeout=5000)
        # The window frame, margins and a scroll bar take the rest of 1280.
        assert view.minimumSizeHint().width() <= 1240
        live.state.runner.wait()
    finally:
        theme.apply_theme(False)
