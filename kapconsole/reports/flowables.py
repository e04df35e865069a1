"""Small custom flowables: the vitals chart (vector graphics) and the labelled-value grid."""

from __future__ import annotations

from reportlab.graphics.renderPDF import draw as draw_drawing
from reportlab.graphics.shapes import Circle, Drawing, Line, PolyLine, Rect, String
from reportlab.lib import colors
from reportlab.lib.styles import ParagraphStyle
from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import Flowable, Table, TableStyle

from kapconsole.reports import styles as st
from kapconsole.reports.data import Chart, ChartPanel

_LEFT = 30.0  # room for the y-axis labels
_RIGHT = 70.0  # room for the threshold labels
_LEGEND = 16.0
_EVENTS = 18.0  # the event row under the legend
_TITLE = 11.0
_AXIS = 22.0  # x-axis labels and caption under the last panel
_GAP = 6.0
_PANEL_HEIGHTS = (150.0, 62.0, 62.0)
_DENSE = 60  # more points than this per series: lines only, no markers
_LABEL_GAP = 7.5  # threshold labels are kept at least this far apart

#: How each measure is drawn, so that a greyscale print (or fax) still tells them apart:
#: (marker, dash pattern of the line or None for no line). BP follows the anaesthesia record: ∨ at the
#: systolic, ∧ at the diastolic, a bar between them.
STYLE: dict[str, tuple[str, list[float] | None]] = {
    "sbp": ("vee", None),
    "dbp": ("wedge", None),
    "hr": ("dot", []),
    "spo2": ("square", [4, 2]),
    "rr": ("cross", [1, 1.6]),
}
_EVENT_LEGEND = (("D", "dose"), ("Rx", "rescue medication"), ("SE", "side effect"), ("S", "scale score"),
                 ("DC", "discharge"))


def _marker(drawing: Drawing, kind: str, x: float, y: float, colour: colors.Color, size: float = 2.6) -> None:
    r = size
    if kind == "vee":  # ∨: its point at the value
        drawing.add(PolyLine([x - r, y + 1.6 * r, x, y, x + r, y + 1.6 * r], strokeColor=colour, strokeWidth=1.1))
    elif kind == "wedge":  # ∧
        drawing.add(PolyLine([x - r, y - 1.6 * r, x, y, x + r, y - 1.6 * r], strokeColor=colour, strokeWidth=1.1))
    elif kind == "dot":
        drawing.add(Circle(x, y, r * 0.75, fillColor=colour, strokeColor=colour, strokeWidth=0.5))
    elif kind == "square":
        drawing.add(Rect(x - r * 0.8, y - r * 0.8, r * 1.6, r * 1.6, fillColor=colors.white, strokeColor=colour,
                         strokeWidth=0.9))
    elif kind == "cross":
        drawing.add(Line(x - r * 0.8, y - r * 0.8, x + r * 0.8, y + r * 0.8, strokeColor=colour, strokeWidth=0.9))
        drawing.add(Line(x - r * 0.8, y + r * 0.8, x + r * 0.8, y - r * 0.8, strokeColor=colour, strokeWidth=0.9))


def spread_labels(wanted: list[float], low: float, high: float, gap: float = _LABEL_GAP) -> list[float]:
    """Label positions as near ``wanted`` as possible, at least ``gap`` apart and within [low, high]."""
    order = sorted(range(len(wanted)), key=lambda i: wanted[i])
    placed = [wanted[i] for i in order]
    for i in range(1, len(placed)):
        placed[i] = max(placed[i], placed[i - 1] + gap)
    overflow = placed[-1] - high if placed else 0
    if overflow > 0:
        placed[-1] -= overflow
        for i in range(len(placed) - 2, -1, -1):
            placed[i] = min(placed[i], placed[i + 1] - gap)
    placed = [max(p, low) for p in placed]
    out = [0.0] * len(wanted)
    for slot, i in enumerate(order):
        out[i] = placed[slot]
    return out


