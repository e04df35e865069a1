"""What every benchmark shares: timing statistics, the result row, the demo staff and a clock."""

from __future__ import annotations

import os
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from kapconsole.services.base import ManualClock

PG_ADMIN_URL = os.environ.get(
    "KAPCONSOLE_BENCH_PG",
    os.environ.get("KAPCONSOLE_TEST_PG", "postgresql+psycopg://kapconsole_test:kapconsole_test@127.0.0.1:5432/postgres"),
)
PASSWORD = "Granite-Otter-Willow-7"


@dataclass(frozen=True)
class Stats:
    """Seconds: the distribution of repeated timings."""

    samples: tuple[float, ...]

    @classmethod
    def of(cls, samples: Sequence[float]) -> Stats:
        return cls(tuple(sorted(samples)))

    def pct(self, q: float) -> float:
        s = self.samples
        if len(s) == 1:
            return s[0]
        pos = (len(s) - 1) * q
        lo = int(pos)
        hi = min(lo + 1, len(s) - 1)
        return s[lo] + (s[hi] - s[lo]) * (pos - lo)

    @property
    def median(self) -> float:
        return statistics.median(self.samples)

    @property
    def p99(self) -> float:
        return self.pct(0.99)

    def spread(self) -> str:
        """p25–p75 for many samples, min–max for a handful."""
        if len(self.samples) >= 20:
            return f"{ms(self.pct(0.25))}–{ms(self.pct(0.75))}"
        return f"{ms(self.samples[0])}–{ms(self.samples[-1])}"


def ms(seconds: float) -> str:
    value = seconds * 1000
    if value >= 100:
        return f"{value:.0f}"
    if value >= 10:
        return f"{value:.1f}"
    return f"{value:.2f}"


def describe(stats: Stats, *, p99: bool = False) -> str:
    """``median ms (spread)`` or ``p99 ms (p50 …)`` for a latency row."""
    if p99:
        return f"{ms(stats.p99)} ms p99 (p50 {ms(stats.median)}, p25–p75 {stats.spread()})"
    label = "p25–p75" if len(stats.samples) >= 20 else "min–max"
    return f"{ms(stats.median)} ms ({label} {stats.spread()})"


@dataclass
class Result:
    benchmark: str
    ours: str
    baseline: str
    ratio: float | None
    target: str
    passed: bool | None
    notes: list[str] = field(default_factory=list)

    @property
    def verdict(self) -> str:
        if self.passed is None:
            return "n/a"
        return "pass" if self.passed else "FAIL"

    @property
    def ratio_text(self) -> str:
        return "—" if self.ratio is None else f"{self.ratio:.2f}×"


def not_measured(benchmark: str, reason: str, *, baseline: str = "—", target: str = "—") -> Result:
    return Result(benchmark, f"not measured: {reason}", baseline, None, target, None)


def timed(fn: Callable[[], object]) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def interleaved(ours: Callable[[], object], base: Callable[[], object], rounds: int) -> tuple[Stats, Stats]:
    """Time ``ours`` and ``base`` alternately so both see the same machine conditions."""
    a: list[float] = []
    b: list[float] = []
    for i in range(rounds):
        if i % 2:
            b.append(timed(base))
            a.append(timed(ours))
        else:
            a.append(timed(ours))
            b.append(timed(base))
    return Stats.of(a), Stats.of(b)





def make_staff(services: Any, workstation: str = "bench") -> dict[str, Any]:
    """An administrator, a nurse, a supervisor and a therapist, signed in."""
    from kapconsole.domain.enums import Role

    staff = services.staff
    staff.add_user(None, login="admin", name="Bench Admin", roles=[Role.ADMINISTRATOR], password=PASSWORD)
    admin = staff.authenticate("admin", PASSWORD, workstation)
    for login, name, roles in (("nurse", "Bench Nurse", [Role.MEDICAL]),
                               ("super", "Bench Supervisor", [Role.SUPERVISOR, Role.MEDICAL]),
                               ("ther", "Bench Therapist", [Role.THERAPIST])):
        staff.add_user(admin, login=login, name=name, roles=roles, password=PASSWORD)
    for i in range(1, 9):  # the clinic's rooms (sessions are planned into them)
        services.clinic.planning.add_room(admin, f"Room {i}")
    return {
        "administrator": admin,
        "medical": staff.authenticate("nurse", PASSWORD, workstation),
        "supervisor": staff.authenticate("super", PASSWORD, workstation),
        "therapist": staff.authenticate("ther", PASSWORD, workstation),
    }


BASELINE_VITALS = {"sbp": 124, "dbp": 78, "hr": 72, "spo2": 98, "rr": 14}


def dosed_session(services: Any, staff: dict[str, Any], clock: ManualClock | None = None,
                  identifier: str = "BENCH-1", name: str = "Bench Client") -> int:
    """A session past its checklist with a first dose: ready to chart."""
    client = services.clinic.add_client(staff["therapist"], identifier=identifier, name=name)
    when = clock.now if clock else datetime.now(UTC)
    info = services.clinic.plan_session(staff["therapist"], client_id=client.id, room="Room 1", route="sublingual",
                                        planned_drug="Ketamine", planned_dose=200, scheduled_at=when)
    services.records.start_session(staff["medical"], info.id)
    for item in services.clinic.protocol().checklist:
        services.records.confirm_checklist_item(staff["medical"], info.id, item.key)
    services.records.record_vitals(staff["medical"], info.id, BASELINE_VITALS)
    if clock:
        clock.advance(minutes=2)
    services.records.record_administration(staff["medical"], info.id, drug="Ketamine", route="sublingual", dose=200,
                                           unit="mg", lot="L1", ordered_by=staff["supervisor"].staff_id)
    return int(info.id)


def python() -> str:
    return sys.executable


def cores() -> int:
    return os.cpu_count() or 1


def temp_root() -> Path:
    """One temporary folder for the whole run (generated databases are cached in it)."""
    global _TEMP
    if _TEMP is None:
        import tempfile

        _TEMP = Path(tempfile.mkdtemp(prefix="kapconsole-bench-"))
    return _TEMP


_TEMP: Path | None = None
