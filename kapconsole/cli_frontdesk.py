"""The front desk's commands: ``client``, ``course``, ``session`` and ``room``.

Commands that change something name the person making the change with ``--as LOGIN`` and ask for that
person's password (on a terminal, or one line of standard input), as ``user add`` does.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from dataclasses import replace
from datetime import date, datetime
from pathlib import Path
from typing import Any

from kapconsole.domain.enums import Route
from kapconsole.domain.errors import DomainError, ValidationError
from kapconsole.domain.frontdesk import (
    FIELD_LABELS,
    ClientDetails,
    CourseDetails,
    CoursePhase,
    CourseStatus,
    ImportOutcome,
    format_allergies,
    parse_allergies,
)
from kapconsole.domain.values import Client

#: client option → ClientDetails field (the same for add and edit).
CLIENT_OPTIONS: dict[str, str] = {
    "name": "name", "dob": "date_of_birth", "sex": "sex", "pronouns": "pronouns", "weight": "weight_kg",
    "weighed_on": "weight_on", "allergy_note": "allergies", "medications": "medications",
    "conditions": "screening_notes", "emergency_contact": "emergency_contact",
    "emergency_phone": "emergency_phone", "escort": "escort_name", "escort_phone": "escort_phone",
}


def add_parsers(sub: Any, db_help: str) -> None:
    """Add the front desk's subcommands to the ``kapconsole`` parser."""

    def common(p: argparse.ArgumentParser, *, write: bool) -> None:
        p.add_argument("--database", metavar="URL", help=db_help, default=argparse.SUPPRESS)
        if write:
            p.add_argument("--as", dest="as_login", metavar="LOGIN", required=True,
                           help="the staff member making the change (their password is asked for)")

    c = sub.add_parser("client", help="add, edit, find and import clients",
                       description="Clients: add, edit, list, show, and import from a CSV file. Search ignores "
                                   "case and accents ('nunez' finds 'Núñez').")
    c_sub = c.add_subparsers(dest="client_command", metavar="ACTION", required=True)
    ca = c_sub.add_parser("add", help="register a client", description="Register a client.")
    ca.add_argument("identifier", help="the clinic's identifier for the client (unique)")
    ce = c_sub.add_parser("edit", help="change a client's details",
                          description="Change a client's details: only the options given change. Every change is "
                                      "kept in the client's history with the previous value.")
    ce.add_argument("identifier", help="the client's current identifier")
    ce.add_argument("--identifier", dest="new_identifier", metavar="NEW", help="give the client a new identifier")
    ce.add_argument("--no-allergies", action="store_true", help="clear the list of allergies")
    for p in (ca, ce):
        p.add_argument("--name", required=p is ca, help="full name")
        p.add_argument("--dob", metavar="YYYY-MM-DD", help="date of birth")
        p.add_argument("--sex", help="sex (as the clinic records it)")
        p.add_argument("--pronouns", help="pronouns, e.g. she/her")
        p.add_argument("--weight", metavar="KG", help="weight in kg (with --weighed-on)")
        p.add_argument("--weighed-on", metavar="YYYY-MM-DD", help="the date the weight was measured")
        p.add_argument("--allergy", action="append", metavar="SUBSTANCE|REACTION|SEVERITY",
                       help="an allergy (repeatable; replaces the list on edit); severity: mild, moderate, "
                            "severe, anaphylaxis, unknown")
        p.add_argument("--allergy-note", help="free-text note beside the allergies")
        p.add_argument("--medications", help="current medications")
        p.add_argument("--conditions", help="conditions and screening notes")
        p.add_argument("--emergency-contact", help="emergency contact's name")
        p.add_argument("--emergency-phone", help="emergency contact's phone")
        p.add_argument("--escort", help="escort or driver home")
        p.add_argument("--escort-phone", help="escort's phone")
        common(p, write=True)
    cl = c_sub.add_parser("list", help="list or search clients",
                          description="List clients by name, one a line: identifier, name, date of birth.")
    cl.add_argument("search", nargs="?", default="", help="part of a name or identifier")
    cl.add_argument("--limit", type=int, default=200, help="at most this many lines (default 200)")
    common(cl, write=False)
    cs = c_sub.add_parser("show", help="show a client's details and courses",
                          description="Show a client's details and courses; with --history (and --as) the "
                                      "history of changes too.")
    cs.add_argument("identifier")
    cs.add_argument("--history", action="store_true", help="also list every change (needs --as)")
    cs.add_argument("--as", dest="as_login", metavar="LOGIN", help="needed with --history")
    common(cs, write=False)
    ci = c_sub.add_parser("import", help="add or update clients from a CSV file",
                          description="Add or update clients from a CSV file with a header row. Columns: "
                                      "identifier, name (required), date_of_birth, sex, pronouns, weight_kg, "
                                      "weight_on, allergies (substance|reaction|severity; …), allergy_note, "
                                      "medications, screening_notes, emergency_contact, emergency_phone, "
                                      "escort_name, escort_phone. A column present sets the field (an empty cell "
                                      "clears it); a column left out keeps it. Prints per row: added, changed "
                                      "(which fields), unchanged or error; rows with errors are skipped.")
    ci.add_argument("file", type=Path, metavar="FILE.csv")
    ci.add_argument("--dry-run", action="store_true", help="report what would change; save nothing")
    common(ci, write=True)

    co = sub.add_parser("course", help="courses of treatment", description="Courses of treatment.")
    co_sub = co.add_subparsers(dest="course_command", metavar="ACTION", required=True)
    coa = co_sub.add_parser("add", help="open a course for a client", description="Open a course for a client.")
    coa.add_argument("identifier", help="the client's identifier")
    coa.add_argument("--title", required=True)
    coa.add_argument("--sessions", type=int, required=True, help="planned number of medicine sessions")
    coa.add_argument("--indication", default="")
    coa.add_argument("--phase", default=CoursePhase.PREPARATION.value, choices=[p.value for p in CoursePhase])
    coa.add_argument("--status", default=CourseStatus.ACTIVE.value, choices=[s.value for s in CourseStatus])
    coa.add_argument("--started-on", metavar="YYYY-MM-DD")
    coa.add_argument("--consent-date", metavar="YYYY-MM-DD", help="the date consent was given")
    coa.add_argument("--consent-version", default="", help="the consent form's version")
    coa.add_argument("--witness", metavar="LOGIN", help="the staff member who witnessed the consent")
    common(coa, write=True)

    se = sub.add_parser("session", help="plan, reschedule or cancel a session",
                        description="Plan, reschedule or cancel sessions. A room holds one session at a time "
                                    "(for the protocol's session time); a client is in one session at a time.")
    se_sub = se.add_subparsers(dest="session_command", metavar="ACTION", required=True)
    sp = se_sub.add_parser("plan", help="plan a session", description="Plan a session in a room.")
    sp.add_argument("identifier", help="the client's identifier")
    sp.add_argument("--at", required=True, metavar="'YYYY-MM-DD HH:MM'", help="start, local time")
    sp.add_argument("--room", required=True)
    sp.add_argument("--route", required=True, choices=[r.value for r in Route])
    sp.add_argument("--drug", default="Ketamine")
    sp.add_argument("--dose", type=float, help="planned dose (in --unit)")
    sp.add_argument("--unit", default="mg")
    sp.add_argument("--dose-per-kg", type=float, metavar="MG_PER_KG", help="plan the dose per kg of weight")
    sp.add_argument("--weight", type=float, metavar="KG", help="weight used for --dose-per-kg (default: the "
                                                                   "client's recorded weight)")
    sp.add_argument("--course", type=int, metavar="COURSE", help="course id (default: the client's one active "
                                                                   "course, if there is exactly one)")
    sp.add_argument("--single", action="store_true", help="a single session outside any course")
    sr = se_sub.add_parser("reschedule", help="move a planned session", description="Move a planned session.")
    sr.add_argument("session", type=int, metavar="SESSION")
    sr.add_argument("--at", required=True, metavar="'YYYY-MM-DD HH:MM'")
    sr.add_argument("--room")
    sr.add_argument("--reason", required=True)
    sc = se_sub.add_parser("cancel", help="cancel a planned session", description="Cancel a planned session.")
    sc.add_argument("session", type=int, metavar="SESSION")
    sc.add_argument("--reason", required=True)
    for p in (sp, sr, sc):
        common(p, write=True)

    r = sub.add_parser("room", help="the clinic's rooms", description="The clinic's rooms (administrators).")
    r_sub = r.add_subparsers(dest="room_command", metavar="ACTION", required=True)
    ra = r_sub.add_parser("add", help="add a room", description="Add a room.")
    ra.add_argument("name")
    common(ra, write=True)
    rd = r_sub.add_parser("deactivate", help="take a room out of use", description="Take a room out of use.")
    rd.add_argument("name")
    common(rd, write=True)
    rl = r_sub.add_parser("list", help="list the rooms", description="List the rooms.")
    rl.add_argument("--all", action="store_true", help="include rooms taken out of use")
    common(rl, write=False)


