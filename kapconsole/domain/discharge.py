"""Discharge criteria, modified Aldrete and PADSS, computed from the record plus a person's confirmations."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from kapconsole.domain.entries import Criterion, DischargeAssessment
from kapconsole.domain.enums import Scale, Severity, SideEffectKind
from kapconsole.domain.errors import ValidationError
from kapconsole.domain.record import SessionRecord

SIGNATURE_MEANING = "I reviewed this session record and approve the client's discharge"

#: Criteria a person confirms at the bedside (the record cannot know them): key → label.
PERSON_CRITERIA: dict[str, str] = {
    "oriented": "Oriented to person, place and time",
    "walks_steadily": "Walks steadily without assistance",
    "nausea_controlled": "Nausea controlled",
    "escort_present": "Escort present",
    "no_driving": "Agrees not to drive until the next day",
}

#: Score parts a person rates 0–2: key → (score, label).
PERSON_SCORE_PARTS: dict[str, tuple[str, str]] = {
    "aldrete_activity": ("aldrete", "Activity (moves 4 limbs = 2, 2 limbs = 1, none = 0)"),
    "aldrete_respiration": ("aldrete", "Respiration (breathes deeply and coughs = 2, dyspnoea = 1, apnoea = 0)"),
    "padss_activity": ("padss", "Activity / mental status (steady gait, oriented = 2 … 0)"),
    "padss_pain": ("padss", "Pain (minimal, controlled by oral medication = 2 … 0)"),
}


@dataclass(frozen=True)
class Assessment:
    criteria: tuple[Criterion, ...]
    scores: Mapping[str, Mapping[str, int]]
    ready: bool
    chain_head: str

    @property
    def failing(self) -> list[Criterion]:
        return [c for c in self.criteria if not c.passed]

    def entry(self, *, confirmations: Mapping[str, bool], score_parts: Mapping[str, int]) -> DischargeAssessment:
        """The entry that records this assessment, with the person's confirmations and score parts."""
        return DischargeAssessment(self.criteria, {k: dict(v) for k, v in self.scores.items()}, self.ready,
                                   self.chain_head, dict(confirmations), dict(score_parts))


def _deviation_pct(value: float, base: float) -> float:
    return abs(value - base) / base * 100 if base else 0.0


def _max_deviation(latest: Mapping[str, Any], baseline: Mapping[str, Any] | None) -> float | None:
    if not baseline:
        return None
    devs = [_deviation_pct(latest[k], baseline[k]) for k in ("sbp", "dbp", "hr") if k in latest and k in baseline]
    return max(devs) if devs else None


