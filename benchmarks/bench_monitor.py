"""Bedside monitor capture: sustained ingest, ACK latency, and the session chart with a six-hour stream.

Ingest: 8 rooms, each a simulated monitor sending one ORU^R01 a second with 6 numerics (plus a cuff cycle every
5 minutes), 10 minutes of simulated time, sent as fast as ACKs come, through the real listener over loopback
TCP into a real database (each message stored and committed before its ACK). Baseline: the same senders
against a bare MLLP echo (python-hl7's server answering each block at once, storing nothing).

Latency: the same 8 rooms paced at their real rate (1 message a second each), the time from a message's last
byte leaving the sender to its ACK arriving (received → stored → ACK), p99, against the same bare echo.

Chart: the session chart at the end of a six-hour stream (5 channels × 21,600 samples through
``append_stream``, plus the charted readings), one sample added and repainted per step, against a bare
pyqtgraph plot of the same points with plain lines.
"""

from __future__ import annotations

import asyncio
import tempfile
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from benchmarks.common import PG_ADMIN_URL, Result, Stats, describe, interleaved, make_staff, ms, not_measured

ROOMS = 8
SIMULATED_SECONDS = 600
PACED_SECONDS = 20
THROUGHPUT_TARGET = 8.0  # messages a second: the 8 rooms in real time
LATENCY_TARGET_MS = 250.0


def _prepare(url: str) -> Any:
    from kapconsole.services import Services
    from kapconsole.services.monitor.simulate import equipment_id

    services = Services.open(url)
    staff = make_staff(services)
    admin, nurse = staff["administrator"], staff["medical"]
    client = services.clinic.add_client(admin, identifier="BENCH-1", name="Bench Client")
    for i in range(ROOMS):
        room = f"Room {i + 1}"
        services.monitor.add_device(admin, name=f"{room} monitor", room=room, identity_kind="equipment",
                                    identity=equipment_id(room))
        info = services.clinic.plan_session(nurse, client_id=client.id, course_id=None, room=room,
                                            route="sublingual", planned_drug="Ketamine", planned_dose=200,
                                            scheduled_at=datetime.now(UTC))
        services.records.start_session(nurse, info.id)
    return services


async def _echo_server() -> tuple[Any, int]:
    from hl7.mllp import start_hl7_server

    from kapconsole.services.monitor.hl7_parse import build_ack

    ack = build_ack(None, "AA")

    async def client(reader: Any, writer: Any) -> None:
        try:
            while True:
                await reader.readblock()
                writer.writeblock(ack)
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()

    server = await start_hl7_server(client, "127.0.0.1", 0)
    return server, server.sockets[0].getsockname()[1]


async def _send(port: int, seconds: int, speed: float, prefix: str) -> tuple[float, list[float], int]:
    from kapconsole.services.monitor.simulate import MessageFactory, SimStats, send_stream, session_stream

    loop = asyncio.get_running_loop()
    start = datetime.now(UTC) - timedelta(seconds=seconds)
    stats = [SimStats() for _ in range(ROOMS)]
    began = loop.time()
    await asyncio.gather(*(
        send_stream("127.0.0.1", port, session_stream(MessageFactory(f"Room {i + 1}", prefix=f"{prefix}{i}"),
                                                      start, seconds, seed=i), speed=speed, stats=stats[i])
        for i in range(ROOMS)))
    took = loop.time() - began
    return took, [lat for s in stats for lat in s.latencies], sum(s.acked for s in stats)


def _run_pair(url: str, seconds: int, speed: float) -> tuple[tuple[float, list[float], int],
                                                             tuple[float, list[float], int], int]:
    from kapconsole.services.monitor.ingest import MonitorIngest
    from kapconsole.services.monitor.listener import MonitorListener

    services = _prepare(url)
    try:
        async def scenario() -> tuple[tuple[float, list[float], int], tuple[float, list[float], int]]:
            listener = MonitorListener(MonitorIngest(services.db, lambda: datetime.now(UTC)), port=0,
                                       workers=1 if services.db.is_sqlite else 4, status_seconds=3600)
            port = await listener.start()
            server, echo_port = await _echo_server()
            try:
                echo = await _send(echo_port, seconds, speed, "E")
                ours = await _send(port, seconds, speed, "O")
            finally:
                server.close()
                await listener.close()
            return ours, echo

        ours, echo = asyncio.run(scenario())
        with services.db.read() as s:
            from sqlalchemy import text

            stored = int(s.execute(text("SELECT count(*) FROM monitor_readings")).scalar_one())
        return ours, echo, stored
    finally:
        services.close()


