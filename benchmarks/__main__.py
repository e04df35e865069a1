"""Run every benchmark and print the table: ``python -m benchmarks [--only NAME] [--markdown FILE]``."""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import sys
import time
import traceback
from collections.abc import Callable
from datetime import date
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("KAPCONSOLE_SETTINGS_SCOPE", "bench")

from benchmarks import (  # noqa: E402  (Qt must see the platform first)
    bench_chart,
    bench_charting,
    bench_lists,
    bench_memory,
    bench_monitor,
    bench_pdf,
    bench_session,
    bench_startup,
    common,  # noqa: E402
)
from benchmarks.common import Result, cores  # noqa: E402

BENCHMARKS: dict[str, Callable[[], list[Result]]] = {
    "charting": bench_charting.run,
    "session": bench_session.run,
    "startup": bench_startup.run,
    "chart": bench_chart.run,
    "pdf": bench_pdf.run,
    "lists": bench_lists.run,
    "memory": bench_memory.run,
    "monitor": bench_monitor.run,
}
HEAD = ("benchmark", "ours", "baseline", "ratio", "target", "result")


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    load = f", load average {os.getloadavg()[0]:.1f} at start" if hasattr(os, "getloadavg") else ""
    # No kernel release or host name: the table is published with the project.
    return f"{cores()} cores ({cpu}), {platform.system()}, Python {platform.python_version()}{load}"


def text_table(results: list[Result]) -> str:
    rows = [HEAD] + [(r.benchmark, r.ours, r.baseline, r.ratio_text, r.target, r.verdict) for r in results]
    widths = [max(len(row[i]) for row in rows) for i in range(len(HEAD))]
    lines = ["  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip() for row in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    notes = [f"  * {r.benchmark}: {n}" for r in results for n in r.notes]
    return "\n".join(lines + ([""] + notes if notes else []))


def markdown(results: list[Result], seconds: float) -> str:
    def cell(text: str) -> str:
        return text.replace("|", "\\|")

    out = [
        "## Performance",
        "",
        f"Measured on {date.today().isoformat()} on {machine()}; the whole run took {seconds / 60:.1f} minutes. "
        "Every figure is compared with a bare baseline measured in the same run on the same machine (ours and "
        "the baseline alternate), as a median with its spread (p25–p75 for many samples, min–max for a few).",
        "",
        "| " + " | ".join(HEAD) + " |",
        "|" + "---|" * len(HEAD),
    ]
    for r in results:
        out.append("| " + " | ".join(cell(c) for c in (r.benchmark, r.ours, r.baseline, r.ratio_text, r.target,
                                                          r.verdict)) + " |")
    notes = [f"- *{cell(r.benchmark)}*: {cell(n)}" for r in results for n in r.notes]
    if notes:
        out += ["", "Notes:", "", *notes]
    out += [
        "",
        "Rerun with `make bench` (or `QT_QPA_PLATFORM=offscreen python -m benchmarks`); `--only NAME` runs one of "
        f"{', '.join(BENCHMARKS)}, and `--markdown FILE` writes this section. PostgreSQL figures need a reachable "
        "server (`KAPCONSOLE_BENCH_PG` or `KAPCONSOLE_TEST_PG` names it); without one they are skipped with the "
        "reason. Speed is measured here, never asserted in the tests. The machine may be shared: other jobs widen "
        "the spreads and move single figures by 10–20 %, so rerun a row a few times (`--only NAME`) and compare "
        "medians before reading much into a small difference.",
        "",
    ]
    return "\n".join(out)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__)
    parser.add_argument("--only", action="append", choices=list(BENCHMARKS), help="run only this benchmark")
    parser.add_argument("--markdown", metavar="FILE", type=Path, help="also write the table as Markdown")
    args = parser.parse_args(argv)
    chosen = args.only or list(BENCHMARKS)
    print(f"KAP Console benchmarks on {machine()}", flush=True)
    results: list[Result] = []
    started = time.perf_counter()
    for name in chosen:
        print(f"… {name}", flush=True)
        t0 = time.perf_counter()
        try:
            got = BENCHMARKS[name]()
        except Exception as exc:  # one broken benchmark must not hide the others
            traceback.print_exc()
            got = [Result(name, f"error: {type(exc).__name__}: {exc}", "—", None, "—", False)]
        for r in got:
            print(f"  {r.benchmark}: {r.ours} | {r.ratio_text} | {r.verdict}", flush=True)
        print(f"  ({time.perf_counter() - t0:.0f} s)", flush=True)
        results += got
    seconds = time.perf_counter() - started
    shutil.rmtree(common.temp_root(), ignore_errors=True)  # the generated databases (hundreds of MB)
    print()
    print(text_table(results))
    print(f"\n{len(results)} figures in {seconds:.0f} s", flush=True)
    if args.markdown:
        args.markdown.parent.mkdir(parents=True, exist_ok=True)
        args.markdown.write_text(markdown(results, seconds), encoding="utf-8")
        print(f"wrote {args.markdown}")
    failed = [r for r in results if r.passed is False]
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
