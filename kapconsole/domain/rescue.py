"""A rescue or adjunct medication given during a session: what a valid administration is.

Rescue medications are administrations, not free text: drug, dose, unit, route, time, who ordered it (a
prescriber), who gave it (medical staff), why, and the side effect it treats. A drug on the clinic's formulary
is given in the formulary's unit and by one of its routes; more than the formulary's maximum in one session, or
a drug the client is recorded as allergic to, needs a written reason, which is kept with the entry.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from kapconsole.domain import validation as v
from kapconsole.domain.allergies import Allergy, allergy_conflicts
from kapconsole.domain.entry_base import EntryContent, EntryLookup, label_of, local_time, register
from kapconsole.domain.enums import EntryKind, SideEffectKind
from kapconsole.domain.errors import ValidationError
from kapconsole.domain.formulary import MED_UNITS, FormularyDrug, MedRoute, find, format_amount
from kapconsole.domain.protocol import ProtocolSettings

if TYPE_CHECKING:
    from kapconsole.domain.values import Entry


class AllergyConflict(ValidationError):
    """The drug concerns an allergy on the client's record; it may be given only with a written reason."""

    def __init__(self, drug: str, allergies: tuple[Allergy, ...]) -> None:
        self.allergies = allergies
        listed = "; ".join(a.describe() for a in allergies)
        super().__init__("drug", drug, f"the client has a recorded allergy ({listed}); give the reason to proceed")


class AboveFormularyMaximum(ValidationError):
    """The dose would take the session above the formulary's maximum; it needs a written reason."""

    def __init__(self, drug: FormularyDrug, dose: float, given_before: float) -> None:
        self.drug = drug
        self.dose = dose
        self.given_before = given_before
        if drug.is_rate:
            allowed = f"the formulary's highest rate is {format_amount(drug.max_dose)} {drug.unit}; give the reason"
        else:
            before = f" ({format_amount(given_before)} {drug.unit} already given)" if given_before else ""
            allowed = (f"the formulary allows at most {format_amount(drug.max_dose)} {drug.unit} in one session"
                       f"{before}; give the reason")
        super().__init__("dose", f"{format_amount(dose)} {drug.unit}", allowed)


@register
@dataclass(frozen=True)
class RescueMedication(EntryContent):
    """One validated rescue or adjunct medication administration (its clinical time is the entry's)."""

    kind = EntryKind.RESCUE_MEDICATION
    amendable = True

    drug: str
    #: The formulary entry's key; empty for a drug that is not on the clinic's formulary.
    formulary_key: str
    dose: float
    unit: str
    route: MedRoute
    reason: str
    side_effect: int | None
    ordered_by: int
    ordered_by_name: str
    given_by: int
    given_by_name: str
    over_max_reason: str = ""
    allergy_override_reason: str = ""
    #: The allergies that were overridden, as they read when the drug was given.
    allergies_overridden: tuple[str, ...] = ()

    @property
    def short(self) -> str:
        """``Ondansetron 4 mg ODT``: for chart markers and lists."""
        return f"{self.drug} {format_amount(self.dose)} {self.unit} {self.route.short}"

    def describe(self, record: EntryLookup | None = None) -> str:
        text = f"{self.short} — {self.reason}" if self.reason else self.short
        target = record.by_id.get(self.side_effect) if record is not None and self.side_effect else None
        if target is not None:
            what = label_of(SideEffectKind, target.payload.get("effect")).lower()
            text += f" (for {what} of {local_time(target.observed_at)})"
        if self.over_max_reason:
            text += f"; above the formulary maximum: {self.over_max_reason}"
        if self.allergy_override_reason:
            text += f"; despite allergy ({'; '.join(self.allergies_overridden)}): {self.allergy_override_reason}"
        return text + f"; given by {self.given_by_name}, ordered by {self.ordered_by_name}"

    def corrected(self, changes: Mapping[str, Any], protocol: ProtocolSettings, original: Entry) -> EntryContent:
        """An amendment: dose, unit, route, drug, reason or linked side effect corrected, with the same rules.

        Who ordered and gave it stays as recorded; the allergy and maximum reasons given then still apply.
        """
        m = {**self.to_payload(), **changes}
        return rescue_medication(
            protocol, drug=m["drug"], dose=m["dose"], unit=m["unit"], route=m["route"], reason=m["reason"],
            ordered_by=self.ordered_by, ordered_by_name=self.ordered_by_name, given_by=self.given_by,
            given_by_name=self.given_by_name, side_effect=m.get("side_effect"),
            over_max_reason=m.get("over_max_reason", ""),
            allergy_override_reason=m.get("allergy_override_reason", ""))

    def to_payload(self) -> dict[str, Any]:
        payload: dict[str, Any] = {
            "drug": self.drug,
            "formulary_key": self.formulary_key,
            "dose": self.dose,
            "unit": self.unit,
            "route": self.route.value,
            "reason": self.reason,
            "ordered_by": self.ordered_by,
            "ordered_by_name": self.ordered_by_name,
            "given_by": self.given_by,
            "given_by_name": self.given_by_name,
        }
        if self.side_effect is not None:  # stored only when linked: a reference the chain checks
            payload["side_effect"] = self.side_effect
        if self.over_max_reason:
            payload["over_max_reason"] = self.over_max_reason
        if self.allergy_override_reason:
            payload["allergy_override_reason"] = self.allergy_override_reason
            payload["allergies_overridden"] = list(self.allergies_overridden)
        return payload

    @classmethod
    def from_payload(cls, payload: Mapping[str, Any]) -> RescueMedication:
        side = payload.get("side_effect")
        return cls(
            drug=str(payload["drug"]), formulary_key=str(payload.get("formulary_key", "")),
            dose=float(payload["dose"]), unit=str(payload["unit"]), route=MedRoute(payload["route"]),
            reason=str(payload.get("reason", "")), side_effect=None if side is None else int(side),
            ordered_by=int(payload["ordered_by"]), ordered_by_name=str(payload["ordered_by_name"]),
            given_by=int(payload["given_by"]), given_by_name=str(payload["given_by_name"]),
            over_max_reason=str(payload.get("over_max_reason", "")),
            allergy_override_reason=str(payload.get("allergy_override_reason", "")),
            allergies_overridden=tuple(str(a) for a in payload.get("allergies_overridden", ())),
        )


