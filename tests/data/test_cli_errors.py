"""The kapconsole command given wrong arguments or the wrong database: one line, no traceback, exit status
1 (argparse's usage errors: 2). Complements test_cli.py."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent.parent


def run(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "kapconsole", *args], capture_output=True, text=True,
                          env={**os.environ, "PYTHONPATH": str(ROOT)}, timeout=120, cwd=cwd)


@pytest.fixture(scope="module")
def clinic(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("clinic") / "clinic.db"
    assert run("--database", f"sqlite:///{path}", "db", "upgrade").returncode == 0
    return path


def one_line(result: subprocess.CompletedProcess[str]) -> str:
    assert "Traceback" not in result.stderr, result.stderr
    assert result.stderr.count("\n") == 1, result.stderr
    return result.stderr


@pytest.mark.parametrize(("args", "fragment"), [
    (("frobnicate",), "invalid choice"),
    (("report", "abc", "-o", "x.pdf"), "invalid int value"),
    (("report", "1"), "the following arguments are required: -o"),
    (("sessions", "--state", "sleeping"), "invalid choice"),
    (("sessions", "--limit", "many"), "invalid int value"),
    (("user",), "the following arguments are required"),
])
def test_wrong_arguments_show_usage(clinic: Path, args: tuple[str, ...], fragment: str) -> None:
    result = run("--database", f"sqlite:///{clinic}", *args)
    assert result.returncode == 2
    assert "usage: kapconsole" in result.stderr and fragment in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize(("args", "fragment"), [
    (("verify", "-5"), "there is no session -5"),
    (("verify", "123456789"), "there is no session 123456789"),
    (("sessions", "--limit", "0"), "--limit must be at least 1"),
    (("user", "passwd", "ghost", "--as", "nobody"), "error:"),
])
def test_unknown_things_are_one_line(clinic: Path, args: tuple[str, ...], fragment: str) -> None:
    result = run("--database", f"sqlite:///{clinic}", *args)
    assert result.returncode == 1 and fragment in one_line(result)


def test_databases_that_are_not_ours(tmp_path: Path) -> None:
    text_file = tmp_path / "notes.db"
    text_file.write_text("hello, this is not a database\n" * 100)
    folder = tmp_path / "a-folder"
    folder.mkdir()
    empty = tmp_path / "empty.db"
    empty.touch()
    cases = [
        (("--database", f"sqlite:///{text_file}", "sessions"), "file is not a database"),
        (("--database", f"sqlite:///{text_file}", "verify"), "file is not a database"),
        (("--database", f"sqlite:///{text_file}", "demo"), "file is not a database"),
        (("--database", f"sqlite:///{folder}", "sessions"), "database error"),
        (("--database", f"sqlite:///{empty}", "sessions"), "not a KAP Console database (it is empty)"),
        (("--database", "not a url", "sessions"), "not a database URL"),
        (("--database", "postgresql://nobody:x@127.0.0.1:1/none", "verify"), "cannot be reached"),
    ]
    for args, fragment in cases:
        result = run(*args)
        assert result.returncode == 1, (args, result.stderr)
        assert fragment in one_line(result), args
    assert text_file.read_text().startswith("hello")  # a foreign file is never changed


def test_report_to_an_impossible_path_is_one_line(tmp_path: Path) -> None:
    db = tmp_path / "demo.db"
    assert run("--database", f"sqlite:///{db}", "demo").returncode == 0
    target = tmp_path / "missing-folder" / "summary.pdf"
    result = run("--database", f"sqlite:///{db}", "report", "1", "-o", str(target))
    assert result.returncode == 1
    # The file the person asked for, not the temporary file written beside it first.
    assert one_line(result).strip() == f"kapconsole: error: {target}: No such file or directory"
