"""What a bedside monitor's observation codes and units mean: IEEE 11073 MDC, LOINC and UCUM.

Only codes and units listed here are understood. Anything else is kept as received and reported as unknown;
nothing is guessed from a description text. Sources: IEEE 11073-10101 nomenclature (the numeric "code" is
partition × 65536 + term code; SCADA is partition 2, dimensions partition 4) as used by IHE PCD-01, the LOINC
vital-signs panel (85353-1) and the UCUM units those profiles name.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum


class DeviceMeasure(StrEnum):
    """A numeric a monitor sends that the console understands."""

    SBP = "sbp"
    DBP = "dbp"
    MAP = "map"
    HR = "hr"  # heart rate from the ECG
    PULSE = "pulse"  # pulse rate from the pulse oximeter (or the NIBP cuff)
    SPO2 = "spo2"
    RR = "rr"
    TEMP = "temp"
    ETCO2 = "etco2"

    @property
    def label(self) -> str:
        return MEASURE_INFO[self][0]

    @property
    def unit(self) -> str:
        """The unit the console shows and stores (after conversion)."""
        return MEASURE_INFO[self][1]

    @property
    def decimals(self) -> int:
        return MEASURE_INFO[self][2]

    @property
    def vitals_key(self) -> str | None:
        """The vitals-entry measure this numeric can fill (``None``: stream only, never charted as vitals)."""
        return {"sbp": "sbp", "dbp": "dbp", "hr": "hr", "pulse": "hr", "spo2": "spo2", "rr": "rr",
                "temp": "temp"}.get(self.value)


#: measure → (label, unit shown, decimals kept)
MEASURE_INFO: dict[DeviceMeasure, tuple[str, str, int]] = {
    DeviceMeasure.SBP: ("NIBP systolic", "mmHg", 0),
    DeviceMeasure.DBP: ("NIBP diastolic", "mmHg", 0),
    DeviceMeasure.MAP: ("NIBP mean", "mmHg", 0),
    DeviceMeasure.HR: ("Heart rate (ECG)", "/min", 0),
    DeviceMeasure.PULSE: ("Pulse rate", "/min", 0),
    DeviceMeasure.SPO2: ("SpO2", "%", 0),
    DeviceMeasure.RR: ("Respiratory rate", "/min", 0),
    DeviceMeasure.TEMP: ("Temperature", "°C", 1),
    DeviceMeasure.ETCO2: ("etCO2", "mmHg", 0),
}

#: IEEE 11073 MDC numeric codes (OBX-3 with coding system "MDC").
MDC_CODES: dict[str, DeviceMeasure] = {
    "150021": DeviceMeasure.SBP,  # MDC_PRESS_BLD_NONINV_SYS
    "150022": DeviceMeasure.DBP,  # MDC_PRESS_BLD_NONINV_DIA
    "150023": DeviceMeasure.MAP,  # MDC_PRESS_BLD_NONINV_MEAN
    "150301": DeviceMeasure.SBP,  # MDC_PRESS_CUFF_SYS
    "150302": DeviceMeasure.DBP,  # MDC_PRESS_CUFF_DIA
    "150303": DeviceMeasure.MAP,  # MDC_PRESS_CUFF_MEAN
    "147842": DeviceMeasure.HR,  # MDC_ECG_HEART_RATE
    "149530": DeviceMeasure.PULSE,  # MDC_PULS_OXIM_PULS_RATE
    "149546": DeviceMeasure.PULSE,  # MDC_PULS_RATE_NON_INV (from the NIBP cuff)
    "150456": DeviceMeasure.SPO2,  # MDC_PULS_OXIM_SAT_O2
    "151562": DeviceMeasure.RR,  # MDC_RESP_RATE
    "151578": DeviceMeasure.RR,  # MDC_TTHOR_RESP_RATE (impedance)
    "151594": DeviceMeasure.RR,  # MDC_CO2_RESP_RATE (capnography)
    "150344": DeviceMeasure.TEMP,  # MDC_TEMP
    "150364": DeviceMeasure.TEMP,  # MDC_TEMP_BODY
    "151708": DeviceMeasure.ETCO2,  # MDC_AWAY_CO2_ET
}

#: The same terms by their reference identifiers (sent in OBX-3.2, or alone by some gateways).
MDC_NAMES: dict[str, DeviceMeasure] = {
    "MDC_PRESS_BLD_NONINV_SYS": DeviceMeasure.SBP,
    "MDC_PRESS_BLD_NONINV_DIA": DeviceMeasure.DBP,
    "MDC_PRESS_BLD_NONINV_MEAN": DeviceMeasure.MAP,
    "MDC_PRESS_CUFF_SYS": DeviceMeasure.SBP,
    "MDC_PRESS_CUFF_DIA": DeviceMeasure.DBP,
    "MDC_PRESS_CUFF_MEAN": DeviceMeasure.MAP,
    "MDC_ECG_HEART_RATE": DeviceMeasure.HR,
    "MDC_PULS_OXIM_PULS_RATE": DeviceMeasure.PULSE,
    "MDC_PULS_RATE_NON_INV": DeviceMeasure.PULSE,
    "MDC_PULS_OXIM_SAT_O2": DeviceMeasure.SPO2,
    "MDC_RESP_RATE": DeviceMeasure.RR,
    "MDC_TTHOR_RESP_RATE": DeviceMeasure.RR,
    "MDC_CO2_RESP_RATE": DeviceMeasure.RR,
    "MDC_TEMP": DeviceMeasure.TEMP,
    "MDC_TEMP_BODY": DeviceMeasure.TEMP,
    "MDC_AWAY_CO2_ET": DeviceMeasure.ETCO2,
}

#: LOINC codes (OBX-3 with coding system "LN").
LOINC_CODES: dict[str, DeviceMeasure] = {
    "8480-6": DeviceMeasure.SBP,  # Systolic blood pressure
    "8462-4": DeviceMeasure.DBP,  # Diastolic blood pressure
    "8478-0": DeviceMeasure.MAP,  # Mean blood pressure
    "8867-4": DeviceMeasure.HR,  # Heart rate
    "8889-8": DeviceMeasure.PULSE,  # Heart rate by Pulse oximetry
    "59408-5": DeviceMeasure.SPO2,  # Oxygen saturation in Arterial blood by Pulse oximetry
    "2708-6": DeviceMeasure.SPO2,  # Oxygen saturation in Arterial blood (sent by some oximeters)
    "9279-1": DeviceMeasure.RR,  # Respiratory rate
    "8310-5": DeviceMeasure.TEMP,  # Body temperature
    "19889-5": DeviceMeasure.ETCO2,  # Carbon dioxide/Gas.total at end expiration in Exhaled gas
}

MDC_SYSTEMS = frozenset({"MDC", "MDIL"})
LOINC_SYSTEMS = frozenset({"LN", "LOINC"})


def _same(x: float) -> float:
    return x


def _fahrenheit(x: float) -> float:
    return (x - 32.0) * 5.0 / 9.0


def _kpa(x: float) -> float:
    return x * 7.500617


@dataclass(frozen=True)
class UnitInfo:
    """A unit a monitor may send: its canonical UCUM form, what it measures, and how to reach the console's unit."""

    ucum: str
    dimension: str  # "pressure", "percent", "rate", "temperature"
    to_console: Callable[[float], float]


