"""Esketamine (Spravato) nasal spray: the protocol a session on the intranasal route is planned under.

Each value states its source: the SPRAVATO prescribing information (the product label) and the REMS materials,
as summarised in the clinical reference ("Esketamine (Spravato) specifics", "Monitoring during the session",
"Discharge"). The label's numbers are facts of the product, not clinic preferences: they are constants here,
while the parts of the protocol a clinic may adjust (checklist, vitals schedule, thresholds) are carried in the
session's :class:`ProtocolSettings` like any other protocol.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from kapconsole.domain.errors import ValidationError
from kapconsole.domain.protocol import ChecklistItem, DischargeRules, Limits, ProtocolSettings, VitalsSchedule

if TYPE_CHECKING:
    from kapconsole.domain.record import Current, SessionRecord

DRUG = "Esketamine"


@dataclass(frozen=True)
class EsketamineRules:
    """The label's esketamine values, each with its source."""

    # Label, "Dosage and Administration": each nasal spray device delivers 28 mg (two sprays, one per nostril).
    device_mg: int = 28
    # Label: 56 mg = 2 devices, 84 mg = 3 devices per treatment session.
    session_doses_mg: tuple[int, ...] = (56, 84)
    # Label: a 5-minute rest between devices.
    device_interval_minutes: int = 5
    # Label / REMS: BP before dosing, at about 40 minutes after dosing (the rise peaks around 40 min), and
    # before the patient leaves. A reading 30–55 minutes after the first device counts as the ~40-minute one.
    bp_check_minutes: int = 40
    bp_check_window: tuple[int, int] = (30, 55)
    # Label: if SBP > 140 or DBP > 90 before dosing, consider the risk and delay (the dose waits; recheck).
    predose_sbp: int = 140
    predose_dbp: int = 90
    # Label / REMS: monitoring at least 2 hours after administration and until the patient is clinically stable
    # (sedation, dissociation and respiratory depression resolved).
    min_monitoring_minutes: int = 120
    # Label: no food for at least 2 hours and no liquids for at least 30 minutes before administration;
    # a nasal corticosteroid or decongestant at least 1 hour before.
    no_food_minutes: int = 120
    no_liquids_minutes: int = 30
    nasal_product_minutes: int = 60
    # REMS: the Patient Monitoring Form is filed for every treatment session within 7 days.
    filing_days: int = 7
    # Label, "Dosage and Administration" (treatment-resistant depression): induction twice a week in weeks 1–4,
    # maintenance weekly in weeks 5–8, then weekly or every two weeks from week 9.
    induction_sessions: int = 8
    maintenance_weekly_sessions: int = 4

    def devices_for(self, dose_mg: float) -> int:
        """How many devices a session dose takes; refuses a dose the label does not list."""
        if dose_mg not in self.session_doses_mg:
            listed = " or ".join(f"{d} mg" for d in self.session_doses_mg)
            raise ValidationError("esketamine dose", dose_mg, f"{listed} per session ({self.device_mg} mg a device)")
        return int(dose_mg // self.device_mg)


RULES = EsketamineRules()


def device_drug(planned_drug: str) -> str:
    """The drug name a device is recorded under: the session's planned name when it names esketamine
    ("Spravato"), else "Esketamine"."""
    from kapconsole.domain.dosing import medicine

    return planned_drug if medicine(planned_drug) == "esketamine" else DRUG


def check_plan(dose: float | None, unit: str) -> None:
    """An esketamine session is planned in mg, for a dose the label lists (56 or 84 mg)."""
    if unit.strip() != "mg":
        raise ValidationError("unit", unit, "esketamine is planned in mg (28 mg a device)")
    if dose is not None:
        RULES.devices_for(dose)


def _checklist(base: Sequence[ChecklistItem]) -> tuple[ChecklistItem, ...]:
    """The clinic's checklist, without the items the REMS answers ask in their own, typed form.

    Concomitant medications, fasting, escort and driving are REMS answers (yes/no, contact number) rather than
    ticks; the rest of the clinic's checklist (identity, consent, screening, vitals, equipment) stays.
    """
    asked_by_rems = {"med_benzo", "med_hypnotics", "med_stimulants", "med_maoi", "fasting", "escort", "no_driving"}
    kept = [i for i in base if i.key not in asked_by_rems]
    # Label, "Administration": blow the nose before the first device only; head tilted back about 45° while
    # spraying; the patient self-administers under supervision.
    kept.append(ChecklistItem("spray_instructions", "Patient shown how to use the device (blow nose before the "
                              "first device; head tilted back about 45°)", True, "Day of session"))
    return tuple(kept)


def esketamine_protocol(clinic: ProtocolSettings) -> ProtocolSettings:
    """The clinic protocol adapted to an esketamine session (see each value's source in :class:`EsketamineRules`)."""
    predose = dict(clinic.predose)
    predose["sbp"] = Limits(None, RULES.predose_sbp)
    predose["dbp"] = Limits(None, RULES.predose_dbp)
    # Vitals every 20 minutes for the first hour puts a reading at 40 minutes, the label's BP check; then
    # the clinic's later interval.
    schedule = VitalsSchedule(first_phase_minutes=60, first_phase_interval=20,
                              iv_infusion_interval=clinic.schedule.iv_infusion_interval,
                              later_interval=clinic.schedule.later_interval)
    discharge: DischargeRules = replace(
        clinic.discharge, min_observation_minutes=max(clinic.discharge.min_observation_minutes,
                                                      RULES.min_monitoring_minutes))
    # The devices after the first are part of the one session dose, not boosters: the gate's booster count
    # leaves room for them (the route's limits still hold: 84 mg a session, whole 28 mg devices).
    most = max(RULES.session_doses_mg) // RULES.device_mg
    dosing = replace(clinic.dosing, max_boosters=max(clinic.dosing.max_boosters, most - 1))
    return replace(clinic, checklist=_checklist(clinic.checklist), predose=predose, schedule=schedule,
                   discharge=discharge, dosing=dosing)


# ----- devices ------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class DeviceStatus:
    """Where a session stands with its devices: how many given of how many, and when the next may be given."""

    given: int
    planned: int
    last_at: datetime | None
    next_allowed_at: datetime | None

    @property
    def complete(self) -> bool:
        return self.given >= self.planned

    def wait(self, now: datetime) -> timedelta:
        """Time left before the next device may be given (zero when it may be given now)."""
        if self.next_allowed_at is None or self.complete:
            return timedelta(0)
        return max(timedelta(0), self.next_allowed_at - now)


def devices(record: SessionRecord) -> list[Current]:
    """The session's esketamine devices (administration entries that carry a device number), in order."""
    return sorted((a for a in record.administrations if "device" in a.payload), key=lambda c: (c.at, c.entry.seq))


def planned_devices(record: SessionRecord) -> int:
    dose = record.info.planned_dose
    if dose is None:
        return RULES.devices_for(RULES.session_doses_mg[0])
    return RULES.devices_for(dose)


def device_status(record: SessionRecord) -> DeviceStatus:
    given = devices(record)
    last = given[-1].at if given else None
    nxt = None if last is None else last + timedelta(minutes=RULES.device_interval_minutes)
    return DeviceStatus(len(given), planned_devices(record), last, nxt)


def check_device(status: DeviceStatus, at: datetime, early_reason: str) -> None:
    """Refuse a device beyond the session's dose, or one given before the 5-minute rest without a reason."""
    if status.complete:
        raise ValidationError("device", status.given + 1,
                              f"this session's dose is {status.planned} devices and all have been given")
    if status.last_at is not None and at < status.last_at:
        raise ValidationError("device time", at.isoformat(), "after the previous device")
    if status.next_allowed_at is not None and at < status.next_allowed_at and not early_reason:
        minutes = RULES.device_interval_minutes
        raise ValidationError("reason", None, f"a device given less than {minutes} minutes after the previous one "
                                              "needs a reason")


def total_dose_mg(record: SessionRecord) -> int:
    return sum(int(d.payload["dose"]) for d in devices(record))
