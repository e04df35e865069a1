"""One frozen value class per entry kind: its validation (``build``), its stored payload and its description.

Services store exactly what these classes build (``to_payload``); readers turn a stored payload back into
the value (``from_payload``, through :func:`~kapconsole.domain.entry_base.decode`). The payload JSON of every
kind is the one earlier versions stored, so existing databases and their hash chains still verify.

The module-level functions at the end (``vitals_reading``, ``observation`` …) return the validated payload of
one kind; they are kept for scripts and tests that build payloads directly.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field, replace
from datetime import datetime
from typing import Any

from kapconsole.domain import outcomes
from kapconsole.domain import validation as v
from kapconsole.domain.entry_base import (
    REGISTRY,
    EntryContent,
    EntryLookup,
    decode,
    label_of,
    local_time,
    num,
    register,
)
from kapconsole.domain.enums import (
    EntryKind,
    ObservationCategory,
    Route,
    Scale,
    SessionState,
    Severity,
    SideEffectKind,
    VitalsSource,
)
from kapconsole.domain.errors import ValidationError
from kapconsole.domain.integrity import timestamp
from kapconsole.domain.protocol import MEASURES, ProtocolSettings
from kapconsole.domain.values import Entry

DOSE_UNITS = ("mg", "mg/kg", "mcg", "mL")
ANSWERS = ("confirmed", "yes", "no", "not_applicable")


def _parse_ts(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def _note(text: str, sep: str = " — ") -> str:
    return f"{sep}{text}" if text else ""


# ----- checklist and gate --------------------------------------------------------------------------------------
@register
@dataclass(frozen=True)
class ChecklistConfirmation(EntryContent):
    """A checklist item answered: its key and the label text exactly as shown to the person."""

    kind = EntryKind.CHECKLIST
    amendable = True
    item: str
    label: str
    answer: str = "confirmed"
    note: str = ""

    @classmethod
    def build(cls, item_key: str, label: str, *, answer: str = "confirmed", note: str = "") -> ChecklistConfirmation:
        answer = v.text("answer", answer, required=True)
        if answer not in ANSWERS:
            raise ValidationError("answer", answer, "allowed: " + ", ".join(ANSWERS))
        return cls(v.text("checklist item", item_key, required=True), v.text("label", label, limit=v.REASON_TEXT,
                                                                            required=True),
                   answer, v.text("note", note, limit=v.REASON_TEXT))

    def to_payload(self) -> dict[str, Any]:
        return {"item": self.item, "label": self.label, "answer": self.answer, "note": self.note}

    @classmethod
    def from_payload(cls, p: Mapping[str, Any]) -> ChecklistConfirmation:
        return cls(str(p["item"]), str(p.get("label", p["item"])), str(p.get("answer", "")), str(p.get("note", "")))

    @property
    def answer_text(self) -> str:
        return self.answer.replace("_", " ")

    def describe(self, record: EntryLookup | None = None) -> str:
        return f"✓ {self.label or self.item} ({self.answer}){_note(self.note)}"

    def corrected(self, changes: Mapping[str, Any], protocol: ProtocolSettings, original: Entry) -> EntryContent:
        return ChecklistConfirmation.build(self.item, self.label, answer=changes.get("answer", self.answer),
                                           note=changes.get("note", self.note))


@register
@dataclass(frozen=True)
class ChecklistOverride(EntryContent):
    """A supervisor let dosing go ahead despite what blocked it."""

    kind = EntryKind.OVERRIDE
    reason: str
    missing: tuple[str, ...] = ()
    #: The blockers this override covers, each as ``Blocker.to_dict()`` (key, label, values, ways). An override
    #: covers only these: a blocker that appears later needs its own.
    covers: tuple[Mapping[str, Any], ...] = ()
    #: The dose the override was given for (drug, route, dose, unit), when it covers a dose's own blockers.
    dose: Mapping[str, Any] | None = None

    @classmethod
    def build(cls, reason: str, missing: list[str] | tuple[str, ...], *,
              covers: tuple[Mapping[str, Any], ...] = (), dose: Mapping[str, Any] | None = None) -> ChecklistOverride:
        return cls(v.text("reason", reason, limit=v.REASON_TEXT, required=True), tuple(str(m) for m in missing),
                   tuple(dict(c) for c in covers), dict(dose) if dose is not None else None)

    def to_payload(self) -> dict[str, Any]:
        payload: dict[str, Any] = {"reason": self.reason, "missing": list(self.missing)}
        if self.covers:
            payload["covers"] = [dict(c) for c in self.covers]
        if self.dose is not None:
            payload["dose"] = dict(self.dose)
        return payload

    @classmethod
    def from_payload(cls, p: Mapping[str, Any]) -> ChecklistOverride:
        return cls(str(p.get("reason", "")), tuple(p.get("missing", ())), tuple(p.get("covers", ())), p.get("dose"))

    def describe(self, record: EntryLookup | None = None) -> str:
        return f"Checklist override: {self.reason}"


# ----- dosing --------------------------------------------------------------------------------------------------
@register
@dataclass(frozen=True)
class Administration(EntryContent):
    """A dose given (booster doses too). An intranasal dose has a device lot; an IV infusion its end time."""

    kind = EntryKind.ADMINISTRATION
    amendable = True
    drug: str
    route: str
    dose: float
    unit: str
    lot: str
    ordered_by: int
    ordered_by_name: str
    given_by: int
    given_by_name: str
    device_lot: str | None = None  # stored only for intranasal doses
    ended_at: datetime | None = None  # stored only for IV infusions; None while an infusion runs
    #: Blocker keys the giver confirmed (e.g. the dose above the plan, by its amount); stored only when set.
    confirmed: tuple[str, ...] = ()
    # Esketamine: the device's number in the session, the devices planned, and why it was given before the
    # 5-minute rest (stored only for esketamine devices; see domain.esketamine).
    device: int | None = None
    devices_planned: int | None = None
    early_reason: str = ""

    @classmethod
    def build(cls, *, drug: str, route: str, dose: object, unit: str, lot: str = "", device_lot: str = "",
              ended_at: datetime | None = None, started_at: datetime, ordered_by: int, ordered_by_name: str,
              given_by: int, given_by_name: str) -> Administration:
        route_value = v.choice("route", route, Route)
        clean_unit = v.text("unit", unit, required=True)
        if clean_unit not in DOSE_UNITS:
            raise ValidationError("unit", clean_unit, f"allowed: {', '.join(DOSE_UNITS)}")
        upper = {"mg": 1000, "mg/kg": 2.0, "mcg": 1_000_000, "mL": 100}[clean_unit]
        amount = v.number("dose", dose, low=0, high=upper, unit=clean_unit, decimals=3)
        if amount is None or amount <= 0:
            raise ValidationError("dose", dose, f"must be more than 0 {clean_unit}")
        clean_drug = v.text("drug", drug, required=True)
        clean_lot = v.text("lot", lot)
        device: str | None = None
        if route_value is Route.INTRANASAL:
            device = v.text("device lot", device_lot, required=True)
        end: datetime | None = None
        if route_value is Route.IV and ended_at is not None:
            # Without an end the infusion is running; its end is recorded when it stops.
            end = v.to_utc(ended_at, "infusion end")
            if end <= started_at:
                raise ValidationError("infusion end", timestamp(end), "must be after the infusion start")
        elif route_value is not Route.IV and ended_at is not None:
            raise ValidationError("infusion end", timestamp(v.to_utc(ended_at, "infusion end")),
                                  "only IV infusions have an end time")
        return cls(clean_drug, route_value.value, amount, clean_unit, clean_lot, ordered_by, ordered_by_name,
                   given_by, given_by_name, device, end)

    def to_payload(self) -> dict[str, Any]:
        payload: dict[str, Any] = {
            "drug": self.drug, "route": self.route, "dose": self.dose, "unit": self.unit, "lot": self.lot,
            "ordered_by": self.ordered_by, "ordered_by_name": self.ordered_by_name, "given_by": self.given_by,
            "given_by_name": self.given_by_name,
        }
        if self.device_lot is not None:
            payload["device_lot"] = self.device_lot
        if self.ended_at is not None:
            payload["ended_at"] = timestamp(self.ended_at)
        if self.confirmed:
            payload["confirmed"] = list(self.confirmed)
        if self.device is not None:
            payload["device"] = self.device
            payload["devices_planned"] = self.devices_planned
            if self.early_reason:
                payload["early_reason"] = self.early_reason
        return payload

    @classmethod
    def from_payload(cls, p: Mapping[str, Any]) -> Administration:
        end = p.get("ended_at")
        return cls(str(p["drug"]), str(p["route"]), p["dose"], str(p["unit"]), str(p.get("lot", "")),
                   p.get("ordered_by", 0), str(p.get("ordered_by_name", "")), p.get("given_by", 0),
                   str(p.get("given_by_name", "")), p.get("device_lot"), _parse_ts(end) if end else None,
                   tuple(p.get("confirmed", ())), p.get("device"), p.get("devices_planned"),
                   str(p.get("early_reason", "")))

    @property
    def route_label(self) -> str:
        return label_of(Route, self.route)

    def describe(self, record: EntryLookup | None = None) -> str:
        text = f"{self.drug} {num(self.dose)} {self.unit}, {self.route_label}"
        if self.lot:
            text += f", lot {self.lot}"
        if self.device is not None:
            text += f", device {self.device} of {self.devices_planned}, device lot {self.device_lot or ''}"
            if self.early_reason:
                text += f" (early: {self.early_reason})"
        return text + f"; given by {self.given_by_name}, ordered by {self.ordered_by_name}"

    def corrected(self, changes: Mapping[str, Any], protocol: ProtocolSettings, original: Entry) -> EntryContent:
        merged = {**self.to_payload(), **changes}
        end = merged.get("ended_at")
        corrected = Administration.build(
            drug=merged["drug"], route=merged["route"], dose=merged["dose"], unit=merged["unit"], lot=merged["lot"],
            device_lot=merged.get("device_lot") or "", started_at=original.observed_at,
            ended_at=_parse_ts(end) if isinstance(end, str) else end, ordered_by=merged["ordered_by"],
            ordered_by_name=merged["ordered_by_name"], given_by=merged["given_by"],
            given_by_name=merged["given_by_name"])
        # A device keeps its number in the session (a correction fixes its lot or time, not which device it was).
        return replace(corrected, confirmed=self.confirmed, device=self.device, devices_planned=self.devices_planned,
                       early_reason=str(merged.get("early_reason", self.early_reason)))


# ----- vitals --------------------------------------------------------------------------------------------------
_SHORT = (("hr", "HR", ""), ("spo2", "SpO2", "%"), ("rr", "RR", ""), ("temp", "T", " °C"))


@register
@dataclass(frozen=True)
class VitalsReading(EntryContent):
    """A vitals reading: any subset of the measures, and where it came from (typed, or a confirmed monitor)."""

    kind = EntryKind.VITALS
    amendable = True
    sbp: int | None = None
    dbp: int | None = None
    hr: int | None = None
    spo2: int | None = None
    rr: int | None = None
    temp: float | None = None
    source: str = VitalsSource.MANUAL.value
    confirmed_by: int | None = None
    #: A confirmed monitor reading: which device, its time and arrival, the stream readings, what was edited.
    device: Mapping[str, Any] | None = None

    @classmethod
    def build(cls, values: Mapping[str, Any], protocol: ProtocolSettings, *, source: str = "manual",
              confirmed_by: int | None = None, device: Mapping[str, Any] | None = None) -> VitalsReading:
        clean = v.vitals(dict(values), protocol)
        src = v.choice("source", source, VitalsSource).value
        # Monitor artefacts are common: a device reading counts as charted only once staff confirm it.
        if src == VitalsSource.DEVICE.value and confirmed_by is None:
            raise ValidationError("confirmed by", None, "a device reading must be confirmed by a person",
                                  key="confirmed_by")
        if device is not None and src != VitalsSource.DEVICE.value:
            raise ValidationError("device", device.get("name"), "only a device reading names a device", key="device")
        return cls(**clean, source=src, confirmed_by=confirmed_by,  # type: ignore[arg-type]
                   device=dict(device) if device is not None else None)

    @property
    def values(self) -> dict[str, float | int]:
        """The measures taken, by key (``sbp``, ``dbp``, ``hr``, ``spo2``, ``rr``, ``temp``)."""
        return {k: getattr(self, k) for k in MEASURES if getattr(self, k) is not None}

    def to_payload(self) -> dict[str, Any]:
        payload: dict[str, Any] = {**self.values, "source": self.source, "confirmed_by": self.confirmed_by}
        if self.device is not None:
            payload["device"] = dict(self.device)
        return payload

    @classmethod
    def from_payload(cls, p: Mapping[str, Any]) -> VitalsReading:
        device = p.get("device")
        return cls(**{k: p.get(k) for k in MEASURES}, source=str(p.get("source", "manual")),
                   confirmed_by=p.get("confirmed_by"), device=dict(device) if isinstance(device, Mapping) else None)

    def describe(self, record: EntryLookup | None = None) -> str:
        text = self.short() or "(no measures)"
        if self.source != VitalsSource.DEVICE.value:
            return text
        name = (self.device or {}).get("name")
        edited = ", edited" if (self.device or {}).get("edited") else ""
        return text + (f" (monitor {name}{edited}, confirmed)" if name else f" (monitor{edited}, confirmed)")

    def short(self, measures: tuple[str, ...] = ("bp", "hr", "spo2", "rr", "temp")) -> str:
        """The measures in one line, ``BP 128/82 · HR 76 · SpO2 97%`` (the board shows only BP, HR and SpO2)."""
        parts = []
        if "bp" in measures and (self.sbp is not None or self.dbp is not None):
            parts.append(f"BP {_dash(self.sbp)}/{_dash(self.dbp)}")
        for key, short, unit in _SHORT:
            value = getattr(self, key)
            if key in measures and value is not None:
                parts.append(f"{short} {num(value)}{unit}")
        return " · ".join(parts)

    def corrected(self, changes: Mapping[str, Any], protocol: ProtocolSettings, original: Entry) -> EntryContent:
        return VitalsReading.build(changes, protocol, source=self.source, confirmed_by=self.confirmed_by,
                                   device=self.device)


def _dash(value: float | None) -> str:
    return "–" if value is None else num(value)


@register
@dataclass(frozen=True)
class AlertAcknowledgement(EntryContent):
    """A person acknowledged the alerting measures of one vitals reading."""

    kind = EntryKind.ALERT_ACK
    amendable = True
    vitals: int
    measures: tuple[str, ...]
    note: str = ""
    #: The worst value of each measure's alert episode the person saw (a worse one later raises it again).
    values: Mapping[str, float] = field(default_factory=dict)

    @classmethod
    def build(cls, vitals_entry_id: int, measures: list[str] | tuple[str, ...], note: str = "",
              values: Mapping[str, float] | None = None) -> AlertAcknowledgement:
        if not measures:
            raise ValidationError("alert", None, "name the alerting measures that are acknowledged", key="measures")
        return cls(int(vitals_entry_id), tuple(sorted(measures)), v.text("note", note, limit=v.REASON_TEXT),
                   dict(values or {}))

    def to_payload(self) -> dict[str, Any]:
        payload: dict[str, Any] = {"vitals": self.vitals, "measures": list(self.measures), "note": self.note}
        if self.values:
            payload["values"] = dict(self.values)
        return payload

    @classmethod
    def from_payload(cls, p: Mapping[str, Any]) -> AlertAcknowledgement:
        return cls(int(p["vitals"]), tuple(p.get("measures", ())), str(p.get("note", "")), dict(p.get("values", {})))

    @property
    def measure_labels(self) -> str:
        return ", ".join(MEASURES.get(m, (m,))[0] for m in self.measures)

    def describe(self, record: EntryLookup | None = None) -> str:
        reading = record.by_id.get(self.vitals) if record else None
        when = f" of the {local_time(reading.observed_at)} reading" if reading else ""
        return f"Alert acknowledged: {self.measure_labels}{when}{_note(self.note)}"

    def corrected(self, changes: Mapping[str, Any], protocol: ProtocolSettings, original: Entry) -> EntryContent:
        return AlertAcknowledgement.build(int(changes.get("vitals", self.vitals)),
                                          list(changes.get("measures", self.measures)), changes.get("note", self.note))


# ----- side effects, observations, scales ----------------------------------------------------------------------
@register
@dataclass(frozen=True)
class SideEffect(EntryContent):
    kind = EntryKind.SIDE_EFFECT
    amendable = True
    effect: str
    severity: str
    intervention: str = ""
    description: str = ""

    @classmethod
    def build(cls, effect: str, severity: str, *, intervention: str = "", description: str = "") -> SideEffect:
        kind_value = v.choice("side effect", effect, SideEffectKind)
        return cls(kind_value.value, v.choice("severity", severity, Severity).value,
                   v.text("intervention", intervention, limit=v.REASON_TEXT),
                   v.text("description", description, limit=v.REASON_TEXT,
                          required=kind_value is SideEffectKind.OTHER))

    def to_payload(self) -> dict[str, Any]:
        return {"effect": self.effect, "severity": self.severity, "intervention": self.intervention,
                "description": self.description}

    @classmethod
    def from_payload(cls, p: Mapping[str, Any]) -> SideEffect:
        return cls(str(p["effect"]), str(p.get("severity", "")), str(p.get("intervention", "")),
                   str(p.get("description", "")))

    @property
    def effect_label(self) -> str:
        return label_of(SideEffectKind, self.effect)

    def describe(self, record: EntryLookup | None = None) -> str:
        text = f"{self.effect_label} ({self.severity})"
        if self.description:
            text += f": {self.description}"
        return text + (f" — intervention: {self.intervention}" if self.intervention else "")

    def corrected(self, changes: Mapping[str, Any], protocol: ProtocolSettings, original: Entry) -> EntryContent:
        m = {**self.to_payload(), **changes}
        return SideEffect.build(m["effect"], m["severity"], intervention=m["intervention"],
                                description=m["description"])


@register
@dataclass(frozen=True)
class SideEffectResolution(EntryContent):
    kind = EntryKind.SIDE_EFFECT_RESOLVED
    amendable = True
    side_effect: int
    note: str = ""

    @classmethod
    def build(cls, side_effect_id: int, note: str = "") -> SideEffectResolution:
        return cls(int(side_effect_id), v.text("note", note, limit=v.REASON_TEXT))

    def to_payload(self) -> dict[str, Any]:
        return {"side_effect": self.side_effect, "note": self.note}

    @classmethod
    def from_payload(cls, p: Mapping[str, Any]) -> SideEffectResolution:
        return cls(int(p["side_effect"]), str(p.get("note", "")))

    def describe(self, record: EntryLookup | None = None) -> str:
        target = record.by_id.get(self.side_effect) if record else None
        what = label_of(SideEffectKind, target.payload.get("effect")) if target else "side effect"
        return f"Resolved: {what}{_note(self.note)}"

    def corrected(self, changes: Mapping[str, Any], protocol: ProtocolSettings, original: Entry) -> EntryContent:
        return SideEffectResolution.build(int(changes.get("side_effect", self.side_effect)),
                                          changes.get("note", self.note))


@register
@dataclass(frozen=True)
class Observation(EntryContent):
    kind = EntryKind.OBSERVATION
    amendable = True
    category: str
    text: str
    for_integration: bool = False
    topic: str = ""  # stored only when set ("intention")

    @classmethod
    def build(cls, category: str, text: str, *, for_integration: bool = False, topic: str = "") -> Observation:
        return cls(v.choice("category", category, ObservationCategory).value,
                   v.text("observation", text, limit=v.LONG_TEXT, required=True), bool(for_integration),
                   v.text("topic", topic) if topic else "")

    def to_payload(self) -> dict[str, Any]:
        payload: dict[str, Any] = {"category": self.category, "text": self.text,
                                   "for_integration": self.for_integration}
        if self.topic:
            payload["topic"] = self.topic
        return payload

    @classmethod
    def from_payload(cls, p: Mapping[str, Any]) -> Observation:
        return cls(str(p.get("category", "general")), str(p.get("text", "")), bool(p.get("for_integration")),
                   str(p.get("topic", "")))

    @property
    def category_label(self) -> str:
        return label_of(ObservationCategory, self.category)

    def describe(self, record: EntryLookup | None = None) -> str:
        return f"[{self.category_label}] {self.text}" + ("  ★ for integration" if self.for_integration else "")

    def corrected(self, changes: Mapping[str, Any], protocol: ProtocolSettings, original: Entry) -> EntryContent:
        m = {**self.to_payload(), **changes}
        return Observation.build(m["category"], m["text"], for_integration=m["for_integration"],
                                 topic=m.get("topic", ""))


@register
@dataclass(frozen=True)
class ScaleScore(EntryContent):
    kind = EntryKind.SCALE
    amendable = True
    scale: str
    score: int
    instrument: str = ""

    @classmethod
    def build(cls, scale: str, score: object, *, instrument: str = "") -> ScaleScore:
        scale_value = v.choice("scale", scale, Scale)
        low, high = scale_value.bounds
        value = v.number(scale_value.label, score, low=low, high=high, decimals=0, key="score")
        default_instrument = {"dissociation": "clinician rating 0–10"}.get(scale_value.value, scale_value.label)
        return cls(scale_value.value, int(value or 0), v.text("instrument", instrument) or default_instrument)

    def to_payload(self) -> dict[str, Any]:
        return {"scale": self.scale, "score": self.score, "instrument": self.instrument}

    @classmethod
    def from_payload(cls, p: Mapping[str, Any]) -> ScaleScore:
        return cls(str(p["scale"]), p["score"], str(p.get("instrument", "")))

    @property
    def scale_label(self) -> str:
        return label_of(Scale, self.scale)

    def describe(self, record: EntryLookup | None = None) -> str:
        return f"{self.scale_label}: {num(self.score)}"

    def corrected(self, changes: Mapping[str, Any], protocol: ProtocolSettings, original: Entry) -> EntryContent:
        m = {**self.to_payload(), **changes}
        return ScaleScore.build(m["scale"], m["score"], instrument=m["instrument"])


@register
@dataclass(frozen=True)
class ClosingNote(EntryContent):
    """The therapist's note at the end of the session: the client's state and words at departure, themes,
    suggestions for integration. Printed on page 1 of the summary."""

    kind = EntryKind.CLOSING_NOTE
    amendable = True
    state: str
    words: str = ""
    themes: str = ""
    suggestions: str = ""

    @classmethod
    def build(cls, *, state: str, words: str = "", themes: str = "", suggestions: str = "") -> ClosingNote:
        return cls(v.text("client's state at departure", state, limit=v.LONG_TEXT, required=True),
                   v.text("client's words", words, limit=v.LONG_TEXT),
                   v.text("themes", themes, limit=v.LONG_TEXT),
                   v.text("suggestions for integration", suggestions, limit=v.LONG_TEXT))

    def to_payload(self) -> dict[str, Any]:
        return {"state": self.state, "words": self.words, "themes": self.themes, "suggestions": self.suggestions}

    @classmethod
    def from_payload(cls, p: Mapping[str, Any]) -> ClosingNote:
        return cls(str(p["state"]), str(p.get("words", "")), str(p.get("themes", "")), str(p.get("suggestions", "")))

    def describe(self, record: EntryLookup | None = None) -> str:
        return "Closing note: " + " · ".join(t for t in (self.state, self.words, self.themes, self.suggestions) if t)

    def corrected(self, changes: Mapping[str, Any], protocol: ProtocolSettings, original: Entry) -> EntryContent:
        m = {**self.to_payload(), **changes}
        return ClosingNote.build(state=m["state"], words=m["words"], themes=m["themes"], suggestions=m["suggestions"])


@register
@dataclass(frozen=True)
class OutcomeMeasure(EntryContent):
    """PHQ-9, GAD-7 or PCL-5 answers at check-in, with the total and band as scored when recorded."""

    kind = EntryKind.OUTCOME_MEASURE
    amendable = True
    instrument: str
    items: tuple[int, ...]
    total: int
    band: str

    @classmethod
    def build(cls, instrument: str, items: Sequence[object]) -> OutcomeMeasure:
        scored = outcomes.score(instrument, items)
        return cls(scored.instrument.value, scored.items, scored.total, scored.band)

    def to_payload(self) -> dict[str, Any]:
        return {"instrument": self.instrument, "items": list(self.items), "total": self.total, "band": self.band}

    @classmethod
    def from_payload(cls, p: Mapping[str, Any]) -> OutcomeMeasure:
        return cls(str(p["instrument"]), tuple(int(i) for i in p["items"]), int(p["total"]), str(p.get("band", "")))

    def describe(self, record: EntryLookup | None = None) -> str:
        return f"{label_of(outcomes.Instrument, self.instrument)} {self.total} ({self.band})"

    def corrected(self, changes: Mapping[str, Any], protocol: ProtocolSettings, original: Entry) -> EntryContent:
        return OutcomeMeasure.build(self.instrument, list(changes.get("items", self.items)))


# ----- state, discharge, signature, amendment ------------------------------------------------------------------
@register
@dataclass(frozen=True)
class StateChange(EntryContent):
    kind = EntryKind.STATE
    from_state: str
    to_state: str
    reason: str = ""
    reason_code: str = ""  # stored only when set (ended early)
    disposition: str = ""  # stored only when set (ended early after a dose: where the client went)

    @classmethod
    def build(cls, from_state: str, to_state: str, reason: str = "", reason_code: str = "",
              disposition: str = "") -> StateChange:
        return cls(from_state, to_state, v.text("reason", reason, limit=v.REASON_TEXT), reason_code, disposition)

    @property
    def target(self) -> SessionState:
        return SessionState(self.to_state)

    def to_payload(self) -> dict[str, Any]:
        payload = {"from": self.from_state, "to": self.to_state, "reason": self.reason}
        if self.reason_code:
            payload["reason_code"] = self.reason_code
        if self.disposition:
            payload["disposition"] = self.disposition
        return payload

    @classmethod
    def from_payload(cls, p: Mapping[str, Any]) -> StateChange:
        return cls(str(p["from"]), str(p["to"]), str(p.get("reason", "")), str(p.get("reason_code", "")),
                   str(p.get("disposition", "")))

    def describe(self, record: EntryLookup | None = None) -> str:
        text = f"{label_of(SessionState, self.from_state)} → {label_of(SessionState, self.to_state)}"
        return text + (f": {self.reason}" if self.reason else "")


@dataclass(frozen=True)
class Criterion:
    """One discharge criterion as assessed: passed or not, and why (from the record or a person)."""

    key: str
    label: str
    passed: bool
    detail: str
    source: str  # "record" or "person"


@register
@dataclass(frozen=True)
class DischargeAssessment(EntryContent):
    kind = EntryKind.DISCHARGE_ASSESSMENT
    criteria: tuple[Criterion, ...]
    scores: Mapping[str, Mapping[str, int]]
    ready: bool
    chain_head: str
    confirmations: Mapping[str, bool] = field(default_factory=dict)
    score_parts: Mapping[str, int] = field(default_factory=dict)
    #: When each bedside item was checked (UTC ISO 8601), stored when given.
    checked_at: Mapping[str, str] = field(default_factory=dict)

    @property
    def failing(self) -> list[Criterion]:
        return [c for c in self.criteria if not c.passed]

    def to_payload(self) -> dict[str, Any]:
        return {
            "criteria": [asdict(c) for c in self.criteria],
            "scores": {k: dict(s) for k, s in self.scores.items()},
            "ready": self.ready,
            "chain_head": self.chain_head,
            "confirmations": dict(self.confirmations),
            "score_parts": dict(self.score_parts),
            **({"checked_at": dict(self.checked_at)} if self.checked_at else {}),
        }

    @classmethod
    def from_payload(cls, p: Mapping[str, Any]) -> DischargeAssessment:
        return cls(tuple(Criterion(**c) for c in p.get("criteria", ())), dict(p.get("scores", {})),
                   bool(p.get("ready")), str(p.get("chain_head", "")), dict(p.get("confirmations", {})),
                   dict(p.get("score_parts", {})), dict(p.get("checked_at", {})))

    def describe(self, record: EntryLookup | None = None) -> str:
        return "Discharge assessment: " + ("ready" if self.ready else "not ready")


@register
@dataclass(frozen=True)
class Signature(EntryContent):
    """The supervisor's re-authenticated signature over the chain head they reviewed."""

    kind = EntryKind.SIGNATURE
    meaning: str
    signer: int
    signer_name: str
    signed_at: str  # ISO 8601, as stored
    signed_hash: str
    signed_seq: int
    #: A physician's attestation of a session ended early after a dose: the end reason, the disposition and a
    #: note (stored only for attestations).
    end_reason: str = ""
    disposition: str = ""
    note: str = ""

    @classmethod
    def build(cls, *, meaning: str, signer: int, signer_name: str, signed_at: datetime, signed_hash: str,
              signed_seq: int, end_reason: str = "", disposition: str = "", note: str = "") -> Signature:
        return cls(v.text("meaning", meaning, limit=v.REASON_TEXT, required=True), signer, signer_name,
                   signed_at.isoformat(), signed_hash, signed_seq, end_reason, disposition,
                   v.text("note", note, limit=v.REASON_TEXT))

    def to_payload(self) -> dict[str, Any]:
        payload: dict[str, Any] = {
            "meaning": self.meaning, "signer": self.signer, "signer_name": self.signer_name,
            "signed_at": self.signed_at, "signed_hash": self.signed_hash, "signed_seq": self.signed_seq}
        if self.disposition:
            payload.update(end_reason=self.end_reason, disposition=self.disposition, note=self.note)
        return payload

    @classmethod
    def from_payload(cls, p: Mapping[str, Any]) -> Signature:
        return cls(str(p.get("meaning", "")), p.get("signer", 0), str(p.get("signer_name", "")),
                   str(p.get("signed_at", "")), str(p.get("signed_hash", "")), int(p.get("signed_seq", 0)),
                   str(p.get("end_reason", "")), str(p.get("disposition", "")), str(p.get("note", "")))

    def describe(self, record: EntryLookup | None = None) -> str:
        return f"Signed: {self.meaning}".rstrip(": ")


