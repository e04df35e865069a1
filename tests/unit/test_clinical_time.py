"""Clinical times as typed at the bedside."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from kapconsole.domain.clinical_time import parse_clinical_time
from kapconsole.domain.errors import ValidationError

NOW = datetime(2026, 11, 30, 0, 10).astimezone()


def test_empty_is_now() -> None:
    assert parse_clinical_time("  ", now=NOW) is None


def test_full_date_and_time_is_taken_exactly() -> None:
    # The walk-through typed this and got 2026-11-03 02:35.
    assert parse_clinical_time("2026-11-30 23:59", now=NOW) == datetime(2026, 11, 30, 23, 59).astimezone()
    assert parse_clinical_time("2026-11-29T23:05", now=NOW) == datetime(2026, 11, 29, 23, 5).astimezone()


def test_hours_and_minutes_are_the_latest_such_moment() -> None:
    assert parse_clinical_time("00:05", now=NOW) == NOW.replace(minute=5, second=0, microsecond=0)
    assert parse_clinical_time("23:50", now=NOW) == (NOW - timedelta(days=1)).replace(hour=23, minute=50, second=0,
                                                                                    microsecond=0)
    assert parse_clinical_time("9.05", now=NOW.replace(hour=10)).hour == 9


@pytest.mark.parametrize("typed", ["25:00", "2026-02-30 10:00", "ten past", "12:5", "2026-11-30"])
def test_nonsense_is_refused_as_typed(typed: str) -> None:
    with pytest.raises(ValidationError) as err:
        parse_clinical_time(typed, now=NOW, field="time given")
    assert err.value.field == "time given" and repr(typed) in str(err.value)