def _ingest_rows(label: str, url: str, paced_url: str) -> list[Result]:
    import logging

    logging.getLogger("kapconsole.monitor").setLevel(logging.WARNING)
    name = f"monitor ingest, {label}: {ROOMS} rooms × 1 msg/s × 6 numerics, 10 min simulated"
    (took, _lat, acked), (echo_took, _elat, echo_acked), stored = _run_pair(url, SIMULATED_SECONDS, 0)
    rate, echo_rate = acked / took, echo_acked / echo_took
    result = Result(name, f"{took:.1f} s ({rate:.0f} msg/s, {stored} readings stored)",
                    f"bare MLLP echo: {echo_took:.1f} s ({echo_rate:.0f} msg/s)", took / echo_took,
                    f"≥ {THROUGHPUT_TARGET:g} msg/s (real time)", rate >= THROUGHPUT_TARGET and acked == echo_acked,
                    [f"{acked} messages, each stored and committed before its ACK; 10 min of 8 rooms is "
                     f"{ROOMS * SIMULATED_SECONDS / 60 * 60 / took:.0f}× faster than real time"])
    lat_name = f"monitor ACK latency p99, {label} (received → stored → ACK, 8 rooms at 1 msg/s)"
    (_t, lat, _a), (_et, elat, _ea), _stored = _run_pair(paced_url, PACED_SECONDS, 1.0)
    ours, base = Stats.of(lat), Stats.of(elat)
    latency = Result(lat_name, describe(ours, p99=True), f"bare MLLP echo: {describe(base, p99=True)}",
                     ours.p99 / base.p99, f"p99 < {LATENCY_TARGET_MS:g} ms", ours.p99 * 1000 < LATENCY_TARGET_MS,
                     [f"{len(lat)} messages over {PACED_SECONDS} s; the echo's p99 is the loopback and framing "
                      f"cost alone ({ms(base.p99)} ms)"])
    return [result, latency]


def _chart_row() -> Result:
    from benchmarks.bench_chart import BareChart, app, series

    name = "session chart: monitor sample + repaint, six-hour stream (5 stream channels × 21,600)"
    channels = ("sbp", "dbp", "hr", "spo2", "rr")
    seconds = 6 * 60 * 60
    steps = 200
    qapp = app()
    data = series(seconds + steps + 2)
    data["rr"] = 14 + (data["hr"] - 72) / 4
    from kapconsole.ui.session.vitals_chart import VitalsChart

    origin = datetime(2026, 11, 29, 8, tzinfo=UTC)
    chart = VitalsChart()
    chart.resize(1200, 600)
    chart._origin = origin  # noqa: SLF001 - a session's first dose: what set_record would set
    chart.show()
    for i in range(seconds):
        chart.append_stream(origin + timedelta(seconds=i), {k: float(data[k][i]) for k in channels})
    chart.flush()
    bare = BareChart(seconds + steps + 2)
    bare.widget.resize(1200, 600)
    bare.widget.show()
    bare.load(data, seconds)
    qapp.processEvents()  # type: ignore[attr-defined]
    state = {"ours": seconds, "bare": seconds}

    def step_ours() -> None:
        i = state["ours"]
        chart.append_stream(origin + timedelta(seconds=i), {k: float(data[k][i]) for k in channels})
        chart.flush()
        chart.grab()
        state["ours"] = i + 1

    def step_bare() -> None:
        i = state["bare"]
        bare.add(i / 60.0, {k: float(data[k][i]) for k in ("sbp", "dbp", "hr", "spo2")})
        bare.widget.grab()
        state["bare"] = i + 1

    chart.grab()
    bare.widget.grab()
    ours, base = interleaved(step_ours, step_bare, steps)
    chart.close()
    bare.widget.close()
    ratio = ours.median / base.median
    return Result(name, describe(ours), f"bare pyqtgraph, 4 solid curves: {describe(base)}", ratio,
                  "≤ 1.5× and < 16 ms", ratio <= 1.5 and ours.median * 1000 < 16,
                  [f"p99 {ours.p99 * 1000:.1f} ms vs {base.p99 * 1000:.1f} ms; ours draws 5 stream curves "
                   "(one more than the baseline), legend, grid and threshold axis"])


def run() -> list[Result]:
    results: list[Result] = []
    with tempfile.TemporaryDirectory() as folder:
        results += _ingest_rows("SQLite", f"sqlite:///{Path(folder) / 'bench.db'}",
                                f"sqlite:///{Path(folder) / 'paced.db'}")
    results += _guarded("PostgreSQL", _pg_rows)
    results.append(_chart_row())
    return results


def _pg_rows() -> list[Result]:
    import uuid

    import psycopg
    from sqlalchemy.engine import make_url

    admin = PG_ADMIN_URL.replace("postgresql+psycopg://", "postgresql://")
    names = [f"kap_bench_{uuid.uuid4().hex[:10]}" for _ in range(2)]
    with psycopg.connect(admin, autocommit=True, connect_timeout=3) as conn:
        for name in names:
            conn.execute(f'CREATE DATABASE "{name}"')
    try:
        urls = [make_url(PG_ADMIN_URL).set(database=n).render_as_string(hide_password=False) for n in names]
        return _ingest_rows("PostgreSQL", urls[0], urls[1])
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            for name in names:
                conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _guarded(label: str, fn: Callable[[], list[Result]]) -> list[Result]:
    try:
        return fn()
    except Exception as exc:  # an unreachable server is a row that says so, not a crashed run
        return [not_measured(f"monitor ingest, {label}", f"{type(exc).__name__}: {str(exc)[:80]}")]
