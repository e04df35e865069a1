"""The Today and client lists on a large clinic: 10,000 sessions and 2 million entries.

Times the service calls the lists make (a fresh read transaction each, ORM values out). The baseline is the
same question asked in plain SQL through ``sqlite3``; the target is absolute: every call under 100 ms.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from benchmarks import filler
from benchmarks.common import Result, Stats, describe, interleaved, ms, timed

SESSIONS = 10_000
ENTRIES_PER_SESSION = 200
REPEATS = 21
LIMIT_MS = 100.0

LIST_SQL = """SELECT s.id, s.scheduled_at, s.room, c.identifier, c.name, s.state, s.route, s.number_in_course,
       co.planned_sessions
FROM clinical_sessions s JOIN clients c ON c.id = s.client_id LEFT JOIN courses co ON co.id = s.course_id
WHERE {where} ORDER BY s.scheduled_at DESC, s.id LIMIT {limit}"""


def run() -> list[Result]:
    from kapconsole.services import Services

    path = filler.generate(SESSIONS, ENTRIES_PER_SESSION)
    services = Services.open(f"sqlite:///{path}")
    raw = sqlite3.connect(path)
    now = datetime.now(UTC)
    start = now.astimezone().replace(hour=0, minute=0, second=0, microsecond=0).astimezone(UTC)
    end = start + timedelta(days=1)
    s_txt = start.replace(tzinfo=None).isoformat(sep=" ", timespec="microseconds")
    e_txt = end.replace(tzinfo=None).isoformat(sep=" ", timespec="microseconds")
    client = f"KAP-{SESSIONS // 8:05d}"
    clinic = services.clinic

    def sql(where: str, params: tuple[Any, ...], limit: int) -> Callable[[], object]:
        text = LIST_SQL.format(where=where, limit=limit)
        return lambda: raw.execute(text, params).fetchall()

    cases: list[tuple[str, Callable[[], object], Callable[[], object]]] = [
        ("Today, one room", lambda: clinic.list_sessions(room="Room 2", since=start, until=end, limit=200),
         sql("s.room = ? AND s.scheduled_at >= ? AND s.scheduled_at < ?", ("Room 2", s_txt, e_txt), 200)),
        ("Today, all rooms", lambda: clinic.list_sessions(since=start, until=end, limit=200),
         sql("s.scheduled_at >= ? AND s.scheduled_at < ?", (s_txt, e_txt), 200)),
        ("client search 'smith'", lambda: clinic.find_clients("smith", limit=100),
         lambda: raw.execute("SELECT * FROM clients WHERE lower(name) LIKE ? OR lower(identifier) LIKE ? "
                             "ORDER BY name LIMIT 100", ("%smith%", "%smith%")).fetchall()),
        ("one client's sessions", lambda: clinic.list_sessions(client=client, limit=200),
         sql("(lower(c.identifier) = ? OR lower(c.name) LIKE ?)", (client.lower(), f"%{client.lower()}%"), 200)),
        ("all sessions, newest 200", lambda: clinic.list_sessions(limit=200), sql("1 = 1", (), 200)),
    ]
    results = []
    try:
        for label, ours, base in cases:
            first = timed(ours)
            timed(base)
            a, b = interleaved(ours, base, REPEATS)
            worst = a.samples[-1]
            p95 = a.pct(0.95)
            results.append(Result(
                f"list: {label} ({SESSIONS:,} sessions, {SESSIONS * ENTRIES_PER_SESSION / 1e6:g}M entries)",
                f"{describe(a)}, p95 {ms(p95)}, max {ms(worst)}", f"raw SQL: {describe(b)}", a.median / b.median,
                f"p95 < {LIMIT_MS:g} ms", p95 * 1000 < LIMIT_MS,
                [f"first call {ms(first)} ms"]))
    finally:
        raw.close()
        services.close()
    results[-1].notes.append("filler entries skip the hash chain (generated with raw executemany)")
    return results


__all__ = ["run", "Stats"]
