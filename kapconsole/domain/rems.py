"""The esketamine REMS: typed answers recorded with the session, what they block, and the filing deadline.

The REMS answers are entries of their own kind (``rems_answers``) in the session's hash chain: each entry holds
the answers a person gave or confirmed at that moment, and a later entry's answer to the same question replaces
the earlier one. Questions are asked in two stages: before the first device (enrolment, treatment phase,
concomitant medications, nasal products, fasting, escort) and before the discharge is signed (respiratory
depression, serious adverse events, hospitalisation, when the patient was ready to leave, the monitoring
clinician). Sources: the clinical reference, "Esketamine (Spravato) specifics", and the SPRAVATO REMS Patient
Monitoring Form.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from kapconsole.domain import gates
from kapconsole.domain import validation as v
from kapconsole.domain.entry_base import EntryContent, EntryLookup, register
from kapconsole.domain.enums import EntryKind
from kapconsole.domain.errors import IllegalTransition, ValidationError
from kapconsole.domain.esketamine import RULES
from kapconsole.domain.integrity import timestamp

if TYPE_CHECKING:
    from kapconsole.domain.record import SessionRecord

class Phase(StrEnum):
    INDUCTION = "induction"
    MAINTENANCE_WEEKLY = "maintenance_weekly"
    MAINTENANCE = "maintenance"

    @property
    def label(self) -> str:
        return {
            "induction": "Induction (twice a week, weeks 1–4)",
            "maintenance_weekly": "Maintenance (weekly, weeks 5–8)",
            "maintenance": "Maintenance (weekly or every two weeks, week 9 on)",
        }[self.value]

    @property
    def max_sessions(self) -> int:
        # Label: induction twice weekly for 4 weeks = 8 sessions; weekly for weeks 5–8 = 4 sessions.
        return {"induction": RULES.induction_sessions, "maintenance_weekly": RULES.maintenance_weekly_sessions,
                "maintenance": 520}[self.value]


class Stage(StrEnum):
    PREDOSE = "predose"  # asked before the first device
    FORM = "form"  # asked before the discharge is signed (the monitoring form's questions)


class Kind(StrEnum):
    TEXT = "text"
    YESNO = "yesno"
    PHASE = "phase"
    NUMBER = "number"
    TIME = "time"
    PHONE = "phone"


@dataclass(frozen=True)
class Question:
    key: str
    label: str
    kind: Kind
    stage: Stage
    #: Rarely changes between sessions: the next session starts from the previous session's answer.
    carried: bool = False
    #: The answer that lets the dose go ahead (a yes/no question whose other answer makes the dose wait).
    proceed: bool | None = None
    #: Asked only when the question named here was answered yes.
    when_yes: str = ""
    section: str = ""


_P, _F = Stage.PREDOSE, Stage.FORM
QUESTIONS: tuple[Question, ...] = (
    Question("rems_patient_id", "REMS patient ID (patient enrolled in the REMS)", Kind.TEXT, _P, carried=True,
             section="Enrolment and treatment phase"),
    Question("phase", "Treatment phase", Kind.PHASE, _P, section="Enrolment and treatment phase"),
    Question("phase_session", "Session number within the phase", Kind.NUMBER, _P,
             section="Enrolment and treatment phase"),
    Question("med_benzodiazepines", "Taking benzodiazepines", Kind.YESNO, _P, carried=True,
             section="Concomitant medications"),
    Question("med_sedative_hypnotics", "Taking non-benzodiazepine sedative-hypnotics", Kind.YESNO, _P, carried=True,
             section="Concomitant medications"),
    Question("med_other_cns_depressants", "Taking other CNS depressants (e.g. opioids, alcohol)", Kind.YESNO, _P,
             carried=True, section="Concomitant medications"),
    Question("med_psychostimulants", "Taking psychostimulants", Kind.YESNO, _P, carried=True,
             section="Concomitant medications"),
    Question("med_maois", "Taking MAOIs", Kind.YESNO, _P, carried=True, section="Concomitant medications"),
    Question("nasal_product_last_hour", "Nasal corticosteroid or decongestant used in the last hour", Kind.YESNO, _P,
             proceed=False, section="Day of treatment"),
    Question("no_food_2h", "No food in the last 2 hours", Kind.YESNO, _P, proceed=True, section="Day of treatment"),
    Question("no_liquids_30min", "No liquids in the last 30 minutes", Kind.YESNO, _P, proceed=True,
             section="Day of treatment"),
    Question("escort_name", "Escort taking the patient home", Kind.TEXT, _P, section="Day of treatment"),
    Question("escort_contact", "Escort's contact number", Kind.PHONE, _P, section="Day of treatment"),
    Question("transport", "Transport home", Kind.TEXT, _P, section="Day of treatment"),
    Question("no_driving", "Patient agrees not to drive or operate machinery until the next day after a restful "
             "sleep", Kind.YESNO, _P, proceed=True, section="Day of treatment"),
    Question("respiratory_depression", "Respiratory depression during monitoring", Kind.YESNO, _F,
             section="During monitoring"),
    Question("respiratory_depression_resolved_at", "Respiratory depression resolved at", Kind.TIME, _F,
             when_yes="respiratory_depression", section="During monitoring"),
    Question("serious_adverse_event", "Serious adverse event", Kind.YESNO, _F, section="During monitoring"),
    Question("serious_adverse_event_detail", "Which serious adverse event", Kind.TEXT, _F,
             when_yes="serious_adverse_event", section="During monitoring"),
    Question("hospitalised", "Patient hospitalised", Kind.YESNO, _F, section="During monitoring"),
    Question("hospitalisation_detail", "Hospitalisation: where and why", Kind.TEXT, _F, when_yes="hospitalised",
             section="During monitoring"),
    Question("ready_to_leave_at", "Patient would have been ready to leave at", Kind.TIME, _F,
             section="End of monitoring"),
    Question("clinician_name", "Monitoring clinician's name", Kind.TEXT, _F, section="Monitoring clinician"),
    Question("clinician_credentials", "Monitoring clinician's credentials (e.g. RN, MD)", Kind.TEXT, _F,
             section="Monitoring clinician"),
    Question("clinician_contact", "Monitoring clinician's contact number", Kind.PHONE, _F,
             section="Monitoring clinician"),
)
BY_KEY: dict[str, Question] = {q.key: q for q in QUESTIONS}

_PHONE = re.compile(r"^\+?[0-9 ()./-]{5,32}$")
_METHODS = {"online": "REMS website", "fax": "Fax", "phone": "Phone"}


class RemsIncomplete(IllegalTransition):
    """Signing (or completing the form) is refused: REMS answers are missing. ``missing`` names each."""

    def __init__(self, missing: list[str]) -> None:
        self.missing = tuple(missing)
        super().__init__("the REMS answers are not complete: " + "; ".join(missing))


# ----- answers ------------------------------------------------------------------------------------------------


def clean_answer(key: str, value: object, *, session_start: datetime | None = None,
                 now: datetime | None = None) -> Any:
    """One answer validated for its question; returns the value as stored (bool, int, str, ISO time)."""
    q = BY_KEY.get(key)
    if q is None:
        raise ValidationError("REMS question", key, "a question of the REMS form")
    if q.kind is Kind.YESNO:
        if not isinstance(value, bool):
            raise ValidationError(q.label, value, "yes or no")
        return value
    if q.kind is Kind.PHASE:
        return v.choice(q.label, value, Phase).value
    if q.kind is Kind.NUMBER:
        return v.number(q.label, value, low=1, high=520)
    if q.kind is Kind.TIME:
        if not isinstance(value, datetime):
            raise ValidationError(q.label, value, "a date and time")
        at = v.to_utc(value, q.label)
        if session_start is not None and at < session_start:
            raise ValidationError(q.label, timestamp(at), "not before the session began")
        if now is not None and at > now + timedelta(minutes=2):
            raise ValidationError(q.label, timestamp(at), "not in the future")
        return timestamp(at)
    text = v.text(q.label, value, required=True)
    if q.kind is Kind.PHONE and not _PHONE.match(text):
        raise ValidationError(q.label, text, "a telephone number: digits, spaces, + ( ) - . (5–32 characters)")
    if q.kind is Kind.PHONE and sum(ch.isdigit() for ch in text) < 5:
        raise ValidationError(q.label, text, "a telephone number with at least 5 digits")
    return text


def answers_payload(answers: Mapping[str, object], confirmed_carried: list[str] | tuple[str, ...] = (), *,
                    session_start: datetime | None = None, now: datetime | None = None) -> dict[str, Any]:
    """The payload of one ``rems_answers`` entry: the answers given, and which were carried-over values confirmed."""
    if not answers:
        raise ValidationError("REMS answers", None, "answer at least one question")
    clean = {k: clean_answer(k, val, session_start=session_start, now=now) for k, val in answers.items()}
    phase, number = clean.get("phase"), clean.get("phase_session")
    if phase is not None and number is not None and number > Phase(phase).max_sessions:
        raise ValidationError("Session number within the phase", number,
                              f"{Phase(phase).label} has at most {Phase(phase).max_sessions} sessions")
    confirmed = sorted(set(confirmed_carried))
    for key in confirmed:
        if key not in clean:
            raise ValidationError("confirmed carried-over answer", key, "an answer given in this entry")
    return {"answers": clean, "confirmed_carried": confirmed}


@register
@dataclass(frozen=True)
class RemsAnswers(EntryContent):
    """One ``rems_answers`` entry: the answers a person gave or confirmed, and which of them were carried over
    from the previous session and confirmed as still true. Not amended: a later answer replaces an earlier."""

    kind = EntryKind.REMS_ANSWERS
    answers: Mapping[str, Any]
    confirmed_carried: tuple[str, ...] = ()

    @classmethod
    def build(cls, answers: Mapping[str, object], confirmed_carried: list[str] | tuple[str, ...] = (), *,
              session_start: datetime | None = None, now: datetime | None = None) -> RemsAnswers:
        payload = answers_payload(answers, confirmed_carried, session_start=session_start, now=now)
        return cls(payload["answers"], tuple(payload["confirmed_carried"]))

    def to_payload(self) -> dict[str, Any]:
        return {"answers": dict(self.answers), "confirmed_carried": list(self.confirmed_carried)}

    @classmethod
    def from_payload(cls, payload: Mapping[str, Any]) -> RemsAnswers:
        return cls(dict(payload["answers"]), tuple(payload.get("confirmed_carried", ())))

    def describe(self, record: EntryLookup | None = None) -> str:
        return describe_answers(self.to_payload())


@dataclass(frozen=True)
class Answer:
    value: Any
    at: datetime
    by: str


def answers_of(record: SessionRecord) -> dict[str, Answer]:
    """The session's REMS answers as they stand: per question, the latest answer given."""
    result: dict[str, Answer] = {}
    for c in record.current(EntryKind.REMS_ANSWERS):
        for key, value in c.payload["answers"].items():
            result[key] = Answer(value, c.at, c.entry.author_name)
    return result


