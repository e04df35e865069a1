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
from kapconsole.domain.formulary import FormularyDrug, default_formulary, validate_formulary

#: The vital-sign measures, in charting order: key → (label, unit, decimals allowed).
MEASURES: dict[str, tuple[str, str, int]] = {
    "sbp": ("Systolic BP", "mmHg", 0),
    "dbp": ("Diastolic BP", "mmHg", 0),
    "hr": ("Heart rate", "/min", 0),
    "spo2": ("SpO2", "%", 0),
    "rr": ("Respiratory rate", "/min", 0),
    # Two decimals: 38.05 °C is kept as typed (rounded to 38.0 it would not alert at > 38.0).
    "temp": ("Temperature", "°C", 2),
}

#: Who may confirm a checklist item when the item does not say: medical staff and supervisors.
CLINICAL_ROLES: tuple[str, ...] = ("medical", "supervisor")
#: Items every member of the team, therapists included, may confirm.
TEAM_ROLES: tuple[str, ...] = ("therapist", "medical", "supervisor")


@dataclass(frozen=True)
class ChecklistItem:
    key: str
    label: str
    required: bool = True
    group: str = "Preparation"
    #: Roles that may confirm this item (role values). Therapists confirm only what the protocol gives them.
    roles: tuple[str, ...] = CLINICAL_ROLES
    #: Whether "not applicable" is an acceptable answer (e.g. "Not pregnant" for a client who cannot be).
    allow_na: bool = False


@dataclass(frozen=True)
class Limits:
    """A low and a high bound; either may be absent."""

    low: float | None = None
    high: float | None = None


