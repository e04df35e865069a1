"""ORU^R01 parsing: message texts written from IHE PCD-01 (MDC), the LOINC vital-signs panel, and a gateway."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from kapconsole.domain.monitor.codes import DeviceMeasure, convert, measure_for
from kapconsole.domain.monitor.values import (
    Device,
    IdentityKind,
    TimeSource,
    match_device,
    parse_hl7_time,
)
from kapconsole.services.monitor.hl7_parse import (
    MessageRejected,
    build_ack,
    decode,
    observation_time,
    parse_message,
    parse_oru,
)

# IHE PCD-01 style: MDC codes and MDC units, one OBR, equipment EUI-64 in OBX-18, zone offsets on every time.
MDC_MESSAGE = "\r".join([
    "MSH|^~\\&|MINDRAY_D_SERIES^00A037009A0000E5^EUI-64|KAP|KAPCONSOLE||20261129101502+0100||ORU^R01^ORU_R01|"
    "A1B2C3|P|2.6|||NE|AL||UNICODE UTF-8|||IHE_PCD_001^IHE PCD^1.3.6.1.4.1.19376.1.6.1.1.1^ISO",
    "PID|||KAP-1041^^^KAP^MR||Okafor^Daniel",
    "PV1||I|KAP^ROOM 2^1",
    "OBR|1|||182777000^monitoring of patient^SCT|||20261129101500+0100",
    "OBX|1|NM|150021^MDC_PRESS_BLD_NONINV_SYS^MDC|1.1.9.1|142|266016^MDC_DIM_MMHG^MDC|||||F|||"
    "20261129101455+0100||||00A037009A0000E5^EUI-64",
    "OBX|2|NM|150022^MDC_PRESS_BLD_NONINV_DIA^MDC|1.1.9.2|88|266016^MDC_DIM_MMHG^MDC|||||F|||"
    "20261129101455+0100||||00A037009A0000E5^EUI-64",
    "OBX|3|NM|150023^MDC_PRESS_BLD_NONINV_MEAN^MDC|1.1.9.3|106|266016^MDC_DIM_MMHG^MDC|||||F|||"
    "20261129101455+0100||||00A037009A0000E5^EUI-64",
    "OBX|4|NM|147842^MDC_ECG_HEART_RATE^MDC|1.1.1.1|76|264864^MDC_DIM_BEAT_PER_MIN^MDC|||||F|||"
    "20261129101500+0100||||00A037009A0000E5^EUI-64",
    "OBX|5|NM|150456^MDC_PULS_OXIM_SAT_O2^MDC|1.1.2.1|96|262688^MDC_DIM_PERCENT^MDC||questionable|||F|||"
    "20261129101500+0100||||00A037009A0000E5^EUI-64",
    "OBX|6|NM|151562^MDC_RESP_RATE^MDC|1.1.3.1|14|264928^MDC_DIM_RESP_PER_MIN^MDC|||||F|||"
    "20261129101500+0100||||00A037009A0000E5^EUI-64",
    "OBX|7|NM|151708^MDC_AWAY_CO2_ET^MDC|1.1.4.1|5.1|kPa^kPa^UCUM|||||F|||"
    "20261129101500+0100||||00A037009A0000E5^EUI-64",
    "OBX|8|NM|150344^MDC_TEMP^MDC|1.1.5.1|98.6|266560^MDC_DIM_FAHR^MDC|||||F|||"
    "20261129101500+0100||||00A037009A0000E5^EUI-64",
]) + "\r"

# A LOINC-coded monitor: UCUM units, local times without a zone, one OBR-7 for all, CR LF line ends.
LOINC_MESSAGE = "\r\n".join([
    "MSH|^~\\&|VSM300|WARD_B|||20261129101500||ORU^R01|VS-000917|P|2.5.1",
    "PID|||KAP-1040",
    "OBR|1||VS-000917|85353-1^Vital signs panel^LN|||20261129101430",
    "OBX|1|NM|8480-6^Systolic blood pressure^LN||17.3|kPa^kilopascal^UCUM|||||F",
    "OBX|2|NM|8462-4^Diastolic blood pressure^LN||10.7|kPa^kilopascal^UCUM|||||F",
    "OBX|3|NM|8867-4^Heart rate^LN||71|/min^per minute^UCUM|||||F",
    "OBX|4|NM|59408-5^SpO2^LN||98|%^percent^UCUM|||||F",
    "OBX|5|NM|9279-1^Respiratory rate^LN||16|/min^per minute^UCUM|||||F",
    "OBX|6|NM|8310-5^Body temperature^LN||36.8|Cel^degree Celsius^UCUM|||||F",
])

# A gateway that forwards one numeric per message with its own equipment id and no OBR.
GATEWAY_MESSAGE = ("MSH|^~\\&|CAPSULE_GW|CLINIC|||20261129091500.250+0000||ORU^R01^ORU_R01|GW-77-000123|P|2.6\r"
                   "PV1||O|KAP^ROOM 3^A\r"
                   "OBX|1|NM|149530^MDC_PULS_OXIM_PULS_RATE^MDC||64|{beats}/min^^UCUM|||||R|||"
                   "20261129091459.750+0000||||SpO2-MOD-42")


def test_mdc_style_message_becomes_typed_readings() -> None:
    parsed = parse_oru(parse_message(MDC_MESSAGE), UTC)
    assert parsed.control_id == "A1B2C3"
    assert parsed.sending_application == "MINDRAY_D_SERIES" and parsed.sending_facility == "KAP"
    assert parsed.bed == "KAP^ROOM 2^1"
    assert parsed.equipment_ids == ("00A037009A0000E5",)
    got = {o.measure: o for o in parsed.observations}
    assert got[DeviceMeasure.SBP].value == 142 and got[DeviceMeasure.DBP].value == 88
    assert got[DeviceMeasure.MAP].value == 106
    assert got[DeviceMeasure.HR].value == 76 and got[DeviceMeasure.RR].value == 14
    assert got[DeviceMeasure.ETCO2].value == 38  # 5.1 kPa
    assert got[DeviceMeasure.TEMP].value == 37.0  # 98.6 °F
    assert got[DeviceMeasure.SPO2].value == 96 and got[DeviceMeasure.SPO2].suspect == "signal flagged questionable"
    assert got[DeviceMeasure.SBP].device_time == datetime(2026, 11, 29, 9, 14, 55, tzinfo=UTC)
    assert all(o.usable for o in parsed.observations)


def test_loinc_style_with_kpa_and_local_time_in_the_device_zone() -> None:
    zone = ZoneInfo("America/New_York")
    message = parse_oru(parse_message(LOINC_MESSAGE), zone)
    got = {o.measure: o.value for o in message.observations}
    assert got == {DeviceMeasure.SBP: 130, DeviceMeasure.DBP: 80, DeviceMeasure.HR: 71, DeviceMeasure.SPO2: 98,
                   DeviceMeasure.RR: 16, DeviceMeasure.TEMP: 36.8}
    obs = message.observations[0]
    received = datetime(2026, 11, 29, 15, 15, 2, tzinfo=UTC)
    when, source = observation_time(obs, message, zone, received)
    # No OBX-14: OBR-7 10:14:30 New York time (EST, UTC−5).
    assert source is TimeSource.OBR7 and when == datetime(2026, 11, 29, 15, 14, 30, tzinfo=UTC)


def test_gateway_one_numeric_per_message() -> None:
    message = parse_oru(parse_message(GATEWAY_MESSAGE), UTC)
    (obs,) = message.observations
    assert obs.measure is DeviceMeasure.PULSE and obs.value == 64 and obs.status == "R" and obs.usable
    assert obs.equipment_id == "SpO2-MOD-42"
    assert obs.device_time == datetime(2026, 11, 29, 9, 14, 59, 750000, tzinfo=UTC)
    when, source = observation_time(obs, message, UTC, datetime.now(UTC))
    assert source is TimeSource.OBX14 and when == obs.device_time


@pytest.mark.parametrize(("obx", "problem"), [
    ("OBX|1|NM|150021^MDC_PRESS_BLD_NONINV_SYS^MDC||abc|mm[Hg]|||||F", "is not a number"),
    ("OBX|1|NM|150021^MDC_PRESS_BLD_NONINV_SYS^MDC|||mm[Hg]|||||F", "no value"),
    ("OBX|1|NM|150021^MDC_PRESS_BLD_NONINV_SYS^MDC||120|mm[Hg]|||||X", "result status X"),
    ("OBX|1|NM|150021^MDC_PRESS_BLD_NONINV_SYS^MDC||120|mm[Hg]|||||W", "posted in error"),
    ("OBX|1|NM|150021^MDC_PRESS_BLD_NONINV_SYS^MDC||120|mm[Hg]|||||", "no result status"),
    ("OBX|1|NM|150021^MDC_PRESS_BLD_NONINV_SYS^MDC||120|psi|||||F", "unknown unit 'psi'"),
    ("OBX|1|NM|150021^MDC_PRESS_BLD_NONINV_SYS^MDC||120||||||F", "no unit sent"),
    ("OBX|1|NM|150021^MDC_PRESS_BLD_NONINV_SYS^MDC||120|%|||||F", "does not measure"),
    ("OBX|1|NM|150456^MDC_PULS_OXIM_SAT_O2^MDC||97|%||invalid|||F", "device marked the value invalid"),
    ("OBX|1|NM|150456^MDC_PULS_OXIM_SAT_O2^MDC||NaN|%|||||F", "is not a number"),
    ("OBX|1|NM|150456^MDC_PULS_OXIM_SAT_O2^MDC||97|%|||||F|||2026113|", "not a valid HL7 time"),
    ("OBX|1|NM|8480-6^SBP^SNM||120|mm[Hg]|||||F", "unknown observation code 8480-6^SBP^SNM"),
    ("OBX|1|NM|12345^Wobble index^LN||1|%|||||F", "unknown observation code 12345^Wobble index^LN"),
    ("OBX|1|CWE|150456^MDC_PULS_OXIM_SAT_O2^MDC||97|%|||||F", "value type CWE is not numeric"),
    ("OBX|1|SN|150456^MDC_PULS_OXIM_SAT_O2^MDC||<^85|%|||||F", "is not a number"),
])
def test_observation_problems_are_kept_with_the_reason(obx: str, problem: str) -> None:
    text = "MSH|^~\\&|MON|FAC|||20261129101500+0000||ORU^R01|X1|P|2.6\r" + obx
    (obs,) = parse_oru(parse_message(text), UTC).observations
    assert not obs.usable and obs.value is None
    assert problem in obs.problem
    assert obs.value_text == obx.split("|")[5]


def test_corrected_and_structured_numeric_values_are_usable() -> None:
    text = ("MSH|^~\\&|MON|FAC|||20261129101500+0000||ORU^R01|X1|P|2.6\r"
            "OBX|1|SN|150456^MDC_PULS_OXIM_SAT_O2^MDC||=^97|%|||||C\r"
            "OBX|2|NM|MDC_RESP_RATE^^MDC||12|{breaths}/min|||||F\r"
            "OBX|3|NM|8889-8^Heart rate by Pulse oximetry^LN||61|{beats}/min||N|||P")
    obs = parse_oru(parse_message(text), UTC).observations
    assert [(o.measure, o.value, o.status) for o in obs] == [
        (DeviceMeasure.SPO2, 97, "C"), (DeviceMeasure.RR, 12, "F"), (DeviceMeasure.PULSE, 61, "P")]
    assert obs[2].flags == ("N",)


@pytest.mark.parametrize(("text", "reason"), [
    ("", "must begin with an MSH segment"),
    ("PID|||1\rOBX|1|NM|150456^^MDC||97|%|||||F", "must begin with an MSH segment"),
    ("MSH|^~\\&|MON|FAC|||20261129||ADT^A01|X2|P|2.5\rPID|||1", "is not an ORU^R01"),
    ("MSH|^~\\&|MON|FAC|||20261129||ORU^R01||P|2.5\rOBX|1|NM|150456^^MDC||97|%|||||F", "MSH-10"),
    ("MSH|^~\\&|MON|FAC|||20261129||ORU^R01|X3|P|2.5\rPID|||1", "no OBX"),
])
def test_messages_that_cannot_be_taken_are_rejected(text: str, reason: str) -> None:
    with pytest.raises(MessageRejected) as caught:
        parse_oru(parse_message(text), UTC)
    assert caught.value.ack_code == "AR" and reason in caught.value.reason


def test_character_sets() -> None:
    utf8 = "MSH|^~\\&|MON|Клиника|||20261129||ORU^R01|X1|P|2.6||||||UNICODE UTF-8\rOBX|1|NM|9279-1^^LN||12|/min|||||F"
    assert parse_oru(parse_message(decode(utf8.encode("utf-8"))), UTC).sending_facility == "Клиника"
    latin = "MSH|^~\\&|MON|Zürich|||20261129||ORU^R01|X1|P|2.6||||||8859/1\rOBX|1|NM|9279-1^^LN||12|/min|||||F"
    assert parse_oru(parse_message(decode(latin.encode("latin-1"))), UTC).sending_facility == "Zürich"
    with pytest.raises(MessageRejected, match="not valid UNICODE UTF-8"):
        decode(utf8.replace("Клиника", "Z\udcfcrich").encode("utf-8", "surrogateescape"))
    with pytest.raises(MessageRejected, match="EBCDIC"):
        decode(b"MSH|^~\\&|MON|F|||2026||ORU^R01|X1|P|2.6||||||EBCDIC\r")


def test_hl7_times() -> None:
    berlin = ZoneInfo("Europe/Berlin")
    assert parse_hl7_time("202611291015", berlin) == datetime(2026, 11, 29, 9, 15, tzinfo=UTC)
    assert parse_hl7_time("20260629101500", berlin) == datetime(2026, 6, 29, 8, 15, tzinfo=UTC)  # summer time
    assert parse_hl7_time("20261129101500.1234-0330", UTC) == datetime(2026, 11, 29, 13, 45, 0, 123400, tzinfo=UTC)
    for bad in ("", "2026", "20261129", "2026112910", "20261329101500", "20261129101500+9900", "yesterday"):
        assert parse_hl7_time(bad, UTC) is None
    east = timezone(timedelta(hours=5))
    assert parse_hl7_time("202611290000", east) == datetime(2026, 11, 28, 19, 0, tzinfo=UTC)


def test_unit_conversions_and_codes() -> None:
    assert convert(DeviceMeasure.SBP, 16.0, "kPa") == (120.0, "")
    assert convert(DeviceMeasure.TEMP, 100.4, "[degF]") == (38.0, "")
    assert convert(DeviceMeasure.ETCO2, 5, "%")[0] is None  # would need the barometric pressure: not guessed
    assert measure_for("150301", "MDC") is DeviceMeasure.SBP and measure_for("150303", "MDC") is DeviceMeasure.MAP
    assert measure_for("151578", "MDC") is DeviceMeasure.RR and measure_for("19889-5", "LN") is DeviceMeasure.ETCO2
    assert measure_for("2708-6", "LN") is DeviceMeasure.SPO2
    assert measure_for("150021", "") is None  # a bare number could be anything without its coding system
    assert measure_for("150021", "LN") is None


def test_device_matching_prefers_equipment_then_bed_then_sender() -> None:
    message = parse_oru(parse_message(MDC_MESSAGE), UTC)

    def dev(i: int, kind: IdentityKind, identity: str, room: str) -> Device:
        return Device(i, f"d{i}", room, kind, identity)

    sender = dev(1, IdentityKind.SENDER, "mindray_d_series^KAP", "Room 9")
    bed = dev(2, IdentityKind.BED, "KAP^ROOM 2^1", "Room 2")
    equipment = dev(3, IdentityKind.EQUIPMENT, "00a037009a0000e5", "Room 2b")
    assert match_device([sender, bed, equipment], message) is equipment
    assert match_device([sender, bed], message) is bed
    assert match_device([sender], message) is sender
    assert match_device([dev(4, IdentityKind.SENDER, "OTHER", "R")], message) is None
    # Two registrations claiming one identity: neither is trusted.
    assert match_device([bed, dev(5, IdentityKind.BED, "kap^room 2^1", "Room 5")], message) is None


def test_ack_carries_code_control_id_and_escaped_reason() -> None:
    message = parse_message(GATEWAY_MESSAGE)
    ack = build_ack(message, "AE", "database | unavailable").decode()
    segments = ack.strip("\r").split("\r")
    assert segments[0].startswith("MSH|^~\\&|KAPCONSOLE||CAPSULE_GW|CLINIC|")
    assert segments[1] == "MSA|AE|GW-77-000123|database \\F\\ unavailable"
    bare = build_ack(None, "AR", "not HL7").decode()
    assert "\rMSA|AR||not HL7" in bare
