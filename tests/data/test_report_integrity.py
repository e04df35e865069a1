"""Every read of a session checks its chain: a failing record is refused or printed with an INTEGRITY FAILURE
banner; summaries carry the signed chain head; ``verify --against`` checks a summary against the database;
``report -o`` never replaces a file unasked and never writes through a planted symlink."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from pypdf import PdfReader
from sqlalchemy import Connection

from kapconsole.cli import main
from kapconsole.domain.errors import IntegrityFailure
from kapconsole.domain.values import Actor
from kapconsole.services import Services
from kapconsole.services.reports import anchor_from_pdf
from tests.conftest import FakeClock
from tests.data.test_tampering import _entry, _set_payload, _tamper, rehash, signed_session


def _text(path: Path) -> list[str]:
    return [" ".join((p.extract_text() or "").split()) for p in PdfReader(str(path)).pages]


def _url(services: Services) -> str:
    return services.db.url.render_as_string(hide_password=False)


def _change_a_signed_reading(services: Services, sid: int) -> None:
    def edit(conn: Connection) -> None:
        reading = _entry(conn, sid, "vitals", 1)
        _set_payload(conn, reading["id"], lambda p: p.update(sbp=199))
        rehash(conn, sid)

    _tamper(services, edit)


def test_clean_summary_carries_the_signed_head_and_verifies_against_the_database(
        services: Services, staff: dict[str, Actor], clock: FakeClock, tmp_path: Path,
        capsys: pytest.CaptureFixture[str]) -> None:
    sid = signed_session(services, staff, clock)
    out = tmp_path / "summary.pdf"
    assert main(["--database", _url(services), "report", str(sid), "-o", str(out)]) == 0
    anchor = anchor_from_pdf(out)
    signature = services.records.record(staff["medical"], sid).signature
    assert signature is not None
    assert anchor["head"] == signature.payload["signed_hash"] and anchor["sig"] == signature.payload["sig"]
    keywords = str(PdfReader(str(out)).metadata["/Keywords"])
    assert f"kapconsole-anchor session={sid}" in keywords
    pages = _text(out)
    assert not any("INTEGRITY FAILURE" in p for p in pages)
    assert services.staff.root_fingerprint() in " ".join(pages)
    capsys.readouterr()
    assert main(["--database", _url(services), "verify", "--against", str(out)]) == 0
    assert capsys.readouterr().out.startswith("OK")
    # The record edited and every hash recomputed: the printed summary no longer matches it.
    _change_a_signed_reading(services, sid)
    assert main(["--database", _url(services), "verify", "--against", str(out)]) == 1
    assert "differs from the summary's anchor" in capsys.readouterr().out


def test_tampered_record_is_refused_or_printed_with_a_banner(services: Services, staff: dict[str, Actor],
                                                             clock: FakeClock, tmp_path: Path,
                                                             capsys: pytest.CaptureFixture[str]) -> None:
    sid = signed_session(services, staff, clock)
    _change_a_signed_reading(services, sid)
    with pytest.raises(IntegrityFailure, match="no longer matches the signature"):
        services.reports.pdf(staff["medical"], sid)
    folder = tmp_path / "out"
    folder.mkdir()
    out = folder / "summary.pdf"
    assert main(["--database", _url(services), "report", str(sid), "-o", str(out)]) == 1
    err = capsys.readouterr().err
    assert f"session {sid} failed verification" in err and "signature" in err
    assert not list(folder.iterdir())
    assert main(["--database", _url(services), "report", str(sid), "-o", str(out),
                 "--allow-integrity-failure"]) == 0
    pages = _text(out)
    assert len(pages) >= 2 and all("INTEGRITY FAILURE" in p for p in pages)
    assert not any("Printed name" in p for p in pages)  # no signature block


def test_report_refuses_an_existing_file_unless_forced(services: Services, staff: dict[str, Actor],
                                                       clock: FakeClock, tmp_path: Path,
                                                       capsys: pytest.CaptureFixture[str]) -> None:
    sid = signed_session(services, staff, clock)
    folder = tmp_path / "out"
    folder.mkdir()
    out = folder / "summary.pdf"
    out.write_bytes(b"keep me")
    assert main(["--database", _url(services), "report", str(sid), "-o", str(out)]) == 1
    assert "exists" in capsys.readouterr().err and out.read_bytes() == b"keep me"
    assert main(["--database", _url(services), "report", str(sid), "-o", str(out), "--force"]) == 0
    assert out.read_bytes().startswith(b"%PDF") and (out.stat().st_mode & 0o777) == 0o600
    assert sorted(p.name for p in folder.iterdir()) == ["summary.pdf"]  # no temporary file left


def test_report_never_writes_through_a_planted_symlink(services: Services, staff: dict[str, Actor],
                                                       clock: FakeClock, tmp_path: Path) -> None:
    sid = signed_session(services, staff, clock)
    victim = tmp_path / "victim.txt"
    victim.write_text("untouched")
    link = tmp_path / "summary.pdf"
    link.symlink_to(victim)
    assert main(["--database", _url(services), "report", str(sid), "-o", str(link)]) == 1
    assert victim.read_text() == "untouched"
    # Forced, the link itself is replaced by the summary; what it pointed at is never written.
    assert main(["--database", _url(services), "report", str(sid), "-o", str(link), "--force"]) == 0
    assert victim.read_text() == "untouched" and not link.is_symlink()
    assert PdfReader(io.BytesIO(link.read_bytes())).pages
