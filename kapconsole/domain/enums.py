"""Enumerations shared by every layer. Values are the stable strings stored in the database."""

from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
    THERAPIST = "therapist"
    MEDICAL = "medical"
    SUPERVISOR = "supervisor"
    ADMINISTRATOR = "administrator"
    FRONT_DESK = "front_desk"

    @property
    def label(self) -> str:
        return {
            "therapist": "Therapist",
            "medical": "Medical staff",
            "supervisor": "Medical supervisor",
            "administrator": "Administrator",
            "front_desk": "Front desk",
        }[self.value]

    @classmethod
    def parse(cls, text: str) -> Role:
        """A role from its stored value or its label, in any case, with spaces, '-' or '_' ("Medical staff",
        "medical_staff", "MEDICAL", "front desk"). Raises ``ValueError`` naming the roles otherwise."""
        wanted = "".join(c for c in str(text).casefold() if c.isalnum())
        for role in cls:
            names = {role.value, role.label}
            if wanted and wanted in {"".join(c for c in n.casefold() if c.isalnum()) for n in names}:
                return role
        allowed = ", ".join(f"{r.value} ({r.label})" for r in cls)
        raise ValueError(f"unknown role {text!r}; roles: {allowed}")


class SessionState(StrEnum):
    PLANNED = "planned"
    CHECKLIST = "checklist"
    MONITORING = "monitoring"
    DISCHARGE = "discharge"
    DISCHARGED = "discharged"
    ENDED_EARLY = "ended_early"
    #: Planned, then called off before it began (with a reason); it never held the room.
    CANCELLED = "cancelled"

    @property
    def label(self) -> str:
        return {
            "cancelled": "Cancelled",
            "planned": "Planned",
            "checklist": "Pre-session checklist",
            "monitoring": "Dosing / monitoring",
            "discharge": "Awaiting discharge",
            "discharged": "Discharged (signed)",
            "ended_early": "Ended early",
        }[self.value]

    @property
    def is_active(self) -> bool:
        return self in (SessionState.CHECKLIST, SessionState.MONITORING, SessionState.DISCHARGE)

    @property
    def is_closed(self) -> bool:
        return self in (SessionState.DISCHARGED, SessionState.ENDED_EARLY, SessionState.CANCELLED)


class EntryKind(StrEnum):
    STATE = "state"  # a state transition, with its reason
    CHECKLIST = "checklist"
    OVERRIDE = "override"  # supervisor override of the checklist gate
    ADMINISTRATION = "administration"
    VITALS = "vitals"
    SIDE_EFFECT = "side_effect"
    SIDE_EFFECT_RESOLVED = "side_effect_resolved"
    OBSERVATION = "observation"
    SCALE = "scale"
    ALERT_ACK = "alert_ack"
    DISCHARGE_ASSESSMENT = "discharge_assessment"
    SIGNATURE = "signature"
    AMENDMENT = "amendment"
    RESCUE_MEDICATION = "rescue_medication"  # a rescue or adjunct (PRN) medication given
    CLOSING_NOTE = "closing_note"  # the therapist's note at the end of the session
    OUTCOME_MEASURE = "outcome_measure"  # PHQ-9, GAD-7, PCL-5 at check-in
    REMS_ANSWERS = "rems_answers"  # esketamine REMS questions, answered with the session

    @property
    def label(self) -> str:
        return (self.value.replace("_", " ").capitalize().replace("Alert ack", "Alert acknowledged")
                .replace("Rems", "REMS"))


class Route(StrEnum):
    SUBLINGUAL = "sublingual"
    IM = "im"
    IV = "iv"
    INTRANASAL = "intranasal"

    @property
    def label(self) -> str:
        return {
            "sublingual": "Sublingual lozenge",
            "im": "Intramuscular injection",
            "iv": "IV infusion",
            "intranasal": "Intranasal (esketamine)",
        }[self.value]


class Severity(StrEnum):
    MILD = "mild"
    MODERATE = "moderate"
    SEVERE = "severe"


class SideEffectKind(StrEnum):
    NAUSEA = "nausea"
    VOMITING = "vomiting"
    DIZZINESS = "dizziness"
    DISSOCIATION = "dissociation"
    ANXIETY = "anxiety"
    HEADACHE = "headache"
    PERCEPTUAL = "perceptual"
    SEDATION = "sedation"
    ELEVATED_BP = "elevated_bp"
    RESPIRATORY_DEPRESSION = "respiratory_depression"
    OTHER = "other"

    @property
    def label(self) -> str:
        return {
            "nausea": "Nausea",
            "vomiting": "Vomiting",
            "dizziness": "Dizziness",
            "dissociation": "Dissociation",
            "anxiety": "Anxiety / agitation",
            "headache": "Headache",
            "perceptual": "Perceptual changes",
            "sedation": "Sedation",
            "elevated_bp": "Elevated blood pressure",
            "respiratory_depression": "Respiratory depression",
            "other": "Other",
        }[self.value]


class ObservationCategory(StrEnum):
    GENERAL = "general"
    CLIENT_STATEMENT = "client_statement"
    BEHAVIOUR = "behaviour"
    INTERVENTION = "intervention"
    MEDICAL = "medical"

    @property
    def label(self) -> str:
        return self.value.replace("_", " ").capitalize()


class Scale(StrEnum):
    MOAAS = "moaas"
    RASS = "rass"
    DISSOCIATION = "dissociation"
    SUDS = "suds"

    @property
    def label(self) -> str:
        return {"moaas": "MOAA/S", "rass": "RASS", "dissociation": "Dissociation (0–10)", "suds": "SUDS (0–10)"}[
            self.value
        ]

    @property
    def bounds(self) -> tuple[int, int]:
        return {"moaas": (0, 5), "rass": (-5, 4), "dissociation": (0, 10), "suds": (0, 10)}[self.value]


class VitalsSource(StrEnum):
    MANUAL = "manual"
    DEVICE = "device"


class EndReason(StrEnum):
    ADVERSE_EVENT = "adverse_event"
    CLIENT_REQUEST = "client_request"
    CONTRAINDICATION = "contraindication"
    NO_SHOW = "no_show"
    OTHER = "other"

    @property
    def label(self) -> str:
        return self.value.replace("_", " ").capitalize()


class Disposition(StrEnum):
    """Where the client went when a session ended early after a dose."""

    HOME_WITH_ESCORT = "home_with_escort"
    TRANSFERRED = "transferred"
    LEFT_AGAINST_ADVICE = "left_against_advice"

    @property
    def label(self) -> str:
        return {
            "home_with_escort": "Home with escort",
            "transferred": "Transferred",
            "left_against_advice": "Left against medical advice",
        }[self.value]
