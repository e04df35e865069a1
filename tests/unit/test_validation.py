"""Validation: clear messages naming the field, the value and the allowed range."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from kapconsole.domain import entries, validation
from kapconsole.domain.errors import ValidationError
from kapconsole.domain.protocol import ProtocolSettings

P = ProtocolSettings()


@pytest.mark.parametrize(
    ("values", "field", "fragment"),
    [
        ({"sbp": 400, "dbp": 80}, "Systolic BP", "40–300 mmHg"),
        ({"sbp": 120, "dbp": 10}, "Diastolic BP", "20–200 mmHg"),
        ({"sbp": 120, "dbp": 120}, "Diastolic BP", "below systolic"),
        ({"hr": 300}, "Heart rate", "20–250"),
        ({"spo2": 101}, "SpO2", "50–100 %"),
        ({"rr": 1}, "Respiratory rate", "2–60"),
        ({"temp": 45}, "Temperature", "30–43 °C"),
        ({"hr": 72.5}, "Heart rate", "whole number"),
        ({"hr": float("nan")}, "Heart rate", "finite"),
        ({"hr": True}, "Heart rate", "number"),
        ({"hr": "fast"}, "Heart rate", "number"),
        ({"sbp": 120}, "Diastolic BP", "both"),
        ({}, "vitals", "at least one"),
        ({"bp": 1}, "vitals", "measures are"),
    ],
)
def test_vitals_refused(values: dict, field: str, fragment: str) -> None:
    with pytest.raises(ValidationError) as err:
        validation.vitals(values, P)
    assert err.value.field == field
    assert fragment in str(err.value)


def test_vitals_subset_and_text_numbers() -> None:
    assert validation.vitals({"hr": "72", "temp": "36,85"}, P) == {"hr": 72, "temp": 36.85}


def test_message_names_field_value_and_range() -> None:
    with pytest.raises(ValidationError) as err:
        validation.vitals({"sbp": 400, "dbp": 80}, P)
    assert str(err.value) == "Systolic BP: 400 is not accepted; allowed range 40–300 mmHg"


def test_observed_at_rules() -> None:
    now = datetime(2026, 1, 1, 12, tzinfo=UTC)
    start = now - timedelta(hours=1)
    assert validation.observed_at(None, now=now, session_start=start, skew_seconds=120) == now
    back = now - timedelta(minutes=20)
    assert validation.observed_at(back, now=now, session_start=start, skew_seconds=120) == back
    assert validation.observed_at(now + timedelta(seconds=60), now=now, session_start=start, skew_seconds=120)
    with pytest.raises(ValidationError, match="future"):
        validation.observed_at(now + timedelta(minutes=5), now=now, session_start=start, skew_seconds=120)
    with pytest.raises(ValidationError, match="before the session began"):
        validation.observed_at(start - timedelta(minutes=1), now=now, session_start=start, skew_seconds=120)


@pytest.mark.parametrize("bad", ["", "   ", "x" * 20001, "a\x00b", "\ud800"])
def test_observation_text_refused(bad: str) -> None:
    with pytest.raises(ValidationError) as err:
        entries.observation("general", bad)
    assert err.value.field == "observation"


def test_text_keeps_unicode_and_markup_characters() -> None:
    text = "<b>&amp; 日本語 العربية</b>"
    assert entries.observation("client_statement", text)["text"] == text


def test_dose_rules() -> None:
    at = datetime(2026, 1, 1, 12, tzinfo=UTC)
    common = dict(drug="Ketamine", ordered_by=1, ordered_by_name="A", given_by=2, given_by_name="B", started_at=at)
    running = entries.administration(route="iv", dose=0.5, unit="mg/kg", **common)  # its end comes later
    assert "ended_at" not in running
    with pytest.raises(ValidationError, match="infusion end"):
        entries.administration(route="iv", dose=0.5, unit="mg/kg", ended_at=at, **common)
    with pytest.raises(ValidationError, match="device lot"):
        entries.administration(route="intranasal", dose=56, unit="mg", **common)
    with pytest.raises(ValidationError, match="dose"):
        entries.administration(route="im", dose=0, unit="mg", **common)
    with pytest.raises(ValidationError, match="unit"):
        entries.administration(route="im", dose=5, unit="tablets", **common)
    ok = entries.administration(route="iv", dose=0.5, unit="mg/kg", ended_at=at + timedelta(minutes=40), **common)
    assert ok["ended_at"].endswith("Z")


def test_scales_bounds() -> None:
    assert entries.scale_score("rass", -5)["score"] == -5
    with pytest.raises(ValidationError, match="0–5"):
        entries.scale_score("moaas", 6)
    with pytest.raises(ValidationError, match="allowed"):
        entries.scale_score("gcs", 3)


def test_protocol_round_trip_and_validation() -> None:
    p = ProtocolSettings()
    assert ProtocolSettings.from_json(p.to_json()) == p
    data = p.to_json().replace('"min_observation_minutes":120', '"min_observation_minutes":90')
    assert ProtocolSettings.from_json(data).discharge.min_observation_minutes == 90
    with pytest.raises(ValidationError, match="low must be below high"):
        ProtocolSettings.from_dict({"alerts": {"hr": {"low": 130, "high": 45}}})


@pytest.mark.parametrize(("typed", "shown"), [("400", "400"), (" 400 ", "400"), ("400.0", "400.0"), ("12,5", "12,5")])
def test_numbers_are_shown_as_typed(typed: str, shown: str) -> None:
    with pytest.raises(ValidationError) as err:
        validation.vitals({"hr": typed}, P)
    assert str(err.value).startswith(f"Heart rate: {shown} is not accepted;")


def test_every_wrong_field_is_reported_at_once() -> None:
    from kapconsole.domain.errors import ValidationErrors

    with pytest.raises(ValidationErrors) as err:
        validation.vitals({"sbp": "400", "dbp": "80", "hr": "12", "spo2": "abc", "rr": "14"}, P)
    assert [e.field for e in err.value.errors] == ["Systolic BP", "Heart rate", "SpO2"]
    text = str(err.value)
    assert "Systolic BP: 400 is not accepted" in text and "Heart rate: 12 is not accepted" in text
    assert "SpO2: 'abc' is not accepted; a number is expected" in text
