"""The integration summary: gather a session's report data, render it, write it owner-only; course overview."""

from __future__ import annotations

import errno
import os
import secrets
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

from sqlalchemy import select

from kapconsole.data import repositories as repo
from kapconsole.data.db import Database
from kapconsole.data.models import ClientRow, SessionRow, StaffRow
from kapconsole.domain import signing
from kapconsole.domain import validation as v
from kapconsole.domain.errors import DomainError, IntegrityFailure, NotFound
from kapconsole.domain.record import SessionRecord
from kapconsole.domain.rules import Action
from kapconsole.domain.values import Actor, VerifyProblem
from kapconsole.reports import assemble
from kapconsole.reports.data import DEFAULT_CLINIC_NAME, CourseSessionLine, ReportData
from kapconsole.reports.render import render_pdf
from kapconsole.services import keys
from kapconsole.services.base import Clock, ServiceBase, authorize, system_clock
from kapconsole.services.integrity import IntegrityService

CLINIC_NAME_KEY = "clinic_name"
ANCHOR_PREFIX = "kapconsole-anchor"


def integrity_summary(problems: Sequence[VerifyProblem], shown: int = 2) -> str:
    text = "; ".join(p.message for p in problems[:shown])
    more = len(problems) - shown
    return text + (f" (and {more} more)" if more > 0 else "")


def anchor_text(record: SessionRecord) -> str:
    """The signed chain head of ``record`` as one line (the current head, marked unsigned, for a draft)."""
    sig = record.signature
    info = record.info
    if sig is not None and isinstance(sig.payload.get("sig"), str):
        p = sig.payload
        return (f"{ANCHOR_PREFIX} session={info.id} seq={p.get('signed_seq')} head={p.get('signed_hash')} "
                f"sig={p.get('sig')}")
    return f"{ANCHOR_PREFIX} session={info.id} seq={info.entry_count} head={info.chain_head} unsigned"


def parse_anchor(text: str) -> dict[str, str] | None:
    """The fields of an anchor line found in ``text`` (None when there is none)."""
    at = text.find(ANCHOR_PREFIX)
    if at < 0:
        return None
    fields: dict[str, str] = {}
    for part in text[at + len(ANCHOR_PREFIX):].split():
        key, sep, value = part.partition("=")
        if not sep:
            if part == "unsigned":
                fields["unsigned"] = "1"
                continue
            break
        fields[key] = value.strip(",;")
    return fields if {"session", "seq", "head"} <= fields.keys() else None


