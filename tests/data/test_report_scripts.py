"""A summary always prints: text in any script, in every text field, goes into the PDF and copies back out.

Devanagari and CJK side by side, Arabic mixed with Latin, emoji, combining marks: each sample is typed into every
free-text field a session has (client, course, room, drug, lots, checklist note, intention, observations, side
effects and their resolution, scale instrument, alert note, amendment reason, end-early reason, staff names,
clinic name), the summary is rendered, and the text extracted from the PDF holds each sample: as typed (composed
to NFC), or for right-to-left text in visual order (Arabic in its joined forms, which NFKC maps back).
"""

from __future__ import annotations

import io
import unicodedata
from datetime import UTC, datetime

import pytest
from bidi import get_display
from pypdf import PdfReader

from kapconsole.data import repositories as repo
from kapconsole.reports.text import markup
from kapconsole.services import Services
from tests.conftest import FakeClock
from tests.data.helpers import BASELINE
from tests.data.rems_helpers import PREDOSE_ANSWERS

PASSWORD = "Violet-Harbour-42"
SAMPLES = {
    "devanagari_cjk": "नमस्ते你好",
    "arabic_latin": "Client مرحبا بالعالم said",
    "hebrew_latin": "Note שלום עולם ends",
    "emoji": "calm 😀 🙂 👍🏽 ok",
    "combining": "Zoe\u0308 cafe\u0301 n\u0303o",
    "hangul_kana": "한국어 カタカナ",
}


def _forms(sample: str) -> set[str]:
    """How ``sample`` may come out of the PDF: composed, without spaces (extractors differ on them), and for
    right-to-left text in either order (the page holds visual order; some extractors put it back)."""
    text = unicodedata.normalize("NFKC", unicodedata.normalize("NFC", sample))
    forms = {text, unicodedata.normalize("NFKC", get_display(text))}
    return {"".join(f.split()) for f in forms}


def _extract(pdf: bytes) -> str:
    text = "\n".join(p.extract_text() or "" for p in PdfReader(io.BytesIO(pdf)).pages)
    return "".join(unicodedata.normalize("NFKC", text).split())


def _holds(text: str, label: str, sample: str) -> bool:
    return any(label + f in text or f + label in text for f in _forms(sample))


def _session(services: Services, clock: FakeClock, sample: str) -> int:
    s = sample
    services.staff.add_user(None, login="admin", name=f"Admin {s}", roles=["administrator"], password=PASSWORD)
    admin = services.staff.authenticate("admin", PASSWORD, "desk")
    services.staff.add_user(admin, login="sup", name=f"Dr {s}", roles=["supervisor", "medical"], password=PASSWORD)
    services.staff.add_user(admin, login="theo", name=f"Therapist {s}", roles=["therapist"], password=PASSWORD)
    services.clinic.planning.add_room(admin, f"Room {s}")
    sup = services.staff.authenticate("sup", PASSWORD, "room-1")
    theo = services.staff.authenticate("theo", PASSWORD, "room-1")
    with services.db.write() as db:
        repo.set_setting(db, "clinic_name", f"Clinic {s}", at=datetime.now(UTC), by=None)
    client = services.clinic.add_client(sup, identifier=f"ID-{s}", name=f"Client {s}", sex=f"F {s}",
                                        allergies=f"Allergy {s}", screening_notes=f"Screening {s}")
    course = services.clinic.add_course(sup, client.id, title=f"Course {s}", planned_sessions=4)
    sid = services.clinic.plan_session(sup, client_id=client.id, course_id=course.id, room=f"Room {s}",
                                       route="intranasal", planned_drug=f"Esketamine {s}", planned_dose=56,
                                       scheduled_at=clock.now).id
    r = services.records
    r.start_session(sup, sid)
    services.clinic.set_staff(sup, sid, [sup.staff_id, theo.staff_id])
    for item in r.record(sup, sid).protocol.checklist:  # the esketamine session's own checklist
        r.confirm_checklist_item(sup, sid, item.key, note=f"Checked {s}" if item.key == "identity" else "")
    r.record_intention(theo, sid, f"Intention {s}")
    r.record_vitals(sup, sid, BASELINE)
    services.rems.record_answers(sup, sid, {**PREDOSE_ANSWERS, "escort_name": f"Escort {s}"})
    clock.advance(minutes=5)
    for _device in (1, 2):  # one 28 mg device at a time, 5 minutes apart
        services.rems.record_device(sup, sid, lot=f"Lot {s}", device_lot=f"Device {s}", ordered_by=sup.staff_id)
        clock.advance(minutes=5)
    clock.advance(minutes=20)
    high = r.record_vitals(sup, sid, {**BASELINE, "sbp": 185, "dbp": 100})
    r.acknowledge_alert(sup, sid, high.id, ["sbp"], note=f"Seen {s}")
    effect = r.record_side_effect(sup, sid, "other", "mild", intervention=f"Helped {s}",
                                  description=f"Described {s}")
    r.record_scale(sup, sid, "suds", 3, instrument=f"Instrument {s}")
    note = r.record_observation(theo, sid, f"Observed {s}", category="client_statement", for_integration=True)
    clock.advance(minutes=10)
    r.resolve_side_effect(sup, sid, effect.id, note=f"Resolved {s}")
    r.amend(theo, sid, note.id, reason=f"Reason {s}", content={"text": f"Corrected {s}"})
    r.end_early(sup, sid, "client_request", f"Ended {s}", disposition="home_with_escort")
    return sid


@pytest.mark.parametrize("name", sorted(SAMPLES))
def test_every_text_field_prints_any_script(services: Services, clock: FakeClock, name: str) -> None:
    sample = SAMPLES[name]
    sid = _session(services, clock, sample)
    text = _extract(services.reports.pdf(None, sid))
    for label in ("Client", "Clinic", "Course", "Room", "Esketamine", "Lot", "Device", "Checked", "Intention",
                  "Seen", "Helped", "Described", "Instrument", "Corrected", "Observed", "Resolved", "Reason",
                  "Ended", "Dr", "Therapist"):
        assert _holds(text, label, sample), label
    assert _holds(text, "ID-", sample)


def test_a_hundred_mixed_lines_in_one_note_print(services: Services, clock: FakeClock) -> None:
    sid = _session(services, clock, "x")
    mixed = "\n".join(f"{i}: " + " ".join(SAMPLES.values()) for i in range(100))
    services.records.amend(services.staff.authenticate("theo", PASSWORD, "room-1"), sid,
                           services.records.record(None, sid).observations[-1].id, reason="long",
                           content={"text": mixed})
    text = _extract(services.reports.pdf(None, sid))
    assert "99:" in text and _holds(text, "99:", " ".join(SAMPLES.values()))


def test_markup_never_leaves_a_character_without_a_font() -> None:
    out = markup("नमस्ते你好 😀 e\u0301")
    assert '<font name="KapCJK">你好</font>' in out
    assert "é" in out and "\u0301" not in out  # composed to one accented letter
