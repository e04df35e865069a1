"""VitalsChart: the live chart of BP, HR, SpO2 and RR against minutes since the first dose.

Built to stay smooth for a six-hour session with a monitor feeding every second: each curve is created once,
points go into preallocated numpy buffers that grow by doubling, and only the curves whose data changed are
redrawn, from a ~30 Hz timer. Charted readings (from the record) and the raw monitor stream (from
``append_point``/``append_stream``) are separate curves: the charted ones carry symbols and alert flags, the
stream is a thin faint line without symbols, with its own legend entry ("unconfirmed").
Every curve is downsampled (peak) and clipped to the view. The grid is drawn behind the curves in opaque
colours mixed with the background: a translucent line across the whole plot costs far more to paint.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QColor, QPainter, QPen
from PySide6.QtWidgets import QVBoxLayout, QWidget

from kapconsole.domain.enums import EntryKind, SideEffectKind
from kapconsole.domain.record import SessionRecord
from kapconsole.domain.rescue import RescueMedication
from kapconsole.domain.values import Entry

try:  # the shell's theme owns the colours; fall back to our own until it exists
    from kapconsole.ui.widgets.theme import chart_palette as _theme_palette
except ImportError:  # pragma: no cover - depends on the shell being present
    _theme_palette = None  # type: ignore[assignment]

#: Plotted measures, in legend order (temperature has its own scale and stays in the timeline).
CHANNELS: tuple[str, ...] = ("sbp", "dbp", "hr", "spo2", "rr")
SHORT_LABELS = {"sbp": "Systolic BP", "dbp": "Diastolic BP", "hr": "Heart rate", "spo2": "SpO2 %", "rr": "Resp. rate"}
THRESHOLD_LABELS = {"sbp": "SBP", "dbp": "DBP", "hr": "HR", "spo2": "SpO2", "rr": "RR"}
REDRAW_MS = 33
INITIAL_CAPACITY = 1024
#: The clinical scale: everything plotted fits 0–220; the band below 0 carries the dose and side-effect labels.
Y_TOP = 226.0
Y_BOTTOM = -30.0
DOSE_LABEL_Y = -5.0
EFFECT_LABEL_Y = (-17.0, -27.0)
#: Room above the highest reading for its alert circle (in chart units: the circle is ~18 px).
TOP_MARGIN = 14.0
#: The shortest time span shown, in minutes: the first minutes of a session are not stretched to fill the chart.
MIN_SPAN = 30.0
#: A monitor stream with no sample for this many minutes has a gap: the line is broken, not bridged.
STREAM_GAP_MINUTES = 1.0

# Fallback palettes: distinct hues that do not use red, which stays reserved for alerts.
_DAY = {
    "sbp": "#1f4e9c", "dbp": "#5f8fd8", "hr": "#2e7d32", "spo2": "#00838f", "rr": "#7b1fa2",
    "threshold": "#c62828", "dose": "#37474f", "side_effect": "#a15c00", "background": "#ffffff",
    "foreground": "#1d2329", "medication": "#00695c",
}
_NIGHT = {
    "sbp": "#8fb3ec", "dbp": "#5d82bf", "hr": "#7cc47f", "spo2": "#5cc3cc", "rr": "#c39ad8",
    "threshold": "#e57373", "dose": "#b0bec5", "side_effect": "#e0a84f", "background": "#0d1114",
    "foreground": "#c5ccd3", "medication": "#4db6ac",
}


def palette(night: bool) -> dict[str, str]:
    """The chart colours: the theme's when the shell provides them, else the built-in ones."""
    base = dict(_NIGHT if night else _DAY)
    if _theme_palette is not None:
        base.update(_theme_palette(night))
    return base


