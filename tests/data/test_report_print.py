"""The summary as a printed and shared document: embedded fonts, outline and language, text sizes, a DRAFT
watermark that never breaks copied text, a chart that survives a greyscale printer, and a six-hour session whose
clinical summary stays on page 1."""

from __future__ import annotations

import io
import shutil
import subprocess
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from pypdf import PdfReader

from kapconsole.reports import data as d
from kapconsole.reports.flowables import VitalsChart, spread_labels
from kapconsole.reports.styles import ACCENT, ALERT, AMEND, INK, MUTED
from kapconsole.services import Services
from tests.conftest import FakeClock
from tests.data.test_report_clinical import Team, _session, _team


@pytest.fixture
def signed_pdf(sqlite_services: Services, clock: FakeClock) -> bytes:
    team = _team(sqlite_services)
    sid, _c, _k = _session(sqlite_services, clock, team)
    return sqlite_services.reports.pdf(team.sup, sid)


@pytest.fixture
def draft_pdf(sqlite_services: Services, clock: FakeClock) -> bytes:
    team: Team = _team(sqlite_services)
    sid, _c, _k = _session(sqlite_services, clock, team, sign=False)
    return sqlite_services.reports.pdf(team.sup, sid)


def _fonts(reader: PdfReader) -> dict[str, object]:
    found: dict[str, object] = {}
    for page in reader.pages:
        resources = page.get("/Resources")
        fonts = resources.get_object().get("/Font", {}) if resources else {}
        for ref in fonts.get_object().values():
            font = ref.get_object()
            found[str(font["/BaseFont"])] = font
    return found


def test_every_font_is_embedded_and_the_document_is_described(signed_pdf: bytes) -> None:
    reader = PdfReader(io.BytesIO(signed_pdf))
    fonts = _fonts(reader)
    assert fonts
    for name, font in fonts.items():
        descriptor = font.get("/FontDescriptor")  # type: ignore[attr-defined]
        assert descriptor is not None, f"{name} is not embedded"
        assert "/FontFile2" in descriptor.get_object(), f"{name} is not embedded"
        assert "Helvetica" not in name
    root = reader.trailer["/Root"]
    assert root["/Lang"] == "en"
    assert root["/ViewerPreferences"]["/DisplayDocTitle"]
    titles = [item.title for item in reader.outline if not isinstance(item, list)]
    assert titles[:2] == ["Summary", "Full record"]
    nested = [i.title for group in reader.outline if isinstance(group, list) for i in group]
    for section in ("Pre-session checklist", "Vital signs", "Side effects", "Discharge assessment", "Signature",
                    "Observation timeline"):
        assert section in nested
    assert reader.metadata is not None and "Robin" not in (reader.metadata.title or "")
    assert "C-7" in (reader.metadata.title or "")


def _sizes(reader: PdfReader) -> list[tuple[int, str, float]]:
    """(page, text, size in points) of every piece of text."""
    out: list[tuple[int, str, float]] = []
    for n, page in enumerate(reader.pages, start=1):
        def visit(text: str, cm: list[float], tm: list[float], _font: object, size: float, n: int = n) -> None:
            if text.strip():
                scale = (tm[0] ** 2 + tm[1] ** 2) ** 0.5 * (cm[0] ** 2 + cm[1] ** 2) ** 0.5
                out.append((n, text.strip(), round(size * scale, 2)))
        page.extract_text(visitor_text=visit)
    return out


def test_table_text_and_footer_are_large_and_dark_enough(signed_pdf: bytes) -> None:
    sizes = _sizes(PdfReader(io.BytesIO(signed_pdf)))
    footer = [s for _n, t, s in sizes if t.startswith(("Printed by", "Confidential", "page "))]
    assert footer and min(footer) >= 7.5
    cells = [s for _n, t, s in sizes if t in ("136/84", "150/84", "Nia Nurse, RN", "confirmed")]
    assert cells and min(cells) >= 8.5
    # Text colours dark enough for a fax: relative luminance well below mid-grey.
    for colour in (INK, MUTED, ACCENT, ALERT, AMEND):
        luminance = 0.2126 * colour.red + 0.7152 * colour.green + 0.0722 * colour.blue
        assert luminance < 0.33, colour