def describe_answers(payload: Mapping[str, Any]) -> str:
    """One line for a ``rems_answers`` entry: each question and its answer; carried-over ones confirmed."""
    def shown(key: str, value: Any) -> str:
        q = BY_KEY.get(key)
        if q is None:
            return f"{key}: {value}"
        if q.kind is Kind.YESNO:
            text = "yes" if value else "no"
        elif q.kind is Kind.PHASE:
            text = Phase(value).label if value in {p.value for p in Phase} else str(value)
        elif q.kind is Kind.TIME and isinstance(value, str):
            text = datetime.fromisoformat(value.replace("Z", "+00:00")).astimezone().strftime("%H:%M")
        else:
            text = str(value)
        return f"{q.label}: {text}" + (" (carried over, confirmed)" if key in confirmed else "")

    confirmed = set(payload.get("confirmed_carried", ()))
    answers = payload.get("answers", {})
    order = {q.key: n for n, q in enumerate(QUESTIONS)}
    keys = sorted(answers, key=lambda k: (order.get(k, len(order)), k))  # in the form's order
    return "REMS — " + "; ".join(shown(k, answers[k]) for k in keys)


def _needed(stage: Stage, values: Mapping[str, Any]) -> list[Question]:
    return [q for q in QUESTIONS if q.stage is stage and (not q.when_yes or values.get(q.when_yes) is True)]


