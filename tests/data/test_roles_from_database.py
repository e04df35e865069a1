"""Services read the caller's roles and active flag from the database on every call, not from the Actor."""

from __future__ import annotations

from dataclasses import replace

import pytest

from kapconsole.domain.enums import Role
from kapconsole.domain.errors import PermissionDenied
from kapconsole.domain.values import Actor
from kapconsole.services import Services
from tests.conftest import PASSWORD, FakeClock
from tests.data.helpers import BASELINE, PARTS_OK, PERSON_OK, checklist_done, dosed, ready_for_discharge


def test_demoted_supervisor_cannot_sign_with_the_actor_already_held(services: Services, staff: dict[str, Actor],
                                                                     clock: FakeClock) -> None:
    sid = ready_for_discharge(services, staff, clock)
    supervisor = staff["supervisor"]
    services.discharge.assess(supervisor, sid, confirmations=PERSON_OK, score_parts=PARTS_OK)
    services.staff.set_roles(staff["administrator"], supervisor.login, [Role.MEDICAL])
    head = services.records.record(staff["medical"], sid).info.chain_head
    with pytest.raises(PermissionDenied, match="sign discharge"):
        services.discharge.sign(supervisor, sid, password=PASSWORD, seen_chain_head=head)
    # Refused before the password was checked: no signature, no re-authentication counted.
    assert services.records.record(staff["medical"], sid).signature is None
    # Still medical staff: charting goes on under the roles the database holds now.
    entry = services.records.record_vitals(supervisor, sid, BASELINE)
    assert entry.author_id == supervisor.staff_id


def test_deactivated_nurse_cannot_chart(services: Services, staff: dict[str, Actor], clock: FakeClock) -> None:
    sid = dosed(services, staff, clock)
    nurse = staff["medical"]
    before = services.records.record(staff["supervisor"], sid).info.entry_count
    services.staff.deactivate(staff["administrator"], nurse.login)
    clock.advance(minutes=1)
    for attempt in (lambda: services.records.record_vitals(nurse, sid, BASELINE),
                    lambda: services.records.record_observation(nurse, sid, "calm"),
                    lambda: services.records.record(nurse, sid),
                    lambda: services.board.rows(nurse)):
        with pytest.raises(PermissionDenied, match="no longer an active account"):
            attempt()
    assert services.records.record(staff["supervisor"], sid).info.entry_count == before


def test_forged_actor_gains_no_role(services: Services, staff: dict[str, Actor], clock: FakeClock) -> None:
    """A therapist who builds an Actor with the supervisor and medical roles and types their own password."""
    therapist = staff["therapist"]
    forged = replace(therapist, roles=frozenset({Role.SUPERVISOR, Role.MEDICAL, Role.ADMINISTRATOR}))
    sid = checklist_done(services, staff, clock)
    with pytest.raises(PermissionDenied, match="record dose"):
        services.records.record_administration(forged, sid, drug="Ketamine", route="sublingual", dose=200,
                                               unit="mg", ordered_by=staff["supervisor"].staff_id)
    with pytest.raises(PermissionDenied, match="override checklist"):
        services.records.override_checklist(forged, sid, password=PASSWORD, reason="forged")
    with pytest.raises(PermissionDenied, match="administer users"):
        services.staff.set_roles(forged, therapist.login, [Role.SUPERVISOR])
    with pytest.raises(PermissionDenied, match="administer users"):
        services.staff.deactivate(forged, "sam")
    ready = ready_for_discharge(services, staff, clock, identifier="KAP-2")
    services.discharge.assess(staff["supervisor"], ready, confirmations=PERSON_OK, score_parts=PARTS_OK)
    head = services.records.record(staff["medical"], ready).info.chain_head
    with pytest.raises(PermissionDenied, match="sign discharge"):
        services.discharge.sign(forged, ready, password=PASSWORD, seen_chain_head=head)
    assert services.records.record(staff["medical"], ready).signature is None
    # The forged roles are not written anywhere: the therapist's own entry carries the therapist's name.
    entry = services.records.record_observation(forged, sid, "music on")
    assert entry.author_id == therapist.staff_id and entry.author_name == "Theo Therapist"


def test_actor_pointing_at_another_account_is_refused(services: Services, staff: dict[str, Actor],
                                                      clock: FakeClock) -> None:
    """An Actor whose login does not match the account of its id, or an id that does not exist."""
    sid = dosed(services, staff, clock)
    mismatched = replace(staff["therapist"], staff_id=staff["supervisor"].staff_id)
    unknown = replace(staff["therapist"], staff_id=987654)
    for actor in (mismatched, unknown, replace(staff["therapist"], staff_id=2**63)):
        with pytest.raises(PermissionDenied):
            services.records.record_observation(actor, sid, "calm")


def test_promotion_takes_effect_without_signing_in_again(services: Services, staff: dict[str, Actor],
                                                         clock: FakeClock) -> None:
    sid = checklist_done(services, staff, clock)
    therapist = staff["therapist"]
    with pytest.raises(PermissionDenied):
        services.records.record_administration(therapist, sid, drug="Ketamine", route="sublingual", dose=200,
                                               unit="mg", ordered_by=staff["supervisor"].staff_id)
    services.staff.set_roles(staff["administrator"], therapist.login, [Role.THERAPIST, Role.MEDICAL])
    entry = services.records.record_administration(therapist, sid, drug="Ketamine", route="sublingual", dose=200,
                                                   unit="mg", ordered_by=staff["supervisor"].staff_id)
    assert entry.author_id == therapist.staff_id