# ----- handlers -------------------------------------------------------------------------------------------


def _when(text: str) -> datetime:
    try:
        moment = datetime.fromisoformat(text.strip().replace("T", " "))
    except ValueError:
        raise ValidationError("--at", text, "a local date and time as 'YYYY-MM-DD HH:MM'") from None
    return moment if moment.tzinfo else moment.astimezone()


def _client_values(args: argparse.Namespace) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for option, field in CLIENT_OPTIONS.items():
        given = getattr(args, option, None)
        if given is not None:
            values[field] = given.strip() or None if field in ("date_of_birth", "weight_on", "weight_kg") else given
    if args.allergy is not None:
        values["allergy_list"] = parse_allergies("; ".join(args.allergy))
    if getattr(args, "no_allergies", False):
        values["allergy_list"] = ()
    return values


def show_client(c: Client) -> list[str]:
    lines = []
    for field, label in FIELD_LABELS.items():
        value = getattr(c, field)
        if field == "allergy_list":
            value = format_allergies(value)
        elif isinstance(value, date):
            value = value.isoformat()
        elif value is None:
            value = ""
        lines.append(f"{label}:\t{value}")
    return lines


def run(services: Any, args: argparse.Namespace, actor: Callable[[], Any]) -> int:
    """Run one front-desk command. ``actor()`` signs in the ``--as`` person (asks for the password)."""
    handler = {"client": _client, "course": _course, "session": _session, "room": _room}[args.command]
    return handler(services, args, actor)


