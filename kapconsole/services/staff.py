"""Staff accounts: argon2id passwords, sign-in with throttling, re-authentication, roles, deactivation."""

from __future__ import annotations

import contextlib
import secrets
from collections.abc import Iterable
from datetime import datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlalchemy import select
from sqlalchemy.orm import Session

from kapconsole.data import repositories as repo
from kapconsole.data.models import SessionRow, StaffRoleRow, StaffRow
from kapconsole.domain import signing
from kapconsole.domain import validation as v
from kapconsole.domain.enums import Role
from kapconsole.domain.errors import AuthenticationFailed, DomainError, NotFound, ValidationError
from kapconsole.domain.rules import Action, require
from kapconsole.domain.values import Actor, StaffMember
from kapconsole.services import keys
from kapconsole.services.base import ServiceBase, authorize
from kapconsole.services.passwords import password_weakness

# argon2id with OWASP's recommended minimum (19 MiB, 2 passes, 1 lane): strong, yet quick enough at a bedside.
_HASHER = PasswordHasher(time_cost=2, memory_cost=19456, parallelism=1)
MIN_PASSWORD = 8
FREE_TRIES = 3
MAX_DELAY_SECONDS = 300


def throttle_delay(failed_attempts: int) -> timedelta:
    """How long a further try must wait after ``failed_attempts`` consecutive failures."""
    if failed_attempts < FREE_TRIES:
        return timedelta(0)
    return timedelta(seconds=min(MAX_DELAY_SECONDS, 2 ** (failed_attempts - FREE_TRIES + 1)))


def _check_password(password: str, *, login: str = "", name: str = "") -> str:
    if isinstance(password, str) and ("\x00" in password or not _encodable(password)):
        raise ValidationError("password", "(hidden)", "valid Unicode text without NUL characters")
    if not isinstance(password, str) or len(password) < MIN_PASSWORD:
        raise ValidationError("password", "(hidden)", f"at least {MIN_PASSWORD} characters")
    if len(password) > 256:
        raise ValidationError("password", "(hidden)", "at most 256 characters")
    weakness = password_weakness(password, login=login, name=name)
    if weakness:
        raise ValidationError("password", "(hidden)", weakness)
    return password


def _check_login(login: str) -> str:
    login = v.text("login", login, limit=64, required=True).lower()
    if not all(c.isalnum() or c in "._-" for c in login):
        raise ValidationError("login", login, "letters, digits, '.', '_' and '-' only")
    return login


