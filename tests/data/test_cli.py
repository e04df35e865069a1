"""The kapconsole command, run as a user would (a real process), on a SQLite file."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from kapconsole.cli import main
from kapconsole.services.demo import DEMO_PASSWORD


def run(*args: str, stdin: str = "", env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "kapconsole", *args], input=stdin, capture_output=True, text=True,
                          env={**os.environ, **(env or {})}, timeout=120)


@pytest.fixture(scope="module")
def demo_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("demo") / "clinic.db"
    result = run("--database", f"sqlite:///{path}", "demo")
    assert result.returncode == 0, result.stderr
    assert "dr.reyes" in result.stdout and DEMO_PASSWORD in result.stdout
    return path


def test_demo_then_verify_then_tamper(demo_db: Path, tmp_path: Path) -> None:
    copy = tmp_path / "copy.db"
    src = sqlite3.connect(demo_db)
    dst = sqlite3.connect(copy)
    src.backup(dst)
    src.close()
    ok = run("--database", f"sqlite:///{copy}", "verify")
    assert ok.returncode == 0, ok.stdout + ok.stderr
    assert ok.stdout.startswith("OK")
    entry_id = dst.execute("SELECT id FROM entries WHERE kind = 'vitals' ORDER BY id LIMIT 1 OFFSET 5").fetchone()[0]
    dst.execute("UPDATE entries SET payload = replace(payload, '\"sbp\":', '\"sbp\":1') WHERE id = ?", (entry_id,))
    dst.commit()
    dst.close()
    bad = run("verify", env={"KAPCONSOLE_DATABASE_URL": f"sqlite:///{copy}"})
    assert bad.returncode == 1
    assert f"entry {entry_id} " in bad.stdout and "FAILED" in bad.stdout


def test_demo_has_every_state(demo_db: Path) -> None:
    out = run("--database", f"sqlite:///{demo_db}", "sessions").stdout.splitlines()
    states = {line.split("\t")[-1] for line in out}
    assert states == {"planned", "checklist", "monitoring", "discharge", "discharged", "ended_early"}
    assert all(line.split("\t")[0].isdigit() for line in out)
    rooms = {line.split("\t")[2] for line in out}
    assert len(rooms) >= 3


def test_sessions_filters(demo_db: Path) -> None:
    url = f"sqlite:///{demo_db}"
    maya = run("--database", url, "sessions", "--client", "KAP-1040").stdout.splitlines()
    assert len(maya) == 4 and all("Maya Thompson" in line for line in maya)
    signed = run("--database", url, "sessions", "--client", "maya", "--state", "discharged").stdout.splitlines()
    assert len(signed) == 3


def test_demo_refuses_a_clinic_that_exists(demo_db: Path) -> None:
    again = run("--database", f"sqlite:///{demo_db}", "demo")
    assert again.returncode == 1 and "already holds a clinic" in again.stderr
    assert "Traceback" not in again.stderr


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("verify", "9999"), "there is no session 9999"),
        (("report", "9999", "-o", "x.pdf"), "there is no session 9999"),
        (("user", "add", "x", "--name", "X", "--role", "therapist"), "name one with --as"),
    ],
)
def test_user_mistakes_print_one_line(demo_db: Path, args: tuple[str, ...], message: str) -> None:
    result = run("--database", f"sqlite:///{demo_db}", *args)
    assert result.returncode == 1
    assert result.stderr.count("\n") == 1 and message in result.stderr and "Traceback" not in result.stderr


def test_missing_or_foreign_database(tmp_path: Path) -> None:
    missing = run("--database", f"sqlite:///{tmp_path / 'none.db'}", "sessions")
    assert missing.returncode == 1 and "there is no database" in missing.stderr
    foreign = tmp_path / "foreign.db"
    conn = sqlite3.connect(foreign)
    conn.execute("CREATE TABLE t (x)")
    conn.close()
    result = run("--database", f"sqlite:///{foreign}", "sessions")
    assert result.returncode == 1 and "not a KAP Console database" in result.stderr
    bad = run("--database", "mysql://x/y", "sessions")
    assert bad.returncode == 1 and "unsupported database" in bad.stderr
    unreachable = run("--database", "postgresql://nobody:x@127.0.0.1:1/none", "sessions")
    assert unreachable.returncode == 1 and "cannot be reached" in unreachable.stderr


def test_user_commands(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'u.db'}"
    first = run("--database", url, "user", "add", "boss", "--name", "Bo Boss", "--role", "administrator",
                stdin="Amber-Falcon-Orchard\n")
    assert first.returncode == 0, first.stderr
    add = run("--database", url, "user", "add", "nia", "--name", "Nia Nurse", "--role", "medical", "--role",
              "therapist", "--as", "boss", stdin="Amber-Falcon-Orchard\nVelvet-Comet-Harbor\n")
    assert add.returncode == 0, add.stderr
    wrong = run("--database", url, "user", "passwd", "nia", "--as", "boss", stdin="nope-nope\nx\n")
    assert wrong.returncode == 1 and "wrong login or password" in wrong.stderr
    assert run("--database", url, "user", "passwd", "nia", "--as", "boss",
               stdin="Amber-Falcon-Orchard\nTidal-Maple-Lantern\n").returncode == 0
    assert run("--database", url, "user", "deactivate", "nia", "--as", "boss", stdin="Amber-Falcon-Orchard\n").returncode == 0
    listing = run("--database", url, "user", "list", "--all").stdout
    assert "nia\tNia Nurse" in listing and "deactivated" in listing


@pytest.mark.parametrize("command", [[], ["demo"], ["sessions"], ["report"], ["verify"], ["db", "upgrade"],
                                     ["user", "add"], ["user", "passwd"], ["user", "deactivate"]])
def test_help_explains_each_command(command: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as done:
        main([*command, "--help"])
    assert done.value.code == 0
    out = capsys.readouterr().out
    assert "usage: kapconsole" in out and ("--database" in out or command == [])


def test_db_upgrade_creates_and_reports(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'new.db'}"
    assert run("--database", url, "db", "upgrade").returncode == 0
    status = run("--database", url, "db", "status")
    assert "current" in status.stdout


def test_gui_without_display_says_how(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM")}
    result = subprocess.run([sys.executable, "-m", "kapconsole", "--database", f"sqlite:///{tmp_path / 'g.db'}"],
                            capture_output=True, text=True, env=env, timeout=60)
    assert result.returncode == 1
    assert result.stderr.strip().count("\n") == 0 and "xvfb-run" in result.stderr


def test_protocol_show_and_load(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'p.db'}"
    assert run("--database", url, "user", "add", "boss", "--name", "Bo Boss", "--role", "administrator",
               stdin="Amber-Falcon-Orchard\n").returncode == 0
    shown = run("--database", url, "protocol", "show")
    assert shown.returncode == 0 and '"min_observation_minutes": 120' in shown.stdout
    edited = tmp_path / "protocol.json"
    edited.write_text(shown.stdout.replace('"min_observation_minutes": 120', '"min_observation_minutes": 150'))
    loaded = run("--database", url, "protocol", "load", str(edited), "--as", "boss", stdin="Amber-Falcon-Orchard\n")
    assert loaded.returncode == 0, loaded.stderr
    assert '"min_observation_minutes": 150' in run("--database", url, "protocol", "show").stdout
    edited.write_text('{"alerts": {"hr": {"low": 200, "high": 10}}}')
    bad = run("--database", url, "protocol", "load", str(edited), "--as", "boss", stdin="Amber-Falcon-Orchard\n")
    assert bad.returncode == 1 and "alerts.hr" in bad.stderr and "low must be below high" in bad.stderr