def assess(record: SessionRecord, *, now: datetime, confirmations: Mapping[str, bool],
           score_parts: Mapping[str, int]) -> Assessment:
    """Evaluate every discharge criterion; each says whether it passes and why, from the data."""
    rules = record.protocol.discharge
    for key, value in score_parts.items():
        if key not in PERSON_SCORE_PARTS:
            raise ValidationError("score part", key, f"allowed: {', '.join(PERSON_SCORE_PARTS)}")
        if isinstance(value, bool) or value not in (0, 1, 2):
            raise ValidationError(PERSON_SCORE_PARTS[key][1], value, "allowed 0, 1 or 2")
    unknown = set(confirmations) - set(PERSON_CRITERIA)
    if unknown:
        raise ValidationError("criterion", ", ".join(sorted(unknown)), f"allowed: {', '.join(PERSON_CRITERIA)}")

    crit: list[Criterion] = []
    last_dose = record.last_dose_at
    allowed_at = record.earliest_discharge_at
    if last_dose is None or allowed_at is None:
        crit.append(Criterion("observation_time", "Minimum observation time", False, "no dose recorded", "record"))
    else:
        left = allowed_at - now
        detail = (f"{int((now - last_dose).total_seconds() // 60)} min since last dose "
                  f"(minimum {rules.min_observation_minutes})"
                  + ("" if left <= timedelta(0) else f"; {int(left.total_seconds() // 60) + 1} min to go"))
        crit.append(Criterion("observation_time", "Minimum observation time since last dose", left <= timedelta(0),
                              detail, "record"))

    latest = record.latest_vitals
    baseline = record.baseline_vitals
    if latest is None or (last_dose is not None and latest.at <= last_dose):
        crit.append(Criterion("vitals_baseline", "Latest vitals near baseline", False,
                              "no vitals after the last dose", "record"))
    else:
        dev = _max_deviation(latest.payload, baseline)
        if dev is None:
            crit.append(Criterion("vitals_baseline", "Latest vitals near baseline", False,
                                  "no baseline or latest BP/HR to compare", "record"))
        else:
            crit.append(Criterion("vitals_baseline", f"Latest BP and HR within {rules.max_vitals_deviation_pct}% of baseline",
                                  dev <= rules.max_vitals_deviation_pct,
                                  f"largest deviation {dev:.0f}% at {latest.at.astimezone():%H:%M}", "record"))
    spo2 = latest.payload.get("spo2") if latest else None
    crit.append(Criterion("spo2", f"SpO2 at least {rules.min_spo2}%", spo2 is not None and spo2 >= rules.min_spo2,
                          "no SpO2 recorded" if spo2 is None else f"latest SpO2 {spo2}%", "record"))
    severe = [s for s in record.unresolved_side_effects() if s.payload["severity"] == Severity.SEVERE.value]
    crit.append(Criterion("no_severe_side_effect", "No unresolved severe side effect", not severe,
                          ", ".join(SideEffectKind(s.payload["effect"]).label for s in severe) or "none", "record"))
    moaas = record.latest_scale(Scale.MOAAS)
    crit.append(Criterion("sedation_resolved", f"Sedation resolved (MOAA/S {rules.required_moaas})",
                          moaas is not None and moaas.payload["score"] >= rules.required_moaas,
                          "no MOAA/S recorded" if moaas is None else f"latest MOAA/S {moaas.payload['score']}", "record"))
    diss = record.latest_scale(Scale.DISSOCIATION)
    crit.append(Criterion("dissociation_resolved", f"Dissociation resolved (≤ {rules.max_dissociation})",
                          diss is not None and diss.payload["score"] <= rules.max_dissociation,
                          "no dissociation score recorded" if diss is None else f"latest {diss.payload['score']}/10",
                          "record"))
    nausea_open = [s for s in record.unresolved_side_effects()
                   if s.payload["effect"] in (SideEffectKind.NAUSEA.value, SideEffectKind.VOMITING.value)]
    for key, label in PERSON_CRITERIA.items():
        confirmed = bool(confirmations.get(key, False))
        detail = "confirmed" if confirmed else "not confirmed"
        if key == "nausea_controlled" and nausea_open:
            worst = max(nausea_open, key=lambda s: list(Severity).index(Severity(s.payload["severity"])))
            if worst.payload["severity"] != Severity.MILD.value:
                confirmed, detail = False, f"unresolved {worst.payload['severity']} {worst.payload['effect']}"
        crit.append(Criterion(key, label, confirmed, detail, "person"))

    scores = _scores(record, latest.payload if latest else None, baseline, score_parts, nausea_open)
    for name in rules.scores:
        total = sum(scores[name].values())
        crit.append(Criterion(f"{name}_score", f"{'Modified Aldrete' if name == 'aldrete' else 'PADSS'} score ≥ {rules.min_score}",
                              total >= rules.min_score, f"{total}/10", "record"))
    head = record.entries[-1].hash if record.entries else ""
    return Assessment(tuple(crit), {k: v for k, v in scores.items() if k in rules.scores},
                      all(c.passed for c in crit), head)


def _band(dev: float | None, bands: tuple[float, float]) -> int:
    if dev is None:
        return 0
    return 2 if dev <= bands[0] else 1 if dev <= bands[1] else 0


def _scores(record: SessionRecord, latest: Mapping[str, Any] | None, baseline: Mapping[str, Any] | None,
            parts: Mapping[str, int], nausea_open: list[Any]) -> dict[str, dict[str, int]]:
    dev = _max_deviation(latest, baseline) if latest else None
    moaas = record.latest_scale(Scale.MOAAS)
    m = moaas.payload["score"] if moaas else 0
    spo2 = latest.get("spo2") if latest else None
    aldrete = {
        "activity": parts.get("aldrete_activity", 0),
        "respiration": parts.get("aldrete_respiration", 0),
        "circulation": _band(dev, (20, 50)),
        "consciousness": 2 if m >= 5 else 1 if m >= 3 else 0,
        "spo2": 0 if spo2 is None else 2 if spo2 > 92 else 1 if spo2 >= 90 else 0,
    }
    worst = max((list(Severity).index(Severity(s.payload["severity"])) for s in nausea_open), default=-1)
    padss = {
        "vital_signs": _band(dev, (20, 40)),
        "activity": parts.get("padss_activity", 0),
        "nausea_vomiting": 2 if worst <= 0 else 1 if worst == 1 else 0,
        "pain": parts.get("padss_pain", 0),
        "bleeding": 2,  # not relevant to a medicine session: scored as minimal
    }
    return {"aldrete": aldrete, "padss": padss}
