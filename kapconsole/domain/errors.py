"""Domain errors. Every message is meant to be shown to a user as one clear line."""

from __future__ import annotations


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


class DatabaseUnavailable(DomainError):
    """The database cannot be reached or written (connection lost, disk full, read-only file)."""


class IntegrityFailure(DomainError):
    """The record failed verification: it is not printed or exported as if it were sound."""
