"""Dose sense checks: drug and route against the plan, per-route and per-session limits, boosters, allergies.

Pure functions returning structured :class:`~kapconsole.domain.gates.Blocker` values. The limits and who may
order, give and override are protocol settings (``DosingRules`` in ``protocol.py``, each with its source).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from kapconsole.domain.allergies import Allergy, AllergySeverity, allergy_conflicts, fold
from kapconsole.domain.enums import Role, Route
from kapconsole.domain.errors import PermissionDenied
from kapconsole.domain.gates import Blocker, BlockerKind, WayForward, fmt
from kapconsole.domain.protocol import DosingRules, RouteLimits

#: Names that mean the same medicine for dosing (brand and generic). Ketamine and esketamine differ in dosing.
_SAME_MEDICINE: dict[str, str] = {
    "ketamine": "ketamine", "ketalar": "ketamine", "ketanest": "ketamine",
    "esketamine": "esketamine", "spravato": "esketamine", "ketanest s": "esketamine",
}


def medicine(name: str) -> str:
    """The medicine a drug name means ("Ketalar 50 mg/mL" → "ketamine"); the folded name when unknown."""
    folded = fold(name)
    words = "".join(c if c.isalnum() else " " for c in folded).split()
    for word in words:
        if word in _SAME_MEDICINE:
            if word == "ketanest" and "s" in words:
                return "esketamine"
            return _SAME_MEDICINE[word]
    return " ".join(words)


@dataclass(frozen=True)
class Dose:
    """A dose given or about to be given."""

    drug: str
    route: str
    amount: float
    unit: str

    def mg(self, weight_kg: float | None) -> float | None:
        """The dose in mg (None when it cannot be known: mg/kg without a weight, or a volume)."""
        if self.unit == "mg":
            return self.amount
        if self.unit == "mcg":
            return self.amount / 1000
        if self.unit == "mg/kg" and weight_kg:
            return self.amount * weight_kg
        return None

    @property
    def text(self) -> str:
        return f"{fmt(self.amount)} {self.unit}"


@dataclass(frozen=True)
class Plan:
    drug: str
    route: str
    dose: float | None
    unit: str


def dose_blockers(dose: Dose, *, plan: Plan, earlier: Iterable[Dose], weight_kg: float | None,
                  rules: DosingRules, allergies: Iterable[Allergy] = ()) -> list[Blocker]:
    """Every reason ``dose`` should not be given as entered.

    ``earlier`` are the doses of the plan's medicine already given in this session (boosters count from them).
    """
    earlier = [d for d in earlier if medicine(d.drug) == medicine(plan.drug)]
    blockers: list[Blocker] = list(allergy_blockers(allergies, dose.drug))
    name = medicine(dose.drug)
    if not any(c.isalpha() for c in dose.drug):
        return blockers + [Blocker("dose.drug", f"'{dose.drug}' is not a drug name", (("drug", dose.drug),),
                                   (WayForward.CORRECT,), kind=BlockerKind.DOSE)]
    if name != medicine(plan.drug):
        blockers.append(Blocker("dose.drug", f"{dose.drug} is not the planned drug ({plan.drug})",
                                (("drug", dose.drug), ("planned", plan.drug)), (WayForward.CORRECT,), kind=BlockerKind.DOSE))
        return blockers
    if dose.route != plan.route:
        blockers.append(Blocker("dose.route", f"route {Route(dose.route).label} differs from the plan "
                                f"({Route(plan.route).label})", (("route", dose.route), ("planned", plan.route)),
                                (WayForward.CORRECT, WayForward.OVERRIDE), kind=BlockerKind.DOSE))
    if dose.unit == "mL":
        blockers.append(Blocker("dose.unit", "a dose in mL cannot be checked against the limits; enter it in mg, "
                                "mg/kg or mcg", (("unit", dose.unit),), (WayForward.CORRECT,), kind=BlockerKind.DOSE))
        return blockers
    limits = rules.route_limits.get(dose.route)
    mg = dose.mg(weight_kg)
    needs_weight = dose.unit == "mg/kg" or plan.unit == "mg/kg" or (
        limits is not None and (limits.max_dose_mg_per_kg is not None or limits.max_session_mg_per_kg is not None))
    if weight_kg is None and needs_weight:
        blockers.append(Blocker("dose.no_weight", "no weight recorded: mg/kg limits cannot be checked",
                                (("dose", dose.text),), (WayForward.CONFIRM, WayForward.CORRECT), kind=BlockerKind.DOSE))
    step = limits.multiple_of_mg if limits is not None else None
    if mg is not None and step and abs(mg / step - round(mg / step)) > 1e-6:
        blockers.append(Blocker("dose.multiple", f"{dose.drug} {fmt(mg)} mg is not a multiple of {fmt(step)} mg "
                                "(one device)", (("dose", dose.text),), (WayForward.CORRECT,), kind=BlockerKind.DOSE))
    planned = Dose(plan.drug, plan.route, plan.dose, plan.unit).mg(weight_kg) if plan.dose else None
    if planned is not None and mg is not None and mg > planned + 1e-9:
        blockers.append(Blocker(f"dose.above_plan:{dose.text}",
                                f"{dose.text} is above the planned {fmt(plan.dose or 0)} {plan.unit}",
                                (("dose", dose.text), ("planned", f"{fmt(plan.dose or 0)} {plan.unit}")),
                                (WayForward.CONFIRM, WayForward.CORRECT), kind=BlockerKind.DOSE))
    boosters = len(earlier)  # this dose is booster number len(earlier) when earlier is not empty
    if boosters > rules.max_boosters:
        blockers.append(Blocker("dose.boosters", f"booster {boosters} of at most {rules.max_boosters}",
                                (("boosters", str(boosters)), ("dose", dose.text)), (WayForward.OVERRIDE,), kind=BlockerKind.DOSE))
    if limits is not None:
        blockers += _limit_blockers(dose, mg, earlier, weight_kg, limits)
    return blockers


def _limit_blockers(dose: Dose, mg: float | None, earlier: list[Dose], weight_kg: float | None,
                    limits: RouteLimits) -> list[Blocker]:
    out = []
    route = Route(dose.route).label
    values = (("dose", dose.text),)
    if mg is not None and limits.max_dose_mg is not None and mg > limits.max_dose_mg:
        out.append(Blocker("dose.max_dose", f"{fmt(mg)} mg is above the {route} maximum of "
                           f"{fmt(limits.max_dose_mg)} mg per dose", values, (WayForward.CORRECT, WayForward.OVERRIDE), kind=BlockerKind.DOSE))
    if mg is not None and weight_kg and limits.max_dose_mg_per_kg is not None:
        per_kg = mg / weight_kg
        if per_kg > limits.max_dose_mg_per_kg + 1e-9:
            out.append(Blocker("dose.max_dose_per_kg", f"{per_kg:.2f} mg/kg ({fmt(mg)} mg at {fmt(weight_kg)} kg) is "
                               f"above the {route} maximum of {fmt(limits.max_dose_mg_per_kg)} mg/kg per dose",
                               values + (("weight", f"{fmt(weight_kg)} kg"),),
                               (WayForward.CORRECT, WayForward.OVERRIDE), kind=BlockerKind.DOSE))
    given = [d.mg(weight_kg) for d in earlier]
    if mg is not None and None not in given:
        total = mg + sum(g for g in given if g is not None)
        tvalues = values + (("session total", f"{fmt(total)} mg"),)
        if limits.max_session_mg is not None and total > limits.max_session_mg + 1e-9:
            out.append(Blocker("dose.max_session", f"the session total {fmt(total)} mg is above the {route} maximum "
                               f"of {fmt(limits.max_session_mg)} mg", tvalues,
                               (WayForward.CORRECT, WayForward.OVERRIDE), kind=BlockerKind.DOSE))
        if weight_kg and limits.max_session_mg_per_kg is not None:
            per_kg = total / weight_kg
            if per_kg > limits.max_session_mg_per_kg + 1e-9:
                out.append(Blocker("dose.max_session_per_kg", f"the session total {per_kg:.2f} mg/kg is above the "
                                   f"{route} maximum of {fmt(limits.max_session_mg_per_kg)} mg/kg",
                                   tvalues + (("weight", f"{fmt(weight_kg)} kg"),),
                                   (WayForward.CORRECT, WayForward.OVERRIDE), kind=BlockerKind.DOSE))
    return out


def allergy_blockers(allergies: Iterable[Allergy], drug: str) -> list[Blocker]:
    """One blocker per recorded allergy that concerns ``drug``; giving it anyway needs a supervisor's override."""
    out = []
    for allergy in allergy_conflicts(allergies, drug):
        severity = "" if allergy.severity is AllergySeverity.UNKNOWN else f" ({allergy.severity.value})"
        reaction = f": {allergy.reaction}" if allergy.reaction else ""
        out.append(Blocker(f"allergy.{fold(allergy.substance)}",
                           f"recorded allergy to {allergy.substance}{severity}{reaction} — {drug}",
                           (("drug", drug), ("allergy", allergy.describe())),
                           (WayForward.CORRECT, WayForward.OVERRIDE), kind=BlockerKind.ALLERGY))
    return out


def require_people(*, ordered_by_roles: frozenset[Role], ordered_by_name: str, given_by_roles: frozenset[Role],
                   given_by_name: str, rules: DosingRules) -> None:
    """Ordering needs a prescriber role (protocol setting); giving needs medical staff."""
    prescribers = {Role(r) for r in rules.prescriber_roles}
    if not prescribers & ordered_by_roles:
        raise PermissionDenied(f"{ordered_by_name} may not order a dose; the protocol's prescribers are: "
                               + ", ".join(sorted(r.label for r in prescribers)))
    givers = {Role(r) for r in rules.giver_roles}
    if not givers & given_by_roles:
        raise PermissionDenied(f"{given_by_name} may not give a dose; it needs one of: "
                               + ", ".join(sorted(r.label for r in givers)))