class StaffService(ServiceBase):
    def has_administrator(self) -> bool:
        with self.db.read() as s:
            return self._has_admin(s)

    @staticmethod
    def _has_admin(s: Session) -> bool:
        stmt = (select(StaffRow.id).join(StaffRoleRow)
                .where(StaffRow.active.is_(True), StaffRoleRow.role == Role.ADMINISTRATOR.value).limit(1))
        return s.scalar(stmt) is not None

    def add_user(self, actor: Actor | None, *, login: str, name: str, roles: Iterable[Role | str],
                 password: str, actor_password: str | None = None) -> StaffMember:
        """Create an account with its signing key. Without an ``actor`` only the first administrator may be
        created (the clinic root key is made then). The new key is registered by the administrator's own key
        when ``actor_password`` is given, else by the clinic root key of this workstation."""
        role_set = frozenset(v.choice("role", r, Role) for r in roles)
        if not role_set:
            raise ValidationError("roles", None, "at least one role: " + ", ".join(r.value for r in Role))
        login = _check_login(login)
        name = v.text("name", name, required=True)
        digest = _HASHER.hash(_check_password(password, login=login, name=name))
        with self.db.write() as s:
            if actor is None:
                if self._has_admin(s):
                    raise AuthenticationFailed("an administrator exists: sign in as one to add users")
                if Role.ADMINISTRATOR not in role_set:
                    raise ValidationError("roles", ",".join(sorted(role_set)), "the first user must be an administrator")
            else:
                actor = authorize(s, actor, Action.ADMINISTER_USERS)
            if repo.get_staff_row(s, login) is not None:
                raise ValidationError("login", login, "this login is taken")
            row = StaffRow(login=login, name=name, password_hash=digest, active=True, failed_attempts=0,
                           created_at=self.now())
            repo.set_roles(row, role_set)
            s.add(row)
            s.flush()
            if actor is None:
                root = keys.root_signer(s, self.now(), create=True)
                if root is None:
                    raise DomainError("this database was set up with another clinic root key than this "
                                      "workstation's clinic configuration")
                keys.issue(s, row, password, self.now(), root, "first administrator")
            else:
                registrar = keys.registrar(s, actor.staff_id, _text_or_none(actor_password), self.now())
                keys.issue(s, row, password, self.now(), registrar, "account created")
            repo.add_audit(s, at=self.now(), action="user_added", actor=actor,
                           actor_name="first start" if actor is None else "", detail=f"{login} ({', '.join(sorted(role_set))})")
            return repo.staff_value(row)

    def set_password(self, actor: Actor, login: str, password: str, *, current_password: str | None = None,
                     actor_password: str | None = None) -> None:
        """An administrator sets anyone's password; a person changes their own with the current one.

        A person's own change re-wraps their signing key under the new password. A reset by an administrator
        issues a new key pair (the old private key cannot be opened without the old password): what the old
        key signed stays verifiable against it.
        """
        with self.db.read() as s:
            target = self._row(s, login)
            digest = _HASHER.hash(_check_password(password, login=target.login, name=target.name))
        with self.db.write() as s:
            actor = authorize(s, actor, None)
            row = self._row(s, login)
            if row.id == actor.staff_id and Role.ADMINISTRATOR not in actor.roles:
                if current_password is None or not _verify(row, current_password):
                    raise AuthenticationFailed("the current password is wrong")
            elif row.id != actor.staff_id:
                require(actor.roles, Action.ADMINISTER_USERS, actor.name)  # roles just read by authorize()
            if current_password is not None and _verify(row, current_password) and row.id == actor.staff_id:
                keys.rewrap(s, row.id, current_password, password)
            else:
                registrar = keys.registrar(s, actor.staff_id, _text_or_none(actor_password), self.now())
                keys.issue(s, row, password, self.now(), registrar, "password reset")
            row.password_hash = digest
            row.failed_attempts = 0
            repo.add_audit(s, at=self.now(), action="password_set", actor=actor, detail=row.login)

    def set_roles(self, actor: Actor, login: str, roles: Iterable[Role | str]) -> StaffMember:
        role_set = frozenset(v.choice("role", r, Role) for r in roles)
        if not role_set:
            raise ValidationError("roles", None, "at least one role")
        with self.db.write() as s:
            actor = authorize(s, actor, Action.ADMINISTER_USERS)
            row = self._row(s, login)
            repo.set_roles(row, role_set)
            s.flush()
            if not self._has_admin(s):
                raise DomainError("the clinic would be left without an active administrator")
            repo.add_audit(s, at=self.now(), action="roles_set", actor=actor,
                           detail=f"{row.login}: {', '.join(sorted(role_set))}")
            return repo.staff_value(row)

    def deactivate(self, actor: Actor, login: str) -> None:
        """Accounts are never deleted: their entries keep pointing at them."""
        with self.db.write() as s:
            actor = authorize(s, actor, Action.ADMINISTER_USERS)
            row = self._row(s, login)
            if not row.active:
                raise DomainError(f"{row.login} is already deactivated")
            row.active = False
            keys.retire(s, row.id, self.now())
            s.flush()
            if not self._has_admin(s):
                raise DomainError("the clinic would be left without an active administrator")
            repo.add_audit(s, at=self.now(), action="user_deactivated", actor=actor, detail=row.login)

    def root_fingerprint(self) -> str:
        """The fingerprint of the clinic root key this database was set up with ("" when none yet)."""
        with self.db.read() as s:
            root = keys.database_root(s)
        return signing.fingerprint(root) if root else ""

    def list_staff(self, *, include_inactive: bool = False) -> list[StaffMember]:
        with self.db.read() as s:
            stmt = select(StaffRow).order_by(StaffRow.name)
            if not include_inactive:
                stmt = stmt.where(StaffRow.active.is_(True))
            return [repo.staff_value(r) for r in s.scalars(stmt)]

    def authenticate(self, login: str, password: str, workstation: str) -> Actor:
        """Sign in. Wrong passwords are counted per login and workstation, audited and slow further tries.

        An unknown or deactivated login gets the same answer, after the same work (a password check against a
        dummy hash), as a wrong password. What was typed as a login is audited only when it is an account's
        login: a password typed into the login field never reaches the audit trail.
        """
        workstation = v.text("workstation", workstation, limit=128)
        typed = login.strip().lower() if isinstance(login, str) else ""
        known = _looks_like_login(typed)
        password = password if isinstance(password, str) else ""
        now = self.now()
        with self.db.write() as s:
            row = repo.get_staff_row(s, typed) if known else None
            if row is None or not row.active:
                _dummy_verify(password)
                key = typed if known else "?"
                failure: DomainError | None = self._count_unknown(s, key, workstation, now)
                repo.add_audit(s, at=now, action="sign_in_failed", actor_id=row.id if row else None,
                               actor_name=row.login if row else "", workstation=workstation,
                               detail="deactivated login" if row else "unknown login")
            else:
                failure = self._try(s, row, password, workstation, "sign_in")
                if failure is None:
                    return self._actor(row, workstation)
        assert failure is not None
        raise failure

    def reauthenticate(self, actor: Actor, password: str, purpose: str, *, session_id: int | None = None,
                       action: Action | None = None) -> None:
        """Ask a signed-in person for their password again (signatures, overrides).

        With ``action``, the person's current roles (from the database) must allow it before the password is
        even checked.
        """
        if not isinstance(purpose, str) or not 0 < len(purpose) <= 40 or not purpose.isascii() \
                or not purpose.replace("_", "").isalpha():
            raise ValidationError("purpose", "(not shown)", "a short name such as signature_reauth")
        with self.db.write() as s:
            actor = authorize(s, actor, action)
            if session_id is not None and repo.get_by_id(s, SessionRow, session_id) is None:
                raise NotFound(f"there is no session {session_id}")
            row = s.get(StaffRow, actor.staff_id)
            if row is None or not row.active:
                raise AuthenticationFailed(f"{actor.login} is no longer an active account")
            failure = self._try(s, row, password if isinstance(password, str) else "", actor.workstation, purpose,
                                session_id=session_id)
        if isinstance(failure, AuthenticationFailed):
            raise failure

    def _count_unknown(self, s: Session, login: str, workstation: str, now: datetime) -> AuthenticationFailed:
        counter = repo.sign_in_counter(s, login, workstation)
        left = _throttled_for(counter.failures, counter.last_failed_at, now)
        if left is None:
            counter.failures += 1
            counter.last_failed_at = now
            return AuthenticationFailed("wrong login or password")
        return AuthenticationFailed(_throttle_message(left))

    def _try(self, s: Session, row: StaffRow, password: str, workstation: str, purpose: str, *,
             session_id: int | None = None) -> DomainError | None:
        now = self.now()
        # Locked for the rest of the unit of work: parallel tries at one workstation are checked one at a time,
        # each seeing the count the one before it left. Other workstations have their own count.
        counter = repo.sign_in_counter(s, row.login, workstation)
        left = _throttled_for(counter.failures, counter.last_failed_at, now)
        if left is not None:
            repo.add_audit(s, at=now, action=f"{purpose}_throttled", actor_id=row.id, actor_name=row.name,
                           workstation=workstation, session_id=session_id, detail=f"{counter.failures} failures")
            return AuthenticationFailed(_throttle_message(left))
        if not _verify(row, password):
            counter.failures += 1
            counter.last_failed_at = now
            repo.add_audit(s, at=now, action=f"{purpose}_failed", actor_id=row.id, actor_name=row.name,
                           workstation=workstation, session_id=session_id,
                           detail=f"wrong password ({counter.failures} in a row at this workstation)")
            return AuthenticationFailed("wrong login or password" if purpose == "sign_in" else "wrong password")
        if _HASHER.check_needs_rehash(row.password_hash):
            row.password_hash = _HASHER.hash(password)
        counter.failures = 0
        counter.last_failed_at = None
        repo.add_audit(s, at=now, action=purpose, actor_id=row.id, actor_name=row.name, workstation=workstation,
                       session_id=session_id)
        return None

    @staticmethod
    def _actor(row: StaffRow, workstation: str) -> Actor:
        return Actor(row.id, row.login, row.name, frozenset(Role(r.role) for r in row.roles), workstation)

    def actor_for(self, login: str, workstation: str) -> Actor:
        """The actor of an active account, for trusted headless jobs (demo seeding)."""
        with self.db.read() as s:
            return self._actor(self._row(s, login, active=True), workstation)

    @staticmethod
    def _row(s: Session, login: str, *, active: bool = False) -> StaffRow:
        typed = login.strip().lower() if isinstance(login, str) else ""
        if not _looks_like_login(typed):
            raise NotFound("there is no such user (a login is letters, digits, '.', '_' and '-')")
        row = repo.get_staff_row(s, typed)
        if row is None or (active and not row.active):
            raise NotFound(f"there is no {'active ' if active else ''}user {login!r}")
        return row