def _default_checklist() -> tuple[ChecklistItem, ...]:
    # Source: clinical reference, "Pre-session checklist (default protocol; clinics edit the list)".
    # Roles (clinic setting): therapists confirm the preparation items and the escort/driving agreement they
    # discuss with the client; medical screening, medications, fasting, vitals and equipment need medical staff.
    # "Not applicable" is allowed only for pregnancy (a client who cannot be pregnant) and the optional
    # lamotrigine question.
    prep, med, conc, day = "Preparation", "Medical screening", "Concomitant medications", "Day of session"
    t, c = TEAM_ROLES, CLINICAL_ROLES
    return (
        ChecklistItem("identity", "Identity confirmed", True, prep, t),
        ChecklistItem("consent", "Consent for this course on file", True, prep, t),
        ChecklistItem("preparation", "Preparation session done", True, prep, t),
        ChecklistItem("intention", "Intention recorded", True, prep, t),
        ChecklistItem("screening", "Medical screening reviewed; no unresolved contraindication", True, med, c),
        ChecklistItem("ci_psychosis", "No psychotic disorder or mania history", True, med, c),
        ChecklistItem("ci_sud", "No active substance use disorder", True, med, c),
        ChecklistItem("ci_cardiac", "No uncontrolled hypertension or cardiac disease", True, med, c),
        ChecklistItem("ci_vascular", "No aneurysmal vascular disease, AV malformation or intracerebral haemorrhage",
                      True, med, c),
        ChecklistItem("ci_pregnancy", "Not pregnant", True, med, c, allow_na=True),
        ChecklistItem("ci_icp", "No raised intracranial pressure", True, med, c),
        # Spravato REMS form questions, plus lamotrigine (blunts ketamine).
        ChecklistItem("med_benzo", "Benzodiazepines reviewed", True, conc, c),
        ChecklistItem("med_hypnotics", "Non-benzodiazepine sedative-hypnotics reviewed", True, conc, c),
        ChecklistItem("med_stimulants", "Psychostimulants reviewed", True, conc, c),
        ChecklistItem("med_maoi", "MAOIs reviewed", True, conc, c),
        ChecklistItem("med_lamotrigine", "Lamotrigine reviewed", False, conc, c, allow_na=True),
        ChecklistItem("fasting", "Fasting as instructed (no food 4 h, clear fluids until 2 h)", True, day, c),
        ChecklistItem("escort", "Escort / transport home arranged", True, day, t),
        ChecklistItem("no_driving", "Client agrees not to drive until the next day", True, day, t),
        ChecklistItem("baseline_vitals", "Baseline vitals taken and within the pre-dose range", True, day, c),
        ChecklistItem("equipment", "Emergency equipment and pulse oximeter checked", True, day, c),
        ChecklistItem("prescriber", "Prescriber reachable on site", True, day, c),
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
    #: Each of these measures is due on the schedule on its own: a partial reading (SpO2 only) does not reset
    #: the others. Source: ASA moderate sedation (BP and HR, continuous pulse oximetry) and the reference's
    #: baseline set (BP, HR, SpO2, RR); diastolic BP is taken with systolic.
    required_measures: tuple[str, ...] = ("sbp", "hr", "spo2", "rr")


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
    #: Each measure's latest value must be at most this old to count at discharge (the later charting interval,
    #: 30 min, from the reference's default schedule).
    max_vitals_age_minutes: int = 30


@dataclass(frozen=True)
class RouteLimits:
    """Dose limits of one route. ``None`` means no limit of that kind. Above a limit needs a supervisor's override."""

    max_dose_mg: float | None = None
    max_dose_mg_per_kg: float | None = None
    max_session_mg: float | None = None
    max_session_mg_per_kg: float | None = None
    #: Doses must be whole multiples of this (esketamine: one 28 mg device).
    multiple_of_mg: float | None = None


def _default_route_limits() -> dict[str, RouteLimits]:
    return {
        # Sublingual lozenge / rapid-dissolve tablet: usual 100–400 mg (clinical reference, "Routes and typical
        # doses"); 400 mg per dose and per session.
        "sublingual": RouteLimits(max_dose_mg=400, max_session_mg=400),
        # IM: the reference gives no KAP range; the sub-anaesthetic IV range (0.1–0.75 mg/kg) is used, with the
        # reference's ceiling of 2 mg/kg ("some clinics up to 2 mg/kg") for the whole session.
        "im": RouteLimits(max_dose_mg_per_kg=0.75, max_session_mg_per_kg=2.0),
        # IV infusion: 0.5 mg/kg over 40 min, range 0.1–0.75 mg/kg; some clinics up to 2 mg/kg (reference).
        "iv": RouteLimits(max_dose_mg_per_kg=0.75, max_session_mg_per_kg=2.0),
        # Esketamine nasal spray: 56 or 84 mg a session, 28 mg per device (Spravato label).
        "intranasal": RouteLimits(max_dose_mg=84, max_session_mg=84, multiple_of_mg=28),
    }


@dataclass(frozen=True)
class DosingRules:
    """Dose sense checks and who may order, give and override. Each default's source is beside it."""

    route_limits: dict[str, RouteLimits] = field(default_factory=_default_route_limits)
    #: Boosters after the first dose (clinical reference: "a session may have more than one administration";
    #: the number is a clinic setting, one by default). More needs a supervisor's override.
    max_boosters: int = 1
    #: Roles that may order a dose (clinic setting: the medical supervisor is the prescriber on site, per the
    #: reference's "prescriber reachable on site").
    prescriber_roles: tuple[str, ...] = ("supervisor",)
    #: Roles that may give a dose: medical staff (a medical supervisor is medical staff too).
    giver_roles: tuple[str, ...] = ("medical", "supervisor")
    #: When true, the supervisor who overrides a dose's blockers may not also give that dose (four-eyes rule;
    #: ASA: the monitoring person is not the one doing the procedure). Clinic setting, off by default.
    separate_override_and_giver: bool = False


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
    # The clinic's rescue and adjunct (PRN) medications; sources in kapconsole/domain/formulary.py.
    formulary: tuple[FormularyDrug, ...] = field(default_factory=default_formulary)
    # An entry charted this many minutes or more after its clinical time is shown as a late entry. Clinic
    # setting; documentation standards ask that an entry made after the time of care be identified as late
    # (AHIMA, "Amendments in the Electronic Health Record", late entries).
    late_entry_minutes: int = 15
    # The "≈40 min" blood pressure: the reading nearest +40 min within this window (minutes after the first
    # dose). Source: clinical reference, Spravato REMS "BP at about 40 min after dosing", when the rise peaks.
    bp_check_window: tuple[int, int] = (35, 50)
    dosing: DosingRules = field(default_factory=DosingRules)
    #: An alert episode unacknowledged for longer than this escalates to the supervisor board (clinic setting;
    #: two of the IV infusion's 5-minute charting intervals, clinical reference "Monitoring during the session").
    alert_escalation_minutes: int = 10
    # How long a room is booked for one session (checklist, dosing, the minimum observation, discharge): the
    # front desk cannot plan two sessions into one room within this time.
    session_minutes: int = 180

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
        for key in ("sbp_rise_alert", "dbp_rise_alert", "clock_skew_seconds", "late_entry_minutes"):
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
            checklist=(tuple(_checklist_item_from(i) for i in data["checklist"]) if "checklist" in data
                       else base.checklist),
            plausible=limits(data.get("plausible"), base.plausible),
            alerts=limits(data.get("alerts"), base.alerts),
            predose=limits(data.get("predose"), base.predose),
            sbp_rise_alert=int(data.get("sbp_rise_alert", base.sbp_rise_alert)),
            dbp_rise_alert=int(data.get("dbp_rise_alert", base.dbp_rise_alert)),
            schedule=(VitalsSchedule(**{**data["schedule"], **(
                {"required_measures": tuple(data["schedule"]["required_measures"])}
                if "required_measures" in data["schedule"] else {})}) if "schedule" in data else base.schedule),
            discharge=(
                DischargeRules(**{**data["discharge"], "scores": tuple(data["discharge"].get("scores", ()))})
                if "discharge" in data
                else base.discharge
            ),
            clock_skew_seconds=int(data.get("clock_skew_seconds", base.clock_skew_seconds)),
            formulary=(tuple(FormularyDrug.from_dict(d) for d in data["formulary"]) if "formulary" in data
                       else base.formulary),
            late_entry_minutes=int(data.get("late_entry_minutes", base.late_entry_minutes)),
            bp_check_window=(
                (int(data["bp_check_window"][0]), int(data["bp_check_window"][1]))
                if "bp_check_window" in data else base.bp_check_window
            ),
            dosing=_dosing_from(data["dosing"]) if "dosing" in data else base.dosing,
            alert_escalation_minutes=int(data.get("alert_escalation_minutes", base.alert_escalation_minutes)),
            session_minutes=int(data.get("session_minutes", base.session_minutes)),
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
        low, high = self.bp_check_window
        if not 0 <= low < high <= 240:
            raise ValidationError("bp_check_window", f"{low}–{high}", "minutes after the dose, 0 ≤ from < to ≤ 240")
        if not 30 <= self.session_minutes <= 12 * 60:
            raise ValidationError("session_minutes", self.session_minutes, "allowed 30–720 minutes")
        unknown = set(self.discharge.scores) - {"aldrete", "padss"}
        if unknown:
            raise ValidationError("discharge.scores", ",".join(sorted(unknown)), "allowed: aldrete, padss")
        validate_formulary(self.formulary)
        if not 1 <= self.late_entry_minutes <= 24 * 60:
            raise ValidationError("late_entry_minutes", self.late_entry_minutes, "allowed 1–1440 minutes")
        for key in s.required_measures:
            if key not in MEASURES:
                raise ValidationError("schedule.required_measures", key, f"measures are {', '.join(MEASURES)}")
        roles = {"therapist", "medical", "supervisor", "administrator"}
        for item in self.checklist:
            if not item.roles or set(item.roles) - roles:
                raise ValidationError(f"checklist.{item.key}.roles", ",".join(item.roles), "allowed: "
                                      + ", ".join(sorted(roles)))
        d = self.dosing
        for name, value in (("prescriber_roles", d.prescriber_roles), ("giver_roles", d.giver_roles)):
            if not value or set(value) - roles:
                raise ValidationError(f"dosing.{name}", ",".join(value), "allowed: " + ", ".join(sorted(roles)))
        if not 0 <= d.max_boosters <= 10:
            raise ValidationError("dosing.max_boosters", d.max_boosters, "allowed 0–10")
        for route, rlim in d.route_limits.items():
            for fname in ("max_dose_mg", "max_dose_mg_per_kg", "max_session_mg", "max_session_mg_per_kg",
                          "multiple_of_mg"):
                value = getattr(rlim, fname)
                if value is not None and not value > 0:
                    raise ValidationError(f"dosing.route_limits.{route}.{fname}", value, "must be more than 0")
        if not 1 <= self.alert_escalation_minutes <= 240:
            raise ValidationError("alert_escalation_minutes", self.alert_escalation_minutes, "allowed 1–240")

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

    def for_route(self, route: str) -> ProtocolSettings:
        """The protocol a session on ``route`` is planned under: esketamine (intranasal) has its own."""
        if route == "intranasal":
            from kapconsole.domain.esketamine import esketamine_protocol

            return esketamine_protocol(self)
        return self

    def checklist_item(self, key: str) -> ChecklistItem | None:
        return next((i for i in self.checklist if i.key == key), None)

    def formulary_drug(self, key: str) -> FormularyDrug | None:
        return next((d for d in self.formulary if d.key == key), None)


def _checklist_item_from(raw: dict[str, Any]) -> ChecklistItem:
    data = dict(raw)
    # A protocol saved before items had roles and "not applicable": the default item of the same key says.
    default = next((i for i in _default_checklist() if i.key == data.get("key")), None)
    data["roles"] = tuple(data["roles"]) if "roles" in data else (default.roles if default else CLINICAL_ROLES)
    data.setdefault("allow_na", default.allow_na if default else False)
    return ChecklistItem(**data)


def _dosing_from(raw: dict[str, Any]) -> DosingRules:
    base = DosingRules()
    limits = raw.get("route_limits")
    return DosingRules(
        route_limits=({k: RouteLimits(**v) for k, v in limits.items()} if limits is not None else base.route_limits),
        max_boosters=int(raw.get("max_boosters", base.max_boosters)),
        prescriber_roles=tuple(raw.get("prescriber_roles", base.prescriber_roles)),
        giver_roles=tuple(raw.get("giver_roles", base.giver_roles)),
        separate_override_and_giver=bool(raw.get("separate_override_and_giver", base.separate_override_and_giver)),
    )


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
