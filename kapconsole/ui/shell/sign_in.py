"""Sign-in: a form (used by the lock screen and the override dialog) and the switch-user dialog (Ctrl+U).

Every entry is attributed to whoever is signed in: a successful sign-in here calls ``AppState.set_actor``.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLayout,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from kapconsole.domain.errors import DatabaseUnavailable
from kapconsole.domain.values import Actor
from kapconsole.ui.shell.app_state import AppState
from kapconsole.ui.widgets.text import PlainLabel
from kapconsole.ui.widgets.theme import set_flag, set_severity


def grow_to_fit(window: QWidget) -> None:
    """Make ``window`` tall enough for its layout at its current width (wrapped text included)."""
    layout = window.layout()
    if layout is None:
        return
    layout.activate()
    width = window.width()
    need = layout.totalHeightForWidth(width) if layout.hasHeightForWidth() else layout.totalSizeHint().height()
    need = max(need, layout.totalMinimumSize().height())
    if need > window.height():
        window.resize(width, need)


class SignInForm(QWidget):
    """Login and password (or PIN). Emits ``authenticated(Actor)``; does not change who is signed in."""

    authenticated = Signal(object)  # Actor

    def __init__(self, state: AppState, parent: QWidget | None = None, *, button_text: str = "Sign in") -> None:
        super().__init__(parent)
        self.state = state
        self.login = QLineEdit(objectName="signInLogin")
        self.login.setAccessibleName("Login")
        self.login.setPlaceholderText("login")
        self.password = QLineEdit(objectName="signInPassword")
        self.password.setAccessibleName("Password or PIN")
        self.password.setPlaceholderText("password or PIN")
        self.password.setEchoMode(QLineEdit.EchoMode.Password)
        self.button = QPushButton(button_text, objectName="signInButton")
        self.button.setToolTip(f"{button_text} (Enter)")
        self.button.setAccessibleName(button_text)
        set_flag(self.button, "primary")
        self.message = PlainLabel("", objectName="signInError")
        self.message.setWordWrap(True)
        self.message.setAccessibleName("Sign-in message")
        self.message.hide()

        form = QFormLayout()
        form.addRow("&Login", self.login)
        form.addRow("&Password / PIN", self.password)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(form)
        layout.addWidget(self.message)
        layout.addWidget(self.button)

        self.login.returnPressed.connect(self._on_login_entered)
        self.password.returnPressed.connect(self._on_submit)
        self.button.clicked.connect(self._on_submit)
        self._busy = False

    def reset(self, *, keep_login: bool = False) -> None:
        if not keep_login:
            self.login.clear()
        self.password.clear()
        self.message.hide()
        self._set_busy(False)
        (self.password if keep_login and self.login.text() else self.login).setFocus()

    def focus_first(self) -> None:
        (self.password if self.login.text() else self.login).setFocus()

    def _on_login_entered(self) -> None:
        if self.password.text():
            self._on_submit()
        else:
            self.password.setFocus()

    def _on_submit(self) -> None:
        if self._busy:
            return
        login, password = self.login.text().strip(), self.password.text()
        if not login:
            self._show("Enter your login.")
            self.login.setFocus()
            return
        self._set_busy(True)
        staff, workstation = self.state.services.staff, self.state.workstation
        self.state.runner.submit(lambda: staff.authenticate(login, password, workstation), self._on_done,
                                 self._on_failed)

    def _on_done(self, actor: Actor) -> None:
        self._set_busy(False)
        self.password.clear()
        self.message.hide()
        self.authenticated.emit(actor)

    def _on_failed(self, exc: Exception) -> None:
        self._set_busy(False)
        self.password.clear()
        if isinstance(exc, DatabaseUnavailable):
            self._show(f"Database unreachable: {exc}")
        else:
            self._show(str(exc) or "Sign-in failed.")
        self.password.setFocus()

    def _show(self, text: str) -> None:
        self.message.setText(text)
        set_severity(self.message, "danger")
        self.message.show()
        window = self.window()
        if isinstance(window, QDialog):  # a dialog grows to show the message; the fields keep their size
            grow_to_fit(window)

    def _set_busy(self, busy: bool) -> None:
        self._busy = busy
        self.button.setEnabled(not busy)


class SignInDialog(QDialog):
    """Switch user over the current screen (Ctrl+U): the session stays open; new entries carry the new name."""

    def __init__(self, state: AppState, parent: QWidget | None = None, *, title: str = "Switch user") -> None:
        super().__init__(parent, objectName="signInDialog")
        self.setWindowTitle(title)
        self.state = state
        self.actor: Actor | None = None
        heading = PlainLabel(title)
        set_flag(heading, "heading")
        current = state.actor
        who = PlainLabel(f"Signed in now: {current.name}" if current else "Nobody is signed in.")
        set_flag(who, "muted")
        note = PlainLabel("Everything entered after this is recorded under the name of the person who signs in here.")
        note.setWordWrap(True)
        self.form = SignInForm(state, self, button_text="Sign in")
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel)
        buttons.button(QDialogButtonBox.StandardButton.Cancel).setToolTip("Keep the current user (Esc)")
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        # The dialog grows when a message appears under the fields, rather than squeezing them.
        layout.setSizeConstraint(QLayout.SizeConstraint.SetMinimumSize)
        for w in (heading, who, note, self.form, buttons):
            layout.addWidget(w)
        self.form.authenticated.connect(self._on_authenticated)
        self.setMinimumWidth(460)
        self.form.login.setFocus(Qt.FocusReason.OtherFocusReason)

    def _on_authenticated(self, actor: Actor) -> None:
        self.actor = actor
        self.state.set_actor(actor)
        self.accept()
