"""The live session end to end, through the real main window (offscreen), on the six-hour session.

- **open**: from the Today list to the session screen drawn (the timeline holds every entry, the chart every
  reading, the window rendered). Baseline: the same entries read with raw SQL into a bare
  ``QStandardItemModel`` in a bare ``QTableView`` and a bare pyqtgraph plot of the vitals, drawn.
- **Enter → visible**: values typed in the vitals row, then Enter; the clock stops when the new row is in the
  timeline and the new point on the chart, both repainted, and the event loop has nothing left to do.
  Baseline: a raw SQLite insert and commit + a row appended to a bare table model + a point appended to a bare
  plot + both repainted. In the six-hour session and in a fresh one, and with a 1 Hz four-channel monitor
  stream feeding the chart.

Each variant runs in a child process (``python -m benchmarks.bench_session CHILD …``) so one window's
leftovers do not weigh on the next; the child prints its timings as JSON.
"""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from benchmarks.common import Result, Stats, describe, ms, temp_root

ENTRIES = int(os.environ.get("KAPCONSOLE_BENCH_ENTRIES", "120"))  # Enter presses measured per variant (after WARMUP)
WARMUP = 8
OPENS = int(os.environ.get("KAPCONSOLE_BENCH_OPENS", "5"))
OPEN_TARGET = 2.0
ENTER_TARGET = 3.0
GROWTH_TARGET = 1.2
PASSWORD = "bench-password-1"
ROOT = Path(__file__).resolve().parent.parent


# ----- in the child ----------------------------------------------------------------------------------------
def _app() -> Any:
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtWidgets import QApplication

    return QApplication.instance() or QApplication([])


def _spin(app: Any, done: Callable[[], bool], timeout: float = 60.0) -> None:
    """Run the event loop until ``done()``; then until it has nothing left to do."""
    from PySide6.QtCore import QEventLoop

    end = time.perf_counter() + timeout
    while not done():
        if time.perf_counter() > end:
            raise TimeoutError("the console did not show the change in time")
        app.processEvents(QEventLoop.ProcessEventsFlag.AllEvents, 5)
        if not done():
            time.sleep(0.0002)
    app.processEvents()


def _window(url: str) -> tuple[Any, Any, Any]:
    """The real main window on ``url``, signed in as the nurse, showing Today."""
    from PySide6.QtCore import Qt
    from PySide6.QtTest import QTest

    from kapconsole.services import Services
    from kapconsole.ui.shell.app_state import AppState
    from kapconsole.ui.shell.main_window import MainWindow

    app = _app()
    services = Services.open(url)
    state = AppState(services, "bench")
    window = MainWindow(state)
    window.resize(1400, 900)
    window.show()
    app.processEvents()
    form = window.lock_screen.form
    form.login.setText("nurse")
    form.password.setText(PASSWORD)
    QTest.keyClick(form.password, Qt.Key.Key_Return)
    _spin(app, lambda: not window.locked and not state.runner.busy)
    return app, services, window


def _session_view(window: Any) -> Any:
    view = window.stack.currentWidget()
    return view if type(view).__name__ == "SessionView" else None


def _charted(view: Any) -> int:
    return len(view.chart.charted("hr")[0])


def child_open(url: str, session_id: int, entries: int, readings: int) -> dict[str, list[float]]:
    """Open the session from Today ``OPENS`` times; the bare baseline alternates with it."""
    app, services, window = _window(url)
    path = url.removeprefix("sqlite:///")
    ours: list[float] = []
    base: list[float] = []
    bare = _BareOpen(path, session_id)
    for i in range(OPENS + 1):
        start = time.perf_counter()
        window.open_session(session_id)

        def shown() -> bool:
            view = _session_view(window)
            return (view is not None and view.timeline.model.rowCount() == entries
                    and _charted(view) == readings and not window.state.runner.busy)

        _spin(app, shown, timeout=300)
        window.grab()
        elapsed = time.perf_counter() - start
        b = bare.open()
        if i:  # the first round warms the caches of both
            ours.append(elapsed)
            base.append(b)
        window.controller.close()
        window.show_today()
        _spin(app, lambda: not window.state.runner.busy)
    services.close()
    return {"ours": ours, "base": base}


class _BareOpen:
    """Raw SQL into a bare QStandardItemModel / QTableView and a bare pyqtgraph plot, drawn."""

    def __init__(self, path: str, session_id: int) -> None:
        self.path = path
        self.session_id = session_id

    def open(self) -> float:
        import pyqtgraph as pg
        from PySide6.QtGui import QStandardItem, QStandardItemModel
        from PySide6.QtWidgets import QSplitter, QTableView

        app = _app()
        start = time.perf_counter()
        conn = sqlite3.connect(self.path)
        rows = conn.execute("SELECT e.observed_at, s.name, e.kind, e.payload FROM entries e JOIN staff s "
                            "ON s.id = e.author_id WHERE e.session_id = ? ORDER BY e.seq DESC",
                            (self.session_id,)).fetchall()
        conn.close()
        model = QStandardItemModel(len(rows), 4)
        xs: list[float] = []
        hr: list[float] = []
        for r, (at, name, kind, payload) in enumerate(rows):
            for c, text in enumerate((str(at)[11:16], name, kind, payload)):
                model.setItem(r, c, QStandardItem(text))
            if kind == "vitals":
                values = json.loads(payload)
                if "hr" in values:
                    xs.append(float(len(xs)))
                    hr.append(float(values["hr"]))
        splitter = QSplitter()
        table = QTableView()
        table.setModel(model)
        plot = pg.PlotWidget()
        plot.plot(xs, hr)
        splitter.addWidget(plot)
        splitter.addWidget(table)
        splitter.resize(1400, 900)
        splitter.show()
        app.processEvents()
        splitter.grab()
        elapsed = time.perf_counter() - start
        splitter.close()
        splitter.deleteLater()
        app.processEvents()
        return elapsed


