"""A bedside monitor simulator: realistic ORU^R01 numerics over MLLP, in three vendor styles, with faults.

The physiology follows a ketamine session: a blood pressure and heart rate rise between 20 and 40 minutes
after the start, a cuff cycle every five minutes, numerics every second, and now and then an artefact (a
probe that slips, a movement spike). Messages are built with python-hl7 (escaping, separators) and sent with
its MLLP client (``hl7.mllp.open_hl7_connection``).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import random
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from enum import StrEnum

import hl7
from hl7.mllp import open_hl7_connection
from hl7.mllp.streams import CARRIAGE_RETURN, END_BLOCK, START_BLOCK

log = logging.getLogger("kapconsole.monitor.simulate")


class Style(StrEnum):
    MDC = "mdc"  # IHE PCD-01: MDC codes and units, equipment id in OBX-18, times with zone offsets
    LOINC = "loinc"  # LOINC codes, UCUM units, °F and kPa, local times without a zone, OBR-7 only
    GATEWAY = "gateway"  # a vendor gateway: one OBX per message, bed in PV1-3, MDC codes


#: (MDC code, MDC name, MDC unit, LOINC code, LOINC text, UCUM unit) per simulated numeric.
CODES = {
    "hr": ("147842", "MDC_ECG_HEART_RATE", "264864^MDC_DIM_BEAT_PER_MIN", "8867-4", "Heart rate", "/min"),
    "pulse": ("149530", "MDC_PULS_OXIM_PULS_RATE", "264864^MDC_DIM_BEAT_PER_MIN", "8889-8",
              "Heart rate by Pulse oximetry", "{beats}/min"),
    "spo2": ("150456", "MDC_PULS_OXIM_SAT_O2", "262688^MDC_DIM_PERCENT", "59408-5", "SpO2", "%"),
    "rr": ("151562", "MDC_RESP_RATE", "264928^MDC_DIM_RESP_PER_MIN", "9279-1", "Respiratory rate", "/min"),
    "etco2": ("151708", "MDC_AWAY_CO2_ET", "266016^MDC_DIM_MMHG", "19889-5", "End tidal CO2", "kPa"),
    "temp": ("150344", "MDC_TEMP", "268192^MDC_DIM_DEGC", "8310-5", "Body temperature", "[degF]"),
    "sbp": ("150021", "MDC_PRESS_BLD_NONINV_SYS", "266016^MDC_DIM_MMHG", "8480-6", "Systolic blood pressure",
            "mm[Hg]"),
    "dbp": ("150022", "MDC_PRESS_BLD_NONINV_DIA", "266016^MDC_DIM_MMHG", "8462-4", "Diastolic blood pressure",
            "mm[Hg]"),
    "map": ("150023", "MDC_PRESS_BLD_NONINV_MEAN", "266016^MDC_DIM_MMHG", "8478-0", "Mean blood pressure",
            "mm[Hg]"),
}
NUMERICS = ("hr", "pulse", "spo2", "rr", "etco2", "temp")


def equipment_id(room: str) -> str:
    """The OBX-18 identity the simulator uses for a room (register it in the device table)."""
    return "SIM-" + (re.sub(r"[^A-Za-z0-9]+", "-", room).strip("-").upper() or "ROOM")


def bed_id(room: str) -> str:
    return f"KAP^{room}^1"


@dataclass
class Patient:
    """One client's physiology over a session; values at a moment, with artefacts drawn from ``rng``."""

    rng: random.Random
    sbp: float = 122.0
    dbp: float = 78.0
    hr: float = 72.0
    spo2: float = 98.0
    rr: float = 14.0
    etco2: float = 36.0
    temp: float = 36.7
    artefact_rate: float = 1 / 240

    def numerics(self, minute: float) -> tuple[dict[str, float], dict[str, str]]:
        rise = math.sin(math.pi * (minute - 20) / 20) if 20 <= minute <= 40 else 0.0
        noise = self.rng.gauss
        values = {
            "hr": round(self.hr + 10 * rise + noise(0, 1.2)),
            "spo2": min(100, round(self.spo2 + noise(0, 0.5))),
            "rr": round(self.rr + noise(0, 0.8)),
            "etco2": round(self.etco2 + noise(0, 0.7)),
            "temp": round(self.temp + 0.1 * rise + noise(0, 0.02), 1),
        }
        values["pulse"] = values["hr"] + round(noise(0, 1))
        flags: dict[str, str] = {}
        if self.rng.random() < self.artefact_rate:
            kind = self.rng.choice(("probe", "motion"))
            if kind == "probe":  # the probe slips: a low SpO2 the device itself marks questionable
                values["spo2"] = self.rng.randint(72, 84)
                flags["spo2"] = "questionable"
            else:  # movement: an ECG rate spike
                values["hr"] = values["hr"] + self.rng.randint(45, 70)
        return values, flags

    def cuff(self, minute: float) -> dict[str, float]:
        rise = math.sin(math.pi * (minute - 20) / 20) if 20 <= minute <= 40 else 0.0
        sbp = self.sbp + 28 * rise + self.rng.gauss(0, 3)
        dbp = self.dbp + 14 * rise + self.rng.gauss(0, 2)
        if self.rng.random() < 0.05:  # an arm moved during the cycle
            sbp += self.rng.randint(60, 90)
        return {"sbp": round(sbp), "dbp": round(dbp), "map": round((sbp + 2 * dbp) / 3)}


