"""Edits made behind the application's back, as someone with write access to the database would make them,
recomputing every public hash afterwards. Each must be named by ``verify``."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import Connection, text

from kapconsole.domain.integrity import GENESIS, canonical_payload, entry_hash, header_hash, link_hash
from kapconsole.domain.values import Actor
from kapconsole.services import Services
from kapconsole.services.integrity import IntegrityService
from tests.conftest import PASSWORD, FakeClock
from tests.data.helpers import BASELINE, PARTS_OK, PERSON_OK, dosed, ready_for_discharge


def signed_session(services: Services, staff: dict[str, Actor], clock: FakeClock, identifier: str = "KAP-1") -> int:
    sid = ready_for_discharge(services, staff, clock, identifier=identifier)
    services.records.record_side_effect(staff["medical"], sid, "nausea", "mild", intervention="ginger")
    effect = services.records.record(staff["medical"], sid).side_effects[-1]
    services.records.resolve_side_effect(staff["medical"], sid, effect.id, note="settled")
    clock.advance(minutes=2)
    services.discharge.assess(staff["supervisor"], sid, confirmations=PERSON_OK, score_parts=PARTS_OK)
    head = services.records.record(staff["medical"], sid).info.chain_head
    services.discharge.sign(staff["supervisor"], sid, password=PASSWORD, seen_chain_head=head)
    return sid


def rehash(conn: Connection, sid: int) -> None:
    """The attacker's tool: recompute every entry hash of a session from its genesis and fix the head."""
    genesis = conn.execute(text("SELECT genesis FROM clinical_sessions WHERE id = :s"), {"s": sid}).scalar_one()
    rows = conn.execute(text("SELECT * FROM entries WHERE session_id = :s ORDER BY seq"), {"s": sid}).mappings().all()
    prev = genesis
    for seq, r in enumerate(rows, start=1):
        digest = entry_hash(session_id=sid, seq=seq, kind=r["kind"], observed_at=_aware(r["observed_at"]),
                            entered_at=_aware(r["entered_at"]), author_id=r["author_id"],
                            workstation=r["workstation"], amends_id=r["amends_id"], payload_text=r["payload"],
                            prev_hash=prev)
        conn.execute(text("UPDATE entries SET seq = :q, prev_hash = :p, hash = :h WHERE id = :i"),
                     {"q": seq, "p": prev, "h": digest, "i": r["id"]})
        prev = digest
    conn.execute(text("UPDATE clinical_sessions SET chain_head = :h, entry_count = :n WHERE id = :s"),
                 {"h": prev, "n": len(rows), "s": sid})


def rehash_clinic_chain(conn: Connection) -> None:
    """Recompute the clinic-wide chain too (its hashes are public SHA-256), and its head."""
    from kapconsole.data.repositories import clinic_event_fields

    prev = GENESIS
    events = conn.execute(text("SELECT * FROM clinic_chain ORDER BY seq")).mappings().all()
    for n, ev in enumerate(events, start=1):
        fields = clinic_event_fields(n, _aware(ev["at"]), ev["kind"], ev["session_id"], json.loads(ev["detail"]))
        digest = link_hash(prev, fields)
        conn.execute(text("UPDATE clinic_chain SET seq = :n, prev_hash = :p, hash = :h WHERE seq = :o"),
                     {"n": -n, "p": prev, "h": digest, "o": ev["seq"]})
        prev = digest
    conn.execute(text("UPDATE clinic_chain SET seq = -seq"))
    conn.execute(text("UPDATE chain_heads SET clinic_head = :h, clinic_count = :n"), {"h": prev, "n": len(events)})


def _aware(value: Any) -> Any:
    from datetime import UTC, datetime

    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value


def _entry(conn: Connection, sid: int, kind: str, index: int = -1) -> dict[str, Any]:
    rows = conn.execute(text("SELECT * FROM entries WHERE session_id = :s AND kind = :k ORDER BY seq"),
                        {"s": sid, "k": kind}).mappings().all()
    return dict(rows[index])


