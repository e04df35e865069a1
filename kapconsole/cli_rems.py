"""The esketamine REMS commands: ``kapconsole rems-form`` and ``kapconsole rems due|submit|setting``."""

from __future__ import annotations

import argparse
from datetime import date
from pathlib import Path
from typing import Any

from kapconsole.domain.rems import METHODS


def add_parsers(sub: Any, db_help: str) -> None:
    f = sub.add_parser("rems-form", help="write an esketamine session's REMS Patient Monitoring Form as PDF",
                       description="Write the SPRAVATO REMS Patient Monitoring Form of SESSION, filled from the "
                                   "session record, as a PDF file. An incomplete form says what is missing.")
    f.add_argument("--database", metavar="URL", help=db_help, default=argparse.SUPPRESS)
    f.add_argument("session", type=int, metavar="SESSION", help="session id (see 'kapconsole sessions')")
    f.add_argument("-o", "--output", required=True, metavar="FILE.pdf", help="where to write the PDF")

    r = sub.add_parser("rems", help="REMS monitoring forms: what is due, mark one submitted, setting details",
                       description="Each esketamine treatment session's monitoring form is due within 7 days.")
    r_sub = r.add_subparsers(dest="rems_command", metavar="ACTION", required=True)
    due = r_sub.add_parser("due", help="list forms due and overdue (oldest due first)",
                           description="One line a form: session, treatment date, due date, status, client.")
    due.add_argument("--all", action="store_true", help="include forms already submitted")
    sm = r_sub.add_parser("submit", help="record that a session's form was submitted",
                          description="Record the date, how and the confirmation number of a submitted form; "
                                      "asks for the password of the person recording it.")
    sm.add_argument("session", type=int, metavar="SESSION")
    sm.add_argument("--date", dest="submitted_on", type=date.fromisoformat, required=True, metavar="YYYY-MM-DD")
    sm.add_argument("--method", choices=METHODS, required=True, help="how it was submitted")
    sm.add_argument("--confirmation", default="", help="the REMS confirmation number")
    sm.add_argument("--as", dest="as_login", metavar="LOGIN", required=True, help="who records it")
    st = r_sub.add_parser("setting", help="show or set the setting's name, address and REMS certification number",
                          description="Without options, print the setting details; with them, replace them "
                                      "(an administrator, named with --as).")
    st.add_argument("--name")
    st.add_argument("--address")
    st.add_argument("--phone", default="")
    st.add_argument("--certification", help="the setting's REMS certification number")
    st.add_argument("--as", dest="as_login", metavar="ADMIN")
    for sp in (due, sm, st):
        sp.add_argument("--database", metavar="URL", help=db_help, default=argparse.SUPPRESS)


def cmd_rems_form(args: argparse.Namespace) -> int:
    from kapconsole.cli import _open

    services = _open(args, create=False)
    path = services.rems.write_form(None, args.session, Path(args.output))
    form = services.rems.form(None, args.session)
    print(f"wrote {path}" + ("" if form.complete else f" (incomplete: {len(form.signature_blockers) + len(form.missing_details)} missing)"))
    return 0


def cmd_rems(args: argparse.Namespace) -> int:
    from kapconsole.cli import CLI_WORKSTATION, CliError, _open, _secret

    services = _open(args, create=False)
    if args.rems_command == "due":
        today = services.rems.now().astimezone().date()
        for item in services.rems.filings(include_filed=args.all, today=today):
            print(f"{item.session_id}\t{item.treatment_date.isoformat()}\tdue {item.due_on.isoformat()}\t"
                  f"{item.status.value}\t{item.describe(today)}\t{item.client_identifier} {item.client_name}")
        return 0
    if args.rems_command == "submit":
        actor = services.staff.authenticate(args.as_login, _secret(f"Password for {args.as_login}: "), CLI_WORKSTATION)
        item = services.rems.mark_submitted(actor, args.session, submitted_on=args.submitted_on, method=args.method,
                                            confirmation=args.confirmation)
        print(f"session {item.session_id}: form {item.describe(item.treatment_date)}")
        return 0
    fields = (args.name, args.address, args.certification)
    if all(f is None for f in fields) and not args.phone:
        s = services.rems.setting()
        for label, value in (("name", s.name), ("address", s.address), ("phone", s.phone),
                             ("certification", s.certification)):
            print(f"{label}\t{value}")
        return 0
    if not args.as_login:
        raise CliError("name the administrator with --as ADMIN")
    admin = services.staff.authenticate(args.as_login, _secret(f"Password for {args.as_login}: "), CLI_WORKSTATION)
    services.rems.update_setting(admin, name=args.name or "", address=args.address or "", phone=args.phone,
                                 certification=args.certification or "")
    print("REMS setting details saved")
    return 0
