"""Clinical safety gates before every dose, at the service layer, on SQLite and PostgreSQL."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

from kapconsole.domain.allergies import Allergy, AllergySeverity
from kapconsole.domain.enums import EntryKind, Role, SessionState
from kapconsole.domain.errors import AuthenticationFailed, PermissionDenied, ValidationError
from kapconsole.domain.gates import GateBlocked, WayForward
from kapconsole.domain.values import Actor
from kapconsole.services import Services
from kapconsole.services.record import DoseInput
from tests.conftest import PASSWORD, FakeClock, ensure_room
from tests.data.helpers import BASELINE
from tests.data.rems_helpers import PREDOSE_ANSWERS

_n = iter(range(1, 10_000))


def prepared(services: Services, staff: dict[str, Actor], *, route: str = "sublingual", drug: str = "Ketamine",
             dose: float = 200, unit: str = "mg", weight: float | None = 70, allergies: tuple[Allergy, ...] = (),
             baseline: dict[str, Any] | None = None, checklist: bool = True) -> int:
    """A session through its checklist and baseline, not yet dosed."""
    nurse = staff["medical"]
    n = next(_n)
    client = services.clinic.add_client(nurse, identifier=f"S-{n}", name="Jo Client", weight_kg=weight,
                                        weight_on=services.clinic.now().date() if weight else None,
                                        allergy_list=allergies)
    # A room holds one session at a time: each test session has a room of its own.
    info = services.clinic.plan_session(nurse, client_id=client.id, room=ensure_room(services, f"Room S{n}"),
                                        route=route, planned_drug=drug,
                                        planned_dose=dose, planned_unit=unit, scheduled_at=services.clinic.now())
    services.records.start_session(nurse, info.id)
    if checklist:
        for item in services.records.record(nurse, info.id).protocol.checklist:
            services.records.confirm_checklist_item(nurse, info.id, item.key)
    services.records.record_vitals(nurse, info.id, baseline or BASELINE)
    if route == "intranasal":  # an esketamine session: its REMS answers are part of the gate
        services.rems.record_answers(nurse, info.id, PREDOSE_ANSWERS)
    return info.id


def give(services: Services, staff: dict[str, Actor], sid: int, **kw: Any) -> Any:
    args: dict[str, Any] = dict(drug="Ketamine", route="sublingual", dose=200, unit="mg",
                                ordered_by=staff["supervisor"].staff_id)
    args.update(kw)
    if services.clinic.session(sid).route.value == "intranasal":
        # An esketamine session records one device at a time; what would block this dose is the same gate.
        confirm = args.pop("confirm", ())
        check = {k: args[k] for k in ("drug", "route", "dose", "unit")}
        found = services.records.check_administration(staff["medical"], sid, **check, confirm=confirm)
        if found:
            raise GateBlocked("dosing", found)
    return services.records.record_administration(staff["medical"], sid, **args)


def blocked(call: Any) -> dict[str, Any]:
    """The blockers of a refused call, by key."""
    with pytest.raises(GateBlocked) as err:
        call()
    return {b.key: b for b in err.value.blockers}


def test_a_checklist_answer_of_no_blocks_the_dose(services: Services, staff, clock: FakeClock) -> None:
    nurse = staff["medical"]
    sid = prepared(services, staff, checklist=False)
    for item in services.records.record(nurse, sid).protocol.checklist:
        answer = "no" if item.key == "ci_pregnancy" else "confirmed"
        services.records.confirm_checklist_item(nurse, sid, item.key, answer=answer)
    found = blocked(lambda: give(services, staff, sid))
    assert set(found) == {"checklist.ci_pregnancy"}
    assert found["checklist.ci_pregnancy"].label == "answered no: Not pregnant"
    assert found["checklist.ci_pregnancy"].ways == (WayForward.ANSWER, WayForward.OVERRIDE)
    # "Not applicable" only where the protocol allows it: yes for pregnancy, not for cardiac disease.
    services.records.confirm_checklist_item(nurse, sid, "ci_pregnancy", answer="not_applicable")
    cardiac = next(c for c in services.records.record(nurse, sid).current(EntryKind.CHECKLIST) if c.payload["item"] == "ci_cardiac")
    services.records.amend(nurse, sid, cardiac.id, reason="re-read the screening", content={"answer": "not_applicable"})
    found = blocked(lambda: give(services, staff, sid))
    assert set(found) == {"checklist.ci_cardiac"}
    assert "not applicable" in found["checklist.ci_cardiac"].label
    # Amending a confirmation to "no" is just as blocking.
    services.records.amend(nurse, sid, cardiac.id, reason="history of angina found", content={"answer": "no"})
    assert set(blocked(lambda: give(services, staff, sid))) == {"checklist.ci_cardiac"}
    services.records.amend(nurse, sid, cardiac.id, reason="cardiology letter: resolved", content={"answer": "yes"})
    give(services, staff, sid)
    assert services.clinic.session(sid).state is SessionState.MONITORING


def test_an_override_covers_only_the_blockers_it_names(services: Services, staff, clock: FakeClock) -> None:
    nurse, sup = staff["medical"], staff["supervisor"]
    sid = prepared(services, staff, checklist=False)
    for item in services.records.record(nurse, sid).protocol.checklist:
        if item.key != "fasting":
            services.records.confirm_checklist_item(nurse, sid, item.key)
    services.records.override_checklist(sup, sid, password=PASSWORD, reason="ate a biscuit 3 h ago; physician ok")
    override = services.records.record(nurse, sid).override
    assert override is not None and [c["key"] for c in override.payload["covers"]] == ["checklist.fasting"]
    assert services.records.record(nurse, sid).dosing_blockers() == []
    clock.advance(minutes=3)
    services.records.record_vitals(nurse, sid, {"sbp": 210, "dbp": 125, "hr": 90, "spo2": 91, "rr": 16})
    record = services.records.record(nurse, sid)
    assert {b.key for b in record.dosing_blockers()} == {"predose.sbp", "predose.dbp", "predose.spo2"}
    found = blocked(lambda: give(services, staff, sid))
    assert found["predose.sbp"].values == (("sbp", "210"),)
    assert found["predose.sbp"].ways == (WayForward.RECHECK, WayForward.OVERRIDE)
    # A second override for the new holds covers them (and only with the values it saw).
    services.records.override(sup, sid, password=PASSWORD, reason="anxious; physician at bedside",
                              covers=["predose.sbp", "predose.dbp", "predose.spo2"])
    clock.advance(minutes=1)
    services.records.record_vitals(nurse, sid, {"sbp": 220, "dbp": 125, "hr": 90, "spo2": 91, "rr": 16})
    assert {b.key for b in blocked(lambda: give(services, staff, sid)).values()} == {"predose.sbp"}


def test_a_booster_rechecks_the_holds_and_unacknowledged_alerts(services: Services, staff, clock: FakeClock) -> None:
    nurse, sup = staff["medical"], staff["supervisor"]
    sid = prepared(services, staff, dose=400)
    give(services, staff, sid)
    clock.advance(minutes=40)
    reading = services.records.record_vitals(nurse, sid, {"sbp": 200, "dbp": 120, "hr": 100, "spo2": 90, "rr": 8})
    found = blocked(lambda: give(services, staff, sid, dose=200))
    assert {"predose.sbp", "predose.dbp", "predose.spo2"} <= set(found)
    alerts = {k for k in found if k.startswith("alert.")}
    assert alerts == {f"alert.{m}:{reading.id}" for m in ("sbp", "dbp", "spo2", "rr")}
    assert all(found[k].ways == (WayForward.ACKNOWLEDGE,) for k in alerts)
    with pytest.raises(ValidationError, match="may override"):
        services.records.override(sup, sid, password=PASSWORD, reason="in a hurry", covers=sorted(alerts))
    # An acknowledgement is not an override, and a supervisor cannot override an unacknowledged alert.
    services.records.acknowledge_alert(nurse, sid, reading.id, ["sbp", "dbp", "spo2", "rr"], note="at bedside")
    found = blocked(lambda: give(services, staff, sid, dose=200))
    assert set(found) == {"predose.sbp", "predose.dbp", "predose.spo2"}
    clock.advance(minutes=15)
    services.records.record_vitals(nurse, sid, {"sbp": 130, "dbp": 80, "hr": 80, "spo2": 97, "rr": 14})
    give(services, staff, sid, dose=200)
    assert len(services.records.record(nurse, sid).administrations) == 2


@pytest.mark.parametrize(("route", "plan", "dose", "keys"), [
    ("sublingual", (400, "mg"), (1000, "mg"), {"dose.max_dose", "dose.max_session", "dose.above_plan:1000 mg"}),
    ("im", (0.5, "mg/kg"), (1000, "mg"), {"dose.max_dose_per_kg", "dose.max_session_per_kg",
                                          "dose.above_plan:1000 mg"}),
    ("iv", (0.5, "mg/kg"), (1000, "mg"), {"dose.max_dose_per_kg", "dose.max_session_per_kg",
                                          "dose.above_plan:1000 mg"}),
    ("intranasal", (84, "mg"), (1000, "mg"), {"dose.max_dose", "dose.max_session", "dose.above_plan:1000 mg",
                                              "dose.multiple"}),
])
def test_per_route_limits_depend_on_the_route(services: Services, staff, clock: FakeClock, route: str,
                                              plan: tuple[float, str], dose: tuple[float, str], keys: set[str]) -> None:
    drug = "Esketamine" if route == "intranasal" else "Ketamine"
    sid = prepared(services, staff, route=route, drug=drug, dose=plan[0], unit=plan[1])
    extra = {"device_lot": "D1"} if route == "intranasal" else {}
    found = blocked(lambda: give(services, staff, sid, drug=drug, route=route, dose=dose[0], unit=dose[1], **extra))
    assert set(found) == keys
    assert all(found[k].overridable for k in keys if k.startswith("dose.max"))


def test_dose_sense_checks(services: Services, staff, clock: FakeClock) -> None:
    sup = staff["supervisor"]
    sid = prepared(services, staff, dose=200)
    assert set(blocked(lambda: give(services, staff, sid, drug="Propofol", route="intranasal", dose=500))) == {
        "dose.drug"}
    assert blocked(lambda: give(services, staff, sid, drug="???"))["dose.drug"].ways == (WayForward.CORRECT,)
    route = blocked(lambda: give(services, staff, sid, route="im", dose=50))
    assert set(route) == {"dose.route"} and route["dose.route"].overridable
    # Above the plan: the giver confirms, naming the dose; a confirmation of another dose does not count.
    above = blocked(lambda: give(services, staff, sid, dose=300))
    assert set(above) == {"dose.above_plan:300 mg"} and above["dose.above_plan:300 mg"].ways[0] is WayForward.CONFIRM
    assert set(blocked(lambda: give(services, staff, sid, dose=300, confirm=["dose.above_plan:250 mg"]))) == {
        "dose.above_plan:300 mg"}
    give(services, staff, sid, dose=300, confirm=["dose.above_plan:300 mg"])
    # The session maximum (400 mg sublingual) counts every dose given.
    clock.advance(minutes=40)
    services.records.record_vitals(staff["medical"], sid, BASELINE)
    found = blocked(lambda: give(services, staff, sid, dose=200, confirm=["dose.above_plan:200 mg"]))
    assert set(found) == {"dose.max_session"}
    assert ("session total", "500 mg") in found["dose.max_session"].values
    # Above a limit: a supervisor's re-authenticated override of exactly this dose.
    with pytest.raises(AuthenticationFailed):
        services.records.override(sup, sid, password="wrong-pass", reason="x", dose=DoseInput("Ketamine", "sublingual",
                                                                                               200, "mg"))
    services.records.override(sup, sid, password=PASSWORD, reason="partial response; physician decision",
                              dose=DoseInput("Ketamine", "sublingual", 200, "mg"))
    assert set(blocked(lambda: give(services, staff, sid, dose=250, confirm=["dose.above_plan:250 mg"]))) == {
        "dose.max_session"}
    give(services, staff, sid, dose=200)
    # Booster count: one booster by default; the third dose needs an override (and stays over the maximum).
    clock.advance(minutes=40)
    services.records.record_vitals(staff["medical"], sid, BASELINE)
    assert {"dose.boosters", "dose.max_session"} <= set(blocked(lambda: give(services, staff, sid, dose=50)))


def test_thirteen_doses_of_1000_mg_are_not_possible(services: Services, staff, clock: FakeClock) -> None:
    sid = prepared(services, staff, dose=1000)
    assert "dose.max_dose" in blocked(lambda: give(services, staff, sid, dose=1000))


def test_esketamine_in_whole_devices(services: Services, staff, clock: FakeClock) -> None:
    sid = prepared(services, staff, route="intranasal", drug="Esketamine", dose=84)
    found = blocked(lambda: give(services, staff, sid, drug="Esketamine", route="intranasal", dose=70, device_lot="D1"))
    assert set(found) == {"dose.multiple"} and not found["dose.multiple"].overridable
    # A dose in whole devices passes the gate, and is recorded one 28 mg device at a time, each gated.
    with pytest.raises(ValidationError, match="record device"):
        give(services, staff, sid, drug="Spravato", route="intranasal", dose=56, device_lot="D1")
    for n in (1, 2):
        entry = services.rems.record_device(staff["medical"], sid, device_lot=f"D{n}",
                                            ordered_by=staff["supervisor"].staff_id)
        assert (entry.payload["dose"], entry.payload["device"]) == (28, n)
        clock.advance(minutes=5)


def test_without_a_weight_mg_per_kg_limits_need_a_confirmation(services: Services, staff, clock: FakeClock) -> None:
    sid = prepared(services, staff, route="im", dose=0.5, unit="mg/kg", weight=None)
    found = blocked(lambda: give(services, staff, sid, route="im", dose=0.5, unit="mg/kg"))
    assert set(found) == {"dose.no_weight"} and found["dose.no_weight"].confirmable
    give(services, staff, sid, route="im", dose=0.5, unit="mg/kg", confirm=["dose.no_weight"])
    entry = services.records.record(staff["medical"], sid).administrations[0]
    assert entry.payload["confirmed"] == ["dose.no_weight"]


def test_allergies_are_checked_before_every_administration(services: Services, staff, clock: FakeClock) -> None:
    sup = staff["supervisor"]
    allergies = (Allergy("Ketamine", "anaphylaxis", AllergySeverity.ANAPHYLAXIS), Allergy("Zofran", "rash"))
    sid = prepared(services, staff, allergies=allergies)
    found = blocked(lambda: give(services, staff, sid))
    assert set(found) == {"allergy.ketamine"}
    assert "anaphylaxis" in found["allergy.ketamine"].label and found["allergy.ketamine"].overridable
    # The check rescue medications use: allergies only.
    rescue = services.records.check_administration(staff["medical"], sid, drug="ondansetron", route="iv", dose=4,
                                                   unit="mg", rescue=True)
    assert [b.key for b in rescue] == ["allergy.zofran"]
    assert services.records.check_administration(staff["medical"], sid, drug="Midazolam", route="iv", dose=1,
                                                 unit="mg", rescue=True) == ()
    services.records.override(sup, sid, password=PASSWORD, reason="reaction was to the preservative; allergist ok",
                              dose=DoseInput("Ketamine", "sublingual", 200, "mg"))
    give(services, staff, sid)


def test_who_may_order_give_and_override(services: Services, staff, clock: FakeClock) -> None:
    sid = prepared(services, staff)
    with pytest.raises(PermissionDenied, match="may not order"):
        give(services, staff, sid, ordered_by=staff["administrator"].staff_id)
    with pytest.raises(PermissionDenied, match="may not give"):
        give(services, staff, sid, given_by=staff["therapist"].staff_id)
    with pytest.raises(PermissionDenied, match="may not order"):
        give(services, staff, sid, ordered_by=staff["medical"].staff_id)
    # A clinic may require that the overriding supervisor is not the one who gives the dose.
    admin, sup = staff["administrator"], staff["supervisor"]
    protocol = services.clinic.protocol()
    services.clinic.update_protocol(admin, replace(protocol, dosing=replace(protocol.dosing,
                                                                             separate_override_and_giver=True)))
    other = prepared(services, staff, allergies=(Allergy("ketamine", "hives", AllergySeverity.MILD),))
    services.records.override(sup, other, password=PASSWORD, reason="mild hives only; antihistamine ready",
                              dose=DoseInput("Ketamine", "sublingual", 200, "mg"))
    with pytest.raises(PermissionDenied, match="overrode"):
        give(services, staff, other, given_by=sup.staff_id)
    give(services, staff, other, given_by=staff["medical"].staff_id)
    assert Role.SUPERVISOR in sup.roles