def _set_payload(conn: Connection, entry_id: int, change: Callable[[dict[str, Any]], None]) -> None:
    payload = json.loads(conn.execute(text("SELECT payload FROM entries WHERE id = :i"), {"i": entry_id}).scalar_one())
    change(payload)
    conn.execute(text("UPDATE entries SET payload = :p WHERE id = :i"), {"p": canonical_payload(payload), "i": entry_id})


def _messages(services: Services, sid: int | None = None) -> str:
    result = services.integrity.verify(sid)
    assert not result.ok
    return "\n".join(p.message for p in result.problems)


def _tamper(services: Services, edit: Callable[[Connection], None]) -> None:
    with services.db.engine.begin() as conn:
        if services.db.is_sqlite:
            conn.exec_driver_sql("PRAGMA foreign_keys=OFF")
        edit(conn)


# ----- edits to a signed record, every hash recomputed ----------------------------------------------------------
def test_signed_vitals_value_changed_and_rehashed(services: Services, staff: dict[str, Actor], clock: FakeClock) -> None:
    sid = signed_session(services, staff, clock)
    assert services.integrity.verify().ok

    def edit(conn: Connection) -> None:
        reading = _entry(conn, sid, "vitals", 1)
        _set_payload(conn, reading["id"], lambda p: p.update(sbp=188))
        rehash(conn, sid)

    _tamper(services, edit)
    assert "the signed record no longer matches the signature" in _messages(services, sid)


def test_signed_side_effect_deleted_and_rehashed(services: Services, staff: dict[str, Actor], clock: FakeClock) -> None:
    sid = signed_session(services, staff, clock)

    def edit(conn: Connection) -> None:
        effect = _entry(conn, sid, "side_effect")
        resolution = _entry(conn, sid, "side_effect_resolved")
        conn.execute(text("DELETE FROM entries WHERE id IN (:a, :b)"), {"a": effect["id"], "b": resolution["id"]})
        rehash(conn, sid)

    _tamper(services, edit)
    assert "the signed record no longer matches the signature" in _messages(services, sid)


def test_forged_entry_after_the_signature(services: Services, staff: dict[str, Actor], clock: FakeClock) -> None:
    sid = signed_session(services, staff, clock)

    def edit(conn: Connection) -> None:
        last = _entry(conn, sid, "state")
        conn.execute(text(
            "INSERT INTO entries (session_id, seq, kind, observed_at, entered_at, author_id, workstation, payload, "
            "prev_hash, hash) VALUES (:s, :q, 'observation', :o, :e, :a, 'room-1', :p, '', '')"),
            {"s": sid, "q": last["seq"] + 1, "o": last["observed_at"], "e": last["entered_at"],
             "a": last["author_id"], "p": canonical_payload({"category": "general", "text": "forged",
                                                             "for_integration": False})})
        rehash(conn, sid)

    _tamper(services, edit)
    assert "was added after the session closed and is not an amendment" in _messages(services, sid)


def test_last_entries_deleted_and_head_fixed(services: Services, staff: dict[str, Actor], clock: FakeClock) -> None:
    """The discharge (signature and state) removed and the session set back to awaiting discharge."""
    sid = signed_session(services, staff, clock)

    def edit(conn: Connection) -> None:
        conn.execute(text("DELETE FROM entries WHERE session_id = :s AND kind IN ('signature') OR (session_id = :s "
                          "AND kind = 'state' AND payload LIKE '%discharged%')"), {"s": sid})
        conn.execute(text("UPDATE clinical_sessions SET state = 'discharge', ended_at = NULL WHERE id = :s"),
                     {"s": sid})
        rehash(conn, sid)

    _tamper(services, edit)
    messages = _messages(services, sid)
    assert "which is missing or changed" in messages and "differs from the clinic chain" in messages


