"""The integration summary PDF, built from sessions charted through the services on a real database."""

from __future__ import annotations

import io
import re
import shutil
import subprocess
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from pypdf import PdfReader

from kapconsole.data import repositories as repo
from kapconsole.domain.errors import PermissionDenied, ValidationError
from kapconsole.domain.values import Actor
from kapconsole.reports import render_pdf
from kapconsole.services import Services

PASSWORD = "Violet-Harbour-42"
HOSTILE = "<b>&amp; 'quotes' </para> ünïcödé 日本語 العربية Ελληνικά"
LONG_WORD = "Ω" + "W" * 2998 + "Ω"
LONG_NOTE_END = "END-OF-THE-LONG-NOTE"
FIRST_STATEMENT = "Client says: 'I am floating above the river, and it is fine.'"
SECOND_STATEMENT = "Insight: 'My father's voice is not mine.'"
INTENTION = "To feel safe in my body and to let go of the old story."
CRITERIA = ("oriented", "walks_steadily", "nausea_controlled", "escort_present", "no_driving")
SCORE_PARTS = {"aldrete_activity": 2, "aldrete_respiration": 2, "padss_activity": 2, "padss_pain": 2}
SECTION_HEADINGS = (
    "Intention", "For integration", "Clinical summary", "Full record", "Pre-session checklist", "Administrations",
    "Vital signs", "Scale scores", "Side effects", "Observation timeline", "Discharge assessment", "Signature",
)


class Clock:
    def __init__(self) -> None:
        self.now = datetime.now(UTC) - timedelta(hours=10)

    def __call__(self) -> datetime:
        return self.now


@dataclass
class Charted:
    session_id: int
    client_id: int
    peak_bp: str


def _people(svc: Services) -> tuple[Actor, Actor]:
    svc.staff.add_user(None, login="admin", name="Ada Admin", roles=["administrator"], password=PASSWORD)
    admin = svc.staff.authenticate("admin", PASSWORD, "room-1")
    svc.staff.add_user(admin, login="sup", name="Dr Sam Supervisor", roles=["supervisor", "medical"],
                       password=PASSWORD)
    svc.staff.add_user(admin, login="theo", name="Theo Therapist", roles=["therapist"], password=PASSWORD)
    for room in ("Room 1", "Room <2>", "Room 3"):
        svc.clinic.planning.add_room(admin, room)
    return svc.staff.authenticate("sup", PASSWORD, "room-1"), svc.staff.authenticate("theo", PASSWORD, "room-1")


