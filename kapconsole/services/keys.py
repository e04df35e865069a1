"""Each member of staff's signing keys over time: issued, registered, re-wrapped, retired.

Used inside a service's unit of work. A key is registered by a signed statement from the clinic root key (this
workstation's clinic configuration) or from an administrator's own key (opened with their password).
"""

from __future__ import annotations

import json
from datetime import datetime

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import select
from sqlalchemy.orm import Session

from kapconsole.data import repositories as repo
from kapconsole.data.models import SessionRow, SigningKeyRow, StaffRow
from kapconsole.domain import signing
from kapconsole.domain.errors import AuthenticationFailed, DomainError
from kapconsole.domain.integrity import header_hash, timestamp
from kapconsole.services import clinic_keys

ROOT_SETTING = "clinic_root_key"


def database_root(s: Session) -> str | None:
    """The clinic root public key this database was set up with."""
    return repo.get_setting(s, ROOT_SETTING)


def root_signer(s: Session, now: datetime, *, create: bool) -> Ed25519PrivateKey | None:
    """The root private key, when this workstation holds the one the database was set up with.

    ``create``: at the clinic's first set-up (no root recorded yet) make the clinic configuration's root key
    and record its public half in the database.
    """
    recorded = database_root(s)
    root = clinic_keys.ensure_root() if recorded is None and create else clinic_keys.load_root()
    if root is None:
        return None
    if recorded is None:
        repo.set_setting(s, ROOT_SETTING, root.public_key, at=now, by=None)
        recorded = root.public_key
    return root.private_key if root.public_key == recorded else None


def active_key(s: Session, staff_id: int) -> SigningKeyRow | None:
    return s.scalars(select(SigningKeyRow).where(SigningKeyRow.staff_id == staff_id,
                                                 SigningKeyRow.valid_until.is_(None))
                     .order_by(SigningKeyRow.id.desc()).limit(1)).one_or_none()


def issue(s: Session, staff: StaffRow, password: str, now: datetime, registrar: Ed25519PrivateKey,
          purpose: str) -> SigningKeyRow:
    """A new key pair for ``staff``, wrapped under ``password`` and registered by ``registrar``."""
    retire(s, staff.id, now)
    key = signing.new_private_key()
    statement = signing.registration(staff_id=staff.id, login=staff.login, public_key=signing.public_hex(key),
                                     valid_from=timestamp(now), registrar=signing.public_hex(registrar),
                                     purpose=purpose)
    row = SigningKeyRow(staff_id=staff.id, public_key=signing.public_hex(key),
                        wrapped_private=signing.wrap(key, password), valid_from=now, valid_until=None,
                        registration=json.dumps(signing.signed(registrar, statement), sort_keys=True))
    s.add(row)
    s.flush()
    return row


def retire(s: Session, staff_id: int, now: datetime) -> None:
    """The person's keys sign nothing more; what they signed before stays verifiable."""
    for row in s.scalars(select(SigningKeyRow).where(SigningKeyRow.staff_id == staff_id,
                                                     SigningKeyRow.valid_until.is_(None))):
        row.valid_until = now


def rewrap(s: Session, staff_id: int, old_password: str, new_password: str) -> None:
    """A person changed their own password: the same key, wrapped under the new one."""
    row = active_key(s, staff_id)
    if row is None:
        return
    try:
        key = signing.unwrap(row.wrapped_private, old_password)
    except AuthenticationFailed:
        return  # cannot happen after the password was checked; the key then waits for a reset
    row.wrapped_private = signing.wrap(key, new_password)


def registrar(s: Session, admin_id: int | None, admin_password: str | None, now: datetime) -> Ed25519PrivateKey:
    """Who vouches for a new key: the administrator's own key (with their password), else the clinic root."""
    if admin_id is not None and admin_password is not None:
        row = active_key(s, admin_id)
        if row is not None:
            return signing.unwrap(row.wrapped_private, admin_password)
    root = root_signer(s, now, create=False)
    if root is None:
        raise DomainError("registering a signing key needs the administrator's password, or this clinic's root "
                          "key in this workstation's clinic configuration")
    return root


def signing_key(s: Session, staff: StaffRow, password: str, now: datetime) -> tuple[Ed25519PrivateKey, SigningKeyRow]:
    """The person's private key, opened with the password they just typed (it was checked already).

    Someone without a key yet (an account older than signing keys) gets one now, registered by the root key.
    """
    row = active_key(s, staff.id)
    if row is None:
        root = root_signer(s, now, create=False)
        if root is None:
            raise DomainError(f"{staff.login} has no signing key and this workstation cannot register one "
                              "(the clinic root key is not in its clinic configuration)")
        row = issue(s, staff, password, now, root, "first signature")
    return signing.unwrap(row.wrapped_private, password), row


def session_signature(s: Session, *, staff_id: int, password: str, now: datetime, session: SessionRow,
                      purpose: str, fields: dict[str, object]) -> dict[str, object]:
    """A signed statement over the session's chain head and clinical header, by ``staff_id``'s own key.

    The statement names what is signed: the purpose, the session, the chain head and its sequence number,
    the header's hash, the clinic-wide chain's head, and the signer as they are recorded now.
    """
    staff = s.get(StaffRow, staff_id)
    if staff is None or not staff.active:
        raise AuthenticationFailed("only an active account can sign")
    private, key_row = signing_key(s, staff, password, now)
    heads = repo.chain_heads(s)
    statement: dict[str, object] = {
        **fields,
        "purpose": purpose,
        "session": session.id,
        "signed_seq": session.entry_count,
        "signed_hash": session.chain_head,
        "header_hash": header_hash(session.header_json) if session.header_json else None,
        "started_at": timestamp(session.started_at) if session.started_at else None,
        "clinic_seq": heads.clinic_count,
        "clinic_head": heads.clinic_head,
        "signer": staff.id,
        "signer_login": staff.login,
        "signer_name": staff.name,
        "signed_at": timestamp(now),
    }
    assert key_row.public_key == signing.public_hex(private)
    return signing.signed(private, statement)
