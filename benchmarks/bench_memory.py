"""Memory: peak RSS (``VmHWM``; ``ru_maxrss`` where there is none) of a six-hour session loaded in the console (record, live chart with a full monitor
stream, timeline), against the bare PySide6 program of the start-up benchmark."""

from __future__ import annotations

import subprocess

from benchmarks import session_data
from benchmarks.bench_startup import child_env
from benchmarks.common import Result, python

TIMEOUT = 300


def _child(args: list[str]) -> tuple[int, str]:
    out = subprocess.run([python(), "-m", "benchmarks.child", *args], capture_output=True, text=True,
                         env=child_env(), timeout=TIMEOUT, check=False)
    rss = parts = None
    for line in out.stdout.splitlines():
        if line.startswith("RSS "):
            rss = int(line.split()[1])
        elif line.startswith("PARTS "):
            parts = line.split()[1]
    if rss is None:
        raise RuntimeError(f"child {args[0]} failed: {out.stderr.strip()[-400:]}")
    return rss, parts or ""


def run() -> list[Result]:
    path, sid = session_data.build()
    ours, parts = _child(["memory-ours", str(path), str(sid)])
    base, _ = _child(["memory-bare"])
    return [Result(f"memory: six-hour session loaded ({parts})", f"{ours / 1024:.0f} MiB peak RSS",
                   f"bare PySide6 window: {base / 1024:.0f} MiB", ours / base, "reported (no target)", None,
                   [f"the session adds {(ours - base) / 1024:.0f} MiB; chart holds 4 × 21,600 monitor points and "
                    "361 charted readings"])]
