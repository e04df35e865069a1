"""A throwaway PostgreSQL cluster for tests that stop, kill or restart a server.

The cluster lives in a temporary folder, listens on its own free loopback port and on a socket in that folder,
and is the only server such tests ever stop. ``initdb`` refuses to run as root, so as root every server command
runs as the ``postgres`` user (the folder is handed to that user first).
"""

from __future__ import annotations

import os
import shlex
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path

import psycopg

PG_BIN_DIRS = ("/usr/lib/postgresql/15/bin", "/usr/lib/postgresql/16/bin", "/usr/lib/postgresql/17/bin")
USER = "kap_throwaway"
PASSWORD = "kap_throwaway"
START_SECONDS = 60


def _bin_dir() -> Path | None:
    for folder in PG_BIN_DIRS:
        if (Path(folder) / "initdb").is_file() and (Path(folder) / "pg_ctl").is_file():
            return Path(folder)
    found = shutil.which("initdb")
    if found and shutil.which("pg_ctl"):
        return Path(found).parent
    return None


def unavailable_reason() -> str | None:
    """Why no throwaway cluster can be made here (None when one can)."""
    if _bin_dir() is None:
        return "initdb/pg_ctl are not installed"
    if os.geteuid() == 0:
        try:
            import pwd

            pwd.getpwnam("postgres")
        except KeyError:
            return "running as root and there is no 'postgres' user to run initdb as"
    return None


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class ThrowawayCluster:
    """``initdb`` in a temporary folder, ``pg_ctl start/stop``, a superuser with a password, and clean-up."""

    def __init__(self) -> None:
        bin_dir = _bin_dir()
        if bin_dir is None:
            raise RuntimeError("initdb is not installed")
        self.bin = bin_dir
        self.root = Path(tempfile.mkdtemp(prefix="kap-pg-"))
        self.data = self.root / "data"
        self.log = self.root / "server.log"
        self.port = free_port()
        self._as_postgres = os.geteuid() == 0
        if self._as_postgres:
            os.chmod(self.root, 0o700)
            shutil.chown(self.root, "postgres", "postgres")
        pwfile = self.root / "pw"
        pwfile.write_text(PASSWORD + "\n")
        if self._as_postgres:
            shutil.chown(pwfile, "postgres", "postgres")
        self._run(f"{self.bin / 'initdb'} -D {self.data} -U {USER} --pwfile={pwfile} -A scram-sha-256 "
                  "--auth-local=trust -E UTF8 --no-sync")
        pwfile.unlink()
        with open(self.data / "postgresql.conf", "a", encoding="utf-8") as conf:
            conf.write(f"\nlisten_addresses = '127.0.0.1'\nport = {self.port}\n"
                       f"unix_socket_directories = '{self.root}'\nfsync = on\nmax_connections = 40\n"
                       "shared_buffers = 16MB\n")
        self.running = False

    # ----- server control -----------------------------------------------------------------------------------
    def _run(self, command: str, *, check: bool = True, timeout: float = 120) -> subprocess.CompletedProcess[str]:
        argv = ["su", "postgres", "-s", "/bin/sh", "-c", command] if self._as_postgres else shlex.split(command)
        return subprocess.run(argv, capture_output=True, text=True, timeout=timeout, check=check,
                              cwd=str(self.root))

    def start(self) -> None:
        self._run(f"{self.bin / 'pg_ctl'} -D {self.data} -l {self.log} -w -t {START_SECONDS} start")
        self.running = True
        self.wait_ready()

    def stop(self, mode: str = "fast") -> None:
        self._run(f"{self.bin / 'pg_ctl'} -D {self.data} -m {mode} -w -t {START_SECONDS} stop")
        self.running = False

    def kill(self) -> None:
        """SIGKILL the postmaster (a server crash): nothing is flushed beyond what was committed."""
        pid = self.postmaster_pid()
        if pid is not None:
            os.kill(pid, signal.SIGKILL)
            deadline = time.monotonic() + START_SECONDS
            while time.monotonic() < deadline:
                try:
                    os.kill(pid, 0)
                except ProcessLookupError:
                    break
                time.sleep(0.05)
        # Children of a killed postmaster exit on their own once they notice; wait for them to let go.
        deadline = time.monotonic() + START_SECONDS
        while time.monotonic() < deadline and self._children_alive():
            time.sleep(0.1)
        self.running = False

    def _children_alive(self) -> bool:
        found = subprocess.run(["pgrep", "-f", f"-D {self.data}"], capture_output=True, text=True)
        if found.stdout.strip():
            return True
        found = subprocess.run(["pgrep", "-f", str(self.data)], capture_output=True, text=True)
        return bool(found.stdout.strip())

    def postmaster_pid(self) -> int | None:
        try:
            return int((self.data / "postmaster.pid").read_text().splitlines()[0])
        except (OSError, ValueError, IndexError):
            return None

    def wait_ready(self, seconds: float = START_SECONDS) -> None:
        deadline = time.monotonic() + seconds
        while True:
            try:
                with psycopg.connect(self.dsn("postgres"), connect_timeout=2, autocommit=True):
                    return
            except psycopg.OperationalError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)

    # ----- databases ----------------------------------------------------------------------------------------
    def dsn(self, database: str) -> str:
        return f"postgresql://{USER}:{PASSWORD}@127.0.0.1:{self.port}/{database}"

    def url(self, database: str) -> str:
        """A SQLAlchemy URL (psycopg 3) for ``database`` on this cluster."""
        return f"postgresql+psycopg://{USER}:{PASSWORD}@127.0.0.1:{self.port}/{database}"

    def create_database(self, name: str) -> str:
        with psycopg.connect(self.dsn("postgres"), autocommit=True, connect_timeout=5) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)

    def admin(self) -> psycopg.Connection[tuple[object, ...]]:
        return psycopg.connect(self.dsn("postgres"), autocommit=True, connect_timeout=3)

    def destroy(self) -> None:
        """Stop the server if it runs (immediate mode) and remove its folder."""
        try:
            if self.postmaster_pid() is not None:
                self._run(f"{self.bin / 'pg_ctl'} -D {self.data} -m immediate -w -t {START_SECONDS} stop",
                          check=False)
        finally:
            shutil.rmtree(self.root, ignore_errors=True)
