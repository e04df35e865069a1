"""Security: argon2id password hashes, throttled and audited wrong passwords, no client data in log files,
owner-only database files."""

from __future__ import annotations

import logging
import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select

from kapconsole.data.models import StaffRow
from kapconsole.domain.enums import Role
from kapconsole.domain.errors import AuthenticationFailed
from kapconsole.services import Services
from kapconsole.services.demo import seed_demo
from kapconsole.services.staff import FREE_TRIES, MAX_DELAY_SECONDS, throttle_delay
from tests.conftest import PASSWORD, FakeClock, make_staff
from tests.data.helpers import BASELINE, dosed


def test_passwords_are_argon2id_and_salted(services: Services) -> None:
    make_staff(services)
    admin = services.staff.authenticate("admin", PASSWORD, "room-1")
    services.staff.add_user(admin, login="twin", name="Twin Nurse", roles=[Role.MEDICAL], password=PASSWORD)
    with services.db.read() as s:
        hashes = dict(s.execute(select(StaffRow.login, StaffRow.password_hash)).tuples().all())
    assert all(h.startswith("$argon2id$") for h in hashes.values()), hashes
    assert hashes["twin"] != hashes["nina"]  # same password, different salt
    assert not any(PASSWORD in h for h in hashes.values())


def test_delay_grows_with_each_failure_and_is_capped() -> None:
    delays = [throttle_delay(n).total_seconds() for n in range(0, 20)]
    assert delays[:FREE_TRIES] == [0] * FREE_TRIES
    assert all(b >= a for a, b in zip(delays, delays[1:], strict=False))
    assert delays[FREE_TRIES] > 0 and max(delays) == MAX_DELAY_SECONDS


def test_repeated_wrong_passwords_slow_down_and_are_audited(services: Services, clock: FakeClock) -> None:
    staff = make_staff(services)
    for _ in range(FREE_TRIES):
        with pytest.raises(AuthenticationFailed, match="wrong login or password"):
            services.staff.authenticate("nina", "not-my-password", "room-2")
    # Now even the right password must wait: the throttle does not reveal whether it was right.
    with pytest.raises(AuthenticationFailed, match=r"^too many wrong passwords at this workstation; try again in \d+ s$"):
        services.staff.authenticate("nina", PASSWORD, "room-2")
    clock.advance(seconds=throttle_delay(FREE_TRIES).total_seconds() + 1)
    with pytest.raises(AuthenticationFailed, match="wrong login or password"):
        services.staff.authenticate("nina", "still-wrong", "room-2")
    with pytest.raises(AuthenticationFailed, match="too many wrong passwords"):
        services.staff.authenticate("nina", PASSWORD, "room-2")
    clock.advance(seconds=throttle_delay(FREE_TRIES + 1).total_seconds() + 1)
    assert services.staff.authenticate("nina", PASSWORD, "room-2").login == "nina"
    with pytest.raises(AuthenticationFailed):
        services.staff.authenticate("nobody", "whatever", "room-2")
    events = services.audit.events(staff["administrator"], workstation="room-2")
    actions = [e.action for e in reversed(events)]
    assert actions == ["sign_in_failed"] * FREE_TRIES + ["sign_in_throttled", "sign_in_failed",
                                                         "sign_in_throttled", "sign_in", "sign_in_failed"]
    assert all(PASSWORD not in e.detail and "still-wrong" not in e.detail for e in events)


@pytest.fixture
def log_file(tmp_path: Path) -> Iterator[Path]:
    """Logging as a deployment would turn it on: everything at INFO and above into a file."""
    path = tmp_path / "kapconsole.log"
    handler = logging.FileHandler(path, encoding="utf-8")
    handler.setFormatter(logging.Formatter("%(asctime)s %(name)s %(levelname)s %(message)s"))
    root = logging.getLogger()
    old_level = root.level
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    try:
        yield path
    finally:
        root.removeHandler(handler)
        root.setLevel(old_level)
        handler.close()


def test_no_client_data_in_log_files(tmp_path: Path, clock: FakeClock, log_file: Path) -> None:
    svc = Services.open(f"sqlite:///{tmp_path / 'clinic.db'}")
    try:
        seed_demo(svc)
        clients = svc.clinic.find_clients(limit=1000)
        assert clients
    finally:
        svc.close()
    svc = Services.open(f"sqlite:///{tmp_path / 'session.db'}", clock=clock)
    try:
        staff = make_staff(svc)
        sid = dosed(svc, staff, clock, identifier="KAP-SECRET-77")
        svc.records.record_vitals(staff["medical"], sid, BASELINE)
        svc.records.record_observation(staff["therapist"], sid, "Spoke of Marguerite-Zeta, her estranged sister.",
                                       for_integration=True)
        with pytest.raises(Exception):  # noqa: B017 - any refusal; what matters is what reaches the log
            svc.records.record_observation(staff["medical"], sid, "Tells of Marguerite-Zeta\x00")
        svc.reports.pdf(None, sid)
    finally:
        svc.close()
    logging.getLogger().handlers[-1].flush()
    text = log_file.read_text(encoding="utf-8")
    secrets = {c.name for c in clients} | {c.identifier for c in clients} | {"KAP-SECRET-77", "Jo Client",
                                                                             "Marguerite-Zeta"}
    leaked = sorted(s for s in secrets if s and s in text)
    assert not leaked, f"client data in the log file: {leaked}"


def test_database_files_are_owner_only(tmp_path: Path, clock: FakeClock) -> None:
    old = os.umask(0o022)  # a permissive umask: the files must still come out owner-only
    try:
        path = tmp_path / "data" / "kapconsole.db"
        svc = Services.open(f"sqlite:///{path}", clock=clock)
        try:
            staff = make_staff(svc)
            sid = dosed(svc, staff, clock)
            svc.records.record_vitals(staff["medical"], sid, BASELINE)
            files = [path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")]
            assert all(f.exists() for f in files), [f.name for f in files if not f.exists()]
            modes = {f.name: oct(stat.S_IMODE(f.stat().st_mode)) for f in files}
            assert set(modes.values()) == {"0o600"}, modes
            assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
            report = svc.reports.write(None, sid, tmp_path / "summary.pdf")
            assert stat.S_IMODE(report.stat().st_mode) == 0o600
        finally:
            svc.close()
    finally:
        os.umask(old)
