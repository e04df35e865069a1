"""Screenshots of the console's main screens, in day and night, taken from the demo clinic.

``python -m kapconsole.ui.screenshots OUTDIR`` seeds the demo clinic into a temporary SQLite file, builds the
real main window, signs the demo users in and writes ``OUTDIR/screenshots/<screen>-<day|night>.png``. The
user's own settings are never read or changed (a private settings file is used). Without a display it runs
on Qt's offscreen platform.

This is a script, not part of the running console: it waits for the worker thread by pumping the event loop,
which a slot must never do.
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

SIZE = (1500, 950)
WORKSTATION = "room-2"
MODES = ("day", "night")
#: Every screen, with what it shows (``docs/screenshots/README.md`` repeats these captions).
SCREENS: dict[str, str] = {
    "today": "Today: the sessions planned today and those still active, in every room",
    "checklist": "Pre-session checklist (Room 3): confirmed items, what still blocks dosing",
    "session": "Live session (Room 2, monitoring) with an unacknowledged high blood pressure: alert banner, "
               "clocks, vitals chart with alert lines, timeline, quick entry",
    "board": "Supervisor board: every active room; the unacknowledged alert in Room 2 stands out",
    "discharge": "Discharge dialog (Room 4): each criterion with why it fails or passes, bedside confirmations",
    "signed": "A signed session opened read-only from the supervisor board",
    "clients": "Clients and summaries: the therapist's view of a client's course",
    "frontdesk": "Front desk: a client found without accents, her allergies, escort, course and sessions",
    "week": "Front desk: the rooms' week, who is where and when",
}
#: Shown only when the console has that screen.
OPTIONAL = frozenset({"clients"})


@contextmanager
def _private_settings(folder: Path) -> Iterator[None]:
    saved = {k: os.environ.get(k) for k in ("KAPCONSOLE_SETTINGS_SCOPE", "KAPCONSOLE_SETTINGS_FILE")}
    os.environ["KAPCONSOLE_SETTINGS_SCOPE"] = "screenshots"
    os.environ["KAPCONSOLE_SETTINGS_FILE"] = str(folder / "settings.ini")
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def take_screenshots(outdir: Path) -> list[Path]:
    """Write every screenshot into ``outdir / "screenshots"``; returns the files written."""
    if not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")):
        os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtWidgets import QApplication

    from kapconsole.services import Services
    from kapconsole.services.demo import seed_demo
    from kapconsole.ui.widgets import theme

    target = outdir / "screenshots"
    target.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="kapconsole-screens-") as tmp, _private_settings(Path(tmp)):
        app = QApplication.instance() or QApplication([sys.argv[0]])
        assert isinstance(app, QApplication)
        app.setApplicationDisplayName("KAP Console")
        services = Services.open(f"sqlite:///{Path(tmp) / 'demo.db'}")
        try:
            summary = seed_demo(services)
            _add_alert(services)
            theme.apply_theme(False, app)  # type: ignore[arg-type]
            return _Photographer(app, services, summary.signed_session_id, target).run()  # type: ignore[arg-type]
        finally:
            services.close()


def _add_alert(services: object) -> None:
    """One high blood pressure in Room 2, just taken: the screens then show what an alert looks like."""
    from kapconsole.domain.enums import SessionState

    live = services.clinic.list_sessions(room="Room 2", states=[SessionState.MONITORING])  # type: ignore[attr-defined]
    nurse = services.staff.actor_for("nurse.kim", "room-2")  # type: ignore[attr-defined]
    services.records.record_vitals(nurse, live[0].id, {"sbp": 186, "dbp": 104, "hr": 96, "spo2": 97,  # type: ignore[attr-defined]
                                                       "rr": 16})


class _Photographer:
    def __init__(self, app: object, services: object, signed_id: int, target: Path) -> None:
        from kapconsole.domain.enums import SessionState
        from kapconsole.ui.shell.app_state import AppState
        from kapconsole.ui.shell.main_window import MainWindow

        self.app = app
        self.services = services
        self.target = target
        self.written: list[Path] = []
        rooms = {(i.room, i.state): i.id for i in services.clinic.list_sessions(  # type: ignore[attr-defined]
            states=[SessionState.CHECKLIST, SessionState.MONITORING, SessionState.DISCHARGE])}
        self.checklist_id = rooms[("Room 3", SessionState.CHECKLIST)]
        self.live_id = rooms[("Room 2", SessionState.MONITORING)]
        self.discharge_id = rooms[("Room 4", SessionState.DISCHARGE)]
        self.signed_id = signed_id
        self.state = AppState(services, WORKSTATION)  # type: ignore[arg-type]
        self.window = MainWindow(self.state)
        self.window.resize(*SIZE)
        self.window.status_database.setText("Database: demo clinic")  # not the temporary file's path
        self.window.show()
        self.settle()

    # ----- waiting and saving --------------------------------------------------------------------------
    def settle(self, until: Callable[[], bool] | None = None, *, minimum: float = 0.4, timeout: float = 20.0) -> None:
        """Pump events until ``until()`` holds and the worker has been idle for a moment (bounded)."""
        app = self.app
        start = time.monotonic()
        quiet = 0
        while time.monotonic() - start < timeout:
            app.processEvents()  # type: ignore[attr-defined]
            ready = (until is None or until()) and not self.state.runner.busy
            quiet = quiet + 1 if ready else 0
            if quiet >= 5 and time.monotonic() - start >= minimum:
                return
            time.sleep(0.02)
        print(f"screenshots: gave up waiting after {timeout:.0f} s; the picture may be incomplete", file=sys.stderr)

    def save(self, widget: object, name: str, mode: str) -> None:
        self.settle()
        path = self.target / f"{name}-{mode}.png"
        if not widget.grab().save(str(path), "PNG"):  # type: ignore[attr-defined]
            raise OSError(f"could not write {path}")
        self.written.append(path)

    # ----- driving the window --------------------------------------------------------------------------
    def sign_in(self, login: str) -> None:
        from kapconsole.services.demo import DEMO_PASSWORD

        actor = self.services.staff.authenticate(login, DEMO_PASSWORD, WORKSTATION)  # type: ignore[attr-defined]
        window = self.window
        if not window.locked:
            window.lock()
        window.lock_screen.unlocked.emit(actor)  # what the sign-in form does; it calls state.set_actor
        self.settle(lambda: not window.locked)

    def night(self, night: bool) -> None:
        """The theme for the screen on show (each context remembers its own)."""
        self.window.set_night(night)
        self.settle()

    def open(self, session_id: int, *, read_only: bool = False) -> None:
        window = self.window
        if read_only:
            window.open_session_read_only(session_id)
        else:
            window.open_session(session_id)
        self.settle(lambda: window.session_view.record is not None
                    and window.session_view.record.info.id == session_id
                    and window.stack.currentWidget() in (window.checklist, window.session_view))

    def run(self) -> list[Path]:
        from kapconsole.ui.widgets import theme

        window = self.window
        try:
            for mode in MODES:
                night = mode == "night"
                for context in (theme.SESSION, theme.ELSEWHERE):
                    theme.remember_night(night, context)
                self.sign_in("nurse.kim")
                window.show_today()
                self.night(night)
                self.settle(lambda: window.today.model.rowCount() > 0)
                self.save(window, "today", mode)
                self.open(self.checklist_id)
                self.night(night)
                self.save(window, "checklist", mode)
                self.open(self.live_id)
                self.night(night)
                self.save(window, "session", mode)

                self.sign_in("dr.reyes")
                window.show_board()
                self.night(night)
                self.settle(lambda: window.board.model.rowCount() > 0)
                self.save(window, "board", mode)
                self.open(self.discharge_id, read_only=True)
                self.night(night)
                self._discharge(mode)
                self.open(self.signed_id, read_only=True)
                self.save(window, "signed", mode)
                window.back_to_board()

                self._clients(mode, night)
                self._frontdesk(mode, night)
        finally:
            window.close()
            self.state.runner.wait(10000)
        return self.written

    def _discharge(self, mode: str) -> None:
        from kapconsole.ui.discharge.discharge_view import DischargeDialog

        self.window.open_discharge_dialog()
        dialog = self.window.findChild(DischargeDialog)
        if dialog is None:
            raise RuntimeError("the discharge dialog did not open")
        self.settle(lambda: dialog.record is not None)
        self.save(dialog, "discharge", mode)
        dialog.reject()
        self.settle()

    def _clients(self, mode: str, night: bool) -> None:
        """The therapist's client view, when the console has one (found by its menu action)."""
        from PySide6.QtGui import QAction

        action = next((a for a in self.window.findChildren(QAction) if "client" in a.objectName().lower()), None)
        if action is None:
            return
        self.sign_in("therapist.lee")
        action.trigger()
        self.night(night)
        # The therapist preparing integration: Maya's course, her signed session's summary open.
        view = self.window.clients
        view.search.setText("Maya")
        self.settle(lambda: view.session_model.rowCount() > 0)
        view.open_summary()
        self.settle(lambda: view.viewer.page_count > 0)
        self.save(self.window, "clients", mode)


    def _frontdesk(self, mode: str, night: bool) -> None:
        """The front desk: a client's file, then the rooms' week."""
        window = self.window
        self.sign_in("desk.rosa")
        window.show_frontdesk()
        self.night(night)
        desk = window.frontdesk
        desk.search.setText("thompson")
        self.settle(lambda: desk.file is not None and desk.sessions_model.rowCount() > 0)
        self.save(window, "frontdesk", mode)
        desk.tabs.setCurrentWidget(desk.week)
        self.settle(lambda: desk.week.table.rowCount() > 0 and bool(desk.week.slots))
        self.save(window, "week", mode)
        desk.tabs.setCurrentIndex(0)


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1:
        print("usage: python -m kapconsole.ui.screenshots OUTDIR", file=sys.stderr)
        return 2
    for path in take_screenshots(Path(args[0])):
        print(path)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
