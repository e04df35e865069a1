"""Small custom flowables: the vitals chart (vector graphics) and the labelled-value grid."""

from __future__ import annotations

from reportlab.graphics.charts.lineplots import LinePlot
from reportlab.graphics.renderPDF import draw as draw_drawing
from reportlab.graphics.shapes import Drawing, Line, Rect, String
from reportlab.graphics.widgets.markers import makeMarker
from reportlab.lib import colors
from reportlab.lib.styles import ParagraphStyle
from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import Flowable, Table, TableStyle

from kapconsole.reports import styles as st
from kapconsole.reports.data import Chart, ChartPanel

_LEFT = 30.0  # room for the y-axis labels
_RIGHT = 62.0  # room for the threshold labels
_LEGEND = 16.0
_TITLE = 11.0
_AXIS = 22.0  # x-axis labels and caption under the last panel
_GAP = 6.0
_PANEL_HEIGHTS = (150.0, 62.0, 62.0)
_DENSE = 60  # more points than this per series: lines only, no markers


class VitalsChart(Flowable):
    """BP, HR, SpO2 and RR against minutes since the first dose, with alert lines and dose marks."""

    def __init__(self, chart: Chart, width: float) -> None:
        super().__init__()
        self.chart = chart
        self.width = width
        self.height = _LEGEND + sum(_PANEL_HEIGHTS[: len(chart.panels)]) + len(chart.panels) * (_TITLE + _GAP) + _AXIS
        self.drawing = self._build()

    def wrap(self, available_width: float, available_height: float) -> tuple[float, float]:
        return self.width, self.height

    def draw(self) -> None:
        canv: Canvas = self.canv
        draw_drawing(self.drawing, canv, 0, 0)

    # ----- building ---------------------------------------------------------------------------------------
    def _build(self) -> Drawing:
        c = self.chart
        drawing = Drawing(self.width, self.height)
        plot_width = self.width - _LEFT - _RIGHT
        self._legend(drawing)
        top = self.height - _LEGEND
        for i, panel in enumerate(c.panels):
            height = _PANEL_HEIGHTS[min(i, len(_PANEL_HEIGHTS) - 1)]
            top -= _TITLE
            drawing.add(String(_LEFT, top + 3, panel.title, fontName=st.SANS_BOLD, fontSize=7, fillColor=st.INK))
            bottom = top - height
            self._panel(drawing, panel, _LEFT, bottom, plot_width, height, last=i == len(c.panels) - 1)
            top = bottom - _GAP
        drawing.add(String(_LEFT + plot_width / 2, 2, c.x_label, fontName=st.SANS, fontSize=6.5,
                           fillColor=st.MUTED, textAnchor="middle"))
        return drawing

    def _legend(self, drawing: Drawing) -> None:
        x = _LEFT
        y = self.height - 9
        names = [(s.key, s.label) for p in self.chart.panels for s in p.series]
        for key, label in names:
            drawing.add(Line(x, y + 2.5, x + 14, y + 2.5, strokeColor=st.SERIES.get(key, st.INK), strokeWidth=1.4))
            drawing.add(String(x + 17, y, label, fontName=st.SANS, fontSize=6.5, fillColor=st.INK))
            x += 17 + stringWidth(label, st.SANS, 6.5) + 10
        drawing.add(Line(x, y + 2.5, x + 14, y + 2.5, strokeColor=st.MUTED, strokeWidth=0.7,
                         strokeDashArray=[3, 2]))
        drawing.add(String(x + 17, y, "alert line", fontName=st.SANS, fontSize=6.5, fillColor=st.INK))
        x += 17 + stringWidth("alert line", st.SANS, 6.5) + 10
        drawing.add(Line(x + 7, y - 1, x + 7, y + 7, strokeColor=st.DOSE, strokeWidth=0.9))
        drawing.add(String(x + 11, y, "dose", fontName=st.SANS, fontSize=6.5, fillColor=st.INK))

    def _panel(self, drawing: Drawing, panel: ChartPanel, x: float, y: float, width: float, height: float,
               *, last: bool) -> None:
        c = self.chart
        x_span = (c.x_max - c.x_min) or 1.0
        y_span = (panel.y_max - panel.y_min) or 1.0

        def px(minute: float) -> float:
            return x + (minute - c.x_min) / x_span * width

        def py(value: float) -> float:
            return y + (min(max(value, panel.y_min), panel.y_max) - panel.y_min) / y_span * height

        drawing.add(Rect(x, y, width, height, fillColor=colors.white, strokeColor=st.RULE, strokeWidth=0.5))
        for mark in c.doses:
            if mark.until is not None:
                drawing.add(Rect(px(mark.minute), y, px(mark.until) - px(mark.minute), height,
                                 fillColor=st.FILL, strokeColor=None))
        series = [s for s in panel.series if s.points]
        if series:
            plot = LinePlot()
            plot.x, plot.y, plot.width, plot.height = x, y, width, height
            plot.data = [list(s.points) for s in series]
            for i, s in enumerate(series):
                line = plot.lines[i]
                line.strokeColor = st.SERIES.get(s.key, st.INK)
                line.strokeWidth = 1.0 if len(s.points) > _DENSE else 1.2
                if len(s.points) <= _DENSE:
                    line.symbol = makeMarker("FilledCircle", size=2.4, fillColor=line.strokeColor,
                                             strokeColor=line.strokeColor)
            plot.xValueAxis.valueMin, plot.xValueAxis.valueMax = c.x_min, c.x_max
            plot.xValueAxis.valueSteps = list(c.x_ticks)
            plot.yValueAxis.valueMin, plot.yValueAxis.valueMax = panel.y_min, panel.y_max
            plot.yValueAxis.valueStep = panel.y_step
            for axis in (plot.xValueAxis, plot.yValueAxis):
                axis.labels.fontName = st.SANS
                axis.labels.fontSize = 6
                axis.strokeColor = st.MUTED
                axis.strokeWidth = 0.5
            plot.xValueAxis.visibleLabels = last
            plot.xValueAxis.visibleGrid = True
            plot.yValueAxis.visibleGrid = True
            plot.xValueAxis.gridStrokeColor = plot.yValueAxis.gridStrokeColor = colors.HexColor("#ECEFF2")
            plot.xValueAxis.gridStrokeWidth = plot.yValueAxis.gridStrokeWidth = 0.4
            plot.xValueAxis.labelTextFormat = "{:+.0f}".format if c.x_min < 0 else "{:.0f}".format
            drawing.add(plot)
        else:
            drawing.add(String(x + width / 2, y + height / 2 - 3, "not measured", fontName=st.SANS, fontSize=7,
                               fillColor=st.MUTED, textAnchor="middle"))
        colour = st.SERIES.get(panel.series[0].key, st.MUTED) if panel.series else st.MUTED
        for t in panel.thresholds:
            if not panel.y_min <= t.value <= panel.y_max:
                continue
            tcolour = _threshold_colour(t.label, colour)
            drawing.add(Line(x, py(t.value), x + width, py(t.value), strokeColor=tcolour, strokeWidth=0.7,
                             strokeDashArray=[3, 2]))
            drawing.add(String(x + width + 3, py(t.value) - 2.2, t.label, fontName=st.SANS, fontSize=5.8,
                               fillColor=tcolour))
        for mark in c.doses:
            drawing.add(Line(px(mark.minute), y, px(mark.minute), y + height, strokeColor=st.DOSE,
                             strokeWidth=0.9))
            if panel is c.panels[0]:
                drawing.add(String(px(mark.minute) + 2, y + height - 8, mark.label, fontName=st.SANS,
                                   fontSize=6, fillColor=st.DOSE))


