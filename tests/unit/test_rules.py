"""The permission matrix and the state machine, as full tables."""

from __future__ import annotations

import pytest

from kapconsole.domain.enums import Role, SessionState
from kapconsole.domain.errors import IllegalTransition, PermissionDenied
from kapconsole.domain.rules import PERMISSIONS, TRANSITIONS, Action, may, require, require_transition

T, M, S, A, F = Role.THERAPIST, Role.MEDICAL, Role.SUPERVISOR, Role.ADMINISTRATOR, Role.FRONT_DESK

# The expected matrix, written out independently of the implementation: action → roles allowed.
EXPECTED = {
    Action.PLAN_SESSION: {T, M, S, A, F},
    Action.MANAGE_CLIENTS: {T, M, S, A, F},
    Action.VIEW_RECORD: {T, M, S},
    Action.START_SESSION: {T, M, S},
    Action.CONFIRM_CHECKLIST: {T, M, S},
    Action.OVERRIDE_CHECKLIST: {S},
    Action.RECORD_DOSE: {M, S},
    Action.CHART: {T, M, S},
    Action.AMEND: {T, M, S},
    Action.END_EARLY: {M, S},
    Action.ASSESS_DISCHARGE: {M, S},
    Action.SIGN_DISCHARGE: {S},
    Action.EXPORT_REPORT: {T, M, S},
    Action.VIEW_AUDIT: {S, A},
    Action.ADMINISTER_USERS: {A},
    Action.EDIT_PROTOCOL: {A},
    Action.ORDER_MEDICATION: {S},
    Action.GIVE_MEDICATION: {M, S},
    Action.WRITE_CLOSING_NOTE: {T},
    Action.RECORD_OUTCOME: {T, M, S},
    Action.MANAGE_ROOMS: {A},
    Action.FILE_REMS_FORM: {M, S},
    Action.MANAGE_DEVICES: {A},
    Action.VIEW_UNASSIGNED: {S, A},
}


def test_every_action_has_an_expected_row() -> None:
    assert set(EXPECTED) == set(Action) == set(PERMISSIONS)


@pytest.mark.parametrize("action", list(Action))
@pytest.mark.parametrize("role", list(Role))
def test_matrix(action: Action, role: Role) -> None:
    allowed = role in EXPECTED[action]
    assert may({role}, action) is allowed
    if allowed:
        require({role}, action)
    else:
        with pytest.raises(PermissionDenied, match=action.label):
            require({role}, action, "Someone")


def test_several_roles_combine() -> None:
    assert may({T, A}, Action.ADMINISTER_USERS) and may({T, A}, Action.CHART)
    assert not may(set(), Action.CHART)


LEGAL = {
    (SessionState.PLANNED, SessionState.CHECKLIST),
    (SessionState.PLANNED, SessionState.ENDED_EARLY),
    (SessionState.PLANNED, SessionState.CANCELLED),
    (SessionState.CHECKLIST, SessionState.MONITORING),
    (SessionState.CHECKLIST, SessionState.ENDED_EARLY),
    (SessionState.MONITORING, SessionState.DISCHARGE),
    (SessionState.MONITORING, SessionState.ENDED_EARLY),
    (SessionState.DISCHARGE, SessionState.DISCHARGED),
    (SessionState.DISCHARGE, SessionState.MONITORING),
    (SessionState.DISCHARGE, SessionState.ENDED_EARLY),
}


@pytest.mark.parametrize("current", list(SessionState))
@pytest.mark.parametrize("target", list(SessionState))
def test_state_machine(current: SessionState, target: SessionState) -> None:
    if (current, target) in LEGAL:
        require_transition(current, target)
        assert target in TRANSITIONS[current]
    else:
        with pytest.raises(IllegalTransition):
            require_transition(current, target)


def test_closed_states_are_final() -> None:
    for state in SessionState:
        assert state.is_closed == (not TRANSITIONS[state])


def test_a_protocol_saved_before_checklist_roles_keeps_the_default_roles() -> None:
    import json

    from kapconsole.domain.protocol import ProtocolSettings

    data = json.loads(ProtocolSettings().to_json())
    for item in data["checklist"]:
        del item["roles"], item["allow_na"]
    old = ProtocolSettings.from_dict(data)
    assert old.checklist == ProtocolSettings().checklist
    assert "therapist" in old.checklist_item("identity").roles  # type: ignore[union-attr]
    assert "therapist" not in old.checklist_item("ci_cardiac").roles  # type: ignore[union-attr]