def test_discharged_by_a_forged_state_entry_without_a_signature(services: Services, staff: dict[str, Actor],
                                                                 clock: FakeClock) -> None:
    sid = ready_for_discharge(services, staff, clock)
    services.discharge.assess(staff["supervisor"], sid, confirmations=PERSON_OK, score_parts=PARTS_OK)

    def edit(conn: Connection) -> None:
        last = _entry(conn, sid, "state")
        conn.execute(text(
            "INSERT INTO entries (session_id, seq, kind, observed_at, entered_at, author_id, workstation, payload, "
            "prev_hash, hash) VALUES (:s, 999, 'state', :o, :e, :a, 'room-1', :p, '', '')"),
            {"s": sid, "o": last["observed_at"], "e": last["entered_at"], "a": last["author_id"],
             "p": canonical_payload({"from": "discharge", "to": "discharged", "reason": "discharge signed"})})
        conn.execute(text("UPDATE clinical_sessions SET state = 'discharged', ended_at = :o WHERE id = :s"),
                     {"s": sid, "o": last["observed_at"]})
        rehash(conn, sid)

    _tamper(services, edit)
    messages = _messages(services, sid)
    assert "discharged without a signature" in messages


def test_forged_signature_entry_by_someone_else(services: Services, staff: dict[str, Actor], clock: FakeClock) -> None:
    """A signature entry copied with the supervisor's name but made without their key."""
    sid = signed_session(services, staff, clock)

    def edit(conn: Connection) -> None:
        signature = _entry(conn, sid, "signature")
        _set_payload(conn, signature["id"], lambda p: p.update(meaning="forged meaning"))
        rehash(conn, sid)

    _tamper(services, edit)
    assert "no valid digital signature" in _messages(services, sid)


# ----- deleting or blanking a session --------------------------------------------------------------------------
def test_session_deleted(services: Services, staff: dict[str, Actor], clock: FakeClock) -> None:
    sid = signed_session(services, staff, clock)
    dosed(services, staff, clock, identifier="KAP-2")

    def edit(conn: Connection) -> None:
        for table in ("entries", "session_staff"):
            conn.execute(text(f"DELETE FROM {table} WHERE session_id = :s"), {"s": sid})
        conn.execute(text("UPDATE audit_events SET session_id = NULL WHERE session_id = :s"), {"s": sid})
        conn.execute(text("DELETE FROM clinical_sessions WHERE id = :s"), {"s": sid})

    _tamper(services, edit)
    assert f"session {sid} is in the clinic chain but missing from the database" in _messages(services)


def test_session_blanked_back_to_planned(services: Services, staff: dict[str, Actor], clock: FakeClock) -> None:
    sid = dosed(services, staff, clock)

    def edit(conn: Connection) -> None:
        conn.execute(text("DELETE FROM entries WHERE session_id = :s"), {"s": sid})
        conn.execute(text("UPDATE clinical_sessions SET state = 'planned', started_at = NULL, entry_count = 0, "
                          "chain_head = genesis WHERE id = :s"), {"s": sid})

    _tamper(services, edit)
    messages = _messages(services, sid)
    assert "which is missing or changed" in messages


# ----- fields outside the entries ----------------------------------------------------------------------------
@pytest.mark.parametrize(("sql", "expected"), [
    ("UPDATE clinical_sessions SET protocol_json = replace(protocol_json, '180', '130') WHERE id = :s",
     "protocol_sha256"),
    ("UPDATE clinical_sessions SET room = 'Room 9' WHERE id = :s", "room"),
    ("UPDATE clinical_sessions SET planned_dose = 400 WHERE id = :s", "planned_dose"),
    ("UPDATE clients SET name = 'Someone Else' WHERE id = (SELECT client_id FROM clinical_sessions WHERE id = :s)",
     "client name"),
    ("UPDATE clients SET allergies = '' WHERE id = (SELECT client_id FROM clinical_sessions WHERE id = :s)",
     "client allergies"),
    ("UPDATE clinical_sessions SET started_at = ended_at WHERE id = :s", "start time"),
    ("UPDATE clinical_sessions SET ended_at = started_at WHERE id = :s", "end time"),
    ("UPDATE staff SET name = 'Dr Nobody' WHERE login = 'sam'", "signer's name"),
])
def test_header_and_other_fields(services: Services, staff: dict[str, Actor], clock: FakeClock, sql: str,
                                 expected: str) -> None:
    services.clinic.add_client(staff["therapist"], identifier="KAP-A", name="Al Lergic", allergies="latex")
    sid = signed_session(services, staff, clock, identifier="KAP-A")
    assert services.integrity.verify(sid).ok
    _tamper(services, lambda conn: conn.execute(text(sql), {"s": sid}))
    assert expected in _messages(services, sid)


