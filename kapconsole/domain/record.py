"""The session record as a read model: entries with their amendments applied, and what follows from them."""

from __future__ import annotations

import bisect
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from functools import cached_property
from typing import Any

from kapconsole.domain import alerts as alert_rules
from kapconsole.domain import gates, schedule
from kapconsole.domain.entries import decode
from kapconsole.domain.entry_base import EntryContent
from kapconsole.domain.enums import EntryKind, Route, Scale, SessionState
from kapconsole.domain.episodes import AlertEpisode, build_episodes
from kapconsole.domain.outcomes import SELF_HARM_FLAG, Instrument, OutcomeScore
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

    @cached_property
    def content(self) -> EntryContent:
        """The typed value of the content as it stands."""
        return self.entry.content if not self.amended else decode(self.entry.kind, self.payload)


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
    # State changes and REMS answers do not change what the assessment judged.
    later = any(e.seq > latest.entry.seq and e.kind not in (EntryKind.STATE, EntryKind.REMS_ANSWERS)
                for e in record.entries)
    return LatestAssessment(latest, not later)


#: Which derived values an appended entry of a kind can change (dropped and worked out again when next asked).
_DERIVED_BY_KIND: dict[EntryKind, tuple[str, ...]] = {
    EntryKind.CHECKLIST: ("checklist_confirmed",),
    EntryKind.OVERRIDE: ("override",),
    EntryKind.ADMINISTRATION: ("administrations", "baseline_vitals", "alert_episodes"),
    EntryKind.VITALS: ("vitals", "baseline_vitals", "alert_episodes"),
    EntryKind.ALERT_ACK: ("acknowledged", "alert_episodes"),
    EntryKind.SIDE_EFFECT_RESOLVED: ("resolutions",),
}