@dataclass
class MessageFactory:
    """ORU^R01 messages for one room in one style; ``skew`` shifts the device clock."""

    room: str
    style: Style = Style.MDC
    skew: float = 0.0
    sender: str = "KAPSIM"
    counter: int = 0
    prefix: str = field(default_factory=lambda: f"{random.getrandbits(32):08X}")

    def _control_id(self) -> str:
        self.counter += 1
        return f"{self.prefix}-{self.counter:08d}"

    def _time(self, moment: datetime) -> str:
        device = moment + timedelta(seconds=self.skew)
        if self.style is Style.LOINC:
            return device.astimezone().strftime("%Y%m%d%H%M%S")  # local time, no zone: as many monitors do
        return device.astimezone(UTC).strftime("%Y%m%d%H%M%S.%f")[:-3] + "+0000"

    def _obx(self, set_id: int, key: str, value: float, flag: str, when: str) -> str:
        mdc, name, mdc_unit, loinc, text, ucum = CODES[key]
        if self.style is Style.LOINC:
            if key == "temp":
                value = round(value * 9 / 5 + 32, 1)
            if key == "etco2":
                value = round(value / 7.500617, 2)
            return f"OBX|{set_id}|NM|{loinc}^{text}^LN||{value:g}|{ucum}^^UCUM||{flag}|||F"
        return (f"OBX|{set_id}|NM|{mdc}^{name}^MDC|1.1.{set_id}|{value:g}|{mdc_unit}^MDC||{flag}|||F|||{when}"
                f"||||{equipment_id(self.room)}^EUI-64")

    def _header(self, when: str) -> str:
        msh = hl7.parse(f"MSH|^~\\&|{self.sender}|KAP|KAPCONSOLE||{when}||ORU^R01^ORU_R01|X|P|2.6|||NE|AL"
                        "||UNICODE UTF-8")
        msh.segment("MSH").assign_field(self._control_id(), 10)
        return str(msh).rstrip("\r")

    def messages(self, moment: datetime, values: dict[str, float], flags: dict[str, str]) -> list[bytes]:
        """The messages a device sends for ``values`` observed at ``moment``."""
        when = self._time(moment)
        room = hl7.parse("MSH|^~\\&|\rPV1||O|").escape(self.room)
        if self.style is Style.GATEWAY:
            out = []
            for key, value in values.items():
                lines = [self._header(when), f"PV1||O|KAP^{room}^1", self._obx(1, key, value, flags.get(key, ""), when)]
                out.append(("\r".join(lines) + "\r").encode("utf-8"))
            return out
        lines = [self._header(when), f"PV1||O|KAP^{room}^1",
                 f"OBR|1|||182777000^monitoring of patient^SCT|||{when}"]
        lines += [self._obx(i, key, value, flags.get(key, ""), when) for i, (key, value) in
                  enumerate(values.items(), start=1)]
        return [("\r".join(lines) + "\r").encode("utf-8")]


def session_stream(factory: MessageFactory, start: datetime, seconds: int, *, seed: int = 1,
                   cuff_every: int = 300, elapsed_minutes: float = 0.0) -> Iterator[tuple[datetime, bytes]]:
    """(observation time, message) for ``seconds`` of a session from ``start``, one numerics set per second.

    ``elapsed_minutes``: how far into the session ``start`` is (the blood pressure rise is at 20–40 minutes).
    """
    patient = Patient(random.Random(seed))
    for second in range(seconds):
        moment = start + timedelta(seconds=second)
        minute = elapsed_minutes + second / 60
        values, flags = patient.numerics(minute)
        if second % cuff_every == 30:
            values.update(patient.cuff(minute))
        for message in factory.messages(moment, values, flags):
            yield moment, message


