"""Staff accounts: argon2id passwords, sign-in with throttling, re-authentication, roles, deactivation."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlalchemy import select
from sqlalchemy.orm import Session

from kapconsole.data import repositories as repo
from kapconsole.data.models import StaffRoleRow, StaffRow
from kapconsole.domain import validation as v
from kapconsole.domain.enums import Role
from kapconsole.domain.errors import AuthenticationFailed, DomainError, NotFound, ValidationError
from kapconsole.domain.rules import Action, require
from kapconsole.domain.values import Actor, StaffMember
from kapconsole.services.base import ServiceBase
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
                 password: str) -> StaffMember:
        """Create an account. Without an ``actor`` only the first administrator may be created."""
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
                require(actor.roles, Action.ADMINISTER_USERS, actor.name)
            if repo.get_staff_row(s, login) is not None:
                raise ValidationError("login", login, "this login is taken")
            row = StaffRow(login=login, name=name, password_hash=digest, active=True, failed_attempts=0,
                           created_at=self.now())
            repo.set_roles(row, role_set)
            s.add(row)
            s.flush()
            repo.add_audit(s, at=self.now(), action="user_added", actor=actor,
                           actor_name="first start" if actor is None else "", detail=f"{login} ({', '.join(sorted(role_set))})")
            return repo.staff_value(row)

    def set_password(self, actor: Actor, login: str, password: str, *, current_password: str | None = None) -> None:
        """An administrator sets anyone's password; a person changes their own with the current one."""
        with self.db.read() as s:
            target = self._row(s, login)
            digest = _HASHER.hash(_check_password(password, login=target.login, name=target.name))
        with self.db.write() as s:
            row = self._row(s, login)
            if row.id == actor.staff_id and Role.ADMINISTRATOR not in actor.roles:
                if current_password is None or not _verify(row, current_password):
                    raise AuthenticationFailed("the current password is wrong")
            elif row.id != actor.staff_id:
                require(actor.roles, Action.ADMINISTER_USERS, actor.name)
            row.password_hash = digest
            row.failed_attempts = 0
            repo.add_audit(s, at=self.now(), action="password_set", actor=actor, detail=row.login)

    def set_roles(self, actor: Actor, login: str, roles: Iterable[Role | str]) -> StaffMember:
        require(actor.roles, Action.ADMINISTER_USERS, actor.name)
        role_set = frozenset(v.choice("role", r, Role) for r in roles)
        if not role_set:
            raise ValidationError("roles", None, "at least one role")
        with self.db.write() as s:
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
        require(actor.roles, Action.ADMINISTER_USERS, actor.name)
        with self.db.write() as s:
            row = self._row(s, login)
            if not row.active:
                raise DomainError(f"{row.login} is already deactivated")
            row.active = False
            s.flush()
            if not self._has_admin(s):
                raise DomainError("the clinic would be left without an active administrator")
            repo.add_audit(s, at=self.now(), action="user_deactivated", actor=actor, detail=row.login)

    def list_staff(self, *, include_inactive: bool = False) -> list[StaffMember]:
        with self.db.read() as s:
            stmt = select(StaffRow).order_by(StaffRow.name)
            if not include_inactive:
                stmt = stmt.where(StaffRow.active.is_(True))
            return [repo.staff_value(r) for r in s.scalars(stmt)]

    def authenticate(self, login: str, password: str, workstation: str) -> Actor:
        """Sign in. Wrong passwords are counted, audited and slow further tries."""
        login = (login or "").strip().lower()
        now = self.now()
        with self.db.write() as s:
            row = repo.get_staff_row(s, login)
            if row is None or not row.active:
                repo.add_audit(s, at=now, action="sign_in_failed", actor_name=login[:64], workstation=workstation,
                               detail="unknown or deactivated login")
                failure: DomainError | None = AuthenticationFailed("wrong login or password")
            else:
                failure = self._try(s, row, password, workstation, "sign_in")
                if failure is None:
                    return self._actor(row, workstation)
        assert failure is not None
        raise failure

    def reauthenticate(self, actor: Actor, password: str, purpose: str, *, session_id: int | None = None) -> None:
        """Ask a signed-in person for their password again (signatures, overrides)."""
        with self.db.write() as s:
            row = s.get(StaffRow, actor.staff_id)
            if row is None or not row.active:
                raise AuthenticationFailed(f"{actor.login} is no longer an active account")
            failure = self._try(s, row, password, actor.workstation, purpose, session_id=session_id)
        if isinstance(failure, AuthenticationFailed):
            raise failure

    def _try(self, s: Session, row: StaffRow, password: str, workstation: str, purpose: str, *,
             session_id: int | None = None) -> DomainError | None:
        now = self.now()
        wait = throttle_delay(row.failed_attempts)
        if row.last_failed_at is not None and now < row.last_failed_at + wait:
            left = int((row.last_failed_at + wait - now).total_seconds()) + 1
            repo.add_audit(s, at=now, action=f"{purpose}_throttled", actor_id=row.id, actor_name=row.name,
                           workstation=workstation, session_id=session_id, detail=f"{row.failed_attempts} failures")
            return AuthenticationFailed(f"too many wrong passwords for {row.login}; try again in {left} s")
        if not _verify(row, password):
            row.failed_attempts += 1
            row.last_failed_at = now
            repo.add_audit(s, at=now, action=f"{purpose}_failed", actor_id=row.id, actor_name=row.name,
                           workstation=workstation, session_id=session_id,
                           detail=f"wrong password ({row.failed_attempts} in a row)")
            return AuthenticationFailed("wrong login or password" if purpose == "sign_in" else "wrong password")
        if _HASHER.check_needs_rehash(row.password_hash):
            row.password_hash = _HASHER.hash(password)
        row.failed_attempts = 0
        row.last_failed_at = None
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
        row = repo.get_staff_row(s, (login or "").strip().lower())
        if row is None or (active and not row.active):
            raise NotFound(f"there is no {'active ' if active else ''}user {login!r}")
        return row


def _verify(row: StaffRow, password: str) -> bool:
    try:
        return bool(_HASHER.verify(row.password_hash, password or ""))
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False
