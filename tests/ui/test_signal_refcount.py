"""Regression: PySide6 6.12.0 on Python 3.11 drops a reference to ``True`` on each signal emit.

After enough emits the interpreter aborts ("bool_dealloc: deallocating True or False") — mid-session for a
console that runs for hours. The project pins PySide6 below 6.12; this test fails if a build leaks again.
"""

from __future__ import annotations

import gc
import sys

from PySide6.QtCore import QObject, Signal


class _Emitter(QObject):
    flag = Signal(bool)
    pair = Signal(bool, str)


def test_emitting_a_signal_does_not_leak_references_to_true(qapp: object) -> None:
    emitter = _Emitter()
    seen: list[bool] = []
    emitter.flag.connect(lambda value: seen.append(value) if len(seen) < 1 else None)
    emitter.pair.connect(lambda _v, _s: None)
    for _ in range(1000):  # warm-up: caches and interned objects settle first
        emitter.flag.emit(True)
        emitter.pair.emit(True, "x")
    # Collection of earlier tests' objects mid-loop would move the counts by a few dozen: keep the
    # collector out of the measurement. The bug moves them by one per emit (200,000 here).
    gc.collect()
    gc.disable()
    try:
        before_true, before_false = sys.getrefcount(True), sys.getrefcount(False)
        for _ in range(100_000):
            emitter.flag.emit(True)
            emitter.pair.emit(True, "x")
        # Read the counts before asserting: pytest's assertion rewriting keeps its own references to constants.
        after_true, after_false = sys.getrefcount(True), sys.getrefcount(False)
    finally:
        gc.enable()
    assert abs(after_true - before_true) < 100
    assert abs(after_false - before_false) < 100
    assert seen == [True]
