"""A database from the released schema, upgraded: what it recorded then verifies, and from the upgrade on a
change to its sessions' headers, states or entries is caught; the clinic chain names every old session."""

from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path

from kapconsole.data import migrate
from kapconsole.data.db import Database
from kapconsole.services import Services

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "kapconsole-0001.db"


def _upgraded(tmp_path: Path) -> tuple[Services, Path]:
    path = tmp_path / "old.db"
    shutil.copy(FIXTURE, path)
    db = Database(f"sqlite:///{path}")
    migrate.upgrade(db)
    return Services(db), path


def test_old_sessions_are_recorded_in_the_clinic_chain(tmp_path: Path) -> None:
    svc, path = _upgraded(tmp_path)
    try:
        assert svc.integrity.verify().ok
        conn = sqlite3.connect(path)
        sessions = {r[0] for r in conn.execute("SELECT id FROM clinical_sessions")}
        recorded = {r[0] for r in conn.execute("SELECT session_id FROM clinic_chain WHERE kind = 'recorded_at_upgrade'")}
        headers = conn.execute("SELECT count(*) FROM clinical_sessions WHERE header_json IS NULL").fetchone()[0]
        conn.close()
        assert sessions and recorded == sessions and headers == 0
    finally:
        svc.close()


def test_changes_after_the_upgrade_are_caught(tmp_path: Path) -> None:
    svc, path = _upgraded(tmp_path)
    try:
        conn = sqlite3.connect(path)
        first, second = (r[0] for r in conn.execute("SELECT id FROM clinical_sessions ORDER BY id LIMIT 2"))
        conn.execute("UPDATE clinical_sessions SET room = 'Elsewhere' WHERE id = ?", (first,))
        conn.execute("PRAGMA foreign_keys=OFF")
        for table in ("entries", "session_staff", "audit_events"):
            conn.execute(f"DELETE FROM {table} WHERE session_id = ?", (second,))
        conn.execute("DELETE FROM clinical_sessions WHERE id = ?", (second,))
        conn.commit()
        conn.close()
        messages = "\n".join(p.message for p in svc.integrity.verify().problems)
        assert "changed since the session was planned: room" in messages
        assert f"session {second} is in the clinic chain but missing from the database" in messages
    finally:
        svc.close()
