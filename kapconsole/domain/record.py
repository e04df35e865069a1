"""The session record as a read model: entries with their amendments applied, and what follows from them."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cached_property
from typing import Any

from kapconsole.domain import alerts as alert_rules
from kapconsole.domain import schedule
from kapconsole.domain.enums import EntryKind, Route, Scale, SessionState
from kapconsole.domain.protocol import ProtocolSettings
from kapconsole.domain.rescue import RescueMedication
from kapconsole.domain.values import Entry, SessionInfo


def parse_ts(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


@dataclass(frozen=True)
class Current:
    """An entry as it stands now: the original, and its content after the latest amendment."""

    entry: Entry
    payload: Mapping[str, Any]
    amended: bool

    @property
    def id(self) -> int:
        return self.entry.id

    @property
    def at(self) -> datetime:
        return self.entry.observed_at


@dataclass(frozen=True)
class LatestAssessment:
    """The latest recorded discharge assessment, and whether it still describes the record."""

    entry: Current
    #: False when something other than a state change was charted after it: it must be assessed again
    #: (``DischargeService.sign`` refuses to sign then).
    current: bool

    @property
    def ready(self) -> bool:
        return bool(self.entry.payload["ready"])

    @property
    def failing(self) -> list[str]:
        return [c["label"] for c in self.entry.payload["criteria"] if not c["passed"]]


def latest_assessment(record: SessionRecord) -> LatestAssessment | None:
    items = record.discharge_assessments
    if not items:
        return None
    latest = items[-1]
    later = any(e.seq > latest.entry.seq and e.kind is not EntryKind.STATE for e in record.entries)
    return LatestAssessment(latest, not later)


class SessionRecord:
    """A session and all its entries, in chain order. Immutable once built."""

    def __init__(self, info: SessionInfo, entries: tuple[Entry, ...]) -> None:
        self.info = info
        self.entries = entries

    # ----- amendments -----------------------------------------------------------------------------------
    @cached_property
    def protocol(self) -> ProtocolSettings:
        return ProtocolSettings.from_json(self.info.protocol_json)

    @cached_property
    def by_id(self) -> dict[int, Entry]:
        return {e.id: e for e in self.entries}

    @cached_property
    def amendments(self) -> dict[int, list[Entry]]:
        result: dict[int, list[Entry]] = {}
        for e in self.entries:
            if e.kind is EntryKind.AMENDMENT and e.amends_id is not None:
                result.setdefault(e.amends_id, []).append(e)
        return result

    def amendments_of(self, entry_id: int) -> list[Entry]:
        return self.amendments.get(entry_id, [])

    def current(self, kind: EntryKind) -> list[Current]:
        """Entries of ``kind`` as they stand: amended content applied, retracted ones left out."""
        return self._current_by_kind.get(kind, [])

    @cached_property
    def _current_by_kind(self) -> dict[EntryKind, list[Current]]:
        result: dict[EntryKind, list[Current]] = {}
        for e in self.entries:
            if e.kind is EntryKind.AMENDMENT:
                continue
            payload: Mapping[str, Any] | None = e.payload
            amends = self.amendments.get(e.id)
            if amends:
                payload = amends[-1].payload["content"]
            if payload is None:
                continue
            result.setdefault(e.kind, []).append(Current(e, payload, bool(amends)))
        return result

    # ----- sign-off -------------------------------------------------------------------------------------
    @cached_property
    def signature(self) -> Entry | None:
        return next((e for e in self.entries if e.kind is EntryKind.SIGNATURE), None)

    def after_signoff(self, entry: Entry) -> bool:
        sig = self.signature
        if sig is None or entry.seq <= sig.seq:
            return False
        # The move to "discharged" is part of signing, not something entered after the sign-off.
        return not (entry.kind is EntryKind.STATE and entry.payload.get("to") == SessionState.DISCHARGED.value)

    @property
    def locked(self) -> bool:
        return self.info.state.is_closed

    # ----- checklist ------------------------------------------------------------------------------------
    @cached_property
    def checklist_confirmed(self) -> dict[str, Current]:
        return {c.payload["item"]: c for c in self.current(EntryKind.CHECKLIST)}

    def checklist_missing(self) -> list[str]:
        """Labels of required items not yet confirmed."""
        done = self.checklist_confirmed
        return [i.label for i in self.protocol.checklist if i.required and i.key not in done]

    @cached_property
    def override(self) -> Current | None:
        items = self.current(EntryKind.OVERRIDE)
        return items[-1] if items else None

    def dosing_blockers(self) -> list[str]:
        """What blocks dosing; empty when dosing is allowed (or a supervisor overrode the gate)."""
        if self.administrations or self.override is not None:
            return []
        blockers = [f"not confirmed: {label}" for label in self.checklist_missing()]
        blockers += alert_rules.predose_holds(self.baseline_vitals, self.protocol)
        return blockers

    # ----- dosing ---------------------------------------------------------------------------------------
    @cached_property
    def administrations(self) -> list[Current]:
        return self.current(EntryKind.ADMINISTRATION)

    @property
    def first_dose_at(self) -> datetime | None:
        doses = self.administrations
        return min(d.at for d in doses) if doses else None

    @property
    def last_dose_at(self) -> datetime | None:
        """When the last dose ended (infusion end) or was given."""
        ends = [parse_ts(d.payload["ended_at"]) if "ended_at" in d.payload else d.at for d in self.administrations]
        return max(ends) if ends else None

    @property
    def earliest_discharge_at(self) -> datetime | None:
        """When the protocol's minimum observation time after the last dose has passed (None before a dose)."""
        last = self.last_dose_at
        return None if last is None else last + timedelta(minutes=self.protocol.discharge.min_observation_minutes)

    @property
    def infusions(self) -> list[tuple[datetime, datetime]]:
        return [
            (d.at, parse_ts(d.payload["ended_at"]))
            for d in self.administrations
            if d.payload["route"] == Route.IV.value and "ended_at" in d.payload
        ]

    # ----- vitals ---------------------------------------------------------------------------------------
    @cached_property
    def vitals(self) -> list[Current]:
        """Vitals readings in clinical-time order."""
        return sorted(self.current(EntryKind.VITALS), key=lambda c: (c.at, c.entry.seq))

    @cached_property
    def baseline_vitals(self) -> Mapping[str, Any] | None:
        """The latest reading before the first dose (all readings when there is no dose yet), merged by measure."""
        first = self.first_dose_at
        merged: dict[str, Any] = {}
        for c in self.vitals:
            if first is not None and c.at > first:
                break
            merged.update({k: val for k, val in c.payload.items() if k not in ("source", "confirmed_by")})
        return merged or None

    @property
    def latest_vitals(self) -> Current | None:
        return self.vitals[-1] if self.vitals else None

    def alerts_for(self, reading: Current) -> list[alert_rules.Alert]:
        first = self.first_dose_at
        baseline = self.baseline_vitals if first is not None and reading.at > first else None
        return alert_rules.session_alerts(reading.payload, baseline, self.protocol)

    @cached_property
    def acknowledged(self) -> dict[int, set[str]]:
        result: dict[int, set[str]] = {}
        for c in self.current(EntryKind.ALERT_ACK):
            result.setdefault(int(c.payload["vitals"]), set()).update(c.payload["measures"])
        return result

    def unacknowledged_alerts(self) -> list[tuple[Current, alert_rules.Alert]]:
        pending = []
        for reading in self.vitals:
            done = self.acknowledged.get(reading.id, set())
            pending += [(reading, a) for a in self.alerts_for(reading) if a.measure not in done]
        return pending

    def next_vitals_due(self) -> datetime | None:
        if self.info.state.is_closed or self.info.state is SessionState.PLANNED:
            return None
        last = self.latest_vitals
        return schedule.next_due(
            first_dose_at=self.first_dose_at,
            last_vitals_at=last.at if last else None,
            infusions=self.infusions,
            schedule=self.protocol.schedule,
        )

    # ----- side effects, scales, observations -----------------------------------------------------------
    @cached_property
    def resolutions(self) -> dict[int, Current]:
        return {int(c.payload["side_effect"]): c for c in self.current(EntryKind.SIDE_EFFECT_RESOLVED)}

    @property
    def side_effects(self) -> list[Current]:
        return self.current(EntryKind.SIDE_EFFECT)

    def unresolved_side_effects(self) -> list[Current]:
        return [s for s in self.side_effects if s.id not in self.resolutions]

    def latest_scale(self, scale: Scale) -> Current | None:
        scores = [c for c in self.current(EntryKind.SCALE) if c.payload["scale"] == scale.value]
        return max(scores, key=lambda c: (c.at, c.entry.seq)) if scores else None

    @property
    def observations(self) -> list[Current]:
        return self.current(EntryKind.OBSERVATION)

    @property
    def integration_items(self) -> list[Current]:
        return sorted((o for o in self.observations if o.payload.get("for_integration")), key=lambda c: c.at)

    @property
    def intention(self) -> str:
        items = [o for o in self.observations if o.payload.get("topic") == "intention"]
        return items[-1].payload["text"] if items else ""

    @property
    def discharge_assessments(self) -> list[Current]:
        return self.current(EntryKind.DISCHARGE_ASSESSMENT)

    # ----- rescue and adjunct medications ---------------------------------------------------------------
    @property
    def rescue_medications(self) -> list[Current]:
        """Rescue and adjunct medications given, in clinical-time order."""
        return sorted(self.current(EntryKind.RESCUE_MEDICATION), key=lambda c: (c.at, c.entry.seq))

    def rescue_values(self) -> list[RescueMedication]:
        return [RescueMedication.from_payload(c.payload) for c in self.rescue_medications]

    def treatments_of(self, side_effect_id: int) -> list[Current]:
        """The rescue medications given for one side effect."""
        return [c for c in self.rescue_medications if c.payload.get("side_effect") == side_effect_id]

    # ----- late entries ---------------------------------------------------------------------------------
    def late_by(self, entry: Entry) -> timedelta | None:
        """How long after its clinical time an entry was charted, when that makes it a late entry."""
        return late_by(entry, self.protocol)


def late_by(entry: Entry, protocol: ProtocolSettings) -> timedelta | None:
    """``entered_at − observed_at`` when it reaches the protocol's late-entry time, else None.

    An amendment is never late: its clinical time is the moment of the correction.
    """
    delay = entry.entered_at - entry.observed_at
    if entry.kind is EntryKind.AMENDMENT or delay < timedelta(minutes=protocol.late_entry_minutes):
        return None
    return delay
