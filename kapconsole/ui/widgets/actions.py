"""Every keyboard action of the console in one registry: its keys, its name and what it does.

Shortcuts, menu actions and the tooltips that name a key are made from here (:func:`tip`, :func:`shortcut`,
:func:`make_action`), so a key is written once and a tooltip cannot name a key the action no longer has.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum

from PySide6.QtCore import QObject, Qt
from PySide6.QtGui import QAction, QKeySequence, QShortcut
from PySide6.QtWidgets import QWidget


class Act(StrEnum):
    # the console
    TODAY = "today"
    SWITCH_USER = "switch_user"
    LOCK = "lock"
    IDLE_LOCK = "idle_lock"
    QUIT = "quit"
    NIGHT = "night"
    BOARD = "board"
    AUDIT = "audit"
    CLIENTS = "clients"
    FRONTDESK = "frontdesk"
    CLINIC_SETUP = "clinic_setup"
    REMS_FORMS = "rems_forms"
    # the live session
    OBSERVATION = "observation"
    INTEGRATION = "integration"
    VITALS = "vitals"
    SIDE_EFFECT = "side_effect"
    RESOLVE = "resolve"
    MEDICATION = "medication"
    SCALES = "scales"
    ACKNOWLEDGE = "acknowledge"
    DOSE = "dose"
    DISCHARGE = "discharge"
    END_EARLY = "end_early"
    TIMELINE = "timeline"
    BACK = "back"
    AMEND = "amend"
    # the checklist
    SAVE_INTENTION = "save_intention"
    OVERRIDE = "override"
    REMS = "rems"
    # dialogs
    CONFIRM = "confirm"


@dataclass(frozen=True)
class ActionSpec:
    keys: str
    text: str  # the menu or button text (``&`` marks the mnemonic)
    tip: str  # what it does, one line; the tooltip adds the keys


ACTIONS: dict[Act, ActionSpec] = {
    Act.TODAY: ActionSpec("Ctrl+Shift+T", "&Today", "The sessions of today in this room"),
    Act.SWITCH_USER: ActionSpec("Ctrl+U", "&Switch user…", "Sign in as someone else; the session stays open"),
    Act.LOCK: ActionSpec("Ctrl+L", "&Lock console", "Cover the screen until someone signs in"),
    Act.IDLE_LOCK: ActionSpec("Ctrl+Shift+L", "Lock after &idle time…", "How long the console waits before it locks"),
    Act.QUIT: ActionSpec("Ctrl+Q", "&Quit", "Close the console"),
    Act.NIGHT: ActionSpec("Ctrl+Shift+N", "&Night mode", "Night mode"),
    Act.BOARD: ActionSpec("Ctrl+B", "Supervisor &board", "Every active room, across workstations"),
    Act.AUDIT: ActionSpec("Ctrl+Alt+A", "&Audit trail", "Who did what, when"),
    Act.CLIENTS: ActionSpec("Ctrl+Shift+C", "&Clients and summaries", "A client's course and the summaries"),
    Act.FRONTDESK: ActionSpec("Ctrl+Shift+F", "&Front desk", "Clients, courses and the rooms' bookings"),
    Act.CLINIC_SETUP: ActionSpec("Ctrl+Alt+S", "&Staff and rooms…", "The clinic's staff and rooms"),
    Act.REMS_FORMS: ActionSpec("Ctrl+Alt+F", "&REMS forms due…",
                               "Esketamine REMS monitoring forms due and overdue; mark one submitted"),
    Act.OBSERVATION: ActionSpec("Ctrl+O", "Observation", "Observation — Enter saves"),
    Act.INTEGRATION: ActionSpec("Ctrl+I", "For integration",
                                "Mark a client statement or insight for the integration session"),
    Act.VITALS: ActionSpec("Ctrl+Shift+V", "Vitals",
                           "The vitals row, filled from the bedside monitor when it offers a reading"),
    Act.SIDE_EFFECT: ActionSpec("Ctrl+E", "Side effect", "Record a side effect with severity and intervention"),
    Act.RESOLVE: ActionSpec("Ctrl+Shift+R", "Resolved", "Mark the selected side effect resolved"),
    Act.MEDICATION: ActionSpec("Ctrl+Shift+M", "Medication…",
                               "Record a rescue or adjunct medication, linked to the selected side effect"),
    Act.SCALES: ActionSpec("Ctrl+M", "Scales", "Go to the scales; Enter records"),
    Act.ACKNOWLEDGE: ActionSpec("Ctrl+K", "Acknowledge",
                                "Record that you have seen these alerts, with your name and the time"),
    Act.DOSE: ActionSpec("Ctrl+D", "Dose…", "Record a dose"),
    Act.DISCHARGE: ActionSpec("Ctrl+Shift+D", "Discharge…", "Assess the client for discharge"),
    Act.END_EARLY: ActionSpec("Ctrl+Shift+E", "End early…", "End the session early with a reason"),
    Act.TIMELINE: ActionSpec("Ctrl+T", "Timeline", "Go to the timeline"),
    Act.BACK: ActionSpec("Esc", "Back to board", "Close this record and return to the supervisor board"),
    Act.AMEND: ActionSpec("Ctrl+Shift+A", "Amend entry…", "Correct the selected entry; a reason is required"),
    Act.SAVE_INTENTION: ActionSpec("Ctrl+Shift+I", "Save intention", "Save the intention in the record"),
    Act.OVERRIDE: ActionSpec("Ctrl+Shift+O", "Supervisor override…",
                             "A supervisor lets dosing go ahead despite the checklist"),
    Act.REMS: ActionSpec("Ctrl+Alt+R", "REMS answers…",
                         "The esketamine REMS questions before the first device and before signing"),
    Act.CONFIRM: ActionSpec("Ctrl+Return", "Confirm", "Confirm"),
}


def keys(act: Act) -> str:
    return ACTIONS[act].keys


def key_text(act: Act) -> str:
    """The keys as the platform writes them (``Ctrl+Shift+A``)."""
    return QKeySequence(ACTIONS[act].keys).toString(QKeySequence.SequenceFormat.NativeText)


def tip(act: Act, text: str | None = None) -> str:
    """A tooltip: what the action does (``text``, or the registry's line) and its keys."""
    return f"{text if text is not None else ACTIONS[act].tip} ({key_text(act)})"


def shortcut(parent: QWidget, act: Act, slot: Callable[[], object], *,
             context: Qt.ShortcutContext = Qt.ShortcutContext.WidgetWithChildrenShortcut) -> QShortcut:
    """The action's keys as a shortcut of ``parent`` (and its children, by default)."""
    sc = QShortcut(QKeySequence(ACTIONS[act].keys), parent)
    sc.setContext(context)
    sc.activated.connect(slot)
    return sc


def make_action(parent: QObject, act: Act, slot: Callable[..., object], *, name: str, checkable: bool = False,
                text: str | None = None) -> QAction:
    """A menu and toolbar action with its keys and a tooltip that names them."""
    spec = ACTIONS[act]
    action = QAction(text or spec.text, parent)
    action.setObjectName(name)
    action.setShortcut(QKeySequence(spec.keys))
    action.setToolTip(tip(act, (text or spec.text).replace("&", "")))
    action.setCheckable(checkable)
    (action.toggled if checkable else action.triggered).connect(slot)
    return action
