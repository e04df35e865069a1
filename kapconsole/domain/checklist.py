"""Checklist items the record itself answers, and what the record shows for them.

"Baseline vitals within range" and "Intention recorded" are facts of the record, not a person's say-so: the
screen shows them satisfied once the reading or the intention exists, and they cannot be ticked before.
"""

from __future__ import annotations

from dataclasses import dataclass

from kapconsole.domain import alerts as alert_rules
from kapconsole.domain.record import SessionRecord

#: Checklist item keys whose state comes from the record.
RECORD_ITEMS = frozenset({"baseline_vitals", "intention"})


@dataclass(frozen=True)
class Evidence:
    """What the record says about a record-derived checklist item."""

    satisfied: bool
    #: One line for the screen: what satisfies the item, or what is still missing.
    text: str


def evidence(record: SessionRecord, item_key: str) -> Evidence | None:
    """The record's answer for ``item_key``; None for an item a person confirms."""
    if item_key == "intention":
        text = record.intention
        if not text:
            return Evidence(False, "No intention recorded yet")
        return Evidence(True, f"Recorded: {text}")
    if item_key == "baseline_vitals":
        baseline = record.baseline_vitals
        holds = alert_rules.predose_holds(baseline, record.protocol)
        if baseline is None:
            return Evidence(False, "No baseline reading yet")
        if holds:
            return Evidence(False, "; ".join(holds))
        latest = record.vitals[-1].at.astimezone().strftime("%H:%M") if record.vitals else ""
        return Evidence(True, f"Within the pre-dose range (reading {latest})")
    return None


def may_withdraw(record: SessionRecord, item_key: str) -> str | None:
    """Why a checklist confirmation cannot be withdrawn now; None when it can."""
    if record.administrations:
        return "the dose has been given: correct the confirmation as an amendment instead"
    if item_key not in record.checklist_confirmed:
        return "this item is not confirmed"
    return None