def session_total(given: Iterable[RescueMedication], drug: FormularyDrug) -> float:
    """How much of a formulary drug the session has had so far (for a rate, the highest rate)."""
    amounts = [g.dose for g in given if g.formulary_key == drug.key and g.unit == drug.unit]
    if drug.is_rate:
        return max(amounts, default=0.0)
    return sum(amounts)


def rescue_medication(protocol: ProtocolSettings, *, drug: str, dose: object, unit: str, route: str, reason: str,
                      ordered_by: int, ordered_by_name: str, given_by: int, given_by_name: str,
                      side_effect: int | None = None, given_before: Iterable[RescueMedication] = (),
                      allergies: Iterable[Allergy] = (), over_max_reason: str = "",
                      allergy_override_reason: str = "") -> RescueMedication:
    """Validate a rescue administration against the session's formulary and the client's allergies.

    Raises :class:`ValidationError` naming the first field that is wrong; :class:`AllergyConflict` or
    :class:`AboveFormularyMaximum` when the matching reason is missing.
    """
    name = v.text("drug", drug, required=True)
    listed = find(protocol.formulary, name)
    route_value = v.choice("route", route, MedRoute)
    clean_unit = v.text("unit", unit) or (listed.unit if listed else "")
    if listed is not None:
        if clean_unit != listed.unit:
            raise ValidationError("unit", clean_unit, f"{listed.drug} is given in {listed.unit} (clinic formulary)")
        if route_value not in listed.route_values:
            routes = ", ".join(r.label for r in listed.route_values)
            raise ValidationError("route", route_value.label, f"{listed.drug} is given: {routes}")
        name = listed.drug
    elif clean_unit not in MED_UNITS:
        raise ValidationError("unit", clean_unit, f"allowed: {', '.join(MED_UNITS)}")
    amount = v.number("dose", dose, low=0, high=MED_UNITS[clean_unit], unit=clean_unit, decimals=3)
    if amount is None or amount <= 0:
        raise ValidationError("dose", dose, f"must be more than 0 {clean_unit}")
    why = v.text("reason", reason, limit=v.REASON_TEXT, required=True)
    over = v.text("reason for exceeding the maximum", over_max_reason, limit=v.REASON_TEXT)
    allergy_why = v.text("reason for giving despite the allergy", allergy_override_reason, limit=v.REASON_TEXT)
    if listed is not None:
        before = session_total(given_before, listed)
        total = amount if listed.is_rate else before + amount
        if total > listed.max_dose + 1e-9 and not over:
            raise AboveFormularyMaximum(listed, float(amount), before)
        if total <= listed.max_dose + 1e-9:
            over = ""  # a reason for nothing is not kept
    else:
        over = ""
    conflicts = allergy_conflicts(tuple(allergies), name)
    if conflicts and not allergy_why:
        raise AllergyConflict(name, conflicts)
    if not conflicts:
        allergy_why = ""
    if side_effect is not None and (isinstance(side_effect, bool) or not isinstance(side_effect, int)):
        raise ValidationError("side effect", side_effect, "the side effect's entry number")
    return RescueMedication(
        drug=name, formulary_key=listed.key if listed else "", dose=float(amount), unit=clean_unit,
        route=route_value, reason=why, side_effect=side_effect, ordered_by=ordered_by,
        ordered_by_name=ordered_by_name, given_by=given_by, given_by_name=given_by_name, over_max_reason=over,
        allergy_override_reason=allergy_why, allergies_overridden=tuple(a.describe() for a in conflicts),
    )


# Every other kind registers with this one, whichever module is imported first (entries imports this module).
from kapconsole.domain import entries as _entries  # noqa: E402, F401
