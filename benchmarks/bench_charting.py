"""Charting an entry: the service call until its durable commit (hash chain and audit included).

Baseline: a bare insert and commit of a similar row with the same durability settings (SQLite: WAL and
synchronous=FULL; PostgreSQL: an insert and commit through psycopg). Ours and the baseline alternate, so
both see the same disk.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from benchmarks.common import PG_ADMIN_URL, Result, Stats, describe, dosed_session, make_staff, temp_root

ENTRIES = 1000
WARMUP = 20
TARGET = 5.0

TABLE = """CREATE TABLE entries (
    id INTEGER PRIMARY KEY, session_id INTEGER NOT NULL, seq INTEGER NOT NULL, kind VARCHAR(32) NOT NULL,
    observed_at TIMESTAMP NOT NULL, entered_at TIMESTAMP NOT NULL, author_id INTEGER NOT NULL,
    workstation VARCHAR(128) NOT NULL, payload TEXT NOT NULL, prev_hash VARCHAR(64) NOT NULL,
    hash VARCHAR(64) NOT NULL, UNIQUE (session_id, seq))"""
INSERT = ("INSERT INTO entries (session_id, seq, kind, observed_at, entered_at, author_id, workstation, payload, "
          "prev_hash, hash) VALUES ({p}, {p}, {p}, {p}, {p}, {p}, {p}, {p}, {p}, {p})")


def _vitals(i: int) -> dict[str, int]:
    return {"sbp": 118 + i % 17, "dbp": 74 + i % 9, "hr": 66 + i % 21, "spo2": 95 + i % 5, "rr": 12 + i % 6}


def _row(seq: int) -> tuple[Any, ...]:
    now = datetime.now(UTC).replace(tzinfo=None)
    payload = json.dumps({**_vitals(seq), "source": "manual", "confirmed_by": 2}, sort_keys=True)
    digest = hashlib.sha256(payload.encode()).hexdigest()
    return (1, seq, "vitals", now, now, 2, "bench", payload, "0" * 64, digest)


def _measure(services: Any, bare_insert: Callable[[int], None]) -> tuple[Stats, Stats, Stats]:
    staff = make_staff(services)
    sid = dosed_session(services, staff)
    nurse = staff["medical"]
    records = services.records

    def vitals(i: int) -> None:
        records.record_vitals(nurse, sid, _vitals(i))

    def observation(i: int) -> None:
        records.record_observation(nurse, sid, f"Resting comfortably, eyes closed, music on ({i}).")

    for i in range(WARMUP):
        vitals(i)
        observation(i)
        bare_insert(10_000_000 + i)
    ours_v: list[float] = []
    ours_o: list[float] = []
    base: list[float] = []
    seq = 0
    for i in range(ENTRIES):
        for fn, bucket in ((vitals, ours_v), (observation, ours_o)):
            start = time.perf_counter()
            fn(i)
            bucket.append(time.perf_counter() - start)
            seq += 1
            start = time.perf_counter()
            bare_insert(seq)
            base.append(time.perf_counter() - start)
    return Stats.of(ours_v), Stats.of(ours_o), Stats.of(base)


def _rows(label: str, v: Stats, o: Stats, base: Stats, baseline_name: str) -> list[Result]:
    results = []
    for kind, stats in (("record_vitals", v), ("record_observation", o)):
        # The gate is the median: a p99 of 1,000 samples flips with whatever else the machine does.
        ratio = stats.median / base.median
        results.append(Result(
            f"charting an entry, {label}: {kind} (n={len(stats.samples)})",
            describe(stats, p99=True), f"{baseline_name}: {describe(base, p99=True)}", ratio,
            f"p50 ≤ {TARGET:g}×", ratio <= TARGET,
            [f"p99 ratio {stats.p99 / base.p99:.2f}× (reported, not gated)"]))
    return results


def run_sqlite() -> list[Result]:
    from kapconsole.services import Services

    folder = temp_root() / "charting"
    folder.mkdir(exist_ok=True)
    services = Services.open(f"sqlite:///{folder / 'kapconsole.db'}")
    raw = sqlite3.connect(folder / "bare.db", isolation_level=None)
    raw.execute("PRAGMA journal_mode=WAL")
    raw.execute("PRAGMA synchronous=FULL")
    raw.execute(TABLE)
    insert = INSERT.format(p="?")

    def bare(seq: int) -> None:
        raw.execute("BEGIN IMMEDIATE")
        raw.execute(insert, _row(seq))
        raw.execute("COMMIT")

    try:
        v, o, base = _measure(services, bare)
    finally:
        services.close()
        raw.close()
    return _rows("SQLite", v, o, base, "sqlite3 insert+commit")


def run_postgresql() -> list[Result]:
    try:
        import psycopg
    except ImportError:
        return [Result("charting an entry, PostgreSQL", "skipped: psycopg is not installed", "—", None, "—", None)]
    from sqlalchemy.engine import make_url

    from kapconsole.services import Services

    admin = PG_ADMIN_URL.replace("postgresql+psycopg://", "postgresql://")
    try:
        with psycopg.connect(admin, connect_timeout=3, autocommit=True):
            pass
    except Exception as exc:  # the reason is printed in the table
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        return [Result("charting an entry, PostgreSQL", f"skipped: no server reachable ({reason})", "—", None,
                       f"p99 ≤ {TARGET:g}×", None)]
    name = f"kap_bench_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    url = make_url(PG_ADMIN_URL).set(database=name).render_as_string(hide_password=False)
    services = Services.open(url)
    raw = psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://"))
    try:
        raw.execute(TABLE.replace("INTEGER PRIMARY KEY", "SERIAL PRIMARY KEY").replace("entries", "bare_entries"))
        raw.commit()
        insert = INSERT.format(p="%s").replace("entries", "bare_entries")

        def bare(seq: int) -> None:
            raw.execute(insert, _row(seq))
            raw.commit()

        v, o, base = _measure(services, bare)
    finally:
        raw.close()
        services.close()
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    return _rows("PostgreSQL", v, o, base, "psycopg insert+commit")


def run() -> list[Result]:
    return run_sqlite() + run_postgresql()
