"""The lock screen (also the first sign-in) and the idle watcher that locks the console.

The lock screen covers the whole window and shows no client details: only the product name, the
workstation and a sign-in form. Whoever signs in unlocks it and is from then on the signed-in person.
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, Qt, QTimer, Signal
from PySide6.QtWidgets import QApplication, QFrame, QHBoxLayout, QVBoxLayout, QWidget

from kapconsole.ui.shell import settings as cfg
from kapconsole.ui.shell.app_state import AppState
from kapconsole.ui.shell.sign_in import SignInForm
from kapconsole.ui.widgets.text import PlainLabel
from kapconsole.ui.widgets.theme import set_flag

_ACTIVITY = frozenset({
    QEvent.Type.KeyPress, QEvent.Type.MouseButtonPress, QEvent.Type.MouseMove, QEvent.Type.Wheel,
    QEvent.Type.TouchBegin, QEvent.Type.TabletPress,
})


def idle_seconds() -> int:
    """The configured idle time before the console locks (QSettings ``lock/idle_seconds``, default 5 min)."""
    return max(1, cfg.read_int(cfg.KEY_IDLE_SECONDS, cfg.DEFAULT_IDLE_SECONDS))


#: The longest idle time a workstation may be set to: a console left open shows clinical data.
MAX_IDLE_MINUTES = 30


def ask_idle_minutes(parent: QWidget) -> bool:
    """Ask for the idle time in minutes (1 to :data:`MAX_IDLE_MINUTES`) and remember it; False if cancelled."""
    from PySide6.QtWidgets import QInputDialog

    current = max(1, round(idle_seconds() / 60))
    minutes, ok = QInputDialog.getInt(
        parent, "Lock after idle time", "Lock the console after this many minutes without input:",
        min(current, MAX_IDLE_MINUTES), 1, MAX_IDLE_MINUTES)
    if ok:
        cfg.write(cfg.KEY_IDLE_SECONDS, minutes * 60)
    return ok


class IdleWatcher(QObject):
    """Emits ``idle`` after the configured time without keyboard or mouse input anywhere in the application."""

    idle = Signal()

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.timeout.connect(self.idle)
        self.reload()
        app = QApplication.instance()
        if app is not None:
            app.installEventFilter(self)

    def reload(self) -> None:
        """Read the idle time from the settings again and restart the countdown."""
        self._timer.setInterval(idle_seconds() * 1000)
        self._timer.start()

    def stop(self) -> None:
        self._timer.stop()

    def start(self) -> None:
        self._timer.start()

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 (Qt override)
        if event.type() in _ACTIVITY and self._timer.isActive():
            self._timer.start()
        return False

    def detach(self) -> None:
        app = QApplication.instance()
        if app is not None:
            app.removeEventFilter(self)
        self._timer.stop()


class LockScreen(QFrame):
    """Covers the window. ``unlocked(Actor)`` fires when someone signs in."""

    unlocked = Signal(object)  # Actor

    def __init__(self, state: AppState, parent: QWidget | None = None) -> None:
        super().__init__(parent, objectName="lockScreen")
        self.state = state
        self.title = PlainLabel("KAP Console", objectName="lockTitle")
        set_flag(self.title, "heading")
        self.title.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.reason = PlainLabel("", objectName="lockReason")
        self.reason.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.reason.setWordWrap(True)
        self.where = PlainLabel("", objectName="lockWorkstation")
        self.where.setAlignment(Qt.AlignmentFlag.AlignCenter)
        set_flag(self.where, "muted")
        self.form = SignInForm(state, self, button_text="Sign in")
        self.form.setMaximumWidth(520)
        self.form.setMinimumWidth(420)

        box = QVBoxLayout()
        box.addStretch(2)
        for w in (self.title, self.reason, self.where):
            box.addWidget(w)
        box.addSpacing(24)
        row = QHBoxLayout()
        row.addStretch(1)
        row.addWidget(self.form)
        row.addStretch(1)
        box.addLayout(row)
        box.addStretch(3)
        self.setLayout(box)
        self.form.authenticated.connect(self.unlocked)
        self.set_mode(locked=False)

    def set_mode(self, *, locked: bool) -> None:
        """``locked``: the console was locked (a session may be open); otherwise this is the first sign-in."""
        if locked:
            self.title.setText("Console locked")
            self.reason.setText("Sign in to continue. Anyone signing in becomes the person entries are recorded under.")
        else:
            self.title.setText("KAP Console")
            self.reason.setText("Sign in to begin.")
        self.where.setText(f"Workstation {self.state.workstation}")

    def prepare(self, *, locked: bool) -> None:
        self.set_mode(locked=locked)
        self.form.reset()
        self.form.focus_first()
