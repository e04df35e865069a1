"""Verify the record: every session's hash chain from its header, its digital signatures and what they mean,
the clinic-wide chain of session events, the audit trail's chain, and the keys behind every signature."""

from __future__ import annotations

import contextlib
import json
from collections import defaultdict
from collections.abc import Mapping
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, object_session

from kapconsole.data import repositories as repo
from kapconsole.data.models import (
    AuditRow,
    ChainHeadRow,
    ClientVersionRow,
    ClinicEventRow,
    EntryRow,
    SessionRow,
    SigningKeyRow,
    StaffRow,
)
from kapconsole.domain import signing
from kapconsole.domain.enums import EntryKind
from kapconsole.domain.errors import DomainError, NotFound
from kapconsole.domain.integrity import (
    GENESIS,
    canonical_payload,
    entry_hash,
    header_hash,
    link_hash,
    timestamp,
)
from kapconsole.domain.values import VerifyProblem, VerifyResult
from kapconsole.services import clinic_keys, keys
from kapconsole.services.base import ServiceBase, valid_id

CLOSED = ("discharged", "ended_early")
#: Kinds that must carry their signer's digital signature (in sessions planned since signatures existed).
SIGNED_KINDS = {EntryKind.SIGNATURE.value: "discharge", EntryKind.OVERRIDE.value: "override"}
MAX_REGISTRATION_DEPTH = 32


#: Entries a closed session may still take: amendments, and the esketamine REMS answers (the monitoring form of a
#: session ended early after a device is completed after it closed, with the rights of an amendment).
AFTER_CLOSING = frozenset({EntryKind.AMENDMENT.value, EntryKind.REMS_ANSWERS.value})

class IntegrityService(ServiceBase):
    def verify(self, session_id: int | None = None) -> VerifyResult:
        """Check one session (with the clinic-wide chain) or, without ``session_id``, everything."""
        if session_id is not None and not valid_id(session_id):
            raise NotFound(f"there is no session {session_id}")
        problems: list[VerifyProblem] = []
        sessions = entries = 0
        with self.db.read() as s:
            stmt = select(SessionRow).order_by(SessionRow.id)
            if session_id is not None:
                stmt = stmt.where(SessionRow.id == session_id)
            rows = s.scalars(stmt).unique().all()
            if session_id is not None and not rows:
                raise NotFound(f"there is no session {session_id}")
            checker = _Checker(s)
            problems += checker.clinic_chain(only=session_id)
            for row in rows:
                sessions += 1
                found = s.scalars(select(EntryRow).where(EntryRow.session_id == row.id).order_by(EntryRow.seq)).all()
                entries += len(found)
                problems += checker.session(row, list(found))
            if session_id is None:
                problems += checker.audit_chain()
                problems += checker.root_key()
        return VerifyResult(sessions, entries, tuple(problems))

    def verify_against(self, anchor: Mapping[str, str]) -> VerifyResult:
        """Check the record against an anchor taken from a printed or exported summary (or the anchor file).

        The session must still have, at the anchored sequence number, the chain head the summary printed (as
        recomputed from its header, not as stored), and a signed anchor's signature must be the one recorded.
        """
        try:
            sid, seq = int(anchor["session"]), int(anchor["seq"])
        except (KeyError, ValueError):
            raise DomainError("the anchor names no session and sequence number") from None
        result = self.verify(sid)
        problems = list(result.problems)
        with self.db.read() as s:
            row = s.get(SessionRow, sid)
            assert row is not None
            rows = list(s.scalars(select(EntryRow).where(EntryRow.session_id == sid).order_by(EntryRow.seq)))
        true_chain, _ = _check_chain(sid, row.genesis, row.chain_head, row.entry_count, rows)
        if true_chain.get(seq) != anchor.get("head"):
            problems.append(_problem(sid, f"the record up to #{seq} differs from the summary's anchor "
                                          f"({str(anchor.get('head'))[:16]}…)"))
        if "sig" in anchor:
            recorded = [_payload(r).get("sig") for r in rows if r.kind == EntryKind.SIGNATURE.value]
            if anchor["sig"] not in recorded:
                problems.append(_problem(sid, "the signature printed on the summary is not in the record"))
        return VerifyResult(result.sessions_checked, result.entries_checked, tuple(problems))