@dataclass
class SimStats:
    sent: int = 0
    acked: int = 0
    rejected: int = 0
    resent: int = 0
    cuts: int = 0
    latencies: list[float] = field(default_factory=list)
    acked_ids: list[str] = field(default_factory=list)


async def send_stream(host: str, port: int, stream: Iterator[tuple[datetime, bytes]], *, speed: float = 1.0,
                      drop_acks: float = 0.0, duplicate: float = 0.0, cut_every: int = 0, seed: int = 2,
                      realtime_start: datetime | None = None, stop: asyncio.Event | None = None,
                      stats: SimStats | None = None, timeout: float = 10.0) -> SimStats:
    """Send each message and wait for its ACK; re-send until acknowledged, as a monitor does.

    ``speed``: simulated seconds per real second (0: as fast as ACKs come). ``drop_acks``: the share of ACKs
    "lost" (the connection is dropped before reading it, then the message is sent again). ``duplicate``: the
    share sent twice. ``cut_every``: every Nth message the connection is cut halfway through the frame.
    """
    rng = random.Random(seed)
    stats = stats or SimStats()
    loop = asyncio.get_running_loop()
    first_at: datetime | None = None
    began = loop.time()
    conn: tuple[asyncio.StreamReader, asyncio.StreamWriter] | None = None

    async def connect() -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        for attempt in range(200):
            try:
                return await open_hl7_connection(host, port)  # type: ignore[no-any-return]
            except OSError:
                await asyncio.sleep(min(0.05 * (attempt + 1), 1.0))
        raise ConnectionError(f"cannot reach {host}:{port}")

    async def close() -> None:
        nonlocal conn
        if conn is not None:
            conn[1].close()
            with contextlib.suppress(Exception):
                await conn[1].wait_closed()
        conn = None

    try:
        for index, (moment, message) in enumerate(stream, start=1):
            if stop is not None and stop.is_set():
                break
            first_at = first_at or moment
            if speed > 0:
                due = began + (moment - first_at).total_seconds() / speed
                delay = due - loop.time()
                if delay > 0:
                    await asyncio.sleep(delay)
            copies = 2 if rng.random() < duplicate else 1
            for _ in range(copies):
                cut = cut_every > 0 and index % cut_every == 0
                while True:
                    if conn is None:
                        conn = await connect()
                    reader, writer = conn
                    sent_at = loop.time()
                    if cut:
                        # Half a frame, then the connection goes: the listener must store nothing of it.
                        writer.write(START_BLOCK + message[: len(message) // 2])
                        await writer.drain()
                        await close()
                        stats.cuts += 1
                        cut = False
                        continue
                    writer.writeblock(message)  # type: ignore[attr-defined]
                    await writer.drain()
                    stats.sent += 1
                    if rng.random() < drop_acks:
                        # The ACK is "lost": drop the line without reading it, reconnect and send again.
                        await close()
                        stats.resent += 1
                        continue
                    try:
                        ack = await asyncio.wait_for(reader.readblock(), timeout)  # type: ignore[attr-defined]
                    except (TimeoutError, asyncio.IncompleteReadError, ConnectionError, OSError):
                        await close()
                        stats.resent += 1
                        continue
                    stats.latencies.append(loop.time() - sent_at)
                    code, control_id = _ack_fields(ack)
                    if code == "AA":
                        stats.acked += 1
                        stats.acked_ids.append(control_id)
                    else:
                        stats.rejected += 1
                        log.warning("message %s answered %s: %s", index, code, ack.decode("utf-8", "replace"))
                    break
    finally:
        await close()
    return stats


def _ack_fields(ack: bytes) -> tuple[str, str]:
    """MSA-1 (the acknowledgement code) and MSA-2 (the control id it acknowledges)."""
    try:
        msa = hl7.parse(ack.decode("utf-8", "replace")).segment("MSA")
        return str(msa(1)), str(msa(2)) if len(msa) > 2 else ""
    except Exception:  # a reply that is not an ACK counts as a failure, not as a crash
        return "??", ""


__all__ = ["CARRIAGE_RETURN", "END_BLOCK", "MessageFactory", "Patient", "SimStats", "Style", "bed_id",
           "equipment_id", "send_stream", "session_stream"]
