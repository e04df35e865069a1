"""Who may do what, and what each session state allows. The one place these rules live."""

from __future__ import annotations

from collections.abc import Iterable
from enum import StrEnum

from kapconsole.domain.enums import Role, SessionState
from kapconsole.domain.errors import IllegalTransition, PermissionDenied


class Action(StrEnum):
    PLAN_SESSION = "plan_session"
    MANAGE_CLIENTS = "manage_clients"
    VIEW_RECORD = "view_record"
    START_SESSION = "start_session"
    CONFIRM_CHECKLIST = "confirm_checklist"
    OVERRIDE_CHECKLIST = "override_checklist"
    RECORD_DOSE = "record_dose"
    CHART = "chart"  # observations, vitals, side effects, scale scores, alert acknowledgements
    AMEND = "amend"
    END_EARLY = "end_early"
    ASSESS_DISCHARGE = "assess_discharge"
    SIGN_DISCHARGE = "sign_discharge"
    EXPORT_REPORT = "export_report"
    VIEW_AUDIT = "view_audit"
    ADMINISTER_USERS = "administer_users"
    EDIT_PROTOCOL = "edit_protocol"
    ORDER_MEDICATION = "order_medication"  # a prescriber orders a rescue or adjunct medication
    GIVE_MEDICATION = "give_medication"  # medical staff give it and chart it
    WRITE_CLOSING_NOTE = "write_closing_note"  # the therapist's note at the end of the session
    RECORD_OUTCOME = "record_outcome"  # PHQ-9, GAD-7, PCL-5 at check-in, before dosing
    MANAGE_ROOMS = "manage_rooms"
    FILE_REMS_FORM = "file_rems_form"  # mark an esketamine monitoring form as submitted to the REMS
    MANAGE_DEVICES = "manage_devices"  # the bedside monitor table: which device feeds which room
    VIEW_UNASSIGNED = "view_unassigned"  # device messages that reached no session

    @property
    def label(self) -> str:
        return self.value.replace("_", " ")


_T, _M, _S, _A = Role.THERAPIST, Role.MEDICAL, Role.SUPERVISOR, Role.ADMINISTRATOR
_F = Role.FRONT_DESK

#: The permission matrix. Administrators run the clinic's accounts and settings; they do not chart
#: or read clinical records (minimum necessary access). The front desk registers clients, plans courses and
#: sessions, and keeps the room calendar; it does not chart or read session records either.
PERMISSIONS: dict[Action, frozenset[Role]] = {
    Action.PLAN_SESSION: frozenset({_T, _M, _S, _A, _F}),
    Action.MANAGE_CLIENTS: frozenset({_T, _M, _S, _A, _F}),
    Action.VIEW_RECORD: frozenset({_T, _M, _S}),
    Action.START_SESSION: frozenset({_T, _M, _S}),
    Action.CONFIRM_CHECKLIST: frozenset({_T, _M, _S}),
    Action.OVERRIDE_CHECKLIST: frozenset({_S}),
    Action.RECORD_DOSE: frozenset({_M, _S}),
    Action.CHART: frozenset({_T, _M, _S}),
    Action.AMEND: frozenset({_T, _M, _S}),
    Action.END_EARLY: frozenset({_M, _S}),
    Action.ASSESS_DISCHARGE: frozenset({_M, _S}),
    Action.SIGN_DISCHARGE: frozenset({_S}),
    Action.EXPORT_REPORT: frozenset({_T, _M, _S}),
    Action.VIEW_AUDIT: frozenset({_S, _A}),
    Action.ADMINISTER_USERS: frozenset({_A}),
    Action.EDIT_PROTOCOL: frozenset({_A}),
    Action.ORDER_MEDICATION: frozenset({_S}),
    Action.GIVE_MEDICATION: frozenset({_M, _S}),
    Action.WRITE_CLOSING_NOTE: frozenset({_T}),
    Action.RECORD_OUTCOME: frozenset({_T, _M, _S}),
    Action.MANAGE_ROOMS: frozenset({_A}),
    Action.FILE_REMS_FORM: frozenset({_M, _S}),
    Action.MANAGE_DEVICES: frozenset({_A}),
    Action.VIEW_UNASSIGNED: frozenset({_S, _A}),
}


