"""The REMS Patient Monitoring Form as a value: every field filled from the record, the REMS answers and the
clinic's setting details, and the list of what is still missing.

What the record answers by itself: dose and devices, time of first administration, the three BP readings,
whether sedation and dissociation occurred and when they resolved (MOAA/S and dissociation scores, side
effects), when the patient could have left at the earliest (2 hours after the last device and after every
resolution) and the total monitoring time. What a person answers: the REMS answers (``domain.rems``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from kapconsole.domain import esketamine
from kapconsole.domain.enums import EntryKind, Scale, SideEffectKind
from kapconsole.domain.record import Current, SessionRecord, parse_ts
from kapconsole.domain.rems import BY_KEY, Answer, Phase, Stage, answers_of, missing


@dataclass(frozen=True)
class SettingDetails:
    """The treatment setting as the REMS knows it (clinic settings)."""

    name: str = ""
    address: str = ""
    phone: str = ""
    certification: str = ""

    def missing(self) -> list[str]:
        labels = {"name": "setting name", "address": "setting address",
                  "certification": "setting's REMS certification number"}
        return [f"{label} (clinic settings)" for key, label in labels.items() if not getattr(self, key).strip()]


@dataclass(frozen=True)
class BpReading:
    sbp: float
    dbp: float
    at: datetime
    minutes_after_first_device: int | None

    @property
    def text(self) -> str:
        return f"{self.sbp:g}/{self.dbp:g} mmHg"


@dataclass(frozen=True)
class Episode:
    """Whether an effect occurred after dosing and when it resolved; ``known`` False when nothing was charted."""

    known: bool
    present: bool
    resolved_at: datetime | None

    @property
    def open(self) -> bool:
        return self.present and self.resolved_at is None


@dataclass(frozen=True)
class RemsForm:
    session_id: int
    # Patient
    patient_name: str
    patient_identifier: str
    date_of_birth: date | None
    rems_patient_id: str | None
    # Setting
    setting: SettingDetails
    # Treatment
    treatment_date: date | None
    phase: str | None
    phase_session: int | None
    dose_mg: int
    devices_given: int
    devices_planned: int
    device_times: tuple[datetime, ...]
    early_device_reasons: tuple[str, ...]
    first_administration_at: datetime | None
    # Pre-dose answers (question key → answer) and concomitant medications
    answers: Mapping[str, Any]
    # Blood pressure
    bp_predose: BpReading | None
    bp_40min: BpReading | None
    bp_before_completion: BpReading | None
    #: Pre-dose readings above the label's hold (140/90) before the one the dose went ahead on: the recheck.
    bp_held: tuple[BpReading, ...]
    # Effects during monitoring
    sedation: Episode
    dissociation: Episode
    respiratory_depression: bool | None
    respiratory_depression_resolved_at: datetime | None
    respiratory_hint: tuple[str, ...]
    serious_adverse_event: bool | None
    serious_adverse_event_detail: str
    hospitalised: bool | None
    hospitalisation_detail: str
    # End of monitoring
    earliest_ready_at: datetime | None
    ready_to_leave_at: datetime | None
    ready_confirmed_by: str
    monitoring_end_at: datetime | None
    # Monitoring clinician
    clinician_name: str
    clinician_credentials: str
    clinician_contact: str
    signed_by: str
    signed_at: datetime | None
    # What is missing, by who can supply it
    missing_answers: tuple[str, ...]
    missing_record: tuple[str, ...]
    missing_details: tuple[str, ...]

    @property
    def total_monitoring(self) -> timedelta | None:
        if self.first_administration_at is None or self.monitoring_end_at is None:
            return None
        return self.monitoring_end_at - self.first_administration_at

    @property
    def phase_label(self) -> str:
        return Phase(self.phase).label if self.phase else ""

    @property
    def signature_blockers(self) -> list[str]:
        """What must be answered or charted before the discharge may be signed."""
        return [*self.missing_answers, *self.missing_record]

    @property
    def complete(self) -> bool:
        return not (self.missing_answers or self.missing_record or self.missing_details)


# ----- derivations -------------------------------------------------------------------------------------------


def _bp_readings(record: SessionRecord) -> list[Current]:
    return [c for c in record.vitals if c.payload.get("sbp") is not None and c.payload.get("dbp") is not None]


def _reading(c: Current, first: datetime | None) -> BpReading:
    minutes = None if first is None else int((c.at - first).total_seconds() // 60)
    return BpReading(c.payload["sbp"], c.payload["dbp"], c.at, minutes)


def bp_readings(record: SessionRecord, first: datetime | None
                ) -> tuple[BpReading | None, BpReading | None, BpReading | None]:
    """Pre-dose (the last before the first device), ≈40 minutes (closest to 40 in the window) and before
    completion (the latest after the ≈40-minute one)."""
    readings = _bp_readings(record)
    if first is None:
        before = [c for c in readings]
        return (_reading(before[-1], None) if before else None), None, None
    before = [c for c in readings if c.at <= first]
    after = [c for c in readings if c.at > first]
    low, high = esketamine.RULES.bp_check_window
    target = esketamine.RULES.bp_check_minutes
    window = [c for c in after if low * 60 <= (c.at - first).total_seconds() <= high * 60]
    forty = min(window, key=lambda c: abs((c.at - first).total_seconds() - target * 60)) if window else None
    later = [c for c in after if forty is not None and (c.at, c.entry.seq) > (forty.at, forty.entry.seq)]
    return (_reading(before[-1], first) if before else None, _reading(forty, first) if forty else None,
            _reading(later[-1], first) if later else None)


def _held(record: SessionRecord, first: datetime | None) -> list[BpReading]:
    rules = esketamine.RULES
    return [_reading(c, first) for c in _bp_readings(record) if (first is None or c.at <= first)
            and (c.payload["sbp"] > rules.predose_sbp or c.payload["dbp"] > rules.predose_dbp)]


def _scale_episode(record: SessionRecord, scale: Scale, first: datetime, present: Any, resolved: Any
                   ) -> tuple[bool, bool, datetime | None]:
    scores = sorted((c for c in record.current(EntryKind.SCALE)
                     if c.payload["scale"] == scale.value and c.at >= first), key=lambda c: (c.at, c.entry.seq))
    if not scores:
        return False, False, None
    values = [c.payload["score"] for c in scores]
    if not any(present(x) for x in values):
        return True, False, None
    bad = [i for i, x in enumerate(values) if not resolved(x)]
    if not bad:
        start = next(i for i, x in enumerate(values) if present(x))
        return True, True, scores[start].at
    after = [scores[i].at for i in range(bad[-1] + 1, len(scores)) if resolved(values[i])]
    return True, True, after[0] if after else None


def _effect_episode(record: SessionRecord, kinds: set[str], first: datetime) -> tuple[bool, datetime | None]:
    effects = [s for s in record.side_effects if s.payload["effect"] in kinds and s.at >= first]
    if not effects:
        return False, None
    times = []
    for s in effects:
        res = record.resolutions.get(s.id)
        if res is None:
            return True, None
        times.append(res.at)
    return True, max(times)


def episode(record: SessionRecord, which: str, first: datetime | None) -> Episode:
    """Sedation (MOAA/S below 5, or a sedation side effect) or dissociation (a score above 0, or a dissociation
    or perceptual side effect) after the first device, and when it resolved (MOAA/S back to the discharge rule's
    level; dissociation back to the discharge rule's limit; side effects marked resolved)."""
    if first is None:
        return Episode(False, False, None)
    rules = record.protocol.discharge
    if which == "sedation":
        known, present, at = _scale_episode(record, Scale.MOAAS, first, lambda x: x < 5,
                                            lambda x: x >= rules.required_moaas)
        kinds = {SideEffectKind.SEDATION.value}
    else:
        known, present, at = _scale_episode(record, Scale.DISSOCIATION, first, lambda x: x > 0,
                                            lambda x: x <= rules.max_dissociation)
        kinds = {SideEffectKind.DISSOCIATION.value, SideEffectKind.PERCEPTUAL.value}
    effect_present, effect_at = _effect_episode(record, kinds, first)
    if not present and not effect_present:
        return Episode(known or effect_present, False, None)
    parts = [(present, at), (effect_present, effect_at)]
    if any(p and t is None for p, t in parts):
        return Episode(True, True, None)
    return Episode(True, True, max(t for p, t in parts if p and t is not None))


def respiratory_hint(record: SessionRecord, first: datetime | None) -> tuple[str, ...]:
    """Readings after the first device beyond the respiratory alert lines (RR and SpO2): shown to the clinician
    who answers the respiratory depression question."""
    if first is None:
        return ()
    alerts = record.protocol.alerts
    rr_low = alerts["rr"].low if "rr" in alerts else None
    spo2_low = alerts["spo2"].low if "spo2" in alerts else None
    hints = []
    for c in record.vitals:
        if c.at <= first:
            continue
        rr, spo2 = c.payload.get("rr"), c.payload.get("spo2")
        local = c.at.astimezone().strftime("%H:%M")
        if rr is not None and rr_low is not None and rr < rr_low:
            hints.append(f"RR {rr:g}/min at {local}")
        if spo2 is not None and spo2_low is not None and spo2 < spo2_low:
            hints.append(f"SpO2 {spo2:g}% at {local}")
    return tuple(hints)


def earliest_ready(record: SessionRecord, sedation: Episode, dissociation: Episode,
                   resp_resolved: datetime | None) -> datetime | None:
    """The earliest time the patient could have left: the minimum monitoring after the last device, and every
    effect resolved. ``None`` while an effect is unresolved or before a device."""
    base = record.earliest_discharge_at
    if base is None or sedation.open or dissociation.open:
        return None
    times = [base] + [t for t in (sedation.resolved_at, dissociation.resolved_at, resp_resolved) if t is not None]
    return max(times)


def _time(value: Any) -> datetime | None:
    return parse_ts(value) if isinstance(value, str) and value else None


def build(record: SessionRecord, setting: SettingDetails) -> RemsForm:
    """The form for ``record`` (an esketamine session)."""
    answers: dict[str, Answer] = answers_of(record)
    values = {k: a.value for k, a in answers.items()}
    devices = esketamine.devices(record)
    first = devices[0].at if devices else record.first_dose_at
    pre, forty, last = bp_readings(record, first)
    sedation = episode(record, "sedation", first)
    dissociation = episode(record, "dissociation", first)
    resp = values.get("respiratory_depression")
    resp_at = _time(values.get("respiratory_depression_resolved_at")) if resp else None
    ready_at = _time(values.get("ready_to_leave_at"))
    signature = record.signature
    signed_at = parse_ts(signature.payload["signed_at"]) if signature is not None else None
    end = signed_at or ready_at

    missing_record: list[str] = []
    if not devices:
        missing_record.append("no esketamine device recorded")
    if pre is None:
        missing_record.append("no pre-dose blood pressure")
    if first is not None and forty is None:
        low, high = esketamine.RULES.bp_check_window
        missing_record.append(f"no blood pressure about 40 minutes after the first device ({low}–{high} min)")
    if first is not None and last is None:
        missing_record.append("no blood pressure before the end of monitoring (after the ~40-minute reading)")
    for name, ep, how in (("sedation", sedation, "a MOAA/S score"), ("dissociation", dissociation,
                                                                       "a dissociation score")):
        if first is not None and not ep.known:
            missing_record.append(f"{name}: record {how} after dosing")
        elif ep.open:
            missing_record.append(f"{name} has not resolved")
    earliest = earliest_ready(record, sedation, dissociation, resp_at)
    if ready_at is not None and earliest is not None and ready_at < earliest.replace(second=0, microsecond=0):
        missing_record.append(f"ready to leave at {ready_at.astimezone():%H:%M} is before the earliest the record "
                              f"allows ({earliest.astimezone():%H:%M})")
    missing_answers = missing(Stage.PREDOSE, values) + missing(Stage.FORM, values)
    info = record.info
    treatment = first.astimezone().date() if first is not None else None
    return RemsForm(
        session_id=info.id,
        patient_name=info.client.name,
        patient_identifier=info.client.identifier,
        date_of_birth=info.client.date_of_birth,
        rems_patient_id=values.get("rems_patient_id"),
        setting=setting,
        treatment_date=treatment,
        phase=values.get("phase"),
        phase_session=values.get("phase_session"),
        dose_mg=esketamine.total_dose_mg(record),
        devices_given=len(devices),
        devices_planned=esketamine.planned_devices(record),
        device_times=tuple(d.at for d in devices),
        early_device_reasons=tuple(f"device {d.payload['device']}: {d.payload['early_reason']}" for d in devices
                                   if d.payload.get("early_reason")),
        first_administration_at=first,
        answers={k: a.value for k, a in answers.items() if k in BY_KEY},
        bp_predose=pre,
        bp_40min=forty,
        bp_before_completion=last,
        bp_held=tuple(r for r in _held(record, first) if pre is None or r.at < pre.at),
        sedation=sedation,
        dissociation=dissociation,
        respiratory_depression=resp,
        respiratory_depression_resolved_at=resp_at,
        respiratory_hint=respiratory_hint(record, first),
        serious_adverse_event=values.get("serious_adverse_event"),
        serious_adverse_event_detail=values.get("serious_adverse_event_detail", "") or "",
        hospitalised=values.get("hospitalised"),
        hospitalisation_detail=values.get("hospitalisation_detail", "") or "",
        earliest_ready_at=earliest,
        ready_to_leave_at=ready_at,
        ready_confirmed_by=answers["ready_to_leave_at"].by if "ready_to_leave_at" in answers else "",
        monitoring_end_at=end,
        clinician_name=values.get("clinician_name", "") or "",
        clinician_credentials=values.get("clinician_credentials", "") or "",
        clinician_contact=values.get("clinician_contact", "") or "",
        signed_by=signature.payload["signer_name"] if signature is not None else "",
        signed_at=signed_at,
        missing_answers=tuple(missing_answers),
        missing_record=tuple(missing_record),
        missing_details=tuple(setting.missing() + ([] if info.client.date_of_birth else
                                                    ["patient's date of birth (client details)"])),
    )
