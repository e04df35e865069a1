"""The clinic formulary of rescue medications, a rescue administration's validation, and late entries."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from kapconsole.domain.allergies import Allergy, AllergySeverity
from kapconsole.domain.enums import EntryKind
from kapconsole.domain.errors import ValidationError
from kapconsole.domain.formulary import FormularyDrug, MedRoute, default_formulary, format_amount
from kapconsole.domain.protocol import ProtocolSettings
from kapconsole.domain.record import late_by
from kapconsole.domain.rescue import (
    AboveFormularyMaximum,
    AllergyConflict,
    RescueMedication,
    rescue_medication,
    session_total,
)
from kapconsole.domain.values import Entry

PEOPLE = dict(ordered_by=3, ordered_by_name="Dr Sam Supervisor", given_by=2, given_by_name="Nina Nurse")


def give(protocol: ProtocolSettings | None = None, **kw: object) -> RescueMedication:
    args: dict[str, object] = dict(drug="ondansetron", dose="4", unit="", route="odt", reason="nausea", **PEOPLE)
    args.update(kw)
    return rescue_medication(protocol or ProtocolSettings(), **args)  # type: ignore[arg-type]


def test_default_formulary_has_the_standing_orders_with_usual_doses() -> None:
    items = {d.key: d for d in ProtocolSettings().formulary}
    assert {"ondansetron", "labetalol", "clonidine", "midazolam", "metoclopramide", "oxygen"} <= set(items)
    assert (items["ondansetron"].usual_dose, items["ondansetron"].unit) == (4, "mg")
    assert items["oxygen"].unit == "L/min" and items["oxygen"].is_rate
    assert MedRoute.IV in items["labetalol"].route_values
    assert items["clonidine"].describe() == "Clonidine 0.1 mg PO — Hypertension, per physician"
    for d in items.values():
        assert 0 < d.usual_dose <= d.max_dose and d.indication


def test_formulary_survives_the_protocol_round_trip_and_a_clinic_can_edit_it() -> None:
    own = replace(ProtocolSettings(), formulary=(
        FormularyDrug("prochlorperazine", "Prochlorperazine", 5, "mg", ("im",), 10, "Nausea"),), late_entry_minutes=30)
    back = ProtocolSettings.from_json(own.to_json())
    assert back.formulary == own.formulary and back.late_entry_minutes == 30
    # A protocol stored before the formulary existed gets the default one.
    assert ProtocolSettings.from_dict({}).formulary == default_formulary()


@pytest.mark.parametrize("bad", [
    FormularyDrug("x", "X", 4, "grains", ("po",), 8, ""),
    FormularyDrug("x", "X", 4, "mg", ("rectal",), 8, ""),
    FormularyDrug("x", "X", 10, "mg", ("po",), 8, ""),
    FormularyDrug("x", "X", 0, "mg", ("po",), 8, ""),
    FormularyDrug("x", "X", 1, "mg", (), 8, ""),
])
def test_an_unusable_formulary_is_refused(bad: FormularyDrug) -> None:
    with pytest.raises(ValidationError, match="formulary"):
        replace(ProtocolSettings(), formulary=(bad,)).validate()
    with pytest.raises(ValidationError, match="unique"):
        replace(ProtocolSettings(), formulary=(default_formulary()[0], default_formulary()[0])).validate()


def test_a_valid_rescue_administration_takes_the_formulary_name_and_unit() -> None:
    med = give(drug="ONDANSETRON", side_effect=41)
    assert (med.drug, med.formulary_key, med.dose, med.unit, med.route) == ("Ondansetron", "ondansetron", 4.0,
                                                                            "mg", MedRoute.ODT)
    assert med.side_effect == 41 and med.reason == "nausea"
    assert RescueMedication.from_payload(med.to_payload()) == med
    assert med.describe() == "Ondansetron 4 mg ODT — nausea; given by Nina Nurse, ordered by Dr Sam Supervisor"
    assert med.short == "Ondansetron 4 mg ODT"


@pytest.mark.parametrize(("kw", "field"), [
    ({"route": "im"}, "route"),           # ondansetron is not on the order IM
    ({"route": "rectal"}, "route"),
    ({"unit": "mcg"}, "unit"),            # formulary unit is mg
    ({"dose": "0"}, "dose"),
    ({"dose": "-4"}, "dose"),
    ({"dose": "four"}, "dose"),
    ({"dose": "nan"}, "dose"),
    ({"reason": "  "}, "reason"),
    ({"drug": ""}, "drug"),
    ({"drug": "aspirin", "unit": "tablets"}, "unit"),
    ({"drug": "aspirin", "unit": "mg", "dose": "5000"}, "dose"),
    ({"side_effect": True}, "side effect"),
])
def test_invalid_administrations_name_the_field(kw: dict[str, object], field: str) -> None:
    with pytest.raises(ValidationError) as err:
        give(**kw)
    assert err.value.field == field


def test_above_the_session_maximum_needs_a_reason_which_is_kept() -> None:
    first = give(dose=4)
    second = give(dose=4, given_before=[first])
    assert session_total([first, second], ProtocolSettings().formulary_drug("ondansetron")) == 8  # type: ignore[arg-type]
    with pytest.raises(AboveFormularyMaximum, match=r"at most 8 mg in one session \(8 mg already given\)"):
        give(dose=4, given_before=[first, second])
    third = give(dose=4, given_before=[first, second], over_max_reason="persistent vomiting, Dr S by phone")
    assert third.to_payload()["over_max_reason"] == "persistent vomiting, Dr S by phone"
    # A reason given when none is needed is not kept.
    assert "over_max_reason" not in give(dose=4, over_max_reason="just in case").to_payload()


def test_oxygen_maximum_is_a_flow_rate_not_a_total() -> None:
    o2 = [give(drug="oxygen", dose="2", route="nasal_cannula", reason="SpO2 90") for _ in range(6)]
    assert session_total(o2, ProtocolSettings().formulary_drug("oxygen")) == 2  # type: ignore[arg-type]
    assert give(drug="Oxygen", dose="6", route="face_mask", reason="SpO2 88", given_before=o2).unit == "L/min"
    with pytest.raises(AboveFormularyMaximum, match="highest rate is 10 L/min"):
        give(drug="oxygen", dose="12", route="face_mask", reason="SpO2 85")


def test_allergy_needs_a_written_reason_and_the_allergies_are_kept() -> None:
    allergies = [Allergy("Zofran", "rash", AllergySeverity.MILD), Allergy("latex")]
    with pytest.raises(AllergyConflict) as err:
        give(allergies=allergies)
    assert err.value.allergies == (allergies[0],) and "Zofran — rash — mild" in str(err.value)
    med = give(allergies=allergies, allergy_override_reason="mild rash only; benefit outweighs, per Dr S")
    assert med.allergies_overridden == ("Zofran — rash — mild",)
    assert give(drug="metoclopramide", route="iv", dose="10", allergies=allergies).allergy_override_reason == ""


def test_a_drug_off_the_formulary_is_recorded_with_a_unit_and_plausible_dose() -> None:
    med = give(drug="Diphenhydramine", dose="25", unit="mg", route="iv", reason="itching")
    assert med.formulary_key == "" and med.drug == "Diphenhydramine"
    assert format_amount(0.1) == "0.1" and format_amount(4.0) == "4" and format_amount(0.125) == "0.125"


def _entry(kind: EntryKind, observed: datetime, entered: datetime) -> Entry:
    return Entry(1, 1, 1, kind, observed, entered, 1, "N", "room-1", None, {}, "", "")


def test_late_entry_rule_is_a_protocol_setting() -> None:
    now = datetime(2026, 11, 29, 12, 0, tzinfo=UTC)
    protocol = ProtocolSettings()
    assert late_by(_entry(EntryKind.VITALS, now - timedelta(minutes=14), now), protocol) is None
    assert late_by(_entry(EntryKind.VITALS, now - timedelta(minutes=15), now), protocol) == timedelta(minutes=15)
    assert late_by(_entry(EntryKind.VITALS, now - timedelta(minutes=20), now),
                   replace(protocol, late_entry_minutes=30)) is None
    assert late_by(_entry(EntryKind.AMENDMENT, now - timedelta(hours=2), now), protocol) is None
    with pytest.raises(ValidationError, match="late_entry_minutes"):
        replace(protocol, late_entry_minutes=0).validate()