_MMHG = UnitInfo("mm[Hg]", "pressure", _same)
_KPA = UnitInfo("kPa", "pressure", _kpa)
_PERCENT = UnitInfo("%", "percent", _same)
_PER_MIN = UnitInfo("/min", "rate", _same)
_CEL = UnitInfo("Cel", "temperature", _same)
_FAHR = UnitInfo("[degF]", "temperature", _fahrenheit)

#: Units by the text sent in OBX-6.1 (UCUM codes, MDC dimension codes and their reference identifiers, and the
#: few unambiguous spellings monitors use in practice). Compared exactly, then case-insensitively.
UNITS: dict[str, UnitInfo] = {
    "mm[Hg]": _MMHG, "mmHg": _MMHG, "266016": _MMHG, "MDC_DIM_MMHG": _MMHG,
    "kPa": _KPA, "265987": _KPA, "MDC_DIM_KILO_PASCAL": _KPA,
    "%": _PERCENT, "262688": _PERCENT, "MDC_DIM_PERCENT": _PERCENT,
    "/min": _PER_MIN, "{beats}/min": _PER_MIN, "{beat}/min": _PER_MIN, "{breaths}/min": _PER_MIN,
    "{breath}/min": _PER_MIN, "{resp}/min": _PER_MIN, "bpm": _PER_MIN, "1/min": _PER_MIN,
    "264864": _PER_MIN, "MDC_DIM_BEAT_PER_MIN": _PER_MIN, "264928": _PER_MIN, "MDC_DIM_RESP_PER_MIN": _PER_MIN,
    "Cel": _CEL, "°C": _CEL, "degC": _CEL, "268192": _CEL, "MDC_DIM_DEGC": _CEL,
    "[degF]": _FAHR, "°F": _FAHR, "degF": _FAHR, "266560": _FAHR, "MDC_DIM_FAHR": _FAHR,
}
_UNITS_FOLDED = {k.casefold(): v for k, v in UNITS.items()}

#: Which dimension each measure must come in.
MEASURE_DIMENSION: dict[DeviceMeasure, str] = {
    DeviceMeasure.SBP: "pressure", DeviceMeasure.DBP: "pressure", DeviceMeasure.MAP: "pressure",
    DeviceMeasure.ETCO2: "pressure", DeviceMeasure.HR: "rate", DeviceMeasure.PULSE: "rate",
    DeviceMeasure.RR: "rate", DeviceMeasure.SPO2: "percent", DeviceMeasure.TEMP: "temperature",
}


def measure_for(code: str, system: str, text: str = "") -> DeviceMeasure | None:
    """The measure an OBX-3 identifier names, or ``None`` when the code is not one the console knows.

    ``system`` decides which table applies; a code with no coding system is matched only when it is an MDC
    reference identifier (which cannot be mistaken for anything else).
    """
    code = code.strip()
    system = system.strip().upper()
    if system in MDC_SYSTEMS or system.startswith("MDC"):
        return MDC_CODES.get(code) or MDC_NAMES.get(code.upper()) or MDC_NAMES.get(text.strip().upper())
    if system in LOINC_SYSTEMS:
        return LOINC_CODES.get(code)
    if not system:
        return MDC_NAMES.get(code.upper())
    return None


def unit_info(unit: str) -> UnitInfo | None:
    unit = unit.strip()
    return UNITS.get(unit) or _UNITS_FOLDED.get(unit.casefold())


def convert(measure: DeviceMeasure, value: float, unit: str) -> tuple[float | None, str]:
    """``value`` in the console's unit for ``measure``, or ``(None, reason)`` when the unit does not fit."""
    if not unit.strip():
        return None, f"no unit sent for {measure.label}"
    info = unit_info(unit)
    if info is None:
        return None, f"unknown unit {unit!r} for {measure.label}"
    if info.dimension != MEASURE_DIMENSION[measure]:
        return None, f"unit {unit!r} does not measure {measure.label}"
    return round(info.to_console(value), measure.decimals), ""
