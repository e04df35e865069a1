"""The ``kapconsole`` command: no argument starts the console; subcommands do the headless jobs."""

from __future__ import annotations

import argparse
import getpass
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from kapconsole import __version__, cli_frontdesk
from kapconsole.domain.enums import Role, SessionState
from kapconsole.domain.errors import DomainError
from kapconsole.domain.values import Actor

DB_HELP = ("database URL: sqlite:///PATH or postgresql://USER:PASSWORD@HOST/DB "
           "(default: $KAPCONSOLE_DATABASE_URL, else a SQLite file in the user's data folder)")
CLI_WORKSTATION = "cli"


class CliError(Exception):
    """A user mistake: printed as one line, exit status 1."""


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="kapconsole",
        description="KAP Console: the session-room console for supervised ketamine-assisted psychotherapy. "
                    "Without a command it starts the console window.",
    )
    p.add_argument("--version", action="version", version=f"kapconsole {__version__}")
    p.add_argument("--database", metavar="URL", help=DB_HELP)
    sub = p.add_subparsers(dest="command", metavar="COMMAND")

    d = sub.add_parser("demo", help="seed a realistic demo clinic into an empty database",
                       description="Create a demo clinic (staff of every role, rooms with sessions in every state, "
                                   "a course in progress, a signed three-hour session) and print the demo logins.")
    d.add_argument("--database", metavar="URL", help=DB_HELP, default=argparse.SUPPRESS)
    d.add_argument("--live-monitor", action="store_true",
                   help="then run a monitor listener and a simulated bedside monitor for Room 2 until Ctrl+C "
                        "(the demo's session there shows a live stream); on a demo database already seeded, "
                        "only this")
    d.add_argument("--monitor-port", type=int, default=2575, help="the listener's port for --live-monitor")

    s = sub.add_parser("sessions", help="list sessions, one a line",
                       description="List sessions, newest first: id, date, room, client, state.")
    s.add_argument("--database", metavar="URL", help=DB_HELP, default=argparse.SUPPRESS)
    s.add_argument("--client", help="client identifier, or part of the name")
    s.add_argument("--state", action="append", choices=[st.value for st in SessionState],
                   help="only sessions in this state (repeatable)")
    s.add_argument("--room", help="only this room")
    s.add_argument("--limit", type=int, default=200, help="at most this many lines (default 200)")

    r = sub.add_parser("report", help="write a session's integration summary as PDF",
                       description="Write the integration summary of SESSION as a PDF file.")
    r.add_argument("--database", metavar="URL", help=DB_HELP, default=argparse.SUPPRESS)
    r.add_argument("session", type=int, metavar="SESSION", help="session id (see 'kapconsole sessions')")
    r.add_argument("-o", "--output", required=True, metavar="FILE.pdf", help="where to write the PDF")
    r.add_argument("--password", action="store_true",
                   help="protect the PDF with a password (asked for, or read from standard input)")
    r.add_argument("--force", action="store_true", help="replace FILE.pdf if it exists")
    r.add_argument("--allow-integrity-failure", action="store_true",
                   help="write the summary of a record that fails verification, with an INTEGRITY FAILURE "
                        "banner on every page and no signature block (without it such a record is refused)")

    v = sub.add_parser("verify", help="check the integrity of session records",
                       description="Recompute every session's hash chain and signatures; name each session and "
                                   "entry that no longer matches. Exit status 1 when anything does not match.")
    v.add_argument("--database", metavar="URL", help=DB_HELP, default=argparse.SUPPRESS)
    v.add_argument("session", type=int, nargs="?", metavar="SESSION", help="only this session")
    v.add_argument("--against", type=Path, metavar="FILE.pdf",
                   help="check the record against the anchor printed on a summary PDF")

    db = sub.add_parser("db", help="database schema", description="Database schema commands.")
    db_sub = db.add_subparsers(dest="db_command", metavar="ACTION", required=True)
    up = db_sub.add_parser("upgrade", help="create or upgrade the schema (a SQLite file is backed up first)",
                           description="Create the schema in an empty database or upgrade an older one to this "
                                       "version; an older SQLite file is backed up beside itself first.")
    up.add_argument("--database", metavar="URL", help=DB_HELP, default=argparse.SUPPRESS)
    st = db_sub.add_parser("status", help="show the schema state", description="Show the schema state.")
    st.add_argument("--database", metavar="URL", help=DB_HELP, default=argparse.SUPPRESS)

    pr = sub.add_parser("protocol", help="show or change the clinic protocol settings",
                        description="The clinic protocol: checklist items, vitals schedule, alert thresholds, "
                                    "plausible ranges and discharge rules. 'show' prints it as JSON; 'load' "
                                    "replaces it from a JSON file (administrators only). Sessions already "
                                    "planned keep the protocol they were planned under.")
    pr_sub = pr.add_subparsers(dest="protocol_command", metavar="ACTION", required=True)
    ps = pr_sub.add_parser("show", help="print the protocol in force as JSON", description="Print the protocol.")
    pl = pr_sub.add_parser("load", help="replace the protocol from a JSON file",
                           description="Replace the clinic protocol from a JSON file (keys left out keep their "
                                       "defaults). Asks for the administrator's password.")
    pl.add_argument("file", type=Path, help="JSON file, e.g. an edited copy of 'kapconsole protocol show'")
    pl.add_argument("--as", dest="as_login", metavar="ADMIN", required=True, help="the administrator making the change")
    for sp in (ps, pl):
        sp.add_argument("--database", metavar="URL", help=DB_HELP, default=argparse.SUPPRESS)

    u = sub.add_parser("user", help="manage staff accounts",
                       description="Manage staff accounts. On an empty database 'user add' creates the first "
                                   "administrator; afterwards name an administrator with --as. Passwords are "
                                   "asked for on a terminal, or read one a line from standard input "
                                   "(the administrator's first, then the new one).")
    u_sub = u.add_subparsers(dest="user_command", metavar="ACTION", required=True)
    ua = u_sub.add_parser("add", help="add a staff member", description="Add a staff member.")
    ua.add_argument("login")
    ua.add_argument("--name", required=True, help="full name as printed on records")
    ua.add_argument("--role", action="append", required=True, type=_role, metavar="ROLE",
                    help="role (repeatable: a person may hold several): "
                         + ", ".join(f"{r.value} ({r.label})" for r in Role))
    up_ = u_sub.add_parser("passwd", help="set a staff member's password", description="Set a password.")
    up_.add_argument("login")
    ud = u_sub.add_parser("deactivate", help="deactivate an account (accounts are never deleted)",
                          description="Deactivate an account; its entries stay attributed to it.")
    ud.add_argument("login")
    ul = u_sub.add_parser("list", help="list staff accounts", description="List staff accounts.")
    ul.add_argument("--all", action="store_true", help="include deactivated accounts")
    for sp in (ua, up_, ud, ul):
        sp.add_argument("--database", metavar="URL", help=DB_HELP, default=argparse.SUPPRESS)
    for sp in (ua, up_, ud):
        sp.add_argument("--as", dest="as_login", metavar="ADMIN", help="the administrator making the change")
    cli_frontdesk.add_parsers(sub, DB_HELP)
    from kapconsole.cli_rems import add_parsers as add_rems_parsers

    add_rems_parsers(sub, DB_HELP)

    from kapconsole import cli_monitor

    cli_monitor.add_parser(sub, DB_HELP)
    return p


