"""Any string as an observation: saved and read back identical, or refused with a ValidationError and no row
written — on SQLite and PostgreSQL. And any saved text goes into the summary PDF without breaking it."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kapconsole.domain.errors import ValidationError
from kapconsole.services import Services
from tests.conftest import FakeClock, make_staff
from tests.data.helpers import dosed

ANY_TEXT = st.text(alphabet=st.characters(codec=None, exclude_categories=()), max_size=300)
# One session serves every example (the fixture is set up once on purpose); no example database on disk.
FIXTURE_ONCE = settings(deadline=None, database=None,
                        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])


def test_any_observation_text_round_trips(services: Services, clock: FakeClock) -> None:
    staff = make_staff(services)
    sid = dosed(services, staff, clock)
    nurse = staff["medical"]

    @settings(FIXTURE_ONCE, max_examples=40)
    @given(text=ANY_TEXT)
    def check(text: str) -> None:
        before = services.records.record(None, sid)
        clock.advance(seconds=5)
        try:
            saved = services.records.record_observation(nurse, sid, text)
        except ValidationError as exc:
            assert exc.field == "observation"
            assert services.records.record(None, sid).entries == before.entries
            return
        assert saved.payload["text"] == text.strip()
        stored = services.records.record(None, sid).by_id[saved.id]
        assert stored.payload["text"] == text.strip()
        assert stored.hash == saved.hash

    check()
    assert services.integrity.verify(sid).ok


def test_any_saved_text_renders_in_the_summary(sqlite_services: Services, clock: FakeClock) -> None:
    services = sqlite_services
    staff = make_staff(services)
    sid = dosed(services, staff, clock)
    nurse = staff["medical"]

    @settings(FIXTURE_ONCE, max_examples=15)
    @given(text=ANY_TEXT, for_integration=st.booleans())
    def check(text: str, for_integration: bool) -> None:
        clock.advance(seconds=5)
        try:
            services.records.record_observation(nurse, sid, text, for_integration=for_integration)
        except ValidationError:
            return
        pdf = services.reports.pdf(None, sid)
        assert pdf.startswith(b"%PDF")

    check()
