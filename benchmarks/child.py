"""Child processes for the start-up and memory benchmarks (a fresh interpreter each).

``python -m benchmarks.child startup-ours URL`` calls ``kapconsole.app.start`` (what ``kapconsole`` runs before
its event loop), lets the event loop show the window, prints ``SHOWN`` and exits. ``startup-bare`` does the same
with an empty QMainWindow after importing the same heavy libraries. ``memory-ours PATH SESSION`` loads a session into the
chart and timeline and prints its peak RSS in KiB; ``memory-bare`` prints the bare program's.
"""

from __future__ import annotations

import os
import resource
import sys


def peak_rss_kib() -> int:
    """This process's peak resident set in KiB.

    ``VmHWM`` where Linux has it: ``ru_maxrss`` survives ``execve``, so a child forked from a big benchmark
    process would report the parent's size. Elsewhere ``ru_maxrss`` (KiB on Linux, bytes on macOS).
    """
    try:
        with open("/proc/self/status", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except OSError:
        pass
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak // 1024 if sys.platform == "darwin" else peak


def _shown(app: object) -> None:
    from PySide6.QtCore import QTimer

    QTimer.singleShot(0, app.quit)  # type: ignore[attr-defined]
    app.exec()  # type: ignore[attr-defined]
    print("SHOWN", flush=True)


def startup_bare() -> object:
    import pyqtgraph  # noqa: F401  (the same heavy libraries as the console)
    import sqlalchemy  # noqa: F401
    from PySide6.QtWidgets import QApplication, QMainWindow

    app = QApplication(sys.argv)
    window = QMainWindow()
    window.resize(1280, 860)
    window.show()
    _shown(app)
    return window


def startup_ours(url: str) -> object:
    # Exactly what ``kapconsole`` does before its event loop: the command line's module (the entry point),
    # then the start() that kapconsole.app.run_gui calls.
    import kapconsole.cli  # noqa: F401
    from kapconsole.app import start

    console = start(url, workstation="bench", first_run=False)
    if isinstance(console, int):
        raise SystemExit(f"the console did not start (exit code {console})")
    _shown(console.app)
    return console


def memory_ours(path: str, session_id: int) -> None:
    from PySide6.QtWidgets import QApplication

    from benchmarks.bench_chart import CHANNELS, SECONDS, series
    from kapconsole.services import Services

    app = QApplication(sys.argv)
    services = Services.open(f"sqlite:///{path}")
    record = services.records.record(None, session_id)
    shown: list[object] = []
    try:
        from kapconsole.ui.session.vitals_chart import VitalsChart
    except ImportError:
        print("PARTS record", flush=True)
    else:
        chart = VitalsChart()
        chart.set_record(record)
        data = series(SECONDS)
        for i in range(SECONDS):
            chart.append_point(i / 60.0, {k: float(data[k][i]) for k in CHANNELS})
        chart.flush()
        shown.append(chart)
        try:
            from kapconsole.ui.session.timeline import TimelineView
        except ImportError:
            print("PARTS record+chart", flush=True)
        else:
            timeline = TimelineView()
            timeline.set_record(record)
            shown.append(timeline)
            print("PARTS record+chart+timeline", flush=True)
    for widget in shown:
        widget.resize(1200, 600)  # type: ignore[attr-defined]
        widget.show()  # type: ignore[attr-defined]
    app.processEvents()
    for widget in shown:
        widget.grab()  # type: ignore[attr-defined]
    print(f"RSS {peak_rss_kib()}", flush=True)


def main(argv: list[str]) -> None:
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    os.environ.setdefault("KAPCONSOLE_SETTINGS_SCOPE", "bench")
    what = argv[0]
    if what == "startup-bare":
        startup_bare()
    elif what == "startup-ours":
        startup_ours(argv[1])
    elif what == "memory-bare":
        startup_bare()
        print(f"RSS {peak_rss_kib()}", flush=True)
    elif what == "memory-ours":
        memory_ours(argv[1], int(argv[2]))
    else:
        raise SystemExit(f"unknown child {what!r}")
    sys.stdout.flush()
    os._exit(0)  # teardown is not part of any figure


if __name__ == "__main__":
    main(sys.argv[1:])
