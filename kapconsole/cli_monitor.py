"""``kapconsole monitor …``: the MLLP listener, the simulator, the device table and unassigned messages."""

from __future__ import annotations

import argparse
import logging
import logging.handlers
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from kapconsole.domain.monitor.values import IdentityKind

LISTEN_HELP = ("Receive HL7 v2 ORU^R01 observation messages over MLLP from bedside monitors or a gateway, store "
               "them, and acknowledge each once it is stored. Runs in the foreground (for systemd: "
               "Type=simple, stops cleanly on SIGTERM) and logs to standard error.")


def add_parser(sub: Any, db_help: str) -> None:
    m = sub.add_parser("monitor", help="bedside monitor capture (HL7 v2 over MLLP)",
                       description="Bedside monitor capture: the listener, the simulator, the device table.")
    m_sub = m.add_subparsers(dest="monitor_command", metavar="ACTION", required=True)

    li = m_sub.add_parser("listen", help="receive monitor messages (long-running)", description=LISTEN_HELP)
    li.add_argument("--host", default="0.0.0.0", help="address to listen on (default: all addresses)")
    li.add_argument("--port", type=int, default=2575, help="TCP port (default 2575, the HL7 MLLP port)")
    li.add_argument("--max-bytes", type=int, default=1_000_000, help="largest message accepted (default 1 MB)")
    li.add_argument("--seal-seconds", type=float, default=60.0,
                    help="how often the stream is sealed into a chained digest (default 60)")
    li.add_argument("--status-seconds", type=float, default=60.0,
                    help="how often a status line per connected device is logged (default 60)")
    li.add_argument("--log-file", type=Path, help="also log to this file (rotated at 5 MB, 5 kept)")
    li.add_argument("--systemd", action="store_true", help="log without timestamps (the journal adds them)")

    si = m_sub.add_parser("simulate", help="send realistic monitor messages to a listener",
                          description="Simulate a bedside monitor for ROOM: numerics every second, a cuff cycle "
                                      "every 5 minutes, a blood pressure rise at 20–40 minutes, artefacts. Register "
                                      "the identity it prints in the device table to bind it to the room.")
    si.add_argument("--room", required=True, help="the room the simulated monitor stands in")
    si.add_argument("--host", default="127.0.0.1")
    si.add_argument("--port", type=int, default=2575)
    si.add_argument("--style", choices=["mdc", "loinc", "gateway"], default="mdc",
                    help="mdc: IEEE 11073 codes (IHE PCD-01); loinc: LOINC and UCUM, local times; gateway: one "
                         "observation per message")
    si.add_argument("--speed", type=float, default=1.0,
                    help="simulated seconds per real second (default 1; 0 = as fast as ACKs come)")
    si.add_argument("--minutes", type=float, default=120.0, help="length of the simulated session (default 120)")
    si.add_argument("--drop-acks", type=float, default=0.0, metavar="SHARE",
                    help="share of ACKs treated as lost (the message is sent again)")
    si.add_argument("--duplicate", type=float, default=0.0, metavar="SHARE", help="share of messages sent twice")
    si.add_argument("--skew", type=float, default=0.0, metavar="SECONDS", help="device clock offset")
    si.add_argument("--cut-every", type=int, default=0, metavar="N",
                    help="cut the connection in the middle of every Nth message")
    si.add_argument("--seed", type=int, default=1)

    dv = m_sub.add_parser("device", help="the device table (administrators)",
                          description="Which monitor or gateway feeds which room. A device is recognised by one "
                                      "identity: its equipment id (OBX-18), its bed (PV1-3 as sent) or its "
                                      "sending application (MSH-3, or MSH-3^MSH-4).")
    dv_sub = dv.add_subparsers(dest="device_command", metavar="ACTION", required=True)
    da = dv_sub.add_parser("add", help="register a device and bind it to a room", description="Register a device.")
    da.add_argument("name", help="a name staff recognise, e.g. 'Room 2 monitor'")
    da.add_argument("--room", required=True)
    da.add_argument("--identity-kind", required=True, choices=[k.value for k in IdentityKind])
    da.add_argument("--identity", required=True, help="the equipment id, bed or sending application it sends")
    da.add_argument("--timezone", default="", help="IANA zone for times sent without an offset "
                                                   "(default: this machine's zone)")
    da.add_argument("--clock-threshold", type=int, default=60, metavar="SECONDS",
                    help="show the device clock as off beyond this many seconds (default 60)")
    dl = dv_sub.add_parser("list", help="list devices and their last message", description="List devices.")
    dl.add_argument("--all", action="store_true", help="include removed devices")
    dr = dv_sub.add_parser("remove", help="unbind a device", description="Unbind a device from its room; what "
                                                                         "it sent is kept.")
    dr.add_argument("name")
    for sp in (da, dr):
        sp.add_argument("--as", dest="as_login", metavar="ADMIN", required=True,
                        help="the administrator making the change")

    un = m_sub.add_parser("unassigned", help="messages that reached no session",
                          description="Messages from unregistered devices or for rooms without a session under "
                                      "way: stored, never charted. Newest first.")
    un.add_argument("--as", dest="as_login", metavar="LOGIN", required=True,
                    help="a supervisor or administrator")
    un.add_argument("--limit", type=int, default=50)
    for sp in (li, si, da, dl, dr, un):
        sp.add_argument("--database", metavar="URL", help=db_help, default=argparse.SUPPRESS)


