"""Clinical safety gates as pure functions: what blocks a dose, each as a structured blocker.

A :class:`Blocker` names what is wrong (a stable key), the measured values behind it and the ways forward
(answer the item, take a new reading, acknowledge an alert, confirm, a supervisor's override, or correct the
entry). Services refuse with :class:`GateBlocked`, which carries the blockers themselves; screens show them
as they are, never by parsing a message.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from kapconsole.domain.errors import IllegalTransition
from kapconsole.domain.protocol import MEASURES, Limits, ProtocolSettings

#: Checklist answers that let an item pass ("not applicable" only where the protocol allows it).
SAFE_ANSWERS = frozenset({"confirmed", "yes"})
NOT_APPLICABLE = "not_applicable"


class WayForward(StrEnum):
    ANSWER = "answer"  # confirm the checklist item with its safe answer
    RECHECK = "recheck"  # take a new reading
    ACKNOWLEDGE = "acknowledge"  # a person acknowledges the alert (with an optional note)
    CONFIRM = "confirm"  # the person giving the dose confirms it, by name (e.g. the dose above the plan)
    OVERRIDE = "override"  # a medical supervisor overrides, re-authenticated, with a reason (recorded)
    CORRECT = "correct"  # cannot go ahead as entered: correct the entry or the plan

    @property
    def label(self) -> str:
        return {
            "answer": "answer the item",
            "recheck": "take a new reading",
            "acknowledge": "acknowledge the alert",
            "confirm": "confirm it",
            "override": "a supervisor's override",
            "correct": "correct the entry",
        }[self.value]


class BlockerKind(StrEnum):
    """What sort of thing blocks: screens group and colour blockers by this, never by their wording."""

    CHECKLIST_MISSING = "checklist_missing"  # a required checklist item not answered
    CHECKLIST_ANSWER = "checklist_answer"  # a checklist item answered with other than its safe answer
    BASELINE_MISSING = "baseline_missing"  # no vitals before the dose, or a measure the pre-dose limits need
    PREDOSE_HOLD = "predose_hold"  # a value outside the pre-dose limits
    ALERT = "alert"  # an unacknowledged alert before a booster
    DOSE = "dose"  # the dose as entered (drug, route, limits, boosters)
    ALLERGY = "allergy"  # the drug against a recorded allergy
    REMS_MISSING = "rems_missing"  # a REMS question not answered before the first esketamine device
    REMS_ANSWER = "rems_answer"  # a REMS answer that makes the dose wait
    OTHER = "other"


@dataclass(frozen=True)
class Blocker:
    """One reason an action may not go ahead."""

    #: Stable key, e.g. ``checklist.ci_pregnancy``, ``predose.sbp``, ``dose.max_session``, ``alert.sbp.42``.
    key: str
    #: One line for a person: what is wrong, with the values.
    label: str
    #: The measured or entered values behind it, as (name, value) pairs.
    values: tuple[tuple[str, str], ...] = ()
    ways: tuple[WayForward, ...] = (WayForward.OVERRIDE,)
    kind: BlockerKind = BlockerKind.OTHER
    #: What it is about, as shown: the checklist item's label, or the measure's key ("" when neither).
    subject: str = ""
    #: The checklist item's key, for a checklist blocker ("" otherwise).
    item: str = ""

    @property
    def ident(self) -> str:
        """Key and values: an override covers exactly this (a new or worse value is a new blocker)."""
        return self.key + "|" + ";".join(f"{k}={v}" for k, v in self.values)

    @property
    def message(self) -> str:
        return self.label

    @property
    def overridable(self) -> bool:
        return WayForward.OVERRIDE in self.ways

    @property
    def confirmable(self) -> bool:
        return WayForward.CONFIRM in self.ways

    @property
    def way_forward(self) -> str:
        return " or ".join(w.label for w in self.ways)

    def describe(self) -> str:
        return f"{self.label} — {self.way_forward}"

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"key": self.key, "label": self.label, "values": [list(p) for p in self.values],
                               "ways": [w.value for w in self.ways]}
        if self.kind is not BlockerKind.OTHER:
            out.update(kind=self.kind.value, subject=self.subject, item=self.item)
        return out

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Blocker:
        return cls(str(data["key"]), str(data["label"]), tuple((str(k), str(v)) for k, v in data.get("values", ())),
                   tuple(WayForward(w) for w in data.get("ways", ("override",))),
                   BlockerKind(data.get("kind", BlockerKind.OTHER.value)), str(data.get("subject", "")),
                   str(data.get("item", "")))


class GateBlocked(IllegalTransition):
    """An action refused by safety gates; ``blockers`` says why and what would let it go ahead."""

    def __init__(self, what: str, blockers: Iterable[Blocker]) -> None:
        self.what = what
        self.blockers = tuple(blockers)
        super().__init__(f"{what} is blocked: " + "; ".join(b.describe() for b in self.blockers))


def fmt(value: float) -> str:
    return f"{value:g}"


# ----- checklist ----------------------------------------------------------------------------------------------


def checklist_blockers(protocol: ProtocolSettings, answers: Mapping[str, str]) -> list[Blocker]:
    """Required items without an answer, and any item whose answer is not the safe one.

    ``answers`` maps an item key to its current answer (amendments applied).
    """
    blockers = []
    for item in protocol.checklist:
        answer = answers.get(item.key)
        if answer is None:
            if item.required:
                blockers.append(Blocker(f"checklist.{item.key}", f"not confirmed: {item.label}", (),
                                        (WayForward.ANSWER, WayForward.OVERRIDE), BlockerKind.CHECKLIST_MISSING,
                                        item.label, item.key))
            continue
        if answer in SAFE_ANSWERS or (answer == NOT_APPLICABLE and item.allow_na):
            continue
        shown = "not applicable (the protocol does not allow it here)" if answer == NOT_APPLICABLE else answer
        blockers.append(Blocker(f"checklist.{item.key}", f"answered {shown}: {item.label}", (("answer", answer),),
                                (WayForward.ANSWER, WayForward.OVERRIDE), BlockerKind.CHECKLIST_ANSWER,
                                item.label, item.key))
    return blockers


# ----- vitals before a dose -----------------------------------------------------------------------------------


def _beyond(value: float, lim: Limits) -> str | None:
    if lim.high is not None and value > lim.high:
        return f"> {fmt(lim.high)}"
    if lim.low is not None and value < lim.low:
        return f"< {fmt(lim.low)}"
    return None


def predose_blockers(latest: Mapping[str, tuple[float, datetime]] | None, protocol: ProtocolSettings, *,
                     booster: bool = False) -> list[Blocker]:
    """Pre-dose holds on each measure's latest value (the baseline before the first dose, the latest before a
    booster). A missing measure is a blocker too: the reference asks for BP and SpO2 before every dose."""
    when = "before the booster" if booster else "baseline"
    if not latest:
        return [Blocker("predose.none", "no vitals recorded before the booster" if booster
                        else "no baseline vitals recorded",
                        (), (WayForward.RECHECK, WayForward.OVERRIDE), BlockerKind.BASELINE_MISSING)]
    blockers = []
    for key, lim in protocol.predose.items():
        label, unit, _ = MEASURES[key]
        if key not in latest:
            blockers.append(Blocker(f"predose.{key}", f"{when} {label} missing", (),
                                    (WayForward.RECHECK, WayForward.OVERRIDE), BlockerKind.BASELINE_MISSING, key))
            continue
        value, _at = latest[key]
        beyond = _beyond(value, lim)
        if beyond:
            blockers.append(Blocker(f"predose.{key}", f"pre-dose hold: {label} {fmt(value)} {unit} {beyond}",
                                    ((key, fmt(value)),), (WayForward.RECHECK, WayForward.OVERRIDE),
                                    BlockerKind.PREDOSE_HOLD, key))
    return blockers


def covered(blockers: Iterable[Blocker], overrides: Iterable[Mapping[str, Any]]) -> tuple[list[Blocker],
                                                                                         list[Blocker]]:
    """Split ``blockers`` into (still blocking, covered by one of ``overrides``).

    An override covers only the blockers it names, with the values it saw; an override recorded before
    the structured format (no ``covers``) covers nothing new.
    """
    idents: set[str] = set()
    for payload in overrides:
        for item in payload.get("covers", ()):
            idents.add(Blocker.from_dict(item).ident)
    open_: list[Blocker] = []
    done: list[Blocker] = []
    for b in blockers:
        (done if b.overridable and b.ident in idents else open_).append(b)
    return open_, done
