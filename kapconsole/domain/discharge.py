"""Discharge criteria, modified Aldrete and PADSS, computed from the record plus a person's confirmations."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from kapconsole.domain.alerts import session_alerts
from kapconsole.domain.entries import Criterion, DischargeAssessment
from kapconsole.domain.enums import Scale, Severity, SideEffectKind
from kapconsole.domain.errors import ValidationError
from kapconsole.domain.protocol import MEASURES
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

    def entry(self, *, confirmations: Mapping[str, bool], score_parts: Mapping[str, int],
              checked_at: Mapping[str, str] | None = None) -> DischargeAssessment:
        """The entry that records this assessment, with the person's confirmations and score parts, and when
        each bedside item was checked."""
        return DischargeAssessment(self.criteria, {k: dict(v) for k, v in self.scores.items()}, self.ready,
                                   self.chain_head, dict(confirmations), dict(score_parts), dict(checked_at or {}))


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
    running = record.running_infusions
    if running:
        crit.append(Criterion("observation_time", "Minimum observation time since last dose", False,
                              f"IV infusion still running since {running[0].at.astimezone():%H:%M}: record its end",
                              "record"))
    elif last_dose is None or allowed_at is None:
        crit.append(Criterion("observation_time", "Minimum observation time", False, "no dose recorded", "record"))
    else:
        left = allowed_at - now
        detail = (f"{int((now - last_dose).total_seconds() // 60)} min since last dose "
                  f"(minimum {rules.min_observation_minutes})"
                  + ("" if left <= timedelta(0) else f"; {int(left.total_seconds() // 60) + 1} min to go"))
        crit.append(Criterion("observation_time", "Minimum observation time since last dose", left <= timedelta(0),
                              detail, "record"))

    baseline = record.baseline_vitals
    latest_values = _latest_after(record, last_dose)
    crit += _vitals_criteria(record, latest_values, baseline, now)
    pending = record.unacknowledged_episodes()
    crit.append(Criterion("alerts_acknowledged", "No unacknowledged alert", not pending,
                          "; ".join(f"{e.worst_message} (since {e.started_at.astimezone():%H:%M}, "
                                    f"{e.readings} reading{'s' if e.readings != 1 else ''})" for e in pending)
                          + (" — acknowledge each with a note" if pending else "") or "none", "record"))
    latest_payload = {k: v for k, (v, _at) in latest_values.items()}
    severe = [s for s in record.unresolved_side_effects() if s.payload["severity"] == Severity.SEVERE.value]
    crit.append(Criterion("no_severe_side_effect", "No unresolved severe side effect", not severe,
                          ", ".join(SideEffectKind(s.payload["effect"]).label for s in severe) or "none", "record"))
    moaas = _scale_after(record, Scale.MOAAS, last_dose)
    crit.append(Criterion("sedation_resolved", f"Sedation resolved (MOAA/S {rules.required_moaas})",
                          moaas is not None and moaas.payload["score"] >= rules.required_moaas,
                          "no MOAA/S recorded after the last dose" if moaas is None
                          else f"latest MOAA/S {moaas.payload['score']} at {moaas.at.astimezone():%H:%M}", "record"))
    diss = _scale_after(record, Scale.DISSOCIATION, last_dose)
    crit.append(Criterion("dissociation_resolved", f"Dissociation resolved (≤ {rules.max_dissociation})",
                          diss is not None and diss.payload["score"] <= rules.max_dissociation,
                          "no dissociation score recorded after the last dose" if diss is None
                          else f"latest {diss.payload['score']}/10 at {diss.at.astimezone():%H:%M}", "record"))
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

    scores = _scores(record, latest_payload or None, baseline, score_parts, nausea_open, last_dose)
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
            parts: Mapping[str, int], nausea_open: list[Any], last_dose: datetime | None) -> dict[str, dict[str, int]]:
    dev = _max_deviation(latest, baseline) if latest else None
    moaas = _scale_after(record, Scale.MOAAS, last_dose)
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


def _scale_after(record: SessionRecord, scale: Scale, last_dose: datetime | None) -> Any:
    """The latest score of ``scale`` taken after the last dose (a score from before the dose says nothing)."""
    latest = record.latest_scale(scale)
    if latest is None or last_dose is None or latest.at <= last_dose:
        return None
    return latest


def _latest_after(record: SessionRecord, last_dose: datetime | None) -> dict[str, tuple[float, datetime]]:
    """Each measure's latest value taken after the last dose."""
    if last_dose is None:
        return {}
    return {k: (value, at) for k, (value, at) in record.latest_values().items() if at > last_dose}


