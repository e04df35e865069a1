"""The console's log file: a rotating file in the user's log folder, for unexpected errors and their tracebacks.

Nothing about a client goes into it: an unexpected error is logged with its type and traceback (the code
lines), never with its message, which can carry what someone typed.
"""

from __future__ import annotations

import logging
import sys
import traceback
from logging.handlers import RotatingFileHandler
from pathlib import Path
from types import TracebackType

import platformdirs

LOGGER = "kapconsole"
MAX_BYTES = 1_000_000
BACKUPS = 5


def log_folder() -> Path:
    return Path(platformdirs.user_log_dir("kapconsole", "KAPConsole"))


def without_message(exc_type: type[BaseException], tb: TracebackType | None) -> str:
    """An error as its type and traceback only."""
    return f"{exc_type.__qualname__} (message withheld)\n" + "".join(traceback.format_tb(tb))


def setup(folder: Path | None = None) -> Path:
    """Send the console's log to ``folder``/kapconsole.log (rotated at 1 MB, five kept); returns the file."""
    folder = folder or log_folder()
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "kapconsole.log"
    logger = logging.getLogger(LOGGER)
    for handler in list(logger.handlers):
        if isinstance(handler, RotatingFileHandler):
            logger.removeHandler(handler)
            handler.close()
    handler = RotatingFileHandler(path, maxBytes=MAX_BYTES, backupCount=BACKUPS, encoding="utf-8")
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)

    previous = sys.excepthook

    def hook(exc_type: type[BaseException], exc: BaseException, tb: TracebackType | None) -> None:
        logger.error("uncaught error: %s", without_message(exc_type, tb))
        previous(exc_type, exc, tb)

    sys.excepthook = hook
    return path
