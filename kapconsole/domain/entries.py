"""Validated payloads for each entry kind. Services store exactly what these return."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from kapconsole.domain import validation as v
from kapconsole.domain.enums import (
    EntryKind,
    ObservationCategory,
    Route,
    Scale,
    Severity,
    SideEffectKind,
    VitalsSource,
)
from kapconsole.domain.errors import ValidationError
from kapconsole.domain.integrity import timestamp
from kapconsole.domain.protocol import ProtocolSettings

DOSE_UNITS = ("mg", "mg/kg", "mcg", "mL")


def checklist(item_key: str, label: str, *, answer: str = "confirmed", note: str = "") -> dict[str, Any]:
    """A checklist confirmation: the item key and the label text exactly as shown to the person."""
    answer = v.text("answer", answer, required=True)
    if answer not in ("confirmed", "yes", "no", "not_applicable"):
        raise ValidationError("answer", answer, "allowed: confirmed, yes, no, not_applicable")
    return {
        "item": v.text("checklist item", item_key, required=True),
        "label": v.text("label", label, limit=v.REASON_TEXT, required=True),
        "answer": answer,
        "note": v.text("note", note, limit=v.REASON_TEXT),
    }


def intention(text: str) -> dict[str, Any]:
    """The client's intention, recorded as an observation for integration."""
    return observation(ObservationCategory.CLIENT_STATEMENT, text, for_integration=True, topic="intention")


def override(reason: str, missing: list[str]) -> dict[str, Any]:
    return {"reason": v.text("reason", reason, limit=v.REASON_TEXT, required=True), "missing": list(missing)}


def administration(*, drug: str, route: str, dose: object, unit: str, lot: str = "", device_lot: str = "",
                   ended_at: datetime | None = None, started_at: datetime, ordered_by: int,
                   ordered_by_name: str, given_by: int, given_by_name: str) -> dict[str, Any]:
    route_value = v.choice("route", route, Route)
    clean_unit = v.text("unit", unit, required=True)
    if clean_unit not in DOSE_UNITS:
        raise ValidationError("unit", clean_unit, f"allowed: {', '.join(DOSE_UNITS)}")
    upper = {"mg": 1000, "mg/kg": 2.0, "mcg": 1_000_000, "mL": 100}[clean_unit]
    amount = v.number("dose", dose, low=0, high=upper, unit=clean_unit, decimals=3)
    if amount is None or amount <= 0:
        raise ValidationError("dose", dose, f"must be more than 0 {clean_unit}")
    payload: dict[str, Any] = {
        "drug": v.text("drug", drug, required=True),
        "route": route_value.value,
        "dose": amount,
        "unit": clean_unit,
        "lot": v.text("lot", lot),
        "ordered_by": ordered_by,
        "ordered_by_name": ordered_by_name,
        "given_by": given_by,
        "given_by_name": given_by_name,
    }
    if route_value is Route.INTRANASAL:
        payload["device_lot"] = v.text("device lot", device_lot, required=True)
    if route_value is Route.IV:
        if ended_at is None:
            raise ValidationError("infusion end", None, "an IV infusion needs its planned or actual end time")
        end = v.to_utc(ended_at, "infusion end")
        if end <= started_at:
            raise ValidationError("infusion end", timestamp(end), "must be after the infusion start")
        payload["ended_at"] = timestamp(end)
    elif ended_at is not None:
        raise ValidationError("infusion end", timestamp(v.to_utc(ended_at, "infusion end")), "only IV infusions have an end time")
    return payload


def vitals_reading(values: dict[str, Any], protocol: ProtocolSettings, *, source: str = "manual",
                   confirmed_by: int | None = None) -> dict[str, Any]:
    clean: dict[str, Any] = dict(v.vitals(values, protocol))
    clean["source"] = v.choice("source", source, VitalsSource).value
    # Monitor artefacts are common: a device reading counts as charted only once staff confirm it.
    if clean["source"] == VitalsSource.DEVICE.value and confirmed_by is None:
        raise ValidationError("confirmed by", None, "a device reading must be confirmed by a person")
    clean["confirmed_by"] = confirmed_by
    return clean


def side_effect(kind: str, severity: str, *, intervention: str = "", description: str = "") -> dict[str, Any]:
    kind_value = v.choice("side effect", kind, SideEffectKind)
    payload = {
        "effect": kind_value.value,
        "severity": v.choice("severity", severity, Severity).value,
        "intervention": v.text("intervention", intervention, limit=v.REASON_TEXT),
        "description": v.text("description", description, limit=v.REASON_TEXT,
                              required=kind_value is SideEffectKind.OTHER),
    }
    return payload


def side_effect_resolved(side_effect_id: int, note: str = "") -> dict[str, Any]:
    return {"side_effect": side_effect_id, "note": v.text("note", note, limit=v.REASON_TEXT)}


def observation(category: str, text: str, *, for_integration: bool = False, topic: str = "") -> dict[str, Any]:
    payload: dict[str, Any] = {
        "category": v.choice("category", category, ObservationCategory).value,
        "text": v.text("observation", text, limit=v.LONG_TEXT, required=True),
        "for_integration": bool(for_integration),
    }
    if topic:
        payload["topic"] = v.text("topic", topic)
    return payload


def scale_score(scale: str, score: object, *, instrument: str = "") -> dict[str, Any]:
    scale_value = v.choice("scale", scale, Scale)
    low, high = scale_value.bounds
    value = v.number(scale_value.label, score, low=low, high=high, decimals=0)
    default_instrument = {"dissociation": "clinician rating 0–10"}.get(scale_value.value, scale_value.label)
    return {
        "scale": scale_value.value,
        "score": value,
        "instrument": v.text("instrument", instrument) or default_instrument,
    }


def alert_ack(vitals_entry_id: int, measures: list[str], note: str = "") -> dict[str, Any]:
    if not measures:
        raise ValidationError("alert", None, "name the alerting measures that are acknowledged")
    return {"vitals": vitals_entry_id, "measures": sorted(measures), "note": v.text("note", note, limit=v.REASON_TEXT)}


def state_change(from_state: str, to_state: str, reason: str = "", reason_code: str = "") -> dict[str, Any]:
    payload = {"from": from_state, "to": to_state, "reason": v.text("reason", reason, limit=v.REASON_TEXT)}
    if reason_code:
        payload["reason_code"] = reason_code
    return payload


def amendment(original_kind: EntryKind, reason: str, content: dict[str, Any] | None) -> dict[str, Any]:
    """A correction: the reason, and the corrected content (``None`` marks the original as entered in error)."""
    return {
        "reason": v.text("reason", reason, limit=v.REASON_TEXT, required=True),
        "original_kind": original_kind.value,
        "content": content,
    }


AMENDABLE = frozenset(
    {
        EntryKind.CHECKLIST,
        EntryKind.ADMINISTRATION,
        EntryKind.VITALS,
        EntryKind.SIDE_EFFECT,
        EntryKind.SIDE_EFFECT_RESOLVED,
        EntryKind.OBSERVATION,
        EntryKind.SCALE,
        EntryKind.ALERT_ACK,
        EntryKind.RESCUE_MEDICATION,
    }
)
