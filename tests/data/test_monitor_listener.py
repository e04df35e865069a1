"""The MLLP listener on real loopback sockets: simulator faults, hostile framing, many devices, kill -9."""

from __future__ import annotations

import asyncio
import os
import re
import signal
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import text

from kapconsole.domain.values import Actor
from kapconsole.services import Services
from kapconsole.services.monitor.ingest import MonitorIngest
from kapconsole.services.monitor.listener import MonitorListener
from kapconsole.services.monitor.simulate import (
    MessageFactory,
    SimStats,
    Style,
    equipment_id,
    send_stream,
    session_stream,
)
from tests.conftest import FakeClock
from tests.data.helpers import dosed

ROOT = Path(__file__).resolve().parents[2]
VT, FS, CR = b"\x0b", b"\x1c", b"\r"


def counts(services: Services) -> tuple[int, int, int]:
    with services.db.read() as s:
        messages = s.execute(text("SELECT count(*), count(DISTINCT control_id) FROM monitor_messages")).one()
        readings = s.execute(text("SELECT count(*) FROM monitor_readings")).scalar_one()
    return int(messages[0]), int(messages[1]), int(readings)


def expected(style: Style, seconds: int) -> tuple[int, int]:
    """(messages, readings) one simulated device sends for ``seconds`` (cuff cycle at second 30)."""
    factory = MessageFactory("Room 1", style)
    msgs = list(session_stream(factory, datetime(2026, 11, 29, 10, tzinfo=UTC), seconds))
    readings = sum(m.count(b"\rOBX|") for _, m in msgs)
    return len(msgs), readings


def test_simulator_faults_lose_nothing_and_store_nothing_twice(
        services: Services, staff: dict[str, Actor], clock: FakeClock) -> None:
    for style in Style:
        kind, identity = {"mdc": ("equipment", equipment_id("Room mdc")), "loinc": ("sender", "LOINC-SIM"),
                          "gateway": ("bed", "KAP^Room gateway^1")}[style.value]
        services.monitor.add_device(staff["administrator"], name=f"{style} monitor", room=f"Room {style}",
                                    identity_kind=kind, identity=identity)
    sid = dosed(services, staff, clock)
    ingest = MonitorIngest(services.db, lambda: datetime.now(UTC))

    async def scenario() -> list[SimStats]:
        listener = MonitorListener(ingest, port=0, workers=1 if services.db.is_sqlite else 3)
        port = await listener.start()
        try:
            runs = []
            for i, style in enumerate(Style):
                factory = MessageFactory(f"Room {style}", style,
                                         sender="LOINC-SIM" if style is Style.LOINC else "KAPSIM")
                runs.append(send_stream("127.0.0.1", port, session_stream(factory, datetime.now(UTC), 45, seed=i),
                                        speed=0, drop_acks=0.15, duplicate=0.15, cut_every=7, seed=i))
            return list(await asyncio.gather(*runs))
        finally:
            await listener.close()

    stats = asyncio.run(scenario())
    want_messages = sum(expected(style, 45)[0] for style in Style)
    want_readings = sum(expected(style, 45)[1] for style in Style)
    assert sum(s.acked for s in stats) >= want_messages and all(s.rejected == 0 for s in stats)
    assert all(s.resent > 0 and s.cuts > 0 for s in stats)  # the faults really happened
    stored, distinct, readings = counts(services)
    assert stored == distinct == want_messages
    assert readings == want_readings
    assert services.monitor.stream(None, sid) == []  # Room 1 has a session, but no device of Room 1 sent
    with services.db.read() as s:
        placed = s.execute(text("SELECT count(*) FROM monitor_readings WHERE session_id IS NULL")).scalar_one()
    assert placed == readings  # no room of theirs has a session: all kept, all unassigned
    assert {d.name: d.last_message_at is not None for d in services.monitor.devices()} == {
        "mdc monitor": True, "loinc monitor": True, "gateway monitor": True}


