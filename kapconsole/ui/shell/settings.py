"""The one place the console's QSettings come from.

Outside tests the settings live where Qt keeps them for organisation "KAPConsole", application "kapconsole".
When ``KAPCONSOLE_SETTINGS_SCOPE`` is set (the test suite sets it) they live in an INI file instead, so tests
never read or change a user's settings: ``KAPCONSOLE_SETTINGS_FILE`` names the file (tests point it at a
per-test temporary folder); without it a file in a temporary folder private to this process is used.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from PySide6.QtCore import QSettings

ORGANISATION = "KAPConsole"
APPLICATION = "kapconsole"

# Keys, named once so screens and tests agree on them.
KEY_NIGHT = "display/night"  # every screen but the session ones
KEY_NIGHT_SESSION = "display/night_session"  # the live session and checklist screens
KEY_IDLE_SECONDS = "lock/idle_seconds"
KEY_ROOM = "today/room"
DEFAULT_IDLE_SECONDS = 5 * 60

_private_dir: str | None = None


def settings() -> QSettings:
    """A QSettings for the console (isolated in an INI file when a settings scope is set)."""
    scope = os.environ.get("KAPCONSOLE_SETTINGS_SCOPE")
    if not scope:
        return QSettings(ORGANISATION, APPLICATION)
    path = os.environ.get("KAPCONSOLE_SETTINGS_FILE")
    if not path:
        global _private_dir
        if _private_dir is None:
            _private_dir = tempfile.mkdtemp(prefix=f"kapconsole-settings-{scope}-")
        path = str(Path(_private_dir) / "kapconsole.ini")
    return QSettings(path, QSettings.Format.IniFormat)


def open_session_key(workstation: str) -> str:
    """Where the session open at ``workstation`` is remembered (restart recovery)."""
    safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in workstation) or "default"
    return f"restore/{safe}/session_id"


def read_bool(key: str, default: bool = False) -> bool:
    value = settings().value(key, default)
    if isinstance(value, str):
        return value.strip().lower() in ("1", "true", "yes", "on")
    return bool(value)


def read_int(key: str, default: int) -> int:
    try:
        return int(settings().value(key, default))  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return default


def write(key: str, value: object) -> None:
    s = settings()
    s.setValue(key, value)
    s.sync()


def remove(key: str) -> None:
    s = settings()
    s.remove(key)
    s.sync()