def _client(services: Any, args: argparse.Namespace, actor: Callable[[], Any]) -> int:
    clients = services.clinic.clients
    cmd = args.client_command
    if cmd == "list":
        if args.limit < 1:
            raise DomainError("--limit must be at least 1")
        for c in clients.search(args.search, limit=args.limit):
            print(f"{c.identifier}\t{c.name}\t{c.date_of_birth.isoformat() if c.date_of_birth else ''}")
        return 0
    if cmd == "show":
        c = clients.by_identifier(args.identifier)
        for line in show_client(c):
            print(line)
        print(f"version:\t{c.version}")
        for course in services.clinic.courses(c.id):
            consent = (f"consent {course.consent_on.isoformat()} v{course.consent_version or '?'} witnessed by "
                       f"{course.consent_witness_name}" if course.consent_on else "no consent on file")
            print(f"course {course.id}:\t{course.title} — {course.planned_sessions} sessions, "
                  f"{course.phase.label.lower()}, {course.status.label.lower()}; {consent}")
        if args.history:
            if not args.as_login:
                raise DomainError("--history needs --as LOGIN (the history is shown to the front desk and clinicians)")
            for ver in clients.versions(actor(), c.id):
                when = ver.at.astimezone().strftime("%Y-%m-%d %H:%M")
                print(f"v{ver.version}\t{when}\t{ver.by_name}\t{ver.action}")
                for field, (old, new) in ver.changes.items():
                    print(f"\t{FIELD_LABELS.get(field, field)}: {_short(old)} → {_short(new)}")
        return 0
    if cmd == "import":
        try:
            text = args.file.read_text(encoding="utf-8-sig")
        except UnicodeDecodeError:
            raise DomainError(f"{args.file}: not UTF-8 text (save the file as CSV UTF-8)") from None
        report = clients.import_csv(actor(), text, dry_run=args.dry_run)
        for row in report.rows:
            detail = f"\t{row.detail}" if row.detail else ""
            print(f"line {row.line}\t{row.identifier or '(no identifier)'}\t{row.outcome.value}{detail}")
        counts = ", ".join(f"{report.count(o)} {o.value}" for o in ImportOutcome)
        verdict = "dry run, nothing saved" if args.dry_run else "saved"
        print(f"{counts} ({verdict})")
        return 1 if report.count(ImportOutcome.ERROR) else 0
    who = actor()
    values = _client_values(args)
    if cmd == "add":
        client = clients.add(who, replace(ClientDetails(identifier=args.identifier, name=""), **values))
        print(f"added client {client.identifier} ({client.name})")
        return 0
    current = clients.by_identifier(args.identifier)
    if args.new_identifier is not None:
        values["identifier"] = args.new_identifier
    updated = clients.edit(who, current.id, replace(current.details, **values), expected_version=current.version)
    if updated.version == current.version:
        print(f"client {updated.identifier}: nothing changed")
    else:
        print(f"client {updated.identifier}: saved as version {updated.version}")
    return 0