def _logging(args: argparse.Namespace) -> None:
    fmt = "%(levelname)s %(message)s" if args.systemd else "%(asctime)s %(levelname)s %(message)s"
    handlers: list[logging.Handler] = [logging.StreamHandler(sys.stderr)]
    if args.log_file:
        args.log_file.parent.mkdir(parents=True, exist_ok=True)
        handlers.append(logging.handlers.RotatingFileHandler(args.log_file, maxBytes=5_000_000, backupCount=5,
                                                             encoding="utf-8"))
    logging.basicConfig(level=logging.INFO, format=fmt, handlers=handlers, force=True)


def run(args: argparse.Namespace, services_for: Any, secret: Any, workstation: str) -> int:
    cmd = args.monitor_command
    if cmd == "simulate":
        return _simulate(args)
    services = services_for(args, create=cmd == "listen")
    if cmd == "listen":
        from kapconsole.services.monitor.ingest import MonitorIngest
        from kapconsole.services.monitor.listener import MonitorListener
        from kapconsole.services.monitor.listener import run as run_listener

        _logging(args)
        workers = 1 if services.db.is_sqlite else 4
        listener = MonitorListener(MonitorIngest(services.db, services.monitor.now), host=args.host, port=args.port,
                                   max_bytes=args.max_bytes, workers=workers, seal=services.monitor.seal,
                                   seal_seconds=args.seal_seconds, status_seconds=args.status_seconds)
        logging.getLogger("kapconsole.monitor").info("database: %s", services.database_name)
        return run_listener(listener)
    if cmd == "device":
        monitor = services.monitor
        if args.device_command == "list":
            now = datetime.now(UTC)
            for d in monitor.devices(include_inactive=args.all):
                age = "never" if d.last_message_at is None else \
                    f"{(now - d.last_message_at).total_seconds():.0f}s ago"
                offset = "" if d.last_clock_offset is None else f"\tclock {d.last_clock_offset:+.0f}s" + \
                    (" (OFF)" if d.clock_off else "")
                print(f"{d.name}\t{d.room}\t{d.identity_kind.value}={d.identity}\t{d.timezone or 'local'}\t"
                      f"last message {age}{offset}{'' if d.active else chr(9) + 'removed'}")
            return 0
        admin = services.staff.authenticate(args.as_login, secret(f"Password for {args.as_login}: "), workstation)
        if args.device_command == "add":
            d = monitor.add_device(admin, name=args.name, room=args.room, identity_kind=args.identity_kind,
                                   identity=args.identity, timezone=args.timezone,
                                   clock_offset_threshold=args.clock_threshold)
            print(f"added {d.name}: {d.identity_kind.label} {d.identity!r} feeds {d.room}")
        else:
            monitor.remove_device(admin, args.name)
            print(f"removed {args.name}")
        return 0
    actor = services.staff.authenticate(args.as_login, secret(f"Password for {args.as_login}: "), workstation)
    for u in services.monitor.unassigned(actor, limit=max(1, args.limit)):
        when = u.received_at.astimezone().strftime("%Y-%m-%d %H:%M:%S")
        print(f"{u.id}\t{when}\t{u.device_name or u.sender}\t{u.room or '-'}\t{u.readings} readings\t{u.reason}")
    return 0


