"""The chained digest over the device stream: each digest covers a run of readings and the digest before it."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from datetime import datetime

from kapconsole.domain.integrity import GENESIS, canonical_payload, timestamp

__all__ = ["GENESIS", "digest", "reading_line"]


def reading_line(*, id: int, message_id: int, session_id: int | None, source_key: str, code: str,
                 code_system: str, value_text: str, unit: str, status: str, flags: str, device_time: datetime,
                 received_at: datetime) -> str:
    """One reading's canonical text: what a digest covers (what was received, when, and whose session)."""
    return canonical_payload({
        "id": id, "message": message_id, "session": session_id, "source": source_key, "code": code,
        "system": code_system, "value": value_text, "unit": unit, "status": status, "flags": flags,
        "device_time": timestamp(device_time), "received_at": timestamp(received_at),
    })


def digest(prev_hash: str, lines: Iterable[str]) -> tuple[str, int]:
    """SHA-256 over ``prev_hash`` and each line in order; returns (hex digest, number of lines)."""
    h = hashlib.sha256(prev_hash.encode("ascii") + b"\n")
    count = 0
    for line in lines:
        h.update(line.encode("utf-8") + b"\n")
        count += 1
    return h.hexdigest(), count
