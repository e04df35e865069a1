"""A retry with the same request key returns the entry that exists: an ambiguous commit never duplicates.

The PostgreSQL test is the real failure: a proxy between the console and a throwaway server forwards the
COMMIT, lets the server commit it, then kills the server (SIGKILL) before its reply reaches the console. The
console is told "nothing was saved"; saving again with the same key finds the entry instead of adding one.
"""

from __future__ import annotations

import contextlib
import socket
import threading
import uuid
from collections.abc import Callable, Iterator

import pytest
from sqlalchemy import event, func, select, text
from sqlalchemy.exc import OperationalError

from kapconsole.data.models import EntryRow
from kapconsole.domain.errors import DatabaseUnavailable, ValidationError
from kapconsole.domain.values import Actor
from kapconsole.services import Services
from tests.conftest import FakeClock, make_staff
from tests.data.helpers import BASELINE, dosed, in_checklist
from tests.pg_cluster import ThrowawayCluster, unavailable_reason


def _count(svc: Services, sid: int, kind: str | None = None) -> int:
    with svc.db.read() as s:
        stmt = select(func.count()).select_from(EntryRow).where(EntryRow.session_id == sid)
        if kind:
            stmt = stmt.where(EntryRow.kind == kind)
        return int(s.scalar(stmt) or 0)


def test_retry_with_the_same_key_returns_the_entry(services: Services, staff: dict[str, Actor],
                                                   clock: FakeClock) -> None:
    sid = dosed(services, staff, clock)
    nurse = staff["medical"]
    key = str(uuid.uuid4())
    first = services.records.record_vitals(nurse, sid, BASELINE, request_key=key)
    count = _count(services, sid)
    clock.advance(minutes=1)
    again = services.records.record_vitals(nurse, sid, BASELINE, request_key=key)
    assert again == first
    assert _count(services, sid) == count
    # The key's text form does not matter: the same UUID in upper case is the same request.
    assert services.records.record_vitals(nurse, sid, BASELINE, request_key=key.upper()) == first
    # A new key is a new entry.
    other = services.records.record_vitals(nurse, sid, BASELINE, request_key=str(uuid.uuid4()))
    assert other.id != first.id and _count(services, sid) == count + 1
    assert services.integrity.verify(sid).ok


def test_every_kind_of_write_is_idempotent(services: Services, staff: dict[str, Actor], clock: FakeClock) -> None:
    sid = in_checklist(services, staff, clock)
    nurse, sup = staff["medical"], staff["supervisor"]
    writes: list[Callable[[str], object]] = [
        lambda k: services.records.confirm_checklist_item(nurse, sid, "consent", request_key=k),
        lambda k: services.records.record_vitals(nurse, sid, BASELINE, request_key=k),
        lambda k: services.records.record_observation(nurse, sid, "settling in", request_key=k),
        lambda k: services.records.record_side_effect(nurse, sid, "nausea", "mild", request_key=k),
        lambda k: services.records.record_scale(nurse, sid, "moaas", 5, request_key=k),
        lambda k: services.records.end_early(sup, sid, "client_request", "wished to stop", request_key=k),
    ]
    for write in writes:
        key = str(uuid.uuid4())
        first = write(key)
        count = _count(services, sid)
        assert write(key) == first
        assert _count(services, sid) == count
    assert services.integrity.verify(sid).ok


def test_a_dose_retried_after_its_commit_landed_is_not_given_twice(services: Services, staff: dict[str, Actor],
                                                                   clock: FakeClock) -> None:
    """The commit lands but its reply is lost (simulated after the commit): the retry returns the dose."""
    sid = dosed(services, staff, clock)
    nurse = staff["medical"]
    doses = _count(services, sid, "administration")
    key = str(uuid.uuid4())
    lost = []

    def lose_reply(_session: object) -> None:
        if not lost:
            lost.append(True)
            raise OperationalError("COMMIT", {}, Exception("server closed the connection unexpectedly"))

    event.listen(services.db._writes, "after_commit", lose_reply)
    try:
        with pytest.raises(DatabaseUnavailable, match="nothing was saved"):
            services.records.record_administration(nurse, sid, drug="Ketamine", route="sublingual", dose=50,
                                                   unit="mg", ordered_by=staff["supervisor"].staff_id,
                                                   request_key=key)
    finally:
        event.remove(services.db._writes, "after_commit", lose_reply)
    assert _count(services, sid, "administration") == doses + 1  # it was saved after all
    entry = services.records.record_administration(nurse, sid, drug="Ketamine", route="sublingual", dose=50,
                                                   unit="mg", ordered_by=staff["supervisor"].staff_id,
                                                   request_key=key)
    assert entry.payload["dose"] == 50
    assert _count(services, sid, "administration") == doses + 1


