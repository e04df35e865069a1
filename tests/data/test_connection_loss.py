"""PostgreSQL connection lost mid-session: a clear DatabaseUnavailable, nothing acknowledged lost, and the same
Services object writes again once the server is back (``pool_pre_ping`` replaces dead connections)."""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from collections.abc import Iterator
from typing import Any

import psycopg
import pytest
from sqlalchemy import event

from kapconsole.domain.errors import DatabaseUnavailable
from kapconsole.services import Services
from tests.conftest import PG_ADMIN_URL, FakeClock, _create_pg_database, _drop_pg_database, make_staff
from tests.data.helpers import BASELINE, dosed

pytestmark = pytest.mark.postgres
CLUSTER = ("15", "main")
SERVER_WAIT_SECONDS = 30


def _admin() -> psycopg.Connection[Any]:
    return psycopg.connect(PG_ADMIN_URL.replace("postgresql+psycopg://", "postgresql://"), autocommit=True,
                           connect_timeout=3)


@pytest.fixture
def pg_services(pg_server: str, clock: FakeClock) -> Iterator[Services]:
    name, url = _create_pg_database(pg_server)
    svc = Services.open(url, clock=clock)
    try:
        yield svc
    finally:
        svc.close()
        _wait_for_server()
        _drop_pg_database(pg_server, name)


def _wait_for_server() -> None:
    deadline = time.monotonic() + SERVER_WAIT_SECONDS
    while True:
        try:
            with _admin():
                return
        except psycopg.OperationalError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.3)


def _entries(svc: Services, sid: int) -> list[int]:
    return [e.id for e in svc.records.record(None, sid).entries]


def test_connection_dropped_between_entries_is_replaced(pg_services: Services, clock: FakeClock) -> None:
    """The server ends every connection of this database (a restart, a network blip): the next write works."""
    svc = pg_services
    staff = make_staff(svc)
    sid = dosed(svc, staff, clock)
    acknowledged = _entries(svc, sid)
    database = svc.db.url.database
    with _admin() as admin:
        ended = admin.execute("SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE datname = %s",
                              (database,)).fetchone()
    assert ended is not None and ended[0] >= 1
    clock.advance(minutes=1)
    entry = svc.records.record_vitals(staff["medical"], sid, BASELINE)
    assert _entries(svc, sid) == [*acknowledged, entry.id]
    assert svc.integrity.verify(sid).ok


def test_connection_lost_during_a_write(pg_services: Services, clock: FakeClock) -> None:
    """The connection dies while the entry is being inserted: a clear error, no partial entry, then writes again."""
    svc = pg_services
    staff = make_staff(svc)
    sid = dosed(svc, staff, clock)
    acknowledged = _entries(svc, sid)
    killed: list[int] = []

    def kill_on_insert(conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if statement.lstrip().upper().startswith("INSERT INTO ENTRIES") and not killed:
            pid = conn.exec_driver_sql("SELECT pg_backend_pid()").scalar()
            with _admin() as admin:
                admin.execute("SELECT pg_terminate_backend(%s)", (pid,))
            killed.append(pid)

    event.listen(svc.db.engine, "before_cursor_execute", kill_on_insert)
    try:
        clock.advance(minutes=1)
        with pytest.raises(DatabaseUnavailable) as raised:
            svc.records.record_observation(staff["medical"], sid, "Calm, eyes closed, music on.")
    finally:
        event.remove(svc.db.engine, "before_cursor_execute", kill_on_insert)
    assert killed
    message = str(raised.value)
    assert message == "the database server cannot be reached; nothing was saved"
    assert "psycopg" not in message and "SQL" not in message
    assert _entries(svc, sid) == acknowledged
    clock.advance(minutes=1)
    entry = svc.records.record_observation(staff["medical"], sid, "Calm, eyes closed, music on.")
    assert _entries(svc, sid) == [*acknowledged, entry.id]
    assert svc.integrity.verify(sid).ok


def _can_stop_server() -> str | None:
    if not hasattr(os, "geteuid") or os.geteuid() != 0:
        return "stopping the PostgreSQL server needs root"
    if shutil.which("pg_ctlcluster") is None:
        return "pg_ctlcluster is not installed"
    status = subprocess.run(["pg_ctlcluster", *CLUSTER, "status"], capture_output=True, text=True, timeout=30)
    if status.returncode != 0:
        return f"cluster {'/'.join(CLUSTER)} is not the running server"
    return None


def test_server_stopped_and_started_again(pg_services: Services, clock: FakeClock) -> None:
    """The server goes away for a while: writes fail clearly, then the same Services writes again."""
    reason = _can_stop_server()
    if reason:
        pytest.skip(reason)
    svc = pg_services
    staff = make_staff(svc)
    sid = dosed(svc, staff, clock)
    acknowledged = _entries(svc, sid)
    stopped = False
    try:
        subprocess.run(["pg_ctlcluster", *CLUSTER, "stop", "-m", "fast"], check=True, capture_output=True,
                       timeout=60)
        stopped = True
        clock.advance(minutes=1)
        with pytest.raises(DatabaseUnavailable, match="^the database server cannot be reached; nothing was saved$"):
            svc.records.record_vitals(staff["medical"], sid, BASELINE)
        with pytest.raises(DatabaseUnavailable, match="cannot be reached"):
            svc.records.record(None, sid)
    finally:
        if stopped:
            subprocess.run(["pg_ctlcluster", *CLUSTER, "start"], check=True, capture_output=True, timeout=60)
        _wait_for_server()
    assert _entries(svc, sid) == acknowledged  # nothing acknowledged was lost
    clock.advance(minutes=1)
    entry = svc.records.record_vitals(staff["medical"], sid, BASELINE)  # the same Services object
    assert _entries(svc, sid) == [*acknowledged, entry.id]
    assert svc.integrity.verify(sid).ok
