"""Schema upgrades through Alembic: status, backup-then-upgrade, and the model/migration drift check."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory

from kapconsole.data.db import Database
from kapconsole.domain.errors import DomainError

MIGRATIONS = Path(__file__).parent / "migrations"


class SchemaStatus(StrEnum):
    EMPTY = "empty"
    CURRENT = "current"
    OLD = "old"
    NEWER = "newer"
    FOREIGN = "foreign"


def alembic_config(db: Database) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.set_main_option("sqlalchemy.url", db.url.render_as_string(hide_password=False).replace("%", "%%"))
    return cfg


def head_revision() -> str:
    script = ScriptDirectory(str(MIGRATIONS))
    head = script.get_current_head()
    assert head is not None
    return head


def current_revision(db: Database) -> str | None:
    with db.engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def status(db: Database) -> SchemaStatus:
    tables = set(db.table_names())
    if not tables:
        return SchemaStatus.EMPTY
    if "alembic_version" not in tables:
        return SchemaStatus.FOREIGN
    rev = current_revision(db)
    if rev == head_revision():
        return SchemaStatus.CURRENT
    script = ScriptDirectory(str(MIGRATIONS))
    known = {r.revision for r in script.walk_revisions()}
    return SchemaStatus.OLD if rev in known or rev is None else SchemaStatus.NEWER


def upgrade(db: Database, *, backup: bool = True) -> Path | None:
    """Bring the schema to head. An older SQLite file is backed up first; returns the backup's path.

    Refuses a database that is not a KAP Console database or was written by a newer version.
    """
    state = status(db)
    if state is SchemaStatus.CURRENT:
        return None
    if state is SchemaStatus.FOREIGN:
        raise DomainError(f"{db.display_name} is not a KAP Console database (it has other tables)")
    if state is SchemaStatus.NEWER:
        raise DomainError(f"{db.display_name} was written by a newer KAP Console; upgrade the application")
    saved = db.backup_sqlite(f"before-{head_revision()}") if backup and state is SchemaStatus.OLD else None
    cfg = alembic_config(db)
    with db.engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "head")
    return saved


def check_models_match(db: Database) -> None:
    """Raise when the models and the migrations disagree (Alembic ``check``)."""
    cfg = alembic_config(db)
    with db.engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.check(cfg)