class SessionRecord:
    """A session and all its entries, in chain order.

    A record only grows: :meth:`extend` applies the entries appended after the last one it holds and keeps
    the derived values it already worked out wherever the new entries leave them as they were.
    """

    def __init__(self, info: SessionInfo, entries: tuple[Entry, ...]) -> None:
        self.info = info
        self.entries = entries

    @property
    def last_seq(self) -> int:
        return self.entries[-1].seq if self.entries else 0

    # ----- growing --------------------------------------------------------------------------------------
    def extend(self, entries: Iterable[Entry]) -> list[Entry]:
        """Apply entries appended after the ones held; returns those that were new (already held ones are skipped).

        Raises ``ValueError`` when an entry is missing in between (the caller then reads what it lacks).
        """
        added: list[Entry] = []
        for e in entries:
            if e.seq <= self.last_seq:
                continue
            if e.seq != self.last_seq + 1 or e.session_id != self.info.id:
                raise ValueError(f"entry {e.seq} does not follow entry {self.last_seq} of session {self.info.id}")
            self._add(e)
            added.append(e)
        return added

    def _add(self, e: Entry) -> None:
        self.entries = (*self.entries, e)
        cache = self.__dict__
        info = replace(self.info, entry_count=e.seq, chain_head=e.hash, version=self.info.version + 1)
        if e.kind is EntryKind.STATE:
            target = SessionState(e.payload["to"])
            changes: dict[str, Any] = {"state": target}
            if target is SessionState.CHECKLIST:
                changes["started_at"] = e.observed_at
            if target.is_closed:
                changes["ended_at"] = e.observed_at
                changes["end_reason"] = str(e.payload.get("reason", ""))
            info = replace(info, **changes)
        self.info = info
        if "by_id" in cache:
            cache["by_id"][e.id] = e
        if e.kind is EntryKind.SIGNATURE and cache.get("signature", 0) is None:
            cache["signature"] = e
        kind = e.kind
        if e.kind is EntryKind.AMENDMENT and e.amends_id is not None:
            if "amendments" in cache:
                cache["amendments"].setdefault(e.amends_id, []).append(e)
            target_entry = self.by_id.get(e.amends_id)
            if target_entry is None:
                return
            kind = target_entry.kind
            if "_current_by_kind" in cache:
                cache["_current_by_kind"][kind] = self._current_of(kind)
            for name in (*_DERIVED_BY_KIND.get(kind, ()), "vitals", "baseline_vitals", "alert_episodes"):
                cache.pop(name, None)
            return
        if "_current_by_kind" in cache:
            cache["_current_by_kind"].setdefault(kind, []).append(Current(e, e.payload, False))
        if kind is EntryKind.VITALS and "vitals" in cache:
            cache.pop("alert_episodes", None)
            readings: list[Current] = cache["vitals"]
            current = Current(e, e.payload, False)
            if not readings or (readings[-1].at, readings[-1].entry.seq) <= (e.observed_at, e.seq):
                readings.append(current)
            else:
                bisect.insort(readings, current, key=lambda c: (c.at, c.entry.seq))
            first = self.first_dose_at
            if first is not None and e.observed_at > first:
                return  # a reading after the first dose leaves the baseline as it was
            cache.pop("baseline_vitals", None)
            return
        for name in _DERIVED_BY_KIND.get(kind, ()):
            cache.pop(name, None)

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
            current = self._current(e)
            if current is not None:
                result.setdefault(e.kind, []).append(current)
        return result

    def _current(self, e: Entry) -> Current | None:
        payload: Mapping[str, Any] | None = e.payload
        amends = self.amendments.get(e.id)
        if amends:
            payload = amends[-1].payload["content"]
        return None if payload is None else Current(e, payload, bool(amends))

    def _current_of(self, kind: EntryKind) -> list[Current]:
        return [c for e in self.entries if e.kind is kind and (c := self._current(e)) is not None]

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
        """Labels of required items not yet answered with their safe answer (or allowed "not applicable")."""
        open_keys = {b.key for b in gates.checklist_blockers(self.protocol, self.checklist_answers)}
        return [i.label for i in self.protocol.checklist if f"checklist.{i.key}" in open_keys]

    @property
    def checklist_answers(self) -> dict[str, str]:
        return {k: str(c.payload.get("answer", "confirmed")) for k, c in self.checklist_confirmed.items()}

    @cached_property
    def override(self) -> Current | None:
        items = self.current(EntryKind.OVERRIDE)
        return items[-1] if items else None

    def overrides_since_last_dose(self) -> list[Current]:
        """Overrides that apply to the next dose: those recorded after the latest administration entry."""
        last_seq = max((d.entry.seq for d in self.administrations), default=0)
        return [o for o in self.current(EntryKind.OVERRIDE) if o.entry.seq > last_seq]

    def gate_blockers(self) -> list[gates.Blocker]:
        """Everything that blocks the next dose before its amount is known, overrides not yet applied.

        Before the first dose: the checklist (safe answers only) and the pre-dose holds on the baseline.
        Before a booster: the pre-dose holds on each measure's latest value, and every unacknowledged alert.
        """
        if not self.administrations:
            blockers = (gates.checklist_blockers(self.protocol, self.checklist_answers)
                        + gates.predose_blockers(self.latest_values(baseline=True), self.protocol))
            if self.info.route is Route.INTRANASAL:
                from kapconsole.domain import rems

                blockers += rems.gate_blockers({k: a.value for k, a in rems.answers_of(self).items()})
            return blockers
        blockers = gates.predose_blockers(self.latest_values(), self.protocol, booster=True)
        for episode in self.unacknowledged_episodes():
            blockers.append(gates.Blocker(
                f"alert.{episode.key}", f"unacknowledged alert: {episode.worst_message}",
                ((episode.measure, f"{episode.worst:g}"),), (gates.WayForward.ACKNOWLEDGE,)))
        return blockers

    def dosing_blockers(self) -> list[gates.Blocker]:
        """What blocks the next dose after the overrides recorded for it; empty when it may go ahead."""
        remaining, _covered = gates.covered(self.gate_blockers(),
                                            (o.payload for o in self.overrides_since_last_dose()))
        return remaining

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
        """When the last dose ended (infusion end) or was given; None while an infusion is still running."""
        if self.running_infusions:
            return None
        ends = [parse_ts(d.payload["ended_at"]) if "ended_at" in d.payload else d.at for d in self.administrations]
        return max(ends) if ends else None

    @property
    def running_infusions(self) -> list[Current]:
        """IV infusions whose end has not been recorded yet."""
        return [d for d in self.administrations if d.payload["route"] == Route.IV.value and "ended_at" not in d.payload]

    @property
    def dose_spans(self) -> list[tuple[datetime, datetime | None]]:
        """Each dose as (start, end): end is the start for a bolus, None while an infusion runs."""
        return [(d.at, parse_ts(d.payload["ended_at"]) if "ended_at" in d.payload
                 else None if d.payload["route"] == Route.IV.value else d.at) for d in self.administrations]

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

    @property
    def infusion_spans(self) -> list[tuple[datetime, datetime | None]]:
        """IV infusions as (start, end), end None while running."""
        return [(start, end) for (start, end), d in zip(self.dose_spans, self.administrations, strict=True)
                if d.payload["route"] == Route.IV.value]

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
            merged.update({k: val for k, val in c.payload.items() if k not in ("source", "confirmed_by", "device")})
        return merged or None

    @property
    def latest_vitals(self) -> Current | None:
        return self.vitals[-1] if self.vitals else None

    def latest_values(self, *, baseline: bool = False) -> dict[str, tuple[float, datetime]]:
        """Each measure's latest value with its clinical time. ``baseline``: only readings up to the first dose."""
        cutoff = self.first_dose_at if baseline else None
        result: dict[str, tuple[float, datetime]] = {}
        for c in self.vitals:
            if cutoff is not None and c.at > cutoff:
                break
            for key, value in c.payload.items():
                if key not in ("source", "confirmed_by") and value is not None:
                    result[key] = (value, c.at)
        return result

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

    @cached_property
    def alert_episodes(self) -> list[AlertEpisode]:
        """Alerts grouped by persistent condition (one episode per measure and direction while it lasts)."""
        acks = [(c.payload, c.entry.author_name) for c in self.current(EntryKind.ALERT_ACK)]
        lows = {k: lim.low for k, lim in self.protocol.alerts.items()}
        return build_episodes(self.vitals, self.alerts_for, lows, acks)

    def unacknowledged_episodes(self) -> list[AlertEpisode]:
        return [e for e in self.alert_episodes if not e.acknowledged]

    def unacknowledged_alerts(self) -> list[tuple[Current, alert_rules.Alert]]:
        """One (latest reading, alert) per unacknowledged episode."""
        by_id = {c.id: c for c in self.vitals}
        pending = []
        for episode in self.unacknowledged_episodes():
            reading = by_id[episode.latest_reading_id]
            alert = next((a for a in self.alerts_for(reading) if a.measure == episode.measure), None)
            pending.append((reading, alert or alert_rules.Alert(episode.measure, episode.worst,
                                                                 episode.worst_message)))
        return pending

    def last_taken(self) -> dict[str, datetime]:
        return {k: at for k, (_v, at) in self.latest_values().items()}

    def vitals_due_by_measure(self) -> dict[str, datetime]:
        if self.info.state.is_closed or self.info.state is SessionState.PLANNED:
            return {}
        return schedule.due_by_measure(doses=self.dose_spans, infusions=self.infusion_spans,
                                       last_taken=self.last_taken(), schedule=self.protocol.schedule)

    def next_vitals_due(self) -> datetime | None:
        dues = self.vitals_due_by_measure()
        return min(dues.values()) if dues else None

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
    def closing_note(self) -> Current | None:
        """The therapist's closing note, as it stands."""
        notes = self.current(EntryKind.CLOSING_NOTE)
        return notes[-1] if notes else None

    @property
    def outcome_scores(self) -> dict[str, OutcomeScore]:
        """The latest score of each outcome measure recorded at this session's check-in, by instrument."""
        scores: dict[str, OutcomeScore] = {}
        for c in sorted(self.current(EntryKind.OUTCOME_MEASURE), key=lambda c: (c.at, c.entry.seq)):
            scores[c.payload["instrument"]] = OutcomeScore(Instrument(c.payload["instrument"]),
                                                           tuple(int(i) for i in c.payload["items"]))
        return scores

    @property
    def safety_flags(self) -> list[str]:
        """What a clinician must see before dosing (today: a PHQ-9 item-9 answer above 0)."""
        phq = self.outcome_scores.get(Instrument.PHQ9.value)
        if phq is not None and phq.needs_risk_assessment:
            return [SELF_HARM_FLAG.format(answer=phq.self_harm_answer)]
        return []

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