def _client_history(row: SessionRow) -> dict[str, list[Any]]:
    """Every value each header field of the session's client has had, from the client's version history."""
    session = object_session(row)
    if session is None:
        return {}
    out: dict[str, list[Any]] = defaultdict(list)
    for changes in session.scalars(select(ClientVersionRow.changes).where(ClientVersionRow.client_id == row.client_id)):
        with contextlib.suppress(ValueError, TypeError, AttributeError):
            for field, pair in json.loads(changes).items():
                out[field].extend(pair)
    return out


def _problem(sid: int, message: str, row: EntryRow | None = None) -> VerifyProblem:
    return VerifyProblem(sid, row.id if row else None, row.seq if row else None, message)


class _Checker:
    def __init__(self, s: Session) -> None:
        self.s = s
        self.events: dict[int, list[ClinicEventRow]] = defaultdict(list)
        self.clinic_hashes: dict[int, str] = {0: GENESIS}
        self._keys: dict[str, SigningKeyRow] | None = None
        self._registered: dict[str, bool] = {}
        self.root = keys.database_root(s)

    # ----- the clinic-wide chain --------------------------------------------------------------------------
    def clinic_chain(self, *, only: int | None) -> list[VerifyProblem]:
        problems: list[VerifyProblem] = []
        prev, count = GENESIS, 0
        for ev in self.s.scalars(select(ClinicEventRow).order_by(ClinicEventRow.seq)):
            count += 1
            try:
                detail = json.loads(ev.detail)
            except ValueError:
                detail = {}
            fields = repo.clinic_event_fields(ev.seq, ev.at, ev.kind, ev.session_id, detail)
            digest = link_hash(ev.prev_hash, fields)
            sid = ev.session_id or 0
            if ev.seq != count:
                problems.append(_problem(sid, f"clinic chain: event #{ev.seq} out of sequence (expected #{count})"))
            if digest != ev.hash or canonical_payload(detail) != ev.detail:
                problems.append(_problem(sid, f"clinic chain: event #{ev.seq} does not match its hash"))
            if ev.prev_hash != prev:
                problems.append(_problem(sid, f"clinic chain: link broken at event #{ev.seq}"))
            prev = ev.hash
            self.clinic_hashes[ev.seq] = ev.hash
            if ev.session_id is not None:
                self.events[ev.session_id].append(ev)
        heads = self.s.get(ChainHeadRow, repo.CHAIN_ROW)
        if heads is not None and (heads.clinic_head != prev or heads.clinic_count != count):
            problems.append(_problem(0, "clinic chain: its head does not match (events removed or added)"))
        # Sessions named in the chain that are gone: deleted behind the application's back.
        existing = set(self.s.scalars(select(SessionRow.id)))
        for sid in sorted(self.events):
            if sid not in existing and (only is None or only == sid):
                problems.append(_problem(sid, f"session {sid} is in the clinic chain but missing from the database"))
        return problems

    # ----- one session ------------------------------------------------------------------------------------
    def session(self, row: SessionRow, rows: list[EntryRow]) -> list[VerifyProblem]:
        sid = row.id
        events = self.events.get(sid, [])
        legacy = bool(events) and events[0].kind == "recorded_at_upgrade"
        problems = self._header(row, events, legacy)
        true_chain, chain_problems = _check_chain(sid, row.genesis, row.chain_head, row.entry_count, rows)
        problems += chain_problems
        problems += _check_state(sid, row.state, rows)
        problems += _check_times(row, rows)
        problems += self._references(sid, rows)
        problems += self._meaning(row, rows, true_chain, legacy)
        problems += self._events(row, rows, events, true_chain)
        return problems

    def _header(self, row: SessionRow, events: list[ClinicEventRow], legacy: bool) -> list[VerifyProblem]:
        sid = row.id
        if row.header_json is None:
            return [_problem(sid, "the session's clinical header was never recorded")]
        problems: list[VerifyProblem] = []
        try:
            recorded = json.loads(row.header_json)
        except ValueError:
            return [_problem(sid, "the session's recorded header is not valid JSON")]
        now = repo.header_of(row)
        changed = sorted(k for k in set(recorded) | set(now) if recorded.get(k) != now.get(k))
        if "client" in changed:
            changed.remove("client")
            client_now, client_then = now.get("client") or {}, recorded.get("client") or {}
            history = _client_history(row)
            changed += [f"client {k}" for k in sorted(set(client_now) | set(client_then))
                        if client_now.get(k) != client_then.get(k)
                        # A client's details may be corrected at the front desk: a value the client's version
                        # history shows they had is explained, not a change behind the application's back.
                        and not (client_then.get(k) in history.get(k, ()) and client_now.get(k) in history.get(k, ()))]
        if changed:
            problems.append(_problem(sid, "changed since the session was planned: " + ", ".join(changed)))
        digest = header_hash(row.header_json)
        if not legacy and row.genesis != digest:
            problems.append(_problem(sid, "the chain does not start from the session's header"))
        first = events[0] if events else None
        # Before it begins, a planned session may be moved or its client's details corrected: the front desk
        # records the new header as a "replanned" event; the latest one is the header in force.
        replanned = [e for e in events if e.kind == "replanned"]
        if replanned:
            first = replanned[-1]
        if first is None:
            problems.append(_problem(sid, f"session {sid} is not in the clinic chain"))
        else:
            with contextlib.suppress(ValueError):
                if json.loads(first.detail).get("header") != digest:
                    problems.append(_problem(sid, "the session's header differs from the one in the clinic chain"))
        return problems

    def _references(self, sid: int, rows: list[EntryRow]) -> list[VerifyProblem]:
        problems: list[VerifyProblem] = []
        seq_of = {r.id: r.seq for r in rows}
        for r in rows:
            payload = _payload(r)
            pairs: list[tuple[object, object]] = []
            if r.amends_id is not None:
                pairs.append((r.amends_id, payload.get("amends_seq")))
            for field, seq_field in repo.REFERENCE_FIELDS.items():
                if field in payload:
                    pairs.append((payload[field], payload.get(seq_field)))
            for ref_id, ref_seq in pairs:
                if ref_id not in seq_of:
                    problems.append(_problem(sid, f"entry #{r.seq} refers to an entry that is not in this session", r))
                elif ref_seq is not None and seq_of[ref_id] != ref_seq:  # type: ignore[index]
                    problems.append(_problem(sid, f"entry #{r.seq} refers to #{ref_seq} but its reference now points "
                                                  f"at #{seq_of[ref_id]}", r))  # type: ignore[index]
        return problems

    def _meaning(self, row: SessionRow, rows: list[EntryRow], true_chain: dict[int, str],
                 legacy: bool) -> list[VerifyProblem]:
        sid = row.id
        problems: list[VerifyProblem] = []
        signed_discharge: int | None = None
        closed_at: int | None = None
        for r in rows:
            payload = _payload(r)
            purpose = SIGNED_KINDS.get(r.kind)
            # A physician's attestation of a session ended early after a dose comes after the close; it is chained
            # and re-authenticated but not digitally signed (yet).
            attestation = r.kind == EntryKind.SIGNATURE.value and "disposition" in payload
            if attestation and closed_at is not None:
                continue
            if purpose is not None:
                if "sig" in payload or not legacy:
                    problems += self._signature(row, r, payload, purpose, true_chain)
                if r.kind == EntryKind.SIGNATURE.value:
                    signed_discharge = r.seq
            if r.kind == EntryKind.STATE.value and payload.get("to") in CLOSED and closed_at is None:
                closed_at = r.seq
                if payload.get("to") == "discharged" and (signed_discharge is None or signed_discharge != r.seq - 1):
                    problems.append(_problem(sid, "discharged without a signature over the record it closed", r))
            elif closed_at is not None and r.kind not in AFTER_CLOSING:
                problems.append(_problem(sid, f"entry #{r.seq} ({r.kind}) was added after the session closed and "
                                              "is not an amendment", r))
        if row.state == "discharged" and signed_discharge is None:
            problems.append(_problem(sid, "the session is discharged but carries no discharge signature"))
        return problems

    def _signature(self, row: SessionRow, r: EntryRow, payload: Mapping[str, Any], purpose: str,
                   true_chain: dict[int, str]) -> list[VerifyProblem]:
        sid = row.id
        where = f"{r.kind} #{r.seq}"
        if not signing.check_signed(payload):
            return [_problem(sid, f"{where}: no valid digital signature", r)]
        problems: list[VerifyProblem] = []
        if payload.get("purpose") != purpose or payload.get("session") != sid:
            problems.append(_problem(sid, f"{where}: the signature was made for something else", r))
        if payload.get("signer") != r.author_id:
            problems.append(_problem(sid, f"{where}: signed by someone other than its author", r))
        if payload.get("signed_seq") != r.seq - 1 or true_chain.get(r.seq - 1) != payload.get("signed_hash"):
            problems.append(_problem(sid, f"{where}: the signed record no longer matches the signature", r))
        if row.header_json is not None and payload.get("header_hash") != header_hash(row.header_json):
            problems.append(_problem(sid, f"{where}: the session header differs from the one signed", r))
        clinic_seq = payload.get("clinic_seq")
        if isinstance(clinic_seq, int) and self.clinic_hashes.get(clinic_seq) != payload.get("clinic_head"):
            problems.append(_problem(sid, f"{where}: the clinic chain before the signature was changed", r))
        problems += self._key(sid, r, payload, where)
        return problems

    def _key(self, sid: int, r: EntryRow, payload: Mapping[str, Any], where: str) -> list[VerifyProblem]:
        key = self._all_keys().get(str(payload.get("key")))
        if key is None:
            return [_problem(sid, f"{where}: signed with a key that is not registered", r)]
        problems: list[VerifyProblem] = []
        if key.staff_id != payload.get("signer"):
            problems.append(_problem(sid, f"{where}: the signing key belongs to someone else", r))
        person = self.s.get(StaffRow, key.staff_id)
        if person is None or (person.login, person.name) != (payload.get("signer_login"), payload.get("signer_name")):
            problems.append(_problem(sid, f"{where}: the signer's name or login differs from the one signed", r))
        if r.entered_at < key.valid_from or (key.valid_until is not None and r.entered_at > key.valid_until):
            problems.append(_problem(sid, f"{where}: signed outside the key's validity", r))
        if not self._registered_ok(key.public_key, 0):
            problems.append(_problem(sid, f"{where}: the signing key's registration does not lead back to the "
                                          "clinic root key", r))
        return problems

    def _all_keys(self) -> dict[str, SigningKeyRow]:
        if self._keys is None:
            self._keys = {k.public_key: k for k in self.s.scalars(select(SigningKeyRow))}
        return self._keys

    def _registered_ok(self, public_key: str, depth: int) -> bool:
        if public_key in self._registered:
            return self._registered[public_key]
        self._registered[public_key] = False  # guards against cycles
        key = self._all_keys().get(public_key)
        ok = False
        if key is not None and depth < MAX_REGISTRATION_DEPTH:
            try:
                statement = json.loads(key.registration)
            except ValueError:
                statement = {}
            registrar = statement.get("registrar")
            ok = (signing.check_signed(statement) and statement.get("key") == registrar
                  and statement.get("type") == "key_registration" and statement.get("public_key") == public_key
                  and statement.get("staff") == key.staff_id
                  and statement.get("valid_from") == timestamp(key.valid_from)
                  and (registrar == self.root or (isinstance(registrar, str) and registrar != public_key
                                                  and self._registered_ok(registrar, depth + 1))))
        self._registered[public_key] = ok
        return ok

    def _events(self, row: SessionRow, rows: list[EntryRow], events: list[ClinicEventRow],
                true_chain: dict[int, str]) -> list[VerifyProblem]:
        """The clinic chain's record of this session's state changes and signatures must match its entries."""
        sid = row.id
        problems: list[VerifyProblem] = []
        by_seq = {r.seq: r for r in rows}
        expected_state = None
        for ev in events:
            detail = json.loads(ev.detail) if ev.detail.startswith("{") else {}
            if ev.kind == "recorded_at_upgrade":
                expected_state = detail.get("state")
                recorded = by_seq.get(detail.get("entries", 0))
                head = recorded.hash if recorded is not None else row.genesis if detail.get("entries") == 0 else None
                if head != detail.get("head"):
                    problems.append(_problem(sid, "entries recorded at the database upgrade are missing or changed"))
                continue
            if ev.kind in ("planned", "replanned"):
                expected_state = "planned"
                continue
            entry = by_seq.get(detail.get("seq", -1))
            # Stored hashes, not recomputed ones: an edit that kept them is named at the entry itself.
            if entry is None or entry.hash != detail.get("entry_hash"):
                problems.append(_problem(sid, f"the clinic chain records {ev.kind} #{detail.get('seq')} of session "
                                              f"{sid}, which is missing or changed"))
            if ev.kind == "state":
                expected_state = detail.get("to")
        if expected_state is not None and row.state != expected_state:
            problems.append(_problem(sid, f"state '{row.state}' differs from the clinic chain ('{expected_state}')"))
        return problems

    # ----- the audit trail --------------------------------------------------------------------------------
    def audit_chain(self) -> list[VerifyProblem]:
        problems: list[VerifyProblem] = []
        prev, count = GENESIS, 0
        for a in self.s.scalars(select(AuditRow).where(AuditRow.hash.is_not(None)).order_by(AuditRow.id)):
            count += 1
            fields = repo.audit_fields(count, a.at, a.actor_id, a.actor_name, a.workstation, a.action, a.session_id,
                                       a.detail)
            if a.prev_hash != prev:
                problems.append(_problem(a.session_id or 0, f"audit trail: link broken at event {a.id}"))
            if link_hash(a.prev_hash or "", fields) != a.hash:
                problems.append(_problem(a.session_id or 0, f"audit trail: event {a.id} does not match its hash"))
            prev = a.hash or ""
        heads = self.s.get(ChainHeadRow, repo.CHAIN_ROW)
        if heads is not None and (heads.audit_head != prev or heads.audit_count != count):
            problems.append(_problem(0, "audit trail: its head does not match (events removed or added)"))
        return problems

    def root_key(self) -> list[VerifyProblem]:
        try:
            root = clinic_keys.load_root()
        except DomainError as exc:
            return [_problem(0, str(exc))]
        if root is not None and self.root is not None and root.public_key != self.root:
            return [_problem(0, "the clinic root key recorded in the database is not this clinic's "
                                f"(configuration fingerprint {root.fingerprint})")]
        return []