def test_draft_watermark_is_not_in_the_text(draft_pdf: bytes) -> None:
    pages = [p.extract_text() or "" for p in PdfReader(io.BytesIO(draft_pdf)).pages]
    assert pages[0].count("DRAFT") == 2  # the header mark and the banner, not the watermark
    # Every other page: the header mark only (plus "This summary is a DRAFT" where the signature would be).
    assert all(p.count("DRAFT") == 1 + ("Not signed" in p) for p in pages[1:])
    assert "Clinical summary" in pages[0] and "Pre-session checklist" in pages[1]


# ----- the chart ----------------------------------------------------------------------------------------------


def _chart(key: str, label: str) -> d.Chart:
    points = tuple((float(m), 96.0 - (m % 30) / 10) for m in range(0, 121, 10))
    panel = d.ChartPanel("test", 85, 100, 5, (d.ChartSeries(key, label, points),), ())
    return d.Chart(0, 120, (0.0, 30.0, 60.0, 90.0, 120.0), (panel,), ())


def _grey_mask(chart: d.Chart, tmp_path: Path, name: str) -> list[bool]:
    from reportlab.pdfgen.canvas import Canvas

    from kapconsole.reports import fonts

    pdftoppm = shutil.which("pdftoppm")
    if pdftoppm is None:
        pytest.skip("pdftoppm is not installed (poppler-utils)")
    fonts.register_fonts()
    flowable = VitalsChart(chart, 400)
    path = tmp_path / f"{name}.pdf"
    canvas = Canvas(str(path), pagesize=(400, flowable.height))
    flowable.drawOn(canvas, 0, 0)
    canvas.save()
    subprocess.run([pdftoppm, "-r", "100", "-gray", str(path), str(tmp_path / name)], check=True, timeout=60)
    image = next(tmp_path.glob(f"{name}*.pgm")).read_bytes()
    from tests.data.test_report import _pgm_pixels

    return [p < 140 for p in _pgm_pixels(image)]


def test_series_stay_distinct_in_greyscale(tmp_path: Path) -> None:
    """The same values drawn as SpO2 and as RR: in a greyscale render their dark pixels differ (markers and
    dash patterns), not only their shade of grey."""
    masks = {key: _grey_mask(_chart(key, key), tmp_path, key) for key in ("spo2", "rr", "hr")}
    for a, b in (("spo2", "rr"), ("spo2", "hr"), ("rr", "hr")):
        differ = sum(x != y for x, y in zip(masks[a], masks[b], strict=True))
        dark = sum(masks[a]) + sum(masks[b])
        assert differ > 0.15 * dark, (a, b, differ, dark)


def test_threshold_labels_never_overlap() -> None:
    assert spread_labels([100.0, 104.0, 30.0], 0, 200) == [100.0, 107.5, 30.0]
    placed = spread_labels([195.0, 196.0, 197.0], 0, 198)
    assert max(placed) <= 198 and all(abs(a - b) >= 7.5 for i, a in enumerate(placed) for b in placed[i + 1:])
    # A baseline of 136: "SBP ≥ 180" and "SBP baseline +40" (176) are 4 mmHg apart on the chart.
    panel = d.ChartPanel("BP", 40, 200, 20, (d.ChartSeries("sbp", "Systolic BP", ((0.0, 136.0),)),),
                         (d.Threshold("SBP ≥ 180", 180), d.Threshold("SBP baseline +40", 176),
                          d.Threshold("DBP ≥ 110", 110)))
    chart = VitalsChart(d.Chart(0, 60, (0.0, 60.0), (panel,), ()), 400)
    labels = [s for s in chart.drawing.getContents() if getattr(s, "text", "").startswith(("SBP", "DBP"))]
    ys = sorted(s.y for s in labels)
    assert len(ys) == 3 and all(b - a >= 7.5 for a, b in zip(ys, ys[1:], strict=False))


