"""The summary's medication record: rescue and adjunct medications with why, by whom, and corrections."""

from __future__ import annotations

from kapconsole.domain.values import Actor
from kapconsole.services import Services
from tests.conftest import FakeClock
from tests.data.test_report import chart_session, pages_text
from tests.data.test_report import people as people  # noqa: F401 (fixture)


def test_medication_record_lists_rescue_medications(services: Services, clock: FakeClock,
                                                    people: tuple[Actor, Actor]) -> None:  # noqa: F811
    sup, theo = people
    charted = chart_session(services, clock, sup, theo, sign=False)
    record = services.records.record(sup, charted.session_id)
    nausea = record.side_effects[0]
    r = services.records
    r.record_rescue_medication(sup, charted.session_id, drug="ondansetron", dose="4", route="odt",
                               reason="nausea <b>&</b> retching", ordered_by=sup.staff_id, side_effect=nausea.id)
    oxygen = r.record_rescue_medication(sup, charted.session_id, drug="oxygen", dose="2", route="nasal_cannula",
                                        reason="SpO2 91", ordered_by=sup.staff_id)
    r.amend(sup, charted.session_id, oxygen.id, reason="flow was 3 L/min", content={"dose": 3})
    text = "\n".join(pages_text(services.reports.pdf(sup, charted.session_id)))
    assert "Medication record" in text
    flat = " ".join(text[text.index("Medication record"):].split())  # cells wrap across lines
    assert "Ondansetron 4 mg ODT" in flat and "nausea <b>&</b> retching; for nausea at" in flat
    assert "Oxygen 3 L/min nasal cannula" in flat and "flow was 3 L/min" in flat


def test_no_medication_record_without_rescue_medications(services: Services, clock: FakeClock,
                                                         people: tuple[Actor, Actor]) -> None:  # noqa: F811
    sup, theo = people
    charted = chart_session(services, clock, sup, theo, sign=False, notes=2)
    assert "Medication record" not in "\n".join(pages_text(services.reports.pdf(sup, charted.session_id)))