def _threshold_colour(label: str, default: colors.Color) -> colors.Color:
    for prefix, key in (("SBP", "sbp"), ("DBP", "dbp"), ("HR", "hr"), ("SpO2", "spo2"), ("RR", "rr")):
        if label.startswith(prefix):
            return st.SERIES[key]
    return default


def value_grid(pairs: list[tuple[str, str]], width: float, columns: int = 4) -> Table:
    """Labelled values in a grid (label small and grey above its value); ``pairs`` hold markup."""
    cells = [[st.para(label, st.Styles.label), st.para(value, st.Styles.value)] for label, value in pairs]
    rows = []
    for i in range(0, len(cells), columns):
        chunk = cells[i:i + columns] + [["", ""]] * (columns - len(cells[i:i + columns]))
        rows.append([c[0] for c in chunk])
        rows.append([c[1] for c in chunk])
    table = Table(rows, colWidths=[width / columns] * columns, splitInRow=1)
    commands: list[tuple[object, ...]] = [
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ("LEFTPADDING", (0, 0), (-1, -1), 0),
        ("RIGHTPADDING", (0, 0), (-1, -1), 6),
        ("TOPPADDING", (0, 0), (-1, -1), 0),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 0),
    ]
    for r in range(1, len(rows), 2):
        commands.append(("BOTTOMPADDING", (0, r), (-1, r), 6))
    table.setStyle(TableStyle(commands))
    return table


class Bookmark(Flowable):
    """An entry of the PDF's outline (bookmarks) at this place, and an anchor a :class:`PageRef` can name."""

    def __init__(self, title: str, key: str, level: int = 0) -> None:
        super().__init__()
        self.title, self.key, self.level = title, key, level
        self.width = self.height = 0

    def wrap(self, available_width: float, available_height: float) -> tuple[float, float]:
        return 0, 0

    def draw(self) -> None:
        mark = getattr(self.canv, "mark", None)
        if mark is not None:
            mark(self.key, self.title, self.level)


class PageRef(Flowable):
    """One line of text naming the page of a :class:`Bookmark` (``{page}``), filled in once every page is laid
    out (the canvas holds pages back until then)."""

    def __init__(self, text: str, key: str, style: ParagraphStyle) -> None:
        super().__init__()
        self.text, self.key, self.style = text, key, style
        self.height = style.leading

    def wrap(self, available_width: float, available_height: float) -> tuple[float, float]:
        self.width = available_width
        return available_width, self.style.leading

    def draw(self) -> None:
        later = getattr(self.canv, "later", None)
        x, y = self.canv.absolutePosition(self.style.leftIndent, self.style.leading - self.style.fontSize)
        if later is not None:
            later(self.key, self.text, x, y, self.style.fontName, self.style.fontSize, self.style.textColor)
        else:
            self.canv.setFont(self.style.fontName, self.style.fontSize)
            self.canv.drawString(self.style.leftIndent, self.style.leading - self.style.fontSize,
                                 self.text.replace("{page}", "?"))