def test_the_event_row_marks_doses_side_effects_scores_and_discharge(sqlite_services: Services,
                                                                      clock: FakeClock) -> None:
    team = _team(sqlite_services)
    sid, _c, _k = _session(sqlite_services, clock, team)
    chart = sqlite_services.reports.build(team.sup, sid).chart
    assert chart is not None
    kinds = {e.kind: e for e in chart.events}
    assert set(kinds) == {"dose", "side effect", "scale", "discharge"}
    assert kinds["dose"].minute == 0 and kinds["dose"].label == "D1"
    assert chart.x_max >= kinds["discharge"].minute


# ----- six hours ----------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def six_hours(tmp_path_factory: pytest.TempPathFactory) -> Iterator[bytes]:
    from tests.data.test_report import Clock, _people, chart_session

    clock = Clock()
    svc = Services.open(f"sqlite:///{tmp_path_factory.mktemp('six') / 'kapconsole.db'}", clock=clock)
    sup, theo = _people(svc)
    clock.now = datetime.now(UTC) - timedelta(hours=8)
    charted = chart_session(svc, clock, sup, theo, minutes=360, every=2, notes=500, long_notes=False)
    # Every fifth note flagged for integration: far more than page 1 lists.
    record = svc.records.record(sup, charted.session_id)
    for n, note in enumerate(record.observations[3:60:5]):
        svc.records.amend(theo, charted.session_id, note.id, reason="For integration",
                          content={"for_integration": True})
        if n > 14:
            break
    yield svc.reports.pdf(sup, charted.session_id)
    svc.close()


@pytest.mark.slow
def test_six_hour_summary_keeps_the_clinical_summary_on_page_one(six_hours: bytes) -> None:
    pages = [" ".join((p.extract_text() or "").split()) for p in PdfReader(io.BytesIO(six_hours)).pages]
    first = pages[0]
    assert "Clinical summary" in first and "Outcome measures:" in first
    import re

    match = re.search(r"and (\d+) more flagged items \(★\), see the observation timeline on page (\d+)", first)
    assert match is not None
    page = int(match.group(2))
    assert "Observation timeline" in pages[page - 1] and "Observation timeline" not in " ".join(pages[: page - 1])
    text = " ".join(pages)
    # The signature block follows the discharge assessment, before the long timeline and the appendix.
    assert text.index("Discharge assessment") < text.index("Printed name") < text.index("Observation timeline")
    assert text.index("Observation timeline") < text.index("Appendix: every vital-sign reading")


def test_table_headings_do_not_repeat_under_an_amendment_note(sqlite_services: Services, clock: FakeClock) -> None:
    team = _team(sqlite_services)
    sid, _c, _k = _session(sqlite_services, clock, team, vitals_at=tuple(range(5, 200, 5)), sign=False)
    readings = sqlite_services.records.record(team.sup, sid).vitals
    for reading in readings[3:30:6]:
        sqlite_services.records.amend(team.nurse, sid, reading.id, reason="Cuff slipped; re-measured",
                                      content={**{k: reading.payload[k] for k in ("sbp", "dbp", "hr", "spo2", "rr")},
                                               "hr": 77})
    pdf = sqlite_services.reports.pdf(team.sup, sid)
    reader = PdfReader(io.BytesIO(pdf))
    heads: dict[int, list[float]] = {}
    notes = 0
    for n, page in enumerate(reader.pages):
        def visit(text: str, cm: list[float], tm: list[float], _f: object, _s: float, n: int = n) -> None:
            if text.strip() == "Marks and alerts":
                heads.setdefault(n, []).append(cm[5] + tm[5])
        page.extract_text(visitor_text=visit)
        notes += (page.extract_text() or "").count("Cuff slipped; re-measured")
    assert notes == 5
    assert heads and all(len(ys) == 1 for ys in heads.values()), heads  # once per page, never under a note
    # On every page after the first the headings stand at the top of the page's text.
    for n, (y,) in heads.items():
        if n != min(heads):
            assert y > 700, (n, y)
