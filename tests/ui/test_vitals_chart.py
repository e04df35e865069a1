"""VitalsChart: charted readings, threshold lines, dose and side-effect markers, and a six-hour monitor feed."""

from __future__ import annotations

from datetime import timedelta

import numpy as np
import pytest
from pytestqt.qtbot import QtBot

from kapconsole.services import Services
from kapconsole.ui.session.vitals_chart import CHANNELS, VitalsChart
from tests.conftest import FakeClock
from tests.ui.live_session import BASELINE, Live, open_live


@pytest.fixture
def live(sqlite_services: Services, clock: FakeClock, qtbot: QtBot) -> Live:
    return open_live(sqlite_services, clock, qtbot)


@pytest.fixture
def chart(qtbot: QtBot) -> VitalsChart:
    widget = VitalsChart()
    qtbot.addWidget(widget)
    return widget


def _record(live: Live):  # noqa: ANN202 - a SessionRecord
    return live.services.records.record(live.staff["medical"], live.session_id)


def test_charted_points_are_minutes_since_the_first_dose(live: Live, chart: VitalsChart) -> None:
    nurse, sid = live.staff["medical"], live.session_id
    live.clock.advance(minutes=15)
    live.services.records.record_vitals(nurse, sid, {"sbp": 150, "dbp": 90, "hr": 80, "spo2": 97, "rr": 12})
    live.clock.advance(minutes=15)
    live.services.records.record_vitals(nurse, sid, {"hr": 84})  # a partial reading: only heart rate
    chart.set_record(_record(live))
    chart.flush()

    x, y = chart.charted("sbp")
    assert y.tolist() == [BASELINE["sbp"], 150]
    assert x[0] == pytest.approx(-2.0)  # baseline, two minutes before the dose
    assert x[1] == pytest.approx(15.0)
    hx, hy = chart.charted("hr")
    assert hx.tolist() == pytest.approx([-2.0, 15.0, 30.0]) and hy.tolist() == [BASELINE["hr"], 80, 84]
    cx, cy = chart.curves["hr"].getOriginalDataset()
    assert list(cy) == [BASELINE["hr"], 80, 84]


def test_threshold_lines_follow_the_protocol(live: Live, chart: VitalsChart) -> None:
    chart.set_record(_record(live))
    values = {name: line.value() for name, line in chart.threshold_lines.items()}
    assert values == {"sbp_high": 180, "dbp_high": 110, "hr_high": 130, "hr_low": 45, "spo2_low": 92,
                      "rr_high": 30, "rr_low": 10}
    ticks = [text for _v, text in chart.plot.getAxis("right")._tickLevels[0]]
    assert "SBP ≥180" in ticks and "SpO2 <92" in ticks


def test_doses_side_effects_and_alerts_are_marked(live: Live, chart: VitalsChart) -> None:
    nurse, sid = live.staff["medical"], live.session_id
    live.clock.advance(minutes=10)
    live.services.records.record_side_effect(nurse, sid, "nausea", "mild")
    live.clock.advance(minutes=5)
    live.services.records.record_vitals(nurse, sid, {"sbp": 190, "dbp": 100, "spo2": 90})
    chart.set_record(_record(live))

    assert [line.value() for line in chart.dose_lines] == [0]
    assert [line.value() for line in chart.side_effect_lines] == [pytest.approx(10.0)]
    labels = [item.toPlainText() for item in chart.marker_labels]
    assert "Dose 1 200 mg" in labels and "Nausea" in labels
    flagged = sorted((round(p.pos().x()), p.pos().y()) for p in chart.alert_markers.points())
    assert flagged == [(15, 90.0), (15, 190.0)]


def test_a_grown_record_appends_only_the_new_readings(live: Live, chart: VitalsChart) -> None:
    nurse, sid = live.staff["medical"], live.session_id
    chart.set_record(_record(live))
    buffer_before = chart._charted["sbp"].x  # the same buffer keeps growing in place
    curve = chart.curves["sbp"]
    live.clock.advance(minutes=15)
    live.services.records.record_vitals(nurse, sid, {"sbp": 140, "dbp": 85})
    chart.set_record(_record(live))
    chart.flush()
    assert chart._charted["sbp"].x is buffer_before
    assert chart.curves["sbp"] is curve
    assert chart.charted("sbp")[1].tolist() == [BASELINE["sbp"], 140]


def test_an_amended_reading_is_redrawn(live: Live, chart: VitalsChart) -> None:
    nurse, sid = live.staff["medical"], live.session_id
    live.clock.advance(minutes=15)
    entry = live.services.records.record_vitals(nurse, sid, {"sbp": 210, "dbp": 85})
    chart.set_record(_record(live))
    live.services.records.amend(nurse, sid, entry.id, reason="typo", content={"sbp": 120, "dbp": 85})
    chart.set_record(_record(live))
    assert chart.charted("sbp")[1].tolist() == [BASELINE["sbp"], 120]
    assert chart.alert_markers.points().size == 0


