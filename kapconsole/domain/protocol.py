"""Clinic protocol settings: checklist, vitals schedule, alert thresholds, plausible ranges, discharge rules.

Every default lives here, once, with its source. A clinic's administrator may change them; the values in
force when a session is planned are copied into that session so later edits never rewrite a past session's
rules.
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass, field, replace
from typing import Any

from kapconsole.domain.errors import ValidationError

#: The vital-sign measures, in charting order: key → (label, unit, decimals allowed).
MEASURES: dict[str, tuple[str, str, int]] = {
    "sbp": ("Systolic BP", "mmHg", 0),
    "dbp": ("Diastolic BP", "mmHg", 0),
    "hr": ("Heart rate", "/min", 0),
    "spo2": ("SpO2", "%", 0),
    "rr": ("Respiratory rate", "/min", 0),
    "temp": ("Temperature", "°C", 1),
}


@dataclass(frozen=True)
class ChecklistItem:
    key: str
    label: str
    required: bool = True
    group: str = "Preparation"


@dataclass(frozen=True)
class Limits:
    """A low and a high bound; either may be absent."""

    low: float | None = None
    high: float | None = None


def _default_checklist() -> tuple[ChecklistItem, ...]:
    # Source: clinical reference, "Pre-session checklist (default protocol; clinics edit the list)".
    prep, med, conc, day = "Preparation", "Medical screening", "Concomitant medications", "Day of session"
    return (
        ChecklistItem("identity", "Identity confirmed", True, prep),
        ChecklistItem("consent", "Consent for this course on file", True, prep),
        ChecklistItem("preparation", "Preparation session done", True, prep),
        ChecklistItem("intention", "Intention recorded", True, prep),
        ChecklistItem("screening", "Medical screening reviewed; no unresolved contraindication", True, med),
        ChecklistItem("ci_psychosis", "No psychotic disorder or mania history", True, med),
        ChecklistItem("ci_sud", "No active substance use disorder", True, med),
        ChecklistItem("ci_cardiac", "No uncontrolled hypertension or cardiac disease", True, med),
        ChecklistItem("ci_vascular", "No aneurysmal vascular disease, AV malformation or intracerebral haemorrhage", True, med),
        ChecklistItem("ci_pregnancy", "Not pregnant", True, med),
        ChecklistItem("ci_icp", "No raised intracranial pressure", True, med),
        # Spravato REMS form questions, plus lamotrigine (blunts ketamine).
        ChecklistItem("med_benzo", "Benzodiazepines reviewed", True, conc),
        ChecklistItem("med_hypnotics", "Non-benzodiazepine sedative-hypnotics reviewed", True, conc),
        ChecklistItem("med_stimulants", "Psychostimulants reviewed", True, conc),
        ChecklistItem("med_maoi", "MAOIs reviewed", True, conc),
        ChecklistItem("med_lamotrigine", "Lamotrigine reviewed", False, conc),
        ChecklistItem("fasting", "Fasting as instructed (no food 4 h, clear fluids until 2 h)", True, day),
        ChecklistItem("escort", "Escort / transport home arranged", True, day),
        ChecklistItem("no_driving", "Client agrees not to drive until the next day", True, day),
        ChecklistItem("baseline_vitals", "Baseline vitals taken and within the pre-dose range", True, day),
        ChecklistItem("equipment", "Emergency equipment and pulse oximeter checked", True, day),
        ChecklistItem("prescriber", "Prescriber reachable on site", True, day),
    )


def _default_plausible() -> dict[str, Limits]:
    # Source: clinical reference, "Alert thresholds", column "plausible input range (reject outside)".
    return {
        "sbp": Limits(40, 300),
        "dbp": Limits(20, 200),
        "hr": Limits(20, 250),
        "spo2": Limits(50, 100),
        "rr": Limits(2, 60),
        "temp": Limits(30, 43),
    }


def _default_alerts() -> dict[str, Limits]:
    # Source: clinical reference, "Alert thresholds", column "alert during session".
    # An alert fires at or beyond a bound for BP (≥ 180 / ≥ 110); strictly beyond it for the others.
    return {
        "sbp": Limits(None, 180),
        "dbp": Limits(None, 110),
        "hr": Limits(45, 130),
        "spo2": Limits(92, None),
        "rr": Limits(10, 30),
        "temp": Limits(None, 38.0),
    }


def _default_predose() -> dict[str, Limits]:
    # Source: clinical reference, "pre-dose hold": hold if BP > 140/90 or SpO2 < 94.
    return {"sbp": Limits(None, 140), "dbp": Limits(None, 90), "spo2": Limits(94, None)}


@dataclass(frozen=True)
class VitalsSchedule:
    """Default: every 15 min for the first hour after dosing (5 min during an IV infusion), then every 30 min.

    Source: clinical reference, "Monitoring during the session" (ASA moderate sedation; published IV ketamine
    practice; Spravato REMS BP at ~40 min and until resolved).
    """

    first_phase_minutes: int = 60
    first_phase_interval: int = 15
    iv_infusion_interval: int = 5
    later_interval: int = 30


@dataclass(frozen=True)
class DischargeRules:
    # Source: clinical reference, "Discharge". Minimum observation: 2 h after the last dose (esketamine REMS).
    min_observation_minutes: int = 120
    # PADSS: vital signs within 20% of baseline score 2.
    max_vitals_deviation_pct: int = 20
    min_spo2: int = 94
    # Sedation resolved: latest MOAA/S 5 (responds readily to name in normal tone).
    required_moaas: int = 5
    # Dissociation back to the clinic's limit on the 0–10 clinician rating.
    max_dissociation: int = 1
    # Optional scores offered by the protocol: "aldrete" (≥ 9), "padss" (≥ 9 and escort).
    scores: tuple[str, ...] = ("aldrete", "padss")
    min_score: int = 9


@dataclass(frozen=True)
class ProtocolSettings:
    checklist: tuple[ChecklistItem, ...] = field(default_factory=_default_checklist)
    plausible: dict[str, Limits] = field(default_factory=_default_plausible)
    alerts: dict[str, Limits] = field(default_factory=_default_alerts)
    predose: dict[str, Limits] = field(default_factory=_default_predose)
    # Rise over baseline that alerts: Spravato label, ≥ 40 mmHg systolic and/or ≥ 25 mmHg diastolic.
    sbp_rise_alert: int = 40
    dbp_rise_alert: int = 25
    schedule: VitalsSchedule = field(default_factory=VitalsSchedule)
    discharge: DischargeRules = field(default_factory=DischargeRules)
    # Observed-at may not lie further ahead of the clock than this (workstation clock skew).
    clock_skew_seconds: int = 120

    # ----- serialisation -------------------------------------------------------------------------------------
    def to_json(self) -> str:
        data = asdict(self)
        return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False)

    @classmethod
    def from_json(cls, text: str | None) -> ProtocolSettings:
        if not text:
            return cls()
        return cls.from_dict(json.loads(text))

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ProtocolSettings:
        """Settings from their JSON form: keys left out keep their defaults; a value of the wrong shape is
        refused with a message naming the setting."""
        if not isinstance(data, dict):
            raise ValidationError("protocol", type(data).__name__, "a JSON object of settings is expected")
        try:
            return cls._from_dict(data)
        except ValidationError:
            raise
        except (TypeError, ValueError, KeyError, AttributeError, OverflowError) as exc:
            raise ValidationError("protocol", _first_bad_section(data), f"not a valid setting ({exc})") from None

    @classmethod
    def _from_dict(cls, data: dict[str, Any]) -> ProtocolSettings:
        base = cls()
        for key in ("sbp_rise_alert", "dbp_rise_alert", "clock_skew_seconds"):
            if key in data:
                _whole(key, data[key], 0, 10**6)

        def limits(raw: dict[str, Any] | None, default: dict[str, Limits]) -> dict[str, Limits]:
            if raw is None:
                return default
            if not isinstance(raw, dict):
                raise ValidationError("limits", type(raw).__name__, "a table of measures is expected")
            return {k: Limits(v.get("low"), v.get("high")) for k, v in raw.items()}

        settings = replace(
            base,
            checklist=tuple(ChecklistItem(**i) for i in data["checklist"]) if "checklist" in data else base.checklist,
            plausible=limits(data.get("plausible"), base.plausible),
            alerts=limits(data.get("alerts"), base.alerts),
            predose=limits(data.get("predose"), base.predose),
            sbp_rise_alert=int(data.get("sbp_rise_alert", base.sbp_rise_alert)),
            dbp_rise_alert=int(data.get("dbp_rise_alert", base.dbp_rise_alert)),
            schedule=VitalsSchedule(**data["schedule"]) if "schedule" in data else base.schedule,
            discharge=(
                DischargeRules(**{**data["discharge"], "scores": tuple(data["discharge"].get("scores", ()))})
                if "discharge" in data
                else base.discharge
            ),
            clock_skew_seconds=int(data.get("clock_skew_seconds", base.clock_skew_seconds)),
        )
        settings.validate()
        return settings

    def validate(self) -> None:
        """Refuse settings a clinic could not run on (empty checklist, inverted ranges, unknown measures,
        values of the wrong type, not finite or out of their range)."""
        self._validate_values()
        if not self.checklist:
            raise ValidationError("checklist", "[]", "the checklist needs at least one item")
        keys = [i.key for i in self.checklist]
        if len(set(keys)) != len(keys):
            raise ValidationError("checklist", ",".join(keys), "item keys must be unique")
        for name, table in (("plausible", self.plausible), ("alerts", self.alerts), ("predose", self.predose)):
            for key, lim in table.items():
                if key not in MEASURES:
                    raise ValidationError(f"{name}.{key}", key, f"measures are {', '.join(MEASURES)}")
                if lim.low is not None and lim.high is not None and lim.low >= lim.high:
                    raise ValidationError(f"{name}.{key}", f"{lim.low}–{lim.high}", "low must be below high")
        for key in MEASURES:
            if key not in self.plausible:
                raise ValidationError(f"plausible.{key}", None, "every measure needs a plausible range")
        s = self.schedule
        for fname in ("first_phase_minutes", "first_phase_interval", "iv_infusion_interval", "later_interval"):
            value = getattr(s, fname)
            if not 1 <= value <= 240:
                raise ValidationError(f"schedule.{fname}", value, "allowed 1–240 minutes")
        if not 0 <= self.discharge.min_observation_minutes <= 24 * 60:
            raise ValidationError(
                "discharge.min_observation_minutes", self.discharge.min_observation_minutes, "allowed 0–1440"
            )
        unknown = set(self.discharge.scores) - {"aldrete", "padss"}
        if unknown:
            raise ValidationError("discharge.scores", ",".join(sorted(unknown)), "allowed: aldrete, padss")

    def _validate_values(self) -> None:
        for n, item in enumerate(self.checklist):
            if not isinstance(item, ChecklistItem):
                raise ValidationError(f"checklist[{n}]", None, "a checklist item is expected")
            for fname, limit in (("key", 64), ("label", 200), ("group", 64)):
                value = getattr(item, fname)
                if not isinstance(value, str) or not value.strip() or len(value) > limit:
                    raise ValidationError(f"checklist[{n}].{fname}", value, f"text of 1–{limit} characters")
            if not isinstance(item.required, bool):
                raise ValidationError(f"checklist[{n}].required", item.required, "true or false")
        for name, table in (("plausible", self.plausible), ("alerts", self.alerts), ("predose", self.predose)):
            if not isinstance(table, dict):
                raise ValidationError(name, None, "a table of measures is expected")
            for key, lim in table.items():
                for side in ("low", "high"):
                    value = getattr(lim, side)
                    if value is not None:
                        _real(f"{name}.{key}.{side}", value, -1000, 1000)
        _whole("sbp_rise_alert", self.sbp_rise_alert, 1, 200)
        _whole("dbp_rise_alert", self.dbp_rise_alert, 1, 200)
        _whole("clock_skew_seconds", self.clock_skew_seconds, 0, 3600)
        for fname in ("first_phase_minutes", "first_phase_interval", "iv_infusion_interval", "later_interval"):
            _whole(f"schedule.{fname}", getattr(self.schedule, fname), 1, 240)
        d = self.discharge
        for fname, low, high in (("min_observation_minutes", 0, 1440), ("max_vitals_deviation_pct", 1, 100),
                                 ("min_spo2", 50, 100), ("required_moaas", 0, 5), ("max_dissociation", 0, 10),
                                 ("min_score", 0, 10)):
            _whole(f"discharge.{fname}", getattr(d, fname), low, high)
        if not isinstance(d.scores, tuple) or not all(isinstance(x, str) for x in d.scores):
            raise ValidationError("discharge.scores", d.scores, "a list of score names")

    def checklist_item(self, key: str) -> ChecklistItem | None:
        return next((i for i in self.checklist if i.key == key), None)


def _whole(name: str, value: object, low: int, high: int) -> int:
    """A whole number setting inside [low, high]; the message names the setting."""
    if isinstance(value, bool) or not isinstance(value, int):
        shown = value if not isinstance(value, str) or len(value) < 40 else "long text"
        raise ValidationError(name, shown, f"a whole number is expected ({low}–{high})")
    if not low <= value <= high:
        raise ValidationError(name, "a very large number" if abs(value) > 10**9 else value, f"allowed {low}–{high}")
    return value


def _real(name: str, value: object, low: float, high: float) -> float:
    """A finite number setting inside [low, high]; the message names the setting."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        shown = value if not isinstance(value, str) or len(value) < 40 else "long text"
        raise ValidationError(name, shown, "a number is expected")
    if isinstance(value, int) and not low <= value <= high:
        raise ValidationError(name, "a very large number" if abs(value) > 10**9 else value, f"allowed {low:g}–{high:g}")
    if not math.isfinite(value) or not low <= value <= high:
        raise ValidationError(name, value, f"a finite number, allowed {low:g}–{high:g}")
    return float(value)


def _first_bad_section(data: dict[str, Any]) -> str:
    return ", ".join(sorted(str(k) for k in data)[:6])
