"""Structured allergies and the one rule that compares them with a drug about to be given.

The front desk records allergies as (substance, reaction, severity); every administration, dose or rescue
medication, is checked against them with :func:`allergy_conflicts`.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum


class AllergySeverity(StrEnum):
    MILD = "mild"
    MODERATE = "moderate"
    SEVERE = "severe"
    ANAPHYLAXIS = "anaphylaxis"
    UNKNOWN = "unknown"

    @property
    def label(self) -> str:
        return self.value.capitalize()


@dataclass(frozen=True)
class Allergy:
    substance: str
    reaction: str = ""
    severity: AllergySeverity = AllergySeverity.UNKNOWN

    def describe(self) -> str:
        parts = [self.substance]
        if self.reaction:
            parts.append(self.reaction)
        if self.severity is not AllergySeverity.UNKNOWN:
            parts.append(self.severity.value)
        return " — ".join(parts)


#: Names that belong to one substance family: an allergy to any name is an allergy to all of them.
DRUG_FAMILIES: tuple[frozenset[str], ...] = (
    frozenset({"ketamine", "esketamine", "arketamine", "ketalar", "spravato", "ketanest"}),
    frozenset({"midazolam", "lorazepam", "diazepam", "benzodiazepine", "benzodiazepines", "versed", "ativan"}),
    frozenset({"ondansetron", "zofran", "granisetron", "5-ht3 antagonist"}),
    frozenset({"labetalol", "trandate", "beta blocker", "beta-blocker", "beta blockers"}),
    frozenset({"clonidine", "catapres", "dexmedetomidine"}),
    frozenset({"metoclopramide", "reglan"}),
    frozenset({"promethazine", "phenergan"}),
)


def fold(text: str) -> str:
    """Case- and accent-insensitive form used to compare names ("Kétamine" matches "ketamine")."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return " ".join("".join(c for c in decomposed if not unicodedata.combining(c)).split())


def _names(drug: str) -> set[str]:
    folded = fold(drug)
    words = "".join(c if c.isalnum() or c in "- " else " " for c in folded)
    names = {folded, " ".join(words.split())} | set(words.split())
    for family in DRUG_FAMILIES:
        if names & family:
            names |= family
    return {n for n in names if n}


def allergy_conflicts(allergies: Iterable[Allergy], drug: str) -> tuple[Allergy, ...]:
    """The recorded allergies that concern ``drug`` (same substance, a brand name, or the same family)."""
    drug_names = _names(drug)
    hits = []
    for allergy in allergies:
        substance = _names(allergy.substance)
        if substance & drug_names:
            hits.append(allergy)
    return tuple(hits)