def _age(now: datetime, at: datetime) -> str:
    minutes = max(0, int((now - at).total_seconds() // 60))
    return f"{minutes} min ago"


def _vitals_criteria(record: SessionRecord, latest: Mapping[str, tuple[float, datetime]],
                     baseline: Mapping[str, Any] | None, now: datetime) -> list[Criterion]:
    """Each measure judged on its own latest value after the last dose, with its age."""
    rules = record.protocol.discharge
    max_age = timedelta(minutes=rules.max_vitals_age_minutes)
    out = []

    def fresh(key: str) -> str | None:
        """Why the measure cannot be judged (missing or too old), or None."""
        if key not in latest:
            return f"no {MEASURES[key][0]} after the last dose — take a reading"
        _value, at = latest[key]
        if now - at > max_age:
            return (f"{MEASURES[key][0]} taken {_age(now, at)} (older than {rules.max_vitals_age_minutes} min) — "
                    "take a new reading")
        return None

    # BP and HR within the protocol's deviation of baseline (PADSS), each on its own latest value.
    parts, problems, worst = [], [], 0.0
    for key in ("sbp", "dbp", "hr"):
        why = fresh(key)
        if why:
            problems.append(why)
            continue
        value, at = latest[key]
        if not baseline or key not in baseline:
            problems.append(f"no baseline {MEASURES[key][0]} to compare")
            continue
        dev = _deviation_pct(value, baseline[key])
        worst = max(worst, dev)
        parts.append(f"{MEASURES[key][0]} {value:g} ({dev:.0f}%, {_age(now, at)})")
    passed = not problems and worst <= rules.max_vitals_deviation_pct
    out.append(Criterion("vitals_baseline", f"BP and HR each within {rules.max_vitals_deviation_pct}% of baseline",
                         passed, "; ".join(problems + parts), "record"))
    # Oxygenation and breathing: respiratory depression is a discharge criterion (Spravato REMS).
    why = fresh("spo2")
    spo2 = latest.get("spo2")
    out.append(Criterion("spo2", f"SpO2 at least {rules.min_spo2}%", why is None and spo2 is not None
                         and spo2[0] >= rules.min_spo2,
                         why or f"latest SpO2 {spo2[0]:g}% ({_age(now, spo2[1])})" if spo2 else why or "", "record"))
    rr_lim = record.protocol.alerts.get("rr")
    why = fresh("rr")
    rr = latest.get("rr")
    rr_ok = (why is None and rr is not None and rr_lim is not None
             and (rr_lim.low is None or rr[0] >= rr_lim.low) and (rr_lim.high is None or rr[0] <= rr_lim.high))
    out.append(Criterion("respiration", "No respiratory depression (respiratory rate within the alert lines)",
                         rr_ok, why or (f"latest RR {rr[0]:g}/min ({_age(now, rr[1])})" if rr else "")
                         + ("" if rr_ok or why else " — observe and recheck"), "record"))
    # Every latest value, whatever the measure, is inside the alert lines (temperature included).
    values = {k: v for k, (v, _at) in latest.items()}
    alerting = [f"{a.message} ({_age(now, latest[a.measure][1])})"
                for a in session_alerts(values, baseline, record.protocol)]
    out.append(Criterion("latest_in_range", "Latest value of each measure inside the alert lines", not alerting,
                         "; ".join(alerting) or "none alerting", "record"))
    return out
