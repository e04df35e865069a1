"""The SHA-256 hash chain over each session's entries, and its canonical encoding.

Each entry's hash covers its header (session, sequence number, kind, clinical and entry times, author,
workstation, the entry it amends), its payload exactly as stored, and the previous entry's hash. A signature
stores the chain head it signs, so any later change to a signed entry breaks both the chain and the signature.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

GENESIS = "0" * 64
ENCODING_VERSION = 1


def canonical_payload(payload: Mapping[str, Any]) -> str:
    """The one text form of a payload: sorted keys, no spaces, UTF-8 kept as is."""
    return json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)


def timestamp(moment: datetime) -> str:
    """UTC ISO-8601 with microseconds: the form both databases round-trip exactly."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def entry_hash(*, session_id: int, seq: int, kind: str, observed_at: datetime, entered_at: datetime,
               author_id: int, workstation: str, amends_id: int | None, payload_text: str,
               prev_hash: str) -> str:
    """SHA-256 (hex) of an entry's canonical encoding chained to ``prev_hash``."""
    header = {
        "v": ENCODING_VERSION,
        "session": session_id,
        "seq": seq,
        "kind": kind,
        "observed_at": timestamp(observed_at),
        "entered_at": timestamp(entered_at),
        "author": author_id,
        "workstation": workstation,
        "amends": amends_id,
        "prev": prev_hash,
    }
    encoded = canonical_payload(header) + "\n" + payload_text
    return hashlib.sha256(encoded.encode("utf-8")).hexdigest()


HEADER_VERSION = 1


def session_header(*, session_id: int, client_identifier: str, client_name: str, date_of_birth: str | None,
                   sex: str, allergies: str, course_id: int | None, number_in_course: int | None, room: str,
                   route: str, planned_drug: str, planned_dose: float | None, planned_unit: str,
                   scheduled_at: datetime, protocol_json: str, created_by: int | None) -> dict[str, Any]:
    """The session's clinical header as it was when it was planned: who the client was, what was planned
    where, under which protocol. Its hash starts the session's chain and every signature covers it."""
    return {
        "v": HEADER_VERSION,
        "session": session_id,
        "client": {"identifier": client_identifier, "name": client_name, "date_of_birth": date_of_birth,
                   "sex": sex, "allergies": allergies},
        "course": course_id,
        "number_in_course": number_in_course,
        "room": room,
        "route": route,
        "planned_drug": planned_drug,
        "planned_dose": planned_dose,
        "planned_unit": planned_unit,
        "scheduled_at": timestamp(scheduled_at),
        "protocol_sha256": hashlib.sha256(protocol_json.encode("utf-8")).hexdigest(),
        "created_by": created_by,
    }


def header_hash(header_text: str) -> str:
    """The genesis of a session's chain: SHA-256 of its canonical header text."""
    return hashlib.sha256(("kapconsole session header\n" + header_text).encode("utf-8")).hexdigest()


def link_hash(prev_hash: str, fields: Mapping[str, Any]) -> str:
    """One link of the clinic-wide chains (session events, audit trail)."""
    return hashlib.sha256((prev_hash + "\n" + canonical_payload(fields)).encode("utf-8")).hexdigest()
