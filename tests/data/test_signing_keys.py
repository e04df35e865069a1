"""Signing keys over time: wrapped by the password, re-wrapped on a change, replaced on a reset, retired on
deactivation; old signatures keep verifying against the key that was valid when they were made."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import pytest
from sqlalchemy import select

from kapconsole.data.models import SigningKeyRow
from kapconsole.domain import signing
from kapconsole.domain.errors import AuthenticationFailed, PermissionDenied
from kapconsole.domain.values import Actor
from kapconsole.services import Services
from tests.conftest import PASSWORD, FakeClock
from tests.data.helpers import PARTS_OK, PERSON_OK, in_checklist, ready_for_discharge


def _keys(services: Services, staff_id: int) -> list[SigningKeyRow]:
    with services.db.read() as s:
        return list(s.scalars(select(SigningKeyRow).where(SigningKeyRow.staff_id == staff_id)
                              .order_by(SigningKeyRow.id)))


def _sign(services: Services, staff: dict[str, Actor], clock: FakeClock, identifier: str,
          password: str = PASSWORD) -> int:
    sid = ready_for_discharge(services, staff, clock, identifier=identifier)
    services.discharge.assess(staff["supervisor"], sid, confirmations=PERSON_OK, score_parts=PARTS_OK)
    head = services.records.record(staff["medical"], sid).info.chain_head
    services.discharge.sign(staff["supervisor"], sid, password=password, seen_chain_head=head)
    return sid


def test_every_account_has_a_wrapped_key_registered_back_to_the_root(services: Services, staff: dict[str, Actor],
                                                                     clinic_config: Path) -> None:
    config = json.loads(clinic_config.read_text())
    assert stat.S_IMODE(os.stat(clinic_config).st_mode) == 0o600
    assert services.staff.root_fingerprint() == config["fingerprint"] == signing.fingerprint(config["root_public_key"])
    for actor in staff.values():
        (key,) = _keys(services, actor.staff_id)
        assert PASSWORD not in key.wrapped_private
        assert signing.public_hex(signing.unwrap(key.wrapped_private, PASSWORD)) == key.public_key
        with pytest.raises(AuthenticationFailed):
            signing.unwrap(key.wrapped_private, "wrong-password")
        registration = json.loads(key.registration)
        assert signing.check_signed(registration) and registration["public_key"] == key.public_key


def test_signature_is_made_with_the_signers_key(services: Services, staff: dict[str, Actor],
                                                clock: FakeClock) -> None:
    sid = _sign(services, staff, clock, "KAP-1")
    sig = services.records.record(staff["medical"], sid).signature
    assert sig is not None
    (key,) = _keys(services, staff["supervisor"].staff_id)
    assert sig.payload["key"] == key.public_key and signing.check_signed(sig.payload)
    assert sig.payload["signer_login"] == "sam" and sig.payload["purpose"] == "discharge"
    assert services.integrity.verify().ok


def test_override_is_signed(services: Services, staff: dict[str, Actor], clock: FakeClock) -> None:
    sid = in_checklist(services, staff, clock)  # nothing confirmed: dosing is blocked
    entry = services.records.override_checklist(staff["supervisor"], sid, password=PASSWORD,
                                                reason="consent confirmed by phone")
    assert signing.check_signed(entry.payload) and entry.payload["purpose"] == "override"
    assert entry.payload["signed_seq"] == entry.seq - 1
    assert services.integrity.verify(sid).ok


def test_own_password_change_rewraps_the_same_key(services: Services, staff: dict[str, Actor],
                                                  clock: FakeClock) -> None:
    sup = staff["supervisor"]
    (before,) = _keys(services, sup.staff_id)
    services.staff.set_password(sup, "sam", "new-secret-1", current_password=PASSWORD)
    (after,) = _keys(services, sup.staff_id)
    assert after.public_key == before.public_key and after.wrapped_private != before.wrapped_private
    with pytest.raises(AuthenticationFailed):
        signing.unwrap(after.wrapped_private, PASSWORD)
    sid = _sign(services, staff, clock, "KAP-1", password="new-secret-1")
    assert services.integrity.verify(sid).ok


def test_reset_by_an_administrator_issues_a_new_key_and_old_signatures_stay_valid(
        services: Services, staff: dict[str, Actor], clock: FakeClock) -> None:
    old = _sign(services, staff, clock, "KAP-1")
    clock.advance(minutes=5)
    services.staff.set_password(staff["administrator"], "sam", "reset-by-admin", actor_password=PASSWORD)
    first, second = _keys(services, staff["supervisor"].staff_id)
    assert first.valid_until is not None and second.valid_until is None
    # Registered by the administrator's own key this time, which itself leads back to the root.
    (admin_key,) = _keys(services, staff["administrator"].staff_id)
    assert json.loads(second.registration)["registrar"] == admin_key.public_key
    clock.advance(minutes=5)
    new = _sign(services, staff, clock, "KAP-2", password="reset-by-admin")
    signatures = [services.records.record(staff["medical"], sid).signature for sid in (old, new)]
    assert [s.payload["key"] for s in signatures if s] == [first.public_key, second.public_key]
    assert services.integrity.verify().ok


def test_deactivated_persons_key_stops_signing_but_their_signatures_stay_valid(
        services: Services, staff: dict[str, Actor], clock: FakeClock) -> None:
    _sign(services, staff, clock, "KAP-1")
    sid = ready_for_discharge(services, staff, clock, identifier="KAP-2")
    services.discharge.assess(staff["supervisor"], sid, confirmations=PERSON_OK, score_parts=PARTS_OK)
    services.staff.deactivate(staff["administrator"], "sam")
    (key,) = _keys(services, staff["supervisor"].staff_id)
    assert key.valid_until is not None
    head = services.records.record(staff["medical"], sid).info.chain_head
    with pytest.raises(PermissionDenied):
        services.discharge.sign(staff["supervisor"], sid, password=PASSWORD, seen_chain_head=head)
    assert services.integrity.verify().ok


def test_a_key_registered_by_a_foreign_root_is_refused(services: Services, staff: dict[str, Actor],
                                                       clock: FakeClock) -> None:
    """Someone with database access registers a key of their own for the supervisor and signs with it."""
    sid = _sign(services, staff, clock, "KAP-1")
    rogue_root = signing.new_private_key()
    with services.db.write() as s:
        (key,) = s.scalars(select(SigningKeyRow).where(SigningKeyRow.staff_id == staff["supervisor"].staff_id))
        statement = json.loads(key.registration)
        statement.pop("sig")
        statement.pop("key")
        statement["registrar"] = signing.public_hex(rogue_root)
        key.registration = json.dumps(signing.signed(rogue_root, statement))
    messages = [p.message for p in services.integrity.verify(sid).problems]
    assert any("does not lead back to the clinic root key" in m for m in messages)