def test_garbage_partial_frames_oversize_and_vanishing_peers(services: Services, clock: FakeClock) -> None:
    ingest = MonitorIngest(services.db, lambda: datetime.now(UTC))
    factory = MessageFactory("Room 9", Style.MDC)
    msgs = [m for _, m in session_stream(factory, datetime.now(UTC), 4)]

    async def scenario() -> list[bytes]:
        listener = MonitorListener(ingest, port=0, max_bytes=20_000)
        port = await listener.start()
        replies: list[bytes] = []
        try:
            # 1. A peer that vanishes mid-message: nothing stored, nothing acknowledged.
            _, w = await asyncio.open_connection("127.0.0.1", port)
            w.write(VT + msgs[0][: len(msgs[0]) // 2])
            await w.drain()
            w.close()
            # 2. Garbage before and between frames, a frame split into tiny writes, an oversized frame.
            r, w = await asyncio.open_connection("127.0.0.1", port)
            stream = (b"\x00\xffGET / HTTP/1.0\r\n" + VT + msgs[0] + FS + CR + b"\r\n\r\nnoise" + VT + msgs[1] + FS + CR
                      + VT + b"MSH|" + b"x" * 30_000 + FS + CR)
            for i in range(0, len(stream), 7):
                w.write(stream[i:i + 7])
                await w.drain()
            w.write(VT + msgs[2] + FS + CR)
            await w.drain()
            for _ in range(4):
                replies.append(await asyncio.wait_for(r.readuntil(FS + CR), 10))
            # The listener survived all of it: a new device still gets through.
            r2, w2 = await asyncio.open_connection("127.0.0.1", port)
            w2.write(VT + msgs[3] + FS + CR)
            await w2.drain()
            replies.append(await asyncio.wait_for(r2.readuntil(FS + CR), 10))
            w.close()
            w2.close()
        finally:
            await listener.close()
        return replies

    replies = asyncio.run(scenario())
    codes = [re.search(rb"MSA\|(\w\w)", r).group(1) for r in replies]  # type: ignore[union-attr]
    assert codes == [b"AA", b"AA", b"AR", b"AA", b"AA"]
    assert b"larger than 20000 bytes" in replies[2]
    stored, distinct, _ = counts(services)
    assert stored == distinct == 4


def test_many_devices_at_once(services: Services, staff: dict[str, Actor]) -> None:
    rooms = [f"Room {i}" for i in range(1, 9)]
    for room in rooms:
        services.monitor.add_device(staff["administrator"], name=f"{room} monitor", room=room,
                                    identity_kind="equipment", identity=equipment_id(room))
    ingest = MonitorIngest(services.db, lambda: datetime.now(UTC))

    async def scenario() -> list[SimStats]:
        listener = MonitorListener(ingest, port=0, workers=1 if services.db.is_sqlite else 4)
        port = await listener.start()
        try:
            return list(await asyncio.gather(*(
                send_stream("127.0.0.1", port, session_stream(MessageFactory(room), datetime.now(UTC), 20), speed=0)
                for room in rooms)))
        finally:
            await listener.close()

    stats = asyncio.run(scenario())
    assert [s.acked for s in stats] == [20] * 8
    assert {d.name: d.last_message_at is not None for d in services.monitor.devices()} == {
        f"{room} monitor": True for room in rooms}
    assert counts(services)[0] == 160


def _start_listener(url: str, port: int = 0) -> tuple[subprocess.Popen[str], int]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen([sys.executable, "-m", "kapconsole.cli", "--database", url, "monitor", "listen",
                             "--host", "127.0.0.1", "--port", str(port), "--seal-seconds", "3600"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, env=env, cwd=ROOT)
    assert proc.stderr is not None
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        line = proc.stderr.readline()
        found = re.search(r"listening .* on 127\.0\.0\.1:(\d+)", line)
        if found:
            # Keep draining its log so the pipe never fills.
            threading.Thread(target=proc.stderr.read, daemon=True).start()
            return proc, int(found.group(1))
        if not line and proc.poll() is not None:
            break
    proc.kill()
    raise AssertionError("the listener did not start")


@pytest.mark.slow
def test_kill_9_mid_stream_every_acked_reading_survives_once(database_url: str, tmp_path: Path) -> None:
    Services.open(database_url).close()
    listener, port = _start_listener(database_url)
    factory = MessageFactory("Room 1", Style.MDC)
    want_messages, want_readings = expected(Style.MDC, 240)
    stats = SimStats()
    done = threading.Event()

    def simulate() -> None:
        try:
            asyncio.run(send_stream("127.0.0.1", port, session_stream(factory, datetime.now(UTC), 240),
                                    speed=0, stats=stats, timeout=5))
        finally:
            done.set()

    sender = threading.Thread(target=simulate, daemon=True)
    sender.start()
    services = Services.open(database_url)
    try:
        restarts = 0
        for threshold in (40, 120):
            deadline = time.monotonic() + 120
            while stats.acked < threshold and time.monotonic() < deadline:
                time.sleep(0.01)
            listener.send_signal(signal.SIGKILL)
            listener.wait(10)
            acked_before_kill = list(stats.acked_ids)
            listener, _ = _start_listener(database_url, port)
            restarts += 1
            with services.db.read() as s:
                stored_ids = set(s.scalars(text("SELECT control_id FROM monitor_messages")))
            assert set(acked_before_kill) <= stored_ids  # every ACKed message was durably stored
        assert done.wait(180), "the simulated monitor did not finish"
        sender.join()
        stored, distinct, readings = counts(services)
        assert restarts == 2
        assert stats.acked >= want_messages
        assert stored == distinct == want_messages  # every message once
        assert readings == want_readings  # every reading once
        with services.db.read() as s:
            stored_ids = set(s.scalars(text("SELECT control_id FROM monitor_messages")))
        assert set(stats.acked_ids) == stored_ids
    finally:
        listener.send_signal(signal.SIGTERM)
        try:
            listener.wait(20)
        except subprocess.TimeoutExpired:
            listener.kill()
        services.close()
