"""One line of the supervisor's board: where an active session stands, computed from its record."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from kapconsole.domain.entries import VitalsReading
from kapconsole.domain.enums import SessionState
from kapconsole.domain.record import SessionRecord, latest_assessment

#: Measures shown on the board, in this order.
BOARD_MEASURES = ("sbp", "dbp", "hr", "spo2")


@dataclass(frozen=True)
class BoardRow:
    """An active session as the board shows it. Times are absolute; the ages follow ``as_of``.

    The board re-ages rows between fetches with :meth:`aged` (a reading becomes overdue while nothing is
    written), so a clock tick never needs a query.
    """

    session_id: int
    room: str
    workstation: str
    client_initials: str
    state: SessionState
    version: int
    chain_head: str
    as_of: datetime
    first_dose_at: datetime | None
    last_vitals_at: datetime | None
    last_vitals: tuple[tuple[str, float], ...]
    next_vitals_due: datetime | None
    unacknowledged_alerts: int
    #: When the minimum observation time after the last dose is reached (None before any dose).
    observation_done_at: datetime | None
    assessed_at: datetime | None
    assessed_by: str
    #: The latest assessment's verdict; None when no assessment was recorded.
    assessment_ready: bool | None
    #: False when something was charted after the latest assessment (it must be assessed again).
    assessment_current: bool
    #: When the longest-waiting unacknowledged alert episode began (None: nothing waits).
    oldest_unacknowledged_at: datetime | None = None
    #: Minutes after which an unacknowledged alert escalates to this board (protocol setting).
    escalation_minutes: int = 10
    #: Ended early after a dose, waiting for a physician's attestation.
    needs_attestation: bool = False
    #: Required measures overdue on the schedule, with when each was due.
    measures_due: tuple[tuple[str, datetime], ...] = ()

    # ----- derived at ``as_of`` ---------------------------------------------------------------------------
    def aged(self, now: datetime) -> BoardRow:
        return replace(self, as_of=now)

    @property
    def since_first_dose(self) -> timedelta | None:
        return None if self.first_dose_at is None else self.as_of - self.first_dose_at

    @property
    def vitals_age(self) -> timedelta | None:
        return None if self.last_vitals_at is None else self.as_of - self.last_vitals_at

    @property
    def alert_age(self) -> timedelta | None:
        return None if self.oldest_unacknowledged_at is None else self.as_of - self.oldest_unacknowledged_at

    @property
    def escalated(self) -> bool:
        """An alert has waited for an acknowledgement longer than the protocol allows."""
        age = self.alert_age
        return age is not None and age > timedelta(minutes=self.escalation_minutes)

    @property
    def escalated_since(self) -> datetime | None:
        return self.oldest_unacknowledged_at if self.escalated else None

    @property
    def overdue_measures(self) -> list[str]:
        return [m for m, due in self.measures_due if due < self.as_of]

    @property
    def vitals_overdue(self) -> bool:
        return self.next_vitals_due is not None and self.next_vitals_due < self.as_of

    @property
    def min_time_reached(self) -> bool:
        return self.observation_done_at is not None and self.observation_done_at <= self.as_of

    @property
    def ready_to_sign(self) -> bool:
        """The latest assessment passed and nothing was charted since: a supervisor may sign."""
        return (self.state is SessionState.DISCHARGE and bool(self.assessment_ready)
                and self.assessment_current)

    @property
    def vitals_text(self) -> str:
        """The last reading in one short line, e.g. ``BP 128/82 · HR 76 · SpO2 97%``."""
        return VitalsReading.from_payload(dict(self.last_vitals)).short(("bp", "hr", "spo2"))


def board_row(record: SessionRecord, now: datetime) -> BoardRow:
    """Summarise one record for the board."""
    info = record.info
    latest = record.latest_vitals
    assessment = latest_assessment(record)
    workstation = info.workstation or (record.entries[-1].workstation if record.entries else "")
    pending = record.unacknowledged_episodes()
    return BoardRow(
        session_id=info.id,
        room=info.room,
        workstation=workstation,
        client_initials=info.client.initials,
        state=info.state,
        version=info.version,
        chain_head=info.chain_head,
        as_of=now,
        first_dose_at=record.first_dose_at,
        last_vitals_at=latest.at if latest else None,
        last_vitals=tuple((k, latest.payload[k]) for k in BOARD_MEASURES
                          if latest is not None and latest.payload.get(k) is not None),
        next_vitals_due=record.next_vitals_due(),
        unacknowledged_alerts=len(pending),
        observation_done_at=record.earliest_discharge_at,
        assessed_at=assessment.entry.at if assessment else None,
        assessed_by=assessment.entry.entry.author_name if assessment else "",
        assessment_ready=assessment.ready if assessment else None,
        assessment_current=assessment is not None and assessment.current,
        oldest_unacknowledged_at=min((e.started_at for e in pending), default=None),
        escalation_minutes=record.protocol.alert_escalation_minutes,
        needs_attestation=info.needs_attestation,
        measures_due=tuple(sorted(record.vitals_due_by_measure().items())),
    )