def test_header_rewritten_with_the_genesis_and_chain(services: Services, staff: dict[str, Actor],
                                                     clock: FakeClock) -> None:
    """The recorded header, the genesis and the whole chain rewritten to match a changed room."""
    sid = signed_session(services, staff, clock)

    def edit(conn: Connection) -> None:
        conn.execute(text("UPDATE clinical_sessions SET room = 'Room 9' WHERE id = :s"), {"s": sid})
        header = json.loads(conn.execute(text("SELECT header_json FROM clinical_sessions WHERE id = :s"),
                                         {"s": sid}).scalar_one())
        header["room"] = "Room 9"
        textual = canonical_payload(header)
        conn.execute(text("UPDATE clinical_sessions SET header_json = :h, genesis = :g WHERE id = :s"),
                     {"h": textual, "g": header_hash(textual), "s": sid})
        rehash(conn, sid)
        rehash_clinic_chain(conn)

    _tamper(services, edit)
    messages = _messages(services, sid)
    assert "the session header differs from the one signed" in messages


def test_entry_ids_swapped_repoint_a_resolution(services: Services, staff: dict[str, Actor],
                                                clock: FakeClock) -> None:
    sid = dosed(services, staff, clock)
    nurse = staff["medical"]
    services.records.record_side_effect(nurse, sid, "nausea", "mild")
    services.records.record_side_effect(nurse, sid, "headache", "mild")
    first = services.records.record(nurse, sid).side_effects[0]
    services.records.resolve_side_effect(nurse, sid, first.id)
    assert services.integrity.verify(sid).ok

    def edit(conn: Connection) -> None:
        a, b = (_entry(conn, sid, "side_effect", i)["id"] for i in (0, 1))
        conn.execute(text("UPDATE entries SET id = -1 WHERE id = :a"), {"a": a})
        conn.execute(text("UPDATE entries SET id = :a WHERE id = :b"), {"a": a, "b": b})
        conn.execute(text("UPDATE entries SET id = :b WHERE id = -1"), {"b": b})

    _tamper(services, edit)
    assert "refers to #" in _messages(services, sid)


# ----- the audit trail -------------------------------------------------------------------------------------------
def test_audit_rows_edited_or_deleted(services: Services, staff: dict[str, Actor], clock: FakeClock) -> None:
    dosed(services, staff, clock)
    assert services.integrity.verify().ok
    _tamper(services, lambda conn: conn.execute(text(
        "UPDATE audit_events SET detail = 'nothing happened' WHERE id = (SELECT min(id) FROM audit_events "
        "WHERE hash IS NOT NULL)")))
    assert "audit trail: event" in _messages(services)


def test_audit_row_deleted(services: Services, staff: dict[str, Actor], clock: FakeClock) -> None:
    dosed(services, staff, clock)
    _tamper(services, lambda conn: conn.execute(text(
        "DELETE FROM audit_events WHERE id = (SELECT min(id) + 3 FROM audit_events WHERE hash IS NOT NULL)")))
    assert "audit trail: link broken" in _messages(services)


# ----- what an honest record looks like -------------------------------------------------------------------------
def test_a_full_honest_clinic_verifies(services: Services, staff: dict[str, Actor], clock: FakeClock) -> None:
    signed_session(services, staff, clock)
    sid = dosed(services, staff, clock, identifier="KAP-2")
    services.records.record_vitals(staff["medical"], sid, BASELINE)
    services.records.end_early(staff["supervisor"], sid, "client_request", "wished to stop",
                               disposition=services_disposition())
    services.records.amend(staff["medical"], sid, services.records.record(staff["medical"], sid).vitals[-1].id,
                           reason="typo", content={**BASELINE, "hr": 74})
    result = services.integrity.verify()
    assert result.ok, result.problems
    assert isinstance(services.integrity, IntegrityService)


def services_disposition() -> str:
    from kapconsole.domain.enums import Disposition

    return next(iter(Disposition)).value
