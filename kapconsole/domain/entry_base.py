"""The base of the typed entry values, and the registry from an entry kind to its class.

Each kind of entry is one frozen class (see :mod:`kapconsole.domain.entries`) that owns its payload encoding
(``to_payload`` / ``from_payload``), its validation (its ``build`` constructor) and its one-line ``describe``.
Adding a kind of entry is one class decorated with :func:`register`.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any, ClassVar, Protocol, TypeVar

from kapconsole.domain.enums import EntryKind

if TYPE_CHECKING:
    from kapconsole.domain.protocol import ProtocolSettings
    from kapconsole.domain.values import Entry


class EntryLookup(Protocol):
    """What a description may look up: other entries of the same record, by id (a record is one)."""

    @property
    def by_id(self) -> Mapping[int, Entry]: ...


def local_time(moment: datetime, seconds: bool = False) -> str:
    """Wall-clock time at the workstation, ``HH:MM`` (or ``HH:MM:SS``)."""
    return moment.astimezone().strftime("%H:%M:%S" if seconds else "%H:%M")


def num(value: Any) -> str:
    return f"{value:g}" if isinstance(value, int | float) and not isinstance(value, bool) else str(value)


def label_of(enum_type: Any, value: Any) -> str:
    """The label of an enumeration value, or the stored text itself for a value this version does not know."""
    try:
        return str(enum_type(value).label)
    except ValueError:
        return str(value)


class EntryContent:
    """The content of one entry. Subclasses are frozen dataclasses registered for one :class:`EntryKind`."""

    kind: ClassVar[EntryKind]
    #: Whether a person may correct this kind of entry with an amendment.
    amendable: ClassVar[bool] = False

    def to_payload(self) -> dict[str, Any]:
        """The payload stored (and hashed) for this entry; the stored JSON of every kind is kept as it was."""
        raise NotImplementedError

    @classmethod
    def from_payload(cls, payload: Mapping[str, Any]) -> EntryContent:
        """The value of a stored payload (lenient: stored entries are never refused on reading)."""
        raise NotImplementedError

    def describe(self, record: EntryLookup | None = None) -> str:
        """One line a person can read."""
        raise NotImplementedError

    def corrected(self, changes: Mapping[str, Any], protocol: ProtocolSettings, original: Entry) -> EntryContent:
        """The corrected content of an amendment, validated with the same rules as a new entry of this kind.

        ``changes`` has the shape of this kind's payload (any subset of its keys; for vitals the measures).
        """
        raise TypeError(f"{self.kind.label} entries cannot be amended")


C = TypeVar("C", bound=type[EntryContent])

REGISTRY: dict[EntryKind, type[EntryContent]] = {}


def register(cls: C) -> C:
    """Class decorator: make ``cls`` the content class of its ``kind``."""
    if cls.kind in REGISTRY:
        raise ValueError(f"{cls.kind} already has a content class: {REGISTRY[cls.kind].__name__}")
    REGISTRY[cls.kind] = cls
    return cls


def content_class(kind: EntryKind) -> type[EntryContent]:
    return REGISTRY[kind]


class UnknownContent(EntryContent):
    """A payload of a kind no class is registered for (kept readable, never refused)."""

    def __init__(self, kind: EntryKind, payload: Mapping[str, Any]) -> None:
        self._kind = kind
        self.payload = dict(payload)

    def to_payload(self) -> dict[str, Any]:
        return dict(self.payload)

    def describe(self, record: EntryLookup | None = None) -> str:
        return ", ".join(f"{k}: {v}" for k, v in self.payload.items())


def decode(kind: EntryKind, payload: Mapping[str, Any]) -> EntryContent:
    """The typed value of a stored payload."""
    if not REGISTRY:
        import kapconsole.domain.entries  # noqa: F401 - registers the content classes
    cls = REGISTRY.get(kind)
    if cls is None:
        return UnknownContent(kind, payload)
    try:
        return cls.from_payload(payload)
    except (KeyError, TypeError, ValueError):
        # An entry written by another version with a shape this one does not read: shown, never refused.
        return UnknownContent(kind, payload)


def describe_payload(kind: EntryKind, payload: Mapping[str, Any] | None, record: EntryLookup | None = None) -> str:
    """One line for a payload of ``kind``; ``None`` is an entry marked entered in error."""
    if payload is None:
        return "(entered in error)"
    return decode(kind, payload).describe(record)

