"""The front desk on the command line, as a new clinic uses it (real processes on a SQLite file), and the
command-line defects found in the walk-through (broken pipe, role names, report paths, messages)."""

from __future__ import annotations

import io
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from kapconsole.domain.enums import Role
from tests.data.test_cli import run

ADMIN_PW = "Quiet-Harbour-Lamp-17"
DESK_PW = "Orange-Violin-Meadow"
NURSE_PW = "Copper-Kettle-Sunrise"
SUP_PW = "Silver-Fjord-Canyon"


def kap(db: Path, *args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    return run("--database", f"sqlite:///{db}", *args, stdin=stdin)


def ok(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


@pytest.fixture(scope="module")
def clinic(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A new clinic set up from nothing with the command line: administrator, rooms, staff."""
    db = tmp_path_factory.mktemp("clinic") / "clinic.db"
    ok(kap(db, "db", "upgrade"))
    ok(kap(db, "user", "add", "admin", "--name", "Ada Admin", "--role", "Administrator", stdin=ADMIN_PW + "\n"))
    for room in ("Room 1", "Room 2"):
        ok(kap(db, "room", "add", room, "--as", "admin", stdin=ADMIN_PW + "\n"))
    for login, name, role, pw in (("rosa", "Rosa Díaz", "front desk", DESK_PW),
                                  ("nina", "Nina Nurse", "medical_staff", NURSE_PW),
                                  ("sam", "Dr Sam Supervisor", "SUPERVISOR", SUP_PW)):
        ok(kap(db, "user", "add", login, "--name", name, "--role", role, "--as", "admin",
               stdin=f"{ADMIN_PW}\n{pw}\n"))
    return db


def test_role_names_as_listed_are_accepted(clinic: Path) -> None:
    listing = ok(kap(clinic, "user", "list"))
    assert "rosa\tRosa Díaz\tFront desk" in listing and "nina\tNina Nurse\tMedical staff" in listing
    assert ok(kap(clinic, "room", "list")).split("\n")[:2] == ["Room 1", "Room 2"]
    for spelling in ("Medical staff", "medical-staff", "MEDICAL", "medical_staff"):
        assert Role.parse(spelling) is Role.MEDICAL
    bad = kap(clinic, "user", "add", "x", "--name", "X", "--role", "janitor", "--as", "admin")
    assert bad.returncode == 2 and "unknown role 'janitor'" in bad.stderr and "front_desk (Front desk)" in bad.stderr


def test_a_client_from_registration_to_a_planned_session(clinic: Path) -> None:
    desk = DESK_PW + "\n"
    out = ok(kap(clinic, "client", "add", "KAP-77", "--name", "Ñúñez García, José", "--dob", "1980-02-03",
                 "--weight", "80", "--weighed-on", "2026-01-05", "--allergy", "Penicillin|hives|severe",
                 "--allergy", "Latex", "--escort", "Marta", "--escort-phone", "+34 600 000 000",
                 "--as", "rosa", stdin=desk))
    assert "added client KAP-77" in out
    assert ok(kap(clinic, "client", "list", "nunez")).startswith("KAP-77\tÑúñez García, José\t1980-02-03")
    assert ok(kap(clinic, "client", "list", "NÚÑEZ")) == ok(kap(clinic, "client", "list", "jose"))
    ok(kap(clinic, "client", "edit", "KAP-77", "--weight", "78.5", "--as", "nina", stdin=NURSE_PW + "\n"))
    show = ok(kap(clinic, "client", "show", "KAP-77", "--history", "--as", "rosa", stdin=desk))
    assert "allergies:\tPenicillin|hives|severe; Latex" in show and "weight:\t78.5" in show
    assert "v2\t" in show and "Nina Nurse\tedited" in show and "weight: 80.0 → 78.5" in show
    out = ok(kap(clinic, "course", "add", "KAP-77", "--title", "KAP for PTSD", "--sessions", "3",
                 "--consent-date", "2026-01-05", "--consent-version", "v2", "--witness", "nina",
                 "--as", "rosa", stdin=desk))
    assert "(3 sessions)" in out
    out = ok(kap(clinic, "session", "plan", "KAP-77", "--at", "2030-05-06 09:30", "--room", "room 1",
                 "--route", "im", "--dose-per-kg", "0.5", "--as", "rosa", stdin=desk))
    assert "in Room 1 2030-05-06 09:30, session 1 of 3, 39.2 mg (0.5 mg/kg × 78.5 kg)" in out
    sid = out.split()[2].rstrip(":")
    ok(kap(clinic, "client", "add", "KAP-78", "--name", "Bo", "--as", "rosa", stdin=desk))
    clash = kap(clinic, "session", "plan", "KAP-78", "--at", "2030-05-06 11:00", "--room", "Room 1",
                "--route", "im", "--single", "--as", "rosa", stdin=desk)
    assert clash.returncode == 1 and f"session {sid}" in clash.stderr and "Traceback" not in clash.stderr
    moved = ok(kap(clinic, "session", "reschedule", sid, "--at", "2030-05-07 09:30", "--room", "Room 2",
                   "--reason", "client asked", "--as", "rosa", stdin=desk))
    assert "moved to Room 2 2030-05-07 09:30" in moved
    ok(kap(clinic, "session", "plan", "KAP-78", "--at", "2030-05-06 11:00", "--room", "Room 1", "--route", "im",
           "--single", "--as", "rosa", stdin=desk))
    ok(kap(clinic, "session", "cancel", sid, "--reason", "no escort", "--as", "rosa", stdin=desk))
    listed = ok(kap(clinic, "sessions", "--client", "nunez"))
    assert listed.strip().endswith("cancelled")


def test_writes_need_the_persons_password(clinic: Path) -> None:
    wrong = kap(clinic, "client", "add", "KAP-90", "--name", "X", "--as", "rosa", stdin="nope\n")
    assert wrong.returncode == 1 and "wrong login or password" in wrong.stderr
    nurse_room = kap(clinic, "room", "add", "Room 9", "--as", "nina", stdin=NURSE_PW + "\n")
    assert nurse_room.returncode == 1 and "may not manage rooms" in nurse_room.stderr


def test_csv_import_dry_run_and_real(clinic: Path, tmp_path: Path) -> None:
    csv_file = tmp_path / "clients.csv"
    csv_file.write_text("identifier;name;dob;allergies\nIMP-1;Émile Zola;1970-01-01;Sulfa|rash|moderate\n"
                        "IMP-2;Bad;2999-01-01;\n", encoding="utf-8")
    dry = kap(clinic, "client", "import", str(csv_file), "--dry-run", "--as", "rosa", stdin=DESK_PW + "\n")
    assert dry.returncode == 1  # a row has an error
    assert "line 2\tIMP-1\tadded" in dry.stdout and "line 3\tIMP-2\terror\tdate of birth" in dry.stdout
    assert "1 added, 0 changed, 0 unchanged, 1 error (dry run, nothing saved)" in dry.stdout
    assert ok(kap(clinic, "client", "list", "emile")) == ""
    kap(clinic, "client", "import", str(csv_file), "--as", "rosa", stdin=DESK_PW + "\n")
    assert ok(kap(clinic, "client", "list", "emile")).startswith("IMP-1\tÉmile Zola")


@pytest.mark.parametrize("password", ["password", "12345678", "kapdemo1", "Rosa-Diaz-2026x"])
def test_weak_passwords_are_refused_with_the_reason(clinic: Path, password: str) -> None:
    result = kap(clinic, "user", "passwd", "rosa", "--as", "admin", stdin=f"{ADMIN_PW}\n{password}\n")
    assert result.returncode == 1, result.stdout
    assert "password: '(hidden)' is not accepted;" in result.stderr
    assert f"'{password}'" not in result.stderr and (password == "password" or password not in result.stderr)
    reasons = {"password": "common password", "12345678": "common password", "kapdemo1": "add another word",
               "Rosa-Diaz-2026x": "own name or login ('rosa')"}
    assert reasons[password] in result.stderr


def test_output_into_a_closed_pipe_is_quiet(clinic: Path, monkeypatch: pytest.MonkeyPatch,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    # `| head -n 0` exits before kapconsole (a slower starter) writes: the write meets a closed pipe.
    script = f"{sys.executable} -m kapconsole --database sqlite:///{clinic} user list | head -n 0"
    result = subprocess.run(["bash", "-c", script], capture_output=True, text=True, timeout=120)
    assert result.stderr == ""
    from kapconsole.cli import main

    class ClosedPipe(io.StringIO):
        def write(self, _text: str) -> int:
            raise BrokenPipeError(32, "Broken pipe")

        def flush(self) -> None:
            raise BrokenPipeError(32, "Broken pipe")

    monkeypatch.setattr(sys, "stdout", ClosedPipe())
    status = main(["--database", f"sqlite:///{clinic}", "user", "list"])
    assert "Broken pipe" not in capsys.readouterr().err
    assert status == 141


def test_report_into_a_folder_and_into_a_read_only_place(tmp_path: Path) -> None:
    from tests.data.test_cli import run as run_cli

    db = tmp_path / "demo.db"
    assert run_cli("--database", f"sqlite:///{db}", "demo").returncode == 0
    sid = run_cli("--database", f"sqlite:///{db}", "sessions", "--state", "discharged").stdout.split()[0]
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    made = run_cli("--database", f"sqlite:///{db}", "report", sid, "-o", str(out_dir))
    assert made.returncode == 0, made.stderr
    assert (out_dir / f"kap-session-{sid}-summary.pdf").read_bytes().startswith(b"%PDF")
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o500)
    try:
        if os.access(locked, os.W_OK):
            pytest.skip("running as a user who may write anywhere (root)")
        bad = run_cli("--database", f"sqlite:///{db}", "report", sid, "-o", str(locked / "s.pdf"))
        assert bad.returncode == 1
        assert f"{locked / 's.pdf'}: Permission denied" in bad.stderr and ".tmp" not in bad.stderr
    finally:
        locked.chmod(0o700)


def test_report_names_the_users_path_when_the_place_is_missing(tmp_path: Path) -> None:
    """Also as root: a folder that does not exist names the file asked for, not a temporary file."""
    from kapconsole.services import Services
    from kapconsole.services.base import ManualClock
    from tests.conftest import make_staff
    from tests.data.helpers import dosed

    clock = ManualClock()
    svc = Services.open(f"sqlite:///{tmp_path / 'k.db'}", clock=clock)
    try:
        staff = make_staff(svc)
        sid = dosed(svc, staff, clock)
        target = tmp_path / "missing" / "summary.pdf"
        with pytest.raises(OSError) as err:
            svc.reports.write(staff["supervisor"], sid, target)
        assert err.value.filename == str(target)
    finally:
        svc.close()


@pytest.mark.postgres
def test_wrong_postgresql_password_on_a_read(pg_server: str) -> None:
    from sqlalchemy.engine import make_url

    url = make_url(pg_server).set(password="not-the-password").render_as_string(hide_password=False)
    result = run("--database", url, "sessions")
    assert result.returncode == 1
    assert "authentication failed" in result.stderr and "nothing was saved" not in result.stderr


def test_no_display_suggests_a_command_that_runs(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM")}
    exe = Path(sys.executable).parent / "kapconsole"
    result = subprocess.run([str(exe)], capture_output=True, text=True, env=env, timeout=60)
    assert result.returncode == 1
    suggestion = result.stderr.split("xvfb-run -a ", 1)[1].strip()
    assert suggestion == str(exe)
    found = shutil.which(suggestion.split()[0])
    assert found is not None and os.access(found, os.X_OK)