def _simulate(args: argparse.Namespace) -> int:
    import asyncio

    from kapconsole.services.monitor.simulate import (
        MessageFactory,
        Style,
        bed_id,
        equipment_id,
        send_stream,
        session_stream,
    )

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s", force=True)
    style = Style(args.style)
    identity = ("bed", bed_id(args.room)) if style is Style.GATEWAY else \
        ("sender", equipment_id(args.room)) if style is Style.LOINC else ("equipment", equipment_id(args.room))
    print(f"simulating a {style.value} monitor in {args.room!r} → {args.host}:{args.port}; register it with: "
          f"kapconsole monitor device add NAME --room {args.room!r} --identity-kind {identity[0]} "
          f"--identity {identity[1]!r} --as ADMIN", flush=True)
    factory = MessageFactory(args.room, style, skew=args.skew, sender=equipment_id(args.room))
    seconds = max(1, int(args.minutes * 60))
    try:
        stats = asyncio.run(send_stream(
            args.host, args.port, session_stream(factory, datetime.now(UTC), seconds, seed=args.seed),
            speed=args.speed, drop_acks=args.drop_acks, duplicate=args.duplicate, cut_every=args.cut_every,
            seed=args.seed))
    except ConnectionError as exc:
        print(f"kapconsole: error: {exc}", file=sys.stderr)
        return 1
    print(f"sent {stats.sent}, acknowledged {stats.acked}, rejected {stats.rejected}, re-sent {stats.resent}, "
          f"cut {stats.cuts}")
    return 0 if stats.rejected == 0 else 1


def live_demo(services: Any, port: int) -> int:
    """The demo clinic's live monitor: a listener and a simulated monitor in Room 2, until Ctrl+C."""
    import asyncio
    import contextlib
    import signal

    from kapconsole.services.demo import DEMO_MONITOR_ROOM
    from kapconsole.services.monitor.ingest import MonitorIngest
    from kapconsole.services.monitor.listener import MonitorListener
    from kapconsole.services.monitor.simulate import MessageFactory, Style, send_stream, session_stream

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s", force=True)
    active = [s for s in services.clinic.list_sessions(room=DEMO_MONITOR_ROOM, limit=20) if s.state.is_active]
    dosed = services.records.record(None, active[0].id).first_dose_at if active else None
    # The simulated client is as far into the session as the demo's: the blood pressure rise is at 20–40 min.
    elapsed = (datetime.now(UTC) - dosed).total_seconds() / 60 if dosed is not None else 0.0

    async def main() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            with contextlib.suppress(NotImplementedError):
                loop.add_signal_handler(sig, stop.set)
        listener = MonitorListener(MonitorIngest(services.db, services.monitor.now), host="127.0.0.1", port=port,
                                   workers=1 if services.db.is_sqlite else 2, seal=services.monitor.seal)
        bound = await listener.start()
        print(f"Live monitor for {DEMO_MONITOR_ROOM} on 127.0.0.1:{bound}: open the console, sign in as "
              f"nurse.kim and open {DEMO_MONITOR_ROOM}. Ctrl+C stops it.", flush=True)
        factory = MessageFactory(DEMO_MONITOR_ROOM, Style.MDC)
        try:
            await send_stream("127.0.0.1", bound, session_stream(factory, datetime.now(UTC), 8 * 3600,
                                                                 elapsed_minutes=elapsed), speed=1.0, stop=stop)
        finally:
            await listener.close()

    asyncio.run(main())
    return 0