def chart_session(svc: Services, clock: Clock, sup: Actor, theo: Actor, *, identifier: str = "C-1",
                  minutes: int = 150, every: int = 15, notes: int = 6, sign: bool = True,
                  long_notes: bool = False) -> Charted:
    """A sublingual session: checklist, dose, vitals every ``every`` min with a BP rise, scales, nausea, notes."""
    client = svc.clinic.add_client(sup, identifier=identifier, name="Jo Client", date_of_birth=date(1984, 5, 17))
    course = svc.clinic.add_course(sup, client.id, title="KAP course", planned_sessions=6)
    sid = svc.clinic.plan_session(sup, client_id=client.id, course_id=course.id, room="Room 1",
                                  route="sublingual", planned_drug="Ketamine", planned_dose=200,
                                  scheduled_at=clock.now).id
    r = svc.records
    r.start_session(sup, sid)
    svc.clinic.set_staff(sup, sid, [sup.staff_id, theo.staff_id])
    for item in svc.clinic.protocol().checklist:
        r.confirm_checklist_item(sup, sid, item.key)
    r.record_intention(theo, sid, INTENTION)
    r.record_vitals(sup, sid, {"sbp": 128, "dbp": 80, "hr": 70, "spo2": 98, "rr": 14, "temp": 36.7})
    clock.now += timedelta(minutes=5)
    r.record_administration(sup, sid, drug="Ketamine", route="sublingual", dose=200, unit="mg", lot="L1",
                            ordered_by=sup.staff_id)
    first = clock.now
    vitals, side_effect, resolved, peak = [], None, False, (0, 0)
    for t in range(every, minutes + 1, every):
        clock.now = first + timedelta(minutes=t)
        rise = 40 if 25 <= t <= 60 else 10 if t < 100 else 0
        sbp, dbp = min(130 + rise + t % 7, 185), min(82 + rise // 2 + t % 5, 112)
        peak = max(peak, (sbp, -dbp))
        vitals.append(r.record_vitals(sup, sid, {"sbp": sbp, "dbp": dbp, "hr": 72 + t % 11,
                                                 "spo2": 97 - t % 2, "rr": 14 - t % 3}).id)
        if t in (30, 45, 60):
            r.record_scale(sup, sid, "dissociation", {30: 7, 45: 5, 60: 3}[t])
            r.record_scale(sup, sid, "moaas", {30: 3, 45: 4, 60: 5}[t])
        if side_effect is None and t >= 20:
            side_effect = r.record_side_effect(sup, sid, "nausea", "mild", intervention="Ondansetron 4 mg ODT")
        elif side_effect is not None and t >= 50 and not resolved:
            r.resolve_side_effect(sup, sid, side_effect.id, note="Settled")
            resolved = True
    texts = [(FIRST_STATEMENT, "client_statement", True), (HOSTILE, "general", False),
             (SECOND_STATEMENT, "client_statement", True)]
    statement = None
    for i in range(notes):
        at = first + timedelta(minutes=minutes * (i + 1) / (notes + 1))
        text, category, flag = texts[i] if i < len(texts) else (
            f"Observation {i}: resting quietly, breathing even, eyes covered.", "behaviour", False)
        entry = r.record_observation(theo, sid, text, category=category, for_integration=flag, observed_at=at)
        statement = statement or entry
    clock.now = first + timedelta(minutes=minutes, seconds=30)
    if long_notes:
        r.record_observation(theo, sid, LONG_WORD)
        r.record_observation(theo, sid, ("A long note with many words about the session. " * 420)[:19_970]
                             + " " + LONG_NOTE_END)
    clock.now += timedelta(minutes=1)
    r.amend(sup, sid, vitals[2], reason="Cuff slipped; re-measured",
            content={"sbp": 150, "dbp": 90, "hr": 80, "spo2": 97, "rr": 14})
    clock.now += timedelta(minutes=2)
    r.record_vitals(sup, sid, {"sbp": 130, "dbp": 82, "hr": 72, "spo2": 98, "rr": 14})
    r.record_scale(sup, sid, "moaas", 5)
    r.record_scale(sup, sid, "dissociation", 0)
    for reading, alert in r.record(sup, sid).unacknowledged_alerts():
        r.acknowledge_alert(sup, sid, reading.id, [alert.measure], note="Expected rise; rechecked, settled")
    assert svc.discharge.assess(sup, sid, confirmations=dict.fromkeys(CRITERIA, True),
                                score_parts=SCORE_PARTS).assessment.ready
    if sign:
        clock.now += timedelta(minutes=1)
        head = svc.records.record(sup, sid).info.chain_head
        svc.discharge.sign(sup, sid, password=PASSWORD, seen_chain_head=head)
        clock.now += timedelta(minutes=10)
        assert statement is not None
        r.amend(theo, sid, statement.id, reason="Exact words, checked with the co-therapist",
                content={"text": FIRST_STATEMENT + " (smiling)"})
    return Charted(sid, client.id, f"{peak[0]}/{-peak[1]} mmHg")


def pages_text(pdf: bytes, password: str | None = None) -> list[str]:
    reader = PdfReader(io.BytesIO(pdf))
    if password is not None:
        assert reader.decrypt(password)
    return [page.extract_text() or "" for page in reader.pages]


@pytest.fixture
def people(services: Services) -> tuple[Actor, Actor]:
    return _people(services)


@pytest.fixture
def signed(services: Services, clock: Clock, people: tuple[Actor, Actor]) -> Charted:
    return chart_session(services, clock, *people)


# ----- content ------------------------------------------------------------------------------------------------


def test_signed_summary_shows_every_section_and_the_key_values(services: Services, signed: Charted,
                                                               people: tuple[Actor, Actor]) -> None:
    sup, theo = people
    with services.db.write() as s:
        repo.set_setting(s, "clinic_name", "Riverside KAP Clinic", at=datetime.now(UTC), by=None)
    pdf = services.reports.pdf(theo, signed.session_id)
    pages = pages_text(pdf)
    text = "\n".join(pages)
    for heading in SECTION_HEADINGS:
        assert heading in text, heading
    first = pages[0]
    for value in ("Jo Client", "C-1", "1984-05-17", "session 1 of 6", "Room 1", "Theo Therapist", INTENTION,
                  signed.peak_bp, "Dr Sam Supervisor"):
        assert value in first, value
    assert first.index(FIRST_STATEMENT) < first.index(SECOND_STATEMENT)
    assert re.search(r"\d\d:\d\d \(\+\d+ min\)", first)
    record = services.records.record(sup, signed.session_id)
    sig = record.signature
    assert sig is not None
    compact = re.sub(r"\s+", "", text)
    assert sig.payload["signed_hash"] in compact
    assert "I reviewed this session record and approve the client's discharge" in text
    assert "Cuff slipped; re-measured" in text and "after sign-off" in text
    assert "Nausea" in text and "Ondansetron 4 mg ODT" in text
    assert not any("DRAFT" in p for p in pages)
    for n, page in enumerate(pages, start=1):
        assert f"page {n} of {len(pages)}" in page
        assert "Confidential" in page
        # Every page names the client (continuation pages too) and says who printed it and when.
        assert "Jo Client · born 1984-05-17 · C-1" in page
        assert re.search(r"Printed by Theo Therapist at \d{4}-\d\d-\d\d \d\d:\d\d", page)
    meta = PdfReader(io.BytesIO(pdf)).metadata
    assert meta is not None
    assert meta.title == f"Integration summary: client C-1, {record.info.started_at.astimezone().date()}, session 1 of 6"
    assert "Jo Client" not in meta.title
    assert meta.author == "Riverside KAP Clinic"
    assert "session 1 of 6" in (meta.subject or "")
    assert meta.creation_date is not None
    assert abs(meta.creation_date.timestamp() - services.reports.now().timestamp()) < 2


def test_report_data_carries_the_precomputed_marks(services: Services, signed: Charted,
                                                   people: tuple[Actor, Actor]) -> None:
    data = services.reports.build(people[0], signed.session_id)
    assert not data.draft and data.header.course_label == "session 1 of 6"
    assert data.summary.peak_bp is not None and f"{data.summary.peak_bp.text}" == signed.peak_bp
    assert [i.text for i in data.integration] == [FIRST_STATEMENT + " (smiling)", SECOND_STATEMENT]
    marks = {m for row in data.vitals for m in row.marks}
    assert {"baseline", "≈40 min", "peak SBP", "discharge"} <= marks
    baseline = next(r for r in data.vitals if "baseline" in r.marks)
    assert baseline.moment.since_dose == -5 and baseline.moment.label.endswith("(−5 min)")
    forty = next(r for r in data.vitals if "≈40 min" in r.marks)
    assert forty.moment.since_dose == 45 and forty.moment.label.endswith("(+45 min)")
    amended = [r for r in data.vitals if r.corrections.amended]
    assert len(amended) == 1 and amended[0].values["sbp"] == 150
    assert amended[0].corrections.original.startswith("BP ")
    assert data.amendments_after_signoff == 1
    late = [a for t in data.timeline for a in t.corrections.amendments if a.after_signoff]
    assert len(late) == 1
    assert data.summary.monitoring is not None and not data.summary.monitoring.ongoing
    assert data.signature is not None and data.signature.name == "Dr Sam Supervisor"


def test_unsigned_summary_is_a_draft_on_every_page(services: Services, clock: Clock,
                                                   people: tuple[Actor, Actor]) -> None:
    charted = chart_session(services, clock, *people, sign=False, long_notes=True)
    pages = pages_text(services.reports.pdf(people[0], charted.session_id))
    assert len(pages) > 3
    assert all("DRAFT" in page for page in pages)
    # The signature block follows the discharge assessment (before the long observation timeline).
    text = "\n".join(pages)
    assert text.index("Discharge assessment") < text.index("Not signed") < text.index("Observation timeline")


def test_hostile_and_non_latin_text_survives(services: Services, clock: Clock,
                                             people: tuple[Actor, Actor]) -> None:
    sup, theo = people
    charted = chart_session(services, clock, sup, theo, sign=False, long_notes=True)
    text = "\n".join(pages_text(services.reports.pdf(sup, charted.session_id)))
    for piece in ("<b>&amp;", "'quotes'", "</para>", "ünïcödé", "日本語", "Ελληνικά"):
        assert piece in text, piece
    # Shaped Arabic is drawn with its joined (presentation) forms; NFKC maps them back to the letters typed.
    arabic = unicodedata.normalize("NFKC", "العربية")
    assert arabic in unicodedata.normalize("NFKC", text)
    compact = re.sub(r"\s+", "", text)
    # The 3,000-character word wrapped (and may run onto the next page) with nothing lost.
    assert "ΩWWW" in compact and "WWWΩ" in compact
    assert sum(len(run) for run in re.findall(r"W{20,}", compact)) == len(LONG_WORD) - 2
    assert LONG_NOTE_END in text  # the 20,000-character note flowed across pages to its end


def test_hostile_client_details_are_escaped(services: Services, clock: Clock, people: tuple[Actor, Actor]) -> None:
    sup, _theo = people
    client = services.clinic.add_client(sup, identifier="<ID&1>", name="Zoë <O'Brien> & Søn")
    sid = services.clinic.plan_session(sup, client_id=client.id, room="Room <2>", route="im",
                                       planned_drug="Ketamine & co", scheduled_at=clock.now).id
    text = "\n".join(pages_text(services.reports.pdf(sup, sid)))
    for piece in ("Zoë <O'Brien> & Søn", "<ID&1>", "Room <2>", "single session", "DRAFT"):
        assert piece in text, piece


def test_sessions_with_little_recorded_still_render(services: Services, clock: Clock,
                                                     people: tuple[Actor, Actor]) -> None:
    sup, _theo = people
    client = services.clinic.add_client(sup, identifier="C-9", name="Al Early")
    sid = services.clinic.plan_session(sup, client_id=client.id, room="Room 3", route="iv",
                                       planned_drug="Ketamine", scheduled_at=clock.now).id
    services.records.start_session(sup, sid)
    services.records.record_vitals(sup, sid, {"sbp": 150, "dbp": 95, "hr": 90, "spo2": 97, "rr": 16})
    services.records.end_early(sup, sid, "contraindication", "BP above the pre-dose hold on two readings")
    text = "\n".join(pages_text(services.reports.pdf(sup, sid)))
    assert "No dose recorded" in text and "BP above the pre-dose hold" in text and "DRAFT" in text


# ----- files, permissions, audit ------------------------------------------------------------------------------


def test_password_protection(services: Services, signed: Charted, people: tuple[Actor, Actor]) -> None:
    pdf = services.reports.pdf(people[0], signed.session_id, password="s3cret pass")
    reader = PdfReader(io.BytesIO(pdf))
    assert reader.is_encrypted
    encryption = reader.trailer["/Encrypt"]
    assert (encryption["/V"], encryption["/R"]) == (5, 6)  # AES-256 as every current reader opens it
    assert not reader.decrypt("wrong")
    assert "Jo Client" in pages_text(pdf, "s3cret pass")[0]
    with pytest.raises(ValidationError, match="PDF password.*at least 8 characters"):
        services.reports.pdf(people[0], signed.session_id, password="short")


def test_write_creates_an_owner_only_file(services: Services, signed: Charted, people: tuple[Actor, Actor],
                                          tmp_path: Path) -> None:
    folder = tmp_path / "out"
    folder.mkdir()
    path = services.reports.write(people[1], signed.session_id, folder / "summary.pdf")
    assert path.read_bytes().startswith(b"%PDF-")
    assert path.stat().st_mode & 0o777 == 0o600
    assert [p.name for p in folder.iterdir()] == ["summary.pdf"]  # no temporary file left behind
    events = services.audit.events(people[0], action="report_exported", session_id=signed.session_id)
    assert events and events[0].actor_name == "Theo Therapist"


def test_only_clinical_roles_may_export(services: Services, signed: Charted) -> None:
    admin = services.staff.authenticate("admin", PASSWORD, "desk")
    with pytest.raises(PermissionDenied):
        services.reports.build(admin, signed.session_id)
    with pytest.raises(PermissionDenied):
        services.reports.course_overview(admin, signed.client_id)
    assert services.reports.build(None, signed.session_id).header.client_identifier == "C-1"


def test_course_overview_lists_each_session(services: Services, signed: Charted, clock: Clock,
                                            people: tuple[Actor, Actor]) -> None:
    sup, theo = people
    course = services.clinic.courses(signed.client_id)[0]
    services.clinic.plan_session(sup, client_id=signed.client_id, course_id=course.id, room="Room 1",
                                 route="sublingual", planned_drug="Ketamine", planned_dose=250,
                                 scheduled_at=clock.now + timedelta(days=7))
    lines = services.reports.course_overview(theo, signed.client_id)
    assert [line.course_label for line in lines] == ["session 1 of 6", "session 2 of 6"]
    first, second = lines
    assert first.summary.peak_bp is not None and first.summary.peak_bp.text == signed.peak_bp
    assert first.summary.lowest_spo2 is not None and first.summary.lowest_spo2.value == 96
    assert first.summary.dissociation_peak is not None and first.summary.dissociation_peak.value == 7
    assert [e.effect for e in first.summary.side_effects] == ["Nausea"]
    assert first.dose_text == "Ketamine 200 mg sublingual lozenge"
    assert [i.text for i in first.integration][1] == SECOND_STATEMENT
    assert second.state == "Planned" and second.dose_text == "no dose" and second.summary.peak_bp is None


# ----- the PDF as files and images ----------------------------------------------------------------------------


def _tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        pytest.skip(f"{name} is not installed (poppler-utils / qpdf); CI installs it")
    return path


def test_qpdf_finds_no_structural_errors(services: Services, signed: Charted, people: tuple[Actor, Actor],
                                         tmp_path: Path) -> None:
    qpdf = _tool("qpdf")
    for name, password in (("plain.pdf", None), ("locked.pdf", "pw123456")):
        path = services.reports.write(people[0], signed.session_id, tmp_path / name, password=password)
        args = [qpdf, "--check", str(path)] if password is None else [qpdf, f"--password={password}", "--check",
                                                                      str(path)]
        result = subprocess.run(args, capture_output=True, text=True, timeout=60)
        assert result.returncode == 0, result.stdout + result.stderr


def _pgm_pixels(data: bytes) -> bytes:
    """The pixel bytes of a binary (P5) 8-bit PGM image."""
    fields: list[bytes] = []
    pos = 0
    while len(fields) < 4:
        while data[pos:pos + 1].isspace():
            pos += 1
        if data[pos:pos + 1] == b"#":
            pos = data.index(b"\n", pos)
            continue
        end = pos
        while not data[end:end + 1].isspace():
            end += 1
        fields.append(data[pos:end])
        pos = end
    assert fields[0] == b"P5" and int(fields[3]) == 255
    width, height = int(fields[1]), int(fields[2])
    return data[pos + 1:pos + 1 + width * height]


def test_every_page_renders_to_a_non_blank_image(services: Services, signed: Charted, people: tuple[Actor, Actor],
                                                 tmp_path: Path) -> None:
    pdftoppm = _tool("pdftoppm")
    path = services.reports.write(people[0], signed.session_id, tmp_path / "summary.pdf")
    count = len(PdfReader(path).pages)
    subprocess.run([pdftoppm, "-r", "30", "-gray", str(path), str(tmp_path / "page")], check=True, timeout=120)
    images = sorted(tmp_path.glob("page-*.pgm"))
    assert len(images) == count
    for image in images:
        pixels = _pgm_pixels(image.read_bytes())
        dark = sum(1 for p in pixels if p < 200)
        assert dark > 100, f"{image.name} looks blank"


# ----- a six-hour session -------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def six_hours(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Services, int]]:
    clock = Clock()
    svc = Services.open(f"sqlite:///{tmp_path_factory.mktemp('six') / 'kapconsole.db'}", clock=clock)
    sup, theo = _people(svc)
    clock.now = datetime.now(UTC) - timedelta(hours=8)
    charted = chart_session(svc, clock, sup, theo, minutes=360, every=1, notes=500, long_notes=True)
    yield svc, charted.session_id
    svc.close()


@pytest.mark.slow
def test_six_hour_session_renders_quickly_and_compactly(six_hours: tuple[Services, int]) -> None:
    svc, sid = six_hours
    data = svc.reports.build(None, sid)
    assert len(data.vitals) == 362 and len(data.timeline) >= 500
    # Its speed is measured against bare ReportLab in 'make bench'; here: that it renders, whole.
    pdf = render_pdf(data)
    pages = pages_text(pdf)
    text = " ".join(" ".join(pages).split())
    assert "Key readings (" in text and "Appendix: every vital-sign reading" in text
    assert LONG_NOTE_END in text
    assert all(f"page {n} of {len(pages)}" in p for n, p in enumerate(pages, start=1))