def missing(stage: Stage, values: Mapping[str, Any]) -> list[str]:
    """Labels of the questions of ``stage`` still unanswered."""
    return [q.label for q in _needed(stage, values) if values.get(q.key) is None]


def predose_blocker_items(values: Mapping[str, Any]) -> list[tuple[str, str, str]]:
    """Why the REMS answers do not let the first device be given, as (question key, label, message)."""
    items = [(q.key, q.label, f"REMS answer missing: {q.label}") for q in _needed(Stage.PREDOSE, values)
             if values.get(q.key) is None]
    for q in QUESTIONS:
        if q.proceed is not None and q.key in values and values[q.key] is not q.proceed:
            items.append((q.key, q.label,
                          f"REMS: the dose waits — {q.label.lower()}: {'yes' if values[q.key] else 'no'}"))
    return items


def gate_blockers(values: Mapping[str, Any]) -> list[gates.Blocker]:
    """The REMS answers' part of the gate before the first device, as the safety gate's blockers.

    A missing answer is answered, never overridden: the REMS needs each one on the monitoring form (and the
    patient's enrolment before treatment). An answer that makes the dose wait (a nasal product within the hour,
    food or drink too recently) is answered again when it no longer holds, or a supervisor overrides it.
    """
    out = []
    for key, _label, message in predose_blocker_items(values):
        if values.get(key) is None:
            out.append(gates.Blocker(f"rems.{key}", message, (), (gates.WayForward.ANSWER,)))
        else:
            out.append(gates.Blocker(f"rems.{key}", message, (("answer", "yes" if values[key] else "no"),),
                                     (gates.WayForward.ANSWER, gates.WayForward.OVERRIDE)))
    return out