def _payload(row: EntryRow) -> dict[str, Any]:
    try:
        value = json.loads(row.payload)
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def _check_chain(sid: int, genesis: str, head: str, count: int,
                 rows: list[EntryRow]) -> tuple[dict[int, str], list[VerifyProblem]]:
    problems: list[VerifyProblem] = []
    prev = genesis
    # The chain as it should be, recomputed from the genesis: signatures are checked against it, so a change
    # anywhere before the signed point breaks the signature even if stored hashes were rewritten.
    true_prev = genesis
    true_chain: dict[int, str] = {0: genesis}
    for expected_seq, row in enumerate(rows, start=1):
        where = f"entry {row.id} (#{row.seq}, {row.kind})"
        if row.seq != expected_seq:
            problems.append(_problem(sid, f"{where}: sequence gap, expected #{expected_seq}", row))
        try:
            canonical = canonical_payload(json.loads(row.payload))
        except (ValueError, TypeError):
            problems.append(_problem(sid, f"{where}: payload is not valid JSON", row))
            prev = row.hash
            continue
        fields = dict(session_id=row.session_id, seq=row.seq, kind=row.kind, observed_at=row.observed_at,
                      entered_at=row.entered_at, author_id=row.author_id, workstation=row.workstation,
                      amends_id=row.amends_id, payload_text=row.payload)
        digest = entry_hash(**fields, prev_hash=row.prev_hash)  # type: ignore[arg-type]
        true_prev = entry_hash(**fields, prev_hash=true_prev)  # type: ignore[arg-type]
        true_chain[row.seq] = true_prev
        if canonical != row.payload or digest != row.hash:
            problems.append(_problem(sid, f"{where}: content does not match its hash", row))
        if row.prev_hash != prev:
            problems.append(_problem(sid, f"{where}: chain link broken", row))
        if row.kind == EntryKind.SIGNATURE.value and "sig" not in row.payload:
            # A signature from before digital signatures: it names the head it covered.
            payload = _payload(row)
            if true_chain.get(payload.get("signed_seq", -1)) != payload.get("signed_hash"):
                problems.append(_problem(sid, f"{where}: the signed record no longer matches the signature", row))
        prev = row.hash
    if len(rows) != count or prev != head:
        problems.append(_problem(sid, "chain head does not match (entries missing or added)"))
    return true_chain, problems


def _check_state(sid: int, state: str, rows: list[EntryRow]) -> list[VerifyProblem]:
    """The session's state must be the one its last recorded transition moved it to."""
    expected = "planned"
    for row in rows:
        if row.kind == EntryKind.STATE.value:
            expected = _payload(row).get("to", expected)
    if state != expected:
        return [_problem(sid, f"state '{state}' does not match the record ('{expected}')")]
    return []


def _check_times(row: SessionRow, rows: list[EntryRow]) -> list[VerifyProblem]:
    """Start and end times are the clinical times of the transitions that started and closed the session."""
    started = ended = None
    for r in rows:
        if r.kind == EntryKind.STATE.value:
            to = _payload(r).get("to")
            if to == "checklist" and started is None:
                started = r.observed_at
            if to in CLOSED and ended is None:
                ended = r.observed_at
    problems = []
    if row.started_at != started:
        problems.append(_problem(row.id, "the session's start time differs from the record"))
    if ended is not None and row.ended_at != ended:
        problems.append(_problem(row.id, "the session's end time differs from the record"))
    return problems
