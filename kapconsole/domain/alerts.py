"""Out-of-range evaluation of vitals: pre-dose hold, session alerts, rise over baseline."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from kapconsole.domain.protocol import MEASURES, Limits, ProtocolSettings


@dataclass(frozen=True)
class Alert:
    measure: str
    value: float
    message: str


def _beyond(key: str, value: float, lim: Limits, inclusive_high: bool) -> str | None:
    label, unit, _ = MEASURES[key]
    if lim.high is not None and (value >= lim.high if inclusive_high else value > lim.high):
        sign = "≥" if inclusive_high else ">"
        return f"{label} {value:g} {unit} {sign} {lim.high:g}"
    if lim.low is not None and value < lim.low:
        return f"{label} {value:g} {unit} < {lim.low:g}"
    return None


def session_alerts(reading: Mapping[str, Any], baseline: Mapping[str, Any] | None,
                   protocol: ProtocolSettings) -> list[Alert]:
    """Alerts a reading raises during a session (alert lines and rise over baseline)."""
    alerts: list[Alert] = []
    for key in MEASURES:
        value = reading.get(key)
        if value is None or key not in protocol.alerts:
            continue
        # The reference table says "≥ 180" and "≥ 110" for BP, strict comparisons for the others.
        message = _beyond(key, value, protocol.alerts[key], inclusive_high=key in ("sbp", "dbp"))
        if message is None and baseline is not None and baseline.get(key) is not None:
            rise = value - baseline[key]
            limit = {"sbp": protocol.sbp_rise_alert, "dbp": protocol.dbp_rise_alert}.get(key)
            if limit is not None and rise >= limit:
                message = f"{MEASURES[key][0]} rose {rise:g} mmHg over baseline ({baseline[key]:g})"
        if message:
            alerts.append(Alert(key, value, message))
    return alerts


def predose_holds(reading: Mapping[str, Any] | None, protocol: ProtocolSettings) -> list[str]:
    """Why baseline vitals do not allow dosing (empty when they do)."""
    return [message for _measure, _hold, message in predose_hold_items(reading, protocol)]


def predose_hold_items(reading: Mapping[str, Any] | None,
                       protocol: ProtocolSettings) -> list[tuple[str, bool, str]]:
    """(measure, hold, why) for each reason baseline vitals do not allow dosing: ``hold`` when a value is out of
    the pre-dose limits, not when it is missing; measure "" when no baseline was recorded at all."""
    if reading is None:
        return [("", False, "no baseline vitals recorded")]
    problems = []
    for key, lim in protocol.predose.items():
        value = reading.get(key)
        if value is None:
            problems.append((key, False, f"baseline {MEASURES[key][0]} missing"))
            continue
        message = _beyond(key, value, lim, inclusive_high=False)
        if message:
            problems.append((key, True, f"pre-dose hold: {message}"))
    return problems