#: A hash of a random password: unknown logins are checked against it so they answer as slowly as known ones.
_DUMMY_HASH = _HASHER.hash(secrets.token_urlsafe(16))


def _dummy_verify(password: str) -> None:
    with contextlib.suppress(VerificationError, InvalidHashError, VerifyMismatchError):
        _HASHER.verify(_DUMMY_HASH, password.encode("utf-8", "surrogatepass"))


def _looks_like_login(text: str) -> bool:
    return 0 < len(text) <= 64 and all(c.isascii() and (c.isalnum() or c in "._-") for c in text)


def _throttled_for(failures: int, last_failed_at: datetime | None, now: datetime) -> int | None:
    """Seconds still to wait before another try (None: a try is allowed now)."""
    wait = throttle_delay(failures)
    if last_failed_at is None or now >= last_failed_at + wait:
        return None
    return int((last_failed_at + wait - now).total_seconds()) + 1


def _throttle_message(seconds: int) -> str:
    return f"too many wrong passwords at this workstation; try again in {seconds} s"


def _text_or_none(value: object) -> str | None:
    return value if isinstance(value, str) else None


def _encodable(text: str) -> bool:
    try:
        text.encode("utf-8")
        return True
    except UnicodeEncodeError:
        return False


def _verify(row: StaffRow, password: str) -> bool:
    secret = password.encode("utf-8", "surrogatepass") if isinstance(password, str) else b""
    try:
        return bool(_HASHER.verify(row.password_hash, secret))
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False