def predose_blockers(values: Mapping[str, Any]) -> list[str]:
    """Why the REMS answers do not let the first device be given (empty when they do)."""
    return [message for _key, _label, message in predose_blocker_items(values)]


# ----- pre-fill ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Prefill:
    """A starting value for a question: carried over from an earlier session until a person confirms it."""

    key: str
    value: Any
    from_session: int
    from_date: date
    #: "carried over" for answers that rarely change; "suggested" for the next session number in the phase.
    how: str


def next_in_phase(phase: str, number: int) -> tuple[str, int]:
    """The phase and session number that follow ``number`` in ``phase`` (induction 8 → maintenance weekly 1)."""
    current = Phase(phase)
    if number < current.max_sessions:
        return current.value, number + 1
    following = {Phase.INDUCTION: Phase.MAINTENANCE_WEEKLY, Phase.MAINTENANCE_WEEKLY: Phase.MAINTENANCE}
    nxt = following.get(current)
    return (nxt.value, 1) if nxt is not None else (current.value, number + 1)


def prefill_from(previous: Mapping[str, Answer], session_id: int, on: date) -> dict[str, Prefill]:
    """Starting values for a new session from the previous session's answers."""
    result = {k: Prefill(k, a.value, session_id, on, "carried over") for k, a in previous.items()
              if k in BY_KEY and BY_KEY[k].carried}
    if "phase" in previous and "phase_session" in previous:
        phase, number = next_in_phase(previous["phase"].value, int(previous["phase_session"].value))
        result["phase"] = Prefill("phase", phase, session_id, on, "suggested")
        result["phase_session"] = Prefill("phase_session", number, session_id, on, "suggested")
    return result


# ----- filing -------------------------------------------------------------------------------------------------


class FilingStatus(StrEnum):
    FILED = "filed"
    DUE = "due"
    OVERDUE = "overdue"

    @property
    def label(self) -> str:
        return self.value.capitalize()


def due_on(treatment_date: date) -> date:
    """REMS: the Patient Monitoring Form is due within 7 days of the treatment session."""
    return treatment_date + timedelta(days=RULES.filing_days)


def filing_status(due: date, today: date, filed: bool) -> FilingStatus:
    if filed:
        return FilingStatus.FILED
    return FilingStatus.OVERDUE if today > due else FilingStatus.DUE


def submission_method(value: object) -> str:
    method = v.text("how submitted", value, limit=32, required=True).lower()
    if method not in _METHODS:
        raise ValidationError("how submitted", method, f"allowed: {', '.join(_METHODS)}")
    return method


def method_label(method: str) -> str:
    return _METHODS.get(method, method)


METHODS: tuple[str, ...] = tuple(_METHODS)


@dataclass(frozen=True)
class Submission:
    submitted_on: date
    method: str
    confirmation: str
    by_name: str
    recorded_at: datetime
    note: str = ""


@dataclass(frozen=True)
class FilingItem:
    """One esketamine treatment session's monitoring form: when it is due and whether it was filed."""

    session_id: int
    client_identifier: str
    client_name: str
    room: str
    treatment_date: date
    due_on: date
    status: FilingStatus
    submission: Submission | None

    def days_left(self, today: date) -> int:
        return (self.due_on - today).days

    def describe(self, today: date) -> str:
        if self.submission is not None:
            return f"filed {self.submission.submitted_on.isoformat()} ({method_label(self.submission.method)})"
        left = self.days_left(today)
        if left < 0:
            return f"overdue by {-left} day{'s' if left != -1 else ''}"
        if left == 0:
            return "due today"
        return f"due in {left} day{'s' if left != 1 else ''}"