@register
@dataclass(frozen=True)
class Amendment(EntryContent):
    """A correction of an earlier entry: the reason, and the corrected content (None: entered in error)."""

    kind = EntryKind.AMENDMENT
    reason: str
    original_kind: EntryKind
    content: EntryContent | None

    @classmethod
    def build(cls, original_kind: EntryKind, reason: str, content: EntryContent | None) -> Amendment:
        return cls(v.text("reason", reason, limit=v.REASON_TEXT, required=True), original_kind, content)

    def to_payload(self) -> dict[str, Any]:
        return {"reason": self.reason, "original_kind": self.original_kind.value,
                "content": None if self.content is None else self.content.to_payload()}

    @classmethod
    def from_payload(cls, p: Mapping[str, Any]) -> Amendment:
        kind = EntryKind(p["original_kind"])
        content = p.get("content")
        return cls(str(p.get("reason", "")), kind, None if content is None else decode(kind, content))

    def describe(self, record: EntryLookup | None = None) -> str:
        return "entered in error" if self.content is None else self.content.describe(record)


# Registers the rescue and adjunct medication entry (its own module: it needs the formulary and allergies).
# The esketamine REMS answers are a kind of entry of their own, defined with the REMS rules.
from kapconsole.domain import rems as _rems  # noqa: E402, F401 - registers RemsAnswers
from kapconsole.domain import rescue as _rescue  # noqa: E402, F401

