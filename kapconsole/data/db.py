"""Engine and unit-of-work setup for SQLite (embedded default) and PostgreSQL (multi-room)."""

from __future__ import annotations

import contextlib
import os
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

from sqlalchemy import create_engine, event, inspect
from sqlalchemy.engine import URL, Engine, make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

from kapconsole.domain.errors import DatabaseUnavailable, DomainError

APP_NAME = "kapconsole"
DB_FILENAME = "kapconsole.db"
ENV_URL = "KAPCONSOLE_DATABASE_URL"


def default_database_url() -> str:
    """The SQLite file in the user's data folder (created owner-only)."""
    from platformdirs import user_data_dir

    folder = Path(user_data_dir(APP_NAME, appauthor=False))
    return f"sqlite:///{folder / DB_FILENAME}"


def resolve_url(url: str | None) -> str:
    """``--database`` first, then ``KAPCONSOLE_DATABASE_URL``, then the SQLite default."""
    return url or os.environ.get(ENV_URL) or default_database_url()


def normalise_url(url: str) -> URL:
    """Parse a database URL; plain ``postgresql://`` means psycopg 3."""
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise DomainError(f"not a database URL: {url!r} (expected sqlite:///FILE or postgresql://…)") from None
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    if parsed.drivername not in ("sqlite", "sqlite+pysqlite", "postgresql+psycopg"):
        raise DomainError(f"unsupported database {parsed.drivername!r}: use sqlite:///FILE or postgresql://…")
    return parsed


def describe_db_error(exc: BaseException, *, writing: bool = True) -> str:
    """One clear line for a database failure (lost connection, disk full, read-only file, locked, refused
    sign-in). "Nothing was saved" is said only of a unit of work that was meant to save something."""
    full = str(getattr(exc, "orig", exc)).strip()
    text = full.splitlines()[0] if full else type(exc).__name__
    low = full.lower()
    unsaved = "; nothing was saved" if writing else ""
    if "password authentication failed" in low or "authentication failed" in low or "no password supplied" in low:
        return "the database server refused the sign-in: authentication failed (check the user and password in " \
               f"the database URL){unsaved}"
    if "does not exist" in low and "database" in low:
        return f"the database server has no such database (check the database name in the URL){unsaved}"
    if "readonly" in low or "read-only" in low:
        return f"the database file is read-only{unsaved}"
    if "disk" in low and ("full" in low or "i/o" in low):
        return f"the disk holding the database is full or failing{unsaved}"
    if "lock timeout" in low:
        return (f"the record is held by another workstation and did not come free in time{unsaved}, "
                "try again")
    if "locked" in low or "busy" in low:
        return f"the database is busy at another workstation{unsaved}" + ("; try again" if writing else "")
    if "connect" in low or "server closed" in low or "terminat" in low or "connection" in low:
        return f"the database server cannot be reached{unsaved}"
    return f"database error: {text}"


