"""Every action × every role, enforced at the service layer (the GUI and the CLI go through it)."""

from __future__ import annotations

import itertools
from collections.abc import Callable

import pytest

from kapconsole.domain.enums import Role
from kapconsole.domain.errors import DomainError, PermissionDenied
from kapconsole.domain.protocol import ProtocolSettings
from kapconsole.domain.rules import Action
from kapconsole.domain.values import Actor
from kapconsole.services import Services
from tests.conftest import PASSWORD, FakeClock, make_staff
from tests.data.helpers import PARTS_OK, PERSON_OK, dosed, in_checklist, planned
from tests.unit.test_rules import EXPECTED

_ids = itertools.count(1)


def _operations(services: Services, staff: dict[str, Actor], clock: FakeClock) -> dict[Action, Callable[[Actor], object]]:
    boss = staff["supervisor"]
    r = services.records

    def fresh_checklist() -> int:
        return in_checklist(services, staff, clock, identifier=f"M-{next(_ids)}")

    def fresh_dosed() -> int:
        return dosed(services, staff, clock, identifier=f"M-{next(_ids)}")

    return {
        Action.PLAN_SESSION: lambda a: planned(services, a, clock, identifier=f"P-{next(_ids)}", course_sessions=None),
        Action.MANAGE_CLIENTS: lambda a: services.clinic.add_client(a, identifier=f"C-{next(_ids)}", name="New Client"),
        Action.VIEW_RECORD: lambda a: r.record(a, fresh_checklist()),
        Action.START_SESSION: lambda a: r.start_session(a, planned(services, boss, clock, identifier=f"S-{next(_ids)}")),
        Action.CONFIRM_CHECKLIST: lambda a: r.confirm_checklist_item(a, fresh_checklist(), "identity"),
        Action.OVERRIDE_CHECKLIST: lambda a: r.override_checklist(a, fresh_checklist(), password=PASSWORD, reason="r"),
        Action.RECORD_DOSE: lambda a: r.record_administration(a, fresh_dosed(), drug="Ketamine", route="im", dose=50,
                                                              unit="mg", ordered_by=boss.staff_id),
        Action.CHART: lambda a: r.record_observation(a, fresh_checklist(), "calm"),
        Action.AMEND: lambda a: (lambda sid: r.amend(a, sid, r.record_observation(boss, sid, "x").id, reason="typo",
                                                     content={"text": "y"}))(fresh_checklist()),
        Action.END_EARLY: lambda a: r.end_early(a, fresh_checklist(), "client_request", "asked to stop"),
        Action.ASSESS_DISCHARGE: lambda a: services.discharge.assess(a, fresh_dosed(), confirmations=PERSON_OK,
                                                                     score_parts=PARTS_OK),
        Action.SIGN_DISCHARGE: lambda a: services.discharge.sign(a, fresh_dosed(), password=PASSWORD,
                                                                 seen_chain_head="x"),
        Action.EXPORT_REPORT: lambda a: services.reports.build(a, fresh_dosed()),
        Action.VIEW_AUDIT: lambda a: services.audit.events(a),
        Action.ADMINISTER_USERS: lambda a: services.staff.add_user(a, login=f"u{next(_ids)}", name="U",
                                                                   roles=["therapist"], password=PASSWORD),
        Action.EDIT_PROTOCOL: lambda a: services.clinic.update_protocol(a, ProtocolSettings()),
        Action.FILE_REMS_FORM: lambda a: services.rems.mark_submitted(a, fresh_dosed(), submitted_on=clock.now.date(),
                                                                      method="online"),
        Action.WRITE_CLOSING_NOTE: lambda a: r.record_closing_note(a, fresh_dosed(), state="Calm, oriented"),
        Action.MANAGE_DEVICES: lambda a: services.monitor.remove_device(a, f"no-such-monitor-{next(_ids)}"),
        Action.VIEW_UNASSIGNED: lambda a: services.monitor.unassigned(a),
        Action.RECORD_OUTCOME: lambda a: r.record_outcome_measure(a, fresh_checklist(), "gad7", [1] * 7),
        Action.MANAGE_ROOMS: lambda a: services.clinic.planning.add_room(a, f"Room R{next(_ids)}"),
        # The prescriber named on a rescue medication, and the person who gives and charts it.
        Action.ORDER_MEDICATION: lambda a: r.record_rescue_medication(boss, fresh_dosed(), drug="ondansetron",
                                                                      dose=4, route="odt", reason="nausea",
                                                                      ordered_by=a.staff_id),
        Action.GIVE_MEDICATION: lambda a: r.record_rescue_medication(a, fresh_dosed(), drug="ondansetron", dose=4,
                                                                     route="odt", reason="nausea",
                                                                     ordered_by=boss.staff_id),
    }


def test_service_role_matrix(services: Services, clock: FakeClock) -> None:
    staff = make_staff(services)
    admin = staff["administrator"]
    single = {}
    for role in Role:
        login = f"only-{role.value}"
        services.staff.add_user(admin, login=login, name=f"Only {role.label}", roles=[role], password=PASSWORD)
        single[role] = services.staff.authenticate(login, PASSWORD, "room-1")
    ops = _operations(services, staff, clock)
    assert set(ops) == set(Action)
    wrong: list[str] = []
    for action, op in ops.items():
        for role, actor in single.items():
            allowed = role in EXPECTED[action]
            try:
                op(actor)
                denied = False
            except PermissionDenied:
                denied = True
            except DomainError:
                denied = False  # allowed, but refused for another reason (state, stale record...)
            if denied == allowed:
                wrong.append(f"{action.value} × {role.value}: {'denied' if denied else 'allowed'}")
    assert not wrong, wrong


@pytest.mark.parametrize("role", list(Role))
def test_records_are_read_only_for_roles_without_view(services: Services, clock: FakeClock, role: Role) -> None:
    staff = make_staff(services)
    sid = in_checklist(services, staff, clock)
    services.staff.add_user(staff["administrator"], login="solo", name="Solo", roles=[role], password=PASSWORD)
    actor = services.staff.authenticate("solo", PASSWORD, "room-1")
    if role in EXPECTED[Action.VIEW_RECORD]:
        assert services.records.record(actor, sid).info.id == sid
    else:
        with pytest.raises(PermissionDenied):
            services.records.record(actor, sid)
