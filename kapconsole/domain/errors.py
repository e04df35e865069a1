"""Domain errors. Every message is meant to be shown to a user as one clear line."""

from __future__ import annotations

from datetime import datetime


class DomainError(Exception):
    """Base class of every rule violation the application reports to a user."""


class ValidationError(DomainError):
    """Input that a rule refuses; names the field, the value and what is allowed.

    ``field`` is the name a person reads ("Diastolic BP"); ``key`` the name of the input it refers to
    (``dbp``), so a form can mark the field without reading the message back.
    """

    def __init__(self, field: str, value: object, allowed: str, *, key: str | None = None) -> None:
        self.field = field
        self.key = key if key is not None else field
        self.value = value
        self.allowed = allowed
        shown = "(empty)" if value is None or value == "" else repr(value) if isinstance(value, str) else value
        super().__init__(f"{field}: {shown} is not accepted; {allowed}")


class ValidationErrors(ValidationError):
    """Several fields refused at once (a vitals row with two wrong measures): every one is named."""

    def __init__(self, errors: list[ValidationError]) -> None:
        first = errors[0]
        super().__init__(first.field, first.value, first.allowed, key=first.key)
        self.errors = tuple(errors)
        self.args = ("; ".join(str(e) for e in errors),)


class PermissionDenied(DomainError):
    """The signed-in person's roles do not allow the action."""


class IllegalTransition(DomainError):
    """The session's state does not allow the action."""


class AuthenticationFailed(DomainError):
    """Wrong login or password, a deactivated account, or too many recent failures."""


class NotFound(DomainError):
    """A session, client, staff member or entry that does not exist."""


class StaleRecord(DomainError):
    """The record changed after it was shown; the user must review it again."""


class ClockBehind(DomainError):
    """The workstation's clock is behind the session's latest entry: nothing is stamped before it."""

    def __init__(self, *, clock: datetime, latest: datetime) -> None:
        self.clock = clock
        self.latest = latest
        super().__init__(
            f"this workstation's clock ({clock.astimezone():%H:%M:%S}) is behind the session's latest entry "
            f"({latest.astimezone():%H:%M:%S}); nothing was saved. Check the workstation's date and time")


class DatabaseUnavailable(DomainError):
    """The database cannot be reached or written (connection lost, disk full, read-only file)."""


class IntegrityFailure(DomainError):
    """The record failed verification: it is not printed or exported as if it were sound."""
