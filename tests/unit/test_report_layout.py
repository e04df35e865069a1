"""The report's text handling, time labels and layout on hand-made report data (no database)."""

from __future__ import annotations

import io
import unicodedata
from datetime import UTC, date, datetime, timedelta, timezone

from pypdf import PdfReader

from kapconsole.reports import data as d
from kapconsole.reports import render_pdf
from kapconsole.reports.render import pdf_date
from kapconsole.reports.styles import markup

AT = datetime(2025, 3, 4, 10, 42, tzinfo=UTC)


def test_markup_escapes_and_keeps_line_breaks() -> None:
    assert markup("<b>&amp; 'q' </para>") == "&lt;b&gt;&amp;amp; 'q' &lt;/para&gt;"
    assert markup("one\r\ntwo\nthree") == "one<br/>two<br/>three"


def test_markup_puts_characters_dejavu_lacks_in_a_font_that_has_them() -> None:
    out = markup("Zoë 日本語 <x> 한국어 Ελληνικά")
    assert out.startswith("Zoë ")
    assert '<font name="KapCJK">日本語</font>' in out
    assert '<font name="KapCJK">한국어</font>' in out
    assert "&lt;x&gt;" in out and out.endswith("Ελληνικά")


def test_right_to_left_runs_print_in_visual_order_line_by_line() -> None:
    from bidi import get_display

    from kapconsole.reports.styles import Styles
    from kapconsole.reports.text import BidiParagraph, para, prepare

    mixed = "Client said שלום עולם then left"
    p = para(markup(mixed), Styles.body)
    assert isinstance(p, BidiParagraph)
    p.wrap(400, 100)
    assert p.visual_lines() == [get_display(mixed)]
    assert p.visual_lines()[0].index("םולש") > p.visual_lines()[0].index("םלוע")  # the words swap places
    # A long Hebrew note: lines are broken in reading order, so the first words stay on the first line.
    words = [f"מילה{i}" for i in range(40)]
    p = para(markup(" ".join(words)), Styles.body)
    p.wrap(200, 1000)
    lines = p.visual_lines()
    assert len(lines) > 3
    assert lines[0].split()[-1] == get_display(words[0])  # read from the right: the first word first
    assert lines[-1].split()[0] == get_display(words[-1])
    # Arabic is joined (presentation forms), and Latin text never gets ligatures.
    assert prepare("مرحبا") != "مرحبا" and unicodedata.normalize("NFKC", prepare("مرحبا")) == "مرحبا"
    assert prepare("first station") == "first station"
    assert not isinstance(para(markup("Zoë 日本語 Ελληνικά"), Styles.body), BidiParagraph)


def test_moment_labels() -> None:
    assert d.Moment(AT, 40).label == "10:42 (+40 min)"
    assert d.Moment(AT, -5).label == "10:42 (−5 min)"
    assert d.Moment(AT).label == "10:42"
    assert d.Moment(AT, 900, other_day=True).label == "2025-03-04 10:42 (+900 min)"
    assert d.Monitoring(d.Moment(AT, 0), d.Moment(AT, 185), 185, False).duration == "3 h 05 min"


def test_pdf_date_carries_the_offset() -> None:
    assert pdf_date(AT) == "D:20250304104200+00'00'"
    assert pdf_date(AT.astimezone(timezone(timedelta(hours=-5, minutes=-30)))) == "D:20250304051200-05'30'"


def _data(draft: bool) -> d.ReportData:
    header = d.Header(
        clinic_name="Clinic", client_name="Jo Client", client_identifier="C-7", date_of_birth=date(1990, 1, 2),
        course_label="single session", course_title="", session_date=AT.date(), room="Room 1", staff=(),
        route="Sublingual lozenge", planned="Ketamine", state="Planned", end_reason="", generated_at=AT, draft=draft,
    )
    summary = d.ClinicalSummary((), None, None, None, None, (), None, None, "")
    signature = None if draft else d.Signature("Dr Sam Supervisor", d.Moment(AT), "Approved", "0" * 64, 3)
    return d.ReportData(header, "", (), summary, (), None, (), None, (), (), (), (), (), signature)


def test_an_empty_record_renders_with_draft_marks_only_while_unsigned() -> None:
    for draft in (True, False):
        reader = PdfReader(io.BytesIO(render_pdf(_data(draft))))
        text = "\n".join(page.extract_text() for page in reader.pages)
        assert ("DRAFT" in text) is draft
        assert "No intention recorded" in text and "No vital signs recorded" in text
        assert ("Dr Sam Supervisor" in text) is not draft
        assert reader.metadata is not None and reader.metadata.author == "Clinic"
