"""PostgreSQL connection lost mid-session: a clear DatabaseUnavailable, nothing acknowledged lost, and the same
Services object writes again once the server is back (``pool_pre_ping`` replaces dead connections).

Every test here runs on a throwaway cluster made for this module (``tests/pg_cluster.py``): it is the only
server these tests terminate connections of, stop or start.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import psycopg
import pytest
from sqlalchemy import event

from kapconsole.domain.errors import DatabaseUnavailable
from kapconsole.services import Services
from tests.conftest import FakeClock, make_staff
from tests.data.helpers import BASELINE, dosed
from tests.pg_cluster import ThrowawayCluster, unavailable_reason

pytestmark = pytest.mark.postgres


@pytest.fixture(scope="module")
def cluster() -> Iterator[ThrowawayCluster]:
    reason = unavailable_reason()
    if reason:
        pytest.skip(f"no throwaway PostgreSQL cluster: {reason}")
    made = ThrowawayCluster()
    try:
        made.start()
        yield made
    finally:
        made.destroy()


def _admin(cluster: ThrowawayCluster) -> psycopg.Connection[Any]:
    return cluster.admin()


@pytest.fixture
def pg_services(cluster: ThrowawayCluster, clock: FakeClock) -> Iterator[Services]:
    if not cluster.running:
        cluster.start()
    url = cluster.create_database(f"kap_loss_{uuid.uuid4().hex[:12]}")
    svc = Services.open(url, clock=clock)
    try:
        yield svc
    finally:
        svc.close()


def _entries(svc: Services, sid: int) -> list[int]:
    return [e.id for e in svc.records.record(None, sid).entries]


def test_connection_dropped_between_entries_is_replaced(pg_services: Services, cluster: ThrowawayCluster,
                                                         clock: FakeClock) -> None:
    """The server ends every connection of this database (a restart, a network blip): the next write works."""
    svc = pg_services
    staff = make_staff(svc)
    sid = dosed(svc, staff, clock)
    acknowledged = _entries(svc, sid)
    database = svc.db.url.database
    with _admin(cluster) as admin:
        ended = admin.execute("SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE datname = %s",
                              (database,)).fetchone()
    assert ended is not None and ended[0] >= 1
    clock.advance(minutes=1)
    entry = svc.records.record_vitals(staff["medical"], sid, BASELINE)
    assert _entries(svc, sid) == [*acknowledged, entry.id]
    assert svc.integrity.verify(sid).ok


def test_connection_lost_during_a_write(pg_services: Services, cluster: ThrowawayCluster, clock: FakeClock) -> None:
    """The connection dies while the entry is being inserted: a clear error, no partial entry, then writes again."""
    svc = pg_services
    staff = make_staff(svc)
    sid = dosed(svc, staff, clock)
    acknowledged = _entries(svc, sid)
    killed: list[int] = []

    def kill_on_insert(conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if statement.lstrip().upper().startswith("INSERT INTO ENTRIES") and not killed:
            pid = conn.exec_driver_sql("SELECT pg_backend_pid()").scalar()
            with _admin(cluster) as admin:
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


def test_server_stopped_and_started_again(pg_services: Services, cluster: ThrowawayCluster,
                                         clock: FakeClock) -> None:
    """The server goes away for a while: writes fail clearly, then the same Services writes again."""
    svc = pg_services
    staff = make_staff(svc)
    sid = dosed(svc, staff, clock)
    acknowledged = _entries(svc, sid)
    try:
        cluster.stop()
        clock.advance(minutes=1)
        with pytest.raises(DatabaseUnavailable, match="^the database server cannot be reached; nothing was saved$"):
            svc.records.record_vitals(staff["medical"], sid, BASELINE)
        with pytest.raises(DatabaseUnavailable, match="cannot be reached"):
            svc.records.record(None, sid)
    finally:
        if not cluster.running:
            cluster.start()
    assert _entries(svc, sid) == acknowledged  # nothing acknowledged was lost
    clock.advance(minutes=1)
    entry = svc.records.record_vitals(staff["medical"], sid, BASELINE)  # the same Services object
    assert _entries(svc, sid) == [*acknowledged, entry.id]
    assert svc.integrity.verify(sid).ok


def test_server_killed_then_restarted(pg_services: Services, cluster: ThrowawayCluster, clock: FakeClock) -> None:
    """The server crashes (SIGKILL): every acknowledged entry is there after it restarts, and charting goes on."""
    svc = pg_services
    staff = make_staff(svc)
    sid = dosed(svc, staff, clock)
    acknowledged = _entries(svc, sid)
    try:
        cluster.kill()
        clock.advance(minutes=1)
        with pytest.raises(DatabaseUnavailable, match="cannot be reached"):
            svc.records.record_vitals(staff["medical"], sid, BASELINE)
    finally:
        if not cluster.running:
            cluster.start()
    assert _entries(svc, sid) == acknowledged
    clock.advance(minutes=1)
    entry = svc.records.record_vitals(staff["medical"], sid, BASELINE)
    assert _entries(svc, sid) == [*acknowledged, entry.id]
    assert svc.integrity.verify(sid).ok
