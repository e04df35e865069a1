"""Shared fixtures: real SQLite files and a real PostgreSQL server (skipped with a reason when unreachable)."""

from __future__ import annotations

import os

# Before anything imports Qt: without a display pytest-qt would abort the interpreter.
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("KAPCONSOLE_SETTINGS_SCOPE", "tests")

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from kapconsole.domain.enums import Role
from kapconsole.domain.values import Actor
from kapconsole.services import Services
from kapconsole.services.base import ManualClock

PASSWORD = "Violet-Harbour-42"
PG_ADMIN_URL = os.environ.get(
    "KAPCONSOLE_TEST_PG", "postgresql+psycopg://kapconsole_test:kapconsole_test@127.0.0.1:5432/postgres"
)


#: The tests' clock: moved by hand (sessions last hours; tests do not).
FakeClock = ManualClock


def _pg_reachable() -> str | None:
    try:
        import psycopg

        url = PG_ADMIN_URL.replace("postgresql+psycopg://", "postgresql://")
        with psycopg.connect(url, connect_timeout=3, autocommit=True):
            return None
    except Exception as exc:  # the reason is shown in the skip message
        return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__


@pytest.fixture(scope="session")
def pg_server() -> Iterator[str]:
    reason = _pg_reachable()
    if reason is not None:
        pytest.skip(f"no PostgreSQL server reachable ({reason}); run 'make test' as root to start one")
    yield PG_ADMIN_URL


def _create_pg_database(admin_url: str) -> tuple[str, str]:
    import psycopg
    from sqlalchemy.engine import make_url

    name = f"kap_test_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(admin_url.replace("postgresql+psycopg://", "postgresql://"), autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    return name, make_url(admin_url).set(database=name).render_as_string(hide_password=False)


def _drop_pg_database(admin_url: str, name: str) -> None:
    import psycopg

    with psycopg.connect(admin_url.replace("postgresql+psycopg://", "postgresql://"), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh, empty database: a SQLite file, and a database on the PostgreSQL server."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'kapconsole.db'}"
        return
    admin = request.getfixturevalue("pg_server")
    name, url = _create_pg_database(admin)
    try:
        yield url
    finally:
        _drop_pg_database(admin, name)


@pytest.fixture(autouse=True)
def clinic_config(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Each test's own clinic configuration file (the clinic root key lives there, outside the database)."""
    path = tmp_path_factory.mktemp("clinic-config") / "clinic.json"
    monkeypatch.setenv("KAPCONSOLE_CLINIC_CONFIG", str(path))
    return path


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def services(database_url: str, clock: FakeClock) -> Iterator[Services]:
    svc = Services.open(database_url, clock=clock)
    yield svc
    svc.close()


@pytest.fixture
def sqlite_services(tmp_path: Path, clock: FakeClock) -> Iterator[Services]:
    """Services on a SQLite file only (for GUI tests and tests that are about SQLite itself)."""
    svc = Services.open(f"sqlite:///{tmp_path / 'kapconsole.db'}", clock=clock)
    yield svc
    svc.close()


@pytest.fixture
def staff(services: Services) -> dict[str, Actor]:
    return make_staff(services)


def make_staff(services: Services, workstation: str = "room-1") -> dict[str, Actor]:
    """One account per role (plus a supervisor who is also medical staff); returns signed-in actors."""
    services.staff.add_user(None, login="admin", name="Ada Admin", roles=[Role.ADMINISTRATOR], password=PASSWORD)
    admin = services.staff.authenticate("admin", PASSWORD, workstation)
    people = {
        "therapist": ("theo", "Theo Therapist", [Role.THERAPIST]),
        "medical": ("nina", "Nina Nurse", [Role.MEDICAL]),
        "supervisor": ("sam", "Dr Sam Supervisor", [Role.SUPERVISOR, Role.MEDICAL]),
    }
    actors = {"administrator": admin}
    for key, (login, name, roles) in people.items():
        services.staff.add_user(admin, login=login, name=name, roles=roles, password=PASSWORD)
        actors[key] = services.staff.authenticate(login, PASSWORD, workstation)
    for room in CLINIC_ROOMS:
        services.clinic.planning.add_room(admin, room)
    return actors


#: The rooms :func:`make_staff` sets up (sessions are planned into the clinic's rooms).
CLINIC_ROOMS = ("Room 1", "Room 2", "Room 3", "Room 4")


def ensure_room(services: Services, name: str) -> str:
    """Add a room as the clinic's administrator, unless it exists."""
    if name not in services.clinic.rooms():
        admin = next(m for m in services.staff.list_staff() if Role.ADMINISTRATOR in m.roles)
        services.clinic.planning.add_room(services.staff.actor_for(admin.login, "tests"), name)
    return name