def _role(text: str) -> Role:
    """A role as stored ("medical"), as shown ("Medical staff"), or in any case with '_', '-' or spaces."""
    try:
        return Role.parse(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _secret(prompt: str) -> str:
    if sys.stdin.isatty():
        return getpass.getpass(prompt)
    line = sys.stdin.readline()
    if not line:
        raise CliError(f"{prompt.strip().rstrip(':')}: expected a line on standard input")
    return line.rstrip("\r\n")


def _open(args: argparse.Namespace, *, create: bool):  # type: ignore[no-untyped-def]
    from kapconsole.data import migrate
    from kapconsole.data.db import Database, resolve_url
    from kapconsole.services import Services

    db = Database(resolve_url(getattr(args, "database", None))) if create else _existing(args)
    state = migrate.status(db)
    if state is migrate.SchemaStatus.EMPTY and not create:
        raise CliError(f"{db.display_name} is not a KAP Console database (it is empty); "
                       "create one with 'kapconsole db upgrade' or 'kapconsole demo'")
    try:
        migrate.upgrade(db)
    except BaseException:
        db.remove_if_created_empty()  # no empty database file left behind (a full disk at set-up)
        raise
    return Services(db)


def _existing(args: argparse.Namespace):  # type: ignore[no-untyped-def]
    from kapconsole.data.db import Database, normalise_url, resolve_url

    url = resolve_url(getattr(args, "database", None))
    parsed = normalise_url(url)
    is_file = parsed.get_backend_name() == "sqlite" and parsed.database and parsed.database != ":memory:"
    if is_file and not Path(str(parsed.database)).exists():
        raise CliError(f"there is no database at {parsed.database}; "
                           "create one with 'kapconsole db upgrade' or 'kapconsole demo'")
    return Database(url)


def _admin(services, args: argparse.Namespace) -> Actor | None:  # type: ignore[no-untyped-def]
    if not services.staff.has_administrator():
        return None
    if not args.as_login:
        raise CliError("an administrator exists: name one with --as ADMIN")
    password = _secret(f"Password for {args.as_login}: ")
    actor = services.staff.authenticate(args.as_login, password, CLI_WORKSTATION)
    args.admin_password = password  # registers new signing keys with the administrator's own key
    return actor


def _cmd_demo(args: argparse.Namespace) -> int:
    from kapconsole.services.demo import seed_demo

    services = _open(args, create=True)
    if args.live_monitor and services.monitor.devices():
        from kapconsole import cli_monitor

        return cli_monitor.live_demo(services, args.monitor_port)
    summary = seed_demo(services)
    print(f"Demo clinic created in {services.database_name}: {summary.sessions} sessions.")
    print(f"Logins (password for all: {summary.password}):")
    for login, name, roles in summary.logins:
        print(f"  {login:<16} {name:<20} {roles}")
    print(f"Signed three-hour session: {summary.signed_session_id}")
    if args.live_monitor:
        from kapconsole import cli_monitor

        return cli_monitor.live_demo(services, args.monitor_port)
    return 0


def _cmd_sessions(args: argparse.Namespace) -> int:
    services = _open(args, create=False)
    states = [SessionState(s) for s in args.state] if args.state else None
    if args.limit < 1:
        raise CliError("--limit must be at least 1")
    for item in services.clinic.list_sessions(client=args.client, states=states, room=args.room, limit=args.limit):
        when = item.scheduled_at.astimezone().strftime("%Y-%m-%d %H:%M")
        print(f"{item.id}\t{when}\t{item.room}\t{item.client_identifier} {item.client_name}\t{item.state.value}")
    return 0


def _cmd_report(args: argparse.Namespace) -> int:
    services = _open(args, create=False)
    password = _secret("PDF password: ") if args.password else None
    path = services.reports.write(None, args.session, Path(args.output), password=password, force=args.force,
                                  allow_integrity_failure=args.allow_integrity_failure)
    print(f"wrote {path}")
    return 0


def _cmd_verify(args: argparse.Namespace) -> int:
    services = _open(args, create=False)
    if args.against is not None:
        from kapconsole.services.reports import anchor_from_pdf

        result = services.integrity.verify_against(anchor_from_pdf(args.against))
    else:
        result = services.integrity.verify(args.session)
    for problem in result.problems:
        print(f"session {problem.session_id}: {problem.message}" if problem.session_id else
              f"clinic: {problem.message}")
    verdict = "OK" if result.ok else f"FAILED: {len(result.problems)} problem(s)"
    print(f"{verdict} — {result.sessions_checked} session(s), {result.entries_checked} entries checked")
    stream = services.monitor.verify()
    for problem in stream.problems:
        print(problem.message)
    if stream.digests or stream.undigested:
        print(f"{'OK' if stream.ok else 'FAILED'} — device stream: {stream.digests} digest(s), {stream.readings} "
              f"readings checked, {stream.undigested} not yet sealed")
    return 0 if result.ok and stream.ok else 1


def _cmd_db(args: argparse.Namespace) -> int:
    from kapconsole.data import migrate

    if args.db_command == "status":
        db = _existing(args)
        print(f"{db.display_name}: {migrate.status(db).value} (this version's schema: {migrate.head_revision()})")
        return 0
    services = _open(args, create=True)
    print(f"{services.database_name}: schema at {migrate.head_revision()}")
    return 0


def _cmd_user(args: argparse.Namespace) -> int:
    services = _open(args, create=args.user_command == "add")
    staff = services.staff
    if args.user_command == "list":
        for m in staff.list_staff(include_inactive=args.all):
            print(f"{m.login}\t{m.name}\t{m.roles_label}\t{'active' if m.active else 'deactivated'}")
        return 0
    admin = _admin(services, args)
    if args.user_command == "add":
        password = _secret(f"New password for {args.login}: ")
        member = staff.add_user(admin, login=args.login, name=args.name, roles=args.role, password=password,
                                actor_password=getattr(args, "admin_password", None))
        print(f"added {member.login} ({member.roles_label})")
        if admin is None:
            print(f"clinic root key fingerprint: {staff.root_fingerprint()} (note it: every summary prints it)")
    elif admin is None:
        raise CliError("there is no administrator yet: add one with 'kapconsole user add LOGIN --role administrator'")
    elif args.user_command == "passwd":
        staff.set_password(admin, args.login, _secret(f"New password for {args.login}: "),
                           actor_password=getattr(args, "admin_password", None))
        print(f"password set for {args.login}")
    else:
        staff.deactivate(admin, args.login)
        print(f"deactivated {args.login}")
    return 0


def _cmd_protocol(args: argparse.Namespace) -> int:
    import json

    from kapconsole.domain.protocol import ProtocolSettings

    services = _open(args, create=False)
    if args.protocol_command == "show":
        print(json.dumps(json.loads(services.clinic.protocol().to_json()), indent=2, ensure_ascii=False))
        return 0
    try:
        data = json.loads(args.file.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise CliError(f"cannot read {args.file}: {exc}") from None
    if not isinstance(data, dict):
        raise CliError(f"{args.file}: a JSON object is expected")
    try:
        settings = ProtocolSettings.from_dict(data)
    except (TypeError, KeyError, AttributeError) as exc:
        raise CliError(f"{args.file}: not a protocol ({exc})") from None
    admin = services.staff.authenticate(args.as_login, _secret(f"Password for {args.as_login}: "), CLI_WORKSTATION)
    services.clinic.update_protocol(admin, settings)
    print("protocol updated; sessions planned from now on use it")
    return 0


def _no_display() -> bool:
    if not sys.platform.startswith("linux"):
        return False
    return not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY") or os.environ.get("QT_QPA_PLATFORM"))


def _this_command() -> str:
    """How to run this same program again: ``kapconsole`` when that is on PATH, else the path it was run by."""
    import shutil

    invoked = sys.argv[0] if sys.argv and sys.argv[0] else ""
    on_path = shutil.which("kapconsole")
    if invoked and os.path.basename(invoked) == "kapconsole":
        if on_path and os.path.realpath(on_path) == os.path.realpath(invoked) and os.sep not in invoked:
            return "kapconsole"
        return invoked if os.sep in invoked else (on_path or invoked)
    return f"{sys.executable} -m kapconsole"


def _cmd_gui(args: argparse.Namespace) -> int:
    if _no_display():
        print("kapconsole: no display found; run it on a desktop session, or under a virtual display: "
              f"xvfb-run -a {_this_command()}", file=sys.stderr)
        return 1
    from kapconsole.app import run_gui

    return run_gui(getattr(args, "database", None))


def _cmd_frontdesk(args: argparse.Namespace) -> int:
    services = _open(args, create=False)

    def actor() -> Actor:
        login = args.as_login
        if not login:
            raise CliError("name the staff member making the change with --as LOGIN")
        return services.staff.authenticate(login, _secret(f"Password for {login}: "), CLI_WORKSTATION)

    return cli_frontdesk.run(services, args, actor)


def _cmd_monitor(args: argparse.Namespace) -> int:
    from kapconsole import cli_monitor

    return cli_monitor.run(args, _open, _secret, CLI_WORKSTATION)


COMMANDS = {"monitor": _cmd_monitor, "demo": _cmd_demo, "sessions": _cmd_sessions, "report": _cmd_report,
            "verify": _cmd_verify, "db": _cmd_db, "user": _cmd_user, "protocol": _cmd_protocol,
            "client": _cmd_frontdesk, "course": _cmd_frontdesk, "session": _cmd_frontdesk, "room": _cmd_frontdesk}


def _rems_commands() -> None:
    from kapconsole.cli_rems import cmd_rems, cmd_rems_form

    COMMANDS.update({"rems-form": cmd_rems_form, "rems": cmd_rems})


_rems_commands()


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    handler = COMMANDS.get(args.command or "", _cmd_gui)
    try:
        status = handler(args)
        sys.stdout.flush()  # inside the try: a reader that went away is noticed here, not at exit
        return status
    except BrokenPipeError:
        # The reader went away (`kapconsole sessions | head`): stop quietly, as other command-line tools do.
        _silence_stdout()
        return 141
    except (CliError, DomainError) as exc:
        print(f"kapconsole: error: {exc}", file=sys.stderr)
        return 1
    except OSError as exc:
        where = f"{exc.filename}: " if exc.filename else ""
        print(f"kapconsole: error: {where}{exc.strerror or exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("kapconsole: interrupted", file=sys.stderr)
        return 130


def _silence_stdout() -> None:
    """Point standard output at /dev/null so the interpreter's final flush does not fail again."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError):
        pass


if __name__ == "__main__":
    sys.exit(main())
