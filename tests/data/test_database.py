"""Database setup and migrations: SQLite pragmas and permissions, Alembic chain, drift check, old-file upgrade."""

from __future__ import annotations

import shutil
import sqlite3
import stat
from pathlib import Path

import pytest
from alembic.script import ScriptDirectory

from kapconsole.data import migrate
from kapconsole.data.db import Database
from kapconsole.domain.errors import DomainError
from kapconsole.services import Services

FIXTURES = Path(__file__).parent.parent / "fixtures"


def test_models_and_migrations_agree(database_url: str) -> None:
    db = Database(database_url)
    assert migrate.status(db) is migrate.SchemaStatus.EMPTY
    migrate.upgrade(db)
    assert migrate.status(db) is migrate.SchemaStatus.CURRENT
    migrate.check_models_match(db)  # raises when a model changed without a revision
    db.dispose()


def test_a_released_schema_fixture_is_kept() -> None:
    # The upgrade test below needs at least one copy of a released schema (the parameter list is read from disk).
    assert sorted(p.name for p in FIXTURES.glob("kapconsole-*.db"))


def test_revisions_form_one_chain() -> None:
    script = ScriptDirectory(str(migrate.MIGRATIONS))
    heads = script.get_heads()
    assert len(heads) == 1
    revisions = list(script.walk_revisions())
    assert len({r.revision for r in revisions}) == len(revisions)
    assert sum(1 for r in revisions if r.down_revision is None) == 1


def test_cheap_head_reading_agrees_with_alembic() -> None:
    # Start-up compares the database with the head read from the revision files without importing Alembic.
    script = ScriptDirectory(str(migrate.MIGRATIONS))
    assert migrate.head_revision() == script.get_current_head()
    assert migrate.known_revisions() == {r.revision for r in script.walk_revisions()}


def test_sqlite_file_is_owner_only_with_wal_and_full_sync(tmp_path: Path) -> None:
    path = tmp_path / "nested" / "k.db"
    svc = Services.open(f"sqlite:///{path}")
    with svc.db.engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA synchronous").scalar() == 2  # FULL
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
    svc.close()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700


@pytest.mark.parametrize("fixture", sorted(p.name for p in FIXTURES.glob("kapconsole-*.db")))
def test_released_schema_upgrades_with_backup(tmp_path: Path, fixture: str) -> None:
    path = tmp_path / "old.db"
    shutil.copy(FIXTURES / fixture, path)
    old = sqlite3.connect(path)
    sessions_before = old.execute("SELECT count(*) FROM clinical_sessions").fetchone()[0]
    entries_before = old.execute("SELECT count(*) FROM entries").fetchone()[0]
    old.close()
    db = Database(f"sqlite:///{path}")
    assert migrate.status(db) is migrate.SchemaStatus.OLD
    backup = migrate.upgrade(db)
    assert backup is not None and backup.exists() and stat.S_IMODE(backup.stat().st_mode) == 0o600
    assert migrate.status(db) is migrate.SchemaStatus.CURRENT
    migrate.check_models_match(db)
    svc = Services(db)
    assert len(svc.clinic.list_sessions()) == sessions_before
    result = svc.integrity.verify()
    assert result.ok and result.entries_checked == entries_before
    svc.close()


def test_foreign_database_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "other.db"
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE invoices (id INTEGER PRIMARY KEY)")
    conn.commit()
    conn.close()
    with pytest.raises(DomainError, match="not a KAP Console database"):
        Services.open(f"sqlite:///{path}")
