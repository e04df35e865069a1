"""Protocol settings are checked for type, finiteness and range when loaded, edited or imported; each message
names the setting."""

from __future__ import annotations

import json
from dataclasses import replace
from typing import Any

import pytest

from kapconsole.domain.errors import ValidationError
from kapconsole.domain.protocol import Limits, ProtocolSettings


def _with(**changes: Any) -> dict[str, Any]:
    data = json.loads(ProtocolSettings().to_json())
    for path, value in changes.items():
        *parents, last = path.split("__")
        target = data
        for p in parents:
            target = target[p]
        target[last] = value
    return data


@pytest.mark.parametrize(("path", "value", "named"), [
    ("alerts__sbp__high", "130", "alerts.sbp.high"),
    ("alerts__sbp__high", int("9" * 400), "alerts.sbp.high"),
    ("alerts__hr__high", float("nan"), "alerts.hr.high"),
    ("alerts__hr__high", float("inf"), "alerts.hr.high"),
    ("plausible__hr__low", 999, "plausible.hr"),
    ("sbp_rise_alert", -1_000_000_000, "sbp_rise_alert"),
    ("sbp_rise_alert", "40", "sbp_rise_alert"),
    ("dbp_rise_alert", 0, "dbp_rise_alert"),
    ("clock_skew_seconds", 10**30, "clock_skew_seconds"),
    ("schedule__later_interval", 30.5, "schedule.later_interval"),
    ("discharge__min_spo2", True, "discharge.min_spo2"),
    ("discharge__required_moaas", 9, "discharge.required_moaas"),
])
def test_bad_values_are_refused_naming_the_setting(path: str, value: object, named: str) -> None:
    with pytest.raises(ValidationError) as raised:
        ProtocolSettings.from_dict(_with(**{path: value}))
    assert raised.value.field.startswith(named) or named in str(raised.value)


def test_bad_shapes_are_validation_errors() -> None:
    for data in ({"checklist": [{"key": "x"}]}, {"alerts": [1, 2]}, {"schedule": {"nope": 1}},
                 {"checklist": [{"key": "", "label": "x"}]}, {"discharge": {"scores": 5}}):
        with pytest.raises(ValidationError):
            ProtocolSettings.from_dict(data)  # type: ignore[arg-type]
    with pytest.raises(ValidationError):
        ProtocolSettings.from_dict([])  # type: ignore[arg-type]


def test_edited_settings_are_checked_too() -> None:
    base = ProtocolSettings()
    with pytest.raises(ValidationError, match="alerts.sbp.high"):
        replace(base, alerts={**base.alerts, "sbp": Limits(None, float("nan"))}).validate()
    with pytest.raises(ValidationError, match="low must be below high"):
        replace(base, alerts={**base.alerts, "hr": Limits(120, 50)}).validate()


def test_the_defaults_and_a_sensible_edit_pass() -> None:
    ProtocolSettings().validate()
    edited = ProtocolSettings.from_dict(_with(alerts__sbp__high=150, sbp_rise_alert=30))
    assert edited.alerts["sbp"].high == 150 and edited.sbp_rise_alert == 30
    assert ProtocolSettings.from_json(edited.to_json()) == edited
