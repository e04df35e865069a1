"""The clinic's formulary of rescue and adjunct (PRN) medications, kept in the protocol.

Each drug the clinic keeps on a standing order has a usual dose, the unit it is given in, the routes it may be
given by, the most that may be given in one session without a written reason, and what it is for. The defaults
are examples a clinic edits; their sources:

- clinical reference, "Rescue and adjunct medications": ondansetron 4 mg ODT/IV (nausea), clonidine 0.1 mg PO or
  labetalol 5–10 mg IV (hypertension, per physician), midazolam 1–2 mg IV/IM or lorazepam 0.5–1 mg (severe
  agitation, emergence reaction), oxygen by nasal cannula (SpO2 below threshold);
- the US product labels (DailyMed) for the maximum amounts: ondansetron (Zofran: a single IV dose above 16 mg is
  not given, QT prolongation; 8 mg is the usual ceiling of a PRN order), metoclopramide (Reglan: 10 mg, up to
  20 mg), labetalol (Trandate: 20 mg IV, repeated to a total of 300 mg — a KAP clinic's standing order stops far
  lower), clonidine (Catapres: 0.1–0.2 mg for an acute rise), midazolam (a total above 5 mg is rarely needed for
  sedation), lorazepam (Ativan injection/tablet: 2 mg);
- oxygen: 1–6 L/min by nasal cannula, 5–10 L/min by simple face mask (BTS guideline for oxygen use in adults in
  healthcare and emergency settings, 2017). For oxygen the "maximum" is the highest flow, not a total.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from kapconsole.domain.errors import ValidationError


class MedRoute(StrEnum):
    """How a rescue or adjunct medication is given."""

    PO = "po"
    ODT = "odt"
    SUBLINGUAL = "sublingual"
    IV = "iv"
    IM = "im"
    SC = "sc"
    INTRANASAL = "intranasal"
    NASAL_CANNULA = "nasal_cannula"
    FACE_MASK = "face_mask"

    @property
    def label(self) -> str:
        return {
            "po": "By mouth (PO)",
            "odt": "Orally dissolving tablet (ODT)",
            "sublingual": "Sublingual",
            "iv": "Intravenous (IV)",
            "im": "Intramuscular (IM)",
            "sc": "Subcutaneous (SC)",
            "intranasal": "Intranasal",
            "nasal_cannula": "Nasal cannula",
            "face_mask": "Face mask",
        }[self.value]

    @property
    def short(self) -> str:
        return {
            "po": "PO",
            "odt": "ODT",
            "sublingual": "SL",
            "iv": "IV",
            "im": "IM",
            "sc": "SC",
            "intranasal": "IN",
            "nasal_cannula": "nasal cannula",
            "face_mask": "face mask",
        }[self.value]


#: Units a rescue medication may be given in, and the plausible upper bound of one administration in each
#: (a typing error such as "40" for "4.0" mg of a drug that is not in the formulary is refused).
MED_UNITS: dict[str, float] = {"mg": 1000, "mcg": 5000, "mL": 1000, "L/min": 15}

#: Units that are a rate (oxygen flow): the formulary's maximum is the highest rate, not a session total.
RATE_UNITS = frozenset({"L/min"})


@dataclass(frozen=True)
class FormularyDrug:
    """One medication on the clinic's standing PRN order."""

    key: str
    drug: str
    usual_dose: float
    unit: str
    routes: tuple[str, ...]
    #: The most that may be given in one session (for a rate, the highest rate) without a written reason.
    max_dose: float
    indication: str

    @property
    def is_rate(self) -> bool:
        return self.unit in RATE_UNITS

    @property
    def route_values(self) -> tuple[MedRoute, ...]:
        return tuple(MedRoute(r) for r in self.routes)

    def describe(self) -> str:
        routes = "/".join(r.short for r in self.route_values)
        return f"{self.drug} {format_amount(self.usual_dose)} {self.unit} {routes} — {self.indication}"

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> FormularyDrug:
        return cls(key=str(data["key"]), drug=str(data["drug"]), usual_dose=float(data["usual_dose"]),
                   unit=str(data["unit"]), routes=tuple(str(r) for r in data["routes"]),
                   max_dose=float(data["max_dose"]), indication=str(data.get("indication", "")))


def format_amount(value: float) -> str:
    """A dose as a person writes it: 4 not 4.0, 0.1 not 0.10000000000000001."""
    return f"{value:.3f}".rstrip("0").rstrip(".") if not float(value).is_integer() else str(int(value))


def default_formulary() -> tuple[FormularyDrug, ...]:
    # Sources: see the module docstring.
    return (
        FormularyDrug("ondansetron", "Ondansetron", 4, "mg", ("odt", "iv", "po"), 8, "Nausea or vomiting"),
        FormularyDrug("metoclopramide", "Metoclopramide", 10, "mg", ("iv", "im", "po"), 20, "Nausea or vomiting"),
        FormularyDrug("labetalol", "Labetalol", 10, "mg", ("iv",), 20, "Hypertension, per physician"),
        FormularyDrug("clonidine", "Clonidine", 0.1, "mg", ("po",), 0.2, "Hypertension, per physician"),
        FormularyDrug("midazolam", "Midazolam", 1, "mg", ("iv", "im", "intranasal"), 5,
                      "Severe agitation or emergence reaction"),
        FormularyDrug("lorazepam", "Lorazepam", 0.5, "mg", ("po", "sublingual", "iv", "im"), 2,
                      "Severe agitation or anxiety"),
        FormularyDrug("oxygen", "Oxygen", 2, "L/min", ("nasal_cannula", "face_mask"), 10,
                      "SpO2 below the alert line"),
    )


def validate_formulary(items: tuple[FormularyDrug, ...]) -> None:
    """Refuse a formulary a clinic could not dose from (duplicate keys, unknown units or routes, usual > max)."""
    keys = [d.key for d in items]
    if len(set(keys)) != len(keys):
        raise ValidationError("formulary", ",".join(keys), "drug keys must be unique")
    for d in items:
        where = f"formulary.{d.key}"
        if not d.key.strip() or not d.drug.strip():
            raise ValidationError(where, d.drug, "every drug needs a key and a name")
        if d.unit not in MED_UNITS:
            raise ValidationError(f"{where}.unit", d.unit, f"allowed: {', '.join(MED_UNITS)}")
        if not d.routes:
            raise ValidationError(f"{where}.routes", "", "at least one route")
        for r in d.routes:
            if r not in {m.value for m in MedRoute}:
                raise ValidationError(f"{where}.routes", r, f"allowed: {', '.join(m.value for m in MedRoute)}")
        if not 0 < d.usual_dose <= d.max_dose <= MED_UNITS[d.unit]:
            raise ValidationError(f"{where}.usual_dose", f"{d.usual_dose}–{d.max_dose} {d.unit}",
                                  f"0 < usual ≤ maximum ≤ {format_amount(MED_UNITS[d.unit])} {d.unit}")


def find(items: tuple[FormularyDrug, ...], drug: str) -> FormularyDrug | None:
    """The formulary entry named by its key or its name (case-insensitive)."""
    wanted = drug.strip().casefold()
    return next((d for d in items if wanted in (d.key.casefold(), d.drug.casefold())), None)
