"""Database safety on open: SQLite file modes, no empty file left on a full disk, PostgreSQL lock timeout."""

from __future__ import annotations

import stat
import threading
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event, text
from sqlalchemy.engine import Engine

from kapconsole.domain.errors import DatabaseUnavailable
from kapconsole.domain.values import Actor
from kapconsole.services import Services
from tests.conftest import FakeClock
from tests.data.helpers import BASELINE, dosed


def test_an_existing_world_readable_sqlite_file_is_tightened(tmp_path: Path, clock: FakeClock) -> None:
    path = tmp_path / "kapconsole.db"
    Services.open(f"sqlite:///{path}", clock=clock).close()
    for part in tmp_path.iterdir():
        part.chmod(0o644)
    svc = Services.open(f"sqlite:///{path}", clock=clock)
    try:
        assert all(stat.S_IMODE(p.stat().st_mode) == 0o600 for p in tmp_path.iterdir() if p.name.startswith(path.name))
    finally:
        svc.close()


def test_no_empty_database_is_left_on_a_full_disk(tmp_path: Path, clock: FakeClock) -> None:
    path = tmp_path / "new.db"

    def full(dbapi_conn: Any, _record: Any) -> None:
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA max_page_count=2")  # the next growth fails with SQLITE_FULL
        cur.close()

    event.listen(Engine, "connect", full)
    try:
        with pytest.raises(Exception, match="(?i)full"):
            Services.open(f"sqlite:///{path}", clock=clock)
    finally:
        event.remove(Engine, "connect", full)
    assert not path.exists(), sorted(p.name for p in tmp_path.iterdir())
    assert not [p for p in tmp_path.iterdir() if p.name.startswith("new.db")]


@pytest.mark.postgres
def test_a_stuck_row_lock_ends_in_a_clear_message(pg_server: str, clock: FakeClock,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KAPCONSOLE_LOCK_TIMEOUT_MS", "300")
    from tests.conftest import _create_pg_database, _drop_pg_database, make_staff

    name, database_url = _create_pg_database(pg_server)
    svc = Services.open(database_url, clock=clock)
    try:
        staff: dict[str, Actor] = make_staff(svc)
        sid = dosed(svc, staff, clock)
        held = threading.Event()
        release = threading.Event()

        def hold() -> None:
            with svc.db.engine.connect() as conn, conn.begin():
                conn.execute(text("SELECT id FROM clinical_sessions WHERE id = :s FOR UPDATE"), {"s": sid})
                held.set()
                release.wait(30)

        worker = threading.Thread(target=hold)
        worker.start()
        try:
            assert held.wait(30)
            with pytest.raises(DatabaseUnavailable, match="held by another workstation"):
                svc.records.record_vitals(staff["medical"], sid, BASELINE)
        finally:
            release.set()
            worker.join(30)
        assert svc.records.record_vitals(staff["medical"], sid, BASELINE).seq > 0
    finally:
        svc.close()
        _drop_pg_database(pg_server, name)