AMENDABLE = frozenset(kind for kind, cls in REGISTRY.items() if cls.amendable)


# ----- payload builders (the validated payload of one kind) ----------------------------------------------------
def checklist(item_key: str, label: str, *, answer: str = "confirmed", note: str = "") -> dict[str, Any]:
    return ChecklistConfirmation.build(item_key, label, answer=answer, note=note).to_payload()


def intention_value(text: str) -> Observation:
    """The client's intention, recorded as an observation for integration."""
    return Observation.build(ObservationCategory.CLIENT_STATEMENT, text, for_integration=True, topic="intention")


def intention(text: str) -> dict[str, Any]:
    return intention_value(text).to_payload()


def override(reason: str, missing: list[str]) -> dict[str, Any]:
    return ChecklistOverride.build(reason, missing).to_payload()


def administration(**kwargs: Any) -> dict[str, Any]:
    return Administration.build(**kwargs).to_payload()


def vitals_reading(values: dict[str, Any], protocol: ProtocolSettings, *, source: str = "manual",
                   confirmed_by: int | None = None, device: Mapping[str, Any] | None = None) -> dict[str, Any]:
    return VitalsReading.build(values, protocol, source=source, confirmed_by=confirmed_by,
                               device=device).to_payload()


def side_effect(kind: str, severity: str, *, intervention: str = "", description: str = "") -> dict[str, Any]:
    return SideEffect.build(kind, severity, intervention=intervention, description=description).to_payload()