class _BareEnter:
    """A raw insert + commit, a row appended to a bare table model, a point to a bare plot, both repainted."""

    def __init__(self, folder: Path) -> None:
        import pyqtgraph as pg
        from PySide6.QtGui import QStandardItemModel
        from PySide6.QtWidgets import QSplitter, QTableView

        self.db = sqlite3.connect(folder / "bare-enter.db", isolation_level=None)
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA synchronous=FULL")
        self.db.execute("CREATE TABLE IF NOT EXISTS entries (id INTEGER PRIMARY KEY, session_id INTEGER, seq "
                        "INTEGER, kind TEXT, observed_at TEXT, payload TEXT, hash TEXT)")
        self.model = QStandardItemModel(0, 4)
        self.table = QTableView()
        self.table.setModel(self.model)
        self.plot = pg.PlotWidget()
        self.curve = self.plot.plot([], [])
        self.xs: list[float] = []
        self.ys: list[float] = []
        self.splitter = QSplitter()
        self.splitter.addWidget(self.plot)
        self.splitter.addWidget(self.table)
        self.splitter.resize(1400, 600)
        self.splitter.show()
        self.seq = 0

    def enter(self, values: dict[str, int]) -> float:
        import hashlib

        from PySide6.QtGui import QStandardItem

        start = time.perf_counter()
        self.seq += 1
        payload = json.dumps(values, sort_keys=True)
        self.db.execute("BEGIN IMMEDIATE")
        self.db.execute("INSERT INTO entries (session_id, seq, kind, observed_at, payload, hash) VALUES "
                        "(1, ?, 'vitals', ?, ?, ?)", (self.seq, time.strftime("%Y-%m-%dT%H:%M:%S"), payload,
                                                      hashlib.sha256(payload.encode()).hexdigest()))
        self.db.execute("COMMIT")
        self.model.insertRow(0, [QStandardItem(t) for t in (time.strftime("%H:%M"), "Bench Nurse", "Vitals",
                                                             payload)])
        self.xs.append(float(self.seq))
        self.ys.append(float(values["hr"]))
        self.curve.setData(self.xs, self.ys)
        self.table.viewport().repaint()
        self.plot.viewport().repaint()
        _app().processEvents()
        return time.perf_counter() - start


def child_enter(url: str, session_id: int, stream: bool) -> dict[str, list[float]]:
    """Enter ``ENTRIES`` vitals rows in the open session; the bare baseline alternates with it."""
    from PySide6.QtCore import Qt, QTimer
    from PySide6.QtTest import QTest

    app, services, window = _window(url)
    window.open_session(session_id)
    _spin(app, lambda: _session_view(window) is not None and window.controller.record is not None
          and not window.state.runner.busy, timeout=300)
    view = _session_view(window)
    _spin(app, lambda: view.timeline.model.rowCount() == len(window.controller.record.entries))
    bare = _BareEnter(temp_root())
    feed = None
    if stream:
        # Six hours of 1 Hz monitor samples already on the chart, and one more every second.
        for i in range(6 * 3600):
            view.chart.append_point(i / 60.0, _sample(i))
        view.chart.flush()
        tick = {"i": 6 * 3600}

        def feed_one() -> None:
            view.chart.append_point(tick["i"] / 60.0, _sample(tick["i"]))
            tick["i"] += 1

        feed = QTimer()
        feed.setInterval(1000)
        feed.timeout.connect(feed_one)
        feed.start()
    ours: list[float] = []
    base: list[float] = []
    fields = view.vitals.fields
    table = view.timeline.table
    plot = view.chart.plot_widget
    for i in range(WARMUP + ENTRIES):
        values = {"sbp": 118 + i % 13, "dbp": 74 + i % 7, "hr": 66 + i % 19, "spo2": 96 + i % 3, "rr": 12 + i % 5}
        for key, value in values.items():
            fields[key].setText(str(value))
        rows = view.timeline.model.rowCount()
        points = _charted(view)
        start = time.perf_counter()
        QTest.keyClick(fields["rr"], Qt.Key.Key_Return)
        _spin(app, lambda r=rows, p=points: view.timeline.model.rowCount() > r and _charted(view) > p)
        view.chart.flush()
        table.viewport().repaint()
        plot.viewport().repaint()
        _spin(app, lambda: not window.state.runner.busy)
        elapsed = time.perf_counter() - start
        b = bare.enter(values)
        if i >= WARMUP:
            ours.append(elapsed)
            base.append(b)
    if feed is not None:
        feed.stop()
    services.close()
    return {"ours": ours, "base": base}


