"""Outcome measures recorded at check-in before dosing: PHQ-9, GAD-7 and PCL-5, scored with severity bands.

Source: clinical reference, "Outcome measures" (public-domain instruments). PHQ-9 0–27, bands 0–4 minimal,
5–9 mild, 10–14 moderate, 15–19 moderately severe, 20–27 severe; an item-9 answer above 0 (thoughts of being
better off dead or of self-harm) asks a clinician to assess suicide risk before proceeding. GAD-7 0–21, cut-offs
5/10/15. PCL-5 0–80, about 31–33 probable PTSD (the lower bound of that range is used here).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

from kapconsole.domain.errors import ValidationError


class Instrument(StrEnum):
    PHQ9 = "phq9"
    GAD7 = "gad7"
    PCL5 = "pcl5"

    @property
    def label(self) -> str:
        return {"phq9": "PHQ-9", "gad7": "GAD-7", "pcl5": "PCL-5"}[self.value]

    @property
    def items(self) -> int:
        return {"phq9": 9, "gad7": 7, "pcl5": 20}[self.value]

    @property
    def item_max(self) -> int:
        return 4 if self is Instrument.PCL5 else 3

    @property
    def maximum(self) -> int:
        return self.items * self.item_max

    @property
    def bands(self) -> tuple[tuple[int, str], ...]:
        """(lowest total, band name), ascending."""
        return {
            "phq9": ((0, "minimal"), (5, "mild"), (10, "moderate"), (15, "moderately severe"), (20, "severe")),
            "gad7": ((0, "minimal"), (5, "mild"), (10, "moderate"), (15, "severe")),
            "pcl5": ((0, "below the PTSD threshold"), (31, "probable PTSD")),
        }[self.value]

    def band(self, total: int) -> str:
        name = self.bands[0][1]
        for low, band in self.bands:
            if total >= low:
                name = band
        return name


@dataclass(frozen=True)
class OutcomeScore:
    instrument: Instrument
    items: tuple[int, ...]

    @property
    def total(self) -> int:
        return sum(self.items)

    @property
    def band(self) -> str:
        return self.instrument.band(self.total)

    @property
    def self_harm_answer(self) -> int | None:
        """PHQ-9 item 9 (thoughts of being better off dead or of hurting oneself); None for other instruments."""
        return self.items[8] if self.instrument is Instrument.PHQ9 else None

    @property
    def needs_risk_assessment(self) -> bool:
        answer = self.self_harm_answer
        return answer is not None and answer > 0

    @property
    def text(self) -> str:
        return f"{self.instrument.label} {self.total} ({self.band})"


SELF_HARM_FLAG = ("PHQ-9 item 9 answered {answer}: thoughts of self-harm reported. "
                  "A clinician assesses suicide risk before dosing.")


def score(instrument: Instrument | str, items: Sequence[object]) -> OutcomeScore:
    """Validate every item answer of ``instrument`` and return the score."""
    try:
        which = Instrument(instrument)
    except ValueError:
        raise ValidationError("instrument", instrument, "allowed: " + ", ".join(i.label for i in Instrument)) from None
    values = list(items)
    if len(values) != which.items:
        raise ValidationError(f"{which.label} answers", len(values), f"needs all {which.items} items answered")
    clean = []
    for n, value in enumerate(values, start=1):
        if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= which.item_max:
            raise ValidationError(f"{which.label} item {n}", value, f"allowed 0–{which.item_max}")
        clean.append(int(value))
    return OutcomeScore(which, tuple(clean))
