"""The console fits a 1280-wide screen, in night mode's large type too."""

from __future__ import annotations

import pytest

from kapconsole.ui.session.session_view import SessionView
from kapconsole.ui.widgets import theme
from tests.ui.live_session import open_live, populate_hours, wait_for_record
from tests.ui.shell_support import OFFSCREEN_SIZE_HINTS, isolated_settings  # noqa: F401 (fixture)

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


@pytest.mark.usefixtures("isolated_settings")
@pytest.mark.parametrize(("size", "rows"), [((1280, 800), 3), ((1600, 1000), 8)], ids=["1280x800", "1600x1000"])
def test_session_screen_shows_everything_without_scrolling(qtbot, sqlite_services, clock, size, rows) -> None:
    """Vitals, side effects and scales all in view, and a useful number of timeline rows (day type)."""
    from tests.conftest import PASSWORD
    from tests.ui.shell_support import make_window, sign_in, wait_idle

    live = open_live(sqlite_services, clock, qtbot)
    populate_hours(live, 3)
    window = make_window(qtbot, sqlite_services)
    sign_in(qtbot, window, "nina", PASSWORD)
    theme.remember_night(False, theme.SESSION)
    window.open_session(live.session_id)
    qtbot.waitUntil(lambda: window.stack.currentWidget() is window._session_view, timeout=10000)
    window.set_night(False)
    window.resize(*size)
    wait_idle(qtbot, window)
    qtbot.wait(100)
    view = window.session_view
    assert view.alert_banner.isVisible()  # the tightest case: an alert waiting to be acknowledged
    assert view.entry_scroll.verticalScrollBar().maximum() == 0, view.entry_scroll.verticalScrollBar().maximum()
    for panel in (view.vitals, view.side_effects, view.scales):
        assert not panel.visibleRegion().isEmpty()
    table = view.timeline.table
    shown = table.viewport().height() // max(1, table.rowHeight(0))
    assert shown >= rows, shown
    assert window.minimumSizeHint().width() <= size[0]
    window.close()
    window.state.runner.wait(10000)
    live.state.runner.wait()
