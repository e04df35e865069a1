"""Disk trouble on a SQLite file: a read-only database and a full disk.

Each refused write must raise DatabaseUnavailable with a clear message, leave no partial entry (no row, no
audit event, the chain head unchanged) and leave the console able to read and, once the trouble is gone, to
chart again.
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event

from kapconsole.data.db import Database
from kapconsole.domain.errors import DatabaseUnavailable
from kapconsole.services import Services
from tests.conftest import FakeClock, make_staff
from tests.data.helpers import BASELINE, dosed


def counts(path: Path) -> tuple[int, int, int, str]:
    """Entries, audit events, the session's entry count and chain head, read behind the application's back."""
    conn = sqlite3.connect(path)
    try:
        entries = conn.execute("SELECT count(*) FROM entries").fetchone()[0]
        audit = conn.execute("SELECT count(*) FROM audit_events").fetchone()[0]
        count, head = conn.execute("SELECT entry_count, chain_head FROM clinical_sessions ORDER BY id DESC").fetchone()
        return entries, audit, count, head
    finally:
        conn.close()


@pytest.fixture
def charted(tmp_path: Path, clock: FakeClock) -> Iterator[tuple[Path, int]]:
    """A SQLite file holding a dosed session with a few readings; closed again."""
    path = tmp_path / "kapconsole.db"
    svc = Services.open(f"sqlite:///{path}", clock=clock)
    staff = make_staff(svc)
    sid = dosed(svc, staff, clock)
    clock.advance(minutes=5)
    svc.records.record_vitals(staff["medical"], sid, BASELINE)
    svc.close()
    yield path, sid


def _nurse(svc: Services) -> Any:
    return svc.staff.actor_for("nina", "room-1")


def test_read_only_file_refuses_writes_cleanly(charted: tuple[Path, int], clock: FakeClock) -> None:
    path, sid = charted
    before = counts(path)
    db = Database(f"sqlite:///file:{path}?mode=ro&uri=true")
    svc = Services(db, clock)
    try:
        nurse = _nurse(svc)
        assert len(svc.records.record(None, sid).vitals) == 2  # reading still works
        clock.advance(minutes=1)
        for attempt in (lambda: svc.records.record_vitals(nurse, sid, BASELINE),
                        lambda: svc.records.record_observation(nurse, sid, "Resting, eyes closed.")):
            with pytest.raises(DatabaseUnavailable, match="read-only; nothing was saved") as raised:
                attempt()
            assert "Traceback" not in str(raised.value)
        with pytest.raises(DatabaseUnavailable, match="read-only"):
            svc.staff.authenticate("nina", "wrong-password", "room-1")  # a failed sign-in is a write too
    finally:
        svc.close()
    assert counts(path) == before
    assert not (Path.cwd() / "file:").exists()  # the URI form names the file, it creates no folder
    svc = Services.open(f"sqlite:///{path}", clock=clock)
    try:
        assert svc.integrity.verify().ok
        svc.records.record_vitals(_nurse(svc), sid, BASELINE)
    finally:
        svc.close()


@pytest.mark.skipif(hasattr(os, "geteuid") and os.geteuid() == 0,
                    reason="root ignores file permissions; the read-only URI test covers this case")
def test_file_made_read_only_by_permissions(charted: tuple[Path, int], clock: FakeClock) -> None:
    path, sid = charted
    before = counts(path)
    for p in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
        if p.exists():
            p.chmod(0o400)
    try:
        svc = Services(Database(f"sqlite:///{path}"), clock)
        try:
            clock.advance(minutes=1)
            with pytest.raises(DatabaseUnavailable, match="read-only|cannot|database error"):
                svc.records.record_vitals(_nurse(svc), sid, BASELINE)
        finally:
            svc.close()
    finally:
        for p in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
            if p.exists():
                p.chmod(0o600)
    assert counts(path) == before


class _PageLimit:
    """Cap the database's size on every new connection: the next growth hits SQLITE_FULL, as on a full disk."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self.pages = 0

    def __call__(self, dbapi_conn: Any, _record: Any) -> None:
        if self.pages:
            cur = dbapi_conn.cursor()
            cur.execute(f"PRAGMA max_page_count={self.pages}")
            cur.close()

    def __enter__(self) -> _PageLimit:
        with self.db.engine.connect() as conn:
            self.pages = int(conn.exec_driver_sql("PRAGMA page_count").scalar() or 0)
        assert self.pages > 0
        self.db.engine.dispose()  # pooled connections were opened without the cap
        event.listen(self.db.engine, "connect", self)
        return self

    def __exit__(self, *_exc: object) -> None:
        event.remove(self.db.engine, "connect", self)
        self.pages = 0
        self.db.engine.dispose()


def test_disk_full_refuses_writes_cleanly(charted: tuple[Path, int], clock: FakeClock) -> None:
    path, sid = charted
    svc = Services.open(f"sqlite:///{path}", clock=clock)
    try:
        nurse = _nurse(svc)
        before = counts(path)
        # Distinct text that needs several new pages (a page holds 4 KiB).
        long_text = " ".join(f"note-{i:05d}" for i in range(1800))
        with _PageLimit(svc.db):
            clock.advance(minutes=1)
            with pytest.raises(DatabaseUnavailable, match="full or failing; nothing was saved"):
                svc.records.record_observation(nurse, sid, long_text)
            with pytest.raises(DatabaseUnavailable, match="full"):
                for _ in range(200):  # small entries fill the last free space, then fail the same way
                    svc.records.record_observation(nurse, sid, long_text[:1500])
            record = svc.records.record(None, sid)  # reading still works while the disk is full
            assert all(e.payload.get("text") != long_text for e in record.entries)
        after = counts(path)
        assert after[0] - before[0] == after[2] - before[2]  # every row that exists is a whole, chained entry
        assert svc.integrity.verify().ok
        clock.advance(minutes=1)
        saved = svc.records.record_observation(nurse, sid, long_text)  # space again: charting goes on
        assert saved.payload["text"] == long_text
        assert svc.integrity.verify().ok
    finally:
        svc.close()
    conn = sqlite3.connect(path)
    try:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    finally:
        conn.close()