class _Series:
    """One growable (x, y) buffer, kept sorted by x; doubles its capacity when full."""

    def __init__(self, capacity: int = INITIAL_CAPACITY) -> None:
        self.x = np.empty(capacity, dtype=np.float64)
        self.y = np.empty(capacity, dtype=np.float64)
        self.n = 0

    def clear(self) -> None:
        self.n = 0

    def add(self, x: float, y: float) -> None:
        if self.n == len(self.x):
            self._grow()
        n = self.n
        if n == 0 or x >= self.x[n - 1]:
            self.x[n] = x
            self.y[n] = y
        else:  # a back-dated reading: keep x sorted so clipping to the view stays correct
            i = int(np.searchsorted(self.x[:n], x, side="right"))
            self.x[i + 1 : n + 1] = self.x[i:n]
            self.y[i + 1 : n + 1] = self.y[i:n]
            self.x[i] = x
            self.y[i] = y
        self.n = n + 1

    def _grow(self) -> None:
        capacity = max(INITIAL_CAPACITY, 2 * len(self.x))
        for name in ("x", "y"):
            old = getattr(self, name)
            new = np.empty(capacity, dtype=np.float64)
            new[: self.n] = old[: self.n]
            setattr(self, name, new)

    def view(self) -> tuple[np.ndarray, np.ndarray]:
        return self.x[: self.n], self.y[: self.n]


class _GridAxis(pg.AxisItem):
    """An axis whose grid lines are opaque: each translucent tick pen becomes its colour over the background.

    On the chart's plain background that looks the same as pyqtgraph's translucent grid (the axes are put
    behind the plot area, so curves cover the grid), while painting an opaque line across the plot costs a
    fraction of blending a translucent one, on every repaint.
    """

    def __init__(self, orientation: str) -> None:
        super().__init__(orientation)
        self._background = QColor("#ffffff")

    def set_background(self, color: str) -> None:
        self._background = pg.mkColor(color)
        self.picture = None  # drawn again with the new colours
        self.update()

    def generateDrawSpecs(self, p: QPainter) -> Any:  # noqa: N802 (pyqtgraph override)
        specs = super().generateDrawSpecs(p)
        if specs is None or self.grid is False:
            return specs
        axis_spec, tick_specs, text_specs = specs
        return axis_spec, [(self._opaque(pen), p1, p2) for pen, p1, p2 in tick_specs], text_specs

    def _opaque(self, pen: QPen) -> QPen:
        color = pen.color()
        a = color.alphaF()
        if a >= 1.0:
            return pen
        bg = self._background
        mixed = QColor.fromRgbF(color.redF() * a + bg.redF() * (1 - a), color.greenF() * a + bg.greenF() * (1 - a),
                                color.blueF() * a + bg.blueF() * (1 - a))
        opaque = QPen(pen)
        opaque.setColor(mixed)
        return opaque


class _ClinicalAxis(_GridAxis):
    """The left axis: no tick labels in the marker band below zero."""

    def tickStrings(self, values: list[float], scale: float, spacing: float) -> list[str]:
        return [f"{v:g}" if v >= 0 else "" for v in values]


SYMBOLS = {"sbp": "t1", "dbp": "t", "hr": "o", "spo2": "s", "rr": "d"}

#: Entries that change what is already drawn: the chart is drawn again from the record.
_REDRAWN_BY = frozenset({EntryKind.ADMINISTRATION, EntryKind.SIDE_EFFECT, EntryKind.AMENDMENT,
                         EntryKind.RESCUE_MEDICATION, EntryKind.STATE})


def minutes_between(origin: datetime, moment: datetime) -> float:
    return (moment - origin).total_seconds() / 60.0


def with_gaps(x: np.ndarray, y: np.ndarray, gap: float) -> tuple[np.ndarray, np.ndarray]:
    """``x, y`` with a NaN point inside every interval longer than ``gap``: the line breaks there."""
    if x.size < 2:
        return x, y
    breaks = np.nonzero(np.diff(x) > gap)[0] + 1
    if breaks.size == 0:
        return x, y
    return np.insert(x, breaks, x[breaks - 1] + gap / 2), np.insert(y, breaks, np.nan)


