"""Start-up: what ``kapconsole`` builds before its first window, and what it leaves for later.

The start-up benchmark measures the time; this checks the cause stays fixed: on a current database the first
window needs neither Alembic nor the chart's pyqtgraph nor the report's ReportLab, and the optional screens are
built when they are first shown.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from kapconsole.services import Services
from tests.conftest import make_staff

LAZY = ("alembic", "pyqtgraph", "numpy", "reportlab", "PySide6.QtPdf")

CHILD = """
import sys
from kapconsole.app import start

console = start(sys.argv[1], workstation="test", first_run=False)
assert not isinstance(console, int), console
window = console.window
assert window.isVisible() and window.locked
screens = {type(window.stack.widget(i)).__name__ for i in range(window.stack.count())}
assert not screens & {"SessionView", "BoardView", "AuditView"}, screens
print("LOADED", ",".join(m for m in sys.argv[2:] if m in sys.modules))
console.close()
"""


def test_first_window_imports_no_optional_library(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'kapconsole.db'}"
    services = Services.open(url)  # created and upgraded here: the child finds a current schema
    make_staff(services)
    services.close()
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen")
    root = str(Path(__file__).resolve().parents[2])
    env["PYTHONPATH"] = root + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    done = subprocess.run([sys.executable, "-c", CHILD, url, *LAZY], capture_output=True, text=True, env=env,
                          timeout=120, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    loaded = next(line for line in done.stdout.splitlines() if line.startswith("LOADED"))
    assert loaded == "LOADED ", f"imported at start-up: {loaded[7:]}"