def _short(value: Any) -> str:
    if value is None or value == "":
        return "(empty)"
    if isinstance(value, list):
        return format_allergies(parse_allergies("; ".join(
            "|".join(str(d.get(k, "")) for k in ("substance", "reaction", "severity")) for d in value))) or "(none)"
    text = str(value).replace("\n", " ")
    return text if len(text) <= 80 else text[:79] + "…"


def _course(services: Any, args: argparse.Namespace, actor: Callable[[], Any]) -> int:
    client = services.clinic.clients.by_identifier(args.identifier)
    witness = None
    if args.witness:
        found = [m for m in services.staff.list_staff() if m.login == args.witness.strip().lower()]
        if not found:
            raise DomainError(f"there is no active user {args.witness!r} to witness the consent")
        witness = found[0].id
    details = CourseDetails(
        title=args.title, planned_sessions=args.sessions, indication=args.indication,
        phase=CoursePhase(args.phase), status=CourseStatus(args.status),
        started_on=date.fromisoformat(args.started_on) if args.started_on else None,
        consent_on=args.consent_date or None, consent_version=args.consent_version, consent_witness_id=witness,
    )
    course = services.clinic.planning.add_course(actor(), client.id, details)
    print(f"added course {course.id} for {client.identifier}: {course.title} ({course.planned_sessions} sessions)")
    return 0


def _session(services: Any, args: argparse.Namespace, actor: Callable[[], Any]) -> int:
    planning = services.clinic.planning
    cmd = args.session_command
    if cmd == "cancel":
        info = planning.cancel(actor(), args.session, args.reason)
        print(f"session {info.id} cancelled")
        return 0
    if cmd == "reschedule":
        info = planning.reschedule(actor(), args.session, scheduled_at=_when(args.at), room=args.room,
                                   reason=args.reason)
        print(f"session {info.id} moved to {info.room} {info.scheduled_at.astimezone():%Y-%m-%d %H:%M}")
        return 0
    client = services.clinic.clients.by_identifier(args.identifier)
    course_id = args.course
    if course_id is None and not args.single:
        active = [c for c in services.clinic.courses(client.id) if c.status is CourseStatus.ACTIVE]
        if len(active) != 1:
            raise DomainError(f"client {client.identifier} has {len(active)} active courses: name one with --course, "
                              "or plan a single session with --single")
        course_id = active[0].id
    info = planning.plan_session(
        actor(), client_id=client.id, room=args.room, route=args.route, planned_drug=args.drug,
        scheduled_at=_when(args.at), planned_dose=args.dose, planned_unit=args.unit, course_id=course_id,
        dose_per_kg=args.dose_per_kg, weight_used_kg=args.weight,
    )
    dose = "" if info.planned_dose is None else f", {info.planned_dose:g} {info.planned_unit}"
    if info.dose_per_kg is not None:
        dose += f" ({info.dose_per_kg:g} mg/kg × {info.weight_used_kg:g} kg)"
    print(f"planned session {info.id}: {client.identifier} in {info.room} "
          f"{info.scheduled_at.astimezone():%Y-%m-%d %H:%M}, {info.course_label}{dose}")
    return 0


def _room(services: Any, args: argparse.Namespace, actor: Callable[[], Any]) -> int:
    planning = services.clinic.planning
    if args.room_command == "list":
        for room in planning.rooms(include_inactive=args.all):
            print(room.name if room.active else f"{room.name}\t(out of use)")
        return 0
    if args.room_command == "add":
        room = planning.add_room(actor(), args.name)
        print(f"room {room.name} added")
        return 0
    planning.deactivate_room(actor(), args.name)
    print(f"room {args.name} taken out of use")
    return 0
