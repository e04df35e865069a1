"""Alert episodes: a persistent out-of-range condition is one alert, with its worst value and duration.

Consecutive readings of one measure that alert in the same direction form an episode; it ends at the first
reading of that measure that does not alert. A person acknowledges an episode (with an optional note); the
acknowledgement records the value it saw, so a worse value later (a new reading or an amendment) raises the
episode again. An episode left unacknowledged beyond the protocol's time escalates to the supervisor board.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Protocol

from kapconsole.domain.alerts import Alert
from kapconsole.domain.protocol import MEASURES


class _Reading(Protocol):
    @property
    def id(self) -> int: ...

    @property
    def at(self) -> datetime: ...

    @property
    def payload(self) -> Mapping[str, Any]: ...


def direction(alert: Alert, protocol_low: float | None) -> str:
    """"low" for a value under the low line, else "high" (a high line or a rise over baseline)."""
    return "low" if protocol_low is not None and alert.value < protocol_low else "high"


@dataclass(frozen=True)
class AlertEpisode:
    measure: str
    direction: str  # "high" or "low"
    reading_ids: tuple[int, ...]
    started_at: datetime
    last_alert_at: datetime
    #: The first later reading of the measure that did not alert; None while the condition persists.
    ended_at: datetime | None
    worst: float
    worst_message: str
    #: The worst value an acknowledgement saw; None when not acknowledged (or it got worse since).
    acknowledged_value: float | None = None
    acknowledged_by: str = ""
    ack_note: str = ""
    latest_reading_id: int = 0
    extra: tuple[str, ...] = field(default=())

    @property
    def key(self) -> str:
        return f"{self.measure}:{self.reading_ids[0]}"

    @property
    def label(self) -> str:
        return MEASURES[self.measure][0]

    @property
    def readings(self) -> int:
        return len(self.reading_ids)

    @property
    def acknowledged(self) -> bool:
        return self.acknowledged_value is not None and not self.worse(self.worst, self.acknowledged_value)

    def worse(self, value: float, than: float) -> bool:
        return value < than if self.direction == "low" else value > than

    def duration(self, now: datetime) -> timedelta:
        return (self.ended_at or now) - self.started_at

    def age(self, now: datetime) -> timedelta:
        """How long it has waited for an acknowledgement."""
        return now - self.started_at

    def escalated(self, now: datetime, minutes: int) -> bool:
        return not self.acknowledged and self.age(now) > timedelta(minutes=minutes)


def build_episodes(readings: Sequence[_Reading], alerts_for: Callable[[Any], list[Alert]],
                   lows: Mapping[str, float | None], acks: Iterable[tuple[Mapping[str, Any], str]]
                   ) -> list[AlertEpisode]:
    """Group ``readings`` (clinical-time order) into episodes and apply ``acks`` (payload, author name)."""
    open_: dict[str, dict[str, Any]] = {}
    done: list[dict[str, Any]] = []
    values: dict[int, Mapping[str, Any]] = {}
    for reading in readings:
        values[reading.id] = reading.payload
        alerting = {a.measure: a for a in alerts_for(reading)}
        for key in MEASURES:
            if key not in reading.payload:
                continue
            alert = alerting.get(key)
            current = open_.get(key)
            if alert is None:
                if current is not None:
                    current["ended_at"] = reading.at
                    done.append(open_.pop(key))
                continue
            way = direction(alert, lows.get(key))
            if current is not None and current["direction"] != way:
                current["ended_at"] = reading.at
                done.append(open_.pop(key))
                current = None
            if current is None:
                open_[key] = {"measure": key, "direction": way, "ids": [reading.id], "started_at": reading.at,
                              "last": reading.at, "ended_at": None, "worst": alert.value,
                              "message": alert.message}
                continue
            current["ids"].append(reading.id)
            current["last"] = reading.at
            if (alert.value < current["worst"]) if way == "low" else (alert.value > current["worst"]):
                current["worst"], current["message"] = alert.value, alert.message
    done.extend(open_.values())
    ack_list = list(acks)
    episodes = []
    for raw in sorted(done, key=lambda e: e["started_at"]):
        ids = set(raw["ids"])
        seen: float | None = None
        by, note = "", ""
        for payload, author in ack_list:
            if raw["measure"] not in payload.get("measures", ()) or int(payload.get("vitals", -1)) not in ids:
                continue
            acked = payload.get("values", {}).get(raw["measure"])
            if acked is None:  # an acknowledgement of one reading, before episodes: the value of that reading
                acked = values[int(payload["vitals"])].get(raw["measure"])
            if acked is None:
                continue
            if seen is None or ((acked < seen) if raw["direction"] == "low" else (acked > seen)):
                seen = float(acked)
            by, note = author, str(payload.get("note", ""))
        episodes.append(AlertEpisode(
            measure=raw["measure"], direction=raw["direction"], reading_ids=tuple(raw["ids"]),
            started_at=raw["started_at"], last_alert_at=raw["last"], ended_at=raw["ended_at"], worst=raw["worst"],
            worst_message=raw["message"], acknowledged_value=seen, acknowledged_by=by, ack_note=note,
            latest_reading_id=raw["ids"][-1]))
    return episodes