class Database:
    """One engine and two session factories (write, read) per process."""

    def __init__(self, url: str, *, echo: bool = False) -> None:
        self.url = normalise_url(url)
        self.is_sqlite = self.url.get_backend_name() == "sqlite"
        self.created_file = False
        kwargs: dict[str, Any] = {"echo": echo}
        if self.is_sqlite:
            self._prepare_sqlite_file()
            kwargs["connect_args"] = {"timeout": 15, "check_same_thread": False}
        else:
            # A row lock held elsewhere (a stuck transaction) ends in a clear error instead of a silent wait.
            kwargs.update(pool_pre_ping=True, pool_size=4, max_overflow=4,
                          connect_args={"connect_timeout": 5, "application_name": APP_NAME,
                                        "options": f"-c lock_timeout={lock_timeout_ms()}"})
        self.engine: Engine = create_engine(self.url, **kwargs)
        if self.is_sqlite:
            _install_sqlite_pragmas(self.engine)
        self._writes = sessionmaker(self.engine, expire_on_commit=False)
        self._reads = sessionmaker(self.engine.execution_options(kap_read_only=True), expire_on_commit=False)

    @property
    def sqlite_path(self) -> Path | None:
        if not self.is_sqlite or not self.url.database or self.url.database == ":memory:":
            return None
        name = self.url.database
        if self._sqlite_uri and name.startswith("file:"):
            # A SQLite URI filename (``sqlite:///file:PATH?mode=ro&uri=true``): the file is its path part.
            if self.url.query.get("mode") == "memory":
                return None
            name = unquote(urlsplit(name).path)
        return Path(name) if name else None

    @property
    def _sqlite_uri(self) -> bool:
        return str(self.url.query.get("uri", "")).lower() in ("true", "1", "yes")

    @property
    def display_name(self) -> str:
        if self.sqlite_path:
            return str(self.sqlite_path)
        return self.url.render_as_string(hide_password=True)

    def _prepare_sqlite_file(self) -> None:
        path = self.sqlite_path
        if path is None:
            return
        if self._sqlite_uri and self.url.query.get("mode") == "ro":
            return  # opened read-only: create nothing
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        if not path.exists():
            # Owner-only from the first byte; SQLite gives its -wal and -shm files the same mode.
            fd = os.open(path, os.O_CREAT | os.O_WRONLY, 0o600)
            os.close(fd)
            self.created_file = True
        else:
            # An existing file readable by others (copied in, made by an older version) is tightened.
            for part in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
                with contextlib.suppress(OSError):
                    if part.exists() and part.stat().st_mode & 0o077:
                        os.chmod(part, 0o600)

    def remove_if_created_empty(self) -> None:
        """After a failed first set-up (a full disk), leave no empty database file behind."""
        path = self.sqlite_path
        if not self.created_file or path is None:
            return
        self.dispose()
        for part in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm"),
                     path.with_name(path.name + "-journal")):
            with contextlib.suppress(OSError):
                if part.exists() and (part is not path or part.stat().st_size == 0 or not _has_tables(part)):
                    part.unlink()

    @contextmanager
    def write(self) -> Iterator[Session]:
        """A unit of work that changes data: committed durably on exit, rolled back whole on error."""
        with self._guard(writing=True), self._writes.begin() as session:
            yield session

    @contextmanager
    def read(self) -> Iterator[Session]:
        with self._guard(writing=False), self._reads.begin() as session:
            yield session

    @contextmanager
    def _guard(self, *, writing: bool) -> Iterator[None]:
        try:
            yield
        except (OperationalError, DBAPIError) as exc:
            if isinstance(exc, DBAPIError) and not isinstance(exc, OperationalError) and not exc.connection_invalidated:
                raise
            raise DatabaseUnavailable(describe_db_error(exc, writing=writing)) from exc

    def table_names(self) -> list[str]:
        try:
            return inspect(self.engine).get_table_names()
        except (OperationalError, DBAPIError) as exc:
            raise DatabaseUnavailable(describe_db_error(exc, writing=False)) from exc

    def backup_sqlite(self, label: str) -> Path | None:
        """Copy the SQLite file (consistent online backup) beside itself before a schema upgrade."""
        path = self.sqlite_path
        if path is None or not path.exists() or path.stat().st_size == 0:
            return None
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
        target = path.with_name(f"{path.stem}.{label}.{stamp}.bak")
        src = sqlite3.connect(path)
        try:
            dst = sqlite3.connect(target)
            with dst:
                src.backup(dst)
            dst.close()
        finally:
            src.close()
        os.chmod(target, 0o600)
        return target

    def dispose(self) -> None:
        self.engine.dispose()


def lock_timeout_ms() -> int:
    """How long a PostgreSQL statement waits for a row lock (``KAPCONSOLE_LOCK_TIMEOUT_MS``, default 10 s)."""
    try:
        value = int(os.environ.get("KAPCONSOLE_LOCK_TIMEOUT_MS", "10000"))
    except ValueError:
        value = 10000
    return min(max(value, 100), 600_000)


def _has_tables(path: Path) -> bool:
    try:
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            return bool(conn.execute("SELECT count(*) FROM sqlite_master WHERE type = 'table'").fetchone()[0])
        finally:
            conn.close()
    except sqlite3.Error:
        return False


def _install_sqlite_pragmas(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        # Let SQLAlchemy, not the driver, issue BEGIN, so writers can take the lock up front.
        dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA synchronous=FULL")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute("PRAGMA busy_timeout=15000")
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        # Writers take the write lock at BEGIN (no lock upgrade deadlocks between workstations);
        # readers use a plain deferred transaction and never block a writer under WAL.
        if conn.get_execution_options().get("kap_read_only"):
            conn.exec_driver_sql("BEGIN")
        else:
            conn.exec_driver_sql("BEGIN IMMEDIATE")
