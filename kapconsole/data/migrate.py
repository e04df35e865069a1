"""Schema upgrades through Alembic: status, backup-then-upgrade, and the model/migration drift check.

Alembic itself is imported only when there is something to do (an upgrade, the drift check, an unknown
revision): importing it costs more than half a second, and a console starting on a current schema only needs
to compare the ``alembic_version`` row with the head revision, which :func:`head_revision` reads from the
revision files' ``revision``/``down_revision`` lines.
"""

from __future__ import annotations

import ast
import re
from enum import StrEnum
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import text

from kapconsole.data.db import Database
from kapconsole.domain.errors import DomainError

if TYPE_CHECKING:
    from alembic.config import Config

MIGRATIONS = Path(__file__).parent / "migrations"
VERSION_TABLE = "alembic_version"
_ASSIGNMENT = re.compile(r"^(revision|down_revision)\s*(?::[^=]+)?=\s*(.+?)\s*$", re.MULTILINE)


class SchemaStatus(StrEnum):
    EMPTY = "empty"
    CURRENT = "current"
    OLD = "old"
    NEWER = "newer"
    FOREIGN = "foreign"


def alembic_config(db: Database) -> Config:
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.set_main_option("sqlalchemy.url", db.url.render_as_string(hide_password=False).replace("%", "%%"))
    return cfg


def _read_revisions() -> dict[str, tuple[str, ...]]:
    """Each revision id in ``migrations/versions`` and the ids it revises, read from the files' text."""
    graph: dict[str, tuple[str, ...]] = {}
    for path in sorted((MIGRATIONS / "versions").glob("*.py")):
        found = dict((m.group(1), m.group(2)) for m in _ASSIGNMENT.finditer(path.read_text(encoding="utf-8")))
        if "revision" not in found:
            continue
        revision = ast.literal_eval(found["revision"])
        down = ast.literal_eval(found.get("down_revision", "None"))
        downs = () if down is None else (down,) if isinstance(down, str) else tuple(down)
        graph[str(revision)] = tuple(str(d) for d in downs)
    return graph


@cache
def known_revisions() -> frozenset[str]:
    """Every revision this version of the application ships."""
    graph = _read_revisions()
    return frozenset(graph) if graph else _alembic_revisions()


@cache
def head_revision() -> str:
    """The revision a current database is at (the one no other revision revises)."""
    graph = _read_revisions()
    revised = {d for downs in graph.values() for d in downs}
    heads = sorted(set(graph) - revised)
    if len(heads) == 1:
        return heads[0]
    from alembic.script import ScriptDirectory  # a layout the cheap reading does not understand

    head = ScriptDirectory(str(MIGRATIONS)).get_current_head()
    assert head is not None
    return head


def _alembic_revisions() -> frozenset[str]:
    from alembic.script import ScriptDirectory

    return frozenset(r.revision for r in ScriptDirectory(str(MIGRATIONS)).walk_revisions())


def current_revisions(db: Database) -> list[str]:
    """The revisions recorded in the database's version table (one, unless the schema branched)."""
    # A reader's transaction: looking must not take SQLite's write lock from another workstation.
    with db.engine.execution_options(kap_read_only=True).connect() as conn:
        return [str(r) for r in conn.execute(text(f"SELECT version_num FROM {VERSION_TABLE}")).scalars()]


def current_revision(db: Database) -> str | None:
    revisions = current_revisions(db)
    return revisions[0] if len(revisions) == 1 else None


def status(db: Database) -> SchemaStatus:
    tables = set(db.table_names())
    if not tables:
        return SchemaStatus.EMPTY
    if VERSION_TABLE not in tables:
        return SchemaStatus.FOREIGN
    revisions = current_revisions(db)
    if revisions == [head_revision()]:
        return SchemaStatus.CURRENT
    known = known_revisions()
    return SchemaStatus.OLD if all(r in known for r in revisions) else SchemaStatus.NEWER


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
    from alembic import command

    saved = db.backup_sqlite(f"before-{head_revision()}") if backup and state is SchemaStatus.OLD else None
    cfg = alembic_config(db)
    with db.engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "head")
    return saved


def check_models_match(db: Database) -> None:
    """Raise when the models and the migrations disagree (Alembic ``check``)."""
    from alembic import command

    cfg = alembic_config(db)
    with db.engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.check(cfg)