def test_a_key_used_for_something_else_is_refused(services: Services, staff: dict[str, Actor],
                                                  clock: FakeClock) -> None:
    sid = dosed(services, staff, clock)
    key = str(uuid.uuid4())
    services.records.record_observation(staff["medical"], sid, "calm", request_key=key)
    with pytest.raises(ValidationError, match="request key"):
        services.records.record_vitals(staff["medical"], sid, BASELINE, request_key=key)
    with pytest.raises(ValidationError, match="request key"):
        services.records.record_observation(staff["therapist"], sid, "calm", request_key=key)
    for bad in ("not-a-uuid", "", "\ud800" * 36, "0" * 10_000):
        with pytest.raises(ValidationError, match="request key"):
            services.records.record_observation(staff["medical"], sid, "calm", request_key=bad)


def test_every_entry_has_a_unique_key(services: Services, staff: dict[str, Actor], clock: FakeClock) -> None:
    sid = dosed(services, staff, clock)
    with services.db.read() as s:
        keys = s.scalars(select(EntryRow.request_key).where(EntryRow.session_id == sid)).all()
    assert keys and all(k is not None for k in keys) and len(set(keys)) == len(keys)
    with pytest.raises(Exception, match="(?i)unique"), services.db.write() as s:
        s.execute(text("UPDATE entries SET request_key = :k WHERE session_id = :s"), {"k": keys[0], "s": sid})


# ----- a real lost reply on a throwaway PostgreSQL server ----------------------------------------------------


class CommitReplyKiller:
    """A TCP proxy to the server; once armed, it forwards a COMMIT, kills the server when the reply comes back
    and closes the console's connection without passing the reply on."""

    def __init__(self, cluster: ThrowawayCluster) -> None:
        self.cluster = cluster
        self.armed = threading.Event()
        self.fired = threading.Event()
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port = int(self._listener.getsockname()[1])
        self._stop = False
        threading.Thread(target=self._accept, daemon=True).start()

    def url(self, database: str) -> str:
        return self.cluster.url(database).replace(f":{self.cluster.port}/", f":{self.port}/")

    def close(self) -> None:
        self._stop = True
        with contextlib.suppress(OSError):
            self._listener.close()

    def _accept(self) -> None:
        while not self._stop:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            try:
                upstream = socket.create_connection(("127.0.0.1", self.cluster.port), timeout=10)
            except OSError:
                client.close()
                continue
            upstream.settimeout(None)
            state = {"committing": False}
            threading.Thread(target=self._pump_up, args=(client, upstream, state), daemon=True).start()
            threading.Thread(target=self._pump_down, args=(upstream, client, state), daemon=True).start()

    def _pump_up(self, client: socket.socket, upstream: socket.socket, state: dict[str, bool]) -> None:
        with contextlib.suppress(OSError):
            while data := client.recv(65536):
                if self.armed.is_set() and not self.fired.is_set() and b"COMMIT\x00" in data:
                    state["committing"] = True
                upstream.sendall(data)
        with contextlib.suppress(OSError):
            upstream.close()

    def _pump_down(self, upstream: socket.socket, client: socket.socket, state: dict[str, bool]) -> None:
        with contextlib.suppress(OSError):
            while data := upstream.recv(65536):
                if state["committing"]:
                    # The server has committed (its reply is here): it dies before the console hears of it.
                    self.fired.set()
                    self.cluster.kill()
                    break
                client.sendall(data)
        for sock in (client, upstream):
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            with contextlib.suppress(OSError):
                sock.close()


@pytest.fixture
def killer_services(clock: FakeClock) -> Iterator[tuple[Services, CommitReplyKiller]]:
    reason = unavailable_reason()
    if reason:
        pytest.skip(f"no throwaway PostgreSQL cluster: {reason}")
    cluster = ThrowawayCluster()
    proxy = None
    svc = None
    try:
        cluster.start()
        name = f"kap_retry_{uuid.uuid4().hex[:12]}"
        cluster.create_database(name)
        proxy = CommitReplyKiller(cluster)
        svc = Services.open(proxy.url(name), clock=clock)
        yield svc, proxy
    finally:
        if svc is not None:
            svc.close()
        if proxy is not None:
            proxy.close()
        cluster.destroy()


@pytest.mark.postgres
def test_server_killed_between_commit_and_reply(killer_services: tuple[Services, CommitReplyKiller],
                                                clock: FakeClock) -> None:
    svc, proxy = killer_services
    staff = make_staff(svc)
    sid = dosed(svc, staff, clock)
    nurse = staff["medical"]
    before = _count(svc, sid, "observation")
    key = str(uuid.uuid4())
    clock.advance(minutes=1)
    proxy.armed.set()
    with pytest.raises(DatabaseUnavailable, match="nothing was saved"):
        svc.records.record_observation(nurse, sid, "Eyes closed, breathing slow.", request_key=key)
    assert proxy.fired.is_set()
    proxy.armed.clear()
    proxy.cluster.start()
    # The console was told nothing was saved, yet the commit had landed before the server died.
    assert _count(svc, sid, "observation") == before + 1
    # The console saves again what was typed, with the key it kept: the entry that exists comes back.
    entry = svc.records.record_observation(nurse, sid, "Eyes closed, breathing slow.", request_key=key)
    assert entry.payload["text"] == "Eyes closed, breathing slow."
    assert _count(svc, sid, "observation") == before + 1
    assert svc.integrity.verify(sid).ok