def side_effect_resolved(side_effect_id: int, note: str = "") -> dict[str, Any]:
    return SideEffectResolution.build(side_effect_id, note).to_payload()


def observation(category: str, text: str, *, for_integration: bool = False, topic: str = "") -> dict[str, Any]:
    return Observation.build(category, text, for_integration=for_integration, topic=topic).to_payload()


def scale_score(scale: str, score: object, *, instrument: str = "") -> dict[str, Any]:
    return ScaleScore.build(scale, score, instrument=instrument).to_payload()


def alert_ack(vitals_entry_id: int, measures: list[str], note: str = "") -> dict[str, Any]:
    return AlertAcknowledgement.build(vitals_entry_id, measures, note).to_payload()


def state_change(from_state: str, to_state: str, reason: str = "", reason_code: str = "") -> dict[str, Any]:
    return StateChange.build(from_state, to_state, reason, reason_code).to_payload()


def amendment(original_kind: EntryKind, reason: str, content: Mapping[str, Any] | None) -> dict[str, Any]:
    typed = None if content is None else decode(original_kind, content)
    return Amendment.build(original_kind, reason, typed).to_payload()


def closing_note(*, state: str, words: str = "", themes: str = "", suggestions: str = "") -> dict[str, Any]:
    return ClosingNote.build(state=state, words=words, themes=themes, suggestions=suggestions).to_payload()


def outcome_measure(instrument: str, items: Sequence[object]) -> dict[str, Any]:
    return OutcomeMeasure.build(instrument, items).to_payload()