class ReportService(ServiceBase):
    def __init__(self, db: Database, clock: Clock = system_clock) -> None:
        super().__init__(db, clock)

    def build(self, actor: Actor | None, session_id: int, *, allow_integrity_failure: bool = False) -> ReportData:
        """Everything the summary of ``session_id`` shows. ``actor`` None is for the trusted command line.

        The record is verified first. A record that fails is refused (:class:`IntegrityFailure` naming the
        problem) unless ``allow_integrity_failure``, for a clinician who must still read it: then the summary
        carries an INTEGRITY FAILURE banner on every page and no signature block.
        """
        with self.db.read() as s:
            if actor is not None:
                authorize(s, actor, Action.EXPORT_REPORT)
            record = repo.load_record(s, session_id)
            clinic = (repo.get_setting(s, CLINIC_NAME_KEY) or "").strip() or DEFAULT_CLINIC_NAME
            directory = {m.id: m for m in map(repo.staff_value, s.scalars(select(StaffRow)))}
            course: list[SessionRecord] = []
            if record.info.course_id is not None:
                ids = s.scalars(select(SessionRow.id).where(SessionRow.course_id == record.info.course_id,
                                                            SessionRow.id != session_id)).all()
                course = [repo.load_record(s, sid) for sid in ids]
            root = keys.database_root(s)
        result = IntegrityService(self.db, self._clock).verify(session_id)
        failure = ""
        if not result.ok:
            failure = integrity_summary(result.problems)
            if not allow_integrity_failure:
                raise IntegrityFailure(f"session {session_id} failed verification: {failure}")
        data = assemble.report_data(record, clinic_name=clinic, now=self.now(),
                                    printed_by=actor.name if actor is not None else "command line",
                                    directory=directory, course=course)
        return replace(data, integrity_failure=failure, anchor=anchor_text(record),
                       root_fingerprint=signing.fingerprint(root) if root else "")

    def pdf(self, actor: Actor | None, session_id: int, *, password: str | None = None,
            allow_integrity_failure: bool = False) -> bytes:
        """The summary as PDF bytes (encrypted when ``password`` is given). The export is audited."""
        password = v.pdf_password(password)
        data = self.build(actor, session_id, allow_integrity_failure=allow_integrity_failure)
        content = render_pdf(data, password=password)
        self._audit(actor, session_id, "report_exported",
                    ("draft" if data.draft else "signed") + (", password protected" if password else "")
                    + (", INTEGRITY FAILURE" if data.integrity_failure else ""))
        return content

    def write(self, actor: Actor | None, session_id: int, path: str | os.PathLike[str], *,
              password: str | None = None, force: bool = False, allow_integrity_failure: bool = False) -> Path:
        """Write the summary to ``path``, readable by its owner only; returns the path written.

        An existing file is kept unless ``force``. The content goes first to a new temporary file in the target
        folder (created exclusively, never through a symlink), then replaces the target in one step; nothing
        is left behind when writing fails (a full disk, say).
        """
        target = Path(path)
        if target.is_dir():
            # A folder: the summary goes inside it under a name of its own.
            target = target / f"kap-session-{session_id}-summary.pdf"
        if not force and (target.exists() or target.is_symlink()):
            raise FileExistsError(errno.EEXIST, "the file exists (use --force to replace it)", str(target))
        content = self.pdf(actor, session_id, password=password, allow_integrity_failure=allow_integrity_failure)
        flags = os.O_CREAT | os.O_EXCL | os.O_WRONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0)
        temp = target.with_name(f".{target.name}.{secrets.token_hex(8)}.tmp")
        # The file holds health information: owner-only from the first byte.
        try:
            fd = os.open(temp, flags, 0o600)
        except OSError as exc:
            # Name the file the person asked for, not the temporary one beside it.
            raise OSError(exc.errno, exc.strerror, str(target)) from None
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(content)
                fh.flush()
                os.fsync(fh.fileno())
            if not force and (target.exists() or target.is_symlink()):
                raise FileExistsError(errno.EEXIST, "the file exists (use --force to replace it)", str(target))
            os.replace(temp, target)
        except OSError as exc:
            temp.unlink(missing_ok=True)
            raise OSError(exc.errno, exc.strerror, str(target)) from None
        except BaseException:
            temp.unlink(missing_ok=True)
            raise
        return target

    def course_overview(self, actor: Actor | None, client_id: int) -> list[CourseSessionLine]:
        """Per session of the client (oldest first): date, state, doses, peaks, side effects, integration items."""
        with self.db.read() as s:
            if actor is not None:
                authorize(s, actor, Action.VIEW_RECORD)
            if repo.get_by_id(s, ClientRow, client_id) is None:
                raise NotFound(f"there is no client {client_id}")
            ids = s.scalars(select(SessionRow.id).where(SessionRow.client_id == client_id)
                            .order_by(SessionRow.scheduled_at, SessionRow.id)).all()
            records = [repo.load_record(s, sid) for sid in ids]
        return [assemble.course_line(r) for r in records]

    def _audit(self, actor: Actor | None, session_id: int, action: str, detail: str) -> None:
        with self.db.write() as s:
            repo.add_audit(s, at=self.now(), action=action, actor=actor,
                           actor_name="" if actor else "command line", session_id=session_id, detail=detail)


def anchor_from_pdf(path: str | os.PathLike[str]) -> dict[str, str]:
    """The anchor a summary PDF carries (its keywords, else its text)."""
    from pypdf import PdfReader
    from pypdf.errors import PdfReadError

    try:
        reader = PdfReader(str(path))
        if reader.is_encrypted:
            raise DomainError(f"{path}: the summary is password protected; check an unprotected copy")
        metadata = reader.metadata
        keywords = str(metadata.get("/Keywords", "") or "") if metadata is not None else ""
        found = parse_anchor(keywords)
        if found is None:
            for page in reversed(reader.pages):
                found = parse_anchor(" ".join((page.extract_text() or "").split()))
                if found is not None:
                    break
    except (PdfReadError, ValueError, KeyError) as exc:
        raise DomainError(f"{path}: not a readable PDF ({type(exc).__name__})") from None
    if found is None:
        raise DomainError(f"{path}: no record anchor found (a summary printed by an older version?)")
    return found