def may(roles: Iterable[Role], action: Action) -> bool:
    """True when any of ``roles`` permits ``action``."""
    return bool(PERMISSIONS[action].intersection(roles))


def require(roles: Iterable[Role], action: Action, who: str = "This user") -> None:
    """Raise :class:`PermissionDenied` unless one of ``roles`` permits ``action``."""
    roles = frozenset(roles)
    if not may(roles, action):
        allowed = ", ".join(sorted(r.label for r in PERMISSIONS[action]))
        raise PermissionDenied(f"{who} may not {action.label}; it needs one of: {allowed}")


#: Which charting actions each state allows. Closed states take amendments only.
STATE_ALLOWS: dict[SessionState, frozenset[Action]] = {
    SessionState.PLANNED: frozenset({Action.START_SESSION, Action.END_EARLY}),
    SessionState.CHECKLIST: frozenset(
        {Action.CONFIRM_CHECKLIST, Action.OVERRIDE_CHECKLIST, Action.RECORD_DOSE, Action.CHART, Action.AMEND,
         Action.END_EARLY, Action.RECORD_OUTCOME}
    ),
    # A booster's blockers (a limit, an allergy, a pre-dose hold) may need a supervisor's override too.
    SessionState.MONITORING: frozenset(
        {Action.RECORD_DOSE, Action.OVERRIDE_CHECKLIST, Action.CHART, Action.AMEND, Action.END_EARLY,
         Action.ASSESS_DISCHARGE, Action.WRITE_CLOSING_NOTE}
    ),
    SessionState.DISCHARGE: frozenset(
        {Action.RECORD_DOSE, Action.OVERRIDE_CHECKLIST, Action.CHART, Action.AMEND, Action.END_EARLY,
         Action.ASSESS_DISCHARGE, Action.SIGN_DISCHARGE, Action.WRITE_CLOSING_NOTE}
    ),
    SessionState.DISCHARGED: frozenset({Action.AMEND}),
    SessionState.ENDED_EARLY: frozenset({Action.AMEND}),
    SessionState.CANCELLED: frozenset(),
}
# Rescue and adjunct medications may be given whenever the client is at the bedside: before the dose
# (premedication), during monitoring and while discharge is assessed.
for _state in (SessionState.CHECKLIST, SessionState.MONITORING, SessionState.DISCHARGE):
    STATE_ALLOWS[_state] = STATE_ALLOWS[_state] | {Action.GIVE_MEDICATION}

#: The session state machine: the legal moves.
TRANSITIONS: dict[SessionState, frozenset[SessionState]] = {
    SessionState.PLANNED: frozenset({SessionState.CHECKLIST, SessionState.ENDED_EARLY, SessionState.CANCELLED}),
    SessionState.CHECKLIST: frozenset({SessionState.MONITORING, SessionState.ENDED_EARLY}),
    SessionState.MONITORING: frozenset({SessionState.DISCHARGE, SessionState.ENDED_EARLY}),
    SessionState.DISCHARGE: frozenset(
        {SessionState.DISCHARGED, SessionState.MONITORING, SessionState.ENDED_EARLY}
    ),
    SessionState.DISCHARGED: frozenset(),
    SessionState.ENDED_EARLY: frozenset(),
    SessionState.CANCELLED: frozenset(),
}


def require_state_allows(state: SessionState, action: Action) -> None:
    """Raise :class:`IllegalTransition` when a session in ``state`` does not allow ``action``."""
    if action not in STATE_ALLOWS[state]:
        if state.is_closed:
            raise IllegalTransition(
                f"the session is {state.label.lower()} and locked; corrections must be made as amendments"
            )
        raise IllegalTransition(f"a session that is '{state.label}' does not allow: {action.label}")


def require_transition(current: SessionState, target: SessionState) -> None:
    """Raise :class:`IllegalTransition` unless the state machine allows ``current`` → ``target``."""
    if target not in TRANSITIONS[current]:
        raise IllegalTransition(f"a session cannot go from '{current.label}' to '{target.label}'")