class VitalsChart(Flowable):
    """BP, HR, SpO2 and RR against minutes since the first dose, with alert lines and an event row."""

    def __init__(self, chart: Chart, width: float) -> None:
        super().__init__()
        self.chart = chart
        self.width = width
        self.height = (_LEGEND + _EVENTS + sum(_PANEL_HEIGHTS[: len(chart.panels)])
                       + len(chart.panels) * (_TITLE + _GAP) + _AXIS)
        self.drawing = self._build()

    def wrap(self, available_width: float, available_height: float) -> tuple[float, float]:
        return self.width, self.height

    def draw(self) -> None:
        canv: Canvas = self.canv
        draw_drawing(self.drawing, canv, 0, 0)

    # ----- building ---------------------------------------------------------------------------------------
    def _build(self) -> Drawing:
        c = self.chart
        # The renderer's starting font, else the built-in Helvetica (not embedded) is set on every page.
        drawing = Drawing(self.width, self.height, initialFontName=st.SANS, initialFontSize=7)
        plot_width = self.width - _LEFT - _RIGHT
        self._legend(drawing)
        top = self.height - _LEGEND
        self._events(drawing, _LEFT, top - _EVENTS, plot_width)
        top -= _EVENTS
        for i, panel in enumerate(c.panels):
            height = _PANEL_HEIGHTS[min(i, len(_PANEL_HEIGHTS) - 1)]
            top -= _TITLE
            drawing.add(String(_LEFT, top + 3, panel.title, fontName=st.SANS_BOLD, fontSize=7.5, fillColor=st.INK))
            bottom = top - height
            self._panel(drawing, panel, _LEFT, bottom, plot_width, height, last=i == len(c.panels) - 1)
            top = bottom - _GAP
        drawing.add(String(_LEFT + plot_width, 2, c.x_label, fontName=st.SANS, fontSize=7.5,
                           fillColor=st.INK, textAnchor="end"))
        codes = "Events: " + " · ".join(f"{code} {name}" for code, name in _EVENT_LEGEND)
        drawing.add(String(_LEFT, 2, codes, fontName=st.SANS, fontSize=7, fillColor=st.INK))
        return drawing

    def _px(self, minute: float, x: float, width: float) -> float:
        c = self.chart
        return x + (minute - c.x_min) / ((c.x_max - c.x_min) or 1.0) * width

    def _legend(self, drawing: Drawing) -> None:
        x = _LEFT
        y = self.height - 9
        names = [(s.key, s.label) for p in self.chart.panels for s in p.series]
        for key, label in names:
            colour = st.SERIES.get(key, st.INK)
            marker, dash = STYLE.get(key, ("dot", []))
            if dash is not None:
                drawing.add(Line(x, y + 2.5, x + 16, y + 2.5, strokeColor=colour, strokeWidth=1.1,
                                 strokeDashArray=dash or None))
            _marker(drawing, marker, x + 8, y + 2.5 if dash is not None else y + (0 if marker == "vee" else 5), colour)
            drawing.add(String(x + 19, y, label, fontName=st.SANS, fontSize=7, fillColor=st.INK))
            x += 19 + stringWidth(label, st.SANS, 7) + 9
        drawing.add(Line(x, y + 2.5, x + 14, y + 2.5, strokeColor=st.MUTED, strokeWidth=0.7,
                         strokeDashArray=[3, 2]))
        drawing.add(String(x + 17, y, "alert line", fontName=st.SANS, fontSize=7, fillColor=st.INK))

    def _events(self, drawing: Drawing, x: float, y: float, width: float) -> None:
        """The event row: a letter code at each event's time (doses, rescue, side effects, scores, discharge)."""
        drawing.add(String(x - 3, y + 5, "Events", fontName=st.SANS, fontSize=6.5, fillColor=st.INK,
                           textAnchor="end"))
        drawing.add(Line(x, y + 2, x + width, y + 2, strokeColor=st.RULE, strokeWidth=0.5))
        last_end = {0: -1e9, 1: -1e9}
        for e in self.chart.events:
            px = self._px(e.minute, x, width)
            size = 6.5
            w = stringWidth(e.label, st.SANS_BOLD, size)
            # Two lines of codes, so that close events do not print over each other.
            lane = 0 if px - w / 2 > last_end[0] + 1 else 1 if px - w / 2 > last_end[1] + 1 else 0
            last_end[lane] = px + w / 2
            drawing.add(Line(px, y + 2, px, y + 4.5, strokeColor=st.INK, strokeWidth=0.6))
            drawing.add(String(px, y + 5.5 + lane * 6.5, e.label, fontName=st.SANS_BOLD, fontSize=size,
                               fillColor=st.ALERT if e.kind in ("side effect", "rescue") else st.INK,
                               textAnchor="middle"))

    def _panel(self, drawing: Drawing, panel: ChartPanel, x: float, y: float, width: float, height: float,
               *, last: bool) -> None:
        c = self.chart
        y_span = (panel.y_max - panel.y_min) or 1.0

        def px(minute: float) -> float:
            return self._px(minute, x, width)

        def py(value: float) -> float:
            return y + (min(max(value, panel.y_min), panel.y_max) - panel.y_min) / y_span * height

        drawing.add(Rect(x, y, width, height, fillColor=colors.white, strokeColor=st.RULE, strokeWidth=0.5))
        for mark in c.doses:
            if mark.until is not None:
                drawing.add(Rect(px(mark.minute), y, px(mark.until) - px(mark.minute), height,
                                 fillColor=st.FILL, strokeColor=None))
        grid = colors.HexColor("#E3E7EB")
        value = panel.y_min
        while value <= panel.y_max + 1e-9:
            drawing.add(Line(x, py(value), x + width, py(value), strokeColor=grid, strokeWidth=0.4))
            drawing.add(String(x - 3, py(value) - 2.3, f"{value:g}", fontName=st.SANS, fontSize=6.5,
                               fillColor=st.INK, textAnchor="end"))
            value += panel.y_step
        for tick in c.x_ticks:
            drawing.add(Line(px(tick), y, px(tick), y + height, strokeColor=grid, strokeWidth=0.4))
            if last:
                text = f"{tick:+.0f}" if c.x_min < 0 and tick else f"{tick:.0f}"
                drawing.add(String(px(tick), y - 9, text, fontName=st.SANS, fontSize=6.5, fillColor=st.INK,
                                   textAnchor="middle"))
        series = {s.key: s for s in panel.series if s.points}
        if not series:
            drawing.add(String(x + width / 2, y + height / 2 - 3, "not measured", fontName=st.SANS, fontSize=7,
                               fillColor=st.MUTED, textAnchor="middle"))
        # Blood pressure: a bar from the diastolic to the systolic of each reading, ∨ on top, ∧ below.
        if "sbp" in series and "dbp" in series:
            dbp_at = dict(series["dbp"].points)
            colour = st.SERIES["sbp"]
            for minute, sbp in series["sbp"].points:
                if minute in dbp_at:
                    drawing.add(Line(px(minute), py(dbp_at[minute]), px(minute), py(sbp),
                                     strokeColor=colors.HexColor("#8C8C8C"), strokeWidth=0.6))
        for key, s in series.items():
            colour = st.SERIES.get(key, st.INK)
            marker, dash = STYLE.get(key, ("dot", []))
            dense = len(s.points) > _DENSE
            points = [(px(m), py(v)) for m, v in s.points]
            if dash is not None and len(points) > 1:
                flat = [coord for point in points for coord in point]
                drawing.add(PolyLine(flat, strokeColor=colour, strokeWidth=1.0 if dense else 1.2,
                                     strokeDashArray=dash or None))
            if not dense or dash is None:
                for xp, yp in points:
                    _marker(drawing, marker, xp, yp, colour, 1.6 if dense else 2.6)
        # Alert lines, their labels pushed apart so that none prints over another.
        shown = [t for t in panel.thresholds if panel.y_min <= t.value <= panel.y_max]
        label_y = spread_labels([py(t.value) - 2.2 for t in shown], y, y + height - 6)
        default = st.SERIES.get(panel.series[0].key, st.MUTED) if panel.series else st.MUTED
        for t, ly in zip(shown, label_y, strict=True):
            tcolour = st.SERIES.get(t.measure, default) if t.measure else default
            drawing.add(Line(x, py(t.value), x + width, py(t.value), strokeColor=tcolour, strokeWidth=0.7,
                             strokeDashArray=[3, 2]))
            if abs(ly - (py(t.value) - 2.2)) > 0.5:  # a leader from the moved label to its line
                drawing.add(Line(x + width, py(t.value), x + width + 2.5, ly + 2.2, strokeColor=tcolour,
                                 strokeWidth=0.4))
            drawing.add(String(x + width + 3, ly, t.label, fontName=st.SANS, fontSize=6.5, fillColor=tcolour))
        for mark in c.doses:
            drawing.add(Line(px(mark.minute), y, px(mark.minute), y + height, strokeColor=st.DOSE,
                             strokeWidth=0.9))
            if panel is c.panels[0]:
                drawing.add(String(px(mark.minute) + 2, y + height - 8, mark.label, fontName=st.SANS,
                                   fontSize=6.5, fillColor=st.DOSE))


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
        ("FONTNAME", (0, 0), (-1, -1), st.SANS),  # never the built-in Helvetica, which is not embedded
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