def _sample(i: int) -> dict[str, float]:
    return {"sbp": 120.0 + i % 9, "dbp": 76.0 + i % 5, "hr": 70.0 + i % 11, "spo2": 97.0 + i % 2}


# ----- in the parent ---------------------------------------------------------------------------------------
def _child(*args: str) -> dict[str, list[float]]:
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", KAPCONSOLE_SETTINGS_SCOPE="bench")
    env["KAPCONSOLE_SETTINGS_FILE"] = str(temp_root() / "bench-settings.ini")
    proc = subprocess.run([sys.executable, "-m", "benchmarks.bench_session", *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=3600)
    if proc.returncode != 0:
        raise RuntimeError(proc.stderr.strip().splitlines()[-1] if proc.stderr.strip() else "child failed")
    return json.loads(proc.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]


def _fresh_session(folder: Path) -> tuple[str, int]:
    from benchmarks.common import dosed_session, make_staff
    from kapconsole.services import Services

    path = folder / "fresh.db"
    if path.exists():
        path.unlink()
    services = Services.open(f"sqlite:///{path}")
    try:
        sid = dosed_session(services, make_staff(services), identifier="BENCH-F", name="Fresh Example")
    finally:
        services.close()
    return f"sqlite:///{path}", sid


def _copy(path: Path, name: str) -> Path:
    import shutil

    target = temp_root() / name
    for suffix in ("", "-wal", "-shm"):
        src = Path(str(path) + suffix)
        if src.exists():
            shutil.copyfile(src, Path(str(target) + suffix))
    return target


def run() -> list[Result]:
    from benchmarks import session_data
    from kapconsole.services import Services

    path, sid = session_data.build()
    services = Services.open(f"sqlite:///{path}")
    try:
        record = services.records.record(None, sid)
        entries, readings = len(record.entries), len(record.vitals)
    finally:
        services.close()
    results: list[Result] = []

    opened = _child("open", f"sqlite:///{_copy(path, 'open.db')}", str(sid), str(entries), str(readings))
    o, ob = Stats.of(opened["ours"]), Stats.of(opened["base"])
    ratio = o.median / ob.median
    results.append(Result(
        f"open a six-hour session from Today ({entries} entries, {readings} readings)", describe(o),
        f"raw SQL + bare table + bare plot: {describe(ob)}", ratio, f"≤ {OPEN_TARGET:g}×", ratio <= OPEN_TARGET,
        [f"{OPENS} opens of the real main window (offscreen, 1400×900), each until the timeline holds every "
         "entry, the chart every reading and the window is rendered"]))

    six = _child("enter", f"sqlite:///{_copy(path, 'enter.db')}", str(sid), "")
    fresh_url, fresh_sid = _fresh_session(temp_root())
    fresh = _child("enter", fresh_url, str(fresh_sid), "")
    streamed = _child("enter", f"sqlite:///{_copy(path, 'stream.db')}", str(sid), "stream")
    f = Stats.of(fresh["ours"])
    for label, data in (("six-hour session", six), ("fresh session", fresh),
                        ("six-hour session, 1 Hz 4-channel stream on the chart", streamed)):
        s, b = Stats.of(data["ours"]), Stats.of(data["base"])
        ratio = s.p99 / b.p99
        notes = [f"p50 ratio {s.median / b.median:.2f}×; baseline = SQLite insert+commit (WAL, synchronous=FULL) "
                 "+ a row into a bare QStandardItemModel + a point on a bare pyqtgraph plot, both repainted"]
        ok = ratio <= ENTER_TARGET
        if label != "fresh session":
            growth = s.median / f.median
            notes.append(f"p50 {growth:.2f}× the fresh session's ({ms(f.median)} ms; target ≤ {GROWTH_TARGET:g}×); "
                         f"p99 {s.p99 / f.p99:.2f}×")
            ok = ok and growth <= GROWTH_TARGET
        results.append(Result(
            f"Enter on a vitals row → in timeline and chart, loop idle: {label} (n={len(s.samples)})",
            describe(s, p99=True), f"bare: {describe(b, p99=True)}", ratio,
            f"p99 ≤ {ENTER_TARGET:g}×" + ("" if label == "fresh session" else f"; p50 ≤ {GROWTH_TARGET:g}× fresh"),
            ok, notes))
    return results


def main(argv: list[str]) -> None:
    what = argv[0]
    if what == "open":
        out = child_open(argv[1], int(argv[2]), int(argv[3]), int(argv[4]))
    elif what == "enter":
        out = child_enter(argv[1], int(argv[2]), argv[3] == "stream" if len(argv) > 3 else False)
    else:
        raise SystemExit(f"unknown child {what!r}")
    print(json.dumps(out), flush=True)
    sys.stdout.flush()
    os._exit(0)  # teardown is not part of any figure


if __name__ == "__main__":
    main(sys.argv[1:])
