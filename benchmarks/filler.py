"""Generate a large SQLite database fast: the schema through the console, the rows through raw executemany.

Filler entries skip the hash chain (their hashes are placeholders), so ``kapconsole verify`` reports them; the
benchmarks that use this data only read lists, which never look at hashes.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

from benchmarks.common import make_staff, temp_root

FIRST = ("Alex", "Sam", "Jo", "Maria", "Chen", "Amara", "Luca", "Noor", "Ines", "Tomas", "Hana", "Olu", "Priya",
         "Kai", "Leila", "Mateo", "Freya", "Yusuf", "Anika", "Rory")
LAST = ("Smith", "Garcia", "Okafor", "Nguyen", "Kowalski", "Haddad", "Larsen", "Silva", "Tanaka", "Murphy",
        "Rossi", "Mensah", "Ivanova", "Cohen", "Patel", "Schmidt", "Moreau", "Ali", "Berg", "Costa")
ROOMS = ("Room 1", "Room 2", "Room 3", "Room 4")
SESSIONS_PER_DAY = 10
FILLER_HASH = "0" * 64


def _ts(moment: datetime) -> str:
    return moment.astimezone(UTC).replace(tzinfo=None).isoformat(sep=" ", timespec="microseconds")


def generate(sessions: int, entries_per_session: int, *, name: str | None = None) -> Path:
    """A KAP Console SQLite file with ``sessions`` sessions (10 a day, the newest today) and their entries.

    Cached for the run: asking twice for the same size returns the same file.
    """
    path = temp_root() / (name or f"filler-{sessions}x{entries_per_session}.db")
    if path.exists():
        return path
    from kapconsole.services import Services

    services = Services.open(f"sqlite:///{path}")
    staff = make_staff(services)
    protocol = services.clinic.protocol().to_json()
    nurse = staff["medical"].staff_id
    therapist = staff["therapist"].staff_id
    services.close()

    now = datetime.now(UTC)
    today = now.replace(hour=0, minute=0, second=0, microsecond=0)
    clients = max(1, sessions // 4)
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA synchronous=OFF")
    conn.execute("PRAGMA cache_size=-200000")
    conn.execute("BEGIN")
    created = _ts(today - timedelta(days=sessions // SESSIONS_PER_DAY + 30))
    conn.executemany(
        "INSERT INTO clients (id, identifier, name, sex, allergies, screening_notes, created_at) "
        "VALUES (?, ?, ?, '', '', '', ?)",
        ((i, f"KAP-{i:05d}", f"{FIRST[i % len(FIRST)]} {LAST[(i // len(FIRST)) % len(LAST)]} {i}", created)
         for i in range(1, clients + 1)))
    conn.executemany(
        "INSERT INTO courses (id, client_id, title, planned_sessions) VALUES (?, ?, 'KAP course', 6)",
        ((i, i) for i in range(1, clients + 1)))

    def session_rows() -> Iterator[tuple[object, ...]]:
        for i in range(sessions):
            sid = i + 1
            day = i // SESSIONS_PER_DAY
            start = today - timedelta(days=day) + timedelta(hours=8 + i % SESSIONS_PER_DAY)
            client = sid % clients + 1
            number = (i // clients) % 6 + 1
            state = "discharged" if day > 0 else ("planned" if start > now else "monitoring")
            started = _ts(start) if state != "planned" else None
            ended = _ts(start + timedelta(hours=3)) if state == "discharged" else None
            yield (sid, client, client, number, ROOMS[i % len(ROOMS)], "ws-1", "sublingual", "Ketamine", 200.0,
                   "mg", _ts(start), state, started, ended, "", protocol, FILLER_HASH,
                   entries_per_session, entries_per_session, therapist, _ts(start - timedelta(days=7)))

    conn.executemany(
        "INSERT INTO clinical_sessions (id, client_id, course_id, number_in_course, room, workstation, route, "
        "planned_drug, planned_dose, planned_unit, scheduled_at, state, started_at, ended_at, end_reason, "
        "protocol_json, chain_head, entry_count, version, created_by, created_at) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", session_rows())
    payloads = [json.dumps({"hr": 60 + k % 30, "source": "manual"}, separators=(",", ":")) for k in range(30)]

    def entry_rows() -> Iterator[tuple[object, ...]]:
        for i in range(sessions):
            sid = i + 1
            day = i // SESSIONS_PER_DAY
            base = today - timedelta(days=day) + timedelta(hours=8 + i % SESSIONS_PER_DAY)
            for seq in range(1, entries_per_session + 1):
                at = _ts(base + timedelta(seconds=30 * seq))
                yield (sid, seq, "vitals", at, at, nurse, "ws-1", payloads[seq % 30], FILLER_HASH, FILLER_HASH)

    conn.executemany(
        "INSERT INTO entries (session_id, seq, kind, observed_at, entered_at, author_id, workstation, payload, "
        "prev_hash, hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", entry_rows())
    conn.execute("COMMIT")
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()
    return path