class VitalsChart(QWidget):
    """Live vitals chart. ``set_record`` follows the session record; ``append_point`` takes a fast feed."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("vitalsChart")
        self.setAccessibleName("Vitals chart")
        self._night = False
        self._colors = palette(False)
        self._origin: datetime | None = None
        self._charted_keys: list[tuple[int, tuple[tuple[str, Any], ...]]] = []
        self._charted_at: list[datetime] = []
        self._new_symbols: dict[str, list[tuple[float, float]]] = {}  # drawn on the next frame
        self._charted = {k: _Series() for k in CHANNELS}
        self._stream = {k: _Series() for k in CHANNELS}
        # Which curves have new data: the charted readings and the monitor stream change independently.
        self._dirty_charted: set[str] = set()
        self._dirty_stream: set[str] = set()
        #: Charted readings further apart than this (minutes) are not joined by a line.
        self._reading_gap = 60.0
        self._x_start = 0.0
        self._now_minutes: float | None = None
        self._y_top = Y_TOP

        self.plot_widget = pg.PlotWidget(axisItems={"left": _ClinicalAxis("left"), "bottom": _GridAxis("bottom"),
                                                    "right": _GridAxis("right")})
        self.plot_widget.setObjectName("vitalsPlot")
        self.plot = self.plot_widget.getPlotItem()
        self.plot.setDownsampling(auto=True, mode="peak")
        self.plot.setClipToView(True)
        self.plot.showGrid(x=True, y=True, alpha=0.15)
        self.plot.setLabel("bottom", "minutes since first dose")
        self.plot.setLabel("left", "mmHg · /min · SpO2 %")
        for name in ("left", "bottom"):  # minutes and mmHg are the units: never "(x0.001)"
            self.plot.getAxis(name).enableAutoSIPrefix(False)
        self.plot.setYRange(Y_BOTTOM, Y_TOP, padding=0)
        self.plot.getViewBox().setLimits(yMin=Y_BOTTOM - 10, yMax=Y_TOP + 40)
        self.plot.getViewBox().enableAutoRange(axis="y", enable=False)
        self.plot.getViewBox().setMouseEnabled(x=True, y=False)
        self.plot.setMenuEnabled(False)
        self.plot.showAxis("right")
        self.plot.getAxis("right").setTicks([[], []])
        for name in ("left", "bottom", "right"):
            self.plot.getAxis(name).setZValue(-200)  # behind the plot area (-100): curves cover the grid
        self.legend = self.plot.addLegend(offset=(4, 2), colCount=5, labelTextSize="11pt")

        # Curves are created once and only ever receive new data.
        self.stream_curves: dict[str, pg.PlotDataItem] = {}
        self.curves: dict[str, pg.PlotDataItem] = {}
        for key in CHANNELS:
            self.stream_curves[key] = self.plot.plot([], [], name=None)
            self.curves[key] = self.plot.plot([], [])
        # The readings' symbols are scatter items of their own that take new points one by one (a curve with
        # symbols rebuilds every symbol of the session each time a point is added); the legend shows a sample
        # with the line and the symbol.
        self.symbols: dict[str, pg.ScatterPlotItem] = {}
        self._legend_samples: dict[str, pg.PlotDataItem] = {}
        for key in CHANNELS:
            symbols = pg.ScatterPlotItem(size=7, symbol=SYMBOLS[key])
            symbols.setZValue(5)
            self.plot.addItem(symbols)
            self.symbols[key] = symbols
            sample = pg.PlotDataItem([], [], symbol=SYMBOLS[key], symbolSize=7)
            self.legend.addItem(sample, SHORT_LABELS[key])
            self._legend_samples[key] = sample
        for curve in (*self.stream_curves.values(), *self.curves.values()):
            curve.setDownsampling(auto=True, method="peak")
            curve.setClipToView(True)
            curve.opts["connect"] = "finite"  # a gap (NaN) breaks the line
        # The monitor stream is not the record: one legend entry says so, in the stream's thin style.
        self.stream_legend = pg.PlotDataItem([], [])
        self.legend.addItem(self.stream_legend, "Monitor, unconfirmed (thin line)")
        self._stream_pending: list[tuple[datetime, Mapping[str, float]]] = []
        self.alert_markers = pg.ScatterPlotItem(size=18, symbol="o")
        self.alert_markers.setZValue(20)
        self.plot.addItem(self.alert_markers)
        self.threshold_lines: dict[str, pg.InfiniteLine] = {}
        self.rise_line: pg.InfiniteLine | None = None
        self.zero_line = pg.InfiniteLine(pos=0, angle=0, movable=False)
        self.plot.addItem(self.zero_line, ignoreBounds=True)
        self.dose_lines: list[pg.InfiniteLine] = []
        self.side_effect_lines: list[pg.InfiniteLine] = []
        self.medication_lines: list[pg.InfiniteLine] = []
        self.marker_labels: list[pg.TextItem] = []

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.plot_widget)

        self._timer = QTimer(self)
        self._timer.setInterval(REDRAW_MS)
        self._timer.timeout.connect(self._on_redraw)
        self._timer.start()
        self._apply_colors()

    # ----- public API ----------------------------------------------------------------------------------
    def set_record(self, record: SessionRecord) -> None:
        """Follow ``record``: append only new readings when it grew, rebuild when earlier readings changed."""
        origin = record.first_dose_at or self._fallback_origin(record)
        keys = [(c.id, tuple(sorted(c.payload.items()))) for c in record.vitals]
        n = len(self._charted_keys)
        if origin != self._origin:
            self._move_stream(self._origin, origin)
        if origin != self._origin or keys[:n] != self._charted_keys:
            self._origin = origin
            for series in self._charted.values():
                series.clear()
            for symbols in self.symbols.values():
                symbols.clear()
            self._new_symbols = {}
            self._dirty_charted.update(CHANNELS)
            n = 0
        for reading in record.vitals[n:]:
            self._add_reading(minutes_between(origin, reading.at) if origin else 0.0, reading.payload)
        self._charted_keys = keys
        self._charted_at = [c.at for c in record.vitals]
        schedule = record.protocol.schedule
        self._reading_gap = float(2 * max(schedule.later_interval, schedule.first_phase_interval))
        starts = [0.0] + ([minutes_between(origin, record.vitals[0].at)] if origin and record.vitals else [])
        if origin is not None and record.info.started_at is not None:
            starts.append(minutes_between(origin, record.info.started_at))
        self._x_start = min(starts)
        highest = max((float(c.payload[k]) for c in record.vitals for k in CHANNELS if k in c.payload), default=0.0)
        self._set_thresholds(record)
        self._set_markers(record)
        rise = self.rise_line.value() if self.rise_line is not None else 0.0
        self._y_top = max(Y_TOP, highest + TOP_MARGIN, float(rise) + TOP_MARGIN)  # type: ignore[arg-type]
        self.plot.getViewBox().setLimits(yMax=self._y_top + 40)
        self.plot.setYRange(Y_BOTTOM, self._y_top, padding=0)
        if self._now_minutes is not None:
            self._apply_x_range()

    def set_now(self, now: datetime) -> None:
        """Let the time axis run to ``now`` (the chart shows the time since the last reading too)."""
        if self._origin is None:
            return
        minutes = minutes_between(self._origin, now)
        if self._now_minutes is not None and abs(minutes - self._now_minutes) < 0.05:
            return
        self._now_minutes = minutes
        self._apply_x_range()

    def x_range(self) -> tuple[float, float]:
        """The minutes the time axis shows."""
        low, high = self.plot.getViewBox().viewRange()[0]
        return float(low), float(high)

    def y_range(self) -> tuple[float, float]:
        low, high = self.plot.getViewBox().viewRange()[1]
        return float(low), float(high)

    def _apply_x_range(self) -> None:
        now = self._now_minutes if self._now_minutes is not None else 0.0
        start = min(self._x_start, now - MIN_SPAN)
        self.plot.setXRange(start, now, padding=0.02)

    def apply(self, record: SessionRecord, appended: Iterable[Entry]) -> None:
        """Chart the entries appended to ``record``: new readings are appended, their alerts marked.

        Anything that moves what is already drawn (a first dose sets the time origin, a dose or side effect
        adds a marker line, an amendment changes a reading) draws the record again.
        """
        appended = list(appended)
        kinds = {e.kind for e in appended}
        origin = record.first_dose_at or self._fallback_origin(record)
        readings = [e for e in appended if e.kind is EntryKind.VITALS]
        last = self._charted_at[-1] if self._charted_at else None
        highest = max((float(e.payload[k]) for e in readings for k in CHANNELS if k in e.payload), default=0.0)
        if (origin != self._origin or kinds & _REDRAWN_BY or highest + TOP_MARGIN > self._y_top
                or any(last is not None and e.observed_at < last for e in readings)):
            self.set_record(record)
            return
        spots: list[dict[str, Any]] = []
        for e in readings:
            x = minutes_between(origin, e.observed_at) if origin else 0.0
            self._add_reading(x, e.payload)
            self._charted_keys.append((e.id, tuple(sorted(e.payload.items()))))
            self._charted_at.append(e.observed_at)
            current = record.current_of(e)
            if origin is not None and current is not None:
                spots += [{"pos": (x, float(a.value)), "data": a.message} for a in record.alerts_for(current)
                          if a.measure in CHANNELS]
        if spots:
            self.alert_markers.addPoints(spots)

    def append_point(self, minutes: float, values: Mapping[str, float]) -> None:
        """Add one monitor sample at ``minutes`` since the first dose (cheap: drawn on the next frame)."""
        for key, value in values.items():
            series = self._stream.get(key)
            if series is not None and value is not None:
                series.add(float(minutes), float(value))
                self._dirty_stream.add(key)

    def append_stream(self, at: datetime, values: Mapping[str, float]) -> None:
        """Add one monitor sample observed at ``at`` (placed once the chart has its time origin)."""
        if self._origin is None:
            self._stream_pending.append((at, values))
            return
        self.append_point(minutes_between(self._origin, at), values)

    def clear_stream(self) -> None:
        """Forget the monitor stream (another session is shown)."""
        self._stream_pending = []
        for key, series in self._stream.items():
            series.clear()
            self._dirty_stream.add(key)

    def _move_stream(self, old: datetime | None, new: datetime | None) -> None:
        """The time origin moved (the first dose was recorded): shift the stream instead of rebuilding it."""
        if new is None:
            return
        if old is not None:
            delta = minutes_between(new, old)
            for key, series in self._stream.items():
                if series.n:
                    series.x[: series.n] += delta
                    self._dirty_stream.add(key)
        pending, self._stream_pending = self._stream_pending, []
        for at, values in pending:
            self.append_point(minutes_between(new, at), values)

    def set_night(self, night: bool) -> None:
        self._night = night
        self._colors = palette(night)
        self._apply_colors()

    def charted(self, key: str) -> tuple[np.ndarray, np.ndarray]:
        """The charted points of one measure (copies of minutes and values)."""
        x, y = self._charted[key].view()
        return x.copy(), y.copy()

    def stream(self, key: str) -> tuple[np.ndarray, np.ndarray]:
        """The monitor stream of one measure (copies of minutes and values)."""
        x, y = self._stream[key].view()
        return x.copy(), y.copy()

    def flush(self) -> None:
        """Draw pending points now (the timer does it otherwise)."""
        self._on_redraw()

    # ----- building ------------------------------------------------------------------------------------
    @staticmethod
    def _fallback_origin(record: SessionRecord) -> datetime | None:
        if record.vitals:
            return record.vitals[0].at
        return record.info.started_at

    def _add_reading(self, minutes: float, payload: Mapping[str, Any]) -> None:
        for key in CHANNELS:
            value = payload.get(key)
            if value is not None:
                self._charted[key].add(minutes, float(value))
                self._dirty_charted.add(key)
                self._new_symbols.setdefault(key, []).append((minutes, float(value)))

    def _set_thresholds(self, record: SessionRecord) -> None:
        wanted: dict[str, float] = {}
        for key in CHANNELS:
            lim = record.protocol.alerts.get(key)
            if lim is None:
                continue
            if lim.high is not None:
                wanted[f"{key}_high"] = float(lim.high)
            if lim.low is not None:
                wanted[f"{key}_low"] = float(lim.low)
        for name in set(self.threshold_lines) - set(wanted):
            self.plot.removeItem(self.threshold_lines.pop(name))
        ticks = []
        for name, value in wanted.items():
            line = self.threshold_lines.get(name)
            if line is None:
                line = pg.InfiniteLine(angle=0, movable=False)
                line.setZValue(-5)
                self.threshold_lines[name] = line
                self.plot.addItem(line, ignoreBounds=True)
            line.setValue(value)
            key, side = name.rsplit("_", 1)
            sign = "≥" if key in ("sbp", "dbp") and side == "high" else (">" if side == "high" else "<")
            ticks.append((value, f"{THRESHOLD_LABELS[key]} {sign}{value:g}"))
        rise = self._rise_value(record)
        if rise is None and self.rise_line is not None:
            self.plot.removeItem(self.rise_line)
            self.rise_line = None
        elif rise is not None:
            if self.rise_line is None:
                self.rise_line = pg.InfiniteLine(angle=0, movable=False)
                self.rise_line.setZValue(-5)
                self.plot.addItem(self.rise_line, ignoreBounds=True)
            self.rise_line.setValue(rise)
            ticks.append((rise, f"SBP baseline +{record.protocol.sbp_rise_alert}"))
        # Threshold names sit in the right margin, never on top of the newest readings.
        self.plot.getAxis("right").setTicks([sorted(ticks), []])
        self._style_lines()

    @staticmethod
    def _rise_value(record: SessionRecord) -> float | None:
        """The "SBP baseline +40" line after the first dose, when it lies below the SBP alert line (as in the PDF)."""
        base = record.baseline_vitals or {}
        if record.first_dose_at is None or "sbp" not in base:
            return None
        rise = float(base["sbp"]) + record.protocol.sbp_rise_alert
        lim = record.protocol.alerts.get("sbp")
        if lim is not None and lim.high is not None and rise >= lim.high:
            return None
        return rise

    def _set_markers(self, record: SessionRecord) -> None:
        origin = self._origin
        for line in self.dose_lines + self.side_effect_lines + self.medication_lines:
            self.plot.removeItem(line)
        for label in self.marker_labels:
            self.plot.removeItem(label)
        self.dose_lines, self.side_effect_lines, self.marker_labels = [], [], []
        self.medication_lines = []
        spots: list[dict[str, Any]] = []
        if origin is None:
            self.alert_markers.setData([])
            return
        for n, dose in enumerate(record.administrations, start=1):
            p = dose.payload
            amount = p.get("dose")
            text = f"Dose {n} {amount:g} {p.get('unit', '')}" if isinstance(amount, int | float) else f"Dose {n}"
            self._marker(minutes_between(origin, dose.at), text, "dose", DOSE_LABEL_Y, self.dose_lines)
        last_x: float | None = None
        row = 0
        for effect in sorted(record.side_effects, key=lambda c: c.at):
            x = minutes_between(origin, effect.at)
            # Effects close together alternate between two label rows so their names do not overlap.
            row = 1 - row if last_x is not None and x - last_x < 25 else 0
            last_x = x
            kind = effect.payload.get("effect", "")
            text = SideEffectKind(kind).label if kind in SideEffectKind._value2member_map_ else str(kind)
            self._marker(x, text, "side_effect", EFFECT_LABEL_Y[row], self.side_effect_lines)
        # Rescue and adjunct medications: a dashed line and the drug, dose and route in the dose row.
        for med in record.rescue_medications:
            text = f"℞ {RescueMedication.from_payload(med.payload).short}"  # as it stands after amendments
            self._marker(minutes_between(origin, med.at), text, "medication", DOSE_LABEL_Y, self.medication_lines)
        for reading in record.vitals:
            for alert in record.alerts_for(reading):
                if alert.measure in CHANNELS:
                    spots.append({"pos": (minutes_between(origin, reading.at), float(alert.value)),
                                  "data": alert.message})
        self.alert_markers.setData(spots)
        self._style_lines()

    def _marker(self, x: float, text: str, key: str, y: float, lines: list[pg.InfiniteLine]) -> None:
        line = pg.InfiniteLine(pos=x, angle=90, movable=False)
        line.setZValue(-4)
        self.plot.addItem(line, ignoreBounds=False)
        lines.append(line)
        label = pg.TextItem(text, anchor=(0, 0.5))
        label.setPos(x, y)
        label.setProperty("role", key)
        label.setZValue(10)
        self.plot.addItem(label, ignoreBounds=True)
        self.marker_labels.append(label)

    # ----- drawing -------------------------------------------------------------------------------------
    def _apply_colors(self) -> None:
        c = self._colors
        self.plot_widget.setBackground(c["background"])
        for name in ("left", "bottom", "right"):
            axis = self.plot.getAxis(name)
            if isinstance(axis, _GridAxis):
                axis.set_background(c["background"])
        for axis in ("left", "bottom"):
            ax = self.plot.getAxis(axis)
            ax.setPen(pg.mkPen(c["foreground"]))
            ax.setTextPen(pg.mkPen(c["foreground"]))
            ax.label.setDefaultTextColor(pg.mkColor(c["foreground"]))
        font = self.font()
        font.setPointSize(13 if self._night else 11)
        for axis in ("left", "bottom", "right"):
            self.plot.getAxis(axis).setStyle(tickFont=font)
        right = self.plot.getAxis("right")
        right.setPen(pg.mkPen(c["foreground"]))
        right.setTextPen(pg.mkPen(c["threshold"]))
        self.legend.setLabelTextColor(c["foreground"])
        for _sample, label in self.legend.items:  # the colour applies only once the text is set again
            label.setText(label.text, color=c["foreground"])
        self.legend.setBrush(pg.mkBrush(c["background"]))
        self.legend.setZValue(30)
        self.legend.setPen(pg.mkPen(c["foreground"] + "60"))
        for key in CHANNELS:
            color = c[key]
            dashed = key == "dbp"
            style = Qt.PenStyle.DashLine if dashed else Qt.PenStyle.SolidLine
            self.curves[key].setPen(pg.mkPen(color, width=2.5, style=style))
            self.symbols[key].setBrush(pg.mkBrush(color))
            self.symbols[key].setPen(pg.mkPen(c["background"]))
            sample = self._legend_samples[key]
            sample.setPen(pg.mkPen(color, width=2.5, style=style))
            sample.setSymbolBrush(pg.mkBrush(color))
            sample.setSymbolPen(pg.mkPen(c["background"]))
            faint = pg.mkColor(color)
            faint.setAlpha(110)
            # Thin and faint, no symbols: a dotted pen would say it too, but Qt draws a dash pattern along
            # 21,600 points many times slower than a plain line.
            self.stream_curves[key].setPen(pg.mkPen(faint, width=1))
        self.stream_legend.setPen(pg.mkPen(c["foreground"], width=1))
        self.alert_markers.setPen(pg.mkPen(c.get("alert", c["threshold"]), width=3))
        self.zero_line.setPen(pg.mkPen(c["foreground"], width=1))
        self.alert_markers.setBrush(pg.mkBrush(None))
        self._style_lines()

    def _style_lines(self) -> None:
        c = self._colors
        label_fill = pg.mkColor(c["background"])
        label_fill.setAlpha(200)
        for line in self.threshold_lines.values():
            color = pg.mkColor(c["threshold"])
            color.setAlpha(140)
            line.setPen(pg.mkPen(color, width=1.2, style=Qt.PenStyle.DashLine))
        if self.rise_line is not None:
            color = pg.mkColor(c["threshold"])
            color.setAlpha(110)
            self.rise_line.setPen(pg.mkPen(color, width=1.2, style=Qt.PenStyle.DotLine))
        for lines, key in ((self.dose_lines, "dose"), (self.side_effect_lines, "side_effect"),
                           (self.medication_lines, "medication")):
            for line in lines:
                style = {"dose": Qt.PenStyle.SolidLine, "side_effect": Qt.PenStyle.DotLine}.get(
                    key, Qt.PenStyle.DashLine)
                line.setPen(pg.mkPen(c[key], width=2, style=style))
        for label in self.marker_labels:
            label.setColor(c[str(label.property("role"))])
            label.fill = pg.mkBrush(label_fill)
            label.update()

    def _on_redraw(self) -> None:
        # Only the curves whose series changed: a monitor sample must not redraw the charted readings.
        if self._dirty_charted:
            dirty, self._dirty_charted = self._dirty_charted, set()
            for key in dirty:
                self.curves[key].setData(*with_gaps(*self._charted[key].view(), self._reading_gap),
                                         connect="finite")
            new, self._new_symbols = self._new_symbols, {}
            for key, points in new.items():
                self.symbols[key].addPoints(x=[p[0] for p in points], y=[p[1] for p in points])
        if self._dirty_stream:
            dirty, self._dirty_stream = self._dirty_stream, set()
            for key in dirty:
                self.stream_curves[key].setData(*with_gaps(*self._stream[key].view(), STREAM_GAP_MINUTES),
                                                connect="finite")
