"""The MLLP listener: python-hl7's asyncio server, one task per connected device, ACK only after storing.

Framing is python-hl7's (``hl7.mllp``). On top of it the listener survives what real networks and devices do:
bytes before a start block (dropped, counted), a message larger than the limit (AR, the rest skipped), a peer
that disconnects mid-message (nothing acknowledged, nothing stored), and any number of devices at once. Storing
runs in a worker thread so one slow commit does not stall the other connections; each connection's messages
are stored in the order they came.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from asyncio import IncompleteReadError, LimitOverrunError
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from hl7.mllp import HL7StreamProtocol, HL7StreamReader, HL7StreamWriter, InvalidBlockError
from hl7.mllp.streams import CARRIAGE_RETURN, END_BLOCK, START_BLOCK

from kapconsole.domain.monitor.values import IngestResult
from kapconsole.services.monitor.hl7_parse import build_ack
from kapconsole.services.monitor.ingest import MonitorIngest

log = logging.getLogger("kapconsole.monitor")
DEFAULT_PORT = 2575
DEFAULT_MAX_BYTES = 1_000_000


class Oversized(Exception):
    """A block longer than the listener's limit."""


class GarbageOnly(Exception):
    """Bytes up to an end block with no start block before them."""


class TolerantReader(HL7StreamReader):
    """python-hl7's MLLP reader, dropping bytes that precede the start block instead of refusing the block."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.garbage_bytes = 0

    async def readblock(self) -> bytes:  # type: ignore[override]
        sep = END_BLOCK + CARRIAGE_RETURN
        try:
            block = await self.readuntil(sep)
        except LimitOverrunError as exc:
            # As hl7.mllp does: drop what was read so far; the rest of the block arrives as garbage.
            if self._buffer.startswith(sep, exc.consumed):  # type: ignore[attr-defined]
                del self._buffer[: exc.consumed + len(sep)]  # type: ignore[attr-defined]
            else:
                self._buffer.clear()  # type: ignore[attr-defined]
            self._maybe_resume_transport()  # type: ignore[attr-defined]
            raise Oversized(str(exc)) from None
        start = block.rfind(START_BLOCK)
        if start < 0:
            self.garbage_bytes += len(block)
            raise GarbageOnly(f"{len(block)} bytes without a start block")
        self.garbage_bytes += start
        return bytes(block[start + 1: -len(sep)])


@dataclass
class Connection:
    peer: str
    since: datetime
    messages: int = 0
    readings: int = 0
    duplicates: int = 0
    rejected: int = 0
    device: str = ""
    room_session: str = ""
    clock_offset: float | None = None
    last_at: datetime | None = None
    garbage: int = 0
    unusable: int = 0
    reported: set[str] = field(default_factory=set)

    def status(self, now: datetime) -> str:
        age = f"{(now - self.last_at).total_seconds():.0f}s ago" if self.last_at else "none yet"
        offset = "?" if self.clock_offset is None else f"{self.clock_offset:+.0f}s"
        return (f"{self.peer} {self.device or '(unregistered)'} {self.room_session}: {self.messages} messages, "
                f"{self.readings} readings ({self.unusable} kept but not usable), {self.duplicates} duplicates, "
                f"{self.rejected} rejected, last {age}, clock {offset}")


@dataclass
class ListenerStats:
    connections: dict[int, Connection] = field(default_factory=dict)
    accepted: int = 0
    stored_messages: int = 0


class MonitorListener:
    """Serve MLLP on ``host``:``port``; ``port`` 0 picks a free one (see :attr:`port` once started)."""

    def __init__(self, ingest: MonitorIngest, *, host: str = "127.0.0.1", port: int = DEFAULT_PORT,
                 max_bytes: int = DEFAULT_MAX_BYTES, workers: int = 1,
                 seal: Callable[[], int] | None = None, seal_seconds: float = 60.0,
                 status_seconds: float = 60.0) -> None:
        self.ingest = ingest
        self.host = host
        self.port = port
        self.max_bytes = max_bytes
        self.seal = seal
        self.seal_seconds = seal_seconds
        self.status_seconds = status_seconds
        self.stats = ListenerStats()
        self._executor = ThreadPoolExecutor(max_workers=max(1, workers), thread_name_prefix="monitor-store")
        self._server: asyncio.base_events.Server | None = None
        self._tasks: set[asyncio.Task[Any]] = set()

    async def start(self) -> int:
        loop = asyncio.get_running_loop()

        def factory() -> HL7StreamProtocol:
            reader = TolerantReader(limit=self.max_bytes, loop=loop)
            return HL7StreamProtocol(reader, self._on_client, loop=loop)

        # hl7.mllp.start_hl7_server with python-hl7's protocol and writer; only the reader is ours (above).
        self._server = await loop.create_server(factory, self.host, self.port, reuse_address=True)
        self.port = self._server.sockets[0].getsockname()[1]
        log.info("listening for HL7 v2 over MLLP on %s:%s (messages up to %s bytes)", self.host, self.port,
                 self.max_bytes)
        for coro in (self._seal_loop(), self._status_loop()):
            task = asyncio.create_task(coro)
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
        return self.port

    async def serve_until(self, stop: asyncio.Event) -> None:
        await self.start()
        await stop.wait()
        await self.close()

    async def close(self) -> None:
        if self._server is not None:
            self._server.close()
            for task in list(self._tasks):
                task.cancel()
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._server.wait_closed(), 5)
        if self.seal is not None:
            try:
                await asyncio.get_running_loop().run_in_executor(self._executor, self.seal)
            except Exception:
                log.exception("sealing the device stream on shutdown failed")
        self._executor.shutdown(wait=True)
        log.info("listener stopped")

    async def _on_client(self, reader: TolerantReader, writer: HL7StreamWriter) -> None:
        peername = writer.get_extra_info("peername")
        peer = f"{peername[0]}:{peername[1]}" if isinstance(peername, tuple) else str(peername)
        conn = Connection(peer, datetime.now(UTC))
        self.stats.accepted += 1
        self.stats.connections[id(conn)] = conn
        log.info("connected: %s", peer)
        task = asyncio.current_task()
        if task is not None:
            self._tasks.add(task)
        loop = asyncio.get_running_loop()
        reason = "closed by the peer"
        try:
            while True:
                try:
                    block = await reader.readblock()
                except IncompleteReadError as exc:
                    if exc.partial.strip(b"\r\n\x00 "):
                        reason = f"closed mid-message ({len(exc.partial)} bytes discarded, not acknowledged)"
                    break
                except GarbageOnly as exc:
                    conn.garbage = reader.garbage_bytes
                    log.warning("%s: skipped %s", peer, exc)
                    continue
                except Oversized:
                    conn.rejected += 1
                    log.warning("%s: message larger than %s bytes rejected", peer, self.max_bytes)
                    writer.writeblock(build_ack(None, "AR", f"message larger than {self.max_bytes} bytes"))
                    await writer.drain()
                    continue
                if reader.garbage_bytes != conn.garbage:
                    log.warning("%s: skipped %s bytes before a start block", peer, reader.garbage_bytes - conn.garbage)
                    conn.garbage = reader.garbage_bytes
                result, ack = await loop.run_in_executor(self._executor, self.ingest.ingest, block, peer)
                self._count(conn, result)
                writer.writeblock(ack)
                await writer.drain()
        except (ConnectionError, OSError) as exc:
            reason = f"connection lost ({exc.__class__.__name__})"
        except asyncio.CancelledError:
            reason = "listener stopping"
            raise
        finally:
            self.stats.connections.pop(id(conn), None)
            log.info("disconnected: %s, %s; %s", peer, reason, conn.status(datetime.now(UTC)))
            writer.close()
            with contextlib.suppress(Exception):
                await writer.wait_closed()

    def _count(self, conn: Connection, result: IngestResult) -> None:
        now = datetime.now(UTC)
        first = conn.messages == 0
        conn.messages += 1
        conn.last_at = now
        if result.ack_code != "AA":
            conn.rejected += 1
            log.warning("%s: %s %s: %s", conn.peer, result.ack_code, result.control_id[:40] or "(no id)",
                        result.reason)
            return
        if result.duplicate:
            conn.duplicates += 1
        conn.readings += result.stored_readings
        conn.unusable += result.unusable_readings
        for problem in result.problems:
            if problem not in conn.reported and len(conn.reported) < 100:
                # Each distinct reason once per connection: unknown codes and units are reported, never guessed.
                conn.reported.add(problem)
                log.warning("%s: kept, not usable: %s", conn.peer, problem)
        conn.clock_offset = result.clock_offset
        conn.device = result.device_name
        conn.room_session = f"session {result.session_id}" if result.session_id else "unassigned"
        self.stats.stored_messages += 0 if result.duplicate else 1
        if first:
            log.info("%s", conn.status(now))
            if result.reason and not result.duplicate:
                log.info("%s: %s", conn.peer, result.reason)

    async def _seal_loop(self) -> None:
        if self.seal is None:
            return
        loop = asyncio.get_running_loop()
        while True:
            await asyncio.sleep(self.seal_seconds)
            try:
                sealed = await loop.run_in_executor(self._executor, self.seal)
                if sealed:
                    log.info("device stream digest: %s readings sealed", sealed)
            except Exception:
                log.exception("sealing the device stream failed")

    async def _status_loop(self) -> None:
        while True:
            await asyncio.sleep(self.status_seconds)
            now = datetime.now(UTC)
            for conn in list(self.stats.connections.values()):
                log.info("status %s", conn.status(now))


def run(listener: MonitorListener) -> int:
    """Run in the foreground until SIGINT or SIGTERM (systemd's stop); exit status 0 after a clean stop."""

    async def main() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            with contextlib.suppress(NotImplementedError):
                loop.add_signal_handler(sig, stop.set)
        await listener.serve_until(stop)

    asyncio.run(main())
    return 0


__all__ = ["DEFAULT_PORT", "InvalidBlockError", "MonitorListener", "TolerantReader", "run"]
