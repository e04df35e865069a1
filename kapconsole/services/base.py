"""What every service shares: the database, the clock, and the audit trail."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from sqlalchemy.orm import Session

from kapconsole.data import repositories as repo
from kapconsole.data.db import Database
from kapconsole.domain import validation as v
from kapconsole.domain.errors import PermissionDenied
from kapconsole.domain.rules import Action, require
from kapconsole.domain.values import Actor

Clock = Callable[[], datetime]

#: Ids beyond this cannot be stored in an INTEGER column on PostgreSQL; nobody has one.
MAX_ID = 2**31 - 1


def valid_id(value: object) -> bool:
    """A row id the databases can look up (an int in the INTEGER range; bools are not ids)."""
    return isinstance(value, int) and not isinstance(value, bool) and 0 < value <= MAX_ID


def authorize(s: Session, actor: Actor, action: Action | None) -> Actor:
    """The caller as the database knows them now, inside the caller's unit of work.

    The roles and name an :class:`Actor` carries were true when the person signed in; they are not trusted.
    This re-reads the account: a deactivated account is refused, a demoted person loses the action at once,
    and an Actor built by hand with roles its account does not hold gains nothing. Returns the fresh actor
    (roles and name from the database, the caller's workstation) that the unit of work should record.
    """
    if not isinstance(actor, Actor) or not valid_id(actor.staff_id):
        raise PermissionDenied("this action needs a signed-in member of staff")
    standing = repo.staff_standing(s, actor.staff_id)
    if standing is None or standing[0] != actor.login:
        raise PermissionDenied("this account does not exist; sign in again")
    login, name, active, roles = standing
    if not active:
        raise PermissionDenied(f"{login} is no longer an active account")
    workstation = v.text("workstation", actor.workstation, limit=128)
    fresh = Actor(actor.staff_id, login, name, roles, workstation)
    if action is not None:
        require(roles, action, name)
    return fresh


def system_clock() -> datetime:
    return datetime.now(UTC)


class ManualClock:
    """A clock moved by hand: the demo clinic replays hours of past sessions; tests and benchmarks use it too."""

    def __init__(self, start: datetime | None = None) -> None:
        self.now = start or datetime.now(UTC) - timedelta(hours=8)

    def __call__(self) -> datetime:
        return self.now

    def at(self, moment: datetime) -> datetime:
        self.now = moment
        return moment

    def advance(self, **kwargs: float) -> datetime:
        self.now += timedelta(**kwargs)
        return self.now


class ServiceBase:
    def __init__(self, db: Database, clock: Clock = system_clock) -> None:
        self.db = db
        self._clock = clock

    def now(self) -> datetime:
        return self._clock()
