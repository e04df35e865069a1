"""The REMS commands run as a user would, on the demo clinic (a SQLite file)."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from pypdf import PdfReader

from tests.data.test_cli import run


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> str:
    path = tmp_path_factory.mktemp("rems-demo") / "clinic.db"
    result = run("--database", f"sqlite:///{path}", "demo")
    assert result.returncode == 0, result.stderr
    return f"sqlite:///{path}"


def test_rems_due_lists_the_demo_forms_due_and_overdue(demo: str) -> None:
    due = run("--database", demo, "rems", "due")
    assert due.returncode == 0, due.stderr
    lines = [line.split("\t") for line in due.stdout.splitlines()]
    assert [line[3] for line in lines] == ["overdue", "due"]
    assert all("Nadia Petrova" in line[5] for line in lines)
    every = run("--database", demo, "rems", "due", "--all")
    statuses = [line.split("\t")[3] for line in every.stdout.splitlines()]
    assert statuses == ["filed", "overdue", "due"]
    assert "REMS website" in every.stdout.splitlines()[0]


def test_rems_form_writes_the_form_and_refuses_a_ketamine_session(demo: str, tmp_path: Path) -> None:
    sid = run("--database", demo, "rems", "due").stdout.split("\t")[0]
    out = tmp_path / "form.pdf"
    result = run("--database", demo, "rems-form", sid, "-o", str(out))
    assert result.returncode == 0, result.stderr
    assert "incomplete" not in result.stdout
    text = " ".join(" ".join(p.extract_text() or "" for p in PdfReader(io.BytesIO(out.read_bytes())).pages).split())
    assert "SPR-P-4471902" in text and "SPR-HCS-0019274" in text and "84 mg" in text and "3 of 3 planned" in text
    ketamine = run("--database", demo, "rems-form", "3", "-o", str(tmp_path / "k.pdf"))
    assert ketamine.returncode == 1 and "an esketamine (intranasal) session" in ketamine.stderr


def test_rems_setting_shows_the_demo_details(demo: str) -> None:
    shown = run("--database", demo, "rems", "setting")
    assert "certification\tSPR-HCS-0019274" in shown.stdout