def test_six_hours_of_a_one_second_monitor_feed(chart: VitalsChart) -> None:
    seconds = 6 * 3600  # 21,600 samples per channel
    minutes = np.arange(seconds) / 60.0
    channels = ("sbp", "hr", "spo2", "rr")
    for i, m in enumerate(minutes):
        chart.append_point(float(m), {"sbp": 120 + i % 7, "hr": 70 + i % 5, "spo2": 97, "rr": 14})
    chart.flush()
    for key in channels:
        x, y = chart.stream(key)
        assert len(x) == seconds and len(y) == seconds
        assert np.all(np.diff(x) > 0)
        cx, cy = chart.stream_curves[key].getOriginalDataset()
        assert len(cx) == seconds
    assert len(chart._stream["sbp"].x) >= seconds  # grown by doubling, not per point
    assert chart.stream("dbp")[0].size == 0
    assert set(CHANNELS) >= set(channels)


def test_a_back_dated_sample_is_kept_in_time_order(chart: VitalsChart) -> None:
    for m, v in ((1.0, 80), (3.0, 82), (2.0, 81)):
        chart.append_point(m, {"hr": v})
    x, y = chart.stream("hr")
    assert x.tolist() == [1.0, 2.0, 3.0] and y.tolist() == [80, 81, 82]


def test_night_mode_changes_the_colours(chart: VitalsChart) -> None:
    day = chart.plot_widget.backgroundBrush().color().name()
    chart.set_night(True)
    night = chart.plot_widget.backgroundBrush().color().name()
    assert day != night
    assert chart.plot_widget.backgroundBrush().color().lightness() < 60


@pytest.mark.qt_log_ignore("propagateSizeHints")
def test_first_minutes_read_in_minutes_without_an_si_prefix(live: Live, chart: VitalsChart) -> None:
    chart.set_record(_record(live))
    chart.set_now(live.clock.now + timedelta(seconds=40))
    chart.resize(900, 500)
    chart.show()
    chart.flush()
    axis = chart.plot.getAxis("bottom")
    axis.updateAutoSIPrefix()
    assert "x0.001" not in axis.labelString() and axis.autoSIPrefixScale == 1.0
    low, high = chart.x_range()
    assert high - low >= 30  # the first minutes are not stretched over the whole chart


def test_time_axis_runs_to_now_not_to_the_last_reading(live: Live, chart: VitalsChart) -> None:
    chart.set_record(_record(live))
    live.clock.advance(minutes=50)
    chart.set_now(live.clock.now)
    low, high = chart.x_range()
    assert high == pytest.approx(50, abs=2.5) and low <= -2


def test_gaps_without_readings_are_not_bridged(live: Live, chart: VitalsChart) -> None:
    nurse, sid = live.staff["medical"], live.session_id
    live.clock.advance(minutes=15)
    live.services.records.record_vitals(nurse, sid, {"sbp": 140, "dbp": 85})
    live.clock.advance(minutes=150)  # nothing charted for two and a half hours
    live.services.records.record_vitals(nurse, sid, {"sbp": 130, "dbp": 80})
    chart.set_record(_record(live))
    chart.flush()
    x, y = chart.curves["sbp"].getOriginalDataset()
    assert np.isnan(y).sum() == 1 and chart.curves["sbp"].opts["connect"] == "finite"
    gap = int(np.flatnonzero(np.isnan(y))[0])
    assert x[gap - 1] == pytest.approx(15) and x[gap + 1] == pytest.approx(165)
    for m in (0.0, 1 / 60, 2 / 60, 5.0):  # a monitor that went quiet for five minutes
        chart.append_point(m, {"hr": 80})
    chart.flush()
    assert np.isnan(chart.stream_curves["hr"].getOriginalDataset()[1]).sum() == 1


def test_a_high_reading_keeps_its_alert_circle_inside_the_chart(live: Live, chart: VitalsChart) -> None:
    live.clock.advance(minutes=20)
    live.services.records.record_vitals(live.staff["medical"], live.session_id, {"sbp": 262, "dbp": 120})
    chart.set_record(_record(live))
    assert chart.y_range()[1] >= 262 + 12


def test_sbp_rise_over_baseline_line_as_in_the_pdf(live: Live, chart: VitalsChart) -> None:
    chart.set_record(_record(live))
    assert chart.rise_line is not None and chart.rise_line.value() == BASELINE["sbp"] + 40
    ticks = [text for _v, text in chart.plot.getAxis("right")._tickLevels[0]]
    assert "SBP baseline +40" in ticks
